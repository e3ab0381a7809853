/*
 * Unit tests for config: the shipped example loads, defaults apply, and
 * every kind of mistake is reported as FILE:LINE: with a fix.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static char tmpdir[64];

/* The parts every valid file needs, on lines 1-17; programs follow. */
static const char base_conf[] = "imap {\n"                              /* 1 */
                                "\turl = \"imap://127.0.0.1\"\n"        /* 2 */
                                "\ttls = off\n"                         /* 3 */
                                "\tuser = \"mentoring\"\n"              /* 4 */
                                "\tpassword = \"pw\"\n"                 /* 5 */
                                "}\n"                                   /* 6 */
                                "smtp {\n"                              /* 7 */
                                "\turl = \"smtp://127.0.0.1\"\n"        /* 8 */
                                "\ttls = off\n"                         /* 9 */
                                "\tfrom = \"mentoring@example.org\"\n"  /* 10 */
                                "}\n"                                   /* 11 */
                                "coordinator {\n"                       /* 12 */
                                "\taddress = {\"Coord@Example.org\"}\n" /* 13 */
                                "}\n"                                   /* 14 */
                                "database = \"state/mentord.db\"\n"     /* 15 */
                                "# a comment\n"                         /* 16 */
                                "// another\n";                         /* 17 */

static const char min_program[] = "program p {\n"
                                  "\trole mentee { form = \"application\" }\n"
                                  "\tform application {\n"
                                  "\t\tfield \"Name\" {\n"
                                  "\t\t\ttype = text\n"
                                  "\t\t}\n"
                                  "\t}\n"
                                  "}\n";

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Writes tmpdir/name; the caller owns the returned path. */
static char *
write_tmp(const char *name, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	char *slash = strrchr(path, '/');
	FILE *f;

	/* One level of subdirectory is enough for these tests. */
	*slash = '\0';
	mkdir(path, 0700);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* Writes base_conf + extra and loads it; returns the error or NULL. */
static const char *
load_text(const char *extra, struct config **config_r, char **path_r)
{
	char *text = xasprintf("%s%s", base_conf, extra);
	char *path = write_tmp("mentord.conf", text, 0644);
	const char *error = NULL;

	free(text);
	*config_r = NULL;
	if (config_load(path, config_r, &error) == 0)
		error = NULL;
	else
		assert_non_null(error);
	if (path_r != NULL)
		*path_r = path;
	else
		free(path);
	return error;
}

/* Replaces the first occurrence of from in s; the caller owns the result. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	assert_non_null(at);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void
test_example_loads(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR"), *error = NULL;
	char *main_path, *prog_path, *text, *t2, *conf, *prog, *cwd;
	struct config *config = NULL;
	const struct config_program *p;
	size_t len;

	(void)state;
	if (src == NULL)
		src = "..";
	main_path = xasprintf("%s/conf/mentord.conf", src);
	prog_path = xasprintf("%s/conf/programs/cdss.conf", src);
	assert_int_equal(read_file(main_path, 1 << 20, &text, &len, &error), 0);
	assert_int_equal(read_file(prog_path, 1 << 20, &prog, &len, &error), 0);
	/* Inline secrets instead of files under /etc; everything else as shipped. */
	t2 = replace(text, "password_file = \"/etc/mentord/imap.password\"", "password = \"i\"");
	free(text);
	text = replace(t2, "password_file = \"/etc/mentord/smtp.password\"", "password = \"s\"");
	free(t2);
	t2 = text;
	free(write_tmp("programs/cdss.conf", prog, 0644));
	conf = write_tmp("mentord.conf", t2, 0644);
	free(t2);

	/* The include is relative to the file, not to the working directory. */
	cwd = getcwd(NULL, 0);
	assert_int_equal(chdir("/"), 0);
	if (config_load(conf, &config, &error) < 0)
		fail_msg("example does not load: %s", error);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);

	assert_string_equal(config->database, "/var/lib/mentord/mentord.db");
	assert_string_equal(config->templates, "/usr/share/mentord/templates");
	assert_string_equal(config->timezone, "America/Los_Angeles");
	/* No secret configured: made in the state directory on first start. */
	assert_null(config->hmac_secret);
	assert_string_equal(config->state_dir, "/var/lib/mentord");
	assert_string_equal(config->hmac_secret_path, "/var/lib/mentord/hmac.secret");
	assert_int_equal(config->imap.max_message_size, 10 * 1024 * 1024);
	assert_int_equal(config->trusted_authserv_ids.n, 0);
	assert_string_equal(config->imap.host, "imap.example.org");
	assert_int_equal(config->imap.port, 993);
	assert_true(config->imap.implicit_tls);
	assert_true(config->imap.tls);
	assert_string_equal(config->imap.password, "i");
	assert_string_equal(config->imap.processed_mailbox, "Processed");
	assert_string_equal(config->smtp.url, "smtp://smtp.example.org:587");
	assert_true(config->smtp.tls);
	assert_string_equal(config->smtp.from_addr, "mentoring@example.org");
	assert_string_equal(config->smtp.from_name, "CDSS Mentoring");
	assert_int_equal(config->smtp.rate_per_minute, 30);
	assert_true(config_is_coordinator(config, "coordinator@example.org"));
	assert_int_equal(config->nclusters, 6);
	assert_int_equal(config->nprograms, 1);
	p = config_program_by_name(config, "cdss");
	assert_non_null(p);
	assert_string_equal(p->title, "CDSS Mentoring Partnership Program");
	{
		const struct program *m = &p->model;
		const struct program_form *mentor = program_form(m, "mentor");
		const struct program_form *meeting = program_form(m, "meeting");
		const struct program_form *eval = program_form(m, "evaluation");
		const struct program_role *mentee = program_role(m, "mentee");
		const struct program_step *close = NULL;

		assert_non_null(m->unit);
		assert_string_equal(m->unit->name, "pair");
		assert_true(m->unit->pair);
		assert_int_equal(m->unit->meetings_per_month, 2);
		assert_int_equal(m->unit->reminder_day, 15);
		assert_int_equal(m->unit->supervisor, MATCH_RULE_REQUIRE);
		assert_int_equal(m->unit->level_gap, 1);
		assert_non_null(mentee);
		assert_int_equal(mentee->limit, 30);
		assert_true(mentee->notify_supervisor);
		assert_string_equal(mentee->graduates_to, "mentor");
		assert_int_equal(program_role(m, "mentor")->decided_by, DECIDED_BY_AUTO);
		assert_string_equal(p->start_date, "2026-11-01");
		assert_string_equal(p->end_date, "2027-07-30");
		assert_non_null(mentor);
		assert_int_equal(mentor->use, FORM_USE_JOIN);
		assert_ptr_equal(program_role_of_form(m, mentor), program_role(m, "mentor"));
		assert_int_equal(mentor->def.nfields, 7);
		assert_int_equal(meeting->use, FORM_USE_MEETING);
		assert_int_equal(meeting->def.nfields, 3);
		assert_int_equal(meeting->def.fields[0].type, FIELD_DATE);
		assert_int_equal(meeting->def.fields[0].bind, BIND_DATE);
		assert_true(meeting->def.fields[2].multiline);
		assert_false(meeting->def.fields[2].required);
		assert_int_equal(eval->use, FORM_USE_ANSWER);
		assert_int_equal(eval->about, ABOUT_GROUP);
		assert_int_equal(eval->rounds.n, 2);
		assert_int_equal(mentor->def.fields[3].type, FIELD_CHOICE);
		assert_int_equal(mentor->def.fields[3].choices.n, 2);
		assert_int_equal(mentor->def.fields[5].max, 8);
		assert_int_equal(mentor->def.fields[5].bind, BIND_TOPICS);
		assert_string_equal(mentor->def.fields[6].key, "Capacity");
		assert_int_equal(mentor->def.fields[6].max, 3);
		assert_int_equal(mentor->def.fields[6].bind, BIND_CAPACITY);
		assert_false(mentor->def.fields[6].required);
		for (size_t i = 0; i < m->nsteps; i++)
			if (strcmp(m->steps[i].name, "close") == 0)
				close = &m->steps[i];
		assert_non_null(close);
		assert_int_equal(close->when, WHEN_AT);
		assert_int_equal(close->effect, EFFECT_END);
		assert_int_equal(close->at.base, POINT_END);
	}
	config_free(&config);
	assert_null(config);
	free(conf);
	free(prog);
	free(main_path);
	free(prog_path);
}

