/* outbox: see include/outbox.h. */
#include "outbox.h"
#include "clock.h"
#include "compose.h"
#include "log.h"
#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "mentord.invalid";
}

/*
 * One copy of an email, to one recipient, as row id.  Cases:
 *   1. the address bounced permanently: composed but kept as failed, so
 *      the next digest says who is not reached, and once the address is
 *      corrected the email can be sent there (mentorctl resend);
 *   2. an answer, and the address has had its share of answers today:
 *      kept as dropped, never sent (a loop with a robot ends here);
 *   3. queued, with a Reply-To token bound to this recipient.
 */
static int
enqueue_copy(const struct config *config, struct store *store, const struct outbox_mail *mail,
             int64_t id, const char *key, const char *addr, const char *subject, const char *body,
             time_t now, bool *queued_r, const char **error_r)
{
	struct compose_mail cm;
	struct store_outbox row; /* strings borrowed: never cleared */
	struct store_person p;
	struct strvec to = {0};
	char *message_id = NULL, *token = NULL, *reply_to = NULL, *data = NULL, *tagged = NULL;
	char day[11];
	size_t len;
	int64_t person;
	bool found, allowed = true;
	int ret = -1;

	*queued_r = false;
	memset(&p, 0, sizeof(p));
	/* Everyone mentord writes to is a person, so a bounce for any of them
	 * (a supervisor, a coordinator) marks them and is reported. */
	if (store_person_upsert(store, addr, NULL, &person, error_r) < 0 ||
	    store_person_by_email(store, addr, &found, &p, error_r) < 0)
		goto out;
	if (mail->role != NULL && mail->program != NULL &&
	    store_participation_add(store, mail->program, person, mail->role, now, error_r) < 0)
		goto out;
	memset(&row, 0, sizeof(row));
	row.id = id;
	row.key = (char *)key;
	row.kind = (char *)mail->kind;
	row.program = (char *)mail->program;
	row.recipients = (char *)addr;
	row.person_id = person;
	row.thread_type = (char *)mail->thread_type;
	row.thread_ref = mail->thread_ref;
	row.next_attempt_at = now;
	row.created_at = now;
	if (!p.undeliverable && (mail->nature == OUTBOX_ANSWER || mail->capped)) {
		clock_date_key(now, day);
		if (store_auto_answer_take(store, addr, day, !mail->unproven,
		                           config->max_auto_replies_per_day, &allowed, error_r) < 0)
			goto out;
	}
	if (!allowed) {
		row.status = (char *)"dropped";
		row.last_error = (char *)"not sent: the daily answer limit for this address";
		log_info("not sending %s to %s: %d answers today already", key, addr,
		         config->max_auto_replies_per_day);
		ret = store_outbox_insert(store, &row, error_r);
		goto out;
	}
	/* The subject tag is the last way to find the thread of a reply whose
	 * client dropped both the token address and In-Reply-To. */
	tagged = xasprintf("%s [ref:%lld]", subject, (long long)id);
	message_id = compose_message_id(addr_domain(config->smtp.from_addr));
	token = token_make(config->hmac_secret, id, person);
	reply_to = token != NULL ? token_address(config->smtp.from_addr, token) : NULL;
	strvec_push(&to, addr);
	memset(&cm, 0, sizeof(cm));
	cm.from_addr = config->smtp.from_addr;
	cm.from_name = config->smtp.from_name;
	cm.to = &to;
	cm.reply_to = reply_to;
	cm.subject = tagged;
	cm.body = body;
	cm.message_id = message_id;
	cm.in_reply_to = mail->in_reply_to;
	cm.references = mail->in_reply_to;
	cm.kind = mail->kind;
	cm.auto_submitted =
	    mail->nature == OUTBOX_ANSWER ? COMPOSE_AUTO_REPLIED : COMPOSE_AUTO_GENERATED;
	cm.date = now;
	cm.attachments = mail->attachments;
	cm.nattachments = mail->nattachments;
	if (compose_message(&cm, &data, &len, error_r) < 0)
		goto out;
	row.status = (char *)(p.undeliverable ? "failed" : "queued");
	row.message_id = message_id;
	row.subject = tagged;
	row.data = data;
	row.len = len;
	if (p.undeliverable)
		row.last_error = (char *)"not sent: the address bounced permanently";
	if (store_outbox_insert(store, &row, error_r) < 0)
		goto out;
	if (p.undeliverable)
		log_warnx("not sending %s to %s: undeliverable", key, addr);
	else
		log_info("queued %s to %s", key, addr);
	*queued_r = !p.undeliverable;
	ret = 0;
out:
	store_person_clear(&p);
	strvec_free(&to);
	free(tagged);
	free(message_id);
	free(token);
	free(reply_to);
	free(data);
	return ret;
}

