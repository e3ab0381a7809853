/* ingest: see include/ingest.h. */
#include "ingest.h"
#include "log.h"
#include "workflow.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
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

/* Counts a failure to store uid, in a transaction of its own: the batch's
 * was rolled back.  When even that fails (the disk is full), the count is
 * lost and the message simply waits. */
static void
ingest_note_failure(struct store *store, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
                    const char *why)
{
	const char *error;

	if (store_begin(store, &error) < 0 ||
	    store_ingest_failure_note(store, mailbox, uidvalidity, uid, why, &error) < 0 ||
	    store_commit(store, &error) < 0) {
		store_rollback(store);
		log_warnx("%s: UID %u: cannot count the failure either: %s", mailbox, uid, error);
	}
}

/* What ingest works out about a message before its turn, without the
 * store: its digest and Message-ID for the dedupe, and parsed_message_parse. */
struct ingest_prepared {
	const char *raw; /* borrowed from the fetched batch */
	size_t len;
	size_t size;    /* on the server */
	bool truncated; /* raw is only the header block */
	bool set_aside; /* ... because storing it failed INGEST_STORE_TRIES times */
	char sha[65];
	char *message_id; /* owned; NULL when none */
	struct parsed_message parsed;
	bool ready; /* the parser thread is done with it */
};

static void
ingest_prepare(const char *raw, size_t len, struct ingest_prepared *prep)
{
	prep->raw = raw;
	prep->len = len;
	sha256_hex(raw, len, prep->sha);
	prep->message_id = peek_message_id(raw, len);
	parsed_message_parse(raw, len, &prep->parsed);
	if (prep->truncated) {
		prep->parsed.truncated = true;
		prep->parsed.size = prep->size;
		prep->parsed.set_aside = prep->set_aside;
	}
}

static void
ingest_prepared_clear(struct ingest_prepared *prep)
{
	free(prep->message_id);
	prep->message_id = NULL;
	parsed_message_clear(&prep->parsed);
}

/*
 * The parser: a second thread that prepares the messages of a batch in
 * order, while this one stores and applies them.  Parsing (MIME, charsets,
 * HTML, classification, the SHA-256) is a fifth of the work per message and
 * needs nothing but the bytes; the store, the workflow and the IMAP session
 * stay on this thread.  On a machine with two cores a backlog drains that
 * much faster.
 *
 * Cases:
 *   - the thread cannot be started: each message is prepared on this
 *     thread when its turn comes (parser_take does it);
 *   - a batch is given up half way (SIGTERM, a store failure):
 *     parser_finish stops handing out messages and waits for the one in
 *     hand, so nothing of the batch is freed under the parser's feet.
 * Every mutable field below is guarded by mu.
 */
struct parser {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct ingest_prepared *jobs; /* the batch, borrowed */
	size_t njobs, next;           /* next: the first not yet taken */
	size_t busy;                  /* taken, not yet ready */
	bool quit, started;
};

