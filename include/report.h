/* report: builds report and export rows from the store into tables that
 * mentorctl prints (report, export) and the daemon attaches as CSV (the
 * weekly health summary).  Evaluations are counted here, never shown: no
 * function reads an evaluation's values or summary. */
#ifndef MENTORD_REPORT_H
#define MENTORD_REPORT_H

#include "config.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <time.h>

/* Appends one CSV field (RFC 4180 quoting) to sb, then "," or, when last,
 * "\n" (the line end report --csv has always had): quoted when it holds a
 * comma, quote or line break, quotes doubled, and a leading = + - @
 * neutralised with a ' so that a spreadsheet does not run it as a formula. */
void report_csv_field(struct strbuf *sb, const char *s, bool last);

/* Rows of text cells under column keys; a zeroed struct is empty. */
struct report_table {
	struct strvec keys;  /* owned: column keys ("program", "partnership"...) */
	struct strvec cells; /* owned: nrows * keys.n cells, row by row, never NULL */
	size_t nrows;
};
void report_table_free(struct report_table *t);
/* Row i's cells (borrowed, keys.n of them). */
const char *const *report_table_row(const struct report_table *t, size_t i);
/* The header line and every row, as CSV, appended to sb. */
void report_table_csv(const struct report_table *t, struct strbuf *sb);

/* The partnership report: one row per group (not proposed or discarded) and
 * month from its start to now (or its end), from month since ("YYYY-MM",
 * NULL: all), of program (NULL: all): program, partnership, mentee, mentor,
 * status, month, meetings, minutes, required, evaluations_requested and
 * evaluations_received (in that month), evaluations_outstanding (at the
 * month's end or now) and evaluations ("FORM ROUND: R of Q received" for
 * each form and round, up to the month's end).  Fills the empty *t. */
int report_partnerships(const struct config *config, struct store *store, const char *program,
                        const char *since, time_t now, struct report_table *t,
                        const char **error_r);

/* The exports (mentorctl export WHAT), of program (NULL: all).
 * applications: each participation with the fields of its join form that
 * the form lets the coordinator see (visible_to); people; groups;
 * evaluations: counts per group, member, form and round.  Fills *t. */
enum report_export {
	REPORT_APPLICATIONS,
	REPORT_PEOPLE,
	REPORT_GROUPS,
	REPORT_EVALUATIONS,
};
/* -1 when name is none of "applications", "people", "groups", "evaluations". */
int report_export_parse(const char *name);
int report_export(const struct config *config, struct store *store, enum report_export what,
                  const char *program, struct report_table *t, const char **error_r);

/* The weekly health summary's counts for one program at now. */
struct report_health {
	long active;            /* active groups */
	long on_track;          /* of them, with this month's meetings at the rule */
	long needs_checkin;     /* no meeting last month, or evaluations outstanding */
	long evaluations_due;   /* requested and not answered */
	long failed_emails;     /* emails that failed for good */
	long held_messages;     /* messages held or quarantined */
	struct strbuf checkins; /* owned: "  #12 Ann with Bob: no meeting in 2026-11\n"... */
};
void report_health_free(struct report_health *h);
int report_health(const struct config *config, struct store *store,
                  const struct config_program *program, time_t now, struct report_health *h_r,
                  const char **error_r);

/* Outstanding at t: requested before t and not answered before t. */
bool report_outstanding_at(time_t requested_at, time_t received_at, time_t t);

/* For each survey of program (an answer form with closes or replace) that
 * was sent: "  TITLE: N of M answered (P%)", and for each yes/no question
 * how many said yes, one line each, appended to out.  Counts only. */
int report_surveys(struct store *store, const struct config_program *program, struct strbuf *out,
                   const char **error_r);

#endif
