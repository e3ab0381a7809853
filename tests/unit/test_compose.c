/* Unit tests for compose: the bytes are parsed back by hand here, with a
 * small unfolder, RFC 2047 decoder and quoted-printable decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compose.h"
#include "mime.h"
#include "util.h"

/* --- helpers: parsing the output back ------------------------------- */

/* The header block (without the blank line) and the body of data. */
static void
split_message(const char *data, char **head_r, const char **body_r)
{
	const char *sep = strstr(data, "\r\n\r\n");
	assert_non_null(sep);
	*head_r = xstrndup(data, (size_t)(sep - data) + 2);
	*body_r = sep + 4;
}

/* The unfolded value of header name (first occurrence), or NULL; owned. */
static char *
header_get(const char *head, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = head;
	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			struct strbuf sb = {0};
			const char *v = p + nlen + 1;
			for (;;) {
				strbuf_add(&sb, v, (size_t)(eol - v));
				/* Unfolding removes the CRLF before white space. */
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				v = eol + 2;
				eol = strstr(v, "\r\n");
			}
			return str_trim(strbuf_detach(&sb));
		}
		p = eol + 2;
	}
	return NULL;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static void
b64_decode(struct strbuf *out, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64_val(s[i]);
		assert_true(v >= 0);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			strbuf_addc(out, (char)((acc >> (bits - 8)) & 0xff));
			bits -= 8;
		}
	}
}

/* Decodes an unstructured header value made of RFC 2047 B/Q words and
 * plain text; white space between two encoded words is dropped.  Each word
 * must decode to valid UTF-8 on its own (no split sequences). */
static char *
rfc2047_decode(const char *v)
{
	struct strbuf out = {0};
	const char *p = v;
	bool prev_encoded = false;
	while (*p != '\0') {
		const char *sp = p;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, "=?UTF-8?", 8) == 0) {
			char enc = p[8];
			const char *text = p + 10;
			const char *end = strstr(text, "?=");
			assert_non_null(end);
			assert_true(end - p + 2 <= 75); /* RFC 2047 word limit */
			if (!prev_encoded)
				strbuf_add(&out, sp, (size_t)(p - sp));
			struct strbuf word = {0};
			if (enc == 'B' || enc == 'b') {
				b64_decode(&word, text, (size_t)(end - text));
			} else {
				for (const char *q = text; q < end; q++) {
					if (*q == '_')
						strbuf_addc(&word, ' ');
					else if (*q == '=') {
						char hx[3] = {q[1], q[2], 0};
						strbuf_addc(&word, (char)strtol(hx, NULL, 16));
						q += 2;
					} else
						strbuf_addc(&word, *q);
				}
			}
			assert_true(utf8_valid(strbuf_str(&word), word.len));
			strbuf_add(&out, word.buf, word.len);
			strbuf_free(&word);
			p = end + 2;
			prev_encoded = true;
		} else {
			strbuf_add(&out, sp, (size_t)(p - sp));
			const char *e = p;
			while (*e != '\0' && *e != ' ')
				e++;
			strbuf_add(&out, p, (size_t)(e - p));
			p = e;
			prev_encoded = false;
		}
	}
	return strbuf_detach(&out);
}

/* A strict quoted-printable decoder: CRLF line ends only, "=" CRLF soft
 * breaks, =XX in upper case, nothing but printable ASCII, no trailing white
 * space, lines within 76 columns.  Decoded line ends are LF. */
static char *
qp_decode(const char *s)
{
	struct strbuf out = {0};
	while (*s != '\0') {
		const char *eol = strstr(s, "\r\n");
		assert_non_null(eol);
		size_t len = (size_t)(eol - s);
		assert_true(len <= 76);
		if (len > 0) {
			assert_true(s[len - 1] != ' ' && s[len - 1] != '\t');
		}
		bool soft = false;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '=') {
				if (i + 1 == len) {
					soft = true;
					break;
				}
				assert_true(i + 2 < len || i + 3 == len);
				char hx[3] = {s[i + 1], s[i + 2], 0};
				assert_non_null(strchr("0123456789ABCDEF", hx[0]));
				assert_non_null(strchr("0123456789ABCDEF", hx[1]));
				strbuf_addc(&out, (char)strtol(hx, NULL, 16));
				i += 2;
			} else {
				assert_true((c >= 33 && c <= 126) || c == ' ' || c == '\t');
				strbuf_addc(&out, (char)c);
			}
		}
		if (!soft)
			strbuf_addc(&out, '\n');
		s = eol + 2;
	}
	return strbuf_detach(&out);
}

/* --- the tests -------------------------------------------------------- */

