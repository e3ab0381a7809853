/*
 * smtp: sending over libcurl, one easy handle per session so libcurl keeps
 * the connection open between sends.
 *
 * Choices:
 *   - CURLOPT_MAIL_RCPT_ALLLOWFAILS stays off: one refused recipient fails
 *     the whole message.  The outbox keeps one status per message and curl
 *     does not say which recipients were dropped, so a partial delivery
 *     would be reported as a success and the refused recipient forgotten.
 *     mentord sends one message per person, so this costs nothing.
 *   - Grading: 5xx replies are SMTP_PERMFAIL; 4xx, network errors and
 *     timeouts SMTP_TEMPFAIL.  Failures of the account rather than of the
 *     message (AUTH refused, TLS or STARTTLS failures, a bad URL) are
 *     SMTP_TEMPFAIL whatever the code, so fixing the configuration lets the
 *     queued mail go out instead of failing every message for good.
 *   - A send on a reused connection that fails before the server answered
 *     anything (the server dropped the idle connection) is retried once on
 *     a fresh connection: nothing reached the server, so nothing can be
 *     delivered twice.
 *   - The server's last error reply line is kept (through the debug callback) for
 *     error messages; only lines from the server are looked at, so the
 *     AUTH exchange we send never shows up.  The password is never put in
 *     an error: the host comes from the parsed URL, without userinfo.
 */
#include "smtp.h"

#include "compose.h"
#include "log.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define SMTP_DEFAULT_TIMEOUT 30
#define SMTP_REPLY_MAX 200

struct smtp_session {
	CURL *curl;
	char *url;      /* owned */
	char *where;    /* owned: "host:port" for messages, no credentials */
	char *ca_file;  /* owned, may be NULL */
	char *user;     /* owned, may be NULL */
	char *password; /* owned, may be NULL */
	bool tls;
	long timeout;
	char errbuf[CURL_ERROR_SIZE];
	char reply[SMTP_REPLY_MAX + 1]; /* last 4xx/5xx line from the server */
};

/* The upload source for one send. */
struct smtp_reader {
	const char *data; /* borrowed */
	size_t len;
	size_t pos;
};

static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct smtp_reader *r = userdata;
	size_t room = size * nitems;
	size_t n = r->len - r->pos;
	if (n > room)
		n = room;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return n;
}

/* Keeps the last 4xx or 5xx line the server sent (not the "221 Bye" of the
 * QUIT that libcurl sends when it drops the connection after a failure). */
static int
smtp_debug_cb(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata)
{
	struct smtp_session *sess = userdata;
	(void)handle;
	if (type != CURLINFO_HEADER_IN || size < 3)
		return 0;
	if (data[0] < '4' || data[0] > '5' || data[1] < '0' || data[1] > '9' || data[2] < '0' ||
	    data[2] > '9')
		return 0;
	while (size > 0 && (data[size - 1] == '\r' || data[size - 1] == '\n'))
		size--;
	char *line = xstrndup(data, size);
	char *clean = compose_sanitize_header(line, SMTP_REPLY_MAX);
	memcpy(sess->reply, clean, strlen(clean) + 1);
	free(clean);
	free(line);
	return 0;
}

/* "host:port" of url without any userinfo, for error messages; owned. */
static char *
smtp_where(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *where;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
			where = xasprintf("%s:%s", host, port);
		else
			where = xstrdup(host);
	} else {
		where = xstrdup("(bad smtp url)");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return where;
}

