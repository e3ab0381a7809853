/*
 * command: the grammar of commands people send by email (pure).
 *
 * Coordinator commands, one per line, case-insensitive, anywhere in the new
 * text of a reply (quoted lines are removed before parsing):
 *   accept ID [note...]          accept application ID into the class
 *   decline ID [reason...]       decline application ID, reason sent on
 *   pool ID                      keep application ID for a later class
 *   match ID with ID             pair mentee application with mentor application
 *   end GROUP [reason...]        end a partnership or team
 *   rematch PAIR reason...       end a pair so its first partner gets another
 *   mentor EMAIL NAME...         register a mentor (strengths via the mentor form)
 *   publish                      make the proposed teams (or pairs) real
 *   propose                      work out the proposal again
 *   move ID to [team] N          move person ID to proposed team N
 *   swap ID [with] ID            swap two people between proposed teams
 *   unmatch ID [reason]          take person ID out of the proposal
 *   digest                       send the digest now
 *   help                         send the command list
 * Participant commands:
 *   met DATE [DURATION] [note...]  report a meeting; DATE is YYYY-MM-DD,
 *                                  "today" or "yesterday"; DURATION like
 *                                  2h, 90m, 1.5h, 2 hours, 1h30
 *   withdraw [reason...]
 *   rematch reason...              end my pair; propose me another partner
 *   stop                           no more periodic mail (a digest), and
 *                                  not listed in others'; alone on a line
 *   start                          again after stop; alone on a line
 * "#12" is accepted for "12".  A line that does not start with a verb is not
 * a command (so ordinary prose is ignored); a line that starts with a verb
 * but is malformed is an error with a clear message.
 */
#ifndef MENTORD_COMMAND_H
#define MENTORD_COMMAND_H

#include "util.h"

#include <time.h>

enum command_verb {
	CMD_ACCEPT = 1,
	CMD_DECLINE,
	CMD_POOL,
	CMD_MATCH,
	CMD_END,
	CMD_MENTOR,
	CMD_DIGEST,
	CMD_HELP,
	CMD_MET,
	CMD_WITHDRAW,
	CMD_UNMATCH,
	CMD_PUBLISH,
	CMD_MOVE,
	CMD_SWAP,
	CMD_PROPOSE,
	CMD_STOP,     /* a participant: no more step mail, and not listed */
	CMD_START,    /* a participant: again after stop */
	CMD_ATTENDED, /* a coordinator: "attended SESSION ADDRESS..." (text) */
	CMD_ABSENT,   /* a coordinator: "absent SESSION ADDRESS..." (text) */
	CMD_REMATCH,  /* "rematch [PAIR] REASON": a coordinator names the pair,
	               * a partner their own; the reason is required */
};

struct command {
	enum command_verb verb;
	long id;       /* ACCEPT, DECLINE, POOL, MATCH (mentee), END, UNMATCH, MOVE, SWAP,
	                * REMATCH (0 when not given) */
	long id2;      /* MATCH: mentor; MOVE: the team; SWAP: the other person */
	char date[11]; /* MET: YYYY-MM-DD */
	int minutes;   /* MET: 0 when not given */
	char *text;    /* owned: note, reason, MENTOR email+name; NULL when none */
	char *line;    /* owned: the line as written, for replies */
};

struct command_list {
	struct command *cmds; /* owned */
	size_t n;
	struct strvec errors; /* "line 3: match needs two numbers: match 12 with 4" */
};

/* Parses one line.  Returns 1 and fills *cmd_r (caller frees with
 * command_clear) when it is a command, 0 when the line is not a command, -1
 * when it starts with a verb but is malformed (reason in error_r).  now gives
 * "today" and "yesterday" in local time. */
int command_parse_line(const char *line, time_t now, struct command *cmd_r, const char **error_r);

/* Parses every line of text.  The caller owns *list_r (command_list_free). */
void command_parse_text(const char *text, time_t now, struct command_list **list_r);

/* A duration as met takes it ("2h", "90m", "1.5 hours", "1h30") in
 * minutes; -1 when s is none. */
int command_parse_duration(const char *s, int *minutes_r);

const char *command_verb_name(enum command_verb verb);
bool command_is_coordinator_only(enum command_verb verb);
void command_clear(struct command *cmd);
void command_list_free(struct command_list **list);

#endif
