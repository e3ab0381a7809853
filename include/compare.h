/*
 * compare: the report of a form about participants (a 180 assessment):
 * each participant's own answers against their supervisor's, round by
 * round (pre, post), per field.
 *
 * The answers are store rows (answers: form, round, respondent, subject
 * the participant); the latest of each respondent and round counts.  A
 * step with effect = "compare" sends each participant's report once the
 * form's last round has both answers, as an email with the figures as a
 * table and a CSV attachment, to the participant, their supervisor and
 * the coordinators, one copy each (keys "compare:step=S:person=P" and
 * "...:to=supervisor", "...:to=coordinators"), and to nobody else.  What
 * the report shows is what the form's fields declare visible_to:
 * config.c refuses a compare step whose form keeps a field from the
 * supervisor or the coordinator, and the template is checked against the
 * same declaration (compare_check_templates).
 */
#ifndef MENTORD_COMPARE_H
#define MENTORD_COMPARE_H

#include "config.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <time.h>

/* One participant's figures. */
struct compare_report {
	bool complete;       /* the last round has both answers */
	struct strbuf text;  /* the table of ratings, for the email */
	struct strbuf notes; /* the text answers (comments), labelled */
	struct strbuf csv;   /* field,self_ROUND...,supervisor_ROUND... with a header */
};
void compare_report_free(struct compare_report *r);

/* The report of form f about participation p (its person the subject;
 * the other respondent whoever supervised them when answering).
 * csv_lead, when not NULL, is written before each CSV row (the
 * participant's columns in an export) and the header is left out. */
int compare_build(struct store *store, const struct config_program *program,
                  const struct program_form *f, const struct store_participation *p,
                  const char *csv_lead, struct compare_report *r_r, const char **error_r);

/* The CSV header of compare_build for form f, after lead (may be NULL). */
void compare_csv_header(const struct program_form *f, const char *lead, struct strbuf *sb);

/* A compare step at now (inside a transaction, the program's time zone
 * set): each report complete and not sent yet is queued. */
int compare_due(const struct config *config, struct store *store,
                const struct config_program *program, const struct program_step *s, time_t now,
                const char **error_r);

/* Checks the step's report template for each audience it goes to, the
 * supervisor's against what the compared form keeps from supervisors. */
int compare_check_templates(const struct config *config, const struct config_program *program,
                            const struct program_step *s, const char **error_r);

#endif
