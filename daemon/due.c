/* due: see include/due.h. */
#include "due.h"
#include "certificate.h"
#include "clock.h"
#include "compare.h"
#include "groups.h"
#include "log.h"
#include "notice.h"
#include "report.h"
#include "schedule.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An at-step, or a request's reminders, acts this long after its time at
 * most when the step sets no `until`: mentord down for a while still sends
 * it, a program restarted a year later does not. */
#define DUE_WINDOW_DAYS 30

/* Approvals: reminders every approval_days, the coordinators told after
 * this many intervals without an answer. */
#define DUE_APPROVAL_INTERVALS 3

/* One program's evaluation at now. */
struct due {
	const struct config *config;
	struct store *store;
	const struct config_program *program;
	time_t now;
	time_t start, end;   /* the program's span; 0 when not set */
	const char *listing; /* borrowed: a shows step's list for the reader; NULL */
	/* due_run's own transaction (not the caller's, as preview's): a
	 * fan-out commits it every config->fanout_chunk emails queued, so
	 * that ingest and mentorctl get the write lock in between and a crash
	 * loses at most one chunk, queued again by key on the next run. */
	bool own_tx;
	long queued; /* emails queued since the last commit */
};

/* ---- the digest ---- */

/* One participation in the digest; the topics of a pair's second role
 * (a mentor's, a buddy's) are what they offer, the others' what they
 * need. */
static void
describe_participation(struct strbuf *sb, const struct store_participation *a,
                       const struct program_group *unit)
{
	bool offers = unit != NULL && unit->pair && strcmp(a->role, unit->roles.v[1]) == 0;

	strbuf_addf(sb, "  #%lld %s <%s>", (long long)a->id, notice_name(a->name, a->email),
	            a->email);
	if (a->division != NULL)
		strbuf_addf(sb, ", %s", a->division);
	if (a->level >= 0)
		strbuf_addf(sb, ", %ld years as manager", a->level);
	strbuf_addc(sb, '\n');
	if (a->topics != NULL)
		strbuf_addf(sb, "      %s: %s\n", offers ? "strengths" : "needs", a->topics);
}

/* Applications a coordinator decides, waiting for it. */
static int
due_pending(struct store *store, const struct config_program *program,
            struct store_participation **list_r, size_t *n_r, const char **error_r)
{
	return store_participation_list(store, program->name, NULL, "applied", list_r, n_r,
	                                error_r);
}

/*
 * The digest: applications waiting for a decision, approvals waited for,
 * people accepted and waiting for a group, with the suggested pairs (each
 * with its reason) or the team proposal, the second role's free places,
 * emails that failed and messages held.  Failures and held messages are
 * marked reported only when the digest is actually queued (the key was
 * new).
 */
