/*
 * oauth: see include/oauth.h.
 *
 * Choices:
 *   - Real time (time()), not clock_now(): --now moves the program's
 *     calendar, but tokens expire on the provider's clock.
 *   - The client authenticates with client_secret in the form
 *     (client_secret_post), which Microsoft, Google and RFC 6749 servers
 *     accept; a public client (device flow on Microsoft) sends none.
 *   - Renewals send the configured scope except to Google, whose refresh
 *     grant keeps the scopes of the consent (Microsoft's v2 endpoint wants
 *     them again).
 *   - A response is parsed with json-c; only the fields named here are
 *     read.  The error of a refused request is the provider's `error` code
 *     and `error_description`, made printable and short: never the body.
 *   - The token file is written by whoever renews, under an flock on
 *     TOKEN_FILE.lock held across the request, so two processes never
 *     spend one refresh token (a rotating provider would revoke both).
 *     Readers (status) need no lock: the file is replaced by rename.
 */
#include "oauth.h"

#include "lcurl.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define OAUTH_FILE_MAX (64 * 1024)
#define OAUTH_RESPONSE_MAX (256 * 1024)
#define OAUTH_TEXT_MAX 200
#define OAUTH_DEFAULT_LIFETIME 3600
/* How long mentorctl oauth login waits for a person at most. */
#define OAUTH_LOGIN_MAX 900
#define OAUTH_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

/* The token this process used last, so that every SMTP send and IMAP
 * login does not read the file again. */
static struct {
	char *path;      /* owned: the token file it came from */
	char *client_id; /* owned: and the client it is for */
	char *token;     /* owned secret */
	time_t obtained_at;
	time_t expires_at;
} oauth_mem;

static void
secret_free(char **s)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void
oauth_token_free(char **token)
{
	secret_free(token);
}

void
oauth_cleanup(void)
{
	secret_free(&oauth_mem.token);
	free(oauth_mem.path);
	oauth_mem.path = NULL;
	free(oauth_mem.client_id);
	oauth_mem.client_id = NULL;
}

static void
oauth_mem_set(const struct config_oauth *conf, const char *token, time_t obtained_at,
              time_t expires_at)
{
	oauth_cleanup();
	oauth_mem.path = xstrdup(conf->token_file);
	oauth_mem.client_id = xstrdup(conf->client_id);
	oauth_mem.token = xstrdup(token);
	oauth_mem.obtained_at = obtained_at;
	oauth_mem.expires_at = expires_at;
}

/* A value safe to put in a form, a header or a SASL message: printable
 * ASCII without spaces (RFC 6750's b64token and more). */
static bool
oauth_printable(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	}
	return true;
}

/* Printable, short copy of a provider's text for an error message (the
 * caller owns it). */
static char *
oauth_clean_text(const char *s)
{
	size_t i = 0, n = s != NULL ? strlen(s) : 0;
	char *out = xmalloc((n < OAUTH_TEXT_MAX ? n : OAUTH_TEXT_MAX) + 4);

	for (; i < n && i < OAUTH_TEXT_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : ' ';
	if (n > OAUTH_TEXT_MAX) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return str_trim(out);
}

/* ---- JSON ---- */

static const char *
json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* An integer, or a string of digits (some providers quote expires_in). */
static bool
json_int(struct json_object *obj, const char *key, long long *v_r)
{
	struct json_object *v;
	const char *s;
	char *end;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*v_r = (long long)json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	errno = 0;
	*v_r = strtoll(s, &end, 10);
	return end != s && *end == '\0' && errno == 0;
}

/* Wipes the text json-c keeps for key (a token) before the object goes. */
static void
json_wipe(struct json_object *obj, const char *key)
{
	const char *s = json_str(obj, key);

	if (s != NULL)
		explicit_bzero((char *)s, strlen(s));
}

static void
json_put_wiped(struct json_object **obj)
{
	if (*obj == NULL)
		return;
	json_wipe(*obj, "access_token");
	json_wipe(*obj, "refresh_token");
	json_wipe(*obj, "id_token");
	json_wipe(*obj, "device_code");
	json_object_put(*obj);
	*obj = NULL;
}

/* ---- the token file ---- */

void
oauth_state_clear(struct oauth_state *st)
{
	secret_free(&st->refresh_token);
	secret_free(&st->access_token);
	free(st->client_id);
	free(st->token_url);
	free(st->last_error);
	memset(st, 0, sizeof(*st));
}

static char *
json_dup(struct json_object *obj, const char *key)
{
	const char *s = json_str(obj, key);

	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

int
oauth_state_load(const char *path, struct oauth_state *st, const char **error_r)
{
	struct json_object *obj = NULL;
	struct stat sb;
	char *data = NULL;
	size_t len = 0;
	long long v;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = errorf("token file %s: %s", path, strerror(errno));
		return -1;
	}
	if (read_file(path, OAUTH_FILE_MAX, &data, &len, error_r) < 0)
		goto out;
	obj = json_tokener_parse(data);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		*error_r = errorf("token file %s is not a JSON object; remove it and run mentorctl "
		                  "oauth login",
		                  path);
		goto out;
	}
	st->refresh_token = json_dup(obj, "refresh_token");
	st->access_token = json_dup(obj, "access_token");
	st->client_id = json_dup(obj, "client_id");
	st->token_url = json_dup(obj, "token_url");
	st->last_error = json_dup(obj, "last_error");
	if (json_int(obj, "expires_at", &v))
		st->expires_at = (time_t)v;
	if (json_int(obj, "obtained_at", &v))
		st->obtained_at = (time_t)v;
	if (json_int(obj, "failures", &v) && v >= 0 && v < 1000000)
		st->failures = (int)v;
	if (json_int(obj, "retry_at", &v))
		st->retry_at = (time_t)v;
	if (json_int(obj, "failing_since", &v))
		st->failing_since = (time_t)v;
	if (json_int(obj, "last_grade", &v) && v <= 0 && v >= OAUTH_ERR_CLIENT)
		st->last_grade = (enum oauth_result)v;
	/* A token that could break a SASL message is no token. */
	if (st->access_token != NULL && !oauth_printable(st->access_token))
		secret_free(&st->access_token);
	if (st->refresh_token != NULL && !oauth_printable(st->refresh_token))
		secret_free(&st->refresh_token);
	ret = 0;
out:
	json_put_wiped(&obj);
	if (data != NULL) {
		explicit_bzero(data, len);
		free(data);
	}
	if (ret < 0)
		oauth_state_clear(st);
	return ret;
}

