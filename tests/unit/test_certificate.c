/* Unit tests for certificate: the PDF is read back with poppler's
 * pdftotext and pdfinfo (poppler-utils, in tests/install-deps.sh), a reader
 * independent of cairo: what a participant's PDF viewer would show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certificate.h"
#include "util.h"

extern char **environ;

static char tmpdir[] = "/tmp/mentord-cert-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	/* pdfinfo prints dates in the local zone and language. */
	setenv("TZ", "UTC", 1);
	setenv("LC_ALL", "C.UTF-8", 1);
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

/* Whether a library whose file name contains name is mapped. */
static bool
mapped(const char *name)
{
	char *maps = NULL;
	size_t len;
	const char *error = NULL;
	if (read_file("/proc/self/maps", 16 << 20, &maps, &len, &error) < 0)
		fail_msg("%s", error);
	bool found = strstr(maps, name) != NULL;
	free(maps);
	return found;
}

static int
teardown(void **state)
{
	(void)state;
	char *pdf = xasprintf("%s/c.pdf", tmpdir), *txt = xasprintf("%s/c.txt", tmpdir);
	unlink(pdf);
	unlink(txt);
	rmdir(tmpdir);
	free(pdf);
	free(txt);
	return 0;
}

/* Runs a poppler tool on pdf[0..len) and returns what it wrote to the
 * output file (its last argument).  The test fails when the tool is
 * missing or fails: a certificate nobody can read is not a pass. */
static char *
poppler(const char *tool, const char *opt, const unsigned char *pdf, size_t len)
{
	char *pdf_path = xasprintf("%s/c.pdf", tmpdir), *txt_path = xasprintf("%s/c.txt", tmpdir);
	FILE *f = fopen(pdf_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pdf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);

	char *argv[6];
	size_t n = 0;
	argv[n++] = (char *)tool;
	if (opt != NULL)
		argv[n++] = (char *)opt;
	argv[n++] = pdf_path;
	if (strcmp(tool, "pdftotext") == 0)
		argv[n++] = txt_path;
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (strcmp(tool, "pdfinfo") == 0)
		posix_spawn_file_actions_addopen(&fa, 1, txt_path, O_WRONLY | O_CREAT | O_TRUNC,
		                                 0600);
	pid_t pid;
	int rc = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		fail_msg("cannot run %s (install poppler-utils): %s", tool, strerror(rc));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s failed on the certificate (status %d)", tool, status);

	char *out = NULL;
	size_t out_len;
	const char *error = NULL;
	if (read_file(txt_path, 1 << 20, &out, &out_len, &error) < 0)
		fail_msg("%s", error);
	free(pdf_path);
	free(txt_path);
	return out;
}

/* The value of a "Key:   value" line of pdfinfo's output, or NULL.
 * Owned. */
static char *
info_get(const char *info, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = info; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, key, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			return xstrndup(v, (size_t)(eol - v));
		}
		p = *eol != '\0' ? eol + 1 : eol;
	}
	return NULL;
}

/* Fails unless pdfinfo's key is want. */
static void
assert_info(const char *info, const char *key, const char *want)
{
	char *v = info_get(info, key);
	if (v == NULL || strcmp(v, want) != 0)
		fail_msg("pdfinfo %s: \"%s\", want \"%s\"", key, v != NULL ? v : "(none)", want);
	free(v);
}

static struct certificate
sample(void)
{
	struct certificate c = {
	    .participant = "José Núñez",
	    .program = "CDE Peer Coaching Program",
	    .year = 2026,
	    .month = 12,
	    .day = 1,
	    .signer_name = "Zoë Ørsted",
	    .signer_title = "Deputy Superintendent, Human Resources",
	    .organisation = "California Department of Education",
	    .created = 1796144400, /* 2026-12-01T17:00:00Z */
	};
	return c;
}

