/*
 * mentorctl: the operator's tool.
 *
 *   mentorctl parse FILE.eml              the normalised message as JSON (no config)
 *   mentorctl -c FILE status              counts: applications, matches, outbox, messages
 * Inspect (every listing also as --json):
 *   people, applications, matches         who, their applications, their partnerships
 *   outbox [--failed|--queued|--sent] [--to ADDR]   each email, its key and last error
 *   messages [--held|--quarantined|--all]           each message received, and why
 *   report [--csv [--evaluations]|--json] [--program P] [--since YYYY-MM]
 *                                         cadence and evaluation counts, per month
 *   export applications|people|groups|evaluations [--program P] [--json]
 *                                         CSV for a spreadsheet; evaluations counted only
 *   export answers --form F [--where "FIELD=VALUE"]  a survey's answers as CSV
 *   audit                                 every correction made with mentorctl
 * Correct (each one transaction, each change an audit row):
 *   outbox retry ID, resend KEY, message dismiss ID [NOTE], replay ID
 *   person set EMAIL key=value..., application edit ID FIELD=VALUE...
 *   mentor add EMAIL NAME [--strengths "A, B"] [--capacity N] [--program P]
 *   match MENTEE MENTOR, end ID [REASON], meeting add ID DATE MINUTES
 *     (the coordinator's email commands: the same code in groups and workflow)
 *   import people FILE.csv [--program P] [--dry-run]
 *   roster import FILE.csv [--program P] [--dry-run]   (the same)
 *                                         a roster: every row checked first,
 *                                         then all in one transaction
 * Preview:
 *   preview --until DATE                  every email the scheduler would send by then,
 *                                         worked out in a transaction rolled back
 *   oauth login|status
 *   mentorctl --version                   "mentord VERSION"
 *
 * Exit codes: 0 ok, 1 runtime failure or a change refused (no such ID, a
 * state that does not allow it), 2 bad arguments or configuration: an
 * unknown option or argument is an error, with the command's usage; so is
 * a roster import cannot take as it is (FILE:LINE for each problem).
 */
#include "clock.h"
#include "command.h"
#include "compare.h"
#include "compose.h"
#include "csv.h"
#include "due.h"
#include "config.h"
#include "ingest.h"
#include "groups.h"
#include "log.h"
#include "notice.h"
#include "oauth.h"
#include "outbox.h"
#include "parsed.h"
#include "report.h"
#include "session.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_CONFIG MENTORD_SYSCONFDIR "/mentord.conf"

static int
cmd_parse(const char *path)
{
	const char *error;
	char *data, *json;
	size_t len;

	if (read_file(path, 64u * 1024 * 1024, &data, &len, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 2;
	}
	parsed_message_json(data, len, &json);
	fputs(json, stdout);
	free(json);
	free(data);
	return 0;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* The name of a group's member at position k, or "". */
static const char *
member_name(const struct store_group *g, size_t k)
{
	if (k >= g->nmembers)
		return "";
	return g->members[k].name != NULL ? g->members[k].name : g->members[k].email;
}

/* status: the text for people, or with json one object:
 * {"programs": [{"name", "title", "roles": {ROLE: {STATUS: n}},
 *   "active_groups", "proposed_teams"}], "outbox": {STATUS: n},
 *  "messages": {"quarantined", "held", "pending"}}. */
/* A program of sessions: how many are held and to come, and who is below
 * the attendance rule. */
static int
status_sessions(struct store *store, const struct config_program *prog, json_object *jp, bool json,
                const char **error_r)
{
	struct strbuf below = {0};
	time_t now = clock_now(), start, end;
	long nbelow = 0, held = 0, cancelled = 0;
	const char *tzerr;
	int rc;

	(void)clock_set_timezone(prog->timezone, &tzerr);
	for (size_t i = 0; i < prog->model.nsessions; i++) {
		const struct program_session *se = &prog->model.sessions[i];

		if (se->cancelled)
			cancelled++;
		else if (session_times(se, &start, &end) == 0 && start <= now)
			held++;
	}
	rc = session_below_rule(prog, store, now, &below, &nbelow, error_r);
	if (rc == 0 && json) {
		json_object *js = json_object_new_object();

		json_object_object_add(jp, "sessions", js);
		json_object_object_add(js, "total",
		                       json_object_new_int64((int64_t)prog->model.nsessions));
		json_object_object_add(js, "held", json_object_new_int64(held));
		json_object_object_add(js, "cancelled", json_object_new_int64(cancelled));
		json_object_object_add(js, "below_attendance", json_object_new_int64(nbelow));
	} else if (rc == 0) {
		printf("  sessions: %zu (%ld held, %ld to come, %ld cancelled)\n",
		       prog->model.nsessions, held, (long)prog->model.nsessions - held - cancelled,
		       cancelled);
		if (prog->model.session_attendance > 0)
			printf("  below the attendance rule (%d%%): %ld\n%s",
			       prog->model.session_attendance, nbelow, strbuf_str(&below));
	}
	strbuf_free(&below);
	return rc;
}

/* A program with mentor pairs beside its teams (DOL): when they open,
 * how many are active, completed and ended, and how many participants
 * have no mentor yet. */
static int
status_pairs(const struct config *config, struct store *store, const struct config_program *prog,
             json_object *jp, bool json, const char **error_r)
{
	const struct program_group *pg = prog->model.pairs;
	struct store_group *groups = NULL;
	struct store_participation *people = NULL;
	size_t ng = 0, np = 0;
	long active = 0, completed = 0, ended = 0, rematched = 0, without = 0;
	char day[11] = "";
	const char *tzerr;
	time_t opens;
	int ret = -1;

	(void)clock_set_timezone(prog->timezone, &tzerr);
	opens = groups_pairs_open_at(prog, pg);
	if (opens != 0)
		clock_date_key(opens, day);
	(void)clock_set_timezone(config->timezone, &tzerr);
	if (store_group_list(store, prog->name, pg->name, NULL, &groups, &ng, error_r) < 0 ||
	    store_participation_list(store, prog->name, pg->roles.v[0], "matched", &people, &np,
	                             error_r) < 0)
		goto out;
	for (size_t i = 0; i < ng; i++) {
		if (strcmp(groups[i].status, "active") == 0)
			active++;
		else if (strcmp(groups[i].status, "completed") == 0)
			completed++;
		else if (strcmp(groups[i].status, "ended") == 0) {
			ended++;
			rematched += groups[i].end_reason != NULL &&
			             strncmp(groups[i].end_reason, "rematch:", 8) == 0;
		}
	}
	for (size_t k = 0; k < np; k++) {
		bool paired = false;

		for (size_t i = 0; i < ng && !paired; i++)
			for (size_t m = 0; m < groups[i].nmembers; m++)
				paired = paired ||
				         (groups[i].members[m].participation_id == people[k].id &&
				          (strcmp(groups[i].status, "active") == 0 ||
				           strcmp(groups[i].status, "completed") == 0));
		without += !paired;
	}
	if (json) {
		json_object *jm = json_object_new_object();

		json_object_object_add(jp, "pairs", jm);
		json_object_object_add(jm, "opens", json_object_new_string(day));
		json_object_object_add(jm, "active", json_object_new_int64(active));
		json_object_object_add(jm, "completed", json_object_new_int64(completed));
		json_object_object_add(jm, "ended", json_object_new_int64(ended));
		json_object_object_add(jm, "rematched", json_object_new_int64(rematched));
		json_object_object_add(jm, "without", json_object_new_int64(without));
	} else {
		printf("  %s pairs%s%s: %ld active, %ld completed, %ld ended (%ld by rematch); "
		       "%ld in a team without a %s\n",
		       pg->roles.v[1], *day != '\0' ? ", from " : "", day, active, completed, ended,
		       rematched, without, pg->roles.v[1]);
	}
	ret = 0;
out:
	store_group_list_free(&groups, ng);
	store_participation_list_free(&people, np);
	return ret;
}

static int
cmd_status(struct config *config, struct store *store, bool json)
{
	static const char *const states[] = {"applied",   "approving", "accepted", "matched",
	                                     "active",    "pool",      "declined", "withdrawn",
	                                     "completed", "paused"};
	static const char *const out_states[] = {"queued", "sent", "failed", "dropped"};
	static const char *const msg_states[] = {"quarantined", "held", "pending"};
	json_object *top = json_object_new_object(), *programs = json_object_new_array();
	json_object *outbox = json_object_new_object(), *messages = json_object_new_object();
	const char *error = NULL;
	struct store_group *groups = NULL;
	size_t ngroups = 0, nmsg[N_ELEMENTS(msg_states)];
	long n;
	int ret = 1;

	json_object_object_add(top, "programs", programs);
	json_object_object_add(top, "outbox", outbox);
	json_object_object_add(top, "messages", messages);
	for (size_t p = 0; p < config->nprograms; p++) {
		const struct config_program *prog = &config->programs[p];
		const struct program_group *unit = prog->model.unit;
		json_object *jp = json_object_new_object(), *roles = json_object_new_object();

		json_object_array_add(programs, jp);
		json_object_object_add(jp, "name", json_object_new_string(prog->name));
		json_object_object_add(jp, "title", json_object_new_string(prog->title));
		json_object_object_add(jp, "roles", roles);
		if (!json)
			printf("program %s (%s)\n", prog->name, prog->title);
		for (size_t r = 0; r < prog->model.nroles; r++) {
			const struct program_role *role = &prog->model.roles[r];
			json_object *jr = json_object_new_object();
			bool any = false;

			json_object_object_add(roles, role->name, jr);
			if (!json)
				printf("  %ss:", role->title);
			for (size_t i = 0; i < N_ELEMENTS(states); i++) {
				if (store_participation_count(store, prog->name, role->name,
				                              states[i], &n, &error) < 0)
					goto out;
				if (n == 0)
					continue;
				json_object_object_add(jr, states[i], json_object_new_int64(n));
				if (!json)
					printf("%s %s %ld", any ? "," : "", states[i], n);
				any = true;
			}
			if (!json)
				printf("%s\n", any ? "" : " none");
		}
		{
			struct strbuf surveys = {0};

			if (report_surveys(store, prog, &surveys, &error) < 0) {
				strbuf_free(&surveys);
				goto out;
			}
			if (!json)
				fputs(strbuf_str(&surveys), stdout);
			else if (surveys.len > 0)
				json_object_object_add(
				    jp, "responses", json_object_new_string(strbuf_str(&surveys)));
			strbuf_free(&surveys);
		}
		if (prog->model.nsessions > 0) {
			const char *tzerr;
			int rc = status_sessions(store, prog, jp, json, &error);

			(void)clock_set_timezone(config->timezone, &tzerr);
			if (rc < 0)
				goto out;
		}
		if (unit == NULL)
			continue;
		if (store_group_list(store, prog->name, unit->name, "active", &groups, &ngroups,
		                     &error) < 0)
			goto out;
		json_object_object_add(jp, "active_groups",
		                       json_object_new_int64((int64_t)ngroups));
		if (!json)
			printf("  active %s: %zu\n", unit->pair ? "partnerships" : "teams",
			       ngroups);
		store_group_list_free(&groups, ngroups);
		if (prog->model.pairs != NULL &&
		    status_pairs(config, store, prog, jp, json, &error) < 0)
			goto out;
		if (!unit->pair) {
			if (store_group_list(store, prog->name, unit->name, "proposed", &groups,
			                     &ngroups, &error) < 0)
				goto out;
			json_object_object_add(jp, "proposed_teams",
			                       json_object_new_int64((int64_t)ngroups));
			if (!json)
				printf("  proposed teams: %zu\n", ngroups);
			store_group_list_free(&groups, ngroups);
		}
	}
	if (!json)
		printf("outbox:");
	for (size_t i = 0; i < N_ELEMENTS(out_states); i++) {
		if (store_outbox_count(store, out_states[i], &n, &error) < 0)
			goto out;
		json_object_object_add(outbox, out_states[i], json_object_new_int64(n));
		if (!json)
			printf(" %s %ld%s", out_states[i], n,
			       i + 1 < N_ELEMENTS(out_states) ? "," : "\n");
	}
	for (size_t i = 0; i < N_ELEMENTS(msg_states); i++) {
		struct store_message *list = NULL;

		if (store_message_list(store, msg_states[i], 100000, &list, &nmsg[i], &error) < 0)
			goto out;
		store_message_list_free(&list, nmsg[i]);
		json_object_object_add(messages, msg_states[i],
		                       json_object_new_int64((int64_t)nmsg[i]));
	}
	if (json)
		puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
		                                             JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		printf("messages: %zu quarantined, %zu held, %zu waiting for confirmation\n",
		       nmsg[0], nmsg[1], nmsg[2]);
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "mentorctl: %s\n", error);
	json_object_put(top);
	return ret;
}

/* ---- listings: text, CSV or JSON from one description ---- */

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON };

enum col_type {
	COL_TEXT,   /* a string ("" is null in JSON) */
	COL_NUMBER, /* a number in JSON ("" is null) */
	COL_BOOL,   /* "yes" or "no": true or false in JSON */
};

enum col_where {
	COL_ALL = 0,
	COL_NOT_JSON, /* a text column that JSON gives in other columns */
	COL_JSON,     /* JSON only */
	COL_BELOW,    /* text: on a line of its own under the row, when not "" */
};

struct column {
	const char *title; /* text and CSV header */
	const char *key;   /* JSON member */
	int width;         /* text: padded to it; 0 for the last column */
	enum col_type type;
	enum col_where where;
};

struct table {
	const struct column *cols;
	size_t ncols;
	enum fmt fmt;
	json_object *rows; /* owned: JSON collects the rows, printed at the end */
};

static void
table_begin(struct table *t, const struct column *cols, size_t ncols, enum fmt fmt)
{
	bool first = true;

	t->cols = cols;
	t->ncols = ncols;
	t->fmt = fmt;
	t->rows = fmt == FMT_JSON ? json_object_new_array() : NULL;
	if (fmt == FMT_JSON)
		return;
	for (size_t i = 0; i < ncols; i++) {
		if (cols[i].where == COL_JSON || cols[i].where == COL_BELOW)
			continue;
		if (fmt == FMT_CSV) {
			printf("%s%s", first ? "" : ",", cols[i].key);
		} else if (cols[i].width > 0) {
			printf("%-*s ", cols[i].width, cols[i].title);
		} else {
			fputs(cols[i].title, stdout);
		}
		first = false;
	}
	putchar('\n');
}

/* One row: cells[i] for cols[i], never NULL. */
static void
table_row(struct table *t, const char *const *cells)
{
	if (t->fmt == FMT_JSON) {
		json_object *row = json_object_new_object();

		for (size_t i = 0; i < t->ncols; i++) {
			const struct column *c = &t->cols[i];
			json_object *v = NULL;

			if (c->where == COL_NOT_JSON)
				continue;
			if (c->type == COL_BOOL)
				v = json_object_new_boolean(strcmp(cells[i], "yes") == 0);
			else if (cells[i][0] == '\0')
				v = NULL;
			else if (c->type == COL_NUMBER)
				v = json_object_new_int64(strtoll(cells[i], NULL, 10));
			else
				v = json_object_new_string(cells[i]);
			json_object_object_add(row, c->key, v);
		}
		json_object_array_add(t->rows, row);
		return;
	}
	if (t->fmt == FMT_CSV) {
		size_t last = 0;

		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].where != COL_JSON && t->cols[i].where != COL_BELOW)
				last = i;
		struct strbuf sb = {0};

		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].where != COL_JSON && t->cols[i].where != COL_BELOW)
				report_csv_field(&sb, cells[i], i == last);
		fputs(strbuf_str(&sb), stdout);
		strbuf_free(&sb);
		return;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		const struct column *c = &t->cols[i];

		if (c->where == COL_JSON || c->where == COL_BELOW)
			continue;
		if (c->width > 0)
			printf("%-*s ", c->width, cells[i]);
		else
			fputs(cells[i], stdout);
	}
	putchar('\n');
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i].where == COL_BELOW && cells[i][0] != '\0')
			printf("      %s: %s\n", t->cols[i].title, cells[i]);
}

