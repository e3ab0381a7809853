/* workflow: see include/workflow.h. */
#include "workflow.h"
#include "classify.h"
#include "clock.h"
#include "command.h"
#include "form.h"
#include "log.h"
#include "match.h"
#include "mime.h"
#include "outbox.h"
#include "reply.h"
#include "schedule.h"
#include "template.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Everything one message's handling needs, borrowed. */
struct wf {
	const struct config *config;
	struct store *store;
	time_t now;
	int64_t row; /* messages.id */
	const struct mime_message *msg;
	const struct config_program *program;
	const char *reply; /* the new text of the message */
	const char *from;  /* the sender: msg->from_addr, or the address a verified
	                    * reply token was sent to */
	char *from_owned;
	struct store_outbox thread; /* the email this message answers; id 0 if none */
	const char *status;         /* what to record: applied, answered, held, ignored */
	char *reason;               /* owned */
};

static void wf_result(struct wf *wf, const char *status, const char *fmt, ...) ATTR_FORMAT(3, 4);

static void
wf_result(struct wf *wf, const char *status, const char *fmt, ...)
{
	va_list ap;

	wf->status = status;
	free(wf->reason);
	va_start(ap, fmt);
	wf->reason = xvasprintf(fmt, ap);
	va_end(ap);
}

static struct template_vars *
program_vars(const struct config *config, const struct config_program *program)
{
	struct template_vars *vars = template_vars_new();

	template_vars_set(vars, "program_title", program->title);
	template_vars_set(vars, "program_address", config->smtp.from_addr);
	template_vars_set(vars, "coordinator_address",
	                  config->coordinators.n > 0 ? config->coordinators.v[0]
	                                             : config->smtp.from_addr);
	template_vars_setf(vars, "meetings_per_month", "%d", program->meetings_per_month);
	return vars;
}

/* Queues an answer to the sender of the current message, unless that address
 * has had its share of answers today.  *sent_r says whether it was queued. */
static int
wf_answer(struct wf *wf, const char *kind, const char *template_name,
          const struct template_vars *vars, bool *sent_r, const char **error_r)
{
	struct outbox_mail mail;
	struct strvec to = {0};
	char key[96], day[11];
	bool allowed;
	int ret;

	*sent_r = false;
	clock_date_key(wf->now, day);
	if (store_auto_answer_take(wf->store, wf->from, day, wf->config->max_auto_replies_per_day,
	                           &allowed, error_r) < 0)
		return -1;
	if (!allowed) {
		log_info("not answering %s: %d answers today already", wf->from,
		         wf->config->max_auto_replies_per_day);
		return 0;
	}
	snprintf(key, sizeof(key), "%s:msg=%lld", kind, (long long)wf->row);
	strvec_push(&to, wf->from);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = kind;
	mail.program = wf->program->name;
	mail.to = &to;
	mail.thread_type = "message";
	mail.thread_ref = wf->row;
	mail.template_name = template_name;
	mail.vars = vars;
	mail.audience = AUDIENCE_PARTICIPANT;
	mail.in_reply_to = wf->msg->message_id;
	ret = outbox_enqueue(wf->config, wf->store, &mail, wf->now, sent_r, error_r);
	strvec_free(&to);
	return ret;
}

/* Queues one email to the given addresses under a fixed key. */
static int
queue_mail(const struct config *config, struct store *store, time_t now, const char *key,
           const char *kind, const struct config_program *program, const struct strvec *to,
           int64_t person_id, const char *thread_type, int64_t thread_ref,
           const char *template_name, const struct template_vars *vars,
           enum template_audience audience, bool automatic, const char *in_reply_to,
           bool *created_r, const char **error_r)
{
	struct outbox_mail mail;

	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = kind;
	mail.program = program->name;
	mail.to = to;
	mail.person_id = person_id;
	mail.thread_type = thread_type;
	mail.thread_ref = thread_ref;
	mail.template_name = template_name;
	mail.vars = vars;
	mail.audience = audience;
	mail.auto_submitted = automatic;
	mail.in_reply_to = in_reply_to;
	return outbox_enqueue(config, store, &mail, now, created_r, error_r);
}

static int
queue_to_one(struct wf *wf, const char *key, const char *kind, const char *addr, int64_t person_id,
             const char *thread_type, int64_t thread_ref, const char *template_name,
             const struct template_vars *vars, enum template_audience audience,
             const char **error_r)
{
	struct strvec to = {0};
	int ret;

	strvec_push(&to, addr);
	ret = queue_mail(wf->config, wf->store, wf->now, key, kind, wf->program, &to, person_id,
	                 thread_type, thread_ref, template_name, vars, audience, false, NULL, NULL,
	                 error_r);
	strvec_free(&to);
	return ret;
}

static const char *
display_name(const char *name, const char *email)
{
	return name != NULL && *name != '\0' ? name : email;
}

/* ---- coordinator commands ---- */

