/*
 * classify: bounce, auto-reply or message, from the content alone.
 *
 * Decisions worth knowing (see also tests/corpus/MISSES.md):
 *   - A DSN whose recipients were all delivered, relayed or expanded is not
 *     a failure: it is automatic mail, so CLASS_AUTO_REPLY.
 *   - An ARF feedback report (report-type=feedback-report) is
 *     CLASS_AUTO_REPLY: a complaint is automatic mail, not a failed address.
 *   - Precedence: list with List-Id is CLASS_AUTO_REPLY even for a real
 *     person's post to a list (Discourse accepts those only because it can
 *     mirror lists; mentord must never answer a list).
 *   - A delay notice (only "Action: delayed" recipients, or a text warning
 *     that the message is still being tried) is CLASS_AUTO_REPLY: nothing
 *     has failed yet.
 *   - A challenge/response or whitelisting notice is CLASS_AUTO_REPLY
 *     however it is dressed (a DSN, a bounce subject, a daemon sender): the
 *     address works, a program wants a click.
 *   - The original sender is never a failed recipient: the bounce's own
 *     To/From/Return-Path and the returned message's From/Sender/Reply-To/
 *     Return-Path, "+detail" ignored, and addresses an MTA introduces as a
 *     sender ("MAIL FROM:<...>").
 *
 * All scans are linear: lines are walked once and searched for short
 * constant phrases.
 */
#include "classify.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Bounce texts put the failed addresses near the top; the returned message
 * follows.  Scanning a bounded prefix keeps huge bounces cheap. */
#define MAX_SCAN_BYTES (256u * 1024)
#define MAX_RECIPIENTS 100
/* The notice of a bounce (its own words before the copy of the original)
 * is short; challenge and delay wordings are looked for only there. */
#define MAX_NOTICE_BYTES (16u * 1024)

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool
contains_any(const char *s, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (mem_icontains(s, len, list[i]))
			return true;
	}
	return false;
}

static bool
str_contains_any(const char *s, const char *const *list, size_t n)
{
	if (s == NULL)
		return false;
	return contains_any(s, strlen(s), list, n);
}

static bool
is_addr_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr(".-_+=%!#$&'*/?^`{|}~", c) != NULL);
}

/* The span [*b_r, *e_r) of the local part and domain around the '@' at
 * s[at]; false when it is not a plausible address. */
static bool
address_span(const char *s, size_t len, size_t at, size_t *b_r, size_t *e_r)
{
	size_t b = at, e = at + 1;

	while (b > 0 && is_addr_char(s[b - 1]))
		b--;
	while (e < len && is_addr_char(s[e]))
		e++;
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--; /* sentence punctuation, not the domain */
	while (b < at && (s[b] == '.' || s[b] == '\''))
		b++;
	if (b == at || e <= at + 1 || memchr(s + at + 1, '.', e - at - 1) == NULL)
		return false;
	*b_r = b;
	*e_r = e;
	return true;
}

/* The local part and domain around the '@' at s[at], lower-cased, or NULL
 * when it is not a plausible address. */
static char *
address_around(const char *s, size_t len, size_t at)
{
	size_t b, e;
	char *addr;

	if (!address_span(s, len, at, &b, &e))
		return NULL;
	addr = xstrndup(s + b, e - b);
	str_lower(addr);
	return addr;
}

static bool
is_daemon_local(const char *addr)
{
	static const char *const daemons[] = {"mailer-daemon@", "postmaster@",    "mail-daemon@",
	                                      "mailerdaemon@",  "mailer_daemon@", "mdaemon@"};

	if (addr == NULL)
		return false;
	for (size_t i = 0; i < N_ELEMENTS(daemons); i++) {
		if (str_istarts(addr, daemons[i]))
			return true;
	}
	return str_ieq(addr, "mailer-daemon") || str_ieq(addr, "postmaster");
}

static bool
is_daemon_sender(const struct mime_message *msg)
{
	static const char *const names[] = {"mail delivery",      "mailer-daemon",
	                                    "mailer daemon",      "postmaster",
	                                    "delivery subsystem", "mail administrator"};

	if (is_daemon_local(msg->from_addr) || is_daemon_local(msg->return_path))
		return true;
	return str_contains_any(msg->from_name, names, N_ELEMENTS(names));
}

/* What the recipient heuristics need: the bounce, and the addresses of the
 * original message's sender, which an MTA's report quotes ("MAIL
 * FROM:<...>", "The message was sent by ...") and which are never a failed
 * recipient. */
struct bctx {
	const struct mime_message *msg; /* borrowed */
	struct strvec senders;          /* lower case, without a "+detail" */
};

/* addr, lower case, without the "+detail" of its local part (so that a
 * VERP return address matches its base address); owned. */
static char *
strip_detail(const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *plus = at != NULL ? memchr(addr, '+', (size_t)(at - addr)) : NULL;
	char *r = plus != NULL ? xasprintf("%.*s%s", (int)(plus - addr), addr, at) : xstrdup(addr);

	str_lower(r);
	return r;
}

static void
senders_add(struct strvec *sv, const char *addr)
{
	char *a;

	if (addr == NULL || strchr(addr, '@') == NULL)
		return;
	a = strip_detail(addr);
	if (strvec_contains_ci(sv, a))
		free(a);
	else
		strvec_push_owned(sv, a);
}

/* Whether the header line s[0..len) is one of the names (with the colon),
 * any case. */
static bool
header_line_is(const char *s, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		if (len >= nl && mem_ieq(s, names[i], nl))
			return true;
	}
	return false;
}

/* Calls fn for every address on the header lines of block h called one of
 * the names (continuation lines included). */
static void
header_addresses(const char *h, const char *const *names, size_t n,
                 void (*fn)(void *, const char *, size_t, size_t), void *arg)
{
	size_t len = h != NULL ? strnlen(h, MAX_SCAN_BYTES) : 0, pos = 0;
	bool in = false;

	while (pos < len) {
		const char *nl = memchr(h + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - h) : len;
		const char *s = h + pos;
		size_t sl = end - pos;

		pos = nl != NULL ? end + 1 : len;
		if (sl == 0)
			break; /* the end of the header block */
		if (!is_blank(s[0]))
			in = header_line_is(s, sl, names, n);
		if (!in)
			continue;
		for (size_t i = 0; i < sl; i++) {
			if (s[i] == '@')
				fn(arg, s, sl, i);
		}
	}
}

