/* Unit tests for mime: inline messages, checked as a reader of the result
 * would check them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

static void
assert_utf8(const char *s)
{
	if (s != NULL)
		assert_true(utf8_valid(s, strlen(s)));
}

/* Every string of msg is valid UTF-8. */
static void
assert_all_utf8(const struct mime_message *msg)
{
	size_t i;

	assert_utf8(msg->message_id);
	assert_utf8(msg->from_addr);
	assert_utf8(msg->from_name);
	assert_utf8(msg->reply_to);
	assert_utf8(msg->return_path);
	assert_utf8(msg->subject);
	assert_utf8(msg->in_reply_to);
	assert_utf8(msg->content_type);
	assert_utf8(msg->report_type);
	assert_utf8(msg->text);
	assert_utf8(msg->delivery_status);
	assert_utf8(msg->returned_headers);
	for (i = 0; i < msg->to.n; i++)
		assert_utf8(msg->to.v[i]);
	for (i = 0; i < msg->cc.n; i++)
		assert_utf8(msg->cc.v[i]);
	for (i = 0; i < msg->references.n; i++)
		assert_utf8(msg->references.v[i]);
	for (i = 0; i < msg->defects.n; i++)
		assert_utf8(msg->defects.v[i]);
	for (i = 0; i < msg->nheaders; i++) {
		assert_utf8(msg->headers[i].name);
		assert_utf8(msg->headers[i].value);
	}
	for (i = 0; i < msg->nattachments; i++) {
		assert_utf8(msg->attachments[i].filename);
		assert_utf8(msg->attachments[i].content_type);
	}
}

static struct mime_message *
parse_len(const char *raw, size_t len)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;

	assert_int_equal(mime_parse(raw, len, NULL, &msg, &error), 0);
	assert_non_null(msg);
	assert_non_null(msg->text);
	assert_non_null(msg->subject);
	assert_non_null(msg->content_type);
	assert_all_utf8(msg);
	return msg;
}

static struct mime_message *
parse(const char *raw)
{
	return parse_len(raw, strlen(raw));
}

static void
test_plain(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: \"Ann Example\" <Ann@Example.COM>\r\n"
	            "To: bob@example.org, \"Carl\" <carl@example.org>\r\n"
	            "Cc: dee@example.org\r\n"
	            "Reply-To: <replies@example.com>\r\n"
	            "Return-Path: <>\r\n"
	            "Subject: Hello\r\n"
	            " there\r\n"
	            "Date: Tue, 1 Mar 2022 10:00:00 +0100\r\n"
	            "Message-ID: <abc@example.com>\r\n"
	            "In-Reply-To: <parent@example.com>\r\n"
	            "References: <root@example.com>\r\n <parent@example.com>\r\n"
	            "\r\n"
	            "Hi Bob,\r\nsee you.\r\n");
	assert_string_equal(msg->from_addr, "ann@example.com");
	assert_string_equal(msg->from_name, "Ann Example");
	assert_string_equal(msg->subject, "Hello there");
	assert_string_equal(msg->message_id, "abc@example.com");
	assert_string_equal(msg->in_reply_to, "parent@example.com");
	assert_int_equal(msg->references.n, 2);
	assert_string_equal(msg->references.v[0], "root@example.com");
	assert_string_equal(msg->references.v[1], "parent@example.com");
	assert_int_equal(msg->to.n, 2);
	assert_string_equal(msg->to.v[0], "bob@example.org");
	assert_string_equal(msg->to.v[1], "carl@example.org");
	assert_int_equal(msg->cc.n, 1);
	assert_string_equal(msg->reply_to, "replies@example.com");
	assert_string_equal(msg->return_path, "");
	/* 2022-03-01 09:00:00 UTC */
	assert_int_equal(msg->date, 1646125200);
	assert_string_equal(msg->content_type, "text/plain");
	assert_string_equal(msg->text, "Hi Bob,\nsee you.\n");
	assert_false(msg->text_from_html);
	assert_int_equal(msg->nattachments, 0);
	assert_null(msg->report_type);
	assert_null(msg->delivery_status);
	assert_string_equal(mime_header_get(msg, "subject"), "Hello there");
	assert_null(mime_header_get(msg, "X-Nope"));
	assert_false(strvec_contains_ci(&msg->defects, "no Message-ID"));
	mime_message_free(&msg);
	assert_null(msg);
}

