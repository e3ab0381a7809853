/* form: plain-text `Key: value` forms; see include/form.h. */
#include "form.h"
#include "clock.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A "key" whose colon comes later than this is prose, not a key; the bound
 * also keeps key matching linear on hostile input. */
#define FORM_KEY_MAX 200
/* Items longer than this are only matched exactly, so fuzzy matching stays
 * linear in the input. */
#define FORM_ITEM_MAX 300
/* What a problem sentence quotes of what the person wrote. */
#define FORM_QUOTE_MAX 80
/* A choice list longer than this is not spelled out in a problem. */
#define FORM_CHOICES_MAX 300

/* A line of the input; s is borrowed from the text. */
struct form_line {
	const char *s;
	size_t len;
};

/* What was collected for one field before it is validated. */
struct form_slot {
	bool seen;
	/* The value after the colon, then the following lines up to the next
	 * key, each trimmed, quote markers removed. */
	struct strvec lines;
};

/* Normalised strings, borrowed from a form_norm's arena. */
struct form_nvec {
	const char **v;
	size_t n;
};

/* Normalised keys and choices of a definition, computed once per parse.
 * Everything lives in two blocks (vectors and pointers, then the bytes):
 * a parse used to allocate every normalised key and choice on its own,
 * which cost more than the parse itself. */
struct form_norm {
	struct form_nvec *names;   /* per field: key then aliases */
	struct form_nvec *choices; /* per field: normalised choices */
	size_t nfields;
	void *block; /* owned: names, choices and the pointers */
	char *bytes; /* owned: the normalised strings */
};

static bool
form_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n';
}

static bool
form_is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
form_trim_view(const char **s, size_t *len)
{
	while (*len > 0 && form_is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && form_is_space((*s)[*len - 1]))
		(*len)--;
}

/* Skips leading blanks and quote markers (">", "> >", ">>"); returns the
 * offset of what follows and the quote depth. */
static size_t
form_skip_quotes(const char *s, size_t len, size_t *depth_r)
{
	size_t i = 0, depth = 0;

	while (i < len && form_is_space(s[i]))
		i++;
	while (i < len && s[i] == '>') {
		depth++;
		i++;
		while (i < len && form_is_space(s[i]))
			i++;
	}
	*depth_r = depth;
	return i;
}

/* Skips one bullet ("- ", "* ", "• ", and when numbered "1. ", "1) ") and
 * the blanks after it. */
static size_t
form_skip_bullet(const char *s, size_t len, bool numbered)
{
	size_t i = 0, n = 0;

	if (len >= 2 && (s[0] == '-' || s[0] == '*') && (s[1] == ' ' || s[1] == '\t'))
		i = 2;
	else if (len >= 4 && memcmp(s, "\xe2\x80\xa2", 3) == 0 && (s[3] == ' ' || s[3] == '\t'))
		i = 4;
	else if (numbered) {
		while (n < len && n < 3 && isdigit((unsigned char)s[n]))
			n++;
		if (n > 0 && n + 1 < len && (s[n] == '.' || s[n] == ')') &&
		    (s[n + 1] == ' ' || s[n + 1] == '\t'))
			i = n + 2;
	}
	while (i > 0 && i < len && form_is_space(s[i]))
		i++;
	return i;
}

/* Checkbox mark at the start of s: 1 checked ("[x]", "(x)", "[*]"),
 * -1 unchecked ("[ ]", "[]", "( )"), 0 none.  *skip_r is its length. */
static int
form_checkbox(const char *s, size_t len, size_t *skip_r)
{
	char close;
	size_t i = 1;

	*skip_r = 0;
	if (len < 2 || (s[0] != '[' && s[0] != '('))
		return 0;
	close = s[0] == '[' ? ']' : ')';
	while (i < len && i < 4 && s[i] == ' ')
		i++;
	if (i < len && s[i] == close) {
		*skip_r = i + 1;
		return -1;
	}
	if (i + 1 < len && (s[i] == 'x' || s[i] == 'X' || s[i] == '*') &&
	    (s[i + 1] == close || s[i + 1] == ' ')) {
		i++;
		while (i < len && s[i] == ' ')
			i++;
		if (i < len && s[i] == close) {
			*skip_r = i + 1;
			return 1;
		}
	}
	/* "[✓]" and "[✔]" */
	if (i + 3 < len &&
	    (memcmp(s + i, "\xe2\x9c\x93", 3) == 0 || memcmp(s + i, "\xe2\x9c\x94", 3) == 0) &&
	    s[i + 3] == close) {
		*skip_r = i + 4;
		return 1;
	}
	return 0;
}

/* Normalises a key: paren hints dropped, markdown emphasis and trailing
 * colons stripped, ASCII lower case, blanks collapsed.  Writes at most len
 * bytes and a NUL to out; returns the length written. */
