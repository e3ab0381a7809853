/*
 * imap: the only module that speaks libetpan IMAP.
 *
 * One session: connect (imaps, or STARTTLS required on a plain port unless
 * tls = off), certificate verified (system CAs, or ca_file), LOGIN, SELECT,
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
	int (*fetch)(void *ctx, uint32_t uid, char **data_r, size_t *len_r, const char **error_r);
	/* processed_mailbox NULL: set \Seen; else move there. */
	int (*mark_processed)(void *ctx, uint32_t uid, const char *processed_mailbox,
	                      const char **error_r);
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
int imap_fetch(struct imap_session *sess, uint32_t uid, char **data_r, size_t *len_r,
               const char **error_r);
int imap_mark_processed(struct imap_session *sess, uint32_t uid, const char *processed_mailbox,
                        const char **error_r);
/* wake_fd (or -1): a descriptor that, when readable, ends the IDLE early
 * (the daemon's signal pipe). */
int imap_idle(struct imap_session *sess, int timeout_sec, int wake_fd, bool *supported_r,
              bool *new_mail_r, const char **error_r);
void imap_close(struct imap_session **sess);

#endif
