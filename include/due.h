/*
 * due: what is due, turned into email.  For each program, in its own time
 * zone and inside one store transaction, every step of its configuration
 * (program.h) is evaluated at now (schedule.h holds the pure timing) and
 * what it asks for is queued under idempotency keys
 * ("step=NAME:group=12:month=2026-11"), so re-running, restarting or
 * stepping time back and forth sends nothing twice:
 *   - the cadence: a reminder to groups below it, the coordinators'
 *     monthly follow-up, the digest when something waits;
 *   - announcements every period to a group, the participants, a role or
 *     each group's facilitator of the month (with the month's topic);
 *   - requests for a form (an evaluation, a survey) at a point of the
 *     program or after each meeting, with reminders to who has not
 *     answered, until a deadline;
 *   - the program's end (groups completed, graduates offered a role) and
 *     completion (a certificate of completion, the coordinators told);
 *   - reminders to approvers, and the coordinators told when an approval
 *     never comes.
 * Mail goes out in working hours only.
 */
#ifndef MENTORD_DUE_H
#define MENTORD_DUE_H

#include "config.h"
#include "store.h"

#include <time.h>

/* Queues everything due at now, one transaction per program. */
int due_run(const struct config *config, struct store *store, time_t now, const char **error_r);
/* due_run inside the caller's transaction (mentorctl preview, which rolls
 * it back): the same code, nothing committed. */
int due_run_in(const struct config *config, struct store *store, time_t now, const char **error_r);

/* The digest of program now, under key (the "digest" command, or the
 * step); in_reply_to may be NULL.  Inside the caller's transaction. */
int due_digest(const struct config *config, struct store *store,
               const struct config_program *program, time_t now, const char *key,
               const char *in_reply_to, const char **error_r);

/* Checks the templates program's steps use (at start-up and reload). */
int due_check_templates(const struct config *config, const struct config_program *program,
                        const char **error_r);

#endif
