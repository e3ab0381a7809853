/* Matching: the assignment solver against brute force, pairs with their
 * reasons, and CDE teams (sizes, repeated pairings, quality). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "match.h"

#include <stdlib.h>
#include <string.h>

#define FORBIDDEN INT64_MAX

static uint64_t rng_state = 12345;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static size_t
below(size_t n)
{
	return (size_t)(rng() % n);
}

/* ---- the solver ---------------------------------------------------------- */

struct brute {
	const int64_t *c;
	size_t rows, cols;
	bool used[8];
	size_t best_n;
	int64_t best_sum;
};

/* Every assignment: the most pairs, then the least cost. */
static void
brute_force(struct brute *b, size_t i, size_t n, int64_t sum)
{
	if (i == b->rows) {
		if (n > b->best_n || (n == b->best_n && sum < b->best_sum)) {
			b->best_n = n;
			b->best_sum = sum;
		}
		return;
	}
	brute_force(b, i + 1, n, sum);
	for (size_t j = 0; j < b->cols; j++) {
		int64_t h = b->c[i * b->cols + j];

		if (b->used[j] || h == FORBIDDEN)
			continue;
		b->used[j] = true;
		brute_force(b, i + 1, n + 1, sum + h);
		b->used[j] = false;
	}
}

/* The assignment is valid (distinct columns, no forbidden cell) and its
 * total is what match_assign said; returns the number of pairs. */
static size_t
check_assignment(const int64_t *c, size_t rows, size_t cols, const size_t *rc, int64_t total)
{
	bool used[64] = {false};
	int64_t sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < rows; i++) {
		if (rc[i] == MATCH_NONE)
			continue;
		assert_true(rc[i] < cols);
		assert_false(used[rc[i]]);
		used[rc[i]] = true;
		assert_true(c[i * cols + rc[i]] != FORBIDDEN);
		sum += c[i * cols + rc[i]];
		n++;
	}
	assert_int_equal(sum, total);
	return n;
}

static void
test_assign_against_brute_force(void **state)
{
	int64_t c[64];
	size_t rc[8];
	int cases = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t rows = 1 + below(6), cols = 1 + below(6);
		int64_t range = (int64_t[]){2, 5, 100, 1000000000}[below(4)];
		size_t forbid = (size_t[]){0, 0, 20, 50, 90}[below(5)];
		size_t dup = (size_t[]){0, 0, 50, 90}[below(4)];
		struct brute b = {.c = c, .rows = rows, .cols = cols, .best_sum = INT64_MAX};
		const char *error = NULL;
		int64_t total;

		for (size_t x = 0; x < rows * cols; x++)
			c[x] = below(100) < forbid ? FORBIDDEN
			                           : (int64_t)below((size_t)range) - range / 3;
		/* Repeated adjacent columns, as a mentor's places are. */
		for (size_t j = 1; j < cols; j++)
			if (below(100) < dup)
				for (size_t i = 0; i < rows; i++)
					c[i * cols + j] = c[i * cols + j - 1];
		brute_force(&b, 0, 0, 0);
		assert_int_equal(match_assign(c, rows, cols, FORBIDDEN, rc, &total, &error), 0);
		assert_int_equal(check_assignment(c, rows, cols, rc, total), b.best_n);
		assert_int_equal(total, b.best_sum);
		cases++;
	}
	assert_int_equal(cases, 3000);
}

static void
test_assign_scipy_example(void **state)
{
	/* SciPy's documentation example: rows 0,1,2 take columns 1,0,2, total
	 * 5. */
	const int64_t c[] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
	size_t rc[3];
	int64_t total;
	const char *error;

	(void)state;
	assert_int_equal(match_assign(c, 3, 3, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], 1);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], 2);
	assert_int_equal(total, 5);
}

