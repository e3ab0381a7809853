/*
 * compose: the RFC 5322 bytes of an outgoing message.  Pure: no I/O, no
 * global state except the random bytes of compose_message_id.
 *
 * Header lines are folded to at most HDR_LINE_MAX columns.  Text that is not
 * plain ASCII, that looks like an encoded word, or that has a word too long
 * to fold becomes RFC 2047 "B" encoded words in UTF-8, each sized to the
 * room left on its line and cut on UTF-8 sequence boundaries.
 */
#include "compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HDR_LINE_MAX 76 /* columns per header line, CRLF not counted */
#define QP_LINE_MAX 76  /* columns per body line, the soft-break "=" included */
#define NAME_MAX_BYTES 200
#define SUBJECT_MAX_BYTES 900
#define ADDR_MAX_BYTES 254
#define EW_OVERHEAD 12 /* "=?UTF-8?B?" + "?=" */

static const char compose_hex[] = "0123456789ABCDEF";

/* Length of the valid UTF-8 sequence at s[0..n), else 0. */
static size_t
compose_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	if (s[0] < 0x80)
		return 1;
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n || !utf8_valid((const char *)s, len))
		return 0;
	return len;
}

/*
 * Cases:
 *   - CR, LF, NUL, TAB, DEL, other C0 and C1 controls: a space;
 *   - invalid UTF-8 bytes: '?', so the result is always valid UTF-8;
 *   - runs of spaces: one space; leading and trailing spaces: dropped;
 *   - longer than max bytes: cut before the sequence that would cross max.
 */
char *
compose_sanitize_header(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p);
	/* The result is never longer than the input: written straight into one
	 * allocation rather than a byte at a time. */
	char *out = xmalloc(n + 1);
	size_t o = 0;
	bool pending_space = false;

	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len = c < 0x80 ? 1 : compose_utf8_len(p + i, n - i);
		bool is_space = (len == 1 && (c < 0x20 || c == 0x7f || c == ' ')) ||
		                (len == 2 && c == 0xc2 && p[i + 1] <= 0x9f); /* C1 controls */
		if (is_space) {
			pending_space = o > 0;
			i += len;
			continue;
		}
		size_t out_len = len == 0 ? 1 : len;
		if (o + (pending_space ? 1 : 0) + out_len > max)
			break;
		if (pending_space)
			out[o++] = ' ';
		pending_space = false;
		if (len == 0) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	out[o] = '\0';
	return out;
}

bool
compose_valid_addr(const char *addr)
{
	if (addr == NULL)
		return false;
	size_t n = strlen(addr);
	if (n == 0 || n > ADDR_MAX_BYTES)
		return false;
	const char *at = strchr(addr, '@');
	if (at == NULL || at == addr || strchr(at + 1, '@') != NULL)
		return false;
	const char *domain = at + 1;
	size_t dlen = strlen(domain);
	if (dlen == 0 || domain[0] == '.' || domain[dlen - 1] == '.' ||
	    strstr(domain, "..") != NULL)
		return false;
	if (addr[0] == '.' || at[-1] == '.')
		return false;
	for (const char *p = addr; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c) != NULL)
			return false;
	}
	for (const char *p = domain; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '.';
		if (!ok)
			return false;
	}
	return true;
}

/* A msg-id without the angle brackets: printable ASCII, no space, no <>,
 * with an '@'. */
static bool
compose_valid_msgid(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 250 || strchr(id, '@') == NULL)
		return false;
	for (const char *p = id; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

char *
compose_message_id(const char *domain)
{
	static const char hex_lower[] = "0123456789abcdef";
	unsigned char rnd[16];
	const char *dom = domain != NULL && *domain != '\0' ? domain : "localhost";
	size_t dlen = strlen(dom);
	char *id = xmalloc(sizeof(rnd) * 2 + 1 + dlen + 1), *w = id;

	random_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++) {
		*w++ = hex_lower[rnd[i] >> 4];
		*w++ = hex_lower[rnd[i] & 0xf];
	}
	*w++ = '@';
	memcpy(w, dom, dlen + 1);
	return id;
}

/* A header being written: the buffer and the column of the current line. */
struct hdr {
	struct strbuf *sb; /* borrowed */
	size_t col;
	bool line_has_token; /* a token follows the header name or the fold */
};