static void
add_sender_at(void *arg, const char *s, size_t len, size_t at)
{
	char *a = address_around(s, len, at);

	if (a != NULL)
		senders_add(arg, a);
	free(a);
}

/* Fills cx: the bounce's own From, Return-Path and To (it goes back to the
 * original sender), and the From, Sender, Reply-To and Return-Path of the
 * returned message's headers. */
static void
bctx_init(struct bctx *cx, const struct mime_message *msg)
{
	static const char *const sender_fields[] = {
	    "from:", "sender:", "reply-to:", "return-path:"};

	memset(cx, 0, sizeof(*cx));
	cx->msg = msg;
	senders_add(&cx->senders, msg->from_addr);
	senders_add(&cx->senders, msg->return_path);
	for (size_t i = 0; i < msg->to.n; i++)
		senders_add(&cx->senders, msg->to.v[i]);
	header_addresses(msg->returned_headers, sender_fields, N_ELEMENTS(sender_fields),
	                 add_sender_at, &cx->senders);
}

static bool
recipient_excluded(const struct bctx *cx, const char *addr)
{
	char *a;
	bool excluded;

	if (is_daemon_local(addr))
		return true;
	a = strip_detail(addr);
	excluded = strvec_contains_ci(&cx->senders, a);
	free(a);
	return excluded;
}

static void
add_recipient(struct strvec *sv, const struct bctx *cx, char *addr)
{
	if (addr == NULL)
		return;
	if (sv->n >= MAX_RECIPIENTS || strvec_contains_ci(sv, addr) ||
	    recipient_excluded(cx, addr)) {
		free(addr);
		return;
	}
	strvec_push_owned(sv, addr);
}

/* Whether the address starting at s[b] is introduced as a sender: "MAIL
 * FROM:<", "from=<", "envelope-from", "sent by", "Sender".  Only the few
 * bytes before it are looked at. */
static bool
introduced_as_sender(const char *s, size_t b)
{
	size_t from = b > 16 ? b - 16 : 0;

	return mem_icontains(s + from, b - from, "from") ||
	       mem_icontains(s + from, b - from, "sender") ||
	       mem_icontains(s + from, b - from, "sent by");
}

/* The mail domain of the system that wrote the bounce: the domain of its
 * From, without a mail host's first label ("mx3.", "mail.", "smtp2."...)
 * when two labels remain.  Borrowed from msg, or a pointer into it; NULL. */
static const char *
provider_domain(const struct mime_message *msg, size_t *len_r)
{
	static const char *const hosts[] = {"mx",    "mail",    "smtp",   "mta",
	                                    "relay", "mailer",  "out",    "outbound",
	                                    "in",    "inbound", "mx-out", "smtp-out"};
	const char *at = msg->from_addr != NULL ? strrchr(msg->from_addr, '@') : NULL;
	const char *d, *dot;
	size_t labels = 1;

	if (at == NULL || at[1] == '\0')
		return NULL;
	d = at + 1;
	for (const char *p = d; *p != '\0'; p++)
		labels += *p == '.';
	dot = strchr(d, '.');
	if (labels >= 3 && dot != NULL) {
		size_t l = (size_t)(dot - d);
		while (l > 0 && ((d[l - 1] >= '0' && d[l - 1] <= '9') || d[l - 1] == '-'))
			l--;
		for (size_t i = 0; i < N_ELEMENTS(hosts); i++) {
			if (strlen(hosts[i]) == l && mem_ieq(d, hosts[i], l)) {
				d = dot + 1;
				break;
			}
		}
	}
	*len_r = strlen(d);
	return d;
}

struct local_match {
	const char *local;
	char *found; /* owned */
};

static void
match_local_at(void *arg, const char *s, size_t len, size_t at)
{
	struct local_match *m = arg;
	size_t b, e, ll = strlen(m->local);

	if (m->found == NULL && address_span(s, len, at, &b, &e) && at - b == ll &&
	    mem_ieq(s + b, m->local, ll)) {
		m->found = xstrndup(s + b, e - b);
		str_lower(m->found);
	}
}

/* A failed recipient named by its bare local part ("Final-Recipient:
 * rfc822; kijitora", "X-Failed-Recipients: kijitora"): the returned
 * message's To/Cc address with that local part, else the local part at the
 * provider's domain.  Owned; NULL when it is no local part or no domain is
 * known. */
static char *
qualify_local(const struct bctx *cx, const char *local)
{
	static const char *const to_fields[] = {
	    "to:", "cc:", "delivered-to:", "x-original-to:", "envelope-to:"};
	struct local_match m = {local, NULL};
	const char *domain;
	size_t dl = 0, n = strlen(local);

	if (n == 0 || n > 64)
		return NULL;
	/* a user name, not a path or a program ("/var/mail/x", "|prog") */
	for (size_t i = 0; i < n; i++) {
		char c = local[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr("._+=-", c) != NULL)))
			return NULL;
	}
	header_addresses(cx->msg->returned_headers, to_fields, N_ELEMENTS(to_fields),
	                 match_local_at, &m);
	if (m.found != NULL)
		return m.found;
	domain = provider_domain(cx->msg, &dl);
	if (domain == NULL || is_daemon_local(local))
		return NULL;
	m.found = xasprintf("%s@%.*s", local, (int)dl, domain);
	str_lower(m.found);
	return m.found;
}

/* An "x.y.z" DSN status code starting at s[i] (2, 4 or 5; then 1-3 and 1-3
 * digits), not part of a longer number or dotted quad. */
