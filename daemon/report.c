/* report: report and export rows from the store (see report.h). */
#include "report.h"
#include "clock.h"
#include "program.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
report_csv_field(struct strbuf *sb, const char *s, bool last)
{
	bool formula = s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
	bool quote = strpbrk(s, ",\"\r\n") != NULL || formula;

	if (quote)
		strbuf_addc(sb, '"');
	if (formula)
		strbuf_addc(sb, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			strbuf_addc(sb, '"');
		strbuf_addc(sb, *s);
	}
	if (quote)
		strbuf_addc(sb, '"');
	strbuf_addc(sb, last ? '\n' : ',');
}

void
report_table_free(struct report_table *t)
{
	strvec_free(&t->keys);
	strvec_free(&t->cells);
	t->nrows = 0;
}

const char *const *
report_table_row(const struct report_table *t, size_t i)
{
	return (const char *const *)&t->cells.v[i * t->keys.n];
}

void
report_table_csv(const struct report_table *t, struct strbuf *sb)
{
	for (size_t k = 0; k < t->keys.n; k++)
		report_csv_field(sb, t->keys.v[k], k + 1 == t->keys.n);
	for (size_t i = 0; i < t->nrows; i++) {
		const char *const *row = report_table_row(t, i);

		for (size_t k = 0; k < t->keys.n; k++)
			report_csv_field(sb, row[k], k + 1 == t->keys.n);
	}
}

static void
table_keys(struct report_table *t, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strvec_push(&t->keys, keys[i]);
}

/* Adds a row of t->keys.n cells (NULL cells become ""). */
static void
table_add(struct report_table *t, const char *const *cells)
{
	for (size_t k = 0; k < t->keys.n; k++)
		strvec_push(&t->cells, cells[k] != NULL ? cells[k] : "");
	t->nrows++;
}

bool
report_outstanding_at(time_t requested_at, time_t received_at, time_t t)
{
	return requested_at != 0 && requested_at < t && (received_at == 0 || received_at >= t);
}

/* ---- evaluation items, collected once ---- */

struct eval_item {
	char *program, *form, *round, *email, *name; /* owned; name may be NULL */
	int64_t group_id, event_id, person_id;
	time_t requested_at, received_at;
	long answers;
};

struct eval_items {
	const struct config *config; /* borrowed */
	struct eval_item *v;         /* owned */
	size_t n, cap;
};

static void
eval_items_free(struct eval_items *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].program);
		free(e->v[i].form);
		free(e->v[i].round);
		free(e->v[i].email);
		free(e->v[i].name);
	}
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

/* Keeps the answers of answer forms (evaluations, surveys): not join forms
 * nor meeting reports, which are no evaluation. */
static int
collect_item(void *ctx, const struct store_evaluation_item *it)
{
	struct eval_items *e = ctx;
	const struct config_program *p = config_program_by_name(e->config, it->program);
	const struct program_form *f = p != NULL ? program_form(&p->model, it->form) : NULL;
	struct eval_item *x;

	if (f == NULL || f->use != FORM_USE_ANSWER)
		return 0;
	e->v = xgrow(e->v, &e->cap, e->n + 1, sizeof(*e->v));
	x = &e->v[e->n++];
	x->program = xstrdup(it->program);
	x->form = xstrdup(it->form);
	x->round = xstrdup(it->round);
	x->email = xstrdup(it->email);
	x->name = it->name != NULL ? xstrdup(it->name) : NULL;
	x->group_id = it->group_id;
	x->event_id = it->event_id;
	x->person_id = it->person_id;
	x->requested_at = it->requested_at;
	x->received_at = it->answers > 0 ? it->received_at : 0;
	x->answers = it->answers;
	return 0;
}

static int
eval_items_load(const struct config *config, struct store *store, const char *program,
                struct eval_items *e, const char **error_r)
{
	e->config = config;
	return store_evaluation_items(store, program, collect_item, e, error_r);
}

