/* command: the grammar of emailed commands; see include/command.h. */
#include "command.h"
#include "clock.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND_WORD_MAX 16
#define COMMAND_ID_DIGITS 9
#define COMMAND_MAX_MINUTES (24 * 60)

static const struct {
	const char *word;
	enum command_verb verb;
} command_words[] = {
    {"accept", CMD_ACCEPT}, {"decline", CMD_DECLINE},   {"pool", CMD_POOL},
    {"match", CMD_MATCH},   {"end", CMD_END},           {"unmatch", CMD_UNMATCH},
    {"mentor", CMD_MENTOR}, {"digest", CMD_DIGEST},     {"help", CMD_HELP},
    {"met", CMD_MET},       {"withdraw", CMD_WITHDRAW}, {"publish", CMD_PUBLISH},
    {"move", CMD_MOVE},     {"swap", CMD_SWAP},         {"propose", CMD_PROPOSE},
    {"stop", CMD_STOP},     {"start", CMD_START},       {"attended", CMD_ATTENDED},
    {"absent", CMD_ABSENT}, {"rematch", CMD_REMATCH},
};

static const char *const command_months[] = {"january",   "february", "march",    "april",
                                             "may",       "june",     "july",     "august",
                                             "september", "october",  "november", "december"};

static bool
command_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static const char *
command_skip_blanks(const char *p)
{
	while (command_is_blank(*p))
		p++;
	return p;
}

/* Whether p is at the end of a token. */
static bool
command_at_boundary(const char *p)
{
	return *p == '\0' || command_is_blank(*p) || *p == ',' || *p == ';' || *p == '.' ||
	       *p == ':' || *p == '!' || *p == ')';
}

/* Reads a run of ASCII letters, lower-cased, into word (at most
 * COMMAND_WORD_MAX).  Returns its length, 0 when none or too long. */
static size_t
command_read_word(const char **p, char word[static COMMAND_WORD_MAX + 1])
{
	size_t n = 0;

	while (isalpha((unsigned char)(*p)[n])) {
		if (n == COMMAND_WORD_MAX)
			return 0;
		word[n] = (char)tolower((unsigned char)(*p)[n]);
		n++;
	}
	word[n] = '\0';
	*p += n;
	return n;
}

/* Whether p starts with word (any case) followed by a boundary; advances. */
static bool
command_eat_word(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (!str_istarts(*p, word) || isalnum((unsigned char)(*p)[n]))
		return false;
	*p += n;
	return true;
}

/* Reads "12" or "#12". */
static bool
command_read_id(const char **p, long *id_r)
{
	const char *s = *p;
	long id = 0;
	size_t n = 0;

	if (*s == '#')
		s++;
	while (isdigit((unsigned char)s[n])) {
		if (n == COMMAND_ID_DIGITS)
			return false;
		id = id * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || id == 0 || !command_at_boundary(s + n))
		return false;
	*p = s + n;
	*id_r = id;
	return true;
}

/* The rest of the line as a note: leading separators dropped; NULL when
 * empty.  Caller owns. */
static char *
command_rest(const char *p)
{
	size_t len;

	while (*p != '\0' && (command_is_blank(*p) || strchr(",;:-", *p) != NULL))
		p++;
	if (str_istarts(p, "\xe2\x80\x93") || str_istarts(p, "\xe2\x80\x94"))
		p = command_skip_blanks(p + 3);
	len = strlen(p);
	while (len > 0 && command_is_blank(p[len - 1]))
		len--;
	/* "accept 12." has no note. */
	if (strspn(p, ".!? \t") >= len)
		return NULL;
	return xstrndup(p, len);
}

/* Whether only trailing punctuation is left. */
static bool
command_nothing_left(const char *p)
{
	while (*p != '\0' && (command_is_blank(*p) || strchr(".!", *p) != NULL))
		p++;
	return *p == '\0';
}

static int
command_month(const char *word)
{
	size_t n = strlen(word);

	if (n < 3)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(command_months); i++)
		if (strncmp(command_months[i], word, n) == 0 ||
		    (n == 4 && strcmp(word, "sept") == 0 && i == 8))
			return (int)i + 1;
	return 0;
}