static size_t
status_at(const char *s, size_t len, size_t i)
{
	size_t j = i, d;

	if (i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.'))
		return 0;
	if (j >= len || (s[j] != '2' && s[j] != '4' && s[j] != '5'))
		return 0;
	j++;
	for (int part = 0; part < 2; part++) {
		if (j >= len || s[j] != '.')
			return 0;
		j++;
		d = 0;
		while (j < len && s[j] >= '0' && s[j] <= '9' && d < 4) {
			j++;
			d++;
		}
		if (d == 0 || d > 3)
			return 0;
	}
	if (j < len && ((s[j] >= '0' && s[j] <= '9') ||
	                (s[j] == '.' && j + 1 < len && s[j + 1] >= '0' && s[j + 1] <= '9')))
		return 0;
	return j - i;
}

static bool
has_status(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '4' || s[i] == '5') && status_at(s, len, i) > 0)
			return true;
	}
	return false;
}

/* The first failure status (4.x.x or 5.x.x) in s, owned, or NULL. */
static char *
find_status(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t n;
		if (s[i] != '4' && s[i] != '5')
			continue;
		n = status_at(s, len, i);
		if (n > 0)
			return xstrndup(s + i, n);
	}
	return NULL;
}

/* The first SMTP failure reply code ("550 ", "452-") in s as "5.0.0" or
 * "4.0.0", owned, or NULL. */
static char *
find_smtp_code(const char *s, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if ((s[i] != '4' && s[i] != '5') || s[i + 1] < '0' || s[i + 1] > '5' ||
		    s[i + 2] < '0' || s[i + 2] > '9')
			continue;
		if (i > 0 && !is_blank(s[i - 1]) && s[i - 1] != ':' && s[i - 1] != '\n' &&
		    s[i - 1] != '(' && s[i - 1] != '#')
			continue;
		if (s[i + 3] != ' ' && s[i + 3] != '-')
			continue;
		return xstrdup(s[i] == '5' ? "5.0.0" : "4.0.0");
	}
	return NULL;
}

/* Phrases that only a failed delivery produces. */
static const char *const hard_phrases[] = {
    "user unknown",
    "unknown user",
    "does not exist",
    "no such user",
    "no such mailbox",
    "mailbox unavailable",
    "recipient unknown",
    "unknown recipient",
    "invalid recipient",
    "address rejected",
    "mailbox not found",
    "no mailbox here",
    "not listed in",
    "user not found",
    "address not found",
    "no longer available",
    "account is disabled",
    "account has been disabled",
    "invalid mailbox",
    "unrouteable address",
    "host not found",
    "domain not found",
    "unknown address",
    "isn't a valid",
    "is not a valid",
    "doesn't have a",
    "permanent error",
    "permanent failure",
    "permanently rejected",
    "undeliverable",
    "no such recipient",
    "unknown local part",
    "relay access denied",
    "user doesn't exist",
    "mailbox is disabled",
    "recipient rejected",
    "not our customer",
    "delivery has failed",
    "could not be delivered",
    "was not delivered",
    "not delivered to",
    "rejected your message",
    "not a valid user",
    "not a valid recipient",
    "not a valid mailbox",
    "not a valid address",
    "invalid user",
    "invalid address",
    "no valid recipient",
    /* German, French, Spanish, Dutch, Russian */
    "kein gültiger",
    "existiert nicht",
    "unbekannter empfänger",
    "unbekannter benutzer",
    "nicht zugestellt werden",
    "n'existe pas",
    "utilisateur inconnu",
    "adresse invalide",
    "n'a pas pu être remis",
    "no existe",
    "usuario desconocido",
    "no se pudo entregar",
    "bestaat niet",
    "onbekende gebruiker",
    "kon niet worden afgeleverd",
    "не существует",
    "несуществующий",
};

/* A delay notice says the message is still being tried... */
static const char *const delay_phrases[] = {
    "warning message only",
    "warning only",
    "do not need to resend",
    "no action is required",
    "will keep trying",
    "will be retried",
    "still being retried",
    "will continue to try",
    "delivery attempts will continue",
    "has not yet been delivered",
    "have not yet been delivered",
    "delivery has been delayed",
    "has been delayed",
    "still undelivered",
    "delivery is delayed",
    "delivery delayed",
    "message delayed",
    "not yet been delivered",
};

/* ... and a final failure says it is not.  A notice with both is a
 * bounce. */
static const char *const final_phrases[] = {
    "permanent",    "fatal",        "given up",       "giving up", "gave up",  "user unknown",
    "unknown user", "no such user", "does not exist", "not found", "rejected", "failed permanently",
    "have failed",  "has failed",   "not a valid",
};

/* Challenge/response and whitelisting systems hold a message until its
 * sender proves to be a person or gets on a list: what they ask... */
static const char *const challenge_asks[] = {
    "confirm that you",
    "confirm you are",
    "confirm your message",
    "confirm your email",
    "confirm your address",
    "confirm your identity",
    "please confirm",
    "verify that you",
    "verify you are",
    "verify your email",
    "verify your address",
    "verify your message",
    "verify yourself",
    "are a human",
    "are human",
    "not a robot",
    "real person",
    "whitelist",
    "white list",
    "white-list",
    "allowlist",
    "approved sender",
    "approved list",
    "guest list",
    "sender verification",
    "challenge-response",
    "challenge/response",
    "spam arrest",
    "boxbe",
    "mailblocks",
    "choicemail",
    "bestätigen sie",
    "ein mensch sind",
    "verifizieren sie",
    "weiße liste",
    "confirmer que vous",
    "liste blanche",
    "vérifier votre",
    "confirmar que",
    "lista blanca",
    "bevestig dat",
    "witte lijst",
};

/* ... and that the message waits meanwhile. */
static const char *const challenge_holds[] = {
    "held",
    "pending",
    "awaiting",
    "waiting",
    "quarantine",
    "until you",
    "once you",
    "before it",
    "will be delivered",
    "have your message delivered",
    "get your message delivered",
    "to deliver your message",
    "to complete delivery",
    "release",
    "zurückgehalten",
    "zugestellt, sobald",
    "sobald sie",
    "en attente",
    "retenu",
    "retenido",
    "en espera",
    "vastgehouden",
    "in afwachting",
};

static const char *const soft_phrases[] = {
    "mailbox full",
    "quota exceeded",
    "over quota",
    "mailbox is full",
    "temporarily",
    "try again",
    "delayed",
    "will retry",
    "still trying",
    "has not yet been",
    "not yet been delivered",
    "exceeded storage",
    "insufficient system storage",
};