/* The second shipped program, CDE Peer Coaching: teams, approvals, topics,
 * a certificate, as conf/programs/cde.conf says. */
static void
test_cde_loads(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR"), *error = NULL;
	char *prog_path, *prog, *text, *conf;
	struct config *config = NULL;
	const struct config_program *p;
	const struct program *m;
	const struct program_role *member;
	const struct program_form *app, *eval;
	size_t len;

	(void)state;
	if (src == NULL)
		src = "..";
	prog_path = xasprintf("%s/conf/programs/cde.conf", src);
	assert_int_equal(read_file(prog_path, 1 << 20, &prog, &len, &error), 0);
	free(write_tmp("programs/cde.conf", prog, 0644));
	text = xasprintf("%sinclude(\"programs/cde.conf\")\n", base_conf);
	conf = write_tmp("mentord.conf", text, 0644);
	if (config_load(conf, &config, &error) < 0)
		fail_msg("cde.conf does not load: %s", error);
	p = config_program_by_name(config, "cde");
	assert_non_null(p);
	m = &p->model;
	assert_string_equal(p->title, "CDE Peer Coaching Program");
	assert_non_null(m->unit);
	assert_false(m->unit->pair);
	assert_int_equal(m->unit->size_min, 3);
	assert_int_equal(m->unit->size_max, 5);
	assert_int_equal(m->unit->size_preferred_max, 4);
	assert_true(m->unit->rotate_facilitator);
	assert_int_equal(m->unit->meetings_per_month, 1);
	member = program_role(m, "member");
	assert_non_null(member);
	assert_int_equal(member->decided_by, DECIDED_BY_AUTO);
	assert_int_equal(member->approvals.n, 2);
	assert_string_equal(member->approvals.v[1], "director");
	assert_int_equal(member->approval_days, 5);
	app = program_form(m, "application");
	assert_non_null(program_field_bound(app, BIND_DIRECTOR));
	assert_int_equal(program_field_bound(app, BIND_LEVEL)->type, FIELD_CHOICE);
	eval = program_form(m, "evaluation");
	assert_int_equal(eval->about, ABOUT_MEETING);
	assert_non_null(program_field_bound(eval, BIND_ATTENDED));
	assert_non_null(program_field_bound(eval, BIND_DATE));
	assert_int_equal(m->ntopics, 6);
	assert_string_equal(m->topics[0].title, "Fostering a Team Environment");
	assert_non_null(m->topics[5].readings);
	assert_string_equal(m->certificate.signer, "Tom Torlakson");
	for (size_t i = 0; i < m->nsteps; i++) {
		const struct program_step *st = &m->steps[i];

		if (strcmp(st->name, "evaluation") == 0) {
			assert_int_equal(st->when, WHEN_AFTER);
			assert_string_equal(st->request, "evaluation");
		} else if (strcmp(st->name, "certificate") == 0) {
			assert_int_equal(st->effect, EFFECT_COMPLETE);
			assert_int_equal(st->attendance_percent, 80);
			assert_string_equal(st->complete_form, "final");
		} else if (strcmp(st->name, "facilitator") == 0) {
			assert_int_equal(st->to, TO_FACILITATOR);
		}
	}
	config_free(&config);
	free(conf);
	free(text);
	free(prog);
	free(prog_path);
}