static void
table_end(struct table *t)
{
	if (t->fmt == FMT_JSON) {
		puts(json_object_to_json_string_ext(t->rows, JSON_C_TO_STRING_PRETTY |
		                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(t->rows);
		t->rows = NULL;
	}
}

/* ---- arguments ---- */

/* What every command needs, borrowed. */
struct ctl {
	struct config *config;
	struct store *store;
	const char *who;   /* for the audit trail: "mentorctl (alice)" */
	const char *usage; /* the running command's, for errors */
};

static int bad_usage(const struct ctl *ctl, const char *fmt, ...) ATTR_FORMAT(2, 3);

/* A mistake in the arguments: one line saying what, and how the command
 * is used.  Returns 2, the exit status. */
static int
bad_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("mentorctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; usage: mentorctl %s\n", ctl->usage);
	return 2;
}

/* getopt_long over a command's arguments (argv[0] is the command), with
 * argument permutation, so options may follow the operands.  Returns an
 * option's val, -1 at the end, or '?' after printing what is wrong. */
static int
next_option(const struct ctl *ctl, int argc, char **argv, const struct option *options)
{
	int opt = getopt_long(argc, argv, ":", options, NULL);

	if (opt == ':') {
		bad_usage(ctl, "%s needs a value", argv[optind - 1]);
		return '?';
	}
	if (opt == '?') {
		if (optopt != 0)
			bad_usage(ctl, "unknown option -%c", optopt);
		else
			bad_usage(ctl, "unknown option %s", argv[optind - 1]);
		return '?';
	}
	return opt;
}

/* For commands whose arguments are all operands. */
static const struct option no_options[] = {{NULL, 0, NULL, 0}};

static void
options_reset(void)
{
	optind = 0; /* GNU: start over, permuting again */
	opterr = 0;
}

/* A positive id ("12" or "#12"); -1 when s is not one. */
static int64_t
parse_id(const char *s)
{
	char *end;
	long long v;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end != '\0' || errno != 0 || v <= 0 ? -1 : (int64_t)v;
}

static int
fail(const char *error)
{
	fprintf(stderr, "mentorctl: %s\n", error);
	return 1;
}

/* An audit row for a change made by this run. */
static int
audit(const struct ctl *ctl, const char *action, const char *object, const char *field,
      const char *old_value, const char *new_value, const char **error_r)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.at = clock_now();
	a.who = (char *)ctl->who;
	a.action = (char *)action;
	a.object = (char *)object;
	a.field = (char *)field;
	a.old_value = (char *)old_value;
	a.new_value = (char *)new_value;
	return store_audit_add(ctl->store, &a, error_r);
}

/* The options every listing takes (--json), and the operands it allows:
 * none.  Returns 0, or 2 after printing what is wrong. */
static int
listing_options(struct ctl *ctl, int argc, char **argv, enum fmt *fmt_r)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	*fmt_r = FMT_TEXT;
	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		if (opt == '?')
			return 2;
		*fmt_r = FMT_JSON;
	}
	if (optind < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static void
time_cell(time_t t, char buf[26])
{
	if (t == 0)
		buf[0] = '\0';
	else
		clock_iso8601(t, buf);
}

/* ---- inspect ---- */

static int
cmd_people(struct ctl *ctl, int argc, char **argv)
{
	static const struct column cols[] = {
	    {"ID", "id", 5, COL_NUMBER, COL_ALL},
	    {"EMAIL", "email", 32, COL_TEXT, COL_ALL},
	    {"NAME", "name", 28, COL_TEXT, COL_ALL},
	    {"DELIVERABLE", "deliverable", 0, COL_TEXT, COL_NOT_JSON},
	    {"", "deliverable", 0, COL_BOOL, COL_JSON},
	    {"", "undeliverable_reason", 0, COL_TEXT, COL_JSON},
	};
	struct store_person *list = NULL;
	struct table t;
	const char *error;
	enum fmt fmt;
	size_t n = 0;
	int rc;

	rc = listing_options(ctl, argc, argv, &fmt);
	if (rc != 0)
		return rc;
	if (store_person_list(ctl->store, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		char id[24], *deliverable;

		snprintf(id, sizeof(id), "%lld", (long long)list[i].id);
		deliverable = list[i].undeliverable
		                  ? xasprintf("no: %s", nz(list[i].undeliverable_reason))
		                  : xstrdup("yes");
		{
			const char *cells[] = {id,
			                       list[i].email,
			                       nz(list[i].name),
			                       deliverable,
			                       list[i].undeliverable ? "no" : "yes",
			                       nz(list[i].undeliverable_reason)};
			table_row(&t, cells);
		}
		free(deliverable);
	}
	table_end(&t);
	store_person_list_free(&list, n);
	return 0;
}

static int
cmd_applications(struct ctl *ctl, int argc, char **argv)
{
	static const struct column cols[] = {
	    {"ID", "id", 5, COL_NUMBER, COL_ALL},
	    {"PROGRAM", "program", 10, COL_TEXT, COL_ALL},
	    {"ROLE", "role", 8, COL_TEXT, COL_ALL},
	    {"STATUS", "status", 10, COL_TEXT, COL_ALL},
	    {"NAME", "name", 28, COL_TEXT, COL_ALL},
	    {"EMAIL", "email", 0, COL_TEXT, COL_ALL},
	    {"", "division", 0, COL_TEXT, COL_JSON},
	    {"", "topics", 0, COL_TEXT, COL_JSON},
	    {"", "availability", 0, COL_TEXT, COL_JSON},
	    {"", "level", 0, COL_NUMBER, COL_JSON},
	    {"", "capacity", 0, COL_NUMBER, COL_JSON},
	    {"", "supervisor", 0, COL_TEXT, COL_JSON},
	    {"", "note", 0, COL_TEXT, COL_JSON},
	};
	struct store_participation *list = NULL;
	struct table t;
	const char *error;
	enum fmt fmt;
	size_t n = 0;
	int rc;

	rc = listing_options(ctl, argc, argv, &fmt);
	if (rc != 0)
		return rc;
	if (store_participation_list(ctl->store, NULL, NULL, NULL, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		char id[24], level[24], capacity[24];

		snprintf(id, sizeof(id), "%lld", (long long)list[i].id);
		if (list[i].level >= 0)
			snprintf(level, sizeof(level), "%ld", list[i].level);
		else
			level[0] = '\0';
		snprintf(capacity, sizeof(capacity), "%ld", list[i].capacity);
		{
			const char *cells[] = {id,
			                       list[i].program,
			                       list[i].role,
			                       list[i].status,
			                       nz(list[i].name),
			                       list[i].email,
			                       nz(list[i].division),
			                       nz(list[i].topics),
			                       nz(list[i].availability),
			                       level,
			                       capacity,
			                       nz(list[i].supervisor_email),
			                       nz(list[i].note)};
			table_row(&t, cells);
		}
	}
	table_end(&t);
	store_participation_list_free(&list, n);
	return 0;
}

static int
cmd_matches(struct ctl *ctl, int argc, char **argv)
{
	static const struct column cols[] = {
	    {"ID", "id", 5, COL_NUMBER, COL_ALL},
	    {"PROGRAM", "program", 10, COL_TEXT, COL_ALL},
	    {"KIND", "kind", 6, COL_TEXT, COL_ALL},
	    {"STATUS", "status", 9, COL_TEXT, COL_ALL},
	    {"MEMBERS", "members", 44, COL_TEXT, COL_ALL},
	    {"MEETINGS THIS MONTH", "meetings_this_month", 0, COL_NUMBER, COL_ALL},
	};
	struct store_group *list = NULL;
	struct table t;
	const char *error;
	char month[8];
	enum fmt fmt;
	size_t n = 0;
	long count;
	int rc;

	rc = listing_options(ctl, argc, argv, &fmt);
	if (rc != 0)
		return rc;
	clock_month_key(clock_now(), month);
	if (store_group_list(ctl->store, NULL, NULL, NULL, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		struct strbuf members = {0};
		char id[24], meetings[24];

		if (strcmp(list[i].status, "discarded") == 0)
			continue;
		if (store_event_count(ctl->store, list[i].id, "meeting", month, &count, NULL,
		                      &error) < 0) {
			table_end(&t);
			store_group_list_free(&list, n);
			return fail(error);
		}
		for (size_t k = 0; k < list[i].nmembers; k++)
			strbuf_addf(&members, "%s%s",
			            k == 0 ? "" : (list[i].nmembers == 2 ? " with " : ", "),
			            member_name(&list[i], k));
		snprintf(id, sizeof(id), "%lld", (long long)list[i].id);
		snprintf(meetings, sizeof(meetings), "%ld", count);
		{
			const char *cells[] = {id,
			                       list[i].program,
			                       list[i].kind,
			                       list[i].status,
			                       strbuf_str(&members),
			                       meetings};
			table_row(&t, cells);
		}
		strbuf_free(&members);
	}
	table_end(&t);
	store_group_list_free(&list, n);
	return 0;
}

static int
cmd_messages(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"held", no_argument, NULL, 'h'},
	    {"quarantined", no_argument, NULL, 'q'},
	    {"pending", no_argument, NULL, 'p'},
	    {"dismissed", no_argument, NULL, 'd'},
	    {"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	static const struct column cols[] = {
	    {"ID", "id", 6, COL_NUMBER, COL_ALL},
	    {"RECEIVED", "received", 25, COL_TEXT, COL_ALL},
	    {"KIND", "kind", 12, COL_TEXT, COL_ALL},
	    {"STATUS", "status", 11, COL_TEXT, COL_ALL},
	    {"FROM", "from", 30, COL_TEXT, COL_ALL},
	    {"REASON", "reason", 0, COL_TEXT, COL_ALL},
	    {"", "subject", 0, COL_TEXT, COL_JSON},
	    {"", "program", 0, COL_TEXT, COL_JSON},
	};
	struct store_message *list = NULL;
	const char *status = NULL, *error;
	struct table t;
	enum fmt fmt = FMT_TEXT;
	size_t n = 0;
	int opt, filters = 0;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'h':
			status = "held";
			filters++;
			break;
		case 'q':
			status = "quarantined";
			filters++;
			break;
		case 'p':
			status = "pending";
			filters++;
			break;
		case 'd':
			status = "dismissed";
			filters++;
			break;
		case 'a':
			status = NULL;
			filters++;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		default:
			return 2;
		}
	}
	if (filters > 1)
		return bad_usage(ctl, "give one of --held, --quarantined, --pending, --dismissed, "
		                      "--all");
	if (optind < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind]);
	if (store_message_list(ctl->store, status, 1000, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		char id[24], when[26];

		snprintf(id, sizeof(id), "%lld", (long long)list[i].id);
		clock_iso8601(list[i].received_at, when);
		{
			const char *cells[] = {id,
			                       when,
			                       list[i].kind,
			                       list[i].status,
			                       nz(list[i].from_addr),
			                       nz(list[i].reason),
			                       nz(list[i].subject),
			                       nz(list[i].program)};
			table_row(&t, cells);
		}
	}
	table_end(&t);
	store_message_list_free(&list, n);
	return 0;
}

/* message dismiss ID [NOTE...]: a held or quarantined message needs
 * nothing more (the bounce of an address corrected since); it leaves the
 * lists and the digest, with the note as its reason. */
static int
cmd_message_dismiss(struct ctl *ctl, int argc, char **argv)
{
	struct store_message m;
	struct strbuf note = {0};
	const char *error = NULL;
	char object[40];
	int64_t id;
	bool done;
	int ret = 1;

	memset(&m, 0, sizeof(m));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind < 1)
		return bad_usage(ctl, "message dismiss needs the message's ID");
	id = parse_id(argv[optind]);
	if (id < 0)
		return bad_usage(ctl, "\"%s\" is not a message ID", argv[optind]);
	strbuf_adds(&note, "dismissed with mentorctl");
	for (int i = optind + 1; i < argc; i++)
		strbuf_addf(&note, "%s%s", i == optind + 1 ? ": " : " ", argv[i]);
	/* "no message N" when there is none. */
	if (store_begin(ctl->store, &error) < 0 ||
	    store_message_get(ctl->store, id, &m, NULL, NULL, &error) < 0)
		goto out;
	if (store_message_dismiss(ctl->store, id, strbuf_str(&note), &done, &error) < 0)
		goto out;
	if (!done) {
		fprintf(stderr,
		        "mentorctl: message #%lld is %s, not held or quarantined; nothing "
		        "changed\n",
		        (long long)id, m.status);
		goto out;
	}
	snprintf(object, sizeof(object), "message %lld", (long long)id);
	if (audit(ctl, "message dismiss", object, "status", m.status, "dismissed", &error) < 0 ||
	    audit(ctl, "message dismiss", object, "reason", m.reason, strbuf_str(&note), &error) <
	        0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	printf("message #%lld (%s, from %s) dismissed\n", (long long)id, m.status, nz(m.from_addr));
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_message_clear(&m);
	strbuf_free(&note);
	return ret;
}

static int
cmd_outbox_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"failed", no_argument, NULL, 'f'},
	    {"queued", no_argument, NULL, 'q'},
	    {"sent", no_argument, NULL, 's'},
	    {"dropped", no_argument, NULL, 'd'},
	    {"to", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	static const struct column cols[] = {
	    {"ID", "id", 5, COL_NUMBER, COL_ALL},
	    {"STATUS", "status", 7, COL_TEXT, COL_ALL},
	    {"TRIES", "attempts", 5, COL_NUMBER, COL_ALL},
	    {"TO", "recipients", 28, COL_TEXT, COL_ALL},
	    {"KEY", "key", 44, COL_TEXT, COL_ALL},
	    {"SUBJECT", "subject", 0, COL_TEXT, COL_ALL},
	    {"last error", "last_error", 0, COL_TEXT, COL_BELOW},
	    {"", "smtp_code", 0, COL_NUMBER, COL_JSON},
	    {"", "created", 0, COL_TEXT, COL_JSON},
	    {"", "sent", 0, COL_TEXT, COL_JSON},
	};
	struct store_outbox *list = NULL;
	const char *status = NULL, *to = NULL, *error;
	struct table t;
	enum fmt fmt = FMT_TEXT;
	size_t n = 0;
	int opt, filters = 0;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'f':
			status = "failed";
			filters++;
			break;
		case 'q':
			status = "queued";
			filters++;
			break;
		case 's':
			status = "sent";
			filters++;
			break;
		case 'd':
			status = "dropped";
			filters++;
			break;
		case 't':
			to = optarg;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		default:
			return 2;
		}
	}
	if (filters > 1)
		return bad_usage(ctl, "give one of --failed, --queued, --sent, --dropped");
	if (optind < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind]);
	if (store_outbox_list(ctl->store, status, to, 1000, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		char id[24], tries[24], code[24], created[26], sent[26];

		snprintf(id, sizeof(id), "%lld", (long long)list[i].id);
		snprintf(tries, sizeof(tries), "%d", list[i].attempts);
		if (list[i].smtp_code > 0)
			snprintf(code, sizeof(code), "%d", list[i].smtp_code);
		else
			code[0] = '\0';
		time_cell(list[i].created_at, created);
		time_cell(list[i].sent_at, sent);
		{
			const char *cells[] = {id,
			                       list[i].status,
			                       tries,
			                       list[i].recipients,
			                       list[i].key,
			                       nz(list[i].subject),
			                       nz(list[i].last_error),
			                       code,
			                       created,
			                       sent};
			table_row(&t, cells);
		}
	}
	table_end(&t);
	store_outbox_list_free(&list, n);
	return 0;
}

