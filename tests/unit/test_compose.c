/* Unit tests for compose: the bytes are parsed back by hand here, with a
 * small unfolder, RFC 2047 decoder and quoted-printable decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compose.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers),          cmocka_unit_test(test_subject_encoding),
	    cmocka_unit_test(test_header_injection), cmocka_unit_test(test_qp_body),
	    cmocka_unit_test(test_addresses),        cmocka_unit_test(test_message_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