static void
json_add_str(struct json_object *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

static void
json_add_int(struct json_object *obj, const char *key, long long value)
{
	json_object_object_add(obj, key, json_object_new_int64((int64_t)value));
}

/* A file root creates in the state directory (sudo mentorctl oauth login)
 * is given to the directory's owner, the mentord user, who could not read
 * or lock it otherwise. */
static void
oauth_adopt(int fd, const char *path)
{
	char *dir, *slash;
	struct stat sb;

	if (geteuid() != 0)
		return;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
	}
	if (stat(dir, &sb) == 0 && sb.st_uid != 0 && fchown(fd, sb.st_uid, sb.st_gid) < 0)
		log_warn("cannot give %s to uid %u", path, (unsigned)sb.st_uid);
	free(dir);
}

/* Writes all of data[0..len) to fd. */
static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replaces the file at path atomically.  Cases:
 *   - the temporary file cannot be made (directory missing or read-only):
 *     the old file stays;
 *   - a write or fsync fails: the temporary file is removed, the old one
 *     stays;
 *   - after the rename the directory is synced, so the new name survives a
 *     crash (the new refresh token may be the only valid one).
 */
int
oauth_state_save(const char *path, const struct oauth_state *st, const char **error_r)
{
	struct json_object *obj = json_object_new_object();
	char *tmp = xasprintf("%s.XXXXXX", path), *dir = xstrdup(path), *slash;
	const char *text;
	int fd = -1, dfd = -1, ret = -1;

	json_add_int(obj, "version", 1);
	json_add_str(obj, "client_id", st->client_id);
	json_add_str(obj, "token_url", st->token_url);
	json_add_str(obj, "refresh_token", st->refresh_token);
	json_add_str(obj, "access_token", st->access_token);
	json_add_int(obj, "obtained_at", (long long)st->obtained_at);
	json_add_int(obj, "expires_at", (long long)st->expires_at);
	json_add_int(obj, "failures", st->failures);
	json_add_int(obj, "retry_at", (long long)st->retry_at);
	json_add_int(obj, "failing_since", (long long)st->failing_since);
	json_add_int(obj, "last_grade", st->last_grade);
	json_add_str(obj, "last_error", st->last_error);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	                                               JSON_C_TO_STRING_NOSLASHESCAPE);

	fd = mkstemp(tmp);
	if (fd < 0) {
		*error_r = errorf("cannot write token file %s: %s", path, strerror(errno));
		goto out;
	}
	oauth_adopt(fd, path);
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		*error_r = errorf("cannot write token file %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		*error_r = errorf("cannot write token file %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		*error_r = errorf("cannot replace token file %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		*error_r = errorf("cannot sync directory %s: %s", dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	free(dir);
	explicit_bzero((char *)text, strlen(text));
	json_object_put(obj);
	return ret;
}

void
oauth_state_failed(struct oauth_state *st, enum oauth_result grade, const char *error, time_t now)
{
	long delay = OAUTH_BACKOFF_MIN;

	st->failures++;
	for (int i = 1; i < st->failures && delay < OAUTH_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > OAUTH_BACKOFF_MAX)
		delay = OAUTH_BACKOFF_MAX;
	st->retry_at = now + delay;
	if (st->failing_since == 0)
		st->failing_since = now;
	st->last_grade = grade;
	free(st->last_error);
	st->last_error = xstrdup(error != NULL ? error : "failed");
}

static void
oauth_state_succeeded(struct oauth_state *st)
{
	st->failures = 0;
	st->retry_at = 0;
	st->failing_since = 0;
	st->last_grade = OAUTH_OK;
	free(st->last_error);
	st->last_error = NULL;
}

time_t
oauth_margin(time_t obtained_at, time_t expires_at)
{
	time_t life = expires_at - obtained_at, m;

	if (life <= 0)
		return 0;
	m = life / 4;
	return m > OAUTH_MARGIN_MAX ? OAUTH_MARGIN_MAX : m;
}

/* The file's tokens belong to this client and token endpoint (a file
 * written before the configuration changed does not). */
static bool
oauth_state_ours(const struct config_oauth *conf, const struct oauth_state *st)
{
	return (st->client_id == NULL || strcmp(st->client_id, conf->client_id) == 0) &&
	       (st->token_url == NULL || strcmp(st->token_url, conf->token_url) == 0);
}

static int
oauth_lock(const struct config_oauth *conf, const char **error_r)
{
	char *path = xasprintf("%s.lock", conf->token_file);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		*error_r = errorf("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	oauth_adopt(fd, path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			*error_r = errorf("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			free(path);
			return -1;
		}
	}
	free(path);
	return fd;
}

