/*
 * imap against a real Dovecot on loopback, started with
 * tests/harness/dovecot.py (one instance with TLS: plain port with
 * STARTTLS plus an imaps port; one without TLS at all).  Messages are put
 * in and checked through the harness, which uses Python's imaplib, so the
 * module is never checked against itself.
 */
/* nftw() */
#define _XOPEN_SOURCE 700

#include "imap.h"

#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

#define PYTHON "/usr/bin/python3"

struct server {
	char dir[300];
	int port;
	int tls_port;
	char user[64];
	char password[128];
	char ca_file[300];
};

static char harness_path[1200];
static char top_dir[256];
static struct server tls_srv;   /* --tls: STARTTLS on port, imaps on tls_port */
static struct server plain_srv; /* ssl = no */
static char host_ip[] = "127.0.0.1";
static char host_name[] = "localhost";
static char inbox[] = "INBOX";

/* Runs the harness with args (NULL-terminated); *out_r gets its stdout
 * (owned by the caller).  Returns the exit status, -1 if it did not exit. */
static int
harness_run(char **out_r, ...)
{
	const char *argv[16];
	size_t argc = 0;
	struct strbuf out = {0};
	int pipefd[2];
	char buf[4096];
	pid_t pid;
	int status = 0;
	va_list ap;

	argv[argc++] = PYTHON;
	argv[argc++] = harness_path;
	va_start(ap, out_r);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc < N_ELEMENTS(argv) - 1);
		argv[argc++] = a;
	}
	va_end(ap);
	argv[argc] = NULL;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(PYTHON, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_add(&out, buf, (size_t)n);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out_r = strbuf_detach(&out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Fails the test with the harness's output, freeing it first (fail_msg
 * does not return). */
static void
fail_harness(const char *what, int status, char *out)
{
	static char copy[4096];

	(void)snprintf(copy, sizeof(copy), "%s", out != NULL ? out : "");
	free(out);
	fail_msg("dovecot harness %s failed (exit %d): %s", what, status, copy);
}

/* Tiny readers for the harness's flat JSON (no escapes in these values). */
static long
json_int(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	(void)snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	assert_non_null(p);
	return strtol(p + strlen(pat), NULL, 10);
}

static void
json_str(const char *json, const char *key, char *dst, size_t size)
{
	char pat[64];
	const char *p;
	const char *end;

	(void)snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(json, pat);
	assert_non_null(p);
	p += strlen(pat);
	end = strchr(p, '"');
	assert_non_null(end);
	assert_true((size_t)(end - p) < size);
	memcpy(dst, p, (size_t)(end - p));
	dst[end - p] = '\0';
}

static size_t
count_substr(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void
server_start(struct server *srv, const char *name, bool tls)
{
	char *out = NULL;
	int st;

	(void)snprintf(srv->dir, sizeof(srv->dir), "%s/%s", top_dir, name);
	st = harness_run(&out, "start", srv->dir, tls ? "--tls" : NULL, NULL);
	if (st != 0)
		fail_harness("start", st, out);
	srv->port = (int)json_int(out, "port");
	srv->tls_port = (int)json_int(out, "tls_port");
	json_str(out, "user", srv->user, sizeof(srv->user));
	json_str(out, "password", srv->password, sizeof(srv->password));
	if (tls)
		json_str(out, "ca_file", srv->ca_file, sizeof(srv->ca_file));
	free(out);
}

static void
server_stop(struct server *srv)
{
	char *out = NULL;

	if (srv->dir[0] != '\0')
		(void)harness_run(&out, "stop", srv->dir, NULL);
	free(out);
}

/* Appends data to mailbox through the harness; returns the new UID. */
static uint32_t
harness_append(struct server *srv, const char *mailbox, const char *data)
{
	char path[400];
	char *out = NULL;
	FILE *f;
	long uid;
	int st;

	(void)snprintf(path, sizeof(path), "%s/msg.eml", top_dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	assert_int_equal(fclose(f), 0);
	st = harness_run(&out, "append", srv->dir, mailbox, path, NULL);
	if (st != 0)
		fail_harness("append", st, out);
	uid = json_int(out, "uid");
	free(out);
	assert_true(uid > 0);
	return (uint32_t)uid;
}

/* The harness's JSON listing of mailbox; the caller owns it. */
static char *
harness_list(struct server *srv, const char *mailbox)
{
	char *out = NULL;

	int st = harness_run(&out, "list", srv->dir, mailbox, NULL);

	if (st != 0)
		fail_harness("list", st, out);
	return out;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_setup(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR");
	char fallback[1024];

	(void)state;
	if (src == NULL || *src == '\0') {
		/* __FILE__ is SRC/tests/unit/test_imap.c */
		char *slash;

		(void)snprintf(fallback, sizeof(fallback), "%s", __FILE__);
		for (int i = 0; i < 3; i++) {
			slash = strrchr(fallback, '/');
			if (slash == NULL) {
				(void)snprintf(fallback, sizeof(fallback), ".");
				break;
			}
			*slash = '\0';
		}
		if (fallback[0] == '\0')
			(void)snprintf(fallback, sizeof(fallback), "/");
		src = fallback;
	}
	(void)snprintf(harness_path, sizeof(harness_path), "%s/tests/harness/dovecot.py", src);
	(void)snprintf(top_dir, sizeof(top_dir), "/tmp/mentord-imaptest-XXXXXX");
	if (mkdtemp(top_dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("test_imap", LOG_LEVEL_WARN);
	server_start(&tls_srv, "tls", true);
	server_start(&plain_srv, "plain", false);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	server_stop(&tls_srv);
	server_stop(&plain_srv);
	(void)nftw(top_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A config for srv; the strings are borrowed from the servers and statics. */
static struct config_imap
conf_for(struct server *srv, bool implicit_tls, bool tls)
{
	struct config_imap c;

	memset(&c, 0, sizeof(c));
	c.host = host_ip;
	c.port = implicit_tls ? srv->tls_port : srv->port;
	c.implicit_tls = implicit_tls;
	c.tls = tls;
	c.ca_file = NULL;
	c.user = srv->user;
	c.password = srv->password;
	c.mailbox = inbox;
	c.idle = true;
	c.poll_interval = 60;
	c.timeout = 10;
	return c;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct imap_session *
connect_ok(struct config_imap *c)
{
	struct imap_session *s = NULL;
	const char *err = NULL;
	int r = imap_connect(c, &s, &err);

	if (r != IMAP_OK)
		fail_msg("imap_connect: %d %s", r, err);
	assert_non_null(s);
	return s;
}

static void
test_connect_plain_tls_off(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;

	(void)state;
	s = connect_ok(&c);
	imap_close(&s);
	assert_null(s);
	/* The TLS server's plain port also takes LOGIN without STARTTLS. */
	c = conf_for(&tls_srv, false, false);
	s = connect_ok(&c);
	imap_close(&s);
}

static void
test_wrong_password(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s = NULL;
	const char *err = NULL;
	char wrong[] = "not-the-password-xyzzy";
	char where[64];

	(void)state;
	c.password = wrong;
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_AUTH);
	assert_null(s);
	(void)snprintf(where, sizeof(where), "127.0.0.1:%d", plain_srv.port);
	assert_non_null(strstr(err, where));
	assert_null(strstr(err, wrong));
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
test_nothing_listening(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s = NULL;
	const char *err = NULL;
	char where[64];
	double t0;

	(void)state;
	c.port = free_port();
	t0 = now_s();
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_CONN);
	assert_true(now_s() - t0 < 3.0);
	assert_null(s);
	(void)snprintf(where, sizeof(where), "127.0.0.1:%d", c.port);
	assert_non_null(strstr(err, where));
}

/* A server that accepts the TCP connection but never greets: the connect
 * must give up after the configured timeout. */
static void
test_silent_server_times_out(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s = NULL;
	const char *err = NULL;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;
	double took;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	c.port = ntohs(sa.sin_port);
	c.timeout = 1;
	t0 = now_s();
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_CONN);
	took = now_s() - t0;
	close(fd);
	assert_true(took >= 0.9);
	assert_true(took < 5.0);
}

static const char *const msgs[] = {
    "From: Ana <ana@example.org>\r\nTo: mentor@example.org\r\nSubject: one\r\n"
    "Message-ID: <one@example.org>\r\n\r\nFirst body.\r\n",
    "From: Bo <bo@example.org>\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Caf\xc3\xa9 au lait\r\n.\r\n..leading dots\r\n",
    "From: Cy <cy@example.org>\r\nSubject: three\r\n\r\nThird\r\n\r\n\r\n",
};

static void
test_select_search_fetch(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	uint32_t appended[3];
	uint32_t *uids = NULL;
	size_t n = 0;
	const char *err = NULL;
	char *list;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		appended[i] = harness_append(&plain_srv, "Fetch", msgs[i]);
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "Fetch", &info, &err), IMAP_OK);
	assert_true(info.uidvalidity != 0);
	assert_int_equal(info.exists, 3);
	assert_int_equal(info.uidnext, appended[2] + 1);

	assert_int_equal(imap_search_new(s, 0, &uids, &n, &err), IMAP_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(uids[i], appended[i]);
	free(uids);

	assert_int_equal(imap_search_new(s, appended[0], &uids, &n, &err), IMAP_OK);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], appended[1]);
	free(uids);

	/* "last+1:*" matches the last message on the server; it must not come back. */
	assert_int_equal(imap_search_new(s, appended[2], &uids, &n, &err), IMAP_OK);
	assert_int_equal(n, 0);
	assert_null(uids);
	assert_int_equal(imap_search_new(s, appended[2] + 50, &uids, &n, &err), IMAP_OK);
	assert_int_equal(n, 0);

	for (size_t i = 0; i < 3; i++) {
		char *data = NULL;
		size_t len = 0;

		assert_int_equal(imap_fetch(s, appended[i], &data, &len, &err), IMAP_OK);
		assert_int_equal(len, strlen(msgs[i]));
		assert_memory_equal(data, msgs[i], len);
		assert_int_equal(data[len], '\0');
		free(data);
	}
	{
		char *data = NULL;
		size_t len = 0;

		assert_int_equal(imap_fetch(s, appended[2] + 100, &data, &len, &err), IMAP_ERR_MSG);
		assert_null(data);
		assert_non_null(strstr(err, "no longer exists"));
	}
	imap_close(&s);

	/* BODY.PEEK[]: fetching must not have marked anything \Seen. */
	list = harness_list(&plain_srv, "Fetch");
	assert_int_equal(count_substr(list, "\"uid\":"), 3);
	assert_null(strstr(list, "Seen"));
	free(list);
}

/* One UID FETCH for several messages: bytes exact, UID order, a gone UID
 * left out, the size bound taking a prefix (at least one message); then
 * one UID STORE and one UID MOVE for several. */
static void
test_fetch_and_mark_batch(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	struct mail_fetched *got = NULL;
	uint32_t u[4];
	size_t n = 0, taken = 0;
	const char *err = NULL;
	char *list;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		u[i] = harness_append(&plain_srv, "Batch", msgs[i]);
	u[3] = u[2] + 100; /* never existed */
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "Batch", &info, &err), IMAP_OK);

	assert_int_equal(imap_fetch_batch(s, u, 4, 1 << 20, SIZE_MAX, &got, &n, &taken, &err),
	                 IMAP_OK);
	assert_int_equal(taken, 4);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(got[i].uid, u[i]);
		assert_int_equal(got[i].len, strlen(msgs[i]));
		assert_memory_equal(got[i].data, msgs[i], got[i].len);
		assert_int_equal(got[i].data[got[i].len], '\0');
	}
	mail_fetched_free(&got, n);
	assert_null(got);

	/* Room for the first two only (RFC822.SIZE counts CRLF, as sent). */
	assert_int_equal(imap_fetch_batch(s, u, 3, strlen(msgs[0]) + strlen(msgs[1]), SIZE_MAX,
	                                  &got, &n, &taken, &err),
	                 IMAP_OK);
	assert_int_equal(taken, 2);
	assert_int_equal(n, 2);
	assert_int_equal(got[1].uid, u[1]);
	mail_fetched_free(&got, n);
	/* No room at all: still one message, or nothing would move. */
	assert_int_equal(imap_fetch_batch(s, u + 1, 2, 0, SIZE_MAX, &got, &n, &taken, &err),
	                 IMAP_OK);
	assert_int_equal(taken, 1);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].uid, u[1]);
	mail_fetched_free(&got, n);

	/* \Seen for the first and the third in one command; the second stays. */
	{
		uint32_t two[2] = {u[0], u[2]};

		assert_int_equal(imap_mark_processed_batch(s, two, 2, NULL, &err), IMAP_OK);
	}
	list = harness_list(&plain_srv, "Batch");
	assert_int_equal(count_substr(list, "\"uid\":"), 3);
	assert_int_equal(count_substr(list, "\\\\Seen"), 2);
	free(list);
	/* Moved, all three (with the gone one) in one command. */
	assert_int_equal(imap_mark_processed_batch(s, u, 4, "BatchDone", &err), IMAP_OK);
	imap_close(&s);
	list = harness_list(&plain_srv, "Batch");
	assert_int_equal(count_substr(list, "\"uid\":"), 0);
	free(list);
	list = harness_list(&plain_srv, "BatchDone");
	assert_int_equal(count_substr(list, "\"uid\":"), 3);
	free(list);
}

