/*
 * smtp: sending over libcurl's multi interface, one easy handle per
 * connection slot; the multi handle keeps the connections open between
 * sends, batches and cycles.
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
 *   - A batch goes out over up to SMTP_CONNECTIONS connections at once
 *     (libcurl's multi interface, one easy handle per connection): on
 *     loopback a send is mostly waiting for the server's replies to MAIL,
 *     RCPT, DATA and the final dot, so a few connections overlap those
 *     waits.  Results are reported as they arrive, and the caller is told
 *     (settled) after each round of them, before any further send starts:
 *     committing there records each result before its connection carries
 *     anything else, so a crash loses the record of at most the emails in
 *     flight, one per connection, while results that arrive together
 *     share one commit.
 *   - rate_per_minute is kept exactly by starting sends on a fixed grid
 *     60/rate seconds apart (the grid, not the last start, is advanced, so
 *     wake-up delays do not add up to a lower rate).  No send ever starts
 *     ahead of the grid, so no minute holds more than the rate; a send the
 *     machine delayed is followed by one on time, a shorter gap.  When the
 *     sends fall behind by more than a gap the grid restarts from now
 *     rather than bursting to catch up.  The grid is the process's, not a
 *     session's, so it holds across batches and sessions, and the daemon
 *     carries it from one cycle process to the next (smtp_pace_get/set).
 *   - The server's last error reply line is kept (through the debug callback) for
 *     error messages; only lines from the server are looked at, so the
 *     AUTH exchange we send never shows up.  The password is never put in
 *     an error: the host comes from the parsed URL, without userinfo.
 */
#include "smtp.h"

#include "compose.h"
#include "lcurl.h"
#include "log.h"
#include "oauth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SMTP_DEFAULT_TIMEOUT 30

/* The rate grid: CLOCK_MONOTONIC time of the next start; 0: now. */
static long long pace_next_ns;

long long
smtp_pace_get(void)
{
	return pace_next_ns;
}

void
smtp_pace_set(long long next_ns)
{
	pace_next_ns = next_ns;
}
#define SMTP_REPLY_MAX 200
#define NSEC 1000000000LL

/* The upload source for one send. */
struct smtp_reader {
	const char *data; /* borrowed */
	size_t len;
	size_t pos;
};

/* One connection's worth of sending: an easy handle and what its current
 * transfer needs. */
struct smtp_slot {
	CURL *curl;                /* owned; NULL until first used */
	struct curl_slist *rcpts;  /* owned while busy */
	struct smtp_reader reader; /* data borrowed from the item */
	size_t index;              /* the item being sent */
	bool busy;
	bool retried;      /* already retried on a fresh connection */
	bool auth_retried; /* already retried with a renewed token */
	char *bearer;      /* owned secret: the OAuth token of this send, or NULL */
	char errbuf[CURL_ERROR_SIZE];
	char reply[SMTP_REPLY_MAX + 1]; /* last 4xx/5xx line from the server */
};

struct smtp_session {
	CURLM *multi; /* owned: holds the open connections */
	struct smtp_slot slots[SMTP_CONNECTIONS];
	char *url;           /* owned */
	char *where;         /* owned: "host:port" for messages, no credentials */
	char *ca_file;       /* owned, may be NULL */
	char *user;          /* owned, may be NULL */
	char *password;      /* owned, may be NULL */
	char *password_file; /* owned, may be NULL: where password came from */
	enum config_auth auth;
	const struct config_oauth *oauth; /* borrowed from the configuration */
	/* owned secret: the token a refusal was answered with; one refused in
	 * turn is not renewed again */
	char *renewed;
	bool tls;
	long timeout;
	long long gap_ns; /* 60 s / rate_per_minute; 0: no limit */
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
	struct smtp_slot *slot = userdata;
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
	memcpy(slot->reply, clean, strlen(clean) + 1);
	free(clean);
	free(line);
	return 0;
}

