/* match: see include/match.h. */
#include "match.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Splits "A, B; C" into trimmed items. */
static void
split_list(const char *s, struct strvec *out)
{
	char *copy, *save = NULL;

	if (s == NULL)
		return;
	copy = xstrdup(s);
	for (char *t = strtok_r(copy, ",;\n", &save); t != NULL;
	     t = strtok_r(NULL, ",;\n", &save)) {
		str_trim(t);
		if (*t != '\0')
			strvec_push(out, t);
	}
	free(copy);
}

int
match_score(const char *needs, const char *strengths, char **shared_r)
{
	struct strvec a = {0}, b = {0}, shared = {0};
	int score;

	split_list(needs, &a);
	split_list(strengths, &b);
	for (size_t i = 0; i < a.n; i++)
		if (strvec_contains_ci(&b, a.v[i]) && !strvec_contains_ci(&shared, a.v[i]))
			strvec_push(&shared, a.v[i]);
	score = (int)shared.n;
	if (shared_r != NULL)
		*shared_r = strvec_join(&shared, ", ");
	strvec_free(&a);
	strvec_free(&b);
	strvec_free(&shared);
	return score;
}

void
match_suggest(const struct match_candidate *mentees, size_t nmentees,
              const struct match_candidate *mentors, size_t nmentors,
              struct match_suggestion **out_r, size_t *n_r)
{
	struct match_suggestion *out = NULL;
	long *left = xcalloc(nmentors == 0 ? 1 : nmentors, sizeof(*left));
	size_t n = 0, cap = 0;

	for (size_t j = 0; j < nmentors; j++)
		left[j] = mentors[j].free_slots;
	for (size_t i = 0; i < nmentees; i++) {
		size_t best = nmentors;
		int best_score = -1;

		for (size_t j = 0; j < nmentors; j++) {
			int s;

			if (left[j] <= 0)
				continue;
			s = match_score(mentees[i].competencies, mentors[j].competencies, NULL);
			if (s > best_score || (s == best_score && left[j] > left[best])) {
				best = j;
				best_score = s;
			}
		}
		if (best == nmentors)
			break; /* no mentor has a free place */
		left[best]--;
		out = xgrow(out, &cap, n + 1, sizeof(*out));
		out[n].mentee_id = mentees[i].id;
		out[n].mentor_id = mentors[best].id;
		out[n].score = match_score(mentees[i].competencies, mentors[best].competencies,
		                           &out[n].shared);
		n++;
	}
	free(left);
	*out_r = out;
	*n_r = n;
}

void
match_suggestions_free(struct match_suggestion **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].shared);
	free(*list);
	*list = NULL;
}