/* Where the copy of the original message starts in a bounce's text. */
static const char *const copy_markers[] = {
    "below this line is a copy", "this is a copy of the message", "original message follows",
    "original message headers",  "returned message follows",      "copy of the original message",
    "--- original message",      "----- original message",        "message headers follow",
    "unsent message follows",    "message text follows",          "original message:",
};

/* Cases, line by line over the bounce's own text, up to the copy of the
 * original message:
 *   - a line that is only an address, maybe in <>, maybe ending in ":"
 *     (qmail, Postfix, Exim, Domino, Gmail);
 *   - an address on a line with a failure phrase or SMTP reply code;
 *   - "Final-Recipient:"/"Original-Recipient:" lines in a text DSN;
 * excluding the original sender (struct bctx), an address introduced as a
 * sender ("MAIL FROM:<...>"), and daemons. */
static void
collect_recipients(const struct bctx *cx, const char *text, size_t len, struct strvec *out)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		const char *s = text + pos;
		size_t sl = end - pos, b = 0, e = sl;
		const char *at;

		pos = nl != NULL ? end + 1 : len;
		if (contains_any(s, sl, copy_markers, N_ELEMENTS(copy_markers)))
			break;
		at = memchr(s, '@', sl);
		if (at == NULL || sl > 1000)
			continue;
		while (b < e && (is_blank(s[b]) || s[b] == '*' || s[b] == '-'))
			b++;
		while (e > b && (is_blank(s[e - 1]) || s[e - 1] == ':' || s[e - 1] == '.'))
			e--;
		if (b < e && s[b] == '<')
			b++;
		{
			/* The line opens with an address: "<a@b>:", "a@b on
			 * <date>", "a@b [User unknown]", "a@b: error". */
			size_t i = b;
			bool leading_addr;
			while (i < e && is_addr_char(s[i]))
				i++;
			leading_addr = i > b && i < e && s[i] == '@';
			if (leading_addr || mem_icontains(s, sl, "recipient:") ||
			    mem_icontains(s, sl, "rcpt to") ||
			    contains_any(s, sl, hard_phrases, N_ELEMENTS(hard_phrases)) ||
			    has_status(s, sl)) {
				/* One address per line: the first plausible one. */
				for (size_t j = 0; j < sl; j++) {
					size_t ab, ae;
					char *addr;
					if (s[j] != '@' || !address_span(s, sl, j, &ab, &ae) ||
					    introduced_as_sender(s, ab))
						continue;
					addr = address_around(s, sl, j);
					if (addr != NULL && !recipient_excluded(cx, addr)) {
						add_recipient(out, cx, addr);
						break;
					}
					free(addr);
				}
			}
		}
	}
}

/* When the bounce text names nobody, the returned message's To: is the
 * best guess: it is where the message was going.  Looks in the
 * text/rfc822-headers part, else in the copy after a copy marker. */
static void
fallback_recipients(const struct bctx *cx, const char *text, size_t len, struct strvec *out)
{
	const char *src = cx->msg->returned_headers;
	size_t slen = src != NULL ? strlen(src) : 0, pos = 0;
	bool in_copy = src != NULL;

	if (src == NULL) {
		src = text;
		slen = len;
	}
	while (pos < slen && out->n == 0) {
		const char *nl = memchr(src + pos, '\n', slen - pos);
		size_t end = nl != NULL ? (size_t)(nl - src) : slen;
		const char *s = src + pos;
		size_t sl = end - pos;

		pos = nl != NULL ? end + 1 : slen;
		if (!in_copy) {
			in_copy = contains_any(s, sl, copy_markers, N_ELEMENTS(copy_markers));
			continue;
		}
		if (sl < 3 || ascii_lower(s[0]) != 't' || ascii_lower(s[1]) != 'o' || s[2] != ':')
			continue;
		for (size_t i = 0; i < sl; i++) {
			if (s[i] == '@')
				add_recipient(out, cx, address_around(s, sl, i));
		}
	}
}

struct dsn_recipient {
	char *addr;   /* owned */
	char *action; /* owned, lower case */
	char *status; /* owned */
	char *diag;   /* owned */
};

static void
dsn_recipient_clear(struct dsn_recipient *r)
{
	free(r->addr);
	free(r->action);
	free(r->status);
	free(r->diag);
	memset(r, 0, sizeof(*r));
}

/* "rfc822; <User@Host>" -> "user@host", owned; NULL when empty.  A bare
 * local part ("rfc822; kijitora") is returned as it is, for
 * qualify_local. */
static char *
dsn_address(const char *v, size_t len)
{
	const char *semi = memchr(v, ';', len);
	size_t b = 0, e;
	char *addr;

	if (semi != NULL)
		b = (size_t)(semi - v) + 1;
	e = len;
	while (b < e && (is_blank(v[b]) || v[b] == '<' || v[b] == '"'))
		b++;
	while (e > b && (is_blank(v[e - 1]) || v[e - 1] == '>' || v[e - 1] == '"'))
		e--;
	if (e == b || e - b > 320 || memchr(v + b, ' ', e - b) != NULL)
		return NULL;
	addr = xstrndup(v + b, e - b);
	str_lower(addr);
	return addr;
}

static bool
has_at(const char *addr)
{
	return addr != NULL && strchr(addr, '@') != NULL;
}

struct dsn_result {
	size_t failed, delayed, delivered; /* recipients by action */
	struct strvec recipients;          /* maybe bare local parts */
	char *status;                      /* owned: the most severe failure status */
	bool guessed;                      /* status comes from an Action alone */
	char *diag;                        /* owned */
};

/* Cases: a recipient block with only a Diagnostic-Code names nobody;
 * Action "failed" or "expired" (SendGrid), or no Action and a 5.x.x status,
 * is a failure; "delayed", or no Action and 4.x.x, a delay; any other
 * Action a success.  Its status is the Status field, else an x.y.z in its
 * Diagnostic-Code; only without either is it guessed from the Action
 * (5.0.0, 4.0.0), and a status read from any recipient replaces a guess. */
