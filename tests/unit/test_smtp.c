/* Tests for smtp against a real SMTP server: tests/harness/smtpsink.py
 * (aiosmtpd), started and stopped through its CLI.  A missing server or
 * aiosmtpd is a failure, never a skip. */
/* nftw() */
#define _XOPEN_SOURCE 700

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "smtp.h"
#include "util.h"

#define PYTHON "/usr/bin/python3"

struct sink {
	char *dir; /* owned */
	int port;
};

static char *
sink_script(void)
{
	const char *src = getenv("MENTORD_SOURCE_DIR");
	if (src != NULL && *src != '\0')
		return xasprintf("%s/tests/harness/smtpsink.py", src);
	/* Run by hand from a build made by cmake: __FILE__ is absolute. */
	char *file = xstrdup(__FILE__);
	char *p = strstr(file, "/tests/unit/");
	if (p == NULL)
		fail_msg("set MENTORD_SOURCE_DIR to the source tree");
	*p = '\0';
	char *script = xasprintf("%s/tests/harness/smtpsink.py", file);
	free(file);
	return script;
}

/* Runs /usr/bin/python3 smtpsink.py argv... and returns its stdout (owned);
 * fails the test when it does not exit 0. */
static char *
run_sink_cli(const char *const *args, size_t nargs)
{
	char *script = sink_script();
	const char **argv = xcalloc(nargs + 3, sizeof(*argv));
	argv[0] = PYTHON;
	argv[1] = script;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 2] = args[i];

	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(PYTHON, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	struct strbuf out = {0};
	char buf[512];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0)
			break;
		strbuf_add(&out, buf, (size_t)n);
	}
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("smtpsink.py %s failed (status %d): is python3-aiosmtpd installed?",
		         args[0], status);
	free(argv);
	free(script);
	return strbuf_detach(&out);
}

static void
sink_start(struct sink *s, const char *const *opts, size_t nopts)
{
	char tmpl[] = "/tmp/mentord-test-smtp-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	s->dir = xstrdup(tmpl);
	const char **args = xcalloc(nopts + 2, sizeof(*args));
	args[0] = "start";
	args[1] = s->dir;
	for (size_t i = 0; i < nopts; i++)
		args[i + 2] = opts[i];
	char *json = run_sink_cli(args, nopts + 2);
	const char *p = strstr(json, "\"port\":");
	assert_non_null(p);
	s->port = atoi(p + 7);
	assert_true(s->port > 0);
	free(json);
	free(args);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
sink_stop(struct sink *s)
{
	if (s->dir == NULL)
		return;
	const char *args[] = {"stop", s->dir};
	free(run_sink_cli(args, 2));
	nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(s->dir);
	s->dir = NULL;
}

/* Each test gets a sink to start; teardown stops it even when the test
 * failed half way, so no server is left behind. */
static int
sink_setup(void **state)
{
	*state = xcalloc(1, sizeof(struct sink));
	return 0;
}

static int
sink_teardown(void **state)
{
	struct sink *s = *state;
	sink_stop(s);
	free(s);
	return 0;
}

/* DIR/mail/NNNNNN.ext of message num, or NULL when it is not there; owned. */
static char *
sink_file(const struct sink *s, int num, const char *ext)
{
	char *path = xasprintf("%s/mail/%06d.%s", s->dir, num, ext);
	char *data = NULL;
	size_t len;
	const char *error;
	if (read_file(path, 1 << 20, &data, &len, &error) < 0)
		data = NULL;
	free(path);
	return data;
}

/* The integer after "key": in a flat JSON object. */
static int
json_int(const char *json, const char *key)
{
	char *pat = xasprintf("\"%s\": ", key);
	const char *p = strstr(json, pat);
	if (p == NULL)
		fail_msg("no %s in %s", key, json);
	int v = atoi(p + strlen(pat));
	free(pat);
	return v;
}

static void
conf_for(struct config_smtp *conf, char *url_buf, size_t url_len, int port)
{
	memset(conf, 0, sizeof(*conf));
	snprintf(url_buf, url_len, "smtp://127.0.0.1:%d", port);
	conf->url = url_buf;
	conf->tls = false; /* loopback test server without STARTTLS */
	conf->timeout = 10;
}

static enum smtp_result
send_one(struct smtp_session *sess, const char *rcpt, const char *data, int *code,
         const char **error)
{
	const char *rcpts[] = {rcpt};
	*error = NULL;
	return smtp_send(sess, "mentoring@example.org", rcpts, 1, data, strlen(data), code, error);
}

/* A message with lines that need dot-stuffing: To, number, number. */
#define MSG_FMT                                                                                    \
	"From: mentoring@example.org\r\n"                                                          \
	"To: %s\r\n"                                                                               \
	"Subject: test %d\r\n"                                                                     \
	"\r\n"                                                                                     \
	"Message number %d.\r\n"                                                                   \
	".a line starting with a dot\r\n"                                                          \
	".\r\n"                                                                                    \
	"end\r\n"

static void
test_three_in_one_session(void **state)
{
	struct sink *sp = *state;
	sink_start(sp, NULL, 0);
	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), sp->port);
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);

	char *sent[3];
	for (int i = 0; i < 3; i++) {
		const char *rcpts[] = {"alice@example.com", "bob@example.org"};
		sent[i] = xasprintf(MSG_FMT, "alice@example.com, bob@example.org", i, i);
		int code = -1;
		enum smtp_result r = smtp_send(sess, "mentoring@example.org", rcpts, i == 1 ? 1 : 2,
		                               sent[i], strlen(sent[i]), &code, &error);
		if (r != SMTP_OK)
			fail_msg("send %d: %s", i, error);
		assert_int_equal(code, 250);
	}

	int session = -1;
	for (int i = 0; i < 3; i++) {
		char *eml = sink_file(sp, i + 1, "eml");
		char *meta = sink_file(sp, i + 1, "json");
		assert_non_null(eml);
		assert_non_null(meta);
		/* The exact bytes, dot-stuffing undone by the server. */
		assert_string_equal(eml, sent[i]);
		assert_non_null(strstr(meta, "\"mail_from\": \"mentoring@example.org\""));
		if (i == 1)
			assert_non_null(strstr(meta, "\"rcpt_tos\": [\"alice@example.com\"]"));
		else
			assert_non_null(strstr(
			    meta, "\"rcpt_tos\": [\"alice@example.com\", \"bob@example.org\"]"));
		/* All three over the same connection. */
		if (i == 0)
			session = json_int(meta, "session");
		assert_int_equal(json_int(meta, "session"), session);
		free(eml);
		free(meta);
		free(sent[i]);
	}
	char *none = sink_file(sp, 4, "eml");
	assert_null(none);

	smtp_close(&sess);
	assert_null(sess);
	/* One connection in all. */
	char *log_path = xasprintf("%s/sessions.log", sp->dir);
	char *log = NULL;
	size_t len;
	assert_int_equal(read_file(log_path, 1 << 16, &log, &len, &error), 0);
	int lines = 0;
	for (const char *p = log; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1);
	free(log);
	free(log_path);
}

