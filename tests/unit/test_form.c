/* Unit tests for form: parsing, tolerances, problems, summary, blank form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

static const char *const competencies[] = {
    "Communication",           "Conflict management",
    "Decision making",         "Delegation",
    "Developing others",       "Diversity & inclusion",
    "Emotional intelligence",  "Ethics and integrity",
    "Influencing others",      "Innovation",
    "Interpersonal skills",    "Leadership",
    "Managing change",         "Organizational awareness",
    "Planning and organizing", "Problem solving",
    "Project management",      "Public speaking",
    "Strategic thinking",      "Team building",
    "Time management",         "Vision",
    "Written communication",
};

static void
add_field(struct form_def *def, const char *key, enum form_field_type type, bool required)
{
	struct form_field_def *fd;

	def->fields = realloc(def->fields, (def->nfields + 1) * sizeof(*def->fields));
	assert_non_null(def->fields);
	fd = &def->fields[def->nfields++];
	memset(fd, 0, sizeof(*fd));
	fd->key = xstrdup(key);
	fd->type = type;
	fd->required = required;
}

/* A CDSS-like application form. */
static struct form_def *
cdss_def(void)
{
	struct form_def *def = xcalloc(1, sizeof(*def));
	struct form_field_def *fd;

	def->name = xstrdup("application");
	def->title = xstrdup("CDSS Mentoring Partnership: application");
	add_field(def, "Name", FIELD_TEXT, true);
	add_field(def, "Division", FIELD_TEXT, false);
	add_field(def, "Years as manager", FIELD_NUMBER, true);
	fd = &def->fields[def->nfields - 1];
	fd->min = 0;
	fd->max = 60;
	add_field(def, "Supervisor email", FIELD_EMAIL, true);
	add_field(def, "Developmental needs", FIELD_MULTICHOICE, true);
	fd = &def->fields[def->nfields - 1];
	fd->min = 1;
	fd->max = 5;
	fd->hint = xstrdup("the competencies (skills) you want to develop");
	for (size_t i = 0; i < N_ELEMENTS(competencies); i++)
		strvec_push(&fd->choices, competencies[i]);
	add_field(def, "Why do you want to join", FIELD_TEXT, true);
	fd = &def->fields[def->nfields - 1];
	fd->multiline = true;
	strvec_push(&fd->aliases, "Why");
	add_field(def, "Rating", FIELD_SCALE, true);
	fd = &def->fields[def->nfields - 1];
	fd->min = 1;
	fd->max = 5;
	add_field(def, "Start date", FIELD_DATE, false);
	add_field(def, "Meeting format", FIELD_CHOICE, false);
	fd = &def->fields[def->nfields - 1];
	strvec_push(&fd->choices, "In person");
	strvec_push(&fd->choices, "Video call");
	strvec_push(&fd->choices, "Phone");
	return def;
}

static int
setup(void **state)
{
	*state = cdss_def();
	return 0;
}

static int
teardown(void **state)
{
	struct form_def *def = *state;

	form_def_free(def);
	free(def);
	return 0;
}

static struct form_result *
parse(void **state, const char *text)
{
	struct form_result *res = NULL;

	form_parse(*state, text, &res);
	assert_non_null(res);
	return res;
}

static const char *good_form = "Name: Ana Ruiz\n"
                               "Division: Children and Family Services\n"
                               "Years as manager: 12\n"
                               "Supervisor email: Bo Lee <Bo.Lee@CDSS.ca.gov>\n"
                               "Developmental needs: Communication, Leadership\n"
                               "Why do you want to join: I want to grow.\n"
                               "Rating: 4\n";

static void
assert_no_problems(const struct form_result *res)
{
	for (size_t i = 0; i < res->problems.n; i++)
		print_error("unexpected problem: %s\n", res->problems.v[i]);
	assert_int_equal(res->problems.n, 0);
}

