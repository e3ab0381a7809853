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

/* ---- applications: a person's role in a program (mentee or mentor) ---- */
struct store_application {
	int64_t id;
	char *program; /* owned */
	int64_t person_id;
	char *email; /* owned (joined from people) */
	char *name;  /* owned (joined from people), may be NULL */
	char *role;  /* owned: mentee | mentor */
	char *
	    status; /* owned: applied | accepted | declined | pool | matched | withdrawn | active */
	char *division, *classification; /* owned, may be NULL */
	long years_manager;              /* -1 when unknown */
	char *supervisor_email;          /* owned, may be NULL */
	char *competencies; /* owned: needs (mentee) or strengths (mentor), ", " joined */
	char *availability; /* owned, may be NULL */
	char *motivation;   /* owned, may be NULL */
	long capacity;      /* mentor: how many mentees; 0 unknown */
	char *answers;      /* owned: the form as understood */
	time_t created_at;
	char *note; /* owned: decision note or reason, may be NULL */
};
void store_application_clear(struct store_application *a);
/* Inserts, or updates the existing (program, person, role) row's answers
 * when it is still pending; *created_r says which. */
int store_application_save(struct store *store, const struct store_application *a, int64_t *id_r,
                           bool *created_r, const char **error_r);
/* *found_r false when there is none. */
int store_application_get(struct store *store, int64_t id, bool *found_r,
                          struct store_application *a_r, const char **error_r);
int store_application_set_status(struct store *store, int64_t id, const char *status,
                                 const char *note, time_t at, const char **error_r);
/* Applications of a program (NULL: all) with role (NULL: any) and status
 * (NULL: any), ordered by id. */
int store_application_list(struct store *store, const char *program, const char *role,
                           const char *status, struct store_application **list_r, size_t *n_r,
                           const char **error_r);
int store_application_count(struct store *store, const char *program, const char *role,
                            const char *status, long *count_r, const char **error_r);
void store_application_list_free(struct store_application **list, size_t n);

/* ---- matches: mentor-mentee partnerships ---- */
struct store_match {
	int64_t id;
	char *program; /* owned */
	int64_t mentee_app, mentor_app;
	int64_t mentee_person, mentor_person;
	char *mentee_email, *mentee_name; /* owned */
	char *mentor_email, *mentor_name; /* owned */
	char *status;                     /* owned: active | ended */
	time_t created_at, ended_at;
};
void store_match_clear(struct store_match *m);
int store_match_create(struct store *store, const char *program, int64_t mentee_app,
                       int64_t mentor_app, time_t at, int64_t *id_r, const char **error_r);
int store_match_get(struct store *store, int64_t id, bool *found_r, struct store_match *m_r,
                    const char **error_r);
int store_match_end(struct store *store, int64_t id, const char *reason, time_t at,
                    const char **error_r);
/* Matches of a program (NULL: all), active only or all, ordered by id. */
int store_match_list(struct store *store, const char *program, bool active_only,
                     struct store_match **list_r, size_t *n_r, const char **error_r);
/* Active matches in which person takes part. */
int store_match_for_person(struct store *store, int64_t person_id, struct store_match **list_r,
                           size_t *n_r, const char **error_r);
/* Active matches of a mentor application. */
int store_match_count_for_mentor(struct store *store, int64_t mentor_app, long *count_r,
                                 const char **error_r);
void store_match_list_free(struct store_match **list, size_t n);

/* ---- meetings ---- */
/* Records a meeting; a second report of the same match and date changes
 * nothing and sets *created_r false. */
int store_meeting_add(struct store *store, int64_t match_id, const char *date, int minutes,
                      int64_t reported_by, int64_t message_row, time_t at, bool *created_r,
                      const char **error_r);
/* Meetings of a match whose date starts with month ("YYYY-MM"). */
/* An evaluation of partnership match_id by person_id, sent in message
 * row message_row; answers is the form's summary, confidential (never in
 * mail to supervisors, never in reports).  *created_r is false when that
 * message was recorded already (a replay). */
int store_evaluation_add(struct store *store, int64_t match_id, int64_t person_id,
                         int64_t message_row, const char *answers, time_t at, bool *created_r,
                         const char **error_r);
/* The evaluations partnership match_id has received. */
int store_evaluation_count(struct store *store, int64_t match_id, long *count_r,
                           const char **error_r);
int store_meeting_count(struct store *store, int64_t match_id, const char *month, long *count_r,
                        long *minutes_r, const char **error_r);

/* Calls fn once per partnership and month that has meetings, ordered by
 * partnership then month ("YYYY-MM", borrowed for the call); fn returns -1
 * to stop.  One pass, for reports over every partnership. */
typedef int store_meeting_month_fn(void *ctx, int64_t match_id, const char *month, long count,
                                   long minutes);
int store_meeting_months(struct store *store, store_meeting_month_fn *fn, void *ctx,
                         const char **error_r);

/* The scheduler's view of one active partnership. */
struct store_cadence {
	int64_t id;
	time_t created_at;
	long meetings_this_month, meetings_last_month;
	bool reminded; /* the outbox holds prefix + id + suffix: reminded this month */
};
/* Every active partnership of program with its meeting counts in month and
 * prev_month ("YYYY-MM"), ordered by id.  A NULL month is not counted (0),
 * nor, for month, the reminder; counting is most of the cost.  The caller
 * frees *list_r. */
int store_match_cadence(struct store *store, const char *program, const char *month,
                        const char *prev_month, const char *reminder_key_prefix,
                        const char *reminder_key_suffix, struct store_cadence **list_r, size_t *n_r,
                        const char **error_r);

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

/* ---- participations: roles that come without an application ---- */
/* Records that person has role ("supervisor") in program; idempotent. */
int store_participation_add(struct store *store, const char *program, int64_t person_id,
                            const char *role, time_t at, const char **error_r);
/* Every role of the person, "supervisor (cdss), mentee (cdss)", or NULL when
 * none; the caller owns *roles_r. */
int store_person_roles(struct store *store, int64_t person_id, char **roles_r,
                       const char **error_r);

/* Whether the person has an application (as mentee or mentor) in program:
 * someone mentord only wrote to (a questionnaire) has none. */
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
/* Counts one more failure, in its own transaction (the caller's rolled
 * back). */
int store_ingest_failure_note(struct store *store, const char *mailbox, uint32_t uidvalidity,
                              uint32_t uid, const char *error, const char **error_r);

#endif
