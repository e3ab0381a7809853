/*
 * imap: the only module that speaks libetpan IMAP.
 *
 * One session: connect (imaps, or STARTTLS required on a plain port unless
 * tls = off), certificate verified (system CAs, or ca_file), LOGIN (or, with
 * auth = xoauth2 / oauthbearer, AUTHENTICATE with an access token from
 * oauth, renewed once when the server refuses it), SELECT,
 * UID SEARCH, UID FETCH BODY.PEEK[] (never RFC822, which sets \Seen before
 * the message is safe), marking a message processed (\Seen, or MOVE to the
 * processed mailbox when offered, else COPY + \Deleted + UID EXPUNGE), and
 * IDLE.  Every wait is bounded by the configured timeout.
 *
 * Failures are graded by scope, as isync grades them, so the ingest engine
 * knows what to retry:
 *   IMAP_ERR_MSG   this message only (gone, unreadable); go on with others
 *   IMAP_ERR_BOX   the mailbox (missing, cannot select); retry next cycle
 *   IMAP_ERR_CONN  the connection (network, timeout, BYE); reconnect with backoff
 *   IMAP_ERR_AUTH  login refused or TLS verification failed; permanent until
 *                  the configuration changes
 */
#ifndef MENTORD_IMAP_H
#define MENTORD_IMAP_H

#include "config.h"

#include <stdint.h>

enum imap_result {
	IMAP_OK = 0,
	IMAP_ERR_MSG = -1,
	IMAP_ERR_BOX = -2,
	IMAP_ERR_CONN = -3,
	IMAP_ERR_AUTH = -4,
};

struct imap_mailbox_info {
	uint32_t uidvalidity;
	uint32_t uidnext; /* 0 when the server did not say */
	uint32_t exists;
};

struct imap_session;

/* One message of a batch fetch. */
struct mail_fetched {
	uint32_t uid;
	char *data; /* owned: the raw message, NUL-terminated */
	size_t len;
	size_t size;    /* the message's size on the server (len when whole) */
	bool truncated; /* data is only its header block (it was too large) */
};
/* Frees the n messages of *msgs and the array, and sets it NULL. */
void mail_fetched_free(struct mail_fetched **msgs, size_t n);

/* The ingest engine sees a mail store through this table, as isync's sync
 * engine sees its drivers, so it can be tested without a server.  imap_driver
 * is the real one.  All strings and arrays returned are owned by the caller. */
struct mail_driver {
	int (*connect)(const struct config_imap *conf, void **ctx_r, const char **error_r);
	int (*select)(void *ctx, const char *mailbox, struct imap_mailbox_info *info_r,
	              const char **error_r);
	/* UIDs greater than after_uid, ascending. */
	int (*search_new)(void *ctx, uint32_t after_uid, uint32_t **uids_r, size_t *n_r,
	                  const char **error_r);
	/* UIDs up to upto_uid without \Seen, ascending: messages stored but not
	 * flagged because mentord died between its commit and the flag.  May be
	 * NULL (a driver that cannot tell). */
	int (*search_unseen)(void *ctx, uint32_t upto_uid, uint32_t **uids_r, size_t *n_r,
	                     const char **error_r);
	int (*fetch)(void *ctx, uint32_t uid, char **data_r, size_t *len_r, const char **error_r);
	/* processed_mailbox NULL: set \Seen; else move there. */
	int (*mark_processed)(void *ctx, uint32_t uid, const char *processed_mailbox,
	                      const char **error_r);
	/* Fetches a prefix of uids (ascending, n >= 1) in one round trip: as
	 * many as fit in max_bytes together, at least the first.  *taken_r is
	 * the length of that prefix; *msgs_r (caller frees with
	 * mail_fetched_free) holds its messages in UID order, without those gone
	 * from the server or unreadable, which the caller skips.  Returns
	 * IMAP_OK or the grade of a failure reaching beyond one message.  May
	 * be NULL: then fetch is used, one message per round trip. */
	int (*fetch_batch)(void *ctx, const uint32_t *uids, size_t n, size_t max_bytes,
	                   size_t max_message, struct mail_fetched **msgs_r, size_t *nmsgs_r,
	                   size_t *taken_r, const char **error_r);
	/* The header block (at most 64 KiB) and size of one message, for one
	 * that is not fetched whole (too large, or it failed to be stored too
	 * often): *msg_r has truncated set.  May be NULL. */
	int (*fetch_header)(void *ctx, uint32_t uid, struct mail_fetched *msg_r,
	                    const char **error_r);
	/* mark_processed for all of uids (ascending) in one command.  May be
	 * NULL: then mark_processed is used, one message at a time. */
	int (*mark_processed_batch)(void *ctx, const uint32_t *uids, size_t n,
	                            const char *processed_mailbox, const char **error_r);
	/* Waits up to timeout_sec for new mail (IDLE when offered, else returns
	 * at once with *supported_r false).  *new_mail_r says whether the server
	 * announced something. */
	int (*idle)(void *ctx, int timeout_sec, int wake_fd, bool *supported_r, bool *new_mail_r,
	            const char **error_r);
	void (*close)(void **ctx);
};

extern const struct mail_driver imap_driver;

/* Direct API (what imap_driver wraps). */
int imap_connect(const struct config_imap *conf, struct imap_session **sess_r,
                 const char **error_r);
int imap_select(struct imap_session *sess, const char *mailbox, struct imap_mailbox_info *info_r,
                const char **error_r);
int imap_search_new(struct imap_session *sess, uint32_t after_uid, uint32_t **uids_r, size_t *n_r,
                    const char **error_r);
int imap_search_unseen(struct imap_session *sess, uint32_t upto_uid, uint32_t **uids_r, size_t *n_r,
                       const char **error_r);
int imap_fetch(struct imap_session *sess, uint32_t uid, char **data_r, size_t *len_r,
               const char **error_r);
/* Messages over max_message come back truncated (their header block),
 * never fetched whole. */
int imap_fetch_batch(struct imap_session *sess, const uint32_t *uids, size_t n, size_t max_bytes,
                     size_t max_message, struct mail_fetched **msgs_r, size_t *nmsgs_r,
                     size_t *taken_r, const char **error_r);
int imap_fetch_header(struct imap_session *sess, uint32_t uid, struct mail_fetched *msg_r,
                      const char **error_r);
int imap_mark_processed(struct imap_session *sess, uint32_t uid, const char *processed_mailbox,
                        const char **error_r);
int imap_mark_processed_batch(struct imap_session *sess, const uint32_t *uids, size_t n,
                              const char *processed_mailbox, const char **error_r);
/* wake_fd (or -1): a descriptor that, when readable, ends the IDLE early
 * (the daemon's signal pipe). */
int imap_idle(struct imap_session *sess, int timeout_sec, int wake_fd, bool *supported_r,
              bool *new_mail_r, const char **error_r);
void imap_close(struct imap_session **sess);

#endif
