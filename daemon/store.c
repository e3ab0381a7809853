/*
 * store: see include/store.h.
 *
 * Statements are prepared on first use and kept in a small cache keyed by
 * the address of their SQL text (every SQL string is a literal in this
 * file), so each is compiled once per connection.
 */
#include "store.h"
#include "log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_CACHE_MAX 160
/* Messages larger than this are written in pieces of this size. */
#define STORE_BLOB_PIECE (256u * 1024)

struct stmt_entry {
	const char *sql; /* borrowed literal */
	sqlite3_stmt *stmt;
};

/* How long a statement waits for a lock another process holds before it
 * fails with "database is locked" (the daemon then retries later). */
#define STORE_BUSY_TIMEOUT_MS 10000
/* After this long waiting, say so once in the log. */
#define STORE_BUSY_LOG_MS 1000

struct store {
	sqlite3 *db;
	struct stmt_entry cache[STMT_CACHE_MAX];
	size_t ncache;
	char *path;         /* owned: for log lines */
	long busy_start_ms; /* monotonic start of the current wait for a lock */
	bool busy_logged;   /* the current wait was logged */
};

/* Migrations: entry i brings the schema from version i to i + 1. */
static const char *const migrations[] = {
    /* 0 -> 1: the walking skeleton. */
    "CREATE TABLE mailboxes ("
    "  name TEXT PRIMARY KEY,"
    "  uidvalidity INTEGER NOT NULL,"
    "  last_uid INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  mailbox TEXT, uidvalidity INTEGER, uid INTEGER,"
    "  message_id TEXT,"
    "  sha256 TEXT NOT NULL,"
    "  raw BLOB NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  from_addr TEXT, subject TEXT,"
    "  kind TEXT NOT NULL DEFAULT 'message',"
    "  status TEXT NOT NULL DEFAULT 'new',"
    "  reason TEXT, program TEXT,"
    "  reported INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (mailbox, uidvalidity, uid));"
    "CREATE INDEX messages_message_id ON messages (message_id);"
    "CREATE UNIQUE INDEX messages_sha256 ON messages (sha256);"
    "CREATE INDEX messages_status ON messages (status);"
    "CREATE TABLE people ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  name TEXT,"
    "  undeliverable INTEGER NOT NULL DEFAULT 0,"
    "  undeliverable_reason TEXT,"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE applications ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  role TEXT NOT NULL CHECK (role IN ('mentee', 'mentor')),"
    "  status TEXT NOT NULL,"
    "  division TEXT, classification TEXT, years_manager INTEGER,"
    "  supervisor_email TEXT, competencies TEXT, availability TEXT,"
    "  motivation TEXT, capacity INTEGER, answers TEXT,"
    "  created_at INTEGER NOT NULL, decided_at INTEGER, note TEXT,"
    "  UNIQUE (program, person_id, role));"
    "CREATE TABLE matches ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  mentee_app INTEGER NOT NULL REFERENCES applications (id),"
    "  mentor_app INTEGER NOT NULL REFERENCES applications (id),"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  created_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT);"
    "CREATE TABLE meetings ("
    "  id INTEGER PRIMARY KEY,"
    "  match_id INTEGER NOT NULL REFERENCES matches (id),"
    "  date TEXT NOT NULL,"
    "  minutes INTEGER NOT NULL DEFAULT 0,"
    "  reported_by INTEGER, message_row INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (match_id, date));"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL, program TEXT,"
    "  recipients TEXT NOT NULL,"
    "  person_id INTEGER, thread_type TEXT, thread_ref INTEGER,"
    "  message_id TEXT UNIQUE, subject TEXT, data BLOB,"
    "  status TEXT NOT NULL DEFAULT 'queued',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  last_error TEXT, smtp_code INTEGER,"
    "  created_at INTEGER NOT NULL, sent_at INTEGER,"
    "  reported INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_due ON outbox (status, next_attempt_at);"
    "CREATE TABLE auto_answers ("
    "  address TEXT NOT NULL COLLATE NOCASE,"
    "  day TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY (address, day));",
    /* 1 -> 2: evaluations (form evaluation).  One row per message, so a
     * replayed message is not counted twice; answers stay confidential. */
    "CREATE TABLE evaluations ("
    "  id INTEGER PRIMARY KEY,"
    "  match_id INTEGER NOT NULL REFERENCES matches (id),"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  message_row INTEGER NOT NULL UNIQUE,"
    "  answers TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX evaluations_match ON evaluations (match_id);",
    /* 2 -> 3: the program engine and the trust model.
     *
     * The engine: a program's people are participations (program, person,
     * role, status, and what their join form bound: level, division,
     * topics, availability, capacity, supervisor, director); every form
     * submission is an answer (form, round, respondent, subject, group,
     * event) with its values; pairs and teams are groups with members;
     * meetings, sessions and milestones are events.  The CDSS tables move
     * over with their ids (an application's id is its participation's, a
     * match's its group's, so "accept 12" and "end 7" keep meaning the
     * same), and views with their old names keep old queries working.
     *
     * The trust model: confirmations (a message whose sender did not prove
     * their address waits for the registered address's confirming reply);
     * ingest_failures (how often a message failed to be stored, so one
     * that never can be is set aside); answer_counts (answers a day to an
     * address, proven and unproven apart); messages.truncated (only the
     * header block is kept); message_raw (the raw bytes as the last column
     * of a table of their own, so SQLite writes a large message from an
     * incremental blob instead of building the row in memory). */
    "CREATE TABLE participations ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  role TEXT NOT NULL,"
    "  kind TEXT NOT NULL DEFAULT 'participant',"
    "  status TEXT NOT NULL,"
    "  level INTEGER, division TEXT, topics TEXT, availability TEXT,"
    "  capacity INTEGER NOT NULL DEFAULT 0,"
    "  supervisor_id INTEGER REFERENCES people (id),"
    "  director_id INTEGER REFERENCES people (id),"
    "  answer_id INTEGER,"
    "  created_at INTEGER NOT NULL, decided_at INTEGER, note TEXT,"
    "  UNIQUE (program, person_id, role));"
    "CREATE INDEX participations_status ON participations (program, role, status);"
    "CREATE INDEX participations_person ON participations (person_id);"
    "CREATE TABLE answers ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  form TEXT NOT NULL,"
    "  round TEXT NOT NULL DEFAULT '',"
    "  respondent_id INTEGER NOT NULL REFERENCES people (id),"
    "  subject_id INTEGER REFERENCES people (id),"
    "  participation_id INTEGER REFERENCES participations (id),"
    "  group_id INTEGER, event_id INTEGER,"
    "  message_row INTEGER,"
    "  summary TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX answers_message ON answers (message_row, form) "
    "  WHERE message_row IS NOT NULL;"
    "CREATE INDEX answers_form ON answers (program, form, round, respondent_id);"
    "CREATE INDEX answers_group ON answers (group_id);"
    "CREATE TABLE answer_values ("
    "  answer_id INTEGER NOT NULL REFERENCES answers (id),"
    "  field TEXT NOT NULL, value TEXT, number INTEGER,"
    "  PRIMARY KEY (answer_id, field));"
    "CREATE TABLE groups ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'active',"
    "  label TEXT, reason TEXT,"
    "  created_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT);"
    "CREATE INDEX groups_status ON groups (program, status);"
    "CREATE TABLE group_members ("
    "  group_id INTEGER NOT NULL REFERENCES groups (id),"
    "  participation_id INTEGER NOT NULL REFERENCES participations (id),"
    "  role TEXT NOT NULL,"
    "  position INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (group_id, participation_id));"
    "CREATE INDEX group_members_participation ON group_members (participation_id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT NOT NULL,"
    "  group_id INTEGER REFERENCES groups (id),"
    "  kind TEXT NOT NULL,"
    "  date TEXT NOT NULL,"
    "  minutes INTEGER NOT NULL DEFAULT 0,"
    "  topic TEXT, facilitator_id INTEGER REFERENCES people (id),"
    "  reported_by INTEGER, message_row INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX events_group_date ON events (group_id, kind, date);"
    "CREATE TABLE attendance ("
    "  event_id INTEGER NOT NULL REFERENCES events (id),"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  status TEXT NOT NULL,"
    "  PRIMARY KEY (event_id, person_id));"
    "CREATE TABLE approvals ("
    "  id INTEGER PRIMARY KEY,"
    "  participation_id INTEGER NOT NULL REFERENCES participations (id),"
    "  approver TEXT NOT NULL,"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  status TEXT NOT NULL DEFAULT 'waiting',"
    "  created_at INTEGER NOT NULL, decided_at INTEGER, message_row INTEGER, note TEXT,"
    "  UNIQUE (participation_id, approver));"
    /* The CDSS data, ids kept. */
    "INSERT INTO participations (id, program, person_id, role, status, level, division, "
    "  topics, availability, capacity, created_at, decided_at, note) "
    "  SELECT id, program, person_id, role, status, years_manager, division, competencies, "
    "  availability, coalesce(capacity, 0), created_at, decided_at, note FROM applications;"
    "INSERT OR IGNORE INTO people (email, created_at) SELECT DISTINCT lower(supervisor_email), "
    "  strftime('%s','now') FROM applications "
    "  WHERE supervisor_email IS NOT NULL AND supervisor_email <> '';"
    "UPDATE participations SET supervisor_id = (SELECT p.id FROM people p JOIN applications a "
    "  ON p.email = lower(a.supervisor_email) WHERE a.id = participations.id);"
    /* Version 2 kept an accepted mentor 'accepted' while they had places;
     * the engine calls the second role of a pair, available, 'active'. */
    "UPDATE participations SET status = 'active' WHERE role = 'mentor' "
    "  AND status IN ('accepted', 'matched');"
    "INSERT INTO answers (id, program, form, respondent_id, participation_id, summary, "
    "  created_at) SELECT id, program, CASE role WHEN 'mentor' THEN 'mentor' "
    "  ELSE 'application' END, person_id, id, answers, created_at FROM applications;"
    "UPDATE participations SET answer_id = id;"
    "INSERT INTO answer_values (answer_id, field, value) SELECT id, 'Classification', "
    "  classification FROM applications WHERE classification IS NOT NULL;"
    "INSERT INTO answer_values (answer_id, field, value) SELECT id, "
    "  'Why do you want to join', motivation FROM applications WHERE motivation IS NOT NULL;"
    "INSERT INTO answer_values (answer_id, field, value) SELECT id, 'Supervisor email', "
    "  supervisor_email FROM applications WHERE supervisor_email IS NOT NULL;"
    "INSERT INTO participations (program, person_id, role, kind, status, created_at) "
    "  SELECT DISTINCT a.program, a.supervisor_id, 'supervisor', 'contact', 'active', "
    "  min(a.created_at) FROM participations a WHERE a.supervisor_id IS NOT NULL "
    "  GROUP BY a.program, a.supervisor_id;"
    "INSERT INTO groups (id, program, kind, status, created_at, ended_at, end_reason) "
    "  SELECT id, program, 'pair', status, created_at, ended_at, end_reason FROM matches;"
    "INSERT INTO group_members (group_id, participation_id, role, position) "
    "  SELECT id, mentee_app, 'mentee', 0 FROM matches;"
    "INSERT INTO group_members (group_id, participation_id, role, position) "
    "  SELECT id, mentor_app, 'mentor', 1 FROM matches;"
    "INSERT INTO events (id, program, group_id, kind, date, minutes, reported_by, message_row, "
    "  created_at) SELECT g.id, m.program, g.match_id, 'meeting', g.date, g.minutes, "
    "  g.reported_by, g.message_row, g.created_at FROM meetings g "
    "  JOIN matches m ON m.id = g.match_id;"
    "INSERT INTO answers (program, form, respondent_id, group_id, message_row, summary, "
    "  created_at) SELECT m.program, 'evaluation', e.person_id, e.match_id, e.message_row, "
    "  e.answers, e.created_at FROM evaluations e JOIN matches m ON m.id = e.match_id;"
    /* Mail keeps its keys' meaning: the CDSS program's steps are called
     * reminder, followup and digest; a match's introduction is its
     * group's, a mentor's welcome their participation's (so neither goes
     * twice). */
    "UPDATE outbox SET key = 'introduction:group=' || substr(key, 20) "
    "  WHERE key LIKE 'introduction:match=%';"
    "UPDATE outbox SET key = 'welcome:participation=' || substr(key, 28) "
    "  WHERE key LIKE 'mentor-welcome:application=%';"
    "UPDATE outbox SET key = 'step=reminder:group=' || substr(key, 24) "
    "  WHERE key LIKE 'meeting-reminder:match=%';"
    "UPDATE outbox SET key = 'step=followup:program=' || substr(key, 26) "
    "  WHERE key LIKE 'cadence-followup:program=%';"
    "UPDATE outbox SET key = 'step=digest:program=' || substr(key, 16) "
    "  WHERE key LIKE 'digest:program=%';"
    "UPDATE outbox SET thread_type = 'group' WHERE thread_type = 'match';"
    "DROP TABLE evaluations;"
    "DROP TABLE meetings;"
    "DROP TABLE matches;"
    "DROP TABLE applications;"
    /* The old names, for queries written against them. */
    "CREATE VIEW applications AS SELECT p.id, p.program, p.person_id, p.role, p.status, "
    "  p.division, (SELECT v.value FROM answer_values v WHERE v.answer_id = p.answer_id "
    "  AND v.field = 'Classification') AS classification, p.level AS years_manager, "
    "  (SELECT s.email FROM people s WHERE s.id = p.supervisor_id) AS supervisor_email, "
    "  p.topics AS competencies, p.availability, p.capacity, "
    "  (SELECT a.summary FROM answers a WHERE a.id = p.answer_id) AS answers, "
    "  p.created_at, p.decided_at, p.note FROM participations p "
    "  WHERE p.kind = 'participant';"
    "CREATE VIEW matches AS SELECT g.id, g.program, "
    "  (SELECT m.participation_id FROM group_members m WHERE m.group_id = g.id "
    "  AND m.role = 'mentee') AS mentee_app, (SELECT m.participation_id FROM group_members m "
    "  WHERE m.group_id = g.id AND m.role = 'mentor') AS mentor_app, g.status, g.created_at, "
    "  g.ended_at, g.end_reason FROM groups g WHERE g.kind = 'pair';"
    "CREATE VIEW meetings AS SELECT id, group_id AS match_id, date, minutes, reported_by, "
    "  message_row, created_at FROM events WHERE kind = 'meeting';"
    "CREATE VIEW evaluations AS SELECT id, group_id AS match_id, respondent_id AS person_id, "
    "  message_row, summary AS answers, created_at FROM answers WHERE form = 'evaluation';"
    /* The trust model. */
    "CREATE TABLE confirmations ("
    "  id INTEGER PRIMARY KEY,"
    "  program TEXT,"
    "  message_row INTEGER NOT NULL UNIQUE REFERENCES messages (id),"
    "  person_id INTEGER NOT NULL REFERENCES people (id),"
    "  summary TEXT,"
    "  status TEXT NOT NULL DEFAULT 'waiting',"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER, decided_row INTEGER);"
    "CREATE TABLE ingest_failures ("
    "  mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, last_error TEXT,"
    "  PRIMARY KEY (mailbox, uidvalidity, uid));"
    "ALTER TABLE messages ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;"
    "DROP TABLE auto_answers;"
    "CREATE TABLE answer_counts ("
    "  address TEXT NOT NULL COLLATE NOCASE,"
    "  day TEXT NOT NULL,"
    "  proven INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY (address, day, proven));"
    "CREATE TABLE message_raw ("
    "  id INTEGER PRIMARY KEY REFERENCES messages (id),"
    "  raw BLOB NOT NULL);"
    "INSERT INTO message_raw (id, raw) SELECT id, raw FROM messages;"
    "ALTER TABLE messages DROP COLUMN raw;",
    /* 3 -> 4: the audit trail of corrections made with mentorctl (a
     * person's address, an application's answers, an email sent again, a
     * held message dismissed): who made each, when, and the value before
     * and after, so that a correction can be seen and undone by hand.
     * object names what changed ("person 12", "participation 7",
     * "outbox 40", "message 9", "group 3"). */
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  field TEXT, old TEXT, new TEXT);"
    "CREATE INDEX audit_object ON audit (object);",
};

