/*
 * form: plain-text `Key: value` forms defined in configuration (pure).
 *
 * Tolerant of what mail clients and people do to a form:
 *   - key case and spacing ("Years as manager :", "YEARS AS MANAGER:")
 *   - quoting ("> Name: Ana"), bullets ("- ", "* ", "• ", "1. ")
 *   - aliases for a key, declared in the definition
 *   - free-text fields that run on to the next known key
 *   - scales written "4", "4 - agree", "[x] 4", "4/5"
 *   - multiple choices separated by commas, semicolons or lines, matched
 *     case-insensitively against the declared choices, prefix or whole word
 *   - the blank form's own hints ("(choose up to 3)") left in the answer
 * Lines before the first key and after the last field (signatures, quoted
 * thread) are ignored.
 */
#ifndef MENTORD_FORM_H
#define MENTORD_FORM_H

#include "util.h"

enum form_field_type {
	FIELD_TEXT = 0,    /* one line or more of free text */
	FIELD_EMAIL,       /* one addr-spec, stored lower case */
	FIELD_NUMBER,      /* integer within [min, max] */
	FIELD_DATE,        /* YYYY-MM-DD */
	FIELD_CHOICE,      /* exactly one of choices */
	FIELD_MULTICHOICE, /* between min and max of choices */
	FIELD_SCALE,       /* integer within [min, max], e.g. 1..5 */
};

/* What a field gives the program engine (program.h): the participation's
 * profile (name, supervisor, level...), or an event's date, minutes,
 * topic.  A field that binds nothing is kept in the answers only. */
enum form_bind {
	BIND_NONE = 0,
	BIND_NAME,         /* the person's name */
	BIND_EMAIL,        /* the person the form is about (a registration) */
	BIND_SUPERVISOR,   /* their supervisor's address */
	BIND_DIRECTOR,     /* their division director's address */
	BIND_LEVEL,        /* experience level: years, or a grade (number or choice) */
	BIND_DIVISION,     /* their division or unit */
	BIND_TOPICS,       /* needs, strengths, interests (competencies) */
	BIND_AVAILABILITY, /* when they can meet */
	BIND_CAPACITY,     /* how many groups at once (a mentor's mentees) */
	BIND_DATE,         /* an event's date */
	BIND_MINUTES,      /* an event's length */
	BIND_TOPIC,        /* an event's topic */
	BIND_FACILITATOR,  /* an event's facilitator (an address or a name) */
	BIND_NOTES,        /* notes: kept, shown to nobody */
	BIND_ATTENDED,     /* an answer about a meeting: whether its writer attended
	                    * (the first choice, or a number above 0, is yes) */
	BIND_COUNT
};
const char *form_bind_name(enum form_bind b);
/* -1 when name binds nothing known. */
int form_bind_parse(const char *name);

/* Who may see a field's answer besides its writer (visible_to): sets of
 * these bits.  Default: the coordinator for join forms, nobody for the
 * rest (evaluations and meeting notes are counted, not shown). */
#define FORM_VISIBLE_COORDINATOR 1u /* digests, mentorctl */
#define FORM_VISIBLE_GROUP 2u       /* the writer's partners (an introduction) */
#define FORM_VISIBLE_SUPERVISOR 4u  /* the writer's supervisor (a 180 report) */
/* The program's other participants: a step with shows = FORM lists it
 * (an opt-in program's offers and asks, in their periodic digest). */
#define FORM_VISIBLE_PARTICIPANTS 8u

struct form_field_def {
	char *key;             /* owned; the canonical key, e.g. "Years as manager" */
	struct strvec aliases; /* other accepted keys */
	enum form_field_type type;
	bool required;
	bool multiline;        /* free text that may span lines (FIELD_TEXT) */
	struct strvec choices; /* for CHOICE and MULTICHOICE */
	long min, max;         /* NUMBER, SCALE: range; MULTICHOICE: count */
	char *hint;            /* owned; shown in the blank form; may be NULL */
	enum form_bind bind;
	unsigned visible_to; /* FORM_VISIBLE_* */
};

struct form_def {
	char *name;                    /* owned, e.g. "application" */
	char *title;                   /* owned, shown to people; may be NULL */
	struct form_field_def *fields; /* owned */
	size_t nfields;
};

struct form_value {
	const struct form_field_def *def; /* borrowed from the form_def */
	char *raw;                        /* owned: what the person wrote, trimmed */
	char *value;         /* owned: normalised (choices joined by ", "); NULL if invalid */
	struct strvec items; /* MULTICHOICE: the canonical choices chosen */
	long number;         /* NUMBER, SCALE */
	char *problem; /* owned: short reason when invalid ("not an email address"), else NULL */
};

struct form_result {
	struct form_value *values; /* owned; one per field that was found, in form order */
	size_t nvalues;
	size_t keys_found;      /* how many lines looked like keys of this form */
	struct strvec problems; /* one human sentence per problem; empty when valid */
};

/* Parses text against def.  Always succeeds; the caller owns *result_r and
 * frees it with form_result_free.  The form is valid when problems.n == 0. */
void form_parse(const struct form_def *def, const char *text, struct form_result **result_r);

/* Borrowed value of the field with that canonical key (case insensitive), or
 * NULL when absent or invalid. */
const struct form_value *form_result_get(const struct form_result *res, const char *key);
const char *form_result_value(const struct form_result *res, const char *key);

/* "Key: value" lines of what was understood, for the explanation sent back;
 * the caller owns the result. */
char *form_result_summary(const struct form_result *res);

/* The blank form as text to send ("Name: \nDivision: \n..." with hints and
 * choices listed); the caller owns the result. */
char *form_render_blank(const struct form_def *def);

void form_result_free(struct form_result **res);
void form_def_free(struct form_def *def); /* frees the contents, not def itself */

#endif
