/* Unit tests for mime_html: HTML -> text through libxml2's push parser, as
 * a reader of the text would check it: the block structure, the same text
 * wherever the HTML is cut into chunks, stray end tags (which stop libxml2
 * 2.9's push parser when no element is open), and the MIME_TEXT_MAX cap. */
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
assert_html(const char *html, const char *want)
{
	char *t = mime_html_to_text(html, strlen(html));

	assert_string_equal(t, want);
	free(t);
}

static void
test_blocks(void **state)
{
	(void)state;
	assert_html("<html><head><title>T</title><style>p{color:red}</style>"
	            "<script>alert(\"x\")</script></head><body>"
	            "<h1>Title</h1><p>First   paragraph,\n two lines.</p>"
	            "<p>Second<br>line two<br/>line three</p>"
	            "<ul><li>one</li><li>two <b>bold</b></li></ul>"
	            "<div>div text</div>"
	            "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>"
	            "<pre>  keep   this\n    indented</pre>"
	            "<p>caf&eacute; &amp; &lt;tea&gt; &#8212; &nbsp;end</p>"
	            "<p class=MsoNormal>Outlook<o:p>line</o:p></p>"
	            "<noscript>no</noscript>"
	            "<blockquote>quoted<blockquote>twice</blockquote></blockquote>after"
	            "</body></html>",
	            "Title\n\nFirst paragraph, two lines.\n\nSecond\nline two\nline three\n\n"
	            "- one\n- two bold\ndiv text\na b\nc d\n  keep   this\n    indented\n\n"
	            "café & <tea> — end\n\nOutlook\n\nline\n\n> quoted\n>> twice\nafter");
	/* empty blocks do not pile up blank lines; none at either end */
	assert_html("<div></div><p></p><div><p>a</p></div><p></p><p></p><div>b</div><br><br>",
	            "a\n\nb");
	/* a fragment without html or body */
	assert_html("Hello <i>you</i>,<br>bye", "Hello you,\nbye");
	/* Outlook's reply header: everything after it is quoted */
	assert_html("<p>Answer</p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt\">"
	            "<p><b>From:</b> Ann</p></div><p>Earlier text</p>",
	            "Answer\n\n> From: Ann\n\n> Earlier text");
	/* the text after </html> is read when nothing came before <html> */
	assert_html("<html><body><p>text</p></body></html>\n-- \nfooter", "text\n\n-- footer");
	assert_html("", "");
	assert_html("   \n ", "");
}

/* A document of about 6 KiB with what is hard to cut: a long style and a
 * script holding "</div>", entities, multi-byte characters, a stray end tag
 * before the first element, comments, <pre>, and text after </html>. */
static char *
tricky_document(void)
{
	struct strbuf sb = {0};
	size_t i;

	strbuf_adds(&sb, "</div>\r\n<html><head><meta charset=\"utf-8\"><style>\n");
	for (i = 0; i < 60; i++)
		strbuf_addf(&sb, "p.c%zu { margin: 0 0 %zupx 0; }\n", i, i);
	strbuf_adds(&sb, "</style><script>if (a < b) { x = \"</div>\"; }</script></head>"
	                 "<body><!-- a comment --><div dir=\"ltr\">");
	for (i = 0; i < 40; i++)
		strbuf_addf(&sb,
		            "<p class=MsoNormal>Line %zu: caf&eacute; “quoted” 中文 😀 &amp; "
		            "&lt;x&gt;&nbsp;&nbsp;end<o:p></o:p></p>\r\n",
		            i);
	strbuf_adds(&sb, "</p><pre>  a  b\n   c</pre><ul><li>one<li>two</ul>"
	                 "<div class=\"gmail_quote\">On Mon, Ann wrote:<blockquote>"
	                 "Earlier<br>text</blockquote></div></div></body></html>\r\n"
	                 "-- \r\nFooter é after html\r\n");
	return strbuf_detach(&sb);
}

static char *
convert_pieces(const char *html, size_t len, size_t cut)
{
	struct mime_html *h = mime_html_new();

	(void)mime_html_feed(h, html, cut);
	(void)mime_html_feed(h, html + cut, len - cut);
	return mime_html_finish(&h);
}