static void
hdr_begin(struct hdr *h, struct strbuf *sb, const char *name)
{
	h->sb = sb;
	strbuf_adds(sb, name);
	strbuf_addc(sb, ':');
	h->col = strlen(name) + 1;
	h->line_has_token = false;
}

/* Adds " tok", folding first when it would pass HDR_LINE_MAX and the line
 * already carries something. */
static void
hdr_token(struct hdr *h, const char *tok, size_t len)
{
	if (h->line_has_token && h->col + 1 + len > HDR_LINE_MAX) {
		strbuf_adds(h->sb, "\r\n");
		h->col = 0;
	}
	strbuf_addc(h->sb, ' ');
	strbuf_add(h->sb, tok, len);
	h->col += 1 + len;
	h->line_has_token = true;
}

/* hdr_token of pre + tok + post (pre and post of at most 1 byte each),
 * built on the stack when it fits. */
static void
hdr_token_wrapped(struct hdr *h, const char *pre, const char *tok, const char *post)
{
	char stack[320];
	size_t plen = strlen(pre), tlen = strlen(tok), qlen = strlen(post);
	size_t len = plen + tlen + qlen;
	char *buf = len <= sizeof(stack) ? stack : xmalloc(len);

	memcpy(buf, pre, plen);
	memcpy(buf + plen, tok, tlen);
	memcpy(buf + plen + tlen, post, qlen);
	hdr_token(h, buf, len);
	if (buf != stack)
		free(buf);
}

static void
hdr_end(struct hdr *h)
{
	strbuf_adds(h->sb, "\r\n");
}

/* Writes the base64 of s[0..n) to out; returns the length written. */
static size_t
compose_base64(char *out, const unsigned char *s, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *w = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*w++ = b64[(v >> 18) & 0x3f];
		*w++ = b64[(v >> 12) & 0x3f];
		*w++ = i + 1 < n ? b64[(v >> 6) & 0x3f] : '=';
		*w++ = i + 2 < n ? b64[v & 0x3f] : '=';
	}
	return (size_t)(w - out);
}

/*
 * Writes text (valid UTF-8) as encoded words.  Each word takes as many bytes
 * as fit in the room left on the current line (folding first when fewer
 * than 4 bytes would fit), cut back to a sequence boundary, so decoding
 * each word alone still gives valid UTF-8.
 */
static void
hdr_encoded(struct hdr *h, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);
	size_t i = 0;
	/* A word fits a line (at most 60 bytes of base64), so it is built on
	 * the stack; the heap is only for a line already past HDR_LINE_MAX. */
	char stack_word[EW_OVERHEAD + 64];

	while (i < n) {
		size_t room = HDR_LINE_MAX - h->col;
		size_t bytes = room > 1 + EW_OVERHEAD ? (room - 1 - EW_OVERHEAD) / 4 * 3 : 0;
		if (bytes < 4 && h->line_has_token) {
			strbuf_adds(h->sb, "\r\n");
			h->col = 0;
			continue;
		}
		if (bytes < 4)
			bytes = 4; /* a very long header name: overflow rather than loop */
		if (bytes > n - i)
			bytes = n - i;
		/* Back off to a sequence start; 4 bytes always hold one sequence. */
		while (i + bytes < n && (p[i + bytes] & 0xc0) == 0x80)
			bytes--;
		size_t need = EW_OVERHEAD + (bytes + 2) / 3 * 4, wlen = 10;
		char *word = need <= sizeof(stack_word) ? stack_word : xmalloc(need);
		memcpy(word, "=?UTF-8?B?", 10);
		wlen += compose_base64(word + wlen, p + i, bytes);
		memcpy(word + wlen, "?=", 2);
		wlen += 2;
		hdr_token(h, word, wlen);
		if (word != stack_word)
			free(word);
		i += bytes;
	}
}

static bool
compose_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* True when sanitised text s must be encoded rather than written as is:
 * non-ASCII, something a decoder would take for an encoded word, or a word
 * too long to fit on a folded line. */