/* ---- the partnership report ---- */

struct month_count {
	int64_t group_id;
	char month[8];
	long count, minutes;
};

struct month_counts {
	struct month_count *v;
	size_t n, cap;
};

static int
collect_month(void *ctx, int64_t group_id, const char *month, long count, long minutes)
{
	struct month_counts *mc = ctx;
	struct month_count *c;

	mc->v = xgrow(mc->v, &mc->cap, mc->n + 1, sizeof(*mc->v));
	c = &mc->v[mc->n++];
	c->group_id = group_id;
	snprintf(c->month, sizeof(c->month), "%s", month);
	c->count = count;
	c->minutes = minutes;
	return 0;
}

static const char *
member_name(const struct store_group *g, size_t k)
{
	const struct store_member *m = &g->members[k];

	return m->name != NULL && *m->name != '\0' ? m->name : m->email;
}

/* The evaluation columns of group g's row for the month [from, to). */
static void
eval_month(const struct eval_items *e, int64_t group_id, time_t from, time_t to, long *requested_r,
           long *received_r, long *outstanding_r, struct strbuf *rounds)
{
	*requested_r = *received_r = *outstanding_r = 0;
	for (size_t i = 0; i < e->n; i++) {
		const struct eval_item *x = &e->v[i];
		long asked = 0, got = 0;
		bool seen = false;

		if (x->group_id != group_id)
			continue;
		if (x->requested_at >= from && x->requested_at < to)
			(*requested_r)++;
		if (x->received_at != 0 && x->received_at >= from && x->received_at < to)
			(*received_r)++;
		if (report_outstanding_at(x->requested_at, x->received_at, to))
			(*outstanding_r)++;
		/* The first item of a form and round sums them all. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = e->v[j].group_id == group_id && strcmp(e->v[j].form, x->form) == 0 &&
			       strcmp(e->v[j].round, x->round) == 0;
		if (seen)
			continue;
		for (size_t j = i; j < e->n; j++) {
			const struct eval_item *y = &e->v[j];

			if (y->group_id != group_id || strcmp(y->form, x->form) != 0 ||
			    strcmp(y->round, x->round) != 0)
				continue;
			if (y->requested_at != 0 && y->requested_at < to)
				asked++;
			if (y->received_at != 0 && y->received_at < to)
				got++;
		}
		if (asked == 0 && got == 0)
			continue;
		strbuf_addf(rounds, "%s%s%s%s: %ld of %ld received", rounds->len > 0 ? "; " : "",
		            x->form, x->round[0] != '\0' ? " " : "", x->round, got, asked);
	}
}

int
report_partnerships(const struct config *config, struct store *store, const char *program,
                    const char *since, time_t now, struct report_table *t, const char **error_r)
{
	static const char *const keys[] = {
	    "program",
	    "partnership",
	    "mentee",
	    "mentor",
	    "status",
	    "month",
	    "meetings",
	    "minutes",
	    "required",
	    "evaluations_requested",
	    "evaluations_received",
	    "evaluations_outstanding",
	    "evaluations",
	};
	struct store_group *list = NULL;
	struct month_counts mc = {0};
	struct eval_items ev = {0};
	size_t n = 0, cur = 0;
	int ret = -1;

	table_keys(t, keys, N_ELEMENTS(keys));
	if (store_group_list(store, program, NULL, NULL, &list, &n, error_r) < 0 ||
	    store_meeting_months(store, collect_month, &mc, error_r) < 0 ||
	    eval_items_load(config, store, program, &ev, error_r) < 0)
		goto out;
	/* A pair's two members are its mentee and mentor (in the order of the
	 * group's roles); a team's "mentee" column holds its members. */
	for (size_t i = 0; i < n; i++) {
		const struct config_program *p = config_program_by_name(config, list[i].program);
		const struct program_group *unit = p != NULL ? p->model.unit : NULL;
		time_t tm_at = list[i].created_at;
		time_t end = list[i].ended_at != 0 ? list[i].ended_at : now;
		struct strbuf members = {0};
		char id[24], required[24];
		struct tm tm;

		if (strcmp(list[i].status, "proposed") == 0 ||
		    strcmp(list[i].status, "discarded") == 0)
			continue;
		for (size_t k = 0; k < list[i].nmembers; k++)
			strbuf_addf(&members, "%s%s", k == 0 ? "" : "; ", member_name(&list[i], k));
		while (cur < mc.n && mc.v[cur].group_id < list[i].id)
			cur++;
		snprintf(id, sizeof(id), "%" PRId64, list[i].id);
		snprintf(required, sizeof(required), "%d",
		         unit != NULL ? unit->meetings_per_month : 0);
		/* One row per month from the group's start to today (or its end). */
		for (int guard = 0; guard < 240 && tm_at <= end; guard++) {
			char month[8], meetings[24], minutes[24], req[24], rec[24], out[24];
			struct strbuf rounds = {0};
			long count = 0, mins = 0, nreq, nrec, nout;
			time_t month_start, next;

			clock_month_key(tm_at, month);
			clock_local(tm_at, &tm);
			month_start = clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, 1);
			next = clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 2, 1);
			while (cur < mc.n && mc.v[cur].group_id == list[i].id &&
			       strcmp(mc.v[cur].month, month) < 0)
				cur++;
			if (cur < mc.n && mc.v[cur].group_id == list[i].id &&
			    strcmp(mc.v[cur].month, month) == 0) {
				count = mc.v[cur].count;
				mins = mc.v[cur].minutes;
			}
			if (since == NULL || strcmp(month, since) >= 0) {
				eval_month(&ev, list[i].id, month_start,
				           next < now ? next : now + 1, &nreq, &nrec, &nout,
				           &rounds);
				snprintf(meetings, sizeof(meetings), "%ld", count);
				snprintf(minutes, sizeof(minutes), "%ld", mins);
				snprintf(req, sizeof(req), "%ld", nreq);
				snprintf(rec, sizeof(rec), "%ld", nrec);
				snprintf(out, sizeof(out), "%ld", nout);
				{
					const char *cells[] = {
					    list[i].program,
					    id,
					    list[i].nmembers == 2 ? member_name(&list[i], 0)
					                          : strbuf_str(&members),
					    list[i].nmembers == 2 ? member_name(&list[i], 1) : "",
					    list[i].status,
					    month,
					    meetings,
					    minutes,
					    required,
					    req,
					    rec,
					    out,
					    strbuf_str(&rounds)};
					table_add(t, cells);
				}
			}
			strbuf_free(&rounds);
			tm_at = next;
		}
		strbuf_free(&members);
	}
	ret = 0;