static size_t
form_norm_key(const char *s, size_t len, char *out)
{
	size_t depth = 0, n = 0, a, b;
	bool space = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '(') {
			depth++;
			continue;
		}
		if (c == ')') {
			if (depth > 0)
				depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (form_is_space(c)) {
			space = true;
			continue;
		}
		if (space && n > 0)
			out[n++] = ' ';
		space = false;
		out[n++] = ascii_lower(c);
	}
	/* Strip "**", "__" and trailing ':' around what is left. */
	a = 0;
	b = n;
	while (a < b && (out[a] == '*' || out[a] == '_' || out[a] == ' '))
		a++;
	while (b > a &&
	       (out[b - 1] == '*' || out[b - 1] == '_' || out[b - 1] == ' ' || out[b - 1] == ':'))
		b--;
	memmove(out, out + a, b - a);
	out[b - a] = '\0';
	return b - a;
}

/* Normalises a choice or item for loose comparison: lower case, "&" as
 * "and", ASCII punctuation as blanks, blanks collapsed.  Writes at most
 * 4 * len bytes and a NUL to out; returns the length written. */
static size_t
form_norm_choice(const char *s, size_t len, char *out)
{
	size_t n = 0;
	bool space = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '&') {
			if (n > 0)
				out[n++] = ' ';
			memcpy(out + n, "and", 3);
			n += 3;
			space = true;
			continue;
		}
		if (c < 0x80 && !form_is_alnum(c)) {
			space = true;
			continue;
		}
		if (space && n > 0)
			out[n++] = ' ';
		space = false;
		out[n++] = ascii_lower((char)c);
	}
	out[n] = '\0';
	return n;
}

/* Finds the colon ending a key: ':' or full-width '：' outside parentheses,
 * within FORM_KEY_MAX bytes.  Sets the key length and value offset. */
static bool
form_find_colon(const char *s, size_t len, size_t *keylen_r, size_t *value_r)
{
	size_t depth = 0;

	for (size_t i = 0; i < len && i < FORM_KEY_MAX; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && s[i] == ':') {
			*keylen_r = i;
			*value_r = i + 1;
			return true;
		} else if (depth == 0 && i + 2 < len && memcmp(s + i, "\xef\xbc\x9a", 3) == 0) {
			*keylen_r = i;
			*value_r = i + 3;
			return true;
		}
	}
	return false;
}

/* The field whose key starts line s (quotes and bullet already skipped), or
 * -1; *value_r is the offset of the value. */
static int
form_match_key(const struct form_norm *norm, const char *s, size_t len, size_t *value_r)
{
	size_t keylen, voff;
	char key[FORM_KEY_MAX + 1]; /* form_find_colon keeps keylen < FORM_KEY_MAX */
	int found = -1;

	if (!form_find_colon(s, len, &keylen, &voff))
		return -1;
	form_norm_key(s, keylen, key);
	if (*key != '\0') {
		for (size_t f = 0; f < norm->nfields && found < 0; f++) {
			for (size_t j = 0; j < norm->names[f].n; j++) {
				if (strcmp(norm->names[f].v[j], key) == 0) {
					found = (int)f;
					break;
				}
			}
		}
	}
	/* "**Name:** Ana": the closing emphasis follows the colon. */
	while (voff < len && (s[voff] == '*' || s[voff] == '_'))
		voff++;
	*value_r = voff;
	return found;
}

static bool
form_ends_with_ci(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[len - n + i]) != suffix[i])
			return false;
	return true;
}

/* Whether line i ends the form once a field has started.  Cases:
 *   1. a quoted line when the form itself was not quoted;
 *   2. a signature separator "-- " (or "--");
 *   3. "-----Original Message-----" and Outlook's "_____" divider;
 *   4. an attribution "On ... wrote:", also wrapped over up to three lines. */
static bool
form_is_stop(const struct form_line *lines, size_t nlines, size_t i, bool quoted_form)
{
	const char *s = lines[i].s;
	size_t len = lines[i].len, depth, off;

	off = form_skip_quotes(s, len, &depth);
	if (depth > 0 && !quoted_form)
		return true;
	s += off;
	len -= off;
	form_trim_view(&s, &len);
	if (len == 2 && memcmp(s, "--", 2) == 0)
		return true;
	if (len >= 10 && strspn(s, "_") >= 10)
		return true;
	if (len >= 20 && s[0] == '-' && s[1] == '-') {
		size_t d = strspn(s, "-");

		if (d < len && str_istarts(s + d, "original message"))
			return true;
	}
	if (len >= 3 && str_istarts(s, "on ")) {
		for (size_t j = i; j < nlines && j < i + 3; j++) {
			const char *t = lines[j].s;
			size_t tl = lines[j].len;

			form_trim_view(&t, &tl);
			if (form_ends_with_ci(t, tl, "wrote:"))
				return true;
		}
	}
	return false;
}

/* Copies at most FORM_QUOTE_MAX bytes of s for a problem sentence, cut at a
 * character boundary.  Caller owns. */