static bool
compose_needs_encoding(const char *s, size_t name_col)
{
	if (!compose_is_ascii(s) || strstr(s, "=?") != NULL)
		return true;
	size_t word = 0;
	bool first = true;
	for (const char *p = s;; p++) {
		if (*p == ' ' || *p == '\0') {
			size_t limit = first ? HDR_LINE_MAX - name_col - 1 : HDR_LINE_MAX - 1;
			if (word > limit)
				return true;
			word = 0;
			first = false;
			if (*p == '\0')
				break;
		} else {
			word++;
		}
	}
	return false;
}

/* Unstructured text (Subject, X-Mentord): words folded, or encoded. */
static void
compose_unstructured(struct strbuf *sb, const char *name, const char *raw, size_t max)
{
	struct hdr h;
	char *s = compose_sanitize_header(raw, max);
	hdr_begin(&h, sb, name);
	if (compose_needs_encoding(s, h.col)) {
		hdr_encoded(&h, s);
	} else {
		for (char *p = s; *p != '\0';) {
			char *sp = strchr(p, ' ');
			size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
			hdr_token(&h, p, len);
			p += len;
			if (*p == ' ')
				p++;
		}
	}
	hdr_end(&h);
	free(s);
}

/* "Display Name" <addr> or addr; the name is quoted, or encoded when it is
 * not ASCII or too long for one line. */
static void
compose_mailbox(struct strbuf *sb, const char *name_hdr, const char *raw_name, const char *addr)
{
	struct hdr h;
	char *name = compose_sanitize_header(raw_name, NAME_MAX_BYTES);
	hdr_begin(&h, sb, name_hdr);
	if (*name == '\0') {
		hdr_token(&h, addr, strlen(addr));
	} else {
		/* Sanitising keeps at most NAME_MAX_BYTES; quoting at most doubles. */
		char q[2 * NAME_MAX_BYTES + 2];
		size_t qlen = 0;
		q[qlen++] = '"';
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				q[qlen++] = '\\';
			q[qlen++] = *p;
		}
		q[qlen++] = '"';
		if (compose_is_ascii(name) && strstr(name, "=?") == NULL &&
		    h.col + 1 + qlen <= HDR_LINE_MAX)
			hdr_token(&h, q, qlen);
		else
			hdr_encoded(&h, name);
		hdr_token_wrapped(&h, "<", addr, ">");
	}
	hdr_end(&h);
	free(name);
}

/* Appends v in decimal, zero-padded to width digits, as printf's "%0*ld". */
static void
compose_decimal(struct strbuf *sb, long v, int width)
{
	char buf[24];
	size_t i = sizeof(buf);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
	int digits = 0;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
		digits++;
	} while (u > 0);
	while (digits + (v < 0 ? 1 : 0) < width) {
		buf[--i] = '0';
		digits++;
	}
	if (v < 0)
		buf[--i] = '-';
	strbuf_add(sb, buf + i, sizeof(buf) - i);
}

static void
compose_date(struct strbuf *sb, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	/* Day and month names by hand: strftime's %a and %b follow the locale. */
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	/* "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld\r\n", without printf. */
	strbuf_add(sb, "Date: ", 6);
	strbuf_add(sb, days[tm.tm_wday % 7], 3);
	strbuf_add(sb, ", ", 2);
	compose_decimal(sb, tm.tm_mday, 0);
	strbuf_addc(sb, ' ');
	strbuf_add(sb, months[tm.tm_mon % 12], 3);
	strbuf_addc(sb, ' ');
	compose_decimal(sb, (long)tm.tm_year + 1900, 0);
	strbuf_addc(sb, ' ');
	compose_decimal(sb, tm.tm_hour, 2);
	strbuf_addc(sb, ':');
	compose_decimal(sb, tm.tm_min, 2);
	strbuf_addc(sb, ':');
	compose_decimal(sb, tm.tm_sec, 2);
	strbuf_addc(sb, ' ');
	strbuf_addc(sb, sign);
	compose_decimal(sb, off / 60, 2);
	compose_decimal(sb, off % 60, 2);
	strbuf_add(sb, "\r\n", 2);
}

/* Bytes that may go out as themselves anywhere but last on a line or
 * first on one (see compose_qp_body): printable ASCII except '='. */
static bool
compose_qp_plain(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '=';
}

