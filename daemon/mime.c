/*
 * mime: raw message -> struct mime_message.
 *
 * libetpan's mailmime_parse gives the part structure (where each part's
 * header block and body are); the header blocks themselves are read here, so
 * that RFC 2047 words, RFC 2231 parameters, 8-bit bytes and lying charsets
 * are handled the same way everywhere.  Transfer decoding is our own (see
 * body_decode); addresses and dates go through mailimf's parsers
 * with tolerant fallbacks.  Debian's libetpan 1.9.4 has parser defects, so
 * every pointer it returns is checked against the input buffer.
 */
/* memmem */
#define _GNU_SOURCE
#include "mime.h"

#include <libetpan/libetpan.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARAMS 64
#define MAX_CONTINUATIONS 64
/* libetpan parses nested parts recursively: refuse absurd nesting before
 * calling it, whatever the configured limits. */
#define HARD_MAX_CONTAINERS 5000

/* ---- header blocks ---- */

struct hfield {
	const char *name;  /* borrowed from the block's arena, raw */
	const char *value; /* borrowed from the block's arena: unfolded raw bytes */
	size_t nlen;       /* strlen(name) */
};

/* All names and values of a block live in one arena, so a block costs two
 * allocations however many fields it has. */
struct hblock {
	struct hfield *v; /* owned */
	size_t n, cap;
	char *arena; /* owned: the NUL-terminated names and values */
};

static void
hblock_free(struct hblock *h)
{
	free(h->v);
	free(h->arena);
	memset(h, 0, sizeof(*h));
}

/* Length of the line at p (without its ending) and of its ending; LF, CRLF
 * and CR alone all end lines.  memchr is much faster than a byte loop on
 * long lines; the CR search is bounded by the LF found. */
static size_t
line_len(const char *p, size_t len, size_t *eol_r)
{
	const char *lf = memchr(p, '\n', len), *cr;
	size_t i = lf != NULL ? (size_t)(lf - p) : len;

	cr = memchr(p, '\r', i);
	if (cr != NULL) {
		i = (size_t)(cr - p);
		*eol_r = (i + 1 < len && p[i + 1] == '\n') ? 2 : 1;
		return i;
	}
	*eol_r = lf != NULL ? 1 : 0;
	return i;
}

/* Header bytes without NULs, which would cut C strings short.  The caller
 * has made room for n bytes. */
static void
add_no_nul(struct strbuf *sb, const char *p, size_t n)
{
	const char *end = p + n, *z;
	char *w = sb->buf + sb->len;

	while (p < end) {
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			z = end;
		memcpy(w, p, (size_t)(z - p));
		w += z - p;
		p = z + 1;
	}
	sb->len = (size_t)(w - sb->buf);
}

static bool
is_trim_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Ends the value that starts at arena offset voff: trims it as str_trim()
 * would and NUL-terminates it.  Returns the offset of its first byte. */
static size_t
value_end(struct strbuf *ab, size_t voff)
{
	size_t end = ab->len;

	while (voff < end && is_trim_space(ab->buf[voff]))
		voff++;
	while (end > voff && is_trim_space(ab->buf[end - 1]))
		end--;
	/* hblock_parse made room for this NUL with the value */
	ab->buf[end] = '\0';
	ab->len = end + 1;
	return voff;
}

/*
 * Reads header fields from p[0..len) up to the first empty line.  Returns the
 * offset of the body (after the empty line, or len when there is none).
 * Cases: folded lines (continuations start with SP/HT) are joined, the
 * line break and indentation becoming one space; a first line "From " (mbox) and other lines
 * without a colon are skipped with a defect; a header block that runs to the end of the input has
 * no body.  Values are trimmed; names stop at a NUL byte.
 */
static size_t
hblock_parse(const char *p, size_t len, struct hblock *h, struct strvec *defects)
{
	size_t pos = 0, eol, n, colon, i;
	struct strbuf ab = {0};
	bool bad_line = false, open = false;
	/* offsets into the arena until it stops moving: the name in the
	 * hfield's nlen slot is reused for its offset, the value's start in voffs */
	size_t *voffs = NULL, vcap = 0;

	/* one allocation for a usual header block instead of a dozen
	 * doublings; len may be a whole message, so bounded, and below
	 * glibc's large-chunk size, whose allocation consolidates the heap */
	strbuf_room(&ab, len < 960 ? len : 960);
	while (pos < len) {
		n = line_len(p + pos, len - pos, &eol);
		if (n == 0) {
			pos += eol;
			break;
		}
		if ((p[pos] == ' ' || p[pos] == '\t') && open) {
			size_t ws = 0;

			/* the fold and its indentation read as one space */
			while (ws < n && (p[pos + ws] == ' ' || p[pos + ws] == '\t'))
				ws++;
			if (ws < n) {
				strbuf_room(&ab, n - ws + 1);
				ab.buf[ab.len++] = ' ';
				add_no_nul(&ab, p + pos + ws, n - ws);
			}
			pos += n + eol;
			continue;
		}
		if (open) {
			voffs[h->n - 1] = value_end(&ab, voffs[h->n - 1]);
			open = false;
		}
		for (colon = 0; colon < n; colon++) {
			if (p[pos + colon] == ':' || p[pos + colon] == ' ' ||
			    p[pos + colon] == '\t')
				break;
		}
		/* "Name :" is tolerated */
		while (colon < n && (p[pos + colon] == ' ' || p[pos + colon] == '\t'))
			colon++;
		if (colon == 0 || colon >= n || p[pos + colon] != ':') {
			bad_line = true;
			pos += n + eol;
			continue;
		}
		if (h->n == h->cap) {
			h->v = xgrow(h->v, &h->cap, h->n + 1, sizeof(*h->v));
			voffs = xgrow(voffs, &vcap, h->cap, sizeof(*voffs));
		}
		i = colon;
		while (i > 0 &&
		       (p[pos + i - 1] == ' ' || p[pos + i - 1] == '\t' || p[pos + i - 1] == ':'))
			i--;
		/* room for the name, its NUL, the value and its NUL */
		strbuf_room(&ab, n + 2);
		h->v[h->n].nlen = ab.len;
		/* a NUL ends the name as it would end a C string */
		{
			const char *z = memchr(p + pos, '\0', i);

			if (z != NULL)
				i = (size_t)(z - (p + pos));
			memcpy(ab.buf + ab.len, p + pos, i);
			ab.len += i;
			ab.buf[ab.len++] = '\0';
		}
		voffs[h->n] = ab.len;
		h->n++;
		open = true;
		add_no_nul(&ab, p + pos + colon + 1, n - colon - 1);
		pos += n + eol;
	}
	if (open)
		voffs[h->n - 1] = value_end(&ab, voffs[h->n - 1]);
	if (bad_line && defects != NULL)
		strvec_push(defects, "malformed header line");
	h->arena = ab.buf;
	for (i = 0; i < h->n; i++) {
		h->v[i].name = h->arena + h->v[i].nlen;
		h->v[i].value = h->arena + voffs[i];
		h->v[i].nlen = strlen(h->v[i].name);
	}
	free(voffs);
	return pos;
}

static const char *
hblock_get(const struct hblock *h, const char *name)
{
	size_t i, nlen = strlen(name);

	for (i = 0; i < h->n; i++) {
		if (h->v[i].nlen == nlen && str_ieq(h->v[i].name, name))
			return h->v[i].value;
	}
	return NULL;
}

/* The value of the last field called name: where a block has the same
 * field twice (two Content-Type fields), the last one wins, as in the
 * major parsers (Python's email, mime4j, Thunderbird). */
static const char *
hblock_get_last(const struct hblock *h, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = h->n; i-- > 0;) {
		if (h->v[i].nlen == nlen && str_ieq(h->v[i].name, name))
			return h->v[i].value;
	}
	return NULL;
}

/* ---- RFC 2047 ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Base64 by byte: 0..63 a digit, B64_PAD for '=', B64_SKIP for anything
 * else; '-' and '_' read as '+' and '/' but are marked B64_URL, as a strict
 * decoder would reject them. */
#define B64_PAD 64
#define B64_SKIP 65
#define B64_URL 128
#define B64_ROW(c) B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP
#define B64_SKIP16 B64_ROW(0), B64_ROW(0)
static const unsigned char b64_table[256] = {
    B64_SKIP16, B64_SKIP16,
    /* 0x20 */ B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP,
    B64_SKIP, B64_SKIP, B64_SKIP, 62, B64_SKIP, B64_URL | 62, B64_SKIP, 63,
    /* 0x30 */ 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, B64_SKIP, B64_SKIP, B64_SKIP, B64_PAD,
    B64_SKIP, B64_SKIP,
    /* 0x40 */ B64_SKIP, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    /* 0x50 */ 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP,
    B64_URL | 63,
    /* 0x60 */ B64_SKIP, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    /* 0x70 */ 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, B64_SKIP, B64_SKIP, B64_SKIP, B64_SKIP,
    B64_SKIP,
    /* 0x80..0xff */
    B64_SKIP16, B64_SKIP16, B64_SKIP16, B64_SKIP16, B64_SKIP16, B64_SKIP16, B64_SKIP16, B64_SKIP16};

/* Bytes a strict base64 body may hold: the standard alphabet, '=' and
 * whitespace ('-' and '_' decode but are not clean). */
static bool
b64_clean_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

/*
 * Tolerant base64: skips anything outside the alphabet; '=' is padding after
 * which concatenated encodings may follow.  Writes to out (room for len
 * bytes: the output is never longer than the input) unless out is NULL, in
 * which case it only counts.  Returns the decoded length; *unclean_r (when
 * not NULL) is set if a byte outside the strict alphabet was seen.
 */
static size_t
b64_decode_to(const char *s, size_t len, char *out, bool *unclean_r)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned acc = 0, v;
	int bits = 0;
	size_t i, n = 0;
	bool unclean = false;

	for (i = 0; i < len; i++) {
		v = b64_table[p[i]];
		/* a whole quantum of four digits on a boundary: three bytes at
		 * once, the same bytes the general case gives */
		if (bits == 0 && len - i >= 4) {
			unsigned b = b64_table[p[i + 1]], c = b64_table[p[i + 2]],
			         d = b64_table[p[i + 3]];

			if ((v | b | c | d) < 64) {
				acc = (v << 18) | (b << 12) | (c << 6) | d;
				if (out != NULL) {
					out[n] = (char)(acc >> 16);
					out[n + 1] = (char)((acc >> 8) & 0xff);
					out[n + 2] = (char)(acc & 0xff);
				}
				n += 3;
				i += 3;
				continue;
			}
		}
		if ((v & ~B64_URL) < 64) {
			if (v & B64_URL)
				unclean = true;
			acc = (acc << 6) | (v & ~B64_URL);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (out != NULL)
					out[n] = (char)((acc >> bits) & 0xff);
				n++;
			}
		} else if (v == B64_PAD) {
			acc = 0;
			bits = 0;
		} else if (unclean_r != NULL && !unclean && !b64_clean_byte(p[i])) {
			unclean = true;
		}
	}
	if (unclean_r != NULL)
		*unclean_r = unclean;
	return n;
}

