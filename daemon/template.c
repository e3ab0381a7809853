/* template: rendering the text of outgoing mail; see include/template.h. */
#include "template.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMPLATE_FILE_MAX (256 * 1024)
#define TEMPLATE_DEPTH_MAX 32

struct template_var {
	char *key; /* owned */
	size_t keylen;
	char *value; /* owned, never NULL */
	bool confidential;
};

struct template_vars {
	struct template_var *v; /* owned */
	size_t n, cap;
};

enum template_tok_kind {
	TOK_TEXT,
	TOK_VAR,
	TOK_OPEN,   /* {{#name}} */
	TOK_INVERT, /* {{^name}} */
	TOK_CLOSE,  /* {{/name}} */
};

/* A piece of the template; s is borrowed from the template text. */
struct template_tok {
	enum template_tok_kind kind;
	const char *s; /* TEXT: the text; others: the variable name */
	size_t len;
	size_t line;
	/* TEXT: bytes cut at each end because a section tag stood alone on
	 * the neighbouring line. */
	size_t cut_start, cut_end;
};

/* What a render needs besides the tokens. */
struct template_ctx {
	const char *file; /* the name shown in errors, e.g. "welcome.txt" */
	const struct template_vars *vars;
	enum template_audience audience;
	const char *const *confidential; /* NULL-terminated extra names; may be NULL */
	bool check_only;                 /* template_check: no values, no output */
};

struct template_vars *
template_vars_new(void)
{
	return xcalloc(1, sizeof(struct template_vars));
}

static struct template_var *
template_vars_find(const struct template_vars *vars, const char *key, size_t len)
{
	if (vars == NULL)
		return NULL;
	for (size_t i = 0; i < vars->n; i++)
		if (vars->v[i].keylen == len && memcmp(vars->v[i].key, key, len) == 0)
			return &vars->v[i];
	return NULL;
}

/* Setting a key again replaces its value; once confidential, a key stays
 * confidential, so a later plain set cannot leak it to supervisors. */
static void
template_vars_put(struct template_vars *vars, const char *key, char *value, bool confidential)
{
	size_t keylen = strlen(key);
	struct template_var *v = template_vars_find(vars, key, keylen);

	if (v == NULL) {
		vars->v = xgrow(vars->v, &vars->cap, vars->n + 1, sizeof(*vars->v));
		v = &vars->v[vars->n++];
		v->key = xstrndup(key, keylen);
		v->keylen = keylen;
		v->value = NULL;
		v->confidential = false;
	}
	free(v->value);
	v->value = value;
	v->confidential = v->confidential || confidential;
}

void
template_vars_set(struct template_vars *vars, const char *key, const char *value)
{
	template_vars_put(vars, key, xstrdup(value == NULL ? "" : value), false);
}

void
template_vars_setf(struct template_vars *vars, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *value;

	va_start(ap, fmt);
	value = xvasprintf(fmt, ap);
	va_end(ap);
	template_vars_put(vars, key, value, false);
}

void
template_vars_set_confidential(struct template_vars *vars, const char *key, const char *value)
{
	template_vars_put(vars, key, xstrdup(value == NULL ? "" : value), true);
}

void
template_vars_free(struct template_vars **vars)
{
	struct template_vars *v = *vars;

	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].value);
	}
	free(v->v);
	free(v);
	*vars = NULL;
}

static bool
template_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
template_name_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static void
template_push(struct template_tok **toks, size_t *n, size_t *cap, struct template_tok tok)
{
	*toks = xgrow(*toks, cap, *n + 1, sizeof(**toks));
	(*toks)[(*n)++] = tok;
}

/* Splits s (NUL-terminated, LF line ends) into tokens; line numbers start
 * at first_line.  The caller owns *toks_r. */
static int
template_tokenize(const struct template_ctx *ctx, const char *s, size_t first_line,
                  struct template_tok **toks_r, size_t *n_r, const char **error_r)
{
	struct template_tok *toks = NULL;
	size_t n = 0, cap = 0, line = first_line;
	const char *p = s;

