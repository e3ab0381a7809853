/* notice: see include/notice.h. */
#include "notice.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct template_vars *
notice_vars(const struct config *config, const struct config_program *program)
{
	struct template_vars *vars = template_vars_new();
	const struct program_group *unit = program->model.unit;

	template_vars_set(vars, "program_title", program->title);
	template_vars_set(vars, "program_address", config->smtp.from_addr);
	template_vars_set(vars, "coordinator_address",
	                  program->coordinators.n > 0 ? program->coordinators.v[0]
	                                              : config->smtp.from_addr);
	template_vars_setf(vars, "meetings_per_month", "%d",
	                   unit != NULL ? unit->meetings_per_month : 0);
	return vars;
}

int
notice_queue(const struct config *config, struct store *store, const struct config_program *program,
             time_t now, const char *key, const char *kind, const struct strvec *to,
             const char *thread_type, int64_t thread_ref, const char *template_name,
             const struct template_vars *vars, enum template_audience audience,
             enum outbox_nature nature, const char *in_reply_to, struct outbox_queued *q_r,
             const char **error_r)
{
	struct outbox_mail mail;

	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = kind;
	mail.program = program->name;
	mail.to = to;
	mail.thread_type = thread_type;
	mail.thread_ref = thread_ref;
	mail.template_name = template_name;
	mail.vars = vars;
	mail.audience = audience;
	mail.nature = nature;
	mail.in_reply_to = in_reply_to;
	return outbox_enqueue(config, store, &mail, now, q_r, error_r);
}

int
notice_queue_one(const struct config *config, struct store *store,
                 const struct config_program *program, time_t now, const char *key,
                 const char *kind, const char *addr, const char *thread_type, int64_t thread_ref,
                 const char *template_name, const struct template_vars *vars,
                 enum template_audience audience, const char **error_r)
{
	struct strvec to = {0};
	int ret;

	strvec_push(&to, addr);
	ret = notice_queue(config, store, program, now, key, kind, &to, thread_type, thread_ref,
	                   template_name, vars, audience, OUTBOX_NOTICE, NULL, NULL, error_r);
	strvec_free(&to);
	return ret;
}

const char *
notice_name(const char *name, const char *email)
{
	return name != NULL && *name != '\0' ? name : email;
}

void
notice_month_title(const char *month, char *buf, size_t size)
{
	int y = atoi(month), m = strlen(month) >= 7 ? atoi(month + 5) : 1;
	struct tm tm;

	if (m < 1 || m > 12) {
		snprintf(buf, size, "%s", month);
		return;
	}
	clock_local(clock_local_midnight(y, m, 1), &tm);
	if (strftime(buf, size, "%B %Y", &tm) == 0)
		snprintf(buf, size, "%s", month);
}

void
notice_program_span(const struct config_program *program, time_t *start_r, time_t *end_r)
{
	int y, m, d;

	*start_r = 0;
	*end_r = 0;
	if (program->start_date != NULL && clock_parse_date(program->start_date, &y, &m, &d) == 0)
		*start_r = clock_local_midnight(y, m, d);
	if (program->end_date != NULL && clock_parse_date(program->end_date, &y, &m, &d) == 0)
		*end_r = clock_local_midnight(y, m, d);
}
