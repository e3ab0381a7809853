/*
 * program: a program's rules, as its configuration states them (pure).
 *
 * mentord runs any program of a known shape from configuration alone
 * (PROGRAMS.md): who takes part (roles), how they are grouped (pairs,
 * teams), what they write (forms, whose fields bind to what the engine
 * needs and say who may see them), and what happens when (steps).  config
 * reads `program NAME { ... }` into these structures and checks them with
 * FILE:LINE errors; workflow applies messages and due actions by them;
 * schedule evaluates the steps into actions.  Nothing here touches the
 * store, the clock or the network.
 *
 * Statuses and the other words that cross modules are enums here, with
 * one name each (program_status_name): no module compares bare strings.
 */
#ifndef MENTORD_PROGRAM_H
#define MENTORD_PROGRAM_H

#include "form.h"
#include "util.h"

#include <stdint.h>
#include <time.h>

/* A participation's status (store: participations.status). */
enum program_status {
	PSTATUS_APPLIED = 0, /* waiting for a decision */
	PSTATUS_APPROVING,   /* waiting for the approvals the role asks for */
	PSTATUS_ACCEPTED,    /* accepted, waiting for a group */
	PSTATUS_POOL,        /* kept for a later class */
	PSTATUS_DECLINED,
	PSTATUS_MATCHED, /* in an active group */
	PSTATUS_ACTIVE,  /* available (a mentor with places, an opted-in member) */
	PSTATUS_WITHDRAWN,
	PSTATUS_COMPLETED,
	PSTATUS_PAUSED, /* sent stop: no step mail, not listed, until start */
	PSTATUS_COUNT
};
const char *program_status_name(enum program_status s);
/* -1 when name is no status. */
int program_status_parse(const char *name);

/* How a role's join form is decided. */
enum program_decision {
	DECIDED_BY_COORDINATOR = 0, /* accept, decline, pool */
	DECIDED_BY_AUTO,            /* accepted once the approvals agree */
};

struct program_role {
	char *name;  /* owned, e.g. "mentee" */
	char *title; /* owned: how people are called in mail; default name */
	char *form;  /* owned: the join form's name; NULL: registered by command only */
	enum program_decision decided_by;
	int limit; /* accepted or matched at once (a class); 0: no limit */
	/* Binds of the join form (supervisor, director) whose addresses must
	 * agree by reply before the participation goes on. */
	struct strvec approvals;
	int approval_days;      /* reminder interval; three without answer: the coordinator told */
	bool notify_supervisor; /* tell the bound supervisor, once the join is proven */
	char *graduates_to;     /* owned: at the program's end, offered this role; NULL */
	int capacity;           /* groups at once by default (a mentor's places); 0: 1 */
};

/* A point of the program: a date, or start/end plus days or a percentage of
 * the program's length. */
struct program_point {
	enum { POINT_DATE = 1, POINT_START, POINT_END } base;
	int year, month, day; /* POINT_DATE */
	long offset_days;     /* START/END: + or - days */
	int percent;          /* START: percent of start..end, instead of days */
};

enum program_match_mode { MATCH_RULE_OFF = 0, MATCH_RULE_PREFER, MATCH_RULE_REQUIRE };

/* A kind of group: a pair (one member of each of two roles) or a team (a
 * number of members of one role). */
struct program_group {
	char *name;          /* owned, e.g. "pair", "team" */
	struct strvec roles; /* member roles: two for a pair, one for a team */
	bool pair;           /* two roles, one member each; the second may be in several */
	int size_min, size_max, size_preferred_max; /* teams */
	int meetings_per_month;                     /* cadence; 0: none */
	int reminder_day;                           /* mid-month reminder day, for steps */
	bool rotate_facilitator;                    /* members take turns, month by month */
	/* Matching: topics of the first role against the second's (pairs: a
	 * mentee's needs against a mentor's strengths) or shared (teams). */
	enum program_match_mode topics, level, division, supervisor, availability;
	long level_gap; /* pairs: the second role this much more experienced */
	/* Pairs: no pair is proposed or made before this point (DOL: a
	 * mentor from the mid-point); base 0: from the start. */
	struct program_point opens;
};