static void
test_select_missing(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;

	(void)state;
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "No/Such/Box", &info, &err), IMAP_ERR_BOX);
	assert_non_null(strstr(err, "No/Such/Box"));
	/* Nothing is selected now: commands say so instead of crashing. */
	assert_int_equal(imap_search_new(s, 0, &uids, &n, &err), IMAP_ERR_BOX);
	/* The session is still usable. */
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_OK);
	imap_close(&s);
}

static void
test_mark_seen(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	uint32_t u1;
	uint32_t u2;
	char *list;

	(void)state;
	u1 = harness_append(&plain_srv, "SeenBox", msgs[0]);
	u2 = harness_append(&plain_srv, "SeenBox", msgs[1]);
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "SeenBox", &info, &err), IMAP_OK);
	assert_int_equal(imap_mark_processed(s, u1, NULL, &err), IMAP_OK);
	imap_close(&s);

	list = harness_list(&plain_srv, "SeenBox");
	assert_int_equal(count_substr(list, "\"uid\":"), 2);
	/* Only the first message is \Seen; both are still there. */
	assert_int_equal(count_substr(list, "\\\\Seen"), 1);
	{
		char pat[64];
		const char *p;

		(void)snprintf(pat, sizeof(pat), "\"uid\": %u,", (unsigned)u1);
		p = strstr(list, pat);
		assert_non_null(p);
		assert_true(strstr(p, "\\\\Seen") < strstr(p, "\"size\""));
	}
	(void)u2;
	free(list);
}

