/*
 * imap: the IMAP client, on libetpan.  See include/imap.h for the contract
 * and the error grades.
 *
 * libetpan 1.9.4 on Debian uses GnuTLS and does not verify the server's
 * certificate, so after every TLS handshake (imaps or STARTTLS) we take
 * the peer's chain from the stream and verify it ourselves with a GnuTLS
 * trust list (ca_file, or the system CAs) and the configured host name.
 */
#include "imap.h"

#include "log.h"
#include "oauth.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <poll.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

/* A connected, logged-in session. */
struct imap_session {
	mailimap *imap;    /* owned */
	char *where;       /* owned: "host:port", for messages */
	char *selected;    /* owned: the selected mailbox or NULL */
	char *ensured_box; /* owned: processed mailbox already created, or NULL */
	int timeout;       /* seconds, for every network wait */
	bool broken;       /* the connection is unusable: every call fails */
};

/* Server text of the last tagged response, made printable and short, into
 * buf (never the password: LOGIN responses do not echo it). */
static void
imap_response_text(const struct imap_session *s, char *buf, size_t size)
{
	const char *text = s->imap != NULL ? s->imap->imap_response : NULL;
	size_t i = 0;

	if (text == NULL || *text == '\0')
		text = "no reason given";
	for (; *text != '\0' && i + 1 < size; text++)
		buf[i++] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
	buf[i] = '\0';
}

static bool
imap_is_conn_error(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_BAD_STATE:
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_PROTOCOL:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_MEMORY:
		return true;
	default:
		return false;
	}
}

/* Grades a failed libetpan call r:
 *   1. transport, parse or BYE errors: the connection is gone, IMAP_ERR_CONN
 *      (and every later call on this session fails the same way);
 *   2. a NO or BAD answer to the command: refused_grade, with the server's
 *      text. */
static int
imap_fail(struct imap_session *s, int r, int refused_grade, const char *what, const char **error_r)
{
	char text[200];

	if (imap_is_conn_error(r)) {
		s->broken = true;
		*error_r = errorf("IMAP %s: %s failed: connection lost, closed by the server "
		                  "or timed out after %d s (libetpan error %d)",
		                  s->where, what, s->timeout, r);
		return IMAP_ERR_CONN;
	}
	imap_response_text(s, text, sizeof(text));
	*error_r = errorf("IMAP %s: %s refused by the server: %s", s->where, what, text);
	return refused_grade;
}

static int
imap_check_usable(struct imap_session *s, const char **error_r)
{
	if (s->broken) {
		*error_r = errorf("IMAP %s: connection already failed; reconnect", s->where);
		return IMAP_ERR_CONN;
	}
	return IMAP_OK;
}

static bool
imap_host_is_ip(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Called by libetpan before the TLS handshake: sets SNI (data is the host
 * name, borrowed).  SNI must not carry an IP address. */
static void
imap_ssl_setup(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data;

	if (!imap_host_is_ip(host))
		(void)mailstream_ssl_set_server_name(ctx, host);
}

/* Verifies the peer certificate chain of the TLS stream against ca_file
 * (or the system CAs when NULL) and host.  Cases:
 *   1. no chain (not TLS, or libetpan gave none): refused;
 *   2. a certificate that does not parse: refused;
 *   3. untrusted, expired, revoked or for another name: refused, with
 *      GnuTLS's description of why;
 *   4. otherwise accepted. */
static int
imap_verify_peer(struct imap_session *s, const char *host, const char *ca_file,
                 const char **error_r)
{
	carray *chain = NULL;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int ncrts = 0;
	gnutls_typed_vdata_st vdata;
	gnutls_datum_t why = {NULL, 0};
	unsigned int status = 0;
	int ret = IMAP_ERR_AUTH;
	int r;

	chain = mailstream_get_certificate_chain(s->imap->imap_stream);
	if (chain == NULL || carray_count(chain) == 0) {
		*error_r = errorf("IMAP %s: TLS: the server sent no certificate", s->where);
		goto out;
	}
	crts = xcalloc(carray_count(chain), sizeof(*crts));
	for (unsigned int i = 0; i < carray_count(chain); i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = {(unsigned char *)der->str, (unsigned int)der->len};

		if (gnutls_x509_crt_init(&crts[ncrts]) < 0)
			abort();
		ncrts++;
		r = gnutls_x509_crt_import(crts[ncrts - 1], &d, GNUTLS_X509_FMT_DER);
		if (r < 0) {
			*error_r = errorf("IMAP %s: TLS: cannot parse the server certificate: %s",
			                  s->where, gnutls_strerror(r));
			goto out;
		}
	}

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		abort();
	if (ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0,
		                                          0);
		if (r <= 0) {
			*error_r = errorf("IMAP %s: TLS: no CA certificate could be read from "
			                  "ca_file %s: %s",
			                  s->where, ca_file, r < 0 ? gnutls_strerror(r) : "empty");
			goto out;
		}
	} else {
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (r <= 0) {
			*error_r = errorf("IMAP %s: TLS: no system CA certificates found (%s); "
			                  "set ca_file",
			                  s->where, r < 0 ? gnutls_strerror(r) : "none");
			goto out;
		}
	}

	memset(&vdata, 0, sizeof(vdata));
	vdata.type = GNUTLS_DT_DNS_HOSTNAME;
	vdata.data = (unsigned char *)host;
	vdata.size = 0;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, ncrts, &vdata, 1, 0, &status, NULL);
	if (r < 0) {
		*error_r = errorf("IMAP %s: TLS: certificate verification failed: %s", s->where,
		                  gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		const char *reason = "untrusted";

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why,
		                                                 0) >= 0)
			reason = str_trim((char *)why.data);
		*error_r = errorf("IMAP %s: TLS: server certificate refused for %s (%s): %s; %s",
		                  s->where, host, ca_file != NULL ? ca_file : "system CAs", reason,
		                  ca_file != NULL ? "check that ca_file in the imap section is the "
		                                    "CA that signed the server's certificate"
		                                  : "if the server's certificate is from a private "
		                                    "CA, set ca_file in the imap section to that "
		                                    "CA (PEM)");
		goto out;
	}
	ret = IMAP_OK;
out:
	gnutls_free(why.data);
	for (unsigned int i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return ret;
}

/* Refreshes the capability list libetpan keeps (mailimap_has_extension
 * reads it); required after STARTTLS and LOGIN, which may change it. */
static int
imap_refresh_capabilities(struct imap_session *s, const char **error_r)
{
	struct mailimap_capability_data *caps = NULL;
	int r;

	r = mailimap_capability(s->imap, &caps);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, IMAP_ERR_CONN, "CAPABILITY", error_r);
	mailimap_capability_data_free(caps);
	return IMAP_OK;
}

/*
 * libetpan 1.9.4 loops for ever, at full CPU, when the server goes away in
 * the middle of a literal (the body of a UID FETCH): its literal reader
 * takes a read of 0 bytes (end of file) for "nothing yet" and reads again.
 * Every stream of ours therefore reads through a copy of its driver whose
 * read turns end of file into a read error, which libetpan handles.  The
 * other operations are the original driver's own functions.
 */
struct imap_eof_driver {
	mailstream_low_driver drv;         /* first: what libetpan calls */
	const mailstream_low_driver *orig; /* borrowed: libetpan's driver */
};