static const char *
db_error(struct store *store, const char *what)
{
	return errorf("database: %s: %s", what, sqlite3_errmsg(store->db));
}

static sqlite3_stmt *
stmt_get(struct store *store, const char *sql, const char **error_r)
{
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < store->ncache; i++) {
		if (store->cache[i].sql == sql) {
			st = store->cache[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		*error_r = db_error(store, "prepare");
		return NULL;
	}
	if (store->ncache < STMT_CACHE_MAX) {
		store->cache[store->ncache].sql = sql;
		store->cache[store->ncache].stmt = st;
		store->ncache++;
	} else {
		/* Cannot happen with the statements in this file; keep working. */
		log_warnx("store: statement cache full");
	}
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s == NULL ? NULL : xstrdup((const char *)s);
}

/*
 * Every list the store returns is an array of records read row by row; these
 * two do it for all record types.  read fills a zeroed record from the
 * current row; clear frees what a record owns.
 */
struct row_kind {
	size_t size;
	void (*read)(sqlite3_stmt *st, void *rec);
	void (*clear)(void *rec);
	const char *what; /* for the error message */
};

static void
rows_free(void *list, size_t n, size_t size, void (*clear)(void *rec))
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		clear((char *)list + i * size);
	free(list);
}

static int
rows_collect(struct store *store, sqlite3_stmt *st, const struct row_kind *kind, void **list_r,
             size_t *n_r, const char **error_r)
{
	char *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = xgrow(list, &cap, n + 1, kind->size);
		memset(list + n * kind->size, 0, kind->size);
		kind->read(st, list + n * kind->size);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rows_free(list, n, kind->size, kind->clear);
		*error_r = db_error(store, kind->what);
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

/* Runs a statement that returns no rows. */
static int
step_done(struct store *store, sqlite3_stmt *st, const char *what, const char **error_r)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, what);
		return -1;
	}
	return 0;
}

/* Runs constant SQL text (schema, pragmas, transaction control), one
 * statement after another; never a value from outside. */
static int
exec_sql(struct store *store, const char *sql, const char **error_r)
{
	const char *tail = sql;

	while (*tail != '\0') {
		sqlite3_stmt *st = NULL;
		int rc;

		if (sqlite3_prepare_v2(store->db, tail, -1, &st, &tail) != SQLITE_OK) {
			*error_r = db_error(store, "prepare");
			return -1;
		}
		if (st == NULL)
			break; /* only white space or comments were left */
		do
			rc = sqlite3_step(st);
		while (rc == SQLITE_ROW);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			*error_r = db_error(store, "exec");
			return -1;
		}
	}
	return 0;
}

int
store_schema_version(struct store *store)
{
	sqlite3_stmt *st;
	const char *error;
	int v = -1;

	st = stmt_get(store, "PRAGMA user_version", &error);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

static int
store_migrate(struct store *store, const char **error_r)
{
	int version = store_schema_version(store);
	char pragma[64];

	if (version < 0) {
		*error_r = db_error(store, "reading user_version");
		return -1;
	}
	if ((size_t)version > N_ELEMENTS(migrations)) {
		*error_r = errorf("database schema version %d is newer than this mentord (%zu); "
		                  "upgrade mentord",
		                  version, N_ELEMENTS(migrations));
		return -1;
	}
	for (size_t v = (size_t)version; v < N_ELEMENTS(migrations); v++) {
		if (store_begin(store, error_r) < 0)
			return -1;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", v + 1);
		if (exec_sql(store, migrations[v], error_r) < 0 ||
		    exec_sql(store, pragma, error_r) < 0) {
			store_rollback(store);
			return -1;
		}
		if (store_commit(store, error_r) < 0)
			return -1;
		log_info("database schema migrated to version %zu", v + 1);
	}
	return 0;
}

static long
store_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's busy handler: another connection holds the lock we need.
 * Waits in short naps up to STORE_BUSY_TIMEOUT_MS, and says once in the log
 * who is probably to blame when the wait gets long, so an operator who
 * left a sqlite3 shell in a transaction sees why mentord is stalled.
 * Returning 0 makes the statement fail with SQLITE_BUSY. */
static int
store_busy_handler(void *arg, int count)
{
	struct store *store = arg;
	long now = store_monotonic_ms(), waited;
	struct timespec nap;

	if (count == 0) {
		store->busy_start_ms = now;
		store->busy_logged = false;
	}
	waited = now - store->busy_start_ms;
	if (waited >= STORE_BUSY_TIMEOUT_MS) {
		log_warnx("database %s: still locked by another process after %ld s; giving up "
		          "for now",
		          store->path, waited / 1000);
		return 0;
	}
	if (!store->busy_logged && waited >= STORE_BUSY_LOG_MS) {
		log_warnx("database %s: locked by another process (mentorctl, a backup, an "
		          "open sqlite3 session?); waiting up to %d s",
		          store->path, STORE_BUSY_TIMEOUT_MS / 1000);
		store->busy_logged = true;
	}
	nap.tv_sec = 0;
	nap.tv_nsec = (count < 10 ? (long)(count + 1) : 50L) * 1000000L;
	nanosleep(&nap, NULL);
	return 1;
}

int
store_open(const char *path, struct store **store_r, const char **error_r)
{
	struct store *store = xcalloc(1, sizeof(*store));

	store->path = xstrdup(path);

	if (sqlite3_open_v2(path, &store->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		*error_r = errorf("database %s: %s", path,
		                  store->db ? sqlite3_errmsg(store->db) : "cannot open");
		goto fail;
	}
	/* Another process (mentorctl, a second mentord) may hold the lock for
	 * a moment: wait rather than fail. */
	sqlite3_busy_handler(store->db, store_busy_handler, store);
	if (exec_sql(store, "PRAGMA journal_mode = WAL", error_r) < 0 ||
	    exec_sql(store, "PRAGMA synchronous = NORMAL", error_r) < 0 ||
	    exec_sql(store, "PRAGMA foreign_keys = ON", error_r) < 0 ||
	    /* Savepoints (one per message of a batch, see ingest.h) keep the
	     * pages they may have to undo in a statement journal, which SQLite
	     * otherwise writes to a temporary file past 64 KiB: a write per
	     * page, 12% of ingest.  In memory it is emptied at each RELEASE.
	     * Statements that touch many rows in a transaction say OR FAIL,
	     * so they need no statement journal (see store_message_unreported). */
	    exec_sql(store, "PRAGMA temp_store = MEMORY", error_r) < 0 ||
	    /* Checkpoint every 8192 pages (32 MiB of WAL) rather than 1000:
	     * a busy page (an index root, the mailbox checkpoint) is copied
	     * once per checkpoint, not once per 1000 pages, and each
	     * checkpoint waits for two fsyncs. */
	    exec_sql(store, "PRAGMA wal_autocheckpoint = 8192", error_r) < 0 ||
	    /* 4 MiB of page cache, not 2: most of an ingest batch (up to
	     * 2 MiB of raw bytes, and the index pages it touches) fits, so
	     * SQLite spills fewer dirty pages to the WAL before the COMMIT
	     * and reads fewer index pages back.  8 MiB saved more CPU but
	     * took a 10 MB message past 32 MiB of peak RSS (test_trust). */
	    exec_sql(store, "PRAGMA cache_size = -4096", error_r) < 0)
		goto fail;
	if (store_migrate(store, error_r) < 0)
		goto fail;
	*store_r = store;
	return 0;
fail:
	store_close(&store);
	return -1;
}

void
store_close(struct store **storep)
{
	struct store *store = *storep;

	if (store == NULL)
		return;
	for (size_t i = 0; i < store->ncache; i++)
		sqlite3_finalize(store->cache[i].stmt);
	sqlite3_close(store->db);
	free(store->path);
	free(store);
	*storep = NULL;
}

bool
store_busy(struct store *store)
{
	int code = sqlite3_errcode(store->db);

	return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

int
store_sync(struct store *store, const char **error_r)
{
	sqlite3_file *wal = NULL;
	int rc;

	/* The WAL's own file object, synced through its VFS method as SQLite
	 * would sync it at a checkpoint: with synchronous = NORMAL a COMMIT
	 * writes the WAL but does not wait for the disk. */
	rc = sqlite3_file_control(store->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	if (rc != SQLITE_OK) {
		*error_r = errorf("database %s: cannot reach the write-ahead log (%s)", store->path,
		                  sqlite3_errstr(rc));
		return -1;
	}
	/* Not open: nothing was written through this connection since the
	 * last checkpoint, which synced what it copied. */
	if (wal == NULL || wal->pMethods == NULL)
		return 0;
	rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		*error_r = errorf("database %s: syncing the write-ahead log: %s", store->path,
		                  sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int
store_begin(struct store *store, const char **error_r)
{
	return exec_sql(store, "BEGIN IMMEDIATE", error_r);
}

int
store_commit(struct store *store, const char **error_r)
{
	return exec_sql(store, "COMMIT", error_r);
}

void
store_rollback(struct store *store)
{
	const char *error;

	if (!sqlite3_get_autocommit(store->db) && exec_sql(store, "ROLLBACK", &error) < 0)
		log_warnx("%s", error);
}

/* One statement of constant SQL, prepared once (savepoints come once per
 * message of a batch). */
static int
exec_cached(struct store *store, const char *sql, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, sql, error_r);

	return st == NULL ? -1 : step_done(store, st, sql, error_r);
}

int
store_savepoint(struct store *store, const char **error_r)
{
	return exec_cached(store, "SAVEPOINT message", error_r);
}

int
store_release(struct store *store, const char **error_r)
{
	return exec_cached(store, "RELEASE message", error_r);
}

int
store_rollback_to(struct store *store, const char **error_r)
{
	/* After some errors (disk full, I/O error) SQLite has already rolled
	 * back the whole transaction: the savepoint is gone, and the caller
	 * must not carry on as if the earlier work of the transaction stood. */
	if (sqlite3_get_autocommit(store->db)) {
		*error_r = errorf("database %s: the transaction was rolled back", store->path);
		return -1;
	}
	if (exec_cached(store, "ROLLBACK TO message", error_r) < 0 ||
	    exec_cached(store, "RELEASE message", error_r) < 0)
		return -1;
	return 0;
}

/* ---- mailboxes ---- */

int
store_mailbox_get(struct store *store, const char *mailbox, bool *found_r, uint32_t *uidvalidity_r,
                  uint32_t *last_uid_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT uidvalidity, last_uid FROM mailboxes WHERE name = ?", error_r);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		*uidvalidity_r = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid_r = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading mailbox state");
		return -1;
	}
	return 0;
}

int
store_mailbox_set(struct store *store, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid,
                  const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "INSERT INTO mailboxes (name, uidvalidity, last_uid) "
	             "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
	             "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return step_done(store, st, "saving mailbox state", error_r);
}

/* ---- messages ---- */

void
store_message_clear(struct store_message *m)
{
	free(m->mailbox);
	free(m->message_id);
	free(m->from_addr);
	free(m->subject);
	free(m->kind);
	free(m->status);
	free(m->reason);
	free(m->program);
	memset(m, 0, sizeof(*m));
}

static void
message_clear_any(void *rec)
{
	store_message_clear(rec);
}

void
store_message_list_free(struct store_message **list, size_t n)
{
	rows_free(*list, n, sizeof(**list), message_clear_any);
	*list = NULL;
}

#define MESSAGE_COLUMNS                                                                            \
	"id, mailbox, uidvalidity, uid, message_id, from_addr, subject, kind, status, reason, "    \
	"program, received_at, size, reported, truncated"

static void
message_from_row(sqlite3_stmt *st, void *rec)
{
	struct store_message *m = rec;
	m->id = sqlite3_column_int64(st, 0);
	m->mailbox = col_text(st, 1);
	m->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	m->uid = (uint32_t)sqlite3_column_int64(st, 3);
	m->message_id = col_text(st, 4);
	m->from_addr = col_text(st, 5);
	m->subject = col_text(st, 6);
	m->kind = col_text(st, 7);
	m->status = col_text(st, 8);
	m->reason = col_text(st, 9);
	m->program = col_text(st, 10);
	m->received_at = (time_t)sqlite3_column_int64(st, 11);
	m->size = (size_t)sqlite3_column_int64(st, 12);
	m->reported = sqlite3_column_int(st, 13) != 0;
	m->truncated = sqlite3_column_int(st, 14) != 0;
}

static const struct row_kind message_kind = {sizeof(struct store_message), message_from_row,
                                             message_clear_any, "listing messages"};

static int
single_id(struct store *store, sqlite3_stmt *st, int64_t *id_r, const char **error_r)
{
	int rc = sqlite3_step(st);

	*id_r = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "lookup");
		return -1;
	}
	return 0;
}

int
store_message_find_duplicate(struct store *store, const char *mailbox, uint32_t uidvalidity,
                             uint32_t uid, const char *message_id, const char *sha256,
                             int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st;

	*id_r = 0;
	if (mailbox != NULL) {
		st = stmt_get(store,
		              "SELECT id FROM messages WHERE mailbox = ? AND uidvalidity = ? "
		              "AND uid = ?",
		              error_r);
		if (st == NULL)
			return -1;
		bind_text(st, 1, mailbox);
		sqlite3_bind_int64(st, 2, uidvalidity);
		sqlite3_bind_int64(st, 3, uid);
		if (single_id(store, st, id_r, error_r) < 0 || *id_r != 0)
			return *id_r != 0 ? 0 : -1;
	}
	if (message_id != NULL && *message_id != '\0') {
		st = stmt_get(store, "SELECT id FROM messages WHERE message_id = ? LIMIT 1",
		              error_r);
		if (st == NULL)
			return -1;
		bind_text(st, 1, message_id);
		if (single_id(store, st, id_r, error_r) < 0 || *id_r != 0)
			return *id_r != 0 ? 0 : -1;
	}
	if (sha256 == NULL)
		return 0;
	st = stmt_get(store, "SELECT id FROM messages WHERE sha256 = ?", error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, sha256);
	return single_id(store, st, id_r, error_r);
}

int
store_message_insert(struct store *store, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
                     const char *message_id, const char *sha256, const char *raw, size_t len,
                     time_t received_at, int64_t *id_r, const char **error_r)
{
	return store_message_insert_part(store, mailbox, uidvalidity, uid, message_id, sha256, raw,
	                                 len, len, false, received_at, id_r, error_r);
}

int
store_message_insert_part(struct store *store, const char *mailbox, uint32_t uidvalidity,
                          uint32_t uid, const char *message_id, const char *sha256, const char *raw,
                          size_t len, size_t size, bool truncated, time_t received_at,
                          int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "INSERT INTO messages (mailbox, uidvalidity, uid, message_id, "
	             "sha256, size, received_at, truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	if (mailbox != NULL) {
		sqlite3_bind_int64(st, 2, uidvalidity);
		sqlite3_bind_int64(st, 3, uid);
	}
	bind_text(st, 4, message_id);
	bind_text(st, 5, sha256);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 7, received_at);
	sqlite3_bind_int(st, 8, truncated ? 1 : 0);
	if (step_done(store, st, "storing message", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(store->db);
	st = stmt_get(store, "INSERT INTO message_raw (id, raw) VALUES (?, ?)", error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, *id_r);
	/* A large message is written through an incremental blob, page by
	 * page: bound whole, SQLite would build the row in memory first, one
	 * more copy of the whole message. */
	if (len > STORE_BLOB_PIECE)
		sqlite3_bind_zeroblob64(st, 2, len);
	else
		sqlite3_bind_blob64(st, 2, raw, len, SQLITE_STATIC);
	if (step_done(store, st, "storing message", error_r) < 0)
		return -1;
	if (len > STORE_BLOB_PIECE) {
		sqlite3_blob *blob = NULL;
		int rc =
		    sqlite3_blob_open(store->db, "main", "message_raw", "raw", *id_r, 1, &blob);

		for (size_t off = 0; rc == SQLITE_OK && off < len; off += STORE_BLOB_PIECE) {
			size_t n = len - off < STORE_BLOB_PIECE ? len - off : STORE_BLOB_PIECE;

			rc = sqlite3_blob_write(blob, raw + off, (int)n, (int)off);
		}
		if (blob != NULL && sqlite3_blob_close(blob) != SQLITE_OK && rc == SQLITE_OK)
			rc = SQLITE_ERROR;
		if (rc != SQLITE_OK) {
			*error_r = db_error(store, "storing message");
			return -1;
		}
	}
	return 0;
}

int
store_message_set_result(struct store *store, int64_t id, const char *from_addr,
                         const char *subject, const char *kind, const char *status,
                         const char *reason, const char *program, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "UPDATE messages SET from_addr = ?, subject = ?, kind = ?, "
	             "status = ?, reason = ?, program = ?, reported = 0 WHERE id = ?",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, from_addr);
	bind_text(st, 2, subject);
	bind_text(st, 3, kind);
	bind_text(st, 4, status);
	bind_text(st, 5, reason);
	bind_text(st, 6, program);
	sqlite3_bind_int64(st, 7, id);
	return step_done(store, st, "updating message", error_r);
}