struct fixture {
	struct strvec to;
	struct compose_mail mail;
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	strvec_push(&f->to, "alice@example.com");
	strvec_push(&f->to, "bob.smith@example.org");
	f->mail.from_addr = "mentoring@example.org";
	f->mail.from_name = "CDSS Mentoring";
	f->mail.to = &f->to;
	f->mail.reply_to = "mentoring+t1p2kabcdefghijklmnop@example.org";
	f->mail.subject = "Your meeting report";
	f->mail.body = "Hello Alice,\nplease reply.\n";
	f->mail.message_id = "0123abcd@example.org";
	f->mail.in_reply_to = "orig-1@mail.example.com";
	f->mail.references = "orig-0@mail.example.com orig-1@mail.example.com";
	f->mail.kind = "reminder";
	f->mail.date = 1764580800; /* 2025-12-01T09:20:00Z */
}

static char *
compose_ok(const struct compose_mail *mail, size_t *len_r)
{
	char *data = NULL;
	size_t len = 0;
	const char *error = NULL;
	int ret = compose_message(mail, &data, &len, &error);
	if (ret != 0)
		fail_msg("compose_message: %s", error);
	assert_int_equal(strlen(data), len);
	/* Every line: CRLF ended, within 78 columns, no bare CR or LF. */
	for (const char *p = data; *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_true(eol - p <= 78);
		for (const char *q = p; q < eol; q++)
			assert_true(*q != '\r' && *q != '\n');
		p = eol + 2;
	}
	if (len_r != NULL)
		*len_r = len;
	return data;
}

static void
test_headers(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	setenv("TZ", "UTC", 1);
	tzset();
	char *data = compose_ok(&f.mail, NULL);
	char *head;
	const char *body;
	split_message(data, &head, &body);

	struct {
		const char *name, *want;
	} hdrs[] = {
	    {"Date", "Mon, 1 Dec 2025 09:20:00 +0000"},
	    {"From", "\"CDSS Mentoring\" <mentoring@example.org>"},
	    {"To", "alice@example.com, bob.smith@example.org"},
	    {"Reply-To", "mentoring+t1p2kabcdefghijklmnop@example.org"},
	    {"Subject", "Your meeting report"},
	    {"Message-ID", "<0123abcd@example.org>"},
	    {"In-Reply-To", "<orig-1@mail.example.com>"},
	    {"References", "<orig-0@mail.example.com> <orig-1@mail.example.com>"},
	    {"MIME-Version", "1.0"},
	    {"Content-Type", "text/plain; charset=utf-8"},
	    {"Content-Transfer-Encoding", "quoted-printable"},
	    {"X-Mentord", "reminder"},
	};
	for (size_t i = 0; i < N_ELEMENTS(hdrs); i++) {
		char *v = header_get(head, hdrs[i].name);
		if (v == NULL)
			fail_msg("missing header %s", hdrs[i].name);
		assert_string_equal(v, hdrs[i].want);
		free(v);
	}
	char *as = header_get(head, "Auto-Submitted");
	assert_non_null(as);
	assert_string_equal(as, "auto-generated");
	free(as);
	as = header_get(head, "X-Auto-Response-Suppress");
	assert_non_null(as);
	assert_string_equal(as, "All");
	free(as);
	char *decoded = qp_decode(body);
	assert_string_equal(decoded, "Hello Alice,\nplease reply.\n");
	free(decoded);
	free(head);
	free(data);

	/* An answer says so; a local time zone shows its offset. */
	f.mail.auto_submitted = COMPOSE_AUTO_REPLIED;
	f.mail.from_name = NULL;
	setenv("TZ", "America/Los_Angeles", 1);
	tzset();
	data = compose_ok(&f.mail, NULL);
	split_message(data, &head, &body);
	as = header_get(head, "Auto-Submitted");
	assert_non_null(as);
	assert_string_equal(as, "auto-replied");
	free(as);
	char *date = header_get(head, "Date");
	assert_string_equal(date, "Mon, 1 Dec 2025 01:20:00 -0800");
	free(date);
	char *from = header_get(head, "From");
	assert_string_equal(from, "mentoring@example.org");
	free(from);
	free(head);
	free(data);
	setenv("TZ", "UTC", 1);
	tzset();
	strvec_free(&f.to);
}

