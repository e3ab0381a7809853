/*
 * config: mentord.conf, read with libconfuse.  See include/config.h.
 *
 * Reading happens in three steps:
 *   1. preprocess: the file and its include("...") files are copied into one
 *      buffer without comments, remembering for every buffer line the file
 *      and line it came from.  libconfuse 3.3 (Debian 12) counts two lines
 *      too many for every '#' comment and rejects comments inside lists, so
 *      comments never reach it, and its own include() could not keep our line
 *      map, so includes are expanded here (relative to the main file's
 *      directory, as libconfuse's search path would).
 *   2. parse: libconfuse parses the buffer.  Its error function and a
 *      validate callback on every option report the buffer line, which the
 *      line map turns into FILE:LINE.
 *   3. convert: the parsed tree becomes struct config, and every semantic
 *      check names the line of the offending key.  All problems are
 *      collected, not just the first.
 *
 * libconfuse keeps its lexer in globals, so config_load is not thread-safe;
 * mentord reads configuration from its main thread only.
 */
#include "config.h"
#include "clock.h"
#include "form.h"
#include "util.h"

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MENTORD_DATADIR
#define MENTORD_DATADIR "/usr/share/mentord"
#endif

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_SECRET_MAX 4096
#define CONFIG_INCLUDE_DEPTH 8
#define CONFIG_DEFAULT_DATABASE "/var/lib/mentord/mentord.db"

/* Where a line of the preprocessed buffer came from. */
struct config_origin {
	size_t file; /* index into loader.files */
	int line;
};

/* The buffer line where a key was set inside a section ("}" for where the
 * section itself ended). */
struct config_key_line {
	cfg_t *sec;       /* borrowed from the libconfuse tree */
	const char *name; /* borrowed from the libconfuse tree */
	int line;
};

struct config_loader {
	const char *path;              /* borrowed: the main file as given */
	char *dir;                     /* owned: absolute directory of the main file */
	struct strvec files;           /* file names for messages; [0] is path */
	int main_lines;                /* lines in the main file */
	struct strbuf text;            /* the preprocessed buffer */
	struct config_origin *origins; /* owned; origins[i] is buffer line i + 1 */
	size_t norigins, origins_cap;
	struct config_key_line *keys; /* owned */
	size_t nkeys, keys_cap;
	struct strvec problems; /* "FILE:LINE: ..." */
};

/* The loader of the parse in progress, for libconfuse's callbacks, which
 * carry no user pointer. */
static struct config_loader *config_current;

/* The California Leadership Competency Model, used when the configuration
 * has no competencies section. */
static const char *const config_default_model[] = {
    "Fostering a Team Environment",
    "Communication",
    "Interpersonal Skills",
    "Team Leadership",
    "Conflict Management",
    NULL,
    "Creating Organizational Transformation",
    "Change Leadership",
    "Vision and Strategic Thinking",
    "Flexibility",
    "Global Perspective",
    "Organizational Awareness",
    NULL,
    "Maximizing Performance Results",
    "Analytical Thinking",
    "Decision Making",
    "Customer Focus",
    "Planning and Organizing",
    "Thoroughness",
    "Forward Thinking",
    "Results Orientation",
    NULL,
    "Building Trust and Accountability",
    "Ethics and Integrity",
    "Personal Credibility",
    NULL,
    "Promoting a High Performance Culture",
    "Fostering Diversity",
    "Workforce Management",
    "Developing Others",
    NULL,
    "Building Coalitions",
    "Influencing Others",
    "Relationship Building",
    NULL,
};

static const struct {
	const char *name;
	enum form_field_type type;
} config_field_types[] = {
    {"text", FIELD_TEXT},   {"email", FIELD_EMAIL},   {"number", FIELD_NUMBER},
    {"date", FIELD_DATE},   {"choice", FIELD_CHOICE}, {"multichoice", FIELD_MULTICHOICE},
    {"scale", FIELD_SCALE},
};

static const char *const config_form_names[] = {"application", "mentor", "meeting", "evaluation"};

/* ---- problems and line numbers ---- */

static struct config_origin
config_origin_of(const struct config_loader *ld, int line)
{
	struct config_origin none = {0, 0};

	if (line < 1 || ld->norigins == 0)
		return none;
	if ((size_t)line > ld->norigins)
		return ld->origins[ld->norigins - 1];
	return ld->origins[line - 1];
}

static void config_problem_at(struct config_loader *ld, struct config_origin o, const char *fmt,
                              ...) ATTR_FORMAT(3, 4);

static void
config_problem_at(struct config_loader *ld, struct config_origin o, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (o.line > 0)
		strvec_push_owned(&ld->problems,
		                  xasprintf("%s:%d: %s", ld->files.v[o.file], o.line, msg));
	else
		/* Nothing in the file to point at (a missing section): point
		 * past the end of the main file, where it would be added. */
		strvec_push_owned(&ld->problems,
		                  xasprintf("%s:%d: %s", ld->files.v[0],
		                            ld->main_lines > 0 ? ld->main_lines : 1, msg));
	free(msg);
}

static void config_problem(struct config_loader *ld, int line, const char *fmt, ...)
    ATTR_FORMAT(3, 4);

static void
config_problem(struct config_loader *ld, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	config_problem_at(ld, config_origin_of(ld, line), "%s", msg);
	free(msg);
}

static const struct config_key_line *
config_find_key(const struct config_loader *ld, const cfg_t *sec, const char *name)
{
	for (size_t i = 0; i < ld->nkeys; i++) {
		if (ld->keys[i].sec == sec && strcmp(ld->keys[i].name, name) == 0)
			return &ld->keys[i];
	}
	return NULL;
}

static void
config_record_key(struct config_loader *ld, cfg_t *sec, const char *name, int line)
{
	/* The first line wins: for a list that is the line of its key. */
	if (config_find_key(ld, sec, name) != NULL)
		return;
	ld->keys = xgrow(ld->keys, &ld->keys_cap, ld->nkeys + 1, sizeof(*ld->keys));
	ld->keys[ld->nkeys].sec = sec;
	ld->keys[ld->nkeys].name = name;
	ld->keys[ld->nkeys].line = line;
	ld->nkeys++;
}

/* The buffer line of a section: its first key, else where it ended, else
 * 0 (the section is absent). */
static int
config_section_line(const struct config_loader *ld, const cfg_t *sec)
{
	int best = 0;

	for (size_t i = 0; i < ld->nkeys; i++) {
		if (ld->keys[i].sec != sec || strcmp(ld->keys[i].name, "}") == 0)
			continue;
		if (best == 0 || ld->keys[i].line < best)
			best = ld->keys[i].line;
	}
	if (best == 0) {
		const struct config_key_line *end = config_find_key(ld, sec, "}");

		if (end != NULL)
			best = end->line;
	}
	return best;
}

/* The buffer line of a key, or of its section when it was not set. */
static int
config_line_of(const struct config_loader *ld, const cfg_t *sec, const char *name)
{
	const struct config_key_line *k = config_find_key(ld, sec, name);

	return k != NULL ? k->line : config_section_line(ld, sec);
}

/* ---- libconfuse callbacks ---- */

static void config_on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap) ATTR_FORMAT(2, 0);

static void
config_on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct config_loader *ld = config_current;
	const char *hint = "";
	char *msg;

	if (ld == NULL)
		return;
	msg = xvasprintf(fmt, ap);
	if (strstr(msg, "no such option") != NULL)
		hint = "; check the spelling against the documented conf/mentord.conf";
	else if (strstr(msg, "boolean") != NULL)
		hint = "; write true or false";
	else if (strstr(msg, "integer") != NULL)
		hint = "; write a whole number";
	else if (strstr(msg, "unexpected") != NULL || strstr(msg, "missing") != NULL ||
	         strstr(msg, "premature") != NULL)
		hint = "; check the braces, quotes and = signs around here";
	else if (strstr(msg, "duplicate") != NULL)
		hint = "; give each section a different name";
	config_problem(ld, cfg != NULL ? cfg->line : 0, "%s%s", msg, hint);
	free(msg);
}

/* Called by libconfuse after every value, list and section it sets; records
 * the line so later checks can name it. */
static int
config_on_cfg_value(cfg_t *cfg, cfg_opt_t *opt)
{
	struct config_loader *ld = config_current;

	if (ld == NULL)
		return 0;
	if (opt->type == CFGT_SEC) {
		cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);

		if (sec != NULL)
			config_record_key(ld, sec, "}", cfg->line);
		return 0;
	}
	config_record_key(ld, cfg, opt->name, cfg->line);
	return 0;
}

static void
config_set_validate_all(cfg_opt_t *opts)
{
	for (; opts->name != NULL; opts++) {
		opts->validcb = config_on_cfg_value;
		if (opts->type == CFGT_SEC)
			config_set_validate_all(opts->subopts);
	}
}

/* ---- step 1: preprocessing ---- */