static void
test_refused_recipients(void **state)
{
	struct sink *sp = *state;
	const char *opts[] = {"--fail-rcpt", "bad@example.net=550", "--fail-rcpt",
	                      "busy@example.net=451"};
	sink_start(sp, opts, N_ELEMENTS(opts));
	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), sp->port);
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	int code = -1;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	char *data = xasprintf(MSG_FMT, "x", 1, 1);

	assert_int_equal(send_one(sess, "bad@example.net", data, &code, &error), SMTP_PERMFAIL);
	assert_int_equal(code, 550);
	assert_non_null(strstr(error, "550"));
	assert_non_null(strstr(error, "127.0.0.1"));

	/* Off: one refused recipient fails the message for everyone. */
	const char *two[] = {"good@example.net", "bad@example.net"};
	assert_int_equal(
	    smtp_send(sess, "mentoring@example.org", two, 2, data, strlen(data), &code, &error),
	    SMTP_PERMFAIL);

	assert_int_equal(send_one(sess, "busy@example.net", data, &code, &error), SMTP_TEMPFAIL);
	assert_int_equal(code, 451);
	assert_non_null(strstr(error, "451"));

	/* The session still works after the failures. */
	assert_int_equal(send_one(sess, "good@example.net", data, &code, &error), SMTP_OK);
	assert_int_equal(code, 250);
	char *eml = sink_file(sp, 1, "eml");
	assert_non_null(eml);
	assert_string_equal(eml, data);
	free(eml);
	assert_null(sink_file(sp, 2, "eml"));

	/* Envelope addresses that could inject commands never reach the server. */
	assert_int_equal(send_one(sess, "a@b>\r\nRCPT TO:<evil@x", data, &code, &error),
	                 SMTP_PERMFAIL);
	assert_int_equal(code, 0);

	free(data);
	smtp_close(&sess);
}

