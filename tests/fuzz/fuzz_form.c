/*
 * libFuzzer target: form_parse against the CDSS program's forms as
 * conf/programs/cdss.conf defines them (application, mentor, meeting), plus
 * a form with a scale and a single choice so every field type is reached.
 * Each input is parsed against every form, and what was understood is
 * summarised, as the reply explaining an invalid form does.
 *
 * The definitions are built directly rather than read with config_load,
 * which needs a whole mentord.conf with IMAP and SMTP settings; keep them
 * in step with cdss.conf.
 */
#include "form.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The default California Leadership Competency Model (config.c). */
static const char *const competencies[] = {
    "Fostering a Team Environment",
    "Communication",
    "Interpersonal Skills",
    "Team Leadership",
    "Conflict Management",
    "Creating Organizational Transformation",
    "Change Leadership",
    "Vision and Strategic Thinking",
    "Flexibility",
    "Global Perspective",
    "Organizational Awareness",
    "Maximizing Performance Results",
    "Analytical Thinking",
    "Decision Making",
    "Customer Focus",
    "Planning and Organizing",
    "Thoroughness",
    "Forward Thinking",
    "Results Orientation",
    "Building Trust and Accountability",
    "Ethics and Integrity",
    "Personal Credibility",
    "Promoting a High Performance Culture",
    "Fostering Diversity",
    "Workforce Management",
    "Developing Others",
};

static struct form_field_def *
add_field(struct form_def *def, const char *key, enum form_field_type type, bool required, long min,
          long max)
{
	struct form_field_def *fd;

	def->fields = xrealloc(def->fields, (def->nfields + 1) * sizeof(*def->fields));
	fd = &def->fields[def->nfields++];
	memset(fd, 0, sizeof(*fd));
	fd->key = xstrdup(key);
	fd->type = type;
	fd->required = required;
	fd->min = min;
	fd->max = max;
	return fd;
}

static void
add_competencies(struct form_field_def *fd)
{
	for (size_t i = 0; i < N_ELEMENTS(competencies); i++)
		strvec_push(&fd->choices, competencies[i]);
}

static void
build_application(struct form_def *def)
{
	struct form_field_def *fd;

	def->name = xstrdup("application");
	def->title = xstrdup("Mentee questionnaire");
	add_field(def, "Name", FIELD_TEXT, true, 0, 0);
	add_field(def, "Division", FIELD_TEXT, true, 0, 0);
	fd = add_field(def, "Classification", FIELD_TEXT, true, 0, 0);
	fd->hint = xstrdup("your civil service classification");
	fd = add_field(def, "Years as manager", FIELD_NUMBER, true, 0, 60);
	strvec_push(&fd->aliases, "Years managing");
	fd = add_field(def, "Supervisor email", FIELD_EMAIL, true, 0, 0);
	strvec_push(&fd->aliases, "Supervisor");
	fd = add_field(def, "Developmental needs", FIELD_MULTICHOICE, true, 1, 5);
	add_competencies(fd);
	fd->hint = xstrdup("choose 1 to 5 competencies");
	strvec_push(&fd->aliases, "Needs");
	fd = add_field(def, "Availability", FIELD_TEXT, true, 0, 0);
	fd->hint = xstrdup("days and times you can meet");
	fd = add_field(def, "Why do you want to join", FIELD_TEXT, true, 0, 0);
	fd->multiline = true;
	strvec_push(&fd->aliases, "Why");
}

static void
build_mentor(struct form_def *def)
{
	struct form_field_def *fd;

	def->name = xstrdup("mentor");
	def->title = xstrdup("Mentor registration");
	add_field(def, "Name", FIELD_TEXT, true, 0, 0);
	add_field(def, "Email", FIELD_EMAIL, true, 0, 0);
	add_field(def, "Division", FIELD_TEXT, false, 0, 0);
	fd = add_field(def, "Status", FIELD_CHOICE, false, 0, 0);
	strvec_push(&fd->choices, "current manager");
	strvec_push(&fd->choices, "retired manager");
	add_field(def, "Years as manager", FIELD_NUMBER, false, 0, 60);
	fd = add_field(def, "Strengths", FIELD_MULTICHOICE, true, 1, 8);
	add_competencies(fd);
	fd->hint = xstrdup("choose 1 to 8 competencies");
	fd = add_field(def, "Capacity", FIELD_NUMBER, false, 1, 3);
	fd->hint = xstrdup("how many mentees");
}

static void
build_meeting(struct form_def *def)
{
	struct form_field_def *fd;

	def->name = xstrdup("meeting");
	def->title = xstrdup("Meeting report");
	fd = add_field(def, "Meeting date", FIELD_DATE, true, 0, 0);
	strvec_push(&fd->aliases, "Date");
	fd = add_field(def, "Duration", FIELD_TEXT, false, 0, 0);
	fd->hint = xstrdup("e.g. 2 hours");
	fd = add_field(def, "Notes", FIELD_TEXT, false, 0, 0);
	fd->multiline = true;
}

/* Not in cdss.conf: a scale and a free choice, so FIELD_SCALE is reached. */
static void
build_evaluation(struct form_def *def)
{
	struct form_field_def *fd;

	def->name = xstrdup("evaluation");
	add_field(def, "Overall", FIELD_SCALE, true, 1, 5);
	add_field(def, "Goals met", FIELD_SCALE, false, 0, 10);
	fd = add_field(def, "Continue", FIELD_CHOICE, true, 0, 0);
	strvec_push(&fd->choices, "yes");
	strvec_push(&fd->choices, "no");
	strvec_push(&fd->choices, "not sure");
	fd = add_field(def, "Comments", FIELD_TEXT, false, 0, 0);
	fd->multiline = true;
	strvec_push(&fd->aliases, "Notes");
}

/* Built once and kept for the life of the process (reachable, so not a
 * leak for LeakSanitizer). */
static struct form_def forms[4];
static bool forms_built;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (!forms_built) {
		build_application(&forms[0]);
		build_mentor(&forms[1]);
		build_meeting(&forms[2]);
		build_evaluation(&forms[3]);
		forms_built = true;
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	for (size_t i = 0; i < N_ELEMENTS(forms); i++) {
		struct form_result *res = NULL;
		char *summary;

		form_parse(&forms[i], text, &res);
		if (res == NULL)
			abort();
		for (size_t j = 0; j < res->nvalues; j++) {
			const struct form_value *v = &res->values[j];
			if (v->def == NULL || v->raw == NULL)
				abort();
			if ((v->value == NULL) == (v->problem == NULL))
				abort(); /* exactly one of a value and a problem */
		}
		(void)form_result_value(res, forms[i].fields[0].key);
		summary = form_result_summary(res);
		free(summary);
		form_result_free(&res);
	}
	free(text);
	return 0;
}
