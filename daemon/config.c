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
#include <fcntl.h>
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
	const char *path;    /* borrowed: the main file as given */
	char *dir;           /* owned: absolute directory of the main file */
	struct strvec files; /* file names for messages; [0] is path */
	bool *quiet;         /* owned, per file: never quote its text (a secret) */
	size_t quiet_cap;
	int main_lines;                /* lines in the main file */
	struct strbuf text;            /* the preprocessed buffer */
	struct config_origin *origins; /* owned; origins[i] is buffer line i + 1 */
	size_t norigins, origins_cap;
	struct config_key_line *keys; /* owned */
	size_t nkeys, keys_cap;
	struct strvec problems; /* "FILE:LINE: ..." */
	cfg_opt_t *schema;      /* borrowed: the root option table, for explanations */
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
	if (o.line > 0 && o.file < ld->quiet_cap && ld->quiet[o.file]) {
		/* What libconfuse quotes from a file that looks like a secret
		 * (someone wrote include("hmac.secret")) must not reach a log. */
		free(msg);
		msg = xstrdup("this is not configuration (its text is not repeated here: the file "
		              "looks like a secret); name a secret with hmac_secret_file or "
		              "password_file instead of including it");
	}
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

/* ---- explaining parse errors ---- */

/* A { of the preprocessed buffer, open where a scan stopped. */
struct config_open {
	int line;        /* buffer line of the { */
	int indent;      /* columns before the first word of that line */
	bool list;       /* `key = { ... }` rather than a section */
	char name[96];   /* the section's name ("field"), or the list's key */
	char title[96];  /* the section's title ("Years as manager"), or "" */
	cfg_opt_t *opts; /* borrowed: the section's options; NULL unknown */
	/* A section or list inside this one that a } indented like this
	 * section's own line closed: the one that probably lacks its }. */
	bool has_suspect;
	int suspect_close; /* buffer line of that } */
	struct {
		int line;
		bool list;
		char name[96], title[96];
	} suspect;
};

struct config_scan {
	struct config_open *open; /* owned: outermost first */
	size_t n, cap;
};

enum config_tok {
	CONFIG_TOK_NONE,
	CONFIG_TOK_WORD,
	CONFIG_TOK_STRING,
	CONFIG_TOK_EQ,
	CONFIG_TOK_OTHER
};

struct config_token {
	enum config_tok type;
	char text[96]; /* truncated */
};

static bool
config_word_char(char c)
{
	return (unsigned char)c > ' ' && strchr("{}=,\"'()+", c) == NULL;
}

static void
config_scan_push_token(struct config_token tok[2], enum config_tok type, const char *text,
                       size_t len)
{
	tok[0] = tok[1];
	tok[1].type = type;
	if (len >= sizeof(tok[1].text))
		len = sizeof(tok[1].text) - 1;
	memcpy(tok[1].text, text, len);
	tok[1].text[len] = '\0';
}

static cfg_opt_t *
config_schema_find(cfg_opt_t *opts, const char *name)
{
	for (; opts != NULL && opts->name != NULL; opts++) {
		if (strcmp(opts->name, name) == 0)
			return opts;
	}
	return NULL;
}

/* Columns of white space at the start of the line that starts at p (tabs
 * to the next multiple of 8). */
static int
config_indent_of(const char *p)
{
	int col = 0;

	for (; *p == ' ' || *p == '\t'; p++)
		col = *p == '\t' ? (col / 8 + 1) * 8 : col + 1;
	return col;
}

/* Opens a brace at p: a list after `=`, a section `name "title"` when the
 * enclosing section has a titled section `name`, else a section `name`. */
static void
config_scan_open(const struct config_loader *ld, struct config_scan *scan,
                 const struct config_token tok[2], int line, const char *line_start)
{
	cfg_opt_t *parent = scan->n > 0 ? scan->open[scan->n - 1].opts : ld->schema;
	cfg_opt_t *titled =
	    tok[0].type == CONFIG_TOK_WORD ? config_schema_find(parent, tok[0].text) : NULL;
	cfg_opt_t *sec;
	struct config_open *o;

	scan->open = xgrow(scan->open, &scan->cap, scan->n + 1, sizeof(*scan->open));
	o = &scan->open[scan->n++];
	memset(o, 0, sizeof(*o));
	o->line = line;
	o->indent = config_indent_of(line_start);
	if (tok[1].type == CONFIG_TOK_EQ) {
		o->list = true;
		snprintf(o->name, sizeof(o->name), "%s", tok[0].text);
		return;
	}
	if (titled != NULL && titled->type == CFGT_SEC && (titled->flags & CFGF_TITLE) != 0 &&
	    (tok[1].type == CONFIG_TOK_WORD || tok[1].type == CONFIG_TOK_STRING)) {
		snprintf(o->name, sizeof(o->name), "%s", tok[0].text);
		snprintf(o->title, sizeof(o->title), "%s", tok[1].text);
		o->opts = titled->subopts;
		return;
	}
	snprintf(o->name, sizeof(o->name), "%s", tok[1].text);
	sec = config_schema_find(parent, tok[1].text);
	o->opts = sec != NULL && sec->type == CFGT_SEC ? sec->subopts : NULL;
}

/* Closes the innermost brace with the } at buffer line `line`, the first
 * thing on a line indented `indent` when first_on_line.  A } indented like
 * the enclosing section's line (and not like the closed one's) was meant
 * for that section: the closed one is remembered as the suspect. */
static void
config_scan_close(struct config_scan *scan, int line, bool first_on_line, int indent)
{
	struct config_open *closed, *parent;

	if (scan->n == 0)
		return;
	closed = &scan->open[--scan->n];
	if (scan->n == 0 || !first_on_line)
		return;
	parent = &scan->open[scan->n - 1];
	if (indent == parent->indent && indent != closed->indent && !parent->has_suspect) {
		parent->has_suspect = true;
		parent->suspect_close = line;
		parent->suspect.line = closed->line;
		parent->suspect.list = closed->list;
		memcpy(parent->suspect.name, closed->name, sizeof(parent->suspect.name));
		memcpy(parent->suspect.title, closed->title, sizeof(parent->suspect.title));
	}
}

/*
 * Scans the preprocessed buffer (comments are gone) for braces, up to buffer
 * line upto_line and, on that line, up to the word upto_word when given;
 * leaves in scan the braces still open there.  Cases:
 *   - "..." and '...' strings are skipped: a brace in a string is text;
 *   - `{` after `=` (or `+=`) opens a list, after `name` or `name "title"`
 *     a section (config_scan_open);
 *   - `}` closes the innermost (config_scan_close); a stray one is
 *     libconfuse's to report.
 */
static void
config_scan_braces(const struct config_loader *ld, int upto_line, const char *upto_word,
                   struct config_scan *scan)
{
	const char *p = strbuf_str(&ld->text), *line_start = p;
	struct config_token tok[2];
	bool first_on_line = true;
	int line = 1;

	memset(tok, 0, sizeof(tok));
	scan->n = 0;
	while (*p != '\0' && line <= upto_line) {
		if (*p == '\n') {
			line++;
			line_start = ++p;
			first_on_line = true;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			char quote = *p++;
			const char *start = p;

			while (*p != '\0' && *p != quote) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\n') {
					line++;
					line_start = p + 1;
				}
				p++;
			}
			config_scan_push_token(tok, CONFIG_TOK_STRING, start, (size_t)(p - start));
			if (*p != '\0')
				p++;
		} else if (*p == '{') {
			config_scan_open(ld, scan, tok, line, line_start);
			config_scan_push_token(tok, CONFIG_TOK_OTHER, p++, 1);
		} else if (*p == '}') {
			config_scan_close(scan, line, first_on_line, config_indent_of(line_start));
			config_scan_push_token(tok, CONFIG_TOK_OTHER, p++, 1);
		} else if (*p == '=' || (*p == '+' && p[1] == '=')) {
			p += *p == '+' ? 2 : 1;
			config_scan_push_token(tok, CONFIG_TOK_EQ, "=", 1);
		} else if (config_word_char(*p)) {
			const char *start = p;

			while (config_word_char(*p))
				p++;
			if (line == upto_line && upto_word != NULL &&
			    strlen(upto_word) == (size_t)(p - start) &&
			    strncmp(start, upto_word, (size_t)(p - start)) == 0)
				break;
			config_scan_push_token(tok, CONFIG_TOK_WORD, start, (size_t)(p - start));
		} else {
			config_scan_push_token(tok, CONFIG_TOK_OTHER, p++, 1);
		}
		first_on_line = false;
	}
}

/* The options of the section that open[0..depth) lead to, or NULL. */
static cfg_opt_t *
config_schema_at(cfg_opt_t *root, const struct config_scan *scan, size_t depth)
{
	return depth == 0 ? root : scan->open[depth - 1].opts;
}

/* Appends to path the sections (e.g. "program { form { field") under which
 * name is a key, searching opts depth first; false when it is nowhere. */
static bool
config_schema_path(cfg_opt_t *opts, const char *name, struct strbuf *path)
{
	size_t mark = path->len;

	if (config_schema_find(opts, name) != NULL)
		return true;
	for (; opts->name != NULL; opts++) {
		if (opts->type != CFGT_SEC)
			continue;
		strbuf_addf(path, "%s%s {", path->len > 0 ? " " : "", opts->name);
		if (config_schema_path(opts->subopts, name, path))
			return true;
		strbuf_truncate(path, mark);
	}
	return false;
}

static char *
config_describe(bool list, const char *name, const char *title)
{
	if (list)
		return xasprintf("the list %s = { ... }", name);
	if (title[0] != '\0')
		return xasprintf("section %s \"%s\" { ... }", name, title);
	return xasprintf("section %s { ... }", name);
}

/* "FILE:LINE" of a buffer line; the caller owns it. */
static char *
config_where(const struct config_loader *ld, int line)
{
	struct config_origin o = config_origin_of(ld, line);

	return xasprintf("%s:%d", ld->files.v[o.file], o.line);
}

/* Keys whose values must never be shown: passwords and secrets, but not
 * the files or URLs that name where they are. */
static bool
config_key_is_secret(const char *name)
{
	size_t len = strlen(name);

	if ((len > 5 && strcmp(name + len - 5, "_file") == 0) ||
	    (len > 4 && strcmp(name + len - 4, "_url") == 0))
		return false;
	return strcmp(name, "password") == 0 || strstr(name, "secret") != NULL ||
	       strcmp(name, "token") == 0 || (len > 6 && strcmp(name + len - 6, "_token") == 0);
}