static void
test_tempfail_then_retry(void **state)
{
	struct sink *sp = *state;
	const char *opts[] = {"--fail-first", "1=451", "--fail-rcpt", "down@example.net=421"};
	sink_start(sp, opts, N_ELEMENTS(opts));
	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), sp->port);
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	int code = -1;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	char *data = xasprintf(MSG_FMT, "x", 2, 2);

	assert_int_equal(send_one(sess, "a@example.net", data, &code, &error), SMTP_TEMPFAIL);
	assert_int_equal(code, 451);
	assert_null(sink_file(sp, 1, "eml"));
	assert_int_equal(send_one(sess, "a@example.net", data, &code, &error), SMTP_OK);
	char *eml = sink_file(sp, 1, "eml");
	assert_non_null(eml);
	assert_string_equal(eml, data);
	free(eml);

	/* 421 and the server hangs up: temporary, and the next send reconnects. */
	assert_int_equal(send_one(sess, "down@example.net", data, &code, &error), SMTP_TEMPFAIL);
	assert_int_equal(code, 421);
	assert_int_equal(send_one(sess, "a@example.net", data, &code, &error), SMTP_OK);
	eml = sink_file(sp, 2, "eml");
	assert_non_null(eml);
	free(eml);

	free(data);
	smtp_close(&sess);
}

/* The server drops the idle connection between two sends: the second
 * still goes out, on a new connection. */
static void
test_server_drops_idle(void **state)
{
	struct sink *sp = *state;
	const char *opts[] = {"--idle-timeout", "0.5"};
	sink_start(sp, opts, N_ELEMENTS(opts));
	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), sp->port);
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	int code = -1;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	char *data = xasprintf(MSG_FMT, "x", 4, 4);
	assert_int_equal(send_one(sess, "a@example.net", data, &code, &error), SMTP_OK);
	usleep(1500 * 1000);
	if (send_one(sess, "a@example.net", data, &code, &error) != SMTP_OK)
		fail_msg("send after the server dropped the connection: %s", error);
	char *m1 = sink_file(sp, 1, "json"), *m2 = sink_file(sp, 2, "json");
	assert_non_null(m1);
	assert_non_null(m2);
	assert_int_not_equal(json_int(m1, "session"), json_int(m2, "session"));
	free(m1);
	free(m2);
	free(data);
	smtp_close(&sess);
}

static void
test_auth(void **state)
{
	struct sink *sp = *state;
	const char *opts[] = {"--auth", "mentord=right-pass"};
	sink_start(sp, opts, N_ELEMENTS(opts));
	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), sp->port);
	char user[] = "mentord", bad[] = "wrong-pass-XYZ", good[] = "right-pass";
	conf.user = user;
	conf.password = bad;
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	int code = -1;
	char *data = xasprintf(MSG_FMT, "x", 3, 3);

	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	/* A refused login is the account's problem: retried, never permanent. */
	assert_int_equal(send_one(sess, "a@example.net", data, &code, &error), SMTP_TEMPFAIL);
	assert_null(strstr(error, "wrong-pass-XYZ"));
	assert_non_null(strstr(error, "127.0.0.1"));
	smtp_close(&sess);

	conf.password = good;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	if (send_one(sess, "a@example.net", data, &code, &error) != SMTP_OK)
		fail_msg("send with AUTH: %s", error);
	char *eml = sink_file(sp, 1, "eml");
	assert_non_null(eml);
	free(eml);
	smtp_close(&sess);
	free(data);
}

static void
test_nothing_listening(void **state)
{
	(void)state;
	/* A port that was free a moment ago. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t slen = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);

	struct config_smtp conf;
	char url[64];
	conf_for(&conf, url, sizeof(url), ntohs(sa.sin_port));
	struct smtp_session *sess = NULL;
	const char *error = NULL;
	int code = -1;
	assert_int_equal(smtp_open(&conf, &sess, &error), 0);
	assert_int_equal(send_one(sess, "a@example.net", "Subject: x\r\n\r\nx\r\n", &code, &error),
	                 SMTP_TEMPFAIL);
	assert_int_equal(code, 0);
	assert_non_null(strstr(error, "127.0.0.1"));
	smtp_close(&sess);

	/* A URL of another protocol is refused at open. */
	char ftp[] = "ftp://127.0.0.1/";
	conf.url = ftp;
	error = NULL;
	assert_int_equal(smtp_open(&conf, &sess, &error), -1);
	assert_non_null(error);
	assert_null(sess);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_three_in_one_session, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(test_refused_recipients, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(test_tempfail_then_retry, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(test_server_drops_idle, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(test_auth, sink_setup, sink_teardown),
	    cmocka_unit_test(test_nothing_listening),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