	/* Room for the tags of a typical part at once, not a doubling run. */
	toks = xgrow(toks, &cap, 16, sizeof(*toks));
	while (*p != '\0') {
		const char *open = strstr(p, "{{"), *close, *name, *end;
		struct template_tok tok = {.kind = TOK_TEXT};

		if (open == NULL)
			open = p + strlen(p);
		if (open > p) {
			tok.s = p;
			tok.len = (size_t)(open - p);
			tok.line = line;
			template_push(&toks, &n, &cap, tok);
			const char *q = memchr(p, '\n', (size_t)(open - p));

			while (q != NULL) {
				line++;
				q = memchr(q + 1, '\n', (size_t)(open - q - 1));
			}
		}
		if (*open == '\0')
			break;
		close = strstr(open + 2, "}}");
		if (close == NULL || memchr(open + 2, '\n', (size_t)(close - open - 2)) != NULL) {
			*error_r =
			    errorf("template %s line %zu: \"{{\" without \"}}\" on the same line",
			           ctx->file, line);
			free(toks);
			return -1;
		}
		name = open + 2;
		end = close;
		while (name < end && template_is_blank(*name))
			name++;
		tok.kind = TOK_VAR;
		if (name < end && (*name == '#' || *name == '^' || *name == '/')) {
			tok.kind = *name == '#' ? TOK_OPEN : *name == '^' ? TOK_INVERT : TOK_CLOSE;
			name++;
			while (name < end && template_is_blank(*name))
				name++;
		}
		while (end > name && template_is_blank(end[-1]))
			end--;
		if (!template_name_valid(name, (size_t)(end - name))) {
			*error_r = errorf("template %s line %zu: bad tag \"%.*s\"; variable names "
			                  "are lower case letters, digits and _",
			                  ctx->file, line, (int)(close + 2 - open), open);
			free(toks);
			return -1;
		}
		tok.s = name;
		tok.len = (size_t)(end - name);
		tok.line = line;
		template_push(&toks, &n, &cap, tok);
		p = close + 2;
	}
	*toks_r = toks;
	*n_r = n;
	return 0;
}

/* Marks section tags that stand alone on their line, so that the line
 * (its indentation and its newline) disappears from the output, as in
 * Mustache.  Decisions use the original text; cuts are applied after. */
static void
template_standalone(struct template_tok *toks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct template_tok *prev = i > 0 ? &toks[i - 1] : NULL;
		const struct template_tok *next = i + 1 < n ? &toks[i + 1] : NULL;
		size_t before = 0, after = 0, k;

		if (toks[i].kind == TOK_TEXT || toks[i].kind == TOK_VAR)
			continue;
		if (prev != NULL) {
			if (prev->kind != TOK_TEXT)
				continue;
			k = prev->len;
			while (k > 0 && template_is_blank(prev->s[k - 1]))
				k--;
			if (k > 0 ? prev->s[k - 1] != '\n' : i - 1 != 0)
				continue;
			before = prev->len - k;
		}
		if (next != NULL) {
			if (next->kind != TOK_TEXT)
				continue;
			k = 0;
			while (k < next->len && template_is_blank(next->s[k]))
				k++;
			if (k < next->len && next->s[k] == '\n')
				after = k + 1;
			else if (k == next->len && i + 2 == n)
				after = k;
			else
				continue;
		}
		if (prev != NULL)
			toks[i - 1].cut_end = before;
		if (next != NULL)
			toks[i + 1].cut_start = after;
	}
}

static bool
template_is_confidential(const struct template_ctx *ctx, const struct template_tok *tok)
{
	const struct template_var *v = template_vars_find(ctx->vars, tok->s, tok->len);

	if (v != NULL && v->confidential)
		return true;
	for (size_t i = 0; ctx->confidential != NULL && ctx->confidential[i] != NULL; i++)
		if (strlen(ctx->confidential[i]) == tok->len &&
		    memcmp(ctx->confidential[i], tok->s, tok->len) == 0)
			return true;
	return false;
}

