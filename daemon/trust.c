/* trust: see include/trust.h. */
#include "trust.h"

#include <stdlib.h>
#include <string.h>

/* ---- Authentication-Results (RFC 8601) ---- */

/* The domain of an address or "@domain" (header.i), lower case; NULL when
 * there is none.  The caller owns it. */
static char *
trust_domain_of(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	const char *d = at != NULL ? at + 1 : s;
	size_t n = (size_t)(s + len - d);
	char *out;

	if (n == 0)
		return NULL;
	out = xstrndup(d, n);
	str_lower(out);
	return out;
}

/* d is the From domain, or a parent domain of it (relaxed alignment, RFC
 * 7489 3.1.1, without a public suffix list: a bare top-level domain never
 * aligns). */
static bool
trust_aligned(const char *from_domain, const char *d)
{
	size_t fl = strlen(from_domain), dl = strlen(d);

	if (dl == 0 || strchr(d, '.') == NULL)
		return false;
	if (fl == dl)
		return strcmp(from_domain, d) == 0;
	return fl > dl && from_domain[fl - dl - 1] == '.' && strcmp(from_domain + fl - dl, d) == 0;
}

/* Copies value without its comments ("(...)", nested, with \-escapes), so
 * "dkim=pass (good signature) header.d=x" reads as its tokens.  Quoted
 * strings are kept. */
static char *
trust_strip_comments(const char *v)
{
	struct strbuf sb = {0};
	int depth = 0;
	bool quoted = false;

	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			if (depth == 0) {
				strbuf_addc(&sb, p[0]);
				strbuf_addc(&sb, p[1]);
			}
			p++;
			continue;
		}
		if (!quoted && *p == '(') {
			depth++;
			continue;
		}
		if (!quoted && *p == ')' && depth > 0) {
			depth--;
			strbuf_addc(&sb, ' ');
			continue;
		}
		if (depth > 0)
			continue;
		if (*p == '"')
			quoted = !quoted;
		strbuf_addc(&sb, *p);
	}
	return strbuf_detach(&sb);
}

/* The next token of s (white space separated, a quoted string is part of
 * its token); NULL at the end.  *len_r its length. */
static const char *
trust_token(const char **s, size_t *len_r)
{
	const char *p = *s, *start;
	bool quoted = false;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	start = p;
	while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))) {
		if (*p == '"')
			quoted = !quoted;
		p++;
	}
	*s = p;
	*len_r = (size_t)(p - start);
	return start;
}

/* A property value, without quotes. */
static void
trust_unquote(const char **v, size_t *len)
{
	if (*len >= 2 && (*v)[0] == '"' && (*v)[*len - 1] == '"') {
		(*v)++;
		*len -= 2;
	}
}

/*
 * One resinfo ("dmarc=pass header.from=example.org"): whether it
 * authenticates from_domain.  Cases:
 *   - dmarc=pass: header.from must name the From domain (when it is
 *     missing the result could be about another header: not believed);
 *   - dkim=pass: header.d, else the domain of header.i, aligned;
 *   - anything else (spf, arc, a fail, a neutral): no.
 */
static bool
trust_resinfo_passes(const char *resinfo, const char *from_domain)
{
	const char *s = resinfo, *tok, *eq;
	size_t len;
	bool dmarc = false, dkim = false, pass = false, ok = false;

	tok = trust_token(&s, &len);
	if (tok == NULL || (eq = memchr(tok, '=', len)) == NULL)
		return false;
	{
		size_t mlen = (size_t)(eq - tok);
		const char *slash = memchr(tok, '/', mlen);

		if (slash != NULL)
			mlen = (size_t)(slash - tok);
		dmarc = mlen == 5 && mem_ieq(tok, "dmarc", 5);
		dkim = mlen == 4 && mem_ieq(tok, "dkim", 4);
		pass = (size_t)(tok + len - eq - 1) == 4 && mem_ieq(eq + 1, "pass", 4);
	}
	if (!pass || (!dmarc && !dkim))
		return false;
	while (!ok && (tok = trust_token(&s, &len)) != NULL) {
		const char *v;
		size_t vlen;
		char *d;

		eq = memchr(tok, '=', len);
		if (eq == NULL)
			continue;
		v = eq + 1;
		vlen = (size_t)(tok + len - v);
		trust_unquote(&v, &vlen);
		if (dmarc && (size_t)(eq - tok) == 11 && mem_ieq(tok, "header.from", 11)) {
			d = trust_domain_of(v, vlen);
			ok = d != NULL && strcmp(d, from_domain) == 0;
			free(d);
		} else if (dkim && (((size_t)(eq - tok) == 8 && mem_ieq(tok, "header.d", 8)) ||
		                    ((size_t)(eq - tok) == 8 && mem_ieq(tok, "header.i", 8)))) {
			d = trust_domain_of(v, vlen);
			ok = d != NULL && trust_aligned(from_domain, d);
			free(d);
		}
	}
	return ok;
}

