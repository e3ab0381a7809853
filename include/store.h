/*
 * store: the SQLite database, and the only module that holds SQL.
 *
 * One connection, WAL journal, foreign keys on, a busy timeout so a second
 * process holding the database makes us wait rather than fail.  Schema
 * changes are migrations numbered by PRAGMA user_version.  Every statement
 * is prepared once and bound; no value is ever formatted into SQL text.
 *
 * Records returned in structs are owned by the caller and freed with the
 * matching *_clear() or *_free() function.
 */
#ifndef MENTORD_STORE_H
#define MENTORD_STORE_H

#include "util.h"

#include <stdint.h>
#include <time.h>

struct store;

int store_open(const char *path, struct store **store_r, const char **error_r);
void store_close(struct store **store);
int store_schema_version(struct store *store);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Rollback never fails visibly.
 * The journal is a WAL with synchronous = NORMAL: a power loss may undo the
 * last commits (never corrupt the database) until store_sync. */
/* Whether the last failure was another process holding the lock (past the
 * busy timeout): a reason to wait, not a fault of what was being written. */
bool store_busy(struct store *store);
/* Makes every commit so far durable: syncs the write-ahead log to disk.
 * Called before something outside the database is done on the strength of
 * those commits (a message flagged or moved on the server, an email sent),
 * so that a power loss cannot undo a commit whose consequences were
 * already seen; one sync covers every commit before it. */
int store_sync(struct store *store, const char **error_r);
int store_begin(struct store *store, const char **error_r);
int store_commit(struct store *store, const char **error_r);
void store_rollback(struct store *store);
/* Inside a transaction: SAVEPOINT, RELEASE it (keeping its work for the
 * COMMIT), or undo its work and release it (the transaction stays open).
 * One level only.  store_rollback_to fails when the transaction itself is
 * gone (SQLite rolls it all back after an I/O error or a full disk): then
 * the caller must give up the transaction. */
int store_savepoint(struct store *store, const char **error_r);
int store_release(struct store *store, const char **error_r);
int store_rollback_to(struct store *store, const char **error_r);

/* ---- mailboxes: UIDVALIDITY and the last UID committed ---- */
/* *found_r false when the mailbox was never seen. */
int store_mailbox_get(struct store *store, const char *mailbox, bool *found_r,
                      uint32_t *uidvalidity_r, uint32_t *last_uid_r, const char **error_r);
int store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity,
                      uint32_t last_uid, const char **error_r);

/* ---- messages: every message received, raw bytes kept ---- */
struct store_message {
	int64_t id;
	char *mailbox; /* owned, may be NULL (replayed or local) */
	uint32_t uidvalidity, uid;
	char *message_id; /* owned, may be NULL */
	char *from_addr;  /* owned, may be NULL */
	char *subject;    /* owned, may be NULL */
	char *kind;       /* owned: message | bounce | auto_reply */
	char *status;     /* owned: applied | answered | ignored | held | quarantined */
	char *reason;     /* owned, may be NULL */
	char *program;    /* owned, may be NULL */
	time_t received_at;
	size_t size;
	bool reported;  /* shown to the coordinator in a digest */
	bool truncated; /* only its header block is kept (the server has the rest) */
};
void store_message_clear(struct store_message *m);

/* Looks for an earlier copy: same mailbox+uidvalidity+uid, else same
 * Message-ID, else same bytes (sha256 hex).  message_id and sha256 may be
 * NULL to skip those checks.  *id_r is 0 when none. */
int store_message_find_duplicate(struct store *store, const char *mailbox, uint32_t uidvalidity,
                                 uint32_t uid, const char *message_id, const char *sha256,
                                 int64_t *id_r, const char **error_r);
int store_message_insert(struct store *store, const char *mailbox, uint32_t uidvalidity,
                         uint32_t uid, const char *message_id, const char *sha256, const char *raw,
                         size_t len, time_t received_at, int64_t *id_r, const char **error_r);
/* store_message_insert for what is not the whole message: raw[0..len) is
 * its header block when truncated (the message was over the size limit,
 * or could not be stored), size the size the server gave. */
int store_message_insert_part(struct store *store, const char *mailbox, uint32_t uidvalidity,
                              uint32_t uid, const char *message_id, const char *sha256,
                              const char *raw, size_t len, size_t size, bool truncated,
                              time_t received_at, int64_t *id_r, const char **error_r);