/* Buffer line `line` as a string; the caller owns it. */
static char *
config_buffer_line(const struct config_loader *ld, int line)
{
	const char *p = strbuf_str(&ld->text);

	for (int i = 1; i < line && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return xstrdup("");
	return xstrndup(p, strcspn(p, "\n"));
}

/* Finds word as a whole word in text; NULL when it is not there. */
static char *
config_find_word(char *text, const char *word)
{
	size_t len = strlen(word);

	for (char *w = strstr(text, word); w != NULL; w = strstr(w + 1, word)) {
		if ((w == text || !config_word_char(w[-1])) && !config_word_char(w[len]))
			return w;
	}
	return NULL;
}

/* Where an unquoted value that runs on over several words ends: before a
 * word that starts the next statement (followed by =, by {, or by a title
 * and {), or at a brace. */
static size_t
config_value_end(const char *value)
{
	const char *p = value;
	bool first = true;

	while (*p != '\0' && *p != '{' && *p != '}') {
		const char *word = p, *q;

		while (config_word_char(*p))
			p++;
		if (p == word) {
			p++;
			continue;
		}
		q = p;
		while (isspace((unsigned char)*q))
			q++;
		if (!first && (*q == '=' || *q == '{' || *q == '"'))
			return (size_t)(word - value);
		if (!first && config_word_char(*q)) {
			const char *r = q;

			while (config_word_char(*r))
				r++;
			while (isspace((unsigned char)*r))
				r++;
			if (*r == '{')
				return (size_t)(word - value);
		}
		first = false;
		while (isspace((unsigned char)*p))
			p++;
	}
	return (size_t)(p - value);
}

/* `key = two words` on buffer line `line`, where word (what libconfuse took
 * for the next key) is part of the unquoted value: says to quote it.  False
 * when the line is not like that. */
static bool
config_explain_unquoted(struct config_loader *ld, int line, const char *word)
{
	char *text = config_buffer_line(ld, line), *w = config_find_word(text, word);
	char *eq, *key, *key_end, *value;
	bool found = false;

	if (w == NULL)
		goto out;
	*w = '\0'; /* only what precedes the word, for now */
	eq = strrchr(text, '=');
	if (eq == NULL)
		goto out;
	key_end = eq > text && eq[-1] == '+' ? eq - 1 : eq;
	while (key_end > text && isspace((unsigned char)key_end[-1]))
		key_end--;
	key = key_end;
	while (key > text && (isalnum((unsigned char)key[-1]) || key[-1] == '_'))
		key--;
	value = eq + 1;
	while (isspace((unsigned char)*value))
		value++;
	if (key == key_end || value == w || *value == '"' || *value == '\'' || *value == '{')
		goto out;
	*w = word[0];
	*key_end = '\0';
	value[config_value_end(value)] = '\0';
	str_trim(value);
	if (config_key_is_secret(key))
		config_problem(
		    ld, line, "the value of %s has spaces; put it in double quotes (\"...\")", key);
	else if (strchr(value, '"') == NULL && strchr(value, '\\') == NULL)
		config_problem(ld, line,
		               "%s = %s: a value with spaces must be in double quotes; write "
		               "%s = \"%s\"",
		               key, value, key, value);
	else
		config_problem(ld, line,
		               "%s = %s: a value with spaces must be in double quotes, with \\\" "
		               "for a quote inside",
		               key, value);
	found = true;
out:
	free(text);
	return found;
}

/* Reports the open brace o as not closed, with `context` (", so ... was
 * read inside it", or "" at the end of the file).  When a } meant for o
 * closed a section or list inside it instead, that one is what lacks its
 * }, and it is reported instead. */
static void
config_report_unclosed(struct config_loader *ld, const struct config_open *o, const char *context)
{
	char *what = config_describe(o->list, o->name, o->title);

	if (o->has_suspect) {
		char *inner = config_describe(o->suspect.list, o->suspect.name, o->suspect.title);
		char *close = config_where(ld, o->suspect_close);

		config_problem(ld, o->suspect.line,
		               "%s starting here has no closing }: the } at %s, indented like %s, "
		               "closed it instead%s; add the missing }",
		               inner, close, what, context);
		free(inner);
		free(close);
	} else {
		config_problem(ld, o->line,
		               "%s starting here is not closed%s; add the } that ends it", what,
		               context);
	}
	free(what);
}

/*
 * libconfuse said "no such option 'word'" at buffer line `line`.  Cases:
 *   1. the word is the second word of an unquoted value (title = CDSS
 *      Mentoring): say to quote it;
 *   2. a list is still open (address = {"a@x" without its }): say so;
 *   3. the word is a key of a section that encloses the open one (form
 *      inside field "Years"): a section has no }, say which and where it
 *      began (config_report_unclosed);
 *   4. the word is a key of another section (mailbox at the top): say which;
 *   5. otherwise: false, and the caller reports libconfuse's message.
 */
static bool
config_explain_unknown(struct config_loader *ld, int line, const char *word)
{
	struct config_scan scan = {0};
	struct strbuf path = {0};
	bool done = true;
	char *where = NULL, *context = NULL;

	if (config_explain_unquoted(ld, line, word))
		return true;
	config_scan_braces(ld, line, word, &scan);
	where = config_where(ld, line);
	if (scan.n > 0 && scan.open[scan.n - 1].list) {
		context = xasprintf(" before '%s' at %s", word, where);
		config_report_unclosed(ld, &scan.open[scan.n - 1], context);
		goto out;
	}
	for (size_t depth = scan.n; depth-- > 0;) {
		cfg_opt_t *opts = config_schema_at(ld->schema, &scan, depth);

		if (opts != NULL && config_schema_find(opts, word) != NULL) {
			const struct config_open *inner = &scan.open[scan.n - 1];
			char *text = config_buffer_line(ld, line);
			bool deeper = config_indent_of(text) > inner->indent;

			free(text);
			if (deeper && !inner->has_suspect) {
				/* Indented as part of the open section: a key
				 * written in the wrong section, not a missing }. */
				char *what =
				    config_describe(inner->list, inner->name, inner->title);

				config_problem(ld, line,
				               "'%s' is not a key of %s; it belongs to %s: move it "
				               "there",
				               word, what,
				               depth == 0 ? "the top level"
				                          : scan.open[depth - 1].name);
				free(what);
				goto out;
			}
			context = xasprintf(
			    ", so '%s' at %s, a key of %s, was read inside it", word, where,
			    depth == 0 ? "the top level" : scan.open[depth - 1].name);
			config_report_unclosed(ld, &scan.open[depth], context);
			goto out;
		}
	}
	if (config_schema_path(ld->schema, word, &path) && path.len > 0) {
		config_problem(ld, line, "'%s' is not a key here; it belongs inside %s ... }", word,
		               strbuf_str(&path));
		goto out;
	}
	done = false;
out:
	free(scan.open);
	free(where);
	free(context);
	strbuf_free(&path);
	return done;
}

/* libconfuse met the unexpected token `word` at buffer line `line`: when a
 * list is open there (its } forgotten, the next key read as a value), says
 * so. */
static bool
config_explain_open_list(struct config_loader *ld, int line, const char *word)
{
	struct config_scan scan = {0};
	bool done = false;

	config_scan_braces(ld, line, word, &scan);
	if (scan.n > 0 && scan.open[scan.n - 1].list) {
		char *where = config_where(ld, line);
		char *context = xasprintf(" before '%s' at %s", word, where);

		config_report_unclosed(ld, &scan.open[scan.n - 1], context);
		free(context);
		free(where);
		done = true;
	}
	free(scan.open);
	return done;
}

/* After a successful parse: every { must have its }.  libconfuse 3.3
 * accepts a file that ends inside a section. */
static void
config_check_closed(struct config_loader *ld)
{
	struct config_scan scan = {0};

	config_scan_braces(ld, INT_MAX, NULL, &scan);
	for (size_t i = scan.n; i-- > 0;)
		config_report_unclosed(ld, &scan.open[i], " at the end of the file");
	free(scan.open);
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
	if (strncmp(msg, "unexpected token '", 18) == 0 && strchr(msg + 18, '\'') != NULL) {
		char *word = xstrndup(msg + 18, strcspn(msg + 18, "'"));
		bool explained = config_explain_open_list(ld, cfg != NULL ? cfg->line : 0, word);

		free(word);
		if (explained) {
			free(msg);
			return;
		}
	}
	if (strncmp(msg, "no such option '", 16) == 0 && strchr(msg + 16, '\'') != NULL) {
		char *word = xstrndup(msg + 16, strcspn(msg + 16, "'"));
		bool explained = config_explain_unknown(ld, cfg != NULL ? cfg->line : 0, word);

		free(word);
		if (explained) {
			free(msg);
			return;
		}
	}
	if (strstr(msg, "no such option") != NULL)
		hint = "; check the spelling against the documented conf/mentord.conf";
	else if (strstr(msg, "boolean") != NULL)
		hint = "; write true or false";
	else if (strstr(msg, "integer") != NULL)
		hint = "; write a whole number";
	else if (strstr(msg, "unexpected closing brace") != NULL)
		hint = "; a } closes nothing here: remove it, or add the { it should close";
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

/* An included file whose text must never be quoted in an error: one only
 * its owner may read (as secret files are, mode 600), or one with neither a
 * section nor a quoted string in it, which no configuration file is and a
 * secret on one line is. */
static bool
config_pp_looks_secret(const char *path, const char *data, size_t len)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) == 0)
		return true;
	return memchr(data, '{', len) == NULL && memchr(data, '"', len) == NULL;
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
	if (fi > 0 && config_pp_looks_secret(ld->files.v[fi], data, len)) {
		ld->quiet = xgrow(ld->quiet, &ld->quiet_cap, fi + 1, sizeof(*ld->quiet));
		ld->quiet[fi] = true;
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

/* A path option resolved from the configuration's directory, or NULL when
 * it is not set.  The caller owns it. */
static char *
config_resolve_opt(const struct config_loader *ld, cfg_t *sec, const char *key)
{
	const char *s = cfg_getstr(sec, key);

	return s != NULL ? config_resolve(ld, s) : NULL;
}

/* "a@x, b@x" in one string: the list it should have been, as `"a@x",
 * "b@x"`, or NULL when s is not several addresses.  The caller owns it. */
static char *
config_address_list_hint(const char *s)
{
	struct strbuf sb = {0};
	const char *p = s;
	int n = 0;

	if (strpbrk(s, ",; \t") == NULL || strchr(s, '@') == strrchr(s, '@'))
		return NULL;
	while (*p != '\0') {
		size_t len;

		p += strspn(p, ",; \t");
		len = strcspn(p, ",; \t");
		if (len == 0)
			break;
		strbuf_addf(&sb, "%s\"%.*s\"", n++ > 0 ? ", " : "", (int)len, p);
		p += len;
	}
	return strbuf_detach(&sb);
}

/* A problem with one address of an address list `key` in section `what`:
 * several addresses written as one string, or not an address. */
static void
config_address_problem(struct config_loader *ld, cfg_t *sec, const char *key, const char *what,
                       const char *addr, const char *example)
{
	char *list = config_address_list_hint(addr);

	if (list != NULL)
		config_problem(ld, config_line_of(ld, sec, key),
		               "%s \"%s\" is several addresses in one string; write a list with "
		               "each address quoted: %s = {%s}",
		               what, addr, key, list);
	else
		config_problem(ld, config_line_of(ld, sec, key),
		               "%s \"%s\" is not an email address; write it like \"%s\"", what,
		               addr, example);
	free(list);
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

/* This machine, by name or address: localhost, 127.0.0.0/8, ::1. */
static bool
config_host_is_loopback(const char *host)
{
	unsigned a, b, c, d;
	char tail;

	if (str_ieq(host, "localhost") || str_ieq(host, "localhost.") || strcmp(host, "::1") == 0)
		return true;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
	       c < 256 && d < 256;
}

/* Checks url and tls together: tls = off is only for plain URLs on
 * loopback, and only when written out; with a plain URL STARTTLS is
 * otherwise required. */
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
	if (!*tls_r && !config_host_is_loopback(host))
		config_problem(ld, config_line_of(ld, sec, "tls"),
		               "%s tls = off would send the password and every message in clear to "
		               "%s, which is not this machine; remove tls = off (STARTTLS is then "
		               "required) or use %s:// (tls = off is only for a test server on "
		               "127.0.0.1 or ::1)",
		               section, host, tls_scheme);
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
	imap->max_message_size =
	    (size_t)config_get_int(ld, sec, "max_message_size", 1, 25,
	                           "give the largest message to read, in MiB, from 1 to 25") *
	    1024 * 1024;
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
			config_address_problem(ld, sec, "address", "coordinator address", addr,
			                       "coordinator@example.org");
			free(addr);
			continue;
		}
		str_lower(addr);
		strvec_push_owned(out, addr);
	}
	if (n == 0)
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