/* Renders tokens into out.  Cases handled:
 *   1. text is kept when every enclosing section is on;
 *   2. {{name}} inside sections that are on must be set;
 *   3. {{#name}} is on when name is set and not empty, {{^name}} otherwise;
 *      {{/name}} must close the innermost open section;
 *   4. for the supervisor audience, any reference to a confidential
 *      variable, on or off, is an error: the template itself is wrong;
 *   5. a section still open at the end is an error. */
static int
template_eval(const struct template_ctx *ctx, const struct template_tok *toks, size_t n,
              struct strbuf *out, const char **error_r)
{
	const struct template_tok *stack[TEMPLATE_DEPTH_MAX];
	bool was_on[TEMPLATE_DEPTH_MAX];
	size_t depth = 0;
	bool on = true;

	for (size_t i = 0; i < n; i++) {
		const struct template_tok *t = &toks[i];
		const struct template_var *v;

		if (t->kind == TOK_TEXT) {
			if (on && !ctx->check_only && t->cut_start + t->cut_end < t->len)
				strbuf_add(out, t->s + t->cut_start,
				           t->len - t->cut_start - t->cut_end);
			continue;
		}
		if (t->kind != TOK_CLOSE && ctx->audience == AUDIENCE_SUPERVISOR &&
		    template_is_confidential(ctx, t)) {
			*error_r = errorf("template %s uses confidential variable {{%.*s}}; it is "
			                  "sent to supervisors",
			                  ctx->file, (int)t->len, t->s);
			return -1;
		}
		v = template_vars_find(ctx->vars, t->s, t->len);
		switch (t->kind) {
		case TOK_VAR:
			if (!on || ctx->check_only)
				break;
			if (v == NULL) {
				*error_r =
				    errorf("template %s line %zu: variable {{%.*s}} is not set",
				           ctx->file, t->line, (int)t->len, t->s);
				return -1;
			}
			strbuf_adds(out, v->value);
			break;
		case TOK_OPEN:
		case TOK_INVERT:
			if (depth == TEMPLATE_DEPTH_MAX) {
				*error_r =
				    errorf("template %s line %zu: sections nested too deeply",
				           ctx->file, t->line);
				return -1;
			}
			stack[depth] = t;
			was_on[depth++] = on;
			on = on && (v != NULL && v->value[0] != '\0') == (t->kind == TOK_OPEN);
			break;
		case TOK_CLOSE:
			if (depth == 0) {
				*error_r =
				    errorf("template %s line %zu: {{/%.*s}} closes no section",
				           ctx->file, t->line, (int)t->len, t->s);
				return -1;
			}
			if (stack[depth - 1]->len != t->len ||
			    memcmp(stack[depth - 1]->s, t->s, t->len) != 0) {
				*error_r =
				    errorf("template %s line %zu: {{/%.*s}} does not close the "
				           "section {{%c%.*s}} opened on line %zu",
				           ctx->file, t->line, (int)t->len, t->s,
				           stack[depth - 1]->kind == TOK_OPEN ? '#' : '^',
				           (int)stack[depth - 1]->len, stack[depth - 1]->s,
				           stack[depth - 1]->line);
				return -1;
			}
			on = was_on[--depth];
			break;
		case TOK_TEXT:
			break;
		}
	}
	if (depth > 0) {
		*error_r = errorf("template %s line %zu: section {{%c%.*s}} is not closed with "
		                  "{{/%.*s}}",
		                  ctx->file, stack[depth - 1]->line,
		                  stack[depth - 1]->kind == TOK_OPEN ? '#' : '^',
		                  (int)stack[depth - 1]->len, stack[depth - 1]->s,
		                  (int)stack[depth - 1]->len, stack[depth - 1]->s);
		return -1;
	}
	return 0;
}

