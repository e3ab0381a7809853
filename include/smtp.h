/*
 * smtp: the only module that speaks libcurl.  Sends composed messages over
 * one reused SMTP connection (smtps://, or STARTTLS required on a plain port
 * unless tls = off), with AUTH when a user is configured, certificates
 * verified (system CAs or ca_file), and every operation bounded by the
 * configured timeout.
 *
 * Results are graded so the outbox knows what to do:
 *   SMTP_OK        accepted by the server (2xx at end of DATA)
 *   SMTP_TEMPFAIL  4xx, network error, timeout: retry later with backoff
 *   SMTP_PERMFAIL  5xx: do not retry; the coordinator is told
 */
#ifndef MENTORD_SMTP_H
#define MENTORD_SMTP_H

#include "config.h"

enum smtp_result { SMTP_OK = 0, SMTP_TEMPFAIL = -1, SMTP_PERMFAIL = -2 };

struct smtp_session;

/* Creates a session; the connection is made on the first send and reused.
 * The caller owns *sess_r. */
int smtp_open(const struct config_smtp *conf, struct smtp_session **sess_r, const char **error_r);

/* Sends data (a complete RFC 5322 message, CRLF line ends) from envelope
 * sender `from` to rcpts.  *code_r (may be NULL) gets the last SMTP reply
 * code, 0 when none was received. */
enum smtp_result smtp_send(struct smtp_session *sess, const char *from, const char *const *rcpts,
                           size_t nrcpts, const char *data, size_t len, int *code_r,
                           const char **error_r);

void smtp_close(struct smtp_session **sess);

#endif