static bool
command_read_int(const char **p, size_t maxdigits, int *v_r)
{
	int v = 0;
	size_t n = 0;

	while (isdigit((unsigned char)(*p)[n])) {
		if (n == maxdigits)
			return false;
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n == 0)
		return false;
	*p += n;
	*v_r = v;
	return true;
}

/* Reads a date.  Cases: "today", "yesterday", "YYYY-MM-DD", "20 Nov 2026",
 * "Nov 20 2026", "November 20, 2026". */
static bool
command_read_date(const char **p, time_t now, char date[static 11])
{
	const char *s = *p;
	char word[COMMAND_WORD_MAX + 1];
	int y, m = 0, d;
	struct tm tm;

	if (command_eat_word(&s, "today") || command_eat_word(&s, "yesterday")) {
		int back = s - *p == 9 ? 1 : 0;

		clock_local(now, &tm);
		clock_date_key(
		    clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday - back),
		    date);
		*p = s;
		return true;
	}
	if (isdigit((unsigned char)s[0]) && strlen(s) >= 10 && s[4] == '-' &&
	    command_at_boundary(s + 10)) {
		char buf[11];

		memcpy(buf, s, 10);
		buf[10] = '\0';
		if (clock_parse_date(buf, &y, &m, &d) < 0)
			return false;
		*p = s + 10;
	} else if (isdigit((unsigned char)s[0])) {
		if (!command_read_int(&s, 2, &d))
			return false;
		s = command_skip_blanks(s);
		if (command_read_word(&s, word) == 0)
			return false;
		m = command_month(word);
		if (*s == '.')
			s++;
		s = command_skip_blanks(s);
		if (m == 0 || !command_read_int(&s, 4, &y) || !command_at_boundary(s))
			return false;
		*p = s;
	} else {
		if (command_read_word(&s, word) == 0)
			return false;
		m = command_month(word);
		if (*s == '.')
			s++;
		s = command_skip_blanks(s);
		if (m == 0 || !command_read_int(&s, 2, &d))
			return false;
		if (*s == ',')
			s++;
		s = command_skip_blanks(s);
		if (!command_read_int(&s, 4, &y) || !command_at_boundary(s))
			return false;
		*p = s;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > clock_days_in_month(y, m))
		return false;
	date[0] = (char)('0' + y / 1000);
	date[1] = (char)('0' + y / 100 % 10);
	date[2] = (char)('0' + y / 10 % 10);
	date[3] = (char)('0' + y % 10);
	date[4] = '-';
	date[5] = (char)('0' + m / 10);
	date[6] = (char)('0' + m % 10);
	date[7] = '-';
	date[8] = (char)('0' + d / 10);
	date[9] = (char)('0' + d % 10);
	date[10] = '\0';
	return true;
}

/* A unit after a duration number: 60 for hours, 1 for minutes, 0 none. */
static int
command_read_unit(const char **p)
{
	static const char *const hours[] = {"hours", "hour", "hrs", "hr", "h"};
	static const char *const mins[] = {"minutes", "minute", "mins", "min", "m"};
	const char *s = command_skip_blanks(*p);

	for (size_t i = 0; i < N_ELEMENTS(hours); i++) {
		const char *t = s;

		if (command_eat_word(&t, hours[i]) ||
		    (str_istarts(t, hours[i]) && isdigit((unsigned char)t[strlen(hours[i])]))) {
			*p = s + strlen(hours[i]);
			return 60;
		}
	}
	for (size_t i = 0; i < N_ELEMENTS(mins); i++) {
		const char *t = s;

		if (command_eat_word(&t, mins[i])) {
			*p = t;
			return 1;
		}
	}
	return 0;
}

/* Reads a duration in minutes.  Cases: "2h", "2 h", "2 hours", "90m",
 * "90 min", "1.5 hours", "1,5h", "1h30", "1h30m", "1h 30 min", "1:30".
 * Returns 1 when read, 0 when there is no number, -1 when malformed. */
