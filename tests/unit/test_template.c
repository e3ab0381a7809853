/* Unit tests for template: substitution, sections, errors, confidentiality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "template.h"

static struct template_vars *
make_vars(void)
{
	struct template_vars *vars = template_vars_new();

	template_vars_set(vars, "name", "Ana Ruiz");
	template_vars_set(vars, "mentor", "Bo Lee");
	template_vars_set(vars, "empty", "");
	template_vars_set(vars, "null", NULL);
	template_vars_setf(vars, "match_id", "%d", 12);
	template_vars_set_confidential(vars, "needs", "Delegation, Vision");
	template_vars_set_confidential(vars, "notes", "We talked about her manager.");
	return vars;
}

static int
render(const char *text, enum template_audience audience, char **subject, char **body,
       const char **error)
{
	struct template_vars *vars = make_vars();
	int r;

	*subject = NULL;
	*body = NULL;
	*error = NULL;
	r = template_render_string(text, "welcome", vars, audience, subject, body, error);
	template_vars_free(&vars);
	assert_null(vars);
	return r;
}

static void
expect_ok(const char *text, const char *want_subject, const char *want_body)
{
	char *subject, *body;
	const char *error;

	if (render(text, AUDIENCE_PARTICIPANT, &subject, &body, &error) < 0)
		print_error("error: %s\n", error);
	assert_non_null(subject);
	assert_string_equal(subject, want_subject);
	assert_string_equal(body, want_body);
	free(subject);
	free(body);
}

static void
expect_error(const char *text, enum template_audience audience, const char *want)
{
	char *subject, *body;
	const char *error;

	assert_int_equal(render(text, audience, &subject, &body, &error), -1);
	assert_null(subject);
	assert_null(body);
	assert_non_null(error);
	assert_string_equal(error, want);
}

static void
test_substitution(void **state)
{
	(void)state;
	expect_ok("Subject: Welcome, {{name}}\n"
	          "\n"
	          "Hello {{ name }},\n"
	          "\n"
	          "Your mentor is {{mentor}} (match #{{match_id}}).{{empty}}{{null}}\n",
	          "Welcome, Ana Ruiz", "Hello Ana Ruiz,\n\nYour mentor is Bo Lee (match #12).\n");
	/* Values are inserted verbatim: no escaping, no recursive expansion. */
	{
		struct template_vars *vars = template_vars_new();
		char *subject, *body;
		const char *error;

		template_vars_set(vars, "x", "<b>&{{y}}</b>");
		template_vars_set(vars, "x", "<i>&{{y}}</i>"); /* replaces */
		assert_int_equal(template_render_string("Subject: s\n\n{{x}}", "t", vars,
		                                        AUDIENCE_PARTICIPANT, &subject, &body,
		                                        &error),
		                 0);
		assert_string_equal(body, "<i>&{{y}}</i>\n");
		free(subject);
		free(body);
		template_vars_free(&vars);
	}
}

static void
test_sections(void **state)
{
	(void)state;
	expect_ok("Subject: x\n\n"
	          "A{{#mentor}} mentor={{mentor}}{{/mentor}}{{^mentor}} none{{/mentor}}\n"
	          "B{{#empty}} shown{{/empty}}{{^empty}} empty{{/empty}}\n"
	          "C{{#unset}} {{unset}} {{/unset}}{{^unset}} unset{{/unset}}\n"
	          "D{{#name}}{{^mentor}} no{{/mentor}}{{#mentor}} yes{{#match_id}} "
	          "{{match_id}}{{/match_id}}{{/mentor}}{{/name}}\n",
	          "x",
	          "A mentor=Bo Lee\n"
	          "B empty\n"
	          "C unset\n"
	          "D yes 12\n");
	/* Section tags alone on their line take the line with them. */
	expect_ok("Subject: x\n\n"
	          "Hello,\n"
	          "{{#mentor}}\n"
	          "  {{#name}}\n"
	          "Your mentor is {{mentor}}.\n"
	          "  {{/name}}\n"
	          "{{/mentor}}\n"
	          "{{#unset}}\n"
	          "Never shown.\n"
	          "{{/unset}}\n"
	          "Bye.\n",
	          "x", "Hello,\nYour mentor is Bo Lee.\nBye.\n");
	expect_ok("Subject: x\n\n{{#unset}}\nhidden\n{{/unset}}", "x", "\n");
}

