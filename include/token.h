/*
 * token: signed reply tokens for plus addressing (mentoring+TOKEN@example.org).
 *
 * A token names an outgoing thread (the outbox row id) and the person it was
 * sent to, signed with HMAC-SHA256 (GnuTLS) over both with a configured
 * secret, truncated to 80 bits and base32-encoded (lower case, so it survives
 * case-folding mail systems).  Every email mentord sends goes to one person
 * and carries their token, so a reply whose token verifies comes from
 * someone who read that person's email (README "Whose message is it").
 */
#ifndef MENTORD_TOKEN_H
#define MENTORD_TOKEN_H

#include <stdint.h>

/* "t<thread>p<person>k<mac>"; the caller owns the result. */
char *token_make(const char *secret, int64_t thread_id, int64_t person_id);
/* 0 and the ids when token is well-formed and its MAC verifies (constant time);
 * -1 otherwise. */
int token_verify(const char *secret, const char *token, int64_t *thread_id_r, int64_t *person_id_r);
/* A bounce token "b<outbox>p<person>k<mac>" for a VERP return path
 * (mentoring+b12p3k...@example.org): a bounce sent to it is tied to that
 * email and that recipient.  Signed apart from reply tokens, so one can
 * never pass for the other.  The caller owns the result. */
char *token_make_bounce(const char *secret, int64_t outbox_id, int64_t person_id);
int token_verify_bounce(const char *secret, const char *token, int64_t *outbox_id_r,
                        int64_t *person_id_r);
/* Builds local+token@domain from an address local@domain; caller owns it. */
char *token_address(const char *addr, const char *token);
/* Extracts the token from local+token@domain, or NULL; caller owns it. */
char *token_from_address(const char *addr);

#endif