/* One per libetpan driver (plain socket, TLS): a few at most. */
static struct imap_eof_driver imap_eof_drivers[4];
static size_t imap_neof_drivers;

static ssize_t
imap_eof_read(mailstream_low *low, void *buf, size_t count)
{
	const struct imap_eof_driver *w = (const struct imap_eof_driver *)low->driver;
	ssize_t r = w->orig->mailstream_read(low, buf, count);

	return r == 0 && count > 0 ? -1 : r;
}

static void
imap_guard_eof(struct imap_session *s)
{
	mailstream_low *low;
	struct imap_eof_driver *w = NULL;

	if (s->imap->imap_stream == NULL)
		return;
	low = mailstream_get_low(s->imap->imap_stream);
	if (low == NULL || low->driver == NULL || low->driver->mailstream_read == imap_eof_read)
		return;
	for (size_t i = 0; i < imap_neof_drivers; i++) {
		if (imap_eof_drivers[i].orig == low->driver)
			w = &imap_eof_drivers[i];
	}
	if (w == NULL) {
		if (imap_neof_drivers == N_ELEMENTS(imap_eof_drivers)) {
			log_warnx("IMAP %s: unknown stream driver; a server that goes away "
			          "mid-FETCH may hang this session until the watchdog",
			          s->where);
			return;
		}
		w = &imap_eof_drivers[imap_neof_drivers++];
		w->orig = low->driver;
		w->drv = *low->driver;
		w->drv.mailstream_read = imap_eof_read;
	}
	low->driver = &w->drv;
}

static void
imap_set_stream_timeout(struct imap_session *s, int seconds)
{
	if (s->imap->imap_stream != NULL)
		mailstream_low_set_timeout(mailstream_get_low(s->imap->imap_stream), seconds);
}

/* Writes s whole to the session's stream (not flushed). */
static int
imap_write(struct imap_session *s, const char *text)
{
	size_t len = strlen(text);

	return mailstream_write(s->imap->imap_stream, text, len) == (ssize_t)len
	           ? MAILIMAP_NO_ERROR
	           : MAILIMAP_ERROR_STREAM;
}

/*
 * AUTHENTICATE OAUTHBEARER (RFC 7628).  libetpan 1.9.4 knows only XOAUTH2,
 * so the exchange is written here with its public primitives: the tag,
 * the command, then the tagged answer, parsed by libetpan.  Cases:
 *   1. SASL-IR offered: the response goes with the command (RFC 4959);
 *      otherwise it answers the server's empty challenge;
 *   2. refused: the server sends an error challenge ("+ " and base64
 *      JSON), which the client must answer with a single ^A ("AQ==")
 *      before the server's NO;
 *   3. accepted: the session is authenticated.
 * The command is kept out of libetpan's logger (privacy off), as its
 * XOAUTH2 does.
 */
static int
imap_oauthbearer(struct imap_session *s, const struct config_imap *conf, const char *token)
{
	struct mailimap_response *response = NULL;
	char *ir =
	    oauth_sasl_response(CONFIG_AUTH_OAUTHBEARER, conf->user, conf->host, conf->port, token);
	bool sasl_ir = mailimap_has_extension(s->imap, "SASL-IR") != 0;
	const char *line;
	int r, type;

	if (s->imap->imap_state != MAILIMAP_STATE_NON_AUTHENTICATED) {
		r = MAILIMAP_ERROR_BAD_STATE;
		goto out;
	}
	mailstream_set_privacy(s->imap->imap_stream, 0);
	r = mailimap_send_current_tag(s->imap);
	if (r == MAILIMAP_NO_ERROR)
		r = imap_write(s, "AUTHENTICATE OAUTHBEARER");
	if (r == MAILIMAP_NO_ERROR && sasl_ir)
		r = imap_write(s, " ");
	if (r == MAILIMAP_NO_ERROR && sasl_ir)
		r = imap_write(s, ir);
	if (r == MAILIMAP_NO_ERROR)
		r = imap_write(s, "\r\n");
	if (r == MAILIMAP_NO_ERROR && mailstream_flush(s->imap->imap_stream) == -1)
		r = MAILIMAP_ERROR_STREAM;
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	line = mailimap_read_line(s->imap);
	if (line == NULL) {
		r = MAILIMAP_ERROR_STREAM;
		goto out;
	}
	if (!sasl_ir && line[0] == '+') {
		r = imap_write(s, ir);
		if (r == MAILIMAP_NO_ERROR)
			r = imap_write(s, "\r\n");
		if (r == MAILIMAP_NO_ERROR && mailstream_flush(s->imap->imap_stream) == -1)
			r = MAILIMAP_ERROR_STREAM;
		if (r != MAILIMAP_NO_ERROR)
			goto out;
		line = mailimap_read_line(s->imap);
		if (line == NULL) {
			r = MAILIMAP_ERROR_STREAM;
			goto out;
		}
	}
	if (line[0] == '+') {
		r = imap_write(s, "AQ==\r\n");
		if (r == MAILIMAP_NO_ERROR && mailstream_flush(s->imap->imap_stream) == -1)
			r = MAILIMAP_ERROR_STREAM;
		if (r != MAILIMAP_NO_ERROR)
			goto out;
	}
	/* The buffer holds what was read: libetpan's parser takes the
	 * continuation (if any) and reads on to the tagged answer. */
	r = mailimap_parse_response(s->imap, &response);
	if (r != MAILIMAP_NO_ERROR)
		goto out;
	type = response->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type;
	mailimap_response_free(response);
	if (type == MAILIMAP_RESP_COND_STATE_OK) {
		s->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
		r = MAILIMAP_NO_ERROR;
	} else {
		r = MAILIMAP_ERROR_LOGIN;
	}
out:
	if (s->imap->imap_stream != NULL)
		mailstream_set_privacy(s->imap->imap_stream, 1);
	oauth_token_free(&ir);
	return r;
}

/*
 * Logs in with an OAuth 2.0 access token (auth = xoauth2 or oauthbearer).
 * Cases:
 *   1. the connection is not secured: refused (the configuration refuses
 *      it too; a bearer token is as good as a password);
 *   2. the server does not offer the mechanism: IMAP_ERR_AUTH naming it;
 *   3. no token (renewals failing): IMAP_ERR_CONN while the provider
 *      cannot be reached (retried with the reconnect backoff), else
 *      IMAP_ERR_AUTH with what to do;
 *   4. the server refuses the token: once more with a renewed one (the
 *      server may know of a revocation before the token's expiry), then
 *      IMAP_ERR_AUTH;
 *   5. the connection is lost: IMAP_ERR_CONN.
 * Every connection (the daemon's IDLE one included) logs in this way, so a
 * session that outlived its token comes back with a fresh one.
 */
