/* compare: see include/compare.h. */
#include "compare.h"
#include "compose.h"
#include "log.h"
#include "notice.h"
#include "outbox.h"
#include "report.h"
#include "template.h"

#include <stdlib.h>
#include <string.h>

/* The statuses of a participant whose report may be due: the post round
 * may be answered after the program's end completed them. */
static const char *const compare_statuses[] = {"accepted", "matched", "active", "completed"};

void
compare_report_free(struct compare_report *r)
{
	strbuf_free(&r->text);
	strbuf_free(&r->notes);
	strbuf_free(&r->csv);
}

static bool
compare_numeric(const struct form_field_def *fd)
{
	return fd->type == FIELD_SCALE || fd->type == FIELD_NUMBER;
}

/* The form's rounds, or one unnamed round. */
static size_t
compare_rounds(const struct program_form *f, const char *const **rounds_r)
{
	static const char *const none[] = {""};

	if (f->rounds.n == 0) {
		*rounds_r = none;
		return 1;
	}
	*rounds_r = (const char *const *)f->rounds.v;
	return f->rounds.n;
}

/* "Self pre", "Supervisor post", or "Self" when the round has no name. */
static char *
compare_column(bool supervisor, const char *round)
{
	return xasprintf("%s%s%s", supervisor ? "Supervisor" : "Self", *round != '\0' ? " " : "",
	                 round);
}

void
compare_csv_header(const struct program_form *f, const char *lead, struct strbuf *sb)
{
	const char *const *rounds;
	size_t nr = compare_rounds(f, &rounds);

	if (lead != NULL)
		strbuf_adds(sb, lead);
	report_csv_field(sb, "field", false);
	for (size_t who = 0; who < 2; who++)
		for (size_t r = 0; r < nr; r++) {
			char *col = xasprintf("%s%s%s", who == 1 ? "supervisor" : "self",
			                      *rounds[r] != '\0' ? "_" : "", rounds[r]);

			report_csv_field(sb, col, who == 1 && r + 1 == nr);
			free(col);
		}
}

int
compare_build(struct store *store, const struct config_program *program,
              const struct program_form *f, const struct store_participation *p,
              const char *csv_lead, struct compare_report *r_r, const char **error_r)
{
	const char *const *rounds;
	size_t nr = compare_rounds(f, &rounds), width = 0;
	/* ids[who * nr + round]: the latest answer, 0 when none. */
	int64_t *ids = xcalloc(2 * nr, sizeof(*ids));
	char **cols = xcalloc(2 * nr, sizeof(*cols));
	int ret = -1;

	memset(r_r, 0, sizeof(*r_r));
	for (size_t who = 0; who < 2; who++)
		for (size_t r = 0; r < nr; r++) {
			/* The supervisor's: whoever was the participant's
			 * supervisor when it was recorded (only they could). */
			int64_t respondent = who == 0 ? p->person_id : 0;

			cols[who * nr + r] = compare_column(who == 1, rounds[r]);
			if (store_answer_latest(store, program->name, f->def.name, rounds[r],
			                        respondent, p->person_id, &ids[who * nr + r],
			                        error_r) < 0)
				goto out;
		}
	r_r->complete = ids[nr - 1] != 0 && ids[2 * nr - 1] != 0;
	if (csv_lead == NULL)
		compare_csv_header(f, NULL, &r_r->csv);
	for (size_t k = 0; k < f->def.nfields; k++)
		if (compare_numeric(&f->def.fields[k]) && strlen(f->def.fields[k].key) > width)
			width = strlen(f->def.fields[k].key);
	if (width < 10)
		width = 10;
	strbuf_addf(&r_r->text, "%-*s", (int)width, "");
	for (size_t c = 0; c < 2 * nr; c++)
		strbuf_addf(&r_r->text, "  %s", cols[c]);
	strbuf_addc(&r_r->text, '\n');
	for (size_t k = 0; k < f->def.nfields; k++) {
		const struct form_field_def *fd = &f->def.fields[k];

		if (csv_lead != NULL)
			strbuf_adds(&r_r->csv, csv_lead);
		report_csv_field(&r_r->csv, fd->key, false);
		if (compare_numeric(fd))
			strbuf_addf(&r_r->text, "%-*s", (int)width, fd->key);
		for (size_t c = 0; c < 2 * nr; c++) {
			char *value = NULL;
			bool found = false;

			if (ids[c] != 0 && store_answer_value_get(store, ids[c], fd->key, &found,
			                                          &value, error_r) < 0)
				goto out;
			report_csv_field(&r_r->csv, value != NULL ? value : "", c + 1 == 2 * nr);
			if (compare_numeric(fd))
				strbuf_addf(&r_r->text, "  %*s", (int)strlen(cols[c]),
				            value != NULL && *value != '\0' ? value : "-");
			else if (value != NULL && *value != '\0')
				strbuf_addf(&r_r->notes, "%s (%s): %s\n", fd->key, cols[c], value);
			free(value);
		}
		if (compare_numeric(fd))
			strbuf_addc(&r_r->text, '\n');
	}
	ret = 0;
out:
	for (size_t c = 0; c < 2 * nr; c++)
		free(cols[c]);
	free(cols);
	free(ids);
	if (ret < 0)
		compare_report_free(r_r);
	return ret;
}