/* Nonzero unless all 32 bytes at p are base64 digits of the standard
 * alphabet, CR or LF; then *digits_r is their number of digits.  Written
 * without a table or branches so that compilers vectorise it. */
static unsigned
b64_block_plain(const unsigned char *p, size_t *digits_r)
{
	unsigned char bad = 0, digits = 0;
	int k;

	for (k = 0; k < 32; k++) {
		unsigned char c = p[k];
		unsigned char dig =
		    (unsigned char)(((unsigned char)(c - 'A') < 26) |
		                    ((unsigned char)(c - 'a') < 26) |
		                    ((unsigned char)(c - '0') < 10) | (c == '+') | (c == '/'));
		unsigned char eol = (unsigned char)((c == '\r') | (c == '\n'));

		bad |= (unsigned char)(1 ^ (dig | eol));
		digits = (unsigned char)(digits + dig);
	}
	*digits_r = digits;
	return bad;
}

/* What b64_decode_to would return for s[0..len), and its *unclean_r,
 * without writing anything: for attachments only the size is kept.  Plain
 * blocks (the whole body but its last line, usually) are counted fast; the
 * rest byte by byte as b64_decode_to does. */
static size_t
b64_size(const char *s, size_t len, bool *unclean_r)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, digits = 0, d, n;
	unsigned v;
	int bits;
	bool unclean = false;

	while (len - i >= 32 && b64_block_plain(p + i, &d) == 0) {
		digits += d;
		i += 32;
	}
	/* no padding so far: every 6 bits of digits gave its bits, every 8 a
	 * byte */
	n = digits / 4 * 3 + (digits % 4) * 6 / 8;
	bits = (int)((digits % 4) * 6 % 8);
	for (; i < len; i++) {
		v = b64_table[p[i]];
		if ((v & ~B64_URL) < 64) {
			if (v & B64_URL)
				unclean = true;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				n++;
			}
		} else if (v == B64_PAD) {
			bits = 0;
		} else if (!unclean && !b64_clean_byte(p[i])) {
			unclean = true;
		}
	}
	*unclean_r = unclean;
	return n;
}

static void
b64_decode(const char *s, size_t len, struct strbuf *out)
{
	char *w = strbuf_room(out, len);

	strbuf_commit(out, b64_decode_to(s, len, w, NULL));
}

static void
q_decode(const char *s, size_t len, struct strbuf *out)
{
	char *w = strbuf_room(out, len);
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		hi = lo = -1;
		if (s[i] == '=' && i + 2 < len) {
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
		}
		if (s[i] == '_') {
			w[n++] = ' ';
		} else if (hi >= 0 && lo >= 0) {
			w[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			w[n++] = s[i];
		}
	}
	strbuf_commit(out, n);
}

/* An encoded word at s[0..len): "=?charset?Q?text?=".  Fills the charset
 * (copied into cs) and decoded bytes; returns its length or 0. */
static size_t
encoded_word(const char *s, size_t len, char *cs, size_t cssize, struct strbuf *bytes)
{
	size_t i = 2, cs_end, text_start, j;
	char enc;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (i < len && s[i] != '?' && s[i] != ' ' && i < 2 + 60)
		i++;
	if (i + 3 >= len || s[i] != '?' || i == 2)
		return 0;
	cs_end = i;
	enc = (char)toupper((unsigned char)s[i + 1]);
	if ((enc != 'Q' && enc != 'B') || s[i + 2] != '?')
		return 0;
	text_start = i + 3;
	/* broken mailers put spaces inside words; stop at the next "?=" */
	for (j = text_start; j + 1 < len && j < text_start + 2000; j++) {
		if (s[j] == '?' && s[j + 1] == '=')
			break;
	}
	if (j + 1 >= len || s[j] != '?' || s[j + 1] != '=')
		return 0;
	if (cs_end - 2 >= cssize)
		return 0;
	memcpy(cs, s + 2, cs_end - 2);
	cs[cs_end - 2] = '\0';
	if (enc == 'B')
		b64_decode(s + text_start, j - text_start, bytes);
	else
		q_decode(s + text_start, j - text_start, bytes);
	return j + 2;
}

static void
append_converted(struct strbuf *out, const char *data, size_t len, const char *charset)
{
	char *u;

	if (len == 0)
		return;
	u = mime_to_utf8(data, len, charset);
	strbuf_adds(out, u);
	free(u);
}

static bool
all_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/* Whether s[0..len) holds "=?"; memmem's setup costs more than this on
 * short header values. */
static bool
has_encoded_word_start(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '=', (size_t)(end - p))) != NULL) {
		if (++p < end && *p == '?')
			return true;
	}
	return false;
}

/*
 * Decodes RFC 2047 words in a header value into UTF-8.  Cases: whitespace
 * between two encoded words is dropped; adjacent words in one charset are
 * joined before conversion, so a character split across words survives;
 * words glued to text or to each other are still decoded; a wrong charset
 * label falls back as mime_to_utf8 does; raw 8-bit text is converted as
 * UTF-8 or windows-1252; malformed words stay as they are.  raw_cs (may be
 * NULL) is tried first for the text outside encoded words: UTF-7 when the
 * message declares it (see raw_header_charset).
 */
static char *
hdr_decode_cs(const char *s, size_t len, const char *raw_cs)
{
	struct strbuf out = {0}, bytes = {0};
	char cs[64], pending_cs[64] = "";
	size_t i = 0, raw_start = 0, wlen;
	bool have_pending = false, last_was_word = false;

	/* most values hold no encoded word: the loop below would convert them
	 * whole, as this does */
	if (!has_encoded_word_start(s, len))
		return mime_to_utf8(s, len, raw_cs);
	strbuf_room(&out, len);
	strbuf_add(&out, "", 0);
	while (i < len) {
		if (s[i] != '=' || i + 1 >= len || s[i + 1] != '?') {
			const char *eq = memchr(s + i + 1, '=', len - i - 1);

			i = eq != NULL ? (size_t)(eq - s) : len;
			continue;
		}
		{
			struct strbuf wb = {0};

			wlen = encoded_word(s + i, len - i, cs, sizeof(cs), &wb);
			if (wlen == 0) {
				strbuf_free(&wb);
				i++;
				continue;
			}
			if (i > raw_start &&
			    !(last_was_word && all_space(s + raw_start, i - raw_start))) {
				if (have_pending) {
					append_converted(&out, bytes.buf, bytes.len, pending_cs);
					strbuf_truncate(&bytes, 0);
					have_pending = false;
				}
				append_converted(&out, s + raw_start, i - raw_start, raw_cs);
			}
			if (have_pending && !str_ieq(cs, pending_cs)) {
				append_converted(&out, bytes.buf, bytes.len, pending_cs);
				strbuf_truncate(&bytes, 0);
			}
			memcpy(pending_cs, cs, sizeof(cs));
			have_pending = true;
			strbuf_add(&bytes, wb.buf, wb.len);
			strbuf_free(&wb);
		}
		i += wlen;
		raw_start = i;
		last_was_word = true;
	}
	if (have_pending)
		append_converted(&out, bytes.buf, bytes.len, pending_cs);
	append_converted(&out, s + raw_start, len - raw_start, raw_cs);
	strbuf_free(&bytes);
	return strbuf_detach(&out);
}

static char *
hdr_decode(const char *s, size_t len)
{
	return hdr_decode_cs(s, len, NULL);
}

static char *
hdr_decode_str(const char *s)
{
	return hdr_decode(s, strlen(s));
}

/* ---- structured values: Content-Type, Content-Disposition ---- */

struct param {
	char *name;  /* owned, lower case */
	char *value; /* owned, unquoted raw bytes */
};

struct structured {
	char *first; /* owned, lower case "type/subtype" or disposition; "" */
	struct param params[MAX_PARAMS];
	size_t nparams;
};

static void
structured_free(struct structured *st)
{
	size_t i;

	free(st->first);
	for (i = 0; i < st->nparams; i++) {
		free(st->params[i].name);
		free(st->params[i].value);
	}
	memset(st, 0, sizeof(*st));
}

static size_t
skip_cfws(const char *s, size_t i)
{
	int depth = 0;

	while (s[i] != '\0') {
		if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && s[i] != ' ' && s[i] != '\t') {
			break;
		} else if (depth > 0 && s[i] == '\\' && s[i + 1] != '\0') {
			i++;
		}
		i++;
	}
	return i;
}

/*
 * Parses "token; name=value; name="quoted \" value"".  Cases: comments and
 * odd spacing around '=' and ';'; unterminated quotes run to the end;
 * parameters without '=' and empty names are skipped; more than MAX_PARAMS
 * are ignored.
 */
static void
structured_parse(const char *v, struct structured *st)
{
	struct strbuf sb = {0};
	size_t i = 0, start;

	memset(st, 0, sizeof(*st));
	if (v == NULL) {
		st->first = xstrdup("");
		return;
	}
	i = skip_cfws(v, 0);
	start = i;
	while (v[i] != '\0' && v[i] != ';' && v[i] != ' ' && v[i] != '\t' && v[i] != '(')
		i++;
	st->first = xstrndup(v + start, i - start);
	str_lower(st->first);
	while (v[i] != '\0') {
		size_t ns, ne;

		while (v[i] != '\0' && v[i] != ';')
			i++;
		if (v[i] == '\0')
			break;
		i = skip_cfws(v, i + 1);
		ns = i;
		while (v[i] != '\0' && v[i] != '=' && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
			i++;
		ne = i;
		i = skip_cfws(v, i);
		if (v[i] != '=' || ne == ns)
			continue;
		i = skip_cfws(v, i + 1);
		strbuf_truncate(&sb, 0);
		strbuf_add(&sb, "", 0);
		if (v[i] == '"') {
			i++;
			while (v[i] != '\0' && v[i] != '"') {
				if (v[i] == '\\' && v[i + 1] != '\0')
					i++;
				strbuf_addc(&sb, v[i]);
				i++;
			}
			if (v[i] == '"')
				i++;
		} else {
			start = i;
			while (v[i] != '\0' && v[i] != ';')
				i++;
			strbuf_add(&sb, v + start, i - start);
			/* trailing spaces or comments after a token */
			while (sb.len > 0 &&
			       (sb.buf[sb.len - 1] == ' ' || sb.buf[sb.len - 1] == '\t'))
				strbuf_truncate(&sb, sb.len - 1);
		}
		if (st->nparams < MAX_PARAMS) {
			st->params[st->nparams].name = xstrndup(v + ns, ne - ns);
			str_lower(st->params[st->nparams].name);
			st->params[st->nparams].value = xstrdup(strbuf_str(&sb));
			st->nparams++;
		}
	}
	strbuf_free(&sb);
}

static const char *
param_raw(const struct structured *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nparams; i++) {
		if (strcmp(st->params[i].name, name) == 0)
			return st->params[i].value;
	}
	return NULL;
}