int
due_digest(const struct config *config, struct store *store, const struct config_program *program,
           time_t now, const char *key, const char *in_reply_to, const char **error_r)
{
	const struct program_group *unit = program->model.unit;
	const struct program_group *pg = program_pair_group(&program->model);
	time_t pairs_open = groups_pairs_open_at(program, pg);
	struct store_participation *pending = NULL, *accepted = NULL, *seconds = NULL;
	struct store_approval *approvals = NULL;
	struct store_outbox *failed = NULL;
	struct store_message *held = NULL;
	struct groups_pair *pairs = NULL;
	struct strvec unmatched = {0};
	size_t npending = 0, naccepted = 0, nseconds = 0, nfailed = 0, nheld = 0, npairs = 0;
	size_t napprovals = 0;
	struct strbuf sb_pending = {0}, sb_waiting = {0}, sb_mentors = {0}, sb_sugg = {0},
	              sb_failed = {0}, sb_held = {0}, sb_teams = {0}, sb_approvals = {0},
	              sb_surveys = {0}, sb_attendance = {0};
	struct template_vars *vars = NULL;
	struct outbox_queued q;
	long below = 0;
	int ret = -1;

	if (due_pending(store, program, &pending, &npending, error_r) < 0 ||
	    store_approval_list(store, program->name, 0, "waiting", &approvals, &napprovals,
	                        error_r) < 0 ||
	    store_outbox_unreported_failures(store, false, &failed, &nfailed, error_r) < 0 ||
	    store_message_unreported(store, program->name, false, &held, &nheld, error_r) < 0)
		goto out;
	for (size_t i = 0; i < npending; i++)
		describe_participation(&sb_pending, &pending[i], unit);
	for (size_t i = 0; i < napprovals; i++)
		strbuf_addf(&sb_approvals, "  application #%lld: the %s (%s), asked %s\n",
		            (long long)approvals[i].participation_id, approvals[i].approver,
		            approvals[i].email, "by email");
	/* Pairs (the unit, or a second kind beside teams) are suggested once
	 * they open (group opens); a second kind's people wait in their teams,
	 * so only the suggestions and who is left out say who waits. */
	if (pg != NULL && (pairs_open == 0 || now >= pairs_open)) {
		if ((pg == unit &&
		     store_participation_list(store, program->name, pg->roles.v[0], "accepted",
		                              &accepted, &naccepted, error_r) < 0) ||
		    store_participation_list(store, program->name, pg->roles.v[1], "active",
		                             &seconds, &nseconds, error_r) < 0 ||
		    groups_suggest_pairs(config, store, program, now, &pairs, &npairs, &unmatched,
		                         error_r) < 0)
			goto out;
		for (size_t i = 0; i < naccepted; i++)
			describe_participation(&sb_waiting, &accepted[i], pg);
		for (size_t i = 0; i < nseconds; i++) {
			long used = 0;

			if (store_group_count_for_participation(store, seconds[i].id, "active",
			                                        &used, error_r) < 0)
				goto out;
			describe_participation(&sb_mentors, &seconds[i], pg);
			strbuf_addf(&sb_mentors, "      %ld of %ld places taken\n", used,
			            seconds[i].capacity > 0 ? seconds[i].capacity : 1);
		}
		for (size_t i = 0; i < npairs; i++)
			strbuf_addf(&sb_sugg, "  match %lld with %lld   (%s)\n",
			            (long long)pairs[i].first, (long long)pairs[i].second,
			            pairs[i].reason);
		for (size_t i = 0; i < unmatched.n; i++)
			strbuf_addf(&sb_sugg, "  not matched: %s\n", unmatched.v[i]);
	}
	if (unit != NULL && !unit->pair) {
		if (groups_propose_teams(config, store, program, now, &sb_teams, NULL, error_r) < 0)
			goto out;
	}
	if (report_surveys(store, program, &sb_surveys, error_r) < 0 ||
	    session_below_rule(program, store, now, &sb_attendance, &below, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nfailed; i++)
		strbuf_addf(&sb_failed, "  %s to %s: %s\n", failed[i].kind, failed[i].recipients,
		            failed[i].last_error != NULL ? failed[i].last_error : "failed");
	for (size_t i = 0; i < nheld; i++)
		strbuf_addf(&sb_held, "  message #%lld from %s, \"%s\": %s\n",
		            (long long)held[i].id, held[i].from_addr ? held[i].from_addr : "?",
		            held[i].subject ? held[i].subject : "",
		            held[i].reason ? held[i].reason : "");

	vars = notice_vars(config, program);
	template_vars_set(vars, "pending", strbuf_str(&sb_pending));
	template_vars_set(vars, "approvals", strbuf_str(&sb_approvals));
	template_vars_set(vars, "waiting", strbuf_str(&sb_waiting));
	template_vars_set(vars, "mentors", strbuf_str(&sb_mentors));
	template_vars_set(vars, "suggestions", strbuf_str(&sb_sugg));
	template_vars_set(vars, "teams", strbuf_str(&sb_teams));
	template_vars_set(vars, "failed", strbuf_str(&sb_failed));
	template_vars_set(vars, "held", strbuf_str(&sb_held));
	template_vars_set(vars, "surveys", strbuf_str(&sb_surveys));
	template_vars_set(vars, "below_attendance", strbuf_str(&sb_attendance));
	template_vars_setf(vars, "session_attendance", "%d", program->model.session_attendance);
	template_vars_setf(vars, "pending_count", "%zu", npending);
	if (notice_queue(config, store, program, now, key, "digest", &program->coordinators,
	                 "digest", 0, "digest", vars, AUDIENCE_COORDINATOR, OUTBOX_NOTICE,
	                 in_reply_to, &q, error_r) < 0)
		goto out;
	if (q.created) {
		store_outbox_list_free(&failed, nfailed);
		store_message_list_free(&held, nheld);
		if (store_outbox_unreported_failures(store, true, &failed, &nfailed, error_r) < 0 ||
		    store_message_unreported(store, program->name, true, &held, &nheld, error_r) <
		        0)
			goto out;
	}
	ret = 0;
out:
	template_vars_free(&vars);
	groups_pairs_free(&pairs, npairs);
	strvec_free(&unmatched);
	strbuf_free(&sb_pending);
	strbuf_free(&sb_approvals);
	strbuf_free(&sb_waiting);
	strbuf_free(&sb_mentors);
	strbuf_free(&sb_sugg);
	strbuf_free(&sb_teams);
	strbuf_free(&sb_failed);
	strbuf_free(&sb_held);
	strbuf_free(&sb_surveys);
	strbuf_free(&sb_attendance);
	store_participation_list_free(&pending, npending);
	store_participation_list_free(&accepted, naccepted);
	store_participation_list_free(&seconds, nseconds);
	store_approval_list_free(&approvals, napprovals);
	store_outbox_list_free(&failed, nfailed);
	store_message_list_free(&held, nheld);
	return ret;
}

/* ---- the cadence: reminders, the follow-up, the digest ---- */

/* The step of a program that is each kind of the cadence, or NULL. */
static const struct program_step *
due_cadence_step(const struct config_program *program, int kind)
{
	for (size_t i = 0; i < program->model.nsteps; i++) {
		const struct program_step *s = &program->model.steps[i];

		if (s->when != WHEN_EVERY)
			continue;
		if (kind == DUE_MEETING_REMINDER && s->every == PERIOD_MONTH &&
		    s->condition == COND_BELOW_CADENCE && s->to == TO_GROUP)
			return s;
		if (kind == DUE_CADENCE_FOLLOWUP && s->every == PERIOD_MONTH &&
		    s->condition == COND_BELOW_CADENCE && s->to == TO_COORDINATORS)
			return s;
		if (kind == DUE_DIGEST && s->condition == COND_WAITING && s->to == TO_COORDINATORS)
			return s;
	}
	return NULL;
}

static bool
due_is_cadence_step(const struct config_program *program, const struct program_step *s)
{
	return s == due_cadence_step(program, DUE_MEETING_REMINDER) ||
	       s == due_cadence_step(program, DUE_CADENCE_FOLLOWUP) ||
	       s == due_cadence_step(program, DUE_DIGEST);
}

static int
due_group(struct due *d, int64_t id, struct store_group *g_r, const char **error_r)
{
	bool found;

	if (store_group_get(d->store, id, &found, g_r, error_r) < 0)
		return -1;
	if (!found) {
		*error_r = errorf("group #%lld vanished during scheduling", (long long)id);
		return -1;
	}
	return 0;
}

/* Each member's name as NAME_name for its role, and all of them. */
static void
due_member_vars(struct template_vars *vars, const struct store_group *g)
{
	struct strbuf all = {0};

	for (size_t i = 0; i < g->nmembers; i++) {
		char key[64];

		snprintf(key, sizeof(key), "%s_name", g->members[i].role);
		template_vars_set(vars, key, notice_name(g->members[i].name, g->members[i].email));
		strbuf_addf(&all, "%s%s", i == 0 ? "" : (i + 1 == g->nmembers ? " and " : ", "),
		            notice_name(g->members[i].name, g->members[i].email));
	}
	template_vars_set(vars, "members", strbuf_str(&all));
	strbuf_free(&all);
}

/* The form members answer about each meeting (an evaluation), or NULL. */
static const struct program_form *
due_meeting_form(const struct config_program *program)
{
	for (size_t i = 0; i < program->model.nforms; i++)
		if (program->model.forms[i].use == FORM_USE_ANSWER &&
		    program->model.forms[i].about == ABOUT_MEETING)
			return &program->model.forms[i];
	return NULL;
}

/* For the coordinators' follow-up of month: per active group, how many of
 * its members' answers about its meetings of that month are in, and how
 * many said they were absent.  Counts only: what the answers say stays
 * with them. */
static int
due_answer_counts(struct due *d, const char *month, struct strbuf *out, const char **error_r)
{
	const struct program_form *f = due_meeting_form(d->program);
	const struct program_group *unit = d->program->model.unit;
	struct store_group *groups = NULL;
	size_t ng = 0;
	int ret = -1;

	if (f == NULL || unit == NULL)
		return 0;
	if (store_group_list(d->store, d->program->name, unit->name, "active", &groups, &ng,
	                     error_r) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		struct store_event *events = NULL;
		size_t ne = 0;
		long meetings = 0, answers = 0, absent = 0;

		if (store_event_list(d->store, groups[i].id, "meeting", &events, &ne, error_r) < 0)
			goto out;
		for (size_t e = 0; e < ne; e++) {
			long n = 0;

			if (strncmp(events[e].date, month, 7) != 0)
				continue;
			meetings++;
			if (store_answer_count(d->store, d->program->name, f->def.name, NULL, 0,
			                       groups[i].id, events[e].id, &n, error_r) < 0) {
				store_event_list_free(&events, ne);
				goto out;
			}
			answers += n;
		}
		store_event_list_free(&events, ne);
		if (meetings == 0)
			continue;
		if (store_event_absences(d->store, groups[i].id, "meeting", month, &absent,
		                         error_r) < 0)
			goto out;
		strbuf_addf(out, "  #%lld: %ld of %ld %s(s) in for %ld meeting(s)",
		            (long long)groups[i].id, answers, meetings * (long)groups[i].nmembers,
		            f->def.title != NULL ? f->def.title : f->def.name, meetings);
		if (absent > 0)
			strbuf_addf(out, "; %ld absence(s)", absent);
		strbuf_adds(out, "\n");
	}
	ret = 0;
out:
	store_group_list_free(&groups, ng);
	return ret;
}

static int
due_cadence_action(struct due *d, const struct schedule_action *a,
                   const struct schedule_match *counts, size_t ncounts, const char **error_r)
{
	const struct program_group *unit = d->program->model.unit;
	const struct program_step *step = due_cadence_step(d->program, (int)a->kind);
	struct template_vars *vars = NULL;
	struct store_group g;
	struct strvec to = {0};
	struct strbuf sb = {0};
	char title[32];
	bool queued;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	/* The digest is built only when today's key is new, since building
	 * it reads the whole program. */
	if (a->kind == DUE_DIGEST) {
		if (store_outbox_has_key(d->store, a->key, &queued, error_r) < 0)
			return -1;
		if (queued)
			return 0;
		return due_digest(d->config, d->store, d->program, d->now, a->key, NULL, error_r);
	}
	vars = notice_vars(d->config, d->program);
	notice_month_title(a->period, title, sizeof(title));
	template_vars_set(vars, "month", title);
	if (a->kind == DUE_MEETING_REMINDER) {
		long count = 0;

		if (due_group(d, a->match_id, &g, error_r) < 0)
			goto out;
		/* counts is ordered by id (the store's ORDER BY). */
		for (size_t lo = 0, hi = ncounts; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (counts[mid].id == a->match_id) {
				count = counts[mid].meetings_this_month;
				break;
			}
			if (counts[mid].id < a->match_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		due_member_vars(vars, &g);
		template_vars_setf(vars, "meetings", "%ld", count);
		template_vars_setf(vars, "group_id", "%lld", (long long)g.id);
		for (size_t i = 0; i < g.nmembers; i++)
			strvec_push(&to, g.members[i].email);
		ret = notice_queue(d->config, d->store, d->program, d->now, a->key, "reminder", &to,
		                   "group", g.id, step->template_name, vars, AUDIENCE_PARTICIPANT,
		                   OUTBOX_NOTICE, NULL, NULL, error_r);
		goto out;
	}
	for (size_t i = 0; i < a->nbelow; i++) {
		if (due_group(d, a->below[i].match_id, &g, error_r) < 0)
			goto out;
		strbuf_addf(&sb, "  #%lld ", (long long)g.id);
		for (size_t k = 0; k < g.nmembers; k++)
			strbuf_addf(&sb, "%s%s",
			            k == 0 ? "" : (k == 1 && g.nmembers == 2 ? " with " : ", "),
			            notice_name(g.members[k].name, g.members[k].email));
		strbuf_addf(&sb, ": %ld of %d meetings\n", a->below[i].meetings,
		            unit != NULL ? unit->meetings_per_month : 0);
		store_group_clear(&g);
	}
	template_vars_set(vars, "below", strbuf_str(&sb));
	{
		struct strbuf answered = {0};

		if (due_answer_counts(d, a->period, &answered, error_r) < 0) {
			strbuf_free(&answered);
			goto out;
		}
		template_vars_set(vars, "evaluations", strbuf_str(&answered));
		strbuf_free(&answered);
	}
	template_vars_setf(vars, "below_count", "%zu", a->nbelow);
	template_vars_setf(vars, "partnership_count", "%zu", a->neligible);
	ret = notice_queue(d->config, d->store, d->program, d->now, a->key, "followup",
	                   &d->program->coordinators, "program", 0, step->template_name, vars,
	                   AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
out:
	store_group_clear(&g);
	strbuf_free(&sb);
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
}

/* Whether something waits for the coordinators (the digest's condition). */
static int
due_waiting(struct due *d, long *count_r, const char **error_r)
{
	const struct program_group *unit = d->program->model.unit;
	time_t pairs_open =
	    groups_pairs_open_at(d->program, program_pair_group(&d->program->model));
	long n = 0;

	if (store_participation_count(d->store, d->program->name, NULL, "applied", &n, error_r) < 0)
		return -1;
	/* A survey that was sent is news every day until the day after it
	 * closes (the final count). */
	for (size_t i = 0; i < d->program->model.nforms; i++) {
		const struct program_form *f = &d->program->model.forms[i];
		time_t closes = program_form_closes_at(f, d->start, d->end);
		long asked = 0, answered = 0;

		if (closes == 0 || d->now >= closes + 86400)
			continue;
		if (store_form_responses(d->store, d->program->name, f->def.name, &asked, &answered,
		                         error_r) < 0)
			return -1;
		if (asked > 0)
			n++;
	}
	if (unit != NULL && !unit->pair) {
		struct store_group *prop = NULL;
		long accepted = 0;
		size_t nprop = 0;

		if (store_group_list(d->store, d->program->name, unit->name, "proposed", &prop,
		                     &nprop, error_r) < 0 ||
		    store_participation_count(d->store, d->program->name, unit->roles.v[0],
		                              "accepted", &accepted, error_r) < 0)
			return -1;
		store_group_list_free(&prop, nprop);
		/* Accepted members not in a team yet are what waits: when there is
		 * a proposal, enough of them for a team, or a formed team with room
		 * (someone approved late). */
		if (accepted > 0 && nprop == 0 && accepted < unit->size_min) {
			struct store_group *act = NULL;
			size_t nact = 0;

			if (store_group_list(d->store, d->program->name, unit->name, "active", &act,
			                     &nact, error_r) < 0)
				return -1;
			for (size_t i = 0; i < nact; i++)
				if (act[i].nmembers < (size_t)unit->size_max)
					nprop++;
			store_group_list_free(&act, nact);
		}
		if (nprop > 0 || accepted >= unit->size_min)
			n += accepted;
	} else if (unit != NULL && (pairs_open == 0 || d->now >= pairs_open)) {
		/* Pairs: the first role's accepted people wait while someone of
		 * the second has a place (the digest suggests the pairs); a role
		 * accepted automatically has no application to decide. */
		long accepted = 0, free_places = 0;

		if (store_participation_count(d->store, d->program->name, unit->roles.v[0],
		                              "accepted", &accepted, error_r) < 0 ||
		    (accepted > 0 &&
		     store_participation_count_with_places(
		         d->store, d->program->name, unit->roles.v[1], &free_places, error_r) < 0))
			return -1;
		if (free_places > 0)
			n += accepted;
	}
	/* A second kind of pairs (a mentor beside the teams): what waits is
	 * the pairs suggested, from when they open. */
	if (d->program->model.pairs != NULL && (pairs_open == 0 || d->now >= pairs_open)) {
		struct groups_pair *pairs = NULL;
		size_t npairs = 0;

		if (groups_suggest_pairs(d->config, d->store, d->program, d->now, &pairs, &npairs,
		                         NULL, error_r) < 0)
			return -1;
		groups_pairs_free(&pairs, npairs);
		n += (long)npairs;
	}
	/* Participants below the sessions' attendance rule wait for the
	 * coordinators' follow-up, each day until it is put right. */
	if (d->program->model.session_attendance > 0) {
		struct strbuf unused = {0};
		long below = 0;
		int rc = session_below_rule(d->program, d->store, d->now, &unused, &below, error_r);

		strbuf_free(&unused);
		if (rc < 0)
			return -1;
		n += below;
	}
	*count_r = n;
	return 0;
}

static int
due_cadence(struct due *d, bool first, size_t *ngroups_r, size_t *nactions_r, const char **error_r)
{
	const struct program_step *rem = due_cadence_step(d->program, DUE_MEETING_REMINDER);
	const struct program_step *fol = due_cadence_step(d->program, DUE_CADENCE_FOLLOWUP);
	const struct program_step *dig = due_cadence_step(d->program, DUE_DIGEST);
	const struct program_group *unit = d->program->model.unit;
	struct store_cadence *cadence = NULL;
	struct schedule_match *counts = NULL;
	struct schedule_action *actions = NULL;
	struct store_outbox *failed = NULL;
	struct store_message *held = NULL;
	struct schedule_input in;
	size_t ngroups = 0, nactions = 0, nfailed = 0, nheld = 0;
	char month[8], prev[8], prefix[64] = "", suffix[32] = "", followup_key[128];
	bool need_this, need_prev;
	int ret = -1;

	if (rem == NULL && fol == NULL && dig == NULL)
		return 0;
	memset(&in, 0, sizeof(in));
	clock_month_key(d->now, month);
	schedule_previous_month(d->now, prev);
	in.program = d->program->name;
	in.reminder_step = unit != NULL && rem != NULL ? rem->name : NULL;
	in.followup_step = unit != NULL && fol != NULL ? fol->name : NULL;
	in.digest_step = dig != NULL ? dig->name : NULL;
	in.meetings_per_month = unit != NULL ? unit->meetings_per_month : 0;
	in.reminder_day = rem != NULL ? rem->day : 1;
	in.followup_day = fol != NULL ? fol->day : 1;
	in.work_start_hour = d->config->work_start_hour;
	in.work_end_hour = d->config->work_end_hour;
	in.work_weekends = d->config->work_weekends;
	/* Meetings are due within the program's months only: no reminder
	 * before its start or after its end, and no follow-up of a month that
	 * ended before the start (teams formed ahead of the first month are
	 * not behind) or began after the end. */
	if (d->start != 0 && d->now < d->start)
		in.reminder_step = NULL;
	if (d->end != 0 && d->now > d->end + 86400)
		in.reminder_step = NULL;
	{
		struct tm tm;
		time_t month_start, prev_start;

		clock_local(d->now, &tm);
		month_start = clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, 1);
		prev_start = tm.tm_mon == 0 ? clock_local_midnight(tm.tm_year + 1899, 12, 1)
		                            : clock_local_midnight(tm.tm_year + 1900, tm.tm_mon, 1);
		if ((d->start != 0 && d->start >= month_start) ||
		    (d->end != 0 && prev_start > d->end))
			in.followup_step = NULL;
	}
	if (in.reminder_step != NULL)
		schedule_reminder_key_affixes(in.reminder_step, month, prefix, suffix);
	if (in.followup_step != NULL) {
		schedule_followup_key(in.followup_step, d->program->name, d->now, followup_key);
		if (store_outbox_has_key(d->store, followup_key, &in.followup_done, error_r) < 0)
			goto out;
	}
	/* Counting meetings is most of a cycle's cost at 100,000 groups: count
	 * only the months that can make something due now. */
	schedule_counts_needed(&in, d->now, &need_this, &need_prev);
	if (unit != NULL && (need_this || need_prev) &&
	    store_group_cadence(d->store, d->program->name, unit->name, need_this ? month : NULL,
	                        need_prev ? prev : NULL, in.reminder_step != NULL ? prefix : NULL,
	                        suffix, &cadence, &ngroups, error_r) < 0)
		goto out;
	counts = xcalloc(ngroups + 1, sizeof(*counts));
	for (size_t i = 0; i < ngroups; i++) {
		counts[i].id = cadence[i].id;
		counts[i].created_at = cadence[i].created_at;
		counts[i].meetings_this_month = cadence[i].meetings_this_month;
		counts[i].meetings_last_month = cadence[i].meetings_last_month;
		counts[i].reminded = cadence[i].reminded;
	}
	in.matches = counts;
	in.nmatches = ngroups;
	if (dig != NULL) {
		if (due_waiting(d, &in.pending_applications, error_r) < 0 ||
		    store_message_unreported(d->store, d->program->name, false, &held, &nheld,
		                             error_r) < 0)
			goto out;
		/* Failed emails are reported once, in the first program's digest. */
		if (first && store_outbox_unreported_failures(d->store, false, &failed, &nfailed,
		                                              error_r) < 0)
			goto out;
	}
	in.unreported_failures = (long)nfailed;
	in.unreported_messages = (long)nheld;
	schedule_due_actions(&in, d->now, &actions, &nactions);
	for (size_t i = 0; i < nactions; i++)
		if (due_cadence_action(d, &actions[i], counts, ngroups, error_r) < 0)
			goto out;
	*ngroups_r += ngroups;
	*nactions_r += nactions;
	ret = 0;
out:
	schedule_actions_free(&actions, nactions);
	store_outbox_list_free(&failed, nfailed);
	store_message_list_free(&held, nheld);
	free(cadence);
	free(counts);
	return ret;
}

/* ---- announcements and requests ---- */

/* Who a step writes to, as people (one mail each). */
struct due_person {
	int64_t person_id, participation_id, group_id;
	char *email, *name, *role; /* owned */
	time_t since;              /* in the audience since */
	/* A request about a participant (a form about = "participant"): whom
	 * it is about (the person themselves, or the participant a supervisor
	 * is asked about), 0 otherwise; about_name owned, may be NULL. */
	int64_t about_id;
	char *about_name;
};

static void
due_people_free(struct due_person **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*list)[i].email);
		free((*list)[i].name);
		free((*list)[i].role);
		free((*list)[i].about_name);
	}
	free(*list);
	*list = NULL;
}