/* What a form does when someone sends it. */
enum program_form_use {
	FORM_USE_JOIN = 1, /* joins a role (an application, a registration) */
	FORM_USE_MEETING,  /* reports a meeting of the sender's group */
	FORM_USE_ANSWER,   /* answers (an evaluation, a survey, an assessment) */
};

/* What an answer form is about. */

/* ABOUT_PARTICIPANT: an assessment of a participant (a 180), written by the
 * participant about themselves and by their supervisor (the address their
 * join form binds supervisor) about them; a request says whom it is about. */
enum program_about { ABOUT_PROGRAM = 0, ABOUT_GROUP, ABOUT_MEETING, ABOUT_PARTICIPANT };

struct program_form {
	struct form_def def; /* the fields, with their binds and visibility */
	enum program_form_use use;
	char *role;               /* owned: JOIN: the role it joins */
	enum program_about about; /* ANSWER */
	struct strvec rounds;     /* ANSWER: named rounds ("mid", "final"); empty: one */
	/* ANSWER: answers are taken until the end of this day (local), later
	 * ones kept and explained, not recorded; no request or reminder goes
	 * out from then on.  base 0: no deadline. */
	struct program_point closes;
	/* ANSWER: one answer per person and round; a later one replaces it. */
	bool replace;
};

/* When a step happens. */
enum program_when {
	WHEN_EVERY = 1, /* every period, from day on */
	WHEN_AT,        /* once, at a point of the program */
	WHEN_AFTER,     /* after each event of a kind (a meeting) */
};

enum program_period { PERIOD_DAY = 1, PERIOD_WEEK, PERIOD_MONTH, PERIOD_QUARTER };
const char *program_period_name(enum program_period p);

/* Whom a step writes to. */
enum program_audience {
	TO_GROUP = 1,    /* each member of each active group */
	TO_COORDINATORS, /* the program's coordinators */
	TO_PARTICIPANTS, /* everyone taking part (not declined, withdrawn) */
	TO_ROLE,         /* everyone of a role (step.role) */
	TO_FACILITATOR,  /* each active group's facilitator of the period */
	TO_SUPERVISOR,   /* each participant's supervisor, about that participant */
};

/* Which groups or people a step is for. */
enum program_condition {
	COND_ALWAYS = 0,
	COND_BELOW_CADENCE, /* groups below the cadence this month (a reminder) or
	                     * last month (the coordinators' follow-up) */
	COND_WAITING,       /* the coordinators have something waiting (the digest) */
	COND_NOT_ANSWERED,  /* respondents who have not sent the requested form */
};

enum program_effect {
	EFFECT_NONE = 0,
	EFFECT_END,      /* the program's end: groups completed, graduates offered a role */
	EFFECT_COMPLETE, /* completion: the certificate to who met the rule */
	EFFECT_HEALTH,   /* the coordinators' weekly health summary, the report attached */
	EFFECT_COMPARE,  /* a participant's answers to a form about them, self against
	                  * supervisor, round by round, to the participant, their
	                  * supervisor and the coordinators (a 180 report) */
};

struct program_step {
	char *name; /* owned: in idempotency keys; never rename a running step */
	enum program_when when;
	enum program_period every; /* WHEN_EVERY */
	int day;                   /* WHEN_EVERY: day of the month/quarter, weekday 1-7 */
	struct program_point at;   /* WHEN_AT */
	char *after;               /* owned: WHEN_AFTER: the event kind ("meeting") */
	enum program_audience to;
	char *role; /* owned: TO_ROLE */
	enum program_condition condition;
	char *template_name; /* owned; NULL: the effect's or request's own */
	char *request;       /* owned: a form sent to fill in; NULL */
	char *round;         /* owned: the request's round; NULL: "" */
	int remind_every;    /* days between reminders to who has not answered; 0: none */
	int until;           /* days after which no more reminders go */
	enum program_effect effect;
	/* EFFECT_COMPLETE: the form that must be answered (round), and the
	 * share of the group's meetings the person must have attended. */
	char *complete_form, *complete_round; /* owned */
	int attendance_percent;
	/* A join form whose fields visible_to "participants" the mail lists,
	 * for each other person taking part (not the reader's own); NULL:
	 * none.  A reader with nothing to list gets nothing that period. */
	char *shows; /* owned */
	/* TO_GROUP, WHEN_AFTER "formed", EFFECT_COMPLETE: the kind of group
	 * (a group section's name) when it is not the unit (DOL: its mentor
	 * pairs beside its teams); NULL: the unit.  With to = "group", role
	 * (when set) keeps the members of that role only. */
	char *group; /* owned */
	/* EFFECT_COMPARE: the form about participants whose rounds it
	 * compares; sent once the last round has both answers. */
	char *compare; /* owned */
	int line;      /* where it was configured, for messages */
};

