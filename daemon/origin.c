/* origin: see include/origin.h. */
#include "origin.h"
#include "log.h"
#include "outbox.h"
#include "token.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
origin_recipients_include(const char *list, const char *addr)
{
	size_t len = strlen(addr);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == len && strncasecmp(p, addr, len) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* The first token of the given kind ('t' reply, 'b' bounce) in a recipient
 * address that is the program's own address with a +detail (To, Cc, or
 * what the delivering server recorded), or NULL.  The caller owns it. */
static char *
origin_find_token(const struct config *config, const struct mime_message *msg, char kind)
{
	const char *delivered[] = {mime_header_get(msg, "Delivered-To"),
	                           mime_header_get(msg, "X-Original-To"),
	                           mime_header_get(msg, "Envelope-To")};
	struct strvec addrs = {0};
	char *found = NULL;

	for (size_t i = 0; i < msg->to.n; i++)
		strvec_push(&addrs, msg->to.v[i]);
	for (size_t i = 0; i < msg->cc.n; i++)
		strvec_push(&addrs, msg->cc.v[i]);
	for (size_t i = 0; i < N_ELEMENTS(delivered); i++)
		if (delivered[i] != NULL)
			strvec_push(&addrs, delivered[i]);
	for (size_t i = 0; i < addrs.n && found == NULL; i++) {
		char *token = token_from_address(addrs.v[i]);
		char *ours;

		if (token == NULL || token[0] != kind) {
			free(token);
			continue;
		}
		ours = token_address(config->smtp.from_addr, token);
		if (strcasecmp(ours, str_trim(addrs.v[i])) == 0)
			found = token;
		else
			free(token);
		free(ours);
	}
	strvec_free(&addrs);
	return found;
}

int
origin_thread_by_headers(struct store *store, const struct mime_message *msg, bool *found_r,
                         struct store_outbox *o_r, const char **error_r)
{
	int64_t tagged;

	*found_r = false;
	if (msg->in_reply_to != NULL &&
	    store_outbox_by_message_id(store, msg->in_reply_to, found_r, o_r, error_r) < 0)
		return -1;
	for (size_t i = msg->references.n; i > 0 && !*found_r; i--) {
		const char *ref = msg->references.v[i - 1];

		/* The newest reference is usually In-Reply-To, already looked up. */
		if (msg->in_reply_to != NULL && strcmp(ref, msg->in_reply_to) == 0)
			continue;
		if (store_outbox_by_message_id(store, ref, found_r, o_r, error_r) < 0)
			return -1;
	}
	tagged = outbox_thread_from_subject(msg->subject);
	if (!*found_r && tagged > 0 && store_outbox_get(store, tagged, found_r, o_r, error_r) < 0)
		return -1;
	return 0;
}

static void origin_hold(struct origin *o, const char *fmt, ...) ATTR_FORMAT(2, 3);

static void
origin_hold(struct origin *o, const char *fmt, ...)
{
	va_list ap;

	free(o->held);
	va_start(ap, fmt);
	o->held = xvasprintf(fmt, ap);
	va_end(ap);
}

/* An auto-responder that sends the email it answers back unquoted makes
 * that email's lines look like the sender's own: a digest's suggested
 * "match 12 with 4" would run.  Its lines are taken out of the reply. */
static void
origin_strip_echo(struct origin *o)
{
	struct mime_message *sent = NULL;
	const char *perr;
	char *stripped = NULL;

	if (o->thread.id == 0 || o->thread.data == NULL || o->reply == NULL)
		return;
	if (mime_parse(o->thread.data, o->thread.len, NULL, &sent, &perr) < 0)
		return;
	if (trust_strip_echo(o->reply, sent->text, &stripped)) {
		log_info("reply echoes email #%lld: its lines are taken as quoted",
		         (long long)o->thread.id);
		free(o->reply);
		o->reply = stripped;
		o->echo = true;
	}
	mime_message_free(&sent);
}

/*
 * Cases, in order:
 *   1. a reply token (to our own address +t...) that does not verify, or
 *      names an email that was never sent: held, as forged or altered;
 *   2. one that verifies and names a person: proven, that person at their
 *      registered address;
 *   3. one that names no person (an email of an older release sent to
 *      several): the thread is known, the From still only a claim;
 *   4. no token: the headers find the thread, if any;
 *   5. the From is not one of the thread's recipients: held (it answers
 *      someone else's email), unless a trusted server authenticated it,
 *      which makes the message the sender's own and drops the thread;
 *   6. a trusted Authentication-Results header passes the From domain:
 *      proven, the From;
 *   7. otherwise: claimed, the From.
 * Then, with a thread, an echo of it is taken out of the reply.
 */