static void
due_people_push(struct due_person **list, size_t *n, int64_t person, int64_t participation,
                int64_t group, const char *email, const char *name, const char *role, time_t since)
{
	struct due_person *p;

	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].person_id == person && (*list)[i].about_id == 0)
			return; /* once each, in whichever group */
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	p = &(*list)[(*n)++];
	p->about_id = 0;
	p->about_name = NULL;
	p->person_id = person;
	p->participation_id = participation;
	p->group_id = group;
	p->email = xstrdup(email);
	p->name = name != NULL ? xstrdup(name) : NULL;
	p->role = xstrdup(role);
	p->since = since;
}

/* A request about participant a to person (a itself, or its supervisor):
 * one entry for each participant, even for the same person. */
static void
due_people_push_about(struct due_person **list, size_t *n, int64_t person, const char *email,
                      const char *name, const char *role, const struct store_participation *a)
{
	struct due_person *p;

	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	p = &(*list)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->person_id = person;
	p->participation_id = a->id;
	p->email = xstrdup(email);
	p->name = name != NULL ? xstrdup(name) : NULL;
	p->role = xstrdup(role);
	p->since = a->created_at;
	p->about_id = a->person_id;
	p->about_name = xstrdup(notice_name(a->name, a->email));
}

/* The people of a step's audience (not the coordinators, not the
 * facilitators: those are per group). */
