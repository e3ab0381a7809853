/* groups: see include/groups.h. */
#include "groups.h"
#include "log.h"
#include "match.h"
#include "notice.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weights of the pair and team scores (match.h explains the scores). */
#define WEIGHT_TOPICS 10
#define WEIGHT_LEVEL 3
#define WEIGHT_DIVISION 2
#define WEIGHT_SUPERVISOR 5
#define WEIGHT_AVAILABILITY 2

/* A participant as match.c sees it, with the strings it borrows. */
struct groups_candidate {
	struct match_person person;
	struct strvec topics, availability; /* owned; person borrows their .v */
};

static void
groups_candidate_fill(struct groups_candidate *c, const struct store_participation *p, long places)
{
	memset(c, 0, sizeof(*c));
	match_split_list(p->topics, &c->topics);
	match_split_list(p->availability, &c->availability);
	c->person.id = p->id;
	c->person.email = p->email;
	c->person.topics = (const char *const *)c->topics.v;
	c->person.ntopics = c->topics.n;
	c->person.level = p->level >= 0 ? p->level : MATCH_LEVEL_UNKNOWN;
	c->person.division = p->division;
	c->person.supervisor = p->supervisor_email;
	c->person.availability = (const char *const *)c->availability.v;
	c->person.navailability = c->availability.n;
	c->person.capacity = places;
}

static void
groups_candidates_free(struct groups_candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strvec_free(&c[i].topics);
		strvec_free(&c[i].availability);
	}
	free(c);
}

static enum match_mode
groups_mode(enum program_match_mode m)
{
	return m == MATCH_RULE_REQUIRE ? MATCH_REQUIRE
	                               : (m == MATCH_RULE_PREFER ? MATCH_PREFER : MATCH_OFF);
}

void
groups_pairs_free(struct groups_pair **pairs, size_t n)
{
	if (*pairs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*pairs)[i].reason);
	free(*pairs);
	*pairs = NULL;
}

/* Free places of each second-role participation: its capacity less the
 * active groups it is in. */
static int
groups_places(struct store *store, const struct store_participation *p, long *places_r,
              const char **error_r)
{
	long used = 0, cap = p->capacity > 0 ? p->capacity : 1;

	if (store_group_count_for_participation(store, p->id, "active", &used, error_r) < 0)
		return -1;
	*places_r = cap > used ? cap - used : 0;
	return 0;
}

/*
 * Cases: accepted first-role members are paired first, the whole pool at
 * once (match_pairs: optimal, explained); then those still applying, with
 * the places left.  Everyone left out gets a line with the reason.
 */
time_t
groups_pairs_open_at(const struct config_program *program, const struct program_group *g)
{
	time_t start, end;

	if (g == NULL || g->opens.base == 0)
		return 0;
	notice_program_span(program, &start, &end);
	return program_point_time(&g->opens, start, end);
}

/* The pairs of kind g that ended (a rematch, an "end"): partner and
 * partner are not proposed to each other again.  *avoid_r owned. */
static int
groups_pairs_ended(struct store *store, const struct config_program *program,
                   const struct program_group *g, struct match_id_pair **avoid_r, size_t *n_r,
                   const char **error_r)
{
	struct store_group *ended = NULL;
	struct match_id_pair *avoid = NULL;
	size_t nended = 0, n = 0;

	if (store_group_list(store, program->name, g->name, "ended", &ended, &nended, error_r) < 0)
		return -1;
	avoid = xcalloc(nended + 1, sizeof(*avoid));
	for (size_t i = 0; i < nended; i++) {
		int64_t first = 0, second = 0;

		for (size_t k = 0; k < ended[i].nmembers; k++) {
			if (strcmp(ended[i].members[k].role, g->roles.v[0]) == 0)
				first = ended[i].members[k].participation_id;
			else
				second = ended[i].members[k].participation_id;
		}
		if (first != 0 && second != 0) {
			avoid[n].a = first;
			avoid[n++].b = second;
		}
	}
	store_group_list_free(&ended, nended);
	*avoid_r = avoid;
	*n_r = n;
	return 0;
}

/* Drops from list the participations already in an active group of kind
 * g (the second kind: a participant in a team waits for a mentor until
 * they have one). */
static int
groups_drop_paired(struct store *store, const struct config_program *program,
                   const struct program_group *g, struct store_participation *list, size_t *n,
                   const char **error_r)
{
	struct store_group *active = NULL;
	size_t nactive = 0, kept = 0;

	if (store_group_list(store, program->name, g->name, "active", &active, &nactive, error_r) <
	    0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		bool paired = false;

		for (size_t k = 0; k < nactive && !paired; k++)
			for (size_t m = 0; m < active[k].nmembers; m++)
				paired =
				    paired || active[k].members[m].participation_id == list[i].id;
		if (paired) {
			store_participation_clear(&list[i]);
			continue;
		}
		if (kept != i) {
			list[kept] = list[i];
			memset(&list[i], 0, sizeof(list[i]));
		}
		kept++;
	}
	*n = kept;
	store_group_list_free(&active, nactive);
	return 0;
}