static void
oauth_unlock(int *fd)
{
	if (*fd >= 0) {
		(void)flock(*fd, LOCK_UN);
		close(*fd);
	}
	*fd = -1;
}

/* ---- HTTPS ---- */

static size_t
oauth_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct strbuf *sb = userdata;
	size_t n = size * nmemb;

	if (sb->len + n > OAUTH_RESPONSE_MAX)
		return 0; /* libcurl fails the transfer */
	strbuf_add(sb, ptr, n);
	return n;
}

/* Appends key=value (value URL-encoded) to a form. */
static void
form_add(struct strbuf *form, const char *key, const char *value)
{
	char *esc = lc.easy_escape(NULL, value, 0);

	if (esc == NULL)
		abort(); /* out of memory, as xmalloc */
	strbuf_addf(form, "%s%s=%s", form->len > 0 ? "&" : "", key, esc);
	explicit_bzero(esc, strlen(esc));
	lc.free(esc);
}

static void
form_wipe(struct strbuf *form)
{
	if (form->buf != NULL)
		explicit_bzero(form->buf, form->cap);
	strbuf_free(form);
}

/*
 * POSTs form (application/x-www-form-urlencoded) to url.  libcurl must be
 * acquired.  Returns OAUTH_OK with the HTTP status in *status_r and the
 * parsed body in *json_r (NULL when it is not JSON; the caller frees with
 * json_put_wiped), or OAUTH_ERR_TEMP when no answer came (network, TLS,
 * timeout).  Redirects are not followed: a token endpoint does not move.
 */
static int
oauth_post(const struct config_oauth *conf, const char *url, const struct strbuf *form,
           long *status_r, struct json_object **json_r, const char **error_r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *next;
	struct strbuf body = {0};
	CURL *c = lc.easy_init();
	CURLcode rc = CURLE_OK;
	int ret = OAUTH_ERR_TEMP;
	long timeout = conf->timeout > 0 ? conf->timeout : 30;

	*json_r = NULL;
	*status_r = 0;
	if (c == NULL) {
		*error_r = errorf("cannot create a libcurl handle");
		return OAUTH_ERR_TEMP;
	}
	next = lc.slist_append(headers, "Accept: application/json");
	if (next == NULL) {
		*error_r = errorf("out of memory");
		goto out;
	}
	headers = next;
#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = lc.easy_setopt(c, opt, val);                                          \
	} while (0)
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_POSTFIELDS, strbuf_str(form));
	SETOPT(CURLOPT_POSTFIELDSIZE, (long)form->len);
	SETOPT(CURLOPT_HTTPHEADER, headers);
	SETOPT(CURLOPT_USERAGENT, "mentord/" MENTORD_VERSION);
	if (conf->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, conf->ca_file);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, timeout);
	SETOPT(CURLOPT_TIMEOUT, timeout);
	SETOPT(CURLOPT_WRITEFUNCTION, oauth_write_cb);
	SETOPT(CURLOPT_WRITEDATA, &body);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
#undef SETOPT
	if (rc == CURLE_OK)
		rc = lc.easy_perform(c);
	if (rc != CURLE_OK) {
		*error_r = errorf("cannot reach %s: %s%s%s", url, lc.easy_strerror(rc),
		                  errbuf[0] != '\0' ? ": " : "", errbuf);
		goto out;
	}
	if (lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, status_r) != CURLE_OK)
		*status_r = 0;
	if (body.len > 0)
		*json_r = json_tokener_parse(strbuf_str(&body));
	if (*json_r != NULL && !json_object_is_type(*json_r, json_type_object))
		json_put_wiped(json_r);
	ret = OAUTH_OK;
out:
	lc.slist_free_all(headers);
	lc.easy_cleanup(c);
	form_wipe(&body);
	return ret;
}

/*
 * Grades an answer that is not a token (RFC 6749 5.2).  Cases:
 *   - invalid_grant: the refresh token (or code) is refused: GRANT;
 *   - other OAuth error codes (invalid_client, unauthorized_client,
 *     invalid_scope, unsupported_grant_type, invalid_request): CLIENT;
 *   - 5xx, 429, no JSON or no error code: TEMP.
 * what: the request, for the message.
 */
static int
oauth_grade(const char *url, const char *what, long status, struct json_object *json,
            const char **error_r)
{
	const char *code = json_str(json, "error");
	char *desc = oauth_clean_text(json_str(json, "error_description"));
	char *ccode = oauth_clean_text(code);
	int grade;

	if (code == NULL || status >= 500 || status == 429) {
		grade = OAUTH_ERR_TEMP;
		*error_r = errorf("%s at %s failed with HTTP status %ld%s%s%s", what, url, status,
		                  ccode[0] != '\0' ? " (" : "", ccode, ccode[0] != '\0' ? ")" : "");
	} else if (strcmp(code, "invalid_grant") == 0) {
		grade = OAUTH_ERR_GRANT;
		*error_r = errorf("%s: %s refused it: invalid_grant%s%s%s; run mentorctl oauth "
		                  "login",
		                  what, url, desc[0] != '\0' ? " (" : "", desc,
		                  desc[0] != '\0' ? ")" : "");
	} else {
		grade = OAUTH_ERR_CLIENT;
		*error_r = errorf("%s: %s refused it: %s%s%s%s; check client_id, the secret, "
		                  "tenant and scope in the oauth section",
		                  what, url, ccode, desc[0] != '\0' ? " (" : "", desc,
		                  desc[0] != '\0' ? ")" : "");
	}
	free(desc);
	free(ccode);
	return grade;
}

