/*
 * match: suggesting mentor-mentee pairs, with the reason for each (pure).
 *
 * A mentee's developmental needs are compared with each mentor's strengths
 * (competency names, as the forms store them: ", " separated, compared
 * case-insensitively).  Mentees are served in application order; each gets
 * the mentor with free capacity who shares the most competencies (ties go
 * to the mentor with more free places, then the earlier registration).  The
 * coordinator decides: suggestions only appear in the digest as ready-made
 * "match A with B" lines.
 */
#ifndef MENTORD_MATCH_H
#define MENTORD_MATCH_H

#include <stddef.h>
#include <stdint.h>

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

#endif