int
groups_suggest_pairs(const struct config *config, struct store *store,
                     const struct config_program *program, time_t now, struct groups_pair **pairs_r,
                     size_t *n_r, struct strvec *unmatched_r, const char **error_r)
{
	/* A second kind pairs people already taking part (in a team, or
	 * waiting for one); the unit's pairs take the accepted, then those
	 * still applying. */
	static const char *const waiting[] = {"accepted", "applied"};
	static const char *const taking_part[] = {"matched", "accepted"};
	const struct program_group *g = program_pair_group(&program->model);
	bool second = program_group_is_second(&program->model, g);
	const char *const *statuses = second ? taking_part : waiting;
	struct store_participation *seconds = NULL, *firsts = NULL;
	struct groups_candidate *mentors = NULL;
	struct groups_pair *pairs = NULL;
	struct match_id_pair *avoid = NULL;
	struct match_rules rules;
	size_t nseconds = 0, npairs = 0, navoid = 0;
	time_t opens;
	int ret = -1;

	(void)config;
	*pairs_r = NULL;
	*n_r = 0;
	if (g == NULL)
		return 0;
	opens = groups_pairs_open_at(program, g);
	if (opens != 0 && now < opens)
		return 0;
	if (groups_pairs_ended(store, program, g, &avoid, &navoid, error_r) < 0)
		return -1;
	memset(&rules, 0, sizeof(rules));
	rules.avoid = avoid;
	rules.navoid = navoid;
	rules.shared_mode = groups_mode(g->topics);
	rules.weight_shared = WEIGHT_TOPICS;
	rules.level_mode = groups_mode(g->level);
	rules.level_gap = g->level_gap;
	rules.weight_level = WEIGHT_LEVEL;
	rules.division_mode = groups_mode(g->division);
	rules.weight_division = WEIGHT_DIVISION;
	rules.supervisor_mode = groups_mode(g->supervisor);
	rules.weight_supervisor = WEIGHT_SUPERVISOR;
	rules.availability_mode = groups_mode(g->availability);
	rules.weight_availability = WEIGHT_AVAILABILITY;
	rules.level_units = "years";
	rules.level_unit = "year";
	if (store_participation_list(store, program->name, g->roles.v[1], "active", &seconds,
	                             &nseconds, error_r) < 0)
		goto out;
	mentors = xcalloc(nseconds + 1, sizeof(*mentors));
	for (size_t i = 0; i < nseconds; i++) {
		long places;

		if (groups_places(store, &seconds[i], &places, error_r) < 0)
			goto out;
		groups_candidate_fill(&mentors[i], &seconds[i], places);
	}
	for (size_t pass = 0; pass < N_ELEMENTS(waiting); pass++) {
		struct groups_candidate *mentees = NULL;
		struct match_person *mp = NULL, *op = NULL;
		struct match_result *res = NULL;
		size_t nfirsts = 0;

		if (store_participation_list(store, program->name, g->roles.v[0], statuses[pass],
		                             &firsts, &nfirsts, error_r) < 0)
			goto out;
		if (second &&
		    groups_drop_paired(store, program, g, firsts, &nfirsts, error_r) < 0) {
			store_participation_list_free(&firsts, nfirsts);
			goto out;
		}
		if (nfirsts == 0) {
			store_participation_list_free(&firsts, nfirsts);
			continue;
		}
		mentees = xcalloc(nfirsts, sizeof(*mentees));
		mp = xcalloc(nfirsts, sizeof(*mp));
		op = xcalloc(nseconds + 1, sizeof(*op));
		for (size_t i = 0; i < nfirsts; i++) {
			groups_candidate_fill(&mentees[i], &firsts[i], 0);
			mp[i] = mentees[i].person;
		}
		for (size_t i = 0; i < nseconds; i++)
			op[i] = mentors[i].person;
		if (match_pairs(mp, nfirsts, op, nseconds, &rules, &res, error_r) < 0) {
			free(mp);
			free(op);
			groups_candidates_free(mentees, nfirsts);
			goto out;
		}
		for (size_t i = 0; i < res->npairs; i++) {
			pairs = xrealloc(pairs, (npairs + 1) * sizeof(*pairs));
			pairs[npairs].first = res->pairs[i].mentee_id;
			pairs[npairs].second = res->pairs[i].mentor_id;
			pairs[npairs].reason = xstrdup(res->pairs[i].reason);
			npairs++;
			/* A place taken in the first pass is not offered again. */
			mentors[res->pairs[i].mentor].person.capacity--;
		}
		for (size_t i = 0; unmatched_r != NULL && i < res->nunmatched; i++) {
			const struct match_unmatched *u = &res->unmatched[i];

			if (u->role == MATCH_ROLE_MENTEE)
				strvec_push_owned(unmatched_r,
				                  xasprintf("#%lld %s: %s", (long long)u->id,
				                            notice_name(firsts[u->index].name,
				                                        firsts[u->index].email),
				                            u->reason));
		}
		match_result_free(&res);
		free(mp);
		free(op);
		groups_candidates_free(mentees, nfirsts);
		store_participation_list_free(&firsts, nfirsts);
	}
	*pairs_r = pairs;
	*n_r = npairs;
	pairs = NULL;
	ret = 0;
out:
	free(avoid);
	groups_pairs_free(&pairs, npairs);
	groups_candidates_free(mentors, nseconds);
	store_participation_list_free(&seconds, nseconds);
	store_participation_list_free(&firsts, 0);
	return ret;
}

/* The variables of a pair's introduction, named by role ("mentee_name",
 * "mentor_topics").  Topics go to the partner only when the form says the
 * group may see them. */
static void
groups_pair_vars(const struct config_program *program, struct template_vars *vars,
                 const struct store_participation *p)
{
	const struct program_form *f =
	    program_form(&program->model, program_role(&program->model, p->role) != NULL
	                                      ? program_role(&program->model, p->role)->form
	                                      : NULL);
	const struct form_field_def *topics = program_field_bound(f, BIND_TOPICS);
	char key[64];

	snprintf(key, sizeof(key), "%s_name", p->role);
	template_vars_set(vars, key, notice_name(p->name, p->email));
	snprintf(key, sizeof(key), "%s_email", p->role);
	template_vars_set(vars, key, p->email);
	snprintf(key, sizeof(key), "%s_division", p->role);
	template_vars_set(vars, key, p->division);
	snprintf(key, sizeof(key), "%s_topics", p->role);
	if (topics != NULL && (topics->visible_to & FORM_VISIBLE_GROUP) != 0)
		template_vars_set_confidential(vars, key, p->topics);
	else
		template_vars_set_confidential(vars, key, NULL);
}

static int
groups_introduce_pair(const struct config *config, struct store *store,
                      const struct config_program *program, int64_t group_id,
                      const struct store_participation *a, const struct store_participation *b,
                      const char *reason, time_t now, const char **error_r)
{
	struct template_vars *vars = notice_vars(config, program);
	struct strvec to = {0};
	char key[64];
	int ret;

	template_vars_setf(vars, "match_id", "%lld", (long long)group_id);
	template_vars_setf(vars, "group_id", "%lld", (long long)group_id);
	template_vars_set(vars, "reason", reason);
	groups_pair_vars(program, vars, a);
	groups_pair_vars(program, vars, b);
	strvec_push(&to, a->email);
	strvec_push(&to, b->email);
	snprintf(key, sizeof(key), "introduction:group=%lld", (long long)group_id);
	ret = notice_queue(config, store, program, now, key, "introduction", &to, "group", group_id,
	                   "introduction", vars, AUDIENCE_PARTICIPANT, OUTBOX_NOTICE, NULL, NULL,
	                   error_r);
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
}