static void
test_assign_rectangular(void **state)
{
	/* 3 rows, 2 columns: the row that costs least to leave out stays
	 * out.  Then the transpose: 2 rows, 3 columns. */
	const int64_t tall[] = {1, 9, 2, 3, 8, 1};
	const int64_t wide[] = {1, 2, 8, 9, 3, 1};
	size_t rc[3];
	int64_t total;
	const char *error;

	(void)state;
	assert_int_equal(match_assign(tall, 3, 2, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], MATCH_NONE);
	assert_int_equal(rc[2], 1);
	assert_int_equal(total, 2);
	assert_int_equal(match_assign(wide, 2, 3, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 2);
	assert_int_equal(total, 2);
}

static void
test_assign_forbidden(void **state)
{
	/* Row 1 may take nothing; row 2 may only take column 0, which row 0
	 * prefers: row 0 yields so that both are placed (more pairs first,
	 * even at a higher cost). */
	const int64_t c[] = {
	    1,         50,        50,        /* row 0 */
	    FORBIDDEN, FORBIDDEN, FORBIDDEN, /* row 1 */
	    100,       FORBIDDEN, FORBIDDEN, /* row 2 */
	};
	const int64_t all[] = {FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN};
	size_t rc[3];
	int64_t total;
	const char *error;

	(void)state;
	assert_int_equal(match_assign(c, 3, 3, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], 1);
	assert_int_equal(rc[1], MATCH_NONE);
	assert_int_equal(rc[2], 0);
	assert_int_equal(total, 150);
	assert_int_equal(match_assign(all, 2, 2, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], MATCH_NONE);
	assert_int_equal(rc[1], MATCH_NONE);
	assert_int_equal(total, 0);
	/* Empty matrices. */
	assert_int_equal(match_assign(c, 0, 3, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(match_assign(c, 3, 0, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], MATCH_NONE);
}

static void
test_assign_capacity_columns(void **state)
{
	/* Columns 0-2 are one mentor's three places, column 3 another's: the
	 * three rows that value the first mentor most get its places, in row
	 * order. */
	const int64_t c[] = {
	    1, 1, 1, 5, /* */
	    2, 2, 2, 9, /* */
	    7, 7, 7, 1, /* */
	    3, 3, 3, 8,
	};
	size_t rc[4];
	int64_t total;
	const char *error;

	(void)state;
	assert_int_equal(match_assign(c, 4, 4, FORBIDDEN, rc, &total, &error), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 1);
	assert_int_equal(rc[2], 3);
	assert_int_equal(rc[3], 2);
	assert_int_equal(total, 7);
}

static void
test_assign_deterministic(void **state)
{
	enum { R = 40, C = 50 };
	int64_t *c = malloc(R * C * sizeof(*c));
	size_t a[R], b[R];
	int64_t ta, tb;
	const char *error;

	(void)state;
	/* Many ties: costs 0..2. */
	for (size_t x = 0; x < R * C; x++)
		c[x] = (int64_t)below(3);
	assert_int_equal(match_assign(c, R, C, FORBIDDEN, a, &ta, &error), 0);
	assert_int_equal(match_assign(c, R, C, FORBIDDEN, b, &tb, &error), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(ta, tb);
	assert_int_equal(check_assignment(c, R, C, a, ta), R);
	free(c);
}

static void
test_assign_too_large(void **state)
{
	const int64_t c[] = {INT64_MAX / 2, 0, 0, 1};
	const int64_t far[] = {-(INT64_MAX / 24), FORBIDDEN, INT64_MAX / 24, 1};
	size_t rc[2];
	const char *error = NULL;

	(void)state;
	assert_int_equal(match_assign(c, 2, 2, FORBIDDEN, rc, NULL, &error), -1);
	assert_non_null(strstr(error, "too large"));
	error = NULL;
	assert_int_equal(match_assign(far, 2, 2, FORBIDDEN, rc, NULL, &error), -1);
	assert_non_null(strstr(error, "too far apart"));
}

/* ---- pairs --------------------------------------------------------------- */

static const struct match_rules cdss_rules = {
    .shared_mode = MATCH_PREFER,
    .weight_shared = 10,
    .level_mode = MATCH_PREFER,
    .level_gap = 3,
    .weight_level = 5,
    .division_mode = MATCH_PREFER,
    .weight_division = 3,
    .supervisor_mode = MATCH_REQUIRE,
    .weight_supervisor = 2,
    .availability_mode = MATCH_PREFER,
    .weight_availability = 4,
    .level_units = "years",
    .level_unit = "year",
};

static void
test_pairs_reason(void **state)
{
	const char *needs[] = {"Communication", " change leadership ", "Ethics and Integrity"};
	const char *strengths[] = {"Change Leadership", "communication", "Decision Making"};
	const char *free_e[] = {"Tuesday morning", "Friday afternoon"};
	const char *free_o[] = {"tuesday morning", "Monday morning"};
	struct match_person mentee = {
	    .id = 12,
	    .email = "ana@example.org",
	    .topics = needs,
	    .ntopics = 3,
	    .level = 2,
	    .division = "Finance",
	    .supervisor = "sam@example.org",
	    .availability = free_e,
	    .navailability = 2,
	};
	struct match_person mentor = {
	    .id = 4,
	    .email = "bo@example.org",
	    .topics = strengths,
	    .ntopics = 3,
	    .level = 10,
	    .division = "Adult Programs",
	    .supervisor = "kim@example.org",
	    .availability = free_o,
	    .navailability = 2,
	    .capacity = 1,
	};
	struct match_result *r;
	const char *error;

	(void)state;
	assert_int_equal(match_pairs(&mentee, 1, &mentor, 1, &cdss_rules, &r, &error), 0);
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].mentee_id, 12);
	assert_int_equal(r->pairs[0].mentor_id, 4);
	assert_int_equal(r->pairs[0].score, 2 * 10 + 5 + 3 + 2 + 4);
	assert_string_equal(r->pairs[0].reason,
	                    "shares Communication, change leadership; 8 years more experience; "
	                    "different division; both free Tuesday morning");
	assert_int_equal(r->total_score, 34);
	assert_int_equal(r->nunmatched, 0);
	match_result_free(&r);
	assert_null(r);

	/* Nothing in common, one year apart, the same division and supervisor
	 * (allowed when preferred), no availability given. */
	mentor.topics = NULL;
	mentor.ntopics = 0;
	mentor.level = 3;
	mentor.division = "finance";
	mentor.supervisor = "SAM@example.org";
	mentor.navailability = 0;
	{
		struct match_rules rules = cdss_rules;

		rules.supervisor_mode = MATCH_PREFER;
		assert_int_equal(match_pairs(&mentee, 1, &mentor, 1, &rules, &r, &error), 0);
	}
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].score, 0);
	assert_string_equal(r->pairs[0].reason,
	                    "no need in common; 1 year more experience; same division; same "
	                    "supervisor; availability not given");
	match_result_free(&r);
}

static struct match_person
person(int64_t id, const char *const *topics, size_t ntopics, const char *division, long capacity)
{
	struct match_person p = {
	    .id = id,
	    .topics = topics,
	    .ntopics = ntopics,
	    .level = MATCH_LEVEL_UNKNOWN,
	    .division = division,
	    .capacity = capacity,
	};

	return p;
}

static const struct match_rules shared_only = {
    .shared_mode = MATCH_PREFER,
    .weight_shared = 1,
};

static void
test_pairs_optimal_not_greedy(void **state)
{
	/* Mentee 1 (first in line) shares two needs with mentor 10 and one
	 * with mentor 11; mentee 2 shares two with mentor 10 only.  Greedy
	 * gives 1-10 and 2-11 (2 + 0); the optimum is 1-11 and 2-10 (1 + 2). */
	const char *n1[] = {"A", "B", "C"}, *n2[] = {"A", "B"};
	const char *s10[] = {"A", "B"}, *s11[] = {"C"};
	struct match_person mentees[] = {person(1, n1, 3, NULL, 0), person(2, n2, 2, NULL, 0)};
	struct match_person mentors[] = {person(10, s10, 2, NULL, 1), person(11, s11, 1, NULL, 1)};
	struct match_candidate gm[] = {{.id = 1, .competencies = "A, B, C"},
	                               {.id = 2, .competencies = "A, B"}};
	struct match_candidate go[] = {{.id = 10, .competencies = "A, B", .free_slots = 1},
	                               {.id = 11, .competencies = "C", .free_slots = 1}};
	struct match_suggestion *sugg;
	struct match_result *r;
	const char *error;
	size_t nsugg;

	(void)state;
	match_suggest(gm, 2, go, 2, &sugg, &nsugg);
	assert_int_equal(nsugg, 2);
	assert_int_equal(sugg[0].score + sugg[1].score, 2);
	match_suggestions_free(&sugg, nsugg);

	assert_int_equal(match_pairs(mentees, 2, mentors, 2, &shared_only, &r, &error), 0);
	assert_int_equal(r->npairs, 2);
	assert_int_equal(r->total_score, 3);
	assert_int_equal(r->pairs[0].mentee_id, 1);
	assert_int_equal(r->pairs[0].mentor_id, 11);
	assert_int_equal(r->pairs[1].mentee_id, 2);
	assert_int_equal(r->pairs[1].mentor_id, 10);
	assert_string_equal(r->pairs[1].reason, "shares A, B");
	match_result_free(&r);
}