static void
config_pp_newline(struct config_loader *ld, size_t file, int line)
{
	struct config_origin o = {file, line};

	strbuf_addc(&ld->text, '\n');
	ld->origins = xgrow(ld->origins, &ld->origins_cap, ld->norigins + 1, sizeof(*ld->origins));
	ld->origins[ld->norigins++] = o;
}

/* Matches `include ( "path" )` at p; on success returns the path (the caller
 * owns it) and where the directive ends. */
static char *
config_pp_match_include(const char *p, const char *end, const char **after_r)
{
	const char *start;
	char quote;

	if ((size_t)(end - p) < 8 || strncmp(p, "include", 7) != 0)
		return NULL;
	p += 7;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '(')
		return NULL;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || (*p != '"' && *p != '\''))
		return NULL;
	quote = *p++;
	start = p;
	while (p < end && *p != quote && *p != '\n' && *p != '\\')
		p++;
	if (p == end || *p != quote || p == start)
		return NULL;
	{
		const char *path_end = p++;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p != ')')
			return NULL;
		*after_r = p + 1;
		return xstrndup(start, (size_t)(path_end - start));
	}
}

static bool
config_pp_word_start(const char *data, const char *p)
{
	return p == data || strchr(" \t\r\n{}(),=+\"'", p[-1]) != NULL;
}

/* Copies a quoted string starting at p (on its quote) verbatim, escapes and
 * continuation lines included; returns where it ended. */
static const char *
config_pp_string(struct config_loader *ld, size_t file, int *line, const char *p, const char *end)
{
	struct config_origin start = {file, *line};
	char quote = *p;

	strbuf_addc(&ld->text, *p++);
	while (p < end) {
		if (*p == quote) {
			strbuf_addc(&ld->text, *p++);
			return p;
		}
		if (*p == '\\' && p + 1 < end)
			strbuf_addc(&ld->text, *p++);
		if (*p == '\n') {
			(*line)++;
			config_pp_newline(ld, file, *line);
			p++;
			continue;
		}
		strbuf_addc(&ld->text, *p++);
	}
	/* libconfuse would only notice at the end of the file. */
	config_problem_at(ld, start, "string starting here has no closing %c; add it", quote);
	return NULL;
}

/*
 * Appends file number fi to ld->text.  Cases:
 *   - "..." and '...' strings are copied verbatim, so '#' in a string stays;
 *   - '#' and '//' comments are dropped up to the end of the line;
 *   - C comments are dropped, keeping their newlines so lines still match;
 *   - include("path") at the start of a word is replaced by the preprocessed
 *     file, on lines of its own; what follows it on the line carries on;
 *   - everything else is copied.
 */
static int
config_pp_file(struct config_loader *ld, size_t fi, int depth, struct config_origin from)
{
	const char *error, *p, *end;
	char *data = NULL;
	size_t len;
	int line = 1, ret = -1;

	if (read_file(ld->files.v[fi], CONFIG_FILE_MAX, &data, &len, &error) < 0) {
		if (fi == 0)
			strvec_push_owned(&ld->problems,
			                  xasprintf("%s; check the path given with -c", error));
		else
			config_problem_at(ld, from,
			                  "cannot read include file %s; fix the path (relative "
			                  "paths start from %s)",
			                  error, ld->dir);
		goto out;
	}
	if (!utf8_valid(data, len)) {
		config_problem_at(ld, from, "%s is not UTF-8 text; save it as UTF-8",
		                  ld->files.v[fi]);
		goto out;
	}
	p = data;
	end = data + len;
	while (p < end) {
		const char *after = NULL;
		char *inc = NULL;

		if (*p == 'i' && config_pp_word_start(data, p))
			inc = config_pp_match_include(p, end, &after);
		if (*p == '\n') {
			config_pp_newline(ld, fi, ++line);
			p++;
		} else if (*p == '"' || *p == '\'') {
			p = config_pp_string(ld, fi, &line, p, end);
			if (p == NULL)
				goto out;
		} else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
			while (p < end && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			p += 2;
			while (p < end && !(*p == '*' && p + 1 < end && p[1] == '/')) {
				if (*p == '\n')
					config_pp_newline(ld, fi, ++line);
				p++;
			}
			p = p < end ? p + 2 : end;
			strbuf_addc(&ld->text, ' ');
		} else if (inc != NULL) {
			struct config_origin here = {fi, line};
			size_t child;

			if (depth >= CONFIG_INCLUDE_DEPTH) {
				config_problem_at(ld, here,
				                  "includes nested more than %d deep; does a file "
				                  "include itself?",
				                  CONFIG_INCLUDE_DEPTH);
				free(inc);
				goto out;
			}
			if (inc[0] == '/')
				strvec_push_owned(&ld->files, inc);
			else {
				strvec_push_owned(&ld->files, xasprintf("%s/%s", ld->dir, inc));
				free(inc);
			}
			child = ld->files.n - 1;
			config_pp_newline(ld, child, 1);
			if (config_pp_file(ld, child, depth + 1, here) < 0)
				goto out;
			config_pp_newline(ld, fi, line);
			p = after;
		} else {
			strbuf_addc(&ld->text, *p++);
		}
	}
	if (fi == 0)
		ld->main_lines = len > 0 && data[len - 1] == '\n' ? line - 1 : line;
	ret = 0;
out:
	free(data);
	return ret;
}

/* ---- value checks ---- */

static bool
config_email_valid(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *p;

	if (at == NULL || at == s || at[1] == '\0' || at - s > 64 || strlen(at + 1) > 253)
		return false;
	if (s[0] == '.' || at[-1] == '.')
		return false;
	for (p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (!isalnum(c) && strchr("!#$%&'*+/=?^_`{|}~.-", c) == NULL)
			return false;
		if (c == '.' && p[1] == '.')
			return false;
	}
	for (p = at + 1; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (!isalnum(c) && c != '-' && c != '.')
			return false;
		if (c == '.' && (p[1] == '.' || p[1] == '\0' || p == at + 1))
			return false;
	}
	return true;
}

static bool
config_timezone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	struct stat st;
	char *path;
	bool ok;

	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL)
		return false;
	if (strcmp(tz, "UTC") == 0)
		return true;
	path = xasprintf("%s/%s", dir != NULL && *dir != '\0' ? dir : "/usr/share/zoneinfo", tz);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

/* Relative paths are taken from the configuration file's directory, so the
 * daemon behaves the same from any working directory.  Caller owns. */
static char *
config_resolve(const struct config_loader *ld, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", ld->dir, path);
}

/*
 * Splits scheme://host[:port][/path].  Cases:
 *   - scheme is plain (default port plain_port) or tls_scheme (implicit
 *     TLS, default port tls_port); anything else is refused;
 *   - user:password@ in the URL is refused (secrets go in password_file);
 *   - host is a name, an IPv4 address or [IPv6];
 *   - a path (SMTP's HELO domain for curl) is returned as given, or "".
 * The caller owns *host_r and *path_r.
 */
static int
config_url_parse(const char *url, const char *plain, const char *tls_scheme, int plain_port,
                 int tls_port, char **host_r, int *port_r, bool *implicit_tls_r, char **path_r,
                 const char **why_r)
{
	const char *p, *host, *host_end;
	size_t plen = strlen(plain), tlen = strlen(tls_scheme);
	long port;

	if (strncmp(url, plain, plen) == 0 && strncmp(url + plen, "://", 3) == 0) {
		*implicit_tls_r = false;
		port = plain_port;
		p = url + plen + 3;
	} else if (strncmp(url, tls_scheme, tlen) == 0 && strncmp(url + tlen, "://", 3) == 0) {
		*implicit_tls_r = true;
		port = tls_port;
		p = url + tlen + 3;
	} else {
		*why_r = errorf("must start with %s:// or %s://", plain, tls_scheme);
		return -1;
	}
	if (strcspn(p, "@/") < strlen(p) && p[strcspn(p, "@/")] == '@') {
		*why_r = "must not contain a user or password; use user = and password_file =";
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL || host_end == host) {
			*why_r = "has an unterminated [IPv6] address";
			return -1;
		}
		p = host_end + 1;
	} else {
		host = p;
		while (*p != '\0' && *p != ':' && *p != '/')
			p++;
		host_end = p;
	}
	if (host_end == host) {
		*why_r = "has no host name";
		return -1;
	}
	for (const char *c = host; c < host_end; c++) {
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':') {
			*why_r = "has an invalid character in the host name";
			return -1;
		}
	}
	if (*p == ':') {
		char *endp;

		errno = 0;
		port = strtol(p + 1, &endp, 10);
		if (endp == p + 1 || errno != 0 || port < 1 || port > 65535 ||
		    (*endp != '\0' && *endp != '/')) {
			*why_r = "has an invalid port; write a number from 1 to 65535";
			return -1;
		}
		p = endp;
	} else if (*p != '\0' && *p != '/') {
		*why_r = "is malformed";
		return -1;
	}
	*host_r = xstrndup(host, (size_t)(host_end - host));
	*port_r = (int)port;
	*path_r = xstrdup(p);
	return 0;
}