static void
test_qp_latin1(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Subject: qp\n"
	            "Content-Type: text/plain; charset=ISO-8859-1\n"
	            "Content-Transfer-Encoding: quoted-printable\n"
	            "\n"
	            "Gr=FC=DFe aus K=F6ln, this line is long and soft =\n"
	            "broken here.\n");
	assert_string_equal(msg->text, "Grüße aus Köln, this line is long and soft broken here.\n");
	mime_message_free(&msg);
}

static void
test_base64_utf8(void **state)
{
	struct mime_message *msg;

	(void)state;
	/* "Привет, мир\n" */
	msg = parse("From: a@example.com\n"
	            "Content-Type: text/plain; charset=utf-8\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "0J/RgNC40LLQtdGCLCDQvNC40YAK\n");
	assert_string_equal(msg->text, "Привет, мир\n");
	assert_string_equal(msg->subject, "");
	mime_message_free(&msg);
}

static void
test_rfc2047(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>\n"
	            "Subject: =?UTF-8?B?w4lsw6hWZQ==?= =?utf-8?q?_caf=C3=A9?= and\n"
	            "X-Glued: =?utf-8?q?a?==?utf-8?q?b?=\n"
	            "X-Wrong: =?us-ascii?Q?Fran=C3=A7ais?=\n"
	            "X-Broken: =?utf-8?Q?unterminated\n"
	            "\n"
	            "body\n");
	assert_string_equal(msg->from_name, "André Pirard");
	assert_string_equal(msg->from_addr, "pirard@example.be");
	/* two adjacent words: the space between them goes, the encoded "_" stays */
	assert_string_equal(msg->subject, "ÉlèVe café and");
	assert_string_equal(mime_header_get(msg, "X-Glued"), "ab");
	/* declared us-ascii but the bytes are UTF-8 */
	assert_string_equal(mime_header_get(msg, "X-Wrong"), "Français");
	assert_string_equal(mime_header_get(msg, "X-Broken"), "=?utf-8?Q?unterminated");
	mime_message_free(&msg);
}

static void
test_alternative_prefers_plain(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/alternative; boundary=\"b1\"\n"
	            "\n"
	            "--b1\n"
	            "Content-Type: text/html; charset=utf-8\n"
	            "\n"
	            "<p>HTML version</p>\n"
	            "--b1\n"
	            "Content-Type: text/plain; charset=utf-8\n"
	            "\n"
	            "Plain version\n"
	            "--b1--\n");
	assert_string_equal(msg->content_type, "multipart/alternative");
	assert_string_equal(msg->text, "Plain version");
	assert_false(msg->text_from_html);
	assert_int_equal(msg->nattachments, 0);
	mime_message_free(&msg);
}

static void
test_html_only(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: text/html; charset=windows-1252\n"
	            "\n"
	            "<html><head><title>T</title><style>p{color:red}</style></head><body>"
	            "<p>Caf&eacute;   time \x93now\x94</p><p>line one<br>line two</p>"
	            "<ul><li>first</li><li>second</li></ul>"
	            "<script>alert(1)</script>"
	            "<blockquote type=\"cite\">old text<br>more old</blockquote>"
	            "</body></html>\n");
	assert_true(msg->text_from_html);
	assert_string_equal(msg->text, "Café time “now”\n\n"
	                               "line one\nline two\n\n"
	                               "- first\n- second\n"
	                               "> old text\n> more old");
	mime_message_free(&msg);
}

static void
test_html_quotes(void **state)
{
	char *t;
	const char *gmail = "<div dir=\"ltr\">New reply</div><br><div class=\"gmail_quote\">"
	                    "<div>On Mon, Ann wrote:</div><blockquote>Earlier</blockquote></div>";
	const char *outlook = "<p>Answer</p><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Ann</div>"
	                      "<div>Earlier text</div>";

	(void)state;
	t = mime_html_to_text(gmail, strlen(gmail));
	assert_string_equal(t, "New reply\n\n> On Mon, Ann wrote:\n>> Earlier");
	free(t);
	t = mime_html_to_text(outlook, strlen(outlook));
	assert_string_equal(t, "Answer\n\n> From: Ann\n> Earlier text");
	free(t);
	t = mime_html_to_text("", 0);
	assert_string_equal(t, "");
	free(t);
}

