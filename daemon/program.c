/* program: see include/program.h. */
#include "program.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const program_status_names[PSTATUS_COUNT] = {
    [PSTATUS_APPLIED] = "applied",     [PSTATUS_APPROVING] = "approving",
    [PSTATUS_ACCEPTED] = "accepted",   [PSTATUS_POOL] = "pool",
    [PSTATUS_DECLINED] = "declined",   [PSTATUS_MATCHED] = "matched",
    [PSTATUS_ACTIVE] = "active",       [PSTATUS_WITHDRAWN] = "withdrawn",
    [PSTATUS_COMPLETED] = "completed", [PSTATUS_PAUSED] = "paused",
};

const char *
program_status_name(enum program_status s)
{
	return s < PSTATUS_COUNT ? program_status_names[s] : "applied";
}

int
program_status_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int s = 0; s < PSTATUS_COUNT; s++)
		if (strcmp(name, program_status_names[s]) == 0)
			return s;
	return -1;
}

const char *
program_period_name(enum program_period p)
{
	switch (p) {
	case PERIOD_DAY:
		return "day";
	case PERIOD_WEEK:
		return "week";
	case PERIOD_MONTH:
		return "month";
	case PERIOD_QUARTER:
		return "quarter";
	}
	return "month";
}

const struct program_role *
program_role(const struct program *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->nroles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}

const struct program_form *
program_form(const struct program *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->nforms; i++)
		if (strcmp(p->forms[i].def.name, name) == 0)
			return &p->forms[i];
	return NULL;
}

const struct program_group *
program_group(const struct program *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

const struct program_group *
program_pair_group(const struct program *p)
{
	if (p->unit != NULL && p->unit->pair)
		return p->unit;
	return p->pairs;
}

const struct program_group *
program_step_group(const struct program *p, const struct program_step *s)
{
	const struct program_group *g = s->group != NULL ? program_group(p, s->group) : NULL;

	return g != NULL ? g : p->unit;
}

bool
program_group_is_second(const struct program *p, const struct program_group *g)
{
	return g != NULL && g != p->unit && g == p->pairs;
}

const struct program_session *
program_session(const struct program *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->nsessions; i++)
		if (strcasecmp(p->sessions[i].name, name) == 0)
			return &p->sessions[i];
	return NULL;
}

const struct program_role *
program_role_of_form(const struct program *p, const struct program_form *f)
{
	return f != NULL && f->use == FORM_USE_JOIN ? program_role(p, f->role) : NULL;
}

const struct program_form *
program_form_for(const struct program *p, enum program_form_use use)
{
	for (size_t i = 0; i < p->nforms; i++)
		if (p->forms[i].use == use)
			return &p->forms[i];
	return NULL;
}

const struct form_field_def *
program_field_bound(const struct program_form *f, enum form_bind b)
{
	for (size_t i = 0; f != NULL && i < f->def.nfields; i++)
		if (f->def.fields[i].bind == b)
			return &f->def.fields[i];
	return NULL;
}

/* The local midnight of the day t falls on, moved by days calendar days. */
static time_t
program_day_start(time_t t, long days)
{
	struct tm tm;

	clock_local(t, &tm);
	return clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + (int)days);
}

/* Every point is the local midnight of a day, as a date is: "start + 50%"
 * of a class of an odd number of days falls at noon, and "start + N days"
 * across a change of daylight saving time at 23:00 or 01:00, and then a
 * cycle on the point's own day in the morning would not see it due (the
 * mid-point evaluation would wait until the afternoon, or the day before
 * at 23:00 would be outside working hours only by luck). */
time_t
program_point_time(const struct program_point *pt, time_t start, time_t end)
{
	switch (pt->base) {
	case POINT_DATE:
		return clock_local_midnight(pt->year, pt->month, pt->day);
	case POINT_START:
		if (start == 0)
			return 0;
		if (pt->percent > 0)
			return end > start
			           ? program_day_start(start + (end - start) / 100 * pt->percent, 0)
			           : 0;
		return program_day_start(start, pt->offset_days);
	case POINT_END:
		return end != 0 ? program_day_start(end, pt->offset_days) : 0;
	}
	return 0;
}

time_t
program_form_closes_at(const struct program_form *f, time_t start, time_t end)
{
	time_t day;

	if (f == NULL || f->closes.base == 0)
		return 0;
	day = program_point_time(&f->closes, start, end);
	return day != 0 ? program_day_start(day, 1) : 0;
}

