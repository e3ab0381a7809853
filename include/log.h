/*
 * log: messages to stderr, which journald collects.  When stderr is the
 * journal (JOURNAL_STREAM is set) each line carries a syslog priority
 * prefix ("<4>") so journald keeps the level.
 *
 * Never log a password, token or message body.
 */
#ifndef MENTORD_LOG_H
#define MENTORD_LOG_H

#include "util.h"

enum log_level { LOG_LEVEL_ERROR = 3, LOG_LEVEL_WARN = 4, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_warnx(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_error(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_info(const char *fmt, ...) ATTR_FORMAT(1, 2);
void log_debug(const char *fmt, ...) ATTR_FORMAT(1, 2);
/* log_hold(true) holds info and debug lines in a buffer, written when it
 * fills, before any warning or error, and at the matching log_hold(false)
 * (calls nest).  For a loop that logs a line per item (a backlog drained):
 * the holder must release before it waits for anything. */
void log_hold(bool on);
/* Only during start-up: logs and exits with the given status. */
void fatalx(int status, const char *fmt, ...) ATTR_FORMAT(2, 3) ATTR_NORETURN;

#endif
