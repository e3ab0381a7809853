/*
 * reply_extract on inline texts: each quoting style, signatures, fail-open,
 * and pathological inputs (ctest's timeout guards against slowness).
 */
#include "reply.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Checks that text trims to want, and that trimmed_r is set accordingly. */
static void
check(const char *text, const char *want)
{
	bool trimmed = false;
	char *got = reply_extract(text, strlen(text), &trimmed);

	assert_string_equal(got, want);
	assert_true(trimmed == (strcmp(want, text) != 0));
	free(got);
}

static void
test_plain_kept(void **state)
{
	(void)state;
	check("Hello,\n\nI can meet on Tuesday.", "Hello,\n\nI can meet on Tuesday.");
}

static void
test_quote_and_attribution(void **state)
{
	(void)state;
	check("Yes, Tuesday works.\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan <m@x.org> wrote:\n\n> "
	      "Can "
	      "we meet?\n> Thanks",
	      "Yes, Tuesday works.");
}

static void
test_attribution_wrapped(void **state)
{
	(void)state;
	check("I get it.\n\nOn Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\n"
	      "wrote:\n\n> Was this fixed?\n",
	      "I get it.");
}

static void
test_attribution_languages(void **state)
{
	(void)state;
	check("Ja.\n\nAm 12.03.2020 um 10:00 schrieb Hans Müller <h@x.de>:\n> Frage?", "Ja.");
	check("Oui.\n\nLe lun. 2 avr. 2012 à 18:26, Megan <m@x.org> a écrit :\n> Question ?",
	      "Oui.");
	check("Sí.\n\nEl 2 abr 2012, a las 18:26, Megan <m@x.org> escribió:\n> ¿Pregunta?", "Sí.");
	check("Sì.\n\nIl giorno 2 apr 2012, Megan <m@x.org> ha scritto:\n> Domanda?", "Sì.");
	check("Sim.\n\nEm 2 de abr de 2012, Megan <m@x.org> escreveu:\n> Pergunta?", "Sim.");
	check("Ja.\n\nOp 2 apr. 2012 om 18:26 schreef Megan <m@x.org>:\n> Vraag?", "Ja.");
	check("Ja.\n\nDen 2 apr 2012 kl. 18:26 skrev Megan <m@x.org>:\n> Fråga?", "Ja.");
	check("Tak.\n\nW dniu 2.04.2012 o 18:26, Megan <m@x.org> napisał(a):\n> Pytanie?", "Tak.");
	check("Да.\n\n02.04.2012 14:20 пользователь \"Bob\" <\nbob@x.org> написал:\n\n> Hi\n>",
	      "Да.");
}

static void
test_outlook_blocks(void **state)
{
	(void)state;
	check("Fine by me.\n\nFrom: Megan [mailto:m@x.org]\nSent: Friday, 23 March 2012\nTo: "
	      "John\nSubject: Meeting\n\nCan we meet?",
	      "Fine by me.");
	check("Gut.\n\n________________________________\nVon: Megan <m@x.org>\nGesendet: "
	      "Freitag, 23. März 2012\nAn: John\nBetreff: Treffen\n\nFrage",
	      "Gut.");
	check("Bien.\n\nDe : Megan <m@x.org>\nEnvoyé : vendredi 23 mars 2012\nÀ : John\nObjet "
	      ": Réunion\n\nQuestion",
	      "Bien.");
	check("Outlook reply\n\n ------------------------------\n\n*From:* Team [mailto:t@x.org]\n"
	      "*Sent:* Thursday, February 09, 2012 1:36 PM\n*To:* j@x.org\n*Subject:* News\n\nBody",
	      "Outlook reply");
	/* Windows Mail in Russian: capitalised Cyrillic keys, U+200E marks in
	 * the date (talon html_replies/windows_mail.html). */
	check("Хорошо.\n\nОт: Alexander L\nОтправлено: \xe2\x80\x8eчетверг\xe2\x80\x8e, "
	      "26 июня 2014 г.\nКому: Alex\n\nHello! How are you?",
	      "Хорошо.");
}

static void
test_original_and_forwarded(void **state)
{
	(void)state;
	check("Hello\n\n-----Original Message-----\nFrom: bob\nOld text", "Hello");
	check("This is a reply :)\n\n---Original Message---\nThis part should not be included",
	      "This is a reply :)");
	check("FYI\n\n---------- Forwarded message ---------\nFrom: x\nOld", "FYI");
	check("See below.\n\nBegin forwarded message:\n\nFrom: x\nOld", "See below.");
}