static void
test_attachment_rfc2231(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/mixed; boundary=xyz\n"
	            "\n"
	            "preamble\n"
	            "--xyz\n"
	            "Content-Type: text/plain\n"
	            "\n"
	            "See attached.\n"
	            "--xyz\n"
	            "Content-Type: text/plain; name=\"ignored.txt\"\n"
	            "Content-Disposition: attachment;\n"
	            " filename*=utf-8''%E2%82%AC%20r%C3%A9sum%C3%A9.txt\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "aGVsbG8gd29ybGQ=\n"
	            "--xyz\n"
	            "Content-Type: application/pdf\n"
	            "Content-Disposition: attachment; filename*0*=utf-8''%C3%A9t%C3%A9;\n"
	            " filename*1=\".pdf\"\n"
	            "\n"
	            "%PDF\n"
	            "--xyz--\n");
	assert_string_equal(msg->text, "See attached.");
	assert_int_equal(msg->nattachments, 2);
	assert_string_equal(msg->attachments[0].filename, "€ résumé.txt");
	assert_string_equal(msg->attachments[0].content_type, "text/plain");
	assert_int_equal(msg->attachments[0].size, 11);
	assert_string_equal(msg->attachments[1].filename, "été.pdf");
	assert_string_equal(msg->attachments[1].content_type, "application/pdf");
	assert_int_equal(msg->attachments[1].size, 4);
	mime_message_free(&msg);
}

static void
test_attachment_never_text(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/mixed; boundary=xyz\n"
	            "\n"
	            "--xyz\n"
	            "Content-Type: text/plain\n"
	            "Content-Disposition: attachment; filename=notes.txt\n"
	            "\n"
	            "attached notes\n"
	            "--xyz--\n");
	assert_string_equal(msg->text, "");
	assert_int_equal(msg->nattachments, 1);
	assert_string_equal(msg->attachments[0].filename, "notes.txt");
	mime_message_free(&msg);
}

/* Transfer decoding: a base64 text part is decoded; base64 attachments
 * are only measured (the fast path for clean blocks, then byte by byte
 * after padding or a URL-safe digit); quoted-printable soft breaks. */
static void
test_transfer_decoding_sizes(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/mixed; boundary=xyz\n"
	            "\n"
	            "--xyz\n"
	            "Content-Type: text/plain; charset=utf-8\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "aGVsbG8gd29ybGQh\n"
	            "--xyz\n"
	            "Content-Type: application/octet-stream\n"
	            "Content-Disposition: attachment; filename=bytes.bin\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n"
	            "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\n"
	            "cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\n"
	            "q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsc=\n"
	            "--xyz\n"
	            "Content-Type: application/octet-stream\n"
	            "Content-Disposition: attachment; filename=odd.bin\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "aGk=aGk_\n"
	            "--xyz\n"
	            "Content-Type: text/plain\n"
	            "Content-Disposition: attachment; filename=qp.txt\n"
	            "Content-Transfer-Encoding: quoted-printable\n"
	            "\n"
	            "soft=\n"
	            "break =3D\n"
	            "--xyz--\n");
	assert_string_equal(msg->text, "hello world!");
	assert_int_equal(msg->nattachments, 3);
	assert_string_equal(msg->attachments[0].filename, "bytes.bin");
	assert_int_equal(msg->attachments[0].size, 200);
	/* "aGk" is two bytes, "=" ends it, "aGk_" three more */
	assert_int_equal(msg->attachments[1].size, 5);
	/* "softbreak =": the last line end belongs to the boundary */
	assert_int_equal(msg->attachments[2].size, 11);
	assert_true(strvec_contains_ci(&msg->defects, "bad base64"));
	mime_message_free(&msg);
}

