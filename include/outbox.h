/*
 * outbox: every email mentord sends goes through here.
 *
 * outbox_enqueue renders a template, composes the message (a stored
 * Message-ID, Reply-To with a signed token when hmac_secret is set) and
 * keeps it in the store under an idempotency key, inside the caller's
 * transaction; a key already there changes nothing, which is what makes
 * every reminder, acknowledgment and follow-up go out once.
 *
 * outbox_flush sends what is due over one SMTP session of up to
 * SMTP_CONNECTIONS reused connections: 2xx marks it sent; 4xx and network
 * errors retry with exponential backoff and jitter; 5xx (or giving up after
 * OUTBOX_MAX_ATTEMPTS) marks it failed, and the next digest tells the
 * coordinator.  Results are committed after each round of replies, before
 * the next send starts, so a crash between a server's 250 and that commit
 * sends again only the emails in flight (at most one per connection):
 * delivery is at least once, the only way SMTP allows.
 */
#ifndef MENTORD_OUTBOX_H
#define MENTORD_OUTBOX_H

#include "config.h"
#include "smtp.h"
#include "store.h"
#include "template.h"

#define OUTBOX_MAX_ATTEMPTS 12

struct outbox_mail {
	const char *key;     /* idempotency key, e.g. "ack:application=12" */
	const char *kind;    /* X-Mentord and outbox.kind, e.g. "ack" */
	const char *program; /* may be NULL */
	const struct strvec *to;
	int64_t person_id;       /* the person the thread is with; 0 for several */
	const char *thread_type; /* what a reply refers to, e.g. "match" */
	int64_t thread_ref;
	const char *template_name;
	const struct template_vars *vars;
	enum template_audience audience;
	const char *in_reply_to; /* may be NULL */
	bool auto_submitted;     /* reminders and digests: RFC 3834 */
};

/* Call inside a store transaction.  *created_r (may be NULL) is false when
 * the key was already queued or sent. */
int outbox_enqueue(const struct config *config, struct store *store, const struct outbox_mail *mail,
                   time_t now, bool *created_r, const char **error_r);

/* Every email's subject ends with a tag, " [ref:ID]" (ID the outbox row).
 * Returns the ID of the last such tag in subject, or 0 when none. */
int64_t outbox_thread_from_subject(const char *subject);

struct outbox_stats {
	size_t sent, retried, failed;
};

/* Sends every due email.  smtp may be NULL to open a session on demand
 * (*smtp_io keeps it for reuse across calls; the caller closes it).  tick
 * (may be NULL) is called after every email, to feed a watchdog; when it
 * returns true no further email is started.  Returns -1 only for store
 * errors; SMTP trouble is recorded per email. */
int outbox_flush(const struct config *config, struct store *store, struct smtp_session **smtp_io,
                 time_t now, bool (*tick)(void *arg), void *tick_arg, struct outbox_stats *stats_r,
                 const char **error_r);

#endif
