/* report's pure parts: the CSV writer (RFC 4180, formulas neutralised),
 * a table's CSV, and when an evaluation is outstanding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report.h"

#include <stdlib.h>
#include <string.h>

static void
field_is(const char *in, bool last, const char *want)
{
	struct strbuf sb = {0};

	report_csv_field(&sb, in, last);
	assert_string_equal(strbuf_str(&sb), want);
	strbuf_free(&sb);
}

static void
test_csv_field(void **state)
{
	(void)state;
	field_is("plain", false, "plain,");
	field_is("plain", true, "plain\n");
	field_is("", true, "\n");
	field_is("a, b", false, "\"a, b\",");
	field_is("say \"hi\"", true, "\"say \"\"hi\"\"\"\n");
	field_is("two\nlines", true, "\"two\nlines\"\n");
	field_is("cr\rhere", true, "\"cr\rhere\"\n");
	/* A spreadsheet would run these as formulas. */
	field_is("=SUM(A1:A9)", true, "\"'=SUM(A1:A9)\"\n");
	field_is("+1", true, "\"'+1\"\n");
	field_is("-2", true, "\"'-2\"\n");
	field_is("@cmd", true, "\"'@cmd\"\n");
	field_is("a=b", true, "a=b\n");
}

static void
test_table_csv(void **state)
{
	struct report_table t = {0};
	struct strbuf sb = {0};

	(void)state;
	strvec_push(&t.keys, "id");
	strvec_push(&t.keys, "name");
	strvec_push(&t.cells, "1");
	strvec_push(&t.cells, "Ruiz, Ana");
	strvec_push(&t.cells, "2");
	strvec_push(&t.cells, "");
	t.nrows = 2;
	assert_string_equal(report_table_row(&t, 1)[0], "2");
	report_table_csv(&t, &sb);
	assert_string_equal(strbuf_str(&sb), "id,name\n1,\"Ruiz, Ana\"\n2,\n");
	strbuf_free(&sb);
	report_table_free(&t);
	assert_int_equal(t.nrows, 0);
}

static void
test_outstanding(void **state)
{
	(void)state;
	/* Never requested: never outstanding, even when answered. */
	assert_false(report_outstanding_at(0, 0, 1000));
	assert_false(report_outstanding_at(0, 500, 1000));
	/* Requested, not answered. */
	assert_true(report_outstanding_at(100, 0, 1000));
	/* Not yet requested at t. */
	assert_false(report_outstanding_at(1000, 0, 1000));
	/* Answered before t; answered after t (outstanding at t). */
	assert_false(report_outstanding_at(100, 999, 1000));
	assert_true(report_outstanding_at(100, 1000, 1000));
	assert_true(report_outstanding_at(100, 2000, 1000));
}

static void
test_export_parse(void **state)
{
	(void)state;
	assert_int_equal(report_export_parse("applications"), REPORT_APPLICATIONS);
	assert_int_equal(report_export_parse("people"), REPORT_PEOPLE);
	assert_int_equal(report_export_parse("groups"), REPORT_GROUPS);
	assert_int_equal(report_export_parse("evaluations"), REPORT_EVALUATIONS);
	assert_int_equal(report_export_parse("answers"), -1);
	assert_int_equal(report_export_parse(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_field),
	    cmocka_unit_test(test_table_csv),
	    cmocka_unit_test(test_outstanding),
	    cmocka_unit_test(test_export_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