/* Reads the first line of a secret file, refusing files others may read. */
static int
config_read_secret(struct config_loader *ld, cfg_t *sec, const char *key, char **secret_r)
{
	const char *error;
	char *path, *data = NULL;
	struct stat st;
	size_t len;
	int line = config_line_of(ld, sec, key), ret = -1;

	path = config_resolve(ld, cfg_getstr(sec, key));
	if (stat(path, &st) < 0) {
		config_problem(ld, line,
		               "%s %s: %s; create it with the secret on its first line and chmod "
		               "600 it",
		               key, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		config_problem(ld, line, "%s %s is not a regular file; point it at a file", key,
		               path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		config_problem(ld, line, "%s %s is readable by others; chmod 600 %s", key, path,
		               path);
		goto out;
	}
	if (read_file(path, CONFIG_SECRET_MAX, &data, &len, &error) < 0) {
		config_problem(ld, line, "%s %s; make it readable by the mentord user", key, error);
		goto out;
	}
	data[strcspn(data, "\r\n")] = '\0';
	if (data[0] == '\0') {
		config_problem(ld, line, "%s %s is empty; put the secret on its first line", key,
		               path);
		goto out;
	}
	*secret_r = data;
	data = NULL;
	ret = 0;
out:
	free(data);
	free(path);
	return ret;
}

/* password or password_file (or hmac_secret / hmac_secret_file): at most
 * one; *secret_r stays NULL when neither is set. */
static void
config_get_secret(struct config_loader *ld, cfg_t *sec, const char *key, const char *file_key,
                  char **secret_r)
{
	const char *inline_secret = cfg_getstr(sec, key);

	if (inline_secret != NULL && cfg_getstr(sec, file_key) != NULL) {
		config_problem(ld, config_line_of(ld, sec, file_key),
		               "both %s and %s are set; keep only %s", key, file_key, file_key);
		return;
	}
	if (inline_secret != NULL)
		*secret_r = xstrdup(inline_secret);
	else if (cfg_getstr(sec, file_key) != NULL)
		(void)config_read_secret(ld, sec, file_key, secret_r);
}

static char *
config_dup_opt(cfg_t *sec, const char *key)
{
	const char *s = cfg_getstr(sec, key);

	return s != NULL ? xstrdup(s) : NULL;
}

/* An integer within [min, max]; problems name the key's line. */
static int
config_get_int(struct config_loader *ld, cfg_t *sec, const char *key, long min, long max,
               const char *what)
{
	long v = cfg_getint(sec, key);

	if (v < min || v > max) {
		config_problem(ld, config_line_of(ld, sec, key), "%s = %ld is out of range; %s",
		               key, v, what);
		return (int)(v < min ? min : max);
	}
	return (int)v;
}

static void
config_check_ca_file(struct config_loader *ld, cfg_t *sec, char **ca_file_r)
{
	const char *ca = cfg_getstr(sec, "ca_file");

	if (ca == NULL)
		return;
	*ca_file_r = config_resolve(ld, ca);
	if (access(*ca_file_r, R_OK) < 0)
		config_problem(ld, config_line_of(ld, sec, "ca_file"),
		               "ca_file %s: %s; point it at a readable PEM file", *ca_file_r,
		               strerror(errno));
}

/* Checks url and tls together: tls = off is only for plain URLs, and only
 * when written out; with a plain URL STARTTLS is otherwise required. */
static void
config_get_url(struct config_loader *ld, cfg_t *sec, const char *section, const char *plain,
               const char *tls_scheme, int plain_port, int tls_port, char **url_r, char **host_r,
               int *port_r, bool *implicit_tls_r, bool *tls_r)
{
	const char *url = cfg_getstr(sec, "url"), *why;
	char *host = NULL, *path = NULL;
	bool implicit = false;
	int port = 0;

	*tls_r = cfg_getbool(sec, "tls") == cfg_true;
	if (url == NULL) {
		config_problem(ld, config_section_line(ld, sec),
		               "%s has no url; add url = \"%s://mail.example.org\" inside %s { }",
		               section, tls_scheme, section);
		return;
	}
	if (config_url_parse(url, plain, tls_scheme, plain_port, tls_port, &host, &port, &implicit,
	                     &path, &why) < 0) {
		config_problem(ld, config_line_of(ld, sec, "url"), "%s url \"%s\" %s", section, url,
		               why);
		return;
	}
	if (strcmp(plain, "imap") == 0 && path[0] != '\0' && strcmp(path, "/") != 0) {
		config_problem(ld, config_line_of(ld, sec, "url"),
		               "imap url \"%s\" has a path; name the folder with mailbox = instead",
		               url);
		goto out;
	}
	if (strcmp(path, "/") == 0)
		path[0] = '\0';
	if (implicit && !*tls_r)
		config_problem(ld, config_line_of(ld, sec, "tls"),
		               "%s tls = off cannot be used with %s://; use %s:// for a plain "
		               "loopback test server",
		               section, tls_scheme, plain);
	*tls_r = *tls_r || implicit;
	*url_r = xasprintf("%s://%s%s%s:%d%s", implicit ? tls_scheme : plain,
	                   strchr(host, ':') != NULL ? "[" : "", host,
	                   strchr(host, ':') != NULL ? "]" : "", port, path);
	if (host_r != NULL) {
		*host_r = host;
		host = NULL;
	}
	*port_r = port;
	*implicit_tls_r = implicit;
out:
	free(host);
	free(path);
}

/* ---- step 3: conversion ---- */

static const struct {
	const char *name;
	enum config_auth auth;
} config_auths[] = {
    {"password", CONFIG_AUTH_PASSWORD},
    {"xoauth2", CONFIG_AUTH_XOAUTH2},
    {"oauthbearer", CONFIG_AUTH_OAUTHBEARER},
};

const char *
config_auth_name(enum config_auth auth)
{
	for (size_t i = 0; i < N_ELEMENTS(config_auths); i++) {
		if (config_auths[i].auth == auth)
			return config_auths[i].name;
	}
	return "password";
}

static enum config_auth
config_get_auth(struct config_loader *ld, cfg_t *sec, const char *section)
{
	const char *s = cfg_getstr(sec, "auth");

	for (size_t i = 0; i < N_ELEMENTS(config_auths); i++) {
		if (strcmp(s, config_auths[i].name) == 0)
			return config_auths[i].auth;
	}
	config_problem(ld, config_line_of(ld, sec, "auth"),
	               "%s auth = \"%s\" is unknown; use password, xoauth2 or oauthbearer", section,
	               s);
	return CONFIG_AUTH_PASSWORD;
}

/* What auth = xoauth2 or oauthbearer excludes in imap or smtp: a password
 * (the token replaces it), and a connection without TLS (a bearer token is
 * as good as a password to whoever reads it). */
static void
config_check_token_login(struct config_loader *ld, cfg_t *sec, const char *section,
                         enum config_auth auth, bool tls)
{
	const char *keys[] = {"password", "password_file"};

	for (size_t i = 0; i < N_ELEMENTS(keys); i++) {
		if (cfg_getstr(sec, keys[i]) != NULL)
			config_problem(ld, config_line_of(ld, sec, keys[i]),
			               "%s auth = %s logs in with a token from the oauth section, "
			               "not a password; remove %s",
			               section, config_auth_name(auth), keys[i]);
	}
	if (!tls)
		config_problem(ld, config_line_of(ld, sec, "tls"),
		               "%s auth = %s sends a bearer token, which must not travel in "
		               "clear; remove tls = off (the test servers offer STARTTLS)",
		               section, config_auth_name(auth));
}

static void
config_convert_imap(struct config_loader *ld, cfg_t *root, struct config_imap *imap)
{
	cfg_t *sec = cfg_getsec(root, "imap");

	config_get_url(ld, sec, "imap", "imap", "imaps", 143, 993, &imap->url, &imap->host,
	               &imap->port, &imap->implicit_tls, &imap->tls);
	config_check_ca_file(ld, sec, &imap->ca_file);
	imap->user = config_dup_opt(sec, "user");
	imap->auth = config_get_auth(ld, sec, "imap");
	if (imap->auth == CONFIG_AUTH_PASSWORD)
		config_get_secret(ld, sec, "password", "password_file", &imap->password);
	else
		config_check_token_login(ld, sec, "imap", imap->auth, imap->tls);
	if (imap->user == NULL)
		config_problem(ld, config_section_line(ld, sec),
		               "imap has no user; add user = \"mentoring@example.org\"");
	else if (imap->auth == CONFIG_AUTH_PASSWORD && imap->password == NULL &&
	         cfg_getstr(sec, "password_file") == NULL)
		config_problem(ld, config_section_line(ld, sec),
		               "imap has no password; add password_file = \"/etc/mentord/"
		               "imap.password\" (mode 600)");
	imap->mailbox = xstrdup(cfg_getstr(sec, "mailbox"));
	if (imap->mailbox[0] == '\0')
		config_problem(ld, config_line_of(ld, sec, "mailbox"),
		               "imap mailbox is empty; remove it to use INBOX");
	imap->processed_mailbox = config_dup_opt(sec, "processed_mailbox");
	imap->idle = cfg_getbool(sec, "idle") == cfg_true;
	imap->poll_interval =
	    config_get_int(ld, sec, "poll_interval", 5, 86400, "use 5 to 86400 seconds");
	imap->timeout = config_get_int(ld, sec, "timeout", 1, 3600, "use 1 to 3600 seconds");
}

/* Splits "Name <addr>" or "addr"; the caller owns both results. */
static int
config_split_from(const char *from, char **name_r, char **addr_r)
{
	const char *lt = strchr(from, '<'), *gt = strrchr(from, '>');
	char *name, *addr;

	if (lt != NULL && gt != NULL && gt > lt) {
		name = str_trim(xstrndup(from, (size_t)(lt - from)));
		addr = str_trim(xstrndup(lt + 1, (size_t)(gt - lt - 1)));
		for (const char *q = gt + 1; *q != '\0'; q++) {
			if (!isspace((unsigned char)*q)) {
				free(name);
				free(addr);
				return -1;
			}
		}
		if (name[0] == '"' && strlen(name) >= 2 && name[strlen(name) - 1] == '"') {
			char *unq = xstrndup(name + 1, strlen(name) - 2);

			free(name);
			name = unq;
		}
		if (strchr(name, '<') != NULL || strchr(name, '>') != NULL) {
			free(name);
			free(addr);
			return -1;
		}
	} else {
		name = xstrdup("");
		addr = str_trim(xstrdup(from));
	}
	if (!config_email_valid(addr)) {
		free(name);
		free(addr);
		return -1;
	}
	*name_r = name;
	*addr_r = addr;
	return 0;
}

static void
config_convert_smtp(struct config_loader *ld, cfg_t *root, struct config_smtp *smtp)
{
	cfg_t *sec = cfg_getsec(root, "smtp");
	bool implicit_tls;
	const char *from;
	int port;

	config_get_url(ld, sec, "smtp", "smtp", "smtps", 25, 465, &smtp->url, NULL, &port,
	               &implicit_tls, &smtp->tls);
	config_check_ca_file(ld, sec, &smtp->ca_file);
	smtp->user = config_dup_opt(sec, "user");
	smtp->auth = config_get_auth(ld, sec, "smtp");
	if (smtp->auth == CONFIG_AUTH_PASSWORD)
		config_get_secret(ld, sec, "password", "password_file", &smtp->password);
	else
		config_check_token_login(ld, sec, "smtp", smtp->auth, smtp->tls);
	if (smtp->auth != CONFIG_AUTH_PASSWORD && smtp->user == NULL)
		config_problem(ld, config_line_of(ld, sec, "auth"),
		               "smtp auth = %s needs the account to log in as; add user = "
		               "\"mentoring@example.org\"",
		               config_auth_name(smtp->auth));
	if (smtp->auth == CONFIG_AUTH_PASSWORD && smtp->user != NULL && smtp->password == NULL &&
	    cfg_getstr(sec, "password_file") == NULL)
		config_problem(ld, config_line_of(ld, sec, "user"),
		               "smtp has a user but no password; add password_file = "
		               "\"/etc/mentord/smtp.password\" (mode 600)");
	if (smtp->user == NULL && smtp->password != NULL)
		config_problem(ld, config_line_of(ld, sec, "password"),
		               "smtp has a password but no user; add user = \"...\"");
	from = cfg_getstr(sec, "from");
	if (from == NULL) {
		config_problem(
		    ld, config_section_line(ld, sec),
		    "smtp has no from; add from = \"Mentoring <mentoring@example.org>\"");
	} else if (config_split_from(from, &smtp->from_name, &smtp->from_addr) < 0) {
		config_problem(ld, config_line_of(ld, sec, "from"),
		               "smtp from \"%s\" is not an address; write \"Name "
		               "<mentoring@example.org>\" or just the address",
		               from);
	} else {
		smtp->from = xstrdup(from);
	}
	smtp->rate_per_minute =
	    config_get_int(ld, sec, "rate_per_minute", 0, 100000, "use 0 for no limit");
	smtp->timeout = config_get_int(ld, sec, "timeout", 1, 3600, "use 1 to 3600 seconds");
}

static const char *const config_oauth_providers[] = {"microsoft", "google", "generic"};
static const char *const config_oauth_flows[] = {"device", "browser", "client_credentials"};

const char *
config_oauth_provider_name(enum config_oauth_provider provider)
{
	return (size_t)provider < N_ELEMENTS(config_oauth_providers)
	           ? config_oauth_providers[provider]
	           : "generic";
}

/* The index of s in names, or -1. */
static int
config_pick(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

/* A value that goes into an HTTP form or a URL as given: printable ASCII
 * without spaces. */
static bool
config_token_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	}
	return true;
}

/* url (from key, or the provider's default when def is not NULL): https://
 * and printable.  The caller owns *url_r; it stays NULL when neither is
 * given. */
static void
config_get_https(struct config_loader *ld, cfg_t *sec, const char *key, const char *def,
                 char **url_r)
{
	const char *url = cfg_getstr(sec, key);

	if (url == NULL) {
		if (def != NULL)
			*url_r = xstrdup(def);
		return;
	}
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' || !config_token_ok(url)) {
		config_problem(ld, config_line_of(ld, sec, key),
		               "oauth %s \"%s\" must be an https:// URL without spaces", key, url);
		return;
	}
	*url_r = xstrdup(url);
}