static char *
form_quote(const char *s)
{
	size_t len = strlen(s);

	if (len <= FORM_QUOTE_MAX)
		return xstrdup(s);
	len = FORM_QUOTE_MAX;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return xasprintf("%.*s...", (int)len, s);
}

/* Adds the problem "Key: "raw" what". */
static void
form_problem(struct strvec *problems, const struct form_field_def *fd, const char *raw,
             const char *what)
{
	char *q = form_quote(raw);

	strvec_push_owned(problems, xasprintf("%s: \"%s\" %s", fd->key, q, what));
	free(q);
}

/* The first non-empty collected line, or NULL. */
static const char *
form_first_line(const struct strvec *lines)
{
	for (size_t i = 0; i < lines->n; i++)
		if (lines->v[i][0] != '\0')
			return lines->v[i];
	return NULL;
}

/* Drops a leading "(...)" hint left from the blank form.  Returns a
 * pointer into s. */
static const char *
form_skip_hint(const char *s)
{
	const char *end;

	if (*s != '(')
		return s;
	end = strchr(s, ')');
	if (end == NULL)
		return s;
	end++;
	while (form_is_space(*end))
		end++;
	return end;
}

static bool
form_email_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* Validates a lower-cased addr-spec: a plain local part, a domain of at
 * least two labels of letters, digits and hyphens. */
static bool
form_email_valid(const char *addr)
{
	const char *at = strchr(addr, '@');
	const char *p, *label;

	if (at == NULL || at == addr || strchr(at + 1, '@') != NULL)
		return false;
	if (addr[0] == '.' || at[-1] == '.')
		return false;
	for (p = addr; p < at; p++) {
		if (!form_email_char((unsigned char)*p) || (p[0] == '.' && p[1] == '.'))
			return false;
	}
	label = at + 1;
	if (strchr(label, '.') == NULL)
		return false;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
	}
	/* The top-level label: letters only, at least two. */
	if (p - label < 2)
		return false;
	for (p = label; *p != '\0'; p++)
		if (!isalpha((unsigned char)*p))
			return false;
	return true;
}

/* Extracts the addr-spec from "Ana <ana@x.org>", "mailto:ana@x.org",
 * "ana@x.org." or "Ana Ruiz ana@x.org".  Caller owns *addr_r. */
static bool
form_email_extract(const char *s, char **addr_r)
{
	const char *lt = strchr(s, '<'), *gt, *start = s, *end = s + strlen(s);
	char *addr;

	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt != NULL) {
			start = lt + 1;
			end = gt;
		}
	} else {
		const char *at = strchr(s, '@');

		if (at != NULL) {
			start = at;
			while (start > s && !form_is_space(start[-1]))
				start--;
			end = at;
			while (*end != '\0' && !form_is_space(*end))
				end++;
		}
	}
	while (start < end && (form_is_space(*start) || strchr("\"'([<", *start) != NULL))
		start++;
	if ((size_t)(end - start) >= 7 && str_istarts(start, "mailto:"))
		start += 7;
	while (end > start && (form_is_space(end[-1]) || strchr(".,;:)]\"'>", end[-1]) != NULL))
		end--;
	addr = xstrndup(start, (size_t)(end - start));
	str_lower(addr);
	if (!form_email_valid(addr)) {
		free(addr);
		return false;
	}
	*addr_r = addr;
	return true;
}

/* How many addresses s lists: its words (split at commas, semicolons and
 * white space) that hold an '@'. */
static size_t
form_count_addresses(const char *s)
{
	size_t n = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, ",; \t");

		if (len > 0 && memchr(s, '@', len) != NULL)
			n++;
		s += len;
		s += strspn(s, ",; \t");
	}
	return n;
}

/* Reads the first integer in s ("12", "about 12", "-3", "12 years").  A
 * number too long for a long reads as LONG_MAX (out of any range). */
static bool
form_read_number(const char *s, bool leading_only, long *n_r)
{
	const char *p = s;
	bool neg = false;
	long n = 0;

	while (*p != '\0' && !isdigit((unsigned char)*p)) {
		if (leading_only)
			return false;
		p++;
	}
	if (*p == '\0')
		return false;
	if (p > s && p[-1] == '-' && (p - 1 == s || form_is_space(p[-2])))
		neg = true;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (LONG_MAX - 9) / 10) {
			n = LONG_MAX;
			neg = false;
			while (isdigit((unsigned char)p[1]))
				p++;
			continue;
		}
		n = n * 10 + (*p - '0');
	}
	*n_r = neg ? -n : n;
	return true;
}

/* Validates a single-line typed field.  Returns false when it is empty. */
static bool
form_eval_single(const struct form_field_def *fd, const struct strvec *lines, struct form_value *v,
                 struct strvec *problems)
{
	const char *line = form_first_line(lines), *s;
	char buf[11];
	int y, m, d;
	size_t tl;