static int
command_read_duration(const char **p, int *minutes_r)
{
	const char *s = *p, *t;
	int whole, frac = 0, fracdiv = 1, unit, extra;
	long minutes;

	if (!command_read_int(&s, 5, &whole))
		return isdigit((unsigned char)*s) ? -1 : 0;
	if (*s == ':') {
		s++;
		if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
		    !command_read_int(&s, 2, &extra) || extra > 59 || !command_at_boundary(s))
			return -1;
		*minutes_r = whole * 60 + extra;
		*p = s;
		return 1;
	}
	if ((*s == '.' || *s == ',') && isdigit((unsigned char)s[1])) {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (fracdiv < 100) {
				frac = frac * 10 + (*s - '0');
				fracdiv *= 10;
			}
			s++;
		}
	}
	unit = command_read_unit(&s);
	if (unit == 0)
		return -1;
	minutes = ((long)whole * fracdiv + frac) * unit;
	minutes = (minutes + fracdiv / 2) / fracdiv;
	if (unit == 60 && fracdiv == 1) {
		/* Minutes may follow whole hours: "1h30" directly, or "1h 30m" and
		 * "2 hours 15 minutes" with their unit. */
		t = command_skip_blanks(s);
		if (command_read_int(&t, 2, &extra)) {
			const char *u = t;

			if (command_read_unit(&u) == 1) {
				minutes += extra;
				s = u;
			} else if (isdigit((unsigned char)*s)) {
				minutes += extra;
				s = t;
			}
		}
	}
	if (!command_at_boundary(s))
		return -1;
	*minutes_r = minutes > COMMAND_MAX_MINUTES * 10 ? COMMAND_MAX_MINUTES * 10 : (int)minutes;
	*p = s;
	return 1;
}

static bool
command_read_email(const char **p, char **email_r)
{
	const char *s = command_skip_blanks(*p), *e, *at;
	size_t len;
	char *email;

	e = s;
	while (*e != '\0' && !command_is_blank(*e))
		e++;
	*p = e;
	if (*s == '<')
		s++;
	if (str_istarts(s, "mailto:"))
		s += 7;
	len = (size_t)(e - s);
	while (len > 0 && strchr(">,;", s[len - 1]) != NULL)
		len--;
	email = xstrndup(s, len);
	at = strchr(email, '@');
	if (at == NULL || at == email || strchr(at + 1, '@') != NULL || strchr(at, '.') == NULL ||
	    at[1] == '.' || email[len - 1] == '.' || strpbrk(email, "<>()\"[]\\") != NULL) {
		free(email);
		return false;
	}
	str_lower(email);
	*email_r = email;
	return true;
}

static const char *
command_usage(enum command_verb verb)
{
	switch (verb) {
	case CMD_ACCEPT:
		return "accept needs an application number, e.g. accept 12";
	case CMD_DECLINE:
		return "decline needs an application number, e.g. decline 12 not enough "
		       "experience yet";
	case CMD_POOL:
		return "pool needs an application number, e.g. pool 12";
	case CMD_MATCH:
		return "match needs two application numbers, e.g. match 12 with 4";
	case CMD_END:
		return "end needs a partnership or team number, e.g. end 7 schedules did not fit";
	case CMD_MENTOR:
		return "mentor needs an email address and a name, e.g. mentor ana@x.org Ana Ruiz";
	case CMD_DIGEST:
		return "digest takes nothing after it; write just: digest";
	case CMD_HELP:
		return "help takes nothing after it; write just: help";
	case CMD_MET:
		return "met needs a date (YYYY-MM-DD, today or yesterday), e.g. met 2026-11-20 2h "
		       "or met today 90m";
	case CMD_WITHDRAW:
		return "withdraw takes an optional reason, e.g. withdraw new job";
	case CMD_UNMATCH:
		return "unmatch needs a person's number, e.g. unmatch 14";
	case CMD_PUBLISH:
		return "publish takes nothing after it; write just: publish";
	case CMD_PROPOSE:
		return "propose takes nothing after it; write just: propose";
	case CMD_MOVE:
		return "move needs a person's number and a team's, e.g. move 14 to team 3";
	case CMD_SWAP:
		return "swap needs two people's numbers, e.g. swap 14 with 15";
	case CMD_STOP:
		return "stop takes nothing after it; write just: stop";
	case CMD_START:
		return "start takes nothing after it; write just: start";
	case CMD_ATTENDED:
		return "attended needs a session and addresses, e.g. attended kickoff "
		       "ana@x.org, bob@x.org";
	case CMD_ABSENT:
		return "absent needs a session and addresses, e.g. absent kickoff dee@x.org";
	case CMD_REMATCH:
		return "rematch needs a reason, e.g. rematch our goals differ (a coordinator: "
		       "rematch 7 their goals differ)";
	}
	return "unknown command";
}