static void
test_mark_move(void **state)
{
	struct config_imap c = conf_for(&tls_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	uint32_t u1;
	uint32_t u2;
	uint32_t u3;
	char *list;
	char size_pat[64];

	(void)state;
	u1 = harness_append(&tls_srv, "MoveSrc", msgs[0]);
	u2 = harness_append(&tls_srv, "MoveSrc", msgs[1]);
	u3 = harness_append(&tls_srv, "MoveSrc", msgs[2]);
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "MoveSrc", &info, &err), IMAP_OK);
	/* The processed mailbox does not exist yet: it is created. */
	assert_int_equal(imap_mark_processed(s, u1, "Processed", &err), IMAP_OK);
	assert_int_equal(imap_mark_processed(s, u3, "Processed", &err), IMAP_OK);
	/* The remaining message is still found and fetched in the source. */
	{
		uint32_t *uids = NULL;
		size_t n = 0;

		assert_int_equal(imap_search_new(s, 0, &uids, &n, &err), IMAP_OK);
		assert_int_equal(n, 1);
		assert_int_equal(uids[0], u2);
		free(uids);
	}
	imap_close(&s);

	list = harness_list(&tls_srv, "MoveSrc");
	assert_int_equal(count_substr(list, "\"uid\":"), 1);
	free(list);
	list = harness_list(&tls_srv, "Processed");
	assert_int_equal(count_substr(list, "\"uid\":"), 2);
	(void)snprintf(size_pat, sizeof(size_pat), "\"size\": %zu,", strlen(msgs[0]));
	assert_non_null(strstr(list, size_pat));
	(void)snprintf(size_pat, sizeof(size_pat), "\"size\": %zu,", strlen(msgs[2]));
	assert_non_null(strstr(list, size_pat));
	free(list);
}