int
store_message_get(struct store *store, int64_t id, struct store_message *m_r, char **raw_r,
                  size_t *len_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT " MESSAGE_COLUMNS ", (SELECT raw FROM message_raw r WHERE r.id = "
	             "messages.id) FROM messages WHERE id = ?",
	             error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		*error_r = rc == SQLITE_DONE ? errorf("no message %lld", (long long)id)
		                             : db_error(store, "reading message");
		return -1;
	}
	message_from_row(st, m_r);
	if (raw_r != NULL) {
		*len_r = (size_t)sqlite3_column_bytes(st, 15);
		*raw_r = xstrndup(sqlite3_column_blob(st, 15) ? sqlite3_column_blob(st, 15) : "",
		                  *len_r);
	}
	sqlite3_reset(st);
	return 0;
}

static int
message_rows(struct store *store, sqlite3_stmt *st, struct store_message **list_r, size_t *n_r,
             const char **error_r)
{
	void *list;

	if (rows_collect(store, st, &message_kind, &list, n_r, error_r) < 0)
		return -1;
	*list_r = list;
	return 0;
}

int
store_message_list(struct store *store, const char *status, size_t limit,
                   struct store_message **list_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT " MESSAGE_COLUMNS " FROM messages "
	                            "WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return message_rows(store, st, list_r, n_r, error_r);
}

int
store_message_unreported(struct store *store, const char *program, bool mark,
                         struct store_message **list_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT " MESSAGE_COLUMNS " FROM messages WHERE reported = 0 "
	                            "AND status IN ('held', 'quarantined') "
	                            "AND (program IS NULL OR program = ?) ORDER BY id",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	if (message_rows(store, st, list_r, n_r, error_r) < 0)
		return -1;
	if (!mark)
		return 0;
	st = stmt_get(store,
	              /* OR FAIL: nothing here can fail a constraint, and without
	               * ABORT's statement journal the pages of every row marked
	               * (megabytes after a backlog, in memory with temp_store =
	               * MEMORY) are not copied first. */
	              "UPDATE OR FAIL messages SET reported = 1 WHERE reported = 0 "
	              "AND status IN ('held', 'quarantined') AND (program IS NULL OR program = ?)",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	return step_done(store, st, "marking messages reported", error_r);
}

/* ---- people ---- */

void
store_person_clear(struct store_person *p)
{
	free(p->email);
	free(p->name);
	free(p->undeliverable_reason);
	memset(p, 0, sizeof(*p));
}

static void
person_clear_any(void *rec)
{
	store_person_clear(rec);
}

void
store_person_list_free(struct store_person **list, size_t n)
{
	rows_free(*list, n, sizeof(**list), person_clear_any);
	*list = NULL;
}

static void
person_from_row(sqlite3_stmt *st, void *rec)
{
	struct store_person *p = rec;
	p->id = sqlite3_column_int64(st, 0);
	p->email = col_text(st, 1);
	p->name = col_text(st, 2);
	p->undeliverable = sqlite3_column_int(st, 3) != 0;
	p->undeliverable_reason = col_text(st, 4);
}

static const struct row_kind person_kind = {sizeof(struct store_person), person_from_row,
                                            person_clear_any, "listing people"};

int
store_person_upsert(struct store *store, const char *email, const char *name, int64_t *id_r,
                    const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO people (email, name) VALUES (?1, ?2) "
	                            "ON CONFLICT (email) DO UPDATE SET name = coalesce(?2, name) "
	                            "RETURNING id",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, email);
	bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		*error_r = db_error(store, "saving person");
		return -1;
	}
	*id_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int
person_one(struct store *store, sqlite3_stmt *st, bool *found_r, struct store_person *p_r,
           const char **error_r)
{
	int rc = sqlite3_step(st);

	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		person_from_row(st, p_r);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading person");
		return -1;
	}
	return 0;
}

#define PERSON_COLUMNS "id, email, name, undeliverable, undeliverable_reason"

int
store_person_by_email(struct store *store, const char *email, bool *found_r,
                      struct store_person *p_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT " PERSON_COLUMNS " FROM people WHERE email = ?", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, email);
	return person_one(store, st, found_r, p_r, error_r);
}

int
store_person_get(struct store *store, int64_t id, struct store_person *p_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT " PERSON_COLUMNS " FROM people WHERE id = ?", error_r);
	bool found;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (person_one(store, st, &found, p_r, error_r) < 0)
		return -1;
	if (!found) {
		*error_r = errorf("no person %lld", (long long)id);
		return -1;
	}
	return 0;
}

int
store_person_set_undeliverable(struct store *store, int64_t id, const char *reason,
                               const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "UPDATE people SET undeliverable = ?1 IS NOT NULL, undeliverable_reason = ?1 "
	             "WHERE id = ?2",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, reason);
	sqlite3_bind_int64(st, 2, id);
	return step_done(store, st, "marking address undeliverable", error_r);
}

int
store_person_list(struct store *store, struct store_person **list_r, size_t *n_r,
                  const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT " PERSON_COLUMNS " FROM people ORDER BY id", error_r);
	void *list;

	if (st == NULL)
		return -1;
	if (rows_collect(store, st, &person_kind, &list, n_r, error_r) < 0)
		return -1;
	*list_r = list;
	return 0;
}

/* ---- participations: a person's role in a program ---- */

void
store_participation_clear(struct store_participation *p)
{
	free(p->program);
	free(p->email);
	free(p->name);
	free(p->role);
	free(p->status);
	free(p->division);
	free(p->topics);
	free(p->availability);
	free(p->supervisor_email);
	free(p->director_email);
	free(p->answers);
	free(p->note);
	memset(p, 0, sizeof(*p));
}

static void
participation_clear_any(void *rec)
{
	store_participation_clear(rec);
}

void
store_participation_list_free(struct store_participation **list, size_t n)
{
	rows_free(*list, n, sizeof(**list), participation_clear_any);
	*list = NULL;
}

#define PARTICIPATION_SELECT                                                                       \
	"SELECT a.id, a.program, a.person_id, p.email, p.name, a.role, a.status, a.level, "        \
	"a.division, a.topics, a.availability, a.capacity, a.supervisor_id, a.director_id, "       \
	"(SELECT s.email FROM people s WHERE s.id = a.supervisor_id), "                            \
	"(SELECT d.email FROM people d WHERE d.id = a.director_id), a.answer_id, "                 \
	"(SELECT x.summary FROM answers x WHERE x.id = a.answer_id), a.created_at, "               \
	"a.decided_at, a.note, p.undeliverable "                                                   \
	"FROM participations a JOIN people p ON p.id = a.person_id "