out:
	store_group_list_free(&list, n);
	free(mc.v);
	eval_items_free(&ev);
	return ret;
}

/* ---- exports ---- */

int
report_export_parse(const char *name)
{
	static const char *const names[] = {"applications", "people", "groups", "evaluations"};

	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static void
date_cell(time_t t, char buf[11])
{
	if (t == 0)
		buf[0] = '\0';
	else
		clock_date_key(t, buf);
}

/* The join form of a participation's role in its program, or NULL. */
static const struct program_form *
join_form(const struct config *config, const char *program, const char *role)
{
	const struct config_program *p = config_program_by_name(config, program);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < p->model.nforms; i++) {
		const struct program_form *f = &p->model.forms[i];

		if (f->use == FORM_USE_JOIN && f->role != NULL && strcmp(f->role, role) == 0)
			return f;
	}
	return NULL;
}

/* What a participation holds for a field bound to b (a mentor added by
 * mentorctl has no form's answer, only these), or NULL; the caller owns
 * it. */
static char *
bound_value(const struct store_participation *a, enum form_bind b)
{
	switch (b) {
	case BIND_NAME:
		return a->name != NULL ? xstrdup(a->name) : NULL;
	case BIND_EMAIL:
		return xstrdup(a->email);
	case BIND_SUPERVISOR:
		return a->supervisor_email != NULL ? xstrdup(a->supervisor_email) : NULL;
	case BIND_DIRECTOR:
		return a->director_email != NULL ? xstrdup(a->director_email) : NULL;
	case BIND_LEVEL:
		return a->level >= 0 ? xasprintf("%ld", a->level) : NULL;
	case BIND_DIVISION:
		return a->division != NULL ? xstrdup(a->division) : NULL;
	case BIND_TOPICS:
		return a->topics != NULL ? xstrdup(a->topics) : NULL;
	case BIND_AVAILABILITY:
		return a->availability != NULL ? xstrdup(a->availability) : NULL;
	case BIND_CAPACITY:
		return a->capacity > 0 ? xasprintf("%ld", a->capacity) : NULL;
	default:
		return NULL;
	}
}