/*
 * Cases: "YYYY-MM-DD"; "start" or "end"; either followed by "+ N days",
 * "- N days" ("day" and "d" too); "start + N%".  Spaces are optional.
 */
int
program_point_parse(const char *s, struct program_point *pt, const char **error_r)
{
	const char *p = s;
	char sign = 0;
	long n = 0;

	memset(pt, 0, sizeof(*pt));
	while (*p == ' ')
		p++;
	if (clock_parse_date(p, &pt->year, &pt->month, &pt->day) == 0 && strlen(p) == 10) {
		pt->base = POINT_DATE;
		return 0;
	}
	if (strncmp(p, "start", 5) == 0) {
		pt->base = POINT_START;
		p += 5;
	} else if (strncmp(p, "end", 3) == 0) {
		pt->base = POINT_END;
		p += 3;
	} else {
		*error_r = "is not a date or a point of the program; write \"2027-03-01\", "
		           "\"start + 50%\" or \"end - 14 days\"";
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	if (*p != '+' && *p != '-') {
		*error_r = "needs + or - after start or end, e.g. \"end - 14 days\"";
		return -1;
	}
	sign = *p++;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9') {
		*error_r = "needs a number after + or -";
		return -1;
	}
	while (*p >= '0' && *p <= '9' && n < 100000)
		n = n * 10 + (*p++ - '0');
	while (*p == ' ')
		p++;
	if (*p == '%') {
		if (pt->base != POINT_START || sign != '+' || n > 100) {
			*error_r = "takes a percentage only as \"start + N%\" (0 to 100)";
			return -1;
		}
		pt->percent = (int)n;
		p++;
	} else if (strcmp(p, "days") == 0 || strcmp(p, "day") == 0 || strcmp(p, "d") == 0) {
		pt->offset_days = sign == '-' ? -n : n;
		p += strlen(p);
	} else {
		*error_r = "counts in days or a percentage: \"+ 14 days\", \"+ 50%\"";
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0') {
		*error_r = "has something after the offset; write \"end - 14 days\"";
		return -1;
	}
	return 0;
}

size_t
program_team_count(const struct program_group *g, size_t n)
{
	size_t lo = (size_t)(g->size_min > 0 ? g->size_min : 1);
	size_t hi = (size_t)(g->size_max >= g->size_min ? g->size_max : g->size_min);
	size_t pref = g->size_preferred_max > 0 ? (size_t)g->size_preferred_max : hi;

	if (n < lo)
		return 0;
	/* As many teams of at most the preferred size as the minimum allows;
	 * else as few as fit within the maximum. */
	for (size_t t = n / lo; t > 0; t--) {
		if ((n + t - 1) / t <= pref && n / t >= lo)
			return t;
	}
	for (size_t t = n / lo; t > 0; t--) {
		if ((n + t - 1) / t <= hi && n / t >= lo)
			return t;
	}
	return n / lo;
}

static void
program_form_clear(struct program_form *f)
{
	form_def_free(&f->def);
	free(f->role);
	strvec_free(&f->rounds);
}

void
program_free(struct program *p)
{
	for (size_t i = 0; i < p->nroles; i++) {
		free(p->roles[i].name);
		free(p->roles[i].title);
		free(p->roles[i].form);
		free(p->roles[i].graduates_to);
		strvec_free(&p->roles[i].approvals);
	}
	free(p->roles);
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		strvec_free(&p->groups[i].roles);
	}
	free(p->groups);
	for (size_t i = 0; i < p->nforms; i++)
		program_form_clear(&p->forms[i]);
	free(p->forms);
	for (size_t i = 0; i < p->nsteps; i++) {
		struct program_step *s = &p->steps[i];

		free(s->name);
		free(s->after);
		free(s->role);
		free(s->template_name);
		free(s->request);
		free(s->round);
		free(s->complete_form);
		free(s->complete_round);
		free(s->shows);
		free(s->group);
		free(s->compare);
	}
	free(p->steps);
	for (size_t i = 0; i < p->ntopics; i++) {
		free(p->topics[i].title);
		free(p->topics[i].readings);
	}
	free(p->topics);
	free(p->certificate.signer);
	free(p->certificate.signer_title);
	free(p->certificate.organisation);
	for (size_t i = 0; i < p->nsessions; i++) {
		free(p->sessions[i].name);
		free(p->sessions[i].title);
		free(p->sessions[i].date);
		free(p->sessions[i].location);
	}
	free(p->sessions);
	memset(p, 0, sizeof(*p));
}