/* outbox retry ID: a failed email goes again as it was, at the next cycle. */
static int
cmd_outbox_retry(struct ctl *ctl, int argc, char **argv)
{
	struct store_outbox o;
	struct store_person p;
	const char *error = NULL;
	char object[40];
	int64_t id;
	bool found, done;
	int ret = 1;

	memset(&o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind != 1)
		return bad_usage(ctl, argc - optind < 1 ? "outbox retry needs the email's ID"
		                                        : "outbox retry takes one ID");
	id = parse_id(argv[optind]);
	if (id < 0)
		return bad_usage(ctl, "\"%s\" is not an email's ID", argv[optind]);
	if (store_begin(ctl->store, &error) < 0 ||
	    store_outbox_get(ctl->store, id, &found, &o, &error) < 0)
		goto out;
	if (!found) {
		fprintf(stderr, "mentorctl: there is no email #%lld in the outbox\n",
		        (long long)id);
		goto out;
	}
	if (strcmp(o.status, "failed") != 0) {
		fprintf(stderr, "mentorctl: email #%lld is %s, not failed; nothing changed\n",
		        (long long)id, o.status);
		goto out;
	}
	/* Retry goes to the address it went to: not one that bounced, nor
	 * one corrected since (resend goes to the address as it is now). */
	if (o.person_id > 0) {
		if (store_person_get(ctl->store, o.person_id, &p, &error) < 0)
			goto out;
		if (p.undeliverable) {
			fprintf(stderr,
			        "mentorctl: %s bounced (%s); correct it with mentorctl person set "
			        "%s email=ADDRESS deliverable=yes, then mentorctl resend %s\n",
			        p.email, nz(p.undeliverable_reason), p.email, o.key);
			goto out;
		}
		if (strcasecmp(p.email, o.recipients) != 0) {
			fprintf(
			    stderr,
			    "mentorctl: email #%lld went to %s, and that person's address is now "
			    "%s: mentorctl resend %s sends it there\n",
			    (long long)id, o.recipients, p.email, o.key);
			goto out;
		}
	}
	if (store_outbox_requeue(ctl->store, id, clock_now(), &done, &error) < 0)
		goto out;
	if (!done) {
		fprintf(stderr, "mentorctl: email #%lld was not composed (%s); nothing to send\n",
		        (long long)id, nz(o.last_error));
		goto out;
	}
	snprintf(object, sizeof(object), "outbox %lld", (long long)id);
	if (audit(ctl, "outbox retry", object, "status", o.status, "queued", &error) < 0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	printf("email #%lld (%s) to %s queued again; mentord sends it at its next cycle\n",
	       (long long)id, o.key, o.recipients);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_outbox_clear(&o);
	store_person_clear(&p);
	return ret;
}

static int
cmd_outbox(struct ctl *ctl, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "retry") == 0) {
		ctl->usage = "outbox retry ID";
		return cmd_outbox_retry(ctl, argc - 1, argv + 1);
	}
	return cmd_outbox_list(ctl, argc, argv);
}

/* resend KEY: the email again, to its person's address today. */
static int
cmd_resend(struct ctl *ctl, int argc, char **argv)
{
	struct outbox_resent r;
	const char *error = NULL;
	char object[40];
	int ret = 1;

	memset(&r, 0, sizeof(r));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind != 1)
		return bad_usage(ctl, argc - optind < 1 ? "resend needs the email's key"
		                                        : "resend takes one key");
	if (store_begin(ctl->store, &error) < 0)
		goto out;
	if (outbox_resend(ctl->config, ctl->store, argv[optind], clock_now(), &r, &error) < 0)
		goto out;
	snprintf(object, sizeof(object), "outbox %lld", (long long)r.id);
	if (audit(ctl, "resend", object, "key", argv[optind], r.key, &error) < 0 ||
	    (strcmp(r.to, r.old_to) != 0 &&
	     audit(ctl, "resend", object, "recipients", r.old_to, r.to, &error) < 0) ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	printf("%s queued again as %s (email #%lld) to %s; mentord sends it at its next cycle\n",
	       argv[optind], r.key, (long long)r.id, r.to);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: resend %s: %s\n", argv[optind], error);
	}
	outbox_resent_clear(&r);
	return ret;
}

/* audit [--json]: every correction made with mentorctl. */
static int
cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct column cols[] = {
	    {"WHEN", "at", 25, COL_TEXT, COL_ALL},
	    {"WHO", "who", 24, COL_TEXT, COL_ALL},
	    {"ACTION", "action", 18, COL_TEXT, COL_ALL},
	    {"OBJECT", "object", 16, COL_TEXT, COL_ALL},
	    {"FIELD", "field", 12, COL_TEXT, COL_ALL},
	    {"OLD", "old", 24, COL_TEXT, COL_ALL},
	    {"NEW", "new", 0, COL_TEXT, COL_ALL},
	};
	struct store_audit *list = NULL;
	struct table t;
	const char *error;
	enum fmt fmt;
	size_t n = 0;
	int rc;

	rc = listing_options(ctl, argc, argv, &fmt);
	if (rc != 0)
		return rc;
	if (store_audit_list(ctl->store, NULL, &list, &n, &error) < 0)
		return fail(error);
	table_begin(&t, cols, N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < n; i++) {
		char when[26];

		clock_iso8601(list[i].at, when);
		{
			const char *cells[] = {when,
			                       list[i].who,
			                       list[i].action,
			                       list[i].object,
			                       nz(list[i].field),
			                       nz(list[i].old_value),
			                       nz(list[i].new_value)};
			table_row(&t, cells);
		}
	}
	table_end(&t);
	store_audit_list_free(&list, n);
	return 0;
}

/* ---- correct ---- */

/* Splits "key=value" (a copy in *key_r, value pointing into it); false
 * when there is no "=" or no key. */
static bool
split_assignment(const char *arg, char **key_r, const char **value_r)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		return false;
	*key_r = xstrndup(arg, (size_t)(eq - arg));
	*value_r = eq + 1;
	return true;
}

/*
 * person set EMAIL key=value...  Keys:
 *   name=NAME           the name mail is addressed with ("" clears it)
 *   email=ADDRESS       a corrected address (not one another person has)
 *   deliverable=yes|no  yes: the address works again (after a bounce)
 * All or nothing, one audit row per change.
 */
static int
cmd_person_set(struct ctl *ctl, int argc, char **argv)
{
	static const char *const keys[] = {"name", "email", "deliverable"};
	struct store_person p;
	const char *error = NULL;
	char object[40];
	bool found;
	int ret = 1;

	memset(&p, 0, sizeof(p));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind < 2)
		return bad_usage(ctl, argc - optind < 1 ? "person set needs an address"
		                                        : "person set needs key=value");
	/* Every argument is checked before anything changes. */
	for (int i = optind + 1; i < argc; i++) {
		const char *value = NULL;
		char *key;
		size_t k = 0;

		if (!split_assignment(argv[i], &key, &value))
			return bad_usage(ctl, "\"%s\" is not key=value", argv[i]);
		while (k < N_ELEMENTS(keys) && strcmp(keys[k], key) != 0)
			k++;
		free(key);
		if (k == N_ELEMENTS(keys))
			return bad_usage(ctl,
			                 "a person has no key \"%.*s\" (name, email, deliverable)",
			                 (int)(strchr(argv[i], '=') - argv[i]), argv[i]);
		if (k == 1 && !compose_valid_addr(value))
			return bad_usage(ctl, "\"%s\" is not an email address", value);
		if (k == 2 && strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return bad_usage(ctl, "deliverable is yes or no, not \"%s\"", value);
	}
	if (store_begin(ctl->store, &error) < 0 ||
	    store_person_by_email(ctl->store, argv[optind], &found, &p, &error) < 0)
		goto out;
	if (!found) {
		fprintf(stderr, "mentorctl: nobody has the address %s (see mentorctl people)\n",
		        argv[optind]);
		goto out;
	}
	snprintf(object, sizeof(object), "person %lld", (long long)p.id);
	for (int i = optind + 1; i < argc; i++) {
		const char *value = NULL;
		char *key = NULL, *lower = NULL;
		int rc = 0;

		split_assignment(argv[i], &key, &value);
		if (strcmp(key, "name") == 0) {
			rc = store_person_set_name(ctl->store, p.id, *value != '\0' ? value : NULL,
			                           &error);
			if (rc == 0)
				rc =
				    audit(ctl, "person set", object, "name", p.name, value, &error);
		} else if (strcmp(key, "email") == 0) {
			int64_t taken;

			lower = xstrdup(value);
			str_lower(lower);
			rc = store_person_set_email(ctl->store, p.id, lower, &taken, &error);
			if (rc == 0 && taken != 0) {
				error = errorf("%s is the address of person #%lld already; nothing "
				               "changed",
				               lower, (long long)taken);
				rc = -1;
			}
			if (rc == 0)
				rc = audit(ctl, "person set", object, "email", p.email, lower,
				           &error);
		} else {
			bool yes = strcmp(value, "yes") == 0;

			rc = store_person_set_undeliverable(
			    ctl->store, p.id, yes ? NULL : "marked undeliverable with mentorctl",
			    &error);
			if (rc == 0)
				rc = audit(ctl, "person set", object, "deliverable",
				           p.undeliverable ? "no" : "yes", value, &error);
		}
		free(key);
		free(lower);
		if (rc < 0)
			goto out;
	}
	if (store_commit(ctl->store, &error) < 0)
		goto out;
	printf("person #%lld (%s) changed\n", (long long)p.id, p.email);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_person_clear(&p);
	return ret;
}

/* The participation fields application edit corrects, by the names a
 * coordinator uses ("strengths" and "needs" are topics), with the store's
 * name and kind. */
static const struct {
	const char *name, *field;
	enum { EDIT_TEXT, EDIT_NUMBER, EDIT_PERSON } kind;
} edit_fields[] = {
    {"division", "division", EDIT_TEXT},
    {"topics", "topics", EDIT_TEXT},
    {"strengths", "topics", EDIT_TEXT},
    {"needs", "topics", EDIT_TEXT},
    {"availability", "availability", EDIT_TEXT},
    {"note", "note", EDIT_TEXT},
    {"level", "level", EDIT_NUMBER},
    {"capacity", "capacity", EDIT_NUMBER},
    {"supervisor", "supervisor", EDIT_PERSON},
    {"director", "director", EDIT_PERSON},
};

static size_t
edit_field(const char *name)
{
	size_t i = 0;

	while (i < N_ELEMENTS(edit_fields) && strcasecmp(edit_fields[i].name, name) != 0)
		i++;
	return i;
}

/* The value a participation has for a field, as text. */
static char *
edit_old_value(const struct store_participation *a, const char *field)
{
	if (strcmp(field, "division") == 0)
		return a->division != NULL ? xstrdup(a->division) : NULL;
	if (strcmp(field, "topics") == 0)
		return a->topics != NULL ? xstrdup(a->topics) : NULL;
	if (strcmp(field, "availability") == 0)
		return a->availability != NULL ? xstrdup(a->availability) : NULL;
	if (strcmp(field, "note") == 0)
		return a->note != NULL ? xstrdup(a->note) : NULL;
	if (strcmp(field, "level") == 0)
		return a->level >= 0 ? xasprintf("%ld", a->level) : NULL;
	if (strcmp(field, "capacity") == 0)
		return xasprintf("%ld", a->capacity);
	if (strcmp(field, "supervisor") == 0)
		return a->supervisor_email != NULL ? xstrdup(a->supervisor_email) : NULL;
	return a->director_email != NULL ? xstrdup(a->director_email) : NULL;
}

/* Checks a value for a column set directly (an application without a
 * form that binds it); 0, or 2 after saying what is wrong. */
static int
edit_check(struct ctl *ctl, size_t f, const char *value)
{
	bool capacity = strcmp(edit_fields[f].field, "capacity") == 0;

	if (edit_fields[f].kind == EDIT_NUMBER &&
	    (parse_count(value, 0) < 0 || (capacity && parse_count(value, 0) == 0)))
		return bad_usage(ctl, "%s is a whole number%s, not \"%s\"", edit_fields[f].name,
		                 capacity ? " above 0" : "", value);
	if (edit_fields[f].kind == EDIT_PERSON && *value != '\0' && !compose_valid_addr(value))
		return bad_usage(ctl, "%s is an email address, not \"%s\"", edit_fields[f].name,
		                 value);
	return 0;
}

/* Sets a column directly (an application registered by command, or a
 * field its form does not have), with its audit row. */
static int
edit_column(struct ctl *ctl, const struct store_participation *a, size_t f, const char *value,
            const char *object, const char **error_r)
{
	const char *field = edit_fields[f].field;
	char *old = edit_old_value(a, field), *lower = NULL;
	int64_t number = 0;
	int rc = 0;

	if (edit_fields[f].kind == EDIT_NUMBER) {
		number = parse_count(value, 0);
	} else if (edit_fields[f].kind == EDIT_PERSON && *value != '\0') {
		lower = xstrdup(value);
		str_lower(lower);
		rc = store_person_upsert(ctl->store, lower, NULL, &number, error_r);
		/* A supervisor is a contact of the program, as the form makes
		 * them. */
		if (rc == 0 && strcmp(field, "supervisor") == 0)
			rc = store_participation_add(ctl->store, a->program, number, "supervisor",
			                             clock_now(), error_r);
	}
	if (rc == 0)
		rc = store_participation_set_field(ctl->store, a->id, field,
		                                   *value != '\0' ? value : NULL, number, error_r);
	if (rc == 0)
		rc = audit(ctl, "application edit", object, field, old,
		           lower != NULL ? lower : value, error_r);
	free(old);
	free(lower);
	return rc;
}

/*
 * application edit ID FIELD=VALUE...: corrects what an application (or a
 * mentor's registration) said, field by field; its status and everything
 * not named stay.  FIELD is a field of its join form (its key, as in
 * "Years as manager=4", or what the field binds: division, topics, level,
 * capacity, availability, supervisor, director), read as the form reads
 * it and set where the form sets it (workflow_correct_answer); or, for an
 * application without a form that has it, one of edit_fields, set as
 * given.  All or nothing, one audit row per field.
 */
