/* outbox: see include/outbox.h. */
#include "outbox.h"
#include "clock.h"
#include "compose.h"
#include "log.h"
#include "token.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "mentord.invalid";
}

int
outbox_enqueue(const struct config *config, struct store *store, const struct outbox_mail *mail,
               time_t now, bool *created_r, const char **error_r)
{
	struct compose_mail cm;
	char *recipients = NULL, *subject = NULL, *body = NULL, *message_id = NULL;
	char *token = NULL, *reply_to = NULL, *data = NULL;
	size_t len;
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
	recipients = strvec_join(mail->to, ",");
	if (store_outbox_reserve(store, mail->key, mail->kind, mail->program, recipients,
	                         mail->person_id, mail->thread_type, mail->thread_ref, now, &id,
	                         &created, error_r) < 0)
		goto out;
	if (created_r != NULL)
		*created_r = created;
	if (!created) {
		ret = 0;
		goto out;
	}
	if (template_render(config->templates, mail->template_name, mail->vars, mail->audience,
	                    &subject, &body, error_r) < 0)
		goto out;
	message_id = compose_message_id(addr_domain(config->smtp.from_addr));
	if (config->hmac_secret != NULL) {
		token = token_make(config->hmac_secret, id, mail->person_id);
		reply_to = token_address(config->smtp.from_addr, token);
	}
	memset(&cm, 0, sizeof(cm));
	cm.from_addr = config->smtp.from_addr;
	cm.from_name = config->smtp.from_name;
	cm.to = mail->to;
	cm.reply_to = reply_to;
	cm.subject = subject;
	cm.body = body;
	cm.message_id = message_id;
	cm.in_reply_to = mail->in_reply_to;
	cm.references = mail->in_reply_to;
	cm.kind = mail->kind;
	cm.auto_submitted = mail->auto_submitted;
	cm.date = now;
	if (compose_message(&cm, &data, &len, error_r) < 0)
		goto out;
	if (store_outbox_fill(store, id, message_id, subject, data, len, error_r) < 0)
		goto out;
	log_info("queued %s to %s", mail->key, recipients);
	ret = 0;
out:
	free(recipients);
	free(subject);
	free(body);
	free(message_id);
	free(token);
	free(reply_to);
	free(data);
	return ret;
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

/* Keeps rate_per_minute exactly: sends are spaced 60/rate seconds apart. */
static void
rate_wait(const struct config_smtp *conf, struct timespec *last)
{
	struct timespec now, until;
	long long gap_ns, elapsed_ns;

	if (conf->rate_per_minute <= 0)
		return;
	gap_ns = 60000000000LL / conf->rate_per_minute;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last->tv_sec != 0) {
		elapsed_ns =
		    (now.tv_sec - last->tv_sec) * 1000000000LL + (now.tv_nsec - last->tv_nsec);
		if (elapsed_ns < gap_ns) {
			long long wait = gap_ns - elapsed_ns;

			until.tv_sec = (time_t)(wait / 1000000000LL);
			until.tv_nsec = (long)(wait % 1000000000LL);
			while (nanosleep(&until, &until) < 0)
				;
			clock_gettime(CLOCK_MONOTONIC, &now);
		}
	}
	*last = now;
}

int
outbox_flush(const struct config *config, struct store *store, struct smtp_session **smtp_io,
             time_t now, struct outbox_stats *stats_r, const char **error_r)
{
	struct store_outbox *due = NULL;
	struct timespec last = {0, 0};
	size_t n = 0;
	int ret = -1;

	memset(stats_r, 0, sizeof(*stats_r));
	for (;;) {
		bool connection_down = false;

		if (store_outbox_due(store, now, 100, &due, &n, error_r) < 0)
			goto out;
		if (n == 0)
			break;
		if (*smtp_io == NULL && smtp_open(&config->smtp, smtp_io, error_r) < 0)
			goto out;
		for (size_t i = 0; i < n && !connection_down; i++) {
			struct store_outbox *o = &due[i];
			struct strvec rcpts = {0};
			const char *serr = NULL;
			char *list = xstrdup(o->recipients), *save = NULL;
			enum smtp_result res;
			int code = 0, rc;

			for (char *r = strtok_r(list, ",", &save); r != NULL;
			     r = strtok_r(NULL, ",", &save))
				strvec_push(&rcpts, r);
			free(list);
			rate_wait(&config->smtp, &last);
			res = smtp_send(*smtp_io, config->smtp.from_addr,
			                (const char *const *)rcpts.v, rcpts.n, o->data, o->len,
			                &code, &serr);
			strvec_free(&rcpts);
			if (res == SMTP_OK) {
				rc = store_outbox_mark_sent(store, o->id, code, now, error_r);
				stats_r->sent++;
				log_info("sent %s to %s", o->key, o->recipients);
			} else if (res == SMTP_TEMPFAIL && o->attempts + 1 < OUTBOX_MAX_ATTEMPTS) {
				rc = store_outbox_mark_retry(store, o->id, code, serr,
				                             now + retry_delay(o->attempts),
				                             error_r);
				stats_r->retried++;
				log_warnx("will retry %s: %s", o->key, serr);
				/* No reply code: the server is unreachable, so the
				 * rest would fail the same way. */
				connection_down = code == 0;
			} else {
				rc = store_outbox_mark_failed(store, o->id, code, serr, error_r);
				stats_r->failed++;
				log_warnx("failed %s to %s: %s", o->key, o->recipients, serr);
			}
			if (rc < 0)
				goto out;
		}
		store_outbox_list_free(&due, n);
		n = 0;
		if (connection_down)
			break;
	}
	ret = 0;
out:
	store_outbox_list_free(&due, n);
	return ret;
}
