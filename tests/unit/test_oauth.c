/*
 * Unit tests for oauth's token file and its use without a network (the
 * token endpoint is never reachable here: a renewal would fail, so a test
 * that gets a token proves none was attempted), the SASL messages, and the
 * oauth parts of the configuration (FILE:LINE errors, refused
 * combinations).  The network paths run against a real token server in
 * tests/integration/test_oauth.py.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "oauth.h"
#include "util.h"

static char tmpdir[64];

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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_oauth.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	oauth_cleanup();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

/* A configuration whose token endpoint nobody listens on. */
static void
fake_conf(struct config_oauth *o, const char *token_file)
{
	memset(o, 0, sizeof(*o));
	o->used = true;
	o->provider = CONFIG_OAUTH_GENERIC;
	o->flow = CONFIG_OAUTH_DEVICE;
	o->client_id = xstrdup("client-1");
	o->scope = xstrdup("mail");
	o->token_url = xstrdup("https://127.0.0.1:9/token");
	o->device_url = xstrdup("https://127.0.0.1:9/device");
	o->token_file = xstrdup(token_file);
	o->timeout = 2;
}

static void
fake_conf_free(struct config_oauth *o)
{
	free(o->client_id);
	free(o->scope);
	free(o->token_url);
	free(o->device_url);
	free(o->token_file);
}

static void
state_with_tokens(struct oauth_state *st, time_t obtained, time_t expires)
{
	memset(st, 0, sizeof(*st));
	st->refresh_token = xstrdup("rt-1");
	st->access_token = xstrdup("at-1");
	st->obtained_at = obtained;
	st->expires_at = expires;
	st->client_id = xstrdup("client-1");
	st->token_url = xstrdup("https://127.0.0.1:9/token");
}

/* ---- the token file ---- */

static void
test_missing_file_is_empty(void **state)
{
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("none.json");

	(void)state;
	assert_int_equal(oauth_state_load(path, &st, &error), 0);
	assert_null(st.refresh_token);
	assert_null(st.access_token);
	assert_int_equal(st.failures, 0);
	oauth_state_clear(&st);
	free(path);
}

static void
test_save_load_round_trip(void **state)
{
	struct oauth_state st, back;
	const char *error = NULL;
	char *path = tmp_path("token.json");
	struct stat sb;

	(void)state;
	state_with_tokens(&st, 1000, 4600);
	st.failures = 2;
	st.retry_at = 5000;
	st.failing_since = 900;
	st.last_grade = OAUTH_ERR_GRANT;
	st.last_error = xstrdup("refused: \"quoted\" and \\ backslash");
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* Only the file: the temporary one was renamed, not left behind. */
	assert_int_equal(count_entries(tmpdir), 1);

	assert_int_equal(oauth_state_load(path, &back, &error), 0);
	assert_string_equal(back.refresh_token, "rt-1");
	assert_string_equal(back.access_token, "at-1");
	assert_int_equal(back.obtained_at, 1000);
	assert_int_equal(back.expires_at, 4600);
	assert_int_equal(back.failures, 2);
	assert_int_equal(back.retry_at, 5000);
	assert_int_equal(back.failing_since, 900);
	assert_int_equal(back.last_grade, OAUTH_ERR_GRANT);
	assert_string_equal(back.last_error, "refused: \"quoted\" and \\ backslash");
	assert_string_equal(back.client_id, "client-1");
	oauth_state_clear(&back);
	oauth_state_clear(&st);
	free(path);
}

static void
test_save_replaces_a_looser_file(void **state)
{
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("token.json");
	struct stat sb;

	(void)state;
	/* An older file someone made readable: the new one is 600 again. */
	write_file(path, "{}", 0644);
	state_with_tokens(&st, 1, 2);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	oauth_state_clear(&st);
	free(path);
}

