/*
 * charset: bytes in a declared (and often wrong) charset -> valid UTF-8.
 *
 * Charset declarations lie, so the declared charset is only the first guess:
 * then UTF-8, then windows-1252 (whose undefined bytes map to the C1
 * controls, so it is ISO-8859-1 for those and always succeeds).
 */
#include "mime.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* windows-1252 0x80..0x9f; the five undefined bytes map to themselves (C1). */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

/* Never fails; NUL bytes are dropped.  Each byte becomes at most three
 * bytes of UTF-8, so the result is written in place without growing. */
static char *
cp1252_to_utf8(const char *data, size_t len)
{
	char *out = xmalloc(len * 3 + 1), *w = out;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		unsigned cp;

		if (c < 0x80) {
			if (c != 0)
				*w++ = (char)c;
			continue;
		}
		cp = c <= 0x9f ? cp1252_high[c - 0x80] : c;
		if (cp < 0x800) {
			*w++ = (char)(0xc0 | (cp >> 6));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*w++ = (char)(0xe0 | (cp >> 12));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	*w = '\0';
	return out;
}

/* A copy of data[0..len) without its NUL bytes; whole runs are copied at a
 * time since NULs are rare. */
static char *
copy_without_nul(const char *data, size_t len, size_t *len_r)
{
	char *out = xmalloc(len + 1);
	const char *p = data, *end = data + len, *z;
	size_t n = 0;

	while (p < end) {
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			z = end;
		memcpy(out + n, p, (size_t)(z - p));
		n += (size_t)(z - p);
		p = z + 1;
	}
	out[n] = '\0';
	*len_r = n;
	return out;
}

/* utf8_valid() for data known to hold no NUL byte, with a fast path over
 * ASCII runs; it must accept exactly what utf8_valid() accepts. */
static bool
utf8_valid_nonul(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	uint32_t cp;
	uint64_t word;

	while (i < len) {
		if (len - i >= 8) {
			memcpy(&word, p + i, 8);
			if ((word & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 2;
			cp = p[i] & 0x1fu;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 3;
			cp = p[i] & 0x0fu;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 4;
			cp = p[i] & 0x07u;
		} else {
			return false;
		}
		if (n > len - i)
			return false;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3fu);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* Maps a declared charset to an iconv name in buf.  Returns NULL when the
 * declaration says nothing ("unknown-8bit", empty), and sets *western_r for
 * the charsets that are really windows-1252 in practice. */
static const char *
charset_canon(const char *charset, char *buf, size_t bufsize, bool *western_r)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = {
	    {"utf8", "UTF-8"},
	    {"unicode-1-1-utf-7", "UTF-7"},
	    {"utf7", "UTF-7"},
	    {"ks_c_5601-1987", "CP949"},
	    {"ks_c_5601", "CP949"},
	    {"euc-kr", "CP949"},
	    {"iso-8859-8-i", "ISO-8859-8"},
	    {"iso-8859-6-i", "ISO-8859-6"},
	    {"gb2312", "GB18030"},
	    {"gbk", "GB18030"},
	    {"cp936", "GB18030"},
	    {"sjis", "SHIFT_JIS"},
	    {"shift-jis", "SHIFT_JIS"},
	    {"ms932", "CP932"},
	    {"windows-31j", "CP932"},
	    {"big5-hkscs", "BIG5-HKSCS"},
	    {"mac-roman", "MACINTOSH"},
	    {"macintosh", "MACINTOSH"},
	    {"tis-620", "TIS-620"},
	    {"windows-874", "CP874"},
	};
	static const char *const western[] = {
	    "us-ascii", "ascii",           "iso-8859-1",   "iso8859-1", "iso_8859-1",
	    "latin1",   "latin-1",         "windows-1252", "cp1252",    "ansi_x3.4-1968",
	    "us",       "iso-ir-100",      "cp819",        "l1",        "8bit",
	    "ibm819",   "iso-8859-1:1987",
	};
	const char *s = charset;
	size_t n = 0, i;

	*western_r = false;
	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '"' || *s == '\'')
		s++;
	while (s[n] != '\0' && s[n] != '"' && s[n] != '\'' && s[n] != '*' && s[n] != ' ' &&
	       s[n] != '\t' && s[n] != ';' && n + 1 < bufsize)
		n++;
	if (n == 0 || n + 1 >= bufsize)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	str_lower(buf);
	/* the common case; none of the lists below holds it */
	if (strcmp(buf, "utf-8") == 0)
		return buf;
	if (strncmp(buf, "x-", 2) == 0 && buf[2] != '\0')
		memmove(buf, buf + 2, n - 1);
	if (str_ieq(buf, "unknown-8bit") || str_ieq(buf, "unknown") || str_ieq(buf, "default") ||
	    str_ieq(buf, "user-defined") || str_ieq(buf, "charset"))
		return NULL;
	for (i = 0; i < N_ELEMENTS(western); i++) {
		if (strcmp(buf, western[i]) == 0) {
			*western_r = true;
			return buf;
		}
	}
	for (i = 0; i < N_ELEMENTS(aliases); i++) {
		if (strcmp(buf, aliases[i].alias) == 0)
			return aliases[i].name;
	}
	return buf;
}

static void
out_grow(char **out, char **outp, size_t *cap, size_t *outleft)
{
	size_t used = (size_t)(*outp - *out);

	*cap *= 2;
	*out = xrealloc(*out, *cap);
	*outp = *out + used;
	*outleft = *cap - used - 1;
}

/* Converts with iconv; NULL when the charset is unknown or the bytes are not
 * valid in it.  NULs are removed from the result. */
static char *
iconv_to_utf8(const char *data, size_t len, const char *name)
{
	iconv_t cd = iconv_open("UTF-8", name);
	char *out = NULL, *inp = (char *)data, *outp;
	size_t cap, inleft = len, outleft, r, n;
	char *result = NULL;

	if (cd == (iconv_t)-1)
		return NULL;
	cap = len * 2 + 64;
	out = xmalloc(cap);
	outp = out;
	outleft = cap - 1;
	while (inleft > 0) {
		r = iconv(cd, &inp, &inleft, &outp, &outleft);
		if (r == (size_t)-1) {
			if (errno != E2BIG)
				goto out;
			out_grow(&out, &outp, &cap, &outleft);
		}
	}
	/* stateful charsets (ISO-2022-JP) may have a shift sequence to flush */
	for (;;) {
		r = iconv(cd, NULL, NULL, &outp, &outleft);
		if (r != (size_t)-1)
			break;
		if (errno != E2BIG)
			goto out;
		out_grow(&out, &outp, &cap, &outleft);
	}
	*outp = '\0';
	result = copy_without_nul(out, (size_t)(outp - out), &n);
out:
	free(out);
	iconv_close(cd);
	return result;
}

/* Internal entry with a report: *used_r is NULL when the declared charset
 * (or plain ASCII/UTF-8 with no declaration) was used, else the fallback
 * that was ("UTF-8" or "windows-1252"). */
char *
mime_to_utf8_report(const char *data, size_t len, const char *charset, const char **used_r)
{
	char buf[64];
	bool western;
	const char *name = charset_canon(charset, buf, sizeof(buf), &western);
	/* a declaration that needs no iconv: none, UTF-8, or a western one
	 * (read as UTF-8 first, then windows-1252) */
	bool plain = name == NULL || western || str_ieq(name, "utf-8");
	char *out, *copy;
	size_t n;

	*used_r = NULL;
	if (data == NULL || len == 0)
		return xstrdup("");
	/* Under a plain declaration ASCII needs no check of its own: it is
	 * valid UTF-8, so the copy below is returned as it is. */
	if (!plain) {
		out = iconv_to_utf8(data, len, name);
		if (out != NULL && utf8_valid_nonul(out, strlen(out)))
			return out;
		free(out);
	}
	copy = copy_without_nul(data, len, &n);
	if (utf8_valid_nonul(copy, n)) {
		if (!plain)
			*used_r = "UTF-8";
		return copy;
	}
	free(copy);
	if (name != NULL && !western)
		*used_r = "windows-1252";
	return cp1252_to_utf8(data, len);
}

char *
mime_to_utf8(const char *data, size_t len, const char *charset)
{
	const char *used;

	return mime_to_utf8_report(data, len, charset, &used);
}
