/*
 * match_bench: mentord's matching at benchmark size (not a test; run by
 * tests/bench/match_bench.py, which compares it with SciPy).
 *
 *   match_bench [--mentees N] [--places P] [--teams N] [--seed S] --matrix FILE
 *   match_bench --solve FILE
 *
 * 1. Generates N mentees and mentors offering P places in all (capacities
 *    1..5) from the California leadership competency model, 12 divisions,
 *    300 supervisors and 10 half-day slots; builds the cost matrix that
 *    match_pairs solves (CDSS-like rules: shared needs weighted, a 3-level
 *    gap preferred, other divisions and supervisors required, shared free
 *    time preferred) and writes it to FILE: three little-endian int64
 *    (rows, cols, the forbidden value), then rows x cols int64, row-major.
 * 2. Times match_assign on that matrix, and match_pairs end to end.
 * 3. Generates the team applicants (levels, interests, divisions, and the
 *    pairs of a previous round: the first 60% in teams of 4) and times
 *    match_teams with the CDE sizes (3, preferred at most 4, 5 allowed),
 *    checking every team's size and that no previous pair meets again.
 *
 * With --solve, reads a matrix in that format (e.g. random costs written by
 * match_bench.py) and times match_assign on it alone.
 *
 * Prints `key value` lines.  Deterministic for a given seed.
 */
#include "match.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const competencies[] = {
    "Communication",
    "Interpersonal Skills",
    "Team Leadership",
    "Conflict Management",
    "Change Leadership",
    "Vision and Strategic Thinking",
    "Flexibility",
    "Global Perspective",
    "Organizational Awareness",
    "Analytical Thinking",
    "Decision Making",
    "Customer Focus",
    "Planning and Organizing",
    "Thoroughness",
    "Forward Thinking",
    "Results Orientation",
    "Ethics and Integrity",
    "Personal Credibility",
    "Fostering Diversity",
    "Workforce Management",
    "Developing Others",
    "Influencing Others",
    "Relationship Building",
};
#define NCOMP (sizeof(competencies) / sizeof(competencies[0]))

static const char *const divisions[] = {
    "Finance",
    "Children and Family Services",
    "Adult Programs",
    "Legal",
    "Information Systems",
    "Human Resources",
    "Audits",
    "Community Care Licensing",
    "Disability Determination",
    "Administration",
    "Welfare to Work",
    "Research",
};
#define NDIV (sizeof(divisions) / sizeof(divisions[0]))

static const char *const slots[] = {
    "Monday morning",    "Monday afternoon",    "Tuesday morning",  "Tuesday afternoon",
    "Wednesday morning", "Wednesday afternoon", "Thursday morning", "Thursday afternoon",
    "Friday morning",    "Friday afternoon",
};
#define NSLOT (sizeof(slots) / sizeof(slots[0]))
#define NSUPERVISORS 300

static uint64_t rng_state;

/* splitmix64 */
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

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* k distinct names of list[0..n) into out (k <= n). */
static void
pick(const char *const *list, size_t n, size_t k, const char **out)
{
	size_t idx[32];

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; i < k; i++) {
		size_t j = i + below(n - i), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		out[i] = list[idx[i]];
	}
}

struct people {
	struct match_person *p;
	const char **names; /* topics and availability of everyone */
	char **strings;     /* owned addresses */
	size_t n, nstrings;
};

static void
people_free(struct people *pp)
{
	for (size_t i = 0; i < pp->nstrings; i++)
		free(pp->strings[i]);
	free(pp->strings);
	free(pp->names);
	free(pp->p);
}

static char *
address(struct people *pp, const char *who, size_t k)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s%zu@example.org", who, k);
	pp->strings[pp->nstrings] = strdup(buf);
	return pp->strings[pp->nstrings++];
}

/* role 0: mentees, 1: mentors, 2: team applicants. */
static void
generate(struct people *pp, size_t n, int role, size_t places)
{
	size_t left = places;

	pp->n = n;
	pp->p = calloc(n + 1, sizeof(*pp->p));
	pp->names = calloc(n * 16 + 1, sizeof(*pp->names));
	pp->strings = calloc(2 * n + 1, sizeof(*pp->strings));
	pp->nstrings = 0;
	for (size_t i = 0; i < n; i++) {
		struct match_person *p = &pp->p[i];
		const char **names = pp->names + i * 16;
		size_t nt = role == 1 ? 3 + below(5) : 2 + below(4), na = 2 + below(4);

		pick(competencies, NCOMP, nt, names);
		pick(slots, NSLOT, na, names + 8);
		p->id = (int64_t)(role * 1000000 + i + 1);
		p->topics = names;
		p->ntopics = nt;
		p->availability = names + 8;
		p->navailability = na;
		p->division = divisions[below(NDIV)];
		p->level = role == 0   ? (long)below(11)
		           : role == 1 ? 5 + (long)below(26)
		                       : (long)below(26);
		if (role == 2 && below(50) == 0)
			p->level = MATCH_LEVEL_UNKNOWN;
		if (role == 1) {
			p->email = address(pp, "supervisor", i);
			p->capacity = (long)(1 + below(5));
			if ((size_t)p->capacity > left || i + 1 == n)
				p->capacity = (long)left;
			left -= (size_t)p->capacity;
		} else {
			p->email = address(pp, "person", i);
		}
		p->supervisor = address(pp, "supervisor", below(NSUPERVISORS));
	}
}