static void
test_body_whitespace(void **state)
{
	(void)state;
	expect_ok("Subject: x\r\n\r\nLine one\r\nLine two   \r\n\r\n\r\n  \r\n", "x",
	          "Line one\nLine two\n");
	expect_ok("Subject: x\n\n\nStarts blank", "x", "\nStarts blank\n");
	expect_ok("Subject: only\n", "only", "\n");
	{
		struct template_vars *vars = template_vars_new();
		char *subject, *body;
		const char *error;

		template_vars_set(vars, "v", "a\r\nb\r\n\r\n");
		assert_int_equal(template_render_string("Subject: s\n\n{{v}}\n", "t", vars,
		                                        AUDIENCE_PARTICIPANT, &subject, &body,
		                                        &error),
		                 0);
		assert_string_equal(body, "a\nb\n");
		free(subject);
		free(body);
		template_vars_free(&vars);
	}
}

/* A value with a line break cannot add a header through the subject. */
static void
test_subject_injection(void **state)
{
	struct template_vars *vars = template_vars_new();
	char *subject, *body;
	const char *error;

	(void)state;
	template_vars_set(vars, "name", "Ana\r\nBcc: evil@example.org\n\n  More");
	assert_int_equal(template_render_string("Subject:  Hi {{name}}  \n\nbody\n", "t", vars,
	                                        AUDIENCE_PARTICIPANT, &subject, &body, &error),
	                 0);
	assert_string_equal(subject, "Hi Ana Bcc: evil@example.org More");
	assert_null(strchr(subject, '\n'));
	assert_null(strchr(subject, '\r'));
	free(subject);
	free(body);
	template_vars_free(&vars);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("Subject: x\n\nHello {{nmae}},\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: variable {{nmae}} is not set");
	expect_error("Subject: Hi {{nmae}}\n\nbody\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 1: variable {{nmae}} is not set");
	expect_error("Subject: x\n\na\n{{#mentor}}\nb\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 4: section {{#mentor}} is not closed with "
	             "{{/mentor}}");
	expect_error("Subject: x\n\n{{#mentor}}{{^name}}{{/mentor}}{{/name}}\n",
	             AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: {{/mentor}} does not close the section "
	             "{{^name}} opened on line 3");
	expect_error("Subject: x\n\n\n{{/name}}\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 4: {{/name}} closes no section");
	expect_error("Subject: x\n\nHi {{Name}}\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: bad tag \"{{Name}}\"; variable names are lower "
	             "case letters, digits and _");
	expect_error("Subject: x\n\nHi {{name\n}}\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: \"{{\" without \"}}\" on the same line");
	expect_error("Subject: x\n\nHi {{}}\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: bad tag \"{{}}\"; variable names are lower case "
	             "letters, digits and _");
	expect_error(
	    "From: x\nSubject: x\n\nbody\n", AUDIENCE_PARTICIPANT,
	    "template welcome.txt line 1: unknown header \"From\"; only Subject is allowed "
	    "before the blank line");
	expect_error("Subject: x\nSubject: y\n\nbody\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 2: a second Subject line");
	expect_error("Hello Ana,\n\nbody\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 1: expected \"Subject: ...\", then a blank line, "
	             "then the body");
	expect_error("\nbody\n", AUDIENCE_PARTICIPANT,
	             "template welcome.txt: no \"Subject:\" line at the top");
	expect_error("", AUDIENCE_PARTICIPANT,
	             "template welcome.txt: no \"Subject:\" line at the top");
}