static void
test_signatures(void **state)
{
	(void)state;
	check("Hi there\n\n-- \nBob\nMentor, Team A", "Hi there");
	check("Hi there\n--\nBob", "Hi there");
	check("Here is another email\n\nSent from my iPhone", "Here is another email");
	check("Here is another email\n\nSent from my Verizon Wireless BlackBerry",
	      "Here is another email");
	check("Text\n\nGet Outlook for Android", "Text");
	check("Text\n\nVon meinem iPhone gesendet", "Text");
	check("Texte\n\nEnvoyé de mon iPhone", "Texte");
	check("Text\n\nSent from Mail for Windows", "Text");
}

static void
test_sent_from_sentence_kept(void **state)
{
	(void)state;
	check("Here is another email\n\nSent from my desk, is much easier then my mobile phone.",
	      "Here is another email\n\nSent from my desk, is much easier then my mobile phone.");
}

static void
test_bottom_post_and_inline(void **state)
{
	char *got;

	(void)state;
	/* Bottom posting: the quote answered stays as context, the
	 * attribution goes; for forms the quote goes too. */
	check("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello", "> Hi\nHello");
	got = reply_extract_with("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello", 52,
	                         REPLY_FOR_FORMS, NULL);
	assert_string_equal(got, "Hello");
	free(got);
	/* Inline answers keep their quotes; only the trailing quote goes. */
	check("> Q1?\nA1\n\n> Q2?\nA2\n\n> rest\n> of it", "> Q1?\nA1\n\n> Q2?\nA2");
}

/* Nothing but quotes: nothing new, an empty reply (for forms: the text, a
 * form may be filled in inside the quote). */
static void
test_all_quote_is_empty(void **state)
{
	bool trimmed = false;
	char *got;

	(void)state;
	got = reply_extract("> only\n> quoted\n", 16, &trimmed);
	assert_string_equal(got, "");
	assert_true(trimmed);
	free(got);
	got = reply_extract_with("> only\n> quoted\n", 16, REPLY_FOR_FORMS, &trimmed);
	assert_string_equal(got, "> only\n> quoted");
	assert_false(trimmed);
	free(got);
	got = reply_extract("", 0, &trimmed);
	assert_string_equal(got, "");
	assert_false(trimmed);
	free(got);
}

/* ---- the data-driven cases of tests/unit/data/replies ---- */

struct reply_case {
	char *name;
	struct strbuf input, expect, expect_forms;
	bool has_forms;
};

static void
reply_case_clear(struct reply_case *c)
{
	free(c->name);
	strbuf_free(&c->input);
	strbuf_free(&c->expect);
	strbuf_free(&c->expect_forms);
	memset(c, 0, sizeof(*c));
}

/* A section's text without its last line end. */
static const char *
section(struct strbuf *sb)
{
	if (sb->len > 0 && sb->buf[sb->len - 1] == '\n')
		strbuf_truncate(sb, sb->len - 1);
	return strbuf_str(sb);
}

/* Runs one case with LF and with CRLF line ends (and for forms when it has
 * an expect-forms); returns 1 when one of them fails. */
static int
run_case(const char *file, struct reply_case *c)
{
	struct strbuf crlf = {0};
	const char *in = section(&c->input), *want = section(&c->expect);
	int failures = 0;

	for (const char *p = in; *p != '\0'; p++) {
		if (*p == '\n')
			strbuf_addc(&crlf, '\r');
		strbuf_addc(&crlf, *p);
	}
	for (int variant = 0; variant < 3; variant++) {
		const char *text = variant == 1 ? strbuf_str(&crlf) : in;
		size_t len = strlen(text);
		enum reply_mode mode = variant == 2 ? REPLY_FOR_FORMS : REPLY_WITH_CONTEXT;
		const char *expected =
		    variant == 2 && c->has_forms ? section(&c->expect_forms) : want;
		char *got;

		if (variant == 2 && !c->has_forms)
			break;
		got = reply_extract_with(text, len, mode, NULL);
		if (strcmp(got, expected) != 0) {
			print_error("%s: case %s (%s): got\n---\n%s\n---\nwant\n---\n%s\n---\n",
			            file, c->name,
			            variant == 0   ? "LF"
			            : variant == 1 ? "CRLF"
			                           : "forms",
			            got, expected);
			failures++;
		}
		free(got);
	}
	strbuf_free(&crlf);
	return failures > 0 ? 1 : 0;
}

/* Reads the cases of one file ("### case NAME", "### expect",
 * "### expect-forms") and runs them; *ncases_r counts them. */