static void
test_dsn(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: MAILER-DAEMON@mx.example.com\n"
	            "To: sender@example.com\n"
	            "Subject: Undelivered Mail Returned to Sender\n"
	            "Content-Type: multipart/report; report-type=delivery-status;\n"
	            "\tboundary=\"RB\"\n"
	            "\n"
	            "--RB\n"
	            "Content-Type: text/plain\n"
	            "\n"
	            "I'm sorry to have to inform you that your message could not be delivered.\n"
	            "--RB\n"
	            "Content-Type: message/delivery-status\n"
	            "\n"
	            "Reporting-MTA: dns; mx.example.com\n"
	            "\n"
	            "Final-Recipient: rfc822; gone@example.org\n"
	            "Action: failed\n"
	            "Status: 5.1.1\n"
	            "--RB\n"
	            "Content-Type: message/rfc822\n"
	            "\n"
	            "From: sender@example.com\n"
	            "To: gone@example.org\n"
	            "Subject: [mentord] your match\n"
	            "Message-ID: <tok123@mentord.example.com>\n"
	            "\n"
	            "original body\n"
	            "--RB--\n");
	assert_string_equal(msg->content_type, "multipart/report");
	assert_string_equal(msg->report_type, "delivery-status");
	assert_non_null(msg->delivery_status);
	assert_non_null(strstr(msg->delivery_status, "Status: 5.1.1"));
	assert_non_null(msg->returned_headers);
	assert_non_null(strstr(msg->returned_headers, "Message-ID: <tok123@mentord.example.com>"));
	assert_null(strstr(msg->returned_headers, "original body"));
	assert_non_null(strstr(msg->text, "could not be delivered"));
	assert_int_equal(msg->nattachments, 0);
	mime_message_free(&msg);
}

static void
test_rfc822_headers_part(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: postmaster@example.com\n"
	            "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n"
	            "\n"
	            "--B\n"
	            "Content-Type: text/plain\n\nfailed\n"
	            "--B\n"
	            "Content-Type: text/rfc822-headers\n\n"
	            "Message-ID: <x@y>\r\nSubject: s\n"
	            "--B--\n");
	assert_non_null(msg->returned_headers);
	assert_non_null(strstr(msg->returned_headers, "Message-ID: <x@y>\nSubject: s"));
	mime_message_free(&msg);
}

static void
test_forwarded_message_is_attachment(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/mixed; boundary=B\n"
	            "\n"
	            "--B\n"
	            "Content-Type: text/plain\n\nFYI\n"
	            "--B\n"
	            "Content-Type: message/rfc822\n\n"
	            "From: c@example.com\nSubject: inner\n\ninner text\n"
	            "--B--\n");
	assert_string_equal(msg->text, "FYI");
	assert_null(msg->returned_headers);
	assert_int_equal(msg->nattachments, 1);
	assert_string_equal(msg->attachments[0].content_type, "message/rfc822");
	mime_message_free(&msg);
}

static void
test_windows1252_undeclared(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: text/plain\n"
	            "\n"
	            "He said \x93hi\x94 \x96 ok\n");
	assert_string_equal(msg->text, "He said “hi” – ok\n");
	mime_message_free(&msg);
}

static void
test_wrong_charset_label(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: text/plain; charset=x-no-such-charset\n"
	            "\n"
	            "caf\xe9\n");
	assert_string_equal(msg->text, "café\n");
	assert_true(strvec_contains_ci(&msg->defects,
	                               "undecodable charset x-no-such-charset, used windows-1252"));
	mime_message_free(&msg);
}

static void
test_nul_removed(void **state)
{
	static const char raw[] = "From: a@example.com\nSubject: n\0ul\n\nbe\0fore\n";
	struct mime_message *msg;

	(void)state;
	msg = parse_len(raw, sizeof(raw) - 1);
	assert_string_equal(msg->text, "before\n");
	assert_string_equal(msg->subject, "nul");
	mime_message_free(&msg);
}

static void
test_cr_only(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\rSubject: cr\rMessage-ID: <cr@x>\r\rline 1\rline 2\r");
	assert_string_equal(msg->subject, "cr");
	assert_string_equal(msg->from_addr, "a@example.com");
	assert_string_equal(msg->message_id, "cr@x");
	assert_string_equal(msg->text, "line 1\nline 2\n");
	mime_message_free(&msg);
}