/* --solve: the matrix from a file, solved and timed. */
static int
solve_file(const char *path)
{
	int64_t head[3], *cost = NULL, total, sum = 0;
	size_t *row_col = NULL, rows, cols, assigned = 0;
	const char *error;
	double t0, t1;
	FILE *f = fopen(path, "rb");
	int ret = 1;

	if (f == NULL || fread(head, sizeof(head[0]), 3, f) != 3 || head[0] < 0 || head[1] < 0) {
		perror(path);
		goto out;
	}
	rows = (size_t)head[0];
	cols = (size_t)head[1];
	cost = malloc(rows * cols * sizeof(*cost) + 1);
	row_col = malloc(rows * sizeof(*row_col) + 1);
	if (cost == NULL || row_col == NULL ||
	    fread(cost, sizeof(*cost), rows * cols, f) != rows * cols) {
		perror(path);
		goto out;
	}
	/* One pass before the clock starts, as the solver's caller would have
	 * just written the matrix (on some virtual machines the first user
	 * access to pages the kernel filled faults again). */
	for (size_t x = 0; x < rows * cols; x++)
		sum += cost[x];
	t0 = now();
	if (match_assign(cost, rows, cols, head[2], row_col, &total, &error) < 0) {
		fprintf(stderr, "match_bench: %s\n", error);
		goto out;
	}
	t1 = now();
	for (size_t r = 0; r < rows; r++)
		assigned += row_col[r] != MATCH_NONE;
	printf("solve_seconds %.6f\nsolve_total %" PRId64
	       "\nsolve_rows %zu\nsolve_checksum %" PRId64 "\n",
	       t1 - t0, total, assigned, sum);
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	free(cost);
	free(row_col);
	return ret;
}