static void
test_pairs_capacity(void **state)
{
	/* Mentor 10 has two places, 11 none, 12 one: four mentees, three
	 * places.  Everyone wants 10; the two who fit it best get it. */
	const char *a[] = {"A"}, *ab[] = {"A", "B"}, *b[] = {"B"}, *abc[] = {"A", "B", "C"};
	struct match_person mentees[] = {
	    person(1, a, 1, NULL, 0),
	    person(2, ab, 2, NULL, 0),
	    person(3, abc, 3, NULL, 0),
	    person(4, a, 1, NULL, 0),
	};
	struct match_person mentors[] = {
	    person(10, abc, 3, NULL, 2),
	    person(11, abc, 3, NULL, 0),
	    person(12, b, 1, NULL, 1),
	};
	struct match_result *r;
	const char *error;
	size_t per_mentor[3] = {0};

	(void)state;
	assert_int_equal(match_pairs(mentees, 4, mentors, 3, &shared_only, &r, &error), 0);
	assert_int_equal(r->npairs, 3);
	for (size_t i = 0; i < r->npairs; i++)
		per_mentor[r->pairs[i].mentor]++;
	assert_int_equal(per_mentor[0], 2);
	assert_int_equal(per_mentor[1], 0);
	assert_int_equal(per_mentor[2], 1);
	/* 3-10 (3) and 2-12 (1) and one of 1, 4 with 10 (1), or 2-10 (2),
	 * 3-10 (3), and 1 or 4 with 12 (0): 5 either way; the tie goes to the
	 * lower ids: mentee 1, not 4, is placed. */
	assert_int_equal(r->total_score, 5);
	assert_int_equal(r->nunmatched, 1);
	assert_int_equal(r->unmatched[0].role, MATCH_ROLE_MENTEE);
	assert_int_equal(r->unmatched[0].id, 4);
	assert_int_equal(r->unmatched[0].index, 3);
	assert_string_equal(r->unmatched[0].reason, "the mentors who fit (10, 12) are taken by "
	                                            "other mentees in the best overall pairing");
	match_result_free(&r);
}

static void
test_pairs_ties_by_id(void **state)
{
	/* Identical people: the lower ids win, whatever the input order. */
	const char *a[] = {"A"};
	struct match_person mentees[] = {person(9, a, 1, NULL, 0), person(3, a, 1, NULL, 0)};
	struct match_person mentors[] = {person(20, a, 1, NULL, 1), person(7, a, 1, NULL, 1)};
	struct match_result *r;
	const char *error;

	(void)state;
	assert_int_equal(match_pairs(mentees, 2, mentors, 1, &shared_only, &r, &error), 0);
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].mentee_id, 3);
	assert_int_equal(r->unmatched[0].id, 9);
	match_result_free(&r);
	assert_int_equal(match_pairs(mentees, 1, mentors, 2, &shared_only, &r, &error), 0);
	assert_int_equal(r->npairs, 1);
	assert_int_equal(r->pairs[0].mentor_id, 7);
	assert_int_equal(r->nunmatched, 1);
	assert_int_equal(r->unmatched[0].role, MATCH_ROLE_MENTOR);
	assert_int_equal(r->unmatched[0].id, 20);
	assert_string_equal(r->unmatched[0].reason, "the mentee who fits (9) is paired with other "
	                                            "mentors in the best overall pairing");
	match_result_free(&r);
}