bool
trust_authenticated(const struct mime_message *msg, const struct strvec *trusted,
                    const char **why_r)
{
	const char *why = "no Authentication-Results from a trusted server";
	const char *at;
	char *from_domain = NULL;
	bool ok = false;

	if (trusted == NULL || trusted->n == 0) {
		why = "no trusted authserv-id configured";
		goto out;
	}
	if (msg->from_addr == NULL || (at = strrchr(msg->from_addr, '@')) == NULL) {
		why = "no From address";
		goto out;
	}
	from_domain = xstrdup(at + 1);
	str_lower(from_domain);
	for (size_t i = 0; i < msg->nheaders; i++) {
		const struct mime_header *h = &msg->headers[i];
		char *v, *seg, *save = NULL;
		const char *id, *rest;
		size_t idlen;
		bool mine;

		if (!str_ieq(h->name, "Authentication-Results") || h->value == NULL)
			continue;
		v = trust_strip_comments(h->value);
		seg = strtok_r(v, ";", &save);
		rest = seg != NULL ? seg : "";
		id = trust_token(&rest, &idlen);
		mine = false;
		/* A Microsoft-style header without an authserv-id starts with a
		 * "method=result": never anyone's. */
		if (id != NULL && memchr(id, '=', idlen) == NULL) {
			for (size_t t = 0; t < trusted->n && !mine; t++)
				mine = strlen(trusted->v[t]) == idlen &&
				       mem_ieq(id, trusted->v[t], idlen);
		}
		if (!mine) {
			free(v);
			continue;
		}
		/* The topmost trusted header decides, pass or not. */
		while (!ok && (seg = strtok_r(NULL, ";", &save)) != NULL)
			ok = trust_resinfo_passes(seg, from_domain);
		why = ok ? "DMARC or aligned DKIM passed at a trusted server"
		         : "the trusted server did not authenticate the From domain";
		free(v);
		break;
	}
out:
	free(from_domain);
	if (why_r != NULL)
		*why_r = why;
	return ok;
}

/* ---- "reply yes to confirm" ---- */

enum trust_answer
trust_confirm_word(const char *reply)
{
	static const char *const yes[] = {"yes", "y",    "yep",    "yeah",  "confirm", "confirmed",
	                                  "ok",  "okay", "oui",    "ja",    "si",      "s\xc3\xad",
	                                  "sim", "da",   "jawohl", "agreed"};
	static const char *const no[] = {"no", "n", "nope", "cancel", "non", "nein", "nee"};
	const char *p = reply, *eol;
	char word[16];
	size_t n = 0, linelen;

	if (reply == NULL)
		return TRUST_ANSWER_NONE;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			return TRUST_ANSWER_NONE;
		break;
	}
	eol = strchr(p, '\n');
	linelen = eol != NULL ? (size_t)(eol - p) : strlen(p);
	/* "Yes" or "Yes, please go ahead." is an answer; a paragraph that
	 * happens to start with "no" is not. */
	if (linelen > 60)
		return TRUST_ANSWER_NONE;
	if (linelen >= 9 && mem_ieq(p, "i confirm", 9))
		return TRUST_ANSWER_YES;
	while (n < linelen && n < sizeof(word) - 1 && p[n] != ' ' && p[n] != ',' && p[n] != '.' &&
	       p[n] != '!' && p[n] != ';' && p[n] != ':' && p[n] != '\t' && p[n] != '\r') {
		word[n] = ascii_lower(p[n]);
		n++;
	}
	word[n] = '\0';
	if (n == 0 || n >= sizeof(word) - 1)
		return TRUST_ANSWER_NONE;
	for (size_t i = 0; i < N_ELEMENTS(yes); i++)
		if (strcmp(word, yes[i]) == 0)
			return TRUST_ANSWER_YES;
	for (size_t i = 0; i < N_ELEMENTS(no); i++)
		if (strcmp(word, no[i]) == 0)
			return TRUST_ANSWER_NO;
	return TRUST_ANSWER_NONE;
}

/* ---- echoes ---- */

/* A line as compared: trimmed, runs of white space as one space, ASCII
 * lower case.  The caller owns it; "" for a blank line. */
static char *
trust_norm_line(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	bool space = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		out[n++] = ascii_lower(c);
	}
	out[n] = '\0';
	return out;
}