/*
 * Quoted-printable body, one logical line at a time.  Cases:
 *   - LF or CRLF ends a line; the output always uses CRLF and ends with one;
 *   - '=' and bytes outside printable ASCII are =XX (a stray CR too);
 *   - a space or tab last on a line is =20 / =09 (trailing white space is
 *     lost in transit);
 *   - lines longer than QP_LINE_MAX get soft breaks ("=" CRLF) between
 *     encoded units, never inside "=XX";
 *   - an output line (also one started by a soft break) beginning with '.'
 *     or "From " has that first byte encoded, so neither SMTP dot handling
 *     nor mbox "From " quoting can touch it.
 * Each line is written straight into room reserved for its worst case (a
 * soft break and =XX for every byte, then CRLF), not a byte at a time.
 */
static void
compose_qp_body(struct strbuf *sb, const char *body)
{
	const unsigned char *p = (const unsigned char *)(body != NULL ? body : "");
	size_t n = strlen((const char *)p);
	size_t start = 0;

	while (start < n || start == 0) {
		const unsigned char *nl = memchr(p + start, '\n', n - start);
		size_t end = nl != NULL ? (size_t)(nl - p) : n;
		size_t line_end = end;
		if (line_end > start && p[line_end - 1] == '\r')
			line_end--;

		char *w0 = strbuf_room(sb, 6 * (line_end - start) + 2), *w = w0;
		size_t col = 0;
		for (size_t i = start; i < line_end; i++) {
			unsigned char c = p[i];
			bool last = i + 1 == line_end;
			bool literal;
			/* Whether c may go out as itself at column col. */
			if (col == 0 &&
			    (c == '.' || (line_end - i >= 5 && memcmp(p + i, "From ", 5) == 0)))
				literal = false;
			else if (c == ' ' || c == '\t')
				literal = !last;
			else
				literal = compose_qp_plain(c);
			/* The last unit may use the column the "=" would need. */
			size_t limit = last ? QP_LINE_MAX : QP_LINE_MAX - 1;
			if (col + (literal ? 1 : 3) > limit) {
				*w++ = '=';
				*w++ = '\r';
				*w++ = '\n';
				col = 0;
				if (c == '.' ||
				    (line_end - i >= 5 && memcmp(p + i, "From ", 5) == 0))
					literal = false;
			}
			if (literal) {
				*w++ = (char)c;
				col++;
			} else {
				*w++ = '=';
				*w++ = compose_hex[c >> 4];
				*w++ = compose_hex[c & 0xf];
				col += 3;
			}
		}
		*w++ = '\r';
		*w++ = '\n';
		strbuf_commit(sb, (size_t)(w - w0));
		if (end >= n)
			break;
		start = end + 1;
		if (start >= n)
			break; /* a final line end ends the body */
	}
}

/* Appends the sanitised, validated address list to h; -1 on a bad one. */
static int
compose_address_list(struct strbuf *sb, const char *name, const struct strvec *addrs,
                     const char **error_r)
{
	struct hdr h;
	if (addrs == NULL || addrs->n == 0) {
		*error_r = errorf("no recipient for the %s header", name);
		return -1;
	}
	hdr_begin(&h, sb, name);
	for (size_t i = 0; i < addrs->n; i++) {
		if (!compose_valid_addr(addrs->v[i])) {
			*error_r = errorf("invalid %s address \"%.100s\"", name, addrs->v[i]);
			return -1;
		}
		hdr_token_wrapped(&h, "", addrs->v[i], i + 1 < addrs->n ? "," : "");
	}
	hdr_end(&h);
	return 0;
}

/* Appends head, id, ">" and CRLF. */
static void
compose_bracketed(struct strbuf *sb, const char *head, const char *id)
{
	strbuf_adds(sb, head);
	strbuf_adds(sb, id);
	strbuf_add(sb, ">\r\n", 3);
}

/* --- attachments: a multipart/mixed body ------------------------------- */

#define FILENAME_MAX_BYTES 200
#define B64_LINE_BYTES 57 /* 76 columns of base64 */
#define RFC2231_CHUNK 50  /* encoded bytes per filename*N* line */
#define PLAIN_NAME_MAX 56 /* a quoted name that keeps its line within 76 */