static void
test_pairs_refusals(void **state)
{
	const char *a[] = {"A"}, *b[] = {"B"}, *mon[] = {"Monday"}, *tue[] = {"Tuesday"};
	struct match_person mentee = person(1, a, 1, "Finance", 0);
	struct match_person mentors[] = {person(10, a, 1, " finance", 1),
	                                 person(11, a, 1, "Finance", 2)};
	struct match_rules rules = {.shared_mode = MATCH_PREFER, .weight_shared = 1};
	struct match_result *r;
	const char *error;

	(void)state;
	/* Division required: every mentor is in Finance. */
	rules.division_mode = MATCH_REQUIRE;
	assert_int_equal(match_pairs(&mentee, 1, mentors, 2, &rules, &r, &error), 0);
	assert_int_equal(r->npairs, 0);
	assert_int_equal(r->nunmatched, 3);
	assert_string_equal(r->unmatched[0].reason, "no mentor outside Finance has a free place");
	assert_int_equal(r->unmatched[1].id, 10);
	assert_string_equal(r->unmatched[1].reason, "no mentee outside finance is waiting");
	match_result_free(&r);

	/* The only mentor with a place is the supervisor. */
	rules.division_mode = MATCH_OFF;
	rules.supervisor_mode = MATCH_PREFER;
	mentee.supervisor = "Boss@Example.org";
	mentors[0].email = "boss@example.org";
	mentors[1].capacity = 0;
	assert_int_equal(match_pairs(&mentee, 1, mentors, 2, &rules, &r, &error), 0);
	assert_int_equal(r->npairs, 0);
	assert_string_equal(r->unmatched[0].reason,
	                    "the only mentor with a free place is their supervisor");
	assert_string_equal(r->unmatched[1].reason,
	                    "none of the 1 mentee fits: 1 supervised by them");
	match_result_free(&r);

	/* A pair ended by a rematch is never proposed again, whatever it
	 * scores: the other mentor is, and the reason says why not. */
	{
		struct match_id_pair before = {1, 10};
		struct match_rules again = {.shared_mode = MATCH_PREFER, .weight_shared = 1};
		struct match_person two[] = {person(10, a, 1, "Finance", 1),
		                             person(11, b, 1, "Finance", 1)};

		again.avoid = &before;
		again.navoid = 1;
		assert_int_equal(match_pairs(&mentee, 1, two, 2, &again, &r, &error), 0);
		assert_int_equal(r->npairs, 1);
		assert_int_equal(r->pairs[0].mentor_id, 11);
		match_result_free(&r);
		two[1].capacity = 0;
		assert_int_equal(match_pairs(&mentee, 1, two, 2, &again, &r, &error), 0);
		assert_int_equal(r->npairs, 0);
		assert_string_equal(r->unmatched[0].reason,
		                    "none of the 1 mentor with a free place fits: 1 their mentor "
		                    "before");
		match_result_free(&r);
	}

	/* Level gap required. */
	rules.supervisor_mode = MATCH_OFF;
	rules.level_mode = MATCH_REQUIRE;
	rules.level_gap = 3;
	rules.level_units = "years";
	rules.level_unit = "year";
	mentee.level = 5;
	mentors[0].level = 7;
	assert_int_equal(match_pairs(&mentee, 1, mentors, 2, &rules, &r, &error), 0);
	assert_int_equal(r->npairs, 0);
	assert_string_equal(r->unmatched[0].reason,
	                    "no mentor with a free place has at least 3 years more experience");
	match_result_free(&r);
	/* An unknown level never refuses. */
	mentors[0].level = MATCH_LEVEL_UNKNOWN;
	assert_int_equal(match_pairs(&mentee, 1, mentors, 2, &rules, &r, &error), 0);
	assert_int_equal(r->npairs, 1);
	assert_string_equal(r->pairs[0].reason, "shares A; experience not given");
	match_result_free(&r);

	/* Several rules at once, counted. */
	mentors[0].level = 9;
	mentors[1].capacity = 1;
	mentors[1].level = 20;
	mentors[1].topics = b;
	rules.shared_mode = MATCH_REQUIRE;
	rules.availability_mode = MATCH_REQUIRE;
	mentee.availability = mon;
	mentee.navailability = 1;
	mentors[0].availability = tue;
	mentors[0].navailability = 1;
	assert_int_equal(match_pairs(&mentee, 1, mentors, 2, &rules, &r, &error), 0);
	assert_int_equal(r->npairs, 0);
	assert_string_equal(r->unmatched[0].reason,
	                    "none of the 2 mentors with a free place fits: 1 with none of their "
	                    "needs as a strength, 1 with no common free time");
	match_result_free(&r);

	/* No mentor at all; no mentee at all. */
	assert_int_equal(match_pairs(&mentee, 1, NULL, 0, &rules, &r, &error), 0);
	assert_string_equal(r->unmatched[0].reason, "no mentor has a free place");
	match_result_free(&r);
	assert_int_equal(match_pairs(NULL, 0, mentors, 1, &rules, &r, &error), 0);
	assert_int_equal(r->nunmatched, 1);
	assert_string_equal(r->unmatched[0].reason, "no mentee to pair");
	match_result_free(&r);
}

static void
test_pairs_bad_input(void **state)
{
	const char *a[] = {"A"};
	struct match_person twins[] = {person(1, a, 1, NULL, 1), person(1, a, 1, NULL, 1)};
	struct match_person neg = person(5, a, 1, NULL, -1);
	struct match_rules rules = shared_only;
	struct match_result *r = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(match_pairs(twins, 2, twins, 1, &rules, &r, &error), -1);
	assert_string_equal(error, "two mentees have the id 1");
	assert_int_equal(match_pairs(twins, 1, &neg, 1, &rules, &r, &error), -1);
	assert_string_equal(error, "mentor 5 has a capacity of -1");
	rules.weight_shared = -2;
	assert_int_equal(match_pairs(twins, 1, twins, 1, &rules, &r, &error), -1);
	assert_non_null(strstr(error, "weights go from 0"));
	assert_null(r);
}

/* Names for random people. */
static const char *const topic_names[] = {"A", "B", "C", "D", "E"};
static const char *const division_names[] = {"X", "Y", "Z"};

struct pool {
	struct match_person e[5], o[3];
	const char *te[5][5], *to[3][5];
	size_t ne, no;
};

static void
random_pool(struct pool *p)
{
	p->ne = 1 + below(5);
	p->no = 1 + below(3);
	for (size_t i = 0; i < p->ne + p->no; i++) {
		bool mentee = i < p->ne;
		struct match_person *x = mentee ? &p->e[i] : &p->o[i - p->ne];
		const char **t = mentee ? p->te[i] : p->to[i - p->ne];
		size_t nt = 0;

		for (size_t k = 0; k < 5; k++)
			if (below(2))
				t[nt++] = topic_names[k];
		*x = person((int64_t)(below(1000) * 8 + i), t, nt, division_names[below(3)],
		            mentee ? 0 : (long)below(3));
	}
}

static int64_t
oracle_score(const struct match_person *e, const struct match_person *o, bool *refused)
{
	int64_t s = 0;

	for (size_t a = 0; a < e->ntopics; a++)
		for (size_t b = 0; b < o->ntopics; b++)
			s += strcmp(e->topics[a], o->topics[b]) == 0;
	*refused = strcmp(e->division, o->division) == 0;
	return s;
}

/* The most pairs, then the highest score, over every assignment. */
static void
oracle(const struct pool *p, size_t i, long *left, size_t n, int64_t score, size_t *best_n,
       int64_t *best)
{
	if (i == p->ne) {
		if (n > *best_n || (n == *best_n && score > *best)) {
			*best_n = n;
			*best = score;
		}
		return;
	}
	oracle(p, i + 1, left, n, score, best_n, best);
	for (size_t j = 0; j < p->no; j++) {
		bool refused;
		int64_t s = oracle_score(&p->e[i], &p->o[j], &refused);

		if (left[j] == 0 || refused)
			continue;
		left[j]--;
		oracle(p, i + 1, left, n + 1, score + s, best_n, best);
		left[j]++;
	}
}