/* The directory part of path (the caller owns it). */
static char *
config_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * The oauth section, checked against what imap and smtp ask of it.  Cases:
 *   - neither uses a token: a written oauth section is refused (it would do
 *     nothing); otherwise nothing to do;
 *   - a token is asked for but there is no section: refused;
 *   - provider microsoft: URLs from tenant (default "organizations");
 *     client_credentials needs the directory's own tenant and a secret;
 *     XOAUTH2 only (Exchange Online does not offer OAUTHBEARER);
 *   - provider google: flow browser only (its device flow does not grant the
 *     Gmail scope, and it has no client-credentials grant), with the client
 *     secret Google issues to desktop clients;
 *   - provider generic: every URL the flow needs, and a scope, written out;
 *   - keys that the chosen flow or provider would ignore are refused.
 */
static void
config_convert_oauth(struct config_loader *ld, cfg_t *root, struct config *config)
{
	cfg_t *sec = cfg_getsec(root, "oauth");
	struct config_oauth *o = &config->oauth;
	int line = config_section_line(ld, sec), v;
	const char *s, *user_key = config->imap.auth != CONFIG_AUTH_PASSWORD ? "imap" : "smtp";
	char *dir, *def_token = NULL, *def_device = NULL, *def_authorize = NULL;
	const char *def_scope = NULL;
	bool oauthbearer = config->imap.auth == CONFIG_AUTH_OAUTHBEARER ||
	                   config->smtp.auth == CONFIG_AUTH_OAUTHBEARER;

	o->used =
	    config->imap.auth != CONFIG_AUTH_PASSWORD || config->smtp.auth != CONFIG_AUTH_PASSWORD;
	if (!o->used) {
		if (line != 0)
			config_problem(ld, line,
			               "the oauth section is not used; set auth = xoauth2 in imap "
			               "or smtp, or remove the section");
		return;
	}
	if (line == 0) {
		cfg_t *user = cfg_getsec(root, user_key);

		config_problem(ld, config_line_of(ld, user, "auth"),
		               "%s auth = %s needs an oauth section; add oauth { provider = "
		               "microsoft client_id = \"...\" }",
		               user_key,
		               config_auth_name(strcmp(user_key, "imap") == 0 ? config->imap.auth
		                                                              : config->smtp.auth));
		o->used = false;
		return;
	}

	s = cfg_getstr(sec, "provider");
	v = s != NULL ? config_pick(s, config_oauth_providers, N_ELEMENTS(config_oauth_providers))
	              : -1;
	if (v < 0) {
		config_problem(ld, config_line_of(ld, sec, "provider"),
		               "oauth provider %s%s%s; use microsoft, google or generic",
		               s != NULL ? "\"" : "is missing", s != NULL ? s : "",
		               s != NULL ? "\" is unknown" : "");
		return;
	}
	o->provider = (enum config_oauth_provider)v;

	s = cfg_getstr(sec, "flow");
	if (s == NULL) {
		o->flow =
		    o->provider == CONFIG_OAUTH_GOOGLE ? CONFIG_OAUTH_BROWSER : CONFIG_OAUTH_DEVICE;
	} else {
		v = config_pick(s, config_oauth_flows, N_ELEMENTS(config_oauth_flows));
		if (v < 0) {
			config_problem(ld, config_line_of(ld, sec, "flow"),
			               "oauth flow \"%s\" is unknown; use device, browser or "
			               "client_credentials",
			               s);
			return;
		}
		o->flow = (enum config_oauth_flow)v;
	}

	s = cfg_getstr(sec, "client_id");
	if (s == NULL || !config_token_ok(s))
		config_problem(ld, config_line_of(ld, sec, "client_id"),
		               "oauth client_id %s; copy the application (client) ID of the app "
		               "registration",
		               s == NULL ? "is missing" : "has spaces or control characters");
	else
		o->client_id = xstrdup(s);
	config_get_secret(ld, sec, "client_secret", "client_secret_file", &o->client_secret);
	if (o->client_secret != NULL && !config_token_ok(o->client_secret)) {
		config_problem(ld, config_line_of(ld, sec, "client_secret_file"),
		               "oauth client secret has spaces or control characters; put only "
		               "the secret on the first line");
	}

	switch (o->provider) {
	case CONFIG_OAUTH_MICROSOFT: {
		const char *tenant = cfg_getstr(sec, "tenant");

		if (tenant == NULL)
			tenant = "organizations";
		if (!config_token_ok(tenant) ||
		    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
		                   "RSTUVWXYZ0123456789.-") != strlen(tenant))
			config_problem(ld, config_line_of(ld, sec, "tenant"),
			               "oauth tenant \"%s\" is not a directory name or ID; write "
			               "\"contoso.onmicrosoft.com\" or the tenant's GUID",
			               tenant);
		if (o->flow == CONFIG_OAUTH_CLIENT_CREDENTIALS &&
		    (strcmp(tenant, "organizations") == 0 || strcmp(tenant, "common") == 0 ||
		     strcmp(tenant, "consumers") == 0))
			config_problem(
			    ld, config_line_of(ld, sec, "tenant"),
			    "oauth flow = client_credentials needs the directory's own "
			    "tenant; add tenant = \"contoso.onmicrosoft.com\" (or its ID)");
		o->tenant = xstrdup(tenant);
		def_token =
		    xasprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/token", tenant);
		def_device = xasprintf(
		    "https://login.microsoftonline.com/%s/oauth2/v2.0/devicecode", tenant);
		def_authorize =
		    xasprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/authorize", tenant);
		def_scope = o->flow == CONFIG_OAUTH_CLIENT_CREDENTIALS
		                ? "https://outlook.office365.com/.default"
		                : "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
		                  "https://outlook.office.com/SMTP.Send";
		if (oauthbearer)
			config_problem(
			    ld,
			    config_line_of(
			        ld,
			        cfg_getsec(root, config->imap.auth == CONFIG_AUTH_OAUTHBEARER
			                             ? "imap"
			                             : "smtp"),
			        "auth"),
			    "Microsoft 365 offers only XOAUTH2 for IMAP and SMTP; use auth = "
			    "xoauth2");
		break;
	}
	case CONFIG_OAUTH_GOOGLE:
		if (o->flow != CONFIG_OAUTH_BROWSER)
			config_problem(ld, config_line_of(ld, sec, "flow"),
			               "oauth flow = %s does not work with Google mail: its device "
			               "flow does not grant the Gmail scope and it has no "
			               "client-credentials grant; use flow = browser (the default)",
			               config_oauth_flows[o->flow]);
		if (o->client_secret == NULL)
			config_problem(ld, line,
			               "Google issues desktop clients a secret that its token "
			               "endpoint requires; add client_secret_file = "
			               "\"/etc/mentord/oauth.secret\" (mode 600)");
		def_token = xstrdup("https://oauth2.googleapis.com/token");
		def_authorize = xstrdup("https://accounts.google.com/o/oauth2/v2/auth");
		def_scope = "https://mail.google.com/";
		break;
	case CONFIG_OAUTH_GENERIC:
		if (cfg_getstr(sec, "token_url") == NULL)
			config_problem(ld, line,
			               "oauth provider = generic needs token_url = "
			               "\"https://login.example.org/token\"");
		if (o->flow == CONFIG_OAUTH_DEVICE && cfg_getstr(sec, "device_url") == NULL)
			config_problem(ld, line,
			               "oauth flow = device needs device_url = "
			               "\"https://login.example.org/device\"");
		if (o->flow == CONFIG_OAUTH_BROWSER && cfg_getstr(sec, "authorize_url") == NULL)
			config_problem(ld, line,
			               "oauth flow = browser needs authorize_url = "
			               "\"https://login.example.org/authorize\"");
		if (cfg_getstr(sec, "scope") == NULL)
			config_problem(ld, line,
			               "oauth provider = generic needs scope = \"...\" (what the "
			               "mail server requires, e.g. \"mail offline_access\")");
		break;
	}
	if (o->provider != CONFIG_OAUTH_MICROSOFT && cfg_getstr(sec, "tenant") != NULL)
		config_problem(ld, config_line_of(ld, sec, "tenant"),
		               "oauth tenant is only used with provider = microsoft; remove it");
	if (o->flow == CONFIG_OAUTH_CLIENT_CREDENTIALS && o->client_secret == NULL &&
	    cfg_getstr(sec, "client_secret_file") == NULL)
		config_problem(ld, line,
		               "oauth flow = client_credentials needs the application's secret; "
		               "add client_secret_file = \"/etc/mentord/oauth.secret\" (mode 600)");
	if (o->flow != CONFIG_OAUTH_DEVICE && cfg_getstr(sec, "device_url") != NULL)
		config_problem(ld, config_line_of(ld, sec, "device_url"),
		               "oauth device_url is only used with flow = device; remove it");
	if (o->flow != CONFIG_OAUTH_BROWSER && cfg_getstr(sec, "authorize_url") != NULL)
		config_problem(ld, config_line_of(ld, sec, "authorize_url"),
		               "oauth authorize_url is only used with flow = browser; remove it");

	config_get_https(ld, sec, "token_url", def_token, &o->token_url);
	if (o->flow == CONFIG_OAUTH_DEVICE)
		config_get_https(ld, sec, "device_url", def_device, &o->device_url);
	if (o->flow == CONFIG_OAUTH_BROWSER)
		config_get_https(ld, sec, "authorize_url", def_authorize, &o->authorize_url);
	s = cfg_getstr(sec, "scope");
	if (s != NULL) {
		char *scope = str_trim(xstrdup(s));

		if (scope[0] == '\0' || strpbrk(scope, "\t\r\n\"\\") != NULL)
			config_problem(ld, config_line_of(ld, sec, "scope"),
			               "oauth scope \"%s\" must be scope names separated by spaces",
			               s);
		o->scope = scope;
	} else if (def_scope != NULL) {
		o->scope = xstrdup(def_scope);
	}

	s = cfg_getstr(sec, "token_file");
	if (s != NULL) {
		o->token_file = config_resolve(ld, s);
	} else {
		/* The state directory: where the database is (the unit's
		 * StateDirectory, writable under ProtectSystem=strict). */
		dir = config_dirname(config->database);
		o->token_file = xasprintf("%s/oauth-token.json", dir);
		free(dir);
	}
	dir = config_dirname(o->token_file);
	{
		struct stat st;

		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			config_problem(
			    ld, config_line_of(ld, sec, "token_file"),
			    "oauth token_file %s: directory %s does not exist; create it "
			    "(the state directory, writable by mentord)",
			    o->token_file, dir);
	}
	free(dir);
	config_check_ca_file(ld, sec, &o->ca_file);
	o->timeout = config_get_int(ld, sec, "timeout", 1, 3600, "use 1 to 3600 seconds");

	if (config->imap.auth != CONFIG_AUTH_PASSWORD)
		config->imap.oauth = o;
	if (config->smtp.auth != CONFIG_AUTH_PASSWORD)
		config->smtp.oauth = o;
	free(def_token);
	free(def_device);
	free(def_authorize);
}