/* A MIME token (RFC 2045): printable ASCII but no tspecials. */
static bool
compose_mime_token(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return false;
	}
	return true;
}

/* "type/subtype", two tokens, nothing else. */
static bool
compose_valid_content_type(const char *ct)
{
	const char *slash = ct != NULL ? strchr(ct, '/') : NULL;

	return slash != NULL && compose_mime_token(ct, (size_t)(slash - ct)) &&
	       compose_mime_token(slash + 1, strlen(slash + 1));
}

/* An iTIP method: "REQUEST", "CANCEL", ... (RFC 5546 uses letters only). */
static bool
compose_valid_method(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	}
	return true;
}

/* At most one calendar, valid content types and methods; 0 or -1. */
static int
compose_check_attachments(const struct compose_mail *mail, const char **error_r)
{
	size_t calendars = 0;

	for (size_t i = 0; i < mail->nattachments; i++) {
		const struct compose_attachment *a = &mail->attachments[i];
		if (a->data == NULL && a->len > 0) {
			*error_r = errorf("attachment %zu has no data", i + 1);
			return -1;
		}
		if (a->content_type != NULL && !compose_valid_content_type(a->content_type)) {
			*error_r = errorf("attachment %zu: invalid content type \"%.100s\"", i + 1,
			                  a->content_type);
			return -1;
		}
		if (a->inline_calendar_method != NULL) {
			if (!compose_valid_method(a->inline_calendar_method)) {
				*error_r =
				    errorf("attachment %zu: invalid calendar method \"%.40s\"",
				           i + 1, a->inline_calendar_method);
				return -1;
			}
			if (++calendars > 1) {
				*error_r = errorf("more than one calendar invitation in a message");
				return -1;
			}
		}
	}
	return 0;
}

/* The calendar attachment of mail, or NULL. */
static const struct compose_attachment *
compose_calendar(const struct compose_mail *mail)
{
	for (size_t i = 0; i < mail->nattachments; i++) {
		if (mail->attachments[i].inline_calendar_method != NULL)
			return &mail->attachments[i];
	}
	return NULL;
}

/* "=_mentord_<kind>_<16 hex>", from a hash of the Message-ID: unique per
 * message, the same every time the message is composed, and impossible in
 * base64 or quoted-printable text ("=_" is neither), so no part can contain
 * it.  buf holds at least 48 bytes. */
static void
compose_boundary(char *buf, const char *kind, const char *message_id)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	size_t n = 0;

	for (const char *p = message_id; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	memcpy(buf, "=_mentord_", 10);
	n = 10;
	for (const char *p = kind; *p != '\0' && n < 30; p++)
		buf[n++] = *p;
	buf[n++] = '_';
	for (int shift = 60; shift >= 0; shift -= 4)
		buf[n++] = compose_hex[(h >> shift) & 0xf];
	buf[n] = '\0';
}

/* data in base64 lines of 76 columns, each ending in CRLF. */
static void
compose_base64_body(struct strbuf *sb, const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i += B64_LINE_BYTES) {
		size_t n = len - i < B64_LINE_BYTES ? len - i : B64_LINE_BYTES;
		char *w = strbuf_room(sb, 4 * ((n + 2) / 3) + 2);
		size_t wl = compose_base64(w, data + i, n);
		w[wl++] = '\r';
		w[wl++] = '\n';
		strbuf_commit(sb, wl);
	}
}

/* The file name to show: UTF-8 kept, controls and path separators made
 * spaces (a name is never a path), folded and trimmed by the header
 * sanitiser, at most FILENAME_MAX_BYTES; "attachment" when nothing is
 * left.  Caller owns. */
static char *
compose_filename(const char *raw)
{
	char *name = compose_sanitize_header(raw, FILENAME_MAX_BYTES);

	for (char *p = name; *p != '\0'; p++) {
		if (*p == '/' || *p == '\\')
			*p = '_';
	}
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		free(name);
		name = xstrdup("attachment");
	}
	return name;
}

/* A name that can go out as a plain quoted-string on one line. */
static bool
compose_filename_plain(const char *name)
{
	size_t quoted = 0;

	for (const char *p = name; *p != '\0'; p++)
		quoted += *p == '"' || *p == '\\' ? 2 : 1;
	return compose_is_ascii(name) && quoted <= PLAIN_NAME_MAX && strstr(name, "=?") == NULL;
}