static int
imap_login_token(struct imap_session *s, const struct config_imap *conf, const char **error_r)
{
	const char *mech = conf->auth == CONFIG_AUTH_OAUTHBEARER ? "OAUTHBEARER" : "XOAUTH2";
	char *token = NULL, *refused = NULL;
	char what[300];
	int ret = IMAP_ERR_AUTH;

	(void)snprintf(what, sizeof(what), "AUTHENTICATE %s as %s", mech,
	               conf->user != NULL ? conf->user : "(no user)");
	if (!conf->tls || conf->oauth == NULL || conf->user == NULL) {
		*error_r = errorf("IMAP %s: auth = %s needs TLS, a user and the oauth section",
		                  s->where, config_auth_name(conf->auth));
		return IMAP_ERR_AUTH;
	}
	ret = imap_refresh_capabilities(s, error_r);
	if (ret != IMAP_OK)
		return ret;
	if (!mailimap_has_authentication(s->imap, mech)) {
		*error_r = errorf("IMAP %s: the server does not offer AUTHENTICATE %s; check auth "
		                  "in the imap section",
		                  s->where, mech);
		return IMAP_ERR_AUTH;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *oerr = NULL;
		int rc = oauth_token_get(conf->oauth, refused, &token, NULL, &oerr), r;

		if (rc != OAUTH_OK) {
			*error_r = errorf("IMAP %s: no OAuth access token: %s", s->where, oerr);
			ret = rc == OAUTH_ERR_TEMP ? IMAP_ERR_CONN : IMAP_ERR_AUTH;
			break;
		}
		if (conf->auth == CONFIG_AUTH_XOAUTH2)
			r = mailimap_oauth2_authenticate(s->imap, conf->user, token);
		else
			r = imap_oauthbearer(s, conf, token);
		if (r == MAILIMAP_NO_ERROR) {
			ret = IMAP_OK;
			break;
		}
		ret = imap_fail(s, r, IMAP_ERR_AUTH, what, error_r);
		if (ret != IMAP_ERR_AUTH)
			break;
		if (attempt == 0)
			log_warnx("%s; renewing the access token and trying once more", *error_r);
		oauth_token_free(&refused);
		refused = token;
		token = NULL;
	}
	oauth_token_free(&token);
	oauth_token_free(&refused);
	return ret;
}

/* Connects, secures and logs in.  Cases:
 *   1. imaps://: TLS from the first byte, then certificate verification;
 *   2. imap:// with tls: STARTTLS is required (refused without it, so the
 *      password never travels in clear), then verification;
 *   3. imap:// with tls = off: plain (loopback tests only);
 * then LOGIN, or AUTHENTICATE with a token (imap_login_token).  libetpan's
 * connect functions report success as
 * MAILIMAP_NO_ERROR_AUTHENTICATED or _NON_AUTHENTICATED, not NO_ERROR. */
int
imap_connect(const struct config_imap *conf, struct imap_session **sess_r, const char **error_r)
{
	struct imap_session *s;
	int timeout = conf->timeout > 0 ? conf->timeout : 30;
	int ret = IMAP_ERR_CONN;
	int r;

	*sess_r = NULL;
	s = xcalloc(1, sizeof(*s));
	s->timeout = timeout;
	if (strchr(conf->host, ':') != NULL)
		s->where = xasprintf("[%s]:%d", conf->host, conf->port);
	else
		s->where = xasprintf("%s:%d", conf->host, conf->port);
	if (conf->port <= 0 || conf->port > 65535) {
		*error_r = errorf("IMAP %s: invalid port", s->where);
		goto out;
	}

	s->imap = mailimap_new(0, NULL);
	if (s->imap == NULL)
		abort();
	/* The connect timeout and, through the global delay, the default for
	 * every read and write on streams libetpan creates. */
	mailimap_set_timeout(s->imap, timeout);
	mailstream_network_delay.tv_sec = timeout;
	mailstream_network_delay.tv_usec = 0;

	if (conf->implicit_tls)
		r = mailimap_ssl_connect_with_callback(s->imap, conf->host, (uint16_t)conf->port,
		                                       imap_ssl_setup, conf->host);
	else
		r = mailimap_socket_connect(s->imap, conf->host, (uint16_t)conf->port);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		if (r == MAILIMAP_ERROR_CONNECTION_REFUSED)
			*error_r = errorf("IMAP %s: cannot connect: connection refused, host "
			                  "unknown or unreachable, or no answer within %d s; check "
			                  "the host and port in the imap url, and that the server "
			                  "runs and can be reached from here",
			                  s->where, timeout);
		else if (r == MAILIMAP_ERROR_SSL)
			*error_r = errorf("IMAP %s: TLS handshake failed (is this an imaps port?)",
			                  s->where);
		else if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION)
			*error_r =
			    errorf("IMAP %s: the server refused the connection (BYE)", s->where);
		else
			*error_r = errorf("IMAP %s: no valid IMAP greeting within %d s "
			                  "(libetpan error %d)",
			                  s->where, timeout, r);
		ret = IMAP_ERR_CONN;
		goto out;
	}
	imap_guard_eof(s);
	imap_set_stream_timeout(s, timeout);

	if (conf->implicit_tls) {
		ret = imap_verify_peer(s, conf->host, conf->ca_file, error_r);
		if (ret != IMAP_OK)
			goto out;
	} else if (conf->tls) {
		ret = imap_refresh_capabilities(s, error_r);
		if (ret != IMAP_OK)
			goto out;
		if (!mailimap_has_extension(s->imap, "STARTTLS")) {
			*error_r =
			    errorf("IMAP %s: the server does not offer STARTTLS; refusing to "
			           "send the password in clear (use imaps://, or tls = off "
			           "only for a loopback test server)",
			           s->where);
			ret = IMAP_ERR_AUTH;
			goto out;
		}
		r = mailimap_socket_starttls_with_callback(s->imap, imap_ssl_setup, conf->host);
		if (r != MAILIMAP_NO_ERROR) {
			ret = imap_fail(s, r, IMAP_ERR_CONN, "STARTTLS", error_r);
			goto out;
		}
		imap_guard_eof(s);
		imap_set_stream_timeout(s, timeout);
		ret = imap_verify_peer(s, conf->host, conf->ca_file, error_r);
		if (ret != IMAP_OK)
			goto out;
	}

	if (conf->auth != CONFIG_AUTH_PASSWORD) {
		ret = imap_login_token(s, conf, error_r);
		if (ret != IMAP_OK)
			goto out;
	} else {
		r = mailimap_login(s->imap, conf->user != NULL ? conf->user : "",
		                   conf->password != NULL ? conf->password : "");
		if (r != MAILIMAP_NO_ERROR) {
			char what[300];

			(void)snprintf(what, sizeof(what), "LOGIN as %s",
			               conf->user != NULL ? conf->user : "(no user)");
			ret = imap_fail(s, r, IMAP_ERR_AUTH, what, error_r);
			if (ret == IMAP_ERR_AUTH && conf->password_file != NULL)
				*error_r = errorf("%s; check user, and the password in %s "
				                  "(password_file in the imap section)",
				                  *error_r, conf->password_file);
			else if (ret == IMAP_ERR_AUTH)
				*error_r = errorf("%s; check user and password in the imap section",
				                  *error_r);
			goto out;
		}
	}
	ret = imap_refresh_capabilities(s, error_r);
	if (ret != IMAP_OK)
		goto out;
	log_debug("IMAP %s: logged in as %s with %s%s", s->where, conf->user,
	          conf->auth == CONFIG_AUTH_PASSWORD ? "a password" : config_auth_name(conf->auth),
	          conf->implicit_tls ? " (imaps)"
	          : conf->tls        ? " (STARTTLS)"
	                             : " (no TLS)");
	*sess_r = s;
	s = NULL;
	ret = IMAP_OK;
