/*
 * config: mentord.conf, read with libconfuse.
 *
 * Every error names the file, the line and the fix
 * ("/etc/mentord/mentord.conf:12: imap url must start with imap:// or
 * imaps://").  Secrets may come from password_file, which is refused when
 * it is readable by group or others.  Program sections may also live in
 * files included with `include("programs/cdss.conf")` (relative to the
 * main file's directory); config expands includes itself so that errors
 * name the included file and its own line numbers.
 *
 * See conf/mentord.conf for every key, documented.
 */
#ifndef MENTORD_CONFIG_H
#define MENTORD_CONFIG_H

#include "form.h"
#include "program.h"
#include "util.h"

#include <stdio.h>

/* How mentord logs in to IMAP or SMTP: a password, or an OAuth 2.0 access
 * token (from the oauth section) sent with SASL XOAUTH2 or OAUTHBEARER. */
enum config_auth {
	CONFIG_AUTH_PASSWORD = 0,
	CONFIG_AUTH_XOAUTH2,
	CONFIG_AUTH_OAUTHBEARER,
};

enum config_oauth_provider {
	CONFIG_OAUTH_MICROSOFT = 0,
	CONFIG_OAUTH_GOOGLE,
	CONFIG_OAUTH_GENERIC,
};

/* How the refresh token is obtained (mentorctl oauth login), or for
 * client_credentials how every access token is. */
enum config_oauth_flow {
	CONFIG_OAUTH_DEVICE = 0,        /* RFC 8628 device authorization */
	CONFIG_OAUTH_BROWSER,           /* authorization code + PKCE, loopback redirect */
	CONFIG_OAUTH_CLIENT_CREDENTIALS /* app-only: client id and secret, no person */
};

/* The oauth { } section.  Every URL is https://. */
struct config_oauth {
	bool used; /* imap or smtp has auth = xoauth2 or oauthbearer */
	enum config_oauth_provider provider;
	enum config_oauth_flow flow;
	char *tenant;        /* owned; Microsoft's directory, default "organizations" */
	char *client_id;     /* owned */
	char *client_secret; /* owned; from client_secret_file; NULL for a public client */
	char *scope;         /* owned: space-separated scopes (provider default) */
	char *token_url;     /* owned */
	char *device_url;    /* owned; NULL unless flow is device */
	char *authorize_url; /* owned; NULL unless flow is browser */
	char *token_file;    /* owned: refresh token and access-token cache (mode 600) */
	char *ca_file;       /* owned; NULL: system CAs */
	int timeout;         /* seconds for one HTTPS request; default 30 */
};

struct config_imap {
	char *url;             /* owned: imap://host:port or imaps://host:port */
	char *host;            /* owned, parsed from url */
	int port;              /* parsed from url, default 143 / 993 */
	bool implicit_tls;     /* imaps:// */
	bool tls;              /* false only with `tls = off` (loopback tests) */
	char *ca_file;         /* owned; NULL: system CAs */
	char *user;            /* owned */
	char *password;        /* owned; from password or password_file; NULL with OAuth */
	char *password_file;   /* owned: password_file, resolved; NULL when inline */
	enum config_auth auth; /* default CONFIG_AUTH_PASSWORD */
	/* borrowed: &config->oauth when auth is not CONFIG_AUTH_PASSWORD, else NULL */
	const struct config_oauth *oauth;
	char *mailbox;           /* owned; default "INBOX" */
	char *processed_mailbox; /* owned; NULL: flag \Seen instead of moving */
	bool idle;               /* use IDLE when offered; default true */
	int poll_interval;       /* seconds; default 60 */
	int timeout;             /* seconds for every network operation; default 30 */
	size_t max_message_size; /* bytes; larger messages are never fetched whole */
};

struct config_smtp {
	char *url;             /* owned: smtp://host:port or smtps://host:port */
	bool tls;              /* false only with `tls = off` */
	char *ca_file;         /* owned; NULL: system CAs */
	char *user;            /* owned; NULL: no AUTH */
	char *password;        /* owned; NULL with OAuth */
	char *password_file;   /* owned: password_file, resolved; NULL when inline */
	enum config_auth auth; /* default CONFIG_AUTH_PASSWORD */
	/* borrowed: &config->oauth when auth is not CONFIG_AUTH_PASSWORD, else NULL */
	const struct config_oauth *oauth;
	char *from;          /* owned: "Name <addr>" or "addr"; the program address */
	char *from_addr;     /* owned: addr-spec part of from */
	char *from_name;     /* owned: display name part of from, may be "" */
	int rate_per_minute; /* 0: unlimited */
	int timeout;         /* seconds; default 30 */
};

