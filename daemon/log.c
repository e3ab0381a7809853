/* log: see include/log.h. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_progname = "mentord";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool log_journal;

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_max = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_max = level;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *names[] = {[LOG_LEVEL_ERROR] = "error",
	                              [LOG_LEVEL_WARN] = "warning",
	                              [LOG_LEVEL_INFO] = "info",
	                              [LOG_LEVEL_DEBUG] = "debug"};
	char line[2048];

	if (level > log_max)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", (int)level, line, suffix ? ": " : "",
		        suffix ? suffix : "");
	else
		fprintf(stderr, "%s: %s: %s%s%s\n", log_progname, names[level], line,
		        suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_FN(fn, level, with_errno)                                                              \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(level, fmt, ap, with_errno ? strerror(saved) : NULL);                   \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_error, LOG_LEVEL_ERROR, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatalx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(status);
}