static void
test_save_fails_without_directory(void **state)
{
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("missing/token.json");

	(void)state;
	state_with_tokens(&st, 1, 2);
	assert_int_equal(oauth_state_save(path, &st, &error), -1);
	assert_non_null(strstr(error, "missing/token.json"));
	/* The error names the file, never the token. */
	assert_null(strstr(error, "rt-1"));
	oauth_state_clear(&st);
	free(path);
}

static void
test_files_belong_to_the_state_dir_owner(void **state)
{
	struct config_oauth o;
	struct oauth_state st;
	const char *error = NULL;
	char *dir = tmp_path("state"), *path = tmp_path("state/token.json");
	char *lock = tmp_path("state/token.json.lock"), *token = NULL;
	uid_t want = geteuid() == 0 ? 4321 : geteuid();
	struct stat sb;

	(void)state;
	/* sudo mentorctl oauth login: root writes where mentord must read. */
	assert_int_equal(mkdir(dir, 0700), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(dir, 4321, 4321), 0);
	state_with_tokens(&st, time(NULL), time(NULL) + 3600);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_uid, want);
	fake_conf(&o, path);
	assert_int_equal(oauth_token_get(&o, NULL, &token, NULL, &error), OAUTH_OK);
	oauth_token_free(&token);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_uid, want);
	assert_int_equal(sb.st_mode & 0777, 0600);
	fake_conf_free(&o);
	free(dir);
	free(path);
	free(lock);
}

static void
test_damaged_file(void **state)
{
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("token.json");

	(void)state;
	write_file(path, "{\"refresh_token\": \"rt-", 0600);
	assert_int_equal(oauth_state_load(path, &st, &error), -1);
	assert_non_null(strstr(error, "mentorctl oauth login"));
	assert_null(st.refresh_token);
	/* A token with a control character could break a SASL message. */
	write_file(path, "{\"refresh_token\": \"rt\\r\\nx\", \"access_token\": \"a b\"}", 0600);
	assert_int_equal(oauth_state_load(path, &st, &error), 0);
	assert_null(st.refresh_token);
	assert_null(st.access_token);
	oauth_state_clear(&st);
	free(path);
}

static void
test_backoff(void **state)
{
	static const long want[] = {30, 60, 120, 240, 480, 960, 1800, 1800, 1800};
	struct oauth_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < N_ELEMENTS(want); i++) {
		oauth_state_failed(&st, OAUTH_ERR_TEMP, "down", 10000 + (time_t)i);
		assert_int_equal(st.retry_at - (10000 + (time_t)i), want[i]);
		/* The run of failures started with the first. */
		assert_int_equal(st.failing_since, 10000);
	}
	assert_int_equal(st.failures, (int)N_ELEMENTS(want));
	oauth_state_failed(&st, OAUTH_ERR_GRANT, "revoked", 20000);
	assert_int_equal(st.last_grade, OAUTH_ERR_GRANT);
	assert_string_equal(st.last_error, "revoked");
	oauth_state_clear(&st);
}

static void
test_margin(void **state)
{
	(void)state;
	assert_int_equal(oauth_margin(0, 3600), 600); /* capped */
	assert_int_equal(oauth_margin(0, 1200), 300); /* a quarter */
	assert_int_equal(oauth_margin(100, 108), 2);
	assert_int_equal(oauth_margin(100, 100), 0);
	assert_int_equal(oauth_margin(100, 50), 0);
}

/* ---- oauth_token_get without a network ---- */

static void
test_cached_token_used_without_request(void **state)
{
	struct config_oauth o;
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("token.json"), *token = NULL;
	time_t now = time(NULL), exp = 0;

	(void)state;
	fake_conf(&o, path);
	state_with_tokens(&st, now - 60, now + 3540);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	assert_int_equal(oauth_token_get(&o, NULL, &token, &exp, &error), OAUTH_OK);
	assert_string_equal(token, "at-1");
	assert_int_equal(exp, now + 3540);
	oauth_token_free(&token);
	assert_null(token);
	/* Refused by a server: a renewal is needed, which cannot happen here;
	 * the refused token is never handed out again. */
	assert_int_equal(oauth_token_get(&o, "at-1", &token, NULL, &error), OAUTH_ERR_TEMP);
	assert_null(token);
	assert_non_null(strstr(error, "127.0.0.1:9"));
	/* That failure is in the file, with its backoff. */
	assert_int_equal(oauth_state_load(path, &st, &error), 0);
	assert_int_equal(st.failures, 1);
	assert_true(st.retry_at >= now + OAUTH_BACKOFF_MIN);
	assert_string_equal(st.refresh_token, "rt-1"); /* kept */
	oauth_state_clear(&st);
	fake_conf_free(&o);
	free(path);
}