int
origin_resolve(const struct config *config, struct store *store, const struct mime_message *msg,
               const char *reply, struct origin *o_r, const char **error_r)
{
	char *token = origin_find_token(config, msg, 't');
	int64_t thread_id = 0, person_id = 0;
	bool found = false, authenticated;
	const char *why = NULL;
	int ret = -1;

	memset(o_r, 0, sizeof(*o_r));
	o_r->reply = xstrdup(reply != NULL ? reply : "");
	if (token != NULL) {
		if (token_verify(config->hmac_secret, token, &thread_id, &person_id) < 0) {
			origin_hold(o_r, "reply token does not verify (forged or altered)");
			ret = 0;
			goto out;
		}
		if (store_outbox_get(store, thread_id, &found, &o_r->thread, error_r) < 0)
			goto out;
		if (!found) {
			origin_hold(o_r, "reply token names email #%lld, which is not known",
			            (long long)thread_id);
			ret = 0;
			goto out;
		}
		if (person_id > 0) {
			struct store_person p;

			memset(&p, 0, sizeof(p));
			if (store_person_get(store, person_id, &p, error_r) < 0) {
				store_person_clear(&p);
				origin_hold(o_r, "reply token names person #%lld, who is not known",
				            (long long)person_id);
				ret = 0;
				goto out;
			}
			if (msg->from_addr == NULL || strcasecmp(p.email, msg->from_addr) != 0)
				log_info("From %s, token of %s; acting as %s",
				         msg->from_addr != NULL ? msg->from_addr : "(none)",
				         p.email, p.email);
			o_r->address = p.email;
			p.email = NULL;
			o_r->person_id = p.id;
			o_r->proof = ORIGIN_TOKEN;
			store_person_clear(&p);
			origin_strip_echo(o_r);
			ret = 0;
			goto out;
		}
	} else if (origin_thread_by_headers(store, msg, &found, &o_r->thread, error_r) < 0) {
		goto out;
	}
	authenticated = trust_authenticated(msg, &config->trusted_authserv_ids, &why);
	if (found && !origin_recipients_include(o_r->thread.recipients, msg->from_addr)) {
		if (!authenticated) {
			origin_hold(
			    o_r, "%s answered email #%lld, which was sent to %s, not to them",
			    msg->from_addr, (long long)o_r->thread.id, o_r->thread.recipients);
			ret = 0;
			goto out;
		}
		store_outbox_clear(&o_r->thread);
	}
	o_r->address = xstrdup(msg->from_addr);
	o_r->proof = authenticated ? ORIGIN_AUTHENTICATED : ORIGIN_CLAIMED;
	{
		struct store_person p;
		bool known;

		memset(&p, 0, sizeof(p));
		if (store_person_by_email(store, o_r->address, &known, &p, error_r) < 0)
			goto out;
		o_r->person_id = known ? p.id : 0;
		store_person_clear(&p);
	}
	origin_strip_echo(o_r);
	ret = 0;
out:
	free(token);
	return ret;
}

/* The Message-ID in a returned header block (message/rfc822 or
 * text/rfc822-headers), or NULL; the caller owns it. */
static char *
origin_returned_message_id(const char *block)
{
	const char *p = block;

	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len == 0 || (len == 1 && *p == '\r'))
			return NULL; /* the end of the header block */
		if (len > 11 && str_istarts(p, "message-id:")) {
			const char *lt = memchr(p, '<', len), *gt;

			/* Folded onto the next line. */
			if (lt == NULL && eol != NULL && (eol[1] == ' ' || eol[1] == '\t')) {
				const char *next = strchr(eol + 1, '\n');

				len = next != NULL ? (size_t)(next - p) : strlen(p);
				lt = memchr(p, '<', len);
			}
			gt = lt != NULL ? memchr(lt, '>', len - (size_t)(lt - p)) : NULL;
			if (lt != NULL && gt != NULL && gt - lt > 1 && gt - lt < 1000)
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
			return NULL;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return NULL;
}

int
origin_bounce_source(const struct config *config, struct store *store,
                     const struct mime_message *msg, bool *found_r, struct store_outbox *o_r,
                     const char **why_r, const char **error_r)
{
	char *token = origin_find_token(config, msg, 'b'), *mid = NULL;
	int64_t id = 0, person = 0;
	int ret = -1;

	*found_r = false;
	*why_r = "no signed return path and no returned Message-ID that mentord sent";
	if (token != NULL) {
		if (token_verify_bounce(config->hmac_secret, token, &id, &person) < 0) {
			*why_r = "the return path it was sent to does not verify (forged)";
			ret = 0;
			goto out;
		}
		if (store_outbox_get(store, id, found_r, o_r, error_r) < 0)
			goto out;
		if (*found_r && o_r->person_id != person) {
			store_outbox_clear(o_r);
			*found_r = false;
		}
		*why_r = *found_r ? "signed return path" : "the return path names no email sent";
		ret = 0;
		goto out;
	}
	mid = msg->returned_headers != NULL ? origin_returned_message_id(msg->returned_headers)
	                                    : NULL;
	if (mid != NULL && store_outbox_by_message_id(store, mid, found_r, o_r, error_r) < 0)
		goto out;
	if (*found_r)
		*why_r = "returned Message-ID";
	ret = 0;
out:
	free(token);
	free(mid);
	return ret;
}

void
origin_clear(struct origin *o)
{
	free(o->address);
	free(o->held);
	free(o->reply);
	store_outbox_clear(&o->thread);
	memset(o, 0, sizeof(*o));
}