static void
test_confidential(void **state)
{
	static const char *const uses[] = {
	    "Subject: x\n\nNeeds: {{needs}}\n",
	    "Subject: x\n\n{{#needs}}They said what they need.{{/needs}}\n",
	    "Subject: x\n\n{{^needs}}Nothing.{{/needs}}\n",
	    /* Even where the branch is off: the template itself is wrong. */
	    "Subject: x\n\n{{#unset}}{{needs}}{{/unset}}\n",
	};
	char *subject, *body;
	const char *error;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(uses); i++) {
		struct template_vars *vars = make_vars();

		assert_int_equal(template_render_string(uses[i], "supervisor-notice", vars,
		                                        AUDIENCE_SUPERVISOR, &subject, &body,
		                                        &error),
		                 -1);
		assert_string_equal(error, "template supervisor-notice.txt uses confidential "
		                           "variable {{needs}}; it is sent to supervisors");
		/* The participant may read their own needs. */
		assert_int_equal(template_render_string(uses[i], "supervisor-notice", vars,
		                                        AUDIENCE_PARTICIPANT, &subject, &body,
		                                        &error),
		                 0);
		free(subject);
		free(body);
		assert_int_equal(template_render_string(uses[i], "n", vars, AUDIENCE_COORDINATOR,
		                                        &subject, &body, &error),
		                 0);
		free(subject);
		free(body);
		template_vars_free(&vars);
	}
	expect_error("Subject: About {{notes}}\n\nx\n", AUDIENCE_SUPERVISOR,
	             "template welcome.txt uses confidential variable {{notes}}; it is sent to "
	             "supervisors");
	/* Non-confidential variables are fine for supervisors. */
	{
		struct template_vars *vars = make_vars();

		assert_int_equal(template_render_string("Subject: {{name}}\n\n{{mentor}}\n", "s",
		                                        vars, AUDIENCE_SUPERVISOR, &subject, &body,
		                                        &error),
		                 0);
		assert_string_equal(body, "Bo Lee\n");
		free(subject);
		free(body);
		/* Once confidential, always: a plain set cannot declassify. */
		template_vars_set(vars, "needs", "x");
		assert_int_equal(template_render_string("Subject: s\n\n{{needs}}\n", "s", vars,
		                                        AUDIENCE_SUPERVISOR, &subject, &body,
		                                        &error),
		                 -1);
		template_vars_free(&vars);
	}
}