/* One of words (NULL-terminated) for key, as its index; a problem naming
 * them when it is none (then 0). */
static int
config_get_word(struct config_loader *ld, cfg_t *sec, const char *key, const char *what,
                const char *const *words)
{
	const char *s = cfg_getstr(sec, key);
	struct strbuf list = {0};

	if (s == NULL)
		return 0;
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	for (int i = 0; words[i] != NULL; i++)
		strbuf_addf(&list, "%s%s", i == 0 ? "" : (words[i + 1] == NULL ? " or " : ", "),
		            words[i]);
	config_problem(ld, config_line_of(ld, sec, key), "%s %s = \"%s\" is unknown; use %s", what,
	               key, s, strbuf_str(&list));
	strbuf_free(&list);
	return 0;
}

/* "3-5" or "4": *lo_r and *hi_r. */
static bool
config_parse_range(const char *s, int *lo_r, int *hi_r)
{
	int a, b, n = 0;

	if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 && (size_t)n == strlen(s) && a >= 1 && a <= b) {
		*lo_r = a;
		*hi_r = b;
		return true;
	}
	if (sscanf(s, "%d%n", &a, &n) == 1 && (size_t)n == strlen(s) && a >= 1) {
		*lo_r = *hi_r = a;
		return true;
	}
	return false;
}

static bool
config_name_ok(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (; *name != '\0'; name++) {
		if (!isalnum((unsigned char)*name) && *name != '-' && *name != '_')
			return false;
	}
	return true;
}

/* Keys of the first release's program section, and where they went. */
static const struct {
	const char *key, *fix;
} config_moved_keys[] = {
    {"kind", "remove it; how people are grouped is unit = \"pair\" or \"team\" with a group "
             "section"},
    {"meetings_per_month", "it belongs to the group: group pair { meetings_per_month = 2 }"},
    {"reminder_day", "it belongs to the group: group pair { reminder_day = 15 }"},
    {"class_size", "it belongs to the role: role mentee { limit = 30 }"},
    {"notify_supervisor", "it belongs to the role: role mentee { notify_supervisor = true }"},
};

static void
config_convert_field_meta(struct config_loader *ld, cfg_t *fs, struct form_field_def *f,
                          enum program_form_use use)
{
	const char *binds = cfg_getstr(fs, "binds");
	unsigned n = cfg_size(fs, "visible_to");

	if (binds != NULL) {
		int b = form_bind_parse(binds);

		if (b <= 0)
			config_problem(
			    ld, config_line_of(ld, fs, "binds"),
			    "field \"%s\" binds = \"%s\" is unknown; use name, email, "
			    "supervisor, director, level, division, topics, availability, "
			    "capacity, date, minutes, topic, facilitator, notes or attended",
			    f->key, binds);
		else
			f->bind = (enum form_bind)b;
	}
	f->visible_to = use == FORM_USE_JOIN ? FORM_VISIBLE_COORDINATOR : 0;
	if (n > 0)
		f->visible_to = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *who = cfg_getnstr(fs, "visible_to", i);

		if (strcmp(who, "coordinator") == 0)
			f->visible_to |= FORM_VISIBLE_COORDINATOR;
		else if (strcmp(who, "group") == 0 || strcmp(who, "partner") == 0)
			f->visible_to |= FORM_VISIBLE_GROUP;
		else if (strcmp(who, "supervisor") == 0)
			f->visible_to |= FORM_VISIBLE_SUPERVISOR;
		else if (strcmp(who, "participants") == 0)
			f->visible_to |= FORM_VISIBLE_PARTICIPANTS;
		else if (strcmp(who, "nobody") != 0)
			config_problem(
			    ld, config_line_of(ld, fs, "visible_to"),
			    "field \"%s\" visible_to \"%s\" is unknown; use coordinator, "
			    "group, supervisor, participants or nobody",
			    f->key, who);
	}
}

static void
config_convert_roles(struct config_loader *ld, cfg_t *ps, struct config_program *prog)
{
	static const char *const decisions[] = {"coordinator", "auto", NULL};
	struct program *m = &prog->model;
	unsigned n = cfg_size(ps, "role");

	m->roles = xcalloc(n + 1, sizeof(*m->roles));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *rs = cfg_getnsec(ps, "role", i);
		struct program_role *r = &m->roles[m->nroles++];
		const char *s;

		r->name = xstrdup(cfg_title(rs));
		if (!config_name_ok(r->name))
			config_problem(ld, config_section_line(ld, rs),
			               "role name \"%s\" must be letters, digits, - or _", r->name);
		s = cfg_getstr(rs, "title");
		r->title = xstrdup(s != NULL ? s : r->name);
		r->form = config_dup_opt(rs, "form");
		r->decided_by =
		    (enum program_decision)config_get_word(ld, rs, "decided_by", "role", decisions);
		r->limit = config_get_int(ld, rs, "limit", 0, 1000000, "use 0 for no limit");
		r->approval_days =
		    config_get_int(ld, rs, "approval_days", 1, 90, "use 1 to 90 days");
		r->notify_supervisor = cfg_getbool(rs, "notify_supervisor") == cfg_true;
		r->graduates_to = config_dup_opt(rs, "graduates_to");
		r->capacity = config_get_int(ld, rs, "capacity", 0, 100, "use 0 to 100");
		for (unsigned j = 0; j < cfg_size(rs, "approvals"); j++) {
			const char *a = cfg_getnstr(rs, "approvals", j);

			if (strcmp(a, "supervisor") != 0 && strcmp(a, "director") != 0)
				config_problem(
				    ld, config_line_of(ld, rs, "approvals"),
				    "role %s: approvals \"%s\" is unknown; use \"supervisor\" "
				    "and/or \"director\" (what the join form binds)",
				    r->name, a);
			else
				strvec_push(&r->approvals, a);
		}
	}
}

static void
config_convert_groups(struct config_loader *ld, cfg_t *ps, struct config_program *prog)
{
	static const char *const modes[] = {"off", "prefer", "require", NULL};
	struct program *m = &prog->model;
	unsigned n = cfg_size(ps, "group");

	m->groups = xcalloc(n + 1, sizeof(*m->groups));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *gs = cfg_getnsec(ps, "group", i);
		struct program_group *g = &m->groups[m->ngroups++];
		unsigned nm = cfg_size(gs, "members");
		const char *size = cfg_getstr(gs, "size"), *pref = cfg_getstr(gs, "preferred");
		int lo, hi;

		g->name = xstrdup(cfg_title(gs));
		for (unsigned j = 0; j < nm; j++) {
			const char *role = cfg_getnstr(gs, "members", j);

			if (program_role(m, role) == NULL)
				config_problem(
				    ld, config_line_of(ld, gs, "members"),
				    "group %s: member role \"%s\" is not a role of program "
				    "%s; add role %s { } or fix the name",
				    g->name, role, prog->name, role);
			strvec_push(&g->roles, role);
		}
		g->pair = nm == 2;
		if (nm < 1 || nm > 2)
			config_problem(
			    ld, config_line_of(ld, gs, "members"),
			    "group %s has %u member roles; a pair has two (members = "
			    "{\"mentee\", \"mentor\"}), a team one (members = {\"member\"})",
			    g->name, nm);
		g->size_min = g->size_max = 2;
		if (!g->pair) {
			if (size == NULL || !config_parse_range(size, &lo, &hi))
				config_problem(ld, config_line_of(ld, gs, "size"),
				               "team %s needs its size, e.g. size = \"3-5\"",
				               g->name);
			else {
				g->size_min = lo;
				g->size_max = hi;
			}
			g->size_preferred_max = g->size_max;
			if (pref != NULL) {
				if (!config_parse_range(pref, &lo, &hi) || lo < g->size_min ||
				    hi > g->size_max)
					config_problem(
					    ld, config_line_of(ld, gs, "preferred"),
					    "team %s: preferred = \"%s\" must lie within "
					    "size (%d-%d), e.g. \"3-4\"",
					    g->name, pref, g->size_min, g->size_max);
				else
					g->size_preferred_max = hi;
			}
		} else if (size != NULL || pref != NULL) {
			config_problem(ld,
			               config_line_of(ld, gs, size != NULL ? "size" : "preferred"),
			               "group %s is a pair (two member roles): remove size and "
			               "preferred",
			               g->name);
		}
		g->meetings_per_month =
		    config_get_int(ld, gs, "meetings_per_month", 0, 31, "use 0 (no cadence) to 31");
		g->reminder_day = config_get_int(ld, gs, "reminder_day", 1, 28,
		                                 "use a day that every month has, 1 to 28");
		g->rotate_facilitator = cfg_getbool(gs, "rotate_facilitator") == cfg_true;
		if (g->rotate_facilitator && g->pair)
			config_problem(ld, config_line_of(ld, gs, "rotate_facilitator"),
			               "group %s is a pair: partners have no facilitator; remove "
			               "rotate_facilitator",
			               g->name);
		g->topics = (enum program_match_mode)config_get_word(ld, gs, "match_topics",
		                                                     "group", modes);
		g->level =
		    (enum program_match_mode)config_get_word(ld, gs, "match_level", "group", modes);
		g->division = (enum program_match_mode)config_get_word(ld, gs, "match_division",
		                                                       "group", modes);
		g->supervisor = (enum program_match_mode)config_get_word(ld, gs, "match_supervisor",
		                                                         "group", modes);
		g->availability = (enum program_match_mode)config_get_word(
		    ld, gs, "match_availability", "group", modes);
		g->level_gap = cfg_getint(gs, "level_gap");
		if (cfg_getstr(gs, "opens") != NULL) {
			const char *opens = cfg_getstr(gs, "opens"), *why;

			if (!g->pair)
				config_problem(ld, config_line_of(ld, gs, "opens"),
				               "group %s is a team: only pairs open later; remove "
				               "opens",
				               g->name);
			else if (program_point_parse(opens, &g->opens, &why) < 0)
				config_problem(ld, config_line_of(ld, gs, "opens"),
				               "group %s: opens = \"%s\" %s", g->name, opens, why);
			else if ((g->opens.base == POINT_START && prog->start_date == NULL) ||
			         ((g->opens.base == POINT_END || g->opens.percent > 0) &&
			          prog->end_date == NULL))
				config_problem(
				    ld, config_line_of(ld, gs, "opens"),
				    "group %s opens at a point of the program: add start = "
				    "\"YYYY-MM-DD\" and end = \"YYYY-MM-DD\" to program "
				    "%s",
				    g->name, prog->name);
		}
	}
}