static void
dsn_finish_recipient(struct dsn_result *res, struct dsn_recipient *r)
{
	bool failed, delayed;

	if (r->addr == NULL && r->action == NULL && r->status == NULL) {
		/* A block with only a Diagnostic-Code names nobody; its text
		 * still has to go (found by fuzz_mime). */
		dsn_recipient_clear(r);
		return;
	}
	if (r->status == NULL && r->diag != NULL)
		r->status = find_status(r->diag, strlen(r->diag));
	/* "expired" is not in RFC 3464, but SendGrid and others write it
	 * for a message they gave up on. */
	failed = r->action != NULL
	             ? strcmp(r->action, "failed") == 0 || strcmp(r->action, "expired") == 0
	             : r->status != NULL && r->status[0] == '5';
	delayed = r->action != NULL ? strcmp(r->action, "delayed") == 0
	                            : r->status != NULL && r->status[0] == '4';
	if (failed || delayed) {
		if (failed)
			res->failed++;
		else
			res->delayed++;
		if (r->addr != NULL && res->recipients.n < MAX_RECIPIENTS &&
		    !strvec_contains_ci(&res->recipients, r->addr))
			strvec_push(&res->recipients, r->addr);
		/* A status read outranks a guess, a permanent one a temporary
		 * one. */
		if (r->status != NULL && (res->status == NULL || res->guessed ||
		                          (res->status[0] != '5' && r->status[0] == '5'))) {
			free(res->status);
			res->status = xstrdup(r->status);
			res->guessed = false;
			free(res->diag);
			res->diag = r->diag != NULL ? xstrdup(r->diag) : NULL;
		} else if (r->status == NULL && (res->status == NULL || (res->guessed && failed))) {
			free(res->status);
			res->status = xstrdup(failed ? "5.0.0" : "4.0.0");
			res->guessed = true;
		}
		if (res->diag == NULL && r->diag != NULL)
			res->diag = xstrdup(r->diag);
	} else if (r->action != NULL) {
		res->delivered++;
	}
	dsn_recipient_clear(r);
}

/* RFC 3464 message/delivery-status.  Cases: per-message block then
 * per-recipient blocks separated by blank lines; folded fields; missing
 * Action (judged by Status); Final-Recipient missing (Original-Recipient
 * used); "X-Actual-Recipient" ignored. */
static void
dsn_parse(const char *text, struct dsn_result *res)
{
	struct dsn_recipient cur = {0};
	size_t len = strlen(text), pos = 0;
	bool in_diag = false;

	while (pos <= len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		const char *s = text + pos;
		size_t sl = end - pos;
		const char *colon;

		pos = end + 1;
		while (sl > 0 && s[sl - 1] == '\r')
			sl--;
		if (sl == 0 || (sl > 0 && strspn(s, " \t\r") >= sl)) {
			dsn_finish_recipient(res, &cur);
			in_diag = false;
			if (nl == NULL)
				break;
			continue;
		}
		if (is_blank(s[0])) {
			/* Folded continuation of the previous field. */
			if (in_diag && cur.diag != NULL && strlen(cur.diag) < 1000) {
				char *joined = xasprintf("%s %.*s", cur.diag, (int)sl, s);
				free(cur.diag);
				cur.diag = joined;
			}
			continue;
		}
		in_diag = false;
		colon = memchr(s, ':', sl);
		if (colon == NULL)
			continue;
		{
			size_t nlen = (size_t)(colon - s);
			const char *v = colon + 1;
			size_t vl = sl - nlen - 1;
			while (vl > 0 && is_blank(*v)) {
				v++;
				vl--;
			}
			if (nlen == 15 && mem_icontains(s, nlen, "final-recipient")) {
				char *a;
				if (cur.addr != NULL && cur.action != NULL)
					dsn_finish_recipient(res, &cur);
				/* a bare local part does not replace an
				 * Original-Recipient address */
				a = dsn_address(v, vl);
				if (has_at(a) || !has_at(cur.addr)) {
					free(cur.addr);
					cur.addr = a;
				} else {
					free(a);
				}
			} else if (nlen == 18 && mem_icontains(s, nlen, "original-recipient")) {
				if (!has_at(cur.addr)) {
					char *a = dsn_address(v, vl);
					if (cur.addr == NULL || has_at(a)) {
						free(cur.addr);
						cur.addr = a;
					} else {
						free(a);
					}
				}
			} else if (nlen == 6 && mem_icontains(s, nlen, "action")) {
				size_t al = 0;
				while (al < vl && !is_blank(v[al]) && v[al] != '(' && v[al] != ';')
					al++;
				free(cur.action);
				cur.action = xstrndup(v, al);
				str_lower(cur.action);
			} else if (nlen == 6 && mem_icontains(s, nlen, "status")) {
				size_t n = status_at(v, vl, 0);
				free(cur.status);
				cur.status = n > 0 ? xstrndup(v, n) : NULL;
			} else if (nlen == 15 && mem_icontains(s, nlen, "diagnostic-code")) {
				free(cur.diag);
				cur.diag = xstrndup(v, vl);
				in_diag = true;
			}
		}
		if (nl == NULL)
			break;
	}
	dsn_finish_recipient(res, &cur);
}

static const char *const bounce_subjects[] = {
    "undelivered mail",
    "undeliverable",
    "undelivered message",
    "delivery status notification",
    "mail delivery failed",
    "mail delivery failure",
    "failure notice",
    "returned mail",
    "delivery failure",
    "delivery has failed",
    "delivery failed",
    "nondeliverable",
    "non-deliverable",
    "non delivery",
    "non-delivery",
    "could not be delivered",
    "message not delivered",
    "not delivered",
    "delivery notification",
    "mail system error",
    "returned to sender",
    "returning to sender",
    "delivery problem",
    "permanent error",
    "mail failure",
    "nicht zustellbar",
    "unzustellbar",
    "non remis",
    "échec de la remise",
    "delivery report",
    "warning: could not send",
    "delivery delayed",
    "message delayed",
    "mail could not be delivered",
    "undeliverable mail",
    "rejected:",
    "error sending message",
    "returned message",
    "bounce",
};