int store_message_set_result(struct store *store, int64_t id, const char *from_addr,
                             const char *subject, const char *kind, const char *status,
                             const char *reason, const char *program, const char **error_r);
int store_message_get(struct store *store, int64_t id, struct store_message *m_r, char **raw_r,
                      size_t *len_r, const char **error_r);
/* Messages with the given status (NULL: all), newest first, at most limit. */
int store_message_list(struct store *store, const char *status, size_t limit,
                       struct store_message **list_r, size_t *n_r, const char **error_r);
/* Held or quarantined messages not yet shown to the coordinator; marks them
 * reported when mark is true. */
int store_message_unreported(struct store *store, const char *program, bool mark,
                             struct store_message **list_r, size_t *n_r, const char **error_r);
void store_message_list_free(struct store_message **list, size_t n);

/* ---- people ---- */
struct store_person {
	int64_t id;
	char *email; /* owned */
	char *name;  /* owned, may be NULL */
	bool undeliverable;
	char *undeliverable_reason; /* owned, may be NULL */
};
void store_person_clear(struct store_person *p);
/* Finds by email (case-insensitive) or creates; a non-NULL name replaces
 * the stored one. */
int store_person_upsert(struct store *store, const char *email, const char *name, int64_t *id_r,
                        const char **error_r);
/* *found_r false when there is none. */
int store_person_by_email(struct store *store, const char *email, bool *found_r,
                          struct store_person *p_r, const char **error_r);
int store_person_get(struct store *store, int64_t id, struct store_person *p_r,
                     const char **error_r);
/* Marks the address undeliverable with reason (a bounce's status), or, with
 * reason NULL, deliverable again. */
int store_person_set_undeliverable(struct store *store, int64_t id, const char *reason,
                                   const char **error_r);
int store_person_list(struct store *store, struct store_person **list_r, size_t *n_r,
                      const char **error_r);
void store_person_list_free(struct store_person **list, size_t n);

/* ---- participations: a person's role in a program ---- */
/* Statuses: applied, approving (waiting for approvals), accepted, pool,
 * declined, matched (in a group), active (a mentor or member available),
 * withdrawn, completed.  What the join form bound is kept here, for
 * matching and reports; the form itself is an answer (answer_id). */
struct store_participation {
	int64_t id;
	char *program; /* owned */
	int64_t person_id;
	char *email;  /* owned (joined from people) */
	char *name;   /* owned (joined from people), may be NULL */
	char *role;   /* owned */
	char *status; /* owned */
	long level;   /* experience level (years, grade); -1 when unknown */
	char *division, *topics, *availability;  /* owned, may be NULL; topics ", " joined */
	long capacity;                           /* groups at once (a mentor's places); 0: 1 */
	int64_t supervisor_id, director_id;      /* people; 0 when none */
	char *supervisor_email, *director_email; /* owned (joined), may be NULL */
	int64_t answer_id;                       /* the join form's answer; 0 when none */
	char *answers;                           /* owned: that answer's summary, may be NULL */
	time_t created_at, decided_at;
	char *note;         /* owned: decision note or reason, may be NULL */
	bool undeliverable; /* the person's address bounced */
};
void store_participation_clear(struct store_participation *p);
void store_participation_list_free(struct store_participation **list, size_t n);
/* Inserts, or updates what the form bound in the existing (program,
 * person, role) row, keeping its status; *created_r says which. */
int store_participation_save(struct store *store, const struct store_participation *p,
                             int64_t *id_r, bool *created_r, const char **error_r);
int store_participation_get(struct store *store, int64_t id, bool *found_r,
                            struct store_participation *p_r, const char **error_r);
/* The person's participation in program, with role (NULL: the first). */
int store_participation_find(struct store *store, const char *program, int64_t person_id,
                             const char *role, bool *found_r, struct store_participation *p_r,
                             const char **error_r);
/* Participations of a program (NULL: all) with role and status (NULL:
 * any), ordered by id; people with a contact role (supervisors) are not
 * participants and are left out. */
int store_participation_list(struct store *store, const char *program, const char *role,
                             const char *status, struct store_participation **list_r, size_t *n_r,
                             const char **error_r);
int store_participation_of_person(struct store *store, int64_t person_id,
                                  struct store_participation **list_r, size_t *n_r,
                                  const char **error_r);
int store_participation_count(struct store *store, const char *program, const char *role,
                              const char *status, long *count_r, const char **error_r);