out:
	if (s != NULL) {
		s->broken = true; /* no LOGOUT on a half-open session */
		imap_close(&s);
	}
	return ret;
}

int
imap_select(struct imap_session *sess, const char *mailbox, struct imap_mailbox_info *info_r,
            const char **error_r)
{
	struct mailimap_selection_info *sel;
	char what[300];
	int r;

	memset(info_r, 0, sizeof(*info_r));
	r = imap_check_usable(sess, error_r);
	if (r != IMAP_OK)
		return r;
	free(sess->selected);
	sess->selected = NULL;
	r = mailimap_select(sess->imap, mailbox);
	if (r != MAILIMAP_NO_ERROR) {
		(void)snprintf(what, sizeof(what), "SELECT %s", mailbox);
		return imap_fail(sess, r, IMAP_ERR_BOX, what, error_r);
	}
	sel = sess->imap->imap_selection_info;
	if (sel == NULL || sel->sel_uidvalidity == 0) {
		*error_r = errorf("IMAP %s: SELECT %s gave no UIDVALIDITY", sess->where, mailbox);
		return IMAP_ERR_BOX;
	}
	info_r->uidvalidity = sel->sel_uidvalidity;
	info_r->uidnext = sel->sel_uidnext;
	info_r->exists = sel->sel_exists;
	sess->selected = xstrdup(mailbox);
	return IMAP_OK;
}

static int
imap_cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
imap_check_selected(struct imap_session *sess, const char **error_r)
{
	int r = imap_check_usable(sess, error_r);

	if (r != IMAP_OK)
		return r;
	if (sess->selected == NULL) {
		*error_r = errorf("IMAP %s: no mailbox selected", sess->where);
		return IMAP_ERR_BOX;
	}
	return IMAP_OK;
}

/* UID SEARCH with key (consumed), appending to *uids (capacity *cap) the
 * UIDs in [lo, hi]: "n:*" always includes the highest UID, even when it is
 * below n, so answers are filtered. */
static int
imap_uid_search(struct imap_session *sess, struct mailimap_search_key *key, uint32_t lo,
                uint32_t hi, uint32_t **uids, size_t *n, size_t *cap, const char **error_r)
{
	clist *result = NULL;
	int ret = IMAP_OK;
	int r;

	r = mailimap_uid_search(sess->imap, NULL, key, &result);
	if (r != MAILIMAP_NO_ERROR) {
		ret = imap_fail(sess, r, IMAP_ERR_BOX, "UID SEARCH", error_r);
		goto out;
	}
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);

		if (uid < lo || uid > hi)
			continue;
		*uids = xgrow(*uids, cap, *n + 1, sizeof(**uids));
		(*uids)[(*n)++] = uid;
	}
out:
	if (result != NULL)
		mailimap_search_result_free(result);
	mailimap_search_key_free(key);
	return ret;
}

/* UIDs from a search, ascending and without duplicates (the order and
 * repetitions are the server's business). */
static void
imap_sort_unique(uint32_t *uids, size_t *n)
{
	size_t w = 1;

	if (*n < 2)
		return;
	qsort(uids, *n, sizeof(*uids), imap_cmp_uid);
	for (size_t i = 1; i < *n; i++) {
		if (uids[i] != uids[w - 1])
			uids[w++] = uids[i];
	}
	*n = w;
}

/* UID SEARCH UID after+1:* (filtered: see imap_uid_search). */
int
imap_search_new(struct imap_session *sess, uint32_t after_uid, uint32_t **uids_r, size_t *n_r,
                const char **error_r)
{
	struct mailimap_search_key *key;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int ret;

	*uids_r = NULL;
	*n_r = 0;
	ret = imap_check_selected(sess, error_r);
	if (ret != IMAP_OK || after_uid == UINT32_MAX)
		return ret;
	key = mailimap_search_key_new_uid(mailimap_set_new_interval(after_uid + 1, 0));
	if (key == NULL)
		abort();
	ret = imap_uid_search(sess, key, after_uid + 1, UINT32_MAX, &uids, &n, &cap, error_r);
	if (ret != IMAP_OK || n == 0) {
		free(uids);
		return ret;
	}
	imap_sort_unique(uids, &n);
	*uids_r = uids;
	*n_r = n;
	return IMAP_OK;
}

/* UID SEARCH UID 1:upto UNSEEN. */
int
imap_search_unseen(struct imap_session *sess, uint32_t upto_uid, uint32_t **uids_r, size_t *n_r,
                   const char **error_r)
{
	struct mailimap_search_key *key, *unseen;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int ret;

	*uids_r = NULL;
	*n_r = 0;
	ret = imap_check_selected(sess, error_r);
	if (ret != IMAP_OK || upto_uid == 0)
		return ret;
	unseen = mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL, NULL, NULL, NULL,
	                                 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	                                 NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
	key = mailimap_search_key_new_multiple_empty();
	if (unseen == NULL || key == NULL ||
	    mailimap_search_key_multiple_add(
	        key, mailimap_search_key_new_uid(mailimap_set_new_interval(1, upto_uid))) != 0 ||
	    mailimap_search_key_multiple_add(key, unseen) != 0)
		abort();
	ret = imap_uid_search(sess, key, 1, upto_uid, &uids, &n, &cap, error_r);
	if (ret != IMAP_OK || n == 0) {
		free(uids);
		return ret;
	}
	imap_sort_unique(uids, &n);
	*uids_r = uids;
	*n_r = n;
	return IMAP_OK;
}

/* A set of uids (ascending), each run of consecutive UIDs as one interval
 * "a:b", so a batch stays a short command line. */
static struct mailimap_set *
imap_set_of(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	if (set == NULL)
		abort();
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && uids[j] != UINT32_MAX && uids[j + 1] == uids[j] + 1)
			j++;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) != MAILIMAP_NO_ERROR)
			abort();
		i = j + 1;
	}
	return set;
}

/* What one FETCH response says: its UID, RFC822.SIZE and BODY[] (borrowed
 * from att; body NULL with *has_body_r true is a NIL body). */
static void
imap_msg_att_read(struct mailimap_msg_att *att, uint32_t *uid_r, uint32_t *size_r, bool *has_size_r,
                  const char **body_r, size_t *len_r, bool *has_body_r)
{
	*uid_r = 0;
	*size_r = 0;
	*has_size_r = false;
	*body_r = NULL;
	*len_r = 0;
	*has_body_r = false;
	for (clistiter *j = clist_begin(att->att_list); j != NULL; j = clist_next(j)) {
		struct mailimap_msg_att_item *item = clist_content(j);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_UID) {
			*uid_r = st->att_data.att_uid;
		} else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
			*size_r = st->att_data.att_rfc822_size;
			*has_size_r = true;
		} else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
		           st->att_data.att_body_section != NULL) {
			*body_r = st->att_data.att_body_section->sec_body_part;
			*len_r = st->att_data.att_body_section->sec_length;
			*has_body_r = true;
		}
	}
}

/* What imap_uid_fetch asks for. */
enum imap_fetch_what {
	IMAP_FETCH_BODY,   /* BODY.PEEK[] */
	IMAP_FETCH_SIZE,   /* RFC822.SIZE */
	IMAP_FETCH_HEADER, /* RFC822.SIZE BODY.PEEK[HEADER]<0.IMAP_HEADER_MAX> */
	IMAP_FETCH_PART,   /* BODY.PEEK[]<offset.IMAP_CHUNK> */
};