static unsigned char *
render_ok(const struct certificate *c, size_t *len_r)
{
	unsigned char *pdf = NULL;
	const char *error = NULL;
	if (certificate_render(c, &pdf, len_r, &error) < 0)
		fail_msg("certificate_render: %s", error);
	assert_non_null(pdf);
	return pdf;
}

/* The text of the page with runs of white space made one space, so a
 * line's words can be looked for whatever pdftotext's spacing. */
static char *
page_text(const unsigned char *pdf, size_t len)
{
	char *raw = poppler("pdftotext", NULL, pdf, len);
	struct strbuf sb = {0};
	bool space = false;
	for (const char *p = raw; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\f') {
			space = sb.len > 0;
			continue;
		}
		if (space)
			strbuf_addc(&sb, ' ');
		space = false;
		strbuf_addc(&sb, *p);
	}
	free(raw);
	return strbuf_detach(&sb);
}

static void
test_render(void **state)
{
	(void)state;
	struct certificate c = sample();
	size_t len;
	/* cairo and its font stack are mapped only while a certificate is
	 * drawn. */
	assert_false(mapped("libcairo"));
	unsigned char *pdf = render_ok(&c, &len);
	assert_false(mapped("libcairo"));
	assert_false(mapped("libfontconfig"));
	assert_false(mapped("libfreetype"));
	/* Except pixman, which cannot free what it allocates when loaded
	 * (include/dynlib.h, pinned): unloading it would leak that each time. */
	assert_true(mapped("libpixman-1.so"));
	assert_true(len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);

	char *text = page_text(pdf, len);
	const char *want[] = {
	    "California Department of Education",
	    "Certificate of Completion",
	    "This certifies that",
	    "José Núñez",
	    "has successfully completed",
	    "CDE Peer Coaching Program",
	    "on December 1, 2026",
	    "Zoë Ørsted",
	    "Deputy Superintendent, Human Resources",
	};
	for (size_t i = 0; i < N_ELEMENTS(want); i++) {
		if (strstr(text, want[i]) == NULL)
			fail_msg("\"%s\" not on the certificate: %s", want[i], text);
	}
	/* In that order, top to bottom. */
	for (size_t i = 1; i < N_ELEMENTS(want); i++)
		assert_true(strstr(text, want[i - 1]) < strstr(text, want[i]));
	free(text);

	char *info = poppler("pdfinfo", NULL, pdf, len);
	assert_info(info, "Pages", "1");
	assert_info(info, "Page size", "792 x 612 pts (letter)");
	assert_info(info, "Title", "Certificate of Completion: José Núñez");
	assert_info(info, "Subject", "CDE Peer Coaching Program");
	assert_info(info, "Author", "California Department of Education");
	char *creator = info_get(info, "Creator");
	assert_non_null(creator);
	assert_true(strncmp(creator, "mentord ", 8) == 0);
	free(creator);
	/* The creation date is the one given, not the clock's. */
	assert_info(info, "CreationDate", "Tue Dec  1 17:00:00 2026 UTC");
	free(info);

	/* Deterministic: the same input gives the same bytes. */
	size_t len2;
	unsigned char *again = render_ok(&c, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(again, pdf, len);
	free(again);
	free(pdf);

	/* Without the organisation line; the signer as author then. */
	c.organisation = NULL;
	pdf = render_ok(&c, &len);
	text = page_text(pdf, len);
	assert_null(strstr(text, "California Department"));
	assert_non_null(strstr(text, "Certificate of Completion"));
	free(text);
	info = poppler("pdfinfo", NULL, pdf, len);
	assert_info(info, "Author", "Zoë Ørsted");
	free(info);
	free(pdf);
}

/* The x extent of every word on the page, from pdftotext -bbox, must lie
 * inside the inner frame (32 pt from each edge). */
static void
assert_words_inside(const unsigned char *pdf, size_t len)
{
	char *html = poppler("pdftotext", "-bbox", pdf, len);
	size_t words = 0;
	for (const char *p = strstr(html, "<word "); p != NULL; p = strstr(p + 1, "<word ")) {
		double xmin = strtod(strstr(p, "xMin=\"") + 6, NULL);
		double xmax = strtod(strstr(p, "xMax=\"") + 6, NULL);
		if (xmin < 32.0 || xmax > 792.0 - 32.0)
			fail_msg("a word runs off the certificate: %.60s", p);
		words++;
	}
	assert_true(words > 10);
	free(html);
}

static void
test_long_text_fits(void **state)
{
	(void)state;
	struct certificate c = sample();
	c.participant = "María de los Ángeles Fernández-Villaverde y Rodríguez de la Concepción "
	                "Pérez-Núñez";
	c.program = "Department of Labor Senior Executive Service Candidate Development "
	            "Program, Cohort 2026-2027";
	size_t len;
	unsigned char *pdf = render_ok(&c, &len);
	char *text = page_text(pdf, len);
	assert_non_null(strstr(text, c.participant));
	assert_non_null(strstr(text, c.program));
	free(text);
	assert_words_inside(pdf, len);
	char *info = poppler("pdfinfo", NULL, pdf, len);
	assert_info(info, "Pages", "1");
	free(info);
	free(pdf);

	/* And the usual one too. */
	c = sample();
	pdf = render_ok(&c, &len);
	assert_words_inside(pdf, len);
	free(pdf);
}

static void
test_refused(void **state)
{
	(void)state;
	struct strbuf very_long = {0};
	for (int i = 0; i < 30; i++)
		strbuf_adds(&very_long, "Wolfeschlegelsteinhausen ");
	struct {
		const char *what;
		const char *says;
	} cases[] = {
	    {"no participant", "needs the participant"},
	    {"blank participant", "blank"},
	    {"no signer", "needs the participant"},
	    {"bad date", "invalid completion date"},
	    {"feb 29", "invalid completion date"},
	    {"too long", "too long for the certificate"},
	    {"cjk", "cannot draw"},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct certificate c = sample();
		const char *w = cases[i].what;
		if (strcmp(w, "no participant") == 0)
			c.participant = NULL;
		else if (strcmp(w, "blank participant") == 0)
			c.participant = " \r\n\t ";
		else if (strcmp(w, "no signer") == 0)
			c.signer_title = "";
		else if (strcmp(w, "bad date") == 0)
			c.month = 13;
		else if (strcmp(w, "feb 29") == 0) {
			c.year = 2026;
			c.month = 2;
			c.day = 29;
		} else if (strcmp(w, "too long") == 0)
			c.participant = strbuf_str(&very_long);
		else if (strcmp(w, "cjk") == 0)
			c.participant = "山田太郎";
		unsigned char *pdf = NULL;
		size_t len;
		const char *error = NULL;
		assert_int_equal(certificate_render(&c, &pdf, &len, &error), -1);
		assert_null(pdf);
		if (error == NULL || strstr(error, cases[i].says) == NULL)
			fail_msg("%s: error \"%s\", want \"%s\"", w, error, cases[i].says);
	}
	strbuf_free(&very_long);

	/* A leap day is a date; a control character is a space. */
	struct certificate c = sample();
	c.year = 2028;
	c.month = 2;
	c.day = 29;
	c.participant = "Ana\nRuiz";
	size_t len;
	unsigned char *pdf = render_ok(&c, &len);
	char *text = page_text(pdf, len);
	assert_non_null(strstr(text, "Ana Ruiz"));
	assert_non_null(strstr(text, "on February 29, 2028"));
	free(text);
	free(pdf);

	/* Greek and Cyrillic are in the font. */
	c = sample();
	c.participant = "Σοφία Παπαδοπούλου — Анна Иванова";
	pdf = render_ok(&c, &len);
	text = page_text(pdf, len);
	assert_non_null(strstr(text, "Σοφία Παπαδοπούλου — Анна Иванова"));
	free(text);
	free(pdf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_long_text_fits),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
