/*
 * match: who is paired or teamed with whom, and why (pure: no database, no
 * network, no clock).
 *
 * Three layers:
 *
 *   match_assign   an optimal rectangular assignment on an integer cost
 *                  matrix (Jonker-Volgenant's column reduction and
 *                  shortest augmenting paths, the algorithm family of
 *                  SciPy's linear_sum_assignment).  Exact int64 arithmetic.
 *   match_pairs    mentees with mentors over the whole pool at once:
 *                  a score per pair from match_rules, mentor capacity by
 *                  slot duplication, the optimal assignment, a one-line
 *                  reason per pair and per person left unmatched.
 *   match_teams    peer-coaching teams (CDE): sizes min..max, similar
 *                  level, shared interests, mixed divisions, no pair of
 *                  people who were in a team before; a greedy construction
 *                  in level order, swap/move local search, deterministic
 *                  restarts while a repeated pair remains, then a repair
 *                  (move or swap the person, else leave them out); a
 *                  quality score and a reason per team; who could not be
 *                  placed and why.
 *
 * Everything is deterministic: the same input gives the same output, and the
 * output does not depend on the order of mentees and mentors (they are taken
 * in id order); teams depend on the input order only (no random numbers).
 *
 * The older greedy match_suggest() below is kept for the digest until the
 * program engine uses match_pairs.
 */
#ifndef MENTORD_MATCH_H
#define MENTORD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---- the greedy suggestion of today's digest ---------------------------- */

/* A mentee's developmental needs are compared with each mentor's strengths
 * (competency names, as the forms store them: ", " separated, compared
 * case-insensitively).  Mentees are served in application order; each gets
 * the mentor with free capacity who shares the most competencies (ties go
 * to the mentor with more free places, then the earlier registration).  The
 * coordinator decides: suggestions only appear in the digest as ready-made
 * "match A with B" lines. */
struct match_candidate {
	int64_t id;               /* application id */
	const char *competencies; /* borrowed; needs or strengths; may be NULL */
	long free_slots;          /* mentors: places left; ignored for mentees */
};

struct match_suggestion {
	int64_t mentee_id, mentor_id;
	int score;    /* competencies in common */
	char *shared; /* owned: the shared competencies, ", " joined; "" if none */
};

/* Number of competencies in common; *shared_r (may be NULL) gets them,
 * owned by the caller. */
int match_score(const char *needs, const char *strengths, char **shared_r);

/* The caller owns *out_r (match_suggestions_free). */
void match_suggest(const struct match_candidate *mentees, size_t nmentees,
                   const struct match_candidate *mentors, size_t nmentors,
                   struct match_suggestion **out_r, size_t *n_r);
void match_suggestions_free(struct match_suggestion **list, size_t n);

/* Splits a stored list ("A, B; C", one per line also) into trimmed,
 * non-empty items appended to out (which the caller owns), for filling
 * match_person's topics and availability from a form's text. */
void match_split_list(const char *s, struct strvec *out);

/* ---- the assignment solver ---------------------------------------------- */

#define MATCH_NONE ((size_t)-1)

/*
 * Chooses at most one column per row and one row per column so that
 *   1. as many rows as possible are assigned without using a forbidden pair
 *      (a cell equal to `forbidden`), and among those assignments
 *   2. the sum of the chosen costs is the smallest.
 * With no forbidden cell this is min(rows, cols) pairs of least total cost,
 * exactly SciPy's linear_sum_assignment.  A row whose every pair is
 * forbidden (or that loses the competition for the columns it may take)
 * stays unassigned.  rows > cols is fine.
 *
 * Runs of identical adjacent columns (a mentor's k places) are solved as
 * one column taking k rows, which is exact and makes slot duplication
 * cheap; the rows of such a run get its columns in row order.
 *
 * cost: rows x cols, row-major, borrowed.  row_col_r: rows entries, filled
 * with the column of each row or MATCH_NONE; owned by the caller.
 * *total_r (may be NULL): the sum of the chosen costs.
 *
 * Exact integer arithmetic: fails (-1, *error_r) only when the costs are so
 * large that a potential could overflow int64 (|cost| above about
 * 2^61 / rows; with forbidden cells or rows > cols, rows * (max - min)
 * must stay below that too) or rows * cols overflows.  Deterministic;
 * O(rows^2 * cols) in the worst case, much less in practice.
 */