/* An answer form's deadline and whether a later answer replaces the
 * earlier: a survey's keys.  closes is a date, or a point from the
 * program's start or end (as a step's at). */
static void
config_convert_form_answers(struct config_loader *ld, const struct config_program *prog, cfg_t *fs,
                            struct program_form *f)
{
	const char *closes = cfg_getstr(fs, "closes");
	const char *why;

	f->replace = cfg_getbool(fs, "replace");
	if ((closes != NULL || f->replace) && f->use != FORM_USE_ANSWER) {
		config_problem(
		    ld, config_line_of(ld, fs, closes != NULL ? "closes" : "replace"),
		    "form %s is not answered by request, so %s does not apply; remove it",
		    f->def.name, closes != NULL ? "closes" : "replace");
		return;
	}
	if (closes == NULL)
		return;
	if (program_point_parse(closes, &f->closes, &why) < 0) {
		config_problem(ld, config_line_of(ld, fs, "closes"), "form %s: closes = \"%s\" %s",
		               f->def.name, closes, why);
		memset(&f->closes, 0, sizeof(f->closes));
	} else if ((f->closes.base == POINT_START && prog->start_date == NULL) ||
	           ((f->closes.base == POINT_END || f->closes.percent > 0) &&
	            prog->end_date == NULL)) {
		config_problem(ld, config_line_of(ld, fs, "closes"),
		               "form %s closes at a point of the program whose %s is not set; "
		               "write a date (closes = \"YYYY-MM-DD\") or set %s",
		               f->def.name, f->closes.base == POINT_START ? "start" : "end",
		               f->closes.base == POINT_START ? "start" : "end");
		memset(&f->closes, 0, sizeof(f->closes));
	}
}

static void
config_convert_forms(struct config_loader *ld, const struct config *config, cfg_t *ps,
                     struct config_program *prog)
{
	static const char *const uses[] = {"", "join", "meeting", "answer", NULL};
	static const char *const abouts[] = {"program", "group", "meeting", "participant", NULL};
	struct program *m = &prog->model;
	unsigned n = cfg_size(ps, "form");

	m->forms = xcalloc(n + 1, sizeof(*m->forms));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *fs = cfg_getnsec(ps, "form", i);
		struct program_form *f = &m->forms[m->nforms++];
		const char *use = cfg_getstr(fs, "use");

		f->def.name = xstrdup(cfg_title(fs));
		/* A form a role names joins it; else what use says (default: an
		 * answer). */
		for (size_t r = 0; r < m->nroles; r++) {
			if (m->roles[r].form != NULL &&
			    strcmp(m->roles[r].form, f->def.name) == 0) {
				f->use = FORM_USE_JOIN;
				f->role = xstrdup(m->roles[r].name);
			}
		}
		if (use != NULL) {
			int u = config_get_word(ld, fs, "use", "form", uses);

			if (u == FORM_USE_JOIN && f->use != FORM_USE_JOIN)
				config_problem(
				    ld, config_line_of(ld, fs, "use"),
				    "form %s: use = \"join\" needs a role that names it: role "
				    "NAME { form = \"%s\" }",
				    f->def.name, f->def.name);
			else if (u > 0 && f->use == FORM_USE_JOIN && u != FORM_USE_JOIN)
				config_problem(
				    ld, config_line_of(ld, fs, "use"),
				    "form %s joins a role, so its use is \"join\"; remove use",
				    f->def.name);
			else if (u > 0)
				f->use = (enum program_form_use)u;
		}
		if (f->use == 0)
			f->use = FORM_USE_ANSWER;
		f->about = (enum program_about)config_get_word(ld, fs, "about", "form", abouts);
		for (unsigned j = 0; j < cfg_size(fs, "rounds"); j++)
			strvec_push(&f->rounds, cfg_getnstr(fs, "rounds", j));
		config_convert_form_answers(ld, prog, fs, f);
		config_convert_form(ld, config, fs, &f->def);
		for (size_t j = 0; j < f->def.nfields; j++)
			config_convert_field_meta(ld, cfg_getnsec(fs, "field", (unsigned)j),
			                          &f->def.fields[j], f->use);
		if (f->use == FORM_USE_MEETING && program_field_bound(f, BIND_DATE) == NULL)
			config_problem(
			    ld, config_section_line(ld, fs),
			    "form %s reports meetings but no field binds = date; add one, "
			    "e.g. field \"Meeting date\" { type = date binds = date }",
			    f->def.name);
		/* Attendance is recorded per meeting and writer: only an answer
		 * about a meeting has both. */
		for (size_t j = 0; j < f->def.nfields; j++)
			if (f->def.fields[j].bind == BIND_ATTENDED &&
			    (f->use != FORM_USE_ANSWER || f->about != ABOUT_MEETING))
				config_problem(ld,
				               config_line_of(ld,
				                              cfg_getnsec(fs, "field", (unsigned)j),
				                              "binds"),
				               "form %s: binds = attended needs a form about a "
				               "meeting; add about "
				               "= \"meeting\" to the form or remove the bind",
				               f->def.name);
	}
	/* m->roles[r] came from the r-th role section: point at its lines. */
	for (size_t r = 0; r < m->nroles; r++) {
		cfg_t *rs = cfg_getnsec(ps, "role", (unsigned)r);
		const struct program_form *f = program_form(m, m->roles[r].form);

		if (m->roles[r].form != NULL && f == NULL) {
			struct strbuf known = {0};

			for (size_t k = 0; k < m->nforms; k++)
				strbuf_addf(&known, "%s%s", k > 0 ? ", " : "",
				            m->forms[k].def.name);
			config_problem(
			    ld, config_line_of(ld, rs, "form"),
			    "program %s: role %s names form \"%s\", which is not defined "
			    "(forms: %s); fix the name or add form %s { field \"Name\" { "
			    "binds = name } ... }",
			    prog->name, m->roles[r].name, m->roles[r].form,
			    known.len > 0 ? strbuf_str(&known) : "none", m->roles[r].form);
			strbuf_free(&known);
		}
		for (size_t a = 0; f != NULL && a < m->roles[r].approvals.n; a++) {
			const char *approver = m->roles[r].approvals.v[a];

			if (program_field_bound(f, form_bind_parse(approver)) == NULL)
				config_problem(
				    ld, config_line_of(ld, rs, "approvals"),
				    "program %s: role %s asks the %s to approve, but form %s "
				    "has no field binds = %s; add one (type = email)",
				    prog->name, m->roles[r].name, approver, f->def.name, approver);
		}
	}
}

/* The checks of a step that asks for, or compares, answers about each
 * participant (a 180: form about = "participant"): who may be asked, and
 * that what the report shows is what the form lets its readers see. */
static void
config_convert_step_about(struct config_loader *ld, cfg_t *ps, cfg_t *ss,
                          const struct config_program *prog, struct program_step *s)
{
	const struct program *m = &prog->model;
	const struct program_form *rf = s->request != NULL ? program_form(m, s->request) : NULL;
	const struct program_form *cf;
	bool supervised = false;

	for (size_t r = 0; r < m->nroles; r++) {
		const struct program_form *jf = program_form(m, m->roles[r].form);

		supervised = supervised || (jf != NULL && program_field_bound(jf, BIND_SUPERVISOR));
	}
	if (s->to == TO_SUPERVISOR &&
	    (rf == NULL || rf->about != ABOUT_PARTICIPANT || s->effect != EFFECT_NONE))
		config_problem(ld, config_line_of(ld, ss, "to"),
		               "step %s writes to each participant's supervisor: it must request "
		               "a form about = \"participant\" (request = \"FORM\"), with no "
		               "effect",
		               s->name);
	else if (s->to == TO_SUPERVISOR && !supervised)
		config_problem(ld, config_line_of(ld, ss, "to"),
		               "step %s writes to each participant's supervisor, but no role's "
		               "form has a field binds = supervisor; add one (type = email)",
		               s->name);
	if (rf != NULL && rf->about == ABOUT_PARTICIPANT && s->to != TO_SUPERVISOR &&
	    s->to != TO_PARTICIPANTS && s->to != TO_ROLE)
		config_problem(ld, config_line_of(ld, ss, "to"),
		               "step %s requests form %s, which is about each participant: use "
		               "to = \"participants\" (or \"role\") for their own answer and "
		               "to = \"supervisor\" for their supervisor's",
		               s->name, rf->def.name);
	else if (rf != NULL && rf->about == ABOUT_PARTICIPANT && s->when != WHEN_AT)
		config_problem(ld, s->line,
		               "step %s requests form %s, which is about each participant, once "
		               "a round: use at = \"start\" (or \"end - 30 days\", a date)",
		               s->name, rf->def.name);
	if (s->compare != NULL && s->effect != EFFECT_COMPARE)
		config_problem(ld, config_line_of(ld, ss, "compare"),
		               "step %s: compare = \"%s\" needs effect = \"compare\"", s->name,
		               s->compare);
	if (s->effect != EFFECT_COMPARE)
		return;
	cf = s->compare != NULL ? program_form(m, s->compare) : NULL;
	if (cf == NULL || cf->use != FORM_USE_ANSWER || cf->about != ABOUT_PARTICIPANT) {
		config_problem(ld,
		               config_line_of(ld, ss, s->compare != NULL ? "compare" : "effect"),
		               "step %s: effect = \"compare\" needs compare = \"FORM\", a form "
		               "of program %s with about = \"participant\"",
		               s->name, prog->name);
		return;
	}
	if (s->when != WHEN_AT || (s->to != TO_PARTICIPANTS && s->to != TO_ROLE) ||
	    s->request != NULL || !supervised)
		config_problem(ld, config_line_of(ld, ss, "effect"),
		               "step %s: effect = \"compare\" sends each participant's report "
		               "once their last round is answered: use at = \"...\" and to = "
		               "\"participants\" (or \"role\"), without request, in a program "
		               "whose join form binds supervisor",
		               s->name);
	/* The report goes to the participant, their supervisor and the
	 * coordinators: every answer it shows must be declared visible to
	 * the supervisor and the coordinator (the participant reads what is
	 * written about them). */
	for (unsigned i = 0; i < cfg_size(ps, "form"); i++) {
		cfg_t *fs = cfg_getnsec(ps, "form", i);

		if (strcmp(cfg_title(fs), cf->def.name) != 0)
			continue;
		for (size_t j = 0; j < cf->def.nfields; j++) {
			const struct form_field_def *fd = &cf->def.fields[j];
			const unsigned need = FORM_VISIBLE_SUPERVISOR | FORM_VISIBLE_COORDINATOR;
			cfg_t *fls = cfg_getnsec(fs, "field", (unsigned)j);

			if ((fd->visible_to & need) != need)
				config_problem(
				    ld,
				    cfg_size(fls, "visible_to") > 0
				        ? config_line_of(ld, fls, "visible_to")
				        : config_section_line(ld, fls),
				    "form %s field \"%s\" is shown in the report of step %s (line "
				    "%d), which goes to the participant's supervisor and the "
				    "coordinators, but it is not visible_to both; add visible_to = "
				    "{\"coordinator\", \"supervisor\"}, or compare another form",
				    cf->def.name, fd->key, s->name, s->line);
		}
	}
}