	if (line == NULL)
		return false;
	s = fd->type == FIELD_TEXT ? line : form_skip_hint(line);
	if (*s == '\0')
		return false;
	v->raw = xstrdup(s);
	switch (fd->type) {
	case FIELD_EMAIL:
		/* Several addresses ("a@x, b@x"): taking the first would write
		 * to someone the sender did not mean, silently. */
		if (form_count_addresses(s) > 1) {
			strvec_push_owned(problems,
			                  xasprintf("%s: give one address; \"%s\" holds %zu",
			                            fd->key, s, form_count_addresses(s)));
			v->problem = xstrdup("several addresses: give one");
		} else if (!form_email_extract(s, &v->value)) {
			form_problem(problems, fd, s, "is not an email address");
			v->problem = xstrdup("not an email address");
		}
		break;
	case FIELD_NUMBER:
		if (!form_read_number(s, false, &v->number)) {
			form_problem(problems, fd, s, "is not a number");
			v->problem = xstrdup("not a number");
		} else if (v->number < fd->min || v->number > fd->max) {
			strvec_push_owned(problems,
			                  xasprintf("%s: %ld is not between %ld and %ld", fd->key,
			                            v->number, fd->min, fd->max));
			v->problem = xasprintf("not between %ld and %ld", fd->min, fd->max);
		} else {
			v->value = xasprintf("%ld", v->number);
		}
		break;
	case FIELD_DATE:
		tl = strcspn(s, " \t(,");
		if (tl == 10) {
			memcpy(buf, s, 10);
			buf[10] = '\0';
		}
		if (tl != 10 || clock_parse_date(buf, &y, &m, &d) < 0) {
			form_problem(problems, fd, s,
			             "is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20");
			v->problem = xstrdup("not a date (YYYY-MM-DD)");
		} else {
			v->value = xasprintf("%04d-%02d-%02d", y, m, d);
		}
		break;
	default:
		v->value = xstrdup(s);
		break;
	}
	return true;
}

/* Free text over several lines: blank runs collapse to one blank line,
 * leading and trailing blank lines go. */
static bool
form_eval_multiline(const struct strvec *lines, struct form_value *v)
{
	struct strbuf sb = {0};
	bool blank = false;

	for (size_t i = 0; i < lines->n; i++) {
		if (lines->v[i][0] == '\0') {
			blank = true;
			continue;
		}
		if (sb.len > 0)
			strbuf_adds(&sb, blank ? "\n\n" : "\n");
		blank = false;
		strbuf_adds(&sb, lines->v[i]);
	}
	if (sb.len == 0)
		return false;
	v->raw = strbuf_detach(&sb);
	v->value = xstrdup(v->raw);
	return true;
}

/* A scale from "4", "4 - agree", "[x] 4", "4/5", "4 of 5", or from the
 * line marked [x] among several.  Returns false when empty. */
static bool
form_eval_scale(const struct form_field_def *fd, const struct strvec *lines, struct form_value *v,
                struct strvec *problems)
{
	const char *pick = NULL, *first = NULL;
	size_t skip;

	for (size_t i = 0; i < lines->n && pick == NULL; i++) {
		const char *s = lines->v[i];
		int mark;

		s += form_skip_bullet(s, strlen(s), false);
		mark = form_checkbox(s, strlen(s), &skip);
		s = form_skip_hint(s + skip);
		while (form_is_space(*s))
			s++;
		if (mark < 0 || *s == '\0')
			continue;
		if (mark > 0)
			pick = s;
		else if (first == NULL)
			first = s;
	}
	if (pick == NULL)
		pick = first;
	if (pick == NULL)
		return false;
	v->raw = xstrdup(pick);
	if (!form_read_number(pick, true, &v->number)) {
		char *detail = xasprintf("is not a number from %ld to %ld", fd->min, fd->max);

		form_problem(problems, fd, pick, detail);
		free(detail);
		v->problem = xasprintf("not a number from %ld to %ld", fd->min, fd->max);
	} else if (v->number < fd->min || v->number > fd->max) {
		strvec_push_owned(problems, xasprintf("%s: %ld is not between %ld and %ld", fd->key,
		                                      v->number, fd->min, fd->max));
		v->problem = xasprintf("not between %ld and %ld", fd->min, fd->max);
	} else {
		v->value = xasprintf("%ld", v->number);
	}
	return true;
}