static void
test_valid_form(void **state)
{
	struct form_result *res = parse(state, good_form);
	const struct form_value *v;

	assert_no_problems(res);
	assert_int_equal(res->keys_found, 7);
	assert_int_equal(res->nvalues, 7);
	assert_string_equal(form_result_value(res, "name"), "Ana Ruiz");
	assert_string_equal(form_result_value(res, "Division"), "Children and Family Services");
	assert_string_equal(form_result_value(res, "Years as manager"), "12");
	assert_string_equal(form_result_value(res, "Supervisor email"), "bo.lee@cdss.ca.gov");
	assert_string_equal(form_result_value(res, "Developmental needs"),
	                    "Communication, Leadership");
	v = form_result_get(res, "Developmental needs");
	assert_non_null(v);
	assert_int_equal(v->items.n, 2);
	assert_string_equal(v->items.v[1], "Leadership");
	assert_string_equal(form_result_value(res, "Why do you want to join"), "I want to grow.");
	v = form_result_get(res, "Rating");
	assert_int_equal(v->number, 4);
	assert_int_equal(form_result_get(res, "Years as manager")->number, 12);
	assert_null(form_result_value(res, "Start date"));
	assert_null(form_result_get(res, "No such field"));
	form_result_free(&res);
	assert_null(res);
}

/* Key case, spacing, quoting, bullets, emphasis, hints, full-width colon,
 * aliases; ordinary prose before the form is ignored. */
static void
test_key_tolerance(void **state)
{
	struct form_result *res =
	    parse(state, "Hello, here is my form (sorry: it is late).\n"
	                 "\n"
	                 "  NAME : Ana Ruiz\n"
	                 "- division: Adult Programs\n"
	                 "* YEARS   AS MANAGER (number):about 12\n"
	                 "\xe2\x80\xa2 Supervisor Email\xef\xbc\x9a mailto:bo@x.org\n"
	                 "1. **Developmental needs:** leadership\n"
	                 "2) __Why__: because\n"
	                 "**Rating**: 5\n");

	assert_no_problems(res);
	assert_int_equal(res->keys_found, 7);
	assert_string_equal(form_result_value(res, "Name"), "Ana Ruiz");
	assert_string_equal(form_result_value(res, "Division"), "Adult Programs");
	assert_string_equal(form_result_value(res, "Years as manager"), "12");
	assert_string_equal(form_result_value(res, "Supervisor email"), "bo@x.org");
	assert_string_equal(form_result_value(res, "Developmental needs"), "Leadership");
	assert_string_equal(form_result_value(res, "Why do you want to join"), "because");
	assert_string_equal(form_result_value(res, "Rating"), "5");
	form_result_free(&res);

	/* "Key - value" is not a key line; neither is a key without a colon. */
	res = parse(state, "Name - Ana\nName Ana\nRating 4\n");
	assert_int_equal(res->keys_found, 0);
	assert_null(form_result_value(res, "Name"));
	form_result_free(&res);
}

static void
test_multiline_and_value_on_next_line(void **state)
{
	struct form_result *res = parse(state, "Name:\n"
	                                       "  Ana Ruiz  \n"
	                                       "Years as manager: 3\n"
	                                       "Supervisor email: bo@x.org\n"
	                                       "Developmental needs:\n"
	                                       "- Vision\n"
	                                       "- Delegation\n"
	                                       "Why do you want to join:\n"
	                                       "First line.\n"
	                                       "Note: this is not a key.\n"
	                                       "\n"
	                                       "\n"
	                                       "\n"
	                                       "After blank lines.\n"
	                                       "\n"
	                                       "Rating: 3\n");

	assert_no_problems(res);
	assert_string_equal(form_result_value(res, "Name"), "Ana Ruiz");
	assert_string_equal(form_result_value(res, "Developmental needs"), "Vision, Delegation");
	assert_string_equal(form_result_value(res, "Why do you want to join"),
	                    "First line.\nNote: this is not a key.\n\nAfter blank lines.");
	form_result_free(&res);
}