static void
test_file_and_check(void **state)
{
	char dir[] = "/tmp/test_template.XXXXXX";
	char *path, *subject = NULL, *body = NULL;
	const char *error = NULL;
	static const char *const confidential[] = {"needs", "notes", NULL};
	struct template_vars *vars = make_vars();
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/supervisor-notice.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Subject: {{name}} joined\n\nDear supervisor,\n{{#needs}}\n{{needs}}\n{{/needs}}\n",
	      f);
	fclose(f);
	assert_int_equal(template_render(dir, "supervisor-notice", vars, AUDIENCE_SUPERVISOR,
	                                 &subject, &body, &error),
	                 -1);
	assert_string_equal(error, "template supervisor-notice.txt uses confidential variable "
	                           "{{needs}}; it is sent to supervisors");
	assert_int_equal(template_render(dir, "supervisor-notice", vars, AUDIENCE_PARTICIPANT,
	                                 &subject, &body, &error),
	                 0);
	assert_string_equal(subject, "Ana Ruiz joined");
	assert_string_equal(body, "Dear supervisor,\nDelegation, Vision\n");
	free(subject);
	free(body);

	/* At start-up, without values. */
	assert_int_equal(
	    template_check(dir, "supervisor-notice", AUDIENCE_SUPERVISOR, confidential, &error),
	    -1);
	assert_string_equal(error, "template supervisor-notice.txt uses confidential variable "
	                           "{{needs}}; it is sent to supervisors");
	assert_int_equal(
	    template_check(dir, "supervisor-notice", AUDIENCE_PARTICIPANT, confidential, &error),
	    0);
	assert_int_equal(template_check_string("Subject: x\n\n{{#a}}\n", "t", AUDIENCE_PARTICIPANT,
	                                       NULL, &error),
	                 -1);
	assert_string_equal(error,
	                    "template t.txt line 3: section {{#a}} is not closed with {{/a}}");

	assert_int_equal(
	    template_render(dir, "missing", vars, AUDIENCE_PARTICIPANT, &subject, &body, &error),
	    -1);
	assert_non_null(strstr(error, "missing.txt: No such file or directory"));
	assert_int_equal(template_render(dir, "../etc/passwd", vars, AUDIENCE_PARTICIPANT, &subject,
	                                 &body, &error),
	                 -1);
	assert_string_equal(error, "bad template name \"../etc/passwd\"");
	unlink(path);
	rmdir(dir);
	free(path);
	template_vars_free(&vars);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A template is read once; a reload (detach, check, then free or restore)
 * is what brings an edited file in, and a refused one keeps the old text. */
static void
test_cache_and_reload(void **state)
{
	char dir[] = "/tmp/test_template.XXXXXX";
	char *path, *subject = NULL, *body = NULL;
	const char *error = NULL;
	struct template_vars *vars = make_vars();
	struct template_cache *saved;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/hello.txt", dir);
	write_text(path, "Subject: one\n\nFirst {{name}}\n");
	assert_int_equal(template_check(dir, "hello", AUDIENCE_PARTICIPANT, NULL, &error), 0);
	/* Edited after the check: the running daemon still sends what it
	 * checked. */
	write_text(path, "Subject: two\n\nSecond {{name}}\n");
	assert_int_equal(
	    template_render(dir, "hello", vars, AUDIENCE_PARTICIPANT, &subject, &body, &error), 0);
	assert_string_equal(subject, "one");
	assert_string_equal(body, "First Ana Ruiz\n");
	free(subject);
	free(body);

	/* A reload that accepts the new text. */
	saved = template_cache_detach();
	assert_int_equal(template_check(dir, "hello", AUDIENCE_PARTICIPANT, NULL, &error), 0);
	template_cache_free(&saved);
	assert_null(saved);
	assert_int_equal(
	    template_render(dir, "hello", vars, AUDIENCE_PARTICIPANT, &subject, &body, &error), 0);
	assert_string_equal(subject, "two");
	free(subject);
	free(body);

	/* A reload refused (a broken edit): the accepted text stays. */
	write_text(path, "Subjet: broken\n\n{{name}\n");
	saved = template_cache_detach();
	assert_int_equal(template_check(dir, "hello", AUDIENCE_PARTICIPANT, NULL, &error), -1);
	template_cache_restore(&saved);
	assert_null(saved);
	assert_int_equal(
	    template_render(dir, "hello", vars, AUDIENCE_PARTICIPANT, &subject, &body, &error), 0);
	assert_string_equal(subject, "two");
	assert_string_equal(body, "Second Ana Ruiz\n");
	free(subject);
	free(body);

	unlink(path);
	rmdir(dir);
	free(path);
	template_vars_free(&vars);
	saved = template_cache_detach();
	template_cache_free(&saved);
}

static void
test_robustness(void **state)
{
	static const char *const seeds[] = {
	    "Subject: a {{name}}\n\n{{#mentor}}\n{{mentor}}\n{{/mentor}}{{^x}}y{{/x}}\n",
	    "Subject: x\n\n{{#a}}{{#b}}{{#c}}{{/c}}{{/b}}{{/a}}",
	};
	unsigned seed = 7;
	char *deep;
	struct strbuf sb = {0};
	char *subject, *body;
	const char *error;

	(void)state;
	for (int round = 0; round < 5000; round++) {
		char *t = xstrdup(seeds[round % 2]);
		size_t len = strlen(t);

		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			t[(seed >> 8) % len] = "{}#^/ \n\rax"[(seed >> 16) % 10];
		}
		if (render(t, (enum template_audience)(round % 3), &subject, &body, &error) == 0) {
			assert_non_null(subject);
			assert_non_null(body);
			assert_int_equal(body[strlen(body) - 1], '\n');
		}
		free(subject);
		free(body);
		free(t);
	}
	strbuf_adds(&sb, "Subject: x\n\n");
	for (int i = 0; i < 40; i++)
		strbuf_addf(&sb, "{{#name}}");
	deep = strbuf_detach(&sb);
	expect_error(deep, AUDIENCE_PARTICIPANT,
	             "template welcome.txt line 3: sections nested too deeply");
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_substitution),    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_body_whitespace), cmocka_unit_test(test_subject_injection),
	    cmocka_unit_test(test_errors),          cmocka_unit_test(test_confidential),
	    cmocka_unit_test(test_file_and_check),  cmocka_unit_test(test_cache_and_reload),
	    cmocka_unit_test(test_robustness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