/* Applications: the fixed columns, then every field a join form of the
 * exported programs shows the coordinator (visible_to), by its key; a
 * field the coordinator may not see is no column at all. */
static int
export_applications(const struct config *config, struct store *store, const char *program,
                    struct report_table *t, const char **error_r)
{
	static const char *const fixed[] = {"id",    "program", "role",    "status", "name",
	                                    "email", "applied", "decided", "note"};
	struct store_participation *list = NULL;
	size_t n = 0, nfixed = N_ELEMENTS(fixed);
	int ret = -1;

	table_keys(t, fixed, nfixed);
	for (size_t i = 0; i < config->nprograms; i++) {
		const struct config_program *p = &config->programs[i];

		if (program != NULL && strcmp(p->name, program) != 0)
			continue;
		for (size_t j = 0; j < p->model.nforms; j++) {
			const struct program_form *f = &p->model.forms[j];

			if (f->use != FORM_USE_JOIN)
				continue;
			for (size_t k = 0; k < f->def.nfields; k++) {
				const struct form_field_def *fd = &f->def.fields[k];

				if ((fd->visible_to & FORM_VISIBLE_COORDINATOR) != 0 &&
				    !strvec_contains_ci(&t->keys, fd->key))
					strvec_push(&t->keys, fd->key);
			}
		}
	}
	if (store_participation_list(store, program, NULL, NULL, &list, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct store_participation *a = &list[i];
		const struct program_form *f = join_form(config, a->program, a->role);
		char **cells = xcalloc(t->keys.n, sizeof(*cells));
		char id[24], applied[11], decided[11];

		snprintf(id, sizeof(id), "%" PRId64, a->id);
		date_cell(a->created_at, applied);
		date_cell(a->decided_at, decided);
		{
			const char *v[] = {id,       a->program, a->role, a->status, a->name,
			                   a->email, applied,    decided, a->note};

			for (size_t k = 0; k < nfixed; k++)
				cells[k] = xstrdup(v[k] != NULL ? v[k] : "");
		}
		for (size_t k = nfixed; k < t->keys.n; k++) {
			const struct form_field_def *fd = NULL;
			bool found = false;
			char *value = NULL;

			for (size_t m = 0; f != NULL && m < f->def.nfields && fd == NULL; m++)
				if (strcasecmp(f->def.fields[m].key, t->keys.v[k]) == 0)
					fd = &f->def.fields[m];
			if (fd != NULL && (fd->visible_to & FORM_VISIBLE_COORDINATOR) != 0 &&
			    a->answer_id > 0 &&
			    store_answer_value_get(store, a->answer_id, fd->key, &found, &value,
			                           error_r) < 0) {
				for (size_t m = 0; m < t->keys.n; m++)
					free(cells[m]);
				free(cells);
				goto out;
			}
			if (!found && fd != NULL &&
			    (fd->visible_to & FORM_VISIBLE_COORDINATOR) != 0)
				value = bound_value(a, fd->bind);
			cells[k] = value != NULL ? value : xstrdup("");
		}
		table_add(t, (const char *const *)cells);
		for (size_t k = 0; k < t->keys.n; k++)
			free(cells[k]);
		free(cells);
	}
	ret = 0;
out:
	store_participation_list_free(&list, n);
	return ret;
}

/* People, with the roles they hold ("cdss mentee (active)"); of program
 * only those who hold a role in it. */
static int
export_people(struct store *store, const char *program, struct report_table *t,
              const char **error_r)
{
	static const char *const keys[] = {
	    "id", "email", "name", "deliverable", "undeliverable_reason", "roles"};
	struct store_person *people = NULL;
	struct store_participation *parts = NULL;
	size_t np = 0, na = 0;
	int ret = -1;

	table_keys(t, keys, N_ELEMENTS(keys));
	if (store_person_list(store, &people, &np, error_r) < 0 ||
	    store_participation_list(store, program, NULL, NULL, &parts, &na, error_r) < 0)
		goto out;
	for (size_t i = 0; i < np; i++) {
		struct strbuf roles = {0};
		char id[24];

		for (size_t k = 0; k < na; k++)
			if (parts[k].person_id == people[i].id)
				strbuf_addf(&roles, "%s%s %s (%s)", roles.len > 0 ? "; " : "",
				            parts[k].program, parts[k].role, parts[k].status);
		snprintf(id, sizeof(id), "%" PRId64, people[i].id);
		if (program == NULL || roles.len > 0) {
			const char *cells[] = {id,
			                       people[i].email,
			                       people[i].name,
			                       people[i].undeliverable ? "no" : "yes",
			                       people[i].undeliverable_reason,
			                       strbuf_str(&roles)};

			table_add(t, cells);
		}
		strbuf_free(&roles);
	}
	ret = 0;
out:
	store_person_list_free(&people, np);
	store_participation_list_free(&parts, na);
	return ret;
}

static int
export_groups(struct store *store, const char *program, struct report_table *t,
              const char **error_r)
{
	static const char *const keys[] = {"id",    "program",    "kind",     "status",
	                                   "label", "members",    "emails",   "created",
	                                   "ended", "end_reason", "meetings", "minutes"};
	struct store_group *list = NULL;
	size_t n = 0;
	int ret = -1;

	table_keys(t, keys, N_ELEMENTS(keys));
	if (store_group_list(store, program, NULL, NULL, &list, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct strbuf members = {0}, emails = {0};
		char id[24], created[11], ended[11], meetings[24], minutes[24];
		long count = 0, mins = 0;

		if (strcmp(list[i].status, "discarded") == 0)
			continue;
		if (store_event_count(store, list[i].id, "meeting", NULL, &count, &mins, error_r) <
		    0)
			goto out;
		for (size_t k = 0; k < list[i].nmembers; k++) {
			strbuf_addf(&members, "%s%s", k == 0 ? "" : "; ", member_name(&list[i], k));
			strbuf_addf(&emails, "%s%s", k == 0 ? "" : "; ", list[i].members[k].email);
		}
		snprintf(id, sizeof(id), "%" PRId64, list[i].id);
		date_cell(list[i].created_at, created);
		date_cell(list[i].ended_at, ended);
		snprintf(meetings, sizeof(meetings), "%ld", count);
		snprintf(minutes, sizeof(minutes), "%ld", mins);
		{
			const char *cells[] = {id,
			                       list[i].program,
			                       list[i].kind,
			                       list[i].status,
			                       list[i].label,
			                       strbuf_str(&members),
			                       strbuf_str(&emails),
			                       created,
			                       ended,
			                       list[i].reason,
			                       meetings,
			                       minutes};

			table_add(t, cells);
		}
		strbuf_free(&members);
		strbuf_free(&emails);
	}
	ret = 0;
out:
	store_group_list_free(&list, n);
	return ret;
}

/* Per group, member, form and round: how many were requested and received
 * (a request after each meeting counts once per meeting). */
static int
export_evaluations(const struct config *config, struct store *store, const char *program,
                   struct report_table *t, const char **error_r)
{
	static const char *const keys[] = {"program",  "group",      "person", "email",
	                                   "name",     "form",       "round",  "requested",
	                                   "received", "outstanding"};
	struct eval_items ev = {0};
	int ret = -1;

	table_keys(t, keys, N_ELEMENTS(keys));
	if (eval_items_load(config, store, program, &ev, error_r) < 0)
		goto out;
	/* Items come ordered by program, group, person, form and round. */
	for (size_t i = 0; i < ev.n;) {
		const struct eval_item *x = &ev.v[i];
		long requested = 0, received = 0, outstanding = 0;
		char group[24], person[24], req[24], rec[24], out[24];
		size_t j = i;

		for (; j < ev.n; j++) {
			const struct eval_item *y = &ev.v[j];

			if (strcmp(y->program, x->program) != 0 || y->group_id != x->group_id ||
			    y->person_id != x->person_id || strcmp(y->form, x->form) != 0 ||
			    strcmp(y->round, x->round) != 0)
				break;
			requested += y->requested_at != 0;
			received += y->received_at != 0;
			outstanding += y->requested_at != 0 && y->received_at == 0;
		}
		snprintf(group, sizeof(group), "%" PRId64, x->group_id);
		snprintf(person, sizeof(person), "%" PRId64, x->person_id);
		snprintf(req, sizeof(req), "%ld", requested);
		snprintf(rec, sizeof(rec), "%ld", received);
		snprintf(out, sizeof(out), "%ld", outstanding);
		{
			const char *cells[] = {x->program, x->group_id > 0 ? group : "",
			                       person,     x->email,
			                       x->name,    x->form,
			                       x->round,   req,
			                       rec,        out};

			table_add(t, cells);
		}
		i = j;
	}
	ret = 0;
out:
	eval_items_free(&ev);
	return ret;
}

int
report_export(const struct config *config, struct store *store, enum report_export what,
              const char *program, struct report_table *t, const char **error_r)
{
	switch (what) {
	case REPORT_APPLICATIONS:
		return export_applications(config, store, program, t, error_r);
	case REPORT_PEOPLE:
		return export_people(store, program, t, error_r);
	case REPORT_GROUPS:
		return export_groups(store, program, t, error_r);
	case REPORT_EVALUATIONS:
		return export_evaluations(config, store, program, t, error_r);
	}
	*error_r = "unknown export";
	return -1;
}

/* ---- the weekly health summary ---- */

void
report_health_free(struct report_health *h)
{
	strbuf_free(&h->checkins);
}

int
report_health(const struct config *config, struct store *store,
              const struct config_program *program, time_t now, struct report_health *h,
              const char **error_r)
{
	const struct program_group *unit = program->model.unit;
	struct store_group *groups = NULL;
	struct eval_items ev = {0};
	char month[8], last[8];
	time_t month_start;
	size_t ng = 0;
	struct tm tm;
	int ret = -1;

	memset(h, 0, sizeof(*h));
	clock_local(now, &tm);
	month_start = clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, 1);
	clock_month_key(now, month);
	clock_month_key(month_start - 12 * 3600, last);
	if (eval_items_load(config, store, program->name, &ev, error_r) < 0 ||
	    store_health_mail_counts(store, program->name, &h->failed_emails, &h->held_messages,
	                             error_r) < 0)
		goto out;
	for (size_t i = 0; i < ev.n; i++)
		if (report_outstanding_at(ev.v[i].requested_at, ev.v[i].received_at, now + 1))
			h->evaluations_due++;
	if (unit != NULL &&
	    store_group_list(store, program->name, unit->name, "active", &groups, &ng, error_r) < 0)
		goto out;
	for (size_t i = 0; i < ng; i++) {
		long this_month = 0, last_month = 0, due = 0;
		bool quiet;

		if (store_event_count(store, groups[i].id, "meeting", month, &this_month, NULL,
		                      error_r) < 0 ||
		    store_event_count(store, groups[i].id, "meeting", last, &last_month, NULL,
		                      error_r) < 0)
			goto out;
		h->active++;
		if (this_month >= unit->meetings_per_month)
			h->on_track++;
		for (size_t k = 0; k < ev.n; k++)
			if (ev.v[k].group_id == groups[i].id &&
			    report_outstanding_at(ev.v[k].requested_at, ev.v[k].received_at,
			                          now + 1))
				due++;
		/* A group formed this month had no last month to meet in. */
		quiet = groups[i].created_at < month_start && last_month == 0;
		if (!quiet && due == 0)
			continue;
		h->needs_checkin++;
		strbuf_addf(&h->checkins, "  #%" PRId64 " ", groups[i].id);
		for (size_t k = 0; k < groups[i].nmembers; k++)
			strbuf_addf(&h->checkins, "%s%s",
			            k == 0 ? "" : (groups[i].nmembers == 2 ? " with " : ", "),
			            member_name(&groups[i], k));
		strbuf_adds(&h->checkins, ":");
		if (quiet)
			strbuf_addf(&h->checkins, " no meeting reported in %s", last);
		if (due > 0)
			strbuf_addf(&h->checkins, "%s %ld evaluation(s) outstanding",
			            quiet ? ";" : "", due);
		strbuf_adds(&h->checkins, "\n");
	}
	ret = 0;
out:
	store_group_list_free(&groups, ng);
	eval_items_free(&ev);
	return ret;
}

/* A count with thousands separators ("38,000"), as a coordinator reads
 * it. */
static void
report_count(struct strbuf *sb, long n)
{
	char digits[24];
	size_t len;

	snprintf(digits, sizeof(digits), "%ld", n);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && digits[i - 1] != '-' && (len - i) % 3 == 0)
			strbuf_addc(sb, ',');
		strbuf_addc(sb, digits[i]);
	}
}