static int
cmd_application_edit(struct ctl *ctl, int argc, char **argv)
{
	struct store_participation a;
	const char *error = NULL;
	char object[40];
	int64_t id;
	bool found;
	int ret = 1;

	memset(&a, 0, sizeof(a));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind < 2)
		return bad_usage(ctl, argc - optind < 1 ? "application edit needs an ID"
		                                        : "application edit needs FIELD=VALUE");
	id = parse_id(argv[optind]);
	if (id < 0)
		return bad_usage(ctl, "\"%s\" is not an application ID", argv[optind]);
	for (int i = optind + 1; i < argc; i++) {
		const char *value = NULL;
		char *key;

		if (!split_assignment(argv[i], &key, &value))
			return bad_usage(ctl, "\"%s\" is not FIELD=VALUE", argv[i]);
		free(key);
	}
	if (store_begin(ctl->store, &error) < 0 ||
	    store_participation_get(ctl->store, id, &found, &a, &error) < 0)
		goto out;
	if (!found) {
		fprintf(stderr,
		        "mentorctl: there is no application #%lld (see mentorctl "
		        "applications)\n",
		        (long long)id);
		goto out;
	}
	snprintf(object, sizeof(object), "participation %lld", (long long)id);
	for (int i = optind + 1; i < argc; i++) {
		struct workflow_correction c;
		const char *value = NULL;
		char *key = NULL;
		size_t f;
		int rc;

		split_assignment(argv[i], &key, &value);
		f = edit_field(key);
		rc = workflow_correct_answer(ctl->config, ctl->store, id,
		                             f < N_ELEMENTS(edit_fields) ? edit_fields[f].field
		                                                         : key,
		                             value, clock_now(), &c, &error);
		if (rc == 0 && c.problem != NULL) {
			ret = bad_usage(ctl, "%s", c.problem);
		} else if (rc == 0 && !c.no_form) {
			rc = audit(ctl, "application edit", object, c.field, c.old_value,
			           c.new_value, &error);
		} else if (rc == 0 && str_ieq(key, "email")) {
			ret =
			    bad_usage(ctl, "the address is the person's: correct it with mentorctl "
			                   "person set");
		} else if (rc == 0 && f == N_ELEMENTS(edit_fields)) {
			ret = bad_usage(
			    ctl,
			    "an application has no field \"%s\" (a field of its form, or "
			    "division, topics, strengths, needs, availability, note, level, "
			    "capacity, supervisor, director)",
			    key);
		} else if (rc == 0) {
			ret = edit_check(ctl, f, value);
			if (ret == 0) {
				ret = 1;
				rc = edit_column(ctl, &a, f, value, object, &error);
			}
		}
		workflow_correction_clear(&c);
		free(key);
		if (rc < 0 || ret == 2)
			goto out;
	}
	if (store_commit(ctl->store, &error) < 0)
		goto out;
	printf("application #%lld (%s, %s) changed\n", (long long)id, notice_name(a.name, a.email),
	       a.role);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_participation_clear(&a);
	return ret;
}

static int
cmd_mentor_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"strengths", required_argument, NULL, 's'},
	    {"capacity", required_argument, NULL, 'n'},
	    {"program", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const struct config_program *program = &ctl->config->programs[0];
	const char *strengths = NULL, *error = NULL;
	struct strbuf name = {0};
	char object[40], *email = NULL;
	long capacity = 0;
	int64_t id;
	int opt, ret = 1;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 's':
			strengths = optarg;
			break;
		case 'n':
			capacity = parse_count(optarg, 0);
			if (capacity <= 0)
				return bad_usage(ctl,
				                 "--capacity is a whole number above 0, not \"%s\"",
				                 optarg);
			break;
		case 'p':
			program = config_program_by_name(ctl->config, optarg);
			if (program == NULL)
				return bad_usage(ctl, "no program \"%s\"", optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 1)
		return bad_usage(ctl, "mentor add needs an email address");
	if (!compose_valid_addr(argv[optind]))
		return bad_usage(ctl, "\"%s\" is not an email address", argv[optind]);
	for (int i = optind + 1; i < argc; i++) {
		if (name.len > 0)
			strbuf_addc(&name, ' ');
		strbuf_adds(&name, argv[i]);
	}
	email = xstrdup(argv[optind]);
	str_lower(email);
	if (store_begin(ctl->store, &error) < 0 ||
	    workflow_add_mentor(ctl->config, ctl->store, program, email,
	                        name.len > 0 ? strbuf_str(&name) : NULL, strengths, capacity,
	                        clock_now(), &id, &error) < 0)
		goto out;
	snprintf(object, sizeof(object), "participation %lld", (long long)id);
	if (audit(ctl, "mentor add", object, NULL, NULL, email, &error) < 0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	printf("mentor #%lld registered in %s\n", (long long)id, program->name);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		fprintf(stderr, "mentorctl: %s\n", error);
	}
	strbuf_free(&name);
	free(email);
	return ret;
}

/* A participation named by ID or by email address (in program, with
 * role); *id_r 0 when there is none, after saying so. */
static int
find_participation(struct ctl *ctl, const char *arg, const char *program, const char *role,
                   int64_t *id_r, const char **error_r)
{
	struct store_participation p;
	bool found = false;
	int64_t person = 0;

	*id_r = parse_id(arg);
	if (*id_r > 0)
		return 0;
	*id_r = 0;
	memset(&p, 0, sizeof(p));
	{
		struct store_person who;

		memset(&who, 0, sizeof(who));
		if (store_person_by_email(ctl->store, arg, &found, &who, error_r) < 0)
			return -1;
		person = who.id;
		store_person_clear(&who);
	}
	if (found &&
	    store_participation_find(ctl->store, program, person, role, &found, &p, error_r) < 0)
		return -1;
	if (found)
		*id_r = p.id;
	else
		fprintf(stderr, "mentorctl: %s has no %s application in %s\n", arg, role, program);
	store_participation_clear(&p);
	return 0;
}

/*
 * match MENTEE MENTOR [reason...]: what the coordinator's "match ID with
 * ID" does (groups_make_pair: the same checks, both introduced).  MENTEE
 * and MENTOR are application IDs or addresses.
 */
static int
cmd_match(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"program", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const struct config_program *program = NULL;
	const struct program_group *unit;
	struct store_participation a;
	struct strbuf said = {0}, reason = {0};
	const char *error = NULL;
	char *line = NULL, object[40];
	int64_t first = 0, second = 0, group = 0;
	int opt, ret = 1, at;
	bool found;

	memset(&a, 0, sizeof(a));
	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		if (opt == '?')
			return 2;
		program = config_program_by_name(ctl->config, optarg);
		if (program == NULL)
			return bad_usage(ctl, "no program \"%s\"", optarg);
	}
	at = optind;
	if (argc - at >= 3 && strcasecmp(argv[at + 1], "with") == 0) {
		argv[at + 1] = argv[at];
		at++;
	}
	if (argc - at < 2)
		return bad_usage(ctl, "match needs a mentee and a mentor");
	for (int i = at; i < at + 2; i++)
		if (parse_id(argv[i]) < 0 && strchr(argv[i], '@') == NULL)
			return bad_usage(ctl, "\"%s\" is neither an application ID nor an address",
			                 argv[i]);
	for (int i = at + 2; i < argc; i++)
		strbuf_addf(&reason, "%s%s", i == at + 2 ? "" : " ", argv[i]);
	if (store_begin(ctl->store, &error) < 0)
		goto out;
	/* The program: given, or the one of an application named by ID, or the
	 * first. */
	if (program == NULL && parse_id(argv[at]) > 0) {
		if (store_participation_get(ctl->store, parse_id(argv[at]), &found, &a, &error) < 0)
			goto out;
		if (found)
			program = config_program_by_name(ctl->config, a.program);
	}
	if (program == NULL)
		program = &ctl->config->programs[0];
	unit = program_pair_group(&program->model);
	if (unit == NULL) {
		fprintf(stderr, "mentorctl: program %s forms teams, not pairs\n", program->name);
		goto out;
	}
	if (find_participation(ctl, argv[at], program->name, unit->roles.v[0], &first, &error) <
	        0 ||
	    find_participation(ctl, argv[at + 1], program->name, unit->roles.v[1], &second,
	                       &error) < 0)
		goto out;
	if (first == 0 || second == 0)
		goto out; /* said why */
	line = xasprintf("match %lld with %lld", (long long)first, (long long)second);
	if (groups_make_pair(ctl->config, ctl->store, program, first, second, line,
	                     reason.len > 0 ? strbuf_str(&reason) : NULL, clock_now(), &said,
	                     &group, &error) < 0)
		goto out;
	if (group == 0) {
		fprintf(stderr, "mentorctl: %s", strbuf_str(&said));
		goto out;
	}
	snprintf(object, sizeof(object), "group %lld", (long long)group);
	if (audit(ctl, "match", object, NULL, NULL, line, &error) < 0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	fputs(strbuf_str(&said), stdout);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_participation_clear(&a);
	strbuf_free(&said);
	strbuf_free(&reason);
	free(line);
	return ret;
}

/* "VERB ID [reason...]" (end, rematch): the ID and the words after it
 * joined into reason.  Returns 0, or bad_usage's exit code; noun names
 * what the ID is for its messages, need is the words VERB needs. */
static int
group_verb_args(struct ctl *ctl, int argc, char **argv, const char *verb, const char *noun,
                int need, int64_t *id_r, struct strbuf *reason)
{
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind < need)
		return bad_usage(ctl, "%s needs a %s's ID%s", verb, noun,
		                 need > 1 ? " and the reason" : "");
	*id_r = parse_id(argv[optind]);
	if (*id_r < 0)
		return bad_usage(ctl, "\"%s\" is not a %s's ID", argv[optind], noun);
	for (int i = optind + 1; i < argc; i++)
		strbuf_addf(reason, "%s%s", i == optind + 1 ? "" : " ", argv[i]);
	return 0;
}

/* Begins the transaction and reads group id into *g (the caller clears
 * it).  Returns 0 when it is active in a configured program (*program_r),
 * 1 when not (said on stderr, with noun), -1 on error. */
static int
active_group_begin(struct ctl *ctl, int64_t id, const char *noun, struct store_group *g,
                   const struct config_program **program_r, const char **error_r)
{
	bool found;

	*program_r = NULL;
	if (store_begin(ctl->store, error_r) < 0 ||
	    store_group_get(ctl->store, id, &found, g, error_r) < 0)
		return -1;
	if (found)
		*program_r = config_program_by_name(ctl->config, g->program);
	if (!found || *program_r == NULL || strcmp(g->status, "active") != 0) {
		fprintf(stderr, "mentorctl: there is no active %s #%lld\n", noun, (long long)id);
		return 1;
	}
	return 0;
}

/* end ID [reason...]: the coordinator's "end" (groups_end: every member
 * told, the first role back to be matched again). */
static int
cmd_end(struct ctl *ctl, int argc, char **argv)
{
	const struct config_program *program = NULL;
	struct store_group g;
	struct strbuf said = {0}, reason = {0};
	const char *error = NULL;
	char *line = NULL, object[40];
	int64_t id;
	int ret;

	memset(&g, 0, sizeof(g));
	ret = group_verb_args(ctl, argc, argv, "end", "partnership", 1, &id, &reason);
	if (ret != 0)
		goto out;
	ret = 1;
	if (active_group_begin(ctl, id, "partnership or team", &g, &program, &error) != 0)
		goto out;
	line = xasprintf("end %lld", (long long)id);
	if (groups_end(ctl->config, ctl->store, program, id, line,
	               reason.len > 0 ? strbuf_str(&reason) : NULL, clock_now(), &said, &error) < 0)
		goto out;
	snprintf(object, sizeof(object), "group %lld", (long long)id);
	if (audit(ctl, "end", object, "status", g.status, "ended", &error) < 0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	fputs(strbuf_str(&said), stdout);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_group_clear(&g);
	strbuf_free(&said);
	strbuf_free(&reason);
	free(line);
	return ret;
}

/* rematch ID REASON...: the coordinator's "rematch" (groups_rematch: the
 * pair ends with its reason recorded and audited, the first partner waits
 * for another, never the same). */
static int
cmd_rematch(struct ctl *ctl, int argc, char **argv)
{
	const struct config_program *program = NULL;
	struct store_group g;
	struct strbuf said = {0}, reason = {0};
	const char *error = NULL;
	char *line = NULL;
	int64_t id;
	int ret, rc;

	memset(&g, 0, sizeof(g));
	ret = group_verb_args(ctl, argc, argv, "rematch", "pair", 2, &id, &reason);
	if (ret != 0)
		goto out;
	ret = 1;
	if (active_group_begin(ctl, id, "pair", &g, &program, &error) != 0)
		goto out;
	line = xasprintf("rematch %lld", (long long)id);
	rc = groups_rematch(ctl->config, ctl->store, program, id, ctl->who, line,
	                    strbuf_str(&reason), clock_now(), &said, &error);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		fprintf(stderr, "mentorctl: %s", strbuf_str(&said));
		goto out;
	}
	if (store_commit(ctl->store, &error) < 0)
		goto out;
	fputs(strbuf_str(&said), stdout);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	store_group_clear(&g);
	strbuf_free(&said);
	strbuf_free(&reason);
	free(line);
	return ret;
}

/* meeting add ID DATE MINUTES: a meeting a partner reported in words
 * mentord could not read, read with the grammar of "met" (DATE as
 * YYYY-MM-DD, today or yesterday; MINUTES as 90, 90m, 1.5h, 1h30) and
 * recorded as a report is. */
static int
cmd_meeting_add(struct ctl *ctl, int argc, char **argv)
{
	struct command cmd;
	struct strbuf said = {0};
	const char *error = NULL;
	char *line = NULL, *value = NULL, object[40];
	bool digits = true, done;
	int64_t id;
	int rc, ret = 1;

	memset(&cmd, 0, sizeof(cmd));
	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind != 3)
		return bad_usage(ctl, argc - optind < 3 ? "meeting add needs ID DATE MINUTES"
		                                        : "meeting add takes ID DATE MINUTES only");
	id = parse_id(argv[optind]);
	if (id < 0)
		return bad_usage(ctl, "\"%s\" is not a partnership's ID", argv[optind]);
	for (const char *s = argv[optind + 2]; *s != '\0'; s++)
		digits = digits && *s >= '0' && *s <= '9';
	line = xasprintf("met %s %s%s", argv[optind + 1], argv[optind + 2], digits ? "m" : "");
	rc = command_parse_line(line, clock_now(), &cmd, &error);
	if (rc <= 0 || cmd.verb != CMD_MET || cmd.minutes <= 0 ||
	    (cmd.text != NULL && *cmd.text != '\0')) {
		ret = bad_usage(ctl, "%s", rc < 0 ? error : "cannot read the date and minutes");
		error = NULL; /* said */
		goto out;
	}
	if (store_begin(ctl->store, &error) < 0 ||
	    workflow_meeting_add(ctl->config, ctl->store, id, cmd.date, cmd.minutes, clock_now(),
	                         &said, &done, &error) < 0)
		goto out;
	if (!done) {
		fprintf(stderr, "mentorctl: %s", strbuf_str(&said));
		goto out;
	}
	snprintf(object, sizeof(object), "group %lld", (long long)id);
	value = xasprintf("%s %d minutes", cmd.date, cmd.minutes);
	if (audit(ctl, "meeting add", object, "meeting", NULL, value, &error) < 0 ||
	    store_commit(ctl->store, &error) < 0)
		goto out;
	fputs(strbuf_str(&said), stdout);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	command_clear(&cmd);
	strbuf_free(&said);
	free(line);
	free(value);
	return ret;
}

/* ---- sessions ---- */

/* The program with a session called name: the one given, or the first
 * that has one. */
