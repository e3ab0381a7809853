/* Unit tests for command: every verb, every syntax, every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "command.h"

/* 2026-11-21 10:00 UTC, a Saturday. */
static const time_t now = 1795255200;

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* Parses a line that must be a command; the caller clears *cmd. */
static void
ok(const char *line, struct command *cmd)
{
	const char *error = NULL;
	int r = command_parse_line(line, now, cmd, &error);

	if (r != 1)
		print_error("\"%s\": %d %s\n", line, r, error != NULL ? error : "");
	assert_int_equal(r, 1);
}

static void
bad(const char *line, const char *want)
{
	struct command cmd;
	const char *error = NULL;
	int r = command_parse_line(line, now, &cmd, &error);

	if (r != -1)
		print_error("\"%s\" gave %d\n", line, r);
	assert_int_equal(r, -1);
	assert_non_null(error);
	assert_string_equal(error, want);
	assert_null(cmd.text);
	assert_null(cmd.line);
}

static void
not_command(const char *line)
{
	struct command cmd;
	const char *error = NULL;

	assert_int_equal(command_parse_line(line, now, &cmd, &error), 0);
	assert_null(cmd.line);
}

static void
test_id_verbs(void **state)
{
	struct command cmd;

	(void)state;
	ok("accept 12", &cmd);
	assert_int_equal(cmd.verb, CMD_ACCEPT);
	assert_int_equal(cmd.id, 12);
	assert_null(cmd.text);
	assert_string_equal(cmd.line, "accept 12");
	command_clear(&cmd);

	ok("  - ACCEPT #12, strong candidate  \r", &cmd);
	assert_int_equal(cmd.verb, CMD_ACCEPT);
	assert_int_equal(cmd.id, 12);
	assert_string_equal(cmd.text, "strong candidate");
	assert_string_equal(cmd.line, "- ACCEPT #12, strong candidate");
	command_clear(&cmd);

	ok("Decline 7 not enough management experience yet", &cmd);
	assert_int_equal(cmd.verb, CMD_DECLINE);
	assert_int_equal(cmd.id, 7);
	assert_string_equal(cmd.text, "not enough management experience yet");
	command_clear(&cmd);

	ok("Accept 12.", &cmd);
	assert_int_equal(cmd.id, 12);
	assert_null(cmd.text);
	command_clear(&cmd);

	ok("1. pool #3", &cmd);
	assert_int_equal(cmd.verb, CMD_POOL);
	assert_int_equal(cmd.id, 3);
	command_clear(&cmd);

	ok("end 5: schedules did not fit", &cmd);
	assert_int_equal(cmd.verb, CMD_END);
	assert_int_equal(cmd.id, 5);
	assert_string_equal(cmd.text, "schedules did not fit");
	command_clear(&cmd);

	/* unmatch names a person (an application), not a group: out of a
	 * proposed team, or out of their pair. */
	ok("unmatch 5 prefers the spring class", &cmd);
	assert_int_equal(cmd.verb, CMD_UNMATCH);
	assert_int_equal(cmd.id, 5);
	assert_string_equal(cmd.text, "prefers the spring class");
	command_clear(&cmd);

	ok("move #14 to team 3", &cmd);
	assert_int_equal(cmd.verb, CMD_MOVE);
	assert_int_equal(cmd.id, 14);
	assert_int_equal(cmd.id2, 3);
	command_clear(&cmd);

	ok("Move 14 to 3", &cmd);
	assert_int_equal(cmd.verb, CMD_MOVE);
	assert_int_equal(cmd.id2, 3);
	command_clear(&cmd);

	ok("swap 14 with #9", &cmd);
	assert_int_equal(cmd.verb, CMD_SWAP);
	assert_int_equal(cmd.id, 14);
	assert_int_equal(cmd.id2, 9);
	command_clear(&cmd);

	ok("swap 14 9", &cmd);
	assert_int_equal(cmd.id2, 9);
	command_clear(&cmd);

	ok("Publish", &cmd);
	assert_int_equal(cmd.verb, CMD_PUBLISH);
	assert_true(command_is_coordinator_only(cmd.verb));
	command_clear(&cmd);

	ok("propose", &cmd);
	assert_int_equal(cmd.verb, CMD_PROPOSE);
	command_clear(&cmd);

	bad("accept", "accept needs an application number, e.g. accept 12");
	bad("accept twelve", "accept needs an application number, e.g. accept 12");
	bad("accept 12abc", "accept needs an application number, e.g. accept 12");
	bad("accept #0", "accept needs an application number, e.g. accept 12");
	bad("accept 1234567890", "accept needs an application number, e.g. accept 12");
	bad("decline", "decline needs an application number, e.g. decline 12 not enough "
	               "experience yet");
	bad("pool x", "pool needs an application number, e.g. pool 12");
	bad("end it", "end needs a partnership or team number, e.g. end 7 schedules did not fit");
	bad("unmatch Ana", "unmatch needs a person's number, e.g. unmatch 14");
	bad("move 14", "move needs a person's number and a team's, e.g. move 14 to team 3");
	bad("move 14 to the blue team",
	    "move needs a person's number and a team's, e.g. move 14 to team 3");
	bad("swap 14", "swap needs two people's numbers, e.g. swap 14 with 15");
	bad("swap 14 with 14", "swap needs two different people, e.g. swap 14 with 15");
	bad("publish now", "publish takes nothing after it; write just: publish");
	bad("propose again please", "propose takes nothing after it; write just: propose");
}