static int
trust_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text into normalised lines (blank ones included, as ""). */
static void
trust_lines(const char *text, struct strvec *out)
{
	const char *p = text;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		strvec_push_owned(out, trust_norm_line(p, len));
		p += len;
		if (*p == '\n')
			p++;
	}
}

bool
trust_strip_echo(const char *reply, const char *original, char **stripped_r)
{
	struct strvec orig = {0}, mine = {0};
	char **uniq = NULL;
	bool *hit = NULL, echo = false;
	size_t nuniq = 0, nhit = 0;

	*stripped_r = NULL;
	if (reply == NULL || original == NULL)
		return false;
	trust_lines(original, &orig);
	uniq = xcalloc(orig.n + 1, sizeof(*uniq));
	for (size_t i = 0; i < orig.n; i++)
		if (orig.v[i][0] != '\0')
			uniq[nuniq++] = orig.v[i];
	qsort(uniq, nuniq, sizeof(*uniq), trust_cmp_str);
	{
		size_t w = 0;

		for (size_t i = 0; i < nuniq; i++)
			if (w == 0 || strcmp(uniq[w - 1], uniq[i]) != 0)
				uniq[w++] = uniq[i];
		nuniq = w;
	}
	if (nuniq < 3)
		goto out;
	hit = xcalloc(nuniq, sizeof(*hit));
	trust_lines(reply, &mine);
	for (size_t i = 0; i < mine.n; i++) {
		char **found;

		if (mine.v[i][0] == '\0')
			continue;
		found = bsearch(&mine.v[i], uniq, nuniq, sizeof(*uniq), trust_cmp_str);
		if (found != NULL && !hit[found - uniq]) {
			hit[found - uniq] = true;
			nhit++;
		}
	}
	echo = nhit >= 3 && nhit * 2 >= nuniq;
	if (echo) {
		const char *p = reply;
		struct strbuf sb = {0};
		size_t i = 0;

		/* The reply's own lines, as written, in order. */
		while (*p != '\0') {
			const char *eol = strchr(p, '\n');
			size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

			if (i < mine.n &&
			    (mine.v[i][0] == '\0' || bsearch(&mine.v[i], uniq, nuniq, sizeof(*uniq),
			                                     trust_cmp_str) == NULL)) {
				strbuf_add(&sb, p, len);
				strbuf_addc(&sb, '\n');
			}
			i++;
			p += len;
			if (*p == '\n')
				p++;
		}
		*stripped_r = strbuf_detach(&sb);
	}
out:
	free(hit);
	free(uniq);
	strvec_free(&orig);
	strvec_free(&mine);
	return echo;
}

/* ---- may it be answered? ---- */

/* X-Auto-Response-Suppress names what not to send back; only All, OOF and
 * AutoReply are about automatic answers (DR, NDR, RN, NRN are receipts). */
static bool
trust_suppresses_answers(const char *v)
{
	const char *p = v;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if ((n == 3 && (mem_ieq(p, "all", 3) || mem_ieq(p, "oof", 3))) ||
		    (n == 9 && mem_ieq(p, "autoreply", 9)))
			return true;
		p += n;
	}
	return false;
}

bool
trust_may_answer(const struct mime_message *msg, const char **why_r)
{
	const char *why = NULL;

	for (size_t i = 0; i < msg->nheaders && why == NULL; i++) {
		const char *name = msg->headers[i].name, *v = msg->headers[i].value;

		if (v == NULL)
			v = "";
		while (*v == ' ' || *v == '\t')
			v++;
		if (str_ieq(name, "Auto-Submitted")) {
			if (!(str_istarts(v, "no") && (v[2] == '\0' || v[2] == ' ' || v[2] == ';' ||
			                               v[2] == '(' || v[2] == '\t')))
				why = "Auto-Submitted";
		} else if (str_ieq(name, "Precedence")) {
			if (str_istarts(v, "bulk") || str_istarts(v, "junk") ||
			    str_istarts(v, "list") || str_istarts(v, "auto_reply"))
				why = "Precedence";
		} else if (str_ieq(name, "X-Auto-Response-Suppress")) {
			if (trust_suppresses_answers(v))
				why = "X-Auto-Response-Suppress";
		} else if (str_ieq(name, "List-Id") || str_ieq(name, "List-Unsubscribe") ||
		           str_ieq(name, "X-Mentord") || str_ieq(name, "X-Autoreply") ||
		           str_ieq(name, "X-Autorespond")) {
			why = name;
		}
	}
	if (why == NULL && msg->return_path != NULL && msg->return_path[0] == '\0')
		why = "a null Return-Path";
	if (why_r != NULL)
		*why_r = why;
	return why == NULL;
}