int
groups_make_pair(const struct config *config, struct store *store,
                 const struct config_program *program, int64_t ida, int64_t idb, const char *line,
                 const char *reason, time_t now, struct strbuf *out, int64_t *id_r,
                 const char **error_r)
{
	const struct program_group *g = program_pair_group(&program->model);
	bool kind2 = program_group_is_second(&program->model, g);
	struct store_participation a, b, *first, *second;
	struct store_group *active = NULL;
	size_t nactive = 0;
	const struct program_role *r2;
	time_t opens = groups_pairs_open_at(program, g);
	long places;
	int64_t id;
	bool found_a, found_b;
	int ret = -1;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (id_r != NULL)
		*id_r = 0;
	if (g == NULL) {
		strbuf_addf(out, "%s: this program forms teams, not pairs; see the proposal.\n",
		            line);
		return 0;
	}
	if (opens != 0 && now < opens) {
		char day[11];

		clock_date_key(opens, day);
		strbuf_addf(out, "%s: pairs open on %s; nothing changed.\n", line, day);
		return 0;
	}
	r2 = program_role(&program->model, g->roles.v[1]);
	if (store_participation_get(store, ida, &found_a, &a, error_r) < 0 ||
	    store_participation_get(store, idb, &found_b, &b, error_r) < 0)
		goto out;
	if (!found_a || !found_b || strcmp(a.program, program->name) != 0 ||
	    strcmp(b.program, program->name) != 0) {
		strbuf_addf(
		    out, "%s: there is no application #%lld.\n", line,
		    (long long)(!found_a || strcmp(a.program, program->name) != 0 ? ida : idb));
		ret = 0;
		goto out;
	}
	/* "match MENTOR with MENTEE" means the same thing. */
	first = strcmp(a.role, g->roles.v[0]) == 0 ? &a : &b;
	second = first == &a ? &b : &a;
	if (strcmp(first->role, g->roles.v[0]) != 0 || strcmp(second->role, g->roles.v[1]) != 0) {
		strbuf_addf(
		    out, "%s: a match needs one %s and one %s (#%lld is a %s, #%lld a %s).\n", line,
		    g->roles.v[0], g->roles.v[1], (long long)ida, a.role, (long long)idb, b.role);
		ret = 0;
		goto out;
	}
	/* A second kind pairs people already in the program (in a team, or
	 * accepted into it); the unit's pairs may also accept an applicant. */
	if (strcmp(first->status, "declined") == 0 || strcmp(first->status, "withdrawn") == 0 ||
	    strcmp(first->status, "completed") == 0 ||
	    (kind2 && strcmp(first->status, "matched") != 0 &&
	     strcmp(first->status, "accepted") != 0)) {
		strbuf_addf(out, "%s: #%lld %s is %s; accept the application first.\n", line,
		            (long long)first->id, notice_name(first->name, first->email),
		            first->status);
		ret = 0;
		goto out;
	}
	if (strcmp(second->status, "active") != 0) {
		strbuf_addf(out, "%s: %s #%lld %s is %s; choose another %s.\n", line,
		            r2 != NULL ? r2->title : g->roles.v[1], (long long)second->id,
		            notice_name(second->name, second->email), second->status,
		            r2 != NULL ? r2->title : g->roles.v[1]);
		ret = 0;
		goto out;
	}
	if (store_group_of_person(store, first->person_id, "active", &active, &nactive, error_r) <
	    0)
		goto out;
	for (size_t i = 0; i < nactive; i++) {
		/* A team is not a partnership (DOL: both at once). */
		if (strcmp(active[i].kind, g->name) != 0)
			continue;
		for (size_t k = 0; k < active[i].nmembers; k++) {
			if (active[i].members[k].participation_id == first->id) {
				strbuf_addf(out,
				            "%s: #%lld %s already has a %s (partnership #%lld); "
				            "\"end %lld\" first to reassign.\n",
				            line, (long long)first->id,
				            notice_name(first->name, first->email),
				            r2 != NULL ? r2->title : g->roles.v[1],
				            (long long)active[i].id, (long long)active[i].id);
				ret = 0;
				goto out;
			}
		}
	}
	if (groups_places(store, second, &places, error_r) < 0)
		goto out;
	if (places <= 0) {
		strbuf_addf(out, "%s: %s #%lld %s has no free place (%ld); nothing changed.\n",
		            line, r2 != NULL ? r2->title : g->roles.v[1], (long long)second->id,
		            notice_name(second->name, second->email),
		            second->capacity > 0 ? second->capacity : 1);
		ret = 0;
		goto out;
	}
	if (store_group_create(store, program->name, g->name, "active", reason, now, &id, error_r) <
	        0 ||
	    store_group_add_member(store, id, first->id, first->role, 0, error_r) < 0 ||
	    store_group_add_member(store, id, second->id, second->role, 1, error_r) < 0 ||
	    (!kind2 &&
	     store_participation_set_status(store, first->id, "matched", NULL, now, error_r) < 0) ||
	    groups_introduce_pair(config, store, program, id, first, second, reason, now, error_r) <
	        0)
		goto out;
	if (id_r != NULL)
		*id_r = id;
	strbuf_addf(out, "%s: partnership #%lld: %s with %s %s; both have been introduced.\n", line,
	            (long long)id, notice_name(first->name, first->email),
	            r2 != NULL ? r2->title : g->roles.v[1],
	            notice_name(second->name, second->email));
	ret = 0;
out:
	store_group_list_free(&active, nactive);
	store_participation_clear(&a);
	store_participation_clear(&b);
	return ret;
}

/* ---- teams ---- */

static void
groups_describe_team(struct strbuf *out, const struct store_group *g,
                     const struct store_participation *people, size_t npeople)
{
	strbuf_addf(out, "  Team %lld (%zu):", (long long)g->id, g->nmembers);
	for (size_t i = 0; i < g->nmembers; i++) {
		const struct store_member *m = &g->members[i];
		const struct store_participation *p = NULL;

		for (size_t k = 0; k < npeople && p == NULL; k++)
			if (people[k].id == m->participation_id)
				p = &people[k];
		strbuf_addf(out, "%s #%lld %s", i == 0 ? "" : ",", (long long)m->participation_id,
		            notice_name(m->name, m->email));
		if (p != NULL && p->division != NULL)
			strbuf_addf(out, " (%s)", p->division);
	}
	strbuf_addc(out, '\n');
	if (g->reason != NULL)
		strbuf_addf(out, "      why: %s\n", g->reason);
}

int
groups_discard_proposal(struct store *store, const struct config_program *program,
                        const char **error_r)
{
	struct store_group *prop = NULL;
	size_t n = 0;
	int ret = -1;

	if (store_group_list(store, program->name, NULL, "proposed", &prop, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < prop[i].nmembers; k++)
			if (store_group_remove_member(store, prop[i].id,
			                              prop[i].members[k].participation_id,
			                              error_r) < 0)
				goto out;
		if (store_group_set_status(store, prop[i].id, "discarded", NULL, 0, error_r) < 0)
			goto out;
	}
	ret = 0;
out:
	store_group_list_free(&prop, n);
	return ret;
}

