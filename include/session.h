/*
 * session: a program's dated sessions (DOL: executive workshops, group
 * coaching) -- the calendar invitations to everyone taking part, their
 * updates and cancellations, the answers to them and the attendance the
 * coordinators record.
 *
 * A session is configuration (program.h struct program_session) and an
 * event row (store: events, kind "session", topic its name), made when it
 * is first sent.  Each participant gets their own invitation (one outbox
 * row each, key "invite:session=E:person=P:v=HASH"): its ORGANIZER is the
 * signed reply address of that row, so a calendar's METHOD:REPLY carries
 * its proof like a reply by mail.  A change to the session's title, date,
 * time or location is a new HASH, sent as an update with a higher SEQUENCE
 * (the number of versions sent before); `cancelled = true` sends a CANCEL
 * to everyone invited.  Only sessions still to come are sent.
 */
#ifndef MENTORD_SESSION_H
#define MENTORD_SESSION_H

#include "config.h"
#include "store.h"
#include "template.h"

#include <time.h>

/* Sends what is due for program's sessions at now: invitations, updates,
 * cancellations.  Inside a store transaction, with the program's time
 * zone set. */
int session_due(const struct config *config, struct store *store,
                const struct config_program *program, time_t now, const char **error_r);

/* The session's start and end instants (the process time zone must be the
 * program's).  -1 when its date or time does not convert. */
int session_times(const struct program_session *se, time_t *start_r, time_t *end_r);

/* The session's template variables: session, session_title,
 * session_date (long local date of start), session_time, session_location. */
void session_template_vars(struct template_vars *vars, const struct program_session *se,
                           time_t start);

/* Records person's attendance ("present" or "absent") at program's
 * session name.  Refused with a reason (*why_r, static) when there is no
 * such session, it is cancelled or has not begun at now, or person takes
 * no part in program; *done_r true when recorded. */
int session_attend(const struct config_program *program, struct store *store, const char *name,
                   int64_t person_id, bool present, time_t now, bool *done_r, const char **why_r,
                   const char **error_r);

/* Participants below the program's session_attendance at now, one line
 * each ("  Name <addr>: attended 1 of 3 sessions"), appended to out;
 * *count_r how many. */
int session_below_rule(const struct config_program *program, struct store *store, time_t now,
                       struct strbuf *out, long *count_r, const char **error_r);

/* Each session of program with the participants' answers and attendance:
 * text (one session a line, with the counts) or CSV (one row per session
 * and participant: program, session, title, date, time, participant,
 * email, answer, attendance), appended to out. */
int session_report(const struct config_program *program, struct store *store, bool csv,
                   struct strbuf *out, const char **error_r);

#endif