static void
test_subject_encoding(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	const char *subjects[] = {
	    "Réunion — août",
	    "Réunion — août: un très long sujet qui doit être plié sur plusieurs lignes "
	    "sans jamais couper une séquence UTF-8 😀😀😀😀😀😀😀😀😀😀😀 fin",
	    "=?UTF-8?B?Zm9v?= looks encoded but is not",
	    "x-" /* a word too long to fold */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "plain ascii words that go on and on and on until they really need folding onto "
	    "another line",
	};
	for (size_t i = 0; i < N_ELEMENTS(subjects); i++) {
		f.mail.subject = subjects[i];
		char *data = compose_ok(&f.mail, NULL);
		char *head;
		const char *body;
		split_message(data, &head, &body);
		char *raw = header_get(head, "Subject");
		assert_non_null(raw);
		if (i < 4)
			assert_non_null(strstr(raw, "=?UTF-8?"));
		else
			assert_null(strstr(raw, "=?"));
		char *dec = rfc2047_decode(raw);
		assert_string_equal(dec, subjects[i]);
		free(dec);
		free(raw);
		free(head);
		free(data);
	}

	/* The exact encoding of the short one. */
	f.mail.subject = "Réunion — août";
	char *data = compose_ok(&f.mail, NULL);
	assert_non_null(strstr(data, "\r\nSubject: =?UTF-8?B?UsOpdW5pb24g4oCUIGFvw7t0?=\r\n"));
	free(data);

	/* A non-ASCII display name is encoded; specials in an ASCII one quoted. */
	f.mail.from_name = "Zoë \"the mentor\" O'Brien, PhD";
	data = compose_ok(&f.mail, NULL);
	char *head;
	const char *body;
	split_message(data, &head, &body);
	char *from = header_get(head, "From");
	assert_true(strncmp(from, "=?UTF-8?B?", 10) == 0);
	char *angle = strstr(from, " <mentoring@example.org>");
	assert_non_null(angle);
	*angle = '\0';
	char *name = rfc2047_decode(from);
	assert_string_equal(name, "Zoë \"the mentor\" O'Brien, PhD");
	free(name);
	free(from);
	free(head);
	free(data);

	f.mail.from_name = "O'Brien, \"Pat\" \\ co";
	data = compose_ok(&f.mail, NULL);
	split_message(data, &head, &body);
	from = header_get(head, "From");
	assert_string_equal(from, "\"O'Brien, \\\"Pat\\\" \\\\ co\" <mentoring@example.org>");
	free(from);
	free(head);
	free(data);
	strvec_free(&f.to);
}

/* No line of the header block may start with "Bcc:" or any injected name. */
static void
assert_no_injected(const char *data)
{
	const char *end = strstr(data, "\r\n\r\n");
	for (const char *p = data; p < end;) {
		assert_true(strncasecmp(p, "Bcc:", 4) != 0);
		assert_true(strncasecmp(p, "X-Evil:", 7) != 0);
		p = strstr(p, "\r\n") + 2;
	}
}

static void
test_header_injection(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	const char *evil[] = {"x\r\nBcc: evil@x", "x\nBcc: evil@x", "x\rBcc: evil@x",
	                      "é\r\nBcc: evil@x", "x\r\n\r\nX-Evil: 1"};
	for (size_t i = 0; i < N_ELEMENTS(evil); i++) {
		f.mail.subject = evil[i];
		f.mail.from_name = evil[i];
		f.mail.kind = evil[i];
		f.mail.references = evil[i];
		char *data = compose_ok(&f.mail, NULL);
		assert_no_injected(data);
		free(data);
	}
	strvec_free(&f.to);

	/* CR/LF in an address is refused outright. */
	char *error_data = NULL;
	size_t len;
	const char *error = NULL;
	fixture_init(&f);
	f.mail.reply_to = "a@x\r\nBcc: evil@x";
	assert_int_equal(compose_message(&f.mail, &error_data, &len, &error), -1);
	assert_non_null(error);
	assert_null(error_data);
	strvec_free(&f.to);

	char *s = compose_sanitize_header("  a\r\n\tb\x01\x7f c  ", 100);
	assert_string_equal(s, "a b c");
	free(s);
	s = compose_sanitize_header("x\xc2\x85y", 100); /* U+0085 NEL */
	assert_string_equal(s, "x y");
	free(s);
	s = compose_sanitize_header("ab\xff", 100); /* invalid UTF-8 */
	assert_string_equal(s, "ab?");
	free(s);
	s = compose_sanitize_header("aaé", 3); /* never cuts a sequence */
	assert_string_equal(s, "aa");
	free(s);
	s = compose_sanitize_header(NULL, 10);
	assert_string_equal(s, "");
	free(s);
}

static void
test_qp_body(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct strbuf in = {0};
	strbuf_adds(&in, "short line\n");
	for (int i = 0; i < 30; i++)
		strbuf_adds(&in, "long ");
	strbuf_adds(&in, "\n");
	strbuf_adds(&in, "a=b and 1+1=2\n");
	strbuf_adds(&in, "trailing spaces   \n");
	strbuf_adds(&in, "trailing tab\t\n");
	strbuf_adds(&in, ".\n");
	strbuf_adds(&in, "..two dots\n");
	strbuf_adds(&in, "From the coordinator\n");
	strbuf_adds(&in, "Réunion — août, café ☕\n");
	for (int i = 0; i < 40; i++)
		strbuf_adds(&in, "é=");
	strbuf_adds(&in, "\n");
	/* A long line whose soft break lands right before "From " and ".". */
	for (int i = 0; i < 75; i++)
		strbuf_addc(&in, 'x');
	strbuf_adds(&in, "From here\n");
	for (int i = 0; i < 75; i++)
		strbuf_addc(&in, 'y');
	strbuf_adds(&in, ".dot\n");
	strbuf_adds(&in, "\n");
	strbuf_adds(&in, "last line without end");
	f.mail.body = strbuf_str(&in);

	char *data = compose_ok(&f.mail, NULL);
	char *head;
	const char *body;
	split_message(data, &head, &body);

	/* No output line is exactly "." or starts with "From " or ".". */
	for (const char *p = body; *p != '\0'; p = strstr(p, "\r\n") + 2) {
		assert_true(strncmp(p, "From ", 5) != 0);
		assert_true(*p != '.');
	}
	char *dec = qp_decode(body);
	struct strbuf want = {0};
	strbuf_adds(&want, strbuf_str(&in));
	strbuf_adds(&want, "\n");
	assert_string_equal(dec, strbuf_str(&want));
	free(dec);
	free(head);
	free(data);

	/* CRLF input gives the same bytes as LF input. */
	f.mail.body = "one\r\ntwo \r\n";
	data = compose_ok(&f.mail, NULL);
	split_message(data, &head, &body);
	assert_string_equal(body, "one\r\ntwo=20\r\n");
	free(head);
	free(data);

	strbuf_free(&want);
	strbuf_free(&in);
	strvec_free(&f.to);
}