/* Takes the tokens of a successful token response into st. */
static int
oauth_take_tokens(const char *url, struct json_object *json, struct oauth_state *st, time_t now,
                  const char **error_r)
{
	const char *access = json_str(json, "access_token");
	const char *refresh = json_str(json, "refresh_token");
	const char *type = json_str(json, "token_type");
	long long expires_in = OAUTH_DEFAULT_LIFETIME;

	if (!oauth_printable(access)) {
		*error_r = errorf("%s answered without a usable access_token", url);
		return OAUTH_ERR_TEMP;
	}
	if (type != NULL && !str_ieq(type, "bearer")) {
		char *clean = oauth_clean_text(type);

		*error_r = errorf("%s issued a token of type \"%s\", not Bearer", url, clean);
		free(clean);
		return OAUTH_ERR_CLIENT;
	}
	if (!json_int(json, "expires_in", &expires_in) || expires_in < 1)
		expires_in = OAUTH_DEFAULT_LIFETIME;
	if (expires_in > 366LL * 86400)
		expires_in = 366LL * 86400;
	secret_free(&st->access_token);
	st->access_token = xstrdup(access);
	st->obtained_at = now;
	st->expires_at = now + (time_t)expires_in;
	/* A provider that rotates refresh tokens sends the new one here; one
	 * that does not leaves the old one valid. */
	if (oauth_printable(refresh)) {
		secret_free(&st->refresh_token);
		st->refresh_token = xstrdup(refresh);
	}
	return OAUTH_OK;
}

/* One token request: form to the token endpoint; on success the tokens go
 * into st.  libcurl must be acquired. */
static int
oauth_token_request(const struct config_oauth *conf, const char *what, const struct strbuf *form,
                    struct oauth_state *st, const char **error_r)
{
	struct json_object *json = NULL;
	long status = 0;
	int ret;

	ret = oauth_post(conf, conf->token_url, form, &status, &json, error_r);
	if (ret == OAUTH_OK) {
		if (status >= 200 && status < 300 && json != NULL)
			ret = oauth_take_tokens(conf->token_url, json, st, time(NULL), error_r);
		else
			ret = oauth_grade(conf->token_url, what, status, json, error_r);
	}
	json_put_wiped(&json);
	return ret;
}

static void
form_add_client(const struct config_oauth *conf, struct strbuf *form)
{
	form_add(form, "client_id", conf->client_id);
	if (conf->client_secret != NULL)
		form_add(form, "client_secret", conf->client_secret);
}

/* A new access token with the refresh token, or client credentials. */
static int
oauth_renew(const struct config_oauth *conf, struct oauth_state *st, const char **error_r)
{
	struct strbuf form = {0};
	const char *what;
	int ret;

	if (conf->flow != CONFIG_OAUTH_CLIENT_CREDENTIALS && st->refresh_token == NULL) {
		*error_r =
		    errorf("no refresh token in %s; run mentorctl oauth login", conf->token_file);
		return OAUTH_ERR_GRANT;
	}
	if (lcurl_acquire(error_r) < 0)
		return OAUTH_ERR_TEMP;
	if (conf->flow == CONFIG_OAUTH_CLIENT_CREDENTIALS) {
		what = "the client-credentials request";
		form_add(&form, "grant_type", "client_credentials");
		form_add(&form, "scope", conf->scope);
	} else {
		what = "renewing the access token";
		form_add(&form, "grant_type", "refresh_token");
		form_add(&form, "refresh_token", st->refresh_token);
		if (conf->provider != CONFIG_OAUTH_GOOGLE && conf->scope != NULL)
			form_add(&form, "scope", conf->scope);
	}
	form_add_client(conf, &form);
	ret = oauth_token_request(conf, what, &form, st, error_r);
	form_wipe(&form);
	lcurl_release();
	return ret;
}

static bool
oauth_usable(const char *token, time_t obtained_at, time_t expires_at, const char *refused,
             time_t now, bool with_margin)
{
	if (token == NULL || (refused != NULL && strcmp(token, refused) == 0))
		return false;
	return now < expires_at - (with_margin ? oauth_margin(obtained_at, expires_at) : 0);
}

static int
oauth_give(const char *token, time_t expires_at, char **token_r, time_t *expires_r)
{
	*token_r = xstrdup(token);
	if (expires_r != NULL)
		*expires_r = expires_at;
	return OAUTH_OK;
}

