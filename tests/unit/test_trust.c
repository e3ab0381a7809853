/* Unit tests for trust: Authentication-Results, confirming answers, echoes,
 * and whether a message may be answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"
#include "token.h"
#include "trust.h"
#include "util.h"

static struct mime_message *
parse(const char *headers)
{
	struct mime_message *msg = NULL;
	char *raw = xasprintf("%s\r\n\r\nbody\r\n", headers);
	const char *error;

	assert_int_equal(mime_parse(raw, strlen(raw), NULL, &msg, &error), 0);
	free(raw);
	return msg;
}

static bool
authenticated(const char *headers)
{
	struct strvec trusted = {0};
	struct mime_message *msg = parse(headers);
	bool ok;

	strvec_push(&trusted, "mx.example.org");
	strvec_push(&trusted, "mx2.example.org");
	ok = trust_authenticated(msg, &trusted, NULL);
	mime_message_free(&msg);
	strvec_free(&trusted);
	return ok;
}

static void
test_authentication_results(void **state)
{
	(void)state;
	/* DMARC pass for the From domain, from a trusted server. */
	assert_true(authenticated("Authentication-Results: mx.example.org; dmarc=pass "
	                          "(p=reject dis=none) header.from=example.org\r\n"
	                          "From: Coordinator <coordinator@example.org>"));
	/* Folded, with a version number and several results. */
	assert_true(authenticated(
	    "Authentication-Results: mx2.example.org 1;\r\n"
	    "\tspf=pass smtp.mailfrom=example.org;\r\n"
	    "\tdkim=pass (2048-bit key) header.d=example.org header.i=@example.org\r\n"
	    "From: coordinator@example.org"));
	/* Aligned DKIM: a parent domain signs for a subdomain's From. */
	assert_true(authenticated("Authentication-Results: mx.example.org; dkim=pass "
	                          "header.d=example.org\r\nFrom: a@hr.example.org"));
	/* The method and property names in any case. */
	assert_true(authenticated("Authentication-Results: MX.EXAMPLE.ORG; DMARC=PASS "
	                          "Header.From=Example.Org\r\nFrom: a@example.org"));
	/* An untrusted authserv-id. */
	assert_false(authenticated("Authentication-Results: mx.evil.example; dmarc=pass "
	                           "header.from=example.org\r\nFrom: a@example.org"));
	/* Microsoft's form, with no authserv-id. */
	assert_false(authenticated("Authentication-Results: spf=pass (sender IP is 192.0.2.1) "
	                           "smtp.mailfrom=example.org; dkim=pass header.d=example.org;"
	                           "dmarc=pass action=none header.from=example.org\r\n"
	                           "From: a@example.org"));
	/* DMARC for another domain; DKIM by an unaligned signer; a bare TLD. */
	assert_false(authenticated("Authentication-Results: mx.example.org; dmarc=pass "
	                           "header.from=evil.example\r\nFrom: a@example.org"));
	assert_false(authenticated("Authentication-Results: mx.example.org; dkim=pass "
	                           "header.d=evil.example\r\nFrom: a@example.org"));
	assert_false(authenticated("Authentication-Results: mx.example.org; dkim=pass "
	                           "header.d=org\r\nFrom: a@example.org"));
	assert_false(authenticated("Authentication-Results: mx.example.org; dkim=pass "
	                           "header.d=ample.org\r\nFrom: a@example.org"));
	/* SPF alone proves nothing about the From; neither does a fail. */
	assert_false(authenticated("Authentication-Results: mx.example.org; spf=pass "
	                           "smtp.mailfrom=example.org\r\nFrom: a@example.org"));
	assert_false(authenticated("Authentication-Results: mx.example.org; dmarc=fail "
	                           "header.from=example.org\r\nFrom: a@example.org"));
	/* "pass" inside a comment is no pass. */
	assert_false(authenticated("Authentication-Results: mx.example.org; dmarc=fail "
	                           "(dmarc=pass) header.from=example.org\r\nFrom: a@example.org"));
	/* The topmost trusted header decides: a forged pass below the
	 * receiving server's own fail does not count. */
	assert_false(authenticated("Authentication-Results: mx.example.org; dmarc=fail "
	                           "header.from=example.org\r\n"
	                           "Received: from evil\r\n"
	                           "Authentication-Results: mx.example.org; dmarc=pass "
	                           "header.from=example.org\r\nFrom: a@example.org"));
	/* An untrusted header above a trusted one does not hide it. */
	assert_true(authenticated("Authentication-Results: other.example; dmarc=fail "
	                          "header.from=example.org\r\n"
	                          "Authentication-Results: mx.example.org; dmarc=pass "
	                          "header.from=example.org\r\nFrom: a@example.org"));
	/* No trusted id configured: nothing is believed. */
	{
		struct strvec none = {0};
		struct mime_message *msg = parse("Authentication-Results: mx.example.org; "
		                                 "dmarc=pass header.from=example.org\r\n"
		                                 "From: a@example.org");

		assert_false(trust_authenticated(msg, &none, NULL));
		mime_message_free(&msg);
	}
}