/* Accepted members of the team role in no proposed or active team. */
static int
groups_unplaced(struct store *store, const struct config_program *program,
                struct store_participation **list_r, size_t *n_r, const char **error_r)
{
	const struct program_group *g = program->model.unit;
	struct store_participation *all = NULL;
	size_t nall = 0, n = 0;

	if (store_participation_list(store, program->name, g->roles.v[0], "accepted", &all, &nall,
	                             error_r) < 0)
		return -1;
	for (size_t i = 0; i < nall; i++) {
		long in_prop = 0, in_active = 0;

		if (store_group_count_for_participation(store, all[i].id, "proposed", &in_prop,
		                                        error_r) < 0 ||
		    store_group_count_for_participation(store, all[i].id, "active", &in_active,
		                                        error_r) < 0) {
			store_participation_list_free(&all, nall);
			return -1;
		}
		if (in_prop == 0 && in_active == 0) {
			if (n != i) {
				store_participation_clear(&all[n]);
				all[n] = all[i];
				memset(&all[i], 0, sizeof(all[i]));
			}
			n++;
		} else {
			store_participation_clear(&all[i]);
		}
	}
	*list_r = all;
	*n_r = n;
	return 0;
}

/*
 * Cases:
 *   1. a proposal exists: described as it stands (edits included), with
 *      the accepted members who are in none;
 *   2. none, and at least the minimum team size waits: match_teams on
 *      them (similar level, shared interests, mixed divisions, nobody
 *      with someone they were in a team with before), kept as proposed
 *      groups, described;
 *   3. too few wait: said so.
 */
int
groups_propose_teams(const struct config *config, struct store *store,
                     const struct config_program *program, time_t now, struct strbuf *out,
                     bool *proposed_r, const char **error_r)
{
	const struct program_group *g = program->model.unit;
	struct store_participation *waiting = NULL;
	struct store_group *prop = NULL;
	struct groups_candidate *cands = NULL;
	struct match_person *people = NULL;
	struct match_teams *teams = NULL;
	struct store_id_pair *seen = NULL;
	size_t nwaiting = 0, nprop = 0, nseen = 0, ncands = 0;
	int ret = -1;

	(void)config;
	if (proposed_r != NULL)
		*proposed_r = false;
	if (g == NULL || g->pair)
		return 0;
	if (store_group_list(store, program->name, g->name, "proposed", &prop, &nprop, error_r) <
	        0 ||
	    groups_unplaced(store, program, &waiting, &nwaiting, error_r) < 0)
		goto out;
	if (nprop == 0 && nwaiting >= (size_t)g->size_min) {
		struct match_team_rules rules;

		/* nwaiting changes below, when the waiting are listed again. */
		ncands = nwaiting;
		cands = xcalloc(nwaiting, sizeof(*cands));
		people = xcalloc(nwaiting, sizeof(*people));
		for (size_t i = 0; i < nwaiting; i++) {
			groups_candidate_fill(&cands[i], &waiting[i], 0);
			people[i] = cands[i].person;
			/* Previous teams are remembered by person. */
			people[i].id = waiting[i].person_id;
		}
		if (store_group_pairs_seen(store, program->name, &seen, &nseen, error_r) < 0)
			goto out;
		memset(&rules, 0, sizeof(rules));
		rules.size_min = (size_t)g->size_min;
		rules.size_max = (size_t)g->size_max;
		rules.size_preferred_max = (size_t)g->size_preferred_max;
		rules.weight_interest = g->topics != MATCH_RULE_OFF ? WEIGHT_TOPICS : 0;
		rules.weight_level = g->level != MATCH_RULE_OFF ? WEIGHT_LEVEL : 0;
		rules.weight_division = g->division != MATCH_RULE_OFF ? WEIGHT_DIVISION : 0;
		rules.previous = (const struct match_id_pair *)seen;
		rules.nprevious = nseen;
		if (match_teams(people, nwaiting, &rules, &teams, error_r) < 0)
			goto out;
		for (size_t t = 0; t < teams->nteams; t++) {
			int64_t id;

			if (store_group_create(store, program->name, g->name, "proposed",
			                       teams->teams[t].reason, now, &id, error_r) < 0)
				goto out;
			for (size_t k = 0; k < teams->teams[t].nmembers; k++)
				if (store_group_add_member(store, id,
				                           waiting[teams->teams[t].members[k]].id,
				                           waiting[teams->teams[t].members[k]].role,
				                           (int)k, error_r) < 0)
					goto out;
		}
		store_group_list_free(&prop, nprop);
		store_participation_list_free(&waiting, nwaiting);
		if (store_group_list(store, program->name, g->name, "proposed", &prop, &nprop,
		                     error_r) < 0 ||
		    groups_unplaced(store, program, &waiting, &nwaiting, error_r) < 0)
			goto out;
	}
	if (nprop > 0) {
		struct store_participation *all = NULL;
		size_t nall = 0;

		if (store_participation_list(store, program->name, g->roles.v[0], NULL, &all, &nall,
		                             error_r) < 0)
			goto out;
		for (size_t i = 0; i < nprop; i++)
			groups_describe_team(out, &prop[i], all, nall);
		store_participation_list_free(&all, nall);
		if (proposed_r != NULL)
			*proposed_r = true;
	}
	for (size_t i = 0; i < nwaiting; i++)
		strbuf_addf(out, "  not in a team yet: #%lld %s%s\n", (long long)waiting[i].id,
		            notice_name(waiting[i].name, waiting[i].email),
		            nprop == 0 ? " (too few accepted to form a team)"
		                       : " (\"move ID to team N\", or \"propose\" to start over)");
	/* Formed teams with room take who waits ("move ID to team N"). */
	if (nwaiting > 0 && nprop == 0) {
		struct store_group *act = NULL;
		size_t nact = 0;

		if (store_group_list(store, program->name, g->name, "active", &act, &nact,
		                     error_r) < 0)
			goto out;
		for (size_t i = 0; i < nact; i++)
			if (act[i].nmembers < (size_t)g->size_max)
				strbuf_addf(
				    out,
				    "  team %lld is formed and has room (%zu members): \"move "
				    "ID to team %lld\" adds someone to it\n",
				    (long long)act[i].id, act[i].nmembers, (long long)act[i].id);
		store_group_list_free(&act, nact);
	}
	ret = 0;
out:
	match_teams_free(&teams);
	free(seen);
	free(people);
	groups_candidates_free(cands, ncands);
	store_group_list_free(&prop, nprop);
	store_participation_list_free(&waiting, nwaiting);
	return ret;
}