static void
participation_from_row(sqlite3_stmt *st, void *rec)
{
	struct store_participation *a = rec;

	a->id = sqlite3_column_int64(st, 0);
	a->program = col_text(st, 1);
	a->person_id = sqlite3_column_int64(st, 2);
	a->email = col_text(st, 3);
	a->name = col_text(st, 4);
	a->role = col_text(st, 5);
	a->status = col_text(st, 6);
	a->level =
	    sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(st, 7);
	a->division = col_text(st, 8);
	a->topics = col_text(st, 9);
	a->availability = col_text(st, 10);
	a->capacity = (long)sqlite3_column_int64(st, 11);
	a->supervisor_id = sqlite3_column_int64(st, 12);
	a->director_id = sqlite3_column_int64(st, 13);
	a->supervisor_email = col_text(st, 14);
	a->director_email = col_text(st, 15);
	a->answer_id = sqlite3_column_int64(st, 16);
	a->answers = col_text(st, 17);
	a->created_at = (time_t)sqlite3_column_int64(st, 18);
	a->decided_at = (time_t)sqlite3_column_int64(st, 19);
	a->note = col_text(st, 20);
	a->undeliverable = sqlite3_column_int(st, 21) != 0;
}

static const struct row_kind participation_kind = {sizeof(struct store_participation),
                                                   participation_from_row, participation_clear_any,
                                                   "listing participations"};

static int
participation_rows(struct store *store, sqlite3_stmt *st, struct store_participation **list_r,
                   size_t *n_r, const char **error_r)
{
	void *list;

	if (rows_collect(store, st, &participation_kind, &list, n_r, error_r) < 0)
		return -1;
	*list_r = list;
	return 0;
}

static int
participation_one(struct store *store, sqlite3_stmt *st, bool *found_r,
                  struct store_participation *p_r, const char **error_r)
{
	struct store_participation *list;
	size_t n;

	if (participation_rows(store, st, &list, &n, error_r) < 0)
		return -1;
	*found_r = n > 0;
	if (n > 0) {
		*p_r = list[0];
		memset(&list[0], 0, sizeof(list[0]));
	}
	store_participation_list_free(&list, n);
	return 0;
}

int
store_participation_save(struct store *store, const struct store_participation *a, int64_t *id_r,
                         bool *created_r, const char **error_r)
{
	sqlite3_stmt *st;
	int64_t id;

	st = stmt_get(
	    store, "SELECT id FROM participations WHERE program = ? AND person_id = ? AND role = ?",
	    error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, a->program);
	sqlite3_bind_int64(st, 2, a->person_id);
	bind_text(st, 3, a->role);
	if (single_id(store, st, &id, error_r) < 0)
		return -1;
	*created_r = id == 0;
	if (id == 0)
		st =
		    stmt_get(store,
		             "INSERT INTO participations (program, person_id, role, status, level, "
		             "division, topics, availability, capacity, supervisor_id, "
		             "director_id, answer_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		             "?7, ?8, ?9, ?10, ?11, ?12, ?13)",
		             error_r);
	else
		/* A corrected form replaces what it bound; a decision stays. */
		st = stmt_get(
		    store,
		    "UPDATE participations SET level = ?5, division = ?6, topics = ?7, "
		    "availability = ?8, capacity = ?9, supervisor_id = ?10, "
		    "director_id = ?11, answer_id = coalesce(?12, answer_id) WHERE id = ?14",
		    error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, a->program);
	sqlite3_bind_int64(st, 2, a->person_id);
	bind_text(st, 3, a->role);
	bind_text(st, 4, a->status);
	if (a->level >= 0)
		sqlite3_bind_int64(st, 5, a->level);
	bind_text(st, 6, a->division);
	bind_text(st, 7, a->topics);
	bind_text(st, 8, a->availability);
	sqlite3_bind_int64(st, 9, a->capacity);
	if (a->supervisor_id > 0)
		sqlite3_bind_int64(st, 10, a->supervisor_id);
	if (a->director_id > 0)
		sqlite3_bind_int64(st, 11, a->director_id);
	if (a->answer_id > 0)
		sqlite3_bind_int64(st, 12, a->answer_id);
	if (id == 0)
		sqlite3_bind_int64(st, 13, a->created_at);
	else
		sqlite3_bind_int64(st, 14, id);
	if (step_done(store, st, "saving a participation", error_r) < 0)
		return -1;
	*id_r = id == 0 ? sqlite3_last_insert_rowid(store->db) : id;
	return 0;
}

int
store_participation_get(struct store *store, int64_t id, bool *found_r,
                        struct store_participation *p_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, PARTICIPATION_SELECT "WHERE a.id = ?", error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return participation_one(store, st, found_r, p_r, error_r);
}

int
store_participation_find(struct store *store, const char *program, int64_t person_id,
                         const char *role, bool *found_r, struct store_participation *p_r,
                         const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            PARTICIPATION_SELECT "WHERE a.program = ? AND a.person_id = ? "
	                                                 "AND (?3 IS NULL OR a.role = ?3) "
	                                                 "AND a.kind = 'participant' ORDER BY a.id",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, person_id);
	bind_text(st, 3, role);
	return participation_one(store, st, found_r, p_r, error_r);
}

int
store_participation_list(struct store *store, const char *program, const char *role,
                         const char *status, struct store_participation **list_r, size_t *n_r,
                         const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    PARTICIPATION_SELECT "WHERE a.kind = 'participant' AND (?1 IS NULL OR a.program = ?1) "
	                         "AND (?2 IS NULL OR a.role = ?2) AND (?3 IS NULL OR "
	                         "a.status = ?3) ORDER BY a.id",
	    error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, role);
	bind_text(st, 3, status);
	return participation_rows(store, st, list_r, n_r, error_r);
}

int
store_participation_of_person(struct store *store, int64_t person_id,
                              struct store_participation **list_r, size_t *n_r,
                              const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    PARTICIPATION_SELECT "WHERE a.kind = 'participant' AND a.person_id = ? ORDER BY a.id",
	    error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, person_id);
	return participation_rows(store, st, list_r, n_r, error_r);
}

int
store_participation_count(struct store *store, const char *program, const char *role,
                          const char *status, long *count_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT count(*) FROM participations WHERE kind = 'participant' "
	             "AND (?1 IS NULL OR program = ?1) AND (?2 IS NULL OR role = ?2) "
	             "AND (?3 IS NULL OR status = ?3)",
	             error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, role);
	bind_text(st, 3, status);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_participation_set_status(struct store *store, int64_t id, const char *status,
                               const char *note, time_t at, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store, "UPDATE participations SET status = ?, note = ?, decided_at = ? WHERE id = ?",
	    error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	bind_text(st, 2, note);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_int64(st, 4, id);
	return step_done(store, st, "updating a participation", error_r);
}

/* ---- answers: every form submission ---- */

int
store_answer_add(struct store *store, const struct store_answer *a,
                 const struct store_answer_value *values, size_t nvalues, int64_t *id_r,
                 bool *created_r, const char **error_r)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (a->message_row > 0) {
		st = stmt_get(store, "SELECT id FROM answers WHERE message_row = ? AND form = ?",
		              error_r);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, a->message_row);
		bind_text(st, 2, a->form);
		if (single_id(store, st, &id, error_r) < 0)
			return -1;
		if (id != 0) {
			/* The same message again (a replay): recorded already. */
			*id_r = id;
			*created_r = false;
			return 0;
		}
	}
	st = stmt_get(store,
	              "INSERT INTO answers (program, form, round, respondent_id, subject_id, "
	              "participation_id, group_id, event_id, message_row, summary, created_at) "
	              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, a->program);
	bind_text(st, 2, a->form);
	bind_text(st, 3, a->round != NULL ? a->round : "");
	sqlite3_bind_int64(st, 4, a->respondent_id);
	if (a->subject_id > 0)
		sqlite3_bind_int64(st, 5, a->subject_id);
	if (a->participation_id > 0)
		sqlite3_bind_int64(st, 6, a->participation_id);
	if (a->group_id > 0)
		sqlite3_bind_int64(st, 7, a->group_id);
	if (a->event_id > 0)
		sqlite3_bind_int64(st, 8, a->event_id);
	if (a->message_row > 0)
		sqlite3_bind_int64(st, 9, a->message_row);
	bind_text(st, 10, a->summary);
	sqlite3_bind_int64(st, 11, a->created_at);
	if (step_done(store, st, "saving an answer", error_r) < 0)
		return -1;
	id = sqlite3_last_insert_rowid(store->db);
	st = stmt_get(store,
	              "INSERT OR REPLACE INTO answer_values (answer_id, field, value, number) "
	              "VALUES (?, ?, ?, ?)",
	              error_r);
	if (st == NULL)
		return -1;
	for (size_t i = 0; i < nvalues; i++) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, values[i].field);
		bind_text(st, 3, values[i].value);
		if (values[i].has_number)
			sqlite3_bind_int64(st, 4, values[i].number);
		if (step_done(store, st, "saving an answer", error_r) < 0)
			return -1;
	}
	*id_r = id;
	*created_r = true;
	return 0;
}

int
store_answer_count(struct store *store, const char *program, const char *form, const char *round,
                   int64_t respondent_id, int64_t group_id, int64_t event_id, long *count_r,
                   const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*) FROM answers WHERE program = ?1 AND form = ?2 "
	                            "AND (?3 IS NULL OR round = ?3) AND (?4 = 0 OR "
	                            "respondent_id = ?4) AND (?5 = 0 OR group_id = ?5) AND "
	                            "(?6 = 0 OR event_id = ?6)",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	bind_text(st, 3, round);
	sqlite3_bind_int64(st, 4, respondent_id);
	sqlite3_bind_int64(st, 5, group_id);
	sqlite3_bind_int64(st, 6, event_id);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_answer_latest(struct store *store, const char *program, const char *form, const char *round,
                    int64_t respondent_id, int64_t subject_id, int64_t *id_r, const char **error_r)
{
	/* The latest by the message it came from (a replay of an older one
	 * does not win); an operator's entry, with none, is the oldest. */
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT id FROM answers WHERE program = ?1 AND form = ?2 AND "
	                            "round = ?3 AND subject_id = ?5 AND (respondent_id = ?4 OR "
	                            "(?4 = 0 AND respondent_id <> ?5)) "
	                            "ORDER BY coalesce(message_row, 0) DESC, id DESC LIMIT 1",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	bind_text(st, 3, round != NULL ? round : "");
	sqlite3_bind_int64(st, 4, respondent_id);
	sqlite3_bind_int64(st, 5, subject_id);
	return single_id(store, st, id_r, error_r);
}

int
store_answer_supersede(struct store *store, int64_t answer_id, bool *later_r, long *replaced_r,
                       const char **error_r)
{
	/* The same program, form, round and respondent as answer_id; ordered
	 * by the message (an operator's entry, with none, is the oldest). */
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*) FROM answers o, answers a WHERE a.id = ?1 AND "
	                            "o.id <> a.id AND o.program = a.program AND o.form = a.form "
	                            "AND o.round = a.round AND o.respondent_id = a.respondent_id "
	                            "AND coalesce(o.message_row, 0) > coalesce(a.message_row, 0)",
	                            error_r);
	int64_t n;

	*later_r = false;
	*replaced_r = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, answer_id);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	if (n > 0) {
		*later_r = true;
		st = stmt_get(store, "DELETE FROM answer_values WHERE answer_id = ?1", error_r);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, answer_id);
		if (step_done(store, st, "dropping a superseded answer", error_r) < 0)
			return -1;
		st = stmt_get(store, "DELETE FROM answers WHERE id = ?1", error_r);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, answer_id);
		return step_done(store, st, "dropping a superseded answer", error_r);
	}
	st = stmt_get(store,
	              "DELETE FROM answer_values WHERE answer_id IN (SELECT o.id FROM answers o, "
	              "answers a WHERE a.id = ?1 AND o.id <> a.id AND o.program = a.program AND "
	              "o.form = a.form AND o.round = a.round AND o.respondent_id = "
	              "a.respondent_id)",
	              error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, answer_id);
	if (step_done(store, st, "replacing an earlier answer", error_r) < 0)
		return -1;
	st = stmt_get(store,
	              "DELETE FROM answers WHERE id IN (SELECT o.id FROM answers o, answers a "
	              "WHERE a.id = ?1 AND o.id <> a.id AND o.program = a.program AND o.form = "
	              "a.form AND o.round = a.round AND o.respondent_id = a.respondent_id)",
	              error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, answer_id);
	if (step_done(store, st, "replacing an earlier answer", error_r) < 0)
		return -1;
	*replaced_r = (long)sqlite3_changes(store->db);
	return 0;
}

/* ---- groups: pairs and teams ---- */

void
store_group_clear(struct store_group *g)
{
	free(g->program);
	free(g->kind);
	free(g->status);
	free(g->label);
	free(g->reason);
	free(g->end_reason);
	for (size_t i = 0; i < g->nmembers; i++) {
		free(g->members[i].role);
		free(g->members[i].email);
		free(g->members[i].name);
	}
	free(g->members);
	memset(g, 0, sizeof(*g));
}