int
outbox_enqueue(const struct config *config, struct store *store, const struct outbox_mail *mail,
               time_t now, struct outbox_queued *q_r, const char **error_r)
{
	struct outbox_queued q = {false, 0, 0};
	char *subject = NULL, *body = NULL;
	int64_t id;
	bool created;
	int ret = -1;

	if (mail->to->n == 0) {
		*error_r = errorf("%s: no recipient", mail->key);
		return -1;
	}
	for (size_t i = 0; i < mail->to->n; i++) {
		if (!compose_valid_addr(mail->to->v[i])) {
			*error_r =
			    errorf("%s: \"%s\" is not a usable address", mail->key, mail->to->v[i]);
			return -1;
		}
	}
	if (store_outbox_claim(store, mail->key, &id, &created, error_r) < 0)
		goto out;
	q.created = created;
	if (!created) {
		ret = 0;
		goto out;
	}
	if (template_render_for(config->templates, mail->program, mail->template_name, mail->vars,
	                        mail->audience, &subject, &body, error_r) < 0)
		goto out;
	/* One copy per recipient, each with its own token: a token names one
	 * person, and a reply proves only whose email was answered.  The first
	 * copy has the key itself (what the idempotency checks look up), the
	 * others the key and their address; all are made in this transaction,
	 * at consecutive ids. */
	for (size_t i = 0; i < mail->to->n; i++) {
		char *key =
		    i == 0 ? xstrdup(mail->key) : xasprintf("%s|to=%s", mail->key, mail->to->v[i]);
		bool queued;
		int rc = enqueue_copy(config, store, mail, id + (int64_t)i, key, mail->to->v[i],
		                      subject, body, now, &queued, error_r);

		free(key);
		if (rc < 0)
			goto out;
		if (queued)
			q.queued++;
		else
			q.dropped++;
	}
	ret = 0;
out:
	if (q_r != NULL)
		*q_r = q;
	free(subject);
	free(body);
	return ret;
}

int64_t
outbox_thread_from_subject(const char *subject)
{
	const char *p, *last = NULL;
	long long id = 0;

	if (subject == NULL)
		return 0;
	/* The last tag wins: "Re: Fwd: ... [ref:12]" may quote older tags. */
	for (p = strstr(subject, "[ref:"); p != NULL; p = strstr(p + 1, "[ref:"))
		last = p;
	if (last == NULL)
		return 0;
	for (p = last + 5; *p >= '0' && *p <= '9' && id < INT64_MAX / 10; p++)
		id = id * 10 + (*p - '0');
	return *p == ']' && p > last + 5 ? (int64_t)id : 0;
}

/* Seconds before attempt number `attempts + 1`: 1, 2, 4 ... minutes, at
 * most 4 hours, with up to a quarter more at random so that many emails
 * held back by one outage do not all return at once. */
static time_t
retry_delay(int attempts)
{
	time_t delay = 60;
	uint32_t r;

	for (int i = 0; i < attempts && delay < 4 * 3600; i++)
		delay *= 2;
	if (delay > 4 * 3600)
		delay = 4 * 3600;
	random_bytes(&r, sizeof(r));
	return delay + (time_t)(r % (uint32_t)(delay / 4 + 1));
}

/* What flush_done needs to record each result. */
struct flush_ctx {
	struct store *store;
	const struct store_outbox *due; /* borrowed: the batch */
	time_t now;
	struct outbox_stats *stats;
	char *store_error; /* owned: the first store failure */
	bool connection_down;
	bool in_transaction;
	bool (*tick)(void *arg); /* may be NULL */
	void *tick_arg;
	bool stopped; /* tick asked to stop (the daemon is shutting down) */
};

/*
 * Records one result in the store as soon as it is known, inside a
 * transaction that flush_settled commits before any further email is sent.
 * So a crash forgets the result of at most the emails in flight (one per
 * connection), each the last on its connection, and sends them again on
 * restart; results that arrive in the same round share one commit instead
 * of one each.  Holding the marks of a whole batch of 100 until the end
 * would be faster still, but a crash would then resend up to 100 emails.
 */