static const struct config_program *
session_program(const struct ctl *ctl, const char *given, const char *name)
{
	if (given != NULL)
		return config_program_by_name(ctl->config, given);
	for (size_t i = 0; i < ctl->config->nprograms; i++)
		if (program_session(&ctl->config->programs[i].model, name) != NULL)
			return &ctl->config->programs[i];
	for (size_t i = 0; i < ctl->config->nprograms; i++)
		if (ctl->config->programs[i].model.nsessions > 0)
			return &ctl->config->programs[i];
	return NULL;
}

/* session attend SESSION ADDRESS... [--absent] [--program P]: the register
 * of a session, taken by the coordinator (present unless --absent).  Every
 * address must be someone taking part, or nothing is recorded. */
static int
cmd_session_attend(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"absent", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const struct config_program *program;
	const char *given = NULL, *error = NULL, *why = NULL;
	bool present = true, done = false;
	int opt, ret = 1;
	char object[64];

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		if (opt == '?')
			return 2;
		if (opt == 'a')
			present = false;
		else
			given = optarg;
	}
	if (argc - optind < 2)
		return bad_usage(ctl, "session attend needs a session and at least one address");
	program = session_program(ctl, given, argv[optind]);
	if (program == NULL)
		return bad_usage(
		    ctl, given != NULL ? "no program \"%s\"" : "no program has sessions", given);
	if (program_session(&program->model, argv[optind]) == NULL) {
		fprintf(stderr,
		        "mentorctl: program %s has no session \"%s\"; see mentorctl session "
		        "list\n",
		        program->name, argv[optind]);
		return 1;
	}
	if (clock_set_timezone(program->timezone, &error) < 0 ||
	    store_begin(ctl->store, &error) < 0)
		goto out;
	for (int i = optind + 1; i < argc; i++) {
		struct store_person p;
		bool found;

		memset(&p, 0, sizeof(p));
		if (store_person_by_email(ctl->store, argv[i], &found, &p, &error) < 0)
			goto out;
		if (found && session_attend(program, ctl->store, argv[optind], p.id, present,
		                            clock_now(), &done, &why, &error) < 0) {
			store_person_clear(&p);
			goto out;
		}
		store_person_clear(&p);
		if (!found || !done) {
			fprintf(stderr, "mentorctl: %s: %s; nothing recorded\n", argv[i],
			        found ? why : "no such person");
			goto out;
		}
		snprintf(object, sizeof(object), "session %s", argv[optind]);
		if (audit(ctl, "session attend", object, argv[i], NULL,
		          present ? "present" : "absent", &error) < 0)
			goto out;
		printf("%s: %s recorded %s\n", argv[optind], argv[i],
		       present ? "present" : "absent");
	}
	if (store_commit(ctl->store, &error) < 0)
		goto out;
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: %s\n", error);
	}
	(void)clock_set_timezone(ctl->config->timezone, &error);
	return ret;
}

/* session list [--program P]: each session, when, and its answers and
 * register so far. */
static int
cmd_session_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"program", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const char *given = NULL, *error = NULL;
	struct strbuf out = {0};
	int opt, ret = 1;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		if (opt == '?')
			return 2;
		given = optarg;
	}
	if (given != NULL && config_program_by_name(ctl->config, given) == NULL)
		return bad_usage(ctl, "no program \"%s\"", given);
	for (size_t i = 0; i < ctl->config->nprograms; i++) {
		const struct config_program *program = &ctl->config->programs[i];

		if (program->model.nsessions == 0 ||
		    (given != NULL && strcmp(given, program->name) != 0))
			continue;
		if (session_report(program, ctl->store, false, &out, &error) < 0)
			goto out;
	}
	fputs(strbuf_str(&out), stdout);
	ret = 0;
out:
	if (ret != 0 && error != NULL)
		fprintf(stderr, "mentorctl: %s\n", error);
	strbuf_free(&out);
	return ret;
}

/* ---- import ---- */

/* What a roster's column gives. */
enum import_what {
	IMPORT_EMAIL,
	IMPORT_NAME,
	IMPORT_ROLE,
	IMPORT_PROGRAM,
	IMPORT_BIND,
	IMPORT_UNTITLED, /* a column with no title (a spreadsheet's empty one) */
};

struct import_column {
	enum import_what what;
	enum form_bind bind; /* IMPORT_BIND */
};

/* A row of the roster, checked.  Its bound values are not kept: read
 * again from its record when it is applied (import_row_values), since
 * BIND_COUNT values a row made 38,000 rows cost 21 MiB. */
struct import_row {
	unsigned line;
	const struct config_program *program; /* borrowed */
	const struct csv_record *rec;         /* borrowed from the table */
	char *email;                          /* owned: lower case */
	const char *name, *role;              /* borrowed from the table; NULL when empty */
	/* What importing it did. */
	enum { IMPORT_UNCHANGED, IMPORT_CREATED, IMPORT_CHANGED } outcome;
};

/* The contact roles a roster may give: people with no application of
 * their own (a supervisor, as a join form makes them). */
static bool
import_contact_role(const char *role)
{
	return strcmp(role, "supervisor") == 0 || strcmp(role, "director") == 0;
}

/* What column title names: a word of ours, a bind's name, or the key (or
 * an alias) of a join form's field that binds what a roster may give;
 * false when none. */
static bool
import_column_of(const struct config *config, const char *title, struct import_column *c_r)
{
	static const struct {
		const char *title;
		enum import_what what;
		enum form_bind bind;
	} words[] = {
	    {"email", IMPORT_EMAIL, BIND_NONE},         {"e-mail", IMPORT_EMAIL, BIND_NONE},
	    {"email address", IMPORT_EMAIL, BIND_NONE}, {"e-mail address", IMPORT_EMAIL, BIND_NONE},
	    {"name", IMPORT_NAME, BIND_NONE},           {"role", IMPORT_ROLE, BIND_NONE},
	    {"program", IMPORT_PROGRAM, BIND_NONE},     {"strengths", IMPORT_BIND, BIND_TOPICS},
	    {"needs", IMPORT_BIND, BIND_TOPICS},
	};
	int b;

	for (size_t i = 0; i < N_ELEMENTS(words); i++)
		if (str_ieq(words[i].title, title)) {
			c_r->what = words[i].what;
			c_r->bind = words[i].bind;
			return true;
		}
	c_r->what = IMPORT_BIND;
	for (b = 0; b < BIND_COUNT; b++)
		if (workflow_roster_bind((enum form_bind)b) &&
		    str_ieq(form_bind_name((enum form_bind)b), title)) {
			c_r->bind = (enum form_bind)b;
			return true;
		}
	for (size_t p = 0; p < config->nprograms; p++) {
		const struct program *m = &config->programs[p].model;

		for (size_t f = 0; f < m->nforms; f++) {
			if (program_role_of_form(m, &m->forms[f]) == NULL)
				continue;
			for (size_t k = 0; k < m->forms[f].def.nfields; k++) {
				const struct form_field_def *fd = &m->forms[f].def.fields[k];
				bool named = str_ieq(fd->key, title);

				for (size_t a = 0; a < fd->aliases.n && !named; a++)
					named = str_ieq(fd->aliases.v[a], title);
				if (named && workflow_roster_bind(fd->bind)) {
					c_r->bind = fd->bind;
					return true;
				}
			}
		}
	}
	return false;
}

/* The columns a roster may have, for the message about one it may not. */
static char *
import_columns_accepted(const struct config *config)
{
	struct strbuf sb = {0};
	struct strvec keys = {0};
	char *list;

	strbuf_adds(&sb, "email, name, role, program, supervisor, director, division, topics "
	                 "(or strengths, needs), availability, level, capacity");
	for (size_t p = 0; p < config->nprograms; p++) {
		const struct program *m = &config->programs[p].model;

		for (size_t f = 0; f < m->nforms; f++) {
			if (program_role_of_form(m, &m->forms[f]) == NULL)
				continue;
			for (size_t k = 0; k < m->forms[f].def.nfields; k++) {
				const struct form_field_def *fd = &m->forms[f].def.fields[k];
				char *q;

				if (!workflow_roster_bind(fd->bind) ||
				    strvec_contains_ci(&keys, fd->key))
					continue;
				q = xasprintf("\"%s\"", fd->key);
				strvec_push(&keys, fd->key);
				strbuf_addf(&sb, ", %s", q);
				free(q);
			}
		}
	}
	list = strbuf_detach(&sb);
	strvec_free(&keys);
	return list;
}

/* Why title is no column: a form's field that binds nothing a
 * participation keeps, or nothing known.  The caller owns the result. */
static char *
import_unknown_why(const struct config *config, const char *title)
{
	for (size_t p = 0; p < config->nprograms; p++) {
		const struct program *m = &config->programs[p].model;

		for (size_t f = 0; f < m->nforms; f++) {
			if (program_role_of_form(m, &m->forms[f]) == NULL)
				continue;
			for (size_t k = 0; k < m->forms[f].def.nfields; k++)
				if (str_ieq(m->forms[f].def.fields[k].key, title))
					return xasprintf(
					    " (a field of the %s form that only its answer "
					    "keeps: leave the column out)",
					    m->forms[f].def.name);
		}
	}
	return xstrdup("");
}

/* The roles of program, "mentee, mentor (or supervisor, director)". */
static char *
import_roles(const struct config_program *program)
{
	struct strbuf sb = {0};

	for (size_t r = 0; r < program->model.nroles; r++)
		strbuf_addf(&sb, "%s%s", r > 0 ? ", " : "", program->model.roles[r].name);
	strbuf_adds(&sb, "; or supervisor, director for a contact");
	return strbuf_detach(&sb);
}

static void import_problem(const char *file, unsigned line, size_t *nproblems, const char *fmt, ...)
    ATTR_FORMAT(4, 5);

static void
import_problem(const char *file, unsigned line, size_t *nproblems, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	(*nproblems)++;
}

/* The rows checked so far by address: a roster of 38,000 looked up for
 * duplicates row by row against every earlier one took seconds.  Open
 * addressing; slots hold a row's index + 1, 0 when free; the rows of one
 * address lie along one probe sequence in the order they came. */
struct import_index {
	size_t *slots; /* owned */
	size_t mask;   /* slots - 1, a power of 2 minus 1, over twice the rows */
};

static size_t
import_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static void
import_index_add(struct import_index *index, const struct import_row *rows, size_t n)
{
	size_t h = import_hash(rows[n].email) & index->mask;

	while (index->slots[h] != 0)
		h = (h + 1) & index->mask;
	index->slots[h] = n + 1;
}

/* Reads the values row's bound columns give, by bind, into values (all
 * clear on entry; the caller clears them after): nothing for a contact,
 * or a row with no program or role.  The same reading checks a row and
 * applies it, so what was checked is what is registered. */
static void
import_row_values(const struct import_row *row, const struct import_column *cols, size_t ncols,
                  struct workflow_value *values)
{
	if (row->program == NULL || row->role == NULL || import_contact_role(row->role))
		return;
	for (size_t i = 0; i < ncols && i < row->rec->nfields; i++) {
		struct workflow_value *v = &values[cols[i].bind];

		if (cols[i].what != IMPORT_BIND || *row->rec->fields[i] == '\0')
			continue;
		workflow_value_clear(v);
		workflow_roster_value(row->program, row->role, cols[i].bind, row->rec->fields[i],
		                      v);
	}
}

/*
 * Checks one row against the file's others (rows[0..n)) and the database:
 * each problem said as FILE:LINE.  Cases refused: a missing or bad
 * address, a program or role that does not exist, the same person twice
 * for a program, a value the role's form (or the column) cannot take, a
 * value for a contact, someone as their own supervisor, someone who has
 * another role in the program (an application not ended).
 */
static int
import_check_row(struct ctl *ctl, const char *file, const struct import_column *cols, size_t ncols,
                 const struct csv_record *rec, const struct config_program *program_opt,
                 struct import_row *rows, size_t n, struct import_index *index, size_t *nproblems,
                 const char **error_r)
{
	struct import_row *row = &rows[n];
	struct workflow_value values[BIND_COUNT];
	const char *email = NULL, *program_name = NULL;
	int ret = -1;

	memset(values, 0, sizeof(values));
	row->line = rec->line;
	row->rec = rec;
	for (size_t i = ncols; i < rec->nfields; i++)
		if (*str_trim(rec->fields[i]) != '\0') {
			import_problem(
			    file, rec->line, nproblems,
			    "%zu fields, and the header names %zu columns: quote a field "
			    "that holds a comma",
			    rec->nfields, ncols);
			ret = 0;
			goto out;
		}
	for (size_t i = 0; i < ncols && i < rec->nfields; i++) {
		char *cell = str_trim(rec->fields[i]);

		if (*cell == '\0')
			continue;
		switch (cols[i].what) {
		case IMPORT_EMAIL:
			email = cell;
			break;
		case IMPORT_NAME:
			row->name = cell;
			break;
		case IMPORT_ROLE:
			row->role = cell;
			break;
		case IMPORT_PROGRAM:
			program_name = cell;
			break;
		case IMPORT_BIND:
			break;
		case IMPORT_UNTITLED:
			import_problem(file, rec->line, nproblems,
			               "\"%s\" in column %zu, which has no title: name the column "
			               "in the first line, or empty the cell",
			               cell, i + 1);
			break;
		}
	}
	if (program_name != NULL) {
		row->program = config_program_by_name(ctl->config, program_name);
		if (row->program == NULL)
			import_problem(file, rec->line, nproblems,
			               "no program \"%s\" (see mentorctl status)", program_name);
	} else if (program_opt != NULL) {
		row->program = program_opt;
	} else {
		import_problem(file, rec->line, nproblems,
		               "no program: fill in the program column, or give --program");
	}
	if (email == NULL)
		import_problem(file, rec->line, nproblems, "no email address");
	else if (!compose_valid_addr(email))
		import_problem(file, rec->line, nproblems,
		               "\"%s\" is not an email address (write the address alone, as "
		               "ana@example.org)",
		               email);
	else {
		row->email = xstrdup(email);
		str_lower(row->email);
	}
	if (row->name != NULL && strlen(row->name) > 80)
		import_problem(file, rec->line, nproblems, "the name is over 80 characters");
	/* The role as the program names it ("Mentee" is mentee). */
	if (row->role != NULL && row->program != NULL) {
		for (size_t r = 0; r < row->program->model.nroles; r++)
			if (str_ieq(row->program->model.roles[r].name, row->role))
				row->role = row->program->model.roles[r].name;
		if (str_ieq(row->role, "supervisor"))
			row->role = "supervisor";
		else if (str_ieq(row->role, "director"))
			row->role = "director";
	}
	if (row->role == NULL) {
		import_problem(file, rec->line, nproblems, "no role");
	} else if (row->program != NULL && program_role(&row->program->model, row->role) == NULL &&
	           !import_contact_role(row->role)) {
		char *roles = import_roles(row->program);

		import_problem(file, rec->line, nproblems, "%s has no role \"%s\" (roles: %s)",
		               row->program->name, row->role, roles);
		free(roles);
		row->role = NULL;
	}
	for (size_t i = 0; i < ncols && i < rec->nfields; i++)
		if (cols[i].what == IMPORT_BIND && *rec->fields[i] != '\0' && row->role != NULL &&
		    import_contact_role(row->role))
			import_problem(file, rec->line, nproblems,
			               "a %s is a contact: their row gives email, name, role and "
			               "program only (empty the %s cell)",
			               row->role, form_bind_name(cols[i].bind));
	import_row_values(row, cols, ncols, values);
	for (int b = 0; b < BIND_COUNT; b++)
		if (values[b].problem != NULL)
			import_problem(file, rec->line, nproblems, "%s", values[b].problem);
	if (row->email != NULL) {
		for (int b = BIND_SUPERVISOR; b <= BIND_DIRECTOR; b++)
			if (values[b].text != NULL && strcasecmp(values[b].text, row->email) == 0)
				import_problem(file, rec->line, nproblems,
				               "%s is given as their own %s: give someone else's "
				               "address, or leave it empty",
				               row->email, form_bind_name((enum form_bind)b));
		/* Someone may be a contact and a participant (a supervisor who
		 * mentors), not twice either. */
		for (size_t h = import_hash(row->email) & index->mask; index->slots[h] != 0;
		     h = (h + 1) & index->mask) {
			const struct import_row *other = &rows[index->slots[h] - 1];

			if (other->program == row->program &&
			    strcmp(other->email, row->email) == 0 && other->role != NULL &&
			    row->role != NULL &&
			    (strcmp(other->role, row->role) == 0 ||
			     import_contact_role(other->role) == import_contact_role(row->role)))
				import_problem(
				    file, rec->line, nproblems,
				    "%s is on line %u too: one row per person and program "
				    "(remove one of them)",
				    row->email, other->line);
		}
		import_index_add(index, rows, n);
	}
	/* Someone already in the program in another role: a person has one
	 * role at a time (a mentee who completed may come back a mentor). */
	if (row->email != NULL && row->program != NULL && row->role != NULL &&
	    !import_contact_role(row->role)) {
		struct store_participation *list = NULL;
		struct store_person p;
		size_t np = 0;
		bool found;

		memset(&p, 0, sizeof(p));
		if (store_person_by_email(ctl->store, row->email, &found, &p, error_r) < 0)
			goto out;
		if (found &&
		    store_participation_of_person(ctl->store, p.id, &list, &np, error_r) < 0) {
			store_person_clear(&p);
			goto out;
		}
		for (size_t k = 0; k < np; k++) {
			const struct store_participation *a = &list[k];

			if (strcmp(a->program, row->program->name) != 0 ||
			    strcmp(a->role, row->role) == 0 ||
			    program_role(&row->program->model, a->role) == NULL ||
			    strcmp(a->status, "withdrawn") == 0 ||
			    strcmp(a->status, "declined") == 0 ||
			    strcmp(a->status, "completed") == 0)
				continue;
			import_problem(file, rec->line, nproblems,
			               "%s is already a %s in %s (application #%lld, %s): correct "
			               "the role, or end that one first",
			               row->email, a->role, a->program, (long long)a->id,
			               a->status);
		}
		store_participation_list_free(&list, np);
		store_person_clear(&p);
	}
	ret = 0;
out:
	for (int b = 0; b < BIND_COUNT; b++)
		workflow_value_clear(&values[b]);
	return ret;
}