/* After the last field: signature, attribution and quoted thread end it. */
static void
test_stops(void **state)
{
	static const char *const tails[] = {
	    "-- \nAna Ruiz\nName: Someone Else\n",
	    "--\nAna\n",
	    "On Mon, Nov 2, 2026 at 9:00 AM Mentoring <m@x.org> wrote:\n> Name: \n> Rating: \n",
	    "On Mon, Nov 2, 2026 at 9:00 AM Mentoring\n<m@x.org> wrote:\n> Name:\n",
	    "-----Original Message-----\nFrom: m@x.org\nName: x\n",
	    "________________________________\nFrom: m@x.org\n",
	    "> Name: \n> Why: \n",
	};

	for (size_t i = 0; i < N_ELEMENTS(tails); i++) {
		char *text = xasprintf("Name: Ana\nYears as manager: 1\nSupervisor email: b@x.org\n"
		                       "Developmental needs: Vision\nRating: 2\n"
		                       "Why: Growth.\nMore growth.\n%s",
		                       tails[i]);
		struct form_result *res = parse(state, text);

		assert_no_problems(res);
		assert_int_equal(res->keys_found, 6);
		assert_string_equal(form_result_value(res, "Name"), "Ana");
		assert_string_equal(form_result_value(res, "Why do you want to join"),
		                    "Growth.\nMore growth.");
		form_result_free(&res);
		free(text);
	}
}

/* The person answered inside the quoted blank form. */
static void
test_quoted_form(void **state)
{
	struct form_result *res = parse(state, "My answers are below.\n"
	                                       "\n"
	                                       "On Mon, Nov 2, 2026, Mentoring <m@x.org> wrote:\n"
	                                       "> Name: Ana Ruiz\n"
	                                       ">> Years as manager: 7\n"
	                                       "> Supervisor email:\n"
	                                       "bo@x.org\n"
	                                       "> Developmental needs:\n"
	                                       "> [ ] Communication\n"
	                                       "> [x] Vision\n"
	                                       "> [X] Team building\n"
	                                       "> Why do you want to join:\n"
	                                       "To learn.\n"
	                                       "> To teach.\n"
	                                       "> Rating: [x] 5\n"
	                                       "-- \n"
	                                       "Ana\n");

	assert_no_problems(res);
	assert_int_equal(res->keys_found, 6);
	assert_string_equal(form_result_value(res, "Years as manager"), "7");
	assert_string_equal(form_result_value(res, "Supervisor email"), "bo@x.org");
	assert_string_equal(form_result_value(res, "Developmental needs"), "Vision, Team building");
	assert_string_equal(form_result_value(res, "Why do you want to join"),
	                    "To learn.\nTo teach.");
	assert_string_equal(form_result_value(res, "Rating"), "5");
	form_result_free(&res);
}

static char *
parse_one(void **state, const char *key, const char *value, const char **problem_r)
{
	char *text = xasprintf("%s: %s\n", key, value);
	struct form_result *res = parse(state, text);
	const char *v = form_result_value(res, key);
	char *ret = v == NULL ? NULL : xstrdup(v);
	static char problem[1024];

	problem[0] = '\0';
	/* Problems other than missing required fields concern this field. */
	for (size_t i = 0; i < res->problems.n; i++) {
		if (strstr(res->problems.v[i], " is missing") == NULL) {
			strncpy(problem, res->problems.v[i], sizeof(problem) - 1);
			break;
		}
	}
	*problem_r = problem;
	form_result_free(&res);
	free(text);
	return ret;
}

static void
expect(void **state, const char *key, const char *in, const char *want, const char *want_problem)
{
	const char *problem;
	char *got = parse_one(state, key, in, &problem);

	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	assert_string_equal(problem, want_problem);
	free(got);
}