static int
flush_done(void *vctx, size_t index, enum smtp_result res, int code, const char *serr)
{
	struct flush_ctx *ctx = vctx;
	const struct store_outbox *o = &ctx->due[index];
	const char *error = NULL;
	int rc;

	if (!ctx->in_transaction && ctx->store_error == NULL) {
		if (store_begin(ctx->store, &error) < 0)
			ctx->store_error = xstrdup(error);
		else
			ctx->in_transaction = true;
	}
	if (res == SMTP_OK) {
		rc = store_outbox_mark_sent(ctx->store, o->id, code, ctx->now, &error);
		ctx->stats->sent++;
		log_info("sent %s to %s", o->key, o->recipients);
	} else if (res == SMTP_TEMPFAIL && o->attempts + 1 < OUTBOX_MAX_ATTEMPTS) {
		rc = store_outbox_mark_retry(ctx->store, o->id, code, serr,
		                             ctx->now + retry_delay(o->attempts), &error);
		ctx->stats->retried++;
		log_warnx("will retry %s: %s", o->key, serr);
		/* No reply code: the server is unreachable, so the rest would
		 * fail the same way. */
		if (code == 0)
			ctx->connection_down = true;
	} else {
		rc = store_outbox_mark_failed(ctx->store, o->id, code, serr, &error);
		ctx->stats->failed++;
		log_warnx("failed %s to %s: %s", o->key, o->recipients, serr);
	}
	if (rc < 0 && ctx->store_error == NULL)
		ctx->store_error = xstrdup(error);
	/* Feeds the watchdog once per email, however slow the rate. */
	if (ctx->tick != NULL && ctx->tick(ctx->tick_arg))
		ctx->stopped = true;
	return ctx->store_error != NULL || ctx->connection_down || ctx->stopped;
}

/* Commits the results recorded since the last call. */
static void
flush_settled(void *vctx)
{
	struct flush_ctx *ctx = vctx;
	const char *error = NULL;

	if (!ctx->in_transaction)
		return;
	ctx->in_transaction = false;
	if (store_commit(ctx->store, &error) < 0) {
		store_rollback(ctx->store);
		if (ctx->store_error == NULL)
			ctx->store_error = xstrdup(error);
	}
}

int
outbox_flush(const struct config *config, struct store *store, struct smtp_session **smtp_io,
             time_t now, bool (*tick)(void *arg), void *tick_arg, struct outbox_stats *stats_r,
             const char **error_r)
{
	struct flush_ctx ctx = {store, NULL,  now,  stats_r,  NULL,
	                        false, false, tick, tick_arg, false};
	struct store_outbox *due = NULL;
	struct smtp_item *items = NULL;
	struct strvec *rcpts = NULL, verp = {0};
	size_t n = 0;
	bool synced = false;
	char *token;
	int ret = -1;

	memset(stats_r, 0, sizeof(*stats_r));
	for (;;) {
		if (store_outbox_due(store, now, 100, &due, &n, error_r) < 0)
			goto out;
		if (n == 0)
			break;
		/* An email goes out only after the commit that queued it is on
		 * disk: otherwise a power loss could undo the commit (and the
		 * message that caused it would be answered again) after the
		 * email was sent.  One sync covers every commit before it. */
		if (!synced && store_sync(store, error_r) < 0)
			goto out;
		synced = true;
		if (*smtp_io == NULL && smtp_open(&config->smtp, smtp_io, error_r) < 0)
			goto out;
		items = xcalloc(n, sizeof(*items));
		rcpts = xcalloc(n, sizeof(*rcpts));
		for (size_t i = 0; i < n; i++) {
			char *list = xstrdup(due[i].recipients), *save = NULL;

			for (char *r = strtok_r(list, ",", &save); r != NULL;
			     r = strtok_r(NULL, ",", &save))
				strvec_push(&rcpts[i], r);
			free(list);
			items[i].rcpts = (const char *const *)rcpts[i].v;
			items[i].nrcpts = rcpts[i].n;
			items[i].data = due[i].data;
			items[i].len = due[i].len;
			/* VERP: a bounce comes back to an address that names this
			 * email and its recipient, signed. */
			token = token_make_bounce(config->hmac_secret, due[i].id, due[i].person_id);
			if (token != NULL)
				strvec_push_owned(&verp,
				                  token_address(config->smtp.from_addr, token));
			else
				strvec_push(&verp, config->smtp.from_addr);
			free(token);
		}
		for (size_t i = 0; i < n; i++)
			items[i].mail_from = verp.v[i];
		ctx.due = due;
		smtp_send_batch(*smtp_io, config->smtp.from_addr, items, n, flush_done,
		                flush_settled, &ctx);
		flush_settled(&ctx);
		for (size_t i = 0; i < n; i++)
			strvec_free(&rcpts[i]);
		free(rcpts);
		rcpts = NULL;
		free(items);
		items = NULL;
		strvec_free(&verp);
		store_outbox_list_free(&due, n);
		n = 0;
		if (ctx.store_error != NULL) {
			*error_r = errorf("%s", ctx.store_error);
			goto out;
		}
		if (ctx.connection_down || ctx.stopped)
			break;
	}
	ret = 0;
out:
	strvec_free(&verp);
	if (rcpts != NULL) {
		for (size_t i = 0; i < n; i++)
			strvec_free(&rcpts[i]);
		free(rcpts);
	}
	free(items);
	free(ctx.store_error);
	store_outbox_list_free(&due, n);
	return ret;
}