/* A message larger than this is fetched in pieces of this size: libetpan
 * holds a FETCH answer two or three times over (its read buffer, the
 * parsed literal, then our copy), so one piece at a time keeps that to a
 * few MiB whatever the message. */
#define IMAP_CHUNK (1024u * 1024)

/* A header block longer than this is cut: a message set aside by its
 * headers never costs more memory than this. */
#define IMAP_HEADER_MAX 65536

/* UID FETCH set (UID what).  The caller frees *result_r with
 * mailimap_fetch_list_free. */
static int imap_uid_fetch_at(struct imap_session *sess, const uint32_t *uids, size_t n,
                             enum imap_fetch_what what, uint32_t offset, clist **result_r,
                             const char **error_r);

static int
imap_uid_fetch(struct imap_session *sess, const uint32_t *uids, size_t n, enum imap_fetch_what what,
               clist **result_r, const char **error_r)
{
	return imap_uid_fetch_at(sess, uids, n, what, 0, result_r, error_r);
}

/* UID FETCH set (UID what), what starting at offset for IMAP_FETCH_PART.
 * The caller frees *result_r with mailimap_fetch_list_free. */
static int
imap_uid_fetch_at(struct imap_session *sess, const uint32_t *uids, size_t n,
                  enum imap_fetch_what what, uint32_t offset, clist **result_r,
                  const char **error_r)
{
	struct mailimap_set *set = imap_set_of(uids, n);
	struct mailimap_fetch_type *type = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_fetch_att *att = NULL;
	bool sizes = what == IMAP_FETCH_SIZE;
	int ret = IMAP_OK;
	int r;

	*result_r = NULL;
	if (type == NULL)
		abort();
	if (what != IMAP_FETCH_BODY) {
		att = mailimap_fetch_att_new_rfc822_size();
		if (att == NULL || mailimap_fetch_type_new_fetch_att_list_add(type, att) != 0)
			abort();
	}
	att = NULL;
	if (what == IMAP_FETCH_BODY)
		att = mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL));
	else if (what == IMAP_FETCH_HEADER)
		att = mailimap_fetch_att_new_body_peek_section_partial(
		    mailimap_section_new_header(), 0, IMAP_HEADER_MAX);
	else if (what == IMAP_FETCH_PART)
		att = mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new(NULL),
		                                                       offset, IMAP_CHUNK);
	if (mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid()) != 0 ||
	    (att != NULL && mailimap_fetch_type_new_fetch_att_list_add(type, att) != 0))
		abort();
	r = mailimap_uid_fetch(sess->imap, set, type, result_r);
	if (r != MAILIMAP_NO_ERROR) {
		char cmd[96];

		*result_r = NULL;
		if (n == 1)
			(void)snprintf(cmd, sizeof(cmd), "UID FETCH %u", (unsigned)uids[0]);
		else
			(void)snprintf(cmd, sizeof(cmd), "UID FETCH %u:%u (%zu messages)%s",
			               (unsigned)uids[0], (unsigned)uids[n - 1], n,
			               sizes ? " RFC822.SIZE" : "");
		ret = imap_fail(sess, r, IMAP_ERR_MSG, cmd, error_r);
	}
	mailimap_fetch_type_free(type);
	mailimap_set_free(set);
	return ret;
}

/* Index of uid in uids (ascending), or n. */
static size_t
imap_uid_index(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && uids[lo] == uid ? lo : n;
}

/* UID FETCH uid (UID BODY.PEEK[]).  Unsolicited FETCH responses for other
 * messages may be mixed in, so the answer is matched by UID.  No answer
 * for the UID (or a NO) means the message is gone: IMAP_ERR_MSG. */
int
imap_fetch(struct imap_session *sess, uint32_t uid, char **data_r, size_t *len_r,
           const char **error_r)
{
	clist *result = NULL;
	int ret;

	*data_r = NULL;
	*len_r = 0;
	ret = imap_check_selected(sess, error_r);
	if (ret == IMAP_OK)
		ret = imap_uid_fetch(sess, &uid, 1, IMAP_FETCH_BODY, &result, error_r);
	if (ret != IMAP_OK)
		goto out;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t got_uid, size;
		const char *body;
		size_t body_len;
		bool has_size, has_body;

		imap_msg_att_read(clist_content(it), &got_uid, &size, &has_size, &body, &body_len,
		                  &has_body);
		if (got_uid != uid || !has_body)
			continue;
		if (body == NULL) {
			*error_r =
			    errorf("IMAP %s: UID %u has no body (NIL)", sess->where, (unsigned)uid);
			ret = IMAP_ERR_MSG;
			goto out;
		}
		*data_r = xmalloc(body_len + 1);
		memcpy(*data_r, body, body_len);
		(*data_r)[body_len] = '\0';
		*len_r = body_len;
		ret = IMAP_OK;
		goto out;
	}
	*error_r = errorf("IMAP %s: message UID %u no longer exists in %s", sess->where,
	                  (unsigned)uid, sess->selected);
	ret = IMAP_ERR_MSG;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	return ret;
}

/*
 * A large message in IMAP_CHUNK pieces (BODY.PEEK[]<offset.IMAP_CHUNK>) into
 * one buffer of its size.  Cases: a piece shorter than asked is the last;
 * the message grows past the size the server gave (it cannot, but a
 * server may lie): the buffer grows too, up to twice the size, then
 * IMAP_ERR_MSG; gone: IMAP_ERR_MSG.
 */
static int
imap_fetch_chunked(struct imap_session *sess, uint32_t uid, size_t size, struct mail_fetched *msg_r,
                   const char **error_r)
{
	struct strbuf sb = {0};
	int ret = IMAP_OK;

	memset(msg_r, 0, sizeof(*msg_r));
	/* Exactly the size the server gave (a strbuf would round it up to a
	 * power of two, a third more on average). */
	sb.buf = xmalloc(size + 1);
	sb.cap = size + 1;
	sb.buf[0] = '\0';
	for (;;) {
		clist *result = NULL;
		bool got = false;
		size_t piece = 0;

		ret = imap_uid_fetch_at(sess, &uid, 1, IMAP_FETCH_PART, (uint32_t)sb.len, &result,
		                        error_r);
		if (ret != IMAP_OK)
			goto out;
		for (clistiter *it = clist_begin(result); it != NULL && !got; it = clist_next(it)) {
			uint32_t got_uid, sz;
			const char *body;
			bool has_size, has_body;

			imap_msg_att_read(clist_content(it), &got_uid, &sz, &has_size, &body,
			                  &piece, &has_body);
			if (got_uid != uid || !has_body)
				continue;
			got = true;
			if (body != NULL && piece > 0)
				strbuf_add(&sb, body, piece);
		}
		mailimap_fetch_list_free(result);
		if (!got) {
			*error_r = errorf("IMAP %s: message UID %u no longer exists in %s",
			                  sess->where, (unsigned)uid, sess->selected);
			ret = IMAP_ERR_MSG;
			goto out;
		}
		if (piece < IMAP_CHUNK)
			break;
		if (sb.len > 2 * size + IMAP_CHUNK) {
			*error_r =
			    errorf("IMAP %s: UID %u keeps growing past the %zu bytes the server "
			           "gave as its size",
			           sess->where, (unsigned)uid, size);
			ret = IMAP_ERR_MSG;
			goto out;
		}
	}
	msg_r->uid = uid;
	msg_r->len = sb.len;
	msg_r->size = sb.len;
	msg_r->data = strbuf_detach(&sb);
out:
	strbuf_free(&sb);
	return ret;
}