int store_participation_set_status(struct store *store, int64_t id, const char *status,
                                   const char *note, time_t at, const char **error_r);

/* ---- answers: every form submission ---- */
struct store_answer {
	const char *program, *form, *round;           /* borrowed; round NULL: "" */
	int64_t respondent_id;                        /* who wrote it */
	int64_t subject_id;                           /* whom it is about; 0: the respondent */
	int64_t participation_id, group_id, event_id; /* what it is about; 0: none */
	int64_t message_row;                          /* 0 when entered by an operator */
	const char *summary;                          /* the form as understood */
	time_t created_at;
};
struct store_answer_value {
	const char *field; /* the field's key */
	const char *value;
	long number;
	bool has_number;
};
/* Records an answer and its values; once per message and form (a replay
 * finds it: *created_r false). */
int store_answer_add(struct store *store, const struct store_answer *a,
                     const struct store_answer_value *values, size_t nvalues, int64_t *id_r,
                     bool *created_r, const char **error_r);
/* Answers to form (round NULL: any) by respondent, about group or event
 * (0: any). */
int store_answer_count(struct store *store, const char *program, const char *form,
                       const char *round, int64_t respondent_id, int64_t group_id, int64_t event_id,
                       long *count_r, const char **error_r);

/* The latest answer to form in round by respondent about subject (a
 * person: an assessment of a participant), *id_r 0 when none; respondent
 * 0: by anyone but the subject (their supervisor, whoever it was when
 * the answer was recorded). */
int store_answer_latest(struct store *store, const char *program, const char *form,
                        const char *round, int64_t respondent_id, int64_t subject_id, int64_t *id_r,
                        const char **error_r);

/* A form that takes one answer per person (replace = true): answer_id
 * replaces the same respondent's other answers to its program, form and
 * round (deleted with their values; the messages stay), *replaced_r of
 * them; unless one came from a later message (a replay of an older one):
 * then *later_r is true and answer_id itself is deleted. */
int store_answer_supersede(struct store *store, int64_t answer_id, bool *later_r, long *replaced_r,
                           const char **error_r);

/* ---- groups: pairs, teams ---- */
struct store_member {
	int64_t participation_id, person_id;
	char *role, *email, *name; /* owned; name may be NULL */
	int position;              /* order in the group (a team's facilitator rotation) */
};
/* Statuses: proposed (a team not published yet), active, ended, completed. */
struct store_group {
	int64_t id;
	char *program, *kind, *status; /* owned */
	char *label, *reason;          /* owned, may be NULL: a name, why it was formed */
	char *end_reason;              /* owned, may be NULL: why it ended ("rematch: ...") */
	time_t created_at, ended_at;
	struct store_member *members; /* owned, by position */
	size_t nmembers;
};
void store_group_clear(struct store_group *g);
void store_group_list_free(struct store_group **list, size_t n);
int store_group_create(struct store *store, const char *program, const char *kind,
                       const char *status, const char *reason, time_t at, int64_t *id_r,
                       const char **error_r);
int store_group_add_member(struct store *store, int64_t group_id, int64_t participation_id,
                           const char *role, int position, const char **error_r);
int store_group_remove_member(struct store *store, int64_t group_id, int64_t participation_id,
                              const char **error_r);
int store_group_get(struct store *store, int64_t id, bool *found_r, struct store_group *g_r,
                    const char **error_r);
/* Groups of program (NULL: all) of kind and status (NULL: any), by id,
 * with their members. */
int store_group_list(struct store *store, const char *program, const char *kind, const char *status,
                     struct store_group **list_r, size_t *n_r, const char **error_r);
/* Groups with status (NULL: any) that person is a member of. */
int store_group_of_person(struct store *store, int64_t person_id, const char *status,
                          struct store_group **list_r, size_t *n_r, const char **error_r);
/* Ends or completes a group (ended_at, end_reason), or sets another status. */
int store_group_set_status(struct store *store, int64_t id, const char *status, const char *reason,
                           time_t at, const char **error_r);
int store_group_set_label(struct store *store, int64_t id, const char *label, const char *reason,
                          const char **error_r);
/* Groups with status a participation is in (a mentor's places taken). */
int store_group_count_for_participation(struct store *store, int64_t participation_id,
                                        const char *status, long *count_r, const char **error_r);
/* Active participations of a role with a place free: in fewer active
 * groups than their capacity (at least 1). */