/* Introduces team g to its members; joined: the participation that has
 * just joined an active team (each member gets the team as it now is), or
 * 0 at publish. */
static int
groups_introduce_team(const struct config *config, struct store *store,
                      const struct config_program *program, const struct store_group *g,
                      int64_t joined, time_t now, const char **error_r)
{
	struct template_vars *vars = notice_vars(config, program);
	struct strbuf members = {0}, order = {0};
	struct strvec to = {0};
	char key[64];
	int ret;

	for (size_t i = 0; i < g->nmembers; i++) {
		strbuf_addf(&members, "  %s <%s>\n",
		            notice_name(g->members[i].name, g->members[i].email),
		            g->members[i].email);
		strbuf_addf(&order, "%s%s", i == 0 ? "" : ", ",
		            notice_name(g->members[i].name, g->members[i].email));
		strvec_push(&to, g->members[i].email);
	}
	template_vars_setf(vars, "group_id", "%lld", (long long)g->id);
	template_vars_set(vars, "members", strbuf_str(&members));
	if (program->model.unit != NULL && program->model.unit->rotate_facilitator)
		template_vars_set(vars, "facilitators", strbuf_str(&order));
	template_vars_set(vars, "reason", g->reason);
	if (program->model.ntopics > 0)
		template_vars_set(vars, "first_topic", program->model.topics[0].title);
	if (joined > 0)
		snprintf(key, sizeof(key), "introduction:group=%lld:joined=%lld", (long long)g->id,
		         (long long)joined);
	else
		snprintf(key, sizeof(key), "introduction:group=%lld", (long long)g->id);
	ret = notice_queue(config, store, program, now, key, "introduction", &to, "group", g->id,
	                   "team-introduction", vars, AUDIENCE_PARTICIPANT, OUTBOX_NOTICE, NULL,
	                   NULL, error_r);
	strvec_free(&to);
	strbuf_free(&members);
	strbuf_free(&order);
	template_vars_free(&vars);
	return ret;
}

int
groups_publish(const struct config *config, struct store *store,
               const struct config_program *program, time_t now, struct strbuf *out,
               const char **error_r)
{
	const struct program_group *g = program->model.unit;
	struct store_group *prop = NULL;
	struct groups_pair *pairs = NULL;
	size_t nprop = 0, npairs = 0;
	int ret = -1;

	if (g == NULL) {
		strbuf_adds(out, "publish: this program forms no groups.\n");
		return 0;
	}
	if (g->pair) {
		struct store_participation p;
		bool found;

		if (groups_suggest_pairs(config, store, program, now, &pairs, &npairs, NULL,
		                         error_r) < 0)
			goto out;
		for (size_t i = 0; i < npairs; i++) {
			char line[64];

			memset(&p, 0, sizeof(p));
			if (store_participation_get(store, pairs[i].first, &found, &p, error_r) < 0)
				goto out;
			/* Only accepted ones: "publish" decides no application. */
			if (found && strcmp(p.status, "accepted") == 0) {
				snprintf(line, sizeof(line), "match %lld with %lld",
				         (long long)pairs[i].first, (long long)pairs[i].second);
				if (groups_make_pair(config, store, program, pairs[i].first,
				                     pairs[i].second, line, pairs[i].reason, now,
				                     out, NULL, error_r) < 0) {
					store_participation_clear(&p);
					goto out;
				}
			}
			store_participation_clear(&p);
		}
		if (npairs == 0)
			strbuf_adds(out, "publish: no pair to make.\n");
		ret = 0;
		goto out;
	}
	if (store_group_list(store, program->name, g->name, "proposed", &prop, &nprop, error_r) < 0)
		goto out;
	if (nprop == 0) {
		strbuf_adds(out, "publish: there is no proposal; the next digest makes one when "
		                 "enough members are accepted.\n");
		ret = 0;
		goto out;
	}
	/* All or nothing: publishing the teams that fit would strand the
	 * members of one that does not, since only proposed teams can be
	 * edited. */
	{
		size_t bad = 0;

		for (size_t i = 0; i < nprop; i++) {
			/* A team emptied by moves is no team. */
			if (prop[i].nmembers == 0 || (prop[i].nmembers >= (size_t)g->size_min &&
			                              prop[i].nmembers <= (size_t)g->size_max))
				continue;
			strbuf_addf(out,
			            "publish: not done: team %lld has %zu member(s); a team has "
			            "%d to %d.\n",
			            (long long)prop[i].id, prop[i].nmembers, g->size_min,
			            g->size_max);
			bad++;
		}
		if (bad > 0) {
			strbuf_adds(out,
			            "  No team was formed and nobody was told. Use \"move ID "
			            "to team N\" or \"swap ID with ID\", then publish again.\n");
			ret = 0;
			goto out;
		}
	}
	for (size_t i = 0; i < nprop; i++) {
		if (prop[i].nmembers == 0) {
			if (store_group_set_status(store, prop[i].id, "discarded", NULL, 0,
			                           error_r) < 0)
				goto out;
			continue;
		}
		if (store_group_set_status(store, prop[i].id, "active", NULL, now, error_r) < 0)
			goto out;
		for (size_t k = 0; k < prop[i].nmembers; k++)
			if (store_participation_set_status(store,
			                                   prop[i].members[k].participation_id,
			                                   "matched", NULL, now, error_r) < 0)
				goto out;
		if (groups_introduce_team(config, store, program, &prop[i], 0, now, error_r) < 0)
			goto out;
		strbuf_addf(out,
		            "publish: team %lld (%zu members) formed; its members have been "
		            "introduced.\n",
		            (long long)prop[i].id, prop[i].nmembers);
	}
	ret = 0;
out:
	groups_pairs_free(&pairs, npairs);
	store_group_list_free(&prop, nprop);
	return ret;
}