static void
test_backoff_keeps_valid_token(void **state)
{
	struct config_oauth o;
	struct oauth_state st;
	const char *error = NULL;
	char *path = tmp_path("token.json"), *token = NULL;
	time_t now = time(NULL);

	(void)state;
	fake_conf(&o, path);
	/* Inside its renewal margin, a renewal failed a moment ago: the
	 * token still works, so it is used, and no request is made before
	 * retry_at (the endpoint is unreachable: a request would fail and
	 * count a second failure). */
	state_with_tokens(&st, now - 3500, now + 100);
	oauth_state_failed(&st, OAUTH_ERR_GRANT, "invalid_grant", now - 1);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	assert_int_equal(oauth_token_get(&o, NULL, &token, NULL, &error), OAUTH_OK);
	assert_string_equal(token, "at-1");
	oauth_token_free(&token);
	assert_int_equal(oauth_state_load(path, &st, &error), 0);
	assert_int_equal(st.failures, 1);
	oauth_state_clear(&st);

	/* Expired and still backing off: the last failure again, with when. */
	state_with_tokens(&st, now - 3700, now - 100);
	oauth_state_failed(&st, OAUTH_ERR_GRANT, "invalid_grant", now - 1);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	oauth_cleanup();
	assert_int_equal(oauth_token_get(&o, NULL, &token, NULL, &error), OAUTH_ERR_GRANT);
	assert_null(token);
	assert_non_null(strstr(error, "invalid_grant"));
	assert_non_null(strstr(error, "next try in"));
	assert_int_equal(oauth_state_load(path, &st, &error), 0);
	assert_int_equal(st.failures, 1);
	oauth_state_clear(&st);
	fake_conf_free(&o);
	free(path);
}

static void
test_no_refresh_token(void **state)
{
	struct config_oauth o;
	struct oauth_status s;
	const char *error = NULL;
	char *path = tmp_path("token.json"), *token = NULL;

	(void)state;
	fake_conf(&o, path);
	assert_int_equal(oauth_token_get(&o, NULL, &token, NULL, &error), OAUTH_ERR_GRANT);
	assert_non_null(strstr(error, "mentorctl oauth login"));
	assert_int_equal(oauth_status_read(&o, &s, &error), 0);
	assert_true(s.exists);
	assert_false(s.has_refresh);
	assert_int_equal(s.failures, 1);
	assert_true(s.failing_since > 0);
	assert_int_equal(s.last_grade, OAUTH_ERR_GRANT);
	assert_int_equal(oauth_status_wake(&s), s.retry_at);
	oauth_status_clear(&s);
	fake_conf_free(&o);
	free(path);
}

static void
test_other_client(void **state)
{
	struct config_oauth o;
	struct oauth_state st;
	struct oauth_status s;
	const char *error = NULL;
	char *path = tmp_path("token.json"), *token = NULL;
	time_t now = time(NULL);

	(void)state;
	fake_conf(&o, path);
	state_with_tokens(&st, now, now + 3600);
	free(st.client_id);
	st.client_id = xstrdup("someone-else");
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	assert_int_equal(oauth_token_get(&o, NULL, &token, NULL, &error), OAUTH_ERR_GRANT);
	assert_non_null(strstr(error, "another client"));
	assert_int_equal(oauth_status_read(&o, &s, &error), 0);
	assert_true(s.other_client);
	assert_true(s.has_refresh); /* not thrown away */
	oauth_status_clear(&s);
	fake_conf_free(&o);
	free(path);
}