static void
test_cdss_application_form(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR"), *error = NULL;
	static const struct {
		const char *key;
		enum form_field_type type;
	} want[] = {
	    {"Name", FIELD_TEXT},
	    {"Division", FIELD_TEXT},
	    {"Classification", FIELD_TEXT},
	    {"Years as manager", FIELD_NUMBER},
	    {"Supervisor email", FIELD_EMAIL},
	    {"Developmental needs", FIELD_MULTICHOICE},
	    {"Availability", FIELD_TEXT},
	    {"Why do you want to join", FIELD_TEXT},
	};
	struct config *config = NULL;
	const struct form_def *form;
	char *text, *prog_path;
	size_t len;

	(void)state;
	prog_path = xasprintf("%s/conf/programs/cdss.conf", src != NULL ? src : "..");
	assert_int_equal(read_file(prog_path, 1 << 20, &text, &len, &error), 0);
	free(prog_path);
	error = load_text(text, &config, NULL);
	free(text);
	if (error != NULL)
		fail_msg("cdss.conf does not load: %s", error);
	form = &program_form(&config->programs[0].model, "application")->def;
	assert_string_equal(form->name, "application");
	assert_int_equal(form->nfields, N_ELEMENTS(want));
	for (size_t i = 0; i < N_ELEMENTS(want); i++) {
		assert_string_equal(form->fields[i].key, want[i].key);
		assert_int_equal(form->fields[i].type, want[i].type);
		assert_true(form->fields[i].required);
	}
	assert_int_equal(form->fields[3].min, 0);
	assert_int_equal(form->fields[3].max, 60);
	assert_int_equal(form->fields[5].choices.n, 23);
	assert_string_equal(form->fields[5].choices.v[0], "Communication");
	assert_string_equal(form->fields[5].choices.v[22], "Relationship Building");
	assert_int_equal(form->fields[5].min, 1);
	assert_int_equal(form->fields[5].max, 5);
	assert_true(form->fields[7].multiline);
	assert_true(strvec_contains_ci(&form->fields[7].aliases, "why"));
	config_free(&config);
}

static void
test_defaults(void **state)
{
	struct config *config = NULL;
	struct strvec comps = {0};
	const char *error;
	char *path, *want_db;

	(void)state;
	error = load_text(min_program, &config, &path);
	if (error != NULL)
		fail_msg("minimal file does not load: %s", error);
	assert_string_equal(config->imap.host, "127.0.0.1");
	assert_int_equal(config->imap.port, 143);
	assert_false(config->imap.implicit_tls);
	assert_false(config->imap.tls);
	assert_string_equal(config->imap.url, "imap://127.0.0.1:143");
	assert_string_equal(config->imap.mailbox, "INBOX");
	assert_null(config->imap.processed_mailbox);
	assert_true(config->imap.idle);
	assert_int_equal(config->imap.poll_interval, 60);
	assert_int_equal(config->imap.timeout, 30);
	assert_string_equal(config->smtp.url, "smtp://127.0.0.1:25");
	assert_null(config->smtp.user);
	assert_string_equal(config->smtp.from_addr, "mentoring@example.org");
	assert_string_equal(config->smtp.from_name, "");
	assert_int_equal(config->smtp.rate_per_minute, 0);
	assert_int_equal(config->smtp.timeout, 30);
	assert_string_equal(config->timezone, "UTC");
	assert_null(config->hmac_secret);
	assert_int_equal(config->max_auto_replies_per_day, 5);
	assert_int_equal(config->work_start_hour, 8);
	assert_int_equal(config->work_end_hour, 18);
	assert_false(config->work_weekends);
	/* Relative paths start from the file's directory. */
	want_db = xasprintf("%s/state/mentord.db", tmpdir);
	assert_string_equal(config->database, want_db);
	free(want_db);
	assert_string_equal(config->programs[0].title, "p");
	/* No group, no steps: people join and the coordinator is told. */
	assert_null(config->programs[0].model.unit);
	assert_int_equal(config->programs[0].model.nsteps, 0);
	assert_int_equal(config->programs[0].model.nforms, 1);
	assert_int_equal(config->programs[0].model.roles[0].limit, 0);
	assert_int_equal(config->programs[0].model.roles[0].decided_by, DECIDED_BY_COORDINATOR);
	assert_string_equal(config->programs[0].timezone, "UTC");
	assert_int_equal(config->nclusters, 6);
	config_competencies(config, &comps);
	assert_int_equal(comps.n, 23);
	assert_string_equal(comps.v[0], "Communication");
	assert_string_equal(comps.v[22], "Relationship Building");
	strvec_free(&comps);
	config_free(&config);
	free(path);
}

static void
test_custom_competencies(void **state)
{
	struct config *config = NULL;
	struct strvec comps = {0};
	const char *error;

	(void)state;
	error = load_text("competencies {\n"
	                  "  cluster \"People\" { competencies = {\"Listening\", # one\n"
	                  "                                        \"Coaching\"} }\n"
	                  "}\n"
	                  "program p { role m { form = \"application\" }\n"
	                  "  form application { field \"Needs\" {\n"
	                  "  type = multichoice choices_from = \"competencies\" } } }\n",
	                  &config, NULL);
	if (error != NULL)
		fail_msg("%s", error);
	config_competencies(config, &comps);
	assert_int_equal(comps.n, 2);
	assert_string_equal(comps.v[1], "Coaching");
	assert_int_equal(config->programs[0].model.forms[0].def.fields[0].choices.n, 2);
	assert_int_equal(config->programs[0].model.forms[0].def.fields[0].max, 2);
	strvec_free(&comps);
	config_free(&config);
}

static void
test_unknown_key_line(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *path, *want;

	(void)state;
	/* Lines 16 and 17 of base_conf are comments, which libconfuse 3.3
	 * alone would miscount. */
	error = load_text("program p {\n"             /* 18 */
	                  "  # comment\n"             /* 19 */
	                  "  meetings_per_moth = 2\n" /* 20 */
	                  "}\n",
	                  &config, &path);
	assert_non_null(error);
	assert_null(config);
	want = xasprintf("%s:20: ", path);
	if (strncmp(error, want, strlen(want)) != 0)
		fail_msg("want \"%s...\", got \"%s\"", want, error);
	assert_non_null(strstr(error, "meetings_per_moth"));
	free(want);
	free(path);
}

static void
test_include_lines(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *inc, *want;

	(void)state;
	/* A semantic problem in an included file names that file and its
	 * line; the main file's lines after the include stay right. */
	inc = write_tmp("programs/bad.conf",
	                "# first\n"
	                "program p {\n"
	                "  group g { members = {\"m\"} size = \"3-5\" meetings_per_month = 40 }\n"
	                "  role m { form = \"application\" }\n"
	                "  form application { field \"Name\" { type = text } }\n"
	                "}\n",
	                0644);
	error = load_text("include(\"programs/bad.conf\") # here\n"
	                  "timezone = \"Nowhere/Atall\"\n", /* line 19 of the main file */
	                  &config, NULL);
	assert_non_null(error);
	want = xasprintf("%s:3: meetings_per_month = 40", inc);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
	want = xasprintf("%s/mentord.conf:19: timezone", tmpdir);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
	free(inc);

	/* A syntax problem in an included file too. */
	inc = write_tmp("programs/bad.conf",
	                "program p {\n"
	                "  /* two\n"
	                "     lines */ bogus = 1\n"
	                "}\n",
	                0644);
	error = load_text("include(\"programs/bad.conf\")\n", &config, NULL);
	assert_non_null(error);
	want = xasprintf("%s:3: no such option 'bogus'", inc);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
	free(inc);

	/* A missing include names the line of the include. */
	error = load_text("\ninclude(\"programs/none.conf\")\n", &config, NULL);
	assert_non_null(error);
	want = xasprintf("%s/mentord.conf:19: cannot read include file", tmpdir);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
}

