/* Unit tests for outbox: the thread tag every subject carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "outbox.h"

static void
test_subject_tag(void **state)
{
	(void)state;
	assert_int_equal(outbox_thread_from_subject("CDSS: done [ref:12]"), 12);
	assert_int_equal(outbox_thread_from_subject("Re: RE: CDSS: done [ref:12]"), 12);
	/* A reply quoting two threads: the newest tag is the last one. */
	assert_int_equal(outbox_thread_from_subject("Re: a [ref:3] Fwd: b [ref:41]"), 41);
	assert_int_equal(outbox_thread_from_subject("[ref:7] moved to the front"), 7);
}

static void
test_subject_without_tag(void **state)
{
	(void)state;
	assert_int_equal(outbox_thread_from_subject(NULL), 0);
	assert_int_equal(outbox_thread_from_subject(""), 0);
	assert_int_equal(outbox_thread_from_subject("application #12 received"), 0);
	assert_int_equal(outbox_thread_from_subject("[ref:]"), 0);
	assert_int_equal(outbox_thread_from_subject("[ref:12"), 0);
	assert_int_equal(outbox_thread_from_subject("[ref:12x]"), 0);
	assert_int_equal(outbox_thread_from_subject("[ref:-3]"), 0);
	/* Digits beyond int64 are not a tag we wrote. */
	assert_int_equal(outbox_thread_from_subject("[ref:99999999999999999999999]"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subject_tag),
	    cmocka_unit_test(test_subject_without_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