static void
test_addresses(void **state)
{
	(void)state;
	const char *good[] = {"a@b", "first.last@example.org", "x+tag@sub.example.co.uk",
	                      "o'brien@example.com"};
	const char *bad[] = {"",      "noat",  "@example.org", "a@",    "a@@b",         "a b@c",
	                     "a@b c", "<a@b>", "a@b\r\nX: y",  "a@.b",  "a@b.",         "a@b..c",
	                     ".a@b",  "a.@b",  "a\"b@c",       "a,b@c", "é@example.org"};
	for (size_t i = 0; i < N_ELEMENTS(good); i++)
		assert_true(compose_valid_addr(good[i]));
	for (size_t i = 0; i < N_ELEMENTS(bad); i++)
		if (compose_valid_addr(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(compose_valid_addr(NULL));

	struct fixture f;
	char *data = NULL;
	size_t len;
	const char *error = NULL;

	fixture_init(&f);
	f.mail.from_addr = "not an address";
	assert_int_equal(compose_message(&f.mail, &data, &len, &error), -1);
	assert_non_null(strstr(error, "From"));
	strvec_free(&f.to);

	fixture_init(&f);
	strvec_push(&f.to, "bad>@x");
	error = NULL;
	assert_int_equal(compose_message(&f.mail, &data, &len, &error), -1);
	assert_non_null(strstr(error, "To"));
	strvec_free(&f.to);

	fixture_init(&f);
	strvec_free(&f.to);
	error = NULL;
	assert_int_equal(compose_message(&f.mail, &data, &len, &error), -1);
	assert_non_null(error);

	fixture_init(&f);
	f.mail.message_id = "no brackets <allowed>";
	error = NULL;
	assert_int_equal(compose_message(&f.mail, &data, &len, &error), -1);
	assert_null(data);
	strvec_free(&f.to);
}

static void
test_message_id(void **state)
{
	(void)state;
	char *a = compose_message_id("example.org");
	char *b = compose_message_id("example.org");
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), 32 + strlen("@example.org"));
	assert_string_equal(a + 32, "@example.org");
	for (int i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	free(a);
	free(b);
}

/* --- attachments ------------------------------------------------------ */

/* The value of parameter name in a header value ("a; b=c; name=\"d\""),
 * unquoted; NULL when absent.  Owned. */
static char *
param_get(const char *value, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = strchr(value, ';'); p != NULL; p = strchr(p + 1, ';')) {
		const char *q = p + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		if (strncasecmp(q, name, nlen) == 0 && q[nlen] == '=') {
			q += nlen + 1;
			if (*q == '"') {
				struct strbuf sb = {0};
				for (q++; *q != '\0' && *q != '"'; q++) {
					if (*q == '\\' && q[1] != '\0')
						q++;
					strbuf_addc(&sb, *q);
				}
				return strbuf_detach(&sb);
			}
			const char *e = q;
			while (*e != '\0' && *e != ';')
				e++;
			return xstrndup(q, (size_t)(e - q));
		}
	}
	return NULL;
}

/* A part of a multipart body: its header block and its content. */
struct part {
	char *head;    /* owned, each line CRLF-ended */
	char *content; /* owned, as in the message */
};

/* Splits body into the parts between "--boundary" delimiters (each
 * preceded by CRLF, RFC 2046 5.1.1), checking that the close delimiter is
 * there and no content contains the delimiter.  Returns the count. */
static size_t
split_parts(const char *body, const char *boundary, struct part *parts, size_t max)
{
	char *delim = xasprintf("\r\n--%s", boundary);
	size_t dlen = strlen(delim), n = 0;
	/* The preamble may be empty: the first delimiter may start the body. */
	const char *p = strncmp(body, delim + 2, dlen - 2) == 0 ? body - 2 : strstr(body, delim);
	assert_non_null(p);
	for (;;) {
		p += dlen;
		if (strncmp(p, "--", 2) == 0)
			break; /* the close delimiter */
		assert_true(strncmp(p, "\r\n", 2) == 0);
		p += 2;
		const char *next = strstr(p, delim);
		assert_non_null(next);
		const char *sep = strstr(p, "\r\n\r\n");
		assert_true(sep != NULL && sep < next);
		assert_true(n < max);
		parts[n].head = xstrndup(p, (size_t)(sep - p) + 2);
		parts[n].content = xstrndup(sep + 4, (size_t)(next - sep - 4));
		n++;
		p = next;
	}
	free(delim);
	return n;
}