static int
cmd_decide(struct wf *wf, const struct command *cmd, struct strbuf *out, const char **error_r)
{
	static const struct {
		enum command_verb verb;
		const char *status, *kind, *template_name, *done;
	} decisions[] = {
	    {CMD_ACCEPT, "accepted", "accepted", "accepted", "accepted into the class"},
	    {CMD_DECLINE, "declined", "declined", "declined", "declined"},
	    {CMD_POOL, "pool", "pooled", "pooled", "kept in the pool for a later class"},
	};
	const struct config_program *program;
	struct store_application app;
	struct template_vars *vars = NULL;
	char key[96];
	size_t d = 0;
	bool found;
	int ret = -1;

	while (decisions[d].verb != cmd->verb)
		d++;
	memset(&app, 0, sizeof(app));
	if (store_application_get(wf->store, cmd->id, &found, &app, error_r) < 0)
		return -1;
	if (!found || strcmp(app.role, "mentee") != 0) {
		strbuf_addf(out, "%s: there is no application #%ld.\n", cmd->line, cmd->id);
		ret = 0;
		goto out;
	}
	if (strcmp(app.status, "matched") == 0 || strcmp(app.status, "withdrawn") == 0 ||
	    strcmp(app.status, decisions[d].status) == 0) {
		strbuf_addf(out, "%s: #%ld %s is already %s; nothing changed.\n", cmd->line,
		            cmd->id, display_name(app.name, app.email), app.status);
		ret = 0;
		goto out;
	}
	program = config_program_by_name(wf->config, app.program);
	if (program == NULL)
		program = wf->program;
	if (cmd->verb == CMD_ACCEPT && program->class_size > 0) {
		long accepted, matched;

		if (store_application_count(wf->store, app.program, "mentee", "accepted", &accepted,
		                            error_r) < 0 ||
		    store_application_count(wf->store, app.program, "mentee", "matched", &matched,
		                            error_r) < 0)
			goto out;
		if (accepted + matched >= program->class_size) {
			strbuf_addf(out,
			            "%s: the class is full (%d places); nothing changed. Use "
			            "\"pool %ld\" to keep the application for a later class.\n",
			            cmd->line, program->class_size, cmd->id);
			ret = 0;
			goto out;
		}
	}
	if (store_application_set_status(wf->store, app.id, decisions[d].status, cmd->text, wf->now,
	                                 error_r) < 0)
		goto out;
	vars = program_vars(wf->config, program);
	template_vars_set(vars, "name", display_name(app.name, app.email));
	template_vars_setf(vars, "application_id", "%lld", (long long)app.id);
	template_vars_set(vars, "reason", cmd->text);
	snprintf(key, sizeof(key), "%s:application=%lld", decisions[d].kind, (long long)app.id);
	if (queue_to_one(wf, key, decisions[d].kind, app.email, app.person_id, "application",
	                 app.id, decisions[d].template_name, vars, AUDIENCE_PARTICIPANT,
	                 error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: #%ld %s %s; they have been told.\n", cmd->line, cmd->id,
	            display_name(app.name, app.email), decisions[d].done);
	ret = 0;
out:
	template_vars_free(&vars);
	store_application_clear(&app);
	return ret;
}

static int
send_introduction(struct wf *wf, int64_t match_id, const char **error_r)
{
	struct store_match m;
	struct store_application mentee, mentor;
	struct template_vars *vars = NULL;
	struct strvec to = {0};
	char key[64];
	bool found;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	memset(&mentee, 0, sizeof(mentee));
	memset(&mentor, 0, sizeof(mentor));
	if (store_match_get(wf->store, match_id, &found, &m, error_r) < 0 || !found ||
	    store_application_get(wf->store, m.mentee_app, &found, &mentee, error_r) < 0 ||
	    store_application_get(wf->store, m.mentor_app, &found, &mentor, error_r) < 0)
		goto out;
	vars = program_vars(wf->config, wf->program);
	template_vars_setf(vars, "match_id", "%lld", (long long)m.id);
	template_vars_set(vars, "mentee_name", display_name(m.mentee_name, m.mentee_email));
	template_vars_set(vars, "mentee_email", m.mentee_email);
	template_vars_set(vars, "mentee_division", mentee.division);
	template_vars_set(vars, "mentor_name", display_name(m.mentor_name, m.mentor_email));
	template_vars_set(vars, "mentor_email", m.mentor_email);
	template_vars_set(vars, "mentor_division", mentor.division);
	/* The mentee's self-assessment is the partnership's starting point; it
	 * goes to the mentor, never to a supervisor. */
	template_vars_set_confidential(vars, "needs", mentee.competencies);
	template_vars_set(vars, "strengths", mentor.competencies);
	strvec_push(&to, m.mentee_email);
	strvec_push(&to, m.mentor_email);
	snprintf(key, sizeof(key), "introduction:match=%lld", (long long)m.id);
	ret = queue_mail(wf->config, wf->store, wf->now, key, "introduction", wf->program, &to, 0,
	                 "match", m.id, "introduction", vars, AUDIENCE_PARTICIPANT, false, NULL,
	                 NULL, error_r);
out:
	strvec_free(&to);
	template_vars_free(&vars);
	store_match_clear(&m);
	store_application_clear(&mentee);
	store_application_clear(&mentor);
	return ret;
}

static int
cmd_match(struct wf *wf, const struct command *cmd, struct strbuf *out, const char **error_r)
{
	struct store_application a, b, *mentee, *mentor;
	struct store_match *active = NULL;
	size_t nactive = 0;
	long used;
	int64_t match_id;
	bool found_a, found_b;
	int ret = -1;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (store_application_get(wf->store, cmd->id, &found_a, &a, error_r) < 0 ||
	    store_application_get(wf->store, cmd->id2, &found_b, &b, error_r) < 0)
		goto out;
	if (!found_a || !found_b) {
		strbuf_addf(out, "%s: there is no application #%ld.\n", cmd->line,
		            !found_a ? cmd->id : cmd->id2);
		ret = 0;
		goto out;
	}
	/* "match MENTOR with MENTEE" means the same thing. */
	mentee = strcmp(a.role, "mentee") == 0 ? &a : &b;
	mentor = mentee == &a ? &b : &a;
	if (strcmp(mentee->role, "mentee") != 0 || strcmp(mentor->role, "mentor") != 0) {
		strbuf_addf(
		    out, "%s: a match needs one mentee and one mentor (#%ld is a %s, #%ld a %s).\n",
		    cmd->line, cmd->id, a.role, cmd->id2, b.role);
		ret = 0;
		goto out;
	}
	if (strcmp(mentee->status, "declined") == 0 || strcmp(mentee->status, "withdrawn") == 0) {
		strbuf_addf(out, "%s: #%lld %s is %s; accept the application first.\n", cmd->line,
		            (long long)mentee->id, display_name(mentee->name, mentee->email),
		            mentee->status);
		ret = 0;
		goto out;
	}
	if (store_match_for_person(wf->store, mentee->person_id, &active, &nactive, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nactive; i++) {
		if (active[i].mentee_app == mentee->id) {
			strbuf_addf(out,
			            "%s: #%lld %s already has a mentor (partnership #%lld); "
			            "\"end %lld\" first to reassign.\n",
			            cmd->line, (long long)mentee->id,
			            display_name(mentee->name, mentee->email),
			            (long long)active[i].id, (long long)active[i].id);
			ret = 0;
			goto out;
		}
	}
	if (store_match_count_for_mentor(wf->store, mentor->id, &used, error_r) < 0)
		goto out;
	if (mentor->capacity > 0 && used >= mentor->capacity) {
		strbuf_addf(
		    out, "%s: mentor #%lld %s already has %ld of %ld mentees; nothing changed.\n",
		    cmd->line, (long long)mentor->id, display_name(mentor->name, mentor->email),
		    used, mentor->capacity);
		ret = 0;
		goto out;
	}
	if (store_match_create(wf->store, mentee->program, mentee->id, mentor->id, wf->now,
	                       &match_id, error_r) < 0 ||
	    store_application_set_status(wf->store, mentee->id, "matched", NULL, wf->now, error_r) <
	        0 ||
	    send_introduction(wf, match_id, error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: partnership #%lld: %s with mentor %s; both have been introduced.\n",
	            cmd->line, (long long)match_id, display_name(mentee->name, mentee->email),
	            display_name(mentor->name, mentor->email));
	ret = 0;
out:
	store_match_list_free(&active, nactive);
	store_application_clear(&a);
	store_application_clear(&b);
	return ret;
}

static int
cmd_end(struct wf *wf, const struct command *cmd, struct strbuf *out, const char **error_r)
{
	struct store_match m;
	bool found;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	if (store_match_get(wf->store, cmd->id, &found, &m, error_r) < 0)
		return -1;
	if (!found || strcmp(m.status, "active") != 0) {
		strbuf_addf(out, "%s: there is no active partnership #%ld.\n", cmd->line, cmd->id);
		ret = 0;
		goto out;
	}
	/* The mentee goes back to the accepted list, ready to be rematched. */
	if (store_match_end(wf->store, m.id, cmd->text, wf->now, error_r) < 0 ||
	    store_application_set_status(wf->store, m.mentee_app, "accepted", cmd->text, wf->now,
	                                 error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: partnership #%lld (%s with %s) ended; #%lld can be matched again.\n",
	            cmd->line, (long long)m.id, display_name(m.mentee_name, m.mentee_email),
	            display_name(m.mentor_name, m.mentor_email), (long long)m.mentee_app);
	ret = 0;
out:
	store_match_clear(&m);
	return ret;
}

int
workflow_add_mentor(const struct config *config, struct store *store,
                    const struct config_program *program, const char *email, const char *name,
                    const char *strengths, long capacity, time_t now, int64_t *app_id_r,
                    const char **error_r)
{
	struct store_application app;
	int64_t person;
	bool created;

	memset(&app, 0, sizeof(app));
	if (store_person_upsert(store, email, name, &person, error_r) < 0)
		return -1;
	app.program = (char *)program->name;
	app.person_id = person;
	app.role = (char *)"mentor";
	app.status = (char *)"active";
	app.years_manager = -1;
	app.competencies = (char *)strengths;
	app.capacity = capacity > 0 ? capacity : 1;
	app.created_at = now;
	return store_application_save(store, &app, app_id_r, &created, error_r);
}

static void
set_opt(char **dst, const struct form_result *form, const char *key)
{
	const char *v = form_result_value(form, key);

	*dst = v != NULL ? xstrdup(v) : NULL;
}

static int
register_mentor_form(struct wf *wf, const struct form_result *form, struct strbuf *out,
                     const char **error_r)
{
	const char *email = form_result_value(form, "Email");
	const char *name = form_result_value(form, "Name");
	const char *capacity = form_result_value(form, "Capacity");
	struct store_application app;
	struct template_vars *vars = NULL;
	char key[64];
	int64_t id;
	bool found;
	int ret = -1;

	memset(&app, 0, sizeof(app));
	if (form->problems.n > 0) {
		char *summary = form_result_summary(form);

		strbuf_adds(out, "The mentor form could not be used:\n");
		for (size_t i = 0; i < form->problems.n; i++)
			strbuf_addf(out, "  - %s\n", form->problems.v[i]);
		strbuf_addf(out, "What was understood:\n%s\n", summary);
		free(summary);
		return 0;
	}
	if (workflow_add_mentor(wf->config, wf->store, wf->program, email, name,
	                        form_result_value(form, "Strengths"),
	                        capacity != NULL ? atol(capacity) : 1, wf->now, &id, error_r) < 0 ||
	    store_application_get(wf->store, id, &found, &app, error_r) < 0)
		goto out;
	/* The form's other answers complete the registration. */
	free(app.division);
	set_opt(&app.division, form, "Division");
	free(app.answers);
	app.answers = form_result_summary(form);
	{
		bool created;

		if (store_application_save(wf->store, &app, &id, &created, error_r) < 0)
			goto out;
	}
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "name", display_name(app.name, app.email));
	template_vars_setf(vars, "application_id", "%lld", (long long)id);
	snprintf(key, sizeof(key), "mentor-welcome:application=%lld", (long long)id);
	if (queue_to_one(wf, key, "mentor-welcome", app.email, app.person_id, "application", id,
	                 "mentor-welcome", vars, AUDIENCE_PARTICIPANT, error_r) < 0)
		goto out;
	strbuf_addf(out, "Mentor #%lld %s <%s> is registered (strengths: %s).\n", (long long)id,
	            display_name(app.name, app.email), app.email,
	            app.competencies != NULL ? app.competencies : "none given");
	ret = 0;
out:
	template_vars_free(&vars);
	store_application_clear(&app);
	return ret;
}

static int
cmd_mentor(struct wf *wf, const struct command *cmd, struct strbuf *out, const char **error_r)
{
	char *text = xstrdup(cmd->text != NULL ? cmd->text : "");
	char *sp = strchr(text, ' ');
	const char *name = NULL;
	int64_t id;
	int ret = -1;

	if (sp != NULL) {
		*sp = '\0';
		name = str_trim(sp + 1);
	}
	str_lower(text);
	if (workflow_add_mentor(wf->config, wf->store, wf->program, text,
	                        name != NULL && *name != '\0' ? name : NULL, NULL, 1, wf->now, &id,
	                        error_r) < 0)
		goto out;
	strbuf_addf(out,
	            "%s: mentor #%lld registered. Send the mentor form for them to record "
	            "strengths and capacity.\n",
	            cmd->line, (long long)id);
	ret = 0;
out:
	free(text);
	return ret;
}

static int build_digest(const struct config *config, struct store *store,
                        const struct config_program *program, time_t now, const char *key,
                        const char *in_reply_to, const char **error_r);

static int
handle_coordinator(struct wf *wf, const char **error_r)
{
	struct command_list *cmds = NULL;
	struct form_result *form = NULL;
	struct template_vars *vars = NULL;
	struct strbuf out = {0};
	char key[64];
	bool help = false;
	int ret = -1;

	command_parse_text(wf->reply, wf->now, &cmds);
	for (size_t i = 0; i < cmds->n; i++) {
		const struct command *cmd = &cmds->cmds[i];
		int rc = 0;

		switch (cmd->verb) {
		case CMD_ACCEPT:
		case CMD_DECLINE:
		case CMD_POOL:
			rc = cmd_decide(wf, cmd, &out, error_r);
			break;
		case CMD_MATCH:
			rc = cmd_match(wf, cmd, &out, error_r);
			break;
		case CMD_END:
			rc = cmd_end(wf, cmd, &out, error_r);
			break;
		case CMD_MENTOR:
			rc = cmd_mentor(wf, cmd, &out, error_r);
			break;
		case CMD_DIGEST:
			snprintf(key, sizeof(key), "digest:msg=%lld", (long long)wf->row);
			rc = build_digest(wf->config, wf->store, wf->program, wf->now, key,
			                  wf->msg->message_id, error_r);
			strbuf_addf(&out, "%s: the digest follows in a separate email.\n",
			            cmd->line);
			break;
		case CMD_HELP:
			help = true;
			break;
		case CMD_MET:
		case CMD_WITHDRAW:
			strbuf_addf(&out, "%s: only partners report meetings or withdraw.\n",
			            cmd->line);
			break;
		}
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < cmds->errors.n; i++)
		strbuf_addf(&out, "%s\n", cmds->errors.v[i]);
	if (cmds->n == 0 && cmds->errors.n == 0) {
		form_parse(&wf->program->mentor_form, wf->reply, &form);
		if (form->keys_found >= 2) {
			if (register_mentor_form(wf, form, &out, error_r) < 0)
				goto out;
		} else {
			strbuf_adds(&out, "No command was found in your message.\n");
			help = true;
		}
	}
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "results", strbuf_str(&out));
	template_vars_set(vars, "help", help ? "yes" : NULL);
	snprintf(key, sizeof(key), "command-results:msg=%lld", (long long)wf->row);
	if (queue_mail(wf->config, wf->store, wf->now, key, "command-results", wf->program,
	               &wf->config->coordinators, 0, "message", wf->row, "command-results", vars,
	               AUDIENCE_COORDINATOR, false, wf->msg->message_id, NULL, error_r) < 0)
		goto out;
	wf_result(wf, cmds->errors.n > 0 ? "answered" : "applied", "%zu command(s), %zu error(s)",
	          cmds->n, cmds->errors.n);
	ret = 0;
out:
	strbuf_free(&out);
	template_vars_free(&vars);
	form_result_free(&form);
	command_list_free(&cmds);
	return ret;
}

/* ---- participants ---- */

/* The partnership a meeting report is about: the thread it answers, else
 * the sender's only active partnership. */
/* The partnership a meeting report is about: the thread it answers, else
 * the sender's first active partnership. */
static int
find_sender_match(struct wf *wf, int64_t person_id, struct store_match *m_r, bool *found_r,
                  const char **error_r)
{
	struct store_match *list = NULL;
	size_t n = 0, pick = 0;

	*found_r = false;
	if (store_match_for_person(wf->store, person_id, &list, &n, error_r) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (wf->thread.thread_type != NULL && strcmp(wf->thread.thread_type, "match") == 0) {
		for (size_t i = 0; i < n; i++)
			if (list[i].id == wf->thread.thread_ref)
				pick = i;
	}
	*m_r = list[pick];
	memset(&list[pick], 0, sizeof(list[pick]));
	*found_r = true;
	store_match_list_free(&list, n);
	return 0;
}

static int
handle_meetings(struct wf *wf, const struct command_list *cmds, bool *handled_r,
                const char **error_r)
{
	struct store_person person;
	struct store_match m;
	struct template_vars *vars = NULL;
	struct strbuf out = {0};
	bool found, sent;
	char month[8];
	long count = 0;
	int ret = -1;

	memset(&person, 0, sizeof(person));
	memset(&m, 0, sizeof(m));
	*handled_r = false;
	if (store_person_by_email(wf->store, wf->from, &found, &person, error_r) < 0)
		return -1;
	if (found && find_sender_match(wf, person.id, &m, &found, error_r) < 0)
		goto out;
	vars = program_vars(wf->config, wf->program);
	if (!found) {
		template_vars_set(vars, "results",
		                  "You are not in an active partnership of this program, so the "
		                  "meeting could not be recorded. The coordinator has been told.");
		if (wf_answer(wf, "meeting-problem", "meeting-recorded", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "held", "meeting report from someone not in a partnership");
		*handled_r = true;
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < cmds->n; i++) {
		const struct command *cmd = &cmds->cmds[i];
		bool created;

		if (cmd->verb != CMD_MET)
			continue;
		if (store_meeting_add(wf->store, m.id, cmd->date, cmd->minutes, person.id, wf->row,
		                      wf->now, &created, error_r) < 0)
			goto out;
		if (created)
			strbuf_addf(&out, "Recorded: meeting on %s", cmd->date);
		else
			strbuf_addf(&out, "Already recorded: meeting on %s", cmd->date);
		if (cmd->minutes > 0)
			strbuf_addf(&out, " (%dh%02d)", cmd->minutes / 60, cmd->minutes % 60);
		strbuf_adds(&out, ".\n");
		memcpy(month, cmd->date, 7);
		month[7] = '\0';
		if (store_meeting_count(wf->store, m.id, month, &count, NULL, error_r) < 0)
			goto out;
		strbuf_addf(&out, "Meetings in %s so far: %ld of the %d the program asks for.\n",
		            month, count, wf->program->meetings_per_month);
	}
	for (size_t i = 0; i < cmds->errors.n; i++)
		strbuf_addf(&out, "Not understood: %s\n", cmds->errors.v[i]);
	template_vars_set(vars, "results", strbuf_str(&out));
	template_vars_set(vars, "partner_name",
	                  m.mentee_person == person.id
	                      ? display_name(m.mentor_name, m.mentor_email)
	                      : display_name(m.mentee_name, m.mentee_email));
	if (wf_answer(wf, "meeting-recorded", "meeting-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, cmds->errors.n > 0 ? "answered" : "applied",
	          "meeting report for partnership #%lld", (long long)m.id);
	*handled_r = true;
	ret = 0;
out:
	strbuf_free(&out);
	template_vars_free(&vars);
	store_person_clear(&person);
	store_match_clear(&m);
	return ret;
}

/*
 * An evaluation form (the program's form evaluation) from a partner.  Cases:
 *   1. the sender is in no active partnership: held for the coordinator,
 *      the sender told why;
 *   2. the form has problems (a missing answer, a scale out of range):
 *      nothing recorded, the sender told what to fix;
 *   3. recorded, once per message (a replay of the same message finds it
 *      recorded), the sender thanked.
 * The answers are stored as the form's summary and never put in an email.
 */
static int
handle_evaluation(struct wf *wf, const struct form_result *form, const char **error_r)
{
	struct store_person person;
	struct store_match m;
	struct template_vars *vars = program_vars(wf->config, wf->program);
	struct strbuf out = {0};
	char *answers = NULL;
	bool found, created, sent;
	long count = 0;
	int ret = -1;

	memset(&person, 0, sizeof(person));
	memset(&m, 0, sizeof(m));
	if (store_person_by_email(wf->store, wf->from, &found, &person, error_r) < 0)
		goto out;
	if (found && find_sender_match(wf, person.id, &m, &found, error_r) < 0)
		goto out;
	template_vars_set(vars, "name", display_name(found ? person.name : NULL, wf->from));
	if (!found) {
		template_vars_set(
		    vars, "results",
		    "You are not in an active partnership of this program, so the "
		    "evaluation could not be recorded. The coordinator has been told.\n");
		if (wf_answer(wf, "evaluation-problem", "evaluation-recorded", vars, &sent,
		              error_r) < 0)
			goto out;
		wf_result(wf, "held", "evaluation from someone not in a partnership");
		ret = 0;
		goto out;
	}
	if (form->problems.n > 0) {
		strbuf_adds(&out, "The evaluation was not recorded:\n");
		for (size_t i = 0; i < form->problems.n; i++)
			strbuf_addf(&out, "  - %s\n", form->problems.v[i]);
		strbuf_adds(&out, "Please correct it and send it again.\n");
		template_vars_set(vars, "results", strbuf_str(&out));
		if (wf_answer(wf, "evaluation-problems", "evaluation-recorded", vars, &sent,
		              error_r) < 0)
			goto out;
		wf_result(wf, "answered", "evaluation form with %zu problem(s)", form->problems.n);
		ret = 0;
		goto out;
	}
	answers = form_result_summary(form);
	if (store_evaluation_add(wf->store, m.id, person.id, wf->row, answers, wf->now, &created,
	                         error_r) < 0 ||
	    store_evaluation_count(wf->store, m.id, &count, error_r) < 0)
		goto out;
	strbuf_addf(&out, "%s: your evaluation of the partnership with %s.\n",
	            created ? "Recorded" : "Already recorded",
	            m.mentee_person == person.id ? display_name(m.mentor_name, m.mentor_email)
	                                         : display_name(m.mentee_name, m.mentee_email));
	template_vars_set(vars, "results", strbuf_str(&out));
	if (wf_answer(wf, "evaluation-recorded", "evaluation-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "evaluation for partnership #%lld (%ld in all)", (long long)m.id,
	          count);
	ret = 0;
out:
	free(answers);
	strbuf_free(&out);
	template_vars_free(&vars);
	store_person_clear(&person);
	store_match_clear(&m);
	return ret;
}

static int
save_application(struct wf *wf, const struct form_result *form, const char **error_r)
{
	struct store_application app;
	struct template_vars *vars = NULL;
	const struct form_value *years;
	const char *name = form_result_value(form, "Name");
	char key[80];
	int64_t person, id;
	bool created;
	int ret = -1;

	memset(&app, 0, sizeof(app));
	if (store_person_upsert(wf->store, wf->from, name, &person, error_r) < 0)
		return -1;
	app.program = xstrdup(wf->program->name);
	app.person_id = person;
	app.role = xstrdup("mentee");
	app.status = xstrdup("applied");
	set_opt(&app.division, form, "Division");
	set_opt(&app.classification, form, "Classification");
	years = form_result_get(form, "Years as manager");
	app.years_manager = years != NULL && years->value != NULL ? years->number : -1;
	set_opt(&app.supervisor_email, form, "Supervisor email");
	set_opt(&app.competencies, form, "Developmental needs");
	set_opt(&app.availability, form, "Availability");
	set_opt(&app.motivation, form, "Why do you want to join");
	app.answers = form_result_summary(form);
	app.created_at = wf->now;
	if (store_application_save(wf->store, &app, &id, &created, error_r) < 0)
		goto out;

	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "name", display_name(name, wf->from));
	template_vars_setf(vars, "application_id", "%lld", (long long)id);
	template_vars_set_confidential(vars, "answers", app.answers);
	snprintf(key, sizeof(key),
	         created ? "ack:application=%lld" : "application-updated:msg=%lld",
	         created ? (long long)id : (long long)wf->row);
	if (queue_to_one(wf, key, "ack", wf->from, person, "application", id,
	                 created ? "application-ack" : "application-updated", vars,
	                 AUDIENCE_PARTICIPANT, error_r) < 0)
		goto out;
	/* The supervisor learns that their employee applied, and nothing of the
	 * self-assessment: the template is rendered for the supervisor audience,
	 * which refuses confidential values. */
	if (wf->program->notify_supervisor && app.supervisor_email != NULL) {
		template_vars_set(vars, "supervisor_email", app.supervisor_email);
		template_vars_set(vars, "division", app.division);
		snprintf(key, sizeof(key), "supervisor-notice:application=%lld", (long long)id);
		if (queue_to_one(wf, key, "supervisor-notice", app.supervisor_email, 0,
		                 "application", id, "supervisor-notice", vars, AUDIENCE_SUPERVISOR,
		                 error_r) < 0)
			goto out;
	}
	wf_result(wf, "applied", "application #%lld %s", (long long)id,
	          created ? "received" : "updated");
	ret = 0;
out:
	template_vars_free(&vars);
	store_application_clear(&app);
	return ret;
}

static int
answer_form_problems(struct wf *wf, const struct form_result *form, const char **error_r)
{
	struct template_vars *vars = program_vars(wf->config, wf->program);
	struct strbuf problems = {0};
	char *summary = form_result_summary(form);
	char *blank = form_render_blank(&wf->program->application_form);
	bool sent;
	int ret;

	for (size_t i = 0; i < form->problems.n; i++)
		strbuf_addf(&problems, "  - %s\n", form->problems.v[i]);
	template_vars_set(vars, "problems", strbuf_str(&problems));
	template_vars_set(vars, "understood", summary);
	template_vars_set(vars, "form", blank);
	ret = wf_answer(wf, "form-problems", "form-problems", vars, &sent, error_r);
	if (ret == 0)
		wf_result(wf, "answered", "application form with %zu problem(s)%s",
		          form->problems.n, sent ? "" : "; not answered (daily answer limit)");
	strbuf_free(&problems);
	free(summary);
	free(blank);
	template_vars_free(&vars);
	return ret;
}

static int
handle_participant(struct wf *wf, const char **error_r)
{
	struct command_list *cmds = NULL;
	struct form_result *form = NULL;
	struct template_vars *vars = NULL;
	struct store_person person;
	bool known, sent, handled;
	int ret = -1;

	memset(&person, 0, sizeof(person));
	command_parse_text(wf->reply, wf->now, &cmds);
	for (size_t i = 0; i < cmds->n; i++) {
		if (command_is_coordinator_only(cmds->cmds[i].verb)) {
			vars = program_vars(wf->config, wf->program);
			template_vars_set(vars, "command", cmds->cmds[i].line);
			if (wf_answer(wf, "command-refused", "command-refused", vars, &sent,
			              error_r) < 0)
				goto out;
			wf_result(wf, "answered", "refused \"%s\": sender is not a coordinator",
			          command_verb_name(cmds->cmds[i].verb));
			ret = 0;
			goto out;
		}
	}
	if (cmds->n > 0) {
		if (handle_meetings(wf, cmds, &handled, error_r) < 0)
			goto out;
		if (handled) {
			ret = 0;
			goto out;
		}
	}

	/* An evaluation, when the program has that form: in the new text
	 * only (a quoted evaluation request would otherwise look filled in). */
	if (wf->program->evaluation_form.nfields > 0) {
		form_parse(&wf->program->evaluation_form, wf->reply, &form);
		if (form->keys_found >= 2) {
			ret = handle_evaluation(wf, form, error_r);
			goto out;
		}
		form_result_free(&form);
	}

	/* An application: the form is usually in the new text; a person who
	 * filled in the quoted questionnaire leaves it in the quote. */
	form_parse(&wf->program->application_form, wf->reply, &form);
	if (form->keys_found < 2) {
		form_result_free(&form);
		form_parse(&wf->program->application_form, wf->msg->text, &form);
	}
	if (form->keys_found >= 2) {
		ret = form->problems.n == 0 ? save_application(wf, form, error_r)
		                            : answer_form_problems(wf, form, error_r);
		goto out;
	}

	if (store_person_by_email(wf->store, wf->from, &known, &person, error_r) < 0)
		goto out;
	vars = program_vars(wf->config, wf->program);
	if (!known) {
		char *blank = form_render_blank(&wf->program->application_form);

		template_vars_set(vars, "form", blank);
		free(blank);
		if (wf_answer(wf, "questionnaire", "questionnaire", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "answered", "%s",
		          sent ? "questionnaire sent"
		               : "questionnaire not sent (daily answer limit)");
	} else {
		if (cmds->errors.n > 0) {
			char *errors = strvec_join(&cmds->errors, "\n");

			template_vars_set(vars, "errors", errors);
			free(errors);
		}
		if (wf_answer(wf, "not-understood", "not-understood", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "held", "not understood; held for the coordinator");
	}
	ret = 0;
out:
	store_person_clear(&person);
	template_vars_free(&vars);
	form_result_free(&form);
	command_list_free(&cmds);
	return ret;
}

/* Tells the coordinators, once, that a person's address stopped working. */
static int
notify_bounce(struct wf *wf, const struct store_person *p, const struct bounce_info *bounce,
              const char **error_r)
{
	struct template_vars *vars;
	char key[96];
	int ret;

	if (wf->config->coordinators.n == 0)
		return 0;
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "address", p->email);
	template_vars_set(vars, "name", p->name);
	template_vars_set(vars, "status", bounce->status != NULL ? bounce->status : "unknown");
	template_vars_set(vars, "diagnostic", bounce->diagnostic);
	snprintf(key, sizeof(key), "bounce-notice:person=%lld:msg=%lld", (long long)p->id,
	         (long long)wf->row);
	ret = queue_mail(wf->config, wf->store, wf->now, key, "bounce-notice", wf->program,
	                 &wf->config->coordinators, 0, "person", p->id, "bounce-notice", vars,
	                 AUDIENCE_COORDINATOR, true, NULL, NULL, error_r);
	template_vars_free(&vars);
	return ret;
}

/* A bounce is never answered.  A permanent one marks each known recipient
 * undeliverable and, the first time, tells the coordinators; the message is
 * also held so the digest lists it. */
static int
handle_bounce(struct wf *wf, const struct bounce_info *bounce, const char **error_r)
{
	struct strbuf who = {0};
	int ret = -1;

	for (size_t i = 0; i < bounce->recipients.n; i++) {
		struct store_person p;
		bool found;

		memset(&p, 0, sizeof(p));
		if (store_person_by_email(wf->store, bounce->recipients.v[i], &found, &p, error_r) <
		    0)
			goto out;
		if (found && bounce->permanent && !p.undeliverable &&
		    (store_person_set_undeliverable(wf->store, p.id,
		                                    bounce->status ? bounce->status : "bounced",
		                                    error_r) < 0 ||
		     notify_bounce(wf, &p, bounce, error_r) < 0)) {
			store_person_clear(&p);
			goto out;
		}
		strbuf_addf(&who, "%s%s", i > 0 ? ", " : "", bounce->recipients.v[i]);
		store_person_clear(&p);
	}
	wf_result(wf, bounce->permanent ? "held" : "ignored", "%s bounce (%s) for %s",
	          bounce->permanent ? "permanent" : "temporary",
	          bounce->status != NULL ? bounce->status : "no status", strbuf_str(&who));
	ret = 0;
out:
	strbuf_free(&who);
	return ret;
}

/* ---- whose message, and which thread ---- */

static bool
recipients_include(const char *list, const char *addr)
{
	size_t len = strlen(addr);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == len && strncasecmp(p, addr, len) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* The token of a recipient address that is the program's own address with a
 * +detail (To, Cc, or what the delivering server recorded), or NULL.  The
 * caller owns it. */
static char *
find_reply_token(const struct config *config, const struct mime_message *msg)
{
	const char *delivered[] = {mime_header_get(msg, "Delivered-To"),
	                           mime_header_get(msg, "X-Original-To")};
	struct strvec addrs = {0};
	char *found = NULL;

	for (size_t i = 0; i < msg->to.n; i++)
		strvec_push(&addrs, msg->to.v[i]);
	for (size_t i = 0; i < msg->cc.n; i++)
		strvec_push(&addrs, msg->cc.v[i]);
	for (size_t i = 0; i < N_ELEMENTS(delivered); i++)
		if (delivered[i] != NULL)
			strvec_push(&addrs, delivered[i]);
	for (size_t i = 0; i < addrs.n && found == NULL; i++) {
		char *token = token_from_address(addrs.v[i]);
		char *ours;

		if (token == NULL)
			continue;
		ours = token_address(config->smtp.from_addr, token);
		if (strcasecmp(ours, addrs.v[i]) == 0)
			found = token;
		else
			free(token);
		free(ours);
	}
	strvec_free(&addrs);
	return found;
}

/* The outgoing email a message answers by its headers: In-Reply-To, then
 * References newest first, then the subject tag. */
static int
find_thread_by_headers(struct wf *wf, bool *found_r, const char **error_r)
{
	const struct mime_message *msg = wf->msg;
	int64_t tagged;

	*found_r = false;
	if (msg->in_reply_to != NULL &&
	    store_outbox_by_message_id(wf->store, msg->in_reply_to, found_r, &wf->thread, error_r) <
	        0)
		return -1;
	for (size_t i = msg->references.n; i > 0 && !*found_r; i--) {
		const char *ref = msg->references.v[i - 1];

		/* The newest reference is usually In-Reply-To, already looked up. */
		if (msg->in_reply_to != NULL && strcmp(ref, msg->in_reply_to) == 0)
			continue;
		if (store_outbox_by_message_id(wf->store, ref, found_r, &wf->thread, error_r) < 0)
			return -1;
	}
	tagged = outbox_thread_from_subject(msg->subject);
	if (!*found_r && tagged > 0 &&
	    store_outbox_get(wf->store, tagged, found_r, &wf->thread, error_r) < 0)
		return -1;
	return 0;
}

/*
 * Ties the message to the email it answers and decides whether its sender
 * proved who they are.  The cases:
 *   a token that verifies  the thread is the token's.  When the email went
 *                          to one person, the sender is that person, at
 *                          their registered address, whatever the From
 *                          says; when it went to several, the From must be
 *                          one of them.
 *   a token that does not  forged or mangled: held, never answered
 *   no token, or no secret configured
 *                          the headers find the thread (find_thread_by_
 *                          headers); the From must be one of its recipients
 *   no thread at all       a new message: the From is all there is
 * *trusted_r false means: hold it unanswered (the reason is recorded).  An
 * answer to an address that did not prove itself would be backscatter.
 */
static int
resolve_origin(struct wf *wf, bool *trusted_r, const char **error_r)
{
	const char *secret = wf->config->hmac_secret;
	char *token = secret != NULL ? find_reply_token(wf->config, wf->msg) : NULL;
	int64_t thread_id = 0, person_id = 0;
	bool found = false;
	int ret = -1;

	*trusted_r = false;
	wf->from = wf->msg->from_addr;
	if (token != NULL) {
		if (token_verify(secret, token, &thread_id, &person_id) < 0) {
			wf_result(wf, "held", "reply token does not verify (forged or altered)");
			ret = 0;
			goto out;
		}
		if (store_outbox_get(wf->store, thread_id, &found, &wf->thread, error_r) < 0)
			goto out;
		if (!found) {
			wf_result(wf, "held", "reply token names email #%lld, which is not known",
			          (long long)thread_id);
			ret = 0;
			goto out;
		}
		if (person_id > 0) {
			struct store_person p;

			memset(&p, 0, sizeof(p));
			if (store_person_get(wf->store, person_id, &p, error_r) < 0)
				goto out;
			if (strcasecmp(p.email, wf->msg->from_addr) != 0) {
				log_info("message %lld: From %s, token of %s; acting as %s",
				         (long long)wf->row, wf->msg->from_addr, p.email, p.email);
				wf->from_owned = p.email;
				p.email = NULL;
				wf->from = wf->from_owned;
			}
			store_person_clear(&p);
			*trusted_r = true;
			ret = 0;
			goto out;
		}
	} else if (find_thread_by_headers(wf, &found, error_r) < 0) {
		goto out;
	}
	if (found && !recipients_include(wf->thread.recipients, wf->from)) {
		wf_result(wf, "held", "%s answered email #%lld, which was sent to %s, not to them",
		          wf->from, (long long)wf->thread.id, wf->thread.recipients);
		ret = 0;
		goto out;
	}
	*trusted_r = true;
	ret = 0;
out:
	free(token);
	return ret;
}

/* Someone whose address bounced writes again from it: it works after all. */
static int
mark_deliverable(struct wf *wf, const char **error_r)
{
	struct store_person p;
	bool found;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	if (store_person_by_email(wf->store, wf->from, &found, &p, error_r) < 0)
		return -1;
	if (found && p.undeliverable && wf->from == wf->msg->from_addr) {
		log_info("%s wrote again: no longer marked undeliverable", p.email);
		ret = store_person_set_undeliverable(wf->store, p.id, NULL, error_r);
	}
	store_person_clear(&p);
	return ret;
}

void
workflow_parse(const char *raw, size_t len, struct workflow_parsed *parsed_r)
{
	const char *perr;

	memset(parsed_r, 0, sizeof(*parsed_r));
	parsed_r->cls = CLASS_MESSAGE;
	if (mime_parse(raw, len, NULL, &parsed_r->msg, &perr) < 0) {
		parsed_r->error = xstrdup(perr);
		return;
	}
	parsed_r->cls = classify_message(parsed_r->msg, &parsed_r->bounce);
	parsed_r->reply = reply_extract(parsed_r->msg->text, strlen(parsed_r->msg->text), NULL);
}

void
workflow_parsed_clear(struct workflow_parsed *parsed)
{
	if (parsed->cls == CLASS_BOUNCE)
		bounce_info_free(&parsed->bounce);
	mime_message_free(&parsed->msg);
	free(parsed->error);
	free(parsed->reply);
	memset(parsed, 0, sizeof(*parsed));
}

int
workflow_apply_parsed(const struct config *config, struct store *store, int64_t row,
                      const struct workflow_parsed *parsed, time_t now, const char **error_r)
{
	struct mime_message *msg = parsed->msg;
	enum message_class cls = parsed->cls;
	struct wf wf;
	int ret = -1;

	memset(&wf, 0, sizeof(wf));
	wf.config = config;
	wf.store = store;
	wf.now = now;
	wf.row = row;
	if (msg == NULL) {
		wf_result(&wf, "quarantined", "%s", parsed->error);
		goto record;
	}
	wf.msg = msg;
	{
		struct strvec rcpts = {0};

		for (size_t i = 0; i < msg->to.n; i++)
			strvec_push(&rcpts, msg->to.v[i]);
		for (size_t i = 0; i < msg->cc.n; i++)
			strvec_push(&rcpts, msg->cc.v[i]);
		wf.program = config_program_for(config, &rcpts);
		strvec_free(&rcpts);
	}
	if (cls == CLASS_BOUNCE) {
		if (handle_bounce(&wf, &parsed->bounce, error_r) < 0)
			goto out;
	} else if (cls == CLASS_AUTO_REPLY) {
		wf_result(&wf, "ignored", "automatic message; not answered");
	} else if (msg->from_addr == NULL || *msg->from_addr == '\0') {
		wf_result(&wf, "held", "no sender address; held for the coordinator");
	} else {
		bool trusted;

		if (resolve_origin(&wf, &trusted, error_r) < 0)
			goto out;
		if (!trusted)
			goto record;
		if (mark_deliverable(&wf, error_r) < 0)
			goto out;
		if (wf.thread.program != NULL &&
		    config_program_by_name(config, wf.thread.program) != NULL)
			wf.program = config_program_by_name(config, wf.thread.program);
		wf.reply = parsed->reply;
		if (config_is_coordinator(config, wf.from)) {
			if (handle_coordinator(&wf, error_r) < 0)
				goto out;
		} else if (handle_participant(&wf, error_r) < 0) {
			goto out;
		}
	}
record:
	if (store_message_set_result(store, row, msg != NULL ? msg->from_addr : NULL,
	                             msg != NULL ? msg->subject : NULL, classify_name(cls),
	                             wf.status != NULL ? wf.status : "applied", wf.reason,
	                             wf.program != NULL ? wf.program->name : NULL, error_r) < 0)
		goto out;
	log_info("message %lld from %s: %s (%s)", (long long)row,
	         msg != NULL && msg->from_addr != NULL ? msg->from_addr : "?",
	         wf.status != NULL ? wf.status : "applied", wf.reason != NULL ? wf.reason : "");
	ret = 0;
out:
	free(wf.reason);
	free(wf.from_owned);
	store_outbox_clear(&wf.thread);
	return ret;
}

int
workflow_apply_message(const struct config *config, struct store *store, int64_t row,
                       const char *raw, size_t len, time_t now, const char **error_r)
{
	struct workflow_parsed parsed;
	int ret;

	workflow_parse(raw, len, &parsed);
	ret = workflow_apply_parsed(config, store, row, &parsed, now, error_r);
	workflow_parsed_clear(&parsed);
	return ret;
}

/* ---- what is due ---- */

static void
describe_application(struct strbuf *sb, const struct store_application *a)
{
	strbuf_addf(sb, "  #%lld %s <%s>", (long long)a->id, display_name(a->name, a->email),
	            a->email);
	if (a->division != NULL)
		strbuf_addf(sb, ", %s", a->division);
	if (a->years_manager >= 0)
		strbuf_addf(sb, ", %ld years as manager", a->years_manager);
	strbuf_addc(sb, '\n');
	if (a->competencies != NULL)
		strbuf_addf(sb, "      %s: %s\n",
		            strcmp(a->role, "mentor") == 0 ? "strengths" : "needs",
		            a->competencies);
}

/* The digest: applications waiting for a decision, mentees waiting for a
 * mentor with suggested pairs, mentors' free places, emails that failed and
 * messages held.  Failures and held messages are marked reported only when
 * the digest is actually queued (the key was new). */
static int
build_digest(const struct config *config, struct store *store, const struct config_program *program,
             time_t now, const char *key, const char *in_reply_to, const char **error_r)
{
	struct store_application *pending = NULL, *accepted = NULL, *mentors = NULL;
	struct store_outbox *failed = NULL;
	struct store_message *held = NULL;
	struct match_candidate *mc = NULL, *oc = NULL;
	struct match_suggestion *sugg = NULL;
	size_t npending = 0, naccepted = 0, nmentors = 0, nfailed = 0, nheld = 0, nsugg = 0;
	struct strbuf sb_pending = {0}, sb_waiting = {0}, sb_mentors = {0}, sb_sugg = {0},
	              sb_failed = {0}, sb_held = {0};
	struct template_vars *vars = NULL;
	bool created;
	int ret = -1;

	if (store_application_list(store, program->name, "mentee", "applied", &pending, &npending,
	                           error_r) < 0 ||
	    store_application_list(store, program->name, "mentee", "accepted", &accepted,
	                           &naccepted, error_r) < 0 ||
	    store_application_list(store, program->name, "mentor", "active", &mentors, &nmentors,
	                           error_r) < 0 ||
	    store_outbox_unreported_failures(store, false, &failed, &nfailed, error_r) < 0 ||
	    store_message_unreported(store, program->name, false, &held, &nheld, error_r) < 0)
		goto out;
	for (size_t i = 0; i < npending; i++)
		describe_application(&sb_pending, &pending[i]);
	for (size_t i = 0; i < naccepted; i++)
		describe_application(&sb_waiting, &accepted[i]);
	oc = xcalloc(nmentors + 1, sizeof(*oc));
	for (size_t i = 0; i < nmentors; i++) {
		long used;

		if (store_match_count_for_mentor(store, mentors[i].id, &used, error_r) < 0)
			goto out;
		oc[i].id = mentors[i].id;
		oc[i].competencies = mentors[i].competencies;
		oc[i].free_slots = mentors[i].capacity - used;
		describe_application(&sb_mentors, &mentors[i]);
		strbuf_addf(&sb_mentors, "      %ld of %ld places taken\n", used,
		            mentors[i].capacity);
	}
	/* Suggest for accepted mentees first, then for those still applying. */
	mc = xcalloc(naccepted + npending + 1, sizeof(*mc));
	for (size_t i = 0; i < naccepted; i++) {
		mc[i].id = accepted[i].id;
		mc[i].competencies = accepted[i].competencies;
	}
	for (size_t i = 0; i < npending; i++) {
		mc[naccepted + i].id = pending[i].id;
		mc[naccepted + i].competencies = pending[i].competencies;
	}
	match_suggest(mc, naccepted + npending, oc, nmentors, &sugg, &nsugg);
	for (size_t i = 0; i < nsugg; i++)
		strbuf_addf(&sb_sugg, "  match %lld with %lld   (%d in common%s%s)\n",
		            (long long)sugg[i].mentee_id, (long long)sugg[i].mentor_id,
		            sugg[i].score, sugg[i].score > 0 ? ": " : "", sugg[i].shared);
	for (size_t i = 0; i < nfailed; i++)
		strbuf_addf(&sb_failed, "  %s to %s: %s\n", failed[i].kind, failed[i].recipients,
		            failed[i].last_error != NULL ? failed[i].last_error : "failed");
	for (size_t i = 0; i < nheld; i++)
		strbuf_addf(&sb_held, "  message #%lld from %s, \"%s\": %s\n",
		            (long long)held[i].id, held[i].from_addr ? held[i].from_addr : "?",
		            held[i].subject ? held[i].subject : "",
		            held[i].reason ? held[i].reason : "");

	vars = program_vars(config, program);
	template_vars_set(vars, "pending", strbuf_str(&sb_pending));
	template_vars_set(vars, "waiting", strbuf_str(&sb_waiting));
	template_vars_set(vars, "mentors", strbuf_str(&sb_mentors));
	template_vars_set(vars, "suggestions", strbuf_str(&sb_sugg));
	template_vars_set(vars, "failed", strbuf_str(&sb_failed));
	template_vars_set(vars, "held", strbuf_str(&sb_held));
	template_vars_setf(vars, "pending_count", "%zu", npending);
	if (queue_mail(config, store, now, key, "digest", program, &config->coordinators, 0,
	               "digest", 0, "digest", vars, AUDIENCE_COORDINATOR, true, in_reply_to,
	               &created, error_r) < 0)
		goto out;
	if (created) {
		store_outbox_list_free(&failed, nfailed);
		store_message_list_free(&held, nheld);
		if (store_outbox_unreported_failures(store, true, &failed, &nfailed, error_r) < 0 ||
		    store_message_unreported(store, program->name, true, &held, &nheld, error_r) <
		        0)
			goto out;
	}
	ret = 0;
out:
	template_vars_free(&vars);
	match_suggestions_free(&sugg, nsugg);
	free(mc);
	free(oc);
	strbuf_free(&sb_pending);
	strbuf_free(&sb_waiting);
	strbuf_free(&sb_mentors);
	strbuf_free(&sb_sugg);
	strbuf_free(&sb_failed);
	strbuf_free(&sb_held);
	store_application_list_free(&pending, npending);
	store_application_list_free(&accepted, naccepted);
	store_application_list_free(&mentors, nmentors);
	store_outbox_list_free(&failed, nfailed);
	store_message_list_free(&held, nheld);
	return ret;
}

static void
month_title(const char *month, char *buf, size_t size)
{
	int y = atoi(month), m = atoi(month + 5);
	struct tm tm;

	clock_local(clock_local_midnight(y, m, 1), &tm);
	if (strftime(buf, size, "%B %Y", &tm) == 0)
		snprintf(buf, size, "%s", month);
}

/* The names and addresses of partnership id, for an email about it. */
static int
load_match(struct store *store, int64_t id, struct store_match *m_r, const char **error_r)
{
	bool found;

	if (store_match_get(store, id, &found, m_r, error_r) < 0)
		return -1;
	if (!found) {
		*error_r = errorf("partnership #%lld vanished during scheduling", (long long)id);
		return -1;
	}
	return 0;
}

static int
run_action(const struct config *config, struct store *store, const struct config_program *program,
           const struct schedule_action *a, const struct schedule_match *counts, size_t ncounts,
           time_t now, const char **error_r)
{
	struct template_vars *vars = NULL;
	struct store_match m;
	struct strvec to = {0};
	struct strbuf sb = {0};
	char title[32];
	bool queued;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	/* Reminders and the follow-up arrive already filtered (the store and
	 * followup_done); the digest is built only when today's key is new,
	 * since building it reads the whole program. */
	if (a->kind == DUE_DIGEST) {
		if (store_outbox_has_key(store, a->key, &queued, error_r) < 0)
			return -1;
		if (queued)
			return 0;
	}
	vars = program_vars(config, program);
	month_title(a->period, title, sizeof(title));
	template_vars_set(vars, "month", title);
	switch (a->kind) {
	case DUE_MEETING_REMINDER: {
		long count = 0;

		if (load_match(store, a->match_id, &m, error_r) < 0)
			goto out;
		/* counts is ordered by id (the store's ORDER BY). */
		for (size_t lo = 0, hi = ncounts; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (counts[mid].id == a->match_id) {
				count = counts[mid].meetings_this_month;
				break;
			}
			if (counts[mid].id < a->match_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		template_vars_set(vars, "mentee_name", display_name(m.mentee_name, m.mentee_email));
		template_vars_set(vars, "mentor_name", display_name(m.mentor_name, m.mentor_email));
		template_vars_setf(vars, "meetings", "%ld", count);
		strvec_push(&to, m.mentee_email);
		strvec_push(&to, m.mentor_email);
		ret = queue_mail(config, store, now, a->key, "reminder", program, &to, 0, "match",
		                 m.id, "meeting-reminder", vars, AUDIENCE_PARTICIPANT, true, NULL,
		                 NULL, error_r);
		break;
	}
	case DUE_CADENCE_FOLLOWUP:
		for (size_t i = 0; i < a->nbelow; i++) {
			if (load_match(store, a->below[i].match_id, &m, error_r) < 0)
				goto out;
			strbuf_addf(&sb, "  #%lld %s with mentor %s: %ld of %d meetings\n",
			            (long long)m.id, display_name(m.mentee_name, m.mentee_email),
			            display_name(m.mentor_name, m.mentor_email),
			            a->below[i].meetings, program->meetings_per_month);
			store_match_clear(&m);
		}
		template_vars_set(vars, "below", strbuf_str(&sb));
		template_vars_setf(vars, "below_count", "%zu", a->nbelow);
		template_vars_setf(vars, "partnership_count", "%zu", a->neligible);
		ret = queue_mail(config, store, now, a->key, "followup", program,
		                 &config->coordinators, 0, "program", 0, "cadence-followup", vars,
		                 AUDIENCE_COORDINATOR, true, NULL, NULL, error_r);
		break;
	case DUE_DIGEST:
		ret = build_digest(config, store, program, now, a->key, NULL, error_r);
		break;
	}
out:
	store_match_clear(&m);
	strbuf_free(&sb);
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
}

static int
schedule_program(const struct config *config, struct store *store,
                 const struct config_program *program, bool first, time_t now,
                 size_t *npartnerships_r, size_t *nactions_r, const char **error_r)
{
	struct store_cadence *cadence = NULL;
	struct schedule_match *counts = NULL;
	struct schedule_action *actions = NULL;
	struct store_outbox *failed = NULL;
	struct store_message *held = NULL;
	struct schedule_input in;
	size_t nmatches = 0, nactions = 0, nfailed = 0, nheld = 0;
	char month[8], prev[8], prefix[32], suffix[32], followup_key[128];
	bool need_this, need_prev;
	int ret = -1;

	memset(&in, 0, sizeof(in));
	clock_month_key(now, month);
	schedule_previous_month(now, prev);
	schedule_reminder_key_affixes(month, prefix, suffix);
	schedule_followup_key(program->name, now, followup_key);
	in.program = program->name;
	in.meetings_per_month = program->meetings_per_month;
	in.reminder_day = program->reminder_day;
	in.work_start_hour = config->work_start_hour;
	in.work_end_hour = config->work_end_hour;
	in.work_weekends = config->work_weekends;
	if (store_outbox_has_key(store, followup_key, &in.followup_done, error_r) < 0)
		goto out;
	/* Counting meetings is most of a cycle's cost at 100,000 partnerships:
	 * count only the months that can make something due now. */
	schedule_counts_needed(&in, now, &need_this, &need_prev);
	if (store_match_cadence(store, program->name, need_this ? month : NULL,
	                        need_prev ? prev : NULL, prefix, suffix, &cadence, &nmatches,
	                        error_r) < 0)
		goto out;
	counts = xcalloc(nmatches + 1, sizeof(*counts));
	for (size_t i = 0; i < nmatches; i++) {
		counts[i].id = cadence[i].id;
		counts[i].created_at = cadence[i].created_at;
		counts[i].meetings_this_month = cadence[i].meetings_this_month;
		counts[i].meetings_last_month = cadence[i].meetings_last_month;
		counts[i].reminded = cadence[i].reminded;
	}
	in.matches = counts;
	in.nmatches = nmatches;
	if (store_application_count(store, program->name, "mentee", "applied",
	                            &in.pending_applications, error_r) < 0 ||
	    store_message_unreported(store, program->name, false, &held, &nheld, error_r) < 0)
		goto out;
	/* Failed emails are reported once, in the first program's digest. */
	if (first && store_outbox_unreported_failures(store, false, &failed, &nfailed, error_r) < 0)
		goto out;
	in.unreported_failures = (long)nfailed;
	in.unreported_messages = (long)nheld;
	schedule_due_actions(&in, now, &actions, &nactions);
	for (size_t i = 0; i < nactions; i++)
		if (run_action(config, store, program, &actions[i], counts, nmatches, now,
		               error_r) < 0)
			goto out;
	*npartnerships_r += nmatches;
	*nactions_r += nactions;
	ret = 0;
out:
	schedule_actions_free(&actions, nactions);
	store_outbox_list_free(&failed, nfailed);
	store_message_list_free(&held, nheld);
	free(cadence);
	free(counts);
	return ret;
}

int
workflow_schedule(const struct config *config, struct store *store, time_t now,
                  const char **error_r)
{
	struct timespec t0, t1;
	size_t npartnerships = 0, nactions = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < config->nprograms; i++) {
		if (store_begin(store, error_r) < 0)
			return -1;
		if (schedule_program(config, store, &config->programs[i], i == 0, now,
		                     &npartnerships, &nactions, error_r) < 0) {
			store_rollback(store);
			return -1;
		}
		if (store_commit(store, error_r) < 0) {
			store_rollback(store);
			return -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The benchmark reads this line; keep its shape. */
	log_info("schedule: %zu partnerships, %zu due, %.3f s", npartnerships, nactions,
	         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

int
workflow_check_templates(const struct config *config, const char **error_r)
{
	/* What may never reach a supervisor: self-assessments and the answers
	 * that hold them, meeting notes, evaluation comments. */
	static const char *const confidential[] = {"answers", "needs", "notes", "comments", NULL};
	static const struct {
		const char *name;
		enum template_audience audience;
	} templates[] = {
	    {"questionnaire", AUDIENCE_PARTICIPANT},
	    {"application-ack", AUDIENCE_PARTICIPANT},
	    {"application-updated", AUDIENCE_PARTICIPANT},
	    {"supervisor-notice", AUDIENCE_SUPERVISOR},
	    {"form-problems", AUDIENCE_PARTICIPANT},
	    {"accepted", AUDIENCE_PARTICIPANT},
	    {"declined", AUDIENCE_PARTICIPANT},
	    {"pooled", AUDIENCE_PARTICIPANT},
	    {"mentor-welcome", AUDIENCE_PARTICIPANT},
	    {"introduction", AUDIENCE_PARTICIPANT},
	    {"command-results", AUDIENCE_COORDINATOR},
	    {"command-refused", AUDIENCE_PARTICIPANT},
	    {"meeting-recorded", AUDIENCE_PARTICIPANT},
	    {"evaluation-recorded", AUDIENCE_PARTICIPANT},
	    {"not-understood", AUDIENCE_PARTICIPANT},
	    {"meeting-reminder", AUDIENCE_PARTICIPANT},
	    {"cadence-followup", AUDIENCE_COORDINATOR},
	    {"digest", AUDIENCE_COORDINATOR},
	    {"bounce-notice", AUDIENCE_COORDINATOR},
	};

	for (size_t i = 0; i < N_ELEMENTS(templates); i++)
		if (template_check(config->templates, templates[i].name, templates[i].audience,
		                   confidential, error_r) < 0)
			return -1;
	return 0;
}