static void
pct_decode(const char *s, struct strbuf *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; s[i] != '\0'; i++) {
		hi = lo = -1;
		if (s[i] == '%' && s[i + 1] != '\0') {
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			strbuf_addc(out, (char)(hi * 16 + lo));
			i += 2;
		} else {
			strbuf_addc(out, s[i]);
		}
	}
}

/* Splits "charset'lang'rest": copies the charset, returns rest. */
static const char *
rfc2231_prefix(const char *v, char *cs, size_t cssize)
{
	const char *q1 = strchr(v, '\''), *q2;
	size_t n;

	cs[0] = '\0';
	if (q1 == NULL)
		return v;
	q2 = strchr(q1 + 1, '\'');
	if (q2 == NULL)
		return v;
	n = (size_t)(q1 - v);
	if (n < cssize) {
		memcpy(cs, v, n);
		cs[n] = '\0';
	}
	return q2 + 1;
}

/*
 * A parameter's decoded UTF-8 value, or NULL.  Cases: RFC 2231 extended
 * "name*=charset'lang'%xx"; continuations "name*0*=", "name*1=" ... mixing
 * encoded and plain segments; plain "name=" possibly holding RFC 2047 words
 * or raw 8-bit bytes.
 */
static char *
param_get(const struct structured *st, const char *name)
{
	char key[80], cs[64] = "";
	const char *v;
	struct strbuf bytes = {0};
	size_t k, nlen;
	bool found = false;

	/* most parts have no "name*..." parameter: then only the plain
	 * lookup below can find anything */
	nlen = strlen(name);
	for (k = 0; k < st->nparams; k++) {
		if (strncmp(st->params[k].name, name, nlen) == 0 && st->params[k].name[nlen] == '*')
			break;
	}
	if (k == st->nparams)
		goto plain;
	snprintf(key, sizeof(key), "%s*", name);
	v = param_raw(st, key);
	if (v != NULL) {
		v = rfc2231_prefix(v, cs, sizeof(cs));
		pct_decode(v, &bytes);
		found = true;
	} else {
		for (k = 0; k < MAX_CONTINUATIONS; k++) {
			snprintf(key, sizeof(key), "%s*%zu*", name, k);
			v = param_raw(st, key);
			if (v != NULL) {
				if (k == 0)
					v = rfc2231_prefix(v, cs, sizeof(cs));
				pct_decode(v, &bytes);
				found = true;
				continue;
			}
			snprintf(key, sizeof(key), "%s*%zu", name, k);
			v = param_raw(st, key);
			if (v == NULL)
				break;
			strbuf_adds(&bytes, v);
			found = true;
		}
	}
	if (found) {
		char *r;

		strbuf_add(&bytes, "", 0);
		if (cs[0] == '\0') {
			/* continuations without a charset may still hold 2047 words */
			r = hdr_decode(bytes.buf, bytes.len);
		} else {
			r = mime_to_utf8(bytes.buf, bytes.len, cs);
		}
		strbuf_free(&bytes);
		return r;
	}
plain:
	v = param_raw(st, name);
	if (v == NULL)
		return NULL;
	return hdr_decode_str(v);
}

/* ---- addresses, dates, message ids ---- */

static char *
utf8_lower_dup(const char *s)
{
	char *u = mime_to_utf8(s, strlen(s), NULL);

	str_trim(u);
	str_lower(u);
	return u;
}

/* The addr-spec inside <...>, or the first word containing '@'. */
static char *
addr_fallback(const char *v)
{
	const char *lt = strchr(v, '<'), *gt, *at, *s, *e;

	if (lt != NULL) {
		gt = strchr(lt + 1, '>');
		if (gt != NULL && gt > lt + 1) {
			char *r = xstrndup(lt + 1, (size_t)(gt - lt - 1)), *u;

			u = utf8_lower_dup(r);
			free(r);
			return u;
		}
	}
	at = strchr(v, '@');
	if (at == NULL)
		return NULL;
	s = at;
	while (s > v && !strchr(" \t<>,;:\"()", s[-1]))
		s--;
	e = at;
	while (*e != '\0' && !strchr(" \t<>,;:\"()", *e))
		e++;
	{
		char *r = xstrndup(s, (size_t)(e - s)), *u;

		u = utf8_lower_dup(r);
		free(r);
		return u;
	}
}

static void
from_parse(const char *v, struct mime_message *msg, const char *raw_cs)
{
	struct mailimf_mailbox_list *list = NULL;
	size_t idx = 0;
	clistiter *it;

	if (mailimf_mailbox_list_parse(v, strlen(v), &idx, &list) == MAILIMF_NO_ERROR &&
	    list != NULL && list->mb_list != NULL) {
		it = clist_begin(list->mb_list);
		if (it != NULL && clist_content(it) != NULL) {
			struct mailimf_mailbox *mb = clist_content(it);

			if (mb->mb_addr_spec != NULL)
				msg->from_addr = utf8_lower_dup(mb->mb_addr_spec);
			if (mb->mb_display_name != NULL && mb->mb_display_name[0] != '\0')
				msg->from_name = hdr_decode_cs(mb->mb_display_name,
				                               strlen(mb->mb_display_name), raw_cs);
		}
	}
	if (list != NULL)
		mailimf_mailbox_list_free(list);
	if (msg->from_addr == NULL) {
		const char *lt = strchr(v, '<');

		msg->from_addr = addr_fallback(v);
		if (msg->from_addr != NULL) {
			strvec_push(&msg->defects, "unparsable From");
			if (lt != NULL && lt > v) {
				char *name = xstrndup(v, (size_t)(lt - v));

				str_trim(name);
				if (name[0] != '\0')
					msg->from_name = hdr_decode_cs(name, strlen(name), raw_cs);
				free(name);
			}
		}
	}
	if (msg->from_name != NULL) {
		/* quotes left by the fallback */
		size_t n = strlen(str_trim(msg->from_name));

		if (n >= 2 && msg->from_name[0] == '"' && msg->from_name[n - 1] == '"') {
			memmove(msg->from_name, msg->from_name + 1, n - 2);
			msg->from_name[n - 2] = '\0';
		}
		if (msg->from_name[0] == '\0') {
			free(msg->from_name);
			msg->from_name = NULL;
		}
	}
}

static void
mailbox_list_push(clist *l, struct strvec *out)
{
	clistiter *it;

	if (l == NULL)
		return;
	for (it = clist_begin(l); it != NULL; it = clist_next(it)) {
		struct mailimf_mailbox *mb = clist_content(it);

		if (mb != NULL && mb->mb_addr_spec != NULL)
			strvec_push_owned(out, utf8_lower_dup(mb->mb_addr_spec));
	}
}

/* All addr-specs of an address list (groups flattened). */
static void
addresses_parse(const char *v, struct strvec *out)
{
	struct mailimf_address_list *list = NULL;
	size_t idx = 0;
	clistiter *it;

	if (mailimf_address_list_parse(v, strlen(v), &idx, &list) == MAILIMF_NO_ERROR &&
	    list != NULL && list->ad_list != NULL) {
		for (it = clist_begin(list->ad_list); it != NULL; it = clist_next(it)) {
			struct mailimf_address *a = clist_content(it);

			if (a == NULL)
				continue;
			if (a->ad_type == MAILIMF_ADDRESS_MAILBOX &&
			    a->ad_data.ad_mailbox != NULL &&
			    a->ad_data.ad_mailbox->mb_addr_spec != NULL)
				strvec_push_owned(
				    out, utf8_lower_dup(a->ad_data.ad_mailbox->mb_addr_spec));
			else if (a->ad_type == MAILIMF_ADDRESS_GROUP &&
			         a->ad_data.ad_group != NULL &&
			         a->ad_data.ad_group->grp_mb_list != NULL)
				mailbox_list_push(a->ad_data.ad_group->grp_mb_list->mb_list, out);
		}
	}
	if (list != NULL)
		mailimf_address_list_free(list);
	if (out->n == 0) {
		/* each comma-separated piece on its own */
		char *copy = xstrdup(v), *p = copy, *comma, *a;

		for (;;) {
			comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			a = addr_fallback(p);
			if (a != NULL && a[0] != '\0')
				strvec_push_owned(out, a);
			else
				free(a);
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		free(copy);
	}
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static time_t
date_make(int year, int mon, int day, int hour, int min, int sec, int zone)
{
	int64_t t;
	int zs;

	if (year < 100)
		year += year < 50 ? 2000 : 1900;
	else if (year < 1000)
		year += 1900;
	if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 ||
	    hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60 || zone < -9959 || zone > 9959)
		return 0;
	zs = (zone < 0 ? -1 : 1) * ((abs(zone) / 100) * 3600 + (abs(zone) % 100) * 60);
	t = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 + min * 60 +
	    sec - zs;
	if (t <= 0)
		return 0;
	return (time_t)t;
}

/* Tolerant RFC 5322-ish date: "[Day,] 1 Jan 2020 10:00[:00] [+0100|GMT|EST]"
 * in any order of day and month, with odd separators. */
static time_t
date_fallback(const char *v)
{
	static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                     "jul", "aug", "sep", "oct", "nov", "dec"};
	static const struct {
		const char *name;
		int zone;
	} zones[] = {{"ut", 0},     {"utc", 0},    {"gmt", 0},    {"z", 0},      {"est", -500},
	             {"edt", -400}, {"cst", -600}, {"cdt", -500}, {"mst", -700}, {"mdt", -600},
	             {"pst", -800}, {"pdt", -700}, {"cet", 100},  {"cest", 200}};
	int day = -1, mon = -1, year = -1, hour = -1, min = -1, sec = 0, zone = 0;
	const char *p = v;
	size_t i;

	while (*p != '\0') {
		char word[16];
		size_t n = 0;

		while (*p != '\0' && !isalnum((unsigned char)*p) && *p != '+' && *p != '-')
			p++;
		if (*p == '\0')
			break;
		if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1])) {
			int sign = *p == '-' ? -1 : 1, z = 0, nd = 0;

			p++;
			while (isdigit((unsigned char)*p) && nd < 4) {
				z = z * 10 + (*p - '0');
				p++;
				nd++;
			}
			if (nd == 4 && hour >= 0)
				zone = sign * z;
			continue;
		}
		if (*p == '+' || *p == '-') {
			p++;
			continue;
		}
		if (isdigit((unsigned char)*p)) {
			int num = 0, nd = 0;

			while (isdigit((unsigned char)*p) && nd < 6) {
				num = num * 10 + (*p - '0');
				p++;
				nd++;
			}
			if (*p == ':' && hour < 0) {
				int h = num, m = 0, s = 0;

				p++;
				for (nd = 0; isdigit((unsigned char)*p) && nd < 2; nd++, p++)
					m = m * 10 + (*p - '0');
				if (*p == ':') {
					p++;
					for (nd = 0; isdigit((unsigned char)*p) && nd < 2;
					     nd++, p++)
						s = s * 10 + (*p - '0');
				}
				hour = h;
				min = m;
				sec = s;
			} else if (day < 0 && nd <= 2) {
				day = num;
			} else if (year < 0) {
				year = num;
			}
			continue;
		}
		while (isalnum((unsigned char)*p)) {
			if (n + 1 < sizeof(word))
				word[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		word[n] = '\0';
		for (i = 0; i < N_ELEMENTS(months) && mon < 0; i++) {
			if (strncmp(word, months[i], 3) == 0)
				mon = (int)i + 1;
		}
		for (i = 0; i < N_ELEMENTS(zones); i++) {
			if (hour >= 0 && strcmp(word, zones[i].name) == 0)
				zone = zones[i].zone;
		}
	}
	if (hour < 0) {
		hour = 0;
		min = 0;
	}
	return date_make(year, mon, day, hour, min, sec, zone);
}