static const char *const config_step_audiences[] = {
    "", "group", "coordinators", "participants", "role", "facilitator", "supervisor", NULL};

static void
config_convert_steps(struct config_loader *ld, cfg_t *ps, struct config_program *prog)
{
	static const char *const periods[] = {"", "day", "week", "month", "quarter", NULL};
	static const char *const conditions[] = {"always", "below-cadence", "waiting",
	                                         "not-answered", NULL};
	static const char *const effects[] = {"none", "end", "complete", "health", "compare", NULL};
	struct program *m = &prog->model;
	unsigned n = cfg_size(ps, "step");

	m->steps = xcalloc(n + 1, sizeof(*m->steps));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ss = cfg_getnsec(ps, "step", i);
		struct program_step *s = &m->steps[m->nsteps++];
		const char *every = cfg_getstr(ss, "every"), *at = cfg_getstr(ss, "at");
		const char *after = cfg_getstr(ss, "after"), *to = cfg_getstr(ss, "to");
		int whens = (every != NULL) + (at != NULL) + (after != NULL);

		s->name = xstrdup(cfg_title(ss));
		s->line = config_section_line(ld, ss);
		if (!config_name_ok(s->name))
			config_problem(ld, s->line,
			               "step name \"%s\" must be letters, digits, - or _", s->name);
		if (whens != 1)
			config_problem(
			    ld, s->line,
			    "step %s needs exactly one of every = \"month\", at = \"start + "
			    "50%%\" or after = \"meeting\"",
			    s->name);
		if (every != NULL) {
			s->when = WHEN_EVERY;
			s->every =
			    (enum program_period)config_get_word(ld, ss, "every", "step", periods);
			s->day = config_get_int(ld, ss, "day", 1, 28,
			                        "use 1 to 28 (a weekday 1-7 for every = \"week\")");
			if (s->every == PERIOD_WEEK && s->day > 7)
				config_problem(
				    ld, config_line_of(ld, ss, "day"),
				    "step %s: every week, day is a weekday 1 (Monday) to 7",
				    s->name);
		} else if (at != NULL) {
			const char *why;

			s->when = WHEN_AT;
			if (program_point_parse(at, &s->at, &why) < 0)
				config_problem(ld, config_line_of(ld, ss, "at"),
				               "step %s: at = \"%s\" %s", s->name, at, why);
			else if (s->at.base != POINT_DATE && prog->start_date == NULL &&
			         (s->at.base == POINT_START))
				config_problem(
				    ld, config_line_of(ld, ss, "at"),
				    "step %s is at the program's start, which is not set; add "
				    "start = \"YYYY-MM-DD\" to program %s",
				    s->name, prog->name);
			else if ((s->at.base == POINT_END || s->at.percent > 0) &&
			         prog->end_date == NULL)
				config_problem(
				    ld, config_line_of(ld, ss, "at"),
				    "step %s needs the program's end; add end = \"YYYY-MM-DD\" "
				    "to program %s",
				    s->name, prog->name);
		} else if (after != NULL) {
			s->when = WHEN_AFTER;
			s->after = xstrdup(after);
			if (strcmp(after, "meeting") != 0 && strcmp(after, "formed") != 0)
				config_problem(
				    ld, config_line_of(ld, ss, "after"),
				    "step %s: after = \"%s\" is unknown; use \"meeting\" "
				    "or \"formed\"",
				    s->name, after);
		}
		s->to = (enum program_audience)config_get_word(ld, ss, "to", "step",
		                                               config_step_audiences);
		if (to == NULL)
			config_problem(ld, s->line,
			               "step %s needs to = \"group\", \"coordinators\", "
			               "\"participants\", \"role\", \"facilitator\" or "
			               "\"supervisor\"",
			               s->name);
		s->role = config_dup_opt(ss, "role");
		if (s->to == TO_ROLE && program_role(m, s->role) == NULL)
			config_problem(
			    ld, config_line_of(ld, ss, s->role != NULL ? "role" : "to"),
			    "step %s writes to a role: name one of program %s's roles with "
			    "role = \"...\"",
			    s->name, prog->name);
		s->condition =
		    (enum program_condition)config_get_word(ld, ss, "when", "step", conditions);
		s->template_name = config_dup_opt(ss, "template");
		s->request = config_dup_opt(ss, "request");
		s->round = config_dup_opt(ss, "round");
		s->remind_every = config_get_int(ld, ss, "remind_every", 0, 90, "use 0 to 90 days");
		s->until = config_get_int(ld, ss, "until", 0, 365, "use 0 to 365 days");
		s->effect = (enum program_effect)config_get_word(ld, ss, "effect", "step", effects);
		s->complete_form = config_dup_opt(ss, "complete_form");
		s->complete_round = config_dup_opt(ss, "complete_round");
		s->attendance_percent =
		    config_get_int(ld, ss, "attendance", 0, 100, "use a percentage, 0 to 100");
		if (s->request != NULL) {
			const struct program_form *f = program_form(m, s->request);

			if (f == NULL || f->use != FORM_USE_ANSWER)
				config_problem(
				    ld, config_line_of(ld, ss, "request"),
				    "step %s requests \"%s\", which is no answer form of "
				    "program %s (an evaluation, a survey)",
				    s->name, s->request, prog->name);
			else if (s->round != NULL && f->rounds.n > 0 &&
			         !strvec_contains_ci(&f->rounds, s->round))
				config_problem(
				    ld, config_line_of(ld, ss, "round"),
				    "step %s: round \"%s\" is not one of form %s's rounds", s->name,
				    s->round, f->def.name);
		} else if (s->condition == COND_NOT_ANSWERED || s->remind_every > 0) {
			config_problem(
			    ld, s->line,
			    "step %s reminds who has not answered, but requests no form; "
			    "add request = \"FORM\"",
			    s->name);
		}
		s->group = config_dup_opt(ss, "group");
		if (s->group != NULL) {
			const struct program_group *sg = program_group(m, s->group);

			if (sg == NULL || (sg != m->unit && sg != m->pairs))
				config_problem(
				    ld, config_line_of(ld, ss, "group"),
				    "step %s: group = \"%s\" is neither program %s's unit "
				    "nor its pairs; name one of them",
				    s->name, s->group, prog->name);
			else if (s->to != TO_GROUP && s->effect != EFFECT_COMPLETE)
				config_problem(ld, config_line_of(ld, ss, "group"),
				               "step %s: group = \"%s\" says which groups to = "
				               "\"group\" writes to; use to = \"group\"",
				               s->name, s->group);
		}
		if (s->to == TO_GROUP && s->role != NULL) {
			const struct program_group *sg = program_step_group(m, s);

			if (sg != NULL && !strvec_contains_ci(&sg->roles, s->role))
				config_problem(ld, config_line_of(ld, ss, "role"),
				               "step %s: role \"%s\" is not a member role of group "
				               "%s; name one of its members, or remove role",
				               s->name, s->role, sg->name);
		}
		if (s->when == WHEN_AFTER && s->after != NULL && strcmp(s->after, "formed") == 0 &&
		    s->to != TO_GROUP)
			config_problem(ld, config_line_of(ld, ss, "after"),
			               "step %s: after = \"formed\" writes to each new group's "
			               "members; use to = \"group\"",
			               s->name);
		s->shows = config_dup_opt(ss, "shows");
		s->compare = config_dup_opt(ss, "compare");
		if (s->shows != NULL) {
			const struct program_form *f = program_form(m, s->shows);
			bool shown = false;

			for (size_t k = 0; f != NULL && k < f->def.nfields; k++)
				if ((f->def.fields[k].visible_to & FORM_VISIBLE_PARTICIPANTS) != 0)
					shown = true;
			if (f == NULL || f->use != FORM_USE_JOIN || !shown)
				config_problem(
				    ld, config_line_of(ld, ss, "shows"),
				    "step %s shows \"%s\", which is no join form of program %s "
				    "with a field visible_to = {\"participants\"}; name one, or "
				    "add visible_to to the fields participants agree to show",
				    s->name, s->shows, prog->name);
			else if (s->to != TO_PARTICIPANTS && s->to != TO_ROLE)
				config_problem(ld, config_line_of(ld, ss, "shows"),
				               "step %s shows a form to participants: use to = "
				               "\"participants\" or to = \"role\"",
				               s->name);
			else if (s->when != WHEN_EVERY || s->request != NULL)
				config_problem(
				    ld, config_line_of(ld, ss, "shows"),
				    "step %s shows a form: it must be every = \"...\" and "
				    "request nothing",
				    s->name);
		}
		if (s->effect == EFFECT_COMPLETE &&
		    (s->complete_form == NULL || program_form(m, s->complete_form) == NULL))
			config_problem(ld, s->line,
			               "step %s completes participants: name the form that must be "
			               "answered with complete_form = \"...\"",
			               s->name);
		if (s->effect == EFFECT_HEALTH &&
		    (s->when != WHEN_EVERY || s->every != PERIOD_WEEK || s->to != TO_COORDINATORS ||
		     s->request != NULL))
			config_problem(
			    ld, config_line_of(ld, ss, "effect"),
			    "step %s: effect = \"health\" is the coordinators' weekly "
			    "summary; use every = \"week\", day = 1 (Monday) to 7 and to = "
			    "\"coordinators\", without request",
			    s->name);
		config_convert_step_about(ld, ps, ss, prog, s);
		if (s->template_name == NULL && s->request == NULL && s->effect == EFFECT_NONE)
			config_problem(ld, s->line,
			               "step %s sends nothing: add template = \"...\" or request = "
			               "\"...\"",
			               s->name);
		if ((s->condition == COND_BELOW_CADENCE || s->to == TO_GROUP ||
		     s->to == TO_FACILITATOR) &&
		    m->unit == NULL)
			config_problem(
			    ld, s->line,
			    "step %s is about groups, but program %s has no unit; add unit "
			    "= \"pair\" (or \"team\") and its group section",
			    s->name, prog->name);
		else if (s->to == TO_FACILITATOR && !m->unit->rotate_facilitator)
			config_problem(ld, s->line,
			               "step %s writes to the facilitator, but group %s has none; "
			               "add rotate_facilitator = true to group %s",
			               s->name, m->unit->name, m->unit->name);
	}
}