static void
test_idle_new_mail(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	bool supported = false;
	bool new_mail = false;
	char path[400];
	FILE *f;
	pid_t pid;
	int status;
	double t0;
	double took;

	(void)state;
	harness_append(&plain_srv, "IdleBox", msgs[0]);
	(void)snprintf(path, sizeof(path), "%s/idle.eml", top_dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(msgs[1], f);
	assert_int_equal(fclose(f), 0);

	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "IdleBox", &info, &err), IMAP_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = {PYTHON,    harness_path, "append", plain_srv.dir,
		                      "IdleBox", path,         NULL};
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, STDOUT_FILENO);
		usleep(500000);
		execv(PYTHON, (char *const *)argv);
		_exit(127);
	}
	t0 = now_s();
	assert_int_equal(imap_idle(s, 20, -1, &supported, &new_mail, &err), IMAP_OK);
	took = now_s() - t0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(supported);
	assert_true(new_mail);
	assert_true(took < 3.0);

	/* The new message is then found. */
	{
		uint32_t *uids = NULL;
		size_t n = 0;

		assert_int_equal(imap_search_new(s, 0, &uids, &n, &err), IMAP_OK);
		assert_int_equal(n, 2);
		free(uids);
	}
	imap_close(&s);
}

static void
test_idle_timeout_and_wake(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	bool supported = false;
	bool new_mail = true;
	int pipefd[2];
	double t0;
	double took;

	(void)state;
	harness_append(&plain_srv, "QuietBox", msgs[0]);
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "QuietBox", &info, &err), IMAP_OK);

	t0 = now_s();
	assert_int_equal(imap_idle(s, 1, -1, &supported, &new_mail, &err), IMAP_OK);
	took = now_s() - t0;
	assert_true(supported);
	assert_false(new_mail);
	assert_true(took >= 0.9 && took < 3.0);

	/* A readable wake_fd ends the IDLE at once. */
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(write(pipefd[1], "x", 1), 1);
	new_mail = true;
	t0 = now_s();
	assert_int_equal(imap_idle(s, 20, pipefd[0], &supported, &new_mail, &err), IMAP_OK);
	took = now_s() - t0;
	assert_false(new_mail);
	assert_true(took < 2.0);
	close(pipefd[0]);
	close(pipefd[1]);

	/* The session still works after IDLE. */
	assert_int_equal(imap_select(s, "QuietBox", &info, &err), IMAP_OK);
	assert_int_equal(info.exists, 1);
	imap_close(&s);
}