/* "host:port" of url without any userinfo, for error messages; owned. */
static char *
smtp_where(const char *url)
{
	CURLU *u = lc.url();
	char *host = NULL, *port = NULL, *where;
	if (u != NULL && lc.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    lc.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (lc.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
			where = xasprintf("%s:%s", host, port);
		else
			where = xstrdup(host);
	} else {
		where = xstrdup("(bad smtp url)");
	}
	lc.free(host);
	lc.free(port);
	lc.url_cleanup(u);
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
	if (lcurl_acquire(error_r) < 0)
		goto out;
	sess = xcalloc(1, sizeof(*sess));
	sess->multi = lc.multi_init();
	if (sess->multi == NULL) {
		lcurl_release();
		*error_r = errorf("cannot create a libcurl handle");
		goto out;
	}
	/* At most one connection per slot, kept open between batches. */
	lc.multi_setopt(sess->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)SMTP_CONNECTIONS);
	lc.multi_setopt(sess->multi, CURLMOPT_MAXCONNECTS, (long)SMTP_CONNECTIONS);
	sess->url = xstrdup(conf->url);
	sess->where = smtp_where(conf->url);
	sess->ca_file = conf->ca_file != NULL ? xstrdup(conf->ca_file) : NULL;
	if (conf->user != NULL && *conf->user != '\0') {
		sess->user = xstrdup(conf->user);
		if (conf->auth == CONFIG_AUTH_PASSWORD)
			sess->password = xstrdup(conf->password != NULL ? conf->password : "");
		if (conf->password_file != NULL)
			sess->password_file = xstrdup(conf->password_file);
	}
	sess->auth = conf->oauth != NULL ? conf->auth : CONFIG_AUTH_PASSWORD;
	sess->oauth = conf->oauth;
	sess->tls = conf->tls;
	sess->timeout = conf->timeout > 0 ? conf->timeout : SMTP_DEFAULT_TIMEOUT;
	sess->gap_ns = conf->rate_per_minute > 0 ? 60 * NSEC / conf->rate_per_minute : 0;
	*sess_r = sess;
	sess = NULL;
	ret = 0;
out:
	if (sess != NULL) {
		free(sess);
	}
	return ret;
}

/* Sets every option of one send on slot; its rcpt list and reader must
 * outlive the transfer. */