/* Whether needle occurs in hay at word boundaries. */
static bool
form_has_words(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
		if ((p == hay || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	}
	return false;
}

/* The choice an item names, or -1.  In order: exact (case-insensitive);
 * equal ignoring punctuation and "&" vs "and"; a unique prefix of at least
 * four characters; a unique run of whole words. */
static int
form_match_choice(const struct form_field_def *fd, const struct form_nvec *norm, const char *item)
{
	char n[4 * FORM_ITEM_MAX + 1];
	int found = -1, count = 0;
	size_t nlen, ilen;

	for (size_t i = 0; i < fd->choices.n; i++)
		if (str_ieq(fd->choices.v[i], item))
			return (int)i;
	ilen = strlen(item);
	if (ilen > FORM_ITEM_MAX)
		return -1;
	nlen = form_norm_choice(item, ilen, n);
	for (size_t i = 0; i < norm->n && found < 0; i++)
		if (nlen > 0 && strcmp(norm->v[i], n) == 0)
			found = (int)i;
	if (found < 0 && nlen >= 4) {
		for (size_t i = 0; i < norm->n; i++) {
			if (strncmp(norm->v[i], n, nlen) == 0) {
				found = (int)i;
				count++;
			}
		}
		if (count != 1) {
			found = -1;
			count = 0;
			for (size_t i = 0; i < norm->n; i++) {
				if (form_has_words(norm->v[i], n)) {
					found = (int)i;
					count++;
				}
			}
			if (count != 1)
				found = -1;
		}
	}
	return found;
}

/* Finds " and " (any case) in s; returns its offset or -1. */
static long
form_find_and(const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++)
		if (s[i] == ' ' && str_istarts(s + i, " and "))
			return (long)i;
	return -1;
}

static void
form_add_item(const struct form_field_def *fd, const struct form_nvec *norm, const char *s,
              size_t len, struct strvec *items, struct strvec *unknown)
{
	char *item;
	int c;

	form_trim_view(&s, &len);
	len -= len > 0 && s[len - 1] == '.' ? 1 : 0;
	if (len == 0)
		return;
	item = xstrndup(s, len);
	c = form_match_choice(fd, norm, item);
	if (c >= 0) {
		if (!strvec_contains_ci(items, fd->choices.v[c]))
			strvec_push(items, fd->choices.v[c]);
	} else {
		strvec_push(unknown, item);
	}
	free(item);
}

/* Splits one piece (already split on commas) on " and " unless the whole
 * piece is a choice, e.g. "Planning and organizing". */
static void
form_add_piece(const struct form_field_def *fd, const struct form_nvec *norm, const char *s,
               size_t len, struct strvec *items, struct strvec *unknown)
{
	char *piece;
	const char *p;
	long at;

	form_trim_view(&s, &len);
	if (len == 0)
		return;
	piece = xstrndup(s, len);
	if (form_match_choice(fd, norm, piece) >= 0 || form_find_and(piece) < 0) {
		form_add_item(fd, norm, piece, len, items, unknown);
		free(piece);
		return;
	}
	p = piece;
	while ((at = form_find_and(p)) >= 0) {
		form_add_item(fd, norm, p, (size_t)at, items, unknown);
		p += at + 5;
	}
	form_add_item(fd, norm, p, strlen(p), items, unknown);
	free(piece);
}

/* Joins quoted unknown items for a problem sentence.  Caller owns. */
static char *
form_join_unknown(const struct strvec *unknown)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < unknown->n; i++) {
		char *q = form_quote(unknown->v[i]);

		if (i > 0)
			strbuf_adds(&sb, i + 1 == unknown->n ? " and " : ", ");
		strbuf_addf(&sb, "\"%s\"", q);
		free(q);
	}
	return strbuf_detach(&sb);
}

/* CHOICE and MULTICHOICE.  Cases handled, per collected line:
 *   1. bullets, and "[ ]"/"( )" lines (unchecked boxes of the blank form)
 *      which are skipped; "[x]"/"(x)" marks are dropped;
 *   2. a leading "(hint)" left from the blank form is dropped;
 *   3. a whole line that names a choice is that choice (choices may hold
 *      commas or "and");
 *   4. otherwise the line splits on commas and semicolons, and a piece that
 *      is not a choice splits again on " and ".
 * Then unknown items and the count give at most one problem each.  Returns
 * false when nothing was chosen nor written. */