/* Adds '"' name '"' with '"' and '\' escaped. */
static void
compose_quoted(struct strbuf *sb, const char *name)
{
	strbuf_addc(sb, '"');
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, *p);
	}
	strbuf_addc(sb, '"');
}

/* The name parameter of Content-Type for readers that do not know RFC
 * 2231 (older Outlook): RFC 2047 words inside the quotes, as Thunderbird
 * and Gmail write it.  Starts on a folded line. */
static void
compose_name_param(struct strbuf *sb, const char *name)
{
	struct strbuf words = {0};
	struct hdr h;

	strbuf_adds(sb, ";\r\n name=");
	if (compose_filename_plain(name)) {
		compose_quoted(sb, name);
		return;
	}
	/* hdr_encoded writes the words (into their own buffer, so the first
	 * one's leading space can be dropped) folding between them; the quotes
	 * go around all. */
	strbuf_addc(sb, '"');
	h.sb = &words;
	h.col = 7; /* " name=\"" */
	h.line_has_token = true;
	hdr_encoded(&h, name);
	/* hdr_token puts a space before each word: the first is dropped. */
	strbuf_adds(sb, words.buf[0] == ' ' ? words.buf + 1 : words.buf);
	strbuf_free(&words);
	strbuf_addc(sb, '"');
}

/* The filename parameter of Content-Disposition: a quoted-string, or RFC
 * 2231 UTF-8 percent-encoding in continuations of at most RFC2231_CHUNK
 * bytes (never splitting a %XX), one per line. */
static void
compose_filename_param(struct strbuf *sb, const char *name)
{
	static const char attr_chars[] = "!#$&+-.^_`|~";
	struct strbuf enc = {0};

	if (compose_filename_plain(name)) {
		strbuf_adds(sb, ";\r\n filename=");
		compose_quoted(sb, name);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr(attr_chars, *p) != NULL;
		if (plain) {
			strbuf_addc(&enc, (char)*p);
		} else {
			strbuf_addc(&enc, '%');
			strbuf_addc(&enc, compose_hex[*p >> 4]);
			strbuf_addc(&enc, compose_hex[*p & 0xf]);
		}
	}
	if (enc.len <= RFC2231_CHUNK) {
		strbuf_adds(sb, ";\r\n filename*=UTF-8''");
		strbuf_add(sb, enc.buf, enc.len);
	} else {
		size_t i = 0;
		for (int k = 0; i < enc.len; k++) {
			size_t n = enc.len - i < RFC2231_CHUNK ? enc.len - i : RFC2231_CHUNK;
			/* Back off so a %XX stays whole. */
			if (i + n < enc.len) {
				if (enc.buf[i + n - 1] == '%')
					n -= 1;
				else if (enc.buf[i + n - 2] == '%')
					n -= 2;
			}
			strbuf_addf(sb, ";\r\n filename*%d*=%s", k, k == 0 ? "UTF-8''" : "");
			strbuf_add(sb, enc.buf + i, n);
			i += n;
		}
	}
	strbuf_free(&enc);
}