int
oauth_token_get(const struct config_oauth *conf, const char *refused, char **token_r,
                time_t *expires_r, const char **error_r)
{
	struct oauth_state st;
	const char *error = NULL, *save_error = NULL;
	time_t now = time(NULL);
	int lock = -1, ret;
	bool ours = false;

	*token_r = NULL;
	/* A reload may have changed the client: the token is for this one. */
	if (oauth_mem.path != NULL && strcmp(oauth_mem.path, conf->token_file) == 0 &&
	    strcmp(oauth_mem.client_id, conf->client_id) == 0 &&
	    oauth_usable(oauth_mem.token, oauth_mem.obtained_at, oauth_mem.expires_at, refused, now,
	                 true))
		return oauth_give(oauth_mem.token, oauth_mem.expires_at, token_r, expires_r);

	lock = oauth_lock(conf, error_r);
	if (lock < 0)
		return OAUTH_ERR_TEMP;
	if (oauth_state_load(conf->token_file, &st, error_r) < 0) {
		oauth_unlock(&lock);
		return OAUTH_ERR_GRANT;
	}
	ours = oauth_state_ours(conf, &st);
	if (!ours) {
		error = errorf("the tokens in %s are for another client or token_url; run "
		               "mentorctl oauth login",
		               conf->token_file);
		ret = OAUTH_ERR_GRANT;
		goto failed;
	}
	/* Renewed by another process meanwhile, or still good. */
	if (oauth_usable(st.access_token, st.obtained_at, st.expires_at, refused, now, true)) {
		oauth_mem_set(conf, st.access_token, st.obtained_at, st.expires_at);
		ret = oauth_give(st.access_token, st.expires_at, token_r, expires_r);
		goto out;
	}
	if (st.failures > 0 && now < st.retry_at) {
		/* Backing off: what is left of the cached token, else the
		 * last failure again. */
		if (oauth_usable(st.access_token, st.obtained_at, st.expires_at, refused, now,
		                 false)) {
			ret = oauth_give(st.access_token, st.expires_at, token_r, expires_r);
			goto out;
		}
		*error_r = errorf("%s (next try in %lld s)",
		                  st.last_error != NULL ? st.last_error : "renewal failed",
		                  (long long)(st.retry_at - now));
		ret = st.last_grade < 0 ? st.last_grade : OAUTH_ERR_TEMP;
		goto out;
	}
	ret = oauth_renew(conf, &st, &error);
	if (ret != OAUTH_OK)
		goto failed;
	oauth_state_succeeded(&st);
	free(st.client_id);
	st.client_id = xstrdup(conf->client_id);
	free(st.token_url);
	st.token_url = xstrdup(conf->token_url);
	if (oauth_state_save(conf->token_file, &st, &save_error) < 0)
		/* The new access token works; a rotated refresh token that
		 * could not be kept makes the next renewal fail. */
		log_error("OAuth: %s; the next renewal may need mentorctl oauth login", save_error);
	log_debug("OAuth: access token renewed at %s, valid for %lld s", conf->token_url,
	          (long long)(st.expires_at - st.obtained_at));
	oauth_mem_set(conf, st.access_token, st.obtained_at, st.expires_at);
	ret = oauth_give(st.access_token, st.expires_at, token_r, expires_r);
	goto out;

failed:
	oauth_state_failed(&st, (enum oauth_result)ret, error, now);
	if (oauth_state_save(conf->token_file, &st, &save_error) < 0)
		log_error("OAuth: %s", save_error);
	log_warnx("OAuth: %s; next try in %lld s", error, (long long)(st.retry_at - now));
	if (ours &&
	    oauth_usable(st.access_token, st.obtained_at, st.expires_at, refused, now, false)) {
		ret = oauth_give(st.access_token, st.expires_at, token_r, expires_r);
		goto out;
	}
	*error_r = error;
out:
	oauth_state_clear(&st);
	oauth_unlock(&lock);
	return ret;
}

/* ---- SASL ---- */

static char *oauth_base64(const void *data, size_t len, bool url);

/*
 * XOAUTH2:     user=USER ^A auth=Bearer TOKEN ^A ^A
 * OAUTHBEARER: n,a=USER, ^A host=HOST ^A port=PORT ^A auth=Bearer TOKEN ^A ^A
 * where in OAUTHBEARER's gs2 header ',' and '=' in the user are written
 * =2C and =3D (RFC 5801).
 */
char *
oauth_sasl_response(enum config_auth auth, const char *user, const char *host, int port,
                    const char *token)
{
	struct strbuf sb = {0};
	char *b64;

	if (auth == CONFIG_AUTH_OAUTHBEARER) {
		strbuf_adds(&sb, "n,a=");
		for (const char *p = user; *p != '\0'; p++) {
			if (*p == ',')
				strbuf_adds(&sb, "=2C");
			else if (*p == '=')
				strbuf_adds(&sb, "=3D");
			else
				strbuf_addc(&sb, *p);
		}
		strbuf_addf(&sb, ",\001host=%s\001port=%d\001auth=Bearer %s\001\001", host, port,
		            token);
	} else {
		strbuf_addf(&sb, "user=%s\001auth=Bearer %s\001\001", user, token);
	}
	b64 = oauth_base64(sb.buf, sb.len, false);
	form_wipe(&sb);
	return b64;
}

/* ---- status ---- */

void
oauth_status_clear(struct oauth_status *st)
{
	free(st->last_error);
	memset(st, 0, sizeof(*st));
}

int
oauth_status_read(const struct config_oauth *conf, struct oauth_status *st_r, const char **error_r)
{
	struct oauth_state st;
	struct stat sb;

	memset(st_r, 0, sizeof(*st_r));
	if (oauth_state_load(conf->token_file, &st, error_r) < 0)
		return -1;
	st_r->exists = stat(conf->token_file, &sb) == 0;
	st_r->has_refresh = st.refresh_token != NULL;
	st_r->has_access = st.access_token != NULL;
	st_r->other_client = !oauth_state_ours(conf, &st);
	if (st_r->has_access) {
		st_r->expires_at = st.expires_at;
		st_r->refresh_at = st.expires_at - oauth_margin(st.obtained_at, st.expires_at);
	}
	st_r->failures = st.failures;
	st_r->retry_at = st.retry_at;
	st_r->failing_since = st.failing_since;
	st_r->last_grade = st.last_grade;
	st_r->last_error = st.last_error;
	st.last_error = NULL;
	oauth_state_clear(&st);
	return 0;
}