static void *
parser_main(void *arg)
{
	struct parser *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct ingest_prepared *job;

		while (!p->quit && p->next >= p->njobs)
			pthread_cond_wait(&p->cond, &p->mu);
		if (p->quit)
			break;
		job = &p->jobs[p->next++];
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		ingest_prepare(job->raw, job->len, job);
		pthread_mutex_lock(&p->mu);
		job->ready = true;
		p->busy--;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
parser_start(struct parser *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->started = pthread_create(&p->thread, NULL, parser_main, p) == 0;
	if (!p->started)
		log_warnx("ingest: no parser thread; parsing in turn");
}

/* Hands the batch jobs[0..n) to the parser (raw and len set, the rest
 * zero). */
static void
parser_submit(struct parser *p, struct ingest_prepared *jobs, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->jobs = jobs;
	p->njobs = n;
	p->next = 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

/* Job k of the batch, prepared. */
static struct ingest_prepared *
parser_take(struct parser *p, size_t k)
{
	struct ingest_prepared *job = &p->jobs[k];

	if (!p->started) {
		ingest_prepare(job->raw, job->len, job);
		job->ready = true;
		return job;
	}
	pthread_mutex_lock(&p->mu);
	while (!job->ready)
		pthread_cond_wait(&p->cond, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return job;
}

/* Ends the batch: nothing more is handed out, the job in hand is finished,
 * and every prepared job is cleared. */
static void
parser_finish(struct parser *p)
{
	size_t total;

	pthread_mutex_lock(&p->mu);
	total = p->njobs;
	p->njobs = p->next;
	while (p->busy > 0)
		pthread_cond_wait(&p->cond, &p->mu);
	for (size_t k = 0; k < total; k++)
		if (p->jobs[k].ready)
			ingest_prepared_clear(&p->jobs[k]);
	p->jobs = NULL;
	p->njobs = p->next = 0;
	pthread_mutex_unlock(&p->mu);
}

static void
parser_stop(struct parser *p)
{
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->quit = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
}

/*
 * Inside an open transaction: stores and applies one message under a
 * savepoint.  Cases:
 *   1. a copy is already stored (same mailbox, UIDVALIDITY and UID, same
 *      Message-ID or same bytes): *duplicate_r, nothing written;
 *   2. applied: the message row and its effects stay, for the COMMIT;
 *   3. the workflow fails on it (a poison message): its effects are undone
 *      back to the savepoint and it is stored as quarantined with the
 *      reason (*quarantined_r), so it never blocks the ones after it;
 *   4. the store fails, or SQLite gave up the whole transaction: -1, and the
 *      caller rolls the transaction back.
 */
static int
ingest_one(const struct config *config, struct store *store, const char *mailbox,
           uint32_t uidvalidity, uint32_t uid, const struct ingest_prepared *prep, time_t now,
           bool *duplicate_r, bool *quarantined_r, int64_t *row_r, const char **error_r)
{
	const char *raw = prep->raw, *sha = prep->sha, *message_id = prep->message_id;
	const char *werr = NULL;
	size_t len = prep->len;
	char *reason = NULL;
	int ret = -1;

	*duplicate_r = false;
	*quarantined_r = false;
	if (store_message_find_duplicate(store, mailbox, uidvalidity, uid, message_id, sha, row_r,
	                                 error_r) < 0)
		goto out;
	if (*row_r != 0) {
		*duplicate_r = true;
		ret = 0;
		goto out;
	}
	if (store_savepoint(store, error_r) < 0 ||
	    store_message_insert_part(store, mailbox, uidvalidity, uid, message_id, sha, raw, len,
	                              prep->truncated ? prep->size : len, prep->truncated, now,
	                              row_r, error_r) < 0)
		goto out;
	if (workflow_apply_parsed(config, store, *row_r, &prep->parsed, now, &werr) < 0) {
		/* Copied: werr may sit in errorf()'s buffer, which the store
		 * calls below may overwrite. */
		reason = xstrdup(werr != NULL ? werr : "failed");
		/* Undo whatever the message half-did, then keep it aside. */
		if (store_rollback_to(store, error_r) < 0)
			goto out;
		log_warnx("message uid %u quarantined: %s", uid, reason);
		*quarantined_r = true;
		if (store_message_insert_part(store, mailbox, uidvalidity, uid, message_id, sha,
		                              raw, len, prep->truncated ? prep->size : len,
		                              prep->truncated, now, row_r, error_r) < 0 ||
		    store_message_set_result(store, *row_r, NULL, NULL, "message", "quarantined",
		                             reason, NULL, error_r) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	if (store_release(store, error_r) < 0)
		goto out;
	ret = 0;
out:
	free(reason);
	return ret;
}

int
ingest_message(const struct config *config, struct store *store, const char *mailbox,
               uint32_t uidvalidity, uint32_t uid, const char *raw, size_t len, time_t now,
               bool *duplicate_r, int64_t *row_r, const char **error_r)
{
	struct ingest_prepared prep;
	bool quarantined;
	int ret = -1;

	memset(&prep, 0, sizeof(prep));
	ingest_prepare(raw, len, &prep);
	if (store_begin(store, error_r) < 0)
		goto out;
	if (ingest_one(config, store, mailbox, uidvalidity, uid, &prep, now, duplicate_r,
	               &quarantined, row_r, error_r) < 0 ||
	    (!*duplicate_r && mailbox != NULL &&
	     store_mailbox_set(store, mailbox, uidvalidity, uid, error_r) < 0) ||
	    store_commit(store, error_r) < 0) {
		store_rollback(store);
		goto out;
	}
	ret = 0;
out:
	ingest_prepared_clear(&prep);
	return ret;
}

static int
ingest_cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Without a batch fetch in the driver: one round trip per message, as many
 * as fit in max_bytes (at least one); gone ones are logged and left out. */
static int
ingest_fetch_each(const struct mail_driver *driver, void *ctx, const char *mailbox,
                  const uint32_t *uids, size_t n, size_t max_bytes, struct mail_fetched **msgs_r,
                  size_t *nmsgs_r, size_t *taken_r, const char **error_r)
{
	struct mail_fetched *msgs = xcalloc(n, sizeof(*msgs));
	size_t nmsgs = 0, bytes = 0, i;
	int rc = IMAP_OK;

	for (i = 0; i < n && (i == 0 || bytes < max_bytes); i++) {
		const char *merr;

		rc = driver->fetch(ctx, uids[i], &msgs[nmsgs].data, &msgs[nmsgs].len, &merr);
		if (rc == IMAP_ERR_MSG) {
			log_warnx("%s uid %u: %s; skipped", mailbox, uids[i], merr);
			rc = IMAP_OK;
			continue;
		}
		if (rc != IMAP_OK) {
			*error_r = merr;
			mail_fetched_free(&msgs, nmsgs);
			return rc;
		}
		msgs[nmsgs].uid = uids[i];
		bytes += msgs[nmsgs++].len;
	}
	*msgs_r = msgs;
	*nmsgs_r = nmsgs;
	*taken_r = i;
	return IMAP_OK;
}

/* Marks uids (sorted here) processed: one command when the driver can,
 * after the store is synced (when it cannot be, nothing is marked: the next
 * cycle finds them stored and marks them).
 * Only a failure of the connection or the login is returned; a refused
 * flag or move is logged, and the next cycle finds the messages again
 * (unseen, or still in the inbox) and marks them without fetching. */
static int
ingest_mark(const struct mail_driver *driver, void *ctx, struct store *store,
            const struct config_imap *conf, uint32_t *uids, size_t n, const char **error_r)
{
	const char *merr;
	int rc;

	if (n == 0)
		return IMAP_OK;
	/* Durable before flagged: a flagged (or moved) message is not fetched
	 * again, so its commit must survive a power loss first.  One sync of
	 * the log covers every batch marked here. */
	if (store_sync(store, &merr) < 0) {
		log_warnx("%s: not marking %zu message(s) processed: %s", conf->mailbox, n, merr);
		return IMAP_OK;
	}
	qsort(uids, n, sizeof(*uids), ingest_cmp_uid);
	if (driver->mark_processed_batch != NULL) {
		rc = driver->mark_processed_batch(ctx, uids, n, conf->processed_mailbox, &merr);
	} else {
		rc = IMAP_OK;
		for (size_t i = 0; i < n && rc != IMAP_ERR_CONN && rc != IMAP_ERR_AUTH; i++)
			rc = driver->mark_processed(ctx, uids[i], conf->processed_mailbox, &merr);
	}
	if (rc == IMAP_ERR_CONN || rc == IMAP_ERR_AUTH) {
		*error_r = merr;
		return rc;
	}
	if (rc != IMAP_OK)
		log_warnx("%s: %zu message(s) from uid %u stored, but marking them failed: %s",
		          conf->mailbox, n, uids[0], merr);
	return IMAP_OK;
}

/*
 * Cases, per UID above the checkpoint, or at or below it but not \Seen (or
 * every UID when processed mail is moved away), taken in batches of at most
 * INGEST_BATCH_MAX messages to fetch:
 *   1. already stored under this mailbox, UIDVALIDITY and UID (a crash or a
 *      failed flag after the commit): flag it again, fetch nothing;
 *   2. new: fetched with the others of its batch in one round trip, stored
 *      and applied under its own savepoint in the batch's transaction, which
 *      also advances the checkpoint; after the COMMIT it is flagged, with
 *      the messages of other batches, up to INGEST_FLAG_MAX in one command
 *      (and the rest at the end, also when the store fails later on);
 *   3. fetched but a copy is already stored (same Message-ID or bytes, e.g.
 *      after a UIDVALIDITY change): the checkpoint moves past it, so it is
 *      not fetched again every cycle, and it is flagged;
 *   4. its handling fails: rolled back to its savepoint and stored as
 *      quarantined, the rest of the batch goes on;
 *   5. gone from the server meanwhile: skipped;
 *   6. the store refuses a write: the batch's transaction is rolled back,
 *      nothing of it flagged (earlier batches, committed, are); then
 *      - another process holds the lock, or the failure follows another
 *        with nothing stored in between: stop, INGEST_ERR_STORE;
 *      - a batch of several: its messages are tried again one per batch;
 *      - a batch of one: skipped (stats skipped: the daemon tries again
 *        after a backoff), ingest goes on with the next ones; the message
 *        stays unflagged and comes back; its failure
 *        is counted when other messages were stored in the run (then the
 *        message is the trouble, not a full disk);
 *   9. a message counted INGEST_STORE_TRIES failures: set aside, fetched
 *      by its header block only and quarantined by reference;
 *  10. a message over max_message_size: only its header block is fetched,
 *      quarantined (the workflow tells the sender, once);
 *   7. the connection fails: stop with its grade; what was committed stays;
 *   8. tick asks to stop (SIGTERM): the messages handled so far are
 *      committed and flagged, the rest of the batch waits for the next run.
 */
static int
ingest_drain(const struct config *config, struct store *store, const struct mail_driver *driver,
             void *ctx, time_t now, bool (*tick)(void *arg), void *tick_arg,
             struct ingest_stats *stats_r, const char **error_r)
{
	const struct config_imap *conf = &config->imap;
	struct imap_mailbox_info info;
	uint32_t *uids = NULL, known_validity = 0, last_uid = 0, after, checkpoint;
	uint32_t *want = NULL, *flag = NULL;
	struct ingest_prepared *jobs = NULL;
	struct parser parser;
	size_t nuids = 0, i = 0, nflag = 0, cap = INGEST_BATCH_FIRST;
	bool known, stop = false, parsing = false, failed, single = false, any_failures;
	struct {
		uint32_t uid;
		char *why; /* owned */
	} *culprits = NULL;
	size_t nculprits = 0;
	struct ingest_stats batch;
	int rc, failures = 0;

	memset(stats_r, 0, sizeof(*stats_r));
	rc = driver->select(ctx, conf->mailbox, &info, error_r);
	if (rc != IMAP_OK)
		return rc;
	if (store_mailbox_get(store, conf->mailbox, &known, &known_validity, &last_uid, error_r) <
	    0)
		return INGEST_ERR_STORE;
	if (known && known_validity != info.uidvalidity) {
		/* The server renumbered the mailbox (migration, index rebuild,
		 * recreated folder): start over; Message-ID and SHA-256 dedupe
		 * keep anything from being applied twice. */
		log_warnx("%s: UIDVALIDITY changed from %u to %u; rescanning", conf->mailbox,
		          known_validity, info.uidvalidity);
		last_uid = 0;
		if (store_mailbox_set(store, conf->mailbox, info.uidvalidity, 0, error_r) < 0)
			return INGEST_ERR_STORE;
	}
	/* Above the checkpoint nothing is stored (it moves in the transaction
	 * that stores), and only a message that failed before has a failure
	 * count: the window looks up neither for the others, two statements a
	 * message.  ingest_one still looks for a copy before storing. */
	checkpoint = last_uid;
	if (store_ingest_failure_any(store, conf->mailbox, info.uidvalidity, &any_failures,
	                             error_r) < 0)
		return INGEST_ERR_STORE;
	/* Moving processed mail keeps the inbox to what is left to do, so scan
	 * it all: a message whose MOVE failed after its commit is moved again
	 * without being fetched. */
	after = conf->processed_mailbox != NULL ? 0 : last_uid;
	/* With \Seen flags, a message committed just before a crash is behind
	 * the checkpoint but was never flagged: find those first (they sort
	 * before the new ones), so it does not stay unseen for good. */
	if (after > 0 && driver->search_unseen != NULL) {
		rc = driver->search_unseen(ctx, after, &uids, &nuids, error_r);
		if (rc != IMAP_OK)
			return rc;
	}
	{
		uint32_t *fresh = NULL;
		size_t nfresh = 0;

		rc = driver->search_new(ctx, after, &fresh, &nfresh, error_r);
		if (rc != IMAP_OK) {
			free(uids);
			return rc;
		}
		if (nfresh > 0) {
			uids = xrealloc(uids, (nuids + nfresh) * sizeof(*uids));
			memcpy(uids + nuids, fresh, nfresh * sizeof(*uids));
			nuids += nfresh;
		}
		free(fresh);
	}
	if (nuids > 0) {
		size_t most = nuids < INGEST_BATCH_MAX ? nuids : INGEST_BATCH_MAX;

		flag = xmalloc(nuids * sizeof(*flag));
		want = xmalloc(most * sizeof(*want));
		jobs = xmalloc(most * sizeof(*jobs));
	}
	/* One line per message: written by the kilobyte until the end. */
	log_hold(true);
	while (i < nuids && !stop) {
		struct mail_fetched *msgs = NULL;
		size_t nwant = 0, nmsgs = 0, taken = 0, end, flag_mark, failed_at;
		uint32_t top = last_uid;
		bool set_aside = false;

		if (tick != NULL && tick(tick_arg))
			break;
		/* The window: UIDs up to INGEST_BATCH_MAX to fetch, and the
		 * already stored ones among them (case 1).  A message that
		 * failed to be stored before goes in a batch of its own, so a
		 * failure names it (case 6); one that failed too often is set
		 * aside by its headers (case 9). */
		for (end = i; end < nuids && nwant < cap; end++) {
			int64_t row = 0;
			long fails = 0;

			if ((uids[end] <= checkpoint &&
			     store_message_find_duplicate(store, conf->mailbox, info.uidvalidity,
			                                  uids[end], NULL, NULL, &row,
			                                  error_r) < 0) ||
			    (row == 0 && any_failures &&
			     store_ingest_failure_count(store, conf->mailbox, info.uidvalidity,
			                                uids[end], &fails, error_r) < 0)) {
				rc = INGEST_ERR_STORE;
				goto out;
			}
			if (row != 0) {
				flag[nflag++] = uids[end];
				stats_r->duplicates++;
				continue;
			}
			if (fails > 0 || single) {
				if (nwant > 0)
					break;
				set_aside =
				    fails >= INGEST_STORE_TRIES && driver->fetch_header != NULL;
				want[nwant++] = uids[end++];
				break;
			}
			want[nwant++] = uids[end];
		}
		if (set_aside) {
			msgs = xcalloc(1, sizeof(*msgs));
			rc = driver->fetch_header(ctx, want[0], &msgs[0], error_r);
			nmsgs = rc == IMAP_OK ? 1 : 0;
			taken = 1;
			if (rc == IMAP_ERR_MSG) {
				log_warnx("%s", *error_r);
				rc = IMAP_OK;
			}
			if (rc != IMAP_OK) {
				free(msgs);
				goto out;
			}
		} else if (nwant > 0) {
			if (driver->fetch_batch != NULL)
				rc = driver->fetch_batch(ctx, want, nwant, INGEST_BATCH_BYTES,
				                         conf->max_message_size, &msgs, &nmsgs,
				                         &taken, error_r);
			else
				rc = ingest_fetch_each(driver, ctx, conf->mailbox, want, nwant,
				                       INGEST_BATCH_BYTES, &msgs, &nmsgs, &taken,
				                       error_r);
			if (rc != IMAP_OK)
				goto out;
			if (taken < nwant) {
				/* Too big for one batch: the rest, and the stored ones
				 * after it, come in the next window. */
				while (end > i && uids[end - 1] >= want[taken]) {
					if (nflag > 0 && flag[nflag - 1] == uids[end - 1]) {
						nflag--;
						stats_r->duplicates--;
					}
					end--;
				}
			}
		}
		/* Those above are stored already; what follows is not until the
		 * COMMIT. */
		flag_mark = nflag;
		if (nmsgs > 0) {
			if (!parsing) {
				parser_start(&parser);
				parsing = true;
			}
			memset(jobs, 0, nmsgs * sizeof(*jobs));
			for (size_t k = 0; k < nmsgs; k++) {
				jobs[k].raw = msgs[k].data;
				jobs[k].len = msgs[k].len;
				jobs[k].size = msgs[k].size;
				jobs[k].truncated = msgs[k].truncated;
				jobs[k].set_aside = set_aside;
			}
			parser_submit(&parser, jobs, nmsgs);
			failed = store_begin(store, error_r) < 0;
			failed_at = failed ? 0 : nmsgs;
			memset(&batch, 0, sizeof(batch));
			for (size_t k = 0; k < nmsgs && !failed; k++) {
				bool duplicate, quarantined;
				int64_t row;

				if (k > 0 && tick != NULL && tick(tick_arg)) {
					/* Case 8: the ones from here on are fetched again. */
					stop = true;
					break;
				}
				batch.fetched++;
				if (ingest_one(config, store, conf->mailbox, info.uidvalidity,
				               msgs[k].uid, parser_take(&parser, k), now,
				               &duplicate, &quarantined, &row, error_r) < 0) {
					failed = true;
					failed_at = k;
					break;
				}
				if (duplicate)
					batch.duplicates++;
				else if (quarantined)
					batch.quarantined++;
				else
					batch.stored++;
				flag[nflag++] = msgs[k].uid;
				if (msgs[k].uid > top)
					top = msgs[k].uid;
			}
			if (!failed && ((top > last_uid &&
			                 store_mailbox_set(store, conf->mailbox, info.uidvalidity,
			                                   top, error_r) < 0) ||
			                store_commit(store, error_r) < 0))
				failed = true;
			parser_finish(&parser);
			if (failed) {
				/* Not committed: left unflagged for the next cycle. */
				char *why = xstrdup(*error_r != NULL ? *error_r : "failed");
				bool busy = store_busy(store);
				uint32_t culprit =
				    failed_at < nmsgs ? msgs[failed_at].uid : msgs[0].uid;

				store_rollback(store);
				mail_fetched_free(&msgs, nmsgs);
				nflag = flag_mark;
				/* Case 6: locked by another process, or a failure right
				 * after another: the store, not a message, is at fault.
				 * Stop. */
				if (busy || failures > 0) {
					*error_r = errorf("%s", why);
					free(why);
					rc = INGEST_ERR_STORE;
					goto out;
				}
				if (nmsgs > 1) {
					/* Which one?  Again one at a time, so a failure
					 * names a single message. */
					log_warnx(
					    "%s: storing a batch failed (%s); trying its messages "
					    "one at a time",
					    conf->mailbox, why);
					single = true;
					free(why);
					continue;
				}
				/* A message alone: skipped for now (unflagged, it comes
				 * back below the checkpoint, unseen), the rest go on.
				 * Its failure counts only if others are stored in this
				 * run, which shows that the store works and the message
				 * is the trouble: a full disk sets nothing aside. */
				log_warnx("%s: UID %u could not be stored (%s); it stays unflagged "
				          "on the "
				          "server",
				          conf->mailbox, culprit, why);
				culprits = xrealloc(culprits, (nculprits + 1) * sizeof(*culprits));
				culprits[nculprits].uid = culprit;
				culprits[nculprits].why = why;
				nculprits++;
				failures = 1;
				i = end;
				continue;
			}
			/* Counted once committed. */
			stats_r->fetched += batch.fetched;
			stats_r->stored += batch.stored;
			stats_r->duplicates += batch.duplicates;
			stats_r->quarantined += batch.quarantined;
			failures = 0;
			last_uid = top;
			if (cap < INGEST_BATCH_MAX)
				cap = cap * 2 < INGEST_BATCH_MAX ? cap * 2 : INGEST_BATCH_MAX;
		}
		mail_fetched_free(&msgs, nmsgs);
		i = end;
		/* Flags only after the commit, and for several batches at once: a
		 * flag change costs the server a resync of the mailbox (Dovecot's
		 * Maildir renames the file and rescans the directory), whatever the
		 * number of messages it names. */
		if (nflag >= INGEST_FLAG_MAX) {
			rc = ingest_mark(driver, ctx, store, conf, flag, nflag, error_r);
			nflag = 0;
			if (rc != IMAP_OK)
				goto out;
		}
	}
	if (nculprits > 0) {
		/* The skipped ones make the daemon try again after a backoff. */
		stats_r->skipped = nculprits;
		stats_r->skipped_why = xasprintf("UID %u: %s", culprits[0].uid, culprits[0].why);
	}
out:
	for (size_t k = 0; k < nculprits; k++) {
		if (stats_r->stored > 0)
			ingest_note_failure(store, conf->mailbox, info.uidvalidity, culprits[k].uid,
			                    culprits[k].why);
		free(culprits[k].why);
	}
	free(culprits);
	/* What is committed is flagged, even when the store failed later on;
	 * not when the connection is gone (the next run flags it: case 1). */
	if (nflag > 0 && rc != IMAP_ERR_CONN && rc != IMAP_ERR_AUTH) {
		const char *ferr = NULL;
		int frc = ingest_mark(driver, ctx, store, conf, flag, nflag, &ferr);

		if (rc == IMAP_OK && frc != IMAP_OK) {
			rc = frc;
			*error_r = ferr;
		}
	}
	if (parsing)
		parser_stop(&parser);
	log_hold(false);
	free(jobs);
	free(want);
	free(flag);
	free(uids);
	return rc;
}

int
ingest_mailbox(const struct config *config, struct store *store, const struct mail_driver *driver,
               void *ctx, time_t now, bool (*tick)(void *arg), void *tick_arg,
               struct ingest_stats *stats_r, const char **error_r)
{
	return ingest_drain(config, store, driver, ctx, now, tick, tick_arg, stats_r, error_r);
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
	if (m.truncated) {
		*error_r = errorf("message %lld: only its header was kept (%zu bytes; %s); the "
		                  "original is in the mailbox %s, UID %u",
		                  (long long)row, m.size, m.reason != NULL ? m.reason : "too large",
		                  m.mailbox != NULL ? m.mailbox : "?", m.uid);
		goto out;
	}
	if (store_begin(store, error_r) < 0)
		goto out;
	if (workflow_apply_message(config, store, row, raw, len, m.received_at, now, error_r) < 0 ||
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
