/* Unit tests for token: signed reply tokens in plus addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "token.h"
#include "util.h"

static const char *secret = "s3cret-for-tests";

static void
test_round_trip(void **state)
{
	(void)state;
	char *tok = token_make(secret, 12345, 678);
	assert_non_null(tok);
	assert_true(strncmp(tok, "t12345p678k", 11) == 0);
	assert_int_equal(strlen(tok), 11 + 16);
	for (const char *p = tok; *p != '\0'; p++)
		assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'));

	int64_t thread = -1, person = -1;
	assert_int_equal(token_verify(secret, tok, &thread, &person), 0);
	assert_int_equal(thread, 12345);
	assert_int_equal(person, 678);

	/* Deterministic: the same pair gives the same token. */
	char *again = token_make(secret, 12345, 678);
	assert_string_equal(tok, again);
	free(again);

	/* Big ids survive too. */
	char *big = token_make(secret, INT64_MAX, 0);
	assert_int_equal(token_verify(secret, big, &thread, &person), 0);
	assert_true(thread == INT64_MAX);
	assert_int_equal(person, 0);
	free(big);
	free(tok);
}

static void
test_rejects(void **state)
{
	(void)state;
	char *tok = token_make(secret, 42, 7);
	int64_t thread = -1, person = -1;

	/* Each single-character change of the MAC fails. */
	size_t len = strlen(tok);
	char *bad = xstrdup(tok);
	for (size_t i = len - 16; i < len; i++) {
		char saved = bad[i];
		bad[i] = saved == 'a' ? 'b' : 'a';
		assert_int_equal(token_verify(secret, bad, &thread, &person), -1);
		bad[i] = saved;
	}
	free(bad);

	/* Another secret. */
	assert_int_equal(token_verify("other-secret", tok, &thread, &person), -1);

	/* Swapped or changed ids with the same MAC. */
	const char *mac = strchr(tok, 'k');
	char *swapped = xasprintf("t7p42%s", mac);
	assert_int_equal(token_verify(secret, swapped, NULL, NULL), -1);
	free(swapped);
	char *other = xasprintf("t43p7%s", mac);
	assert_int_equal(token_verify(secret, other, NULL, NULL), -1);
	free(other);
	/* Leading zeros would respell the same ids: refused. */
	char *zeros = xasprintf("t042p7%s", mac);
	assert_int_equal(token_verify(secret, zeros, NULL, NULL), -1);
	free(zeros);
	/* Truncated or extended MAC. */
	char *trunc = xstrndup(tok, len - 1);
	assert_int_equal(token_verify(secret, trunc, NULL, NULL), -1);
	free(trunc);
	char *longer = xasprintf("%sa", tok);
	assert_int_equal(token_verify(secret, longer, NULL, NULL), -1);
	free(longer);

	/* Garbage. */
	const char *garbage[] = {"",
	                         "t",
	                         "tp",
	                         "t1p2k",
	                         "x42p7kaaaaaaaaaaaaaaaa",
	                         "t-1p7kaaaaaaaaaaaaaaaa",
	                         "t99999999999999999999p1kaaaaaaaaaaaaaaaa",
	                         "hello world",
	                         "t1p2kaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < N_ELEMENTS(garbage); i++)
		assert_int_equal(token_verify(secret, garbage[i], NULL, NULL), -1);
	assert_int_equal(token_verify(secret, NULL, NULL, NULL), -1);

	/* The outputs are untouched on failure. */
	thread = -5;
	assert_int_equal(token_verify("x", tok, &thread, NULL), -1);
	assert_int_equal(thread, -5);
	free(tok);
}

static void
test_addresses(void **state)
{
	(void)state;
	char *tok = token_make(secret, 3, 9);
	char *addr = token_address("mentoring@example.org", tok);
	char *want = xasprintf("mentoring+%s@example.org", tok);
	assert_string_equal(addr, want);

	char *back = token_from_address(addr);
	assert_non_null(back);
	assert_string_equal(back, tok);
	assert_int_equal(token_verify(secret, back, NULL, NULL), 0);
	free(back);

	/* A mail system that upper-cases the address does not break it. */
	char *upper = xstrdup(addr);
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	back = token_from_address(upper);
	assert_int_equal(token_verify(secret, back, NULL, NULL), 0);
	free(back);
	free(upper);

	/* An address with a detail already gets its detail replaced. */
	char *addr2 = token_address("mentoring+old@example.org", tok);
	assert_string_equal(addr2, want);
	free(addr2);

	assert_null(token_from_address("mentoring@example.org"));
	assert_null(token_from_address("mentoring+@example.org"));
	assert_null(token_from_address("a@b+c.example")); /* '+' in the domain is no token */
	free(want);
	free(addr);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