int
main(int argc, char **argv)
{
	size_t nmentees = 3000, places = 3000, nteam = 10000, row_assigned = 0;
	const char *matrix_path = NULL, *error;
	struct people mentees = {0}, mentors = {0}, applicants = {0};
	struct match_rules rules = {
	    .shared_mode = MATCH_PREFER,
	    .weight_shared = 10,
	    .level_mode = MATCH_PREFER,
	    .level_gap = 3,
	    .weight_level = 5,
	    .division_mode = MATCH_REQUIRE,
	    .weight_division = 3,
	    .supervisor_mode = MATCH_REQUIRE,
	    .weight_supervisor = 2,
	    .availability_mode = MATCH_PREFER,
	    .weight_availability = 4,
	    .level_units = "years",
	    .level_unit = "year",
	};
	struct match_team_rules team_rules = {
	    .size_min = 3,
	    .size_max = 5,
	    .size_preferred_max = 4,
	    .weight_interest = 3,
	    .weight_level = 2,
	    .weight_division = 4,
	};
	struct match_matrix *mx = NULL;
	struct match_result *res = NULL;
	struct match_teams *teams = NULL;
	struct match_id_pair *previous = NULL;
	size_t *row_col = NULL, nmentors, nprev = 0, sizes[8] = {0}, bad = 0, placed = 0;
	int64_t total;
	double t0, t1;
	FILE *f;
	int ret = 1;

	rng_state = 20261101;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--mentees") == 0)
			nmentees = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--places") == 0)
			places = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--teams") == 0)
			nteam = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
			rng_state = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--matrix") == 0)
			matrix_path = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--solve") == 0)
			return solve_file(argv[i + 1]);
		else {
			fprintf(stderr,
			        "usage: %s [--mentees N] [--places P] [--teams N] "
			        "[--seed S] --matrix FILE\n",
			        argv[0]);
			return 2;
		}
	}
	if (matrix_path == NULL || places == 0) {
		fprintf(stderr, "match_bench: --matrix FILE is needed, and places > 0\n");
		return 2;
	}

	/* 1. The people and the matrix. */
	nmentors = places;
	generate(&mentees, nmentees, 0, 0);
	generate(&mentors, nmentors, 1, places);
	while (nmentors > 0 && mentors.p[nmentors - 1].capacity == 0)
		nmentors--;
	t0 = now();
	if (match_pair_matrix(mentees.p, nmentees, mentors.p, nmentors, &rules, &mx, &error) < 0) {
		fprintf(stderr, "match_bench: %s\n", error);
		goto out;
	}
	t1 = now();
	printf("matrix_rows %zu\nmatrix_cols %zu\nmentors %zu\nmatrix_seconds %.6f\n", mx->rows,
	       mx->cols, nmentors, t1 - t0);
	f = fopen(matrix_path, "wb");
	if (f == NULL) {
		perror(matrix_path);
		goto out;
	}
	{
		int64_t head[3] = {(int64_t)mx->rows, (int64_t)mx->cols, mx->forbidden};

		if (fwrite(head, sizeof(head[0]), 3, f) != 3 ||
		    fwrite(mx->cost, sizeof(*mx->cost), mx->rows * mx->cols, f) !=
		        mx->rows * mx->cols ||
		    fclose(f) != 0) {
			perror(matrix_path);
			goto out;
		}
	}

	/* 2. The solver alone, then match_pairs end to end. */
	row_col = malloc((mx->rows + 1) * sizeof(*row_col));
	t0 = now();
	if (match_assign(mx->cost, mx->rows, mx->cols, mx->forbidden, row_col, &total, &error) <
	    0) {
		fprintf(stderr, "match_bench: %s\n", error);
		goto out;
	}
	t1 = now();
	for (size_t r = 0; r < mx->rows; r++)
		row_assigned += row_col[r] != MATCH_NONE;
	printf("assign_seconds %.6f\nassign_total %" PRId64 "\nassign_rows %zu\n", t1 - t0, total,
	       row_assigned);
	t0 = now();
	if (match_pairs(mentees.p, nmentees, mentors.p, nmentors, &rules, &res, &error) < 0) {
		fprintf(stderr, "match_bench: %s\n", error);
		goto out;
	}
	t1 = now();
	printf("pairs_seconds %.6f\npairs %zu\npairs_unmatched %zu\npairs_score %" PRId64 "\n",
	       t1 - t0, res->npairs, res->nunmatched, res->total_score);
	if (res->npairs > 0)
		printf("pairs_example %lld-%lld: %s\n", (long long)res->pairs[0].mentee_id,
		       (long long)res->pairs[0].mentor_id, res->pairs[0].reason);
	if (res->nunmatched > 0)
		printf("pairs_unmatched_example %lld: %s\n", (long long)res->unmatched[0].id,
		       res->unmatched[0].reason);

	/* 3. Teams, with a previous round's pairs. */
	generate(&applicants, nteam, 2, 0);
	previous = calloc(nteam * 6 / 4 + 1, sizeof(*previous));
	for (size_t base = 0; base + 4 <= nteam * 6 / 10; base += 4)
		for (size_t a = 0; a < 4; a++)
			for (size_t b = a + 1; b < 4; b++) {
				previous[nprev].a = applicants.p[base + a].id;
				previous[nprev].b = applicants.p[base + b].id;
				nprev++;
			}
	team_rules.previous = previous;
	team_rules.nprevious = nprev;
	t0 = now();
	if (match_teams(applicants.p, nteam, &team_rules, &teams, &error) < 0) {
		fprintf(stderr, "match_bench: %s\n", error);
		goto out;
	}
	t1 = now();
	for (size_t t = 0; t < teams->nteams; t++) {
		const struct match_team *tm = &teams->teams[t];

		placed += tm->nmembers;
		if (tm->nmembers < team_rules.size_min || tm->nmembers > team_rules.size_max)
			bad++;
		else
			sizes[tm->nmembers]++;
		/* Members of one previous team are base..base+3 in input order. */
		for (size_t a = 0; a < tm->nmembers; a++)
			for (size_t b = a + 1; b < tm->nmembers; b++) {
				size_t x = tm->members[a], y = tm->members[b];

				if (x / 4 == y / 4 && y < nteam * 6 / 10 / 4 * 4)
					bad++;
			}
	}
	printf("teams_seconds %.6f\nteams_people %zu\nteams %zu\nteams_placed %zu\n"
	       "teams_unplaced %zu\nteams_of_3 %zu\nteams_of_4 %zu\nteams_of_5 %zu\n"
	       "teams_score %" PRId64 "\nteams_previous_pairs %zu\nteams_violations %zu\n",
	       t1 - t0, nteam, teams->nteams, placed, teams->nunplaced, sizes[3], sizes[4],
	       sizes[5], teams->score, nprev, bad);
	if (teams->nteams > 0)
		printf("teams_example %s\n", teams->teams[0].reason);
	ret = bad == 0 && placed + teams->nunplaced == nteam ? 0 : 1;
out:
	match_matrix_free(&mx);
	match_result_free(&res);
	match_teams_free(&teams);
	free(row_col);
	free(previous);
	people_free(&mentees);
	people_free(&mentors);
	people_free(&applicants);
	return ret;
}