/* The arguments of met: DATE [for] [DURATION] [note...]. */
static int
command_parse_met(const char *p, time_t now, struct command *cmd, const char **error_r)
{
	int y, m, d, r;

	p = command_skip_blanks(p);
	if (command_eat_word(&p, "on"))
		p = command_skip_blanks(p);
	if (!command_read_date(&p, now, cmd->date)) {
		*error_r = errorf("%s", command_usage(CMD_MET));
		return -1;
	}
	if (clock_parse_date(cmd->date, &y, &m, &d) < 0 ||
	    clock_local_midnight(y, m, d) > now + 24 * 60 * 60) {
		*error_r = errorf("met %s: that date is in the future", cmd->date);
		return -1;
	}
	p = command_skip_blanks(p);
	if (*p == ',')
		p = command_skip_blanks(p + 1);
	if (command_eat_word(&p, "for"))
		p = command_skip_blanks(p);
	r = command_read_duration(&p, &cmd->minutes);
	if (r < 0) {
		*error_r = errorf("met: cannot read the duration; write it like 2h, 90m, 1.5 hours "
		                  "or 1h30, e.g. met %s 2h",
		                  cmd->date);
		return -1;
	}
	if (r > 0 && cmd->minutes == 0) {
		*error_r =
		    errorf("met: the duration must be more than zero, e.g. met %s 90m", cmd->date);
		return -1;
	}
	if (cmd->minutes > COMMAND_MAX_MINUTES) {
		*error_r = errorf("met: a meeting cannot last more than 24 hours; write the "
		                  "duration like 2h or 90m");
		return -1;
	}
	cmd->text = command_rest(p);
	return 1;
}

/* The arguments of every verb but met. */
static int
command_parse_args(const char *p, struct command *cmd, const char **error_r)
{
	char *email = NULL, *name;

	p = command_skip_blanks(p);
	switch (cmd->verb) {
	case CMD_ACCEPT:
	case CMD_DECLINE:
	case CMD_POOL:
	case CMD_END:
		if (!command_read_id(&p, &cmd->id))
			break;
		cmd->text = command_rest(p);
		return 1;
	case CMD_MATCH:
		if (!command_read_id(&p, &cmd->id))
			break;
		p = command_skip_blanks(p);
		if (*p == ',' || *p == '&' || *p == '+')
			p++;
		else if (p[0] == '-' && p[1] == '>')
			p += 2;
		else if (!command_eat_word(&p, "with") && !command_eat_word(&p, "to"))
			(void)command_eat_word(&p, "and");
		p = command_skip_blanks(p);
		if (!command_read_id(&p, &cmd->id2))
			break;
		if (cmd->id == cmd->id2) {
			*error_r = errorf("match needs two different application numbers, e.g. "
			                  "match 12 with 4");
			return -1;
		}
		cmd->text = command_rest(p);
		return 1;
	case CMD_UNMATCH:
		if (!command_read_id(&p, &cmd->id))
			break;
		cmd->text = command_rest(p);
		return 1;
	case CMD_MOVE:
		/* move 14 to team 3, move 14 to 3, move 14 team 3 */
		if (!command_read_id(&p, &cmd->id))
			break;
		p = command_skip_blanks(p);
		if (command_eat_word(&p, "to"))
			p = command_skip_blanks(p);
		if (command_eat_word(&p, "team") || command_eat_word(&p, "group"))
			p = command_skip_blanks(p);
		if (!command_read_id(&p, &cmd->id2) || !command_nothing_left(p))
			break;
		return 1;
	case CMD_SWAP:
		/* swap 14 15, swap 14 with 15, swap 14 and 15 */
		if (!command_read_id(&p, &cmd->id))
			break;
		p = command_skip_blanks(p);
		if (!command_eat_word(&p, "with") && !command_eat_word(&p, "and"))
			(void)command_eat_word(&p, "for");
		p = command_skip_blanks(p);
		if (!command_read_id(&p, &cmd->id2) || !command_nothing_left(p))
			break;
		if (cmd->id == cmd->id2) {
			*error_r = errorf("swap needs two different people, e.g. swap 14 with 15");
			return -1;
		}
		return 1;
	case CMD_PUBLISH:
	case CMD_PROPOSE:
		if (!command_nothing_left(p))
			break;
		return 1;
	case CMD_MENTOR:
		if (!command_read_email(&p, &email))
			break;
		name = command_rest(p);
		if (name == NULL) {
			free(email);
			break;
		}
		cmd->text = xasprintf("%s %s", email, name);
		free(email);
		free(name);
		return 1;
	case CMD_DIGEST:
	case CMD_HELP:
	case CMD_STOP:
	case CMD_START:
		if (!command_nothing_left(p))
			break;
		return 1;
	case CMD_WITHDRAW:
		cmd->text = command_rest(p);
		return 1;
	case CMD_REMATCH:
		/* rematch 7 reason (a coordinator), rematch reason (a partner) */
		if (!command_read_id(&p, &cmd->id))
			cmd->id = 0;
		cmd->text = command_rest(p);
		if (cmd->text == NULL)
			break;
		return 1;
	case CMD_ATTENDED:
	case CMD_ABSENT:
		cmd->text = command_rest(p);
		if (cmd->text == NULL || strpbrk(cmd->text, "@") == NULL) {
			free(cmd->text);
			cmd->text = NULL;
			break;
		}
		return 1;
	case CMD_MET:
		break;
	}
	*error_r = errorf("%s", command_usage(cmd->verb));
	return -1;
}