static void
test_status_wake(void **state)
{
	struct config_oauth o;
	struct oauth_state st;
	struct oauth_status s;
	const char *error = NULL;
	char *path = tmp_path("token.json");

	(void)state;
	fake_conf(&o, path);
	assert_int_equal(oauth_status_read(&o, &s, &error), 0);
	assert_false(s.exists);
	assert_int_equal(oauth_status_wake(&s), 0);
	oauth_status_clear(&s);
	state_with_tokens(&st, 1000, 4600);
	assert_int_equal(oauth_state_save(path, &st, &error), 0);
	oauth_state_clear(&st);
	assert_int_equal(oauth_status_read(&o, &s, &error), 0);
	assert_true(s.has_refresh && s.has_access);
	assert_int_equal(s.refresh_at, 4000);
	assert_int_equal(oauth_status_wake(&s), 4000);
	oauth_status_clear(&s);
	fake_conf_free(&o);
	free(path);
}

/* ---- SASL ---- */

static char *
unbase64(const char *b64, size_t *len_r)
{
	gnutls_datum_t in = {(unsigned char *)b64, (unsigned int)strlen(b64)}, out;
	char *s;

	assert_int_equal(gnutls_base64_decode2(&in, &out), 0);
	s = xstrndup((const char *)out.data, out.size);
	*len_r = out.size;
	gnutls_free(out.data);
	return s;
}

static void
test_sasl(void **state)
{
	char *b64, *raw;
	size_t len;

	(void)state;
	b64 = oauth_sasl_response(CONFIG_AUTH_XOAUTH2, "m@example.org", "imap.example.org", 993,
	                          "tok");
	raw = unbase64(b64, &len);
	assert_int_equal(len, strlen("user=m@example.org\001auth=Bearer tok\001\001"));
	assert_string_equal(raw, "user=m@example.org\001auth=Bearer tok\001\001");
	free(raw);
	oauth_token_free(&b64);
	b64 = oauth_sasl_response(CONFIG_AUTH_OAUTHBEARER, "a,b=c@example.org", "imap.example.org",
	                          143, "tok");
	raw = unbase64(b64, &len);
	assert_string_equal(raw, "n,a=a=2Cb=3Dc@example.org,\001host=imap.example.org\001port=143"
	                         "\001auth=Bearer tok\001\001");
	free(raw);
	oauth_token_free(&b64);
}

/* ---- configuration ---- */

static const char conf_head[] = "database = \"%s/state/mentord.db\"\n" /* 1 */
                                "imap {\n"                             /* 2 */
                                "\turl = \"imaps://127.0.0.1\"\n"      /* 3 */
                                "\tuser = \"mentoring@example.org\"\n" /* 4 */
                                "\tauth = %s\n"                        /* 5 */
                                "}\n"                                  /* 6 */
                                "smtp {\n"                             /* 7 */
                                "\turl = \"%s\"\n"                     /* 8 */
                                "\tuser = \"mentoring@example.org\"\n" /* 9 */
                                "\tauth = %s\n"                        /* 10 */
                                "\tfrom = \"mentoring@example.org\"\n" /* 11 */
                                "}\n"                                  /* 12 */
                                "coordinator {\n"                      /* 13 */
                                "\taddress = {\"c@example.org\"}\n"    /* 14 */
                                "}\n"                                  /* 15 */
                                "program p {\n"                        /* 16 */
                                "\tform application {\n"               /* 17 */
                                "\t\tfield \"Name\" {\n"               /* 18 */
                                "\t\t\ttype = text\n"                  /* 19 */
                                "\t\t}\n"                              /* 20 */
                                "\t}\n"                                /* 21 */
                                "\trole mentee {\n"                    /* 22 */
                                "\t\tform = application\n"             /* 23 */
                                "\t}\n"                                /* 24 */
                                "}\n";                                 /* 25 */