static int
template_render_part(const struct template_ctx *ctx, const char *s, size_t first_line,
                     bool standalone, struct strbuf *out, const char **error_r)
{
	struct template_tok *toks = NULL;
	size_t n = 0;
	int ret;

	if (template_tokenize(ctx, s, first_line, &toks, &n, error_r) < 0)
		return -1;
	if (standalone)
		template_standalone(toks, n);
	ret = template_eval(ctx, toks, n, out, error_r);
	free(toks);
	return ret;
}

/* CRLF and lone CR become LF.  Caller owns.  Copies the runs between CRs
 * whole: it runs twice for every email rendered. */
static char *
template_unix_newlines(const char *s, size_t *len_r)
{
	size_t len = strlen(s);
	char *out = xmalloc(len + 1), *w = out;
	const char *end = s + len;

	while (s < end) {
		const char *cr = memchr(s, '\r', (size_t)(end - s));
		size_t run = cr != NULL ? (size_t)(cr - s) : (size_t)(end - s);

		memcpy(w, s, run);
		w += run;
		s += run;
		if (cr == NULL)
			break;
		*w++ = '\n';
		s += s + 1 < end && s[1] == '\n' ? 2 : 1;
	}
	*w = '\0';
	*len_r = (size_t)(w - out);
	return out;
}

/* template_unix_newlines on sb in place (sb holds no NUL byte: it is
 * built from C strings); returns the new length. */
static size_t
template_unix_newlines_inplace(struct strbuf *sb)
{
	char *r, *w, *end;

	if (sb->len == 0)
		return 0;
	end = sb->buf + sb->len;
	r = w = memchr(sb->buf, '\r', sb->len);
	if (r == NULL)
		return sb->len;
	while (r < end) {
		if (*r == '\r') {
			*w++ = '\n';
			r += r + 1 < end && r[1] == '\n' ? 2 : 1;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - sb->buf);
}

/* A subject is one line: runs of blanks holding a line break become one
 * space, and it is trimmed.  Caller owns.  The result is never longer than
 * s, so it is written straight into one allocation. */
static char *
template_one_line(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *w = out;
	const char *end = s + len;

	while (s < end) {
		const char *run = s;
		bool brk = false;

		while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
			brk = brk || *s == '\r' || *s == '\n';
			s++;
		}
		if (s == run) {
			*w++ = *s++;
		} else if (!brk) {
			memcpy(w, run, (size_t)(s - run));
			w += s - run;
		} else {
			*w++ = ' ';
		}
	}
	*w = '\0';
	return str_trim(out);
}

/* Cases handled in the header block (lines up to the first blank one):
 *   1. "Subject: ..." (any case), exactly once, required;
 *   2. any other line is an error, so a misspelt "Subjet:" cannot turn
 *      into body text or be silently dropped;
 *   3. without a blank line the whole file is headers and the body empty. */