/* Wordings of particular MTAs' bounce texts. */
static const char *const bounce_bodies[] = {
    "this is the qmail-send program",
    "created automatically by mail delivery software",
    "i'm sorry to have to inform you",
    "delivery has failed to these recipients",
    "delivery to the following recipient",
    "address not found",
    "your message wasn't delivered",
    "your message couldn't be delivered",
    "your message could not be delivered",
    "the following addresses had permanent fatal errors",
    "could not be reached",
    "was not delivered to",
    "unable to deliver",
    "message could not be delivered",
    "could not deliver",
    "the following message to",
    "delivery to the following recipients failed",
    "this is an automatically generated delivery status notification",
    "message delivery to the following",
    "failed to deliver",
    "undeliverable message",
    "did not reach the following recipient",
    "this message was undeliverable",
    "delivery failure",
    "mail delivery failed",
    "this is the mail system at host",
    "permanent fatal errors",
    "delivery status notification",
    "the message you sent",
    "returned to you",
    "failed addresses follow",
};

static bool
is_vacation_subject(const char *subject)
{
	static const char *const vacation[] = {
	    "out of office",
	    "out of the office",
	    "automatic reply",
	    "auto-reply",
	    "autoreply",
	    "auto reply",
	    "auto response",
	    "autoresponse",
	    "automatische antwort",
	    "abwesenheitsnotiz",
	    "abwesenheit",
	    "réponse automatique",
	    "reponse automatique",
	    "absence",
	    "respuesta automática",
	    "respuesta automatica",
	    "fuera de la oficina",
	    "risposta automatica",
	    "fuori ufficio",
	    "resposta automática",
	    "automatisch antwoord",
	    "afwezig",
	    "autosvar",
	    "frånvaro",
	    "automatyczna odpowiedź",
	    "nieobecność",
	    "автоответ",
	    "vacation",
	    "on leave",
	    "away from the office",
	    "[auto generated]",
	    "auto generated",
	    "自動応答",
	    "自动回复",
	};

	if (subject == NULL)
		return false;
	if (str_istarts(subject, "auto:"))
		return true;
	return str_contains_any(subject, vacation, N_ELEMENTS(vacation));
}

/* The first word of a header value, lower case, into buf. */
static void
header_word(const char *v, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (v == NULL)
		return;
	while (is_blank(*v))
		v++;
	while (*v != '\0' && *v != ';' && *v != ' ' && *v != '\t' && n + 1 < size) {
		buf[n++] = ascii_lower(*v);
		v++;
	}
	buf[n] = '\0';
}

/* Indexes into is_auto_reply's header values. */
enum { HV_AUTO_SUBMITTED, HV_PRECEDENCE, HV_POST_MESSAGE_CLASS, HV_FC_MACHINE_GENERATED, HV_N };

/* Cases:
 *   - X-Mentord (our own mail), Auto-Submitted other than "no",
 *     X-Autoreply/X-Autorespond and relatives, Precedence bulk/junk/list,
 *     List-Id/List-Unsubscribe, a null or daemon sender, a vacation
 *     subject: automatic;
 *   - X-Auto-Response-Suppress alone: not automatic (Exchange adds it to
 *     ordinary mail).
 * The header fields are walked once (instead of one mime_header_get per
 * name) because this runs for every ordinary message; a value is the first
 * field of that name, as mime_header_get would return.  daemon: the
 * sender is a mail system (a daemon or the null sender). */
static bool
is_auto_reply(const struct mime_message *msg, bool daemon)
{
	static const struct str_lit auto_headers[] = {
	    STR_LIT("X-Mentord"),        STR_LIT("X-Autoreply"),      STR_LIT("X-Autorespond"),
	    STR_LIT("X-Autoresponder"),  STR_LIT("X-AutoReply-From"), STR_LIT("X-Mail-Autoreply"),
	    STR_LIT("X-Autogenerated"),  STR_LIT("X-Auto-Reply"),     STR_LIT("List-Id"),
	    STR_LIT("List-Unsubscribe"), STR_LIT("X-Loop"),
	};
	static const struct str_lit valued[HV_N] = {
	    [HV_AUTO_SUBMITTED] = STR_LIT("Auto-Submitted"),
	    [HV_PRECEDENCE] = STR_LIT("Precedence"),
	    [HV_POST_MESSAGE_CLASS] = STR_LIT("X-POST-MessageClass"),
	    [HV_FC_MACHINE_GENERATED] = STR_LIT("X-FC-MachineGenerated"),
	};
	const char *values[HV_N] = {NULL};
	const char *v;
	char word[32];

	if (daemon)
		return true;
	for (size_t i = 0; i < msg->nheaders; i++) {
		const char *name = msg->headers[i].name;
		size_t len = strlen(name);

		for (size_t k = 0; k < N_ELEMENTS(auto_headers); k++) {
			if (len == auto_headers[k].len && str_ieq(name, auto_headers[k].s))
				return true;
		}
		for (size_t k = 0; k < HV_N; k++) {
			if (values[k] == NULL && len == valued[k].len && str_ieq(name, valued[k].s))
				values[k] = msg->headers[i].value;
		}
	}
	v = values[HV_AUTO_SUBMITTED];
	header_word(v, word, sizeof(word));
	if (v != NULL && strcmp(word, "no") != 0)
		return true;
	header_word(values[HV_PRECEDENCE], word, sizeof(word));
	if (strcmp(word, "bulk") == 0 || strcmp(word, "junk") == 0 || strcmp(word, "list") == 0 ||
	    strcmp(word, "auto_reply") == 0)
		return true;
	v = values[HV_POST_MESSAGE_CLASS];
	if (v != NULL && mem_icontains(v, strlen(v), "autoresponder"))
		return true;
	v = values[HV_FC_MACHINE_GENERATED];
	if (v != NULL && str_istarts(v, "true"))
		return true;
	return is_vacation_subject(msg->subject);
}

/* Which phrase lists occur in a bounce's text, each searched at most once
 * and only when asked: most mail never needs the body searched at all. */
struct text_phrases {
	const char *text;
	size_t len;
	int hard, soft; /* -1: not searched yet */
};

static bool
text_has_hard(struct text_phrases *tp)
{
	if (tp->hard < 0)
		tp->hard = contains_any(tp->text, tp->len, hard_phrases, N_ELEMENTS(hard_phrases));
	return tp->hard > 0;
}

