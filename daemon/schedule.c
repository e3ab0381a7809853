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
schedule_reminder_key_affixes(const char *step, const char *month, char prefix[static 64],
                              char suffix[static 32])
{
	snprintf(prefix, 64, "step=%.40s:group=", step);
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
schedule_followup_key(const char *step, const char *program, time_t now, char key[static 128])
{
	char prev[8];

	schedule_previous_month(now, prev);
	snprintf(key, 128, "step=%.40s:program=%.40s:month=%s", step, program, prev);
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
	*this_month_r = in->reminder_step != NULL && tm.tm_mday >= in->reminder_day;
	*last_month_r =
	    in->followup_step != NULL && !in->followup_done && tm.tm_mday >= in->followup_day;
}

void
schedule_due_actions(const struct schedule_input *in, time_t now,
                     struct schedule_action **actions_r, size_t *n_r)
{
	struct schedule_action *list = NULL, *a;
	size_t n = 0, cap = 0;
	struct tm tm;
	char month[8], prev[8], today[11], prefix[64], suffix[32];
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
	if (in->reminder_step != NULL)
		schedule_reminder_key_affixes(in->reminder_step, month, prefix, suffix);

	if (in->reminder_step != NULL && tm.tm_mday >= in->reminder_day) {
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
	if (in->followup_step != NULL && !in->followup_done && tm.tm_mday >= in->followup_day) {
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
			schedule_followup_key(in->followup_step, in->program, now, a->key);
			a->below = below;
			a->nbelow = nbelow;
			a->neligible = eligible;
		} else {
			free(below);
		}
	}

	if (in->digest_step != NULL &&
	    (in->pending_applications > 0 || in->unreported_failures > 0 ||
	     in->unreported_messages > 0)) {
		a = push_action(&list, &n, &cap, DUE_DIGEST);
		snprintf(a->period, sizeof(a->period), "%s", today);
		snprintf(a->key, sizeof(a->key), "step=%.40s:program=%.40s:date=%s",
		         in->digest_step, in->program, today);
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

/* ---- steps ---- */

void
schedule_period_of(enum program_period p, time_t t, struct schedule_period *out)
{
	struct tm tm;
	int y, m, q;

	clock_local(t, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	switch (p) {
	case PERIOD_DAY:
		clock_date_key(t, out->key);
		out->start = clock_local_midnight(y, m, tm.tm_mday);
		return;
	case PERIOD_WEEK: {
		/* ISO weeks start on Monday; the key is the Monday's date. */
		int back = (tm.tm_wday + 6) % 7;
		struct tm mon = tm;

		mon.tm_mday -= back;
		mon.tm_hour = 12;
		mon.tm_min = mon.tm_sec = 0;
		mon.tm_isdst = -1;
		(void)mktime(&mon);
		out->start = clock_local_midnight(mon.tm_year + 1900, mon.tm_mon + 1, mon.tm_mday);
		snprintf(out->key, sizeof(out->key), "W%04d-%02d-%02d",
		         (mon.tm_year + 1900) % 10000, (mon.tm_mon + 1) % 100, mon.tm_mday % 100);
		return;
	}
	case PERIOD_MONTH:
		clock_month_key(t, out->key);
		out->start = clock_local_midnight(y, m, 1);
		return;
	case PERIOD_QUARTER:
		q = (m - 1) / 3;
		snprintf(out->key, sizeof(out->key), "%04d-Q%d", y % 10000, (q + 1) % 10);
		out->start = clock_local_midnight(y, q * 3 + 1, 1);
		return;
	}
	clock_month_key(t, out->key);
	out->start = clock_local_midnight(y, m, 1);
}

time_t
schedule_every_due(enum program_period p, int day, time_t now, struct schedule_period *period_r)
{
	struct tm tm;

	schedule_period_of(p, now, period_r);
	if (p == PERIOD_DAY || day <= 1)
		return period_r->start;
	clock_local(period_r->start, &tm);
	/* A weekday for a week (1 Monday .. 7 Sunday), else the day of the
	 * month or quarter, counted from its first day. */
	return clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + day - 1);
}

int
schedule_reminder_due(time_t sent, time_t now, int remind_every, int until)
{
	long days;

	if (now < sent)
		return -1;
	days = (long)((now - sent) / 86400);
	if (until > 0 && days > until)
		return -1;
	if (remind_every <= 0)
		return 0;
	return (int)(days / remind_every);
}

long
schedule_month_index(time_t from, time_t now)
{
	struct tm a, b;

	if (from == 0 || now < from)
		return 0;
	clock_local(from, &a);
	clock_local(now, &b);
	return (long)(b.tm_year - a.tm_year) * 12 + (b.tm_mon - a.tm_mon);
}