static void
test_email(void **state)
{
	const char *k = "Supervisor email";

	expect(state, k, "Ana <ana@x.org>", "ana@x.org", "");
	expect(state, k, "mailto:Ana@X.org", "ana@x.org", "");
	expect(state, k, "ana@x.org.", "ana@x.org", "");
	expect(state, k, "Ana Ruiz ana.ruiz+cdss@dss.ca.gov", "ana.ruiz+cdss@dss.ca.gov", "");
	expect(state, k, "<mailto:ana@x.org>", "ana@x.org", "");
	expect(state, k, "ana at x", NULL,
	       "Supervisor email: \"ana at x\" is not an email address");
	expect(state, k, "ana@x", NULL, "Supervisor email: \"ana@x\" is not an email address");
	expect(state, k, "a@b@x.org", NULL,
	       "Supervisor email: \"a@b@x.org\" is not an email address");
	/* A list is not taken for its first address. */
	expect(state, k, "a@x.org, b@x.org", NULL,
	       "Supervisor email: give one address; \"a@x.org, b@x.org\" holds 2");
	expect(state, k, "Sam <sam@x.org>; Kim <kim@x.org>", NULL,
	       "Supervisor email: give one address; \"Sam <sam@x.org>; Kim <kim@x.org>\" holds 2");
	expect(state, k, "ana..r@x.org", NULL,
	       "Supervisor email: \"ana..r@x.org\" is not an email address");
}

static void
test_number(void **state)
{
	const char *k = "Years as manager";

	expect(state, k, "12", "12", "");
	expect(state, k, "12 years", "12", "");
	expect(state, k, "about 12", "12", "");
	expect(state, k, "0", "0", "");
	expect(state, k, "75", NULL, "Years as manager: 75 is not between 0 and 60");
	expect(state, k, "-3", NULL, "Years as manager: -3 is not between 0 and 60");
	expect(state, k, "99999999999999999999999", NULL,
	       "Years as manager: 9223372036854775807 is not between 0 and 60");
	expect(state, k, "twelve", NULL, "Years as manager: \"twelve\" is not a number");
}

static void
test_date(void **state)
{
	const char *k = "Start date";

	expect(state, k, "2026-11-20", "2026-11-20", "");
	expect(state, k, "2026-11-20 (Friday)", "2026-11-20", "");
	expect(state, k, "20/11/2026", NULL,
	       "Start date: \"20/11/2026\" is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20");
	expect(state, k, "2026-02-30", NULL,
	       "Start date: \"2026-02-30\" is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20");
}

static void
test_multichoice(void **state)
{
	const char *k = "Developmental needs";

	expect(state, k, "communication; VISION and delegation",
	       "Communication, Vision, Delegation", "");
	/* A choice containing "and" is not split. */
	expect(state, k, "Planning and organizing, Ethics & integrity",
	       "Planning and organizing, Ethics and integrity", "");
	/* Punctuation and "&" vs "and". */
	expect(state, k, "diversity and inclusion; problem-solving.",
	       "Diversity & inclusion, Problem solving", "");
	/* Unique prefix of 4+ characters; unique run of words. */
	expect(state, k, "Deleg, strategic, emotional",
	       "Delegation, Strategic thinking, "
	       "Emotional intelligence",
	       "");
	expect(state, k, "speaking, organizational", "Public speaking, Organizational awareness",
	       "");
	/* Duplicates count once; a hint left in is dropped. */
	expect(state, k, "(choose up to 5) Vision, vision", "Vision", "");
	/* "management" is in three choices: ambiguous, so unknown. */
	expect(state, k, "Vision, management, Basket weaving", NULL,
	       "Developmental needs: \"management\" and \"Basket weaving\" are not among the "
	       "choices; choose from the list in the blank form");
	expect(state, k,
	       "Vision, Delegation, Leadership, Innovation, Communication, Team building, "
	       "Public speaking",
	       NULL, "Developmental needs: choose between 1 and 5; you chose 7");
}

static void
test_multichoice_checkboxes(void **state)
{
	struct form_result *res = parse(state, "Developmental needs:\n"
	                                       "  [ ] Communication\n"
	                                       "  [x] Conflict management\n"
	                                       "  [ ] Decision making\n"
	                                       "  (x) Vision\n"
	                                       "  - [X] Time management\n"
	                                       "Rating: (x) 2\n");
	const struct form_value *v = form_result_get(res, "Developmental needs");

	assert_non_null(v);
	assert_string_equal(v->value, "Conflict management, Vision, Time management");
	assert_int_equal(v->items.n, 3);
	assert_string_equal(form_result_value(res, "Rating"), "2");
	form_result_free(&res);
}

