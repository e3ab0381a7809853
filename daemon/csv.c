/*
 * csv: a careful RFC 4180 reader (see include/csv.h).  One pass over the
 * bytes with three states: at the start of a field, inside an unquoted
 * field, inside a quoted one.
 */
#include "csv.h"

#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum csv_state {
	FIELD_START,  /* nothing of the field read yet */
	FIELD_PLAIN,  /* inside an unquoted field */
	FIELD_QUOTED, /* inside quotes */
	FIELD_CLOSED, /* after a closing quote: a comma or a line end must follow */
};

struct csv_builder {
	struct csv_table *table;
	size_t cap;           /* of table->records */
	struct strvec fields; /* of the record being read */
	struct strbuf field;  /* the field being read */
	unsigned line;        /* the record's first line */
};

/* A field and a record keep only the memory they use: a roster of 38,000
 * rows is held whole while it is checked, and the buffers' growth room was
 * most of it. */
static void
end_field(struct csv_builder *b)
{
	char *s = strbuf_detach(&b->field);

	strvec_push_owned(&b->fields, xrealloc(s, strlen(s) + 1));
}

/* Keeps the record read, unless all its fields are empty. */
static void
end_record(struct csv_builder *b)
{
	struct csv_table *t = b->table;
	struct csv_record *r;
	bool empty = true;

	end_field(b);
	for (size_t i = 0; i < b->fields.n && empty; i++)
		empty = b->fields.v[i][0] == '\0';
	if (empty) {
		strvec_free(&b->fields);
		return;
	}
	t->records = xgrow(t->records, &b->cap, t->nrecords + 1, sizeof(*t->records));
	r = &t->records[t->nrecords++];
	r->fields = xrealloc(b->fields.v, (b->fields.n + 1) * sizeof(*b->fields.v));
	r->nfields = b->fields.n;
	r->line = b->line;
	memset(&b->fields, 0, sizeof(b->fields));
}

/* The length of a line break at p (CRLF 2, LF or CR 1), 0 when none. */
static size_t
line_break(const char *p, const char *end)
{
	if (*p == '\n')
		return 1;
	if (*p == '\r')
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	return 0;
}

int
csv_parse(const char *data, size_t len, struct csv_table **table_r, unsigned *line_r,
          const char **error_r)
{
	const char *p = data, *end = data + len;
	struct csv_builder b;
	enum csv_state state = FIELD_START;
	unsigned line = 1;
	bool in_record = false;
	int ret = -1;

	memset(&b, 0, sizeof(b));
	b.table = xcalloc(1, sizeof(*b.table));
	*table_r = NULL;
	*line_r = 0;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* UTF-8 first, line by line, so the error says where. */
	for (const char *s = p; s < end;) {
		const char *e = s;

		while (e < end && line_break(e, end) == 0)
			e++;
		if (!utf8_valid(s, (size_t)(e - s))) {
			*line_r = line;
			*error_r =
			    memchr(s, '\0', (size_t)(e - s)) != NULL
			        ? "a NUL byte: this is not a text file; save the spreadsheet "
			          "as CSV UTF-8"
			        : "not UTF-8: save the spreadsheet as CSV UTF-8 (or convert "
			          "it with iconv -f LATIN1 -t UTF-8)";
			goto out;
		}
		if (e == end)
			break;
		s = e + line_break(e, end);
		line++;
	}
	line = 1;
	while (p < end) {
		size_t brk = line_break(p, end);

		if (!in_record) {
			in_record = true;
			b.line = line;
		}
		switch (state) {
		case FIELD_START:
		case FIELD_PLAIN:
			if (*p == '"' && state == FIELD_START) {
				state = FIELD_QUOTED;
				p++;
			} else if (*p == '"') {
				*line_r = line;
				*error_r = "a quote inside a field that does not start with one: "
				           "put the whole field in quotes and double the quotes "
				           "inside it (\"a \"\"b\"\" c\")";
				goto out;
			} else if (*p == ',') {
				end_field(&b);
				state = FIELD_START;
				p++;
			} else if (brk > 0) {
				end_record(&b);
				in_record = false;
				state = FIELD_START;
				line++;
				p += brk;
			} else {
				strbuf_addc(&b.field, *p);
				state = FIELD_PLAIN;
				p++;
			}
			break;
		case FIELD_QUOTED:
			if (*p == '"' && p + 1 < end && p[1] == '"') {
				strbuf_addc(&b.field, '"');
				p += 2;
			} else if (*p == '"') {
				state = FIELD_CLOSED;
				p++;
			} else if (brk > 0) {
				strbuf_addc(&b.field, '\n');
				line++;
				p += brk;
			} else {
				strbuf_addc(&b.field, *p);
				p++;
			}
			break;
		case FIELD_CLOSED:
			if (*p == ',') {
				end_field(&b);
				state = FIELD_START;
				p++;
			} else if (brk > 0) {
				end_record(&b);
				in_record = false;
				state = FIELD_START;
				line++;
				p += brk;
			} else {
				*line_r = line;
				*error_r = "text after a closing quote: a quoted field ends at its "
				           "quote, then a comma or the end of the line (double a "
				           "quote meant inside it)";
				goto out;
			}
			break;
		}
	}
	if (state == FIELD_QUOTED) {
		*line_r = b.line;
		*error_r = "a quoted field is never closed: its closing quote is missing";
		goto out;
	}
	if (in_record)
		end_record(&b);
	*table_r = b.table;
	b.table = NULL;
	ret = 0;
out:
	strbuf_free(&b.field);
	strvec_free(&b.fields);
	csv_table_free(&b.table);
	return ret;
}

void
csv_table_free(struct csv_table **table)
{
	struct csv_table *t = *table;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrecords; i++) {
		for (size_t k = 0; k < t->records[i].nfields; k++)
			free(t->records[i].fields[k]);
		free(t->records[i].fields);
	}
	free(t->records);
	free(t);
	*table = NULL;
}
