/*
 * csv: reading a CSV file as a spreadsheet saves it (RFC 4180), for
 * mentorctl import (pure: no I/O).
 *
 *   - fields separated by commas, records ended by CRLF, LF or a lone CR
 *     (older spreadsheets on a Mac); the last record needs no ending;
 *   - a field in double quotes may hold commas, line breaks and doubled
 *     quotes (""); a line break inside one is kept as LF;
 *   - a UTF-8 byte order mark at the very start is skipped;
 *   - the text must be UTF-8, without NUL bytes;
 *   - a record whose fields are all empty (a blank line, or ",,," where a
 *     spreadsheet saved an empty row) is left out.
 * What is not CSV is refused with the line it is on, never guessed at: a
 * quote inside an unquoted field, text after a closing quote, a quoted
 * field never closed.
 */
#ifndef MENTORD_CSV_H
#define MENTORD_CSV_H

#include <stddef.h>

struct csv_record {
	char **fields; /* owned, each owned and NUL-terminated */
	size_t nfields;
	unsigned line; /* the line the record starts on, from 1 */
};

struct csv_table {
	struct csv_record *records; /* owned */
	size_t nrecords;
};

/* Parses data[0..len).  On success *table_r is the caller's (free it with
 * csv_table_free).  On failure returns -1, *line_r is the line of the
 * problem and error_r says what it is and how to fix it. */
int csv_parse(const char *data, size_t len, struct csv_table **table_r, unsigned *line_r,
              const char **error_r);
void csv_table_free(struct csv_table **table);

#endif
