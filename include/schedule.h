/*
 * schedule: what is due now, as a pure function of the program's state and
 * the time (no database, no clock of its own), so cadence rules can be
 * tested month by month without a server.
 *
 * Rules (PROGRAMS.md, CDSS):
 *   - A partnership must meet meetings_per_month times per calendar month in
 *     the program's time zone.
 *   - From reminder_day on, a partnership below that count gets one
 *     reminder for the month, if it already existed before reminder_day (a
 *     pair matched on the 20th is not nagged that month).
 *   - Once a month has ended, the coordinator gets one follow-up listing
 *     every partnership below cadence in that month (same eligibility), or
 *     saying that all met it.
 *   - The coordinator gets a digest on a working day when something waits
 *     for them: pending applications, emails that failed, messages held.
 *   - Everything above goes out in working hours only.
 * Each action carries an idempotency key; the outbox refuses a second email
 * with the same key, so re-running, restarting or stepping time back and
 * forth sends nothing twice.
 */
#ifndef MENTORD_SCHEDULE_H
#define MENTORD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "program.h"

struct schedule_match {
	int64_t id;
	time_t created_at;
	long meetings_this_month; /* meetings dated in the month of `now` */
	long meetings_last_month; /* meetings dated in the month before */
	bool reminded;            /* this month's reminder is already queued */
};

struct schedule_input {
	const char *program; /* borrowed name, used in keys */
	/* The steps (program.h) of the cadence, by name; NULL when the program
	 * has none of that kind: the reminder to groups below the cadence,
	 * the coordinators' follow-up, the digest. */
	const char *reminder_step, *followup_step, *digest_step;
	int meetings_per_month;
	int reminder_day;                     /* the reminder step's day */
	int followup_day;                     /* the follow-up step's day */
	const struct schedule_match *matches; /* active partnerships */
	size_t nmatches;
	long pending_applications;
	long unreported_failures;
	long unreported_messages;
	int work_start_hour, work_end_hour;
	bool work_weekends;
	bool followup_done; /* last month's follow-up is already queued */
};

enum schedule_kind {
	DUE_MEETING_REMINDER = 1, /* match_id (the group), period = month */
	DUE_CADENCE_FOLLOWUP,     /* period = the month that ended; below[] */
	DUE_DIGEST,               /* period = today's date */
};

struct schedule_below {
	int64_t match_id;
	long meetings;
};

struct schedule_action {
	enum schedule_kind kind;
	int64_t match_id;
	char period[11];              /* "YYYY-MM" or "YYYY-MM-DD" */
	char key[128];                /* idempotency key */
	struct schedule_below *below; /* owned; FOLLOWUP only */
	size_t nbelow;
	size_t neligible; /* FOLLOWUP: partnerships counted that month */
};

/* A reminder's key is prefix + group id + suffix ("step=NAME:group=",
 * ":month=YYYY-MM"), so the store can tell in one query which groups were
 * reminded in month. */
void schedule_reminder_key_affixes(const char *step, const char *month, char prefix[static 64],
                                   char suffix[static 32]);

/* Which meeting counts schedule_due_actions will read at now, so that the
 * caller loads only those: this month's (reminders are due from
 * reminder_day on) and last month's (the follow-up, unless followup_done).
 * Both false outside working hours.  Reads the configuration fields of in,
 * not matches. */
void schedule_counts_needed(const struct schedule_input *in, time_t now, bool *this_month_r,
                            bool *last_month_r);
/* The follow-up's idempotency key for the month before now. */
void schedule_followup_key(const char *step, const char *program, time_t now, char key[static 128]);

/* The caller owns *actions_r (schedule_actions_free). */
void schedule_due_actions(const struct schedule_input *in, time_t now,
                          struct schedule_action **actions_r, size_t *n_r);
void schedule_actions_free(struct schedule_action **actions, size_t n);

bool schedule_in_working_hours(time_t now, int start_hour, int end_hour, bool weekends);
/* The next instant working hours begin after now (now itself when inside). */
time_t schedule_next_working_time(time_t now, int start_hour, int end_hour, bool weekends);
/* "YYYY-MM" of the month before the month of t. */
void schedule_previous_month(time_t t, char buf[static 8]);

/* ---- the other steps of a program (program.h) ---- */

/* A period of the program's calendar: its key in idempotency keys
 * ("2026-11-02", "W2026-11-02" for the week of that Monday, "2026-11",
 * "2026-Q4") and the local midnight it starts at. */
struct schedule_period {
	char key[24];
	time_t start;
};
void schedule_period_of(enum program_period p, time_t t, struct schedule_period *out);
/* When an `every` step is due in the period containing now: the period's
 * start plus day - 1 days (a weekday 1-7 for weeks).  *period_r gets the
 * period. */
time_t schedule_every_due(enum program_period p, int day, time_t now,
                          struct schedule_period *period_r);
/* Which reminder of a request sent at sent is due at now: 0 (the request
 * itself), k (the k-th reminder, every remind_every days), or -1 once
 * until days have passed (0: no end). */
int schedule_reminder_due(time_t sent, time_t now, int remind_every, int until);
/* Calendar months from the month of from to the month of now (0 when now
 * is before from): the index of the month's topic, whose turn it is. */
long schedule_month_index(time_t from, time_t now);

#endif