static void
test_pairs_against_brute_force(void **state)
{
	struct match_rules rules = shared_only;

	(void)state;
	rules.division_mode = MATCH_REQUIRE;
	for (int round = 0; round < 500; round++) {
		struct pool p;
		struct match_result *r, *r2;
		long left[3];
		size_t best_n = 0;
		int64_t best = 0;
		const char *error;

		random_pool(&p);
		for (size_t j = 0; j < p.no; j++)
			left[j] = p.o[j].capacity;
		oracle(&p, 0, left, 0, 0, &best_n, &best);
		assert_int_equal(match_pairs(p.e, p.ne, p.o, p.no, &rules, &r, &error), 0);
		assert_int_equal(r->npairs, best_n);
		assert_int_equal(r->total_score, best);
		/* Every mentee is paired or explained, once. */
		assert_true(r->npairs + r->nunmatched >= p.ne);
		/* The same pool in reverse order: the same pairs. */
		{
			struct match_person re[5], ro[3];

			for (size_t i = 0; i < p.ne; i++)
				re[i] = p.e[p.ne - 1 - i];
			for (size_t j = 0; j < p.no; j++)
				ro[j] = p.o[p.no - 1 - j];
			assert_int_equal(match_pairs(re, p.ne, ro, p.no, &rules, &r2, &error), 0);
		}
		assert_int_equal(r2->npairs, r->npairs);
		for (size_t k = 0; k < r->npairs; k++) {
			assert_int_equal(r2->pairs[k].mentee_id, r->pairs[k].mentee_id);
			assert_int_equal(r2->pairs[k].mentor_id, r->pairs[k].mentor_id);
			assert_string_equal(r2->pairs[k].reason, r->pairs[k].reason);
		}
		assert_int_equal(r2->nunmatched, r->nunmatched);
		for (size_t k = 0; k < r->nunmatched; k++)
			assert_string_equal(r2->unmatched[k].reason, r->unmatched[k].reason);
		match_result_free(&r);
		match_result_free(&r2);
	}
}

static void
test_pair_matrix(void **state)
{
	/* The matrix match_pairs solves: mentees by id, a column per place,
	 * refused pairs forbidden, cost = -score * scale + tie-break. */
	const char *a[] = {"A"};
	struct match_person mentees[] = {person(7, a, 1, "X", 0), person(2, a, 1, "Y", 0)};
	struct match_person mentors[] = {person(30, a, 1, "X", 2)};
	struct match_rules rules = shared_only;
	struct match_matrix *mx;
	const char *error;

	(void)state;
	rules.division_mode = MATCH_REQUIRE;
	assert_int_equal(match_pair_matrix(mentees, 2, mentors, 1, &rules, &mx, &error), 0);
	assert_int_equal(mx->rows, 2);
	assert_int_equal(mx->cols, 2);
	assert_int_equal(mx->row_mentee[0], 1); /* id 2 first */
	assert_int_equal(mx->col_mentor[1], 0);
	assert_int_equal(mx->cost[0], -mx->scale + 0);
	assert_int_equal(mx->cost[1], mx->cost[0]);
	assert_int_equal(mx->cost[2], mx->forbidden);
	match_matrix_free(&mx);
	assert_null(mx);
}

/* ---- teams --------------------------------------------------------------- */

static const struct match_team_rules cde = {
    .size_min = 3,
    .size_max = 5,
    .size_preferred_max = 4,
    .weight_interest = 3,
    .weight_level = 2,
    .weight_division = 4,
};

static struct match_person *
applicants(size_t n)
{
	struct match_person *p = calloc(n + 1, sizeof(*p));

	for (size_t i = 0; i < n; i++) {
		p[i].id = (int64_t)(100 + i);
		p[i].level = MATCH_LEVEL_UNKNOWN;
	}
	return p;
}