int
imap_fetch_header(struct imap_session *sess, uint32_t uid, struct mail_fetched *msg_r,
                  const char **error_r)
{
	clist *result = NULL;
	int ret;

	memset(msg_r, 0, sizeof(*msg_r));
	ret = imap_check_selected(sess, error_r);
	if (ret == IMAP_OK)
		ret = imap_uid_fetch(sess, &uid, 1, IMAP_FETCH_HEADER, &result, error_r);
	if (ret != IMAP_OK)
		goto out;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t got_uid, size;
		const char *body;
		size_t body_len;
		bool has_size, has_body;

		imap_msg_att_read(clist_content(it), &got_uid, &size, &has_size, &body, &body_len,
		                  &has_body);
		if (got_uid != uid || !has_body)
			continue;
		msg_r->uid = uid;
		msg_r->data = xmalloc(body_len + 1);
		if (body_len > 0)
			memcpy(msg_r->data, body, body_len);
		msg_r->data[body_len] = '\0';
		msg_r->len = body_len;
		msg_r->size = has_size ? size : body_len;
		msg_r->truncated = true;
		ret = IMAP_OK;
		goto out;
	}
	*error_r = errorf("IMAP %s: message UID %u no longer exists in %s", sess->where,
	                  (unsigned)uid, sess->selected);
	ret = IMAP_ERR_MSG;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	return ret;
}

/* How many of uids (a prefix, at least one) fit in max_bytes together,
 * from one UID FETCH (UID RFC822.SIZE), and the size of each (0 when the
 * server did not say: a UID it does not answer for is gone).  Messages over
 * max_message do not count: only their headers are fetched. */
static int
imap_fetch_prefix(struct imap_session *sess, const uint32_t *uids, size_t n, size_t max_bytes,
                  size_t max_message, uint64_t *sizes, size_t *taken_r, const char **error_r)
{
	uint64_t total = 0;
	clist *result = NULL;
	size_t k;
	int ret;

	*taken_r = 1;
	ret = imap_uid_fetch(sess, uids, n, IMAP_FETCH_SIZE, &result, error_r);
	if (ret != IMAP_OK)
		goto out;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid, size;
		const char *body;
		size_t len, i;
		bool has_size, has_body;

		imap_msg_att_read(clist_content(it), &uid, &size, &has_size, &body, &len,
		                  &has_body);
		i = imap_uid_index(uids, n, uid);
		if (has_size && i < n)
			sizes[i] = size;
	}
	for (k = 0; k < n; k++) {
		if (sizes[k] > max_message)
			continue;
		total += sizes[k];
		if (k > 0 && total > max_bytes)
			break;
	}
	*taken_r = k;
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	return ret;
}

/* Cases:
 *   1. one UID FETCH (UID RFC822.SIZE) of all n, to take the longest prefix
 *      that fits in max_bytes (at least one message up to max_message), so
 *      a batch of large messages cannot blow up memory;
 *   1a. a message of the prefix over max_message is never fetched whole:
 *      only its header block, returned with truncated set and its size;
 *   2. one UID FETCH (UID BODY.PEEK[]) of that prefix; answers are matched
 *      by UID (unsolicited FETCH responses may be mixed in) and returned in
 *      ascending UID order; a UID without an answer is gone, one with a NIL
 *      body is logged; both are left out, the caller skips them;
 *   3. the server refuses either command (NO, BAD: e.g. one message of the
 *      set cannot be read): fall back to one UID FETCH per message of the
 *      prefix, so one bad message does not hold up the others;
 *   4. the connection fails: IMAP_ERR_CONN, nothing returned. */
int
imap_fetch_batch(struct imap_session *sess, const uint32_t *uids, size_t n, size_t max_bytes,
                 size_t max_message, struct mail_fetched **msgs_r, size_t *nmsgs_r, size_t *taken_r,
                 const char **error_r)
{
	struct mail_fetched *msgs = NULL;
	clist *result = NULL;
	uint64_t *sizes = NULL;
	uint32_t *whole = NULL;
	size_t taken = 1, nmsgs = 0, nwhole = 0;
	int ret;

	*msgs_r = NULL;
	*nmsgs_r = 0;
	*taken_r = 0;
	ret = imap_check_selected(sess, error_r);
	if (ret != IMAP_OK || n == 0)
		return ret;
	sizes = xcalloc(n, sizeof(*sizes));
	ret = imap_fetch_prefix(sess, uids, n, max_bytes, max_message, sizes, &taken, error_r);
	if (ret == IMAP_ERR_MSG) {
		log_warnx("%s; fetching one message at a time", *error_r);
		memset(sizes, 0, n * sizeof(*sizes));
		taken = 1;
	} else if (ret != IMAP_OK) {
		free(sizes);
		return ret;
	}
	msgs = xcalloc(taken, sizeof(*msgs));
	/* Case 1a: the oversize ones by their headers, the large ones in
	 * pieces, the rest whole in one command. */
	whole = xcalloc(taken, sizeof(*whole));
	for (size_t i = 0; i < taken; i++) {
		const char *merr;

		if (sizes[i] <= IMAP_CHUNK) {
			whole[nwhole++] = uids[i];
			continue;
		}
		if (sizes[i] <= max_message)
			ret = imap_fetch_chunked(sess, uids[i], (size_t)sizes[i], &msgs[i], &merr);
		else
			ret = imap_fetch_header(sess, uids[i], &msgs[i], &merr);
		if (ret == IMAP_ERR_MSG) {
			log_warnx("%s", merr);
			continue;
		}
		if (ret != IMAP_OK) {
			*error_r = merr;
			goto out;
		}
		if (msgs[i].truncated)
			log_warnx(
			    "IMAP %s: UID %u is %llu bytes, over the %zu of max_message_size: "
			    "only its header is read",
			    sess->where, (unsigned)uids[i], (unsigned long long)sizes[i],
			    max_message);
	}
	if (nwhole == 0) {
		ret = IMAP_OK;
		goto compact;
	}
	ret = imap_uid_fetch(sess, whole, nwhole, IMAP_FETCH_BODY, &result, error_r);
	if (ret == IMAP_ERR_MSG && nwhole > 1) {
		/* Case 3. */
		log_warnx("%s; fetching one message at a time", *error_r);
		for (size_t i = 0; i < taken; i++) {
			const char *merr;

			if (msgs[i].data != NULL)
				continue;
			ret = imap_fetch(sess, uids[i], &msgs[i].data, &msgs[i].len, &merr);
			if (ret == IMAP_ERR_MSG) {
				log_warnx("%s", merr);
				continue;
			}
			if (ret != IMAP_OK) {
				*error_r = merr;
				goto out;
			}
			msgs[i].uid = uids[i];
			msgs[i].size = msgs[i].len;
		}
		ret = IMAP_OK;
		goto compact;
	}
	if (ret == IMAP_ERR_MSG) {
		/* One message refused: it is gone or unreadable. */
		log_warnx("%s", *error_r);
		ret = IMAP_OK;
		goto compact;
	}
	if (ret != IMAP_OK)
		goto out;
	for (clistiter *it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uint32_t uid, size;
		const char *body;
		size_t len, i;
		bool has_size, has_body;

		imap_msg_att_read(clist_content(it), &uid, &size, &has_size, &body, &len,
		                  &has_body);
		i = imap_uid_index(uids, taken, uid);
		if (i == taken || !has_body || msgs[i].data != NULL)
			continue;
		if (body == NULL) {
			log_warnx("IMAP %s: UID %u has no body (NIL)", sess->where, (unsigned)uid);
			continue;
		}
		msgs[i].uid = uid;
		msgs[i].data = xmalloc(len + 1);
		memcpy(msgs[i].data, body, len);
		msgs[i].data[len] = '\0';
		msgs[i].len = len;
		msgs[i].size = len;
	}
compact:
	/* Compact, keeping the UID order. */
	for (size_t i = 0; i < taken; i++) {
		if (msgs[i].data != NULL)
			msgs[nmsgs++] = msgs[i];
	}
out:
	if (result != NULL)
		mailimap_fetch_list_free(result);
	free(sizes);
	free(whole);
	if (ret != IMAP_OK) {
		for (size_t i = 0; i < taken; i++)
			free(msgs[i].data);
		free(msgs);
		return ret;
	}
	*msgs_r = msgs;
	*nmsgs_r = nmsgs;
	*taken_r = taken;
	return IMAP_OK;
}