static void
test_imaps(void **state)
{
	struct config_imap c = conf_for(&tls_srv, true, true);
	struct imap_session *s = NULL;
	struct imap_mailbox_info info;
	const char *err = NULL;

	(void)state;
	/* The test CA is not a system CA: refused. */
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_AUTH);
	assert_null(s);
	assert_non_null(strstr(err, "certificate"));

	c.ca_file = tls_srv.ca_file;
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_OK);
	imap_close(&s);

	c.host = host_name; /* the certificate names both localhost and 127.0.0.1 */
	s = connect_ok(&c);
	imap_close(&s);
}

/* A host name that resolves to 127.0.0.1 but is not in the certificate
 * (the machine's own name usually is one); NULL if there is none. */
static bool
loopback_alias(char *buf, size_t size)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	bool ok = false;

	if (gethostname(buf, size) != 0 || str_ieq(buf, "localhost"))
		return false;
	buf[size - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(buf, NULL, &hints, &res) != 0)
		return false;
	ok = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	freeaddrinfo(res);
	return ok;
}

static void
test_imaps_wrong_name(void **state)
{
	struct config_imap c = conf_for(&tls_srv, true, true);
	struct imap_session *s = NULL;
	const char *err = NULL;
	char alias[256];

	(void)state;
	if (!loopback_alias(alias, sizeof(alias))) {
		print_message("no alias of 127.0.0.1 besides localhost: name check not run\n");
		return;
	}
	c.ca_file = tls_srv.ca_file;
	c.host = alias;
	/* Trusted CA, but the certificate is for localhost/127.0.0.1. */
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_AUTH);
	assert_null(s);
	assert_non_null(strstr(err, alias));
}