static time_t
date_parse(const char *v)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0;
	time_t t = 0;

	if (mailimf_date_time_parse(v, strlen(v), &idx, &dt) == MAILIMF_NO_ERROR && dt != NULL)
		t = date_make(dt->dt_year, dt->dt_month, dt->dt_day, dt->dt_hour, dt->dt_min,
		              dt->dt_sec, dt->dt_zone);
	if (dt != NULL)
		mailimf_date_time_free(dt);
	if (t == 0)
		t = date_fallback(v);
	return t;
}

/* Message ids "<a@b>" in v, in order; when there are no brackets, the
 * whitespace-separated words. */
static void
msgids_parse(const char *v, struct strvec *out)
{
	const char *p = v, *gt;
	size_t before = out->n;

	while ((p = strchr(p, '<')) != NULL) {
		gt = strchr(p + 1, '>');
		if (gt == NULL)
			break;
		if (gt > p + 1) {
			char *id = xstrndup(p + 1, (size_t)(gt - p - 1)), *u;

			u = mime_to_utf8(id, strlen(id), NULL);
			str_trim(u);
			if (u[0] != '\0')
				strvec_push_owned(out, u);
			else
				free(u);
			free(id);
		}
		p = gt + 1;
	}
	if (out->n == before) {
		char *copy = mime_to_utf8(v, strlen(v), NULL), *tok, *save = NULL;

		for (tok = strtok_r(copy, " \t,<>", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t,<>", &save))
			strvec_push(out, tok);
		free(copy);
	}
}

static char *
msgid_first(const char *v)
{
	struct strvec ids = {0};
	char *r = NULL;

	msgids_parse(v, &ids);
	if (ids.n > 0)
		r = xstrdup(ids.v[0]);
	strvec_free(&ids);
	return r;
}

/* ---- text ---- */

/* CRLF and CR -> LF, in place. */
static void
text_lf(char *s)
{
	char *r = strchr(s, '\r'), *w = r, *cr;
	size_t run;

	if (r == NULL)
		return;
	/* r is at a CR: write LF for it, then move the run up to the next CR */
	while (r != NULL) {
		*w++ = '\n';
		r += r[1] == '\n' ? 2 : 1;
		cr = strchr(r, '\r');
		run = cr != NULL ? (size_t)(cr - r) : strlen(r);
		memmove(w, r, run);
		w += run;
		r = cr;
	}
	*w = '\0';
}

/* RFC 3676: joins soft-broken lines (ending in a space) of the same quote
 * depth, removes space-stuffing; "-- " stays a hard line. */
static char *
flowed_unwrap(const char *s, bool delsp)
{
	struct strbuf out = {0};
	const char *p = s;
	bool soft_prev = false;
	size_t prev_depth = 0;

	strbuf_add(&out, "", 0);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p), depth = 0;
		const char *c;
		size_t cn;
		bool soft;

		while (depth < n && p[depth] == '>')
			depth++;
		c = p + depth;
		cn = n - depth;
		if (cn > 0 && c[0] == ' ') {
			c++;
			cn--;
		}
		soft = cn > 0 && c[cn - 1] == ' ' && !(cn == 3 && memcmp(c, "-- ", 3) == 0);
		if (soft_prev && depth == prev_depth) {
			/* continuation of the previous line */
		} else {
			if (out.len > 0 || p != s)
				strbuf_addc(&out, '\n');
			if (depth > 0) {
				strbuf_add(&out, p, depth);
				strbuf_addc(&out, ' ');
			}
		}
		strbuf_add(&out, c, soft && delsp ? cn - 1 : cn);
		soft_prev = soft;
		prev_depth = depth;
		if (nl == NULL)
			break;
		p = nl + 1;
		if (*p == '\0')
			strbuf_addc(&out, '\n');
	}
	return strbuf_detach(&out);
}

/* ---- the part walk ---- */

struct walk {
	const char *data; /* borrowed: the whole message */
	size_t len;
	struct mime_message *msg;
	bool bounce;
	char *plain; /* owned: first inline text/plain, UTF-8 */
	char *html;  /* owned: first inline text/html, UTF-8 */
	bool defect_b64, defect_boundary, defect_cte;
	/* borrowed: the top-level header block, data[0..top_hlen), already
	 * parsed; a part whose header block is exactly that reuses it */
	const struct hblock *top_h;
	size_t top_hlen;
};

static void
defect_once(struct mime_message *msg, const char *d)
{
	if (!strvec_contains_ci(&msg->defects, d))
		strvec_push(&msg->defects, d);
}

/* Quoted-printable: "=XX" bytes, "=" at a line end is a soft break, and a
 * malformed "=" is kept as it is.  Writes to out (room for len bytes: the
 * output is never longer than the input) unless out is NULL, in which case
 * it only counts.  Returns the decoded length. */
static size_t
qp_decode_to(const char *s, size_t len, char *out)
{
	size_t i = 0, j, n = 0, run;
	int hi, lo;
	const char *eq;

	while (i < len) {
		/* bytes up to the next '=' are copied as they are */
		eq = memchr(s + i, '=', len - i);
		run = eq != NULL ? (size_t)(eq - (s + i)) : len - i;
		if (out != NULL)
			memcpy(out + n, s + i, run);
		n += run;
		i += run;
		if (i >= len)
			break;
		j = i + 1;
		while (j < len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j < len && (s[j] == '\n' || s[j] == '\r')) {
			if (s[j] == '\r' && j + 1 < len && s[j + 1] == '\n')
				j++;
			i = j + 1;
			continue;
		}
		if (j >= len) {
			i = j + 1;
			continue;
		}
		hi = lo = -1;
		if (i + 2 < len) {
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			if (out != NULL)
				out[n] = (char)(hi * 16 + lo);
			i += 3;
		} else {
			if (out != NULL)
				out[n] = '=';
			i++;
		}
		n++;
	}
	return n;
}

/* ---- uuencode ---- */

/* At most this many uuencoded blocks are taken out of a text. */
#define MAX_UU_BLOCKS 100

/* The 6-bit value of a uuencoded character (' ' and '`' are 0), or -1. */
static int
uu_val(unsigned char c)
{
	if (c < 0x20 || c > 0x60)
		return -1;
	return (c - 0x20) & 0x3f;
}

/* The number of bytes the uuencoded line s[0..len) holds, or -1 when it is
 * not one: a count character, then the bytes in groups of four characters
 * from ' ' to '`'.  Up to three trailing characters may be missing
 * (transports strip trailing spaces, which some encoders use for zeros)
 * and two more may follow (a checksum some encoders add). */
static int
uu_line_bytes(const char *s, size_t len)
{
	int n;
	size_t full, need;

	if (len == 0)
		return -1;
	n = uu_val((unsigned char)s[0]);
	if (n < 0)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if (uu_val((unsigned char)s[i]) < 0)
			return -1;
	}
	full = ((size_t)n + 2) / 3 * 4;
	need = ((size_t)n * 4 + 2) / 3;
	if (len - 1 > full + 2 || len - 1 + 3 < need)
		return -1;
	return n;
}

/* Decodes the uuencoded line s[0..len) (uu_line_bytes said n) into out, or
 * only counts when out is NULL.  Returns n. */
static size_t
uu_line_decode(const char *s, size_t len, int n, char *out)
{
	size_t w = 0;

	for (size_t i = 1; w < (size_t)n; i += 4) {
		int c[4];
		unsigned char b[3];

		for (int k = 0; k < 4; k++) {
			c[k] = i + (size_t)k < len ? uu_val((unsigned char)s[i + (size_t)k]) : 0;
			if (c[k] < 0)
				c[k] = 0;
		}
		b[0] = (unsigned char)((c[0] << 2) | (c[1] >> 4));
		b[1] = (unsigned char)(((c[1] & 0xf) << 4) | (c[2] >> 2));
		b[2] = (unsigned char)(((c[2] & 0x3) << 6) | c[3]);
		for (int k = 0; k < 3 && w < (size_t)n; k++) {
			if (out != NULL)
				out[w] = (char)b[k];
			w++;
		}
	}
	return w;
}

/* Whether s[0..len) (no line end) is "end", maybe with trailing blanks. */
static bool
uu_is_end(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len == 3 && memcmp(s, "end", 3) == 0;
}

/* "begin 644 name": the mode (three or four octal digits) and the name,
 * which may be empty; *name_r and *name_len_r point into s. */
static bool
uu_is_begin(const char *s, size_t len, const char **name_r, size_t *name_len_r)
{
	size_t i = 6, d = 0;

	if (len < 9 || memcmp(s, "begin ", 6) != 0)
		return false;
	while (i < len && s[i] >= '0' && s[i] <= '7' && d < 4) {
		i++;
		d++;
	}
	if (d < 3 || (i < len && s[i] != ' '))
		return false;
	while (i < len && s[i] == ' ')
		i++;
	while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*name_r = s + i;
	*name_len_r = len - i;
	return true;
}

/* Walks a uuencoded block whose "begin" line ends at p[0..len), from pos:
 * returns the offset after its "end" line and the decoded size in
 * *size_r (the bytes into out when not NULL), or 0 when the block is not
 * well formed to its "end" (then *stop_r is where the walk stopped).
 * Cases: every line a uuencoded line; the last, zero-length one ("`", " ",
 * or empty when its space was stripped) only before "end"; LF or CRLF. */
static size_t
uu_block(const char *p, size_t len, size_t pos, char *out, size_t *size_r, size_t *stop_r)
{
	size_t size = 0, eol, n;
	bool zero = false;

	while (pos < len) {
		int bytes;

		n = line_len(p + pos, len - pos, &eol);
		if (uu_is_end(p + pos, n)) {
			*size_r = size;
			return pos + n + eol;
		}
		bytes = n == 0 ? 0 : uu_line_bytes(p + pos, n);
		if (bytes < 0 || zero) {
			*stop_r = pos;
			return 0;
		}
		if (bytes == 0)
			zero = true;
		else
			size += uu_line_decode(p + pos, n, bytes, out != NULL ? out + size : NULL);
		pos += n + eol;
	}
	*stop_r = len;
	return 0;
}

