/* util: allocation, strings, vectors, files; see include/util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static void ATTR_NORETURN
out_of_memory(size_t size)
{
	fprintf(stderr, "mentord: out of memory allocating %zu bytes\n", size);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		out_of_memory(n * size);
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size == 0 ? 1 : size);

	if (q == NULL)
		out_of_memory(size);
	return q;
}

void *
xgrow(void *p, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap = *cap;

	if (need <= ncap)
		return p;
	if (ncap < 8)
		ncap = 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			out_of_memory(SIZE_MAX);
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elsize)
		out_of_memory(SIZE_MAX);
	p = xrealloc(p, ncap * elsize);
	*cap = ncap;
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		out_of_memory(0);
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

const char *
errorf(const char *fmt, ...)
{
	static _Thread_local char ring[ERROR_RING][ERROR_MAX];
	static _Thread_local unsigned next;
	char *buf = ring[next++ % ERROR_RING];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, ERROR_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

static void
strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 < sb->len)
		out_of_memory(SIZE_MAX);
	sb->buf = xgrow(sb->buf, &sb->cap, sb->len + extra + 1, 1);
}

char *
strbuf_room(struct strbuf *sb, size_t extra)
{
	strbuf_reserve(sb, extra);
	return sb->buf + sb->len;
}

void
strbuf_commit(struct strbuf *sb, size_t n)
{
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_reserve(sb, len);
	if (len > 0)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n > 0) {
		strbuf_reserve(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
		sb->len += (size_t)n;
	}
	va_end(ap);
}

void
strbuf_truncate(struct strbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] == 0)
			return false;
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

void
strbuf_add_json(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	strbuf_addc(sb, '"');
	while (i < len) {
		unsigned c = p[i];

		if (c == '"' || c == '\\') {
			strbuf_addc(sb, '\\');
			strbuf_addc(sb, (char)c);
			i++;
		} else if (c == '\n') {
			strbuf_adds(sb, "\\n");
			i++;
		} else if (c == '\r') {
			strbuf_adds(sb, "\\r");
			i++;
		} else if (c == '\t') {
			strbuf_adds(sb, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\u%04x", c);
			i++;
		} else {
			n = utf8_seq_len(p + i, len - i);
			if (n == 0) {
				strbuf_adds(sb, "\\ufffd");
				i++;
			} else {
				strbuf_add(sb, p + i, n);
				i += n;
			}
		}
	}
	strbuf_addc(sb, '"');
}

char *
strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf;

	if (p == NULL)
		p = xstrdup("");
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->buf == NULL ? "" : sb->buf;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void
strvec_push_owned(struct strvec *sv, char *s)
{
	sv->v = xgrow(sv->v, &sv->cap, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_owned(sv, xstrdup(s));
}

bool
strvec_contains_ci(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (str_ieq(sv->v[i], s))
			return true;
	return false;
}

char *
strvec_join(const struct strvec *sv, const char *sep)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			strbuf_adds(&sb, sep);
		strbuf_adds(&sb, sv->v[i]);
	}
	return strbuf_detach(&sb);
}

void
strvec_free(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int
read_file(const char *path, size_t max, char **data_r, size_t *len_r, const char **error_r)
{
	struct strbuf sb = {0};
	char chunk[65536];
	ssize_t n;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = errorf("%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = errorf("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			*error_r = errorf("%s: larger than %zu bytes", path, max);
			goto out;
		}
		strbuf_add(&sb, chunk, (size_t)n);
	}
	if (sb.buf == NULL)
		strbuf_add(&sb, "", 0);
	*len_r = sb.len;
	*data_r = strbuf_detach(&sb);
	ret = 0;
out:
	if (ret < 0)
		strbuf_free(&sb);
	close(fd);
	return ret;
}

bool
str_ieq(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

bool
str_istarts(const char *s, const char *prefix)
{
	while (*prefix != '\0') {
		if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
			return false;
		s++;
		prefix++;
	}
	return true;
}

char *
str_trim(char *s)
{
	size_t len;
	char *start = s;

	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n' ||
	       *start == '\f' || *start == '\v')
		start++;
	len = strlen(start);
	while (len > 0 &&
	       (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\r' ||
	        start[len - 1] == '\n' || start[len - 1] == '\f' || start[len - 1] == '\v'))
		len--;
	memmove(s, start, len);
	s[len] = '\0';
	return s;
}

void
str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

void
random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mentord: getrandom: %s\n", strerror(errno));
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

bool
mem_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	}
	return true;
}

bool
mem_icontains(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle), span;
	char lo, up;
	const char *pl, *pu;

	if (nl == 0)
		return true;
	if (len < nl)
		return false;
	span = len - nl + 1; /* where a match may start */
	lo = ascii_lower(needle[0]);
	up = lo >= 'a' && lo <= 'z' ? (char)(lo - 'a' + 'A') : lo;
	pl = memchr(s, lo, span);
	pu = up != lo ? memchr(s, up, span) : NULL;
	while (pl != NULL || pu != NULL) {
		const char *p = pu == NULL || (pl != NULL && pl < pu) ? pl : pu;
		size_t next = (size_t)(p - s) + 1;

		if (mem_ieq(p + 1, needle + 1, nl - 1))
			return true;
		if (p == pl)
			pl = next < span ? memchr(s + next, lo, span - next) : NULL;
		else
			pu = next < span ? memchr(s + next, up, span - next) : NULL;
	}
	return false;
}

long
parse_count(const char *s, long min)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return *end != '\0' || errno != 0 || v < min ? -1 : v;
}