int
outbox_resend(const struct config *config, struct store *store, const char *key, time_t now,
              struct outbox_resent *r_r, const char **error_r)
{
	struct store_outbox old, row; /* row's strings borrowed: never cleared */
	struct store_person p;
	char *new_key = NULL, *message_id = NULL, *data = NULL;
	size_t len = 0;
	int64_t id = 0;
	bool found, created = false;
	int ret = -1;

	memset(&old, 0, sizeof(old));
	memset(&p, 0, sizeof(p));
	memset(r_r, 0, sizeof(*r_r));
	if (store_outbox_by_key(store, key, &found, &old, error_r) < 0)
		goto out;
	if (!found) {
		r_r->refused = true;
		*error_r = errorf("no email has the key \"%s\"", key);
		goto out;
	}
	if (old.len == 0) {
		r_r->refused = true;
		*error_r = errorf("%s was not composed (%s); nothing to send again", key,
		                  old.last_error != NULL ? old.last_error : old.status);
		goto out;
	}
	/* To the person's address today: a corrected address is the reason
	 * to send again. */
	if (old.person_id > 0 && store_person_get(store, old.person_id, &p, error_r) < 0)
		goto out;
	if (p.undeliverable) {
		r_r->refused = true;
		*error_r = errorf(
		    "%s bounced (%s): correct the address first (mentorctl person set "
		    "%s email=NEW deliverable=yes)",
		    p.email, p.undeliverable_reason != NULL ? p.undeliverable_reason : "", p.email);
		goto out;
	}
	/* The first free "KEY|resend=N": each resend is an email of its own. */
	for (int n = 1; !created; n++) {
		free(new_key);
		new_key = xasprintf("%s|resend=%d", key, n);
		if (store_outbox_claim(store, new_key, &id, &created, error_r) < 0)
			goto out;
	}
	message_id = compose_message_id(addr_domain(config->smtp.from_addr));
	if (compose_readdress(old.data, old.len, p.email != NULL ? p.email : old.recipients,
	                      message_id, now, &data, &len, error_r) < 0)
		goto out;
	memset(&row, 0, sizeof(row));
	row.id = id;
	row.key = new_key;
	row.kind = old.kind;
	row.program = old.program;
	row.recipients = p.email != NULL ? p.email : old.recipients;
	row.message_id = message_id;
	row.subject = old.subject;
	row.data = data;
	row.len = len;
	row.status = (char *)"queued";
	row.person_id = old.person_id;
	/* The same thread: a reply to the copy is a reply to the email. */
	row.thread_type = old.thread_type;
	row.thread_ref = old.thread_ref;
	row.next_attempt_at = now;
	row.created_at = now;
	if (store_outbox_insert(store, &row, error_r) < 0)
		goto out;
	log_info("queued %s again as %s to %s", key, new_key, row.recipients);
	r_r->id = id;
	r_r->key = new_key;
	r_r->to = xstrdup(row.recipients);
	r_r->old_to = xstrdup(old.recipients);
	new_key = NULL;
	ret = 0;
out:
	store_outbox_clear(&old);
	store_person_clear(&p);
	free(new_key);
	free(message_id);
	free(data);
	return ret;
}

void
outbox_resent_clear(struct outbox_resent *r)
{
	free(r->key);
	free(r->to);
	free(r->old_to);
	memset(r, 0, sizeof(*r));
}