static int
template_run(struct template_ctx *ctx, const char *text, const char *name, char **subject_r,
             char **body_r, const char **error_r)
{
	struct strbuf subject = {0}, body = {0};
	char *file = NULL, *norm_copy = NULL, *subj_text = NULL;
	const char *norm;
	const char *p, *body_start = NULL;
	size_t line = 1, subj_line = 0, body_line = 0, len, norm_len;
	int ret = -1;

	len = strlen(name);
	if (len >= 4 && strcmp(name + len - 4, ".txt") == 0) {
		file = xstrndup(name, len);
	} else {
		file = xmalloc(len + 5);
		memcpy(file, name, len);
		memcpy(file + len, ".txt", 5);
	}
	ctx->file = file;
	/* Template files rarely hold a CR: then the text is used as it is. */
	norm_len = strlen(text);
	if (memchr(text, '\r', norm_len) == NULL) {
		norm = text;
	} else {
		norm_copy = template_unix_newlines(text, &norm_len);
		norm = norm_copy;
	}
	p = norm;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ll = nl == NULL ? strlen(p) : (size_t)(nl - p);
		const char *colon = memchr(p, ':', ll);

		if (strspn(p, " \t") >= ll) {
			body_start = nl == NULL ? p + ll : nl + 1;
			body_line = line + 1;
			break;
		}
		if (colon != NULL && (size_t)(colon - p) == 7 && str_istarts(p, "subject")) {
			if (subj_text != NULL) {
				*error_r = errorf("template %s line %zu: a second Subject line",
				                  file, line);
				goto out;
			}
			subj_text = xstrndup(colon + 1, ll - 8);
			subj_line = line;
		} else if (colon != NULL) {
			*error_r = errorf("template %s line %zu: unknown header \"%.*s\"; only "
			                  "Subject is allowed before the blank line",
			                  file, line, (int)(colon - p), p);
			goto out;
		} else {
			*error_r = errorf("template %s line %zu: expected \"Subject: ...\", then a "
			                  "blank line, then the body",
			                  file, line);
			goto out;
		}
		line++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (subj_text == NULL) {
		*error_r = errorf("template %s: no \"Subject:\" line at the top", file);
		goto out;
	}
	if (template_render_part(ctx, subj_text, subj_line, false, &subject, error_r) < 0)
		goto out;
	if (body_start != NULL) {
		/* Room for the text and typical values at once, not by doubling. */
		strbuf_room(&body, (size_t)(norm + norm_len - body_start) + 1024);
		strbuf_commit(&body, 0); /* NUL-terminated even if nothing is added */
		if (template_render_part(ctx, body_start, body_line, true, &body, error_r) < 0)
			goto out;
	}
	/* Values may hold CRs: line ends again, in place (the text only
	 * shrinks), then trailing blanks and newlines trimmed to one newline. */
	len = template_unix_newlines_inplace(&body);
	while (len > 0 &&
	       (body.buf[len - 1] == '\n' || body.buf[len - 1] == ' ' || body.buf[len - 1] == '\t'))
		len--;
	strbuf_truncate(&body, len);
	strbuf_addc(&body, '\n');
	*subject_r = template_one_line(strbuf_str(&subject), subject.len);
	*body_r = strbuf_detach(&body);
	ret = 0;
out:
	strbuf_free(&subject);
	strbuf_free(&body);
	free(subj_text);
	free(norm_copy);
	free(file);
	return ret;
}

static bool
template_file_name_ok(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

/*
 * The texts of template files, read once per process: a backlog of
 * messages renders an answer or two for each, and opening and reading the
 * file every time was a good part of it.  Keyed by path; a file that
 * cannot be read is not kept, so the next use tries again.  template_check
 * reads through it too, so the texts rendered are the ones checked at
 * start-up; on reload (SIGHUP) the daemon sets the kept texts aside
 * (template_cache_detach), checks the new templates, which reads them
 * afresh, and then drops the old texts or, when the reload is refused, puts
 * them back.  Not thread-safe: mentord renders from one thread.
 */
struct template_file {
	char *path; /* owned */
	char *text; /* owned */
};

struct template_cache {
	struct template_file *v; /* owned */
	size_t n, cap;
};

static struct template_cache template_kept;

struct template_cache *
template_cache_detach(void)
{
	struct template_cache *c = xcalloc(1, sizeof(*c));

	*c = template_kept;
	memset(&template_kept, 0, sizeof(template_kept));
	return c;
}

void
template_cache_free(struct template_cache **cache)
{
	struct template_cache *c = *cache;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].text);
	}
	free(c->v);
	free(c);
	*cache = NULL;
}

void
template_cache_restore(struct template_cache **cache)
{
	struct template_cache *now = template_cache_detach();

	template_cache_free(&now);
	if (*cache != NULL) {
		template_kept = **cache;
		free(*cache);
		*cache = NULL;
	}
}