static int
due_audience(struct due *d, const struct program_step *s, struct due_person **list_r, size_t *n_r,
             const char **error_r)
{
	static const char *const taking_part[] = {"accepted", "matched", "active"};
	struct due_person *list = NULL;
	size_t n = 0;
	int ret = -1;

	if (s->to == TO_GROUP) {
		struct store_group *groups = NULL;
		size_t ng = 0;

		const struct program_group *sg = program_step_group(&d->program->model, s);

		if (sg == NULL)
			goto done;
		/* A pair of the second kind completes when its participant's
		 * final assessment comes in (due_complete); its mentor is still
		 * asked for the close-out note in the same window. */
		if (store_group_list(d->store, d->program->name, sg->name,
		                     program_group_is_second(&d->program->model, sg) ? NULL
		                                                                     : "active",
		                     &groups, &ng, error_r) < 0)
			goto out;
		for (size_t i = 0; i < ng; i++)
			for (size_t k = 0; k < groups[i].nmembers; k++) {
				const struct store_member *m = &groups[i].members[k];

				if (strcmp(groups[i].status, "active") != 0 &&
				    strcmp(groups[i].status, "completed") != 0)
					break;
				if (s->role != NULL && strcmp(m->role, s->role) != 0)
					continue;

				due_people_push(&list, &n, m->person_id, m->participation_id,
				                groups[i].id, m->email, m->name, m->role,
				                groups[i].created_at);
			}
		store_group_list_free(&groups, ng);
	} else if (s->to == TO_PARTICIPANTS || s->to == TO_ROLE || s->to == TO_SUPERVISOR) {
		const struct program_form *f =
		    s->request != NULL ? program_form(&d->program->model, s->request) : NULL;
		bool about = f != NULL && f->about == ABOUT_PARTICIPANT;

		for (size_t st = 0; st < N_ELEMENTS(taking_part); st++) {
			struct store_participation *ps = NULL;
			size_t np = 0;

			if (store_participation_list(d->store, d->program->name,
			                             s->to == TO_ROLE ? s->role : NULL,
			                             taking_part[st], &ps, &np, error_r) < 0)
				goto out;
			for (size_t i = 0; i < np; i++) {
				/* Supervisors and directors are recorded as people of
				 * the program, but take no part in it. */
				if (program_role(&d->program->model, ps[i].role) == NULL)
					continue;
				if (s->to == TO_SUPERVISOR) {
					/* One request per participant supervised: a
					 * supervisor of two answers about each. */
					if (ps[i].supervisor_id == 0 ||
					    ps[i].supervisor_email == NULL)
						continue;
					due_people_push_about(&list, &n, ps[i].supervisor_id,
					                      ps[i].supervisor_email, NULL,
					                      "supervisor", &ps[i]);
					continue;
				}
				if (about) {
					due_people_push_about(&list, &n, ps[i].person_id,
					                      ps[i].email, ps[i].name, ps[i].role,
					                      &ps[i]);
					continue;
				}
				due_people_push(&list, &n, ps[i].person_id, ps[i].id, 0,
				                ps[i].email, ps[i].name, ps[i].role,
				                ps[i].created_at);
			}
			store_participation_list_free(&ps, np);
		}
	}
done:
	*list_r = list;
	*n_r = n;
	list = NULL;
	ret = 0;
out:
	due_people_free(&list, n);
	return ret;
}

/* The template a step sends: its own, else its request's. */
static const char *
due_template(const struct program_step *s)
{
	if (s->template_name != NULL)
		return s->template_name;
	if (s->request != NULL)
		return "form-request";
	if (s->effect == EFFECT_END)
		return "program-end";
	if (s->effect == EFFECT_COMPLETE)
		return "certificate";
	if (s->effect == EFFECT_HEALTH)
		return "health";
	if (s->effect == EFFECT_COMPARE)
		return "assessment-report";
	return "announcement";
}

/* The topic of the period'th month of the program (counting from 0), or
 * NULL past the last. */
static const struct program_topic *
due_topic(const struct config_program *program, long period)
{
	if (period < 0 || (size_t)period >= program->model.ntopics)
		return NULL;
	return &program->model.topics[period];
}

static void
due_topic_vars(struct due *d, struct template_vars *vars, long period)
{
	const struct program_topic *t = due_topic(d->program, period);

	template_vars_setf(vars, "month_number", "%ld", period + 1);
	template_vars_set(vars, "topic", t != NULL ? t->title : NULL);
	template_vars_set(vars, "readings", t != NULL ? t->readings : NULL);
}

/*
 * Sends one step's mail to one person (an announcement, a request or its
 * reminder).  key names it; reminder 0 is the first.  For a request, the
 * thread says which form, round and group or meeting a reply answers.
 */
static int
due_send_person(struct due *d, const struct program_step *s, const struct due_person *p,
                const char *key, int reminder, int64_t about, const char **error_r)
{
	const struct program_form *f =
	    s->request != NULL ? program_form(&d->program->model, s->request) : NULL;
	struct template_vars *vars = notice_vars(d->config, d->program);
	struct outbox_queued q = {false, 0, 0};
	struct strvec to = {0};
	char *thread = NULL, *blank = NULL;
	int ret;

	template_vars_set(vars, "name", notice_name(p->name, p->email));
	template_vars_set(vars, "role", p->role);
	/* Whom a request about a participant is about (a supervisor's). */
	template_vars_set(vars, "about_name", p->about_id != p->person_id ? p->about_name : NULL);
	if (reminder > 0)
		template_vars_setf(vars, "reminder", "%d", reminder);
	if (f != NULL) {
		blank = form_render_blank(&f->def);
		template_vars_set(vars, "form", blank);
		template_vars_set(vars, "form_title",
		                  f->def.title != NULL ? f->def.title : f->def.name);
		template_vars_set(vars, "round", s->round);
		thread = xasprintf("request:%s:%s", f->def.name, s->round != NULL ? s->round : "");
		if (program_form_closes_at(f, d->start, d->end) != 0) {
			struct tm tm;
			char day[40];

			clock_local(program_form_closes_at(f, d->start, d->end) - 1, &tm);
			if (strftime(day, sizeof(day), "%A, %B", &tm) > 0)
				template_vars_setf(vars, "closes", "%s %d, %d", day, tm.tm_mday,
				                   tm.tm_year + 1900);
		}
	}
	due_topic_vars(d, vars, schedule_month_index(d->start, d->now));
	template_vars_set(vars, "listing", d->listing);
	strvec_push(&to, p->email);
	ret = notice_queue(d->config, d->store, d->program, d->now, key, s->name, &to,
	                   thread != NULL ? thread : "group", thread != NULL ? about : p->group_id,
	                   due_template(s), vars,
	                   s->to == TO_SUPERVISOR ? AUDIENCE_SUPERVISOR : AUDIENCE_PARTICIPANT,
	                   OUTBOX_NOTICE, NULL, &q, error_r);
	if (ret == 0 && q.created)
		d->queued++;
	strvec_free(&to);
	free(thread);
	free(blank);
	template_vars_free(&vars);
	return ret;
}

/* The request (reminder 0) or the reminder due now to one person who has
 * not answered.  key_base identifies the request; sent is when it went
 * out; about the group or meeting. */