int
smtp_open(const struct config_smtp *conf, struct smtp_session **sess_r, const char **error_r)
{
	struct smtp_session *sess = NULL;
	int ret = -1;

	if (conf->url == NULL ||
	    (strncmp(conf->url, "smtp://", 7) != 0 && strncmp(conf->url, "smtps://", 8) != 0)) {
		*error_r = errorf("smtp url must start with smtp:// or smtps://");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*error_r = errorf("cannot initialise libcurl");
		goto out;
	}
	sess = xcalloc(1, sizeof(*sess));
	sess->curl = curl_easy_init();
	if (sess->curl == NULL) {
		curl_global_cleanup();
		*error_r = errorf("cannot create a libcurl handle");
		goto out;
	}
	sess->url = xstrdup(conf->url);
	sess->where = smtp_where(conf->url);
	sess->ca_file = conf->ca_file != NULL ? xstrdup(conf->ca_file) : NULL;
	if (conf->user != NULL && *conf->user != '\0') {
		sess->user = xstrdup(conf->user);
		sess->password = xstrdup(conf->password != NULL ? conf->password : "");
	}
	sess->tls = conf->tls;
	sess->timeout = conf->timeout > 0 ? conf->timeout : SMTP_DEFAULT_TIMEOUT;
	*sess_r = sess;
	sess = NULL;
	ret = 0;
out:
	if (sess != NULL) {
		free(sess);
	}
	return ret;
}

/* Sets every option of one send; the rcpt list and reader must outlive
 * the transfer. */
static CURLcode
smtp_setup(struct smtp_session *sess, const char *from, struct curl_slist *rcpts,
           struct smtp_reader *reader)
{
	CURL *c = sess->curl;
	CURLcode rc = CURLE_OK;

	/* Options that libcurl refuses only when out of memory or unsupported:
	 * the first failure is reported. */
#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(c, opt, val);                                        \
	} while (0)
	SETOPT(CURLOPT_URL, sess->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SETOPT(CURLOPT_USE_SSL, (long)(sess->tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
	if (sess->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, sess->ca_file);
	if (sess->user != NULL) {
		SETOPT(CURLOPT_USERNAME, sess->user);
		SETOPT(CURLOPT_PASSWORD, sess->password);
	}
	SETOPT(CURLOPT_MAIL_FROM, from);
	SETOPT(CURLOPT_MAIL_RCPT, rcpts);
	SETOPT(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 0L);
	SETOPT(CURLOPT_UPLOAD, 1L);
	SETOPT(CURLOPT_READFUNCTION, smtp_read_cb);
	SETOPT(CURLOPT_READDATA, reader);
	SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)reader->len);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, sess->timeout);
	SETOPT(CURLOPT_SERVER_RESPONSE_TIMEOUT, sess->timeout);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, sess->timeout);
	/* A bound on the whole exchange even if every step is just in time. */
	SETOPT(CURLOPT_TIMEOUT, sess->timeout * 4);
	SETOPT(CURLOPT_ERRORBUFFER, sess->errbuf);
	SETOPT(CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	SETOPT(CURLOPT_DEBUGDATA, sess);
	SETOPT(CURLOPT_VERBOSE, 1L);
#undef SETOPT
	return rc;
}

/* Errors of the connection, before the server could judge the message. */
static bool
smtp_is_network_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
		return true;
	default:
		return false;
	}
}

/* Failures of the account or its configuration, not of the message. */
static bool
smtp_is_account_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_AUTH_ERROR:
		return true;
	default:
		return false;
	}
}

/* One transfer; *code_r the last reply code, *fresh_r whether it opened a
 * new connection. */