static int
compare_sizes(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The team sizes, ascending, into sizes[]; checks that every member is
 * in one team or unplaced, once. */
static size_t
team_sizes(const struct match_teams *t, size_t n, size_t *sizes)
{
	char *seen = calloc(n + 1, 1);

	for (size_t k = 0; k < t->nteams; k++) {
		sizes[k] = t->teams[k].nmembers;
		for (size_t m = 0; m < t->teams[k].nmembers; m++) {
			assert_true(t->teams[k].members[m] < n);
			assert_int_equal(seen[t->teams[k].members[m]]++, 0);
		}
	}
	for (size_t k = 0; k < t->nunplaced; k++)
		assert_int_equal(seen[t->unplaced[k].index]++, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
	qsort(sizes, t->nteams, sizeof(*sizes), compare_sizes);
	return t->nteams;
}

static void
test_teams_sizes(void **state)
{
	size_t sizes[64];
	struct match_teams *t;
	const char *error;

	(void)state;
	for (size_t n = 0; n <= 60; n++) {
		struct match_person *p = applicants(n);

		assert_int_equal(match_teams(p, n, &cde, &t, &error), 0);
		team_sizes(t, n, sizes);
		for (size_t k = 0; k < t->nteams; k++) {
			assert_true(sizes[k] >= 3 && sizes[k] <= 5);
			/* 5 only when the numbers need it: n = 5. */
			assert_true(sizes[k] <= 4 || n == 5);
		}
		assert_int_equal(t->nunplaced, n < 3 ? n : 0);
		match_teams_free(&t);
		free(p);
	}
}

static void
test_teams_edge_cases(void **state)
{
	struct match_person *p = applicants(9);
	struct match_team_rules threes = cde;
	struct match_teams *t;
	size_t sizes[8];
	const char *error;

	(void)state;
	assert_int_equal(match_teams(p, 6, &cde, &t, &error), 0);
	assert_int_equal(team_sizes(t, 6, sizes), 2);
	assert_int_equal(sizes[0], 3);
	assert_int_equal(sizes[1], 3);
	match_teams_free(&t);

	assert_int_equal(match_teams(p, 7, &cde, &t, &error), 0);
	assert_int_equal(team_sizes(t, 7, sizes), 2);
	assert_int_equal(sizes[0], 3);
	assert_int_equal(sizes[1], 4);
	match_teams_free(&t);

	assert_int_equal(match_teams(p, 5, &cde, &t, &error), 0);
	assert_int_equal(team_sizes(t, 5, sizes), 1);
	assert_int_equal(sizes[0], 5);
	match_teams_free(&t);

	assert_int_equal(match_teams(p, 9, &cde, &t, &error), 0);
	assert_int_equal(team_sizes(t, 9, sizes), 3);
	assert_int_equal(sizes[2], 3);
	match_teams_free(&t);

	assert_int_equal(match_teams(p, 2, &cde, &t, &error), 0);
	assert_int_equal(t->nteams, 0);
	assert_int_equal(t->nunplaced, 2);
	assert_int_equal(t->unplaced[1].id, 101);
	assert_int_equal(t->unplaced[1].role, MATCH_ROLE_MEMBER);
	assert_string_equal(t->unplaced[0].reason, "only 2 applicants; a team needs at least 3");
	match_teams_free(&t);

	/* Teams of exactly 3: of 4 applicants, the last waits. */
	threes.size_max = threes.size_preferred_max = 3;
	assert_int_equal(match_teams(p, 4, &threes, &t, &error), 0);
	assert_int_equal(team_sizes(t, 4, sizes), 1);
	assert_int_equal(t->nunplaced, 1);
	assert_int_equal(t->unplaced[0].index, 3);
	assert_string_equal(t->unplaced[0].reason, "4 applicants cannot all be split into teams "
	                                           "of 3-3; the last to apply wait for the next "
	                                           "round");
	match_teams_free(&t);
	free(p);
}

static bool
in_team(const struct match_team *t, size_t x)
{
	for (size_t m = 0; m < t->nmembers; m++)
		if (t->members[m] == x)
			return true;
	return false;
}

static void
test_teams_no_repeated_pairing(void **state)
{
	/* Last round's teams were 0-2, 3-5 and 6-8: each new team of 3 must
	 * take one from each. */
	struct match_person *p = applicants(9);
	struct match_id_pair prev[12];
	struct match_team_rules rules = cde;
	struct match_teams *t;
	size_t np = 0, sizes[4];
	const char *error;

	(void)state;
	for (size_t base = 0; base < 9; base += 3)
		for (size_t a = 0; a < 3; a++)
			for (size_t b = a + 1; b < 3; b++) {
				prev[np].a = p[base + a].id;
				prev[np].b = p[base + b].id;
				np++;
			}
	rules.previous = prev;
	rules.nprevious = np;
	assert_int_equal(match_teams(p, 9, &rules, &t, &error), 0);
	assert_int_equal(team_sizes(t, 9, sizes), 3);
	for (size_t k = 0; k < 3; k++)
		for (size_t base = 0; base < 9; base += 3)
			assert_int_equal(in_team(&t->teams[k], base) +
			                     in_team(&t->teams[k], base + 1) +
			                     in_team(&t->teams[k], base + 2),
			                 1);
	match_teams_free(&t);

	/* 0-1, 2-3, 4-5 and 6-7 were paired; 0-3 are at level 1, 4-7 at
	 * level 10.  Keeping levels together would repeat two pairs a team:
	 * no repeat wins over the level, so each team mixes them. */
	np = 0;
	for (size_t i = 0; i < 8; i += 2) {
		prev[np].a = p[i].id;
		prev[np].b = p[i + 1].id;
		np++;
		p[i].level = p[i + 1].level = i < 4 ? 1 : 10;
	}
	rules.nprevious = np;
	assert_int_equal(match_teams(p, 8, &rules, &t, &error), 0);
	assert_int_equal(team_sizes(t, 8, sizes), 2);
	for (size_t k = 0; k < 2; k++) {
		size_t low = 0;

		for (size_t i = 0; i < 8; i += 2)
			assert_false(in_team(&t->teams[k], i) && in_team(&t->teams[k], i + 1));
		for (size_t i = 0; i < 4; i++)
			low += in_team(&t->teams[k], i);
		assert_int_equal(low, 2);
	}
	match_teams_free(&t);
	for (size_t i = 0; i < 8; i++)
		p[i].level = MATCH_LEVEL_UNKNOWN;

	/* Three people, two of whom met before: no team of 3 is possible. */
	rules.nprevious = 1;
	prev[0].a = p[1].id;
	prev[0].b = p[0].id;
	assert_int_equal(match_teams(p, 3, &rules, &t, &error), 0);
	assert_int_equal(t->nteams, 0);
	assert_int_equal(t->nunplaced, 3);
	assert_string_equal(t->unplaced[1].reason, "there is no other team to join");
	assert_string_equal(t->unplaced[0].reason, "their team fell below 3 after taking out "
	                                           "repeated pairings, and there is no other "
	                                           "team to join");
	match_teams_free(&t);
	free(p);
}

static void
test_teams_random_constraints(void **state)
{
	/* 1000 applicants, a previous round of random pairs: every team within
	 * bounds, no previous pair together, everyone accounted for. */
	enum { N = 1000, NPREV = 3000 };
	static const char *const interests[] = {"Coaching", "Budgets", "Data",
	                                        "Policy",   "Hiring",  "Ethics"};
	static const char *const divs[] = {"A", "B", "C", "D", "E"};
	struct match_person *p = applicants(N);
	struct match_id_pair *prev = calloc(NPREV, sizeof(*prev));
	const char *topics[N][3];
	struct match_team_rules rules = cde;
	struct match_teams *t, *t2;
	size_t sizes[N];
	const char *error;
	int64_t sum = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		for (size_t k = 0; k < 3; k++)
			topics[i][k] = interests[below(6)];
		p[i].topics = topics[i];
		p[i].ntopics = 1 + below(3);
		p[i].level = below(20) == 0 ? MATCH_LEVEL_UNKNOWN : (long)below(25);
		p[i].division = divs[below(5)];
	}
	for (size_t k = 0; k < NPREV; k++) {
		prev[k].a = p[below(N)].id;
		prev[k].b = p[below(N)].id;
	}
	rules.previous = prev;
	rules.nprevious = NPREV;
	assert_int_equal(match_teams(p, N, &rules, &t, &error), 0);
	team_sizes(t, N, sizes);
	assert_int_equal(t->nunplaced, 0);
	for (size_t k = 0; k < t->nteams; k++) {
		const struct match_team *tm = &t->teams[k];

		assert_true(tm->nmembers >= 3 && tm->nmembers <= 4);
		for (size_t a = 0; a < tm->nmembers; a++)
			for (size_t b = a + 1; b < tm->nmembers; b++) {
				int64_t x = p[tm->members[a]].id, y = p[tm->members[b]].id;

				for (size_t q = 0; q < NPREV; q++)
					assert_false((prev[q].a == x && prev[q].b == y) ||
					             (prev[q].a == y && prev[q].b == x));
			}
		sum += tm->score;
	}
	assert_int_equal(sum, t->score);
	/* Deterministic. */
	assert_int_equal(match_teams(p, N, &rules, &t2, &error), 0);
	assert_int_equal(t2->nteams, t->nteams);
	assert_int_equal(t2->score, t->score);
	for (size_t k = 0; k < t->nteams; k++) {
		assert_int_equal(t2->teams[k].nmembers, t->teams[k].nmembers);
		assert_memory_equal(t2->teams[k].members, t->teams[k].members,
		                    t->teams[k].nmembers * sizeof(size_t));
		assert_string_equal(t2->teams[k].reason, t->teams[k].reason);
	}
	match_teams_free(&t);
	match_teams_free(&t2);
	free(prev);
	free(p);
}

/* Can people 0..n-1 (bit i of `left`) be split into teams of the given
 * sizes with no pair from bad[][]? */
static bool
splittable(bool bad[12][12], unsigned left, size_t *sizes, size_t nsizes)
{
	unsigned first;

	if (left == 0)
		return true;
	first = (unsigned)__builtin_ctz(left);
	for (size_t s = 0; s < nsizes; s++) {
		size_t size = sizes[s];

		if (s > 0 && sizes[s - 1] == size)
			continue;
		/* Every team of `size` with `first` in it, from the others left. */
		for (unsigned team = left; team != 0; team = (team - 1) & left) {
			bool ok = (team >> first) & 1 && (size_t)__builtin_popcount(team) == size;

			for (unsigned a = 0; ok && a < 12; a++)
				for (unsigned b = a + 1; ok && b < 12; b++)
					ok = !((team >> a) & 1 && (team >> b) & 1 && bad[a][b]);
			if (ok) {
				size_t rest[8], nrest = 0;

				for (size_t k = 0; k < nsizes; k++)
					if (k != s)
						rest[nrest++] = sizes[k];
				if (splittable(bad, left & ~team, rest, nrest))
					return true;
			}
		}
	}
	return false;
}

static void
test_teams_tight_previous(void **state)
{
	/* 6 to 12 people and many pairs from earlier rounds: whenever teams
	 * of the preferred sizes without a repeated pair exist, nobody is left
	 * out. */
	size_t solvable = 0;

	(void)state;
	for (int round = 0; round < 150; round++) {
		size_t n = 6 + below(7), t = (n + 3) / 4, sizes[4], np = 0;
		struct match_person *p = applicants(n);
		struct match_id_pair prev[66];
		struct match_team_rules rules = cde;
		bool bad[12][12] = {{false}};
		size_t density = 20 + below(30);
		struct match_teams *res;
		const char *error;

		t = t > n / 3 ? n / 3 : t;
		for (size_t k = 0; k < t; k++)
			sizes[k] = n / t + (k < n % t);
		for (size_t i = 0; i < n; i++)
			p[i].level = (long)below(10);
		for (size_t a = 0; a < n; a++)
			for (size_t b = a + 1; b < n; b++)
				if (below(100) < density) {
					bad[a][b] = true;
					prev[np].a = p[a].id;
					prev[np].b = p[b].id;
					np++;
				}
		rules.previous = prev;
		rules.nprevious = np;
		assert_int_equal(match_teams(p, n, &rules, &res, &error), 0);
		if (splittable(bad, (1u << n) - 1, sizes, t)) {
			solvable++;
			assert_int_equal(res->nunplaced, 0);
		}
		for (size_t k = 0; k < res->nteams; k++)
			for (size_t a = 0; a < res->teams[k].nmembers; a++)
				for (size_t b = a + 1; b < res->teams[k].nmembers; b++)
					assert_false(bad[res->teams[k].members[a]]
					                [res->teams[k].members[b]]);
		match_teams_free(&res);
		free(p);
	}
	assert_true(solvable > 50);
}

/* The documented quality of a team, computed here independently. */
static int64_t
quality_of(const struct match_person *p, const size_t *members, size_t n,
           const struct match_team_rules *r)
{
	int64_t s = 0;

	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++) {
			const struct match_person *x = &p[members[a]], *y = &p[members[b]];
			long d = x->level == MATCH_LEVEL_UNKNOWN || y->level == MATCH_LEVEL_UNKNOWN
			             ? 1
			             : labs(x->level - y->level);

			for (size_t i = 0; i < x->ntopics; i++)
				for (size_t j = 0; j < y->ntopics; j++)
					s += r->weight_interest *
					     (strcmp(x->topics[i], y->topics[j]) == 0);
			s -= r->weight_level * d;
			if (x->division != NULL && y->division != NULL &&
			    strcmp(x->division, y->division) == 0)
				s -= r->weight_division;
		}
	return s;
}