/* The month's topic (CDE: one competency cluster a month). */
struct program_topic {
	char *title;    /* owned */
	char *readings; /* owned, may be NULL */
};

/* A dated session everyone taking part attends (DOL: the executive
 * workshops and group coaching), sent to each as a calendar invitation. */
struct program_session {
	char *name;     /* owned: the section title; in keys and commands */
	char *title;    /* owned: the invitation's summary */
	char *date;     /* owned: YYYY-MM-DD, the program's time zone */
	int start_min;  /* minutes from local midnight */
	int end_min;    /* > start_min */
	char *location; /* owned, may be NULL */
	bool cancelled; /* a CANCEL goes to everyone invited */
	int line;
};

struct program_certificate {
	char *signer, *signer_title, *organisation; /* owned; organisation may be NULL */
};

struct program {
	struct program_role *roles; /* owned */
	size_t nroles;
	struct program_group *groups; /* owned */
	size_t ngroups;
	const struct program_group *unit; /* borrowed from groups: how people are grouped; NULL */
	/* borrowed from groups: a second kind, pairs of the unit's role with
	 * a mentor, beside a unit of teams (DOL); NULL */
	const struct program_group *pairs;
	struct program_form *forms; /* owned */
	size_t nforms;
	struct program_step *steps; /* owned */
	size_t nsteps;
	struct program_topic *topics; /* owned */
	size_t ntopics;
	struct program_certificate certificate; /* signer NULL: no certificate */
	struct program_session *sessions;       /* owned, in date order */
	size_t nsessions;
	/* The share of past sessions a participant must have attended; those
	 * below are in the coordinators' digest.  0: no rule. */
	int session_attendance;
};

void program_free(struct program *p); /* frees the contents */

const struct program_role *program_role(const struct program *p, const char *name);
const struct program_form *program_form(const struct program *p, const char *name);
const struct program_group *program_group(const struct program *p, const char *name);
/* The role a join form joins, or NULL. */
const struct program_role *program_role_of_form(const struct program *p,
                                                const struct program_form *f);
/* The first form with this use (MEETING, ANSWER about a group...), or NULL. */
const struct program_form *program_form_for(const struct program *p, enum program_form_use use);

/* The field of form f bound to b, or NULL. */
const struct form_field_def *program_field_bound(const struct program_form *f, enum form_bind b);

/* The kind of group a program pairs people in: the unit when it is a
 * pair, else the second kind (pairs); NULL when it forms no pairs. */
const struct program_group *program_pair_group(const struct program *p);
/* The kind of group step s is about: its group, else the unit. */
const struct program_group *program_step_group(const struct program *p,
                                               const struct program_step *s);
/* Whether a group of kind g is the second kind (pairs beside the unit):
 * joining or leaving it leaves its members' status to the unit. */
bool program_group_is_second(const struct program *p, const struct program_group *g);

/* The session called name, or NULL. */
const struct program_session *program_session(const struct program *p, const char *name);

/* The instant of a point, given the program's start and end (local
 * midnight of each date), or 0 when it needs a start or end not set. */
time_t program_point_time(const struct program_point *pt, time_t start, time_t end);
/* When an answer form closes: the local midnight after its closes day;
 * 0 when it has no deadline (or needs a start or end not set). */
time_t program_form_closes_at(const struct program_form *f, time_t start, time_t end);
/* "start + 50%", "end - 14 days", "2027-03-01": parsed into *pt; -1 with a
 * reason in error_r when it is none of those. */
int program_point_parse(const char *s, struct program_point *pt, const char **error_r);

/* Team sizes: how many teams of size_min..size_max (preferring at most
 * size_preferred_max) n people make; 0 when n is too small for one. */
size_t program_team_count(const struct program_group *g, size_t n);

#endif
