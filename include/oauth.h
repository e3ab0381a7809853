/*
 * oauth: OAuth 2.0 access tokens for IMAP and SMTP (Microsoft 365, Google,
 * or any provider with a token endpoint), over HTTPS with libcurl (lcurl).
 *
 * The token file (config oauth.token_file, in the state directory, mode
 * 600) holds the refresh token, the cached access token with its expiry,
 * and the state of failures (how many in a row, when to try again, since
 * when it fails, the last error).  It is JSON, replaced atomically (a
 * temporary file, fsync, rename, fsync of the directory), so a refresh
 * token the provider rotates is never lost half-written; writers hold an
 * flock on TOKEN_FILE.lock, so the daemon's processes and mentorctl never
 * spend one refresh token twice.
 *
 * An access token is renewed before it expires (when less than a quarter
 * of its lifetime, at most OAUTH_MARGIN_MAX seconds, is left), and once
 * more when a server refuses it.  A failed renewal is retried after a
 * doubling backoff (OAUTH_BACKOFF_MIN to OAUTH_BACKOFF_MAX seconds), kept
 * in the file so every process honours it; until then the cached token is
 * used while it lasts.
 *
 * Tokens and the client secret are secrets: they are never logged, printed
 * or put in an error string; the buffers mentord keeps them in (and the
 * strings json-c parsed them into) are wiped before they are freed.  A file
 * created by root (sudo mentorctl oauth login) is given to the owner of the
 * state directory, so the daemon's user can read and lock it.
 */
#ifndef MENTORD_OAUTH_H
#define MENTORD_OAUTH_H

#include "config.h"

#include <stdio.h>
#include <time.h>

#define OAUTH_MARGIN_MAX 600
#define OAUTH_BACKOFF_MIN 30
#define OAUTH_BACKOFF_MAX 1800

/* Graded so callers know who can fix it. */
enum oauth_result {
	OAUTH_OK = 0,
	OAUTH_ERR_TEMP = -1,   /* network, timeout, 5xx, or waiting out a backoff */
	OAUTH_ERR_GRANT = -2,  /* no refresh token, or the provider refused it (revoked,
	                        * expired, password changed): run mentorctl oauth login */
	OAUTH_ERR_CLIENT = -3, /* the provider refused the client (id, secret, tenant,
	                        * scope): fix the oauth section */
};

/*
 * An access token valid for a while yet.  *token_r is a secret the caller
 * owns: free it with oauth_token_free.  Cases:
 *   1. the one this process or the file holds has more than its margin left,
 *      and is not `refused`: it, with no request;
 *   2. otherwise a new one from the token endpoint (the refresh token, or
 *      client credentials), saved with any rotated refresh token; a refused
 *      token that another process already replaced is not renewed again;
 *   3. renewing fails or must wait for the backoff: the cached token while
 *      it is still valid (OAUTH_OK), else the failure's grade, with what to
 *      do in *error_r.
 * refused: a token a server just turned down (NULL when none).  *expires_r
 * (may be NULL) gets its expiry.
 */
int oauth_token_get(const struct config_oauth *conf, const char *refused, char **token_r,
                    time_t *expires_r, const char **error_r);

/* The SASL client response for auth (XOAUTH2, or OAUTHBEARER of RFC 7628
 * with the server's host and port), base64-encoded, for user and token.  A
 * secret: free it with oauth_token_free. */
char *oauth_sasl_response(enum config_auth auth, const char *user, const char *host, int port,
                          const char *token);

/* Wipes and frees a token; sets *token to NULL. */
void oauth_token_free(char **token);

/* What the token file says, for mentord's notices and mentorctl oauth
 * status.  Never a token. */
struct oauth_status {
	bool exists;                  /* the file exists */
	bool has_refresh;             /* a refresh token is stored */
	bool has_access;              /* an access token is cached */
	bool other_client;            /* the file is for another client_id or token_url */
	time_t expires_at;            /* of the cached access token; 0 when none */
	time_t refresh_at;            /* when it is due to be renewed; 0 when none */
	int failures;                 /* renewals failed in a row */
	time_t retry_at;              /* no renewal before this; 0: now */
	time_t failing_since;         /* start of the current run of failures; 0: none */
	enum oauth_result last_grade; /* of the last failure */
	char *last_error;             /* owned; of the last failure, NULL when none */
};

/* Reads the token file without locking it (writes are atomic renames).  A
 * missing file is not an error (exists false). */
int oauth_status_read(const struct config_oauth *conf, struct oauth_status *st_r,
                      const char **error_r);
void oauth_status_clear(struct oauth_status *st);

/* When the token next needs attention, for a daemon that sleeps: the
 * renewal of a healthy token, or the retry after a failure; 0 when nothing
 * is known. */
time_t oauth_status_wake(const struct oauth_status *st);

/*
 * mentorctl oauth login: obtains and stores a refresh token (or, with
 * client credentials, checks the client by fetching an access token), and
 * clears the failures, so the daemon resumes at its next cycle.
 *   device:  prints the verification URL and the code to `out`, polls the
 *            token endpoint until someone signs in (or the code expires);
 *   browser: prints the authorization URL (PKCE, a state value), then waits
 *            for the redirect on a loopback port, or for its address pasted
 *            on `in`;
 *   client_credentials: one token request.
 * Nothing secret is printed.
 */
int oauth_login(const struct config_oauth *conf, FILE *in, FILE *out, const char **error_r);

/* Test hooks for the token file (tests/unit/test_oauth.c): the parts of the
 * file a renewal reads and writes, and the backoff it applies. */
struct oauth_state {
	char *refresh_token; /* owned secret; NULL when none */
	char *access_token;  /* owned secret; NULL when none */
	time_t expires_at;
	time_t obtained_at;
	char *client_id; /* owned: who the tokens are for */
	char *token_url; /* owned */
	int failures;
	time_t retry_at;
	time_t failing_since;
	enum oauth_result last_grade;
	char *last_error; /* owned */
};
/* A missing file gives an empty state and 0. */
int oauth_state_load(const char *path, struct oauth_state *st, const char **error_r);
int oauth_state_save(const char *path, const struct oauth_state *st, const char **error_r);
/* Wipes the secrets and frees; leaves *st zeroed. */
void oauth_state_clear(struct oauth_state *st);
/* Records a failed renewal at `now`: counts it, sets retry_at with the
 * doubling backoff, and starts the run of failures if none. */
void oauth_state_failed(struct oauth_state *st, enum oauth_result grade, const char *error,
                        time_t now);
/* Seconds before a token obtained at obtained_at and expiring at expires_at
 * is renewed early. */
time_t oauth_margin(time_t obtained_at, time_t expires_at);

/* Wipes the token this process keeps in memory (at exit). */
void oauth_cleanup(void);

#endif