/* "3 mentees", "1 mentor" */
struct import_count {
	const char *role; /* borrowed */
	size_t n;
};

static void
import_count_add(struct import_count *counts, size_t *ncounts, const char *role)
{
	size_t i = 0;

	while (i < *ncounts && strcmp(counts[i].role, role) != 0)
		i++;
	if (i == *ncounts) {
		counts[i].role = role;
		counts[i].n = 0;
		(*ncounts)++;
	}
	counts[i].n++;
}

/* Registers one checked row (workflow_register_row), with its audit
 * rows, says what it did in row->outcome and adds the lines saying so to
 * said. */
static int
import_apply_row(struct ctl *ctl, const char *file, const struct import_column *cols, size_t ncols,
                 struct import_row *row, struct strbuf *said, const char **error_r)
{
	struct workflow_value values[BIND_COUNT];
	struct workflow_roster_row rr;
	struct workflow_registered done;
	char object[40];
	int ret = -1;

	memset(values, 0, sizeof(values));
	memset(&done, 0, sizeof(done));
	import_row_values(row, cols, ncols, values);
	rr.email = row->email;
	rr.name = row->name;
	rr.role = row->role;
	rr.values = values;
	if (workflow_register_row(ctl->config, ctl->store, row->program, &rr, clock_now(), &done,
	                          error_r) < 0) {
		*error_r = errorf("%s:%u: %s", file, row->line, *error_r);
		for (int b = 0; b < BIND_COUNT; b++)
			workflow_value_clear(&values[b]);
		return -1;
	}
	snprintf(object, sizeof(object), "participation %lld", (long long)done.participation_id);
	row->outcome = IMPORT_UNCHANGED;
	if (done.created) {
		char *what = xasprintf("%s: %s in %s, %s (%s:%u)", row->email, row->role,
		                       row->program->name, done.status, file, row->line);
		int rc = audit(ctl, "import", object, NULL, NULL, what, error_r);

		free(what);
		if (rc < 0)
			goto out;
		strbuf_addf(said, "%s:%u: %s: new %s, %s\n", file, row->line, row->email, row->role,
		            done.status);
		row->outcome = IMPORT_CREATED;
	} else if (done.nchanges > 0) {
		strbuf_addf(said, "%s:%u: %s: %s #%lld changed:", file, row->line, row->email,
		            row->role, (long long)done.participation_id);
		for (size_t c = 0; c < done.nchanges; c++) {
			const struct workflow_change *ch = &done.changes[c];

			if (audit(ctl, "import", ch->object, ch->field, ch->old_value,
			          ch->new_value, error_r) < 0)
				goto out;
			strbuf_addf(said, "%s %s \"%s\" -> \"%s\"", c > 0 ? ";" : "", ch->field,
			            nz(ch->old_value), nz(ch->new_value));
		}
		strbuf_addc(said, '\n');
		row->outcome = IMPORT_CHANGED;
	}
	/* Someone there already who is not taking part now: said, since the
	 * coordinator may have expected the roster to settle it. */
	if (!done.created && !import_contact_role(row->role) &&
	    strcmp(done.status, "accepted") != 0 && strcmp(done.status, "active") != 0 &&
	    strcmp(done.status, "matched") != 0)
		strbuf_addf(said,
		            "%s:%u: %s: %s #%lld stays %s: an import changes no status (see "
		            "mentorctl applications)\n",
		            file, row->line, row->email, row->role,
		            (long long)done.participation_id, done.status);
	ret = 0;
out:
	for (int b = 0; b < BIND_COUNT; b++)
		workflow_value_clear(&values[b]);
	workflow_registered_clear(&done);
	return ret;
}

/*
 * import people FILE.csv [--program P] [--dry-run]: a roster from a
 * spreadsheet.  Cases:
 *   1. the file cannot be read, is not CSV, or its header has a column
 *      mentorctl does not know (or lacks email, name or role): exit 2,
 *      nothing read further;
 *   2. any row has a problem: each said as FILE:LINE, exit 2, nothing
 *      imported;
 *   3. otherwise every row in one transaction (workflow_register_row),
 *      with an audit row for each person registered or changed, and a
 *      summary; --dry-run says the same and rolls it all back.
 * Nobody is emailed by the import (see mentorctl(8)).
 */
static int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const struct config_program *program = NULL;
	struct import_column *cols = NULL;
	struct import_row *rows = NULL;
	struct import_count counts[32];
	struct csv_table *table = NULL;
	struct import_index index = {NULL, 0};
	struct strbuf said = {0};
	const char *error = NULL, *file;
	char *data = NULL;
	size_t len, ncols = 0, nrows = 0, nproblems = 0, ncounts = 0;
	size_t created = 0, changed = 0, unchanged = 0;
	unsigned line;
	bool dry_run = false, has[4] = {false, false, false, false};
	int opt, ret = 1;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'p':
			program = config_program_by_name(ctl->config, optarg);
			if (program == NULL)
				return bad_usage(ctl, "no program \"%s\"", optarg);
			break;
		case 'n':
			dry_run = true;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 2 || strcmp(argv[optind], "people") != 0)
		return bad_usage(ctl, argc - optind < 1 || strcmp(argv[optind], "people") == 0
		                          ? "import people needs a CSV file"
		                          : "import imports people only");
	if (argc - optind > 2)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind + 2]);
	file = argv[optind + 1];
	if (program == NULL && ctl->config->nprograms == 1)
		program = &ctl->config->programs[0];
	if (read_file(file, 16u * 1024 * 1024, &data, &len, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 2;
	}
	ret = 2;
	if (csv_parse(data, len, &table, &line, &error) < 0) {
		fprintf(stderr, "%s:%u: %s; nothing imported\n", file, line, error);
		goto out;
	}
	if (table->nrecords == 0) {
		fprintf(stderr,
		        "%s: empty: the first line names the columns (email, name, role...)\n",
		        file);
		goto out;
	}
	/* 1. The header. */
	{
		const struct csv_record *h = &table->records[0];

		ncols = h->nfields;
		cols = xcalloc(ncols, sizeof(*cols));
		if (ncols == 1 && strchr(h->fields[0], ';') != NULL) {
			fprintf(stderr,
			        "%s:%u: one column \"%s\": the file is separated by semicolons; "
			        "save it as CSV with commas\n",
			        file, h->line, h->fields[0]);
			goto out;
		}
		for (size_t i = 0; i < ncols; i++) {
			char *title = str_trim(h->fields[i]);

			if (*title == '\0') {
				cols[i].what = IMPORT_UNTITLED;
				continue;
			}
			if (!import_column_of(ctl->config, title, &cols[i])) {
				char *accepted = import_columns_accepted(ctl->config);
				char *why = import_unknown_why(ctl->config, title);

				fprintf(stderr,
				        "%s:%u: unknown column \"%s\"%s; the columns are %s\n",
				        file, h->line, title, why, accepted);
				free(accepted);
				free(why);
				goto out;
			}
			for (size_t k = 0; k < i; k++)
				if (cols[k].what == cols[i].what &&
				    (cols[i].what != IMPORT_BIND || cols[k].bind == cols[i].bind)) {
					fprintf(
					    stderr,
					    "%s:%u: columns \"%s\" and \"%s\" both give %s: keep "
					    "one\n",
					    file, h->line, h->fields[k], title,
					    cols[i].what == IMPORT_BIND
					        ? form_bind_name(cols[i].bind)
					        : title);
					goto out;
				}
			if (cols[i].what < IMPORT_BIND)
				has[cols[i].what] = true;
		}
		if (!has[IMPORT_EMAIL] || !has[IMPORT_NAME] || !has[IMPORT_ROLE]) {
			fprintf(stderr,
			        "%s:%u: no \"%s\" column: the header names email, name and "
			        "role at least\n",
			        file, h->line,
			        !has[IMPORT_EMAIL]  ? "email"
			        : !has[IMPORT_NAME] ? "name"
			                            : "role");
			goto out;
		}
		if (!has[IMPORT_PROGRAM] && program == NULL) {
			fprintf(
			    stderr,
			    "%s:%u: no \"program\" column, and %zu programs are configured: give "
			    "--program P, or a program column\n",
			    file, h->line, ctl->config->nprograms);
			goto out;
		}
	}
	/* 2. Every row, before anything changes (inside the transaction, so
	 * what they are checked against stays as it is). */
	if (store_begin(ctl->store, &error) < 0) {
		ret = 1;
		goto out;
	}
	rows = xcalloc(table->nrecords, sizeof(*rows));
	for (index.mask = 15; index.mask < 2 * table->nrecords; index.mask = index.mask * 2 + 1)
		;
	index.slots = xcalloc(index.mask + 1, sizeof(*index.slots));
	for (size_t r = 1; r < table->nrecords; r++) {
		if (import_check_row(ctl, file, cols, ncols, &table->records[r], program, rows,
		                     nrows, &index, &nproblems, &error) < 0) {
			ret = 1;
			goto out;
		}
		nrows++;
	}
	if (nproblems > 0) {
		fprintf(stderr,
		        "mentorctl: %s: %zu problem%s; nothing imported: correct the file and "
		        "import it again\n",
		        file, nproblems, nproblems == 1 ? "" : "s");
		goto out;
	}
	/* 3. Contacts first, so that a supervisor a participant's row names
	 * is registered by their own row, with their name. */
	ret = 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t r = 0; r < nrows; r++)
			if (import_contact_role(rows[r].role) == (pass == 0) &&
			    import_apply_row(ctl, file, cols, ncols, &rows[r], &said, &error) < 0)
				goto out;
	for (size_t r = 0; r < nrows; r++) {
		if (rows[r].outcome == IMPORT_UNCHANGED) {
			unchanged++;
			continue;
		}
		if (rows[r].outcome == IMPORT_CREATED)
			created++;
		else
			changed++;
		if (ncounts < N_ELEMENTS(counts))
			import_count_add(counts, &ncounts, rows[r].role);
	}
	fputs(strbuf_str(&said), stdout);
	printf("%s %zu %s", dry_run ? "would import" : "imported", created + changed,
	       created + changed == 1 ? "person" : "people");
	for (size_t i = 0; i < ncounts; i++)
		printf("%s %zu %s%s", i == 0 ? ":" : ",", counts[i].n, counts[i].role,
		       counts[i].n == 1 ? "" : "s");
	if (created + changed > 0)
		printf(" (%zu new, %zu changed)", created, changed);
	if (unchanged > 0)
		printf("; %zu already there, unchanged", unchanged);
	printf("%s\n", dry_run ? "; nothing changed (--dry-run)" : "");
	if (dry_run) {
		store_rollback(ctl->store);
	} else if (store_commit(ctl->store, &error) < 0) {
		goto out;
	}
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL && ret == 1)
			fprintf(stderr, "mentorctl: import: %s; nothing imported\n", error);
	}
	for (size_t r = 0; rows != NULL && r < table->nrecords; r++)
		free(rows[r].email);
	free(rows);
	free(index.slots);
	free(cols);
	strbuf_free(&said);
	csv_table_free(&table);
	free(data);
	return ret;
}

/* roster import FILE.csv [--program P] [--dry-run]: import people under
 * the name a survey's coordinator looks for; the same importer. */
static int
cmd_roster_import(struct ctl *ctl, int argc, char **argv)
{
	char **args = xcalloc((size_t)argc + 2, sizeof(*args));
	int rc;

	args[0] = argv[0];
	args[1] = (char *)"people";
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	rc = cmd_import(ctl, argc + 1, args);
	free(args);
	return rc;
}

/* ---- report ---- */

/* Cadence and status only: no notes, no self-assessments (confidentiality).
 * The meetings come from one grouped query, merged with the months of each
 * partnership (both ordered by partnership), so a report over 100,000
 * partnerships is one pass, not one query per partnership and month.
 * Text and CSV rows are printed as they come; JSON is one document. */