static int64_t
quality(const struct match_person *p, const struct match_team *t, const struct match_team_rules *r)
{
	return quality_of(p, t->members, t->nmembers, r);
}

static void
test_teams_local_optimum(void **state)
{
	/* 30 people with random levels, interests and divisions: no swap of
	 * two people between teams, and no move of one from a team of 4 to a
	 * team of 3, improves the documented quality. */
	static const char *const interests[] = {"Coaching", "Budgets", "Data", "Policy"};
	static const char *const divs[] = {"A", "B", "C"};
	const char *topics[30][2];

	(void)state;
	for (int round = 0; round < 20; round++) {
		struct match_person *p = applicants(30);
		struct match_teams *t;
		const char *error;

		for (size_t i = 0; i < 30; i++) {
			topics[i][0] = interests[below(4)];
			topics[i][1] = interests[below(4)];
			p[i].topics = topics[i];
			p[i].ntopics = topics[i][0] == topics[i][1] ? 1 : 2;
			p[i].level = (long)below(8);
			p[i].division = divs[below(3)];
		}
		assert_int_equal(match_teams(p, 30, &cde, &t, &error), 0);
		assert_int_equal(t->nteams, 8);
		for (size_t a = 0; a < t->nteams; a++)
			for (size_t b = 0; b < t->nteams; b++) {
				const struct match_team *ta = &t->teams[a], *tb = &t->teams[b];
				int64_t before = quality(p, ta, &cde) + quality(p, tb, &cde);
				size_t ma[5], mb[5];

				if (a == b)
					continue;
				for (size_t x = 0; x < ta->nmembers; x++) {
					/* Moves: x from a to b, when a has 4 and b 3. */
					if (ta->nmembers == 4 && tb->nmembers == 3) {
						size_t n = 0;

						for (size_t k = 0; k < 4; k++)
							if (k != x)
								ma[n++] = ta->members[k];
						memcpy(mb, tb->members, 3 * sizeof(*mb));
						mb[3] = ta->members[x];
						assert_true(quality_of(p, ma, 3, &cde) +
						                quality_of(p, mb, 4, &cde) <=
						            before);
					}
					for (size_t y = 0; y < tb->nmembers; y++) {
						memcpy(ma, ta->members, ta->nmembers * sizeof(*ma));
						memcpy(mb, tb->members, tb->nmembers * sizeof(*mb));
						ma[x] = tb->members[y];
						mb[y] = ta->members[x];
						assert_true(
						    quality_of(p, ma, ta->nmembers, &cde) +
						        quality_of(p, mb, tb->nmembers, &cde) <=
						    before);
					}
				}
			}
		match_teams_free(&t);
		free(p);
	}
}

