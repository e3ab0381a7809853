/* ingest: see include/ingest.h. */
#include "ingest.h"
#include "log.h"
#include "workflow.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest);
	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
}

/*
 * The Message-ID for dedupe, read from the header block without a full MIME
 * parse.  Cases: header name in any case; value folded onto the next line;
 * CRLF, LF or CR line ends; no header at all (NULL, and the SHA-256 decides).
 */
static char *
peek_message_id(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *eol = p;

		while (eol < end && *eol != '\n' && *eol != '\r')
			eol++;
		if (eol == p)
			return NULL; /* the empty line: end of the header */
		if ((size_t)(eol - p) > 11 && str_istarts(p, "message-id:")) {
			const char *v = p + 11, *lt, *gt;
			const char *vend = eol;

			/* Include one folded continuation line. */
			if (vend < end) {
				const char *next =
				    vend +
				    (vend[0] == '\r' && vend + 1 < end && vend[1] == '\n' ? 2 : 1);

				if (next < end && (*next == ' ' || *next == '\t')) {
					vend = next;
					while (vend < end && *vend != '\n' && *vend != '\r')
						vend++;
				}
			}
			lt = memchr(v, '<', (size_t)(vend - v));
			gt = lt != NULL ? memchr(lt, '>', (size_t)(vend - lt)) : NULL;
			if (lt != NULL && gt != NULL && gt - lt > 1 && gt - lt < 1000)
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
			return NULL;
		}
		p = eol;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	}
	return NULL;
}

static int
store_quarantined(struct store *store, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
                  const char *message_id, const char *sha, const char *raw, size_t len, time_t now,
                  const char *reason, int64_t *row_r, const char **error_r)
{
	if (store_begin(store, error_r) < 0)
		return -1;
	if (store_message_insert(store, mailbox, uidvalidity, uid, message_id, sha, raw, len, now,
	                         row_r, error_r) < 0 ||
	    store_message_set_result(store, *row_r, NULL, NULL, "message", "quarantined", reason,
	                             NULL, error_r) < 0 ||
	    (mailbox != NULL && store_mailbox_set(store, mailbox, uidvalidity, uid, error_r) < 0) ||
	    store_commit(store, error_r) < 0) {
		store_rollback(store);
		return -1;
	}
	return 0;
}

int
ingest_message(const struct config *config, struct store *store, const char *mailbox,
               uint32_t uidvalidity, uint32_t uid, const char *raw, size_t len, time_t now,
               bool *duplicate_r, int64_t *row_r, const char **error_r)
{
	char sha[65], *message_id = peek_message_id(raw, len);
	const char *werr = NULL;
	int ret = -1;

	*duplicate_r = false;
	sha256_hex(raw, len, sha);
	if (store_message_find_duplicate(store, mailbox, uidvalidity, uid, message_id, sha, row_r,
	                                 error_r) < 0)
		goto out;
	if (*row_r != 0) {
		*duplicate_r = true;
		ret = 0;
		goto out;
	}
	if (store_begin(store, error_r) < 0)
		goto out;
	if (store_message_insert(store, mailbox, uidvalidity, uid, message_id, sha, raw, len, now,
	                         row_r, error_r) < 0) {
		store_rollback(store);
		goto out;
	}
	if (workflow_apply_message(config, store, *row_r, raw, len, now, &werr) < 0) {
		/* Undo whatever the message half-did, then keep it aside. */
		store_rollback(store);
		log_warnx("message uid %u quarantined: %s", uid, werr);
		ret = store_quarantined(store, mailbox, uidvalidity, uid, message_id, sha, raw, len,
		                        now, werr, row_r, error_r);
		goto out;
	}
	if ((mailbox != NULL && store_mailbox_set(store, mailbox, uidvalidity, uid, error_r) < 0) ||
	    store_commit(store, error_r) < 0) {
		store_rollback(store);
		goto out;
	}
	ret = 0;
out:
	free(message_id);
	return ret;
}