/* Cases handled:
 *   1. a quoted line (first non-blank character '>') is never a command;
 *   2. leading blanks and one bullet ("- ", "* ", "• ", "1. ", "1) ") are
 *      skipped;
 *   3. the first word, any case, followed by a blank, ':', '.', '!' or the
 *      end, must be a verb, or the line is not a command;
 *   4. the verb's arguments are parsed; malformed ones are an error that
 *      shows the right form. */
int
command_parse_line(const char *line, time_t now, struct command *cmd_r, const char **error_r)
{
	const char *p = command_skip_blanks(line);
	char word[COMMAND_WORD_MAX + 1];
	size_t len, n = 0;
	int ret;

	memset(cmd_r, 0, sizeof(*cmd_r));
	if (*p == '>')
		return 0;
	if ((p[0] == '-' || p[0] == '*') && command_is_blank(p[1]))
		p = command_skip_blanks(p + 2);
	else if (str_istarts(p, "\xe2\x80\xa2") && command_is_blank(p[3]))
		p = command_skip_blanks(p + 4);
	else {
		while (n < 3 && isdigit((unsigned char)p[n]))
			n++;
		if (n > 0 && (p[n] == '.' || p[n] == ')') && command_is_blank(p[n + 1]))
			p = command_skip_blanks(p + n + 2);
	}
	if (command_read_word(&p, word) == 0)
		return 0;
	if (*p != '\0' && *p != ':' && *p != '.' && *p != '!' && !command_is_blank(*p))
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(command_words); i++) {
		if (strcmp(word, command_words[i].word) == 0) {
			cmd_r->verb = command_words[i].verb;
			break;
		}
	}
	if (cmd_r->verb == 0)
		return 0;
	if (*p == ':')
		p++;
	/* stop and start stand alone on their line: "Stop by my office" or
	 * "Start date: ..." are prose, not commands. */
	if (cmd_r->verb == CMD_STOP || cmd_r->verb == CMD_START) {
		p = command_skip_blanks(p);
		while (*p == '.' || *p == '!')
			p = command_skip_blanks(p + 1);
		if (*p != '\0') {
			memset(cmd_r, 0, sizeof(*cmd_r));
			return 0;
		}
	}
	if (cmd_r->verb == CMD_MET)
		ret = command_parse_met(p, now, cmd_r, error_r);
	else
		ret = command_parse_args(p, cmd_r, error_r);
	if (ret < 0) {
		command_clear(cmd_r);
		return -1;
	}
	line = command_skip_blanks(line);
	len = strlen(line);
	while (len > 0 && command_is_blank(line[len - 1]))
		len--;
	cmd_r->line = xstrndup(line, len);
	return 1;
}

static bool
command_ends_with_wrote(const char *s, size_t len)
{
	while (len > 0 && command_is_blank(s[len - 1]))
		len--;
	return len >= 6 && strncmp(s + len - 6, "wrote:", 6) == 0;
}