static bool
text_has_soft(struct text_phrases *tp)
{
	if (tp->soft < 0)
		tp->soft = contains_any(tp->text, tp->len, soft_phrases, N_ELEMENTS(soft_phrases));
	return tp->soft > 0;
}

/* The length of the bounce's own words in text: up to the copy of the
 * original message, at most MAX_NOTICE_BYTES. */
static size_t
notice_len(const char *text)
{
	size_t len = strnlen(text, MAX_NOTICE_BYTES), pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;

		if (contains_any(text + pos, end - pos, copy_markers, N_ELEMENTS(copy_markers)))
			return pos;
		pos = nl != NULL ? end + 1 : len;
	}
	return len;
}

/* A challenge/response or whitelisting notice, however it is dressed (a
 * DSN, a bounce subject, a daemon sender): it asks the sender to prove
 * something and says the message waits meanwhile.  Only the notice's own
 * words count, not a copy of the original. */
static bool
is_challenge(const struct mime_message *msg)
{
	const char *text = msg->text != NULL ? msg->text : "";
	size_t len = notice_len(text);

	if (!contains_any(text, len, challenge_asks, N_ELEMENTS(challenge_asks)) &&
	    !str_contains_any(msg->subject, challenge_asks, N_ELEMENTS(challenge_asks)))
		return false;
	return contains_any(text, len, challenge_holds, N_ELEMENTS(challenge_holds)) ||
	       str_contains_any(msg->subject, challenge_holds, N_ELEMENTS(challenge_holds));
}

/* A delay notice written as text (Sendmail's "Warning: could not send
 * message for past 4 hours", Exim's "has not yet been delivered"): it says
 * the message is still being tried and names no final failure. */
static bool
is_delay_notice(const struct mime_message *msg)
{
	static const char *const delay_subjects[] = {"delayed", "delay",
	                                             "could not send message for past",
	                                             "still being retried", "not yet delivered"};
	const char *text = msg->text != NULL ? msg->text : "";
	size_t len = notice_len(text);

	if (!contains_any(text, len, delay_phrases, N_ELEMENTS(delay_phrases)) &&
	    !str_contains_any(msg->subject, delay_subjects, N_ELEMENTS(delay_subjects)))
		return false;
	return !contains_any(text, len, final_phrases, N_ELEMENTS(final_phrases));
}

/* Whether Auto-Submitted says auto-replied (RFC 3834: a vacation notice
 * and its kind). */
static bool
is_auto_replied(const struct mime_message *msg)
{
	char word[32];

	header_word(mime_header_get(msg, "Auto-Submitted"), word, sizeof(word));
	return strcmp(word, "auto-replied") == 0;
}

/* X-Failed-Recipients (Exim): addresses, or bare local parts to qualify. */
static void
failed_header_recipients(const struct bctx *cx, const char *v, struct strvec *out)
{
	size_t len = strlen(v), i = 0;

	while (i < len) {
		size_t b, e;
		char *tok;

		while (i < len && (is_blank(v[i]) || v[i] == ',' || v[i] == '\n'))
			i++;
		b = i;
		while (i < len && !is_blank(v[i]) && v[i] != ',' && v[i] != '\n')
			i++;
		e = i;
		if (e == b)
			continue;
		tok = xstrndup(v + b, e - b);
		if (strchr(tok, '@') != NULL) {
			const char *at = strchr(tok, '@');
			add_recipient(out, cx, address_around(tok, e - b, (size_t)(at - tok)));
		} else {
			add_recipient(out, cx, qualify_local(cx, tok));
		}
		free(tok);
	}
}

/* Cases for mail that is not an RFC 3464 report (or a report whose
 * delivery-status part is missing or empty):
 *   - X-Failed-Recipients (Exim) names the addresses: bounce;
 *   - a bounce subject or a daemon sender, with an MTA's bounce wording or
 *     a failure phrase in the text: bounce; but an RFC 3834 auto-reply or a
 *     vacation subject without a bounce subject needs a hard failure phrase
 *     ("not a valid user"), a soft one ("temporarily away") is a vacation;
 *   - a bounce subject from a daemon sender: bounce;
 *   - a multipart/report claiming delivery-status: bounce;
 *   - in all these, a delay notice (still trying, no final failure) is not
 *     a bounce.
 * Then recipients come from X-Failed-Recipients and the text, the status
 * from an x.y.z in the text, else an SMTP code, else 5.0.0 for a hard
 * failure phrase (4.0.0 for a soft one).
 *
 * The cheap tests (header, sender, subject) come first: ordinary mail has
 * none of them, and then the text, which is by far the largest input, is
 * not searched for any of the ~90 phrases.  daemon: as for is_auto_reply;
 * subj: the subject is a bounce subject. */
static bool
detect_plain_bounce(const struct bctx *cx, bool claimed, bool daemon, bool subj,
                    struct bounce_info *b)
{
	const struct mime_message *msg = cx->msg;
	const char *text = msg->text != NULL ? msg->text : "";
	const char *failed = mime_header_get(msg, "X-Failed-Recipients");
	struct text_phrases tp = {text, 0, -1, -1};
	size_t len;

	if (!claimed && failed == NULL) {
		if (!subj && !daemon)
			return false;
		tp.len = strnlen(text, MAX_SCAN_BYTES);
		if (!subj && (is_auto_replied(msg) || is_vacation_subject(msg->subject)) &&
		    !text_has_hard(&tp))
			return false;
		if (!(subj && daemon) &&
		    !contains_any(text, tp.len, bounce_bodies, N_ELEMENTS(bounce_bodies)) &&
		    !text_has_hard(&tp) && !text_has_soft(&tp))
			return false;
	} else {
		tp.len = strnlen(text, MAX_SCAN_BYTES);
	}
	if (failed == NULL && is_delay_notice(msg))
		return false;
	len = tp.len;