static void
test_confirm_word(void **state)
{
	(void)state;
	assert_int_equal(trust_confirm_word("yes"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("\n\n  Yes, please.\nThanks"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("YES!"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("I confirm."), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("Confirmed"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("ok"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("s\xc3\xad"), TRUST_ANSWER_YES);
	assert_int_equal(trust_confirm_word("no"), TRUST_ANSWER_NO);
	assert_int_equal(trust_confirm_word("No, I did not send that."), TRUST_ANSWER_NO);
	assert_int_equal(trust_confirm_word("cancel"), TRUST_ANSWER_NO);
	assert_int_equal(trust_confirm_word(""), TRUST_ANSWER_NONE);
	assert_int_equal(trust_confirm_word(NULL), TRUST_ANSWER_NONE);
	assert_int_equal(trust_confirm_word("I am out of the office until Monday."),
	                 TRUST_ANSWER_NONE);
	assert_int_equal(trust_confirm_word("yesterday we met"), TRUST_ANSWER_NONE);
	assert_int_equal(trust_confirm_word("nobody told me"), TRUST_ANSWER_NONE);
	/* A long first line is prose, not an answer. */
	assert_int_equal(trust_confirm_word("Yes it is true that we met last week and then we "
	                                    "talked about many things at length"),
	                 TRUST_ANSWER_NONE);
}

static const char digest[] = "Hello,\n"
                             "\n"
                             "Applications waiting for a decision:\n"
                             "  #12 Ana Ruiz <ana@example.org>, CFS\n"
                             "      needs: Communication\n"
                             "Suggested matches (reply with the line to make it):\n"
                             "  match 12 with 4   (1 in common: Communication)\n"
                             "Reply with commands, one per line.\n"
                             "CDSS Mentoring Partnership Program\n";

static void
test_echo(void **state)
{
	char *out = NULL;

	(void)state;
	/* An auto-responder's echo, re-wrapped in spaces and case. */
	{
		char *reply = xasprintf("I am away until Monday.\n\n%s", digest);

		assert_true(trust_strip_echo(reply, digest, &out));
		assert_non_null(out);
		assert_null(strstr(out, "match 12 with 4"));
		assert_non_null(strstr(out, "I am away until Monday."));
		free(out);
		free(reply);
	}
	{
		char *reply = xasprintf("HELLO,\n   applications waiting for a decision:\n"
		                        "  #12 Ana Ruiz <ana@example.org>, CFS\n"
		                        "MATCH 12 WITH 4   (1 in common: Communication)\n"
		                        "reply with commands, one per line.\n");

		assert_true(trust_strip_echo(reply, digest, &out));
		assert_null(strstr(out, "MATCH"));
		free(out);
		free(reply);
	}
	/* The coordinator copying the suggested line is no echo. */
	assert_false(trust_strip_echo(
	    "Looks good.\n  match 12 with 4   (1 in common: Communication)\n", digest, &out));
	assert_null(out);
	assert_false(trust_strip_echo("accept 12\nmatch 12 with 4\n", digest, &out));
	/* A short original never counts as echoed. */
	assert_false(trust_strip_echo("Hello\nBye\n", "Hello\nBye\n", &out));
	assert_false(trust_strip_echo(NULL, digest, &out));
	assert_false(trust_strip_echo("x", NULL, &out));
}

static bool
may_answer(const char *headers)
{
	struct mime_message *msg = parse(headers);
	bool ok = trust_may_answer(msg, NULL);

	mime_message_free(&msg);
	return ok;
}

static void
test_may_answer(void **state)
{
	(void)state;
	assert_true(may_answer("From: a@example.org"));
	assert_true(may_answer("From: a@example.org\r\nAuto-Submitted: no"));
	assert_true(may_answer("From: a@example.org\r\nX-Auto-Response-Suppress: DR, RN, NRN"));
	assert_false(may_answer("From: a@example.org\r\nAuto-Submitted: auto-replied"));
	assert_false(may_answer("From: a@example.org\r\nAuto-Submitted: auto-generated"));
	assert_false(may_answer("From: a@example.org\r\nPrecedence: bulk"));
	assert_false(may_answer("From: a@example.org\r\nPrecedence: junk"));
	assert_false(may_answer("From: a@example.org\r\nPrecedence: list"));
	assert_false(may_answer("From: a@example.org\r\nX-Auto-Response-Suppress: All"));
	assert_false(may_answer("From: a@example.org\r\nX-Auto-Response-Suppress: DR, OOF"));
	assert_false(may_answer("From: a@example.org\r\nX-Auto-Response-Suppress: AutoReply"));
	assert_false(may_answer("From: a@example.org\r\nX-Mentord: digest"));
	assert_false(may_answer("From: a@example.org\r\nList-Id: <x.example.org>"));
	assert_false(may_answer("From: a@example.org\r\nReturn-Path: <>"));
}

static void
test_bounce_tokens(void **state)
{
	const char *secret = "s3cret-for-tests";
	char *b = token_make_bounce(secret, 42, 7), *t = token_make(secret, 42, 7);
	int64_t id = 0, person = 0;

	(void)state;
	assert_true(strncmp(b, "b42p7k", 6) == 0);
	assert_int_equal(token_verify_bounce(secret, b, &id, &person), 0);
	assert_int_equal(id, 42);
	assert_int_equal(person, 7);
	/* Neither kind passes for the other, even with its letter changed. */
	assert_int_equal(token_verify(secret, b, NULL, NULL), -1);
	assert_int_equal(token_verify_bounce(secret, t, NULL, NULL), -1);
	b[0] = 't';
	assert_int_equal(token_verify(secret, b, NULL, NULL), -1);
	t[0] = 'b';
	assert_int_equal(token_verify_bounce(secret, t, NULL, NULL), -1);
	free(b);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authentication_results),
	    cmocka_unit_test(test_confirm_word),
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_may_answer),
	    cmocka_unit_test(test_bounce_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