static int
due_request(struct due *d, const struct program_step *s, const struct due_person *p,
            const char *key_base, time_t sent, int64_t about, int64_t event, const char **error_r)
{
	int k = schedule_reminder_due(sent, d->now, s->remind_every,
	                              s->until > 0 ? s->until : DUE_WINDOW_DAYS);
	const struct program_form *f =
	    s->request != NULL ? program_form(&d->program->model, s->request) : NULL;
	time_t closes = program_form_closes_at(f, d->start, d->end);
	char *key;
	int ret;

	/* Past the form's deadline nobody is asked or reminded. */
	if (k < 0 || (closes != 0 && d->now >= closes))
		return 0;
	if (s->request != NULL && k > 0 && p->about_id != 0) {
		int64_t answer;

		/* Each respondent is reminded of their own answer about that
		 * participant only. */
		if (store_answer_latest(d->store, d->program->name, s->request, s->round,
		                        p->person_id, p->about_id, &answer, error_r) < 0)
			return -1;
		if (answer != 0)
			return 0;
	} else if (s->request != NULL && k > 0) {
		long answered = 0;

		if (store_answer_count(d->store, d->program->name, s->request, s->round,
		                       p->person_id, 0, event, &answered, error_r) < 0)
			return -1;
		if (answered > 0)
			return 0;
	}
	if (k == 0 || s->request == NULL || s->remind_every <= 0) {
		key = xstrdup(key_base);
		k = 0;
	} else {
		key = xasprintf("%s:reminder=%d", key_base, k);
	}
	/* The first request goes out even when it is late (a reminder would
	 * then follow at once): it is the one that matters. */
	if (k > 0) {
		bool have_first;

		if (store_outbox_has_key(d->store, key_base, &have_first, error_r) < 0) {
			free(key);
			return -1;
		}
		if (!have_first) {
			free(key);
			key = xstrdup(key_base);
			k = 0;
		}
	}
	ret = due_send_person(d, s, p, key, k, about, error_r);
	free(key);
	return ret;
}

/*
 * EFFECT_HEALTH: the week's summary to the coordinators, once a week (key
 * health:program=P:week=YYYY-Www, the ISO week of the period's Monday),
 * with the partnership report attached as CSV.  Counts only: report.c
 * never reads an evaluation's answers.
 */
static int
due_health(struct due *d, const struct program_step *s, const struct schedule_period *period,
           const char **error_r)
{
	struct report_health h;
	struct report_table rt = {0};
	struct strbuf csv = {0};
	struct compose_attachment att;
	struct template_vars *vars = NULL;
	struct outbox_mail mail;
	char week[24], *key, *filename = NULL;
	bool queued;
	struct tm tm;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	/* Noon of the Monday: the week's ISO number whatever the DST shift. */
	clock_local(period->start + 12 * 3600, &tm);
	if (strftime(week, sizeof(week), "%G-W%V", &tm) == 0)
		snprintf(week, sizeof(week), "%s", period->key);
	key = xasprintf("health:program=%s:week=%s", d->program->name, week);
	if (store_outbox_has_key(d->store, key, &queued, error_r) < 0)
		goto out;
	if (queued) {
		ret = 0;
		goto out;
	}
	if (report_health(d->config, d->store, d->program, d->now, &h, error_r) < 0 ||
	    report_partnerships(d->config, d->store, d->program->name, NULL, d->now, &rt, error_r) <
	        0)
		goto out;
	report_table_csv(&rt, &csv);
	filename = xasprintf("%s-report-%s.csv", d->program->name, week);
	memset(&att, 0, sizeof(att));
	att.filename = filename;
	att.content_type = "text/csv";
	att.data = strbuf_str(&csv);
	att.len = csv.len;
	vars = notice_vars(d->config, d->program);
	template_vars_set(vars, "week", week);
	template_vars_setf(vars, "active", "%ld", h.active);
	template_vars_setf(vars, "on_track", "%ld", h.on_track);
	template_vars_setf(vars, "needs_checkin", "%ld", h.needs_checkin);
	template_vars_setf(vars, "evaluations_due", "%ld", h.evaluations_due);
	template_vars_setf(vars, "failed_emails", "%ld", h.failed_emails);
	template_vars_setf(vars, "held_messages", "%ld", h.held_messages);
	template_vars_set(vars, "checkins", strbuf_str(&h.checkins));
	template_vars_set(vars, "attachment", filename);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = "health";
	mail.program = d->program->name;
	mail.to = &d->program->coordinators;
	mail.thread_type = "program";
	mail.thread_ref = 0;
	mail.template_name = due_template(s);
	mail.vars = vars;
	mail.audience = AUDIENCE_COORDINATOR;
	mail.nature = OUTBOX_NOTICE;
	mail.attachments = &att;
	mail.nattachments = 1;
	ret = outbox_enqueue(d->config, d->store, &mail, d->now, NULL, error_r);
out:
	free(key);
	free(filename);
	template_vars_free(&vars);
	strbuf_free(&csv);
	report_table_free(&rt);
	report_health_free(&h);
	return ret;
}

/* ---- a listing of what participants agreed to show (shows = FORM) ---- */

/* One person's entry in the listing. */
struct due_entry {
	int64_t person_id;
	char *text; /* owned */
};

static void
due_entries_free(struct due_entry **list, size_t n)
{
	for (size_t i = 0; *list != NULL && i < n; i++)
		free((*list)[i].text);
	free(*list);
	*list = NULL;
}

/* Appends value under key, its further lines indented, to sb. */
static void
due_entry_field(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_addf(sb, "  %s: ", key);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		strbuf_addf(sb, "%c", *p);
		if (*p == '\n' && p[1] != '\0')
			strbuf_addf(sb, "    ");
	}
	if (sb->len > 0 && strbuf_str(sb)[sb->len - 1] != '\n')
		strbuf_addf(sb, "\n");
}

/*
 * The entries of everyone taking part whose role joins by form s->shows
 * (accepted, matched or active: not someone who sent stop, withdrew or
 * was declined), with only the fields visible_to "participants", and
 * only the ones they answered; a person with none is left out.
 */
static int
due_entries(struct due *d, const struct program_step *s, struct due_entry **list_r, size_t *n_r,
            const char **error_r)
{
	static const char *const taking_part[] = {"accepted", "matched", "active"};
	const struct program_form *f = program_form(&d->program->model, s->shows);
	struct due_entry *list = NULL;
	size_t n = 0, cap = 0;
	int ret = -1;

	for (size_t st = 0; f != NULL && st < N_ELEMENTS(taking_part); st++) {
		struct store_participation *ps = NULL;
		size_t np = 0;

		if (store_participation_list(d->store, d->program->name,
		                             s->to == TO_ROLE ? s->role : NULL, taking_part[st],
		                             &ps, &np, error_r) < 0)
			goto out;
		for (size_t i = 0; i < np; i++) {
			const struct program_role *role =
			    program_role(&d->program->model, ps[i].role);
			struct strbuf sb = {0};
			bool any = false;

			if (role == NULL || role->form == NULL ||
			    strcmp(role->form, s->shows) != 0 || ps[i].answer_id <= 0)
				continue;
			strbuf_addf(&sb, "%s <%s>\n", notice_name(ps[i].name, ps[i].email),
			            ps[i].email);
			for (size_t k = 0; k < f->def.nfields; k++) {
				const struct form_field_def *fd = &f->def.fields[k];
				char *value = NULL;
				bool found = false;

				if ((fd->visible_to & FORM_VISIBLE_PARTICIPANTS) == 0)
					continue;
				if (store_answer_value_get(d->store, ps[i].answer_id, fd->key,
				                           &found, &value, error_r) < 0) {
					strbuf_free(&sb);
					store_participation_list_free(&ps, np);
					goto out;
				}
				if (found && value != NULL && *str_trim(value) != '\0') {
					due_entry_field(&sb, fd->key, value);
					any = true;
				}
				free(value);
			}
			if (any) {
				list = xgrow(list, &cap, n + 1, sizeof(*list));
				list[n].person_id = ps[i].person_id;
				list[n++].text = xstrdup(strbuf_str(&sb));
			}
			strbuf_free(&sb);
		}
		store_participation_list_free(&ps, np);
	}
	*list_r = list;
	*n_r = n;
	list = NULL;
	ret = 0;
out:
	due_entries_free(&list, n);
	return ret;
}

/* The listing for reader: everyone's entry but their own, a blank line
 * apart.  The caller owns the result, NULL when it would be empty. */
static char *
due_listing_for(const struct due_entry *list, size_t n, int64_t reader)
{
	struct strbuf sb = {0};
	char *s;

	for (size_t i = 0; i < n; i++)
		if (list[i].person_id != reader)
			strbuf_addf(&sb, "%s%s", sb.len > 0 ? "\n" : "", list[i].text);
	s = sb.len > 0 ? xstrdup(strbuf_str(&sb)) : NULL;
	strbuf_free(&sb);
	return s;
}

/* An `every` step that is not the cadence: to each person (or group, or
 * facilitator) once per period, from its day on. */