static void
test_every_chunk_boundary(void **state)
{
	char *html = tricky_document(), *whole, *t;
	size_t len = strlen(html), cut, failed = 0;
	struct mime_html *h;

	(void)state;
	assert_true(len > 4096); /* the converter's own 4 KiB chunks move too */
	whole = mime_html_to_text(html, len);
	assert_non_null(strstr(whole, "Line 0: café “quoted” 中文 😀 & <x> end\n\nLine 1:"));
	assert_non_null(strstr(whole, "Line 39:"));
	assert_non_null(strstr(whole, "\n  a  b\n   c\n- one\n- two\n> On Mon, Ann wrote:\n"
	                              ">> Earlier\n>> text\n\n-- Footer é after html"));
	assert_null(strstr(whole, "margin"));
	assert_null(strstr(whole, "</div>"));
	for (cut = 0; cut <= len; cut++) {
		t = convert_pieces(html, len, cut);
		if (strcmp(t, whole) != 0) {
			if (failed++ == 0)
				print_message("cut at %zu: %s\n", cut, t);
		}
		free(t);
	}
	assert_int_equal(failed, 0);

	/* byte by byte */
	h = mime_html_new();
	for (cut = 0; cut < len; cut++)
		(void)mime_html_feed(h, html + cut, 1);
	t = mime_html_finish(&h);
	assert_string_equal(t, whole);
	free(t);
	free(whole);
	free(html);
}

/* libxml2 2.9's push parser takes an end tag while no element is open for
 * the end of the document, and stops producing events; the whole-document
 * parser ignores it.  Stray end tags where elements are open are ignored
 * by both. */
static void
test_stray_end_tag(void **state)
{
	const char *html = "</p>Hello <b>world</b><p>more</p>";
	char *t;
	size_t cut;

	(void)state;
	assert_html(html, "Hello world\n\nmore");
	assert_html("</div><p>first</p><div>second</div>", "first\n\nsecond");
	assert_html("<!DOCTYPE html></div>\n<html><body><p>one</p></p></div>two</body></html>",
	            "one\n\ntwo");
	assert_html("<html><body><div>a</div></div></p>b<p>c</p></body></html>", "a\nb\n\nc");
	assert_html("</p></div></span>   </td>text", "text");
	/* cut right after the stray tag, and everywhere else */
	for (cut = 0; cut <= strlen(html); cut++) {
		t = convert_pieces(html, strlen(html), cut);
		assert_string_equal(t, "Hello world\n\nmore");
		free(t);
	}
	/* the last '&' or '<' is text */
	assert_html("Tom &", "Tom &");
	assert_html("1 <", "1 <");
}

static void
test_cap(void **state)
{
	struct strbuf html = {0}, want = {0};
	struct mime_html *h;
	size_t i, fed, piece = 65536;
	char *t;
	bool more = true;

	(void)state;
	/* 2.6 MB of HTML making 1.9 MB of text */
	for (i = 0; i < 150000; i++) {
		strbuf_addf(&html, "<p>line %06zu</p>", i);
		strbuf_addf(&want, "%sline %06zu", i > 0 ? "\n\n" : "", i);
	}
	t = mime_html_to_text(html.buf, html.len);
	assert_true(strlen(t) <= MIME_TEXT_MAX);
	assert_true(strlen(t) > MIME_TEXT_MAX - 100);
	assert_memory_equal(t, want.buf, strlen(t));
	/* cut at a line end */
	assert_true(strlen(t) >= 11);
	assert_memory_equal(t + strlen(t) - 11, "line ", 5);
	free(t);

	/* parsing stops at the cap: the feed says so, long before the end */
	h = mime_html_new();
	for (fed = 0; fed < html.len && more; fed += piece)
		more = mime_html_feed(h, html.buf + fed,
		                      fed + piece < html.len ? piece : html.len - fed);
	assert_false(more);
	assert_true(fed < html.len * 3 / 4);
	assert_false(mime_html_feed(h, "<p>more</p>", 11));
	t = mime_html_finish(&h);
	assert_true(strlen(t) <= MIME_TEXT_MAX);
	assert_null(h);
	free(t);

	/* one long line: cut at a character boundary */
	strbuf_free(&html);
	strbuf_adds(&html, "<p>");
	for (i = 0; i < 700000; i++)
		strbuf_adds(&html, "é");
	t = mime_html_to_text(html.buf, html.len);
	assert_true(strlen(t) <= MIME_TEXT_MAX);
	assert_true(strlen(t) >= MIME_TEXT_MAX - 1);
	assert_true(utf8_valid(t, strlen(t)));
	free(t);

	/* dropped without its text */
	h = mime_html_new();
	(void)mime_html_feed(h, "<p>x", 4);
	mime_html_free(&h);
	assert_null(h);
	strbuf_free(&html);
	strbuf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blocks),
	    cmocka_unit_test(test_every_chunk_boundary),
	    cmocka_unit_test(test_stray_end_tag),
	    cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
