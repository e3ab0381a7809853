/*
 * util: allocation that never fails, growable strings and string vectors,
 * bounded file reading, and error strings for error_r parameters.
 *
 * Conventions used across mentord (see README "House style"):
 *   - Allocation failure aborts inside x*alloc(); callers never check.
 *   - A function that can fail returns int (0 ok, -1 or a module enum < 0)
 *     and describes the failure through `const char **error_r`.  The string
 *     put there is borrowed: it stays valid until at least ERROR_RING - 1
 *     further calls to errorf() in the same thread, so copy it if you keep it.
 *   - thing_free(struct thing **p) frees *p and sets it to NULL.
 */
#ifndef MENTORD_UTIL_H
#define MENTORD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERROR_RING 16
#define ERROR_MAX 1024

#if defined(__GNUC__)
#define ATTR_FORMAT(a, b) __attribute__((format(printf, a, b)))
#define ATTR_NORETURN __attribute__((noreturn))
#else
#define ATTR_FORMAT(a, b)
#define ATTR_NORETURN
#endif

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* The caller owns what these return. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grow *p (an array of *cap elements of elsize) so it holds at least need. */
void *xgrow(void *p, size_t *cap, size_t need, size_t elsize);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) ATTR_FORMAT(1, 2);
char *xvasprintf(const char *fmt, va_list ap) ATTR_FORMAT(1, 0);

/* Formats an error message into a thread-local ring; the result is borrowed. */
const char *errorf(const char *fmt, ...) ATTR_FORMAT(1, 2);

/* A growable NUL-terminated byte string; buf may hold NUL bytes when built
 * with strbuf_add.  A zeroed struct is an empty buffer. */
struct strbuf {
	char *buf; /* owned; NULL until something is added */
	size_t len;
	size_t cap;
};
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) ATTR_FORMAT(2, 3);
void strbuf_truncate(struct strbuf *sb, size_t len);
/* Room for extra more bytes at the end of sb, for a decoder to write into
 * directly; strbuf_commit then adds the n (<= extra) it wrote. */
char *strbuf_room(struct strbuf *sb, size_t extra);
void strbuf_commit(struct strbuf *sb, size_t n);
/* Appends s as a JSON string literal, quotes included; invalid UTF-8 is
 * replaced by U+FFFD so the output is always valid JSON. */
void strbuf_add_json(struct strbuf *sb, const char *s);
/* Returns the string (never NULL; "" when empty), which the caller now owns,
 * and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb);
const char *strbuf_str(const struct strbuf *sb); /* borrowed, never NULL */
void strbuf_free(struct strbuf *sb);

/* A growable vector of owned strings.  A zeroed struct is empty. */
struct strvec {
	char **v; /* owned, each element owned */
	size_t n;
	size_t cap;
};
void strvec_push(struct strvec *sv, const char *s); /* copies s */
void strvec_push_owned(struct strvec *sv, char *s); /* takes s */
bool strvec_contains_ci(const struct strvec *sv, const char *s);
char *strvec_join(const struct strvec *sv, const char *sep); /* caller owns */
void strvec_free(struct strvec *sv);

/* Reads a whole file of at most max bytes.  *data_r is NUL-terminated and
 * owned by the caller. */
int read_file(const char *path, size_t max, char **data_r, size_t *len_r, const char **error_r);

/* ASCII helpers that do not depend on the locale. */
bool str_ieq(const char *a, const char *b);

/* s as a whole number of at least min (min >= 0), digits only (no sign, no
 * space); -1 when it is not one or does not fit a long. */
long parse_count(const char *s, long min);
bool str_istarts(const char *s, const char *prefix);

/* A constant string with its length, for lists compared against many
 * lines or names: the length (and first byte) rejects most at once, with
 * no strlen. */
struct str_lit {
	const char *s;
	size_t len;
};
#define STR_LIT(lit)                                                                               \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

/* ASCII case folding, whatever the locale (mail's keywords are ASCII). */
static inline char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
/* a[0..n) equals b[0..n), ASCII letters in any case. */
bool mem_ieq(const char *a, const char *b, size_t n);
/* s[0..len) contains needle, ASCII letters in any case.  Linear: the
 * candidates for needle's first byte are found with memchr, once per
 * case. */
bool mem_icontains(const char *s, size_t len, const char *needle);
char *str_trim(char *s); /* trims ASCII whitespace in place, returns s */
void str_lower(char *s);
/* True if s[0..len) is valid UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t len);

/* Fills buf with n random bytes from getrandom(2); aborts on failure. */
void random_bytes(void *buf, size_t n);

#endif