static int
due_every(struct due *d, const struct program_step *s, const char **error_r)
{
	struct schedule_period period;
	time_t due_at = schedule_every_due(s->every, s->day, d->now, &period);
	struct due_person *people = NULL;
	struct due_entry *entries = NULL;
	size_t n = 0, nentries = 0;
	time_t joined_by = due_at; /* held to the period: who is there by then */
	int ret = -1;

	if (d->now < due_at || (d->start != 0 && d->now < d->start) ||
	    (d->end != 0 && due_at > d->end))
		return 0;
	/* The period the program starts in is the program's from its start:
	 * CDSS starts on 1 November with its pairs formed in October, after
	 * the quarter's day (1 October).  They are its partners when it
	 * begins, so the step is due to them at the start (and its window,
	 * for a request's reminders, counts from there): the quarter's group
	 * meeting is announced on the first working day of the class, not
	 * skipped because the quarter began before the class did. */
	if (d->start != 0 && joined_by < d->start)
		joined_by = d->start;
	if (s->effect == EFFECT_HEALTH)
		return due_health(d, s, &period, error_r);
	if (s->to == TO_COORDINATORS) {
		struct template_vars *vars = notice_vars(d->config, d->program);
		char *key = xasprintf("step=%s:program=%s:%s=%s", s->name, d->program->name,
		                      program_period_name(s->every), period.key);

		due_topic_vars(d, vars, schedule_month_index(d->start, d->now));
		ret = notice_queue(d->config, d->store, d->program, d->now, key, s->name,
		                   &d->program->coordinators, "program", 0, due_template(s), vars,
		                   AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
		free(key);
		template_vars_free(&vars);
		return ret;
	}
	if (s->to == TO_FACILITATOR || (s->to == TO_GROUP && s->request == NULL &&
	                                program_step_group(&d->program->model, s) != NULL &&
	                                !program_step_group(&d->program->model, s)->pair)) {
		/* Per group: the facilitator of the month, or a team's mail about
		 * its month (one email, a copy to each member). */
		struct store_group *groups = NULL;
		size_t ng = 0;

		if (d->program->model.unit == NULL ||
		    store_group_list(d->store, d->program->name, d->program->model.unit->name,
		                     "active", &groups, &ng, error_r) < 0)
			return d->program->model.unit == NULL ? 0 : -1;
		for (size_t i = 0; i < ng; i++) {
			const struct store_group *g = &groups[i];
			/* Turns count from the program's first month, or from the
			 * group's when it formed later: the first member of the
			 * introduction's order facilitates the first meeting. */
			long month = schedule_month_index(
			    d->start > g->created_at ? d->start : g->created_at, d->now);
			const struct store_member *fac = groups_facilitator(g, month);
			struct template_vars *vars;
			struct strvec to = {0};
			char *key;

			if (g->created_at > joined_by || fac == NULL)
				continue;
			vars = notice_vars(d->config, d->program);
			due_member_vars(vars, g);
			due_topic_vars(d, vars,
			               d->start != 0 ? schedule_month_index(d->start, d->now)
			                             : month);
			if (s->every == PERIOD_MONTH) {
				char title[32];

				notice_month_title(period.key, title, sizeof(title));
				template_vars_set(vars, "month", title);
			}
			if (d->program->model.unit->rotate_facilitator) {
				template_vars_set(vars, "facilitator",
				                  notice_name(fac->name, fac->email));
				template_vars_set(vars, "facilitator_email", fac->email);
			}
			template_vars_setf(vars, "group_id", "%lld", (long long)g->id);
			if (s->to == TO_FACILITATOR)
				strvec_push(&to, fac->email);
			else
				for (size_t k = 0; k < g->nmembers; k++)
					strvec_push(&to, g->members[k].email);
			key = xasprintf("step=%s:group=%lld:%s=%s", s->name, (long long)g->id,
			                program_period_name(s->every), period.key);
			ret =
			    notice_queue(d->config, d->store, d->program, d->now, key, s->name, &to,
			                 "group", g->id, due_template(s), vars,
			                 AUDIENCE_PARTICIPANT, OUTBOX_NOTICE, NULL, NULL, error_r);
			free(key);
			strvec_free(&to);
			template_vars_free(&vars);
			if (ret < 0) {
				store_group_list_free(&groups, ng);
				return -1;
			}
		}
		store_group_list_free(&groups, ng);
		return 0;
	}
	if (due_audience(d, s, &people, &n, error_r) < 0)
		return -1;
	if (s->shows != NULL && due_entries(d, s, &entries, &nentries, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *key, *listing = NULL;

		if (people[i].since > joined_by)
			continue;
		/* A listing with nobody else in it is not sent. */
		if (s->shows != NULL) {
			listing = due_listing_for(entries, nentries, people[i].person_id);
			if (listing == NULL)
				continue;
		}
		key =
		    xasprintf("step=%s:person=%lld:%s=%s", s->name, (long long)people[i].person_id,
		              program_period_name(s->every), period.key);
		d->listing = listing;
		ret = due_request(d, s, &people[i], key, joined_by, people[i].group_id, 0, error_r);
		d->listing = NULL;
		free(listing);
		free(key);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	due_entries_free(&entries, nentries);
	due_people_free(&people, n);
	return ret;
}

/* ---- the end, and completion ---- */

/* EFFECT_END: every active group is completed, its members too; each is
 * told, and a role's graduates offered the role it leads to, with its
 * form. */
static int
due_end(struct due *d, const struct program_step *s, const char **error_r)
{
	const struct program_group *unit = d->program->model.unit;
	struct store_group *groups = NULL;
	size_t ng = 0;
	int ret = -1;

	if (unit == NULL)
		return 0;
	if (store_group_list(d->store, d->program->name, unit->name, "active", &groups, &ng,
	                     error_r) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		const struct store_group *g = &groups[i];

		for (size_t k = 0; k < g->nmembers; k++) {
			const struct store_member *m = &g->members[k];
			const struct program_role *role = program_role(&d->program->model, m->role);
			const struct program_role *next =
			    role != NULL ? program_role(&d->program->model, role->graduates_to)
			                 : NULL;
			const struct program_form *nf =
			    next != NULL ? program_form(&d->program->model, next->form) : NULL;
			struct template_vars *vars = notice_vars(d->config, d->program);
			char *key =
			    xasprintf("step=%s:person=%lld", s->name, (long long)m->person_id);
			char *blank = nf != NULL ? form_render_blank(&nf->def) : NULL;

			template_vars_set(vars, "name", notice_name(m->name, m->email));
			template_vars_set(vars, "offer", next != NULL ? next->title : NULL);
			template_vars_set(vars, "offer_form", blank);
			ret = store_participation_set_status(d->store, m->participation_id,
			                                     "completed", NULL, d->now, error_r);
			if (ret == 0)
				ret = notice_queue_one(d->config, d->store, d->program, d->now, key,
				                       s->name, m->email, "group", g->id,
				                       due_template(s), vars, AUDIENCE_PARTICIPANT,
				                       error_r);
			free(blank);
			free(key);
			template_vars_free(&vars);
			if (ret < 0)
				goto out;
		}
		if (store_group_set_status(d->store, g->id, "completed", "the program ended",
		                           d->now, error_r) < 0)
			goto out;
	}
	ret = 0;
out:
	store_group_list_free(&groups, ng);
	return ret;
}

/* Whether member m of group g meets the completion rule of step s; *why_r
 * says what is missing (static). */
static int
due_completes(struct due *d, const struct program_step *s, const struct store_group *g,
              const struct store_member *m, bool *done_r, const char **why_r, const char **error_r)
{
	long answered = 0, meetings = 0, attended = 0;

	*done_r = false;
	if (store_answer_count(d->store, d->program->name, s->complete_form, s->complete_round,
	                       m->person_id, 0, 0, &answered, error_r) < 0 ||
	    store_event_count(d->store, g->id, "meeting", NULL, &meetings, NULL, error_r) < 0 ||
	    store_event_attended(d->store, g->id, "meeting", m->person_id, &attended, error_r) < 0)
		return -1;
	if (answered == 0) {
		*why_r = "the final evaluation has not come in";
		return 0;
	}
	if (s->attendance_percent > 0 &&
	    (meetings == 0 || attended * 100 < (long)s->attendance_percent * meetings)) {
		*why_r = "below the attendance the program asks for";
		return 0;
	}
	*done_r = true;
	return 0;
}

/*
 * EFFECT_COMPLETE: from the step's time on (within its window), each
 * member of an active group who meets the rule (the form answered, the
 * meetings attended) is completed and receives the certificate of
 * completion as a PDF; the coordinators are told of each.  When the window
 * closes, the coordinators get the list of who did not complete, and why,
 * and the groups are completed (nothing more is due for them).
 */
static int
due_complete(struct due *d, const struct program_step *s, time_t at, bool closing,
             const char **error_r)
{
	const struct program_group *unit = program_step_group(&d->program->model, s);
	bool second = program_group_is_second(&d->program->model, unit);
	const struct program_certificate *c = &d->program->model.certificate;
	struct store_group *groups = NULL;
	struct strbuf missing = {0};
	size_t ng = 0;
	int ret = -1;

	if (unit == NULL)
		return 0;
	if (store_group_list(d->store, d->program->name, unit->name, "active", &groups, &ng,
	                     error_r) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		for (size_t k = 0; k < groups[i].nmembers; k++) {
			const struct store_member *m = &groups[i].members[k];

			/* role: only its members complete (DOL: the participant of
			 * each mentor pair, not the mentor). */
			if (s->role != NULL && strcmp(m->role, s->role) != 0)
				continue;
			struct compose_attachment att;
			struct certificate cert;
			struct template_vars *vars = NULL;
			struct outbox_mail mail;
			struct strvec to = {0};
			unsigned char *pdf = NULL;
			size_t len = 0;
			const char *why = NULL;
			char *key;
			bool done, queued;
			struct tm tm;

			if (due_completes(d, s, &groups[i], m, &done, &why, error_r) < 0)
				goto out;
			if (!done) {
				strbuf_addf(&missing, "  #%lld %s <%s>: %s\n",
				            (long long)m->participation_id,
				            notice_name(m->name, m->email), m->email, why);
				continue;
			}
			key = xasprintf("step=%s:person=%lld", s->name, (long long)m->person_id);
			if (store_outbox_has_key(d->store, key, &queued, error_r) < 0) {
				free(key);
				goto out;
			}
			if (queued) {
				free(key);
				continue;
			}
			clock_local(at < d->now ? at : d->now, &tm);
			memset(&cert, 0, sizeof(cert));
			cert.participant = notice_name(m->name, m->email);
			cert.program = d->program->title;
			cert.year = tm.tm_year + 1900;
			cert.month = tm.tm_mon + 1;
			cert.day = tm.tm_mday;
			cert.signer_name = c->signer;
			cert.signer_title = c->signer_title;
			cert.organisation = c->organisation;
			cert.created = at;
			/* No certificate configured: completion is recorded, and
			 * the step's own email says so. */
			if (c->signer != NULL &&
			    certificate_render(&cert, &pdf, &len, error_r) < 0) {
				free(key);
				goto out;
			}
			memset(&att, 0, sizeof(att));
			att.filename = "certificate-of-completion.pdf";
			att.content_type = "application/pdf";
			att.data = pdf;
			att.len = len;
			vars = notice_vars(d->config, d->program);
			template_vars_set(vars, "name", cert.participant);
			template_vars_set(vars, "signer", c->signer);
			template_vars_set(vars, "signer_title", c->signer_title);
			strvec_push(&to, m->email);
			memset(&mail, 0, sizeof(mail));
			mail.key = key;
			mail.kind = pdf != NULL ? "certificate" : "completion";
			mail.program = d->program->name;
			mail.to = &to;
			mail.thread_type = "group";
			mail.thread_ref = groups[i].id;
			mail.template_name = due_template(s);
			mail.vars = vars;
			mail.audience = AUDIENCE_PARTICIPANT;
			mail.attachments = pdf != NULL ? &att : NULL;
			mail.nattachments = pdf != NULL ? 1 : 0;
			/* A pair of the second kind (DOL's mentoring component)
			 * is what completes: the participant goes on in their
			 * team and sessions, so their status is the unit's. */
			if (second)
				ret = store_group_set_status(d->store, groups[i].id, "completed",
				                             "completed", d->now, error_r);
			else
				ret = store_participation_set_status(d->store, m->participation_id,
				                                     "completed", NULL, d->now,
				                                     error_r);
			if (ret == 0)
				ret = outbox_enqueue(d->config, d->store, &mail, d->now, NULL,
				                     error_r);
			free(key);
			strvec_free(&to);
			free(pdf);
			if (ret == 0) {
				key = xasprintf("step=%s:person=%lld:coordinators", s->name,
				                (long long)m->person_id);
				template_vars_set(vars, "address", m->email);
				ret = notice_queue(d->config, d->store, d->program, d->now, key,
				                   "completion", &d->program->coordinators, "group",
				                   groups[i].id, "completion-notice", vars,
				                   AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL,
				                   error_r);
				free(key);
			}
			template_vars_free(&vars);
			if (ret < 0)
				goto out;
		}
	}
	if (closing) {
		struct template_vars *vars = notice_vars(d->config, d->program);
		char *key = xasprintf("step=%s:program=%s:closed", s->name, d->program->name);

		template_vars_set(vars, "missing", strbuf_str(&missing));
		ret = notice_queue(d->config, d->store, d->program, d->now, key, "completion",
		                   &d->program->coordinators, "program", 0, "completion-summary",
		                   vars, AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
		free(key);
		template_vars_free(&vars);
		if (ret < 0)
			goto out;
		/* The time to complete is over: so are the groups, so that no
		 * reminder or request follows the program's end.  A pair of the
		 * second kind that did not complete ends (completed says the
		 * participant completed). */
		for (size_t i = 0; i < ng; i++)
			if (store_group_set_status(d->store, groups[i].id,
			                           second ? "ended" : "completed",
			                           "the program ended", d->now, error_r) < 0)
				goto out;
	}
	ret = 0;
out:
	strbuf_free(&missing);
	store_group_list_free(&groups, ng);
	return ret;
}

/* Commits what a fan-out queued so far once it is a chunk (see struct
 * due), and goes on in a new transaction. */
static int
due_chunk_commit(struct due *d, const char **error_r)
{
	if (!d->own_tx || d->queued < d->config->fanout_chunk)
		return 0;
	if (store_commit(d->store, error_r) < 0)
		return -1;
	d->queued = 0;
	/* A writer waiting for the lock (mentorctl, a second mentord) polls
	 * in SQLite's busy handler, sleeping 1 to 100 ms between tries: BEGIN
	 * again at once and it would never get in.  20 ms a chunk is 1.5 s
	 * over 38,000 emails. */
	nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	return store_begin(d->store, error_r);
}

/* An `at` step: once, from its time on, within its window. */
static int
due_at(struct due *d, const struct program_step *s, const char **error_r)
{
	time_t at = program_point_time(&s->at, d->start, d->end);
	long window = s->until > 0 ? s->until : DUE_WINDOW_DAYS;
	struct due_person *people = NULL;
	size_t n = 0;
	int ret = -1;

	if (at == 0 || d->now < at)
		return 0;
	if (s->effect == EFFECT_COMPLETE)
		return due_complete(d, s, at, d->now - at >= window * 86400, error_r);
	/* Whole days, as schedule_reminder_due counts them: a reminder due on
	 * the window's last day goes out that day. */
	if ((d->now - at) / 86400 > window)
		return 0;
	if (s->effect == EFFECT_END)
		return due_end(d, s, error_r);
	if (s->effect == EFFECT_COMPARE)
		return compare_due(d->config, d->store, d->program, s, d->now, error_r);
	if (s->to == TO_COORDINATORS) {
		struct template_vars *vars = notice_vars(d->config, d->program);
		char *key = xasprintf("step=%s:program=%s", s->name, d->program->name);

		ret = notice_queue(d->config, d->store, d->program, d->now, key, s->name,
		                   &d->program->coordinators, "program", 0, due_template(s), vars,
		                   AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
		free(key);
		template_vars_free(&vars);
		return ret;
	}
	if (due_audience(d, s, &people, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		/* A supervisor's request is also keyed by whom it is about. */
		char *key =
		    people[i].about_id != 0 && people[i].about_id != people[i].person_id
		        ? xasprintf("step=%s:person=%lld:about=%lld", s->name,
		                    (long long)people[i].person_id, (long long)people[i].about_id)
		        : xasprintf("step=%s:person=%lld", s->name, (long long)people[i].person_id);

		ret = due_request(d, s, &people[i], key, at,
		                  people[i].about_id != 0 ? people[i].about_id : people[i].group_id,
		                  0, error_r);
		free(key);
		if (ret < 0 || (ret = due_chunk_commit(d, error_r)) < 0)
			goto out;
	}
	ret = 0;
out:
	due_people_free(&people, n);
	return ret;
}

/* Member m of group g as the person a request goes to: *p borrows m's
 * strings (not to be freed with due_people_free). */
static void
due_person_of_member(struct due_person *p, const struct store_group *g,
                     const struct store_member *m)
{
	memset(p, 0, sizeof(*p));
	p->person_id = m->person_id;
	p->participation_id = m->participation_id;
	p->group_id = g->id;
	p->email = m->email;
	p->name = m->name;
	p->role = m->role;
}

/* An `after` step: for each meeting reported in the window, each member of
 * its group is asked (and reminded) once. */
static int
due_after(struct due *d, const struct program_step *s, const char **error_r)
{
	const struct program_group *unit = program_step_group(&d->program->model, s);
	struct store_group *groups = NULL;
	size_t ng = 0;
	long window = s->until > 0 ? s->until : DUE_WINDOW_DAYS;
	bool formed = strcmp(s->after, "formed") == 0;
	int ret = -1;

	if (unit == NULL)
		return 0;
	if (store_group_list(d->store, d->program->name, unit->name, "active", &groups, &ng,
	                     error_r) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		struct store_event *events = NULL;
		size_t ne = 0;

		/* after = "formed": each member of each group formed in the
		 * window (a pair made at the mid-point, a new pair after a
		 * rematch) is asked once, from the day it was formed. */
		if (formed) {
			if ((d->now - groups[i].created_at) / 86400 > window ||
			    (d->start != 0 && d->now < d->start))
				continue;
			for (size_t k = 0; k < groups[i].nmembers; k++) {
				const struct store_member *m = &groups[i].members[k];
				struct due_person p;
				char *key;

				if (s->role != NULL && strcmp(m->role, s->role) != 0)
					continue;
				key = xasprintf("step=%s:group=%lld:person=%lld", s->name,
				                (long long)groups[i].id, (long long)m->person_id);
				due_person_of_member(&p, &groups[i], m);
				ret = due_request(d, s, &p, key, groups[i].created_at, groups[i].id,
				                  0, error_r);
				free(key);
				if (ret < 0)
					goto out;
			}
			continue;
		}

		if (store_event_list(d->store, groups[i].id, s->after, &events, &ne, error_r) < 0)
			goto out;
		for (size_t e = 0; e < ne; e++) {
			if ((d->now - events[e].created_at) / 86400 > window)
				continue;
			for (size_t k = 0; k < groups[i].nmembers; k++) {
				const struct store_member *m = &groups[i].members[k];
				struct due_person p;
				char *key =
				    xasprintf("step=%s:event=%lld:person=%lld", s->name,
				              (long long)events[e].id, (long long)m->person_id);

				due_person_of_member(&p, &groups[i], m);
				ret = due_request(d, s, &p, key, events[e].created_at, events[e].id,
				                  events[e].id, error_r);
				free(key);
				if (ret < 0) {
					store_event_list_free(&events, ne);
					goto out;
				}
			}
		}
		store_event_list_free(&events, ne);
	}
	ret = 0;
out:
	store_group_list_free(&groups, ng);
	return ret;
}

/* ---- approvals ---- */

/*
 * Waiting approvals: a reminder to the approver every approval_days
 * (twice), then the approval expires and the coordinators are told, so a
 * director who never answers does not leave the application waiting
 * unseen.
 */
static int
due_approvals(struct due *d, const char **error_r)
{
	struct store_approval *list = NULL;
	size_t n = 0;
	int ret = -1;

	if (store_approval_list(d->store, d->program->name, 0, "waiting", &list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct store_approval *a = &list[i];
		struct store_participation p;
		const struct program_role *role;
		struct template_vars *vars;
		long k;
		bool found;
		char *key;

		memset(&p, 0, sizeof(p));
		if (store_participation_get(d->store, a->participation_id, &found, &p, error_r) < 0)
			goto out;
		/* The application was decided meanwhile (another approver said no,
		 * the coordinator decided, the applicant withdrew): nobody is
		 * asked again. */
		if (found && strcmp(p.status, "approving") != 0) {
			ret = store_approval_decide(d->store, a->id, "settled",
			                            "the application was decided", 0, d->now,
			                            error_r);
			store_participation_clear(&p);
			if (ret < 0)
				goto out;
			continue;
		}
		role = found ? program_role(&d->program->model, p.role) : NULL;
		if (role == NULL || role->approval_days <= 0) {
			store_participation_clear(&p);
			continue;
		}
		k = (long)((d->now - a->created_at) / 86400) / role->approval_days;
		if (k <= 0) {
			store_participation_clear(&p);
			continue;
		}
		vars = notice_vars(d->config, d->program);
		template_vars_set(vars, "name", notice_name(p.name, p.email));
		template_vars_set(vars, "approver", a->approver);
		template_vars_set(vars, "approver_email", a->email);
		template_vars_set(vars, "role_title", role->title);
		template_vars_setf(vars, "application_id", "%lld", (long long)p.id);
		template_vars_setf(vars, "days", "%ld", k * role->approval_days);
		if (k >= DUE_APPROVAL_INTERVALS) {
			key = xasprintf("approval-expired:approval=%lld", (long long)a->id);
			ret = store_approval_decide(d->store, a->id, "expired", NULL, 0, d->now,
			                            error_r);
			if (ret == 0)
				ret = notice_queue(d->config, d->store, d->program, d->now, key,
				                   "approval-expired", &d->program->coordinators,
				                   "application", p.id, "approval-expired", vars,
				                   AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL,
				                   error_r);
		} else {
			struct outbox_mail mail;
			struct strvec to = {0};

			key =
			    xasprintf("approval-reminder:approval=%lld:n=%ld", (long long)a->id, k);
			strvec_push(&to, a->email);
			memset(&mail, 0, sizeof(mail));
			mail.key = key;
			mail.kind = "approval-reminder";
			mail.program = d->program->name;
			mail.to = &to;
			mail.thread_type = "approval";
			mail.thread_ref = a->id;
			mail.template_name = "approval-reminder";
			mail.vars = vars;
			mail.audience = AUDIENCE_SUPERVISOR;
			mail.capped = true;
			ret = outbox_enqueue(d->config, d->store, &mail, d->now, NULL, error_r);
			strvec_free(&to);
		}
		free(key);
		template_vars_free(&vars);
		store_participation_clear(&p);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	store_approval_list_free(&list, n);
	return ret;
}

/* ---- one program ---- */

static int
due_program(const struct config *config, struct store *store, const struct config_program *program,
            bool first, time_t now, bool own_tx, size_t *ngroups_r, size_t *nactions_r,
            const char **error_r)
{
	struct due d;

	memset(&d, 0, sizeof(d));
	d.own_tx = own_tx;
	d.config = config;
	d.store = store;
	d.program = program;
	d.now = now;
	notice_program_span(program, &d.start, &d.end);
	if (due_cadence(&d, first, ngroups_r, nactions_r, error_r) < 0)
		return -1;
	if (!schedule_in_working_hours(now, config->work_start_hour, config->work_end_hour,
	                               config->work_weekends))
		return 0;
	if (due_approvals(&d, error_r) < 0 || session_due(config, store, program, now, error_r) < 0)
		return -1;
	for (size_t i = 0; i < program->model.nsteps; i++) {
		const struct program_step *s = &program->model.steps[i];
		int rc = 0;

		if (due_is_cadence_step(program, s))
			continue;
		switch (s->when) {
		case WHEN_EVERY:
			rc = due_every(&d, s, error_r);
			break;
		case WHEN_AT:
			rc = due_at(&d, s, error_r);
			break;
		case WHEN_AFTER:
			rc = due_after(&d, s, error_r);
			break;
		}
		if (rc < 0) {
			*error_r = errorf("step %s: %s", s->name, *error_r);
			return -1;
		}
	}
	return 0;
}

/* due_run, with a transaction per program (own_tx), or in the caller's. */
static int
due_run_programs(const struct config *config, struct store *store, time_t now, bool own_tx,
                 const char **error_r)
{
	struct timespec t0, t1;
	size_t ngroups = 0, nactions = 0;
	const char *tzerr;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < config->nprograms && ret == 0; i++) {
		const struct config_program *program = &config->programs[i];

		/* Months, working hours and dates are the program's own. */
		if (clock_set_timezone(program->timezone, &tzerr) < 0) {
			log_warnx("program %s: %s", program->name, tzerr);
			continue;
		}
		if (own_tx && store_begin(store, error_r) < 0) {
			ret = -1;
			break;
		}
		if (due_program(config, store, program, i == 0, now, own_tx, &ngroups, &nactions,
		                error_r) < 0) {
			if (own_tx)
				store_rollback(store);
			ret = -1;
		} else if (own_tx && store_commit(store, error_r) < 0) {
			store_rollback(store);
			ret = -1;
		}
	}
	(void)clock_set_timezone(config->timezone, &tzerr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The benchmark reads this line; keep its shape. */
	log_info("schedule: %zu partnerships, %zu due, %.3f s", ngroups, nactions,
	         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ret;
}

int
due_run(const struct config *config, struct store *store, time_t now, const char **error_r)
{
	return due_run_programs(config, store, now, true, error_r);
}

int
due_run_in(const struct config *config, struct store *store, time_t now, const char **error_r)
{
	return due_run_programs(config, store, now, false, error_r);
}

int
due_check_templates(const struct config *config, const struct config_program *program,
                    const char **error_r)
{
	static const char *const confidential[] = {"answers",  "needs",   "notes",
	                                           "comments", "summary", NULL};

	for (size_t i = 0; i < program->model.nsteps; i++) {
		const struct program_step *s = &program->model.steps[i];
		const char *name = due_template(s);
		enum template_audience audience = s->to == TO_COORDINATORS ? AUDIENCE_COORDINATOR
		                                  : s->to == TO_SUPERVISOR ? AUDIENCE_SUPERVISOR
		                                                           : AUDIENCE_PARTICIPANT;
		char *dir = template_dir_for(config->templates, program->name, name);
		int rc = template_check(dir, name, audience, confidential, error_r);

		free(dir);
		if (rc < 0) {
			*error_r =
			    errorf("program %s step %s: %s", program->name, s->name, *error_r);
			return -1;
		}
		if (s->effect == EFFECT_COMPARE &&
		    compare_check_templates(config, program, s, error_r) < 0) {
			*error_r =
			    errorf("program %s step %s: %s", program->name, s->name, *error_r);
			return -1;
		}
		if (s->effect == EFFECT_COMPLETE) {
			static const char *const extra[] = {"completion-notice",
			                                    "completion-summary"};

			for (size_t k = 0; k < N_ELEMENTS(extra); k++) {
				dir = template_dir_for(config->templates, program->name, extra[k]);
				rc = template_check(dir, extra[k], AUDIENCE_COORDINATOR,
				                    confidential, error_r);
				free(dir);
				if (rc < 0) {
					*error_r = errorf("program %s step %s: %s", program->name,
					                  s->name, *error_r);
					return -1;
				}
			}
		}
	}
	return 0;
}