static void
test_flowed(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: text/plain; charset=utf-8; format=flowed\n"
	            "\n"
	            "This is a soft \nbroken line.\n"
	            "> quoted soft \n> continued\n"
	            "-- \nsig\n");
	assert_string_equal(msg->text,
	                    "This is a soft broken line.\n> quoted soft continued\n-- \nsig\n");
	mime_message_free(&msg);
}

static void
test_too_many_parts(void **state)
{
	struct mime_limits lim = {1024 * 1024, 5, 20};
	struct strbuf sb = {0};
	struct mime_message *msg = NULL;
	const char *error = NULL;
	int i;

	(void)state;
	strbuf_adds(&sb, "From: a@example.com\nContent-Type: multipart/mixed; boundary=B\n\n");
	for (i = 0; i < 8; i++)
		strbuf_addf(&sb, "--B\nContent-Type: text/plain\n\npart %d\n", i);
	strbuf_adds(&sb, "--B--\n");
	assert_int_equal(mime_parse(sb.buf, sb.len, &lim, &msg, &error), -1);
	assert_null(msg);
	assert_non_null(error);
	assert_string_equal(error, "message has 9 MIME parts; the limit is 5");

	/* the same message fits the defaults */
	assert_int_equal(mime_parse(sb.buf, sb.len, NULL, &msg, &error), 0);
	assert_string_equal(msg->text, "part 0");
	mime_message_free(&msg);

	lim.max_parts = 500;
	lim.max_bytes = 10;
	assert_int_equal(mime_parse(sb.buf, sb.len, &lim, &msg, &error), -1);
	assert_null(msg);
	assert_non_null(strstr(error, "the limit is 10"));
	strbuf_free(&sb);
}

static void
test_too_deep(void **state)
{
	struct mime_limits lim = {1024 * 1024, 500, 3};
	struct strbuf sb = {0};
	struct mime_message *msg = NULL;
	const char *error = NULL;
	int i;

	(void)state;
	strbuf_adds(&sb, "From: a@example.com\n");
	for (i = 0; i < 6; i++)
		strbuf_addf(&sb, "Content-Type: multipart/mixed; boundary=B%d\n\n--B%d\n", i, i);
	strbuf_adds(&sb, "Content-Type: text/plain\n\ndeep\n");
	for (i = 5; i >= 0; i--)
		strbuf_addf(&sb, "--B%d--\n", i);
	assert_int_equal(mime_parse(sb.buf, sb.len, &lim, &msg, &error), -1);
	assert_null(msg);
	assert_non_null(strstr(error, "the limit is 3"));
	assert_int_equal(mime_parse(sb.buf, sb.len, NULL, &msg, &error), 0);
	assert_string_equal(msg->text, "deep");
	mime_message_free(&msg);
	strbuf_free(&sb);
}

static void
test_no_message_id(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\nSubject: x\n\nbody\n");
	assert_null(msg->message_id);
	assert_null(msg->in_reply_to);
	assert_int_equal(msg->references.n, 0);
	assert_int_equal(msg->date, 0);
	assert_null(msg->return_path);
	assert_true(strvec_contains_ci(&msg->defects, "no Message-ID"));
	mime_message_free(&msg);
}

static void
test_missing_boundary_and_bad_base64(void **state)
{
	struct mime_message *msg;

	(void)state;
	msg = parse("From: a@example.com\n"
	            "Content-Type: multipart/mixed; boundary=B\n"
	            "\n"
	            "--B\n"
	            "Content-Type: text/plain\n"
	            "Content-Transfer-Encoding: base64\n"
	            "\n"
	            "aGk*hIQ==\n");
	assert_true(strvec_contains_ci(&msg->defects, "missing closing boundary"));
	assert_true(strvec_contains_ci(&msg->defects, "bad base64"));
	mime_message_free(&msg);
}