static void
test_match(void **state)
{
	static const char *const forms[] = {"match 12 with 4", "match 12 4",     "match #12 to #4",
	                                    "Match 12, 4",     "match 12 and 4", "MATCH: #12 -> 4",
	                                    "* match 12 & 4"};
	struct command cmd;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(forms); i++) {
		ok(forms[i], &cmd);
		assert_int_equal(cmd.verb, CMD_MATCH);
		assert_int_equal(cmd.id, 12);
		assert_int_equal(cmd.id2, 4);
		assert_null(cmd.text);
		command_clear(&cmd);
	}
	ok("match 12 with 4 both in Sacramento", &cmd);
	assert_string_equal(cmd.text, "both in Sacramento");
	command_clear(&cmd);
	bad("match 12", "match needs two application numbers, e.g. match 12 with 4");
	bad("match 12 with Ana", "match needs two application numbers, e.g. match 12 with 4");
	bad("match ana with bo", "match needs two application numbers, e.g. match 12 with 4");
	bad("match 4 with 4",
	    "match needs two different application numbers, e.g. match 12 with 4");
}

static void
test_mentor_and_simple(void **state)
{
	struct command cmd;

	(void)state;
	ok("mentor Ana@X.org Ana Ruiz", &cmd);
	assert_int_equal(cmd.verb, CMD_MENTOR);
	assert_string_equal(cmd.text, "ana@x.org Ana Ruiz");
	command_clear(&cmd);
	ok("mentor <mailto:bo@x.org> Bo Lee", &cmd);
	assert_string_equal(cmd.text, "bo@x.org Bo Lee");
	command_clear(&cmd);
	bad("mentor ana@x.org", "mentor needs an email address and a name, e.g. mentor "
	                        "ana@x.org Ana Ruiz");
	bad("mentor Ana Ruiz", "mentor needs an email address and a name, e.g. mentor "
	                       "ana@x.org Ana Ruiz");
	bad("mentor", "mentor needs an email address and a name, e.g. mentor ana@x.org Ana Ruiz");

	ok("digest", &cmd);
	assert_int_equal(cmd.verb, CMD_DIGEST);
	command_clear(&cmd);
	ok("Help.", &cmd);
	assert_int_equal(cmd.verb, CMD_HELP);
	command_clear(&cmd);
	bad("help me with this", "help takes nothing after it; write just: help");
	bad("digest now please", "digest takes nothing after it; write just: digest");

	ok("withdraw", &cmd);
	assert_int_equal(cmd.verb, CMD_WITHDRAW);
	assert_null(cmd.text);
	command_clear(&cmd);
	ok("Withdraw - I changed jobs", &cmd);
	assert_string_equal(cmd.text, "I changed jobs");
	command_clear(&cmd);

	/* rematch: a reason always; a coordinator names the pair. */
	ok("rematch our goals do not fit", &cmd);
	assert_int_equal(cmd.verb, CMD_REMATCH);
	assert_int_equal(cmd.id, 0);
	assert_string_equal(cmd.text, "our goals do not fit");
	assert_false(command_is_coordinator_only(cmd.verb));
	command_clear(&cmd);
	ok("Rematch #7: schedules never fit", &cmd);
	assert_int_equal(cmd.id, 7);
	assert_string_equal(cmd.text, "schedules never fit");
	command_clear(&cmd);
	bad("rematch", "rematch needs a reason, e.g. rematch our goals differ (a coordinator: "
	               "rematch 7 their goals differ)");
	bad("rematch 7", "rematch needs a reason, e.g. rematch our goals differ (a coordinator: "
	                 "rematch 7 their goals differ)");

	/* stop and start stand alone: anything after them is prose. */
	ok("STOP", &cmd);
	assert_int_equal(cmd.verb, CMD_STOP);
	command_clear(&cmd);
	ok("  start.", &cmd);
	assert_int_equal(cmd.verb, CMD_START);
	command_clear(&cmd);
	not_command("Stop by my office on Tuesday");
	not_command("Start date: 2027-03-01");
}