static void
test_choice(void **state)
{
	const char *k = "Meeting format";
	const char *problem;
	char *got;

	expect(state, k, "video", "Video call", "");
	expect(state, k, "IN PERSON", "In person", "");
	expect(state, k, "phone or video", NULL,
	       "Meeting format: \"phone or video\" is not one of the choices; choose from In "
	       "person, Video call, Phone");
	expect(state, k, "Phone, Video call", NULL, "Meeting format: choose one; you chose 2");
	got = parse_one(state, k, "", &problem);
	assert_null(got);
	assert_string_equal(problem, "");
}

static void
test_scale(void **state)
{
	const char *k = "Rating";
	static const char *const ok[] = {"4",      "4 - agree", "[x] 4",          "4/5",
	                                 "4 of 5", "(X) 4",     "[ x ] 4 (agree)"};

	for (size_t i = 0; i < N_ELEMENTS(ok); i++)
		expect(state, k, ok[i], "4", "");
	expect(state, k, "7", NULL, "Rating: 7 is not between 1 and 5");
	expect(state, k, "0/5", NULL, "Rating: 0 is not between 1 and 5");
	expect(state, k, "great", NULL, "Rating: \"great\" is not a number from 1 to 5");
}

static void
test_scale_checkbox_lines(void **state)
{
	struct form_result *res = parse(state, "Rating:\n[ ] 1\n[ ] 2\n[ ] 3\n[x] 4\n[ ] 5\n");

	assert_string_equal(form_result_value(res, "Rating"), "4");
	form_result_free(&res);
}

static void
test_missing_and_duplicates(void **state)
{
	struct form_result *res = parse(state, "Name: Ana\n"
	                                       "Name: Bob\n"
	                                       "Division:\n"
	                                       "Rating: 3\n");

	assert_int_equal(res->keys_found, 4);
	assert_string_equal(form_result_value(res, "Name"), "Ana");
	/* An empty optional field is absent, not a problem. */
	assert_null(form_result_get(res, "Division"));
	assert_int_equal(res->problems.n, 4);
	assert_string_equal(res->problems.v[0], "Years as manager is missing");
	assert_string_equal(res->problems.v[1], "Supervisor email is missing");
	assert_string_equal(res->problems.v[2], "Developmental needs is missing");
	assert_string_equal(res->problems.v[3], "Why do you want to join is missing");
	form_result_free(&res);
}

static const char *bad_form = "Name:\n"
                              "Years as manager: 75\n"
                              "Supervisor email: ana at x\n"
                              "Developmental needs: Vision, Knitting\n"
                              "Rating: 9\n"
                              "Start date: next week\n"
                              "Meeting format: Phone, Video\n";

/* One sentence per problem, in form order. */
static void
test_every_problem(void **state)
{
	struct form_result *res = parse(state, bad_form);

	assert_int_equal(res->keys_found, 7);
	assert_int_equal(res->problems.n, 8);
	assert_string_equal(res->problems.v[0], "Name is missing");
	assert_string_equal(res->problems.v[1], "Years as manager: 75 is not between 0 and 60");
	assert_string_equal(res->problems.v[2],
	                    "Supervisor email: \"ana at x\" is not an email address");
	assert_string_equal(res->problems.v[3],
	                    "Developmental needs: \"Knitting\" is not one of the choices; choose "
	                    "from the list in the blank form");
	assert_string_equal(res->problems.v[4], "Why do you want to join is missing");
	assert_string_equal(res->problems.v[5], "Rating: 9 is not between 1 and 5");
	assert_string_equal(res->problems.v[6], "Start date: \"next week\" is not a date; write it "
	                                        "as YYYY-MM-DD, e.g. 2026-11-20");
	assert_string_equal(res->problems.v[7], "Meeting format: choose one; you chose 2");
	assert_null(form_result_get(res, "Years as manager"));
	assert_null(form_result_value(res, "Supervisor email"));
	form_result_free(&res);
}