static int
run_case_file(const char *path, const char *file, size_t *ncases_r)
{
	char *data = NULL;
	size_t len = 0;
	struct reply_case c = {0};
	struct strbuf *cur = NULL;
	int failures = 0;
	const char *err = NULL;

	assert_int_equal(read_file(path, 1 << 20, &data, &len, &err), 0);
	*ncases_r = 0;
	for (char *p = data; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (n >= 9 && strncmp(p, "### case ", 9) == 0) {
			if (c.name != NULL) {
				failures += run_case(file, &c);
				(*ncases_r)++;
			}
			reply_case_clear(&c);
			c.name = xstrndup(p + 9, n - 9);
			cur = &c.input;
			strbuf_add(cur, "", 0);
		} else if (n == 10 && strncmp(p, "### expect", 10) == 0) {
			cur = &c.expect;
			strbuf_add(cur, "", 0);
		} else if (n == 16 && strncmp(p, "### expect-forms", 16) == 0) {
			cur = &c.expect_forms;
			c.has_forms = true;
			strbuf_add(cur, "", 0);
		} else if (cur != NULL) {
			strbuf_add(cur, p, n);
			strbuf_addc(cur, '\n');
		}
		p = nl != NULL ? nl + 1 : p + n;
	}
	if (c.name != NULL) {
		failures += run_case(file, &c);
		(*ncases_r)++;
	}
	reply_case_clear(&c);
	free(data);
	return failures;
}

/* Every class of tests/unit/data/replies: each case must give exactly its
 * expected text.  The counts are printed per class. */
static void
test_reply_classes(void **state)
{
	static const char *const classes[] = {
	    "attribution_wrapped", "attribution_unquoted", "attribution_top",
	    "quote_styles",        "signatures",           "forwarded",
	};
	const char *src = getenv("MENTORD_SOURCE_DIR");
	int failures = 0;
	size_t total = 0;

	(void)state;
	assert_non_null(src);
	for (size_t i = 0; i < N_ELEMENTS(classes); i++) {
		char *path = xasprintf("%s/tests/unit/data/replies/%s.txt", src, classes[i]);
		char *file = xasprintf("%s.txt", classes[i]);
		size_t n = 0;
		int f = run_case_file(path, file, &n);

		print_message("replies/%s: %zu cases, %d failed\n", classes[i], n, f);
		assert_true(n > 0);
		failures += f;
		total += n;
		free(path);
		free(file);
	}
	print_message("replies: %zu cases, %d failed\n", total, failures);
	assert_int_equal(failures, 0);
}

static void
test_crlf(void **state)
{
	(void)state;
	check("Yes.\r\n\r\nOn Mon, 2 Apr 2012, Bob <b@x.org> wrote:\r\n> Q\r\n", "Yes.");
}

static void
test_huge_quote_line(void **state)
{
	size_t n = 1024 * 1024;
	char *text = xmalloc(n + 16);
	char *got;

	(void)state;
	memcpy(text, "Reply\n", 6);
	memset(text + 6, '>', n);
	text[6 + n] = '\0';
	got = reply_extract(text, 6 + n, NULL);
	assert_string_equal(got, "Reply");
	free(got);
	free(text);
}

static void
test_pathological_lines(void **state)
{
	struct strbuf sb = {0};
	char *got;

	(void)state;
	strbuf_adds(&sb, "Top\n");
	/* 100k lines that each look like the start of an attribution, a
	 * header block or a signature without completing one. */
	for (int i = 0; i < 100000; i++) {
		switch (i % 4) {
		case 0:
			strbuf_adds(&sb, "On Mon, 2 Apr 2012 at 10:00, someone\n");
			break;
		case 1:
			strbuf_adds(&sb, "From: a@b.c\n");
			break;
		case 2:
			strbuf_adds(&sb, "Sent from my\n");
			break;
		default:
			strbuf_adds(&sb, "-- x --\n");
			break;
		}
	}
	got = reply_extract(sb.buf, sb.len, NULL);
	assert_true(strncmp(got, "Top\n", 4) == 0);
	free(got);
	strbuf_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_kept),
	    cmocka_unit_test(test_quote_and_attribution),
	    cmocka_unit_test(test_attribution_wrapped),
	    cmocka_unit_test(test_attribution_languages),
	    cmocka_unit_test(test_outlook_blocks),
	    cmocka_unit_test(test_original_and_forwarded),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_sent_from_sentence_kept),
	    cmocka_unit_test(test_bottom_post_and_inline),
	    cmocka_unit_test(test_all_quote_is_empty),
	    cmocka_unit_test(test_reply_classes),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_huge_quote_line),
	    cmocka_unit_test(test_pathological_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