static void
test_met(void **state)
{
	static const struct {
		const char *line, *date;
		int minutes;
		const char *text;
	} cases[] = {
	    {"met 2026-11-20 2h", "2026-11-20", 120, NULL},
	    {"met today 90m", "2026-11-21", 90, NULL},
	    {"met yesterday 1.5 hours", "2026-11-20", 90, NULL},
	    {"met 2026-11-20 for 2 hours", "2026-11-20", 120, NULL},
	    {"met 20 Nov 2026 2h", "2026-11-20", 120, NULL},
	    {"met November 3, 2026 45 min", "2026-11-03", 45, NULL},
	    {"met on 2026-11-20 2 h", "2026-11-20", 120, NULL},
	    {"met 2026-11-20 1h30 talked about delegation", "2026-11-20", 90,
	     "talked about delegation"},
	    {"met 2026-11-20 1h30m", "2026-11-20", 90, NULL},
	    {"met 2026-11-20 1h 15min", "2026-11-20", 75, NULL},
	    {"met 2026-11-20 1:30", "2026-11-20", 90, NULL},
	    {"met 2026-11-20 1,5h", "2026-11-20", 90, NULL},
	    {"met 2026-11-20 2hrs, good talk", "2026-11-20", 120, "good talk"},
	    {"met 2026-11-20 90 minutes", "2026-11-20", 90, NULL},
	    {"met 2026-11-20", "2026-11-20", 0, NULL},
	    {"met yesterday - we walked", "2026-11-20", 0, "we walked"},
	    {"Met: Today, 1 hour", "2026-11-21", 60, NULL},
	    {"met 2026-11-22 1h", "2026-11-22", 60, NULL}, /* tomorrow: time zones */
	    {"met 2026-11-20 24h", "2026-11-20", 1440, NULL},
	};
	struct command cmd;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		ok(cases[i].line, &cmd);
		assert_int_equal(cmd.verb, CMD_MET);
		assert_string_equal(cmd.date, cases[i].date);
		if (cmd.minutes != cases[i].minutes)
			print_error("%s\n", cases[i].line);
		assert_int_equal(cmd.minutes, cases[i].minutes);
		if (cases[i].text == NULL)
			assert_null(cmd.text);
		else
			assert_string_equal(cmd.text, cases[i].text);
		command_clear(&cmd);
	}
	bad("met", "met needs a date (YYYY-MM-DD, today or yesterday), e.g. met 2026-11-20 2h or "
	           "met today 90m");
	bad("met with Ana on Tuesday", "met needs a date (YYYY-MM-DD, today or yesterday), e.g. "
	                               "met 2026-11-20 2h or met today 90m");
	bad("met 2026-02-30 1h", "met needs a date (YYYY-MM-DD, today or yesterday), e.g. met "
	                         "2026-11-20 2h or met today 90m");
	bad("met 2026-11-23 1h", "met 2026-11-23: that date is in the future");
	bad("met 2027-01-01", "met 2027-01-01: that date is in the future");
	bad("met 2026-11-20 25h",
	    "met: a meeting cannot last more than 24 hours; write the duration like 2h or 90m");
	bad("met 2026-11-20 1500 minutes",
	    "met: a meeting cannot last more than 24 hours; write the duration like 2h or 90m");
	bad("met 2026-11-20 2", "met: cannot read the duration; write it like 2h, 90m, 1.5 hours "
	                        "or 1h30, e.g. met 2026-11-20 2h");
	bad("met today 3 topics", "met: cannot read the duration; write it like 2h, 90m, 1.5 "
	                          "hours or 1h30, e.g. met 2026-11-21 2h");
	bad("met 2026-11-20 1:75", "met: cannot read the duration; write it like 2h, 90m, 1.5 "
	                           "hours or 1h30, e.g. met 2026-11-20 2h");
	bad("met 2026-11-20 0h",
	    "met: the duration must be more than zero, e.g. met 2026-11-20 90m");
}

static void
test_not_commands(void **state)
{
	(void)state;
	not_command("");
	not_command("Thanks, see you next week!");
	not_command("> accept 12");
	not_command("   >> match 1 with 2");
	not_command("Accepted, thank you");
	not_command("matches are great");
	not_command("helpful advice");
	not_command("123");
	not_command("\xff\xfe accept 1");
}