static void
test_bad_url(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *path, *want;

	(void)state;
	{
		char *conf = replace(base_conf, "imap://127.0.0.1", "http://127.0.0.1");
		char *all = xasprintf("%s%s", conf, min_program);

		path = write_tmp("mentord.conf", all, 0644);
		free(conf);
		free(all);
	}
	assert_int_equal(config_load(path, &config, &error), -1);
	want = xasprintf("%s:2: imap url \"http://127.0.0.1\" must start with imap:// or imaps://",
	                 path);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
	free(path);

	/* tls = off cannot weaken an implicit-TLS URL. */
	{
		char *conf = replace(base_conf, "smtp://127.0.0.1", "smtps://127.0.0.1");
		char *all = xasprintf("%s%s", conf, min_program);

		path = write_tmp("mentord.conf", all, 0644);
		free(conf);
		free(all);
	}
	assert_int_equal(config_load(path, &config, &error), -1);
	want = xasprintf("%s:9: smtp tls = off cannot be used with smtps://", path);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);
	free(path);
}

static void
test_password_file(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *secret, *conf, *all, *path, *want;

	(void)state;
	secret = write_tmp("imap.pw", "s3cret\nignored\n", 0644);
	conf = replace(base_conf, "password = \"pw\"", "password_file = \"imap.pw\"");
	all = xasprintf("%s%s", conf, min_program);
	path = write_tmp("mentord.conf", all, 0644);
	assert_int_equal(config_load(path, &config, &error), -1);
	want = xasprintf("%s:5: password_file %s is readable by others; chmod 600 %s", path, secret,
	                 secret);
	if (strstr(error, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, error);
	free(want);

	assert_int_equal(chmod(secret, 0600), 0);
	if (config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(config->imap.password, "s3cret");
	config_free(&config);

	assert_int_equal(unlink(secret), 0);
	assert_int_equal(config_load(path, &config, &error), -1);
	assert_non_null(strstr(error, ":5: password_file"));
	assert_non_null(strstr(error, "No such file"));
	free(secret);
	free(conf);
	free(all);
	free(path);
}

static void
test_coordinator_case(void **state)
{
	struct config *config = NULL;
	const char *error;

	(void)state;
	error = load_text(min_program, &config, NULL);
	assert_null(error);
	assert_true(config_is_coordinator(config, "coord@example.org"));
	assert_true(config_is_coordinator(config, "COORD@EXAMPLE.ORG"));
	assert_false(config_is_coordinator(config, "someone@example.org"));
	assert_false(config_is_coordinator(config, "coord@example.org.evil"));
	config_free(&config);
}

static void
test_program_for(void **state)
{
	struct config *config = NULL;
	struct strvec addrs = {0};
	const char *error;

	(void)state;
	error = load_text(
	    "program a { addresses = {\"mentoring@example.org\"}\n"
	    "  role m { form = \"application\" } form application { field \"Name\" { } } }\n"
	    "program b { addresses = {\"Coaching@Example.org\"} title = \"Coaching\"\n"
	    "  role m { form = \"application\" } form application { field \"Name\" { } } }\n",
	    &config, NULL);
	if (error != NULL)
		fail_msg("%s", error);
	strvec_push(&addrs, "someone@else.org");
	strvec_push(&addrs, "coaching+tok123@example.ORG");
	assert_string_equal(config_program_for(config, &addrs)->name, "b");
	strvec_free(&addrs);
	strvec_push(&addrs, "nobody@example.org");
	assert_string_equal(config_program_for(config, &addrs)->name, "a");
	assert_string_equal(config_program_by_name(config, "b")->title, "Coaching");
	assert_null(config_program_by_name(config, "c"));
	strvec_free(&addrs);
	config_free(&config);
}

static void
test_semantic_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* after "FILE:" */
	} cases[] = {
	    {"timezone = \"Mars/Olympus\"\n", "18: timezone \"Mars/Olympus\" is unknown"},
	    {"program p { meetings_per_month = 2\n role m { form = \"application\" } form "
	     "application { field \"N\" { } } }\n",
	     "18: program p: meetings_per_month is no longer a program key; it belongs to the "
	     "group"},
	    {"program p { kind = mentoring\n role m { form = \"application\" } form application { "
	     "field \"N\" { } } }\n",
	     "18: program p: kind is no longer a program key"},
	    {"program p { role m { form = \"application\" }\n group g { members = {\"m\"} size = "
	     "\"3-5\"\n meetings_per_month = 40 }\n form application { field \"N\" { } } }\n",
	     "20: meetings_per_month = 40 is out of range"},
	    {"program p {\n addresses = {\"not an address\"}\n"
	     " role m { form = \"application\" } form application { field \"N\" { } } }\n",
	     "19: program p address \"not an address\" is not an email address"},
	    {"program p { role m { form = \"application\" } form application {\n field \"N\" {\n "
	     "type = numbr } } }\n",
	     "20: field \"N\" has unknown type \"numbr\""},
	    {"work_hours = \"18-08\"\n", "18: work_hours = \"18-08\" is not a range"},
	    {"program p { role m { form = \"application\" } form application { field \"S\" { type "
	     "= choice } } }\n",
	     "has no choices"},
	    {"program p { title = \"x\" }\n", "program p has no role; add role mentee"},
	    {"\n", "no program is defined"},
	    {"program p { role m { form = \"application\" } form application { field \"A\" { }\n "
	     "field \"a\" { } } }\n",
	     "19: field \"a\" appears twice"},
	    {"program p { start = \"2026-13-01\"\n role m { form = \"application\" } form "
	     "application { field \"N\" { } } }\n",
	     "18: start = \"2026-13-01\" is not a date"},
	    {"program p { unclosed = {\n", "18: "},
	    {"program p {\n title = \"no end\n}\n", "19: string starting here has no closing"},
	    {"program p { role m { form = \"application\" } form application { field \"N\" { } } "
	     "}\n"
	     "program p { role m { form = \"application\" } form application { field \"N\" { } } "
	     "}\n",
	     "19: found duplicate title 'p'"},
	    {"program p { role m { form = \"application\" } form application { field \"N\" { type "
	     "= scale min = 5 max = 1 } } }\n",
	     "18: field \"N\" has min 5 above max 1"},
	    {"hmac_secret = \"short\"\n", "18: the reply-token secret is 5 characters"},
	    /* The engine's sections: each mistake named where it is written. */
	    {"program p { role m { form = \"aplication\" }\n form application { field \"N\" { } } "
	     "}\n",
	     "18: "},
	    {"program p { unit = \"team\"\n role m { form = \"application\" }\n"
	     " form application { field \"N\" { } } }\n",
	     "18: program p: unit = \"team\" names no group"},
	    {"program p { role m { form = \"application\" }\n group team { members = {\"m\"}\n"
	     " size = \"6-3\" }\n form application { field \"N\" { } } }\n",
	     "20: "},
	    {"program p { role m { form = \"application\" }\n"
	     " form application { field \"N\" { binds = colour } } }\n",
	     "19: "},
	    {"program p { role m { form = \"application\" }\n"
	     " form application { field \"N\" { } }\n step s { every = \"fortnight\" to = "
	     "\"group\" } }\n",
	     "20: "},
	    {"program p { role m { form = \"application\" }\n"
	     " form application { field \"N\" { } }\n step s { at = \"end\" effect = \"complete\"\n"
	     " to = \"participants\" } }\n",
	     "20: step s completes participants with a certificate"},
	    /* A second kind of group: pairs beside teams, opening later. */
	    {"program p { role m { form = \"application\" }\n group team { members = {\"m\"}\n"
	     " size = \"3-5\"\n opens = \"start + 50%\" }\n form application { field \"N\" { } } "
	     "}\n",
	     "21: group team is a team: only pairs open later"},
	    {"program p { unit = \"team\"\n pairs = \"team\"\n role m { form = \"application\" }\n"
	     " group team { members = {\"m\"} size = \"3-5\" }\n"
	     " form application { field \"N\" { } } }\n",
	     "19: program p: pairs = \"team\" names no pair"},
	    {"program p { role m { form = \"application\" }\n"
	     " form application { field \"N\" { } }\n step s { at = \"middle\" to = \"group\" } "
	     "}\n",
	     "20: "},
	    /* Attendance is per meeting: only an answer about one records it. */
	    {"program p { role m { form = \"application\" }\n"
	     " form application { field \"N\" { } }\n form survey {\n field \"Here\" { binds = "
	     "attended } } }\n",
	     "21: form survey: binds = attended needs a form about a meeting"},
	    /* A facilitator needs turns; pairs have none. */
	    {"program p { unit = \"team\" role m { form = \"application\" }\n"
	     " group team { members = {\"m\"} size = \"3-5\" }\n"
	     " form application { field \"N\" { } }\n step f { every = \"month\"\n"
	     " to = \"facilitator\" template = \"x\" } }\n",
	     "21: step f writes to the facilitator, but group team has none; add "
	     "rotate_facilitator = true"},
	    {"program p { unit = \"pair\" role m { form = \"application\" } role n { }\n"
	     " group pair { members = {\"m\", \"n\"}\n rotate_facilitator = true }\n"
	     " form application { field \"N\" { } } }\n",
	     "20: group pair is a pair: partners have no facilitator"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct config *config = NULL;
		const char *error;
		char *path, *want;

		error = load_text(cases[i].text, &config, &path);
		if (error == NULL)
			fail_msg("case %zu loaded", i);
		assert_null(config);
		want = xasprintf("%s:%s", path, cases[i].want);
		if (strstr(error, want) == NULL && strstr(error, cases[i].want) == NULL)
			fail_msg("case %zu: want \"%s\" in \"%s\"", i, want, error);
		if (strncmp(error, path, strlen(path)) != 0 || error[strlen(path)] != ':')
			fail_msg("case %zu: no FILE:LINE in \"%s\"", i, error);
		free(want);
		free(path);
	}
}

/* The 180: forms about a participant, requests to supervisors, the
 * compare report; each mistake named where it is written (the program
 * starts on line 18). */
#define A180_HEAD                                                                                  \
	"program p { start = \"2027-01-01\" end = \"2027-06-30\"\n"                                \
	" role m { form = \"application\" }\n"                                                     \
	" form application { field \"N\" { } field \"S\" { type = email binds = supervisor } }\n"
#define A180_FORM                                                                                  \
	" form a180 { about = \"participant\" rounds = {\"pre\", \"post\"}\n"                      \
	" field \"R\" { type = scale visible_to = {\"coordinator\", \"supervisor\"} } }\n"

static void
test_about_participant(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* after "FILE:"; NULL: loads */
	} cases[] = {
	    {A180_HEAD A180_FORM
	     " step a { at = \"start\" to = \"supervisor\" request = \"a180\"\n"
	     " round = \"pre\" }\n step r { at = \"end\" to = \"participants\"\n"
	     " effect = \"compare\" compare = \"a180\" } }\n",
	     NULL},
	    {A180_HEAD A180_FORM
	     " step s { at = \"start\" to = \"supervisor\" template = \"x\" } }\n",
	     "23: step s writes to each participant's supervisor: it must request a form about"},
	    {A180_HEAD A180_FORM " step s { every = \"month\" to = \"participants\" request = "
	                         "\"a180\" } }\n",
	     "23: step s requests form a180, which is about each participant, once a round"},
	    {A180_HEAD A180_FORM " step s { at = \"start\" to = \"coordinators\" request = "
	                         "\"a180\" } }\n",
	     "23: step s requests form a180, which is about each participant: use to"},
	    {A180_HEAD
	     " form a180 { about = \"participant\" rounds = {\"pre\", \"post\"}\n"
	     " field \"R\" { type = scale visible_to = {\"coordinator\"} } }\n"
	     " step r { at = \"end\" to = \"participants\" effect = \"compare\" compare = "
	     "\"a180\" } }\n",
	     "22: form a180 field \"R\" is shown in the report of step r (line 23)"},
	    {A180_HEAD A180_FORM
	     " step r { at = \"end\" to = \"participants\" effect = \"compare\"\n"
	     " compare = \"application\" } }\n",
	     "24: step r: effect = \"compare\" needs compare = \"FORM\""},
	    {A180_HEAD A180_FORM " step r { every = \"month\" to = \"participants\"\n"
	                         " effect = \"compare\" compare = \"a180\" } }\n",
	     "24: step r: effect = \"compare\" sends each participant's report"},
	    {A180_HEAD A180_FORM " step r { at = \"end\" to = \"participants\" template = \"x\"\n"
	                         " compare = \"a180\" } }\n",
	     "24: step r: compare = \"a180\" needs effect = \"compare\""},
	    {"program p { start = \"2027-01-01\"\n role m { form = \"application\" }\n"
	     " form application { field \"N\" { } }\n" A180_FORM
	     " step s { at = \"start\" to = \"supervisor\" request = \"a180\" } }\n",
	     "23: step s writes to each participant's supervisor, but no role's form has a field "
	     "binds = supervisor"},
	    {A180_HEAD " form a180 { about = \"person\" }\n}\n",
	     "21: form about = \"person\" is unknown; use program, group, meeting or participant"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct config *config = NULL;
		const char *error;
		char *path, *want;

		error = load_text(cases[i].text, &config, &path);
		if (cases[i].want == NULL) {
			if (error != NULL)
				fail_msg("case %zu: %s", i, error);
			assert_non_null(config);
			config_free(&config);
			free(path);
			continue;
		}
		if (error == NULL)
			fail_msg("case %zu loaded", i);
		want = xasprintf("%s:%s", path, cases[i].want);
		if (strstr(error, want) == NULL)
			fail_msg("case %zu: want \"%s\" in \"%s\"", i, want, error);
		free(want);
		free(path);
	}
}

static void
test_missing_from(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *conf, *all, *path;

	(void)state;
	conf = replace(base_conf, "\tfrom = \"mentoring@example.org\"\n", "\n");
	all = xasprintf("%s%s", conf, min_program);
	path = write_tmp("mentord.conf", all, 0644);
	assert_int_equal(config_load(path, &config, &error), -1);
	assert_non_null(strstr(error, "smtp has no from; add from ="));
	free(conf);
	free(all);
	free(path);

	conf = replace(base_conf, "\tfrom = \"mentoring@example.org\"",
	               "\tfrom = \"Mentoring <not-an-address>\"");
	all = xasprintf("%s%s", conf, min_program);
	path = write_tmp("mentord.conf", all, 0644);
	assert_int_equal(config_load(path, &config, &error), -1);
	assert_non_null(strstr(error, ":10: smtp from"));
	free(conf);
	free(all);
	free(path);
}

static void
test_many_problems(void **state)
{
	struct strbuf sb = {0};
	struct config *config = NULL;
	const char *error;
	size_t lines = 1;

	(void)state;
	/* Several problems are all reported, and a flood is cut to fit. */
	strbuf_adds(&sb, "program p { role m { form = \"application\" } form application {\n");
	for (int i = 0; i < 60; i++)
		strbuf_addf(&sb, "field \"F%d\" { type = bogus%d }\n", i, i);
	strbuf_adds(&sb, "} }\n");
	error = load_text(strbuf_str(&sb), &config, NULL);
	assert_non_null(error);
	assert_true(strlen(error) < ERROR_MAX);
	for (const char *p = error; *p != '\0'; p++)
		lines += *p == '\n';
	assert_true(lines > 3);
	assert_non_null(strstr(error, "bogus0"));
	assert_non_null(strstr(error, "more problems)"));
	strbuf_free(&sb);
}

/* With no secret configured, the first start makes one in the state
 * directory (private), and later starts read the same one. */
static void
test_secret_generated(void **state)
{
	struct config *config = NULL, *again = NULL;
	const char *error = NULL;
	struct stat st;
	char *path, *dir;

	(void)state;
	dir = xasprintf("%s/state", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_null(load_text(min_program, &config, NULL));
	assert_null(config->hmac_secret);
	assert_string_equal(config->state_dir, dir);
	assert_int_equal(config_ensure_secret(config, &error), 0);
	assert_non_null(config->hmac_secret);
	assert_true(strlen(config->hmac_secret) >= 32);
	path = xasprintf("%s/hmac.secret", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_null(load_text(min_program, &again, NULL));
	assert_int_equal(config_ensure_secret(again, &error), 0);
	assert_string_equal(again->hmac_secret, config->hmac_secret);
	/* A secret readable by others is refused, not used. */
	config_free(&again);
	assert_int_equal(chmod(path, 0644), 0);
	assert_null(load_text(min_program, &again, NULL));
	assert_int_equal(config_ensure_secret(again, &error), -1);
	assert_non_null(strstr(error, "chmod 600"));
	assert_null(strstr(error, config->hmac_secret));
	config_free(&again);
	config_free(&config);
	free(path);
	free(dir);
}

/* tls = off sends the password in clear: only to this machine. */
static void
test_tls_off_loopback_only(void **state)
{
	static const char *const local[] = {"127.0.0.1", "127.1.2.3", "localhost", "[::1]"};
	struct config *config = NULL;
	const char *error;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(local); i++) {
		char *host = xasprintf("imap://%s", local[i]);
		char *conf = replace(base_conf, "imap://127.0.0.1", host);
		char *text = xasprintf("%s%s", conf, min_program);
		char *path = write_tmp("mentord.conf", text, 0644);

		if (config_load(path, &config, &error) < 0)
			fail_msg("%s refused: %s", local[i], error);
		config_free(&config);
		free(path);
		free(text);
		free(conf);
		free(host);
	}
	{
		char *conf = replace(base_conf, "imap://127.0.0.1", "imap://mail.example.org");
		char *text = xasprintf("%s%s", conf, min_program);
		char *path = write_tmp("mentord.conf", text, 0644);

		assert_int_equal(config_load(path, &config, &error), -1);
		assert_non_null(strstr(error, "mentord.conf:3: imap tls = off"));
		assert_non_null(strstr(error, "mail.example.org"));
		free(path);
		free(text);
		free(conf);
	}
}

/* include() of a file that holds a secret: the error names the file and
 * the line and never repeats what is in it. */
static void
test_include_secret_not_printed(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *secret_path;

	(void)state;
	secret_path =
	    write_tmp("hmac.secret", "Zm9vYmFyMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=\n", 0600);
	error = load_text("include(\"hmac.secret\")\n", &config, NULL);
	assert_non_null(error);
	assert_non_null(strstr(error, "hmac.secret:1:"));
	assert_null(strstr(error, "Zm9vYmFy"));
	free(secret_path);
	/* The same one-line file readable by all: no section, no string, so
	 * still not quoted. */
	secret_path =
	    write_tmp("hmac.secret", "Zm9vYmFyMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=\n", 0644);
	error = load_text("include(\"hmac.secret\")\n", &config, NULL);
	assert_non_null(error);
	assert_null(strstr(error, "Zm9vYmFy"));
	free(secret_path);
}

/* Parse errors name their real cause and the line to fix, not the word
 * libconfuse stumbled on. */
static void
test_parse_error_causes(void **state)
{
	static const struct {
		const char *text;  /* after base_conf (line 18 on) */
		const char *want;  /* after "FILE:" */
		const char *want2; /* also in the message, or NULL */
	} cases[] = {
	    /* A field without its }: the next field is read inside it. */
	    {"program p {\n"              /* 18 */
	     "\tform application {\n"     /* 19 */
	     "\t\tfield \"Name\" {\n"     /* 20 */
	     "\t\t\ttype = text\n"        /* 21 */
	     "\t\tfield \"Division\" {\n" /* 22 */
	     "\t\t\ttype = text\n"        /* 23 */
	     "\t\t}\n"                    /* 24 */
	     "\t}\n"                      /* 25 */
	     "}\n",                       /* 26 */
	     "20: section field \"Name\" { ... } starting here is not closed", "'field' at "},
	    /* A form without its }: the } meant for the program closes it,
	     * and the next program is read inside that one. */
	    {"program p {\n"                        /* 18 */
	     "\tform application {\n"               /* 19 */
	     "\t\tfield \"Name\" { type = text }\n" /* 20 */
	     "}\n"                                  /* 21 */
	     "program q {\n"                        /* 22 */
	     "\tform application { field \"N\" { } }\n"
	     "}\n",
	     "19: section form \"application\" { ... } starting here has no closing }",
	     "closed it instead"},
	    /* The file ends inside the program, which libconfuse accepts. */
	    {"program p {\n" /* 18 */
	     "\tform application { field \"N\" { } }\n",
	     "18: section program \"p\" { ... } starting here is not closed at the end of the file",
	     NULL},
	    /* A list without its }. */
	    {"trusted_authserv_id = {\"mx.example.org\"\n" /* 18 */
	     "max_auto_replies_per_day = 3\n"
	     "program p { role m { form = \"application\" } form application { field \"N\" { } } "
	     "}\n",
	     "18: the list trusted_authserv_id = { ... } starting here is not closed", NULL},
	    /* An unquoted value with spaces. */
	    {"program p {\n"                      /* 18 */
	     "\ttitle = CDSS Mentoring Program\n" /* 19 */
	     "\tform application { field \"N\" { } }\n"
	     "}\n",
	     "19: title = CDSS Mentoring Program: a value with spaces must be in double quotes; "
	     "write title = \"CDSS Mentoring Program\"",
	     NULL},
	    {"program p { title = Two Words form application { field \"N\" { } } }\n",
	     "18: title = Two Words: a value with spaces", NULL},
	    /* A key of another section. */
	    {"mailbox = \"Archive\"\n" /* 18 */
	     "program p { role m { form = \"application\" } form application { field \"N\" { } } "
	     "}\n",
	     "18: 'mailbox' is not a key here; it belongs inside imap { ... }", NULL},
	    /* A top-level key written inside a section. */
	    {"coordinator {\n"         /* 18 */
	     "\tdatabase = \"x.db\"\n" /* 19 */
	     "}\n"
	     "program p { role m { form = \"application\" } form application { field \"N\" { } } "
	     "}\n",
	     "19: 'database' is not a key of section coordinator { ... }; it belongs to the top "
	     "level",
	     NULL},
	    /* A } too many. */
	    {"}\n", "18: unexpected closing brace; a } closes nothing here", NULL},
	    /* Several addresses in one string. */
	    {"program p {\n" /* 18 */
	     "\taddresses = {\"m@example.org; n@example.org\"}\n"
	     "\tform application { field \"N\" { } }\n"
	     "}\n",
	     "19: program p address \"m@example.org; n@example.org\" is several addresses",
	     "addresses = {\"m@example.org\", \"n@example.org\"}"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct config *config = NULL;
		const char *error;
		char *path, *want;

		error = load_text(cases[i].text, &config, &path);
		if (error == NULL)
			fail_msg("case %zu loaded", i);
		assert_null(config);
		want = xasprintf("%s:%s", path, cases[i].want);
		if (strstr(error, want) == NULL)
			fail_msg("case %zu: want \"%s\" in \"%s\"", i, want, error);
		if (cases[i].want2 != NULL && strstr(error, cases[i].want2) == NULL)
			fail_msg("case %zu: want \"%s\" in \"%s\"", i, cases[i].want2, error);
		if (strstr(error, "no such option") != NULL)
			fail_msg("case %zu: libconfuse's message instead of the cause: \"%s\"", i,
			         error);
		free(want);
		free(path);
	}
}

/* A password with spaces and no quotes: the message says to quote it and
 * does not repeat it. */
static void
test_unquoted_secret_not_printed(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *conf, *text, *path;

	(void)state;
	conf = replace(base_conf, "\tpassword = \"pw\"", "\tpassword = hunter2 and more");
	text = xasprintf("%s%s", conf, min_program);
	path = write_tmp("mentord.conf", text, 0644);
	assert_int_equal(config_load(path, &config, &error), -1);
	assert_non_null(strstr(error, "mentord.conf:5: the value of password has spaces"));
	assert_null(strstr(error, "hunter2"));
	free(path);
	free(text);
	free(conf);
}

/* The coordinators' addresses as one string: the message shows the list. */
static void
test_coordinator_list_in_string(void **state)
{
	struct config *config = NULL;
	const char *error;
	char *conf, *text, *path;

	(void)state;
	conf = replace(base_conf, "address = {\"Coord@Example.org\"}",
	               "address = \"a@example.org, b@example.org\"");
	text = xasprintf("%s%s", conf, min_program);
	path = write_tmp("mentord.conf", text, 0644);
	assert_int_equal(config_load(path, &config, &error), -1);
	assert_non_null(strstr(error, "mentord.conf:13: coordinator address \"a@example.org, "
	                              "b@example.org\" is several addresses in one string; write "
	                              "a list with each address quoted: address = "
	                              "{\"a@example.org\", \"b@example.org\"}"));
	/* Only that problem: not also "no coordinator address". */
	assert_null(strchr(error, '\n'));
	free(path);
	free(text);
	free(conf);
}

/* The line of templates, for the daemon's errors about the templates. */
static void
test_templates_where(void **state)
{
	struct config *config = NULL;
	char *path, *want;

	(void)state;
	assert_null(load_text("templates = \"tpl\"\n" /* 18 */
	                      "program p { role m { form = \"application\" } form application { "
	                      "field \"N\" { } } }\n",
	                      &config, &path));
	want = xasprintf("%s:18", path);
	assert_string_equal(config->templates_where, want);
	want[strlen(want) - 3] = '\0';
	/* Relative to the file's directory. */
	assert_non_null(strstr(config->templates, tmpdir));
	config_free(&config);
	free(want);
	free(path);
	assert_null(load_text(min_program, &config, &path));
	assert_string_equal(config->templates_where, path);
	config_free(&config);
	free(path);
}

/* config_print: every key, defaults filled in, paths resolved, secrets
 * masked; the output loads as a configuration with the same values. */
static void
test_print_config(void **state)
{
	struct config *config = NULL, *again = NULL;
	const char *error = NULL;
	char *conf, *text, *path, *out_path, *printed, *pw_path, *dir_db;
	size_t len;
	FILE *out;

	(void)state;
	pw_path = write_tmp("smtp.password", "smtp-secret-value\n", 0600);
	conf = replace(base_conf, "\tfrom = \"mentoring@example.org\"\n",
	               "\tfrom = \"mentoring@example.org\"\n"
	               "\tuser = \"sender\"\n"
	               "\tpassword_file = \"smtp.password\"\n");
	text = xasprintf("%shmac_secret = \"0123456789abcdef-hmac-value\"\n%s", conf, min_program);
	path = write_tmp("mentord.conf", text, 0644);
	out_path = xasprintf("%s/printed.conf", tmpdir);
	out = fopen(out_path, "w");
	assert_non_null(out);
	if (config_print(path, out, &error) < 0)
		fail_msg("config_print: %s", error);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(read_file(out_path, 1 << 20, &printed, &len, &error), 0);

	/* Secrets masked; the file that holds one named. */
	assert_null(strstr(printed, "\"pw\""));
	assert_null(strstr(printed, "hmac-value"));
	assert_null(strstr(printed, "smtp-secret-value"));
	assert_non_null(strstr(printed, "\n\tpassword = \"********\"\n"));
	assert_non_null(strstr(printed, "\nhmac_secret = \"********\"\n"));
	assert_non_null(strstr(printed, pw_path));
	/* Defaults, derived values and relative paths resolved. */
	dir_db = xasprintf("\ndatabase = \"%s/state/mentord.db\"\n", tmpdir);
	assert_non_null(strstr(printed, dir_db));
	free(dir_db);
	dir_db = xasprintf("\nstate_directory = \"%s/state\"\n", tmpdir);
	assert_non_null(strstr(printed, dir_db));
	free(dir_db);
	assert_non_null(strstr(printed, "\ntimezone = \"UTC\"\n"));
	assert_non_null(strstr(printed, "\n\tmailbox = \"INBOX\"\n"));
	assert_non_null(strstr(printed, "\n\tpoll_interval = 60\n"));
	assert_non_null(strstr(printed, "\n\t# processed_mailbox is not set"));
	assert_non_null(strstr(printed, "\nprogram \"p\" {\n\ttitle = \"p\"\n"));
	assert_non_null(strstr(printed, "\tcluster \"Building Coalitions\" {\n"));
	assert_non_null(strstr(printed, "\t\t\ttype = \"text\"\n"));

	/* What is printed is a configuration (masked passwords and all; a
	 * masked hmac_secret is too short to be one). */
	{
		char *without = replace(printed, "\nhmac_secret = \"********\"\n", "\n");
		char *again_path = write_tmp("again.conf", without, 0644);

		free(without);
		free(out_path);
		out_path = again_path;
	}
	if (config_load(out_path, &again, &error) < 0)
		fail_msg("the printed configuration does not load: %s", error);
	assert_string_equal(again->imap.password, "********");
	assert_string_equal(again->smtp.password_file, pw_path);
	assert_string_equal(again->smtp.password, "smtp-secret-value");
	assert_int_equal(again->nclusters, 6);
	assert_int_equal(again->imap.poll_interval, 60);
	config_free(&again);

	/* A file with problems: the problems, and what could be read. */
	free(text);
	text = xasprintf("%swork_hours = \"late\"\n%s", base_conf, min_program);
	free(path);
	path = write_tmp("mentord.conf", text, 0644);
	out = fopen(out_path, "w");
	assert_non_null(out);
	assert_int_equal(config_print(path, out, &error), -1);
	assert_non_null(strstr(error, "mentord.conf:18: work_hours = \"late\""));
	assert_int_equal(fclose(out), 0);
	free(printed);
	assert_int_equal(read_file(out_path, 1 << 20, &printed, &len, &error), 0);
	assert_non_null(strstr(printed, "\nwork_hours = \"late\"\n"));

	config_free(&config);
	free(printed);
	free(out_path);
	free(path);
	free(text);
	free(conf);
	free(pw_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_example_loads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_generated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls_off_loopback_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_secret_not_printed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cdss_application_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cde_loads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_competencies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_include_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_coordinator_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_program_for, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_semantic_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_about_participant, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_from, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_error_causes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unquoted_secret_not_printed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_coordinator_list_in_string, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_templates_where, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_print_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