/* "HH:MM" -> minutes from midnight, or -1. */
static int
config_clock_minutes(const char *s, size_t len)
{
	int h, m;

	if (len != 5 || s[2] != ':')
		return -1;
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* session NAME { title date time location cancelled }: kept in date order,
 * so invitations, the status and the report list them as they happen. */
static void
config_convert_sessions(struct config_loader *ld, cfg_t *ps, struct config_program *prog)
{
	struct program *m = &prog->model;
	unsigned n = cfg_size(ps, "session");

	m->sessions = xcalloc(n + 1, sizeof(*m->sessions));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ss = cfg_getnsec(ps, "session", i);
		struct program_session *se = &m->sessions[m->nsessions];
		const char *t = cfg_getstr(ss, "time");
		const char *dash = t != NULL ? strchr(t, '-') : NULL;

		se->name = xstrdup(cfg_title(ss));
		se->line = config_section_line(ld, ss);
		se->title = config_dup_opt(ss, "title");
		se->location = config_dup_opt(ss, "location");
		se->cancelled = cfg_getbool(ss, "cancelled");
		m->nsessions++;
		if (se->title == NULL)
			se->title = xstrdup(se->name);
		config_get_date(ld, ss, "date", &se->date);
		if (se->date == NULL && cfg_getstr(ss, "date") == NULL)
			config_problem(
			    ld, se->line,
			    "program %s session %s has no date; add date = \"YYYY-MM-DD\"",
			    prog->name, se->name);
		if (dash != NULL) {
			se->start_min = config_clock_minutes(t, (size_t)(dash - t));
			se->end_min = config_clock_minutes(dash + 1, strlen(dash + 1));
		}
		if (t == NULL || dash == NULL || se->start_min < 0 || se->end_min <= se->start_min)
			config_problem(ld, t != NULL ? config_line_of(ld, ss, "time") : se->line,
			               "program %s session %s: time = \"%s\" is not a span of the "
			               "day; write time = \"09:00-12:00\" (24-hour, local)",
			               prog->name, se->name, t != NULL ? t : "");
		for (size_t k = 0; k < strlen(se->name); k++)
			if (!isalnum((unsigned char)se->name[k]) && se->name[k] != '-' &&
			    se->name[k] != '_') {
				config_problem(ld, se->line,
				               "program %s: session \"%s\": a session's name is "
				               "used in commands; use letters, digits, - and _",
				               prog->name, se->name);
				break;
			}
	}
	for (size_t i = 1; i < m->nsessions; i++)
		for (size_t k = i;
		     k > 0 && m->sessions[k - 1].date != NULL && m->sessions[k].date != NULL &&
		     strcmp(m->sessions[k - 1].date, m->sessions[k].date) > 0;
		     k--) {
			struct program_session tmp = m->sessions[k];

			m->sessions[k] = m->sessions[k - 1];
			m->sessions[k - 1] = tmp;
		}
	m->session_attendance =
	    (int)config_get_int(ld, ps, "session_attendance", 0, 100, "use a percentage, 0 to 100");
	if (m->session_attendance > 0 && m->nsessions == 0)
		config_problem(ld, config_line_of(ld, ps, "session_attendance"),
		               "program %s: session_attendance needs sessions; add session NAME "
		               "{ date = \"...\" time = \"...\" } or remove it",
		               prog->name);
}

static void
config_convert_program(struct config_loader *ld, struct config *config, cfg_t *ps,
                       struct config_program *prog)
{
	struct program *m = &prog->model;
	const char *title = cfg_getstr(ps, "title"), *unit = cfg_getstr(ps, "unit");
	unsigned n;

	prog->name = xstrdup(cfg_title(ps));
	if (!config_name_ok(prog->name))
		config_problem(ld, config_section_line(ld, ps),
		               "program name \"%s\" must be letters, digits, - or _; e.g. "
		               "program cdss { }",
		               prog->name);
	prog->title = xstrdup(title != NULL ? title : prog->name);
	for (size_t i = 0; i < N_ELEMENTS(config_moved_keys); i++) {
		if (cfg_size(ps, config_moved_keys[i].key) > 0)
			config_problem(ld, config_line_of(ld, ps, config_moved_keys[i].key),
			               "program %s: %s is no longer a program key; %s", prog->name,
			               config_moved_keys[i].key, config_moved_keys[i].fix);
	}
	n = cfg_size(ps, "addresses");
	for (unsigned i = 0; i < n; i++) {
		char *addr = str_trim(xstrdup(cfg_getnstr(ps, "addresses", i)));

		if (!config_email_valid(addr)) {
			char *what = xasprintf("program %s address", prog->name);

			config_address_problem(ld, ps, "addresses", what, addr,
			                       "mentoring@example.org");
			free(what);
			free(addr);
			continue;
		}
		str_lower(addr);
		strvec_push_owned(&prog->addresses, addr);
	}
	if (cfg_getstr(ps, "timezone") != NULL) {
		prog->timezone = xstrdup(cfg_getstr(ps, "timezone"));
		if (!config_timezone_known(prog->timezone))
			config_problem(ld, config_line_of(ld, ps, "timezone"),
			               "program %s timezone \"%s\" is unknown; use a name from "
			               "/usr/share/zoneinfo",
			               prog->name, prog->timezone);
	} else {
		prog->timezone = xstrdup(config->timezone);
	}
	n = cfg_size(ps, "coordinators");
	for (unsigned i = 0; i < n; i++) {
		char *addr = str_trim(xstrdup(cfg_getnstr(ps, "coordinators", i)));

		str_lower(addr);
		if (!config_email_valid(addr))
			config_problem(ld, config_line_of(ld, ps, "coordinators"),
			               "program %s coordinator \"%s\" is not an email address",
			               prog->name, addr);
		strvec_push_owned(&prog->coordinators, addr);
	}
	if (n == 0)
		for (size_t i = 0; i < config->coordinators.n; i++)
			strvec_push(&prog->coordinators, config->coordinators.v[i]);
	config_get_date(ld, ps, "start", &prog->start_date);
	config_get_date(ld, ps, "end", &prog->end_date);
	if (prog->start_date != NULL && prog->end_date != NULL &&
	    strcmp(prog->start_date, prog->end_date) > 0)
		config_problem(ld, config_line_of(ld, ps, "end"),
		               "program %s ends (%s) before it starts (%s); fix start or end",
		               prog->name, prog->end_date, prog->start_date);

	config_convert_roles(ld, ps, prog);
	config_convert_groups(ld, ps, prog);
	if (unit != NULL && strcmp(unit, "none") != 0) {
		m->unit = program_group(m, unit);
		if (m->unit == NULL)
			config_problem(ld, config_line_of(ld, ps, "unit"),
			               "program %s: unit = \"%s\" names no group; add group %s { "
			               "members = {...} } or use unit = \"none\"",
			               prog->name, unit, unit);
	}
	if (cfg_getstr(ps, "pairs") != NULL) {
		const char *pairs = cfg_getstr(ps, "pairs");
		const struct program_group *pg = program_group(m, pairs);

		if (pg == NULL || !pg->pair)
			config_problem(ld, config_line_of(ld, ps, "pairs"),
			               "program %s: pairs = \"%s\" names no pair; add group %s { "
			               "members = {\"participant\", \"mentor\"} }",
			               prog->name, pairs, pairs);
		else if (m->unit == NULL || m->unit->pair)
			config_problem(
			    ld, config_line_of(ld, ps, "pairs"),
			    "program %s: pairs = \"%s\" is a second kind of group beside "
			    "a unit of teams; use unit = \"%s\" alone, or a team as "
			    "unit",
			    prog->name, pairs, pairs);
		else if (strcmp(pg->roles.v[0], m->unit->roles.v[0]) != 0)
			config_problem(ld, config_line_of(ld, ps, "pairs"),
			               "program %s: pair %s's first role must be the teams' role "
			               "(members = {\"%s\", \"...\"})",
			               prog->name, pairs, m->unit->roles.v[0]);
		else
			m->pairs = pg;
	}
	config_convert_forms(ld, config, ps, prog);
	n = cfg_size(ps, "topic");
	m->topics = xcalloc(n + 1, sizeof(*m->topics));
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ts = cfg_getnsec(ps, "topic", i);

		m->topics[i].title = xstrdup(cfg_title(ts));
		m->topics[i].readings = config_dup_opt(ts, "readings");
		m->ntopics = i + 1;
	}
	if (cfg_getsec(ps, "certificate") != NULL &&
	    (cfg_getstr(cfg_getsec(ps, "certificate"), "signer") != NULL ||
	     cfg_getstr(cfg_getsec(ps, "certificate"), "signer_title") != NULL ||
	     cfg_getstr(cfg_getsec(ps, "certificate"), "organisation") != NULL)) {
		cfg_t *cs = cfg_getsec(ps, "certificate");

		m->certificate.signer = config_dup_opt(cs, "signer");
		m->certificate.signer_title = config_dup_opt(cs, "signer_title");
		m->certificate.organisation = config_dup_opt(cs, "organisation");
		if (m->certificate.signer == NULL || m->certificate.signer_title == NULL)
			config_problem(ld, config_section_line(ld, cs),
			               "program %s: a certificate needs signer = \"...\" and "
			               "signer_title = \"...\" (the head of the department)",
			               prog->name);
	}
	config_convert_steps(ld, ps, prog);
	config_convert_sessions(ld, ps, prog);
	if (m->nroles == 0)
		config_problem(ld, config_section_line(ld, ps),
		               "program %s has no role; add role mentee { form = \"application\" } "
		               "and its form",
		               prog->name);
	for (size_t i = 0; i < m->nsteps; i++) {
		const struct program_step *s = &m->steps[i];

		/* Without a certificate, completion is recorded and the step's
		 * own email says so (DOL: the mentoring component's close-out). */
		if (s->effect == EFFECT_COMPLETE && m->certificate.signer == NULL &&
		    s->template_name == NULL)
			config_problem(
			    ld, s->line,
			    "step %s completes participants with a certificate: add "
			    "certificate { signer = \"...\" signer_title = \"...\" }, or "
			    "template = \"...\" for an email that records completion "
			    "without one",
			    s->name);
	}
}