/* Whether every field of f of the kind (numeric or not) is visible to the
 * supervisor: what the report's ratings and remarks may show them. */
static bool
compare_visible(const struct program_form *f, bool numeric)
{
	for (size_t k = 0; k < f->def.nfields; k++)
		if (compare_numeric(&f->def.fields[k]) == numeric &&
		    (f->def.fields[k].visible_to & FORM_VISIBLE_SUPERVISOR) == 0)
			return false;
	return true;
}

/* The report's variables; ratings and remarks confidential (never to a
 * supervisor) unless the form declares its fields visible to them. */
static void
compare_vars(struct template_vars *vars, const struct program_form *f,
             const struct store_participation *p, const struct compare_report *r,
             const char *filename)
{
	template_vars_set(vars, "participant", notice_name(p->name, p->email));
	template_vars_set(vars, "supervisor", p->supervisor_email);
	template_vars_set(vars, "form_title", f->def.title != NULL ? f->def.title : f->def.name);
	template_vars_set(vars, "attachment", filename);
	if (compare_visible(f, true))
		template_vars_set(vars, "ratings", strbuf_str(&r->text));
	else
		template_vars_set_confidential(vars, "ratings", strbuf_str(&r->text));
	if (compare_visible(f, false))
		template_vars_set(vars, "remarks", strbuf_str(&r->notes));
	else
		template_vars_set_confidential(vars, "remarks", strbuf_str(&r->notes));
}

/* One copy of the report (to whom key says), when not queued before. */
static int
compare_queue(const struct config *config, struct store *store,
              const struct config_program *program, const char *key, const struct strvec *to,
              const char *name, enum template_audience audience, struct template_vars *vars,
              const struct compose_attachment *att, time_t now, const char **error_r)
{
	struct outbox_mail mail;

	template_vars_set(vars, "name", name);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = "assessment-report";
	mail.program = program->name;
	mail.to = to;
	mail.thread_type = "program";
	mail.template_name = "assessment-report";
	mail.vars = vars;
	mail.audience = audience;
	mail.nature = OUTBOX_NOTICE;
	mail.attachments = att;
	mail.nattachments = 1;
	return outbox_enqueue(config, store, &mail, now, NULL, error_r);
}