static void
config_convert_coordinators(struct config_loader *ld, cfg_t *root, struct strvec *out)
{
	cfg_t *sec = cfg_getsec(root, "coordinator");
	unsigned n = cfg_size(sec, "address");

	for (unsigned i = 0; i < n; i++) {
		char *addr = str_trim(xstrdup(cfg_getnstr(sec, "address", i)));

		if (!config_email_valid(addr)) {
			config_problem(ld, config_line_of(ld, sec, "address"),
			               "coordinator address \"%s\" is not an email address; write "
			               "it like \"coordinator@example.org\"",
			               addr);
			free(addr);
			continue;
		}
		str_lower(addr);
		strvec_push_owned(out, addr);
	}
	if (out->n == 0)
		config_problem(ld, config_section_line(ld, sec),
		               "no coordinator address; add coordinator { address = "
		               "{\"coordinator@example.org\"} }");
}

static void
config_convert_competencies(struct config_loader *ld, cfg_t *root, struct config *config)
{
	cfg_t *sec = cfg_getsec(root, "competencies");
	unsigned n = sec != NULL ? cfg_size(sec, "cluster") : 0;

	if (n == 0) {
		size_t i = 0;

		while (i < N_ELEMENTS(config_default_model)) {
			struct config_competency_cluster *c;

			config->clusters =
			    xrealloc(config->clusters, (config->nclusters + 1) * sizeof(*c));
			c = &config->clusters[config->nclusters++];
			memset(c, 0, sizeof(*c));
			c->name = xstrdup(config_default_model[i++]);
			while (config_default_model[i] != NULL)
				strvec_push(&c->competencies, config_default_model[i++]);
			i++;
		}
		return;
	}
	config->clusters = xcalloc(n, sizeof(*config->clusters));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *cl = cfg_getnsec(sec, "cluster", i);
		struct config_competency_cluster *c = &config->clusters[config->nclusters++];
		unsigned m = cfg_size(cl, "competencies");

		c->name = xstrdup(cfg_title(cl));
		for (unsigned j = 0; j < m; j++)
			strvec_push(&c->competencies, cfg_getnstr(cl, "competencies", j));
		if (m == 0)
			config_problem(ld, config_section_line(ld, cl),
			               "competency cluster \"%s\" has no competencies; add "
			               "competencies = {\"...\", \"...\"}",
			               c->name);
	}
}