static bool
form_eval_choice(const struct form_field_def *fd, const struct form_nvec *norm,
                 const struct strvec *lines, struct form_value *v, struct strvec *problems)
{
	struct strvec items = {0}, unknown = {0}, raw = {0};
	long min = fd->type == FIELD_CHOICE ? 1 : fd->min;
	long max = fd->type == FIELD_CHOICE ? 1 : fd->max;
	bool bad = false;
	size_t skip;

	for (size_t i = 0; i < lines->n; i++) {
		const char *s = lines->v[i], *p;
		size_t len = strlen(s);

		s += form_skip_bullet(s, len, true);
		if (form_checkbox(s, strlen(s), &skip) < 0)
			continue;
		s = form_skip_hint(s + skip);
		while (form_is_space(*s))
			s++;
		if (*s == '\0')
			continue;
		strvec_push(&raw, s);
		if (form_match_choice(fd, norm, s) >= 0) {
			form_add_item(fd, norm, s, strlen(s), &items, &unknown);
			continue;
		}
		for (p = s;;) {
			size_t n = strcspn(p, ",;");

			form_add_piece(fd, norm, p, n, &items, &unknown);
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
	}
	if (raw.n == 0) {
		strvec_free(&raw);
		return false;
	}
	v->raw = strvec_join(&raw, ", ");
	if (unknown.n > 0) {
		char *all = strvec_join(&fd->choices, ", ");
		char *list = form_join_unknown(&unknown);

		strvec_push_owned(
		    problems,
		    xasprintf("%s: %s %s; choose from %s", fd->key, list,
		              unknown.n == 1 ? "is not one of the choices"
		                             : "are not among the choices",
		              strlen(all) > FORM_CHOICES_MAX ? "the list in the blank form" : all));
		v->problem = xstrdup("not one of the choices");
		bad = true;
		free(all);
		free(list);
	}
	if ((long)items.n > max || ((long)items.n < min && unknown.n == 0)) {
		if (fd->type == FIELD_CHOICE)
			strvec_push_owned(
			    problems, xasprintf("%s: choose one; you chose %zu", fd->key, items.n));
		else if (min == max)
			strvec_push_owned(problems, xasprintf("%s: choose %ld; you chose %zu",
			                                      fd->key, min, items.n));
		else
			strvec_push_owned(problems,
			                  xasprintf("%s: choose between %ld and %ld; you chose %zu",
			                            fd->key, min, max, items.n));
		if (v->problem == NULL)
			v->problem = fd->type == FIELD_CHOICE
			                 ? xstrdup("choose one")
			                 : xasprintf("choose between %ld and %ld", min, max);
		bad = true;
	}
	if (!bad) {
		v->value = strvec_join(&items, ", ");
		v->items = items;
	} else {
		strvec_free(&items);
	}
	strvec_free(&unknown);
	strvec_free(&raw);
	return true;
}

/* Keys and aliases of every field; choices wait for form_norm_choices,
 * since most texts fill no choice field. */
static void
form_norm_init(const struct form_def *def, struct form_norm *norm)
{
	size_t nstr = 0, nbytes = 0, k = 0, b = 0;
	const char **ptrs;

	for (size_t f = 0; f < def->nfields; f++) {
		const struct form_field_def *fd = &def->fields[f];

		nstr += 1 + fd->aliases.n;
		nbytes += strlen(fd->key) + 1;
		for (size_t j = 0; j < fd->aliases.n; j++)
			nbytes += strlen(fd->aliases.v[j]) + 1;
	}
	norm->nfields = def->nfields;
	norm->block = xcalloc(1, 2 * def->nfields * sizeof(struct form_nvec) +
	                             nstr * sizeof(const char *) + 1);
	norm->names = norm->block;
	norm->choices = norm->names + def->nfields;
	ptrs = (const char **)(void *)(norm->choices + def->nfields);
	norm->bytes = xmalloc(nbytes + 1);
	for (size_t f = 0; f < def->nfields; f++) {
		const struct form_field_def *fd = &def->fields[f];

		norm->names[f].v = ptrs + k;
		norm->names[f].n = 1 + fd->aliases.n;
		ptrs[k++] = norm->bytes + b;
		b += form_norm_key(fd->key, strlen(fd->key), norm->bytes + b) + 1;
		for (size_t j = 0; j < fd->aliases.n; j++) {
			ptrs[k++] = norm->bytes + b;
			b += form_norm_key(fd->aliases.v[j], strlen(fd->aliases.v[j]),
			                   norm->bytes + b) +
			     1;
		}
	}
}

/* The normalised choices of field f, in one block (the pointers, then the
 * bytes) that form_norm_free frees. */
static const struct form_nvec *
form_norm_choices(const struct form_def *def, struct form_norm *norm, size_t f)
{
	const struct form_field_def *fd = &def->fields[f];
	struct form_nvec *nv = &norm->choices[f];
	size_t nbytes = 0, b = 0;
	char *bytes;

	if (nv->v != NULL || fd->choices.n == 0)
		return nv;
	for (size_t j = 0; j < fd->choices.n; j++)
		nbytes += 4 * strlen(fd->choices.v[j]) + 1;
	nv->v = xmalloc(fd->choices.n * sizeof(const char *) + nbytes);
	nv->n = fd->choices.n;
	bytes = (char *)(void *)(nv->v + fd->choices.n);
	for (size_t j = 0; j < fd->choices.n; j++) {
		nv->v[j] = bytes + b;
		b += form_norm_choice(fd->choices.v[j], strlen(fd->choices.v[j]), bytes + b) + 1;
	}
	return nv;
}

static void
form_norm_free(struct form_norm *norm)
{
	for (size_t f = 0; f < norm->nfields; f++)
		free((void *)norm->choices[f].v);
	free(norm->block);
	free(norm->bytes);
}

static struct form_line *
form_split_lines(const char *text, size_t *n_r)
{
	struct form_line *lines = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;

	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);

		lines = xgrow(lines, &cap, n + 1, sizeof(*lines));
		lines[n].s = p;
		lines[n].len = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
		n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	*n_r = n;
	return lines;
}