int
report_surveys(struct store *store, const struct config_program *program, struct strbuf *out,
               const char **error_r)
{
	for (size_t i = 0; i < program->model.nforms; i++) {
		const struct program_form *f = &program->model.forms[i];
		const char *title = f->def.title != NULL ? f->def.title : f->def.name;
		long asked = 0, answered = 0;

		if (f->use != FORM_USE_ANSWER || (f->closes.base == 0 && !f->replace))
			continue;
		if (store_form_responses(store, program->name, f->def.name, &asked, &answered,
		                         error_r) < 0)
			return -1;
		if (asked == 0 && answered == 0)
			continue;
		strbuf_addf(out, "  %s: ", title);
		report_count(out, answered);
		strbuf_adds(out, " of ");
		report_count(out, asked);
		strbuf_addf(out, " answered (%.1f%%)\n",
		            asked > 0 ? 100.0 * (double)answered / (double)asked : 0.0);
		/* A yes/no question (volunteering for a focus group): how many
		 * said yes, and where the list is. */
		for (size_t k = 0; k < f->def.nfields; k++) {
			const struct form_field_def *fd = &f->def.fields[k];
			bool yes = false;
			long n = 0;

			for (size_t c = 0; fd->type == FIELD_CHOICE && c < fd->choices.n; c++)
				yes = yes || strcasecmp(fd->choices.v[c], "yes") == 0;
			if (!yes)
				continue;
			if (store_answer_value_count(store, program->name, f->def.name, fd->key,
			                             "yes", &n, error_r) < 0)
				return -1;
			strbuf_addf(out, "    %s: ", fd->key);
			report_count(out, n);
			strbuf_addf(out,
			            " yes (the list: mentorctl export answers --form %s --where "
			            "\"%s=yes\")\n",
			            f->def.name, fd->key);
		}
	}
	return 0;
}
