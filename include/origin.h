/*
 * origin: who sent a message, whether they proved it, and which email of
 * mentord's it answers.  The trust model in one place (README "Whose
 * message is it"; the pure checks are in trust.h).
 *
 * Every email mentord sends goes to one person and carries a Reply-To
 * token signed for that person and that email.  A message is the sender's
 * own (proven) when:
 *   1. a token in its recipient addresses verifies and names a person: the
 *      sender is that person, at their registered address, whatever the
 *      From says (they may answer from another address);
 *   2. or a trusted server's Authentication-Results says DMARC (or aligned
 *      DKIM) passed for the From domain: the sender is the From.
 * Otherwise the From is only a claim.  A claim may be answered (at the
 * claimed address, never elsewhere) but changes nothing until the
 * registered address confirms it by a reply, which carries a token.
 * A message is held unanswered, as forged or altered, when a token does not
 * verify or names an email that does not exist, or when its headers answer
 * an email that was sent to someone else.
 */
#ifndef MENTORD_ORIGIN_H
#define MENTORD_ORIGIN_H

#include "config.h"
#include "mime.h"
#include "store.h"

enum origin_proof {
	ORIGIN_CLAIMED = 0,  /* only the From says so */
	ORIGIN_TOKEN,        /* a reply token bound to the person */
	ORIGIN_AUTHENTICATED /* a trusted Authentication-Results header */
};

struct origin {
	enum origin_proof proof;
	char *address;              /* owned: the sender's registered (or claimed) address */
	int64_t person_id;          /* 0 when the address is no known person */
	struct store_outbox thread; /* owned: the email answered; id 0 when none */
	char *held;                 /* owned: hold unanswered, for this reason; NULL */
	char *reply;                /* owned: the new text, an echo of the thread removed */
	bool echo;                  /* the reply echoed the thread (auto-responder) */
};

/* Works out msg's origin; reply is its new text (reply_extract).  Returns -1
 * on a store error only; a forged or unusable message sets o_r->held.  The
 * caller frees *o_r with origin_clear. */
int origin_resolve(const struct config *config, struct store *store, const struct mime_message *msg,
                   const char *reply, struct origin *o_r, const char **error_r);

/* The outgoing email a bounce is about, and its recipient: by the signed
 * VERP address the bounce was sent to, else by the returned Message-ID.
 * *found_r false when the bounce is tied to nothing mentord sent. */
int origin_bounce_source(const struct config *config, struct store *store,
                         const struct mime_message *msg, bool *found_r, struct store_outbox *o_r,
                         const char **why_r, const char **error_r);

/* The thread of msg by its headers alone (In-Reply-To, References, the
 * subject tag), proving nothing: for a confirmed message's context. */
int origin_thread_by_headers(struct store *store, const struct mime_message *msg, bool *found_r,
                             struct store_outbox *o_r, const char **error_r);

void origin_clear(struct origin *o);

#endif
