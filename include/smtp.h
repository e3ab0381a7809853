/*
 * smtp: sends composed messages (libcurl, shared with oauth through lcurl) over
 * reused SMTP connections (smtps://, or STARTTLS required on a plain port
 * unless tls = off), with AUTH when a user is configured, certificates
 * verified (system CAs or ca_file), and every operation bounded by the
 * configured timeout.  A batch uses up to SMTP_CONNECTIONS connections at
 * once; starts are spaced 60/rate_per_minute seconds apart when a rate is
 * configured.
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

/* Connections a batch may use at once.  Each one in flight when mentord
 * dies may be delivered and then sent again on restart. */
#define SMTP_CONNECTIONS 4

struct smtp_session;

/* One email of a batch; everything borrowed for the duration of the call. */
struct smtp_item {
	const char *const *rcpts;
	size_t nrcpts;
	const char *data; /* a complete RFC 5322 message, CRLF line ends */
	size_t len;
	/* The envelope sender of this item (a VERP address that ties a bounce
	 * to it), or NULL for the batch's. */
	const char *mail_from;
};

/* Told the result of item `index` as soon as it is known (in the order
 * sends finish, not the order of items).  code: the last SMTP reply code, 0
 * when none; error: valid during the call, NULL on SMTP_OK.  Return 0 to go
 * on, non-zero to start no further item (those in flight still finish and
 * are reported). */
typedef int smtp_result_fn(void *ctx, size_t index, enum smtp_result result, int code,
                           const char *error);

/* Creates a session; the connection is made on the first send and reused.
 * The caller owns *sess_r. */
int smtp_open(const struct config_smtp *conf, struct smtp_session **sess_r, const char **error_r);

/* Sends data (a complete RFC 5322 message, CRLF line ends) from envelope
 * sender `from` to rcpts.  *code_r (may be NULL) gets the last SMTP reply
 * code, 0 when none was received. */
enum smtp_result smtp_send(struct smtp_session *sess, const char *from, const char *const *rcpts,
                           size_t nrcpts, const char *data, size_t len, int *code_r,
                           const char **error_r);

/* Called after each round of results (one or more calls of the
 * smtp_result_fn), before any further send starts: the moment to make the
 * recorded results durable.  Committing there loses, in a crash, only the
 * record of emails that were in flight, at most one per connection. */
typedef void smtp_settled_fn(void *ctx);

/* Sends items[0..n) from envelope sender `from`, calling done once for every
 * item it started and settled (may be NULL) after each round of results.
 * Returns how many items were started: n, or fewer when done asked to
 * stop. */
size_t smtp_send_batch(struct smtp_session *sess, const char *from, const struct smtp_item *items,
                       size_t n, smtp_result_fn *done, smtp_settled_fn *settled, void *ctx);

/* rate_per_minute keeps a grid of start times (CLOCK_MONOTONIC, which every
 * process of the machine shares): the time before which the next send may
 * not start, 0 for now.  A process that sends after another (the daemon's
 * next cycle) takes it over, so the rate holds across them. */
long long smtp_pace_get(void);
void smtp_pace_set(long long next_ns);

/* Connects to the server, secures the connection (smtps://, or STARTTLS
 * unless tls = off), and authenticates when a user is configured (EHLO,
 * AUTH), then says QUIT: no mail is sent.  For mentord --check-config
 * --online.  On failure returns -1 with what failed and how to fix it (a
 * refused AUTH names password_file, a TLS failure ca_file). */
int smtp_check(const struct config_smtp *conf, const char **error_r);

/* Closes the connections (QUIT) and frees sess; sets *sess to NULL. */
void smtp_close(struct smtp_session **sess);

#endif