/* The text of dir/NAME.txt, borrowed from the cache. */
static int
template_text(const char *dir, const char *name, const char **text_r, const char **error_r)
{
	char *path, *data = NULL;
	size_t len, dlen, nlen;

	if (!template_file_name_ok(name)) {
		*error_r = errorf("bad template name \"%s\"", name);
		return -1;
	}
	/* Looked up without building the path: this runs for every email. */
	dlen = strlen(dir);
	nlen = strlen(name);
	for (size_t i = 0; i < template_kept.n; i++) {
		const char *k = template_kept.v[i].path;

		if (template_kept.v[i].text != NULL && strncmp(k, dir, dlen) == 0 &&
		    k[dlen] == '/' && strncmp(k + dlen + 1, name, nlen) == 0 &&
		    strcmp(k + dlen + 1 + nlen, ".txt") == 0) {
			*text_r = template_kept.v[i].text;
			return 0;
		}
	}
	path = xasprintf("%s/%s.txt", dir, name);
	if (read_file(path, TEMPLATE_FILE_MAX, &data, &len, error_r) < 0) {
		free(path);
		return -1;
	}
	template_kept.v = xgrow(template_kept.v, &template_kept.cap, template_kept.n + 1,
	                        sizeof(*template_kept.v));
	template_kept.v[template_kept.n].path = path;
	template_kept.v[template_kept.n].text = data;
	template_kept.n++;
	*text_r = data;
	return 0;
}

/* Whether dir/NAME.txt exists; a missing file is remembered as missing
 * (text NULL), so asking again costs no system call. */
static bool
template_exists(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s.txt", dir, name);
	bool found = false, known = false;

	for (size_t i = 0; i < template_kept.n && !known; i++) {
		if (strcmp(template_kept.v[i].path, path) == 0) {
			known = true;
			found = template_kept.v[i].text != NULL;
		}
	}
	if (!known) {
		found = access(path, F_OK) == 0;
		if (!found) {
			template_kept.v = xgrow(template_kept.v, &template_kept.cap,
			                        template_kept.n + 1, sizeof(*template_kept.v));
			template_kept.v[template_kept.n].path = path;
			template_kept.v[template_kept.n].text = NULL;
			template_kept.n++;
			return false;
		}
	}
	free(path);
	return found;
}

char *
template_dir_for(const char *dir, const char *program, const char *name)
{
	if (program != NULL && template_file_name_ok(program)) {
		char *sub = xasprintf("%s/%s", dir, program);

		if (template_exists(sub, name))
			return sub;
		free(sub);
	}
	return xstrdup(dir);
}

int
template_render_for(const char *dir, const char *program, const char *name,
                    const struct template_vars *vars, enum template_audience audience,
                    char **subject_r, char **body_r, const char **error_r)
{
	char *where = template_dir_for(dir, program, name);
	int ret = template_render(where, name, vars, audience, subject_r, body_r, error_r);

	free(where);
	return ret;
}

int
template_render(const char *dir, const char *name, const struct template_vars *vars,
                enum template_audience audience, char **subject_r, char **body_r,
                const char **error_r)
{
	const char *text;

	if (template_text(dir, name, &text, error_r) < 0)
		return -1;
	return template_render_string(text, name, vars, audience, subject_r, body_r, error_r);
}

int
template_render_string(const char *text, const char *name, const struct template_vars *vars,
                       enum template_audience audience, char **subject_r, char **body_r,
                       const char **error_r)
{
	struct template_ctx ctx = {.vars = vars, .audience = audience};

	return template_run(&ctx, text, name, subject_r, body_r, error_r);
}

int
template_check_string(const char *text, const char *name, enum template_audience audience,
                      const char *const *confidential, const char **error_r)
{
	struct template_ctx ctx = {
	    .audience = audience, .confidential = confidential, .check_only = true};
	char *subject = NULL, *body = NULL;
	int ret;

	ret = template_run(&ctx, text, name, &subject, &body, error_r);
	free(subject);
	free(body);
	return ret;
}

int
template_check(const char *dir, const char *name, enum template_audience audience,
               const char *const *confidential, const char **error_r)
{
	const char *text;

	if (template_text(dir, name, &text, error_r) < 0)
		return -1;
	return template_check_string(text, name, audience, confidential, error_r);
}