/* Whether the line at s (of the text) starts the quoted thread or the
 * signature.  Cases: "-- ", "-----Original Message-----", Outlook's "____"
 * divider, "From: ..." followed by "Sent:" or "Date:", and "On ... wrote:"
 * over up to three lines. */
static bool
command_is_stop(const char *s)
{
	const char *e = strchr(s, '\n'), *t;
	size_t len = e == NULL ? strlen(s) : (size_t)(e - s);
	size_t n;

	while (len > 0 && command_is_blank(s[len - 1]))
		len--;
	while (len > 0 && command_is_blank(*s)) {
		s++;
		len--;
	}
	if (len == 2 && strncmp(s, "--", 2) == 0)
		return true;
	n = strspn(s, "-");
	if (n >= 2 && n < len && str_istarts(s + n, "original message"))
		return true;
	if (len >= 10 && strspn(s, "_") >= 10)
		return true;
	if (str_istarts(s, "from:") && e != NULL) {
		t = command_skip_blanks(e + 1);
		if (str_istarts(t, "sent:") || str_istarts(t, "date:"))
			return true;
	}
	if (str_istarts(s, "on ")) {
		t = s;
		for (int i = 0; i < 3 && t != NULL; i++) {
			e = strchr(t, '\n');
			if (command_ends_with_wrote(t, e == NULL ? strlen(t) : (size_t)(e - t)))
				return true;
			t = e == NULL ? NULL : e + 1;
		}
	}
	return false;
}

void
command_parse_text(const char *text, time_t now, struct command_list **list_r)
{
	struct command_list *list = xcalloc(1, sizeof(*list));
	size_t cap = 0, lineno = 0;
	const char *p = text == NULL ? "" : text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);
		char *line;
		struct command cmd;
		const char *error = NULL;
		int r;

		lineno++;
		if (command_is_stop(p))
			break;
		line = xstrndup(p, len);
		r = command_parse_line(line, now, &cmd, &error);
		if (r > 0) {
			list->cmds = xgrow(list->cmds, &cap, list->n + 1, sizeof(*list->cmds));
			list->cmds[list->n++] = cmd;
		} else if (r < 0) {
			strvec_push_owned(&list->errors, xasprintf("line %zu: %s", lineno, error));
		}
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	*list_r = list;
}

int
command_parse_duration(const char *s, int *minutes_r)
{
	const char *p = command_skip_blanks(s);
	int minutes = 0;

	if (command_read_duration(&p, &minutes) <= 0 || minutes <= 0 ||
	    minutes > COMMAND_MAX_MINUTES)
		return -1;
	*minutes_r = minutes;
	return 0;
}

const char *
command_verb_name(enum command_verb verb)
{
	switch (verb) {
	case CMD_ACCEPT:
		return "accept";
	case CMD_DECLINE:
		return "decline";
	case CMD_POOL:
		return "pool";
	case CMD_MATCH:
		return "match";
	case CMD_END:
		return "end";
	case CMD_MENTOR:
		return "mentor";
	case CMD_DIGEST:
		return "digest";
	case CMD_HELP:
		return "help";
	case CMD_MET:
		return "met";
	case CMD_WITHDRAW:
		return "withdraw";
	case CMD_UNMATCH:
		return "unmatch";
	case CMD_PUBLISH:
		return "publish";
	case CMD_MOVE:
		return "move";
	case CMD_SWAP:
		return "swap";
	case CMD_PROPOSE:
		return "propose";
	case CMD_STOP:
		return "stop";
	case CMD_START:
		return "start";
	case CMD_ATTENDED:
		return "attended";
	case CMD_ABSENT:
		return "absent";
	case CMD_REMATCH:
		return "rematch";
	}
	return "unknown";
}

/* help is open to everyone: a participant asking for it gets the list. */
bool
command_is_coordinator_only(enum command_verb verb)
{
	return verb != CMD_MET && verb != CMD_WITHDRAW && verb != CMD_HELP && verb != CMD_STOP &&
	       verb != CMD_START && verb != CMD_REMATCH;
}

void
command_clear(struct command *cmd)
{
	free(cmd->text);
	free(cmd->line);
	memset(cmd, 0, sizeof(*cmd));
}

void
command_list_free(struct command_list **list)
{
	struct command_list *l = *list;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		command_clear(&l->cmds[i]);
	free(l->cmds);
	strvec_free(&l->errors);
	free(l);
	*list = NULL;
}