static void
config_convert(struct config_loader *ld, cfg_t *cfg, struct config *config)
{
	const char *s;
	unsigned n;
	int a, b;

	config->database = config_resolve(ld, cfg_getstr(cfg, "database"));
	config->templates = config_resolve(ld, cfg_getstr(cfg, "templates"));
	{
		const struct config_key_line *k = config_find_key(ld, cfg, "templates");

		config->templates_where =
		    k != NULL ? config_where(ld, k->line) : xstrdup(ld->files.v[0]);
	}
	s = cfg_getstr(cfg, "timezone");
	config->timezone = xstrdup(s);
	if (!config_timezone_known(s))
		config_problem(ld, config_line_of(ld, cfg, "timezone"),
		               "timezone \"%s\" is unknown; use a name from /usr/share/zoneinfo "
		               "such as \"America/Los_Angeles\" or \"UTC\"",
		               s);
	s = cfg_getstr(cfg, "state_directory");
	if (s != NULL) {
		config->state_dir = config_resolve(ld, s);
	} else {
		char *slash;

		config->state_dir = xstrdup(config->database);
		slash = strrchr(config->state_dir, '/');
		if (slash != NULL && slash != config->state_dir)
			*slash = '\0';
		else if (slash != NULL)
			slash[1] = '\0';
	}
	config_get_secret(ld, cfg, "hmac_secret", "hmac_secret_file", &config->hmac_secret);
	config->hmac_secret_path = cfg_getstr(cfg, "hmac_secret_file") != NULL
	                               ? config_resolve(ld, cfg_getstr(cfg, "hmac_secret_file"))
	                               : xasprintf("%s/hmac.secret", config->state_dir);
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
	config->fanout_chunk = config_get_int(ld, cfg, "fanout_chunk", 1, 100000,
	                                      "use 1 to 100000 emails a transaction (default 500)");
	for (unsigned i = 0; i < cfg_size(cfg, "trusted_authserv_id"); i++) {
		const char *id = cfg_getnstr(cfg, "trusted_authserv_id", i);

		if (id[0] == '\0' || strcspn(id, " \t;()=\"") != strlen(id))
			config_problem(
			    ld, config_line_of(ld, cfg, "trusted_authserv_id"),
			    "trusted_authserv_id \"%s\" is not an authserv-id; write the "
			    "host name your receiving server puts first in its "
			    "Authentication-Results header, e.g. \"mx.example.org\"",
			    id);
		else
			strvec_push(&config->trusted_authserv_ids, id);
	}
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
	/* For errors that point at the password ("LOGIN refused"). */
	config->imap.password_file =
	    config_resolve_opt(ld, cfg_getsec(cfg, "imap"), "password_file");
	config->smtp.password_file =
	    config_resolve_opt(ld, cfg_getsec(cfg, "smtp"), "password_file");
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

/* ---- printing the effective configuration ---- */

/* Keys that name a file or directory: printed resolved from the
 * configuration's directory, as they are read. */
static bool
config_key_is_path(const char *name)
{
	size_t len = strlen(name);

	return strcmp(name, "database") == 0 || strcmp(name, "templates") == 0 ||
	       strcmp(name, "state_directory") == 0 ||
	       (len > 5 && strcmp(name + len - 5, "_file") == 0);
}

/* What a key that is not set means, where "not set" says too little. */
static const struct {
	const char *name;
	const char *meaning;
} config_unset_notes[] = {
    {"processed_mailbox", "messages stay in the mailbox, flagged \\Seen"},
    {"hmac_secret_file", "the secret is hmac.secret in the state directory, made on the "
                         "first start"},
    {"ca_file", "the system CAs verify the server"},
    {"start", "no first day"},
    {"end", "no last day"},
    {"min", "the type's default (number 0, scale 1, multichoice 1 if required else 0)"},
    {"max", "the type's default (number 999999, scale 5, multichoice every choice)"},
};

static void
config_print_string(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', out);
		putc(*s, out);
	}
	putc('"', out);
}

static void
config_print_value(const struct config_loader *ld, cfg_opt_t *opt, unsigned i, FILE *out)
{
	const char *s;

	switch (opt->type) {
	case CFGT_INT:
		fprintf(out, "%ld", cfg_opt_getnint(opt, i));
		break;
	case CFGT_FLOAT:
		fprintf(out, "%g", cfg_opt_getnfloat(opt, i));
		break;
	case CFGT_BOOL:
		fputs(cfg_opt_getnbool(opt, i) == cfg_true ? "true" : "false", out);
		break;
	case CFGT_STR:
		s = cfg_opt_getnstr(opt, i);
		if (config_key_is_secret(opt->name)) {
			config_print_string(out, "********");
		} else if (config_key_is_path(opt->name) && s[0] != '/') {
			char *full = config_resolve(ld, s);

			config_print_string(out, full);
			free(full);
		} else {
			config_print_string(out, s);
		}
		break;
	default:
		break;
	}
}

static void
config_print_indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		putc('\t', out);
}

/* A key of the first release's program section: parsed only to be refused
 * with where it went (config_moved_keys), so never printed. */
static bool
config_key_retired(cfg_t *sec, const char *name)
{
	if (cfg_name(sec) == NULL || strcmp(cfg_name(sec), "program") != 0)
		return false;
	for (size_t i = 0; i < N_ELEMENTS(config_moved_keys); i++)
		if (strcmp(config_moved_keys[i].key, name) == 0)
			return true;
	return false;
}

/* skip names a section left out (NULL: none): the oauth section, which
 * libconfuse always holds, is printed only when imap or smtp uses it, so
 * that the printed configuration passes --check-config. */
static void
config_print_section(const struct config_loader *ld, cfg_t *sec, int depth, const char *skip,
                     FILE *out)
{
	for (cfg_opt_t *opt = sec->opts; opt->name != NULL; opt++) {
		unsigned n = cfg_opt_size(opt);
		const char *note = NULL;

		if (opt->type == CFGT_SEC) {
			if (skip != NULL && strcmp(opt->name, skip) == 0)
				continue;
			for (unsigned i = 0; i < n; i++) {
				cfg_t *sub = cfg_opt_getnsec(opt, i);

				config_print_indent(out, depth);
				fprintf(out, "%s ", opt->name);
				if (cfg_title(sub) != NULL) {
					config_print_string(out, cfg_title(sub));
					putc(' ', out);
				}
				fputs("{\n", out);
				config_print_section(ld, sub, depth + 1, NULL, out);
				config_print_indent(out, depth);
				fputs("}\n", out);
			}
			continue;
		}
		if (opt->type != CFGT_INT && opt->type != CFGT_FLOAT && opt->type != CFGT_BOOL &&
		    opt->type != CFGT_STR)
			continue;
		if (config_key_retired(sec, opt->name))
			continue;
		config_print_indent(out, depth);
		if ((opt->flags & CFGF_LIST) != 0) {
			fprintf(out, "%s = {", opt->name);
			for (unsigned i = 0; i < n; i++) {
				if (i > 0)
					fputs(", ", out);
				config_print_value(ld, opt, i, out);
			}
			fputs("}\n", out);
		} else if (n == 0 || (opt->type == CFGT_STR && cfg_opt_getnstr(opt, 0) == NULL)) {
			for (size_t i = 0; i < N_ELEMENTS(config_unset_notes); i++) {
				if (strcmp(config_unset_notes[i].name, opt->name) == 0)
					note = config_unset_notes[i].meaning;
			}
			fprintf(out, "# %s is not set%s%s\n", opt->name, note != NULL ? ": " : "",
			        note != NULL ? note : "");
		} else {
			fprintf(out, "%s = ", opt->name);
			config_print_value(ld, opt, 0, out);
			putc('\n', out);
		}
	}
}

/*
 * Writes the parsed tree (config_print).  Before that, the values that
 * conversion derived are written into the tree, so what is printed is what
 * runs: state_directory (the database's directory), a program's title (its
 * name), and the default competency model.  Keys added to the option tables
 * are printed without any change here.
 */
static void
config_print_tree(const struct config_loader *ld, cfg_t *cfg, const struct config *config,
                  FILE *out)
{
	cfg_t *comp = cfg_getsec(cfg, "competencies");

	if (cfg_getstr(cfg, "state_directory") == NULL && config->state_dir != NULL)
		cfg_setstr(cfg, "state_directory", config->state_dir);
	for (unsigned i = 0; i < cfg_size(cfg, "program") && i < config->nprograms; i++) {
		cfg_t *ps = cfg_getnsec(cfg, "program", i);

		if (cfg_getstr(ps, "title") == NULL && config->programs[i].title != NULL)
			cfg_setstr(ps, "title", config->programs[i].title);
	}
	if (comp != NULL && cfg_size(comp, "cluster") == 0) {
		for (size_t i = 0; i < config->nclusters; i++) {
			const struct config_competency_cluster *c = &config->clusters[i];
			cfg_t *cl = cfg_addtsec(comp, "cluster", c->name);

			for (size_t j = 0; cl != NULL && j < c->competencies.n; j++)
				cfg_setnstr(cl, "competencies", c->competencies.v[j], (unsigned)j);
		}
	}
	fprintf(out,
	        "# The effective configuration of %s (mentord --print-config):\n"
	        "# defaults filled in, relative paths resolved, includes expanded,\n"
	        "# secrets masked.\n",
	        ld->path);
	config_print_section(ld, cfg, 0, config->oauth.used ? NULL : "oauth", out);
}

/* config_load, and with print set config_print: the parsed tree is written
 * there once converted (see config_print_tree). */