/* Loads conf_head (imap and smtp auth given) + tail; returns the error or
 * NULL, and the loaded config in *config_r (the caller frees). */
static const char *smtp_url = "smtps://127.0.0.1";

static const char *
load(const char *imap_auth, const char *smtp_auth, const char *tail, struct config **config_r)
{
	char *state_dir = tmp_path("state");
	char *head = xasprintf(conf_head, tmpdir, imap_auth, smtp_url, smtp_auth);
	char *text = xasprintf("%s%s", head, tail);
	char *path = tmp_path("mentord.conf");
	const char *error = NULL;

	mkdir(state_dir, 0700);
	write_file(path, text, 0644);
	*config_r = NULL;
	if (config_load(path, config_r, &error) == 0)
		error = NULL;
	free(state_dir);
	free(head);
	free(text);
	free(path);
	return error;
}

/* error holds "mentord.conf:LINE: " followed, somewhere, by what. */
static void
assert_problem(const char *error, int line, const char *what)
{
	char *tag = xasprintf("mentord.conf:%d: ", line);
	const char *at;

	if (error == NULL)
		fail_msg("accepted; expected line %d: %s", line, what);
	at = strstr(error, tag);
	if (at == NULL || strstr(at, what) == NULL)
		fail_msg("expected \"%s...%s\" in:\n%s", tag, what, error);
	free(tag);
}