struct config_competency_cluster {
	char *name;                 /* owned */
	struct strvec competencies; /* owned */
};

struct config_program {
	char *name;                 /* owned: the section title, e.g. "cdss" */
	char *title;                /* owned: "CDSS Mentoring Partnership Program" */
	struct strvec addresses;    /* addresses that reach this program; empty: all */
	char *timezone;             /* owned: the program's, else the global one */
	struct strvec coordinators; /* lower case: the program's, else the global list */
	char *start_date;           /* owned YYYY-MM-DD or NULL */
	char *end_date;             /* owned YYYY-MM-DD or NULL */
	struct program model;       /* roles, groups, forms, steps, topics */
};

struct config {
	char *path;      /* owned: the file it was read from */
	char *database;  /* owned: SQLite file */
	char *templates; /* owned: templates directory */
	/* owned: "FILE:LINE" where templates is set, or the file's name when
	 * it is not (the default), for errors about the templates */
	char *templates_where;
	char *timezone;         /* owned: e.g. "America/Los_Angeles"; default "UTC" */
	char *state_dir;        /* owned: state_directory, or the database's directory */
	char *hmac_secret;      /* owned: for tokens; NULL until config_ensure_secret */
	char *hmac_secret_path; /* owned: hmac_secret_file, or STATE/hmac.secret */
	/* authserv-ids whose Authentication-Results headers are believed
	 * (trust.h); empty: none is. */
	struct strvec trusted_authserv_ids;
	int max_auto_replies_per_day; /* answers to one address a day; default 5 */
	int work_start_hour;          /* reminders from this local hour; default 8 */
	int work_end_hour;            /* until this hour; default 18 */
	bool work_weekends;           /* default false */
	/* A fan-out queues this many emails per transaction, so that ingest
	 * and mentorctl get the write lock in between; default 500. */
	int fanout_chunk;
	struct config_imap imap;
	struct config_smtp smtp;
	struct config_oauth oauth;
	struct strvec coordinators;                 /* coordinator addresses, lower case */
	struct config_competency_cluster *clusters; /* owned; default: California model */
	size_t nclusters;
	struct config_program *programs; /* owned; at least one */
	size_t nprograms;
};

/* Reads and validates path.  The caller owns *config_r (config_free).  On a
 * bad file returns -1 with "FILE:LINE: what is wrong and how to fix it" in
 * error_r (several problems joined by newlines). */
int config_load(const char *path, struct config **config_r, const char **error_r);

/* Writes the effective configuration of path to out, like `postconf`: every
 * key of every section with its value, defaults filled in, relative paths
 * resolved, includes expanded, a key that is not set as a comment, and
 * secrets masked (password, and any key named *secret* or *_token, but not
 * the *_file that names one).  The output is itself a configuration file.
 * Returns 0, or -1 with error_r as config_load when the file has problems;
 * what could be parsed is written even then. */
int config_print(const char *path, FILE *out, const char **error_r);

/* Makes sure config->hmac_secret is set: when neither hmac_secret nor an
 * existing hmac_secret_file gave it, reads STATE/hmac.secret, or generates
 * it there on the first start (32 random bytes, base64, mode 600, written
 * atomically so two processes starting at once agree).  Never logs it. */
int config_ensure_secret(struct config *config, const char **error_r);

/* The program whose addresses include one of addrs, else the first. */
const struct config_program *config_program_for(const struct config *config,
                                                const struct strvec *addrs);
const struct config_program *config_program_by_name(const struct config *config, const char *name);
bool config_is_coordinator(const struct config *config, const char *addr);
/* Whether addr coordinates program (its own list, or the global one). */
bool config_program_coordinator(const struct config_program *program, const char *addr);
/* Appends a copy of every competency name, in model order, to out. */
void config_competencies(const struct config *config, struct strvec *out);

/* "password", "xoauth2" or "oauthbearer" (static). */
const char *config_auth_name(enum config_auth auth);
/* "microsoft", "google" or "generic" (static). */
const char *config_oauth_provider_name(enum config_oauth_provider provider);

void config_free(struct config **config);

#endif
