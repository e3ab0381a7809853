/*
 * libFuzzer target: csv_parse, what a roster file brings to mentorctl
 * import.  On success every field is UTF-8 without NUL (fields hold what
 * the file held, minus quoting), no record is all empty, and records start
 * on increasing lines; on failure a line is named.
 */
#include "csv.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_table *t = NULL;
	const char *error = NULL;
	unsigned line = 0, last = 0;

	if (csv_parse((const char *)data, size, &t, &line, &error) < 0) {
		if (line == 0 || error == NULL || t != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < t->nrecords; i++) {
		const struct csv_record *r = &t->records[i];
		bool empty = true;

		if (r->line <= last || r->nfields == 0)
			abort();
		last = r->line;
		for (size_t k = 0; k < r->nfields; k++) {
			size_t n = strlen(r->fields[k]);

			if (!utf8_valid(r->fields[k], n))
				abort();
			empty = empty && n == 0;
		}
		if (empty)
			abort();
	}
	csv_table_free(&t);
	return 0;
}