void
store_group_list_free(struct store_group **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_group_clear(&(*list)[i]);
	free(*list);
	*list = NULL;
}

/* Groups and their members from one query ordered by group then position:
 * the group columns first (0-8), then the member's (9-14), member columns
 * NULL for a group without members. */
#define GROUP_SELECT                                                                               \
	"SELECT g.id, g.program, g.kind, g.status, g.label, g.reason, g.created_at, g.ended_at, "  \
	"g.end_reason, m.participation_id, a.person_id, m.role, p.email, p.name, m.position "      \
	"FROM groups g LEFT JOIN group_members m ON m.group_id = g.id "                            \
	"LEFT JOIN participations a ON a.id = m.participation_id "                                 \
	"LEFT JOIN people p ON p.id = a.person_id "

static int
group_rows(struct store *store, sqlite3_stmt *st, struct store_group **list_r, size_t *n_r,
           const char **error_r)
{
	struct store_group *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		struct store_group *g;

		if (n == 0 || list[n - 1].id != id) {
			list = xgrow(list, &cap, n + 1, sizeof(*list));
			g = &list[n++];
			memset(g, 0, sizeof(*g));
			g->id = id;
			g->program = col_text(st, 1);
			g->kind = col_text(st, 2);
			g->status = col_text(st, 3);
			g->label = col_text(st, 4);
			g->reason = col_text(st, 5);
			g->created_at = (time_t)sqlite3_column_int64(st, 6);
			g->ended_at = (time_t)sqlite3_column_int64(st, 7);
			g->end_reason = col_text(st, 8);
		}
		g = &list[n - 1];
		if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
			struct store_member *m;

			g->members = xrealloc(g->members, (g->nmembers + 1) * sizeof(*g->members));
			m = &g->members[g->nmembers++];
			m->participation_id = sqlite3_column_int64(st, 9);
			m->person_id = sqlite3_column_int64(st, 10);
			m->role = col_text(st, 11);
			m->email = col_text(st, 12);
			m->name = col_text(st, 13);
			m->position = sqlite3_column_int(st, 14);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_group_list_free(&list, n);
		*error_r = db_error(store, "listing groups");
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

int
store_group_create(struct store *store, const char *program, const char *kind, const char *status,
                   const char *reason, time_t at, int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "INSERT INTO groups (program, kind, status, reason, created_at) "
	             "VALUES (?, ?, ?, ?, ?)",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, kind);
	bind_text(st, 3, status);
	bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, at);
	if (step_done(store, st, "saving a group", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(store->db);
	return 0;
}

int
store_group_add_member(struct store *store, int64_t group_id, int64_t participation_id,
                       const char *role, int position, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT OR REPLACE INTO group_members (group_id, "
	                            "participation_id, role, position) VALUES (?, ?, ?, ?)",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, participation_id);
	bind_text(st, 3, role);
	sqlite3_bind_int(st, 4, position);
	return step_done(store, st, "adding a group member", error_r);
}

int
store_group_remove_member(struct store *store, int64_t group_id, int64_t participation_id,
                          const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "DELETE FROM group_members WHERE group_id = ? AND participation_id = ?",
	             error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, participation_id);
	return step_done(store, st, "removing a group member", error_r);
}

int
store_group_get(struct store *store, int64_t id, bool *found_r, struct store_group *g_r,
                const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store, GROUP_SELECT "WHERE g.id = ? ORDER BY g.id, m.position, m.rowid", error_r);
	struct store_group *list;
	size_t n;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (group_rows(store, st, &list, &n, error_r) < 0)
		return -1;
	*found_r = n > 0;
	if (n > 0) {
		*g_r = list[0];
		memset(&list[0], 0, sizeof(list[0]));
	}
	store_group_list_free(&list, n);
	return 0;
}

int
store_group_list(struct store *store, const char *program, const char *kind, const char *status,
                 struct store_group **list_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             GROUP_SELECT "WHERE (?1 IS NULL OR g.program = ?1) AND (?2 IS "
	                          "NULL OR g.kind = ?2) AND (?3 IS NULL OR "
	                          "g.status = ?3) ORDER BY g.id, m.position, m.rowid",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, kind);
	bind_text(st, 3, status);
	return group_rows(store, st, list_r, n_r, error_r);
}

int
store_group_of_person(struct store *store, int64_t person_id, const char *status,
                      struct store_group **list_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            GROUP_SELECT "WHERE g.id IN (SELECT m2.group_id FROM "
	                                         "group_members m2 JOIN participations a2 ON a2.id "
	                                         "= m2.participation_id WHERE a2.person_id = ?1) "
	                                         "AND (?2 IS NULL OR g.status = ?2) "
	                                         "ORDER BY g.id, m.position, m.rowid",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, person_id);
	bind_text(st, 2, status);
	return group_rows(store, st, list_r, n_r, error_r);
}

int
store_group_set_status(struct store *store, int64_t id, const char *status, const char *reason,
                       time_t at, const char **error_r)
{
	bool ending = strcmp(status, "ended") == 0 || strcmp(status, "completed") == 0;
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE groups SET status = ?1, end_reason = CASE WHEN ?4 "
	                            "THEN ?2 ELSE end_reason END, ended_at = CASE WHEN ?4 THEN ?3 "
	                            "ELSE ended_at END WHERE id = ?5",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_int(st, 4, ending ? 1 : 0);
	sqlite3_bind_int64(st, 5, id);
	return step_done(store, st, "updating a group", error_r);
}

int
store_group_set_label(struct store *store, int64_t id, const char *label, const char *reason,
                      const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "UPDATE groups SET label = ?, reason = ? WHERE id = ?", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, label);
	bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, id);
	return step_done(store, st, "updating a group", error_r);
}

int
store_group_count_for_participation(struct store *store, int64_t participation_id,
                                    const char *status, long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*) FROM group_members m JOIN groups g ON g.id = "
	                            "m.group_id WHERE m.participation_id = ?1 AND g.status = ?2",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, participation_id);
	bind_text(st, 2, status);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_participation_count_with_places(struct store *store, const char *program, const char *role,
                                      long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    "SELECT count(*) FROM participations p WHERE p.kind = 'participant' AND p.program = ?1 "
	    "AND p.role = ?2 AND p.status = 'active' AND (SELECT count(*) FROM group_members m "
	    "JOIN groups g ON g.id = m.group_id WHERE m.participation_id = p.id AND g.status = "
	    "'active') < max(p.capacity, 1)",
	    error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, role);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_group_pairs_seen(struct store *store, const char *program, struct store_id_pair **list_r,
                       size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT DISTINCT a.person_id, b.person_id FROM group_members x "
	                            "JOIN group_members y ON y.group_id = x.group_id AND "
	                            "y.participation_id > x.participation_id "
	                            "JOIN groups g ON g.id = x.group_id "
	                            "JOIN participations a ON a.id = x.participation_id "
	                            "JOIN participations b ON b.id = y.participation_id "
	                            "WHERE g.program = ? AND g.status <> 'proposed'",
	                            error_r);
	struct store_id_pair *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = xgrow(list, &cap, n + 1, sizeof(*list));
		list[n].a = sqlite3_column_int64(st, 0);
		list[n].b = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		*error_r = db_error(store, "reading past groups");
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

/* ---- events: meetings, sessions, milestones ---- */

int
store_event_add(struct store *store, const struct store_event *e, int64_t *id_r, bool *created_r,
                const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO events (program, group_id, kind, date, minutes, "
	                            "topic, facilitator_id, reported_by, message_row, created_at) "
	                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	                            "ON CONFLICT (group_id, kind, date) DO NOTHING",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, e->program);
	if (e->group_id > 0)
		sqlite3_bind_int64(st, 2, e->group_id);
	bind_text(st, 3, e->kind);
	bind_text(st, 4, e->date);
	sqlite3_bind_int(st, 5, e->minutes);
	bind_text(st, 6, e->topic);
	if (e->facilitator_id > 0)
		sqlite3_bind_int64(st, 7, e->facilitator_id);
	if (e->reported_by > 0)
		sqlite3_bind_int64(st, 8, e->reported_by);
	if (e->message_row > 0)
		sqlite3_bind_int64(st, 9, e->message_row);
	sqlite3_bind_int64(st, 10, e->created_at);
	if (step_done(store, st, "saving an event", error_r) < 0)
		return -1;
	*created_r = sqlite3_changes(store->db) > 0;
	if (*created_r) {
		*id_r = sqlite3_last_insert_rowid(store->db);
		return 0;
	}
	st = stmt_get(store, "SELECT id FROM events WHERE group_id IS ? AND kind = ? AND date = ?",
	              error_r);
	if (st == NULL)
		return -1;
	if (e->group_id > 0)
		sqlite3_bind_int64(st, 1, e->group_id);
	bind_text(st, 2, e->kind);
	bind_text(st, 3, e->date);
	return single_id(store, st, id_r, error_r);
}

void
store_event_clear(struct store_event *e)
{
	free(e->program);
	free(e->kind);
	free(e->date);
	free(e->topic);
	memset(e, 0, sizeof(*e));
}

int
store_event_get(struct store *store, int64_t id, bool *found_r, struct store_event *e_r,
                const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT id, program, group_id, kind, date, minutes, topic, "
	                            "facilitator_id, reported_by, message_row, created_at "
	                            "FROM events WHERE id = ?",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		e_r->id = sqlite3_column_int64(st, 0);
		e_r->program = col_text(st, 1);
		e_r->group_id = sqlite3_column_int64(st, 2);
		e_r->kind = col_text(st, 3);
		e_r->date = col_text(st, 4);
		e_r->minutes = sqlite3_column_int(st, 5);
		e_r->topic = col_text(st, 6);
		e_r->facilitator_id = sqlite3_column_int64(st, 7);
		e_r->reported_by = sqlite3_column_int64(st, 8);
		e_r->message_row = sqlite3_column_int64(st, 9);
		e_r->created_at = (time_t)sqlite3_column_int64(st, 10);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading an event");
		return -1;
	}
	return 0;
}

int
store_event_attend(struct store *store, int64_t event_id, int64_t person_id, const char *status,
                   const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO attendance (event_id, person_id, status) VALUES "
	                            "(?, ?, ?) ON CONFLICT (event_id, person_id) DO UPDATE SET "
	                            "status = excluded.status",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, event_id);
	sqlite3_bind_int64(st, 2, person_id);
	bind_text(st, 3, status);
	return step_done(store, st, "recording attendance", error_r);
}

int
store_event_count(struct store *store, int64_t group_id, const char *kind, const char *month,
                  long *count_r, long *minutes_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*), coalesce(sum(minutes), 0) FROM events "
	                            "WHERE group_id = ?1 AND kind = ?2 AND (?3 IS NULL OR "
	                            "(date >= ?3 || '-01' AND date <= ?3 || '-31'))",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, month);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count_r = (long)sqlite3_column_int64(st, 0);
		if (minutes_r != NULL)
			*minutes_r = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		*error_r = db_error(store, "counting events");
		return -1;
	}
	return 0;
}