static void
test_verbs(void **state)
{
	(void)state;
	assert_string_equal(command_verb_name(CMD_ACCEPT), "accept");
	assert_string_equal(command_verb_name(CMD_END), "end");
	assert_string_equal(command_verb_name(CMD_WITHDRAW), "withdraw");
	assert_true(command_is_coordinator_only(CMD_MATCH));
	assert_true(command_is_coordinator_only(CMD_MENTOR));
	assert_true(command_is_coordinator_only(CMD_DIGEST));
	assert_false(command_is_coordinator_only(CMD_MET));
	assert_false(command_is_coordinator_only(CMD_WITHDRAW));
	assert_false(command_is_coordinator_only(CMD_HELP));
	assert_false(command_is_coordinator_only(CMD_STOP));
	assert_false(command_is_coordinator_only(CMD_START));
	assert_string_equal(command_verb_name(CMD_STOP), "stop");
}

static void
test_parse_text(void **state)
{
	struct command_list *list = NULL;

	(void)state;
	command_parse_text("Hi,\r\n"
	                   "\r\n"
	                   "accept 12\r\n"
	                   "match 12 with\r\n"
	                   "> decline 13\r\n"
	                   "decline 14 too junior\r\n"
	                   "met tomorrow\r\n"
	                   "\r\n"
	                   "-- \r\n"
	                   "accept 99\r\n",
	                   now, &list);
	assert_int_equal(list->n, 2);
	assert_int_equal(list->cmds[0].verb, CMD_ACCEPT);
	assert_int_equal(list->cmds[0].id, 12);
	assert_int_equal(list->cmds[1].verb, CMD_DECLINE);
	assert_string_equal(list->cmds[1].text, "too junior");
	assert_string_equal(list->cmds[1].line, "decline 14 too junior");
	assert_int_equal(list->errors.n, 2);
	assert_string_equal(list->errors.v[0],
	                    "line 4: match needs two application numbers, e.g. match 12 with 4");
	assert_string_equal(list->errors.v[1],
	                    "line 7: met needs a date (YYYY-MM-DD, today or yesterday), e.g. met "
	                    "2026-11-20 2h or met today 90m");
	command_list_free(&list);
	assert_null(list);

	static const char *const stops[] = {
	    "On Sat, Nov 21, 2026 at 9:00 AM Mentoring <m@x.org> wrote:\n",
	    "On Sat, Nov 21, 2026 at 9:00 AM Mentoring\n<m@x.org> wrote:\n",
	    "-----Original Message-----\n",
	    "________________________________\n",
	    "From: Mentoring <m@x.org>\nSent: Saturday\n",
	};
	for (size_t i = 0; i < N_ELEMENTS(stops); i++) {
		char *text = xasprintf("pool 3\n%saccept 4\nmatch 1 2\n", stops[i]);

		command_parse_text(text, now, &list);
		assert_int_equal(list->n, 1);
		assert_int_equal(list->cmds[0].verb, CMD_POOL);
		assert_int_equal(list->errors.n, 0);
		command_list_free(&list);
		free(text);
	}
	command_parse_text(NULL, now, &list);
	assert_int_equal(list->n, 0);
	command_list_free(&list);
}

/* No crash, no sanitizer error, linear time on odd input. */
static void
test_robustness(void **state)
{
	struct command_list *list = NULL;
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	unsigned seed = 42;
	static const char *const seeds[] = {"met 2026-11-20 1h30 note", "match #12 with #4 x",
	                                    "mentor a@b.org Ana", "met 20 Nov 2026 2h",
	                                    "accept 12 note"};

	(void)state;
	memset(big, '1', n);
	big[n] = '\0';
	memcpy(big, "met 2026-11-20 ", 15);
	command_parse_text(big, now, &list);
	assert_int_equal(list->errors.n, 1);
	command_list_free(&list);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 2 ? '\n' : 'm';
	command_parse_text(big, now, &list);
	command_list_free(&list);
	memset(big, 'a', n);
	command_parse_text(big, now, &list);
	assert_int_equal(list->n + list->errors.n, 0);
	command_list_free(&list);

	for (int round = 0; round < 5000; round++) {
		char *t = xstrdup(seeds[round % N_ELEMENTS(seeds)]);
		size_t len = strlen(t);

		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245 + 12345;
			t[(seed >> 8) % len] = (char)(1 + ((seed >> 16) % 255));
		}
		command_parse_text(t, now, &list);
		command_list_free(&list);
		free(t);
	}
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_verbs),          cmocka_unit_test(test_match),
	    cmocka_unit_test(test_mentor_and_simple), cmocka_unit_test(test_met),
	    cmocka_unit_test(test_not_commands),      cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_parse_text),        cmocka_unit_test(test_robustness),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