	if (failed != NULL)
		failed_header_recipients(cx, failed, &b->recipients);
	collect_recipients(cx, text, len, &b->recipients);
	if (msg->delivery_status != NULL)
		collect_recipients(cx, msg->delivery_status, strlen(msg->delivery_status),
		                   &b->recipients);
	if (b->recipients.n == 0)
		fallback_recipients(cx, text, len, &b->recipients);
	b->status = find_status(text, len);
	if (b->status == NULL && msg->delivery_status != NULL)
		b->status = find_status(msg->delivery_status, strlen(msg->delivery_status));
	if (b->status == NULL)
		b->status = find_smtp_code(text, len);
	if (b->status == NULL && (text_has_hard(&tp) || !text_has_soft(&tp)))
		b->status = xstrdup("5.0.0");
	if (b->status == NULL)
		b->status = xstrdup("4.0.0");
	return true;
}

static void
dsn_result_free(struct dsn_result *res)
{
	strvec_free(&res->recipients);
	free(res->status);
	free(res->diag);
	memset(res, 0, sizeof(*res));
}

/* The failed recipients of a DSN, bare local parts qualified (or dropped
 * when they cannot be). */
static void
dsn_recipients(const struct bctx *cx, const struct strvec *in, struct strvec *out)
{
	for (size_t i = 0; i < in->n && out->n < MAX_RECIPIENTS; i++) {
		char *a = has_at(in->v[i]) ? xstrdup(in->v[i]) : qualify_local(cx, in->v[i]);

		if (a == NULL || strvec_contains_ci(out, a))
			free(a);
		else
			strvec_push_owned(out, a);
	}
}

/* Cases, in order:
 *   1. an ARF feedback report: automatic mail;
 *   2. a challenge/response or whitelisting notice, however dressed as a
 *      bounce: automatic mail, not a failed address;
 *   3. a message/delivery-status part with a failed recipient: a bounce,
 *      its status read from the part (a guess from the Action alone gives
 *      way to an x.y.z in the notice's text); with only delayed recipients,
 *      or only delivered ones: automatic mail;
 *   4. a report or a daemon's mail whose DSN fields are in its text: only
 *      delivered or only delayed recipients make it automatic mail;
 *   5. a bounce without a DSN part (detect_plain_bounce);
 *   6. automatic mail by its headers, sender or subject (is_auto_reply);
 *   7. anything else: a message. */
enum message_class
classify_message(const struct mime_message *msg, struct bounce_info *bounce_r)
{
	struct bounce_info b = {0};
	struct bctx cx;
	enum message_class cls = CLASS_MESSAGE;
	bool report = msg->report_type != NULL;
	bool dsn_claimed = report && str_ieq(msg->report_type, "delivery-status");
	/* A mail system (a daemon or the null sender), computed once: several
	 * of the tests below ask. */
	bool daemon =
	    is_daemon_sender(msg) || (msg->return_path != NULL && msg->return_path[0] == '\0');
	bool subj = str_contains_any(msg->subject, bounce_subjects, N_ELEMENTS(bounce_subjects));

	bctx_init(&cx, msg);
	if (report && str_ieq(msg->report_type, "feedback-report")) {
		cls = CLASS_AUTO_REPLY;
		goto out;
	}
	if ((daemon || report || subj || msg->delivery_status != NULL ||
	     mime_header_get(msg, "X-Failed-Recipients") != NULL) &&
	    is_challenge(msg)) {
		cls = CLASS_AUTO_REPLY;
		goto out;
	}
	if (msg->delivery_status != NULL) {
		struct dsn_result res = {0};

		dsn_parse(msg->delivery_status, &res);
		if (res.failed > 0) {
			const char *t = msg->text != NULL ? msg->text : "";
			size_t tl = strnlen(t, MAX_SCAN_BYTES);

			dsn_recipients(&cx, &res.recipients, &b.recipients);
			b.status = res.status;
			b.diagnostic = res.diag;
			res.status = NULL;
			res.diag = NULL;
			if (res.guessed) {
				char *read = find_status(t, notice_len(t));
				if (read != NULL) {
					free(b.status);
					b.status = read;
				}
			}
			if (b.recipients.n == 0) {
				collect_recipients(&cx, t, tl, &b.recipients);
				if (b.recipients.n == 0)
					fallback_recipients(&cx, t, tl, &b.recipients);
			}
			dsn_result_free(&res);
			cls = CLASS_BOUNCE;
			goto out;
		}
		if (res.delayed > 0 || res.delivered > 0) {
			/* a delay notice, or a success report */
			dsn_result_free(&res);
			cls = CLASS_AUTO_REPLY;
			goto out;
		}
		dsn_result_free(&res);
	}
	if (msg->delivery_status == NULL && msg->text != NULL && (dsn_claimed || daemon)) {
		/* A report from a mail system whose parts could not be told
		 * apart (a cut boundary parameter) still has its fields in the
		 * text; one that reports only successful deliveries, or only
		 * delays, is not a bounce.  Not for mail from people: "Action:"
		 * is a word they write too. */
		struct dsn_result res = {0};
		bool not_failed;

		dsn_parse(msg->text, &res);
		not_failed = res.delivered + res.delayed > 0 && res.failed == 0;
		dsn_result_free(&res);
		if (not_failed) {
			cls = CLASS_AUTO_REPLY;
			goto out;
		}
	}
	if (detect_plain_bounce(&cx, dsn_claimed, daemon, subj, &b)) {
		cls = CLASS_BOUNCE;
		goto out;
	}
	bounce_info_free(&b);
	if (is_auto_reply(msg, daemon))
		cls = CLASS_AUTO_REPLY;

out:
	strvec_free(&cx.senders);
	if (cls == CLASS_BOUNCE) {
		b.permanent = b.status != NULL && b.status[0] == '5';
		if (bounce_r != NULL)
			*bounce_r = b;
		else
			bounce_info_free(&b);
	} else {
		bounce_info_free(&b);
		if (bounce_r != NULL)
			memset(bounce_r, 0, sizeof(*bounce_r));
	}
	return cls;
}

const char *
classify_name(enum message_class cls)
{
	switch (cls) {
	case CLASS_BOUNCE:
		return "bounce";
	case CLASS_AUTO_REPLY:
		return "auto_reply";
	case CLASS_MESSAGE:
		break;
	}
	return "message";
}

void
bounce_info_free(struct bounce_info *b)
{
	if (b == NULL)
		return;
	strvec_free(&b->recipients);
	free(b->status);
	free(b->diagnostic);
	b->status = NULL;
	b->diagnostic = NULL;
	b->permanent = false;
}
