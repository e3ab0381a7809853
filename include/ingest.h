/*
 * ingest: the mailbox to the store, exactly once.
 *
 * For each new message: fetch (BODY.PEEK[]), then in ONE transaction store
 * the raw bytes, apply the message to the program (workflow) and advance the
 * mailbox checkpoint; only after the commit flag it \Seen or move it.  A
 * crash anywhere re-reads the message and the dedupe (mailbox + UIDVALIDITY +
 * UID, then Message-ID, then a SHA-256 of the bytes) makes the second pass
 * change nothing but the server flag.  A message whose handling fails is
 * rolled back and stored again as quarantined with its reason, so one poison
 * message never blocks the ones after it.  A changed UIDVALIDITY restarts the
 * checkpoint; the dedupe keeps it from doubling anything.
 *
 * It talks to the server through struct mail_driver (include/imap.h), so it
 * can be tested without one.
 */
#ifndef MENTORD_INGEST_H
#define MENTORD_INGEST_H

#include "config.h"
#include "imap.h"
#include "store.h"

struct ingest_stats {
	size_t fetched, stored, duplicates, quarantined;
};

/* Stores and applies one message.  mailbox may be NULL (a file given by an
 * operator).  *row_r gets the message row (the earlier one for a duplicate). */
int ingest_message(const struct config *config, struct store *store, const char *mailbox,
                   uint32_t uidvalidity, uint32_t uid, const char *raw, size_t len, time_t now,
                   bool *duplicate_r, int64_t *row_r, const char **error_r);

/* Drains the configured mailbox through an open driver context.  Returns an
 * enum imap_result (IMAP_OK, or how far the failure reaches); a store
 * failure returns IMAP_ERR_BOX with the message left unflagged on the server. */
int ingest_mailbox(const struct config *config, struct store *store,
                   const struct mail_driver *driver, void *ctx, time_t now,
                   struct ingest_stats *stats_r, const char **error_r);

/* Applies a stored (typically quarantined) message again, e.g. after the
 * configuration or templates were fixed. */
int ingest_replay(const struct config *config, struct store *store, int64_t row, time_t now,
                  const char **error_r);

#endif