static void
test_config_microsoft_defaults(void **state)
{
	struct config *c;
	const char *error;
	char *want;

	(void)state;
	error = load("xoauth2", "xoauth2",
	             "oauth {\n"
	             "\tprovider = microsoft\n"
	             "\tclient_id = \"11111111-2222-3333-4444-555555555555\"\n"
	             "}\n",
	             &c);
	assert_null(error);
	assert_true(c->oauth.used);
	assert_ptr_equal(c->imap.oauth, &c->oauth);
	assert_ptr_equal(c->smtp.oauth, &c->oauth);
	assert_int_equal(c->oauth.flow, CONFIG_OAUTH_DEVICE);
	assert_string_equal(c->oauth.token_url,
	                    "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
	assert_string_equal(c->oauth.device_url, "https://login.microsoftonline.com/"
	                                         "organizations/oauth2/v2.0/devicecode");
	assert_non_null(strstr(c->oauth.scope, "IMAP.AccessAsUser.All"));
	assert_non_null(strstr(c->oauth.scope, "SMTP.Send"));
	assert_non_null(strstr(c->oauth.scope, "offline_access"));
	want = xasprintf("%s/state/oauth-token.json", tmpdir);
	assert_string_equal(c->oauth.token_file, want);
	free(want);
	assert_null(c->imap.password);
	config_free(&c);
}

static void
test_config_google_and_mixed(void **state)
{
	struct config *c;
	const char *error;
	char *secret = tmp_path("secret");

	(void)state;
	write_file(secret, "gsecret\n", 0600);
	{
		char *tail = xasprintf("oauth {\n"
		                       "\tprovider = google\n"
		                       "\tclient_id = \"x.apps.googleusercontent.com\"\n"
		                       "\tclient_secret_file = \"%s\"\n"
		                       "}\n",
		                       secret);
		error = load("oauthbearer", "password", tail, &c);
		/* smtp by password still needs one (the section serves imap). */
		assert_problem(error, 9, "smtp has a user but no password");
		error = load("oauthbearer", "xoauth2", tail, &c);
		assert_null(error);
		assert_int_equal(c->oauth.flow, CONFIG_OAUTH_BROWSER);
		assert_string_equal(c->oauth.scope, "https://mail.google.com/");
		assert_string_equal(c->oauth.client_secret, "gsecret");
		assert_string_equal(c->oauth.authorize_url,
		                    "https://accounts.google.com/o/oauth2/v2/auth");
		assert_int_equal(c->imap.auth, CONFIG_AUTH_OAUTHBEARER);
		config_free(&c);
		free(tail);
	}
	free(secret);
}

static void
test_config_refusals(void **state)
{
	struct config *c = NULL;
	const char *error;

	(void)state;
	/* A written oauth section that nothing uses. */
	error = load("password\n\tpassword = \"pw\"", "password\n\tpassword = \"pw\"",
	             "oauth {\n\tprovider = microsoft\n\tclient_id = \"a\"\n}\n", &c);
	assert_problem(error, 29, "the oauth section is not used");
	/* A token asked for without the section. */
	error = load("xoauth2", "xoauth2", "", &c);
	assert_problem(error, 5, "needs an oauth section");
	/* Unknown auth. */
	error = load("xoauth3", "xoauth2", "", &c);
	assert_problem(error, 5, "auth = \"xoauth3\" is unknown");
	/* A password next to a token. */
	error = load("xoauth2\n\tpassword = \"pw\"", "xoauth2",
	             "oauth {\n\tprovider = microsoft\n\tclient_id = \"a\"\n}\n", &c);
	assert_problem(error, 6, "not a password; remove password");
	/* No TLS with a bearer token. */
	{
		char *tail = xasprintf("oauth {\n\tprovider = microsoft\n\tclient_id = \"a\"\n}\n");

		smtp_url = "smtp://127.0.0.1";
		error = load("xoauth2", "xoauth2\n\ttls = off", tail, &c);
		smtp_url = "smtps://127.0.0.1";
		assert_problem(error, 11, "must not travel in clear");
		free(tail);
	}
	/* Microsoft has no OAUTHBEARER. */
	error = load("oauthbearer", "xoauth2",
	             "oauth {\n\tprovider = microsoft\n\tclient_id = \"a\"\n}\n", &c);
	assert_problem(error, 5, "only XOAUTH2");
	/* Google: no device flow for Gmail, and a secret is required. */
	error = load("xoauth2", "xoauth2",
	             "oauth {\n\tprovider = google\n\tflow = device\n\tclient_id = \"a\"\n}\n", &c);
	assert_problem(error, 28, "does not work with Google mail");
	assert_problem(error, 27, "Google issues desktop clients a secret");
	/* Client credentials: the directory's own tenant and a secret. */
	error = load("xoauth2", "xoauth2",
	             "oauth {\n\tprovider = microsoft\n\tflow = client_credentials\n"
	             "\tclient_id = \"a\"\n}\n",
	             &c);
	assert_problem(error, 27, "needs the directory's own tenant");
	assert_problem(error, 27, "needs the application's secret");
	/* Generic: URLs and scope written out; https only; keys the flow
	 * ignores refused. */
	error = load("xoauth2", "xoauth2",
	             "oauth {\n\tprovider = generic\n\tclient_id = \"a\"\n"
	             "\ttoken_url = \"http://login.example.org/token\"\n"
	             "\tauthorize_url = \"https://login.example.org/auth\"\n"
	             "\ttenant = \"contoso\"\n}\n",
	             &c);
	assert_problem(error, 27, "flow = device needs device_url");
	assert_problem(error, 27, "needs scope");
	assert_problem(error, 30, "only used with flow = browser");
	assert_problem(error, 31, "only used with provider = microsoft");
	assert_problem(error, 29, "must be an https:// URL");
	/* Unknown provider, and a token file in no directory. */
	error =
	    load("xoauth2", "xoauth2", "oauth {\n\tprovider = yahoo\n\tclient_id = \"a\"\n}\n", &c);
	assert_problem(error, 27, "provider \"yahoo\" is unknown");
	error = load("xoauth2", "xoauth2",
	             "oauth {\n\tprovider = microsoft\n\tclient_id = \"a\"\n"
	             "\ttoken_file = \"/nonexistent-dir/t.json\"\n}\n",
	             &c);
	assert_problem(error, 29, "does not exist");
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_missing_file_is_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_replaces_a_looser_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_fails_without_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_files_belong_to_the_state_dir_owner, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_margin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cached_token_used_without_request, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_backoff_keeps_valid_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_refresh_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_wake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sasl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_microsoft_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_google_and_mixed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