static bool
config_form_has_key(const struct form_def *form, size_t upto, const char *key)
{
	for (size_t i = 0; i < upto; i++) {
		if (str_ieq(form->fields[i].key, key) ||
		    strvec_contains_ci(&form->fields[i].aliases, key))
			return true;
	}
	return false;
}

static bool
config_key_ok(const char *key)
{
	return key[0] != '\0' && strpbrk(key, ":\r\n") == NULL;
}

static void
config_convert_field(struct config_loader *ld, const struct config *config, cfg_t *fs,
                     struct form_def *form, size_t idx)
{
	struct form_field_def *f = &form->fields[idx];
	const char *type = cfg_getstr(fs, "type"), *from = cfg_getstr(fs, "choices_from");
	unsigned nchoices = cfg_size(fs, "choices"), naliases = cfg_size(fs, "aliases");
	bool type_ok = false;

	f->key = xstrdup(cfg_title(fs));
	if (!config_key_ok(f->key))
		config_problem(ld, config_section_line(ld, fs),
		               "field \"%s\" cannot be a form key; use a name without ':' or "
		               "line breaks",
		               f->key);
	else if (config_form_has_key(form, idx, f->key))
		config_problem(ld, config_section_line(ld, fs),
		               "field \"%s\" appears twice in form %s; rename one", f->key,
		               form->name);
	for (size_t i = 0; i < N_ELEMENTS(config_field_types); i++) {
		if (strcmp(type, config_field_types[i].name) == 0) {
			f->type = config_field_types[i].type;
			type_ok = true;
		}
	}
	if (!type_ok)
		config_problem(ld, config_line_of(ld, fs, "type"),
		               "field \"%s\" has unknown type \"%s\"; use text, email, number, "
		               "date, choice, multichoice or scale",
		               f->key, type);
	f->required = cfg_getbool(fs, "required") == cfg_true;
	f->multiline = cfg_getbool(fs, "multiline") == cfg_true;
	if (f->multiline && f->type != FIELD_TEXT)
		config_problem(ld, config_line_of(ld, fs, "multiline"),
		               "field \"%s\": multiline only applies to type = text; remove it",
		               f->key);
	f->hint = config_dup_opt(fs, "hint");
	for (unsigned i = 0; i < naliases; i++) {
		const char *alias = cfg_getnstr(fs, "aliases", i);

		if (!config_key_ok(alias) || config_form_has_key(form, idx, alias) ||
		    str_ieq(alias, f->key) || strvec_contains_ci(&f->aliases, alias))
			config_problem(ld, config_line_of(ld, fs, "aliases"),
			               "alias \"%s\" of field \"%s\" is empty, has a ':' or is "
			               "already a key of form %s; choose another",
			               alias, f->key, form->name);
		else
			strvec_push(&f->aliases, alias);
	}
	if (from != NULL && nchoices > 0)
		config_problem(ld, config_line_of(ld, fs, "choices_from"),
		               "field \"%s\" has both choices and choices_from; keep one", f->key);
	if (from != NULL && strcmp(from, "competencies") != 0)
		config_problem(ld, config_line_of(ld, fs, "choices_from"),
		               "choices_from = \"%s\" is unknown; the only source is "
		               "\"competencies\"",
		               from);
	else if (from != NULL)
		config_competencies(config, &f->choices);
	for (unsigned i = 0; i < nchoices; i++)
		strvec_push(&f->choices, cfg_getnstr(fs, "choices", i));
	if (f->type == FIELD_CHOICE || f->type == FIELD_MULTICHOICE) {
		if (f->choices.n == 0)
			config_problem(ld, config_section_line(ld, fs),
			               "field \"%s\" of type %s has no choices; add choices = "
			               "{\"...\"} or choices_from = \"competencies\"",
			               f->key, type);
	} else if (f->choices.n > 0) {
		config_problem(ld,
		               config_line_of(ld, fs, nchoices > 0 ? "choices" : "choices_from"),
		               "field \"%s\" has choices but type %s; use type = choice or "
		               "multichoice",
		               f->key, type);
	}
	switch (f->type) {
	case FIELD_NUMBER:
		f->min = 0;
		f->max = 999999;
		break;
	case FIELD_SCALE:
		f->min = 1;
		f->max = 5;
		break;
	case FIELD_MULTICHOICE:
		f->min = f->required ? 1 : 0;
		f->max = (long)f->choices.n;
		break;
	default:
		break;
	}
	if (cfg_size(fs, "min") > 0)
		f->min = cfg_getint(fs, "min");
	if (cfg_size(fs, "max") > 0)
		f->max = cfg_getint(fs, "max");
	if ((cfg_size(fs, "min") > 0 || cfg_size(fs, "max") > 0) && f->type != FIELD_NUMBER &&
	    f->type != FIELD_SCALE && f->type != FIELD_MULTICHOICE)
		config_problem(ld, config_line_of(ld, fs, cfg_size(fs, "min") > 0 ? "min" : "max"),
		               "field \"%s\": min and max only apply to number, scale and "
		               "multichoice; remove them",
		               f->key);
	else if (f->min > f->max)
		config_problem(ld, config_line_of(ld, fs, "min"),
		               "field \"%s\" has min %ld above max %ld; swap them", f->key, f->min,
		               f->max);
	else if (f->type == FIELD_MULTICHOICE && (f->min < 0 || f->max > (long)f->choices.n))
		config_problem(ld, config_line_of(ld, fs, "max"),
		               "field \"%s\" allows %ld to %ld choices but has %zu; use max = %zu "
		               "or fewer",
		               f->key, f->min, f->max, f->choices.n, f->choices.n);
}

static void
config_convert_form(struct config_loader *ld, const struct config *config, cfg_t *fsec,
                    struct form_def *form)
{
	unsigned n = cfg_size(fsec, "field");

	form->title = config_dup_opt(fsec, "title");
	form->fields = xcalloc(n > 0 ? n : 1, sizeof(*form->fields));
	for (unsigned i = 0; i < n; i++) {
		config_convert_field(ld, config, cfg_getnsec(fsec, "field", i), form, i);
		form->nfields = i + 1;
	}
	if (n == 0)
		config_problem(ld, config_section_line(ld, fsec),
		               "form %s has no fields; add field \"Name\" { type = text }",
		               form->name);
}

static bool
config_program_name_ok(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (; *name != '\0'; name++) {
		if (!isalnum((unsigned char)*name) && *name != '-' && *name != '_')
			return false;
	}
	return true;
}

static void
config_get_date(struct config_loader *ld, cfg_t *ps, const char *key, char **date_r)
{
	const char *s = cfg_getstr(ps, key);
	int y, m, d;

	if (s == NULL)
		return;
	if (strlen(s) != 10 || clock_parse_date(s, &y, &m, &d) < 0) {
		config_problem(ld, config_line_of(ld, ps, key),
		               "%s = \"%s\" is not a date; write YYYY-MM-DD", key, s);
		return;
	}
	*date_r = xstrdup(s);
}

static void
config_convert_program(struct config_loader *ld, const struct config *config, cfg_t *ps,
                       struct config_program *prog)
{
	struct form_def *forms[] = {&prog->application_form, &prog->mentor_form,
	                            &prog->meeting_form, &prog->evaluation_form};
	const char *title = cfg_getstr(ps, "title");
	unsigned n;