static int
cmd_report(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"csv", no_argument, NULL, 'c'},           {"json", no_argument, NULL, 'j'},
	    {"program", required_argument, NULL, 'p'}, {"since", required_argument, NULL, 's'},
	    {"evaluations", no_argument, NULL, 'e'},   {NULL, 0, NULL, 0},
	};
	/* The first REPORT_CSV_COLUMNS are the CSV of earlier releases, which
	 * spreadsheets and scripts read by position: the evaluation columns
	 * come in CSV with --evaluations only (text and JSON always). */
	enum { REPORT_CSV_COLUMNS = 9 };
	static const struct column cols[] = {
	    {"PROGRAM", "program", 10, COL_TEXT, COL_ALL},
	    {"ID", "partnership", 5, COL_NUMBER, COL_ALL},
	    {"MENTEE", "mentee", 24, COL_TEXT, COL_ALL},
	    {"MENTOR", "mentor", 24, COL_TEXT, COL_ALL},
	    {"STATUS", "status", 9, COL_TEXT, COL_ALL},
	    {"MONTH", "month", 7, COL_TEXT, COL_ALL},
	    {"MEETINGS", "meetings", 8, COL_NUMBER, COL_ALL},
	    {"MINUTES", "minutes", 7, COL_NUMBER, COL_ALL},
	    {"REQUIRED", "required", 8, COL_NUMBER, COL_ALL},
	    {"EVAL ASKED", "evaluations_requested", 10, COL_NUMBER, COL_ALL},
	    {"RECEIVED", "evaluations_received", 8, COL_NUMBER, COL_ALL},
	    {"OUTSTANDING", "evaluations_outstanding", 11, COL_NUMBER, COL_ALL},
	    {"EVALUATIONS", "evaluations", 0, COL_TEXT, COL_ALL},
	};
	const struct config_program *only = NULL;
	const char *since = NULL, *error;
	struct report_table rt = {0};
	struct table t;
	enum fmt fmt = FMT_TEXT;
	int opt, formats = 0;
	bool evaluations = false;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'e':
			evaluations = true;
			break;
		case 'c':
			fmt = FMT_CSV;
			formats++;
			break;
		case 'j':
			fmt = FMT_JSON;
			formats++;
			break;
		case 'p':
			only = config_program_by_name(ctl->config, optarg);
			if (only == NULL)
				return bad_usage(ctl, "no program \"%s\"", optarg);
			break;
		case 's': {
			int y, m, d;
			char day[11];

			snprintf(day, sizeof(day), "%.7s-01", optarg);
			if (strlen(optarg) != 7 || clock_parse_date(day, &y, &m, &d) < 0)
				return bad_usage(ctl, "--since takes a month, YYYY-MM, not \"%s\"",
				                 optarg);
			since = optarg;
			break;
		}
		default:
			return 2;
		}
	}
	if (formats > 1)
		return bad_usage(ctl, "give --csv or --json, not both");
	if (optind < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind]);
	/* A program of sessions reports in their terms: who answered each
	 * invitation and who attended. */
	if (fmt == FMT_CSV && !evaluations && only != NULL && only->model.nsessions > 0) {
		struct strbuf out = {0};

		if (session_report(only, ctl->store, true, &out, &error) < 0) {
			strbuf_free(&out);
			return fail(error);
		}
		fputs(strbuf_str(&out), stdout);
		strbuf_free(&out);
		return 0;
	}
	/* A survey reports its response: how many of those asked answered,
	 * and how many said yes to each yes/no question. */
	if (!evaluations && only != NULL && only->model.unit == NULL &&
	    report_is_survey_program(only)) {
		static const struct column survey_cols[] = {
		    {"PROGRAM", "program", 10, COL_TEXT, COL_ALL},
		    {"FORM", "form", 12, COL_TEXT, COL_ALL},
		    {"MEASURE", "measure", 28, COL_TEXT, COL_ALL},
		    {"COUNT", "count", 7, COL_NUMBER, COL_ALL},
		    {"OF", "of", 7, COL_NUMBER, COL_ALL},
		    {"PERCENT", "percent", 7, COL_NUMBER, COL_ALL},
		};

		if (report_survey_table(ctl->store, only, &rt, &error) < 0) {
			report_table_free(&rt);
			return fail(error);
		}
		table_begin(&t, survey_cols, N_ELEMENTS(survey_cols), fmt);
		for (size_t i = 0; i < rt.nrows; i++)
			table_row(&t, report_table_row(&rt, i));
		table_end(&t);
		report_table_free(&rt);
		return 0;
	}
	if (report_partnerships(ctl->config, ctl->store, only != NULL ? only->name : NULL, since,
	                        clock_now(), &rt, &error) < 0) {
		report_table_free(&rt);
		return fail(error);
	}
	/* report.c builds the columns in the order of cols. */
	table_begin(&t, cols,
	            fmt == FMT_CSV && !evaluations ? REPORT_CSV_COLUMNS : N_ELEMENTS(cols), fmt);
	for (size_t i = 0; i < rt.nrows; i++)
		table_row(&t, report_table_row(&rt, i));
	table_end(&t);
	report_table_free(&rt);
	return 0;
}

/* export WHAT: the coordinator's spreadsheet of applications, people,
 * groups or evaluation counts (CSV, or JSON), built by report.c: an
 * evaluation's answers are never in it. */
/* export answers: the answer being gathered (its values by field), and
 * the filter. */
struct answers_export {
	const struct program_form *form; /* borrowed */
	int64_t id;                      /* the answer gathered; 0: none yet */
	char *email, *name;              /* owned */
	time_t at;
	char **values;     /* owned: one per field of form, NULL when not given */
	int where_field;   /* the field --where names; -1: none */
	const char *where; /* borrowed: its value */
	long rows;
};

/* Writes the answer gathered, when it passes --where. */
static void
answers_export_flush(struct answers_export *x)
{
	struct strbuf sb = {0};
	char when[26];
	size_t n = x->form->def.nfields;

	if (x->id == 0)
		return;
	if (x->where_field < 0 ||
	    (x->values[x->where_field] != NULL &&
	     strcasecmp(str_trim(x->values[x->where_field]), x->where) == 0)) {
		clock_iso8601(x->at, when);
		report_csv_field(&sb, x->email, false);
		report_csv_field(&sb, x->name != NULL ? x->name : "", false);
		report_csv_field(&sb, when, n == 0);
		for (size_t k = 0; k < n; k++)
			report_csv_field(&sb, x->values[k] != NULL ? x->values[k] : "", k + 1 == n);
		fputs(strbuf_str(&sb), stdout);
		x->rows++;
	}
	strbuf_free(&sb);
	for (size_t k = 0; k < n; k++) {
		free(x->values[k]);
		x->values[k] = NULL;
	}
	free(x->email);
	free(x->name);
	x->email = x->name = NULL;
	x->id = 0;
}

static int
answers_export_row(void *ctx, const struct store_answer_row *r)
{
	struct answers_export *x = ctx;

	if (r->answer_id != x->id) {
		answers_export_flush(x);
		x->id = r->answer_id;
		x->email = xstrdup(r->email);
		x->name = r->name != NULL ? xstrdup(r->name) : NULL;
		x->at = r->created_at;
	}
	for (size_t k = 0; r->field != NULL && k < x->form->def.nfields; k++)
		if (strcmp(x->form->def.fields[k].key, r->field) == 0 && x->values[k] == NULL)
			x->values[k] = xstrdup(r->value != NULL ? r->value : "");
	return 0;
}

/*
 * export answers --form F [--where "FIELD=VALUE"]: every answer to a form
 * (a survey's results, its volunteers), one row each, as CSV: email,
 * name, when it was recorded, and each field of the form in its order.
 * Streamed: 38,000 answers are never held at once.  Cases: no --form, a
 * form that is not an answer form, or --where naming no field of it: exit
 * 2, with the forms or fields there are.
 */
/*
 * export answers --form F of a form about participants (a 180): the
 * report's figures for every participant taking part or completed, one
 * row per field: participant, name, supervisor, then self and supervisor
 * round by round, the latest answers (compare.h), complete or not.
 */
static int
export_compare(struct ctl *ctl, const struct config_program *program, const struct program_form *f)
{
	static const char *const statuses[] = {"accepted",  "matched", "active",
	                                       "completed", "paused",  "withdrawn"};
	struct strbuf head = {0}, sb = {0};
	const char *error = NULL;
	int ret = 0;

	report_csv_field(&head, "participant", false);
	report_csv_field(&head, "name", false);
	report_csv_field(&head, "supervisor", false);
	compare_csv_header(f, strbuf_str(&head), &sb);
	fputs(strbuf_str(&sb), stdout);
	strbuf_free(&sb);
	strbuf_free(&head);
	for (size_t st = 0; st < N_ELEMENTS(statuses) && ret == 0; st++) {
		struct store_participation *ps = NULL;
		size_t n = 0;

		if (store_participation_list(ctl->store, program->name, NULL, statuses[st], &ps, &n,
		                             &error) < 0)
			return fail(error);
		for (size_t i = 0; i < n && ret == 0; i++) {
			struct compare_report r;
			struct strbuf lead = {0};

			if (program_role(&program->model, ps[i].role) == NULL)
				continue;
			report_csv_field(&lead, ps[i].email, false);
			report_csv_field(&lead, ps[i].name != NULL ? ps[i].name : "", false);
			report_csv_field(
			    &lead, ps[i].supervisor_email != NULL ? ps[i].supervisor_email : "",
			    false);
			ret = compare_build(ctl->store, program, f, &ps[i], strbuf_str(&lead), &r,
			                    &error);
			if (ret == 0)
				fputs(strbuf_str(&r.csv), stdout);
			compare_report_free(&r);
			strbuf_free(&lead);
		}
		store_participation_list_free(&ps, n);
	}
	return ret < 0 ? fail(error) : 0;
}

static int
export_answers(struct ctl *ctl, const struct config_program *only, const char *form_name,
               const char *where)
{
	const struct config_program *program = only;
	const struct program_form *f = NULL;
	struct answers_export x;
	struct strbuf sb = {0};
	const char *error;
	int ret;

	if (program == NULL && ctl->config->nprograms == 1)
		program = &ctl->config->programs[0];
	for (size_t i = 0; program == NULL && i < ctl->config->nprograms; i++)
		if (program_form(&ctl->config->programs[i].model, form_name) != NULL)
			program = &ctl->config->programs[i];
	if (program != NULL)
		f = program_form(&program->model, form_name);
	if (f == NULL || f->use != FORM_USE_ANSWER)
		return bad_usage(ctl, "no answer form \"%s\"%s%s", form_name,
		                 program != NULL ? " in program " : "",
		                 program != NULL ? program->name : "");
	if (f->about == ABOUT_PARTICIPANT) {
		if (where != NULL)
			return bad_usage(ctl, "--where is not for a form about participants (%s)",
			                 f->def.name);
		return export_compare(ctl, program, f);
	}
	memset(&x, 0, sizeof(x));
	x.form = f;
	x.where_field = -1;
	if (where != NULL) {
		const char *eq = strchr(where, '=');
		char *key = eq != NULL ? xstrndup(where, (size_t)(eq - where)) : NULL;

		for (size_t k = 0; key != NULL && k < f->def.nfields; k++)
			if (strcasecmp(f->def.fields[k].key, str_trim(key)) == 0)
				x.where_field = (int)k;
		free(key);
		if (x.where_field < 0)
			return bad_usage(ctl,
			                 "--where \"%s\": write FIELD=VALUE with a field of form "
			                 "%s, e.g. \"%s=yes\"",
			                 where, f->def.name,
			                 f->def.nfields > 0 ? f->def.fields[f->def.nfields - 1].key
			                                    : "Field");
		x.where = eq + 1;
	}
	x.values = xcalloc(f->def.nfields + 1, sizeof(*x.values));
	report_csv_field(&sb, "email", false);
	report_csv_field(&sb, "name", false);
	report_csv_field(&sb, "recorded", f->def.nfields == 0);
	for (size_t k = 0; k < f->def.nfields; k++)
		report_csv_field(&sb, f->def.fields[k].key, k + 1 == f->def.nfields);
	fputs(strbuf_str(&sb), stdout);
	strbuf_free(&sb);
	ret = store_answer_rows(ctl->store, program->name, f->def.name, answers_export_row, &x,
	                        &error);
	if (ret == 0)
		answers_export_flush(&x);
	for (size_t k = 0; k < f->def.nfields; k++)
		free(x.values[k]);
	free(x.values);
	free(x.email);
	free(x.name);
	return ret < 0 ? fail(error) : 0;
}

static int
cmd_export(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"program", required_argument, NULL, 'p'},
	    {"form", required_argument, NULL, 'f'},
	    {"where", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const numbers[] = {"id",       "group",       "person",   "requested",
	                                      "received", "outstanding", "meetings", "minutes"};
	const struct config_program *only = NULL;
	struct report_table rt = {0};
	const char *error, *form = NULL, *where = NULL;
	bool json = false;
	int opt, what;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			only = config_program_by_name(ctl->config, optarg);
			if (only == NULL)
				return bad_usage(ctl, "no program \"%s\"", optarg);
			break;
		case 'f':
			form = optarg;
			break;
		case 'w':
			where = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return bad_usage(ctl, "export what? applications, people, groups, evaluations or "
		                      "answers");
	if (strcmp(argv[optind], "answers") == 0) {
		if (optind + 1 < argc)
			return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind + 1]);
		if (form == NULL)
			return bad_usage(ctl,
			                 "export answers needs --form FORM (e.g. --form survey)");
		if (json)
			return bad_usage(ctl, "export answers is CSV only; remove --json");
		return export_answers(ctl, only, form, where);
	}
	if (form != NULL || where != NULL)
		return bad_usage(ctl, "--form and --where are for export answers");
	what = report_export_parse(argv[optind]);
	if (what < 0)
		return bad_usage(ctl,
		                 "cannot export \"%s\"; use applications, people, groups or "
		                 "evaluations",
		                 argv[optind]);
	if (optind + 1 < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind + 1]);
	if (report_export(ctl->config, ctl->store, (enum report_export)what,
	                  only != NULL ? only->name : NULL, &rt, &error) < 0) {
		report_table_free(&rt);
		return fail(error);
	}
	if (json) {
		json_object *rows = json_object_new_array();

		for (size_t i = 0; i < rt.nrows; i++) {
			const char *const *cells = report_table_row(&rt, i);
			json_object *row = json_object_new_object();

			for (size_t k = 0; k < rt.keys.n; k++) {
				bool number = false;
				json_object *v = NULL;

				for (size_t m = 0; m < N_ELEMENTS(numbers); m++)
					number = number || strcmp(rt.keys.v[k], numbers[m]) == 0;
				if (cells[k][0] == '\0')
					v = NULL;
				else if (number)
					v = json_object_new_int64(strtoll(cells[k], NULL, 10));
				else
					v = json_object_new_string(cells[k]);
				json_object_object_add(row, rt.keys.v[k], v);
			}
			json_object_array_add(rows, row);
		}
		puts(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PRETTY |
		                                              JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(rows);
	} else {
		struct strbuf sb = {0};

		report_table_csv(&rt, &sb);
		fputs(strbuf_str(&sb), stdout);
		strbuf_free(&sb);
	}
	report_table_free(&rt);
	return 0;
}

static void
print_time(const char *label, time_t t)
{
	char buf[26];

	clock_iso8601(t, buf);
	printf("%s%s\n", label, buf);
}

/* oauth status: what the token file says.  Exit 0 when mentord can get
 * access tokens without anyone's help, 1 otherwise. */