int match_assign(const int64_t *cost, size_t rows, size_t cols, int64_t forbidden,
                 size_t *row_col_r, int64_t *total_r, const char **error_r);

/* ---- people ------------------------------------------------------------- */

#define MATCH_LEVEL_UNKNOWN (-1L)

/* A mentee, a mentor or a team applicant.  Every pointer is borrowed and
 * must stay valid during the call; NULL or "" means not given.  Names
 * (topics, availability, division, addresses) are compared ignoring ASCII
 * case and surrounding spaces. */
struct match_person {
	int64_t id; /* unique within each list */
	const char *email;
	/* Mentee: developmental needs; mentor: strengths; team applicant:
	 * interests.  Competency names of the program's model. */
	const char *const *topics;
	size_t ntopics;
	/* Experience level, >= 0 (e.g. years as manager), or MATCH_LEVEL_UNKNOWN. */
	long level;
	const char *division;
	const char *supervisor; /* the supervisor's address */
	/* When the person is free: tokens such as "Tuesday morning". */
	const char *const *availability;
	size_t navailability;
	long capacity; /* mentors: free places (0 = none); ignored otherwise */
};

/* How a criterion counts. */
enum match_mode {
	MATCH_OFF = 0, /* ignored, and not mentioned in reasons */
	MATCH_PREFER,  /* adds its weight to the score when met */
	MATCH_REQUIRE, /* a pair that fails it is never made; adds its weight when met */
};

/* Two people (by id) who must not be in a team together again
 * (teams), or a mentee and a mentor not paired again (pairs: a rematch). */
struct match_id_pair {
	int64_t a, b;
};

/*
 * The pair score (higher is better), the sum of:
 *   shared        weight_shared * the number of the mentee's needs that the
 *                 mentor lists as strengths.  REQUIRE: at least one.
 *   level         weight_level when the mentor's level exceeds the mentee's
 *                 by at least level_gap.  REQUIRE: a smaller gap is refused.
 *   division      weight_division when the two divisions differ.
 *                 REQUIRE: the same division is refused.
 *   supervisor    weight_supervisor when the two do not share a supervisor.
 *                 REQUIRE: a shared supervisor is refused.  Whenever this
 *                 rule is not OFF, a mentor who is the mentee's supervisor
 *                 (mentee.supervisor == mentor.email) is refused.
 *   availability  weight_availability when they share a free-time token.
 *                 REQUIRE: no shared token is refused.
 * Something not given (a level, a division, an availability list) never
 * refuses a pair and earns no weight; the reason says it was not given.
 * Weights are >= 0.
 *
 * The cost the solver minimises is -score * B + rank(mentee) + rank(mentor)
 * (ranks in id order, B larger than any sum of ranks), refused pairs are
 * forbidden: so the assignment places as many mentees as it can, then has
 * the highest total score, and among equally good ones prefers lower ids
 * (the earlier applications and registrations).
 */
struct match_rules {
	enum match_mode shared_mode;
	long weight_shared;
	enum match_mode level_mode;
	long level_gap; /* mentor level - mentee level must be >= this */
	long weight_level;
	enum match_mode division_mode;
	long weight_division;
	enum match_mode supervisor_mode;
	long weight_supervisor;
	enum match_mode availability_mode;
	long weight_availability;
	/* Units of the level in reasons ("years"/"year"); borrowed; NULL gives
	 * "levels"/"level". */
	const char *level_units, *level_unit;
	/* Pairs refused whatever the rules (a = mentee id, b = mentor id):
	 * a partnership ended by a rematch is not proposed again.  Borrowed. */
	const struct match_id_pair *avoid;
	size_t navoid;
};

enum match_role {
	MATCH_ROLE_MENTEE,
	MATCH_ROLE_MENTOR,
	MATCH_ROLE_MEMBER, /* a team applicant */
};

/* Someone left without a partner or a team. */
struct match_unmatched {
	enum match_role role;
	size_t index; /* into the input list of that role */
	int64_t id;
	char *reason; /* owned; one line, e.g. "no mentor outside Finance has a free place" */
};

struct match_pair {
	size_t mentee, mentor; /* indexes into the inputs */
	int64_t mentee_id, mentor_id;
	int64_t score;
	/* owned; e.g. "shares Communication, Change Leadership; 8 years more
	 * experience; different division; both free Tuesday morning" */
	char *reason;
};

