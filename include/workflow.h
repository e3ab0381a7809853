/*
 * workflow: applying a message to the program, and turning what is due into
 * emails.  Both run inside a store transaction opened by the caller, so a
 * message and all its effects (application, meeting, evaluation, queued
 * answers) are committed together or not at all.
 *
 * What a message from a person does (after bounces and automatic mail are
 * set aside by classify):
 *   coordinator    commands (accept, decline, pool, match, end, mentor,
 *                  digest, help), or a mentor form, answered with one
 *                  summary of what was done
 *   anyone else    a meeting report ("met 2026-11-20 2h"), an evaluation
 *                  (the program's form evaluation, from a partner), an
 *                  application form (acknowledged, supervisor told; or one
 *                  answer naming each problem), or, from an unknown sender, the
 *                  questionnaire; what cannot be understood is held for the
 *                  coordinator and explained to the sender
 * Answers to one address are capped per day (max_auto_replies_per_day) and
 * never go to automatic mail.
 */
#ifndef MENTORD_WORKFLOW_H
#define MENTORD_WORKFLOW_H

#include "classify.h"
#include "config.h"
#include "parsed.h"
#include "store.h"

#include <time.h>

/* Applies the stored message `row` (parsed from its raw bytes).  Sets the
 * message's status and reason.  Returns -1 on a store or template error, in
 * which case the caller rolls back and quarantines the message. */
int workflow_apply_parsed(const struct config *config, struct store *store, int64_t row,
                          const struct parsed_message *parsed, time_t now, const char **error_r);

/* parsed_message_parse, then workflow_apply_parsed, for a message that arrived
 * at received_at. */
int workflow_apply_message(const struct config *config, struct store *store, int64_t row,
                           const char *raw, size_t len, time_t received_at, time_t now,
                           const char **error_r);

/* Registers a mentor (mentorctl and the `mentor` command).  strengths may be
 * NULL.  *app_id_r gets the mentor's application id.  A mentor already
 * registered keeps everything but what is given (strengths when not NULL,
 * capacity when above 0). */
int workflow_add_mentor(const struct config *config, struct store *store,
                        const struct config_program *program, const char *email, const char *name,
                        const char *strengths, long capacity, time_t now, int64_t *app_id_r,
                        const char **error_r);

/* Records a meeting of active group group_id on date (YYYY-MM-DD) of
 * minutes (0: unknown), as a participant's "met" report does (mentorctl
 * meeting add); out says what was recorded and the month's count, or why
 * nothing was (*done_r false: no such active group). */
int workflow_meeting_add(const struct config *config, struct store *store, int64_t group_id,
                         const char *date, int minutes, time_t now, struct strbuf *out,
                         bool *done_r, const char **error_r);

/* What workflow_correct_answer did: changed (field set), refused
 * (problem set), or nothing because the application has no join-form
 * answer with such a field (no_form). */
struct workflow_correction {
	bool no_form;
	char *field;     /* owned: the form's key ("Years as manager") */
	char *old_value; /* owned, may be NULL */
	char *new_value; /* owned */
	char *problem;   /* owned: an unknown or invalid value, for the operator */
};
/* Corrects one field of an application's join form (mentorctl
 * application edit): key is the field's key or alias, or what it binds
 * ("division", "level", "topics", "supervisor"...); value is read as the
 * form reads it (type, choices, range), replaces the answer's value, and
 * sets what the field binds on the participation and its person, as a
 * form does.  Inside the caller's transaction; clear c_r with
 * workflow_correction_clear. */
int workflow_correct_answer(const struct config *config, struct store *store,
                            int64_t participation_id, const char *key, const char *value,
                            time_t now, struct workflow_correction *c_r, const char **error_r);
void workflow_correction_clear(struct workflow_correction *c);

/* ---- a roster (mentorctl import) ---- */

/* What a roster's row gives for one of the things a join form binds. */
struct workflow_value {
	bool given;
	char *text;    /* owned: as stored (choices as the form names them, an
	                * address in lower case; level and capacity as written) */
	long number;   /* level (a choice's place in its list), capacity */
	char *problem; /* owned: why the value cannot be used, for the operator */
};
void workflow_value_clear(struct workflow_value *v);

/* Whether a roster column may give what b binds: division, topics,
 * availability, level, capacity, supervisor, director. */
bool workflow_roster_bind(enum form_bind b);

/* Reads value (trimmed, not empty) for b of a person of role in program:
 * as the role's join form reads the field that binds b (type, choices,
 * range), or, when the form binds nothing to b (or there is no form), as
 * mentorctl application edit sets the column: text; level a whole number;
 * capacity one above 0; supervisor and director an address.  Sets
 * v_r->problem when it cannot be used. */
void workflow_roster_value(const struct config_program *program, const char *role, enum form_bind b,
                           const char *value, struct workflow_value *v_r);

struct workflow_roster_row {
	const char *email;                   /* borrowed: an address, lower case */
	const char *name;                    /* borrowed; NULL: not given (a name known stays) */
	const char *role;                    /* borrowed: a role of the program, or a contact's
	                                      * ("supervisor", "director") */
	const struct workflow_value *values; /* borrowed: BIND_COUNT, by bind */
};

/* One change a row made to something that was there, for the audit. */
struct workflow_change {
	char *object;                /* owned: "person 4", "participation 9" */
	char *field;                 /* owned */
	char *old_value, *new_value; /* owned, may be NULL */
};

struct workflow_registered {
	int64_t participation_id;
	bool created;                    /* the participation is new */
	const char *status;              /* borrowed, static: its status */
	struct workflow_change *changes; /* owned: what changed in one already there */
	size_t nchanges;
};
void workflow_registered_clear(struct workflow_registered *r);

/*
 * Registers the person of a roster row, as the coordinator's registration
 * does (register_participant: a first role accepted, waiting for a group;
 * another active), or, for a contact role, records the contact (as a
 * join form's supervisor is).  Someone already there keeps their status
 * and everything the row leaves empty; what it gives replaces what they
 * have, through their join form's answer when they have one (as
 * mentorctl application edit corrects it).  Sends nothing.  Inside the
 * caller's transaction; the caller checked the row (its role, that the
 * person has no other role in the program).
 */
int workflow_register_row(const struct config *config, struct store *store,
                          const struct config_program *program,
                          const struct workflow_roster_row *row, time_t now,
                          struct workflow_registered *r, const char **error_r);

/* Checks every template workflow sends (syntax, and no confidential value in
 * what goes to supervisors), so a broken template is found at start-up or
 * reload rather than when the email is due. */
int workflow_check_templates(const struct config *config, const char **error_r);

#endif