int store_participation_count_with_places(struct store *store, const char *program,
                                          const char *role, long *count_r, const char **error_r);
struct store_id_pair {
	int64_t a, b;
};
/* Every pair of people who were in a group of program together (not
 * counting proposals), so that teams do not repeat pairings. */
int store_group_pairs_seen(struct store *store, const char *program, struct store_id_pair **list_r,
                           size_t *n_r, const char **error_r);

/* ---- events: meetings, sessions, milestones ---- */
struct store_event {
	int64_t id;
	char *program;    /* borrowed when adding, owned when read */
	int64_t group_id; /* 0: the whole program (a session, a milestone) */
	char *kind;       /* "meeting", "session", ... */
	char *date;       /* YYYY-MM-DD */
	int minutes;
	char *topic; /* may be NULL */
	int64_t facilitator_id, reported_by, message_row;
	time_t created_at;
};
void store_event_clear(struct store_event *e);
void store_event_list_free(struct store_event **list, size_t n);
/* Records an event; one per group, kind and date: a second report of it
 * changes nothing (*created_r false, *id_r the first). */
int store_event_add(struct store *store, const struct store_event *e, int64_t *id_r,
                    bool *created_r, const char **error_r);
int store_event_get(struct store *store, int64_t id, bool *found_r, struct store_event *e_r,
                    const char **error_r);
int store_event_list(struct store *store, int64_t group_id, const char *kind,
                     struct store_event **list_r, size_t *n_r, const char **error_r);
int store_event_attend(struct store *store, int64_t event_id, int64_t person_id, const char *status,
                       const char **error_r);
/* Events of a group and kind in month ("YYYY-MM"; NULL: all), and their
 * minutes (minutes_r may be NULL). */
int store_event_count(struct store *store, int64_t group_id, const char *kind, const char *month,
                      long *count_r, long *minutes_r, const char **error_r);
/* How many absences were recorded at group's events of kind in month
 * ("YYYY-MM"). */
int store_event_absences(struct store *store, int64_t group_id, const char *kind, const char *month,
                         long *count_r, const char **error_r);
/* Events of a group and kind the person attended (present unless recorded
 * otherwise). */
int store_event_attended(struct store *store, int64_t group_id, const char *kind, int64_t person_id,
                         long *count_r, const char **error_r);

/* Calls fn once per group and month that has meetings, ordered by group
 * then month ("YYYY-MM", borrowed for the call); fn returns -1 to stop.
 * One pass, for reports over every group. */
typedef int store_meeting_month_fn(void *ctx, int64_t group_id, const char *month, long count,
                                   long minutes);
int store_meeting_months(struct store *store, store_meeting_month_fn *fn, void *ctx,
                         const char **error_r);

/* The scheduler's view of one active group. */
struct store_cadence {
	int64_t id;
	time_t created_at;
	long meetings_this_month, meetings_last_month;
	bool reminded; /* the outbox holds prefix + id + suffix: reminded this month */
};
/* Every active group of program and kind with its meeting counts in month
 * and prev_month ("YYYY-MM"), ordered by id.  A NULL month is not counted
 * (0), nor, for month or a NULL prefix, the reminder; counting is most of
 * the cost.  The caller frees *list_r. */
int store_group_cadence(struct store *store, const char *program, const char *kind,
                        const char *month, const char *prev_month, const char *reminder_key_prefix,
                        const char *reminder_key_suffix, struct store_cadence **list_r, size_t *n_r,
                        const char **error_r);

/* ---- approvals: who must agree before a participation goes on ---- */
struct store_approval {
	int64_t id, participation_id;
	char *approver; /* owned: what the join form bound, "supervisor", "director" */
	int64_t person_id;
	char *email;  /* owned (joined) */
	char *status; /* owned: waiting | agreed | refused | expired */
	time_t created_at, decided_at;
	char *note; /* owned, may be NULL */
};
void store_approval_clear(struct store_approval *a);
void store_approval_list_free(struct store_approval **list, size_t n);
/* Asks person to approve (once per participation and approver). */
int store_approval_request(struct store *store, int64_t participation_id, const char *approver,
                           int64_t person_id, time_t at, int64_t *id_r, bool *created_r,
                           const char **error_r);
/* Approvals of program (NULL: any) or of one participation (0: any), with
 * status (NULL: any), by id. */
int store_approval_list(struct store *store, const char *program, int64_t participation_id,
                        const char *status, struct store_approval **list_r, size_t *n_r,
                        const char **error_r);