static CURLcode
smtp_perform(struct smtp_session *sess, long *code_r, bool *fresh_r)
{
	long code = 0, connects = 0;
	sess->errbuf[0] = '\0';
	sess->reply[0] = '\0';
	CURLcode rc = curl_easy_perform(sess->curl);
	if (curl_easy_getinfo(sess->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	if (curl_easy_getinfo(sess->curl, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK)
		connects = 1;
	*code_r = code;
	*fresh_r = connects > 0;
	return rc;
}

/*
 * Cases:
 *   - an invalid envelope (bad sender or recipient, no recipient): PERMFAIL
 *     without talking to the server;
 *   - accepted: OK;
 *   - a failure on a reused connection before any reply: one retry on a
 *     fresh connection (see the top of the file);
 *   - AUTH/TLS/URL problems: TEMPFAIL; 5xx: PERMFAIL; anything else
 *     (4xx, network, timeout): TEMPFAIL.
 * libcurl closes the connection itself after a failed transfer, so the next
 * send starts clean.
 */
enum smtp_result
smtp_send(struct smtp_session *sess, const char *from, const char *const *rcpts, size_t nrcpts,
          const char *data, size_t len, int *code_r, const char **error_r)
{
	struct curl_slist *list = NULL;
	struct smtp_reader reader = {data, len, 0};
	enum smtp_result result = SMTP_TEMPFAIL;
	long code = 0;
	bool fresh = true;
	CURLcode rc;

	if (code_r != NULL)
		*code_r = 0;
	if (from == NULL || (*from != '\0' && !compose_valid_addr(from))) {
		*error_r = errorf("invalid envelope sender \"%.100s\"", from != NULL ? from : "");
		result = SMTP_PERMFAIL;
		goto out;
	}
	if (nrcpts == 0) {
		*error_r = errorf("no recipient to send to");
		result = SMTP_PERMFAIL;
		goto out;
	}
	for (size_t i = 0; i < nrcpts; i++) {
		if (!compose_valid_addr(rcpts[i])) {
			*error_r = errorf("invalid recipient \"%.100s\"", rcpts[i]);
			result = SMTP_PERMFAIL;
			goto out;
		}
		struct curl_slist *next = curl_slist_append(list, rcpts[i]);
		if (next == NULL) {
			*error_r = errorf("out of memory building the recipient list");
			goto out;
		}
		list = next;
	}

	rc = smtp_setup(sess, from, list, &reader);
	if (rc != CURLE_OK) {
		*error_r =
		    errorf("cannot set up the send to %s: %s", sess->where, curl_easy_strerror(rc));
		goto out;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		reader.pos = 0;
		rc = smtp_perform(sess, &code, &fresh);
		if (rc == CURLE_OK || fresh || code != 0 || !smtp_is_network_error(rc))
			break;
		log_debug("smtp: reused connection to %s failed (%s), reconnecting", sess->where,
		          curl_easy_strerror(rc));
		curl_easy_setopt(sess->curl, CURLOPT_FRESH_CONNECT, 1L);
	}
	curl_easy_setopt(sess->curl, CURLOPT_FRESH_CONNECT, 0L);
	if (code_r != NULL)
		*code_r = (int)code;

	if (rc == CURLE_OK) {
		result = SMTP_OK;
		goto out;
	}
	const char *detail = sess->reply[0] != '\0'    ? sess->reply
	                     : sess->errbuf[0] != '\0' ? sess->errbuf
	                                               : curl_easy_strerror(rc);
	if (smtp_is_account_error(rc)) {
		result = SMTP_TEMPFAIL;
		*error_r = errorf("SMTP server %s: cannot log in or secure the connection (%s); "
		                  "check the smtp section of the configuration",
		                  sess->where, detail);
	} else if (code >= 500 && code < 600) {
		result = SMTP_PERMFAIL;
		*error_r = errorf("SMTP server %s refused the message for good with code %ld: %s",
		                  sess->where, code, detail);
	} else if (code >= 400 && code < 500) {
		result = SMTP_TEMPFAIL;
		*error_r = errorf("SMTP server %s deferred the message with code %ld: %s",
		                  sess->where, code, detail);
	} else {
		result = SMTP_TEMPFAIL;
		*error_r =
		    errorf("cannot send through SMTP server %s: %s (%s)", sess->where,
		           curl_easy_strerror(rc), sess->errbuf[0] != '\0' ? sess->errbuf : "-");
	}
out:
	/* The list is freed below: do not leave libcurl pointing at it. */
	curl_easy_setopt(sess->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
	curl_easy_setopt(sess->curl, CURLOPT_READDATA, (void *)NULL);
	curl_slist_free_all(list);
	return result;
}

void
smtp_close(struct smtp_session **sessp)
{
	struct smtp_session *sess = *sessp;
	if (sess == NULL)
		return;
	/* Sends QUIT on a cached connection. */
	curl_easy_cleanup(sess->curl);
	curl_global_cleanup();
	free(sess->url);
	free(sess->where);
	free(sess->ca_file);
	free(sess->user);
	if (sess->password != NULL) {
		explicit_bzero(sess->password, strlen(sess->password));
		free(sess->password);
	}
	free(sess);
	*sessp = NULL;
}