/* UID STORE set +FLAGS.SILENT (flag).  Consumes set. */
static int
imap_add_flag(struct imap_session *sess, struct mailimap_set *set, struct mailimap_flag *flag,
              const char *what, const char **error_r)
{
	struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *store;
	int ret = IMAP_OK;
	int r;

	if (set == NULL || flags == NULL || flag == NULL)
		abort();
	if (mailimap_flag_list_add(flags, flag) != 0)
		abort();
	store = mailimap_store_att_flags_new_add_flags_silent(flags);
	if (store == NULL)
		abort();
	r = mailimap_uid_store(sess->imap, set, store);
	if (r != MAILIMAP_NO_ERROR)
		ret = imap_fail(sess, r, IMAP_ERR_MSG, what, error_r);
	mailimap_store_att_flags_free(store);
	mailimap_set_free(set);
	return ret;
}

/* CREATE mailbox once per session; a NO ("already exists") is fine, a
 * real failure shows up in the COPY or MOVE that follows. */
static int
imap_ensure_mailbox(struct imap_session *sess, const char *mailbox, const char **error_r)
{
	int r;

	if (sess->ensured_box != NULL && strcmp(sess->ensured_box, mailbox) == 0)
		return IMAP_OK;
	r = mailimap_create(sess->imap, mailbox);
	if (r != MAILIMAP_NO_ERROR && imap_is_conn_error(r))
		return imap_fail(sess, r, IMAP_ERR_BOX, "CREATE", error_r);
	free(sess->ensured_box);
	sess->ensured_box = xstrdup(mailbox);
	return IMAP_OK;
}

int
imap_mark_processed(struct imap_session *sess, uint32_t uid, const char *processed_mailbox,
                    const char **error_r)
{
	return imap_mark_processed_batch(sess, &uid, 1, processed_mailbox, error_r);
}

/* Cases, for all of uids in one command each:
 *   1. processed_mailbox NULL: UID STORE +FLAGS (\Seen);
 *   2. the server offers MOVE: UID MOVE to processed_mailbox;
 *   3. else UID COPY, UID STORE +FLAGS (\Deleted), then UID EXPUNGE of just
 *      these messages (UIDPLUS) or, without UIDPLUS, a plain EXPUNGE.
 * The processed mailbox is created first when missing.  A refused COPY or
 * MOVE is IMAP_ERR_BOX: the target, not the message, is at fault.  UIDs
 * gone from the server meanwhile are ignored by it (RFC 9051 6.4.9). */
int
imap_mark_processed_batch(struct imap_session *sess, const uint32_t *uids, size_t n,
                          const char *processed_mailbox, const char **error_r)
{
	struct mailimap_set *set = NULL;
	char what[300], which[64];
	int ret;
	int r;

	ret = imap_check_selected(sess, error_r);
	if (ret != IMAP_OK || n == 0)
		goto out;
	if (n == 1)
		(void)snprintf(which, sizeof(which), "%u", (unsigned)uids[0]);
	else
		(void)snprintf(which, sizeof(which), "%u:%u (%zu messages)", (unsigned)uids[0],
		               (unsigned)uids[n - 1], n);
	if (processed_mailbox == NULL) {
		(void)snprintf(what, sizeof(what), "UID STORE %s +FLAGS (\\Seen)", which);
		ret = imap_add_flag(sess, imap_set_of(uids, n), mailimap_flag_new_seen(), what,
		                    error_r);
		goto out;
	}
	ret = imap_ensure_mailbox(sess, processed_mailbox, error_r);
	if (ret != IMAP_OK)
		goto out;
	set = imap_set_of(uids, n);
	if (mailimap_has_extension(sess->imap, "MOVE")) {
		r = mailimap_uid_move(sess->imap, set, processed_mailbox);
		if (r != MAILIMAP_NO_ERROR) {
			(void)snprintf(what, sizeof(what), "UID MOVE %s to %s", which,
			               processed_mailbox);
			ret = imap_fail(sess, r, IMAP_ERR_BOX, what, error_r);
		}
		goto out;
	}
	r = mailimap_uid_copy(sess->imap, set, processed_mailbox);
	if (r != MAILIMAP_NO_ERROR) {
		(void)snprintf(what, sizeof(what), "UID COPY %s to %s", which, processed_mailbox);
		ret = imap_fail(sess, r, IMAP_ERR_BOX, what, error_r);
		goto out;
	}
	(void)snprintf(what, sizeof(what), "UID STORE %s +FLAGS (\\Deleted)", which);
	ret = imap_add_flag(sess, imap_set_of(uids, n), mailimap_flag_new_deleted(), what, error_r);
	if (ret != IMAP_OK)
		goto out;
	if (mailimap_has_extension(sess->imap, "UIDPLUS"))
		r = mailimap_uid_expunge(sess->imap, set);
	else
		r = mailimap_expunge(sess->imap);
	if (r != MAILIMAP_NO_ERROR)
		ret = imap_fail(sess, r, IMAP_ERR_BOX, "EXPUNGE", error_r);
out:
	if (set != NULL)
		mailimap_set_free(set);
	return ret;
}