static void
form_push_line(struct strvec *sv, const char *s, size_t len)
{
	form_trim_view(&s, &len);
	strvec_push_owned(sv, xstrndup(s, len));
}

/* Adds "KEY is missing"; without printf, as most texts parsed are not
 * forms and miss every field. */
static void
form_push_missing(struct strvec *problems, const char *key)
{
	static const char tail[] = " is missing";
	size_t len = strlen(key);
	char *s = xmalloc(len + sizeof(tail));

	memcpy(s, key, len);
	memcpy(s + len, tail, sizeof(tail));
	strvec_push_owned(problems, s);
}

/* Cases handled per line:
 *   1. once a field has started, a stop line (form_is_stop) ends the form;
 *   2. a line starting with a known key (after quotes and a bullet) starts
 *      that field; the first key decides whether the form is quoted; a key
 *      seen again is counted but its value ignored (first wins);
 *   3. any other line belongs to the current field (validation decides
 *      which lines a type uses); before the first key it is ignored. */
void
form_parse(const struct form_def *def, const char *text, struct form_result **result_r)
{
	struct form_result *res = xcalloc(1, sizeof(*res));
	struct form_slot *slots = xcalloc(def->nfields, sizeof(*slots));
	struct form_norm norm;
	struct form_line *lines;
	size_t nlines, cap = 0;
	bool quoted_form = false;
	int cur = -1;

	form_norm_init(def, &norm);
	lines = form_split_lines(text == NULL ? "" : text, &nlines);
	for (size_t i = 0; i < nlines; i++) {
		const char *s = lines[i].s;
		size_t len = lines[i].len, depth, off, voff;
		int f;

		if (res->keys_found > 0 && form_is_stop(lines, nlines, i, quoted_form))
			break;
		off = form_skip_quotes(s, len, &depth);
		s += off;
		len -= off;
		off = form_skip_bullet(s, len, true);
		f = form_match_key(&norm, s + off, len - off, &voff);
		if (f >= 0) {
			if (res->keys_found == 0)
				quoted_form = depth > 0;
			res->keys_found++;
			cur = slots[f].seen ? -1 : f;
			if (cur >= 0) {
				slots[f].seen = true;
				form_push_line(&slots[f].lines, s + off + voff, len - off - voff);
			}
			continue;
		}
		if (cur >= 0)
			form_push_line(&slots[cur].lines, s, len);
	}
	for (size_t f = 0; f < def->nfields; f++) {
		const struct form_field_def *fd = &def->fields[f];
		struct form_value v = {.def = fd};
		bool present = false;

		if (slots[f].seen) {
			if (fd->type == FIELD_TEXT && fd->multiline)
				present = form_eval_multiline(&slots[f].lines, &v);
			else if (fd->type == FIELD_CHOICE || fd->type == FIELD_MULTICHOICE)
				present = form_eval_choice(fd, form_norm_choices(def, &norm, f),
				                           &slots[f].lines, &v, &res->problems);
			else if (fd->type == FIELD_SCALE)
				present = form_eval_scale(fd, &slots[f].lines, &v, &res->problems);
			else
				present = form_eval_single(fd, &slots[f].lines, &v, &res->problems);
		}
		strvec_free(&slots[f].lines);
		if (!present) {
			if (fd->required)
				form_push_missing(&res->problems, fd->key);
			continue;
		}
		res->values = xgrow(res->values, &cap, res->nvalues + 1, sizeof(*res->values));
		res->values[res->nvalues++] = v;
	}
	free(slots);
	free(lines);
	form_norm_free(&norm);
	*result_r = res;
}

static const struct form_value *
form_result_find(const struct form_result *res, const char *key)
{
	for (size_t i = 0; i < res->nvalues; i++)
		if (str_ieq(res->values[i].def->key, key))
			return &res->values[i];
	return NULL;
}

const struct form_value *
form_result_get(const struct form_result *res, const char *key)
{
	const struct form_value *v = form_result_find(res, key);

	return v == NULL || v->value == NULL ? NULL : v;
}

const char *
form_result_value(const struct form_result *res, const char *key)
{
	const struct form_value *v = form_result_get(res, key);

	return v == NULL ? NULL : v->value;
}

char *
form_result_summary(const struct form_result *res)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < res->nvalues; i++) {
		const struct form_value *v = &res->values[i];

		if (v->value != NULL)
			strbuf_addf(&sb, "%s: %s\n", v->def->key, v->value);
		else
			strbuf_addf(&sb, "%s: %s  <- %s\n", v->def->key, v->raw,
			            v->problem != NULL ? v->problem : "not understood");
	}
	return strbuf_detach(&sb);
}

/* Adds the definition's hint to a key line, with parentheses turned into
 * brackets and line breaks into blanks so the key still parses. */