static CURLcode
smtp_setup(struct smtp_session *sess, struct smtp_slot *slot, const char *from)
{
	CURL *c = slot->curl;
	CURLcode rc = CURLE_OK;

	/* Options that libcurl refuses only when out of memory or unsupported:
	 * the first failure is reported. */
#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = lc.easy_setopt(c, opt, val);                                          \
	} while (0)
	SETOPT(CURLOPT_URL, sess->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SETOPT(CURLOPT_USE_SSL, (long)(sess->tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
	if (sess->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, sess->ca_file);
	if (sess->user != NULL) {
		SETOPT(CURLOPT_USERNAME, sess->user);
		if (sess->auth == CONFIG_AUTH_PASSWORD) {
			SETOPT(CURLOPT_PASSWORD, sess->password);
		} else {
			/* libcurl does not reuse a connection logged in with
			 * another token for this one. */
			SETOPT(CURLOPT_XOAUTH2_BEARER, slot->bearer);
			SETOPT(CURLOPT_LOGIN_OPTIONS, sess->auth == CONFIG_AUTH_OAUTHBEARER
			                                  ? "AUTH=OAUTHBEARER"
			                                  : "AUTH=XOAUTH2");
		}
	}
	SETOPT(CURLOPT_MAIL_FROM, from);
	SETOPT(CURLOPT_MAIL_RCPT, slot->rcpts);
	SETOPT(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 0L);
	SETOPT(CURLOPT_UPLOAD, 1L);
	SETOPT(CURLOPT_READFUNCTION, smtp_read_cb);
	SETOPT(CURLOPT_READDATA, &slot->reader);
	SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)slot->reader.len);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, sess->timeout);
	SETOPT(CURLOPT_SERVER_RESPONSE_TIMEOUT, sess->timeout);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, sess->timeout);
	/* A bound on the whole exchange even if every step is just in time. */
	SETOPT(CURLOPT_TIMEOUT, sess->timeout * 4);
	SETOPT(CURLOPT_ERRORBUFFER, slot->errbuf);
	SETOPT(CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	SETOPT(CURLOPT_DEBUGDATA, slot);
	SETOPT(CURLOPT_VERBOSE, 1L);
	SETOPT(CURLOPT_PRIVATE, slot);
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

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* Sleeps until the CLOCK_MONOTONIC instant at_ns. */
static void
sleep_until(long long at_ns)
{
	struct timespec ts = {(time_t)(at_ns / NSEC), (long)(at_ns % NSEC)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Checks an item's envelope and builds its recipient list into slot.
 * Returns SMTP_OK, or SMTP_PERMFAIL/SMTP_TEMPFAIL with *error_r. */
static enum smtp_result
slot_prepare(struct smtp_slot *slot, const char *from, const struct smtp_item *item,
             const char **error_r)
{
	if (from == NULL || (*from != '\0' && !compose_valid_addr(from))) {
		*error_r = errorf("invalid envelope sender \"%.100s\"", from != NULL ? from : "");
		return SMTP_PERMFAIL;
	}
	if (item->nrcpts == 0) {
		*error_r = errorf("no recipient to send to");
		return SMTP_PERMFAIL;
	}
	for (size_t i = 0; i < item->nrcpts; i++) {
		struct curl_slist *next;

		if (!compose_valid_addr(item->rcpts[i])) {
			*error_r = errorf("invalid recipient \"%.100s\"", item->rcpts[i]);
			return SMTP_PERMFAIL;
		}
		next = lc.slist_append(slot->rcpts, item->rcpts[i]);
		if (next == NULL) {
			*error_r = errorf("out of memory building the recipient list");
			return SMTP_TEMPFAIL;
		}
		slot->rcpts = next;
	}
	slot->reader.data = item->data;
	slot->reader.len = item->len;
	slot->reader.pos = 0;
	return SMTP_OK;
}

/* Frees what the slot's transfer used; the easy handle stays for reuse. */
static void
slot_release(struct smtp_slot *slot)
{
	/* The list is freed below: do not leave libcurl pointing at it. */
	if (slot->curl != NULL) {
		lc.easy_setopt(slot->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
		lc.easy_setopt(slot->curl, CURLOPT_READDATA, (void *)NULL);
		lc.easy_setopt(slot->curl, CURLOPT_FRESH_CONNECT, 0L);
		lc.easy_setopt(slot->curl, CURLOPT_XOAUTH2_BEARER, (char *)NULL);
	}
	oauth_token_free(&slot->bearer);
	lc.slist_free_all(slot->rcpts);
	slot->rcpts = NULL;
	slot->busy = false;
	slot->retried = false;
	slot->auth_retried = false;
}

/* Grades a finished transfer (see smtp_send_batch). */
static enum smtp_result
smtp_grade(struct smtp_session *sess, struct smtp_slot *slot, CURLcode rc, long code,
           const char **error_r)
{
	const char *detail;

	if (rc == CURLE_OK)
		return SMTP_OK;
	detail = slot->reply[0] != '\0'    ? slot->reply
	         : slot->errbuf[0] != '\0' ? slot->errbuf
	                                   : lc.easy_strerror(rc);
	if ((rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR) && sess->password_file != NULL) {
		*error_r = errorf("SMTP server %s refused AUTH as %s (%s); check user, and the "
		                  "password in %s (password_file in the smtp section)",
		                  sess->where, sess->user, detail, sess->password_file);
		return SMTP_TEMPFAIL;
	}
	if (smtp_is_account_error(rc)) {
		*error_r = errorf("SMTP server %s: cannot log in or secure the connection (%s); "
		                  "check the smtp section of the configuration",
		                  sess->where, detail);
		return SMTP_TEMPFAIL;
	}
	if (code >= 500 && code < 600) {
		*error_r = errorf("SMTP server %s refused the message for good with code %ld: %s",
		                  sess->where, code, detail);
		return SMTP_PERMFAIL;
	}
	if (code >= 400 && code < 500) {
		*error_r = errorf("SMTP server %s deferred the message with code %ld: %s",
		                  sess->where, code, detail);
		return SMTP_TEMPFAIL;
	}
	*error_r = errorf("cannot send through SMTP server %s: %s (%s)", sess->where,
	                  lc.easy_strerror(rc), slot->errbuf[0] != '\0' ? slot->errbuf : "-");
	return SMTP_TEMPFAIL;
}

/* Puts an OAuth access token in slot->bearer: the cached one, or a new
 * one when the cached one is the slot's last, just refused. */
static int
smtp_token(struct smtp_session *sess, struct smtp_slot *slot, const char **error_r)
{
	const char *error = NULL;
	char *token = NULL;

	if (oauth_token_get(sess->oauth, slot->bearer, &token, NULL, &error) != OAUTH_OK) {
		*error_r = errorf("SMTP server %s: no OAuth access token: %s", sess->where, error);
		return -1;
	}
	oauth_token_free(&slot->bearer);
	slot->bearer = token;
	return 0;
}

/* Starts item index on a free slot.  Returns 0 when the transfer runs, or
 * -1 when it is already decided (*result_r, *error_r). */
static int
slot_start(struct smtp_session *sess, struct smtp_slot *slot, const char *from,
           const struct smtp_item *item, size_t index, enum smtp_result *result_r,
           const char **error_r)
{
	CURLcode rc;
	CURLMcode mrc;

	slot->index = index;
	slot->busy = true;
	slot->retried = false;
	slot->auth_retried = false;
	slot->errbuf[0] = '\0';
	slot->reply[0] = '\0';
	*result_r = slot_prepare(slot, from, item, error_r);
	if (*result_r != SMTP_OK)
		return -1;
	if (sess->auth != CONFIG_AUTH_PASSWORD && smtp_token(sess, slot, error_r) < 0) {
		*result_r = SMTP_TEMPFAIL;
		return -1;
	}
	if (slot->curl == NULL && (slot->curl = lc.easy_init()) == NULL) {
		*error_r = errorf("cannot create a libcurl handle");
		*result_r = SMTP_TEMPFAIL;
		return -1;
	}
	rc = smtp_setup(sess, slot, from);
	if (rc != CURLE_OK) {
		*error_r =
		    errorf("cannot set up the send to %s: %s", sess->where, lc.easy_strerror(rc));
		*result_r = SMTP_TEMPFAIL;
		return -1;
	}
	mrc = lc.multi_add_handle(sess->multi, slot->curl);
	if (mrc != CURLM_OK) {
		*error_r =
		    errorf("cannot start the send to %s: %s", sess->where, lc.multi_strerror(mrc));
		*result_r = SMTP_TEMPFAIL;
		return -1;
	}
	return 0;
}

/*
 * Cases, for each item:
 *   - an invalid envelope (bad sender or recipient, no recipient): PERMFAIL
 *     without talking to the server;
 *   - accepted: OK;
 *   - a failure on a reused connection before any reply: one retry on a
 *     fresh connection (see the top of the file);
 *   - AUTH/TLS/URL problems: TEMPFAIL; 5xx: PERMFAIL; anything else
 *     (4xx, network, timeout): TEMPFAIL.
 * libcurl closes a connection itself after a failed transfer, so the next
 * send on that slot starts clean.  Starts are paced by rate_per_minute;
 * while sends are in flight the pacing wait is a poll of their sockets.
 */
size_t
smtp_send_batch(struct smtp_session *sess, const char *from, const struct smtp_item *items,
                size_t n, smtp_result_fn *done, smtp_settled_fn *settled, void *ctx)
{
	size_t next = 0, nslots = n < SMTP_CONNECTIONS ? n : SMTP_CONNECTIONS;
	int running = 0;
	bool stop = false;

	for (;;) {
		long long wait_ns = -1;

		/* Start what the free slots and the rate allow. */
		for (size_t s = 0; s < nslots && next < n && !stop; s++) {
			struct smtp_slot *slot = &sess->slots[s];
			enum smtp_result res;
			const char *error = NULL;

			if (slot->busy)
				continue;
			if (sess->gap_ns > 0) {
				long long now = mono_ns();

				if (pace_next_ns > now) {
					if (running > 0) {
						wait_ns = pace_next_ns - now;
						break;
					}
					/* Nothing in flight: sleep to the exact instant. */
					sleep_until(pace_next_ns);
					now = pace_next_ns;
				}
				/* Behind by more than a gap: restart the grid. */
				pace_next_ns =
				    (pace_next_ns == 0 || pace_next_ns + sess->gap_ns < now
				         ? now
				         : pace_next_ns) +
				    sess->gap_ns;
			}
			if (slot_start(sess, slot,
			               items[next].mail_from != NULL ? items[next].mail_from : from,
			               &items[next], next, &res, &error) < 0) {
				slot_release(slot);
				if (done(ctx, next, res, 0, error) != 0)
					stop = true;
				if (settled != NULL)
					settled(ctx);
			} else {
				running++;
			}
			next++;
		}
		if (running == 0 && (next >= n || stop))
			break;
		if (running == 0)
			continue; /* only pacing left: the loop above sleeps */

		int still = 0;
		CURLMcode mrc = lc.multi_perform(sess->multi, &still);
		CURLMsg *msg;
		bool reported = false;
		int left;

		if (mrc != CURLM_OK)
			log_warnx("smtp: %s", lc.multi_strerror(mrc));
		while ((msg = lc.multi_info_read(sess->multi, &left)) != NULL) {
			struct smtp_slot *slot = NULL;
			long code = 0, connects = 1;
			const char *error = NULL;
			enum smtp_result res;
			CURLcode rc;

			if (msg->msg != CURLMSG_DONE)
				continue;
			rc = msg->data.result;
			lc.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
			if (lc.easy_getinfo(slot->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
				code = 0;
			if (lc.easy_getinfo(slot->curl, CURLINFO_NUM_CONNECTS, &connects) !=
			    CURLE_OK)
				connects = 1;
			lc.multi_remove_handle(sess->multi, slot->curl);
			if (rc != CURLE_OK && connects == 0 && code == 0 && !slot->retried &&
			    smtp_is_network_error(rc)) {
				log_debug("smtp: reused connection to %s failed (%s), reconnecting",
				          sess->where, lc.easy_strerror(rc));
				slot->retried = true;
				slot->reader.pos = 0;
				slot->errbuf[0] = '\0';
				slot->reply[0] = '\0';
				lc.easy_setopt(slot->curl, CURLOPT_FRESH_CONNECT, 1L);
				if (lc.multi_add_handle(sess->multi, slot->curl) == CURLM_OK)
					continue;
			}
			/* A token the server refused: renewed once and sent
			 * again on a fresh connection (nothing was accepted). */
			if (rc == CURLE_LOGIN_DENIED && sess->auth != CONFIG_AUTH_PASSWORD &&
			    !slot->auth_retried &&
			    (sess->renewed == NULL || strcmp(sess->renewed, slot->bearer) != 0)) {
				const char *terr = NULL;

				/* Sends refused with the same old token share
				 * one renewal; a server that refuses the renewed
				 * one too (SMTP AUTH disabled for the mailbox)
				 * does not cost a renewal per email. */
				slot->auth_retried = true;
				if (smtp_token(sess, slot, &terr) == 0) {
					oauth_token_free(&sess->renewed);
					sess->renewed = xstrdup(slot->bearer);
					log_warnx("SMTP server %s refused the access token; "
					          "trying once more with a renewed one",
					          sess->where);
					slot->reader.pos = 0;
					slot->errbuf[0] = '\0';
					slot->reply[0] = '\0';
					lc.easy_setopt(slot->curl, CURLOPT_XOAUTH2_BEARER,
					               slot->bearer);
					lc.easy_setopt(slot->curl, CURLOPT_FRESH_CONNECT, 1L);
					if (lc.multi_add_handle(sess->multi, slot->curl) ==
					    CURLM_OK)
						continue;
				}
			}
			res = smtp_grade(sess, slot, rc, code, &error);
			running--;
			size_t index = slot->index;
			slot_release(slot);
			if (done(ctx, index, res, (int)code, error) != 0)
				stop = true;
			reported = true;
		}
		if (reported && settled != NULL)
			settled(ctx);
		/* A slot just freed takes the next item at once; otherwise wait
		 * for the transfers in flight (or the next start on the grid). */
		if (running > 0 && !(reported && next < n && !stop)) {
			int timeout_ms = 1000;

			if (wait_ns >= 0)
				timeout_ms = (int)((wait_ns + 999999) / 1000000);
			lc.multi_poll(sess->multi, NULL, 0, timeout_ms, NULL);
		}
	}
	return next;
}

struct smtp_one {
	enum smtp_result result;
	int code;
	const char *error;
};

static int
smtp_one_done(void *ctx, size_t index, enum smtp_result result, int code, const char *error)
{
	struct smtp_one *one = ctx;

	(void)index;
	one->result = result;
	one->code = code;
	one->error = error;
	return 0;
}

enum smtp_result
smtp_send(struct smtp_session *sess, const char *from, const char *const *rcpts, size_t nrcpts,
          const char *data, size_t len, int *code_r, const char **error_r)
{
	struct smtp_item item = {rcpts, nrcpts, data, len, NULL};
	struct smtp_one one = {SMTP_TEMPFAIL, 0, NULL};

	smtp_send_batch(sess, from, &item, 1, smtp_one_done, NULL, &one);
	if (code_r != NULL)
		*code_r = one.code;
	if (one.result != SMTP_OK)
		*error_r = one.error;
	return one.result;
}

/* How to fix what smtp_check met: rc, the server's last error line (or
 * libcurl's description) in detail. */
static const char *
smtp_check_advice(const struct config_smtp *conf, const struct smtp_session *sess, CURLcode rc,
                  const char *detail)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
		if (conf->password_file != NULL)
			return errorf("SMTP server %s refused AUTH as %s (%s); check user, and the "
			              "password in %s (password_file in the smtp section)",
			              sess->where, conf->user, detail, conf->password_file);
		return errorf("SMTP server %s refused AUTH as %s (%s); check user and password in "
		              "the smtp section",
		              sess->where, conf->user, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		return errorf("cannot connect to SMTP server %s (%s); check the host and port in "
		              "the smtp url, and that the server runs and can be reached from here",
		              sess->where, detail);
	case CURLE_USE_SSL_FAILED:
		return errorf("SMTP server %s does not offer STARTTLS (%s); use smtps:// (port "
		              "465), or the submission port 587 of a server that offers it",
		              sess->where, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return errorf("TLS with SMTP server %s failed (%s); if its certificate is from a "
		              "private CA, set ca_file in the smtp section to that CA (PEM)%s",
		              sess->where, detail,
		              conf->ca_file != NULL ? ", and check the ca_file set now" : "");
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
		return errorf("SMTP server %s did not answer as an SMTP server should (%s); check "
		              "the port, and smtps:// (TLS from the start, port 465) against "
		              "smtp:// (STARTTLS, ports 25 and 587)",
		              sess->where, detail);
	default:
		return errorf("SMTP server %s: %s; check the smtp section", sess->where, detail);
	}
}

int
smtp_check(const struct config_smtp *conf, const char **error_r)
{
	struct smtp_session *sess = NULL;
	struct smtp_slot *slot;
	CURLcode rc = CURLE_OK;
	CURLMcode mrc;
	int running = 1, ret = -1;

	if (smtp_open(conf, &sess, error_r) < 0)
		return -1;
	slot = &sess->slots[0];
	slot->curl = lc.easy_init();
	if (slot->curl == NULL) {
		*error_r = errorf("cannot create a libcurl handle");
		goto out;
	}
	/* The send's options, and CONNECT_ONLY: libcurl's SMTP connect phase
	 * is the greeting, EHLO, STARTTLS and AUTH; it stops there. */
	rc = smtp_setup(sess, slot, "");
	if (rc == CURLE_OK)
		rc = lc.easy_setopt(slot->curl, CURLOPT_CONNECT_ONLY, 1L);
	if (rc != CURLE_OK) {
		*error_r =
		    errorf("cannot set up the check of %s: %s", sess->where, lc.easy_strerror(rc));
		goto out;
	}
	mrc = lc.multi_add_handle(sess->multi, slot->curl);
	if (mrc != CURLM_OK) {
		*error_r =
		    errorf("cannot start the check of %s: %s", sess->where, lc.multi_strerror(mrc));
		goto out;
	}
	slot->busy = true;
	while (running > 0) {
		mrc = lc.multi_perform(sess->multi, &running);
		if (mrc == CURLM_OK && running > 0)
			mrc = lc.multi_poll(sess->multi, NULL, 0, 1000, NULL);
		if (mrc != CURLM_OK) {
			*error_r =
			    errorf("SMTP server %s: %s", sess->where, lc.multi_strerror(mrc));
			goto out;
		}
	}
	for (;;) {
		int left;
		CURLMsg *msg = lc.multi_info_read(sess->multi, &left);

		if (msg == NULL)
			break;
		if (msg->msg == CURLMSG_DONE)
			rc = msg->data.result;
	}
	if (rc != CURLE_OK) {
		*error_r = smtp_check_advice(conf, sess, rc,
		                             slot->reply[0] != '\0'    ? slot->reply
		                             : slot->errbuf[0] != '\0' ? slot->errbuf
		                                                       : lc.easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	smtp_close(&sess);
	return ret;
}

void
smtp_close(struct smtp_session **sessp)
{
	struct smtp_session *sess = *sessp;
	if (sess == NULL)
		return;
	for (size_t i = 0; i < SMTP_CONNECTIONS; i++) {
		if (sess->slots[i].busy)
			lc.multi_remove_handle(sess->multi, sess->slots[i].curl);
		slot_release(&sess->slots[i]);
		if (sess->slots[i].curl != NULL)
			lc.easy_cleanup(sess->slots[i].curl);
	}
	/* Sends QUIT on the cached connections. */
	lc.multi_cleanup(sess->multi);
	lcurl_release();
	free(sess->url);
	free(sess->where);
	free(sess->ca_file);
	free(sess->user);
	free(sess->password_file);
	oauth_token_free(&sess->renewed);
	if (sess->password != NULL) {
		explicit_bzero(sess->password, strlen(sess->password));
		free(sess->password);
	}
	free(sess);
	*sessp = NULL;
}