	prog->name = xstrdup(cfg_title(ps));
	if (!config_program_name_ok(prog->name))
		config_problem(ld, config_section_line(ld, ps),
		               "program name \"%s\" must be letters, digits, - or _; e.g. "
		               "program cdss { }",
		               prog->name);
	prog->title = xstrdup(title != NULL ? title : prog->name);
	prog->kind = xstrdup(cfg_getstr(ps, "kind"));
	if (strcmp(prog->kind, "mentoring") != 0 && strcmp(prog->kind, "peer-coaching") != 0)
		config_problem(ld, config_line_of(ld, ps, "kind"),
		               "program %s has unknown kind \"%s\"; use mentoring or "
		               "peer-coaching",
		               prog->name, prog->kind);
	n = cfg_size(ps, "addresses");
	for (unsigned i = 0; i < n; i++) {
		char *addr = str_trim(xstrdup(cfg_getnstr(ps, "addresses", i)));

		if (!config_email_valid(addr)) {
			config_problem(ld, config_line_of(ld, ps, "addresses"),
			               "program %s address \"%s\" is not an email address; write "
			               "it like \"mentoring@example.org\"",
			               prog->name, addr);
			free(addr);
			continue;
		}
		str_lower(addr);
		strvec_push_owned(&prog->addresses, addr);
	}
	prog->meetings_per_month =
	    config_get_int(ld, ps, "meetings_per_month", 1, 31,
	                   "a partnership meets at least once a month; use 1 to 31 (CDSS: 2)");
	prog->reminder_day = config_get_int(ld, ps, "reminder_day", 1, 28,
	                                    "use a day that every month has, 1 to 28");
	prog->class_size =
	    config_get_int(ld, ps, "class_size", 0, 100000, "use 0 for no limit (CDSS: 30)");
	config_get_date(ld, ps, "start", &prog->start_date);
	config_get_date(ld, ps, "end", &prog->end_date);
	if (prog->start_date != NULL && prog->end_date != NULL &&
	    strcmp(prog->start_date, prog->end_date) > 0)
		config_problem(ld, config_line_of(ld, ps, "end"),
		               "program %s ends (%s) before it starts (%s); fix start or end",
		               prog->name, prog->end_date, prog->start_date);
	prog->notify_supervisor = cfg_getbool(ps, "notify_supervisor") == cfg_true;

	for (size_t i = 0; i < N_ELEMENTS(config_form_names); i++)
		forms[i]->name = xstrdup(config_form_names[i]);
	n = cfg_size(ps, "form");
	for (unsigned i = 0; i < n; i++) {
		cfg_t *fs = cfg_getnsec(ps, "form", i);
		struct form_def *target = NULL;

		for (size_t j = 0; j < N_ELEMENTS(config_form_names); j++) {
			if (strcmp(cfg_title(fs), config_form_names[j]) == 0)
				target = forms[j];
		}
		if (target == NULL) {
			config_problem(ld, config_section_line(ld, fs),
			               "program %s has unknown form \"%s\"; use form application, "
			               "form mentor, form meeting or form evaluation",
			               prog->name, cfg_title(fs));
			continue;
		}
		config_convert_form(ld, config, fs, target);
	}
	if (prog->application_form.nfields == 0 && cfg_gettsec(ps, "form", "application") == NULL)
		config_problem(ld, config_section_line(ld, ps),
		               "program %s has no application form; add form application { "
		               "field \"Name\" { type = text required = true } ... }",
		               prog->name);
}

static void
config_convert(struct config_loader *ld, cfg_t *cfg, struct config *config)
{
	const char *s;
	unsigned n;
	int a, b;

	config->database = config_resolve(ld, cfg_getstr(cfg, "database"));
	config->templates = config_resolve(ld, cfg_getstr(cfg, "templates"));
	s = cfg_getstr(cfg, "timezone");
	config->timezone = xstrdup(s);
	if (!config_timezone_known(s))
		config_problem(ld, config_line_of(ld, cfg, "timezone"),
		               "timezone \"%s\" is unknown; use a name from /usr/share/zoneinfo "
		               "such as \"America/Los_Angeles\" or \"UTC\"",
		               s);
	config_get_secret(ld, cfg, "hmac_secret", "hmac_secret_file", &config->hmac_secret);
	/* A short secret could be guessed from the tokens people see. */
	if (config->hmac_secret != NULL && strlen(config->hmac_secret) < 16)
		config_problem(ld,
		               config_line_of(ld, cfg,
		                              cfg_getstr(cfg, "hmac_secret") != NULL
		                                  ? "hmac_secret"
		                                  : "hmac_secret_file"),
		               "the reply-token secret is %zu characters; use at least 16 "
		               "random ones (e.g. head -c 32 /dev/urandom | base64)",
		               strlen(config->hmac_secret));
	config->max_auto_replies_per_day = config_get_int(ld, cfg, "max_auto_replies_per_day", 0,
	                                                  1000, "use 0 to 1000 (default 5)");
	s = cfg_getstr(cfg, "work_hours");
	if (sscanf(s, "%d-%d", &a, &b) != 2 || strspn(s, "0123456789-") != strlen(s) || a < 0 ||
	    b > 24 || a >= b) {
		config_problem(ld, config_line_of(ld, cfg, "work_hours"),
		               "work_hours = \"%s\" is not a range of hours; write \"08-18\"", s);
		a = 8;
		b = 18;
	}
	config->work_start_hour = a;
	config->work_end_hour = b;
	config->work_weekends = cfg_getbool(cfg, "work_weekends") == cfg_true;

	config_convert_imap(ld, cfg, &config->imap);
	config_convert_smtp(ld, cfg, &config->smtp);
	config_convert_oauth(ld, cfg, config);
	config_convert_coordinators(ld, cfg, &config->coordinators);
	config_convert_competencies(ld, cfg, config);

	n = cfg_size(cfg, "program");
	config->programs = xcalloc(n > 0 ? n : 1, sizeof(*config->programs));
	for (unsigned i = 0; i < n; i++) {
		config_convert_program(ld, config, cfg_getnsec(cfg, "program", i),
		                       &config->programs[i]);
		config->nprograms = i + 1;
	}
	if (n == 0)
		config_problem(ld, 0,
		               "no program is defined; add program cdss { ... } or "
		               "include(\"programs/cdss.conf\")");
}

/* Joins the problems so the result fits an errorf() string, saying how many
 * were left out when they do not. */
static const char *
config_problems_string(const struct strvec *problems)
{
	struct strbuf sb = {0};
	const char *ret;
	size_t i;

	for (i = 0; i < problems->n; i++) {
		size_t len = strlen(problems->v[i]);

		/* Room for a newline, the tail note and the terminating NUL. */
		if (sb.len + len + 1 + 48 >= ERROR_MAX) {
			if (i == 0)
				strbuf_add(&sb, problems->v[0], ERROR_MAX - 64);
			break;
		}
		if (i > 0)
			strbuf_addc(&sb, '\n');
		strbuf_adds(&sb, problems->v[i]);
	}
	if (i < problems->n)
		strbuf_addf(&sb, "%s(and %zu more problems)", sb.len > 0 ? "\n" : "",
		            problems->n - i);
	ret = errorf("%s", strbuf_str(&sb));
	strbuf_free(&sb);
	return ret;
}

static char *
config_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real == NULL)
		return dir;
	free(dir);
	/* Keep it in memory we allocated, so every free matches x*alloc. */
	dir = xstrdup(real);
	free(real);
	return dir;
}