int
store_event_attended(struct store *store, int64_t group_id, const char *kind, int64_t person_id,
                     long *count_r, const char **error_r)
{
	/* A meeting counts as attended unless someone recorded otherwise. */
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*) FROM events e WHERE e.group_id = ?1 AND "
	                            "e.kind = ?2 AND coalesce((SELECT t.status FROM attendance t "
	                            "WHERE t.event_id = e.id AND t.person_id = ?3), 'present') = "
	                            "'present'",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	bind_text(st, 2, kind);
	sqlite3_bind_int64(st, 3, person_id);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_event_absences(struct store *store, int64_t group_id, const char *kind, const char *month,
                     long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(*) FROM attendance t JOIN events e ON e.id = "
	                            "t.event_id WHERE e.group_id = ?1 AND e.kind = ?2 AND "
	                            "substr(e.date, 1, 7) = ?3 AND t.status = 'absent'",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, month);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_event_list(struct store *store, int64_t group_id, const char *kind,
                 struct store_event **list_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT id, program, group_id, kind, date, minutes, topic, "
	             "facilitator_id, reported_by, message_row, created_at FROM events "
	             "WHERE group_id = ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY date, id",
	             error_r);
	struct store_event *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, group_id);
	bind_text(st, 2, kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event *e;

		list = xgrow(list, &cap, n + 1, sizeof(*list));
		e = &list[n++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->program = col_text(st, 1);
		e->group_id = sqlite3_column_int64(st, 2);
		e->kind = col_text(st, 3);
		e->date = col_text(st, 4);
		e->minutes = sqlite3_column_int(st, 5);
		e->topic = col_text(st, 6);
		e->facilitator_id = sqlite3_column_int64(st, 7);
		e->reported_by = sqlite3_column_int64(st, 8);
		e->message_row = sqlite3_column_int64(st, 9);
		e->created_at = (time_t)sqlite3_column_int64(st, 10);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_event_list_free(&list, n);
		*error_r = db_error(store, "listing events");
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

void
store_event_list_free(struct store_event **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_event_clear(&(*list)[i]);
	free(*list);
	*list = NULL;
}

/* One pass over a program's active groups of a kind for the scheduler:
 * the counts come from the (group_id, kind, date) index, and the reminder
 * key is looked up in the outbox's unique key index, so the cost grows
 * linearly with the groups. */
int
store_group_cadence(struct store *store, const char *program, const char *kind, const char *month,
                    const char *prev_month, const char *reminder_key_prefix,
                    const char *reminder_key_suffix, struct store_cadence **list_r, size_t *n_r,
                    const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT g.id, g.created_at, "
	             "CASE WHEN ?2 IS NULL THEN 0 ELSE (SELECT count(*) FROM events e "
	             "  WHERE e.group_id = g.id AND e.kind = 'meeting' AND e.date >= ?2 || '-01' "
	             "  AND e.date <= ?2 || '-31') END, "
	             "CASE WHEN ?3 IS NULL THEN 0 ELSE (SELECT count(*) FROM events e "
	             "  WHERE e.group_id = g.id AND e.kind = 'meeting' AND e.date >= ?3 || '-01' "
	             "  AND e.date <= ?3 || '-31') END, "
	             "CASE WHEN ?2 IS NULL OR ?4 IS NULL THEN 0 ELSE "
	             "  EXISTS (SELECT 1 FROM outbox o WHERE o.key = ?4 || g.id || ?5) END "
	             "FROM groups g WHERE g.program = ?1 AND g.kind = ?6 AND g.status = 'active' "
	             "ORDER BY g.id",
	             error_r);
	struct store_cadence *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, month);
	bind_text(st, 3, prev_month);
	bind_text(st, 4, reminder_key_prefix);
	bind_text(st, 5, reminder_key_suffix);
	bind_text(st, 6, kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = xgrow(list, &cap, n + 1, sizeof(*list));
		list[n].id = sqlite3_column_int64(st, 0);
		list[n].created_at = (time_t)sqlite3_column_int64(st, 1);
		list[n].meetings_this_month = (long)sqlite3_column_int64(st, 2);
		list[n].meetings_last_month = (long)sqlite3_column_int64(st, 3);
		list[n].reminded = sqlite3_column_int(st, 4) != 0;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(list);
		*error_r = db_error(store, "counting meetings per group");
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

int
store_meeting_months(struct store *store, store_meeting_month_fn *fn, void *ctx,
                     const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT group_id, substr(date, 1, 7), count(*), "
	                            "coalesce(sum(minutes), 0) FROM events WHERE kind = 'meeting' "
	                            "AND group_id IS NOT NULL "
	                            "GROUP BY group_id, substr(date, 1, 7) "
	                            "ORDER BY group_id, substr(date, 1, 7)",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *month = (const char *)sqlite3_column_text(st, 1);

		if (fn(ctx, sqlite3_column_int64(st, 0), month != NULL ? month : "",
		       (long)sqlite3_column_int64(st, 2), (long)sqlite3_column_int64(st, 3)) < 0) {
			sqlite3_reset(st);
			*error_r = errorf("reading meetings per month: stopped by the caller");
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading meetings per month");
		return -1;
	}
	return 0;
}

/* ---- approvals: who must agree before a participation is accepted ---- */

void
store_approval_clear(struct store_approval *a)
{
	free(a->approver);
	free(a->status);
	free(a->email);
	free(a->note);
	memset(a, 0, sizeof(*a));
}

void
store_approval_list_free(struct store_approval **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_approval_clear(&(*list)[i]);
	free(*list);
	*list = NULL;
}

int
store_approval_request(struct store *store, int64_t participation_id, const char *approver,
                       int64_t person_id, time_t at, int64_t *id_r, bool *created_r,
                       const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO approvals (participation_id, approver, person_id, "
	                            "created_at) VALUES (?, ?, ?, ?) "
	                            "ON CONFLICT (participation_id, approver) DO NOTHING",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, participation_id);
	bind_text(st, 2, approver);
	sqlite3_bind_int64(st, 3, person_id);
	sqlite3_bind_int64(st, 4, at);
	if (step_done(store, st, "asking for an approval", error_r) < 0)
		return -1;
	*created_r = sqlite3_changes(store->db) > 0;
	st = stmt_get(store, "SELECT id FROM approvals WHERE participation_id = ? AND approver = ?",
	              error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, participation_id);
	bind_text(st, 2, approver);
	return single_id(store, st, id_r, error_r);
}

int
store_approval_list(struct store *store, const char *program, int64_t participation_id,
                    const char *status, struct store_approval **list_r, size_t *n_r,
                    const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT v.id, v.participation_id, v.approver, v.person_id, "
	                            "v.status, v.created_at, v.decided_at, p.email, v.note "
	                            "FROM approvals v JOIN people p ON p.id = v.person_id "
	                            "JOIN participations a ON a.id = v.participation_id "
	                            "WHERE (?1 IS NULL OR a.program = ?1) AND (?2 = 0 OR "
	                            "v.participation_id = ?2) AND (?3 IS NULL OR v.status = ?3) "
	                            "ORDER BY v.id",
	                            error_r);
	struct store_approval *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, participation_id);
	bind_text(st, 3, status);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_approval *a;

		list = xgrow(list, &cap, n + 1, sizeof(*list));
		a = &list[n++];
		memset(a, 0, sizeof(*a));
		a->id = sqlite3_column_int64(st, 0);
		a->participation_id = sqlite3_column_int64(st, 1);
		a->approver = col_text(st, 2);
		a->person_id = sqlite3_column_int64(st, 3);
		a->status = col_text(st, 4);
		a->created_at = (time_t)sqlite3_column_int64(st, 5);
		a->decided_at = (time_t)sqlite3_column_int64(st, 6);
		a->email = col_text(st, 7);
		a->note = col_text(st, 8);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_approval_list_free(&list, n);
		*error_r = db_error(store, "listing approvals");
		return -1;
	}
	*list_r = list;
	*n_r = n;
	return 0;
}

int
store_approval_decide(struct store *store, int64_t id, const char *status, const char *note,
                      int64_t message_row, time_t at, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE approvals SET status = ?, note = ?, message_row = ?, "
	                            "decided_at = ? WHERE id = ?",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	bind_text(st, 2, note);
	if (message_row > 0)
		sqlite3_bind_int64(st, 3, message_row);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_int64(st, 5, id);
	return step_done(store, st, "recording an approval", error_r);
}

/* ---- outbox ---- */

void
store_outbox_clear(struct store_outbox *o)
{
	free(o->key);
	free(o->kind);
	free(o->program);
	free(o->recipients);
	free(o->message_id);
	free(o->subject);
	free(o->data);
	free(o->status);
	free(o->last_error);
	free(o->thread_type);
	memset(o, 0, sizeof(*o));
}

static void
outbox_clear_any(void *rec)
{
	store_outbox_clear(rec);
}

void
store_outbox_list_free(struct store_outbox **list, size_t n)
{
	rows_free(*list, n, sizeof(**list), outbox_clear_any);
	*list = NULL;
}

#define OUTBOX_SELECT                                                                              \
	"SELECT id, key, kind, program, recipients, message_id, subject, data, status, "           \
	"attempts, next_attempt_at, last_error, smtp_code, person_id, thread_ref, thread_type, "   \
	"created_at, sent_at FROM outbox "

static void
outbox_from_row(sqlite3_stmt *st, void *rec)
{
	struct store_outbox *o = rec;
	const void *blob;

	o->id = sqlite3_column_int64(st, 0);
	o->key = col_text(st, 1);
	o->kind = col_text(st, 2);
	o->program = col_text(st, 3);
	o->recipients = col_text(st, 4);
	o->message_id = col_text(st, 5);
	o->subject = col_text(st, 6);
	blob = sqlite3_column_blob(st, 7);
	o->len = (size_t)sqlite3_column_bytes(st, 7);
	o->data = xstrndup(blob != NULL ? blob : "", o->len);
	o->status = col_text(st, 8);
	o->attempts = sqlite3_column_int(st, 9);
	o->next_attempt_at = (time_t)sqlite3_column_int64(st, 10);
	o->last_error = col_text(st, 11);
	o->smtp_code = sqlite3_column_int(st, 12);
	o->person_id = sqlite3_column_int64(st, 13);
	o->thread_ref = sqlite3_column_int64(st, 14);
	o->thread_type = col_text(st, 15);
	o->created_at = (time_t)sqlite3_column_int64(st, 16);
	o->sent_at = (time_t)sqlite3_column_int64(st, 17);
}

static const struct row_kind outbox_kind = {sizeof(struct store_outbox), outbox_from_row,
                                            outbox_clear_any, "listing outbox"};

static int
outbox_rows(struct store *store, sqlite3_stmt *st, struct store_outbox **list_r, size_t *n_r,
            const char **error_r)
{
	void *list;

	if (rows_collect(store, st, &outbox_kind, &list, n_r, error_r) < 0)
		return -1;
	*list_r = list;
	return 0;
}

int
store_outbox_claim(struct store *store, const char *key, int64_t *id_r, bool *created_r,
                   const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, "SELECT id FROM outbox WHERE key = ?", error_r);
	int64_t id;

	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	if (single_id(store, st, &id, error_r) < 0)
		return -1;
	if (id != 0) {
		*id_r = id;
		*created_r = false;
		return 0;
	}
	/* What SQLite itself would pick for a rowid: the writer holds the lock,
	 * so nothing else can take it first. */
	st = stmt_get(store, "SELECT COALESCE(MAX(id), 0) + 1 FROM outbox", error_r);
	if (st == NULL || single_id(store, st, &id, error_r) < 0)
		return -1;
	*id_r = id;
	*created_r = true;
	return 0;
}

int
store_outbox_insert(struct store *store, const struct store_outbox *o, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "INSERT INTO outbox (id, key, kind, program, recipients, message_id, subject, "
	             "data, status, last_error, person_id, thread_type, thread_ref, "
	             "next_attempt_at, created_at) "
	             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	             error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, o->id);
	bind_text(st, 2, o->key);
	bind_text(st, 3, o->kind);
	bind_text(st, 4, o->program);
	bind_text(st, 5, o->recipients);
	bind_text(st, 6, o->message_id);
	bind_text(st, 7, o->subject);
	if (o->data != NULL)
		sqlite3_bind_blob64(st, 8, o->data, o->len, SQLITE_STATIC);
	bind_text(st, 9, o->status);
	bind_text(st, 10, o->last_error);
	sqlite3_bind_int64(st, 11, o->person_id);
	bind_text(st, 12, o->thread_type);
	sqlite3_bind_int64(st, 13, o->thread_ref);
	sqlite3_bind_int64(st, 14, o->next_attempt_at);
	sqlite3_bind_int64(st, 15, o->created_at);
	return step_done(store, st, "queueing an email", error_r);
}

int
store_outbox_due(struct store *store, time_t now, size_t limit, struct store_outbox **list_r,
                 size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             OUTBOX_SELECT "WHERE status = 'queued' AND next_attempt_at <= ? "
	                           "ORDER BY next_attempt_at, id LIMIT ?",
	             error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return outbox_rows(store, st, list_r, n_r, error_r);
}

int
store_outbox_mark_sent(struct store *store, int64_t id, int code, time_t at, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "UPDATE outbox SET status = 'sent', smtp_code = ?, sent_at = ?, "
	             "attempts = attempts + 1, last_error = NULL WHERE id = ?",
	             error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, code);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int64(st, 3, id);
	return step_done(store, st, "marking email sent", error_r);
}

int
store_outbox_mark_retry(struct store *store, int64_t id, int code, const char *error,
                        time_t next_attempt_at, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE outbox SET attempts = attempts + 1, smtp_code = ?, "
	                            "last_error = ?, next_attempt_at = ? WHERE id = ?",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, code);
	bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, next_attempt_at);
	sqlite3_bind_int64(st, 4, id);
	return step_done(store, st, "scheduling retry", error_r);
}

int
store_outbox_mark_failed(struct store *store, int64_t id, int code, const char *error,
                         const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, "
	                            "smtp_code = ?, last_error = ? WHERE id = ?",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, code);
	bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, id);
	return step_done(store, st, "marking email failed", error_r);
}

/* The first row st returns, moved to *o_r; *found_r false when none. */
static int
outbox_single(struct store *store, sqlite3_stmt *st, bool *found_r, struct store_outbox *o_r,
              const char **error_r)
{
	struct store_outbox *list;
	size_t n;

	if (outbox_rows(store, st, &list, &n, error_r) < 0)
		return -1;
	*found_r = n > 0;
	if (n > 0) {
		*o_r = list[0];
		memset(&list[0], 0, sizeof(list[0]));
	}
	store_outbox_list_free(&list, n);
	return 0;
}

int
store_outbox_by_message_id(struct store *store, const char *message_id, bool *found_r,
                           struct store_outbox *o_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, OUTBOX_SELECT "WHERE message_id = ?", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, message_id);
	return outbox_single(store, st, found_r, o_r, error_r);
}

int
store_outbox_get(struct store *store, int64_t id, bool *found_r, struct store_outbox *o_r,
                 const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, OUTBOX_SELECT "WHERE id = ?", error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return outbox_single(store, st, found_r, o_r, error_r);
}

int
store_outbox_has_key(struct store *store, const char *key, bool *found_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, "SELECT count(*) FROM outbox WHERE key = ?", error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*found_r = n > 0;
	return 0;
}