int
ingest_mailbox(const struct config *config, struct store *store, const struct mail_driver *driver,
               void *ctx, time_t now, struct ingest_stats *stats_r, const char **error_r)
{
	const struct config_imap *conf = &config->imap;
	struct imap_mailbox_info info;
	uint32_t *uids = NULL, known_validity = 0, last_uid = 0, after;
	size_t nuids = 0;
	bool known;
	int rc;

	memset(stats_r, 0, sizeof(*stats_r));
	rc = driver->select(ctx, conf->mailbox, &info, error_r);
	if (rc != IMAP_OK)
		return rc;
	if (store_mailbox_get(store, conf->mailbox, &known, &known_validity, &last_uid, error_r) <
	    0)
		return IMAP_ERR_BOX;
	if (known && known_validity != info.uidvalidity) {
		/* The server renumbered the mailbox (migration, index rebuild,
		 * recreated folder): start over; Message-ID and SHA-256 dedupe
		 * keep anything from being applied twice. */
		log_warnx("%s: UIDVALIDITY changed from %u to %u; rescanning", conf->mailbox,
		          known_validity, info.uidvalidity);
		last_uid = 0;
		if (store_mailbox_set(store, conf->mailbox, info.uidvalidity, 0, error_r) < 0)
			return IMAP_ERR_BOX;
	}
	/* Moving processed mail keeps the inbox to what is left to do, so scan
	 * it all: a message whose MOVE failed after its commit is moved again
	 * without being fetched. */
	after = conf->processed_mailbox != NULL ? 0 : last_uid;
	rc = driver->search_new(ctx, after, &uids, &nuids, error_r);
	if (rc != IMAP_OK)
		return rc;
	for (size_t i = 0; i < nuids; i++) {
		uint32_t uid = uids[i];
		char *raw = NULL;
		size_t len = 0;
		int64_t row;
		bool duplicate = false;
		const char *merr;

		if (store_message_find_duplicate(store, conf->mailbox, info.uidvalidity, uid, NULL,
		                                 NULL, &row, error_r) < 0) {
			rc = IMAP_ERR_BOX;
			break;
		}
		if (row == 0) {
			rc = driver->fetch(ctx, uid, &raw, &len, &merr);
			if (rc == IMAP_ERR_MSG) {
				log_warnx("%s uid %u: %s; skipped", conf->mailbox, uid, merr);
				rc = IMAP_OK;
				continue;
			}
			if (rc != IMAP_OK) {
				*error_r = merr;
				break;
			}
			stats_r->fetched++;
			if (ingest_message(config, store, conf->mailbox, info.uidvalidity, uid, raw,
			                   len, now, &duplicate, &row, error_r) < 0) {
				/* Not committed: leave it unflagged for the next cycle. */
				free(raw);
				rc = IMAP_ERR_BOX;
				break;
			}
			free(raw);
			if (duplicate)
				stats_r->duplicates++;
			else
				stats_r->stored++;
		} else {
			stats_r->duplicates++;
		}
		rc = driver->mark_processed(ctx, uid, conf->processed_mailbox, &merr);
		if (rc == IMAP_ERR_CONN || rc == IMAP_ERR_AUTH) {
			*error_r = merr;
			break;
		}
		if (rc != IMAP_OK)
			log_warnx("%s uid %u: stored, but marking it failed: %s", conf->mailbox,
			          uid, merr);
		rc = IMAP_OK;
	}
	free(uids);
	return rc;
}

int
ingest_replay(const struct config *config, struct store *store, int64_t row, time_t now,
              const char **error_r)
{
	struct store_message m;
	char *raw = NULL;
	size_t len;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	if (store_message_get(store, row, &m, &raw, &len, error_r) < 0)
		return -1;
	if (store_begin(store, error_r) < 0)
		goto out;
	if (workflow_apply_message(config, store, row, raw, len, now, error_r) < 0 ||
	    store_commit(store, error_r) < 0) {
		store_rollback(store);
		goto out;
	}
	ret = 0;
out:
	free(raw);
	store_message_clear(&m);
	return ret;
}