/* One attachment part: headers, a blank line, base64. */
static void
compose_attachment_part(struct strbuf *sb, const struct compose_attachment *a)
{
	char *name = compose_filename(a->filename);
	const char *ct = a->content_type;

	if (ct == NULL)
		ct = a->inline_calendar_method != NULL ? "application/ics"
		                                       : "application/octet-stream";
	strbuf_adds(sb, "Content-Type: ");
	strbuf_adds(sb, ct);
	compose_name_param(sb, name);
	strbuf_adds(sb, "\r\nContent-Disposition: attachment");
	compose_filename_param(sb, name);
	strbuf_adds(sb, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	compose_base64_body(sb, a->data, a->len);
	free(name);
}

/* The text part's headers, blank line and quoted-printable body. */
static void
compose_text_part(struct strbuf *sb, const char *body)
{
	strbuf_adds(sb, "Content-Type: text/plain; charset=utf-8\r\n");
	strbuf_adds(sb, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	compose_qp_body(sb, body);
}

/* The top-level Content-Type of a message with attachments. */
static void
compose_multipart_headers(struct strbuf *sb, const struct compose_mail *mail)
{
	char boundary[48];

	compose_boundary(boundary, "mixed", mail->message_id);
	strbuf_adds(sb, "Content-Type: multipart/mixed;\r\n boundary=\"");
	strbuf_adds(sb, boundary);
	strbuf_adds(sb, "\"\r\n");
}

/*
 * The body of a message with attachments.  Cases:
 *   - no calendar: multipart/mixed { text/plain, attachments... };
 *   - a calendar invitation: multipart/mixed { multipart/alternative {
 *     text/plain, text/calendar; method=M }, attachments... } with the
 *     calendar among the attachments too (application/ics), the layout of
 *     Google Calendar's invitations; Outlook finds the text/calendar
 *     alternative, Gmail and Apple Mail either.
 * Each part's content ends with CRLF, and the delimiter adds its own CRLF
 * before "--", so no part loses its last line break.
 */
static void
compose_multipart_body(struct strbuf *sb, const struct compose_mail *mail)
{
	const struct compose_attachment *cal = compose_calendar(mail);
	char mixed[48], alt[48];

	compose_boundary(mixed, "mixed", mail->message_id);
	compose_boundary(alt, "alt", mail->message_id);
	strbuf_adds(sb, "This is a multi-part message in MIME format.\r\n");
	strbuf_addf(sb, "\r\n--%s\r\n", mixed);
	if (cal == NULL) {
		compose_text_part(sb, mail->body);
	} else {
		strbuf_addf(sb, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
		            alt);
		strbuf_addf(sb, "\r\n--%s\r\n", alt);
		compose_text_part(sb, mail->body);
		strbuf_addf(sb, "\r\n--%s\r\n", alt);
		strbuf_addf(sb,
		            "Content-Type: text/calendar; charset=UTF-8; method=%s\r\n"
		            "Content-Transfer-Encoding: base64\r\n\r\n",
		            cal->inline_calendar_method);
		compose_base64_body(sb, cal->data, cal->len);
		strbuf_addf(sb, "\r\n--%s--\r\n", alt);
	}
	for (size_t i = 0; i < mail->nattachments; i++) {
		strbuf_addf(sb, "\r\n--%s\r\n", mixed);
		compose_attachment_part(sb, &mail->attachments[i]);
	}
	strbuf_addf(sb, "\r\n--%s--\r\n", mixed);
}

int
compose_message(const struct compose_mail *mail, char **data_r, size_t *len_r, const char **error_r)
{
	struct strbuf sb = {0};
	struct hdr h;
	int ret = -1;

	if (!compose_valid_addr(mail->from_addr)) {
		*error_r = errorf("invalid From address \"%.100s\"",
		                  mail->from_addr != NULL ? mail->from_addr : "(none)");
		goto out;
	}
	if (mail->reply_to != NULL && !compose_valid_addr(mail->reply_to)) {
		*error_r = errorf("invalid Reply-To address \"%.100s\"", mail->reply_to);
		goto out;
	}
	if (!compose_valid_msgid(mail->message_id)) {
		*error_r = errorf("invalid Message-ID \"%.100s\"",
		                  mail->message_id != NULL ? mail->message_id : "(none)");
		goto out;
	}
	if (mail->nattachments > 0 &&
	    (mail->attachments == NULL || compose_check_attachments(mail, error_r) < 0)) {
		if (mail->attachments == NULL)
			*error_r =
			    errorf("%zu attachments announced, none given", mail->nattachments);
		goto out;
	}

	compose_date(&sb, mail->date);
	compose_mailbox(&sb, "From", mail->from_name, mail->from_addr);
	if (compose_address_list(&sb, "To", mail->to, error_r) < 0)
		goto out;
	if (mail->reply_to != NULL)
		compose_mailbox(&sb, "Reply-To", NULL, mail->reply_to);
	compose_unstructured(&sb, "Subject", mail->subject, SUBJECT_MAX_BYTES);
	compose_bracketed(&sb, "Message-ID: <", mail->message_id);

	/* Thread headers come from stored mail: ids that are not safe are left
	 * out rather than failing the message. */
	if (compose_valid_msgid(mail->in_reply_to))
		compose_bracketed(&sb, "In-Reply-To: <", mail->in_reply_to);
	if (mail->references != NULL) {
		char *refs = compose_sanitize_header(mail->references, 8000);
		bool any = false;
		for (char *tok = refs; *tok != '\0';) {
			char *sp = strchr(tok, ' ');
			if (sp != NULL)
				*sp = '\0';
			if (compose_valid_msgid(tok)) {
				if (!any)
					hdr_begin(&h, &sb, "References");
				any = true;
				hdr_token_wrapped(&h, "<", tok, ">");
			}
			if (sp == NULL)
				break;
			tok = sp + 1;
		}
		if (any)
			hdr_end(&h);
		free(refs);
	}
	strbuf_adds(&sb, "MIME-Version: 1.0\r\n");
	if (mail->nattachments > 0) {
		compose_multipart_headers(&sb, mail);
	} else {
		strbuf_adds(&sb, "Content-Type: text/plain; charset=utf-8\r\n");
		strbuf_adds(&sb, "Content-Transfer-Encoding: quoted-printable\r\n");
	}
	/* Every email is automatic (RFC 3834): well-behaved responders stay
	 * silent, and Exchange's out-of-office follows its own header. */
	strbuf_adds(&sb, mail->auto_submitted == COMPOSE_AUTO_REPLIED
	                     ? "Auto-Submitted: auto-replied\r\n"
	                     : "Auto-Submitted: auto-generated\r\n");
	strbuf_adds(&sb, "X-Auto-Response-Suppress: All\r\n");
	compose_unstructured(&sb, "X-Mentord", mail->kind != NULL ? mail->kind : "other", 64);
	strbuf_adds(&sb, "\r\n");
	if (mail->nattachments > 0)
		compose_multipart_body(&sb, mail);
	else
		compose_qp_body(&sb, mail->body);

	*len_r = sb.len;
	*data_r = strbuf_detach(&sb);
	ret = 0;
out:
	strbuf_free(&sb);
	return ret;
}

/* The header named name at the start of line (case-insensitive, then
 * ":"). */
static bool
header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/*
 * A composed message with new To, Message-ID and Date headers.  Cases:
 *   1. a header to replace, with its continuation lines: replaced by the
 *      new one where the first stood;
 *   2. any other header line: copied;
 *   3. the blank line and the body: copied as they are.
 */
int
compose_readdress(const char *data, size_t len, const char *to, const char *message_id, time_t date,
                  char **data_r, size_t *len_r, const char **error_r)
{
	struct strbuf sb = {0};
	struct strvec rcpt = {0};
	size_t pos = 0;
	bool skipping = false;
	int ret = -1;

	if (!compose_valid_addr(to)) {
		*error_r = errorf("invalid To address \"%.100s\"", to);
		goto out;
	}
	if (!compose_valid_msgid(message_id)) {
		*error_r = errorf("invalid Message-ID \"%.100s\"", message_id);
		goto out;
	}
	strvec_push(&rcpt, to);
	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) + 1 : len - pos;
		size_t text = n;

		while (text > 0 && (line[text - 1] == '\n' || line[text - 1] == '\r'))
			text--;
		if (text == 0)
			break; /* the blank line: the body follows */
		if (line[0] == ' ' || line[0] == '\t') {
			if (!skipping)
				strbuf_add(&sb, line, n);
		} else if (header_is(line, text, "To")) {
			skipping = true;
			if (compose_address_list(&sb, "To", &rcpt, error_r) < 0)
				goto out;
		} else if (header_is(line, text, "Message-ID")) {
			skipping = true;
			compose_bracketed(&sb, "Message-ID: <", message_id);
		} else if (header_is(line, text, "Date")) {
			skipping = true;
			compose_date(&sb, date);
		} else {
			skipping = false;
			strbuf_add(&sb, line, n);
		}
		pos += n;
	}
	if (pos >= len) {
		*error_r = errorf("the stored email has no end of its header");
		goto out;
	}
	strbuf_add(&sb, data + pos, len - pos);
	*len_r = sb.len;
	*data_r = strbuf_detach(&sb);
	ret = 0;
out:
	strbuf_free(&sb);
	strvec_free(&rcpt);
	return ret;
}