/* A body in the Content-Transfer-Encoding x-uuencode: the data of its
 * first block (or of the lines as they come when there is no "begin").
 * Writes to out (room for len bytes) unless NULL; returns the length. */
static size_t
uu_decode_to(const char *s, size_t len, char *out)
{
	size_t pos = 0, eol, n, size = 0, stop = 0, end;
	const char *name;
	size_t nl;

	while (pos < len) {
		n = line_len(s + pos, len - pos, &eol);
		if (uu_is_begin(s + pos, n, &name, &nl)) {
			end = uu_block(s, len, pos + n + eol, out, &size, &stop);
			if (end > 0)
				return size;
			break;
		}
		pos += n + eol;
	}
	/* no well-formed block: every uuencoded line counts */
	size = 0;
	for (pos = 0; pos < len;) {
		int bytes;
		n = line_len(s + pos, len - pos, &eol);
		bytes =
		    n > 0 && !uu_is_begin(s + pos, n, &name, &nl) ? uu_line_bytes(s + pos, n) : -1;
		if (bytes > 0)
			size += uu_line_decode(s + pos, n, bytes, out != NULL ? out + size : NULL);
		pos += n + eol;
	}
	return size;
}

static void attachment_add(struct mime_message *msg, const char *filename, const char *type,
                           size_t size);

/* Takes the uuencoded blocks ("begin 644 name" ... "end") out of text (UTF-8
 * with LF line ends): each becomes an attachment (its name, or "",
 * application/octet-stream, the decoded size) and leaves the text.  Cases:
 * only blocks well formed to their "end" line count, the rest of the text
 * stays as it is; a "begin" line must start its line (not a quote);
 * MAX_UU_BLOCKS at most.  Outlook and old Netscape append attachments so
 * when they send plain text without MIME.  Returns text or a new string
 * (text is then freed). */
static char *
uu_extract(struct mime_message *msg, char *text)
{
	struct strbuf out = {0};
	size_t len = strlen(text), pos = 0, copied = 0, blocks = 0;

	if (memmem(text, len, "begin ", 6) == NULL)
		return text;
	while (pos < len && blocks < MAX_UU_BLOCKS) {
		size_t eol, n = line_len(text + pos, len - pos, &eol), nl, size = 0, stop = 0, end;
		const char *name;

		if (!uu_is_begin(text + pos, n, &name, &nl)) {
			pos += n + eol;
			continue;
		}
		end = uu_block(text, len, pos + n + eol, NULL, &size, &stop);
		if (end == 0) {
			/* the lines walked are uuencoded data, never a "begin" */
			pos = stop > pos + n + eol ? stop : pos + n + eol;
			continue;
		}
		{
			char *fname = xstrndup(name, nl);
			attachment_add(msg, fname, "application/octet-stream", size);
			free(fname);
		}
		strbuf_add(&out, text + copied, pos - copied);
		copied = pos = end;
		blocks++;
	}
	if (blocks == 0) {
		strbuf_free(&out);
		return text;
	}
	strbuf_add(&out, text + copied, len - copied);
	free(text);
	return strbuf_detach(&out);
}

/*
 * Transfer-decodes body.  Returns body itself for identity encodings, else
 * a decoded copy that *owned_r owns (free it).  With size_only the bytes
 * are not needed, only their number in *len_r: nothing is decoded or
 * allocated and NULL is returned for encoded bodies.  libetpan 1.9.4's
 * mailmime_part_parse reads past the end of some inputs (found by fuzzing),
 * so the decoders here are our own.
 */
static const char *
body_decode(struct walk *w, const char *cte, const char *body, size_t blen, bool size_only,
            size_t *len_r, char **owned_r)
{
	bool b64 = false, qp = false, uu = false, unclean = false;
	char *out = NULL;

	*owned_r = NULL;
	*len_r = blen;
	if (cte != NULL && cte[0] != '\0') {
		struct structured st;

		structured_parse(cte, &st);
		if (strcmp(st.first, "base64") == 0)
			b64 = true;
		else if (strcmp(st.first, "quoted-printable") == 0)
			qp = true;
		else if (strcmp(st.first, "x-uuencode") == 0 || strcmp(st.first, "uuencode") == 0 ||
		         strcmp(st.first, "x-uue") == 0)
			uu = true;
		else if (strcmp(st.first, "7bit") != 0 && strcmp(st.first, "8bit") != 0 &&
		         strcmp(st.first, "binary") != 0 && !w->defect_cte) {
			defect_once(w->msg, "unknown Content-Transfer-Encoding");
			w->defect_cte = true;
		}
		structured_free(&st);
	}
	if ((!b64 && !qp && !uu) || blen == 0)
		return body;
	if (!size_only)
		out = xmalloc(blen + 1);
	if (b64 && size_only) {
		*len_r = b64_size(body, blen, &unclean);
		if (unclean)
			defect_once(w->msg, "bad base64");
	} else if (b64) {
		*len_r = b64_decode_to(body, blen, out, &unclean);
		if (unclean)
			defect_once(w->msg, "bad base64");
	} else if (uu) {
		*len_r = uu_decode_to(body, blen, out);
	} else {
		*len_r = qp_decode_to(body, blen, out);
	}
	if (out != NULL)
		out[*len_r] = '\0';
	*owned_r = out;
	return out;
}

/* The header block of an embedded message, as UTF-8 text with LF ends. */
static char *
header_block_text(const char *p, size_t len)
{
	size_t pos = 0, n, eol;
	char *r;

	while (pos < len) {
		n = line_len(p + pos, len - pos, &eol);
		if (n == 0)
			break;
		pos += n + eol;
	}
	r = mime_to_utf8(p, pos, NULL);
	text_lf(r);
	str_trim(r);
	return r;
}

static void
attachment_add(struct mime_message *msg, const char *filename, const char *type, size_t size)
{
	struct mime_attachment *a;

	msg->attachments = xrealloc(msg->attachments, (msg->nattachments + 1) * sizeof(*a));
	a = &msg->attachments[msg->nattachments++];
	a->filename = filename != NULL ? xstrdup(filename) : xstrdup("");
	a->content_type = mime_to_utf8(type, strlen(type), NULL);
	a->size = size;
}

static char *
body_text(struct walk *w, const struct structured *ct, const char *bytes, size_t n)
{
	const char *used = NULL;
	const char *charset = param_raw(ct, "charset");
	char *t = mime_to_utf8_report(bytes, n, charset, &used);

	if (used != NULL) {
		char *d = xasprintf("undecodable charset %.40s, used %s", charset, used);
		char *du = mime_to_utf8(d, strlen(d), NULL);

		defect_once(w->msg, du);
		free(du);
		free(d);
	}
	text_lf(t);
	return t;
}

/* The length of the whole lines of bytes[0..n) that fit in max (all of it
 * when it fits): a cut at a line end splits no character, and no base64 or
 * quoted-printable unit. */
static size_t
lines_within(const char *bytes, size_t n, size_t max)
{
	size_t cut = max;

	if (n <= max)
		return n;
	while (cut > 0 && bytes[cut - 1] != '\n')
		cut--;
	return cut > 0 ? cut : max;
}

/*
 * One leaf part.  Cases, in order: delivery status -> delivery_status;
 * text/rfc822-headers -> returned_headers; message/rfc822 that libetpan left
 * as a leaf (encoded) -> as a message part; inline text/plain -> the text
 * candidate; inline text/html -> the HTML candidate; other inline text is
 * ignored; everything else is an attachment.
 */
static void
leaf_handle(struct walk *w, const struct hblock *h, const struct structured *ct, const char *body,
            size_t blen)
{
	enum {
		LEAF_DS,
		LEAF_HEADERS,
		LEAF_MESSAGE,
		LEAF_PLAIN,
		LEAF_HTML,
		LEAF_TEXT,
		LEAF_ATT,
		LEAF_CALENDAR
	};
	struct structured disp;
	char *filename = NULL, *owned = NULL;
	const char *type = ct->first, *bytes;
	size_t n;
	bool is_att, need;
	int kind;

	structured_parse(hblock_get(h, "Content-Disposition"), &disp);
	filename = param_get(&disp, "filename");
	if (filename == NULL)
		filename = param_get(ct, "name");
	if (filename == NULL)
		filename = xstrdup("");
	is_att = strcmp(disp.first, "attachment") == 0 || filename[0] != '\0';

	/* what the part is decides whether its bytes are needed or only their
	 * number (attachments, parts already seen) */
	if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		kind = LEAF_DS;
		need = w->msg->delivery_status == NULL;
	} else if (strcmp(type, "text/rfc822-headers") == 0 ||
	           strcmp(type, "text/global-headers") == 0) {
		kind = LEAF_HEADERS;
		need = w->msg->returned_headers == NULL;
	} else if (strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0) {
		kind = LEAF_MESSAGE;
		need = w->bounce && w->msg->returned_headers == NULL;
	} else if (strcmp(type, "text/calendar") == 0 || strcmp(type, "application/ics") == 0) {
		/* A calendar's answer to an invitation (iMIP), inline or attached:
		 * the first one is kept for calendar_parse_reply. */
		kind = LEAF_CALENDAR;
		need = w->msg->calendar == NULL && blen <= 4 * MIME_CALENDAR_MAX;
	} else if (!is_att && strcmp(type, "text/plain") == 0) {
		kind = LEAF_PLAIN;
		need = w->plain == NULL;
	} else if (!is_att && strcmp(type, "text/html") == 0) {
		kind = LEAF_HTML;
		need = w->html == NULL;
	} else if (!is_att && strncmp(type, "text/", 5) == 0) {
		/* inline text that is neither plain nor HTML: not the text, not
		 * an attachment */
		kind = LEAF_TEXT;
		need = false;
	} else {
		kind = LEAF_ATT;
		need = false;
	}
	/* An encoding at most quadruples (quoted-printable: triples) what it
	 * encodes, so four times the cap, encoded, holds what is read. */
	if (need && (kind == LEAF_PLAIN || kind == LEAF_HTML))
		blen = lines_within(body, blen, 4 * MIME_TEXT_MAX);
	bytes = body_decode(w, hblock_get(h, "Content-Transfer-Encoding"), body, blen, !need, &n,
	                    &owned);
	if (need && (kind == LEAF_PLAIN || kind == LEAF_HTML) && n > MIME_TEXT_MAX) {
		n = lines_within(bytes, n, MIME_TEXT_MAX);
		defect_once(w->msg, "text longer than 1 MiB: only its first 1 MiB is read");
	}

	switch (kind) {
	case LEAF_DS:
		if (need)
			w->msg->delivery_status = body_text(w, ct, bytes, n);
		break;
	case LEAF_HEADERS:
		if (need) {
			w->msg->returned_headers = body_text(w, ct, bytes, n);
			str_trim(w->msg->returned_headers);
		}
		break;
	case LEAF_MESSAGE:
		if (need)
			w->msg->returned_headers = header_block_text(bytes, n);
		else
			attachment_add(w->msg, filename, type, n);
		break;
	case LEAF_PLAIN:
		if (need) {
			const char *fmt = param_raw(ct, "format");
			const char *delsp = param_raw(ct, "delsp");

			w->plain = uu_extract(w->msg, body_text(w, ct, bytes, n));
			if (fmt != NULL && str_ieq(fmt, "flowed")) {
				char *u =
				    flowed_unwrap(w->plain, delsp != NULL && str_ieq(delsp, "yes"));

				free(w->plain);
				w->plain = u;
			}
		}
		break;
	case LEAF_HTML:
		if (need)
			w->html = body_text(w, ct, bytes, n);
		break;
	case LEAF_ATT:
		attachment_add(w->msg, filename, type, n);
		break;
	case LEAF_CALENDAR:
		if (need && n <= MIME_CALENDAR_MAX)
			w->msg->calendar = body_text(w, ct, bytes, n);
		if (is_att)
			attachment_add(w->msg, filename, type, n);
		break;
	default:
		break;
	}
	free(owned);
	free(filename);
	structured_free(&disp);
}