static void
test_starttls(void **state)
{
	struct config_imap c = conf_for(&tls_srv, false, true);
	struct imap_session *s = NULL;
	struct imap_mailbox_info info;
	const char *err = NULL;

	(void)state;
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_AUTH);
	assert_null(s);

	c.ca_file = tls_srv.ca_file;
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_OK);
	imap_close(&s);
}

static void
test_no_starttls_refused(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, true);
	struct imap_session *s = NULL;
	const char *err = NULL;

	(void)state;
	c.ca_file = tls_srv.ca_file;
	assert_int_equal(imap_connect(&c, &s, &err), IMAP_ERR_AUTH);
	assert_null(s);
	assert_non_null(strstr(err, "STARTTLS"));
}

static void
test_driver_table(void **state)
{
	struct config_imap c = conf_for(&tls_srv, true, true);
	struct imap_mailbox_info info;
	const char *err = NULL;
	void *ctx = NULL;
	uint32_t uid;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *data = NULL;
	size_t len = 0;
	bool supported = false;
	bool new_mail = true;

	(void)state;
	c.ca_file = tls_srv.ca_file;
	uid = harness_append(&tls_srv, "Driver", msgs[1]);
	assert_int_equal(imap_driver.connect(&c, &ctx, &err), IMAP_OK);
	assert_non_null(ctx);
	assert_int_equal(imap_driver.select(ctx, "Driver", &info, &err), IMAP_OK);
	assert_int_equal(imap_driver.search_new(ctx, 0, &uids, &n, &err), IMAP_OK);
	assert_int_equal(n, 1);
	assert_int_equal(uids[0], uid);
	free(uids);
	/* Over TLS too the bytes arrive exactly. */
	assert_int_equal(imap_driver.fetch(ctx, uid, &data, &len, &err), IMAP_OK);
	assert_int_equal(len, strlen(msgs[1]));
	assert_memory_equal(data, msgs[1], len);
	free(data);
	assert_int_equal(imap_driver.idle(ctx, 1, -1, &supported, &new_mail, &err), IMAP_OK);
	assert_true(supported);
	assert_false(new_mail);
	assert_int_equal(imap_driver.mark_processed(ctx, uid, NULL, &err), IMAP_OK);
	imap_driver.close(&ctx);
	assert_null(ctx);
}

/* Dovecot restarting under an open session: the next command reports a
 * connection error (not a mailbox or message one), and a new session
 * works. */
static void
test_server_restart_is_conn_error(void **state)
{
	struct config_imap c = conf_for(&plain_srv, false, false);
	struct imap_session *s;
	struct imap_mailbox_info info;
	const char *err = NULL;
	char *out = NULL;
	char *data = NULL;
	size_t len = 0;
	int st;

	(void)state;
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_OK);
	st = harness_run(&out, "restart", plain_srv.dir, NULL);
	if (st != 0)
		fail_harness("restart", st, out);
	free(out);
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_ERR_CONN);
	assert_int_equal(imap_fetch(s, 1, &data, &len, &err), IMAP_ERR_CONN);
	imap_close(&s);
	s = connect_ok(&c);
	assert_int_equal(imap_select(s, "INBOX", &info, &err), IMAP_OK);
	imap_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_plain_tls_off),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_nothing_listening),
	    cmocka_unit_test(test_silent_server_times_out),
	    cmocka_unit_test(test_select_search_fetch),
	    cmocka_unit_test(test_fetch_and_mark_batch),
	    cmocka_unit_test(test_select_missing),
	    cmocka_unit_test(test_mark_seen),
	    cmocka_unit_test(test_mark_move),
	    cmocka_unit_test(test_idle_new_mail),
	    cmocka_unit_test(test_idle_timeout_and_wake),
	    cmocka_unit_test(test_imaps),
	    cmocka_unit_test(test_imaps_wrong_name),
	    cmocka_unit_test(test_starttls),
	    cmocka_unit_test(test_no_starttls_refused),
	    cmocka_unit_test(test_driver_table),
	    cmocka_unit_test(test_server_restart_is_conn_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
