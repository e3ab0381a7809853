/*
 * groups: how participants come together and part: the proposal the
 * coordinator sees (the optimal pairs of match_pairs, or the teams of
 * match_teams, each with its reason), making a group real and introducing
 * its members, editing a proposal (move, swap, unmatch), and ending a group
 * (every member told).  Runs inside the caller's store transaction; every
 * function that changes something appends a line saying what it did to
 * out, for the coordinator's answer.
 *
 * A program's unit (program.h) says which kind of group its participants
 * are in: a pair (one member of the first role, one of the second; the
 * second may be in several pairs up to their capacity) or a team (members
 * of one role).  Team proposals are kept in the store as groups with
 * status "proposed", numbered by their group id, so that edits persist
 * between digests; pair suggestions are worked out afresh each time.
 */
#ifndef MENTORD_GROUPS_H
#define MENTORD_GROUPS_H

#include "config.h"
#include "store.h"

#include <time.h>

/* One suggested pair, for the digest: "match A with B   (reason)". */
struct groups_pair {
	int64_t first, second; /* participation ids */
	char *reason;          /* owned */
};

/* The optimal pairs of everyone waiting (the first role accepted or
 * applied, accepted first) with the second role's free places, by the
 * unit's matching rules, and a line for each one left unmatched.  The
 * caller frees *pairs_r with groups_pairs_free. */
int groups_suggest_pairs(const struct config *config, struct store *store,
                         const struct config_program *program, time_t now,
                         struct groups_pair **pairs_r, size_t *n_r, struct strvec *unmatched_r,
                         const char **error_r);
/* When the program's pairs open (group opens = "start + 50%"): before it
 * none is suggested or made; 0 when they are always open. */
time_t groups_pairs_open_at(const struct config_program *program, const struct program_group *g);
void groups_pairs_free(struct groups_pair **pairs, size_t n);

/* Makes a pair of the two participations (the order does not matter), with
 * the checks a coordinator's "match" needs (roles, statuses, capacity),
 * and introduces them.  A refusal is a line in out, not an error.  *id_r
 * (id_r may be NULL) gets the new group's id, 0 when refused. */
int groups_make_pair(const struct config *config, struct store *store,
                     const struct config_program *program, int64_t a, int64_t b, const char *line,
                     const char *reason, time_t now, struct strbuf *out, int64_t *id_r,
                     const char **error_r);

/* The team proposal: made (and kept) when there is none and enough
 * accepted members wait; described in out either way (for the digest).
 * *proposed_r (may be NULL) says whether teams are proposed. */
int groups_propose_teams(const struct config *config, struct store *store,
                         const struct config_program *program, time_t now, struct strbuf *out,
                         bool *proposed_r, const char **error_r);
/* Drops the proposal, so the next one is worked out afresh. */
int groups_discard_proposal(struct store *store, const struct config_program *program,
                            const char **error_r);

/* publish: every proposed team becomes a team and its members are
 * introduced; for pairs, every suggested pair of an accepted mentee is
 * made. */
int groups_publish(const struct config *config, struct store *store,
                   const struct config_program *program, time_t now, struct strbuf *out,
                   const char **error_r);
/* move ID to team N (a proposed team, or an active one, whose members are
 * then introduced again); swap ID with ID; unmatch ID (out of the
 * proposal, or out of a pair). */
int groups_move(const struct config *config, struct store *store,
                const struct config_program *program, int64_t participation, int64_t team,
                const char *line, time_t now, struct strbuf *out, const char **error_r);
int groups_swap(struct store *store, const struct config_program *program, int64_t a, int64_t b,
                const char *line, struct strbuf *out, const char **error_r);
int groups_unmatch(const struct config *config, struct store *store,
                   const struct config_program *program, int64_t participation, const char *line,
                   time_t now, struct strbuf *out, const char **error_r);

/* Ends group id (a coordinator's "end"), every member told; first-role
 * members go back to accepted, to be grouped again. */
int groups_end(const struct config *config, struct store *store,
               const struct config_program *program, int64_t id, const char *line,
               const char *reason, time_t now, struct strbuf *out, const char **error_r);

/* Ends pair id because a partner or the coordinator asked for another
 * (who: "coordinator a@x", "participant b@x", "mentorctl (alice)"), with
 * the reason recorded (the group's end reason, an audit row) but not sent
 * to the partners; the first partner waits for a new one, never the same
 * (groups_suggest_pairs avoids ended pairs).  Returns 0 when it ended,
 * 1 when refused (no such active pair, no reason: said in out, nothing
 * changed), -1 on error. */
int groups_rematch(const struct config *config, struct store *store,
                   const struct config_program *program, int64_t id, const char *who,
                   const char *line, const char *reason, time_t now, struct strbuf *out,
                   const char **error_r);

/* Takes a participation out of its active groups (it withdrew): a pair
 * ends, a team goes on without it (or ends below two members); the others
 * are told.  out gets a line per group. */
int groups_leave(const struct config *config, struct store *store,
                 const struct config_program *program, const struct store_participation *who,
                 const char *reason, time_t now, struct strbuf *out, const char **error_r);

/* The active group of the unit's kind that person is in within program
 * (the one thread_group names, when given and theirs); *found_r false when
 * none. */
int groups_of_sender(struct store *store, const struct config_program *program, int64_t person_id,
                     int64_t thread_group, struct store_group *g_r, bool *found_r,
                     const char **error_r);

/* The member whose turn it is to facilitate in the period'th month of the
 * group (rotation by position); NULL when it has no members. */
const struct store_member *groups_facilitator(const struct store_group *g, long period);

#endif