static void
test_summary(void **state)
{
	struct form_result *res = parse(state, "Name: Ana Ruiz\n"
	                                       "Years as manager: about 12\n"
	                                       "Supervisor email: ana at x\n"
	                                       "Developmental needs: vision; deleg\n"
	                                       "Why: a\nb\n"
	                                       "Rating: 9\n");
	char *s = form_result_summary(res);

	assert_string_equal(s, "Name: Ana Ruiz\n"
	                       "Years as manager: 12\n"
	                       "Supervisor email: ana at x  <- not an email address\n"
	                       "Developmental needs: Vision, Delegation\n"
	                       "Why do you want to join: a\nb\n"
	                       "Rating: 9  <- not between 1 and 5\n");
	free(s);
	form_result_free(&res);
}

/* Fills the blank form after each colon, as a person would. */
static char *
fill_blank(const char *blank, bool mark_boxes)
{
	static const struct {
		const char *key, *value;
	} answers[] = {
	    {"Name", "Ana Ruiz"},
	    {"Division", "Adult Programs"},
	    {"Years as manager", "12"},
	    {"Supervisor email", "ana@x.org"},
	    {"Developmental needs", "Vision, Delegation"},
	    {"Why do you want to join", "To grow."},
	    {"Rating", "4"},
	    {"Start date", "2026-11-20"},
	    {"Meeting format", "Phone"},
	};
	struct strbuf sb = {0};
	const char *p = blank;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);
		char *line = xstrndup(p, len);

		for (size_t i = 0; i < N_ELEMENTS(answers); i++) {
			size_t kl = strlen(answers[i].key);

			if (strncmp(line, answers[i].key, kl) == 0 &&
			    (line[kl] == ':' || line[kl] == ' ') && !(mark_boxes && i == 4)) {
				char *filled = xasprintf("%s%s", line, answers[i].value);

				free(line);
				line = filled;
				break;
			}
		}
		if (mark_boxes &&
		    (strcmp(line, "  [ ] Vision") == 0 || strcmp(line, "  [ ] Delegation") == 0))
			line[3] = 'x';
		strbuf_adds(&sb, line);
		strbuf_addc(&sb, '\n');
		free(line);
		p += len + (nl != NULL);
	}
	return strbuf_detach(&sb);
}

static void
test_render_blank_round_trip(void **state)
{
	char *blank = form_render_blank(*state);
	struct form_result *res;

	assert_true(
	    strncmp(blank,
	            "CDSS Mentoring Partnership: application\n"
	            "\n"
	            "Name: \n"
	            "Division (optional): \n"
	            "Years as manager (a number from 0 to 60): \n"
	            "Supervisor email (an email address): \n"
	            "Developmental needs (the competencies [skills] you want to develop; "
	            "choose between 1 and 5, separated by commas, or mark them [x] below): \n"
	            "  [ ] Communication\n"
	            "  [ ] Conflict management\n",
	            strlen("CDSS Mentoring Partnership: application\n\nName: \n")) == 0);
	assert_non_null(strstr(blank, "Developmental needs (the competencies [skills] you want to "
	                              "develop; choose between 1 and 5, separated by commas, or "
	                              "mark them [x] below): \n  [ ] Communication\n"));
	assert_non_null(strstr(blank, "  [ ] Written communication\n"
	                              "Why do you want to join (several lines are fine): \n"
	                              "Rating (1 to 5): \n"
	                              "Start date (YYYY-MM-DD, optional): \n"));

	/* The blank itself: every key found, every required field missing. */
	res = parse(state, blank);
	assert_int_equal(res->keys_found, 9);
	assert_int_equal(res->problems.n, 6);
	assert_string_equal(res->problems.v[0], "Name is missing");
	form_result_free(&res);

	for (int mark = 0; mark < 2; mark++) {
		char *filled = fill_blank(blank, mark == 1);

		res = parse(state, filled);
		assert_no_problems(res);
		assert_int_equal(res->keys_found, 9);
		assert_string_equal(form_result_value(res, "Name"), "Ana Ruiz");
		assert_string_equal(form_result_value(res, "Division"), "Adult Programs");
		assert_string_equal(form_result_value(res, "Years as manager"), "12");
		assert_string_equal(form_result_value(res, "Supervisor email"), "ana@x.org");
		assert_string_equal(form_result_value(res, "Developmental needs"),
		                    mark ? "Delegation, Vision" : "Vision, Delegation");
		assert_string_equal(form_result_value(res, "Why do you want to join"), "To grow.");
		assert_string_equal(form_result_value(res, "Rating"), "4");
		assert_string_equal(form_result_value(res, "Start date"), "2026-11-20");
		assert_string_equal(form_result_value(res, "Meeting format"), "Phone");
		form_result_free(&res);

		/* Quoted by the mail client, with a reply above it. */
		{
			struct strbuf q = {0};

			strbuf_adds(&q, "Here you go.\n\nOn Monday, Mentoring wrote:\n");
			for (const char *p = filled; *p != '\0'; p++) {
				if (p == filled || p[-1] == '\n')
					strbuf_adds(&q, "> ");
				strbuf_addc(&q, *p);
			}
			res = parse(state, strbuf_str(&q));
			assert_no_problems(res);
			assert_string_equal(form_result_value(res, "Meeting format"), "Phone");
			form_result_free(&res);
			strbuf_free(&q);
		}
		free(filled);
	}
	free(blank);
}

