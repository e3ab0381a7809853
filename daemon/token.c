/*
 * token: signed reply tokens "t<thread>p<person>k<mac>".
 *
 * The MAC is HMAC-SHA256(secret, "<thread>:<person>") truncated to 80 bits
 * (10 bytes) and base32-encoded in lower case without padding: exactly 16
 * characters.  Ids are non-negative decimal numbers without leading zeros,
 * so every (thread, person) pair has exactly one spelling and a token cannot
 * be re-spelled to name another pair with the same MAC.
 */
#include "token.h"

#include "util.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_MAC_BYTES 10
#define TOKEN_MAC_CHARS 16 /* 80 bits / 5 bits per base32 character */

static const char token_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Writes the base32 MAC of the pair into out (TOKEN_MAC_CHARS + 1 bytes).
 * Returns -1 if GnuTLS fails, which only happens when it is broken. */
static int
token_mac(const char *secret, char kind, int64_t thread_id, int64_t person_id, char *out)
{
	unsigned char digest[32];
	char msg[80];
	/* Reply tokens sign "<thread>:<person>" (as they always have, so the
	 * tokens in mail already sent still verify); bounce tokens sign with a
	 * prefix, so neither kind can stand in for the other. */
	int n =
	    kind == 'b'
	        ? snprintf(msg, sizeof(msg), "bounce:%" PRId64 ":%" PRId64, thread_id, person_id)
	        : snprintf(msg, sizeof(msg), "%" PRId64 ":%" PRId64, thread_id, person_id);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), msg, (size_t)n, digest) < 0)
		return -1;

	/* 10 bytes = 80 bits = 16 groups of 5 bits, no padding needed. */
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < TOKEN_MAC_BYTES; i++) {
		acc = (acc << 8) | digest[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = token_b32[(acc >> (bits - 5)) & 0x1f];
			bits -= 5;
		}
	}
	out[o] = '\0';
	return 0;
}

static char *
token_make_kind(const char *secret, char kind, int64_t thread_id, int64_t person_id)
{
	char mac[TOKEN_MAC_CHARS + 1];
	if (secret == NULL || thread_id < 0 || person_id < 0)
		return NULL;
	if (token_mac(secret, kind, thread_id, person_id, mac) < 0)
		return NULL;
	return xasprintf("%c%" PRId64 "p%" PRId64 "k%s", kind, thread_id, person_id, mac);
}

char *
token_make(const char *secret, int64_t thread_id, int64_t person_id)
{
	return token_make_kind(secret, 't', thread_id, person_id);
}

char *
token_make_bounce(const char *secret, int64_t outbox_id, int64_t person_id)
{
	return token_make_kind(secret, 'b', outbox_id, person_id);
}

/* Parses a canonical non-negative decimal id from *p up to a non-digit;
 * advances *p.  Refuses empty, leading zeros and overflow. */
static int
token_parse_id(const char **p, int64_t *id_r)
{
	const char *s = *p;
	int64_t v = 0;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9') {
		int d = s[n] - '0';
		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return -1;
	*p = s + n;
	*id_r = v;
	return 0;
}

static int
token_verify_kind(const char *secret, char kind, const char *token, int64_t *thread_id_r,
                  int64_t *person_id_r)
{
	char want[TOKEN_MAC_CHARS + 1];
	int64_t thread_id, person_id;
	const char *p = token;

	if (secret == NULL || token == NULL || *p++ != kind)
		return -1;
	if (token_parse_id(&p, &thread_id) < 0 || *p++ != 'p')
		return -1;
	if (token_parse_id(&p, &person_id) < 0 || *p++ != 'k')
		return -1;
	if (strlen(p) != TOKEN_MAC_CHARS)
		return -1;
	if (token_mac(secret, kind, thread_id, person_id, want) < 0)
		return -1;

	/* Constant time over the MAC: no early exit on the first difference.
	 * Mail systems may upper-case the local part, so compare folded. */
	unsigned char diff = 0;
	for (size_t i = 0; i < TOKEN_MAC_CHARS; i++) {
		unsigned char c = (unsigned char)p[i];
		c |= (unsigned char)((c >= 'A' && c <= 'Z') ? 0x20 : 0);
		diff |= (unsigned char)(c ^ (unsigned char)want[i]);
	}
	if (diff != 0)
		return -1;
	if (thread_id_r != NULL)
		*thread_id_r = thread_id;
	if (person_id_r != NULL)
		*person_id_r = person_id;
	return 0;
}

int
token_verify(const char *secret, const char *token, int64_t *thread_id_r, int64_t *person_id_r)
{
	return token_verify_kind(secret, 't', token, thread_id_r, person_id_r);
}

int
token_verify_bounce(const char *secret, const char *token, int64_t *outbox_id_r,
                    int64_t *person_id_r)
{
	return token_verify_kind(secret, 'b', token, outbox_id_r, person_id_r);
}

char *
token_address(const char *addr, const char *token)
{
	const char *at = strrchr(addr, '@');
	if (at == NULL)
		return xasprintf("%s+%s", addr, token);
	/* An address that already has a +detail keeps its base local part. */
	const char *plus = memchr(addr, '+', (size_t)(at - addr));
	size_t local_len = plus != NULL ? (size_t)(plus - addr) : (size_t)(at - addr);
	return xasprintf("%.*s+%s%s", (int)local_len, addr, token, at);
}

char *
token_from_address(const char *addr)
{
	if (addr == NULL)
		return NULL;
	const char *at = strrchr(addr, '@');
	size_t local_len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	const char *plus = memchr(addr, '+', local_len);
	if (plus == NULL)
		return NULL;
	size_t n = local_len - (size_t)(plus - addr) - 1;
	if (n == 0)
		return NULL;
	char *tok = xstrndup(plus + 1, n);
	/* Tokens are lower case; undo case-folding by the way. */
	str_lower(tok);
	return tok;
}
