/* schedule: see include/schedule.h. */
#include "schedule.h"
#include "clock.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
schedule_in_working_hours(time_t now, int start_hour, int end_hour, bool weekends)
{
	struct tm tm;

	clock_local(now, &tm);
	if (!weekends && (tm.tm_wday == 0 || tm.tm_wday == 6))
		return false;
	return tm.tm_hour >= start_hour && tm.tm_hour < end_hour;
}

time_t
schedule_next_working_time(time_t now, int start_hour, int end_hour, bool weekends)
{
	struct tm tm;

	if (schedule_in_working_hours(now, start_hour, end_hour, weekends))
		return now;
	clock_local(now, &tm);
	/* Today's start if it is still ahead, else the following days'. */
	for (int day = 0; day < 8; day++) {
		struct tm t = tm;
		time_t at;

		t.tm_mday += day;
		t.tm_hour = start_hour;
		t.tm_min = 0;
		t.tm_sec = 0;
		t.tm_isdst = -1;
		at = mktime(&t);
		if (at > now && schedule_in_working_hours(at, start_hour, end_hour, weekends))
			return at;
	}
	return now + 86400;
}

void
schedule_previous_month(time_t t, char buf[static 8])
{
	struct tm tm;
	int y, m;

	clock_local(t, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon; /* 0-based current month == 1-based previous month */
	if (m == 0) {
		m = 12;
		y--;
	}
	clock_month_key(clock_local_midnight(y, m, 1), buf);
}

/* A partnership is held to a month's cadence when it existed before that
 * month's reminder day: this is that instant. */
static time_t
eligibility_cutoff(int year, int month, int reminder_day)
{
	int mday = reminder_day < 1 ? 1 : reminder_day;

	if (mday > clock_days_in_month(year, month))
		mday = clock_days_in_month(year, month);
	return clock_local_midnight(year, month, mday);
}

void
schedule_reminder_key_affixes(const char *month, char prefix[static 32], char suffix[static 32])
{
	snprintf(prefix, 32, "meeting-reminder:match=");
	snprintf(suffix, 32, ":month=%.7s", month);
}

static struct schedule_action *
push_action(struct schedule_action **list, size_t *n, size_t *cap, enum schedule_kind kind)
{
	struct schedule_action *a;

	*list = xgrow(*list, cap, *n + 1, sizeof(**list));
	a = &(*list)[(*n)++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

void
schedule_followup_key(const char *program, time_t now, char key[static 128])
{
	char prev[8];

	schedule_previous_month(now, prev);
	snprintf(key, 128, "cadence-followup:program=%s:month=%s", program, prev);
}

void
schedule_counts_needed(const struct schedule_input *in, time_t now, bool *this_month_r,
                       bool *last_month_r)
{
	struct tm tm;

	*this_month_r = *last_month_r = false;
	if (!schedule_in_working_hours(now, in->work_start_hour, in->work_end_hour,
	                               in->work_weekends))
		return;
	clock_local(now, &tm);
	*this_month_r = tm.tm_mday >= in->reminder_day;
	*last_month_r = !in->followup_done;
}

void
schedule_due_actions(const struct schedule_input *in, time_t now,
                     struct schedule_action **actions_r, size_t *n_r)
{
	struct schedule_action *list = NULL, *a;
	size_t n = 0, cap = 0;
	struct tm tm;
	char month[8], prev[8], today[11], prefix[32], suffix[32];
	int year, mon, pyear, pmon;
	time_t cutoff, prev_cutoff;

	*actions_r = NULL;
	*n_r = 0;
	if (!schedule_in_working_hours(now, in->work_start_hour, in->work_end_hour,
	                               in->work_weekends))
		return;
	clock_local(now, &tm);
	year = tm.tm_year + 1900;
	mon = tm.tm_mon + 1;
	pyear = mon == 1 ? year - 1 : year;
	pmon = mon == 1 ? 12 : mon - 1;
	clock_month_key(now, month);
	schedule_previous_month(now, prev);
	clock_date_key(now, today);
	cutoff = eligibility_cutoff(year, mon, in->reminder_day);
	prev_cutoff = eligibility_cutoff(pyear, pmon, in->reminder_day);
	schedule_reminder_key_affixes(month, prefix, suffix);

	if (tm.tm_mday >= in->reminder_day) {
		for (size_t i = 0; i < in->nmatches; i++) {
			const struct schedule_match *m = &in->matches[i];

			if (m->reminded || m->meetings_this_month >= in->meetings_per_month ||
			    m->created_at >= cutoff)
				continue;
			a = push_action(&list, &n, &cap, DUE_MEETING_REMINDER);
			a->match_id = m->id;
			snprintf(a->period, sizeof(a->period), "%s", month);
			snprintf(a->key, sizeof(a->key), "%s%lld%s", prefix, (long long)m->id,
			         suffix);
		}
	}

	/* The follow-up for last month; eligible pairs only, so a program's
	 * first month with no partnership yet sends nothing. */
	if (!in->followup_done) {
		size_t eligible = 0;
		struct schedule_below *below = NULL;
		size_t nbelow = 0, bcap = 0;

		for (size_t i = 0; i < in->nmatches; i++) {
			const struct schedule_match *m = &in->matches[i];

			if (m->created_at >= prev_cutoff)
				continue;
			eligible++;
			if (m->meetings_last_month < in->meetings_per_month) {
				below = xgrow(below, &bcap, nbelow + 1, sizeof(*below));
				below[nbelow].match_id = m->id;
				below[nbelow].meetings = m->meetings_last_month;
				nbelow++;
			}
		}
		if (eligible > 0) {
			a = push_action(&list, &n, &cap, DUE_CADENCE_FOLLOWUP);
			snprintf(a->period, sizeof(a->period), "%s", prev);
			schedule_followup_key(in->program, now, a->key);
			a->below = below;
			a->nbelow = nbelow;
			a->neligible = eligible;
		} else {
			free(below);
		}
	}

	if (in->pending_applications > 0 || in->unreported_failures > 0 ||
	    in->unreported_messages > 0) {
		a = push_action(&list, &n, &cap, DUE_DIGEST);
		snprintf(a->period, sizeof(a->period), "%s", today);
		snprintf(a->key, sizeof(a->key), "digest:program=%s:date=%s", in->program, today);
	}
	*actions_r = list;
	*n_r = n;
}

void
schedule_actions_free(struct schedule_action **actions, size_t n)
{
	if (*actions == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*actions)[i].below);
	free(*actions);
	*actions = NULL;
}