int
store_outbox_unreported_failures(struct store *store, bool mark, struct store_outbox **list_r,
                                 size_t *n_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store, OUTBOX_SELECT "WHERE status = 'failed' AND reported = 0 ORDER BY id", error_r);

	if (st == NULL || outbox_rows(store, st, list_r, n_r, error_r) < 0)
		return -1;
	if (!mark)
		return 0;
	/* OR FAIL: no statement journal, as in store_message_unreported. */
	st = stmt_get(store, "UPDATE OR FAIL outbox SET reported = 1 WHERE status = 'failed'",
	              error_r);
	if (st == NULL)
		return -1;
	return step_done(store, st, "marking failures reported", error_r);
}

int
store_outbox_count(struct store *store, const char *status, long *count_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT count(*) FROM outbox WHERE ?1 IS NULL OR status = ?1", error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_outbox_next_due(struct store *store, time_t *at_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store, "SELECT coalesce(min(next_attempt_at), 0) FROM outbox WHERE status = 'queued'",
	    error_r);
	int64_t at;

	if (st == NULL)
		return -1;
	if (single_id(store, st, &at, error_r) < 0)
		return -1;
	*at_r = (time_t)at;
	return 0;
}

/* ---- auto answers ---- */

int
store_auto_answer_take(struct store *store, const char *address, const char *day, bool proven,
                       int max, bool *allowed_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    "INSERT INTO answer_counts (address, day, proven, count) VALUES (?1, ?2, ?4, 1) "
	    "ON CONFLICT (address, day, proven) DO UPDATE SET count = count + 1 "
	    "WHERE count < ?3",
	    error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, address);
	bind_text(st, 2, day);
	sqlite3_bind_int(st, 3, max);
	sqlite3_bind_int(st, 4, proven ? 1 : 0);
	if (step_done(store, st, "counting answers", error_r) < 0)
		return -1;
	*allowed_r = max > 0 && sqlite3_changes(store->db) > 0;
	return 0;
}

/* ---- participations: roles without an application ---- */

int
store_participation_add(struct store *store, const char *program, int64_t person_id,
                        const char *role, time_t at, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO participations (program, person_id, role, kind, "
	                            "status, created_at) VALUES (?, ?, ?, 'contact', 'active', ?) "
	                            "ON CONFLICT (program, person_id, role) DO NOTHING",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, person_id);
	bind_text(st, 3, role);
	sqlite3_bind_int64(st, 4, at);
	return step_done(store, st, "recording a role", error_r);
}

int
store_person_roles(struct store *store, int64_t person_id, char **roles_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    "SELECT role || ' (' || program || ')' FROM participations WHERE person_id = ?1 "
	    "ORDER BY 1",
	    error_r);
	struct strbuf sb = {0};
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, person_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);

		if (r == NULL)
			continue;
		if (sb.len > 0)
			strbuf_adds(&sb, ", ");
		strbuf_adds(&sb, r);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		strbuf_free(&sb);
		*error_r = db_error(store, "reading roles");
		return -1;
	}
	*roles_r = sb.len > 0 ? strbuf_detach(&sb) : NULL;
	return 0;
}

/* ---- confirmations ---- */

void
store_confirmation_clear(struct store_confirmation *c)
{
	free(c->program);
	free(c->summary);
	free(c->status);
	memset(c, 0, sizeof(*c));
}

int
store_confirmation_create(struct store *store, const char *program, int64_t message_row,
                          int64_t person_id, const char *summary, time_t at, int64_t *id_r,
                          bool *created_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT id FROM confirmations WHERE message_row = ?", error_r);
	int64_t id;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, message_row);
	if (single_id(store, st, &id, error_r) < 0)
		return -1;
	if (id != 0) {
		*id_r = id;
		*created_r = false;
		return 0;
	}
	st = stmt_get(store,
	              "INSERT INTO confirmations (program, message_row, person_id, summary, "
	              "created_at) VALUES (?, ?, ?, ?, ?)",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, message_row);
	sqlite3_bind_int64(st, 3, person_id);
	bind_text(st, 4, summary);
	sqlite3_bind_int64(st, 5, at);
	if (step_done(store, st, "recording a request to confirm", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(store->db);
	*created_r = true;
	return 0;
}

int
store_confirmation_get(struct store *store, int64_t id, bool *found_r,
                       struct store_confirmation *c_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT id, program, message_row, person_id, summary, status, "
	                            "created_at FROM confirmations WHERE id = ?",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		c_r->id = sqlite3_column_int64(st, 0);
		c_r->program = col_text(st, 1);
		c_r->message_row = sqlite3_column_int64(st, 2);
		c_r->person_id = sqlite3_column_int64(st, 3);
		c_r->summary = col_text(st, 4);
		c_r->status = col_text(st, 5);
		c_r->created_at = (time_t)sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading a request to confirm");
		return -1;
	}
	return 0;
}

int
store_confirmation_decide(struct store *store, int64_t id, const char *status, int64_t decided_row,
                          time_t at, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE confirmations SET status = ?, decided_row = ?, "
	                            "decided_at = ? WHERE id = ?",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, decided_row);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_int64(st, 4, id);
	return step_done(store, st, "deciding a request to confirm", error_r);
}

/* ---- messages that failed to be stored ---- */

int
store_ingest_failure_count(struct store *store, const char *mailbox, uint32_t uidvalidity,
                           uint32_t uid, long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count FROM ingest_failures WHERE mailbox = ? AND "
	                            "uidvalidity = ? AND uid = ?",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_ingest_failure_any(struct store *store, const char *mailbox, uint32_t uidvalidity,
                         bool *any_r, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT EXISTS (SELECT 1 FROM ingest_failures WHERE mailbox = ? "
	             "AND uidvalidity = ?)",
	             error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*any_r = n != 0;
	return 0;
}

int
store_ingest_failure_note(struct store *store, const char *mailbox, uint32_t uidvalidity,
                          uint32_t uid, const char *error, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO ingest_failures (mailbox, uidvalidity, uid, "
	                            "count, last_error) VALUES (?, ?, ?, 1, ?) "
	                            "ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET "
	                            "count = count + 1, last_error = excluded.last_error",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	bind_text(st, 4, error);
	return step_done(store, st, "counting a failure to store", error_r);
}

int
store_person_in_program(struct store *store, const char *program, int64_t person_id, bool *in_r,
                        const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT EXISTS (SELECT 1 FROM participations WHERE program = ?1 "
	             "AND person_id = ?2 AND kind = 'participant')",
	             error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, person_id);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*in_r = n != 0;
	return 0;
}

int
store_approval_get(struct store *store, int64_t id, bool *found_r, struct store_approval *a_r,
                   const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT v.id, v.participation_id, v.approver, v.person_id, "
	                            "v.status, v.created_at, v.decided_at, p.email, v.note "
	                            "FROM approvals v JOIN people p ON p.id = v.person_id "
	                            "WHERE v.id = ?",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		memset(a_r, 0, sizeof(*a_r));
		a_r->id = sqlite3_column_int64(st, 0);
		a_r->participation_id = sqlite3_column_int64(st, 1);
		a_r->approver = col_text(st, 2);
		a_r->person_id = sqlite3_column_int64(st, 3);
		a_r->status = col_text(st, 4);
		a_r->created_at = (time_t)sqlite3_column_int64(st, 5);
		a_r->decided_at = (time_t)sqlite3_column_int64(st, 6);
		a_r->email = col_text(st, 7);
		a_r->note = col_text(st, 8);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading an approval");
		return -1;
	}
	return 0;
}

/* ---- corrections (mentorctl) ---- */

int
store_outbox_list(struct store *store, const char *status, const char *to, size_t limit,
                  struct store_outbox **list_r, size_t *n_r, const char **error_r)
{
	/* recipients is a comma-separated list: the address matches one of
	 * its items whole, whatever its case (instr, not LIKE, so that an
	 * address with "_" or "%" means itself). */
	sqlite3_stmt *st =
	    stmt_get(store,
	             OUTBOX_SELECT "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR "
	                           "instr(',' || lower(replace(recipients, ' ', '')) || ',', "
	                           "',' || lower(?2) || ',') > 0) ORDER BY id DESC LIMIT ?3",
	             error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, status);
	bind_text(st, 2, to);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	return outbox_rows(store, st, list_r, n_r, error_r);
}

int
store_outbox_by_key(struct store *store, const char *key, bool *found_r, struct store_outbox *o_r,
                    const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, OUTBOX_SELECT "WHERE key = ?", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	return outbox_single(store, st, found_r, o_r, error_r);
}

int
store_outbox_requeue(struct store *store, int64_t id, time_t now, bool *done_r,
                     const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE outbox SET status = 'queued', attempts = 0, "
	                            "next_attempt_at = ?1, reported = 0 WHERE id = ?2 "
	                            "AND status = 'failed' AND data IS NOT NULL",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	if (step_done(store, st, "queueing an email again", error_r) < 0)
		return -1;
	*done_r = sqlite3_changes(store->db) > 0;
	return 0;
}

int
store_message_dismiss(struct store *store, int64_t id, const char *reason, bool *done_r,
                      const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "UPDATE messages SET status = 'dismissed', reason = ?1, "
	                            "reported = 1 WHERE id = ?2 "
	                            "AND status IN ('held', 'quarantined')",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, reason);
	sqlite3_bind_int64(st, 2, id);
	if (step_done(store, st, "dismissing a message", error_r) < 0)
		return -1;
	*done_r = sqlite3_changes(store->db) > 0;
	return 0;
}

int
store_person_set_name(struct store *store, int64_t id, const char *name, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store, "UPDATE people SET name = ? WHERE id = ?", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, id);
	return step_done(store, st, "renaming a person", error_r);
}

int
store_person_set_email(struct store *store, int64_t id, const char *email, int64_t *taken_r,
                       const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store, "SELECT id FROM people WHERE email = ?1 AND id <> ?2", error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, email);
	sqlite3_bind_int64(st, 2, id);
	if (single_id(store, st, taken_r, error_r) < 0)
		return -1;
	if (*taken_r != 0)
		return 0;
	st = stmt_get(store, "UPDATE people SET email = ? WHERE id = ?", error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, email);
	sqlite3_bind_int64(st, 2, id);
	return step_done(store, st, "changing an address", error_r);
}

/* One literal statement per column a correction may set: a column's name
 * is never formatted into SQL. */
static const struct {
	const char *field;
	const char *sql;
	enum { FIELD_TEXT, FIELD_NUMBER, FIELD_PERSON } type;
} participation_fields[] = {
    {"division", "UPDATE participations SET division = ?1 WHERE id = ?2", FIELD_TEXT},
    {"topics", "UPDATE participations SET topics = ?1 WHERE id = ?2", FIELD_TEXT},
    {"availability", "UPDATE participations SET availability = ?1 WHERE id = ?2", FIELD_TEXT},
    {"note", "UPDATE participations SET note = ?1 WHERE id = ?2", FIELD_TEXT},
    {"level", "UPDATE participations SET level = ?1 WHERE id = ?2", FIELD_NUMBER},
    {"capacity", "UPDATE participations SET capacity = ?1 WHERE id = ?2", FIELD_NUMBER},
    {"supervisor", "UPDATE participations SET supervisor_id = ?1 WHERE id = ?2", FIELD_PERSON},
    {"director", "UPDATE participations SET director_id = ?1 WHERE id = ?2", FIELD_PERSON},
};

int
store_participation_set_field(struct store *store, int64_t id, const char *field, const char *text,
                              int64_t number, const char **error_r)
{
	sqlite3_stmt *st;
	size_t i = 0;

	while (i < N_ELEMENTS(participation_fields) &&
	       strcmp(participation_fields[i].field, field) != 0)
		i++;
	if (i == N_ELEMENTS(participation_fields)) {
		*error_r = errorf("a participation has no field \"%s\"", field);
		return -1;
	}
	st = stmt_get(store, participation_fields[i].sql, error_r);
	if (st == NULL)
		return -1;
	switch (participation_fields[i].type) {
	case FIELD_TEXT:
		bind_text(st, 1, text);
		break;
	case FIELD_NUMBER:
		sqlite3_bind_int64(st, 1, number);
		break;
	case FIELD_PERSON:
		if (number > 0)
			sqlite3_bind_int64(st, 1, number);
		break;
	}
	sqlite3_bind_int64(st, 2, id);
	return step_done(store, st, "correcting a participation", error_r);
}

/* ---- audit ---- */

void
store_audit_clear(struct store_audit *a)
{
	free(a->who);
	free(a->action);
	free(a->object);
	free(a->field);
	free(a->old_value);
	free(a->new_value);
	memset(a, 0, sizeof(*a));
}

static void
audit_clear_any(void *rec)
{
	store_audit_clear(rec);
}

static void
audit_from_row(sqlite3_stmt *st, void *rec)
{
	struct store_audit *a = rec;

	a->id = sqlite3_column_int64(st, 0);
	a->at = (time_t)sqlite3_column_int64(st, 1);
	a->who = col_text(st, 2);
	a->action = col_text(st, 3);
	a->object = col_text(st, 4);
	a->field = col_text(st, 5);
	a->old_value = col_text(st, 6);
	a->new_value = col_text(st, 7);
}

static const struct row_kind audit_kind = {sizeof(struct store_audit), audit_from_row,
                                           audit_clear_any, "listing the audit trail"};