int store_approval_get(struct store *store, int64_t id, bool *found_r, struct store_approval *a_r,
                       const char **error_r);
int store_approval_decide(struct store *store, int64_t id, const char *status, const char *note,
                          int64_t message_row, time_t at, const char **error_r);

/* ---- outbox ---- */
struct store_outbox {
	int64_t id;
	char *key;        /* owned: idempotency key */
	char *kind;       /* owned */
	char *program;    /* owned, may be NULL */
	char *recipients; /* owned: comma separated addr-specs */
	char *message_id; /* owned */
	char *subject;    /* owned */
	char *data;       /* owned: the composed message, CRLF */
	size_t len;
	char *status; /* owned: queued | sent | failed */
	int attempts;
	time_t next_attempt_at;
	char *last_error; /* owned, may be NULL */
	int smtp_code;
	int64_t person_id, thread_ref;
	char *thread_type; /* owned, may be NULL */
	time_t created_at, sent_at;
};
void store_outbox_clear(struct store_outbox *o);
/* Whether key is taken.  When it is, *created_r is false and *id_r its row.
 * When not, *created_r is true and *id_r the id store_outbox_insert will
 * give the row if it is the next outbox insert of this transaction (an id
 * is needed before the row exists: the subject tag and the reply token
 * carry it). */
int store_outbox_claim(struct store *store, const char *key, int64_t *id_r, bool *created_r,
                       const char **error_r);
/* Inserts o as row o->id (from store_outbox_claim), in one write: key,
 * kind, program, recipients, message_id, subject, data/len, status,
 * last_error, person_id, thread_type, thread_ref, next_attempt_at and
 * created_at are taken from o; the rest start empty. */
int store_outbox_insert(struct store *store, const struct store_outbox *o, const char **error_r);
/* Queued rows due at now, oldest first, at most limit. */
int store_outbox_due(struct store *store, time_t now, size_t limit, struct store_outbox **list_r,
                     size_t *n_r, const char **error_r);
int store_outbox_mark_sent(struct store *store, int64_t id, int code, time_t at,
                           const char **error_r);
int store_outbox_mark_retry(struct store *store, int64_t id, int code, const char *error,
                            time_t next_attempt_at, const char **error_r);
int store_outbox_mark_failed(struct store *store, int64_t id, int code, const char *error,
                             const char **error_r);
/* The outgoing message with this Message-ID; *found_r false when none. */
int store_outbox_by_message_id(struct store *store, const char *message_id, bool *found_r,
                               struct store_outbox *o_r, const char **error_r);
int store_outbox_get(struct store *store, int64_t id, bool *found_r, struct store_outbox *o_r,
                     const char **error_r);
/* Whether an email with this idempotency key was ever queued. */
int store_outbox_has_key(struct store *store, const char *key, bool *found_r, const char **error_r);
/* Failed rows not yet reported to the coordinator; marks them when mark. */
int store_outbox_unreported_failures(struct store *store, bool mark, struct store_outbox **list_r,
                                     size_t *n_r, const char **error_r);
int store_outbox_count(struct store *store, const char *status, long *count_r,
                       const char **error_r);
/* The earliest next_attempt_at of queued rows; 0 when none. */
int store_outbox_next_due(struct store *store, time_t *at_r, const char **error_r);
void store_outbox_list_free(struct store_outbox **list, size_t n);

/* ---- answers to one address a day (loop protection) ---- */
/* Increments the day's count of answers to address, for proven or unproven
 * mail (counted apart), unless it already reached max; *allowed_r says
 * whether an answer may go. */
int store_auto_answer_take(struct store *store, const char *address, const char *day, bool proven,
                           int max, bool *allowed_r, const char **error_r);

/* ---- contacts: roles that come without a form (a supervisor) ---- */
/* Records that person has role ("supervisor") in program; idempotent. */
int store_participation_add(struct store *store, const char *program, int64_t person_id,
                            const char *role, time_t at, const char **error_r);
/* Every role of the person, "supervisor (cdss), mentee (cdss)", or NULL when
 * none; the caller owns *roles_r. */
int store_person_roles(struct store *store, int64_t person_id, char **roles_r,
                       const char **error_r);

/* Whether the person takes part in program (any role but a contact's):
 * someone mentord only wrote to (a questionnaire) does not. */
int store_person_in_program(struct store *store, const char *program, int64_t person_id, bool *in_r,
                            const char **error_r);