/* The proposed group participation is in within program, or 0. */
static int
groups_proposed_of(struct store *store, const struct config_program *program, int64_t participation,
                   int64_t *group_r, const char **error_r)
{
	struct store_group *prop = NULL;
	size_t n = 0;

	*group_r = 0;
	if (store_group_list(store, program->name, NULL, "proposed", &prop, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n && *group_r == 0; i++)
		for (size_t k = 0; k < prop[i].nmembers; k++)
			if (prop[i].members[k].participation_id == participation)
				*group_r = prop[i].id;
	store_group_list_free(&prop, n);
	return 0;
}

/*
 * move ID to team N.  Cases:
 *   1. ID is no accepted member (in a team already, or not of this
 *      program), or N no proposed or active team: said so;
 *   2. N has the most members a team may have: refused, nothing changes;
 *   3. N is proposed: ID leaves their proposed team for it (a team left
 *      below the minimum is pointed out);
 *   4. N is active (a member approved late, a team short after a
 *      withdrawal): ID joins it, and each member is introduced to the team
 *      as it now is.
 */
int
groups_move(const struct config *config, struct store *store, const struct config_program *program,
            int64_t participation, int64_t team, const char *line, time_t now, struct strbuf *out,
            const char **error_r)
{
	const struct program_group *unit = program->model.unit;
	struct store_participation p;
	struct store_group g, src;
	int64_t from;
	bool found, gfound;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	memset(&src, 0, sizeof(src));
	if (store_participation_get(store, participation, &found, &p, error_r) < 0 ||
	    store_group_get(store, team, &gfound, &g, error_r) < 0)
		goto out;
	if (!found || strcmp(p.program, program->name) != 0 || strcmp(p.status, "accepted") != 0) {
		strbuf_addf(out, "%s: #%lld is no accepted member of this program.\n", line,
		            (long long)participation);
		ret = 0;
		goto out;
	}
	if (!gfound || strcmp(g.program, program->name) != 0 || unit == NULL || unit->pair ||
	    (strcmp(g.status, "proposed") != 0 && strcmp(g.status, "active") != 0)) {
		strbuf_addf(out, "%s: there is no proposed or active team %lld.\n", line,
		            (long long)team);
		ret = 0;
		goto out;
	}
	if (groups_proposed_of(store, program, participation, &from, error_r) < 0)
		goto out;
	if (from == team) {
		strbuf_addf(out, "%s: #%lld is in team %lld already.\n", line,
		            (long long)participation, (long long)team);
		ret = 0;
		goto out;
	}
	/* A team is never made larger than the program allows: the move is
	 * refused, and nothing changes. */
	if (unit != NULL && !unit->pair && g.nmembers + 1 > (size_t)unit->size_max) {
		strbuf_addf(out,
		            "%s: not done: team %lld has %zu members, the most a team may have "
		            "(%d-%d); nothing changed. Move someone out of it first, or \"swap "
		            "%lld with ID\".\n",
		            line, (long long)team, g.nmembers, unit->size_min, unit->size_max,
		            (long long)participation);
		ret = 0;
		goto out;
	}
	if (from != 0 && store_group_get(store, from, &gfound, &src, error_r) < 0)
		goto out;
	if ((from != 0 && store_group_remove_member(store, from, participation, error_r) < 0) ||
	    store_group_add_member(store, team, participation, p.role, (int)g.nmembers, error_r) <
	        0)
		goto out;
	strbuf_addf(out, "%s: #%lld %s moved to team %lld (%zu members now).\n", line,
	            (long long)participation, notice_name(p.name, p.email), (long long)team,
	            g.nmembers + 1);
	if (strcmp(g.status, "active") == 0) {
		struct store_group now_g;
		bool nfound;

		memset(&now_g, 0, sizeof(now_g));
		if (store_participation_set_status(store, participation, "matched", NULL, now,
		                                   error_r) < 0 ||
		    store_group_get(store, team, &nfound, &now_g, error_r) < 0)
			goto out;
		ret = groups_introduce_team(config, store, program, &now_g, participation, now,
		                            error_r);
		store_group_clear(&now_g);
		if (ret < 0)
			goto out;
		strbuf_addf(out,
		            "  team %lld is formed already: each member has been introduced to "
		            "the team as it now is.\n",
		            (long long)team);
	}
	/* A team left too small stays proposed until someone joins it; say so
	 * now rather than at publish. */
	if (from != 0 && unit != NULL && !unit->pair && src.nmembers > 0 &&
	    src.nmembers - 1 < (size_t)unit->size_min)
		strbuf_addf(out,
		            "  team %lld has %zu member(s) now, fewer than %d: it will not be "
		            "formed until someone moves into it (or \"move\" its members to "
		            "other teams).\n",
		            (long long)from, src.nmembers - 1, unit->size_min);
	ret = 0;
out:
	store_participation_clear(&p);
	store_group_clear(&g);
	store_group_clear(&src);
	return ret;
}

int
groups_swap(struct store *store, const struct config_program *program, int64_t a, int64_t b,
            const char *line, struct strbuf *out, const char **error_r)
{
	struct store_participation pa, pb;
	int64_t ga, gb;
	bool fa, fb;
	int ret = -1;

	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	if (store_participation_get(store, a, &fa, &pa, error_r) < 0 ||
	    store_participation_get(store, b, &fb, &pb, error_r) < 0 ||
	    groups_proposed_of(store, program, a, &ga, error_r) < 0 ||
	    groups_proposed_of(store, program, b, &gb, error_r) < 0)
		goto out;
	if (!fa || !fb || ga == 0 || gb == 0) {
		strbuf_addf(out, "%s: #%lld is in no proposed team.\n", line,
		            (long long)(!fa || ga == 0 ? a : b));
		ret = 0;
		goto out;
	}
	if (ga == gb) {
		strbuf_addf(out, "%s: both are in team %lld already.\n", line, (long long)ga);
		ret = 0;
		goto out;
	}
	if (store_group_remove_member(store, ga, a, error_r) < 0 ||
	    store_group_remove_member(store, gb, b, error_r) < 0 ||
	    store_group_add_member(store, gb, a, pa.role, 99, error_r) < 0 ||
	    store_group_add_member(store, ga, b, pb.role, 99, error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: #%lld %s is now in team %lld, #%lld %s in team %lld.\n", line,
	            (long long)a, notice_name(pa.name, pa.email), (long long)gb, (long long)b,
	            notice_name(pb.name, pb.email), (long long)ga);
	ret = 0;
out:
	store_participation_clear(&pa);
	store_participation_clear(&pb);
	return ret;
}

int
groups_unmatch(const struct config *config, struct store *store,
               const struct config_program *program, int64_t participation, const char *line,
               time_t now, struct strbuf *out, const char **error_r)
{
	struct store_participation p;
	struct store_group *active = NULL;
	size_t nactive = 0;
	int64_t from;
	bool found;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	if (store_participation_get(store, participation, &found, &p, error_r) < 0 ||
	    groups_proposed_of(store, program, participation, &from, error_r) < 0)
		goto out;
	if (!found || strcmp(p.program, program->name) != 0) {
		strbuf_addf(out, "%s: there is no #%lld in this program.\n", line,
		            (long long)participation);
		ret = 0;
		goto out;
	}
	if (from != 0) {
		if (store_group_remove_member(store, from, participation, error_r) < 0)
			goto out;
		strbuf_addf(out,
		            "%s: #%lld %s taken out of proposed team %lld; they wait for the "
		            "next proposal.\n",
		            line, (long long)participation, notice_name(p.name, p.email),
		            (long long)from);
		{
			const struct program_group *unit = program->model.unit;
			struct store_group src;
			bool sfound;

			memset(&src, 0, sizeof(src));
			if (store_group_get(store, from, &sfound, &src, error_r) < 0)
				goto out;
			if (sfound && unit != NULL && !unit->pair &&
			    src.nmembers < (size_t)unit->size_min)
				strbuf_addf(out,
				            "  team %lld has %zu member(s) now, fewer than %d: it "
				            "will not be formed until someone moves into it.\n",
				            (long long)from, src.nmembers, unit->size_min);
			store_group_clear(&src);
		}
		ret = 0;
		goto out;
	}
	/* Not proposed: out of their active pair, if that is what they are in. */
	if (store_group_of_person(store, p.person_id, "active", &active, &nactive, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nactive; i++) {
		if (strcmp(active[i].program, program->name) == 0 && active[i].nmembers == 2) {
			ret = groups_end(config, store, program, active[i].id, line, NULL, now, out,
			                 error_r);
			goto out;
		}
	}
	strbuf_addf(out, "%s: #%lld %s is in no proposal or partnership.\n", line,
	            (long long)participation, notice_name(p.name, p.email));
	ret = 0;
out:
	store_group_list_free(&active, nactive);
	store_participation_clear(&p);
	return ret;
}

/* After a group ends: a member of the unit's first role waits to be
 * grouped again; anyone else is available again. */
static int
groups_release_member(struct store *store, const struct config_program *program,
                      const struct store_group *grp, const struct store_member *m, const char *why,
                      time_t now, const char **error_r)
{
	const struct program_group *g = program->model.unit;
	bool first = g == NULL || strcmp(m->role, g->roles.v[0]) == 0;

	/* A pair of the second kind leaves its first member's status to the
	 * unit (still in their team): they wait for a mentor by being in no
	 * pair. */
	if (program_group_is_second(&program->model, program_group(&program->model, grp->kind)) &&
	    first)
		return 0;
	return store_participation_set_status(store, m->participation_id,
	                                      first ? "accepted" : "active", why, now, error_r);
}

int
groups_end(const struct config *config, struct store *store, const struct config_program *program,
           int64_t id, const char *line, const char *reason, time_t now, struct strbuf *out,
           const char **error_r)
{
	struct template_vars *vars = NULL;
	struct store_group g;
	struct strvec to = {0};
	struct strbuf names = {0};
	char key[64];
	bool found;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	if (store_group_get(store, id, &found, &g, error_r) < 0)
		return -1;
	if (!found || strcmp(g.status, "active") != 0 || strcmp(g.program, program->name) != 0) {
		strbuf_addf(out, "%s: there is no active partnership or team #%lld.\n", line,
		            (long long)id);
		ret = 0;
		goto out;
	}
	if (store_group_set_status(store, id, "ended", reason, now, error_r) < 0)
		goto out;
	for (size_t i = 0; i < g.nmembers; i++) {
		if (groups_release_member(store, program, &g, &g.members[i], reason, now, error_r) <
		    0)
			goto out;
		strvec_push(&to, g.members[i].email);
		strbuf_addf(&names, "%s%s", i == 0 ? "" : (i + 1 == g.nmembers ? " and " : ", "),
		            notice_name(g.members[i].name, g.members[i].email));
	}
	vars = notice_vars(config, program);
	template_vars_setf(vars, "group_id", "%lld", (long long)id);
	template_vars_set(vars, "members", strbuf_str(&names));
	template_vars_set(vars, "reason", reason);
	snprintf(key, sizeof(key), "group-ended:group=%lld", (long long)id);
	if (to.n > 0 && notice_queue(config, store, program, now, key, "group-ended", &to, "group",
	                             id, "group-ended", vars, AUDIENCE_PARTICIPANT, OUTBOX_NOTICE,
	                             NULL, NULL, error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: partnership #%lld (%s) ended; each has been told", line,
	            (long long)id, strbuf_str(&names));
	if (g.nmembers > 0)
		strbuf_addf(out, "; #%lld can be matched again",
		            (long long)g.members[0].participation_id);
	strbuf_adds(out, ".\n");
	ret = 0;
out:
	strvec_free(&to);
	strbuf_free(&names);
	template_vars_free(&vars);
	store_group_clear(&g);
	return ret;
}

/*
 * Cases:
 *   1. id is no active pair of the program's pair kind: said so;
 *   2. no reason: refused, a rematch says why;
 *   3. the pair ends with its reason recorded (the group's end reason and
 *      an audit row by who), each partner told (the reason is not sent
 *      on: it is about one of them), the first back to be paired, and the
 *      next proposal never pairs the two again (groups_pairs_ended).
 */
int
groups_rematch(const struct config *config, struct store *store,
               const struct config_program *program, int64_t id, const char *who, const char *line,
               const char *reason, time_t now, struct strbuf *out, const char **error_r)
{
	const struct program_group *pg = program_pair_group(&program->model);
	struct template_vars *vars = NULL;
	struct store_group g;
	struct store_audit a;
	struct strvec to = {0};
	struct strbuf names = {0};
	const struct store_member *first = NULL, *second = NULL;
	char key[64], object[40], *why = NULL;
	bool found;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	if (store_group_get(store, id, &found, &g, error_r) < 0)
		return -1;
	if (pg == NULL || !found || strcmp(g.status, "active") != 0 ||
	    strcmp(g.program, program->name) != 0 || strcmp(g.kind, pg->name) != 0) {
		strbuf_addf(out, "%s: there is no active partnership #%lld.\n", line,
		            (long long)id);
		ret = 1;
		goto out;
	}
	if (reason == NULL || *reason == '\0') {
		strbuf_addf(out,
		            "%s: a rematch says why, e.g. rematch %lld our goals differ; nothing "
		            "changed.\n",
		            line, (long long)id);
		ret = 1;
		goto out;
	}
	for (size_t i = 0; i < g.nmembers; i++) {
		if (strcmp(g.members[i].role, pg->roles.v[0]) == 0)
			first = &g.members[i];
		else
			second = &g.members[i];
	}
	why = xasprintf("rematch: %s", reason);
	if (store_group_set_status(store, id, "ended", why, now, error_r) < 0)
		goto out;
	for (size_t i = 0; i < g.nmembers; i++) {
		if (groups_release_member(store, program, &g, &g.members[i], why, now, error_r) < 0)
			goto out;
		strvec_push(&to, g.members[i].email);
		strbuf_addf(&names, "%s%s", i == 0 ? "" : " and ",
		            notice_name(g.members[i].name, g.members[i].email));
	}
	snprintf(object, sizeof(object), "group %lld", (long long)id);
	memset(&a, 0, sizeof(a));
	a.at = now;
	a.who = (char *)who;
	a.action = "rematch";
	a.object = object;
	a.field = "reason";
	a.old_value = "active";
	a.new_value = (char *)reason;
	if (store_audit_add(store, &a, error_r) < 0)
		goto out;
	vars = notice_vars(config, program);
	template_vars_setf(vars, "group_id", "%lld", (long long)id);
	template_vars_set(vars, "members", strbuf_str(&names));
	template_vars_set(vars, "rematch", "yes");
	snprintf(key, sizeof(key), "group-ended:group=%lld", (long long)id);
	if (to.n > 0 && notice_queue(config, store, program, now, key, "group-ended", &to, "group",
	                             id, "group-ended", vars, AUDIENCE_PARTICIPANT, OUTBOX_NOTICE,
	                             NULL, NULL, error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: partnership #%lld (%s) ended for a rematch; each has been told", line,
	            (long long)id, strbuf_str(&names));
	if (first != NULL)
		strbuf_addf(out, "; #%lld %s waits for a new %s",
		            (long long)first->participation_id,
		            notice_name(first->name, first->email),
		            pg->roles.n > 1 ? pg->roles.v[1] : "partner");
	if (second != NULL)
		strbuf_addf(out, ", never %s again", notice_name(second->name, second->email));
	strbuf_adds(out, ".\n");
	ret = 0;
out:
	free(why);
	strvec_free(&to);
	strbuf_free(&names);
	template_vars_free(&vars);
	store_group_clear(&g);
	return ret;
}

int
groups_leave(const struct config *config, struct store *store, const struct config_program *program,
             const struct store_participation *who, const char *reason, time_t now,
             struct strbuf *out, const char **error_r)
{
	struct store_group *active = NULL;
	struct template_vars *vars = NULL;
	size_t nactive = 0;
	int ret = -1;

	if (store_group_of_person(store, who->person_id, "active", &active, &nactive, error_r) < 0)
		return -1;
	for (size_t i = 0; i < nactive; i++) {
		const struct store_group *g = &active[i];
		bool mine = false, ends = g->nmembers <= 2;
		char key[96];

		for (size_t k = 0; k < g->nmembers; k++)
			mine = mine || g->members[k].participation_id == who->id;
		if (!mine || strcmp(g->program, program->name) != 0)
			continue;
		if (ends) {
			if (store_group_set_status(store, g->id, "ended", reason, now, error_r) < 0)
				goto out;
		} else if (store_group_remove_member(store, g->id, who->id, error_r) < 0) {
			goto out;
		}
		for (size_t k = 0; k < g->nmembers; k++) {
			const struct store_member *m = &g->members[k];

			if (m->participation_id == who->id)
				continue;
			if (ends &&
			    groups_release_member(store, program, g, m, reason, now, error_r) < 0)
				goto out;
			template_vars_free(&vars);
			vars = notice_vars(config, program);
			template_vars_set(vars, "name", notice_name(m->name, m->email));
			template_vars_set(vars, "partner_name", notice_name(who->name, who->email));
			template_vars_set(
			    vars, "rematch",
			    ends && program->model.unit != NULL &&
			            strcmp(m->role, program->model.unit->roles.v[0]) == 0
			        ? "yes"
			        : NULL);
			template_vars_set(vars, "team_goes_on", ends ? NULL : "yes");
			/* One key per member told: a team has several. */
			snprintf(
			    key, sizeof(key), "partner-withdrew:group=%lld:person=%lld:to=%lld",
			    (long long)g->id, (long long)who->person_id, (long long)m->person_id);
			if (notice_queue_one(config, store, program, now, key, "partner-withdrew",
			                     m->email, "group", g->id, "partner-withdrew", vars,
			                     AUDIENCE_PARTICIPANT, error_r) < 0)
				goto out;
			strbuf_addf(out, "  %s #%lld: %s <%s> told%s\n", ends ? "ended" : "left",
			            (long long)g->id, notice_name(m->name, m->email), m->email,
			            ends && program->model.unit != NULL &&
			                    strcmp(m->role, program->model.unit->roles.v[0]) == 0
			                ? "; can be matched again"
			                : "");
		}
		/* A team left below its size goes on, but the coordinators should
		 * know: they may end it ("end ID") so its members are grouped
		 * again. */
		if (!ends && program->model.unit != NULL && !program->model.unit->pair &&
		    g->nmembers - 1 < (size_t)program->model.unit->size_min)
			strbuf_addf(out,
			            "  team #%lld has %zu members now, fewer than %d: it goes on; "
			            "\"end %lld\" ends it, and its members wait for the next "
			            "proposal\n",
			            (long long)g->id, g->nmembers - 1,
			            program->model.unit->size_min, (long long)g->id);
	}
	ret = 0;
out:
	template_vars_free(&vars);
	store_group_list_free(&active, nactive);
	return ret;
}

int
groups_of_sender(struct store *store, const struct config_program *program, int64_t person_id,
                 int64_t thread_group, struct store_group *g_r, bool *found_r, const char **error_r)
{
	struct store_group *list = NULL;
	size_t n = 0, pick = (size_t)-1;

	*found_r = false;
	if (person_id <= 0)
		return 0;
	if (store_group_of_person(store, person_id, "active", &list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].program, program->name) != 0)
			continue;
		if (pick == (size_t)-1 || list[i].id == thread_group)
			pick = i;
	}
	if (pick != (size_t)-1) {
		*g_r = list[pick];
		memset(&list[pick], 0, sizeof(list[pick]));
		*found_r = true;
	}
	store_group_list_free(&list, n);
	return 0;
}

const struct store_member *
groups_facilitator(const struct store_group *g, long period)
{
	if (g->nmembers == 0)
		return NULL;
	if (period < 0)
		period = 0;
	return &g->members[(size_t)period % g->nmembers];
}