/* Hint with a ':' and a ')' in the definition still round-trips. */
static void
test_render_hint_sanitised(void **state)
{
	struct form_def *def = *state;
	struct form_result *res;
	char *blank, *filled;

	free(def->fields[0].hint);
	def->fields[0].hint = xstrdup("first: last) (as on your badge");
	blank = form_render_blank(def);
	assert_non_null(
	    strstr(blank, "\nName (first: last] [as on your badge): \nDivision (optional): \n"));
	filled = fill_blank(blank, false);
	res = parse(state, filled);
	assert_no_problems(res);
	assert_string_equal(form_result_value(res, "Name"), "Ana Ruiz");
	form_result_free(&res);
	free(filled);
	free(blank);
}

/* No crash and no sanitizer error on odd input; time stays linear. */
static void
test_robustness(void **state)
{
	struct form_result *res;
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	unsigned seed = 12345;

	res = parse(state, "");
	assert_int_equal(res->keys_found, 0);
	assert_int_equal(res->problems.n, 6);
	form_result_free(&res);
	res = parse(state, NULL);
	form_result_free(&res);

	memset(big, 'a', n);
	big[n] = '\0';
	res = parse(state, big);
	assert_int_equal(res->keys_found, 0);
	form_result_free(&res);

	/* One huge multichoice line without separators, and one with many. */
	memcpy(big, "Developmental needs: ", 21);
	res = parse(state, big);
	assert_int_equal(res->keys_found, 1);
	assert_null(form_result_value(res, "Developmental needs"));
	form_result_free(&res);
	for (size_t i = 21; i < n; i++)
		big[i] = i % 3 == 0 ? ',' : (i % 3 == 1 ? 'v' : ' ');
	res = parse(state, big);
	form_result_free(&res);
	memset(big, '(', n);
	res = parse(state, big);
	form_result_free(&res);
	memset(big, '>', n);
	res = parse(state, big);
	form_result_free(&res);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 2 ? '\n' : ':';
	res = parse(state, big);
	form_result_free(&res);

	/* Random bytes and random mutations of a good form. */
	for (int round = 0; round < 2000; round++) {
		size_t len = strlen(good_form);
		char *t = xstrdup(good_form);

		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			t[(seed >> 8) % len] = (char)(1 + ((seed >> 16) % 255));
		}
		res = parse(state, t);
		free(form_result_summary(res));
		form_result_free(&res);
		free(t);
	}
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_valid_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_tolerance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multiline_and_value_on_next_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quoted_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_email, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_number, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_date, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multichoice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multichoice_checkboxes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_choice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scale_checkbox_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_and_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_problem, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_render_blank_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_render_hint_sanitised, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_robustness, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