static void
form_add_hint(struct strbuf *sb, const char *hint)
{
	for (const char *p = hint; *p != '\0'; p++) {
		if (*p == '(')
			strbuf_addc(sb, '[');
		else if (*p == ')')
			strbuf_addc(sb, ']');
		else if (*p == '\n' || *p == '\r')
			strbuf_addc(sb, ' ');
		else
			strbuf_addc(sb, *p);
	}
}

/* What the blank form says about a field's type, or nothing. */
static void
form_type_hint(const struct form_field_def *fd, struct strbuf *g)
{
	switch (fd->type) {
	case FIELD_TEXT:
		if (fd->multiline)
			strbuf_adds(g, "several lines are fine");
		break;
	case FIELD_EMAIL:
		strbuf_adds(g, "an email address");
		break;
	case FIELD_NUMBER:
		strbuf_addf(g, "a number from %ld to %ld", fd->min, fd->max);
		break;
	case FIELD_DATE:
		strbuf_adds(g, "YYYY-MM-DD");
		break;
	case FIELD_CHOICE:
		strbuf_adds(g, "write one of the choices below, or mark it [x]");
		break;
	case FIELD_MULTICHOICE:
		strbuf_addf(
		    g, "choose between %ld and %ld, separated by commas, or mark them [x] below",
		    fd->min, fd->max);
		break;
	case FIELD_SCALE:
		strbuf_addf(g, "%ld to %ld", fd->min, fd->max);
		break;
	}
}

/* Each field is one line "Key (hints): " so the hints are part of the key
 * and the parser drops them; choices follow as "  [ ] choice" lines, which
 * the parser treats as unchecked unless the person marks them [x]. */
char *
form_render_blank(const struct form_def *def)
{
	struct strbuf sb = {0};

	strbuf_addf(&sb, "%s\n\n", def->title != NULL ? def->title : def->name);
	for (size_t f = 0; f < def->nfields; f++) {
		const struct form_field_def *fd = &def->fields[f];
		struct strbuf h = {0}, g = {0};

		if (fd->hint != NULL && *fd->hint != '\0')
			form_add_hint(&h, fd->hint);
		form_type_hint(fd, &g);
		if (g.len > 0) {
			if (h.len > 0)
				strbuf_adds(&h, "; ");
			strbuf_adds(&h, g.buf);
		}
		if (!fd->required)
			strbuf_adds(&h, h.len > 0 ? ", optional" : "optional");
		strbuf_adds(&sb, fd->key);
		if (h.len > 0)
			strbuf_addf(&sb, " (%s)", h.buf);
		strbuf_adds(&sb, ": \n");
		strbuf_free(&h);
		strbuf_free(&g);
		if (fd->type == FIELD_CHOICE || fd->type == FIELD_MULTICHOICE) {
			for (size_t j = 0; j < fd->choices.n; j++)
				strbuf_addf(&sb, "  [ ] %s\n", fd->choices.v[j]);
		}
	}
	return strbuf_detach(&sb);
}

void
form_result_free(struct form_result **res)
{
	struct form_result *r = *res;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nvalues; i++) {
		free(r->values[i].raw);
		free(r->values[i].value);
		free(r->values[i].problem);
		strvec_free(&r->values[i].items);
	}
	free(r->values);
	strvec_free(&r->problems);
	free(r);
	*res = NULL;
}

void
form_def_free(struct form_def *def)
{
	if (def == NULL)
		return;
	for (size_t f = 0; f < def->nfields; f++) {
		struct form_field_def *fd = &def->fields[f];

		free(fd->key);
		free(fd->hint);
		strvec_free(&fd->aliases);
		strvec_free(&fd->choices);
	}
	free(def->fields);
	free(def->name);
	free(def->title);
	def->fields = NULL;
	def->nfields = 0;
	def->name = NULL;
	def->title = NULL;
}

static const char *const form_bind_names[BIND_COUNT] = {
    [BIND_NONE] = "none",
    [BIND_NAME] = "name",
    [BIND_EMAIL] = "email",
    [BIND_SUPERVISOR] = "supervisor",
    [BIND_DIRECTOR] = "director",
    [BIND_LEVEL] = "level",
    [BIND_DIVISION] = "division",
    [BIND_TOPICS] = "topics",
    [BIND_AVAILABILITY] = "availability",
    [BIND_CAPACITY] = "capacity",
    [BIND_DATE] = "date",
    [BIND_MINUTES] = "minutes",
    [BIND_TOPIC] = "topic",
    [BIND_FACILITATOR] = "facilitator",
    [BIND_NOTES] = "notes",
    [BIND_ATTENDED] = "attended",
};

const char *
form_bind_name(enum form_bind b)
{
	return b < BIND_COUNT ? form_bind_names[b] : "none";
}

int
form_bind_parse(const char *name)
{
	for (int b = 0; b < BIND_COUNT; b++)
		if (strcmp(name, form_bind_names[b]) == 0)
			return b;
	return -1;
}
