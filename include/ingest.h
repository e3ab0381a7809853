/*
 * ingest: the mailbox to the store, exactly once.
 *
 * New messages go in batches (group commit): up to INGEST_BATCH_MAX
 * messages, INGEST_BATCH_BYTES together, are fetched in one UID FETCH
 * (BODY.PEEK[]); then in ONE transaction each is stored (raw bytes) and
 * applied to the program (workflow) under its own savepoint, and the
 * mailbox checkpoint advances past the batch; only after the COMMIT are its
 * messages flagged \Seen (or moved), up to INGEST_FLAG_MAX of them (several
 * batches) in one UID STORE (or UID MOVE).
 *
 * Exactly once still holds: a message's row, its effects and the
 * checkpoint past it commit together or not at all.  A crash (or a store
 * failure) before the COMMIT loses at most the uncommitted batch: nothing
 * of it is stored or flagged, so it is fetched again, and the dedupe
 * (mailbox + UIDVALIDITY + UID, then Message-ID, then a SHA-256 of the
 * bytes) skips whatever had been committed before.  A crash between the
 * COMMIT and the flag leaves committed messages (at most INGEST_FLAG_MAX
 * and a batch) unflagged behind the checkpoint; the next run finds them
 * (UNSEEN; or, when they are moved, still in the inbox) and flags them
 * without fetching.  Flags and moves come only after the store is synced
 * (store_sync): committed is not enough, it must survive a power loss.
 * A message over imap.max_message_size is never fetched whole: its header
 * block is quarantined (the sender told once).  A message whose handling fails is rolled back to
 * its savepoint and stored as quarantined with its reason, while the others of its batch commit, so
 * one poison message never blocks the ones after it. A changed UIDVALIDITY restarts the checkpoint;
 * the dedupe keeps it from doubling anything.
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
	/* Could not be stored, alone in a batch, while the store worked for
	 * others: left unflagged, tried again later (INGEST_STORE_TRIES). */
	size_t skipped;
	char *skipped_why; /* owned: the first one's error; NULL when none */
};

/* A batch: at most this many messages, and this many bytes together (at
 * least one message however big), so that peak memory stays small: libetpan
 * holds the whole answer of a UID FETCH, and its copies, at once.  The
 * first batch of a run holds at most INGEST_BATCH_FIRST, each next one
 * twice the one before: the first answers of a backlog go out soon, and a
 * backlog is drained in few transactions (each COMMIT writes the pages of
 * every index it touched again: 64 messages a batch took 1.6 times as long
 * as 1,024). */
#define INGEST_BATCH_FIRST 64
#define INGEST_BATCH_MAX 1024
#define INGEST_BATCH_BYTES (2u * 1024 * 1024)
/* Committed messages are flagged (or moved) this many at a time, and the
 * rest when ingest ends, whether it ends well or not. */
#define INGEST_FLAG_MAX 512

/* A message that failed to be stored this many times (alone in its batch,
 * while others were stored) is set aside: quarantined by reference, with
 * its header block, size and UID, and the coordinator told, so the rest of
 * the mailbox goes on. */
#define INGEST_STORE_TRIES 3

/* ingest_mailbox's result beyond enum imap_result: the store refused a
 * write (locked by another process, disk full, I/O error).  The batch being
 * stored is rolled back and left unflagged on the server, so it is fetched
 * again next time; earlier batches, committed, are flagged. */
#define INGEST_ERR_STORE (-10)

/* Stores and applies one message in its own transaction (with the
 * checkpoint when mailbox is set).  mailbox may be NULL (a file given by an
 * operator).  *row_r gets the message row (the earlier one for a duplicate). */
int ingest_message(const struct config *config, struct store *store, const char *mailbox,
                   uint32_t uidvalidity, uint32_t uid, const char *raw, size_t len, time_t now,
                   bool *duplicate_r, int64_t *row_r, const char **error_r);

/* Drains the configured mailbox through an open driver context.  Returns an
 * enum imap_result (IMAP_OK, or how far the failure reaches), or
 * INGEST_ERR_STORE when the store failed, with the batch left unflagged
 * on the server.
 *
 * tick (may be NULL) is called before each batch and each message, so a
 * long backlog keeps the daemon's watchdog fed and a SIGTERM is honoured
 * after the current message: when it returns true ingest commits and flags
 * what was done so far, and returns IMAP_OK; the rest of the batch is
 * fetched again next time. */
int ingest_mailbox(const struct config *config, struct store *store,
                   const struct mail_driver *driver, void *ctx, time_t now, bool (*tick)(void *arg),
                   void *tick_arg, struct ingest_stats *stats_r, const char **error_r);

/* Applies a stored (typically quarantined) message again, e.g. after the
 * configuration or templates were fixed. */
int ingest_replay(const struct config *config, struct store *store, int64_t row, time_t now,
                  const char **error_r);

#endif