static int
config_read(const char *path, FILE *print, struct config **config_r, const char **error_r)
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
	    CFG_STR("binds", NULL, CFGF_NONE),
	    CFG_STR_LIST("visible_to", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t form_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_STR("use", NULL, CFGF_NONE),
	    CFG_STR("about", NULL, CFGF_NONE),
	    CFG_STR_LIST("rounds", NULL, CFGF_NONE),
	    CFG_STR("closes", NULL, CFGF_NONE),
	    CFG_BOOL("replace", cfg_false, CFGF_NONE),
	    CFG_SEC("field", field_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	cfg_opt_t role_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_STR("form", NULL, CFGF_NONE),
	    CFG_STR("decided_by", NULL, CFGF_NONE),
	    CFG_INT("limit", 0, CFGF_NONE),
	    CFG_STR_LIST("approvals", NULL, CFGF_NONE),
	    CFG_INT("approval_days", 7, CFGF_NONE),
	    CFG_BOOL("notify_supervisor", cfg_false, CFGF_NONE),
	    CFG_STR("graduates_to", NULL, CFGF_NONE),
	    CFG_INT("capacity", 1, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t group_opts[] = {
	    CFG_STR_LIST("members", NULL, CFGF_NONE),
	    CFG_STR("size", NULL, CFGF_NONE),
	    CFG_STR("preferred", NULL, CFGF_NONE),
	    CFG_INT("meetings_per_month", 0, CFGF_NONE),
	    CFG_INT("reminder_day", 15, CFGF_NONE),
	    CFG_BOOL("rotate_facilitator", cfg_false, CFGF_NONE),
	    CFG_STR("match_topics", NULL, CFGF_NONE),
	    CFG_STR("match_level", NULL, CFGF_NONE),
	    CFG_INT("level_gap", 0, CFGF_NONE),
	    CFG_STR("match_division", NULL, CFGF_NONE),
	    CFG_STR("match_supervisor", NULL, CFGF_NONE),
	    CFG_STR("match_availability", NULL, CFGF_NONE),
	    CFG_STR("opens", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t topic_opts[] = {
	    CFG_STR("readings", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t step_opts[] = {
	    CFG_STR("every", NULL, CFGF_NONE),
	    CFG_INT("day", 1, CFGF_NONE),
	    CFG_STR("at", NULL, CFGF_NONE),
	    CFG_STR("after", NULL, CFGF_NONE),
	    CFG_STR("to", NULL, CFGF_NONE),
	    CFG_STR("role", NULL, CFGF_NONE),
	    CFG_STR("when", NULL, CFGF_NONE),
	    CFG_STR("template", NULL, CFGF_NONE),
	    CFG_STR("request", NULL, CFGF_NONE),
	    CFG_STR("round", NULL, CFGF_NONE),
	    CFG_INT("remind_every", 0, CFGF_NONE),
	    CFG_INT("until", 0, CFGF_NONE),
	    CFG_STR("effect", NULL, CFGF_NONE),
	    CFG_STR("complete_form", NULL, CFGF_NONE),
	    CFG_STR("complete_round", NULL, CFGF_NONE),
	    CFG_INT("attendance", 0, CFGF_NONE),
	    CFG_STR("shows", NULL, CFGF_NONE),
	    CFG_STR("group", NULL, CFGF_NONE),
	    CFG_STR("compare", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t session_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_STR("date", NULL, CFGF_NONE),
	    CFG_STR("time", NULL, CFGF_NONE),
	    CFG_STR("location", NULL, CFGF_NONE),
	    CFG_BOOL("cancelled", cfg_false, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t certificate_opts[] = {
	    CFG_STR("signer", NULL, CFGF_NONE),
	    CFG_STR("signer_title", NULL, CFGF_NONE),
	    CFG_STR("organisation", NULL, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t program_opts[] = {
	    CFG_STR("title", NULL, CFGF_NONE),
	    CFG_STR_LIST("addresses", NULL, CFGF_NONE),
	    CFG_STR("timezone", NULL, CFGF_NONE),
	    CFG_STR_LIST("coordinators", NULL, CFGF_NONE),
	    CFG_STR("start", NULL, CFGF_NONE),
	    CFG_STR("end", NULL, CFGF_NONE),
	    CFG_STR("unit", NULL, CFGF_NONE),
	    CFG_STR("pairs", NULL, CFGF_NONE),
	    /* The first release's keys, refused with where they went. */
	    CFG_STR("kind", NULL, CFGF_NODEFAULT),
	    CFG_INT("meetings_per_month", 0, CFGF_NODEFAULT),
	    CFG_INT("reminder_day", 0, CFGF_NODEFAULT),
	    CFG_INT("class_size", 0, CFGF_NODEFAULT),
	    CFG_BOOL("notify_supervisor", cfg_false, CFGF_NODEFAULT),
	    CFG_SEC("role", role_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("group", group_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("form", form_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("topic", topic_opts, CFGF_MULTI | CFGF_TITLE),
	    CFG_SEC("step", step_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("certificate", certificate_opts, CFGF_NONE),
	    CFG_SEC("session", session_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_INT("session_attendance", 0, CFGF_NONE),
	    CFG_END(),
	};
	cfg_opt_t imap_opts[] = {
	    CFG_STR("url", NULL, CFGF_NONE),        CFG_STR("user", NULL, CFGF_NONE),
	    CFG_STR("password", NULL, CFGF_NONE),   CFG_STR("password_file", NULL, CFGF_NONE),
	    CFG_STR("mailbox", "INBOX", CFGF_NONE), CFG_STR("processed_mailbox", NULL, CFGF_NONE),
	    CFG_BOOL("idle", cfg_true, CFGF_NONE),  CFG_INT("poll_interval", 60, CFGF_NONE),
	    CFG_INT("timeout", 30, CFGF_NONE),      CFG_BOOL("tls", cfg_true, CFGF_NONE),
	    CFG_STR("ca_file", NULL, CFGF_NONE),    CFG_INT("max_message_size", 10, CFGF_NONE),
	    CFG_STR("auth", "password", CFGF_NONE), CFG_END(),
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
	    CFG_STR("state_directory", NULL, CFGF_NONE),
	    CFG_STR_LIST("trusted_authserv_id", NULL, CFGF_NONE),
	    CFG_INT("max_auto_replies_per_day", 5, CFGF_NONE),
	    CFG_INT("fanout_chunk", 500, CFGF_NONE),
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
	ld.schema = opts;
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
	config_check_closed(&ld);
	if (ld.problems.n > 0)
		goto out;

	config = xcalloc(1, sizeof(*config));
	config->path = xstrdup(path);
	config_convert(&ld, cfg, config);
	if (print != NULL)
		config_print_tree(&ld, cfg, config, print);
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
	free(ld.quiet);
	strbuf_free(&ld.text);
	free(ld.origins);
	free(ld.keys);
	strvec_free(&ld.problems);
	return ret;
}

int
config_load(const char *path, struct config **config_r, const char **error_r)
{
	return config_read(path, NULL, config_r, error_r);
}

int
config_print(const char *path, FILE *out, const char **error_r)
{
	struct config *config = NULL;
	int ret = config_read(path, out, &config, error_r);

	config_free(&config);
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
	if (addr == NULL)
		return false;
	if (strvec_contains_ci(&config->coordinators, addr))
		return true;
	for (size_t i = 0; i < config->nprograms; i++)
		if (strvec_contains_ci(&config->programs[i].coordinators, addr))
			return true;
	return false;
}

bool
config_program_coordinator(const struct config_program *program, const char *addr)
{
	return addr != NULL && strvec_contains_ci(&program->coordinators, addr);
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
	free(config->templates_where);
	free(config->timezone);
	free(config->hmac_secret);
	free(config->hmac_secret_path);
	free(config->state_dir);
	strvec_free(&config->trusted_authserv_ids);
	free(config->imap.url);
	free(config->imap.host);
	free(config->imap.ca_file);
	free(config->imap.user);
	free(config->imap.password);
	free(config->imap.password_file);
	free(config->imap.mailbox);
	free(config->imap.processed_mailbox);
	free(config->smtp.url);
	free(config->smtp.ca_file);
	free(config->smtp.user);
	free(config->smtp.password);
	free(config->smtp.password_file);
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
		free(p->timezone);
		strvec_free(&p->addresses);
		strvec_free(&p->coordinators);
		free(p->start_date);
		free(p->end_date);
		program_free(&p->model);
	}
	free(config->programs);
	free(config);
	*configp = NULL;
}

/* Reads the generated secret at path: a private regular file with the
 * secret on its first line. */
static int
config_read_state_secret(const char *path, char **secret_r, const char **error_r)
{
	const char *error;
	struct stat st;
	char *data = NULL;
	size_t len;

	if (stat(path, &st) < 0) {
		*error_r = errorf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		*error_r = errorf("%s must be a regular file only its owner can read; chmod 600 %s",
		                  path, path);
		return -1;
	}
	if (read_file(path, CONFIG_SECRET_MAX, &data, &len, &error) < 0) {
		*error_r = error;
		return -1;
	}
	data[strcspn(data, "\r\n")] = '\0';
	if (strlen(data) < 16) {
		free(data);
		*error_r = errorf("%s holds fewer than 16 characters; remove it and a new secret "
		                  "is made at the next start (replies to mail already sent will "
		                  "then need confirming)",
		                  path);
		return -1;
	}
	*secret_r = data;
	return 0;
}

/*
 * Cases:
 *   1. a secret is configured (hmac_secret, or hmac_secret_file read at
 *      load): nothing to do;
 *   2. the state file exists: read it;
 *   3. it does not: 32 random bytes, hex, written to a private temporary
 *      file (owned by the state directory's owner when root makes it),
 *      synced, then link()ed to its name, which fails if another process
 *      made it first; then that one is read.  The directory is synced so
 *      the name survives a power loss.
 */
int
config_ensure_secret(struct config *config, const char **error_r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	char text[2 * sizeof(raw) + 2], *tmp = NULL;
	int fd = -1, ret = -1;

	if (config->hmac_secret != NULL)
		return 0;
	if (access(config->hmac_secret_path, F_OK) == 0)
		return config_read_state_secret(config->hmac_secret_path, &config->hmac_secret,
		                                error_r);
	random_bytes(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 15];
	}
	text[2 * sizeof(raw)] = '\n';
	text[2 * sizeof(raw) + 1] = '\0';
	tmp = xasprintf("%s.%ld.tmp", config->hmac_secret_path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r =
		    errorf("cannot create %s: %s; mentord needs to write its state directory "
		           "%s",
		           tmp, strerror(errno), config->state_dir);
		goto out;
	}
	/* Made by root (sudo mentorctl before the first start): it goes to
	 * the owner of the state directory, the user the daemon runs as,
	 * which could not read a root-owned secret and would not start. */
	{
		struct stat dir;

		if (geteuid() == 0 && stat(config->state_dir, &dir) == 0 && dir.st_uid != 0 &&
		    fchown(fd, dir.st_uid, dir.st_gid) < 0) {
			*error_r = errorf("cannot give %s to the owner of %s: %s", tmp,
			                  config->state_dir, strerror(errno));
			goto out;
		}
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) < 0) {
		*error_r = errorf("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, config->hmac_secret_path) < 0 && errno != EEXIST) {
		*error_r =
		    errorf("cannot create %s: %s", config->hmac_secret_path, strerror(errno));
		goto out;
	}
	{
		int dfd = open(config->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	ret = config_read_state_secret(config->hmac_secret_path, &config->hmac_secret, error_r);
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return ret;
}