/* ---- confirmations: requests waiting for the sender's confirming reply ---- */
struct store_confirmation {
	int64_t id;
	char *program; /* owned, may be NULL */
	int64_t message_row;
	int64_t person_id; /* who must confirm, at their registered address */
	char *summary;     /* owned: what was understood, may be NULL */
	char *status;      /* owned: waiting | confirmed | cancelled | expired */
	time_t created_at;
};
void store_confirmation_clear(struct store_confirmation *c);
/* One request per message: a replay finds the earlier one (*created_r
 * false). */
int store_confirmation_create(struct store *store, const char *program, int64_t message_row,
                              int64_t person_id, const char *summary, time_t at, int64_t *id_r,
                              bool *created_r, const char **error_r);
int store_confirmation_get(struct store *store, int64_t id, bool *found_r,
                           struct store_confirmation *c_r, const char **error_r);
int store_confirmation_decide(struct store *store, int64_t id, const char *status,
                              int64_t decided_row, time_t at, const char **error_r);

/* ---- messages that could not be stored ---- */
/* How often storing mailbox/uidvalidity/uid failed (0: never). */
int store_ingest_failure_count(struct store *store, const char *mailbox, uint32_t uidvalidity,
                               uint32_t uid, long *count_r, const char **error_r);
/* Whether any message of mailbox/uidvalidity failed to be stored. */
int store_ingest_failure_any(struct store *store, const char *mailbox, uint32_t uidvalidity,
                             bool *any_r, const char **error_r);
/* Counts one more failure, in its own transaction (the caller's rolled
 * back). */
int store_ingest_failure_note(struct store *store, const char *mailbox, uint32_t uidvalidity,
                              uint32_t uid, const char *error, const char **error_r);

/* ---- corrections (mentorctl) ---- */
/* Outbox rows with status (NULL: any) addressed to `to` (NULL: anyone;
 * one of the recipients, case-insensitive), newest first, at most limit. */
int store_outbox_list(struct store *store, const char *status, const char *to, size_t limit,
                      struct store_outbox **list_r, size_t *n_r, const char **error_r);
/* The email with idempotency key `key`; *found_r false when none. */
int store_outbox_by_key(struct store *store, const char *key, bool *found_r,
                        struct store_outbox *o_r, const char **error_r);
/* A failed email queued again as it was composed (attempts from 0, due at
 * now, to be reported again if it fails); *done_r false when row id is not
 * failed or was never composed (an address known to bounce). */
int store_outbox_requeue(struct store *store, int64_t id, time_t now, bool *done_r,
                         const char **error_r);
/* A held or quarantined message set aside for good (status dismissed,
 * reason the given one, no longer reported); *done_r false when it is
 * neither held nor quarantined. */
int store_message_dismiss(struct store *store, int64_t id, const char *reason, bool *done_r,
                          const char **error_r);
int store_person_set_name(struct store *store, int64_t id, const char *name, const char **error_r);
/* Changes a person's address, unless another person has it: then *taken_r
 * is that person's id and nothing changes (0 otherwise). */
int store_person_set_email(struct store *store, int64_t id, const char *email, int64_t *taken_r,
                           const char **error_r);
/* Sets one field of a participation: "division", "topics", "availability",
 * "note" (text; NULL clears), "level", "capacity" (number), "supervisor",
 * "director" (a person id in number; 0 clears).  Any other field is an
 * error. */
int store_participation_set_field(struct store *store, int64_t id, const char *field,
                                  const char *text, int64_t number, const char **error_r);

/* The value of field (its canonical key) in answer answer_id; *found_r
 * false when the answer has none.  The caller owns *value_r (may be
 * NULL). */
int store_answer_value_get(struct store *store, int64_t answer_id, const char *field, bool *found_r,
                           char **value_r, const char **error_r);
/* Sets field's value in answer answer_id (adds it when missing); number
 * when has_number. */
int store_answer_value_set(struct store *store, int64_t answer_id, const char *field,
                           const char *value, long number, bool has_number, const char **error_r);

