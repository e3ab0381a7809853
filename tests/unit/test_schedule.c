/* Cadence rules of the scheduler, month by month, in a fixed time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "match.h"
#include "program.h"
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

static time_t
at(const char *s)
{
	time_t t;

	assert_int_equal(clock_parse(s, &t), 0);
	return t;
}

static int
setup(void **state)
{
	const char *error;

	(void)state;
	assert_int_equal(clock_set_timezone("America/Los_Angeles", &error), 0);
	return 0;
}

static struct schedule_input
input(struct schedule_match *m, size_t n)
{
	struct schedule_input in;

	memset(&in, 0, sizeof(in));
	in.program = "cdss";
	in.meetings_per_month = 2;
	in.reminder_day = 15;
	in.followup_day = 1;
	in.reminder_step = "reminder";
	in.followup_step = "followup";
	in.digest_step = "digest";
	in.matches = m;
	in.nmatches = n;
	in.work_start_hour = 8;
	in.work_end_hour = 18;
	return in;
}

static size_t
count_kind(const struct schedule_action *a, size_t n, enum schedule_kind kind)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += a[i].kind == kind;
	return c;
}

static void
test_no_reminder_before_mid_month(void **state)
{
	struct schedule_match m = {.id = 1, .created_at = at("2026-11-01T09:00")};
	struct schedule_input in = input(&m, 1);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2026-11-13T10:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_MEETING_REMINDER), 0);
	schedule_actions_free(&a, n);
}

static void
test_reminder_from_mid_month_below_cadence(void **state)
{
	struct schedule_match m[] = {
	    {.id = 1, .created_at = at("2026-11-01T09:00"), .meetings_this_month = 1},
	    {.id = 2, .created_at = at("2026-11-01T09:00"), .meetings_this_month = 2},
	    /* Matched after the reminder day: not held to this month. */
	    {.id = 3, .created_at = at("2026-11-16T08:00"), .meetings_this_month = 0},
	};
	struct schedule_input in = input(m, 3);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2026-11-16T09:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_MEETING_REMINDER), 1);
	assert_int_equal(a[0].match_id, 1);
	assert_string_equal(a[0].key, "step=reminder:group=1:month=2026-11");
	schedule_actions_free(&a, n);
}

static void
test_same_key_all_month(void **state)
{
	struct schedule_match m = {.id = 7, .created_at = at("2026-10-01T09:00")};
	struct schedule_input in = input(&m, 1);
	struct schedule_action *a, *b;
	size_t na, nb;

	(void)state;
	/* Different days of the month give the same key: one reminder. */
	schedule_due_actions(&in, at("2026-11-16T09:00"), &a, &na);
	schedule_due_actions(&in, at("2026-11-30T17:00"), &b, &nb);
	assert_int_equal(count_kind(a, na, DUE_MEETING_REMINDER), 1);
	assert_int_equal(count_kind(b, nb, DUE_MEETING_REMINDER), 1);
	assert_string_equal(a[0].key, b[0].key);
	schedule_actions_free(&a, na);
	schedule_actions_free(&b, nb);
}

static void
test_followup_lists_last_month_below(void **state)
{
	struct schedule_match m[] = {
	    {.id = 1, .created_at = at("2026-11-01T09:00"), .meetings_last_month = 1},
	    {.id = 2, .created_at = at("2026-11-01T09:00"), .meetings_last_month = 3},
	    {.id = 3, .created_at = at("2026-11-20T09:00"), .meetings_last_month = 0},
	};
	struct schedule_input in = input(m, 3);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2026-12-01T09:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_CADENCE_FOLLOWUP), 1);
	for (size_t i = 0; i < n; i++) {
		if (a[i].kind != DUE_CADENCE_FOLLOWUP)
			continue;
		assert_string_equal(a[i].key, "step=followup:program=cdss:month=2026-11");
		assert_int_equal(a[i].neligible, 2);
		assert_int_equal(a[i].nbelow, 1);
		assert_int_equal(a[i].below[0].match_id, 1);
		assert_int_equal(a[i].below[0].meetings, 1);
	}
	schedule_actions_free(&a, n);
}

/* Once they are queued, the reminder and the follow-up are not produced
 * again, and the counts they need are not asked for. */
static void
test_done_actions_are_skipped(void **state)
{
	struct schedule_match m = {.id = 1, .created_at = at("2026-10-01T09:00"), .reminded = true};
	struct schedule_input in = input(&m, 1);
	struct schedule_action *a;
	bool this_month, last_month;
	char key[128];
	size_t n;

	(void)state;
	in.followup_done = true;
	schedule_due_actions(&in, at("2026-11-16T09:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_MEETING_REMINDER), 0);
	assert_int_equal(count_kind(a, n, DUE_CADENCE_FOLLOWUP), 0);
	schedule_actions_free(&a, n);

	schedule_counts_needed(&in, at("2026-11-16T09:00"), &this_month, &last_month);
	assert_true(this_month);
	assert_false(last_month);
	in.followup_done = false;
	schedule_counts_needed(&in, at("2026-11-02T09:00"), &this_month, &last_month);
	assert_false(this_month);
	assert_true(last_month);
	/* Saturday: nothing is due, so nothing is counted. */
	schedule_counts_needed(&in, at("2026-11-21T09:00"), &this_month, &last_month);
	assert_false(this_month);
	assert_false(last_month);

	schedule_followup_key("followup", "cdss", at("2026-11-02T09:00"), key);
	assert_string_equal(key, "step=followup:program=cdss:month=2026-10");
}

static void
test_followup_across_year_end(void **state)
{
	struct schedule_match m = {.id = 1, .created_at = at("2026-11-01T09:00")};
	struct schedule_input in = input(&m, 1);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2027-01-04T09:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_CADENCE_FOLLOWUP), 1);
	assert_string_equal(a[0].period, "2026-12");
	schedule_actions_free(&a, n);
}