struct match_result {
	struct match_pair *pairs; /* owned; in mentee id order */
	size_t npairs;
	/* owned: mentees not paired (mentee id order), then mentors with a free
	 * place and no mentee (mentor id order) */
	struct match_unmatched *unmatched;
	size_t nunmatched;
	int64_t total_score; /* the sum of the pairs' scores */
};

/* The cost matrix match_pairs solves: rows are mentees in id order, columns
 * are mentor places (each mentor with capacity k gives k adjacent columns),
 * mentors in id order. */
struct match_matrix {
	int64_t *cost; /* owned; rows x cols, row-major */
	size_t rows, cols;
	size_t *row_mentee; /* owned; rows entries, indexes into mentees */
	size_t *col_mentor; /* owned; cols entries, indexes into mentors */
	int64_t forbidden;  /* the cell value of a refused pair */
	int64_t scale;      /* B above: cost = -score * scale + tie-break */
};

/* Fills *matrix_r (the caller owns it: match_matrix_free).  Fails on
 * duplicate ids, negative capacities or weights, or scores too large. */
int match_pair_matrix(const struct match_person *mentees, size_t nmentees,
                      const struct match_person *mentors, size_t nmentors,
                      const struct match_rules *rules, struct match_matrix **matrix_r,
                      const char **error_r);
void match_matrix_free(struct match_matrix **matrix);

/* The optimal pairing of the whole pool.  The caller owns *result_r
 * (match_result_free). */
int match_pairs(const struct match_person *mentees, size_t nmentees,
                const struct match_person *mentors, size_t nmentors,
                const struct match_rules *rules, struct match_result **result_r,
                const char **error_r);
void match_result_free(struct match_result **result);

/* ---- teams -------------------------------------------------------------- */

/*
 * Team sizes: every team has size_min..size_max members; teams above
 * size_preferred_max only when the numbers need it.  CDE: 3, 5 and 4.
 * The number of teams is the smallest with no team above
 * size_preferred_max (sizes as equal as possible), else the largest
 * possible; when no split fits at all (2 people with size_min 3, or 4 people
 * with teams of exactly 3), the last applicants in input order are left out.
 *
 * Quality (higher is better): a team's score is the sum over each pair of
 * its members of
 *     weight_interest * (interests the two share)
 *   - weight_level    * |level difference|   (1 if either level is unknown)
 *   - weight_division * (1 if both are in the same division)
 * and the overall score is the sum of the teams'.  A pair listed in
 * `previous` is never in a team; someone who cannot be placed without one
 * is left out with the reason.  The search is a heuristic: the teams are
 * locally optimal (no swap of two people and no move from a larger to a
 * smaller team improves the score, among teams within 12 of each other in
 * the level order of the construction: all teams up to 25), not
 * necessarily the best split, and
 * with very many previous pairs someone may be left out although a split
 * without repeats exists (the restarts find one in small cases).
 */
struct match_team_rules {
	size_t size_min, size_max, size_preferred_max;
	long weight_interest, weight_level, weight_division;
	const struct match_id_pair *previous; /* borrowed */
	size_t nprevious;
	const char *level_units, *level_unit; /* as in match_rules */
};

struct match_team {
	size_t *members; /* owned; indexes into the input, ascending */
	size_t nmembers;
	int64_t score;
	/* owned; e.g. "levels 3-5; shares Coaching (all 4), Data Analysis (2);
	 * 4 divisions" */
	char *reason;
};

struct match_teams {
	struct match_team *teams; /* owned; ordered by their first member */
	size_t nteams;
	struct match_unmatched *unplaced; /* owned; role MATCH_ROLE_MEMBER, input order */
	size_t nunplaced;
	int64_t score; /* the sum of the teams' scores */
};

/* The caller owns *result_r (match_teams_free).  Fails on duplicate ids,
 * sizes that are not 1 <= size_min <= size_preferred_max <= size_max, or
 * negative weights.  About a second for 10,000 applicants. */
int match_teams(const struct match_person *people, size_t n, const struct match_team_rules *rules,
                struct match_teams **result_r, const char **error_r);
void match_teams_free(struct match_teams **result);

#endif
