/*
 * outbox: every email mentord sends goes through here.
 *
 * outbox_enqueue renders a template, composes one copy per recipient (a
 * stored Message-ID, a Reply-To with a token signed for that recipient,
 * RFC 3834 Auto-Submitted) and keeps it in the store under an idempotency
 * key, inside the caller's transaction; a key already there changes
 * nothing, which is what makes every reminder, acknowledgment and follow-up
 * go out once.  Answers count against each recipient's daily cap.
 *
 * outbox_flush syncs the store (what it sends was committed durably first),
 * then sends what is due, each email from a VERP return path that ties a
 * bounce to it, over one SMTP session of up to
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

#include "compose.h"
#include "config.h"
#include "smtp.h"
#include "store.h"
#include "template.h"

#define OUTBOX_MAX_ATTEMPTS 12

/* What an email is, for RFC 3834 and the daily cap. */
enum outbox_nature {
	OUTBOX_NOTICE = 0, /* auto-generated: scheduled mail, and what a decision
	                    * causes (accepted, introduction) */
	OUTBOX_ANSWER,     /* auto-replied: an answer to the message being
	                    * handled; counts against each recipient's daily cap */
};

struct outbox_mail {
	const char *key;     /* idempotency key, e.g. "ack:application=12" */
	const char *kind;    /* X-Mentord and outbox.kind, e.g. "ack" */
	const char *program; /* may be NULL */
	const struct strvec *to;
	const char *thread_type; /* what a reply refers to, e.g. "match" */
	int64_t thread_ref;
	const char *template_name;
	const struct template_vars *vars;
	enum template_audience audience;
	const char *in_reply_to; /* may be NULL */
	enum outbox_nature nature;
	/* A notice that counts against its recipients' daily cap as answers
	 * do: one that someone else's message makes mentord send (a
	 * supervisor told of an application), so nobody can make mentord
	 * write to an address without limit. */
	bool capped;
	/* An answer to mail whose sender did not prove their address (a
	 * request to confirm, an explanation): counted apart from answers to
	 * proven mail, so a forger cannot use up a person's answers. */
	bool unproven;
	/* The role the recipients hold in program, recorded for each of them
	 * (e.g. "supervisor"); NULL when it is recorded elsewhere. */
	const char *role;
	/* Files sent with it (a certificate, an invitation); borrowed. */
	const struct compose_attachment *attachments;
	size_t nattachments;
};

/* What outbox_enqueue did. */
struct outbox_queued {
	bool created;   /* the key was new (false: queued or sent before) */
	size_t queued;  /* copies queued to send */
	size_t dropped; /* copies kept unsent: the address bounced, or the cap */
};

/* Call inside a store transaction.  The email goes to each recipient as a
 * copy of its own, with a Reply-To token bound to that recipient (a person,
 * created when unknown); the first copy has the key, the others the key and
 * "|to=ADDRESS".  Nothing is done when the key was queued or sent before.
 * q_r may be NULL. */
int outbox_enqueue(const struct config *config, struct store *store, const struct outbox_mail *mail,
                   time_t now, struct outbox_queued *q_r, const char **error_r);

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

/* What outbox_resend did. */
struct outbox_resent {
	bool refused; /* the failure is the operator's to fix (error_r says how) */
	int64_t id;   /* the new row */
	char *key;    /* owned: the new key, "KEY|resend=N" */
	char *to;     /* owned: where it goes now */
	char *old_to; /* owned: where the email went before */
};
/* Sends the email with idempotency key `key` again (mentorctl resend), as
 * a new row under the key "KEY|resend=N" (the first N free), with a new
 * Message-ID and Date, to its person's address today (corrected since,
 * perhaps); everything else is the email as it was composed, so its token
 * and subject tag lead a reply to the first one's thread.  Refused (-1,
 * r_r->refused) when there is no such key, it was not composed (dropped
 * by the daily answer cap) or the address is still marked undeliverable
 * (an email to an address that bounced is composed and kept failed, to
 * be resent once the address is corrected).  Call inside a store
 * transaction; free r_r with outbox_resent_clear. */
int outbox_resend(const struct config *config, struct store *store, const char *key, time_t now,
                  struct outbox_resent *r_r, const char **error_r);
void outbox_resent_clear(struct outbox_resent *r);

#endif