/* ---- audit: who corrected what, when, from what to what ---- */
struct store_audit {
	int64_t id;
	time_t at;
	char *who;       /* "mentorctl (alice)" */
	char *action;    /* "person set", "outbox retry", ... */
	char *object;    /* "person 12", "outbox 40" */
	char *field;     /* may be NULL */
	char *old_value; /* may be NULL */
	char *new_value; /* may be NULL */
};
/* Strings borrowed when adding, owned when read. */
void store_audit_clear(struct store_audit *a);
int store_audit_add(struct store *store, const struct store_audit *a, const char **error_r);
/* Every row about object (NULL: all), oldest first. */
int store_audit_list(struct store *store, const char *object, struct store_audit **list_r,
                     size_t *n_r, const char **error_r);
void store_audit_list_free(struct store_audit **list, size_t n);

/* ---- import (mentorctl) ---- */
/* The participation recording person's contact role (a supervisor) in
 * program; *id_r 0 when there is none. */
int store_contact_find(struct store *store, const char *program, int64_t person_id,
                       const char *role, int64_t *id_r, const char **error_r);

/* ---- reports and exports: evaluation counts, health (issue 12) ---- */
/* One evaluation item: what was requested of (or answered by) one person
 * for one form and round about one group (or meeting).  Strings borrowed
 * for the call; name may be NULL.  Counts and times only: never the
 * answers' values. */
struct store_evaluation_item {
	const char *program, *form, *round, *email, *name;
	int64_t group_id, event_id, person_id; /* 0: none */
	time_t requested_at;                   /* the first request's email; 0: never requested */
	time_t received_at;                    /* the first answer; 0: none yet */
	long answers;                          /* answers recorded (0 when none) */
};
typedef int store_evaluation_item_fn(void *ctx, const struct store_evaluation_item *it);
/* Every item of program (NULL: all), ordered by program, group, person,
 * form, round; fn returns -1 to stop.  Includes every answer form (the
 * caller keeps the evaluations). */
int store_evaluation_items(struct store *store, const char *program, store_evaluation_item_fn *fn,
                           void *ctx, const char **error_r);
/* Emails of program (or of none) that failed for good, and messages held
 * or quarantined for it (or for none), reported or not. */
int store_health_mail_counts(struct store *store, const char *program, long *failed_r, long *held_r,
                             const char **error_r);

/* ---- surveys: answers as rows, response counts ---- */
/* One value of one answer (field and value NULL for an answer with no
 * values); strings borrowed for the call, name may be NULL. */
struct store_answer_row {
	int64_t answer_id;
	const char *email, *name;
	time_t created_at;
	const char *field, *value;
};
typedef int store_answer_row_fn(void *ctx, const struct store_answer_row *r);
/* Every value of every answer to form in program, an answer's values
 * together, answers in the order recorded; fn returns -1 to stop. */
int store_answer_rows(struct store *store, const char *program, const char *form,
                      store_answer_row_fn *fn, void *ctx, const char **error_r);
/* The people asked to answer form (a first request queued or sent) and
 * the people who answered it. */
int store_form_responses(struct store *store, const char *program, const char *form, long *asked_r,
                         long *answered_r, const char **error_r);
/* The people whose answer to form gives field the value (case ignored). */
int store_answer_value_count(struct store *store, const char *program, const char *form,
                             const char *field, const char *value, long *count_r,
                             const char **error_r);

/* ---- sessions: a program's dated sessions (events of kind "session",
 * no group, topic the session's name) ---- */
/* The event of program's session name (*id_r 0 when none and !create);
 * with create, made when missing and its date kept up to date. */
int store_session_event(struct store *store, const char *program, const char *name,
                        const char *date, time_t at, bool create, int64_t *id_r,
                        const char **error_r);
/* Outbox rows whose key starts with prefix (an invitation's versions). */
int store_outbox_count_prefix(struct store *store, const char *prefix, long *count_r,
                              const char **error_r);
/* The person's latest answer to the session's invitation ("accepted",
 * "declined", "tentative"), answers with form "rsvp"; *rsvp_r NULL when
 * none, else owned by the caller. */
int store_session_rsvp(struct store *store, int64_t event_id, int64_t person_id, char **rsvp_r,
                       const char **error_r);
/* The attendance recorded ("present", "absent"); *status_r NULL when none,
 * else owned by the caller. */
int store_session_attendance(struct store *store, int64_t event_id, int64_t person_id,
                             char **status_r, const char **error_r);
/* Sessions of program before date (YYYY-MM-DD) whose attendance was taken
 * (held), and how many of them person was recorded present at. */
int store_session_record(struct store *store, const char *program, int64_t person_id,
                         const char *before, long *held_r, long *attended_r, const char **error_r);

#endif