time_t
oauth_status_wake(const struct oauth_status *st)
{
	if (st->failures > 0)
		return st->retry_at;
	return st->has_access ? st->refresh_at : 0;
}

/* ---- mentorctl oauth login ---- */

/* base64 (url: base64url without padding, RFC 4648 5) of data; the caller
 * owns the result. */
static char *
oauth_base64(const void *data, size_t len, bool url)
{
	gnutls_datum_t in = {(unsigned char *)data, (unsigned int)len}, out = {NULL, 0};
	char *s;

	if (gnutls_base64_encode2(&in, &out) < 0)
		abort();
	s = xstrndup((const char *)out.data, out.size);
	explicit_bzero(out.data, out.size);
	gnutls_free(out.data);
	if (url) {
		for (char *p = s; *p != '\0'; p++) {
			if (*p == '+')
				*p = '-';
			else if (*p == '/')
				*p = '_';
			else if (*p == '=')
				*p = '\0';
		}
	}
	return s;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The percent-decoded value of key in a query string (the part after '?',
 * up to '#' or whitespace); NULL when absent.  The caller owns it. */
static char *
oauth_query_get(const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (*p != '\0' && *p != '#' && *p != ' ' && *p != '\r' && *p != '\n') {
		size_t n = strcspn(p, "&# \r\n");

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			struct strbuf sb = {0};

			for (size_t i = klen + 1; i < n; i++) {
				if (p[i] == '%' && i + 2 < n + 1 && hexval(p[i + 1]) >= 0 &&
				    hexval(p[i + 2]) >= 0) {
					strbuf_addc(
					    &sb, (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
					i += 2;
				} else {
					strbuf_addc(&sb, p[i] == '+' ? ' ' : p[i]);
				}
			}
			return strbuf_detach(&sb);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* Sleeps seconds, whatever signals come (mentorctl keeps the default
 * SIGINT, which ends it). */
static void
oauth_sleep(long seconds)
{
	struct timespec ts = {(time_t)seconds, 0};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * RFC 8628.  Cases while polling:
 *   - authorization_pending: wait `interval` and ask again;
 *   - slow_down: the interval grows by 5 s;
 *   - access_denied, expired_token or any other error: the login fails;
 *   - the code's lifetime (or OAUTH_LOGIN_MAX) runs out: fails.
 */
static int
oauth_login_device(const struct config_oauth *conf, FILE *out, struct oauth_state *fresh,
                   const char **error_r)
{
	struct json_object *json = NULL, *poll = NULL;
	struct strbuf form = {0};
	const char *uri, *uri_complete, *user_code, *device_code;
	long status = 0;
	long long expires_in = 900, interval = 5;
	time_t deadline;
	int ret;

	form_add(&form, "client_id", conf->client_id);
	form_add(&form, "scope", conf->scope);
	ret = oauth_post(conf, conf->device_url, &form, &status, &json, error_r);
	form_wipe(&form);
	if (ret != OAUTH_OK)
		goto out;
	if (status < 200 || status >= 300 || json == NULL) {
		ret = oauth_grade(conf->device_url, "asking for a device code", status, json,
		                  error_r);
		goto out;
	}
	device_code = json_str(json, "device_code");
	user_code = json_str(json, "user_code");
	uri = json_str(json, "verification_uri");
	if (uri == NULL)
		uri = json_str(json, "verification_url"); /* Google's name */
	uri_complete = json_str(json, "verification_uri_complete");
	if (!oauth_printable(device_code) || !oauth_printable(user_code) || !oauth_printable(uri) ||
	    strncmp(uri, "https://", 8) != 0) {
		*error_r = errorf("%s answered without a device code, user code and https:// "
		                  "verification address",
		                  conf->device_url);
		ret = OAUTH_ERR_TEMP;
		goto out;
	}
	(void)json_int(json, "expires_in", &expires_in);
	(void)json_int(json, "interval", &interval);
	if (expires_in < 1 || expires_in > OAUTH_LOGIN_MAX)
		expires_in = OAUTH_LOGIN_MAX;
	if (interval < 1 || interval > 60)
		interval = 5;
	fprintf(out,
	        "To let mentord use the mailbox, sign in as its account: open\n\n    %s\n\n"
	        "in a browser and enter the code\n\n    %s\n\n",
	        uri, user_code);
	if (oauth_printable(uri_complete) && strncmp(uri_complete, "https://", 8) == 0)
		fprintf(out, "(or open %s)\n\n", uri_complete);
	fprintf(out, "Waiting up to %lld minutes for the sign-in...\n", (expires_in + 59) / 60);
	fflush(out);

	deadline = time(NULL) + (time_t)expires_in;
	for (;;) {
		const char *code;

		oauth_sleep((long)interval);
		if (time(NULL) > deadline) {
			*error_r = errorf("nobody signed in before the code expired; run mentorctl "
			                  "oauth login again");
			ret = OAUTH_ERR_GRANT;
			goto out;
		}
		form_add(&form, "grant_type", OAUTH_DEVICE_GRANT);
		form_add(&form, "device_code", device_code);
		form_add_client(conf, &form);
		ret = oauth_post(conf, conf->token_url, &form, &status, &poll, error_r);
		form_wipe(&form);
		if (ret != OAUTH_OK)
			goto out;
		if (status >= 200 && status < 300 && poll != NULL) {
			ret = oauth_take_tokens(conf->token_url, poll, fresh, time(NULL), error_r);
			goto out;
		}
		code = json_str(poll, "error");
		if (code != NULL && strcmp(code, "authorization_pending") == 0) {
			json_put_wiped(&poll);
			continue;
		}
		if (code != NULL && strcmp(code, "slow_down") == 0) {
			interval += 5;
			json_put_wiped(&poll);
			continue;
		}
		ret =
		    oauth_grade(conf->token_url, "waiting for the sign-in", status, poll, error_r);
		goto out;
	}
out:
	json_put_wiped(&poll);
	json_put_wiped(&json);
	return ret;
}

/* Reads one HTTP request from a connection to the loopback listener and
 * answers it; *target_r (owned) is its request target ("/?code=...").
 * Waits at most 10 s for the request. */
static void
oauth_serve_redirect(int fd, char **target_r)
{
	static const char page[] =
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
	    "\r\nmentord received the answer; you can close this page and return to "
	    "mentorctl.\r\n";
	char buf[8192];
	size_t have = 0;
	struct pollfd pfd = {fd, POLLIN, 0};

	*target_r = NULL;
	while (have < sizeof(buf) - 1 && poll(&pfd, 1, 10000) > 0) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n") != NULL)
			break;
	}
	buf[have] = '\0';
	if (strncmp(buf, "GET ", 4) == 0) {
		size_t n = strcspn(buf + 4, " \r\n");

		*target_r = xstrndup(buf + 4, n);
	}
	(void)write_all(fd, page, sizeof(page) - 1);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * Authorization code with PKCE (RFC 7636) and a loopback redirect (RFC 8252
 * 7.3).  The answer comes either to the listener (a browser on this
 * machine, or through ssh -L) or as the address pasted on `in` (a browser
 * elsewhere shows that the address could not be opened: it is copied from
 * the address bar).  Cases: a request without code or error (a favicon)
 * is answered and ignored; a state that does not match is refused (a
 * forged answer); an error from the provider fails the login.
 */
static int
oauth_login_browser(const struct config_oauth *conf, FILE *in, FILE *out, struct oauth_state *fresh,
                    const char **error_r)
{
	unsigned char rnd[32], digest[32];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct strbuf url = {0}, form = {0};
	char *verifier = NULL, *challenge = NULL, *state = NULL, *redirect = NULL;
	char *code = NULL, *got_state = NULL, *err = NULL;
	bool curl = false, in_open = true;
	int lfd = -1, ret = OAUTH_ERR_TEMP;
	time_t deadline = time(NULL) + OAUTH_LOGIN_MAX;

	random_bytes(rnd, sizeof(rnd));
	verifier = oauth_base64(rnd, sizeof(rnd), true);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, verifier, strlen(verifier), digest) < 0)
		abort();
	challenge = oauth_base64(digest, sizeof(digest), true);
	random_bytes(rnd, 16);
	state = oauth_base64(rnd, 16, true);
	explicit_bzero(rnd, sizeof(rnd));

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		*error_r = errorf("cannot listen on a loopback port: %s", strerror(errno));
		goto out;
	}
	/* Microsoft matches a registered http://localhost whatever the port;
	 * Google and RFC 8252 want the loopback address. */
	redirect = xasprintf("http://%s:%d/",
	                     conf->provider == CONFIG_OAUTH_MICROSOFT ? "localhost" : "127.0.0.1",
	                     ntohs(sa.sin_port));

	if (lcurl_acquire(error_r) < 0)
		goto out;
	curl = true;
	strbuf_adds(&url, conf->authorize_url);
	strbuf_addc(&url, strchr(conf->authorize_url, '?') != NULL ? '&' : '?');
	{
		struct strbuf q = {0};

		form_add(&q, "response_type", "code");
		form_add(&q, "client_id", conf->client_id);
		form_add(&q, "redirect_uri", redirect);
		form_add(&q, "scope", conf->scope);
		form_add(&q, "state", state);
		form_add(&q, "code_challenge", challenge);
		form_add(&q, "code_challenge_method", "S256");
		if (conf->provider == CONFIG_OAUTH_GOOGLE) {
			/* Without these Google gives no refresh token. */
			form_add(&q, "access_type", "offline");
			form_add(&q, "prompt", "consent");
		}
		strbuf_add(&url, q.buf, q.len);
		strbuf_free(&q);
	}
	fprintf(out,
	        "To let mentord use the mailbox, open this address in a browser and sign in as "
	        "its account:\n\n    %s\n\n"
	        "Afterwards the browser is sent to %s... .  If that browser runs on this "
	        "machine (or reaches it through ssh -L %d:127.0.0.1:%d), mentorctl receives "
	        "the answer by itself.  Otherwise the page does not load: copy its whole "
	        "address from the address bar and paste it here, then press Enter.\n",
	        strbuf_str(&url), redirect, ntohs(sa.sin_port), ntohs(sa.sin_port));
	fflush(out);

	while (code == NULL && err == NULL) {
		struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {in_open ? fileno(in) : -1, POLLIN, 0}};
		long left = (long)(deadline - time(NULL));
		char *target = NULL, *q;
		bool pasted = false;

		if (left <= 0 || poll(pfd, 2, (int)(left * 1000)) == 0) {
			*error_r = errorf("no answer from the browser within %d minutes; run "
			                  "mentorctl oauth login again",
			                  OAUTH_LOGIN_MAX / 60);
			ret = OAUTH_ERR_GRANT;
			goto out;
		}
		if (pfd[0].revents & POLLIN) {
			int cfd = accept(lfd, NULL, NULL);

			if (cfd >= 0) {
				oauth_serve_redirect(cfd, &target);
				close(cfd);
			}
		} else if (pfd[1].revents & (POLLIN | POLLHUP)) {
			char line[8192];

			if (fgets(line, sizeof(line), in) == NULL) {
				/* No terminal (stdin closed): the redirect may
				 * still come to the listener. */
				in_open = false;
				continue;
			}
			target = xstrdup(str_trim(line));
			explicit_bzero(line, sizeof(line));
			pasted = true;
		}
		if (target == NULL)
			continue;
		q = strchr(target, '?');
		if (q != NULL) {
			code = oauth_query_get(q + 1, "code");
			err = oauth_query_get(q + 1, "error");
			free(got_state);
			got_state = oauth_query_get(q + 1, "state");
		}
		secret_free(&target);
		if ((code != NULL || err != NULL) &&
		    (got_state == NULL || strcmp(got_state, state) != 0)) {
			/* Not the answer to this request (an old tab, a forgery):
			 * ignored. */
			fprintf(out, "That answer is not for this sign-in (its state differs); "
			             "waiting for the right one.\n");
			fflush(out);
			secret_free(&code);
			free(err);
			err = NULL;
		} else if (pasted && code == NULL && err == NULL) {
			fprintf(out,
			        "That has no code=...; paste the whole address the browser "
			        "could not open (http://...%d/?code=...).\n",
			        ntohs(sa.sin_port));
			fflush(out);
		}
	}
	if (err != NULL) {
		char *clean = oauth_clean_text(err);

		*error_r = errorf("the sign-in was refused: %s", clean);
		free(clean);
		ret = OAUTH_ERR_GRANT;
		goto out;
	}
	form_add(&form, "grant_type", "authorization_code");
	form_add(&form, "code", code);
	form_add(&form, "redirect_uri", redirect);
	form_add(&form, "code_verifier", verifier);
	form_add_client(conf, &form);
	ret = oauth_token_request(conf, "exchanging the authorization code", &form, fresh, error_r);
	form_wipe(&form);
out:
	strbuf_free(&url);
	form_wipe(&form);
	if (curl)
		lcurl_release();
	if (lfd >= 0)
		close(lfd);
	secret_free(&verifier);
	secret_free(&code);
	free(challenge);
	free(state);
	free(redirect);
	free(got_state);
	free(err);
	return ret;
}

int
oauth_login(const struct config_oauth *conf, FILE *in, FILE *out, const char **error_r)
{
	struct oauth_state fresh, old;
	const char *error = NULL;
	int lock = -1, ret;

	memset(&fresh, 0, sizeof(fresh));
	if (!conf->used) {
		*error_r = errorf("neither imap nor smtp has auth = xoauth2 or oauthbearer");
		return OAUTH_ERR_CLIENT;
	}
	switch (conf->flow) {
	case CONFIG_OAUTH_DEVICE:
		if (lcurl_acquire(error_r) < 0)
			return OAUTH_ERR_TEMP;
		ret = oauth_login_device(conf, out, &fresh, &error);
		lcurl_release();
		break;
	case CONFIG_OAUTH_BROWSER:
		ret = oauth_login_browser(conf, in, out, &fresh, &error);
		break;
	case CONFIG_OAUTH_CLIENT_CREDENTIALS:
	default:
		ret = oauth_renew(conf, &fresh, &error);
		break;
	}
	if (ret != OAUTH_OK) {
		*error_r = error;
		goto out;
	}
	if (conf->flow != CONFIG_OAUTH_CLIENT_CREDENTIALS && fresh.refresh_token == NULL) {
		*error_r = errorf("%s gave no refresh token; for Microsoft the scope needs "
		                  "offline_access",
		                  conf->token_url);
		ret = OAUTH_ERR_CLIENT;
		goto out;
	}
	lock = oauth_lock(conf, error_r);
	if (lock < 0) {
		ret = OAUTH_ERR_TEMP;
		goto out;
	}
	/* Whatever was there (a revoked token, failures) is replaced. */
	if (oauth_state_load(conf->token_file, &old, &error) == 0)
		oauth_state_clear(&old);
	fresh.client_id = xstrdup(conf->client_id);
	fresh.token_url = xstrdup(conf->token_url);
	oauth_state_succeeded(&fresh);
	if (oauth_state_save(conf->token_file, &fresh, error_r) < 0) {
		ret = OAUTH_ERR_TEMP;
		goto out;
	}
	oauth_mem_set(conf, fresh.access_token, fresh.obtained_at, fresh.expires_at);
	fprintf(out, "%s stored in %s (mode 600); mentord uses it from its next cycle.\n",
	        conf->flow == CONFIG_OAUTH_CLIENT_CREDENTIALS ? "An access token"
	                                                      : "The refresh token",
	        conf->token_file);
	fflush(out);
	ret = OAUTH_OK;
out:
	oauth_unlock(&lock);
	oauth_state_clear(&fresh);
	return ret;
}