static bool
in_buffer(const struct walk *w, const char *p, size_t len)
{
	return p != NULL && p >= w->data && (size_t)(p - w->data) <= w->len &&
	       len <= w->len - (size_t)(p - w->data);
}

static bool
contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return nlen > 0 && memmem(hay, hlen, needle, nlen) != NULL;
}

static void
node_walk(struct walk *w, struct mailmime *node, struct mailmime *parent, const char *default_type,
          bool in_report)
{
	const char *hs, *body = NULL;
	size_t hlen, blen = 0;
	struct hblock h = {0};
	const struct hblock *hp = &h;
	struct structured ct;
	clistiter *it;

	if (node == NULL)
		return;
	hs = node->mm_mime_start;
	if (parent != NULL && parent->mm_type == MAILMIME_MESSAGE && parent->mm_body != NULL &&
	    parent->mm_body->dt_type == MAILMIME_DATA_TEXT)
		hs = parent->mm_body->dt_data.dt_text.dt_data;
	if (node->mm_body != NULL && node->mm_body->dt_type == MAILMIME_DATA_TEXT &&
	    in_buffer(w, node->mm_body->dt_data.dt_text.dt_data,
	              node->mm_body->dt_data.dt_text.dt_length)) {
		body = node->mm_body->dt_data.dt_text.dt_data;
		blen = node->mm_body->dt_data.dt_text.dt_length;
	}
	if (in_buffer(w, hs, 0) && body != NULL && hs <= body) {
		hlen = (size_t)(body - hs);
	} else {
		hs = NULL;
		hlen = 0;
	}
	/* the same bytes give the same fields: hblock_parse stops at the
	 * first empty line, which ends both */
	if (hs != NULL && hs == w->data && hlen == w->top_hlen && w->top_h != NULL)
		hp = w->top_h;
	else if (hs != NULL)
		hblock_parse(hs, hlen, &h, NULL);
	structured_parse(hblock_get_last(hp, "Content-Type"), &ct);
	if (strchr(ct.first, '/') == NULL) {
		free(ct.first);
		ct.first = xstrdup(default_type);
	}

	switch (node->mm_type) {
	case MAILMIME_MULTIPLE: {
		const char *boundary = param_raw(&ct, "boundary");
		bool report = strcmp(ct.first, "multipart/report") == 0;
		const char *child_default =
		    strcmp(ct.first, "multipart/digest") == 0 ? "message/rfc822" : "text/plain";

		if (report && w->msg->report_type == NULL) {
			const char *rt = param_raw(&ct, "report-type");

			if (rt != NULL) {
				w->msg->report_type = mime_to_utf8(rt, strlen(rt), NULL);
				str_lower(w->msg->report_type);
			}
		}
		if (boundary != NULL && !w->defect_boundary && in_buffer(w, hs, 0)) {
			char *close = xasprintf("--%s--", boundary);
			size_t span = hs != NULL ? w->len - (size_t)(hs - w->data) : 0;

			if (in_buffer(w, node->mm_mime_start, node->mm_length) && parent != NULL &&
			    parent->mm_type != MAILMIME_MESSAGE)
				span = node->mm_length + (size_t)(node->mm_mime_start - hs);
			if (!contains(hs, span, close, strlen(close))) {
				defect_once(w->msg, "missing closing boundary");
				w->defect_boundary = true;
			}
			free(close);
		}
		if (node->mm_data.mm_multipart.mm_mp_list != NULL) {
			for (it = clist_begin(node->mm_data.mm_multipart.mm_mp_list); it != NULL;
			     it = clist_next(it))
				node_walk(w, clist_content(it), node, child_default,
				          in_report || report);
		}
		break;
	}
	case MAILMIME_MESSAGE:
		if (w->bounce || in_report) {
			if (w->msg->returned_headers == NULL && body != NULL)
				w->msg->returned_headers = header_block_text(body, blen);
		} else {
			char *filename = param_get(&ct, "name");

			attachment_add(w->msg, filename, ct.first, blen);
			free(filename);
		}
		break;
	default:
		if (strncmp(ct.first, "multipart/", 10) == 0) {
			/* a multipart libetpan could not split: read it as text */
			defect_once(w->msg, "unparsable multipart");
			free(ct.first);
			ct.first = xstrdup("text/plain");
		}
		if (body != NULL)
			leaf_handle(w, hp, &ct, body, blen);
		break;
	}
	structured_free(&ct);
	hblock_free(&h);
}

/* Counts parts and nesting below node; stops descending past the limits. */
static void
node_count(struct mailmime *node, size_t depth, size_t *nparts, size_t *maxdepth)
{
	clistiter *it;

	if (node == NULL)
		return;
	(*nparts)++;
	if (depth > *maxdepth)
		*maxdepth = depth;
	if (node->mm_type == MAILMIME_MULTIPLE && node->mm_data.mm_multipart.mm_mp_list != NULL) {
		for (it = clist_begin(node->mm_data.mm_multipart.mm_mp_list); it != NULL;
		     it = clist_next(it))
			node_count(clist_content(it), depth + 1, nparts, maxdepth);
	} else if (node->mm_type == MAILMIME_MESSAGE) {
		node_count(node->mm_data.mm_message.mm_msg_mime, depth + 1, nparts, maxdepth);
	}
}

/* Lines starting "Content-Type:" that name a container: an upper bound on
 * how deep libetpan will recurse. */