static void
parts_free(struct part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i].head);
		free(parts[i].content);
	}
}

/* Decodes base64 content of lines of at most 76 columns, CRLF-ended. */
static void
b64_content(struct strbuf *out, const char *content)
{
	for (const char *p = content; *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_true(eol - p <= 76);
		b64_decode(out, p, (size_t)(eol - p));
		p = eol + 2;
	}
}

/* Decodes an RFC 2231 value: the filename*= or filename*0*=, *1*=...
 * parameters of a Content-Disposition value, into UTF-8.  Owned. */
static char *
rfc2231_filename(const char *value)
{
	struct strbuf enc = {0}, out = {0};
	char *single = param_get(value, "filename*");
	if (single != NULL) {
		strbuf_adds(&enc, single);
		free(single);
	} else {
		for (int k = 0;; k++) {
			char name[32];
			snprintf(name, sizeof(name), "filename*%d*", k);
			char *v = param_get(value, name);
			if (v == NULL)
				break;
			strbuf_adds(&enc, v);
			free(v);
		}
	}
	const char *e = strbuf_str(&enc);
	assert_true(strncmp(e, "UTF-8''", 7) == 0);
	for (const char *p = e + 7; *p != '\0'; p++) {
		if (*p == '%') {
			char hx[3] = {p[1], p[2], 0};
			assert_non_null(strchr("0123456789ABCDEF", hx[0]));
			assert_non_null(strchr("0123456789ABCDEF", hx[1]));
			strbuf_addc(&out, (char)strtol(hx, NULL, 16));
			p += 2;
		} else {
			/* RFC 2231 attribute-char: no specials, no space, no '*'. */
			assert_null(strchr(" *'%()<>@,;:\\\"/[]?=", *p));
			strbuf_addc(&out, *p);
		}
	}
	strbuf_free(&enc);
	return strbuf_detach(&out);
}

/* The fixture's message without attachments, byte for byte from
 * "MIME-Version" to the end of the header line after it, and its body:
 * what the message was before attachments existed (the header lines before
 * MIME-Version are checked by test_headers). */
static void
test_no_attachment_unchanged(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.mail.body = "Hello José,\nplease reply.\n";
	char *data = compose_ok(&f.mail, NULL);
	assert_non_null(strstr(data, "\r\nMIME-Version: 1.0\r\n"
	                             "Content-Type: text/plain; charset=utf-8\r\n"
	                             "Content-Transfer-Encoding: quoted-printable\r\n"));
	const char *body = strstr(data, "\r\n\r\n") + 4;
	assert_string_equal(body, "Hello Jos=C3=A9,\r\nplease reply.\r\n");
	assert_null(strstr(data, "multipart"));
	assert_null(strstr(data, "=_mentord_"));

	/* An attachments pointer with a count of 0 is no attachment. */
	struct compose_attachment unused = {"x.pdf", "application/pdf", "%PDF", 4, NULL};
	f.mail.attachments = &unused;
	f.mail.nattachments = 0;
	char *again = compose_ok(&f.mail, NULL);
	assert_string_equal(again, data);
	free(again);
	free(data);
	strvec_free(&f.to);
}