int
store_audit_add(struct store *store, const struct store_audit *a, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "INSERT INTO audit (at, who, action, object, field, old, new) "
	                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
	                            error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, a->at);
	bind_text(st, 2, a->who);
	bind_text(st, 3, a->action);
	bind_text(st, 4, a->object);
	bind_text(st, 5, a->field);
	bind_text(st, 6, a->old_value);
	bind_text(st, 7, a->new_value);
	return step_done(store, st, "recording the audit trail", error_r);
}

int
store_audit_list(struct store *store, const char *object, struct store_audit **list_r, size_t *n_r,
                 const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT id, at, who, action, object, field, old, new FROM audit "
	             "WHERE ?1 IS NULL OR object = ?1 ORDER BY id",
	             error_r);
	void *list;

	if (st == NULL)
		return -1;
	bind_text(st, 1, object);
	if (rows_collect(store, st, &audit_kind, &list, n_r, error_r) < 0)
		return -1;
	*list_r = list;
	return 0;
}

void
store_audit_list_free(struct store_audit **list, size_t n)
{
	rows_free(*list, n, sizeof(**list), audit_clear_any);
	*list = NULL;
}

int
store_answer_value_get(struct store *store, int64_t answer_id, const char *field, bool *found_r,
                       char **value_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store, "SELECT value FROM answer_values WHERE answer_id = ? AND field = ?", error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, answer_id);
	bind_text(st, 2, field);
	rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	*value_r = rc == SQLITE_ROW ? col_text(st, 0) : NULL;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading an answer");
		return -1;
	}
	return 0;
}

int
store_answer_value_set(struct store *store, int64_t answer_id, const char *field, const char *value,
                       long number, bool has_number, const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "INSERT OR REPLACE INTO answer_values (answer_id, field, value, "
	             "number) VALUES (?, ?, ?, ?)",
	             error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, answer_id);
	bind_text(st, 2, field);
	bind_text(st, 3, value);
	if (has_number)
		sqlite3_bind_int64(st, 4, number);
	return step_done(store, st, "correcting an answer", error_r);
}

/* ---- reports and exports: evaluation counts, health (issue 12) ---- */

int
store_evaluation_items(struct store *store, const char *program, store_evaluation_item_fn *fn,
                       void *ctx, const char **error_r)
{
	/* A request is the outbox row of its first email (not a reminder, not
	 * a copy): its thread_type is "request:FORM:ROUND" and its thread_ref
	 * the group, or the meeting when its key names an event.  An answer
	 * counts once however many times it was corrected; its values are
	 * never read here. */
	sqlite3_stmt *st = stmt_get(
	    store,
	    "WITH req AS (SELECT o.program AS program, "
	    "  CASE WHEN o.key LIKE '%:event=%' THEN coalesce((SELECT e.group_id FROM events e "
	    "    WHERE e.id = o.thread_ref), 0) ELSE o.thread_ref END AS group_id, "
	    "  CASE WHEN o.key LIKE '%:event=%' THEN o.thread_ref ELSE 0 END AS event_id, "
	    "  o.person_id AS person_id, "
	    "  substr(o.thread_type, 9, instr(substr(o.thread_type, 9), ':') - 1) AS form, "
	    "  substr(substr(o.thread_type, 9), instr(substr(o.thread_type, 9), ':') + 1) AS "
	    "round, "
	    "  min(o.created_at) AS at "
	    "  FROM outbox o WHERE o.thread_type LIKE 'request:%:%' "
	    "  AND o.key NOT LIKE '%:reminder=%' AND instr(o.key, '|to=') = 0 "
	    "  AND o.person_id IS NOT NULL AND (?1 IS NULL OR o.program = ?1) "
	    "  GROUP BY 1, 2, 3, 4, 5, 6), "
	    "ans AS (SELECT program, coalesce(group_id, 0) AS group_id, "
	    "  coalesce(event_id, 0) AS event_id, respondent_id AS person_id, form, round, "
	    "  min(created_at) AS at, count(*) AS n FROM answers "
	    "  WHERE (?1 IS NULL OR program = ?1) GROUP BY 1, 2, 3, 4, 5, 6), "
	    "items AS (SELECT program, group_id, event_id, person_id, form, round, at AS req_at, "
	    "  0 AS ans_at, 0 AS n FROM req UNION ALL SELECT program, group_id, event_id, "
	    "  person_id, form, round, 0, at, n FROM ans) "
	    "SELECT i.program, i.group_id, i.event_id, i.person_id, i.form, i.round, "
	    "  max(i.req_at), max(i.ans_at), sum(i.n), p.email, p.name FROM items i "
	    "  LEFT JOIN people p ON p.id = i.person_id "
	    "  GROUP BY i.program, i.group_id, i.event_id, i.person_id, i.form, i.round "
	    "  ORDER BY i.program, i.group_id, i.person_id, i.form, i.round, i.event_id",
	    error_r);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_evaluation_item it;
		const char *email = (const char *)sqlite3_column_text(st, 9);

		memset(&it, 0, sizeof(it));
		it.program = (const char *)sqlite3_column_text(st, 0);
		it.group_id = sqlite3_column_int64(st, 1);
		it.event_id = sqlite3_column_int64(st, 2);
		it.person_id = sqlite3_column_int64(st, 3);
		it.form = (const char *)sqlite3_column_text(st, 4);
		it.round = (const char *)sqlite3_column_text(st, 5);
		it.requested_at = (time_t)sqlite3_column_int64(st, 6);
		it.received_at = (time_t)sqlite3_column_int64(st, 7);
		it.answers = (long)sqlite3_column_int64(st, 8);
		it.email = email != NULL ? email : "";
		it.name = (const char *)sqlite3_column_text(st, 10);
		if (it.program == NULL)
			it.program = "";
		if (it.form == NULL)
			it.form = "";
		if (it.round == NULL)
			it.round = "";
		if (fn(ctx, &it) < 0) {
			sqlite3_reset(st);
			*error_r = errorf("reading evaluation counts: stopped by the caller");
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading evaluation counts");
		return -1;
	}
	return 0;
}

int
store_health_mail_counts(struct store *store, const char *program, long *failed_r, long *held_r,
                         const char **error_r)
{
	sqlite3_stmt *st =
	    stmt_get(store,
	             "SELECT (SELECT count(*) FROM outbox WHERE status = 'failed' "
	             "AND (program = ?1 OR program IS NULL)), "
	             "(SELECT count(*) FROM messages WHERE status IN ('held', 'quarantined') "
	             "AND (program = ?1 OR program IS NULL))",
	             error_r);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*failed_r = (long)sqlite3_column_int64(st, 0);
		*held_r = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		*error_r = db_error(store, "counting failed and held mail");
		return -1;
	}
	return 0;
}

/* ---- import (mentorctl) ---- */

int
store_contact_find(struct store *store, const char *program, int64_t person_id, const char *role,
                   int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT id FROM participations WHERE program = ? AND "
	                            "person_id = ? AND role = ? AND kind = 'contact'",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, person_id);
	bind_text(st, 3, role);
	return single_id(store, st, id_r, error_r);
}

/* ---- surveys: answers as rows, response counts ---- */

int
store_answer_rows(struct store *store, const char *program, const char *form,
                  store_answer_row_fn *fn, void *ctx, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT a.id, p.email, p.name, a.created_at, v.field, v.value "
	                            "FROM answers a JOIN people p ON p.id = a.respondent_id "
	                            "LEFT JOIN answer_values v ON v.answer_id = a.id "
	                            "WHERE a.program = ?1 AND a.form = ?2 ORDER BY a.id",
	                            error_r);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_answer_row r;
		const char *email = (const char *)sqlite3_column_text(st, 1);

		r.answer_id = sqlite3_column_int64(st, 0);
		r.email = email != NULL ? email : "";
		r.name = (const char *)sqlite3_column_text(st, 2);
		r.created_at = (time_t)sqlite3_column_int64(st, 3);
		r.field = (const char *)sqlite3_column_text(st, 4);
		r.value = (const char *)sqlite3_column_text(st, 5);
		if (fn(ctx, &r) < 0) {
			sqlite3_reset(st);
			*error_r = errorf("reading answers: stopped by the caller");
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading answers");
		return -1;
	}
	return 0;
}

int
store_form_responses(struct store *store, const char *program, const char *form, long *asked_r,
                     long *answered_r, const char **error_r)
{
	/* Asked: the people a first request (not a reminder, not a copy) of
	 * the form went to, queued or sent. */
	sqlite3_stmt *st;
	int64_t n;

	st = stmt_get(store,
	              "SELECT count(DISTINCT person_id) FROM outbox WHERE program = ?1 AND "
	              "substr(thread_type, 1, length(?2) + 9) = 'request:' || ?2 || ':' AND "
	              "person_id IS NOT NULL AND instr(key, ':reminder=') = 0 AND "
	              "instr(key, '|to=') = 0",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*asked_r = (long)n;
	st = stmt_get(store,
	              "SELECT count(DISTINCT respondent_id) FROM answers WHERE program = ?1 AND "
	              "form = ?2",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*answered_r = (long)n;
	return 0;
}

int
store_answer_value_count(struct store *store, const char *program, const char *form,
                         const char *field, const char *value, long *count_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT count(DISTINCT a.respondent_id) FROM answers a "
	                            "JOIN answer_values v ON v.answer_id = a.id WHERE "
	                            "a.program = ?1 AND a.form = ?2 AND v.field = ?3 AND "
	                            "lower(trim(v.value)) = lower(?4)",
	                            error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, form);
	bind_text(st, 3, field);
	bind_text(st, 4, value);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

/* ---- sessions (a program's dated sessions: events of kind 'session',
 * group NULL, topic the session's name) ---- */

int
store_session_event(struct store *store, const char *program, const char *name, const char *date,
                    time_t at, bool create, int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT id FROM events WHERE program = ? AND kind = 'session' "
	                            "AND group_id IS NULL AND topic = ?",
	                            error_r);

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, name);
	if (single_id(store, st, id_r, error_r) < 0)
		return -1;
	if (*id_r > 0) {
		/* A session moved in the configuration keeps its row (and its
		 * answers): only its date follows. */
		if (!create)
			return 0;
		st = stmt_get(store, "UPDATE events SET date = ? WHERE id = ? AND date <> ?",
		              error_r);
		if (st == NULL)
			return -1;
		bind_text(st, 1, date);
		sqlite3_bind_int64(st, 2, *id_r);
		bind_text(st, 3, date);
		return step_done(store, st, "moving a session", error_r);
	}
	if (!create)
		return 0;
	st = stmt_get(store,
	              "INSERT INTO events (program, kind, date, topic, created_at) VALUES "
	              "(?, 'session', ?, ?, ?)",
	              error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	bind_text(st, 2, date);
	bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, at);
	if (step_done(store, st, "saving a session", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(store->db);
	return 0;
}

int
store_outbox_count_prefix(struct store *store, const char *prefix, long *count_r,
                          const char **error_r)
{
	/* substr, not LIKE: keys hold '_' (a LIKE wildcard). */
	sqlite3_stmt *st = stmt_get(
	    store, "SELECT count(*) FROM outbox WHERE substr(key, 1, length(?1)) = ?1", error_r);
	int64_t n;

	if (st == NULL)
		return -1;
	bind_text(st, 1, prefix);
	if (single_id(store, st, &n, error_r) < 0)
		return -1;
	*count_r = (long)n;
	return 0;
}

int
store_session_rsvp(struct store *store, int64_t event_id, int64_t person_id, char **rsvp_r,
                   const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT summary FROM answers WHERE form = 'rsvp' AND "
	                            "event_id = ? AND respondent_id = ? ORDER BY id DESC LIMIT 1",
	                            error_r);
	int rc;

	*rsvp_r = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, event_id);
	sqlite3_bind_int64(st, 2, person_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*rsvp_r = col_text(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading an answer to an invitation");
		return -1;
	}
	return 0;
}

int
store_session_attendance(struct store *store, int64_t event_id, int64_t person_id, char **status_r,
                         const char **error_r)
{
	sqlite3_stmt *st = stmt_get(store,
	                            "SELECT status FROM attendance WHERE event_id = ? AND "
	                            "person_id = ?",
	                            error_r);
	int rc;

	*status_r = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, event_id);
	sqlite3_bind_int64(st, 2, person_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*status_r = col_text(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = db_error(store, "reading attendance");
		return -1;
	}
	return 0;
}

int
store_session_record(struct store *store, const char *program, int64_t person_id,
                     const char *before, long *held_r, long *attended_r, const char **error_r)
{
	sqlite3_stmt *st = stmt_get(
	    store,
	    "SELECT count(*), coalesce(sum((SELECT a.status = 'present' FROM attendance a "
	    "WHERE a.event_id = e.id AND a.person_id = ?2)), 0) FROM events e WHERE "
	    "e.program = ?1 AND e.kind = 'session' AND e.group_id IS NULL AND e.date < ?3 AND "
	    "EXISTS (SELECT 1 FROM attendance x WHERE x.event_id = e.id)",
	    error_r);
	int rc;

	if (st == NULL)
		return -1;
	bind_text(st, 1, program);
	sqlite3_bind_int64(st, 2, person_id);
	bind_text(st, 3, before);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*held_r = (long)sqlite3_column_int64(st, 0);
		*attended_r = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		*error_r = db_error(store, "counting sessions attended");
		return -1;
	}
	return 0;
}