static size_t
containers_estimate(const char *p, size_t len)
{
	size_t i = 0, n = 0, nl, cr;
	static const char key[] = "content-type:";
	const char *q;

	/* only line starts can match: go from one to the next with memchr
	 * (a line starts after each LF and each CR) */
	q = memchr(p, '\n', len);
	nl = q != NULL ? (size_t)(q - p) : len;
	q = memchr(p, '\r', len);
	cr = q != NULL ? (size_t)(q - p) : len;
	while (i + sizeof(key) < len) {
		if ((p[i] == 'c' || p[i] == 'C') && str_istarts(p + i, key)) {
			size_t j = i + sizeof(key) - 1, k;

			while (j < len &&
			       (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
				j++;
			for (k = 0; k < 9 && j + k < len; k++) {
				if (p[j + k] == '/')
					break;
			}
			if (j + k < len && p[j + k] == '/' &&
			    ((k == 9 && strncasecmp(p + j, "multipart", 9) == 0) ||
			     (k == 7 && strncasecmp(p + j, "message", 7) == 0)))
				n++;
		}
		/* nl and cr: the next LF and CR at or after i, len when none */
		if (nl < i) {
			q = memchr(p + i, '\n', len - i);
			nl = q != NULL ? (size_t)(q - p) : len;
		}
		if (cr < i) {
			q = memchr(p + i, '\r', len - i);
			cr = q != NULL ? (size_t)(q - p) : len;
		}
		i = (nl < cr ? nl : cr) + 1;
	}
	return n;
}

/* ---- what libetpan's multipart parser gets wrong ---- */

/*
 * libetpan 1.9.4 reads the first Content-Type of a part, takes a close
 * delimiter "--B--" wherever a line starts with it (so "--B--x", the
 * delimiter of a nested boundary "B--x", ends the outer part), and drops a
 * whole multipart whose last line is a bare delimiter "--B" with nothing
 * after it.  Mail readers do otherwise: the last Content-Type wins, the
 * longest boundary that matches a line is the one it delimits, and a final
 * bare delimiter closes the multipart.  So that libetpan's tree agrees,
 * a copy of the message is given to it with the minimal edits, none of
 * which moves a part:
 *   1. every Content-Type of a header block but the one that counts is
 *      renamed (same length): the last, unless only an earlier one
 *      declares a multipart whose boundary delimits the body (choose_ct);
 *   2. a boundary that has another boundary as a prefix gets a first
 *      character no other boundary starts with, in its parameter and in
 *      its delimiter lines (same length);
 *   3. a bare delimiter on the last line gets its "--".
 * The scan follows the structure the way a reader does: header blocks at
 * the top, after each delimiter line of a declared boundary, and after the
 * header block of a message/rfc822 part; one pass, linear.
 */

#define MAX_BOUNDARIES 64
#define MAX_CT_FIELDS 8
/* choose_ct searches the rest of the message for a boundary at most this
 * often per message, which keeps the whole linear */
#define MAX_CT_SEARCHES 16

struct fix_boundary {
	char *b; /* owned */
	size_t len;
	size_t param_off; /* offset of its value in its Content-Type; SIZE_MAX if unknown */
};

struct fix_delim {
	size_t off; /* offset of the line */
	size_t bi;  /* its boundary */
};

struct fix_scan {
	const char *p;
	size_t len;
	struct fix_boundary bs[MAX_BOUNDARIES];
	size_t nb;
	size_t *renames; /* offsets of Content-Type names to rename */
	size_t nrenames, rcap;
	struct fix_delim *delims;
	size_t ndelims, dcap;
	/* the Content-Type fields of the current header block: starts and
	 * ends (the oldest is renamed when there are more) */
	size_t ct_off[MAX_CT_FIELDS], ct_end[MAX_CT_FIELDS], nct;
	size_t searches; /* boundary searches done (choose_ct) */
	bool embedded;   /* the block declared message/rfc822: its body opens with headers */
};

static void
fix_scan_free(struct fix_scan *fs)
{
	for (size_t i = 0; i < fs->nb; i++)
		free(fs->bs[i].b);
	free(fs->renames);
	free(fs->delims);
}

/* Whether the line at p[0..n) is a header field: a name of printable
 * characters, maybe blanks, then ':'. */
static bool
is_field_line(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 127 && p[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/* Whether the line at p[0..n) names a Content-Type field. */
static bool
is_ct_field(const char *p, size_t n)
{
	size_t i = 12;

	if (n < 13 || strncasecmp(p, "content-type", 12) != 0)
		return false;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/* The parsed value of the Content-Type field p[off..end) (folded lines
 * joined); *colon_r is where its value starts.  false without a colon. */
static bool
ct_field_parse(const char *p, size_t off, size_t end, struct structured *st, size_t *colon_r)
{
	const char *colon = memchr(p + off, ':', end - off);
	char *v;

	if (colon == NULL)
		return false;
	v = xstrndup(colon + 1, (size_t)(p + end - colon - 1));
	for (char *c = v; *c != '\0'; c++) {
		if (*c == '\r' || *c == '\n' || *c == '\t')
			*c = ' ';
	}
	structured_parse(v, st);
	free(v);
	*colon_r = (size_t)(colon - p);
	return true;
}

/* Whether a line "--B" follows offset from in the message. */
static bool
boundary_follows(const struct fix_scan *fs, size_t from, const char *b)
{
	size_t bl = strlen(b);
	const char *q = fs->p + from, *end = fs->p + fs->len;

	while (q < end && (q = memmem(q, (size_t)(end - q), b, bl)) != NULL) {
		if ((size_t)(q - fs->p) >= from + 3 && q[-1] == '-' && q[-2] == '-' &&
		    (q[-3] == '\n' || q[-3] == '\r'))
			return true;
		q++;
	}
	return false;
}

/* Which of the block's Content-Type fields counts: the last, as in most
 * readers, unless it declares no multipart whose boundary delimits what
 * follows while an earlier one does (then the latest such: a header that
 * lies about the body, "multipart/alternative; boundary=X" then
 * "text/plain" over a body cut by X, is still read as the multipart). */
static size_t
choose_ct(struct fix_scan *fs, size_t nct, size_t body)
{
	for (size_t i = nct; i-- > 0;) {
		struct structured st;
		size_t colon;
		bool delimits = false;

		if (fs->searches >= MAX_CT_SEARCHES)
			break;
		if (!ct_field_parse(fs->p, fs->ct_off[i], fs->ct_end[i], &st, &colon))
			continue;
		if (strncmp(st.first, "multipart/", 10) == 0 &&
		    param_raw(&st, "boundary") != NULL) {
			fs->searches++;
			delimits = boundary_follows(fs, body, param_raw(&st, "boundary"));
		}
		structured_free(&st);
		if (delimits)
			return i;
	}
	return nct - 1;
}

/* The end of the header block at offset body: renames its Content-Type
 * fields but the one that counts (choose_ct), and declares the boundary of
 * that one. */
static void
fix_block_end(struct fix_scan *fs, size_t body)
{
	struct structured st;
	size_t nct = fs->nct, chosen, colon, off, end;
	const char *b;

	fs->embedded = false;
	fs->nct = 0;
	if (nct == 0)
		return;
	chosen = nct > 1 ? choose_ct(fs, nct, body) : 0;
	for (size_t i = 0; i < nct; i++) {
		if (i == chosen)
			continue;
		fs->renames = xgrow(fs->renames, &fs->rcap, fs->nrenames + 1, sizeof(*fs->renames));
		fs->renames[fs->nrenames++] = fs->ct_off[i];
	}
	off = fs->ct_off[chosen];
	end = fs->ct_end[chosen];
	if (!ct_field_parse(fs->p, off, end, &st, &colon))
		return;
	b = param_raw(&st, "boundary");
	if (strcmp(st.first, "message/rfc822") == 0 || strcmp(st.first, "message/global") == 0)
		fs->embedded = true;
	if (strncmp(st.first, "multipart/", 10) == 0 && b != NULL && b[0] != '\0' &&
	    fs->nb < MAX_BOUNDARIES && strlen(b) <= 200) {
		struct fix_boundary *fb = &fs->bs[fs->nb];
		const char *at = NULL;
		size_t bl = strlen(b);
		bool known = false;

		for (size_t i = 0; i < fs->nb && !known; i++)
			known = fs->bs[i].len == bl && memcmp(fs->bs[i].b, b, bl) == 0;
		if (!known) {
			/* where the value is written, after "boundary" */
			for (size_t i = colon; i + 8 <= end && at == NULL; i++) {
				if (strncasecmp(fs->p + i, "boundary", 8) == 0)
					at = memmem(fs->p + i + 8, end - i - 8, b, bl);
			}
			fb->b = xstrdup(b);
			fb->len = bl;
			fb->param_off = at != NULL ? (size_t)(at - fs->p) : SIZE_MAX;
			fs->nb++;
		}
	}
	structured_free(&st);
}

/* The declared boundary that the delimiter line p[0..n) ("--B", "--B--",
 * trailing blanks allowed) names, the longest that matches; *close_r says
 * whether it closes.  SIZE_MAX when none does. */
static size_t
fix_delimiter(const struct fix_scan *fs, const char *p, size_t n, bool *close_r)
{
	size_t best = SIZE_MAX;

	*close_r = false;
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return SIZE_MAX;
	for (size_t i = 0; i < fs->nb; i++) {
		size_t bl = fs->bs[i].len, k = 2 + bl;
		bool close = false;

		if (n < k || memcmp(p + 2, fs->bs[i].b, bl) != 0)
			continue;
		if (k + 2 <= n && p[k] == '-' && p[k + 1] == '-') {
			close = true;
			k += 2;
		}
		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		if (k != n)
			continue;
		if (best == SIZE_MAX || bl > fs->bs[best].len) {
			best = i;
			*close_r = close;
		}
	}
	return best;
}

/* Returns a fixed copy of p[0..len) (*len_r its length), or NULL when
 * libetpan can have it as it is; adds a defect for each kind of fix. */
static char *
structure_fix(const char *p, size_t len, size_t *len_r, struct strvec *defects)
{
	static const char firsts[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct fix_scan fs = {0};
	size_t pos = 0, eol, n, last_off = SIZE_MAX, last_bi = SIZE_MAX, rewrites = 0;
	bool in_headers = true, last_bare = false, in_ct = false;
	char newfirst[MAX_BOUNDARIES] = {0};
	char *copy = NULL;

	fs.p = p;
	fs.len = len;
	while (pos < len) {
		n = line_len(p + pos, len - pos, &eol);
		if (in_headers && n > 0 && p[pos] != ' ' && p[pos] != '\t' &&
		    !is_field_line(p + pos, n)) {
			/* libetpan ends a header block at a line that is no
			 * field: from here it is body, never renamed */
			fix_block_end(&fs, pos);
			in_headers = false;
			in_ct = false;
		}
		if (in_headers) {
			if (n == 0) {
				fix_block_end(&fs, pos + eol);
				in_headers = fs.embedded;
				in_ct = false;
			} else if (p[pos] == ' ' || p[pos] == '\t') {
				if (in_ct)
					fs.ct_end[fs.nct - 1] = pos + n;
			} else if (is_ct_field(p + pos, n)) {
				if (fs.nct == MAX_CT_FIELDS) {
					/* too many: the oldest never counts */
					fs.renames = xgrow(fs.renames, &fs.rcap, fs.nrenames + 1,
					                   sizeof(*fs.renames));
					fs.renames[fs.nrenames++] = fs.ct_off[0];
					memmove(fs.ct_off, fs.ct_off + 1,
					        (fs.nct - 1) * sizeof(size_t));
					memmove(fs.ct_end, fs.ct_end + 1,
					        (fs.nct - 1) * sizeof(size_t));
					fs.nct--;
				}
				fs.ct_off[fs.nct] = pos;
				fs.ct_end[fs.nct] = pos + n;
				fs.nct++;
				in_ct = true;
			} else {
				in_ct = false;
			}
			pos += n + eol;
			continue;
		}
		if (n > 0) {
			bool close;
			size_t bi = fix_delimiter(&fs, p + pos, n, &close);

			if (bi != SIZE_MAX) {
				fs.delims =
				    xgrow(fs.delims, &fs.dcap, fs.ndelims + 1, sizeof(*fs.delims));
				fs.delims[fs.ndelims].off = pos;
				fs.delims[fs.ndelims++].bi = bi;
				in_headers = !close;
				in_ct = false;
				fs.nct = 0;
			}
			last_off = pos;
			last_bi = bi;
			last_bare = bi != SIZE_MAX && !close;
		}
		pos += n + eol;
	}
	if (in_headers)
		fix_block_end(&fs, len);

	/* 2: boundaries with another as a prefix, and a free first character */
	for (size_t i = 0; i < fs.nb; i++) {
		bool prefixed = false;

		for (size_t j = 0; j < fs.nb && !prefixed; j++)
			prefixed = j != i && fs.bs[j].len < fs.bs[i].len &&
			           memcmp(fs.bs[j].b, fs.bs[i].b, fs.bs[j].len) == 0;
		if (!prefixed || fs.bs[i].param_off == SIZE_MAX)
			continue;
		for (const char *f = firsts; *f != '\0' && newfirst[i] == 0; f++) {
			bool used = false;
			for (size_t j = 0; j < fs.nb && !used; j++)
				used = fs.bs[j].b[0] == *f || newfirst[j] == *f;
			if (!used)
				newfirst[i] = *f;
		}
		rewrites += newfirst[i] != 0;
	}
	if (fs.nrenames == 0 && rewrites == 0 && !last_bare) {
		fix_scan_free(&fs);
		return NULL;
	}
	copy = xmalloc(len + 3);
	memcpy(copy, p, len);
	for (size_t i = 0; i < fs.nrenames; i++)
		memcpy(copy + fs.renames[i], "X-Ignored-CT", 12);
	for (size_t i = 0; i < fs.nb; i++) {
		if (newfirst[i] != 0)
			copy[fs.bs[i].param_off] = newfirst[i];
	}
	for (size_t i = 0; i < fs.ndelims; i++) {
		if (newfirst[fs.delims[i].bi] != 0)
			copy[fs.delims[i].off + 2] = newfirst[fs.delims[i].bi];
	}
	*len_r = len;
	if (last_bare) {
		size_t at = last_off + 2 + fs.bs[last_bi].len;
		memmove(copy + at + 2, copy + at, len - at);
		memcpy(copy + at, "--", 2);
		*len_r = len + 2;
		strvec_push(defects, "missing closing boundary");
	}
	copy[*len_r] = '\0';
	if (fs.nrenames > 0)
		strvec_push(defects, "duplicate Content-Type");
	if (rewrites > 0)
		strvec_push(defects, "boundary prefix of another");
	fix_scan_free(&fs);
	return copy;
}

/* ---- top level ---- */

/* The charset in which raw (not RFC 2047 encoded) text of the Subject and
 * display names is read first: UTF-7 when the message declares UTF-7.  Mail
 * clients that write UTF-7 bodies write their headers in it too ("Die Hasen
 * und die Fr+APY-sche"); UTF-7 is 7-bit, so the usual 8-bit fallbacks never
 * see it.  Structured fields (addresses, ids) are never read so: a '+' in
 * "mentoring+token@..." is not UTF-7.  NULL otherwise. */
static const char *
raw_header_charset(const struct hblock *h)
{
	struct structured ct;
	const char *cs, *r = NULL;

	structured_parse(hblock_get_last(h, "Content-Type"), &ct);
	cs = param_raw(&ct, "charset");
	if (cs != NULL) {
		if (strncasecmp(cs, "x-", 2) == 0)
			cs += 2;
		if (strcasecmp(cs, "utf-7") == 0 || strcasecmp(cs, "utf7") == 0 ||
		    strcasecmp(cs, "unicode-1-1-utf-7") == 0)
			r = "UTF-7";
	}
	structured_free(&ct);
	return r;
}

static void
headers_fill(struct mime_message *msg, const struct hblock *h)
{
	const char *v, *raw_cs = raw_header_charset(h);
	size_t i;

	msg->headers = xcalloc(h->n > 0 ? h->n : 1, sizeof(*msg->headers));
	msg->nheaders = h->n;
	for (i = 0; i < h->n; i++) {
		msg->headers[i].name = mime_to_utf8(h->v[i].name, h->v[i].nlen, NULL);
		msg->headers[i].value = hdr_decode_str(h->v[i].value);
	}
	v = hblock_get(h, "Message-ID");
	if (v != NULL)
		msg->message_id = msgid_first(v);
	if (msg->message_id == NULL)
		strvec_push(&msg->defects, "no Message-ID");
	v = hblock_get(h, "Date");
	if (v != NULL) {
		msg->date = date_parse(v);
		if (msg->date == 0)
			strvec_push(&msg->defects, "unparsable Date");
	}
	v = hblock_get(h, "From");
	if (v != NULL)
		from_parse(v, msg, raw_cs);
	v = hblock_get(h, "Reply-To");
	if (v != NULL) {
		struct strvec rt = {0};

		addresses_parse(v, &rt);
		if (rt.n > 0)
			msg->reply_to = xstrdup(rt.v[0]);
		strvec_free(&rt);
	}
	v = hblock_get(h, "Return-Path");
	if (v != NULL) {
		const char *lt = strchr(v, '<');

		if (lt != NULL && lt[1] == '>')
			msg->return_path = xstrdup("");
		else
			msg->return_path = addr_fallback(v);
		if (msg->return_path == NULL && v[0] == '\0')
			msg->return_path = xstrdup("");
	}
	for (i = 0; i < h->n; i++) {
		if (h->v[i].nlen == 2 && str_ieq(h->v[i].name, "To"))
			addresses_parse(h->v[i].value, &msg->to);
		else if (h->v[i].nlen == 2 && str_ieq(h->v[i].name, "Cc"))
			addresses_parse(h->v[i].value, &msg->cc);
	}
	v = hblock_get(h, "Subject");
	msg->subject = v != NULL ? hdr_decode_cs(v, strlen(v), raw_cs) : xstrdup("");
	v = hblock_get(h, "In-Reply-To");
	if (v != NULL)
		msg->in_reply_to = msgid_first(v);
	for (i = 0; i < h->n; i++) {
		if (h->v[i].nlen == 10 && str_ieq(h->v[i].name, "References"))
			msgids_parse(h->v[i].value, &msg->references);
	}
}

static bool
bounce_marker(const char *p, size_t len)
{
	const char *q = p, *end = p + len;
	size_t k;

	while ((q = memchr(q, '-', (size_t)(end - q))) != NULL) {
		k = (size_t)(q - p);
		if (k >= 8 && len - k >= 7 &&
		    ((memcmp(q - 8, "delivery", 8) == 0 && memcmp(q + 1, "status", 6) == 0) ||
		     (memcmp(q - 8, "Delivery", 8) == 0 && memcmp(q + 1, "Status", 6) == 0)))
			return true;
		if (k >= 6 && len - k >= 8 && memcmp(q - 6, "rfc822", 6) == 0 &&
		    memcmp(q + 1, "headers", 7) == 0)
			return true;
		/* runs of dashes (boundaries) in one step */
		q++;
		while (q < end && *q == '-')
			q++;
	}
	return false;
}

static bool
looks_like_bounce(const struct mime_message *msg, const char *data, size_t len)
{
	if (msg->from_addr != NULL && (str_istarts(msg->from_addr, "mailer-daemon@") ||
	                               str_istarts(msg->from_addr, "postmaster@")))
		return true;
	if (msg->return_path != NULL && msg->return_path[0] == '\0')
		return true;
	/* a delivery-status part anywhere: "delivery-status",
	 * "Delivery-Status" or "rfc822-headers", found from their '-' in one
	 * pass instead of three memmem scans */
	return bounce_marker(data, len);
}

/*
 * Cases: input over max_bytes fails; CR-only line ends are read as LF (one
 * byte for one, so offsets do not move); too many container headers fail
 * before libetpan recurses; libetpan's tree gives parts, and its part count
 * and depth are checked against the limits; when libetpan gives no tree,
 * the message is headers + one body.
 */
int
mime_parse(const char *data, size_t len, const struct mime_limits *limits,
           struct mime_message **msg_r, const char **error_r)
{
	static const struct mime_limits defaults = MIME_LIMITS_DEFAULT;
	const struct mime_limits *lim = limits != NULL ? limits : &defaults;
	struct mime_message *msg = NULL;
	struct mailmime *tree = NULL;
	struct hblock h = {0}, fixed_h = {0};
	struct structured ct = {0};
	struct walk w = {0};
	char *copy = NULL, *fixed = NULL;
	size_t body_off, idx = 0, nparts = 0, depth = 0, est, eol, fixed_len = 0;
	int ret = -1;

	*msg_r = NULL;
	if (data == NULL)
		data = "";
	if (len > lim->max_bytes) {
		*error_r = errorf("message has %zu bytes; the limit is %zu", len, lim->max_bytes);
		return -1;
	}
	est = containers_estimate(data, len);
	if (est > lim->max_parts || est > HARD_MAX_CONTAINERS) {
		*error_r = errorf("message has more than %zu MIME parts; the limit is %zu", est,
		                  lim->max_parts);
		return -1;
	}
	line_len(data, len, &eol);
	if (eol == 1 && memchr(data, '\n', len) == NULL) {
		size_t i;

		copy = xmalloc(len + 1);
		for (i = 0; i < len; i++)
			copy[i] = data[i] == '\r' ? '\n' : data[i];
		copy[len] = '\0';
		data = copy;
	}

	msg = xcalloc(1, sizeof(*msg));
	if (copy != NULL)
		strvec_push(&msg->defects, "CR line endings");
	body_off = hblock_parse(data, len, &h, &msg->defects);
	headers_fill(msg, &h);
	fixed = structure_fix(data, len, &fixed_len, &msg->defects);
	if (fixed != NULL) {
		/* the Content-Type that counts is the one left in the copy */
		hblock_parse(fixed, fixed_len, &fixed_h, NULL);
		structured_parse(hblock_get_last(&fixed_h, "Content-Type"), &ct);
	} else {
		structured_parse(hblock_get_last(&h, "Content-Type"), &ct);
	}
	if (strchr(ct.first, '/') == NULL) {
		free(ct.first);
		ct.first = xstrdup("text/plain");
	}
	msg->content_type = mime_to_utf8(ct.first, strlen(ct.first), NULL);

	w.data = fixed != NULL ? fixed : data;
	w.len = fixed != NULL ? fixed_len : len;
	w.msg = msg;
	w.bounce = looks_like_bounce(msg, data, len);
	/* a fixed copy's header blocks are read from the copy */
	w.top_h = fixed != NULL ? NULL : &h;
	w.top_hlen = body_off;
	data = w.data;
	len = w.len;

	if (mailmime_parse(data, len, &idx, &tree) == MAILIMF_NO_ERROR && tree != NULL) {
		struct mailmime *top = tree;

		if (tree->mm_type == MAILMIME_MESSAGE)
			top = tree->mm_data.mm_message.mm_msg_mime;
		node_count(top, 1, &nparts, &depth);
		if (nparts > lim->max_parts) {
			*error_r = errorf("message has %zu MIME parts; the limit is %zu", nparts,
			                  lim->max_parts);
			goto out;
		}
		if (depth > lim->max_depth) {
			*error_r =
			    errorf("message has MIME parts nested %zu deep; the limit is %zu",
			           depth, lim->max_depth);
			goto out;
		}
		node_walk(&w, top, tree, "text/plain", false);
	} else {
		defect_once(msg, "unparsable MIME structure");
		if (strncmp(ct.first, "multipart/", 10) == 0) {
			free(ct.first);
			ct.first = xstrdup("text/plain");
		}
		leaf_handle(&w, &h, &ct, data + body_off, len - body_off);
	}

	if (w.plain != NULL) {
		msg->text = w.plain;
		w.plain = NULL;
	} else if (w.html != NULL) {
		msg->text = mime_html_to_text(w.html, strlen(w.html));
		msg->text_from_html = true;
	} else {
		msg->text = xstrdup("");
	}
	*msg_r = msg;
	msg = NULL;
	ret = 0;
out:
	free(w.plain);
	free(w.html);
	if (tree != NULL)
		mailmime_free(tree);
	structured_free(&ct);
	hblock_free(&h);
	hblock_free(&fixed_h);
	mime_message_free(&msg);
	free(fixed);
	free(copy);
	return ret;
}

const char *
mime_header_get(const struct mime_message *msg, const char *name)
{
	size_t i;

	if (msg == NULL)
		return NULL;
	for (i = 0; i < msg->nheaders; i++) {
		if (str_ieq(msg->headers[i].name, name))
			return msg->headers[i].value;
	}
	return NULL;
}

void
mime_message_free(struct mime_message **msgp)
{
	struct mime_message *msg = *msgp;
	size_t i;

	if (msg == NULL)
		return;
	free(msg->message_id);
	free(msg->from_addr);
	free(msg->from_name);
	free(msg->reply_to);
	free(msg->return_path);
	strvec_free(&msg->to);
	strvec_free(&msg->cc);
	free(msg->subject);
	free(msg->in_reply_to);
	strvec_free(&msg->references);
	for (i = 0; i < msg->nheaders; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	free(msg->content_type);
	free(msg->report_type);
	free(msg->text);
	for (i = 0; i < msg->nattachments; i++) {
		free(msg->attachments[i].filename);
		free(msg->attachments[i].content_type);
	}
	free(msg->attachments);
	free(msg->delivery_status);
	free(msg->returned_headers);
	free(msg->calendar);
	strvec_free(&msg->defects);
	free(msg);
	*msgp = NULL;
}
