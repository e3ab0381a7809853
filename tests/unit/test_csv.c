/* Unit tests for csv: RFC 4180 as spreadsheets save it, and what is
 * refused, with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "util.h"

static struct csv_table *
parse_ok(const char *text)
{
	struct csv_table *t = NULL;
	const char *error = NULL;
	unsigned line = 0;

	assert_int_equal(csv_parse(text, strlen(text), &t, &line, &error), 0);
	assert_non_null(t);
	return t;
}

static void
parse_bad(const char *text, size_t len, /* 0: strlen */ unsigned want_line, const char *want)
{
	struct csv_table *t = NULL;
	const char *error = NULL;
	unsigned line = 0;

	assert_int_equal(csv_parse(text, len > 0 ? len : strlen(text), &t, &line, &error), -1);
	assert_null(t);
	assert_int_equal(line, want_line);
	assert_non_null(strstr(error, want));
}

static void
test_plain(void **state)
{
	(void)state;
	struct csv_table *t = parse_ok("email,name,role\nana@example.org,Ana Ruiz,mentee\n"
	                               "bob@example.org,Bob,mentor");

	assert_int_equal(t->nrecords, 3);
	assert_int_equal(t->records[0].nfields, 3);
	assert_string_equal(t->records[0].fields[0], "email");
	assert_string_equal(t->records[1].fields[1], "Ana Ruiz");
	assert_int_equal(t->records[1].line, 2);
	/* The last record needs no line end. */
	assert_string_equal(t->records[2].fields[2], "mentor");
	assert_int_equal(t->records[2].line, 3);
	csv_table_free(&t);
	assert_null(t);
}

static void
test_quoted(void **state)
{
	(void)state;
	/* Commas, doubled quotes and a line break inside quotes; CRLF line
	 * ends; an empty quoted field; the record after a two-line field
	 * starts on line 4. */
	struct csv_table *t =
	    parse_ok("a,b,c\r\n\"Ruiz, Ana\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n"
	             "\"\",x,\r\n");

	assert_int_equal(t->nrecords, 3);
	assert_string_equal(t->records[1].fields[0], "Ruiz, Ana");
	assert_string_equal(t->records[1].fields[1], "say \"hi\"");
	assert_string_equal(t->records[1].fields[2], "two\nlines");
	assert_int_equal(t->records[1].line, 2);
	assert_int_equal(t->records[2].line, 4);
	assert_int_equal(t->records[2].nfields, 3);
	assert_string_equal(t->records[2].fields[0], "");
	assert_string_equal(t->records[2].fields[2], "");
	csv_table_free(&t);
}

static void
test_bom_cr_blank(void **state)
{
	(void)state;
	/* A BOM is skipped; lone CRs end lines; blank lines and rows of
	 * empty fields are left out but counted. */
	struct csv_table *t =
	    parse_ok("\xef\xbb\xbf"
	             "email,name\r\rjosé@example.org,José Núñez\r,,\r\nzoe@example.org,Zoë\n\n");

	assert_int_equal(t->nrecords, 3);
	assert_string_equal(t->records[0].fields[0], "email");
	assert_string_equal(t->records[1].fields[1], "José Núñez");
	assert_int_equal(t->records[1].line, 3);
	assert_string_equal(t->records[2].fields[1], "Zoë");
	assert_int_equal(t->records[2].line, 5);
	csv_table_free(&t);

	t = parse_ok("");
	assert_int_equal(t->nrecords, 0);
	csv_table_free(&t);
	/* Spaces are data: the caller trims what it wants trimmed. */
	t = parse_ok(" a , b \n");
	assert_string_equal(t->records[0].fields[0], " a ");
	csv_table_free(&t);
}

static void
test_refused(void **state)
{
	(void)state;
	parse_bad("a,b\nx,say \"hi\"\n", 0, 2, "a quote inside a field");
	parse_bad("a,b\n\"x\"y,z\n", 0, 2, "text after a closing quote");
	parse_bad("a,b\nc,d\n\"open,\nstill\n", 0, 3, "never closed");
	parse_bad("a,b\nc,\xe9t\xe9\n", 0, 2, "not UTF-8");
	parse_bad("a,b\nc,d\n\ne\0f\n", 13, 4, "NUL byte");
	/* A BOM that is not a whole one is bad UTF-8 on line 1. */
	parse_bad("\xef\xbb"
	          "a\n",
	          0, 1, "not UTF-8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_bom_cr_blank),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