static void
test_garbage(void **state)
{
	unsigned char raw[4096];
	struct mime_message *msg;
	size_t i;
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < sizeof(raw); i++) {
		x = x * 1103515245u + 12345u;
		raw[i] = (unsigned char)(x >> 16);
	}
	msg = parse_len((const char *)raw, sizeof(raw));
	mime_message_free(&msg);
	msg = parse_len("", 0);
	assert_string_equal(msg->text, "");
	assert_null(msg->from_addr);
	mime_message_free(&msg);
	msg = parse("\xff\xfe:\x80\n\n\x80\x81");
	mime_message_free(&msg);
	msg = parse("Content-Type: multipart/mixed\n\nno boundary at all\n");
	mime_message_free(&msg);
}

static void
test_to_utf8(void **state)
{
	char *s;

	(void)state;
	/* ISO-2022-JP "日本" */
	s = mime_to_utf8("\x1b$BF|K\\\x1b(B", 10, "iso-2022-jp");
	assert_string_equal(s, "日本");
	free(s);
	/* Shift_JIS "日本" */
	s = mime_to_utf8("\x93\xfa\x96\x7b", 4, "Shift_JIS");
	assert_string_equal(s, "日本");
	free(s);
	/* Big5 "中文" */
	s = mime_to_utf8("\xa4\xa4\xa4\xe5", 4, "big5");
	assert_string_equal(s, "中文");
	free(s);
	s = mime_to_utf8("\xc7\xd1", 2, "ks_c_5601-1987");
	assert_string_equal(s, "한");
	free(s);
	s = mime_to_utf8("a+AOk-", 6, "unicode-1-1-utf-7");
	assert_string_equal(s, "aé");
	free(s);
	s = mime_to_utf8("caf\xc3\xa9", 5, "utf8");
	assert_string_equal(s, "café");
	free(s);
	s = mime_to_utf8("\x81\x8d\xff", 3, NULL);
	assert_true(utf8_valid(s, strlen(s)));
	free(s);
}

/* ---- the data-driven cases of tests/unit/data/mime ---- */

/* The field of msg that a row of expect.tsv names, as a string; the
 * caller owns it. */
static char *
mime_field(const struct mime_message *msg, const char *field)
{
	struct strbuf sb = {0};

	if (strcmp(field, "text") == 0)
		return xstrdup(msg->text);
	if (strcmp(field, "subject") == 0)
		return xstrdup(msg->subject);
	if (strcmp(field, "from_name") == 0)
		return xstrdup(msg->from_name != NULL ? msg->from_name : "");
	if (strcmp(field, "content_type") == 0)
		return xstrdup(msg->content_type);
	if (strcmp(field, "to") == 0)
		return strvec_join(&msg->to, ",");
	if (strcmp(field, "defects") == 0)
		return strvec_join(&msg->defects, ",");
	if (strncmp(field, "header:", 7) == 0) {
		const char *v = mime_header_get(msg, field + 7);
		return xstrdup(v != NULL ? v : "");
	}
	assert_string_equal(field, "attachments");
	strbuf_add(&sb, "", 0);
	for (size_t i = 0; i < msg->nattachments; i++)
		strbuf_addf(&sb, "%s%s:%zu:%s", i > 0 ? "," : "", msg->attachments[i].filename,
		            msg->attachments[i].size, msg->attachments[i].content_type);
	return strbuf_detach(&sb);
}