static int
cmd_oauth_status(const struct config *config)
{
	static const char *const flows[] = {"device", "browser", "client_credentials"};
	const struct config_oauth *o = &config->oauth;
	struct oauth_status st;
	const char *error;
	time_t now = time(NULL);
	int status = 0;

	if (oauth_status_read(o, &st, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("provider: %s (flow %s), client %s\n", config_oauth_provider_name(o->provider),
	       flows[o->flow], o->client_id);
	printf("used by: %s%s%s\n", config->imap.auth != CONFIG_AUTH_PASSWORD ? "imap " : "",
	       config->imap.auth != CONFIG_AUTH_PASSWORD ? config_auth_name(config->imap.auth) : "",
	       config->smtp.auth != CONFIG_AUTH_PASSWORD
	           ? (config->smtp.auth == CONFIG_AUTH_XOAUTH2 ? ", smtp xoauth2"
	                                                       : ", smtp oauthbearer")
	           : "");
	printf("token file: %s%s\n", o->token_file, st.exists ? "" : " (missing)");
	if (st.other_client) {
		printf("the stored tokens are for another client_id or token_url: run mentorctl "
		       "oauth login\n");
		status = 1;
	}
	if (o->flow != CONFIG_OAUTH_CLIENT_CREDENTIALS) {
		printf("refresh token: %s\n",
		       st.has_refresh ? "stored" : "none: run mentorctl oauth login");
		if (!st.has_refresh)
			status = 1;
	}
	if (!st.has_access)
		printf("access token: none cached\n");
	else if (st.expires_at > now)
		print_time("access token: valid until ", st.expires_at);
	else
		print_time("access token: expired at ", st.expires_at);
	if (st.has_access && st.refresh_at > now)
		print_time("next renewal: ", st.refresh_at);
	if (st.failures > 0) {
		printf("renewal failures: %d in a row\n", st.failures);
		print_time("failing since: ", st.failing_since);
		print_time("next try: ", st.retry_at);
		printf("last error: %s\n", st.last_error != NULL ? st.last_error : "-");
		status = 1;
	}
	oauth_status_clear(&st);
	return status;
}

static int
cmd_oauth(const struct config *config, int argc, char **argv)
{
	const char *error = NULL;

	if (argc != 2 || (strcmp(argv[1], "login") != 0 && strcmp(argv[1], "status") != 0)) {
		fprintf(stderr, "usage: mentorctl [-c FILE] oauth login|status\n");
		return 2;
	}
	if (!config->oauth.used) {
		fprintf(stderr,
		        "mentorctl: %s: neither imap nor smtp has auth = xoauth2 or "
		        "oauthbearer; there is no OAuth sign-in to manage\n",
		        config->path);
		return 2;
	}
	if (strcmp(argv[1], "status") == 0)
		return cmd_oauth_status(config);
	if (oauth_login(&config->oauth, stdin, stdout, &error) != OAUTH_OK) {
		fprintf(stderr, "mentorctl: oauth login: %s\n", error);
		return 1;
	}
	return 0;
}

/* ---- preview ---- */

/* The longest preview: a year of hourly cycles. */
#define PREVIEW_MAX_DAYS 400

/* Subject without the " [ref:ID]" tag: the ID a preview would give is not
 * the one the email gets. */
static char *
subject_untagged(const char *subject)
{
	const char *tag = subject != NULL ? strstr(subject, " [ref:") : NULL;

	if (subject == NULL)
		return xstrdup("");
	return tag != NULL && strchr(tag, ']') != NULL && strchr(tag, ']')[1] == '\0'
	           ? xstrndup(subject, (size_t)(tag - subject))
	           : xstrdup(subject);
}

/*
 * preview --until DATE [--json]: every email mentord would send from now
 * to DATE, worked out by the daemon's own scheduler (due_run_in) at each
 * cycle the daemon would run (now, then at the top of every hour, as it
 * wakes with IDLE), inside one transaction that is rolled back: nothing
 * is changed and nothing sent.  What it cannot know is left out: mail not
 * received yet, and answers to it.  Emails queued already and due by DATE
 * are listed too (mentord sends them at its next cycle).  The
 * transaction holds the database's write lock while it runs: the daemon
 * waits for it.
 */
static int
cmd_preview(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"until", required_argument, NULL, 'u'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	static const struct column cols[] = {
	    {"WHEN", "when", 25, COL_TEXT, COL_ALL},
	    {"TO", "to", 30, COL_TEXT, COL_ALL},
	    {"SUBJECT", "subject", 50, COL_TEXT, COL_ALL},
	    {"WHY", "key", 0, COL_TEXT, COL_ALL},
	    {"", "kind", 0, COL_TEXT, COL_JSON},
	    {"", "queued_already", 0, COL_BOOL, COL_JSON},
	};
	struct store_outbox *before = NULL, *after = NULL;
	size_t nbefore = 0, nafter = 0;
	const char *until_arg = NULL, *error = NULL;
	time_t start = clock_now(), until = 0, t;
	struct table t_out;
	enum fmt fmt = FMT_TEXT;
	int opt, ret = 1;

	options_reset();
	while ((opt = next_option(ctl, argc, argv, options)) != -1) {
		switch (opt) {
		case 'u':
			until_arg = optarg;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return bad_usage(ctl, "unexpected argument \"%s\"", argv[optind]);
	if (until_arg == NULL)
		return bad_usage(ctl, "preview needs --until DATE");
	{
		int y, m, d;

		/* A date means the whole of that day. */
		if (strlen(until_arg) == 10 && clock_parse_date(until_arg, &y, &m, &d) == 0)
			until = clock_local_midnight(y, m, d + 1) - 1;
		else if (clock_parse(until_arg, &until) < 0)
			return bad_usage(ctl,
			                 "--until takes YYYY-MM-DD or YYYY-MM-DDTHH:MM, not \"%s\"",
			                 until_arg);
	}
	if (until < start)
		return bad_usage(ctl, "--until %s is in the past", until_arg);
	if (until - start > (time_t)PREVIEW_MAX_DAYS * 24 * 3600)
		return bad_usage(ctl, "--until is more than %d days ahead", PREVIEW_MAX_DAYS);
	if (store_begin(ctl->store, &error) < 0)
		return fail(error);
	if (store_outbox_list(ctl->store, "queued", NULL, SIZE_MAX / 2, &before, &nbefore, &error) <
	    0)
		goto out;
	/* The daemon's cycles: now, then every hour on the hour. */
	for (t = start; t <= until;) {
		struct tm tm;

		clock_set_fake(t);
		if (due_run_in(ctl->config, ctl->store, t, &error) < 0)
			goto out;
		clock_local(t, &tm);
		t += 3600 - (tm.tm_min * 60 + tm.tm_sec);
	}
	if (store_outbox_list(ctl->store, "queued", NULL, SIZE_MAX / 2, &after, &nafter, &error) <
	    0)
		goto out;
	store_rollback(ctl->store);
	clock_set_fake(start);
	table_begin(&t_out, cols, N_ELEMENTS(cols), fmt);
	/* Oldest first (the list is newest first). */
	for (size_t i = nafter; i-- > 0;) {
		const struct store_outbox *o = &after[i];
		bool already = false;
		time_t when = o->next_attempt_at > start ? o->next_attempt_at : start;
		char at[26], *subject;

		for (size_t k = 0; k < nbefore && !already; k++)
			already = before[k].id == o->id;
		if (when > until)
			continue;
		clock_iso8601(when, at);
		subject = subject_untagged(o->subject);
		{
			const char *cells[] = {at,     o->recipients, subject,
			                       o->key, o->kind,       already ? "yes" : "no"};
			table_row(&t_out, cells);
		}
		free(subject);
	}
	table_end(&t_out);
	ret = 0;
out:
	if (ret != 0) {
		store_rollback(ctl->store);
		if (error != NULL)
			fprintf(stderr, "mentorctl: preview: %s\n", error);
	}
	store_outbox_list_free(&before, nbefore);
	store_outbox_list_free(&after, nafter);
	return ret;
}

/* ---- main ---- */

static int
cmd_replay(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	int64_t id;

	options_reset();
	if (next_option(ctl, argc, argv, no_options) != -1)
		return 2;
	if (argc - optind != 1)
		return bad_usage(ctl, argc - optind < 1 ? "replay needs a message ID"
		                                        : "replay takes one message ID");
	id = parse_id(argv[optind]);
	if (id < 0)
		return bad_usage(ctl, "\"%s\" is not a message ID", argv[optind]);
	if (ingest_replay(ctl->config, ctl->store, id, clock_now(), &error) < 0) {
		fprintf(stderr, "mentorctl: replay %lld: %s\n", (long long)id, error);
		return 1;
	}
	printf("message %lld applied again\n", (long long)id);
	return 0;
}

/* The commands: words (one or two), usage, and what runs them. */
struct command_def {
	const char *word, *sub;
	const char *usage;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

static int cmd_status_run(struct ctl *ctl, int argc, char **argv);

static const struct command_def commands[] = {
    {"status", NULL, "status [--json]", cmd_status_run},
    {"people", NULL, "people [--json]", cmd_people},
    {"person", "set", "person set EMAIL name=NAME|email=ADDRESS|deliverable=yes|no...",
     cmd_person_set},
    {"applications", NULL, "applications [--json]", cmd_applications},
    {"application", "edit", "application edit ID FIELD=VALUE...", cmd_application_edit},
    {"matches", NULL, "matches [--json]", cmd_matches},
    {"match", NULL, "match MENTEE MENTOR [REASON...] [--program P]", cmd_match},
    {"end", NULL, "end ID [REASON...]", cmd_end},
    {"rematch", NULL, "rematch ID REASON...", cmd_rematch},
    {"meeting", "add", "meeting add ID DATE MINUTES", cmd_meeting_add},
    {"session", "attend", "session attend SESSION ADDRESS... [--absent] [--program P]",
     cmd_session_attend},
    {"session", "list", "session list [--program P]", cmd_session_list},
    {"mentor", "add",
     "mentor add EMAIL NAME... [--strengths \"A, B\"] [--capacity N] "
     "[--program P]",
     cmd_mentor_add},
    {"import", NULL, "import people FILE.csv [--program P] [--dry-run]", cmd_import},
    {"roster", "import", "roster import FILE.csv [--program P] [--dry-run]", cmd_roster_import},
    {"report", NULL, "report [--csv [--evaluations]|--json] [--program P] [--since YYYY-MM]",
     cmd_report},
    {"export", NULL,
     "export applications|people|groups|evaluations [--program P] [--json] | "
     "export answers --form FORM [--where FIELD=VALUE] [--program P]",
     cmd_export},
    {"messages", NULL, "messages [--held|--quarantined|--pending|--dismissed|--all] [--json]",
     cmd_messages},
    {"message", "dismiss", "message dismiss ID [NOTE...]", cmd_message_dismiss},
    {"replay", NULL, "replay ID", cmd_replay},
    {"outbox", NULL,
     "outbox [--failed|--queued|--sent|--dropped] [--to ADDRESS] [--json] | "
     "outbox retry ID",
     cmd_outbox},
    {"resend", NULL, "resend KEY", cmd_resend},
    {"audit", NULL, "audit [--json]", cmd_audit},
    {"preview", NULL, "preview --until DATE [--json]", cmd_preview},
};

static int
cmd_status_run(struct ctl *ctl, int argc, char **argv)
{
	enum fmt fmt;
	int rc;

	rc = listing_options(ctl, argc, argv, &fmt);
	if (rc != 0)
		return rc;
	return cmd_status(ctl->config, ctl->store, fmt == FMT_JSON);
}

/* "mentorctl (alice)": who is at the keyboard, for the audit trail (the
 * user sudo was run by, before the one it runs as). */
static char *
who_am_i(void)
{
	const char *user = getenv("SUDO_USER");

	if (user == NULL || *user == '\0')
		user = getenv("USER");
	if (user == NULL || *user == '\0') {
		struct passwd *pw = getpwuid(getuid());

		user = pw != NULL ? pw->pw_name : "unknown";
	}
	return xasprintf("mentorctl (%s)", user);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mentorctl parse FILE.eml\n"
	           "       mentorctl [-c FILE] [--now TIME] COMMAND [ARGUMENTS]\n"
	           "       mentorctl --version\n"
	           "commands:\n");
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "  oauth login|status\n"
	           "See mentorctl(8).\n");
}

/* The command argv names, or NULL. */
static const struct command_def *
command_find(int argc, char **argv)
{
	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		if (strcmp(commands[i].word, argv[0]) != 0)
			continue;
		if (commands[i].sub == NULL || (argc > 1 && strcmp(commands[i].sub, argv[1]) == 0))
			return &commands[i];
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *error, *now_arg = NULL;
	const struct command_def *def = NULL;
	struct config *config = NULL;
	struct store *store = NULL;
	struct ctl ctl;
	const char *cmd;
	char *who = NULL;
	bool path_given = false;
	time_t now;
	int i = 1, status = 2;

	log_init("mentorctl", LOG_LEVEL_WARN);
	/* Options before the command; the command parses its own. */
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			path = argv[i + 1];
			path_given = true;
			i += 2;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			now_arg = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("mentord %s\n", MENTORD_VERSION);
			return 0;
		} else {
			fprintf(stderr,
			        "mentorctl: %s %s; usage: mentorctl [-c FILE] [--now TIME] COMMAND "
			        "(mentorctl --help lists the commands)\n",
			        argv[i],
			        strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ||
			                strcmp(argv[i], "--now") == 0
			            ? "needs a value"
			            : "is not an option before the command");
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	if (strcmp(cmd, "parse") == 0) {
		if (argc - i != 2) {
			fprintf(stderr, "mentorctl: parse takes one file; usage: mentorctl parse "
			                "FILE.eml\n");
			return 2;
		}
		return cmd_parse(argv[i + 1]);
	}
	/* The command is known before the configuration is read: a mistake in
	 * the arguments is said as such. */
	if (strcmp(cmd, "oauth") != 0) {
		def = command_find(argc - i, argv + i);
		if (def == NULL) {
			const struct command_def *word = NULL;

			for (size_t k = 0; k < N_ELEMENTS(commands) && word == NULL; k++)
				if (strcmp(commands[k].word, cmd) == 0)
					word = &commands[k];
			if (word != NULL)
				fprintf(stderr, "mentorctl: %s %s: unknown; usage: mentorctl %s\n",
				        cmd, i + 1 < argc ? argv[i + 1] : "needs a subcommand",
				        word->usage);
			else
				fprintf(stderr,
				        "mentorctl: unknown command \"%s\" (mentorctl --help "
				        "lists the commands)\n",
				        cmd);
			return 2;
		}
	}
	if (!path_given && access(path, R_OK) < 0) {
		fprintf(stderr,
		        "mentorctl: cannot read the default configuration %s: %s; %s, or give "
		        "another file with -c FILE\n",
		        path, strerror(errno),
		        errno == ENOENT ? "install one there (an example is in " MENTORD_DOCDIR
		                          "/examples)"
		                        : "run mentorctl as root or as the mentord user");
		return 2;
	}
	if (config_load(path, &config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 2;
	}
	if (clock_set_timezone(config->timezone, &error) < 0) {
		fprintf(stderr, "%s: %s\n", path, error);
		goto out;
	}
	if (now_arg != NULL) {
		if (clock_parse(now_arg, &now) < 0) {
			fprintf(stderr, "mentorctl: --now %s: expected YYYY-MM-DDTHH:MM\n",
			        now_arg);
			goto out;
		}
		clock_set_fake(now);
	}
	if (strcmp(cmd, "oauth") == 0) {
		/* No database: the token file is the oauth module's. */
		status = cmd_oauth(config, argc - i, argv + i);
		goto out;
	}
	if (store_open(config->database, &store, &error) < 0 ||
	    config_ensure_secret(config, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		status = 1;
		goto out;
	}
	who = who_am_i();
	ctl.config = config;
	ctl.store = store;
	ctl.who = who;
	ctl.usage = def->usage;
	/* A command's own argv starts at its last word. */
	if (def->sub != NULL)
		i++;
	status = def->run(&ctl, argc - i, argv + i);
out:
	free(who);
	store_close(&store);
	config_free(&config);
	oauth_cleanup();
	return status;
}