static void
test_teams_quality(void **state)
{
	/* Eight people, input order interleaved: levels 1 and 10, divisions A
	 * and B.  The best split keeps levels together and mixes divisions:
	 * {1,1,1,1} and {10,10,10,10}, each with two from A and two from B. */
	static const char *const coaching[] = {"Coaching"}, *const data[] = {"Data"};
	struct match_person *p = applicants(8);
	struct match_teams *t;
	size_t sizes[4];
	const char *error;

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		p[i].level = i % 2 == 0 ? 1 : 10;
		p[i].division = (i / 2) % 2 == 0 ? "A" : "B";
		p[i].topics = i % 2 == 0 ? coaching : data;
		p[i].ntopics = 1;
	}
	assert_int_equal(match_teams(p, 8, &cde, &t, &error), 0);
	assert_int_equal(team_sizes(t, 8, sizes), 2);
	for (size_t k = 0; k < 2; k++) {
		const struct match_team *tm = &t->teams[k];
		size_t a = 0;

		for (size_t m = 0; m < tm->nmembers; m++) {
			assert_int_equal(tm->members[m] % 2, tm->members[0] % 2);
			a += strcmp(p[tm->members[m]].division, "A") == 0;
		}
		assert_int_equal(a, 2);
		assert_int_equal(tm->score, quality(p, tm, &cde));
		/* 6 pairs share an interest (+3), same level, 2 same-division
		 * pairs (-4). */
		assert_int_equal(tm->score, 6 * 3 - 2 * 4);
	}
	assert_int_equal(t->teams[0].members[0], 0);
	assert_string_equal(t->teams[0].reason,
	                    "all at level 1; shares Coaching (all 4); 2 divisions (2 from A)");
	assert_string_equal(t->teams[1].reason,
	                    "all at level 10; shares Data (all 4); 2 divisions (2 from A)");
	assert_int_equal(t->score, 2 * (6 * 3 - 2 * 4));
	match_teams_free(&t);
	free(p);
}

static void
test_teams_reason(void **state)
{
	static const char *const t0[] = {"Coaching", "Budgets"}, *const t1[] = {"coaching"},
	                         *const t2[] = {"Budgets", "Coaching", "Policy"};
	struct match_person *p = applicants(3);
	struct match_team_rules rules = cde;
	struct match_teams *t;
	const char *error;

	(void)state;
	p[0].topics = t0;
	p[0].ntopics = 2;
	p[1].topics = t1;
	p[1].ntopics = 1;
	p[2].topics = t2;
	p[2].ntopics = 3;
	p[0].level = 3;
	p[1].level = 5;
	p[0].division = "Finance";
	p[1].division = "Legal";
	p[2].division = "Audits";
	rules.level_units = "years";
	rules.level_unit = "year";
	assert_int_equal(match_teams(p, 3, &rules, &t, &error), 0);
	assert_int_equal(t->nteams, 1);
	assert_string_equal(t->teams[0].reason,
	                    "3-5 years of experience (not given for 1); shares Coaching (all 3), "
	                    "Budgets (2); all from different divisions");
	match_teams_free(&t);

	/* Bad rules. */
	rules.size_min = 4;
	rules.size_preferred_max = 3;
	assert_int_equal(match_teams(p, 3, &rules, &t, &error), -1);
	assert_non_null(strstr(error, "must be ordered"));
	p[2].id = p[0].id;
	assert_int_equal(match_teams(p, 3, &cde, &t, &error), -1);
	assert_string_equal(error, "two applicants have the id 100");
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_assign_against_brute_force),
	    cmocka_unit_test(test_assign_scipy_example),
	    cmocka_unit_test(test_assign_rectangular),
	    cmocka_unit_test(test_assign_forbidden),
	    cmocka_unit_test(test_assign_capacity_columns),
	    cmocka_unit_test(test_assign_deterministic),
	    cmocka_unit_test(test_assign_too_large),
	    cmocka_unit_test(test_pairs_reason),
	    cmocka_unit_test(test_pairs_optimal_not_greedy),
	    cmocka_unit_test(test_pairs_capacity),
	    cmocka_unit_test(test_pairs_ties_by_id),
	    cmocka_unit_test(test_pairs_refusals),
	    cmocka_unit_test(test_pairs_bad_input),
	    cmocka_unit_test(test_pairs_against_brute_force),
	    cmocka_unit_test(test_pair_matrix),
	    cmocka_unit_test(test_teams_sizes),
	    cmocka_unit_test(test_teams_edge_cases),
	    cmocka_unit_test(test_teams_no_repeated_pairing),
	    cmocka_unit_test(test_teams_random_constraints),
	    cmocka_unit_test(test_teams_tight_previous),
	    cmocka_unit_test(test_teams_quality),
	    cmocka_unit_test(test_teams_local_optimum),
	    cmocka_unit_test(test_teams_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