static void
test_attachments(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	unsigned char bin[1000];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 37 + 11); /* every byte value */
	const char *csv = "name,score\nJosé,4\n";
	struct compose_attachment att[] = {
	    {"Certificate.pdf", "application/pdf", bin, sizeof(bin), NULL},
	    {"report \"Q4\".csv", "text/csv", csv, strlen(csv), NULL},
	    {"empty.bin", NULL, NULL, 0, NULL},
	};
	f.mail.body = "Hello José,\nyour certificate is attached.\n";
	f.mail.attachments = att;
	f.mail.nattachments = N_ELEMENTS(att);
	char *data = compose_ok(&f.mail, NULL);
	char *head;
	const char *body;
	split_message(data, &head, &body);

	char *ct = header_get(head, "Content-Type");
	assert_true(strncmp(ct, "multipart/mixed;", 16) == 0);
	char *boundary = param_get(ct, "boundary");
	assert_non_null(boundary);
	assert_true(strlen(boundary) <= 70); /* RFC 2046 */
	assert_null(header_get(head, "Content-Transfer-Encoding"));
	char *mv = header_get(head, "MIME-Version");
	assert_string_equal(mv, "1.0");
	free(mv);

	struct part parts[8];
	size_t n = split_parts(body, boundary, parts, 8);
	assert_int_equal(n, 4);
	/* The text first, quoted-printable as without attachments. */
	char *v = header_get(parts[0].head, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	v = header_get(parts[0].head, "Content-Transfer-Encoding");
	assert_string_equal(v, "quoted-printable");
	free(v);
	char *text = qp_decode(parts[0].content);
	assert_string_equal(text, "Hello José,\nyour certificate is attached.\n");
	free(text);

	/* Each attachment: type, name, disposition, base64 of the exact bytes. */
	const char *want_name[] = {"Certificate.pdf", "report \"Q4\".csv", "empty.bin"};
	const char *want_type[] = {"application/pdf", "text/csv", "application/octet-stream"};
	for (size_t i = 0; i < N_ELEMENTS(att); i++) {
		struct part *p = &parts[i + 1];
		v = header_get(p->head, "Content-Type");
		assert_true(strncmp(v, want_type[i], strlen(want_type[i])) == 0);
		char *name = param_get(v, "name");
		assert_string_equal(name, want_name[i]);
		free(name);
		free(v);
		v = header_get(p->head, "Content-Disposition");
		assert_true(strncmp(v, "attachment;", 11) == 0);
		name = param_get(v, "filename");
		assert_string_equal(name, want_name[i]);
		free(name);
		free(v);
		v = header_get(p->head, "Content-Transfer-Encoding");
		assert_string_equal(v, "base64");
		free(v);
		struct strbuf dec = {0};
		b64_content(&dec, p->content);
		assert_int_equal(dec.len, att[i].len);
		if (att[i].len > 0)
			assert_memory_equal(dec.buf, att[i].data, att[i].len);
		strbuf_free(&dec);
	}
	parts_free(parts, n);

	/* mentord's own parser (libetpan) reads it back the same way. */
	struct mime_message *msg = NULL;
	const char *error = NULL;
	assert_int_equal(mime_parse(data, strlen(data), NULL, &msg, &error), 0);
	assert_string_equal(msg->content_type, "multipart/mixed");
	assert_string_equal(msg->text, "Hello José,\nyour certificate is attached.\n");
	assert_int_equal(msg->nattachments, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(msg->attachments[i].filename, want_name[i]);
		assert_string_equal(msg->attachments[i].content_type, want_type[i]);
		assert_int_equal(msg->attachments[i].size, att[i].len);
	}
	assert_int_equal(msg->defects.n, 0);
	mime_message_free(&msg);

	/* The same message twice: the same bytes (the boundary comes from the
	 * Message-ID); another Message-ID, another boundary. */
	char *again = compose_ok(&f.mail, NULL);
	assert_string_equal(again, data);
	free(again);
	f.mail.message_id = "other@example.org";
	again = compose_ok(&f.mail, NULL);
	assert_null(strstr(again, boundary));
	free(again);

	free(boundary);
	free(ct);
	free(head);
	free(data);
	strvec_free(&f.to);
}

static void
test_attachment_filenames(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	struct {
		const char *given, *want;
	} cases[] = {
	    {"José Núñez.pdf", "José Núñez.pdf"},
	    {"Certificado de finalización — Zoë Ørsted, programa de mentoría 2026 (final, "
	     "firmado).pdf",
	     "Certificado de finalización — Zoë Ørsted, programa de mentoría 2026 (final, "
	     "firmado).pdf"},
	    {"../../etc/passwd", ".._.._etc_passwd"},
	    {"C:\\Users\\ana\\cert.pdf", "C:_Users_ana_cert.pdf"},
	    {"bad\r\nContent-Type: text/html\r\n\r\n<script>.pdf",
	     "bad Content-Type: text_html <script>.pdf"},
	    {"=?UTF-8?B?Zm9v?=.pdf", "=?UTF-8?B?Zm9v?=.pdf"},
	    {"", "attachment"},
	    {"..", "attachment"},
	    {"100% done; \"final\".txt", "100% done; \"final\".txt"},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct compose_attachment att = {cases[i].given, "application/pdf", "%PDF-1.5", 8,
		                                 NULL};
		f.mail.attachments = &att;
		f.mail.nattachments = 1;
		char *data = compose_ok(&f.mail, NULL);
		char *head;
		const char *body;
		split_message(data, &head, &body);
		char *ct = header_get(head, "Content-Type");
		char *boundary = param_get(ct, "boundary");
		struct part parts[4];
		size_t n = split_parts(body, boundary, parts, 4);
		assert_int_equal(n, 2);
		/* Nothing in the file name reaches the part's header block as a
		 * line of its own. */
		for (const char *p = parts[1].head; *p != '\0'; p = strstr(p, "\r\n") + 2)
			assert_true(*p == ' ' || strncmp(p, "Content-", 8) == 0);

		char *disp = header_get(parts[1].head, "Content-Disposition");
		char *plain = param_get(disp, "filename");
		char *got = plain != NULL ? plain : rfc2231_filename(disp);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: filename \"%s\", want \"%s\"", i, got, cases[i].want);
		/* Non-ASCII names only in RFC 2231 form (7-bit headers). */
		for (const char *p = disp; *p != '\0'; p++)
			assert_true((unsigned char)*p < 0x80);
		free(got);

		/* The Content-Type name, RFC 2047 for readers without RFC 2231. */
		char *pct = header_get(parts[1].head, "Content-Type");
		char *name = param_get(pct, "name");
		assert_non_null(name);
		char *dec =
		    strncmp(name, "=?UTF-8?B?", 10) == 0 ? rfc2047_decode(name) : xstrdup(name);
		assert_string_equal(dec, cases[i].want);
		free(dec);
		free(name);
		free(pct);

		/* And libetpan agrees. */
		struct mime_message *msg = NULL;
		const char *error = NULL;
		assert_int_equal(mime_parse(data, strlen(data), NULL, &msg, &error), 0);
		assert_int_equal(msg->nattachments, 1);
		assert_string_equal(msg->attachments[0].filename, cases[i].want);
		mime_message_free(&msg);

		parts_free(parts, n);
		free(disp);
		free(boundary);
		free(ct);
		free(head);
		free(data);
	}

	/* A name past the limit is cut on a character boundary, and its RFC
	 * 2231 form runs to more than ten continuations (filename*10*). */
	struct strbuf longname = {0};
	for (int i = 0; i < 150; i++)
		strbuf_adds(&longname, "é");
	struct compose_attachment att = {strbuf_str(&longname), NULL, "x", 1, NULL};
	f.mail.attachments = &att;
	f.mail.nattachments = 1;
	char *data = compose_ok(&f.mail, NULL);
	assert_non_null(strstr(data, " filename*11*="));
	struct mime_message *msg = NULL;
	const char *error = NULL;
	assert_int_equal(mime_parse(data, strlen(data), NULL, &msg, &error), 0);
	assert_int_equal(strlen(msg->attachments[0].filename), 200);
	assert_true(strncmp(msg->attachments[0].filename, strbuf_str(&longname), 200) == 0);
	mime_message_free(&msg);
	free(data);
	strbuf_free(&longname);
	strvec_free(&f.to);
}