static void
test_month_is_local_time(void **state)
{
	/* 1 December 02:00 UTC is still 30 November in California. */
	char month[8];

	(void)state;
	clock_month_key(at("2026-12-01T02:00Z"), month);
	assert_string_equal(month, "2026-11");
	clock_month_key(at("2026-12-01T09:00Z"), month);
	assert_string_equal(month, "2026-12");
}

static void
test_working_hours(void **state)
{
	struct schedule_match m = {.id = 1, .created_at = at("2026-10-01T09:00")};
	struct schedule_input in = input(&m, 1);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2026-11-16T07:59"), &a, &n); /* Monday, before 08:00 */
	assert_int_equal(n, 0);
	schedule_due_actions(&in, at("2026-11-21T10:00"), &a, &n); /* Saturday */
	assert_int_equal(n, 0);
	assert_true(schedule_next_working_time(at("2026-11-21T10:00"), 8, 18, false) ==
	            at("2026-11-23T08:00"));
	in.work_weekends = true;
	schedule_due_actions(&in, at("2026-11-21T10:00"), &a, &n);
	assert_int_equal(count_kind(a, n, DUE_MEETING_REMINDER), 1);
	schedule_actions_free(&a, n);
}

static void
test_digest_only_when_something_waits(void **state)
{
	struct schedule_input in = input(NULL, 0);
	struct schedule_action *a;
	size_t n;

	(void)state;
	schedule_due_actions(&in, at("2026-11-02T09:00"), &a, &n);
	assert_int_equal(n, 0);
	in.pending_applications = 2;
	schedule_due_actions(&in, at("2026-11-02T09:00"), &a, &n);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, DUE_DIGEST);
	assert_string_equal(a[0].key, "step=digest:program=cdss:date=2026-11-02");
	schedule_actions_free(&a, n);
}

static void
test_match_suggestions(void **state)
{
	struct match_candidate mentees[] = {
	    {.id = 10, .competencies = "Communication, Conflict Management"},
	    {.id = 11, .competencies = "Change Leadership"},
	};
	struct match_candidate mentors[] = {
	    {.id = 1, .competencies = "Change Leadership, Ethics and Integrity", .free_slots = 1},
	    {.id = 2, .competencies = "communication, Conflict Management", .free_slots = 1},
	};
	struct match_suggestion *s;
	size_t n;

	(void)state;
	match_suggest(mentees, 2, mentors, 2, &s, &n);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].mentor_id, 2);
	assert_int_equal(s[0].score, 2);
	assert_string_equal(s[0].shared, "Communication, Conflict Management");
	assert_int_equal(s[1].mentor_id, 1);
	match_suggestions_free(&s, n);
	/* No free place: no suggestion. */
	mentors[0].free_slots = 0;
	mentors[1].free_slots = 0;
	match_suggest(mentees, 2, mentors, 2, &s, &n);
	assert_int_equal(n, 0);
	match_suggestions_free(&s, n);
}

/* A point of the program is the local midnight of its day, whatever the
 * span's length or daylight saving time: CDSS's mid-point (start + 50% of
 * 271 days) is 2027-03-16 from 00:00, not from noon; end - 14 days and a
 * start + N days across a change of time are midnights too. */
static void
test_program_points_are_midnights(void **state)
{
	struct program_point pt;
	time_t start = at("2026-11-01"), end = at("2027-07-30");
	const char *error;

	(void)state;
	assert_int_equal(program_point_parse("start + 50%", &pt, &error), 0);
	assert_int_equal(program_point_time(&pt, start, end), at("2027-03-16"));
	assert_int_equal(program_point_parse("end - 14 days", &pt, &error), 0);
	assert_int_equal(program_point_time(&pt, start, end), at("2027-07-16"));
	/* 1 November (daylight time) + 150 days: 31 March (standard time
	 * then daylight time again); 1 July + 150 days crosses into
	 * standard time: 28 November, not 23:00 on the 27th. */
	assert_int_equal(program_point_parse("start + 150 days", &pt, &error), 0);
	assert_int_equal(program_point_time(&pt, start, end), at("2027-03-31"));
	assert_int_equal(program_point_time(&pt, at("2027-07-01"), at("2028-06-30")),
	                 at("2027-11-28"));
	assert_int_equal(program_point_parse("end", &pt, &error), 0);
	assert_int_equal(program_point_time(&pt, start, end), end);
	assert_int_equal(program_point_time(&pt, start, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_reminder_before_mid_month),
	    cmocka_unit_test(test_reminder_from_mid_month_below_cadence),
	    cmocka_unit_test(test_same_key_all_month),
	    cmocka_unit_test(test_followup_lists_last_month_below),
	    cmocka_unit_test(test_followup_across_year_end),
	    cmocka_unit_test(test_month_is_local_time),
	    cmocka_unit_test(test_working_hours),
	    cmocka_unit_test(test_done_actions_are_skipped),
	    cmocka_unit_test(test_digest_only_when_something_waits),
	    cmocka_unit_test(test_match_suggestions),
	    cmocka_unit_test(test_program_points_are_midnights),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