/* "\n" in a value of expect.tsv is a line end; the result is owned. */
static char *
unescape(const char *v)
{
	struct strbuf sb = {0};

	strbuf_add(&sb, "", 0);
	for (; *v != '\0'; v++) {
		if (v[0] == '\\' && v[1] == 'n') {
			strbuf_addc(&sb, '\n');
			v++;
		} else {
			strbuf_addc(&sb, *v);
		}
	}
	return strbuf_detach(&sb);
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* One row (file, field, op, value); returns whether it holds. */
static bool
run_mime_row(const char *dir, char **cols)
{
	char *path = xasprintf("%s/%s", dir, cols[0]), *data = NULL;
	struct mime_message *msg = NULL;
	const char *error = NULL;
	size_t len = 0;
	char *got, *want = unescape(cols[3]);
	bool ok;

	assert_int_equal(read_file(path, 1 << 20, &data, &len, &error), 0);
	msg = parse_len(data, len);
	got = mime_field(msg, cols[1]);
	if (strcmp(cols[2], "=") == 0) {
		rtrim(got);
		rtrim(want);
		ok = strcmp(got, want) == 0;
	} else if (strcmp(cols[2], "~") == 0) {
		ok = strstr(got, want) != NULL;
	} else {
		assert_string_equal(cols[2], "!~");
		ok = strstr(got, want) == NULL;
	}
	if (!ok)
		print_error("%s: %s %s \"%s\"; got \"%s\"\n", cols[0], cols[1], cols[2], want, got);
	free(got);
	free(want);
	mime_message_free(&msg);
	free(data);
	free(path);
	return ok;
}

/* Every row of tests/unit/data/mime/expect.tsv.  A "# " line names the
 * class of the messages that follow; a message is a case, which fails when
 * one of its rows does.  Counts are printed per class. */
static void
test_mime_classes(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR");
	char *dir, *path, *data = NULL, *last_file = NULL;
	const char *error = NULL;
	char cls[120] = "";
	size_t len = 0, cases = 0, total = 0, failed = 0, total_failed = 0;
	bool case_ok = true;

	(void)state;
	assert_non_null(src);
	dir = xasprintf("%s/tests/unit/data/mime", src);
	path = xasprintf("%s/expect.tsv", dir);
	assert_int_equal(read_file(path, 1 << 20, &data, &len, &error), 0);
	for (char *line = data, *next; line != NULL && *line != '\0'; line = next) {
		char *cols[4] = {NULL, NULL, NULL, NULL};
		size_t ncols = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "# ", 2) == 0) {
			if (last_file != NULL) {
				failed += !case_ok;
				cases++;
			}
			if (cases > 0)
				print_message("mime/%s: %zu cases, %zu failed\n", cls, cases,
				              failed);
			total += cases;
			total_failed += failed;
			snprintf(cls, sizeof(cls), "%s", line + 2);
			cases = failed = 0;
			free(last_file);
			last_file = NULL;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (char *p = line; p != NULL && ncols < 4; ncols++) {
			cols[ncols] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				*p++ = '\0';
		}
		assert_int_equal(ncols, 4);
		if (last_file == NULL || strcmp(last_file, cols[0]) != 0) {
			if (last_file != NULL) {
				failed += !case_ok;
				cases++;
			}
			free(last_file);
			last_file = xstrdup(cols[0]);
			case_ok = true;
		}
		case_ok = run_mime_row(dir, cols) && case_ok;
	}
	if (last_file != NULL) {
		failed += !case_ok;
		cases++;
	}
	if (cases > 0)
		print_message("mime/%s: %zu cases, %zu failed\n", cls, cases, failed);
	total += cases;
	total_failed += failed;
	print_message("mime: %zu cases, %zu failed\n", total, total_failed);
	free(last_file);
	free(data);
	free(path);
	free(dir);
	assert_true(total > 0);
	assert_int_equal(total_failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_qp_latin1),
	    cmocka_unit_test(test_base64_utf8),
	    cmocka_unit_test(test_rfc2047),
	    cmocka_unit_test(test_alternative_prefers_plain),
	    cmocka_unit_test(test_html_only),
	    cmocka_unit_test(test_html_quotes),
	    cmocka_unit_test(test_attachment_rfc2231),
	    cmocka_unit_test(test_attachment_never_text),
	    cmocka_unit_test(test_transfer_decoding_sizes),
	    cmocka_unit_test(test_dsn),
	    cmocka_unit_test(test_rfc822_headers_part),
	    cmocka_unit_test(test_forwarded_message_is_attachment),
	    cmocka_unit_test(test_windows1252_undeclared),
	    cmocka_unit_test(test_wrong_charset_label),
	    cmocka_unit_test(test_nul_removed),
	    cmocka_unit_test(test_cr_only),
	    cmocka_unit_test(test_flowed),
	    cmocka_unit_test(test_too_many_parts),
	    cmocka_unit_test(test_too_deep),
	    cmocka_unit_test(test_no_message_id),
	    cmocka_unit_test(test_missing_boundary_and_bad_base64),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_to_utf8),
	    cmocka_unit_test(test_mime_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