static void
test_calendar_invitation(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	const char *ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nVERSION:2.0\r\n"
	                  "PRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:s1@example.org\r\n"
	                  "SUMMARY:Sesión 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	unsigned char pdf[] = {'%', 'P', 'D', 'F', 0, 0xff};
	struct compose_attachment att[] = {
	    {"invite.ics", NULL, ics, strlen(ics), "REQUEST"},
	    {"agenda.pdf", "application/pdf", pdf, sizeof(pdf), NULL},
	};
	f.mail.body = "You are invited to session 1.\n";
	f.mail.attachments = att;
	f.mail.nattachments = 2;
	char *data = compose_ok(&f.mail, NULL);
	char *head;
	const char *body;
	split_message(data, &head, &body);
	char *ct = header_get(head, "Content-Type");
	char *mixed = param_get(ct, "boundary");
	struct part outer[4], inner[4];
	size_t n = split_parts(body, mixed, outer, 4);
	assert_int_equal(n, 3);

	/* First: multipart/alternative { text/plain, text/calendar }. */
	char *v = header_get(outer[0].head, "Content-Type");
	assert_true(strncmp(v, "multipart/alternative;", 22) == 0);
	char *alt = param_get(v, "boundary");
	assert_string_not_equal(alt, mixed);
	free(v);
	size_t m = split_parts(outer[0].content, alt, inner, 4);
	assert_int_equal(m, 2);
	v = header_get(inner[0].head, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	char *text = qp_decode(inner[0].content);
	assert_string_equal(text, "You are invited to session 1.\n");
	free(text);
	v = header_get(inner[1].head, "Content-Type");
	assert_string_equal(v, "text/calendar; charset=UTF-8; method=REQUEST");
	free(v);
	struct strbuf dec = {0};
	b64_content(&dec, inner[1].content);
	assert_string_equal(strbuf_str(&dec), ics);
	strbuf_free(&dec);
	parts_free(inner, m);

	/* Then the .ics as a file, application/ics as Google Calendar sends
	 * it, then the other attachment. */
	v = header_get(outer[1].head, "Content-Type");
	assert_string_equal(v, "application/ics; name=\"invite.ics\"");
	free(v);
	v = header_get(outer[1].head, "Content-Disposition");
	assert_string_equal(v, "attachment; filename=\"invite.ics\"");
	free(v);
	b64_content(&dec, outer[1].content);
	assert_string_equal(strbuf_str(&dec), ics);
	strbuf_free(&dec);
	v = header_get(outer[2].head, "Content-Type");
	assert_string_equal(v, "application/pdf; name=\"agenda.pdf\"");
	free(v);
	b64_content(&dec, outer[2].content);
	assert_int_equal(dec.len, sizeof(pdf));
	assert_memory_equal(dec.buf, pdf, sizeof(pdf));
	strbuf_free(&dec);
	parts_free(outer, n);

	/* A cancellation says so in the method. */
	att[0].inline_calendar_method = "CANCEL";
	char *cancel = compose_ok(&f.mail, NULL);
	assert_non_null(strstr(cancel, "\r\nContent-Type: text/calendar; charset=UTF-8; "
	                               "method=CANCEL\r\n"));
	free(cancel);

	free(alt);
	free(mixed);
	free(ct);
	free(head);
	free(data);
	strvec_free(&f.to);
}

static void
test_attachment_errors(void **state)
{
	(void)state;
	struct fixture f;
	char *data = NULL;
	size_t len;
	const char *error;
	struct compose_attachment two_cal[] = {
	    {"a.ics", NULL, "x", 1, "REQUEST"},
	    {"b.ics", NULL, "x", 1, "CANCEL"},
	};
	struct compose_attachment bad_type = {"a.pdf", "application/pdf; name=x", "x", 1, NULL};
	struct compose_attachment bad_type2 = {"a.pdf", "pdf", "x", 1, NULL};
	struct compose_attachment bad_method = {"a.ics", NULL, "x", 1, "REQUEST\r\nX: y"};
	struct compose_attachment no_data = {"a.pdf", NULL, NULL, 10, NULL};
	struct {
		const struct compose_attachment *att;
		size_t n;
		const char *says;
	} cases[] = {
	    {two_cal, 2, "more than one calendar"},
	    {&bad_type, 1, "content type"},
	    {&bad_type2, 1, "content type"},
	    {&bad_method, 1, "calendar method"},
	    {&no_data, 1, "no data"},
	    {NULL, 1, "none given"},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		fixture_init(&f);
		f.mail.attachments = cases[i].att;
		f.mail.nattachments = cases[i].n;
		error = NULL;
		assert_int_equal(compose_message(&f.mail, &data, &len, &error), -1);
		assert_null(data);
		if (error == NULL || strstr(error, cases[i].says) == NULL)
			fail_msg("case %zu: error \"%s\", want \"%s\"", i, error, cases[i].says);
		strvec_free(&f.to);
	}
}

/* compose_readdress: To, Message-ID and Date replaced (a To folded over
 * several lines included), every other header and the body kept. */
static void
test_readdress(void **state)
{
	(void)state;
	struct fixture f;
	char *data, *copy = NULL, *expect;
	const char *error = NULL, *body;
	size_t len, copy_len = 0;

	fixture_init(&f);
	for (int i = 0; i < 6; i++)
		strvec_push(&f.to, "someone.with.a.long.address@department.example.org");
	data = compose_ok(&f.mail, &len);
	assert_non_null(strstr(data, "\r\n ")); /* the To header is folded */
	assert_int_equal(compose_readdress(data, len, "ana.ruiz@example.org", "new-1@example.org",
	                                   1764667200 /* 2025-12-02T09:20:00Z */, &copy, &copy_len,
	                                   &error),
	                 0);
	assert_int_equal(strlen(copy), copy_len);
	assert_non_null(strstr(copy, "\r\nTo: ana.ruiz@example.org\r\n"));
	assert_null(strstr(copy, "alice@example.com"));
	assert_null(strstr(copy, "someone.with"));
	assert_non_null(strstr(copy, "\r\nMessage-ID: <new-1@example.org>\r\n"));
	assert_null(strstr(copy, "0123abcd@example.org"));
	assert_non_null(strstr(copy, "Date: Tue, 2 Dec 2025"));
	assert_non_null(strstr(copy, "\r\nIn-Reply-To: <orig-1@mail.example.com>\r\n"));
	assert_non_null(strstr(copy, "\r\nReply-To: mentoring+t1p2kabcdefghijklmnop@example.org"));
	assert_non_null(strstr(copy, "\r\nSubject: Your meeting report\r\n"));
	body = strstr(data, "\r\n\r\n");
	expect = strstr(copy, "\r\n\r\n");
	assert_non_null(body);
	assert_non_null(expect);
	assert_string_equal(expect, body);
	free(copy);
	copy = NULL;

	assert_int_equal(compose_readdress(data, len, "not an address", "n@example.org", 0, &copy,
	                                   &copy_len, &error),
	                 -1);
	assert_non_null(strstr(error, "To"));
	assert_int_equal(compose_readdress(data, len, "a@example.org", "bad id <x>", 0, &copy,
	                                   &copy_len, &error),
	                 -1);
	assert_non_null(strstr(error, "Message-ID"));
	/* Only a header block, no body: refused. */
	assert_int_equal(compose_readdress("To: a@b\r\nSubject: x\r\n", 22, "a@example.org",
	                                   "n@example.org", 0, &copy, &copy_len, &error),
	                 -1);
	assert_null(copy);
	free(data);
	strvec_free(&f.to);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_subject_encoding),
	    cmocka_unit_test(test_header_injection),
	    cmocka_unit_test(test_qp_body),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_message_id),
	    cmocka_unit_test(test_no_attachment_unchanged),
	    cmocka_unit_test(test_attachments),
	    cmocka_unit_test(test_attachment_filenames),
	    cmocka_unit_test(test_calendar_invitation),
	    cmocka_unit_test(test_attachment_errors),
	    cmocka_unit_test(test_readdress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