static long
imap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A status line the server sends during IDLE only to keep the connection
 * alive (Dovecot's "* OK Still here" every imap_idle_notify_interval):
 * "* OK" with no response code, which would carry a state change. */
static bool
imap_is_keepalive(const char *line)
{
	return strncasecmp(line, "* OK", 4) == 0 && (line[4] == ' ' || line[4] == '\r') &&
	       (line[4] != ' ' || line[5] != '[');
}

/* Cases:
 *   1. no IDLE capability: *supported_r false, return at once;
 *   2. the server says something (already buffered after "+ idling", or
 *      the connection becomes readable): one line is read;
 *      a. a keepalive ("* OK Still here"): stay in IDLE, so the server's
 *         keepalive costs one read and no round trip;
 *      b. anything else: end the IDLE; *new_mail_r is true when the line
 *         was EXISTS or RECENT;
 *   3. wake_fd becomes readable: end early (it is not read here);
 *   4. timeout_sec passes.
 * Then DONE, whose tagged answer comes after every pending untagged
 * response, which libetpan parses into the selection info: *new_mail_r is
 * also true when that included EXISTS or RECENT, or the message count grew.
 * Every libetpan read is bounded by the session timeout, so a server that
 * never answers cannot hang us. */
int
imap_idle(struct imap_session *sess, int timeout_sec, int wake_fd, bool *supported_r,
          bool *new_mail_r, const char **error_r)
{
	struct mailimap_selection_info *sel;
	struct pollfd pfd[2];
	uint32_t exists_before;
	bool readable = false;
	long deadline;
	int ret;
	int r;

	*supported_r = false;
	*new_mail_r = false;
	ret = imap_check_selected(sess, error_r);
	if (ret != IMAP_OK)
		return ret;
	if (!mailimap_has_idle(sess->imap))
		return IMAP_OK;
	*supported_r = true;
	sel = sess->imap->imap_selection_info;
	exists_before = sel->sel_exists;

	r = mailimap_idle(sess->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(sess, r, IMAP_ERR_CONN, "IDLE", error_r);

	deadline = imap_now_ms() + (long)(timeout_sec > 0 ? timeout_sec : 0) * 1000;
	for (;;) {
		long left = deadline - imap_now_ms();
		nfds_t n = 1;

		if (readable || sess->imap->imap_stream->read_buffer_len > 0) {
			char *line = mailimap_read_line(sess->imap);

			if (line == NULL)
				return imap_fail(sess, MAILIMAP_ERROR_STREAM, IMAP_ERR_CONN, "IDLE",
				                 error_r);
			readable = false;
			if (imap_is_keepalive(line)) {
				log_debug("IMAP %s: IDLE keepalive from the server", sess->where);
				continue;
			}
			if (strstr(line, " EXISTS") != NULL || strstr(line, " RECENT") != NULL)
				*new_mail_r = true;
			break;
		}
		if (left <= 0)
			break;
		pfd[0].fd = mailimap_idle_get_fd(sess->imap);
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (wake_fd >= 0) {
			pfd[1].fd = wake_fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			n = 2;
		}
		r = poll(pfd, n, left > 1000000 ? 1000000 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("IMAP %s: poll during IDLE", sess->where);
			break;
		}
		if (r == 0)
			continue;
		if (pfd[0].revents != 0)
			readable = true;
		else if (n == 2 && pfd[1].revents != 0)
			break;
	}

	r = mailimap_idle_done(sess->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(sess, r, IMAP_ERR_CONN, "IDLE DONE", error_r);
	sel = sess->imap->imap_selection_info;
	if (sel != NULL &&
	    (sel->sel_has_exists || sel->sel_has_recent || sel->sel_exists > exists_before))
		*new_mail_r = true;
	/* An EXISTS read above is not in the selection info: the next SELECT
	 * (or NOOP) of the cycle counts again. */
	return IMAP_OK;
}

/* LOGOUT, bounded by a short timeout (a dead server must not delay
 * shutdown), unless the connection already failed; then frees. */
void
imap_close(struct imap_session **sess)
{
	struct imap_session *s = *sess;

	if (s == NULL)
		return;
	if (s->imap != NULL) {
		if (!s->broken && s->imap->imap_stream != NULL) {
			imap_set_stream_timeout(s, s->timeout < 5 ? s->timeout : 5);
			(void)mailimap_logout(s->imap);
		}
		mailimap_free(s->imap);
	}
	free(s->where);
	free(s->selected);
	free(s->ensured_box);
	free(s);
	*sess = NULL;
}

void
mail_fetched_free(struct mail_fetched **msgs, size_t n)
{
	if (*msgs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*msgs)[i].data);
	free(*msgs);
	*msgs = NULL;
}

/* The mail_driver table: ctx is a struct imap_session. */

static int
imap_drv_connect(const struct config_imap *conf, void **ctx_r, const char **error_r)
{
	struct imap_session *s = NULL;
	int r = imap_connect(conf, &s, error_r);

	*ctx_r = s;
	return r;
}

static int
imap_drv_select(void *ctx, const char *mailbox, struct imap_mailbox_info *info_r,
                const char **error_r)
{
	return imap_select(ctx, mailbox, info_r, error_r);
}

static int
imap_drv_search_new(void *ctx, uint32_t after_uid, uint32_t **uids_r, size_t *n_r,
                    const char **error_r)
{
	return imap_search_new(ctx, after_uid, uids_r, n_r, error_r);
}

static int
imap_drv_search_unseen(void *ctx, uint32_t upto_uid, uint32_t **uids_r, size_t *n_r,
                       const char **error_r)
{
	return imap_search_unseen(ctx, upto_uid, uids_r, n_r, error_r);
}

static int
imap_drv_fetch(void *ctx, uint32_t uid, char **data_r, size_t *len_r, const char **error_r)
{
	return imap_fetch(ctx, uid, data_r, len_r, error_r);
}

static int
imap_drv_mark_processed(void *ctx, uint32_t uid, const char *processed_mailbox,
                        const char **error_r)
{
	return imap_mark_processed(ctx, uid, processed_mailbox, error_r);
}

static int
imap_drv_fetch_batch(void *ctx, const uint32_t *uids, size_t n, size_t max_bytes,
                     size_t max_message, struct mail_fetched **msgs_r, size_t *nmsgs_r,
                     size_t *taken_r, const char **error_r)
{
	return imap_fetch_batch(ctx, uids, n, max_bytes, max_message, msgs_r, nmsgs_r, taken_r,
	                        error_r);
}

static int
imap_drv_fetch_header(void *ctx, uint32_t uid, struct mail_fetched *msg_r, const char **error_r)
{
	return imap_fetch_header(ctx, uid, msg_r, error_r);
}

static int
imap_drv_mark_processed_batch(void *ctx, const uint32_t *uids, size_t n,
                              const char *processed_mailbox, const char **error_r)
{
	return imap_mark_processed_batch(ctx, uids, n, processed_mailbox, error_r);
}

static int
imap_drv_idle(void *ctx, int timeout_sec, int wake_fd, bool *supported_r, bool *new_mail_r,
              const char **error_r)
{
	return imap_idle(ctx, timeout_sec, wake_fd, supported_r, new_mail_r, error_r);
}

static void
imap_drv_close(void **ctx)
{
	struct imap_session *s = *ctx;

	imap_close(&s);
	*ctx = NULL;
}

const struct mail_driver imap_driver = {
    .connect = imap_drv_connect,
    .select = imap_drv_select,
    .search_new = imap_drv_search_new,
    .search_unseen = imap_drv_search_unseen,
    .fetch = imap_drv_fetch,
    .mark_processed = imap_drv_mark_processed,
    .fetch_batch = imap_drv_fetch_batch,
    .fetch_header = imap_drv_fetch_header,
    .mark_processed_batch = imap_drv_mark_processed_batch,
    .idle = imap_drv_idle,
    .close = imap_drv_close,
};