/* One participant's report, when complete and not sent yet. */
static int
compare_one(const struct config *config, struct store *store, const struct config_program *program,
            const struct program_step *s, const struct program_form *f,
            const struct store_participation *p, time_t now, const char **error_r)
{
	struct compare_report r;
	struct compose_attachment att;
	struct template_vars *vars = NULL;
	struct strvec to = {0};
	char *key = xasprintf("compare:step=%s:person=%lld", s->name, (long long)p->person_id);
	char *key_sup = xasprintf("%s:to=supervisor", key);
	char *key_coord = xasprintf("%s:to=coordinators", key);
	char *filename = NULL;
	bool a = false, b = false, c = false;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	if (store_outbox_has_key(store, key, &a, error_r) < 0 ||
	    store_outbox_has_key(store, key_sup, &b, error_r) < 0 ||
	    store_outbox_has_key(store, key_coord, &c, error_r) < 0)
		goto out;
	if (a && b && c) {
		ret = 0;
		goto out;
	}
	if (compare_build(store, program, f, p, NULL, &r, error_r) < 0)
		goto out;
	if (!r.complete) {
		ret = 0;
		goto out;
	}
	filename = xasprintf("%s-%s-%lld.csv", program->name, f->def.name, (long long)p->person_id);
	memset(&att, 0, sizeof(att));
	att.filename = filename;
	att.content_type = "text/csv";
	att.data = strbuf_str(&r.csv);
	att.len = r.csv.len;
	vars = notice_vars(config, program);
	compare_vars(vars, f, p, &r, filename);
	strvec_push(&to, p->email);
	if (compare_queue(config, store, program, key, &to, notice_name(p->name, p->email),
	                  AUDIENCE_PARTICIPANT, vars, &att, now, error_r) < 0)
		goto out;
	strvec_free(&to);
	strvec_push(&to, p->supervisor_email);
	if (compare_queue(config, store, program, key_sup, &to, p->supervisor_email,
	                  AUDIENCE_SUPERVISOR, vars, &att, now, error_r) < 0 ||
	    compare_queue(config, store, program, key_coord, &program->coordinators, "coordinator",
	                  AUDIENCE_COORDINATOR, vars, &att, now, error_r) < 0)
		goto out;
	log_info("program %s: %s report of %s queued", program->name, f->def.name, p->email);
	ret = 0;
out:
	strvec_free(&to);
	template_vars_free(&vars);
	compare_report_free(&r);
	free(filename);
	free(key);
	free(key_sup);
	free(key_coord);
	return ret;
}

int
compare_due(const struct config *config, struct store *store, const struct config_program *program,
            const struct program_step *s, time_t now, const char **error_r)
{
	const struct program_form *f = program_form(&program->model, s->compare);

	if (f == NULL)
		return 0;
	for (size_t st = 0; st < N_ELEMENTS(compare_statuses); st++) {
		struct store_participation *ps = NULL;
		size_t n = 0;
		int ret = 0;

		if (store_participation_list(store, program->name,
		                             s->to == TO_ROLE ? s->role : NULL,
		                             compare_statuses[st], &ps, &n, error_r) < 0)
			return -1;
		for (size_t i = 0; i < n && ret == 0; i++)
			if (program_role(&program->model, ps[i].role) != NULL &&
			    ps[i].supervisor_id != 0 && ps[i].supervisor_email != NULL)
				ret =
				    compare_one(config, store, program, s, f, &ps[i], now, error_r);
		store_participation_list_free(&ps, n);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int
compare_check_templates(const struct config *config, const struct config_program *program,
                        const struct program_step *s, const char **error_r)
{
	const struct program_form *f = program_form(&program->model, s->compare);
	const char *confidential[8];
	size_t n = 0;
	char *dir;
	int ret;

	if (f == NULL)
		return 0;
	/* What the workflow never shows a supervisor, and what this form
	 * does not declare visible to them. */
	confidential[n++] = "answers";
	confidential[n++] = "notes";
	confidential[n++] = "comments";
	confidential[n++] = "summary";
	if (!compare_visible(f, true))
		confidential[n++] = "ratings";
	if (!compare_visible(f, false))
		confidential[n++] = "remarks";
	confidential[n] = NULL;
	dir = template_dir_for(config->templates, program->name, "assessment-report");
	ret = template_check(dir, "assessment-report", AUDIENCE_SUPERVISOR, confidential, error_r);
	if (ret == 0)
		ret = template_check(dir, "assessment-report", AUDIENCE_COORDINATOR, NULL, error_r);
	free(dir);
	return ret;
}