int
config_load(const char *path, struct config **config_r, const char **error_r)
{
	cfg_opt_t field_opts[] = {
	    CFG_STR("type", "text", CFGF_NONE),
	    CFG_BOOL("required", cfg_false, CFGF_NONE),
	    CFG_BOOL("multiline", cfg_false, CFGF_NONE),
	    CFG_INT("min", 0, CFGF_NODEFAULT),
	    CFG_INT("max", 0, CFGF_NODEFAULT),
	    CFG_STR_LIST("aliases", NULL, CFGF_NONE),
	    CFG_STR_LIST("choices", NULL, CFGF_NONE),
	    CFG_STR("choices_from", NULL, CFGF_NONE),
	    CFG_STR("hint", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t form_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_SEC("field", field_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	cfg_opt_t program_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_STR("kind", "mentoring", CFGF_NONE),
	    CFG_STR_LIST("addresses", NULL, CFGF_NONE),
	    CFG_INT("meetings_per_month", 2, CFGF_NONE),
	    CFG_INT("reminder_day", 15, CFGF_NONE),
	    CFG_INT("class_size", 0, CFGF_NONE),
	    CFG_STR("start", NULL, CFGF_NONE),
	    CFG_STR("end", NULL, CFGF_NONE),
	    CFG_BOOL("notify_supervisor", cfg_false, CFGF_NONE),
	    CFG_SEC("form", form_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	cfg_opt_t imap_opts[] = {
	    CFG_STR("url", NULL, CFGF_NONE),
	    CFG_STR("user", NULL, CFGF_NONE),
	    CFG_STR("password", NULL, CFGF_NONE),
	    CFG_STR("password_file", NULL, CFGF_NONE),
	    CFG_STR("mailbox", "INBOX", CFGF_NONE),
	    CFG_STR("processed_mailbox", NULL, CFGF_NONE),
	    CFG_BOOL("idle", cfg_true, CFGF_NONE),
	    CFG_INT("poll_interval", 60, CFGF_NONE),
	    CFG_INT("timeout", 30, CFGF_NONE),
	    CFG_BOOL("tls", cfg_true, CFGF_NONE),
	    CFG_STR("ca_file", NULL, CFGF_NONE),
	    CFG_STR("auth", "password", CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t smtp_opts[] = {
	    CFG_STR("url", NULL, CFGF_NONE),
	    CFG_STR("user", NULL, CFGF_NONE),
	    CFG_STR("password", NULL, CFGF_NONE),
	    CFG_STR("password_file", NULL, CFGF_NONE),
	    CFG_STR("from", NULL, CFGF_NONE),
	    CFG_INT("rate_per_minute", 0, CFGF_NONE),
	    CFG_INT("timeout", 30, CFGF_NONE),
	    CFG_BOOL("tls", cfg_true, CFGF_NONE),
	    CFG_STR("ca_file", NULL, CFGF_NONE),
	    CFG_STR("auth", "password", CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t oauth_opts[] = {
	    CFG_STR("provider", NULL, CFGF_NONE),
	    CFG_STR("flow", NULL, CFGF_NONE),
	    CFG_STR("tenant", NULL, CFGF_NONE),
	    CFG_STR("client_id", NULL, CFGF_NONE),
	    CFG_STR("client_secret", NULL, CFGF_NONE),
	    CFG_STR("client_secret_file", NULL, CFGF_NONE),
	    CFG_STR("scope", NULL, CFGF_NONE),
	    CFG_STR("token_url", NULL, CFGF_NONE),
	    CFG_STR("device_url", NULL, CFGF_NONE),
	    CFG_STR("authorize_url", NULL, CFGF_NONE),
	    CFG_STR("token_file", NULL, CFGF_NONE),
	    CFG_STR("ca_file", NULL, CFGF_NONE),
	    CFG_INT("timeout", 30, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t coordinator_opts[] = {
	    CFG_STR_LIST("address", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t cluster_opts[] = {
	    CFG_STR_LIST("competencies", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t competencies_opts[] = {
	    CFG_SEC("cluster", cluster_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	cfg_opt_t opts[] = {
	    CFG_STR("database", CONFIG_DEFAULT_DATABASE, CFGF_NONE),
	    CFG_STR("templates", MENTORD_DATADIR "/templates", CFGF_NONE),
	    CFG_STR("timezone", "UTC", CFGF_NONE),
	    CFG_STR("hmac_secret", NULL, CFGF_NONE),
	    CFG_STR("hmac_secret_file", NULL, CFGF_NONE),
	    CFG_INT("max_auto_replies_per_day", 5, CFGF_NONE),
	    CFG_STR("work_hours", "08-18", CFGF_NONE),
	    CFG_BOOL("work_weekends", cfg_false, CFGF_NONE),
	    CFG_SEC("imap", imap_opts, CFGF_NONE),
	    CFG_SEC("smtp", smtp_opts, CFGF_NONE),
	    CFG_SEC("oauth", oauth_opts, CFGF_NONE),
	    CFG_SEC("coordinator", coordinator_opts, CFGF_NONE),
	    CFG_SEC("competencies", competencies_opts, CFGF_NONE),
	    CFG_SEC("program", program_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	struct config_loader ld = {0};
	struct config *config = NULL;
	struct config_origin first = {0, 1};
	cfg_t *cfg = NULL;
	int ret = -1;

	ld.path = path;
	ld.dir = config_dir_of(path);
	strvec_push(&ld.files, path);
	ld.origins = xgrow(ld.origins, &ld.origins_cap, 1, sizeof(*ld.origins));
	ld.origins[ld.norigins++] = first;
	if (config_pp_file(&ld, 0, 0, first) < 0)
		goto out;

	config_set_validate_all(opts);
	cfg = cfg_init(opts, CFGF_NONE);
	if (cfg == NULL) {
		strvec_push_owned(&ld.problems, xasprintf("%s: libconfuse could not start", path));
		goto out;
	}
	cfg_set_error_function(cfg, config_on_cfg_error);
	config_current = &ld;
	if (cfg_parse_buf(cfg, strbuf_str(&ld.text)) != CFG_SUCCESS) {
		config_current = NULL;
		if (ld.problems.n == 0)
			strvec_push_owned(
			    &ld.problems,
			    xasprintf("%s: cannot be parsed; check its syntax", path));
		goto out;
	}
	config_current = NULL;

	config = xcalloc(1, sizeof(*config));
	config->path = xstrdup(path);
	config_convert(&ld, cfg, config);
	if (ld.problems.n > 0)
		goto out;
	*config_r = config;
	config = NULL;
	ret = 0;
out:
	config_current = NULL;
	if (ret < 0)
		*error_r = config_problems_string(&ld.problems);
	if (cfg != NULL)
		cfg_free(cfg);
	config_free(&config);
	free(ld.dir);
	strvec_free(&ld.files);
	strbuf_free(&ld.text);
	free(ld.origins);
	free(ld.keys);
	strvec_free(&ld.problems);
	return ret;
}

/* ---- lookups ---- */

/* True when addr is want, or want with a +detail in its local part
 * ("mentoring+tok@x" reaches "mentoring@x"). */
static bool
config_address_matches(const char *want, const char *addr)
{
	const char *plus = strchr(addr, '+'), *at = strrchr(addr, '@');
	size_t local;

	if (str_ieq(want, addr))
		return true;
	if (plus == NULL || at == NULL || plus > at)
		return false;
	local = (size_t)(plus - addr);
	return strncasecmp(want, addr, local) == 0 && want[local] == '@' &&
	       str_ieq(want + local, at);
}

const struct config_program *
config_program_for(const struct config *config, const struct strvec *addrs)
{
	if (config->nprograms == 0)
		return NULL;
	for (size_t p = 0; addrs != NULL && p < config->nprograms; p++) {
		const struct config_program *prog = &config->programs[p];

		for (size_t i = 0; i < prog->addresses.n; i++) {
			for (size_t j = 0; j < addrs->n; j++) {
				if (config_address_matches(prog->addresses.v[i], addrs->v[j]))
					return prog;
			}
		}
	}
	return &config->programs[0];
}

const struct config_program *
config_program_by_name(const struct config *config, const char *name)
{
	for (size_t i = 0; i < config->nprograms; i++) {
		if (strcmp(config->programs[i].name, name) == 0)
			return &config->programs[i];
	}
	return NULL;
}

bool
config_is_coordinator(const struct config *config, const char *addr)
{
	return addr != NULL && strvec_contains_ci(&config->coordinators, addr);
}

void
config_competencies(const struct config *config, struct strvec *out)
{
	for (size_t i = 0; i < config->nclusters; i++) {
		for (size_t j = 0; j < config->clusters[i].competencies.n; j++)
			strvec_push(out, config->clusters[i].competencies.v[j]);
	}
}

void
config_free(struct config **configp)
{
	struct config *config = *configp;

	if (config == NULL)
		return;
	free(config->path);
	free(config->database);
	free(config->templates);
	free(config->timezone);
	free(config->hmac_secret);
	free(config->imap.url);
	free(config->imap.host);
	free(config->imap.ca_file);
	free(config->imap.user);
	free(config->imap.password);
	free(config->imap.mailbox);
	free(config->imap.processed_mailbox);
	free(config->smtp.url);
	free(config->smtp.ca_file);
	free(config->smtp.user);
	free(config->smtp.password);
	free(config->smtp.from);
	free(config->smtp.from_addr);
	free(config->smtp.from_name);
	free(config->oauth.tenant);
	free(config->oauth.client_id);
	if (config->oauth.client_secret != NULL) {
		explicit_bzero(config->oauth.client_secret, strlen(config->oauth.client_secret));
		free(config->oauth.client_secret);
	}
	free(config->oauth.scope);
	free(config->oauth.token_url);
	free(config->oauth.device_url);
	free(config->oauth.authorize_url);
	free(config->oauth.token_file);
	free(config->oauth.ca_file);
	strvec_free(&config->coordinators);
	for (size_t i = 0; i < config->nclusters; i++) {
		free(config->clusters[i].name);
		strvec_free(&config->clusters[i].competencies);
	}
	free(config->clusters);
	for (size_t i = 0; i < config->nprograms; i++) {
		struct config_program *p = &config->programs[i];

		free(p->name);
		free(p->title);
		free(p->kind);
		strvec_free(&p->addresses);
		free(p->start_date);
		free(p->end_date);
		form_def_free(&p->application_form);
		form_def_free(&p->mentor_form);
		form_def_free(&p->meeting_form);
		form_def_free(&p->evaluation_form);
	}
	free(config->programs);
	free(config);
	*configp = NULL;
}
