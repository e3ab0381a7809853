/* workflow: see include/workflow.h. */
#include "workflow.h"
#include "classify.h"
#include "clock.h"
#include "command.h"
#include "form.h"
#include "ingest.h"
#include "log.h"
#include "match.h"
#include "mime.h"
#include "origin.h"
#include "outbox.h"
#include "reply.h"
#include "schedule.h"
#include "template.h"
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request that nobody confirmed within this many days can no longer be
 * confirmed: the person is asked to send it again. */
#define CONFIRM_DAYS 7

/* Everything one message's handling needs, borrowed. */
struct wf {
	const struct config *config;
	struct store *store;
	time_t now;     /* when it is applied */
	time_t sent_at; /* when it arrived: "today" in a report means that day */
	int64_t row;    /* messages.id */
	const struct mime_message *msg;
	const struct config_program *program;
	const char *reply; /* the new text of the message (an echo taken out) */
	const char *from;  /* the sender's registered address (proven), or the
	                    * From (claimed): answers go here and nowhere else */
	int64_t person_id; /* 0 when from is no known person */
	bool proven;       /* a token or a trusted authentication says so */
	bool may_answer;   /* not automatic mail (trust_may_answer) */
	const char *no_answer_why;
	const struct store_outbox *thread; /* the email this answers; id 0 if none */
	int64_t confirmed_by;              /* applying a confirmed request: its reply's row */
	const char *status; /* what to record: applied, answered, pending, held, ignored */
	char *reason;       /* owned */
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

/* Queues one email to the given addresses under a fixed key. */
static int
queue_mail(const struct config *config, struct store *store, time_t now, const char *key,
           const char *kind, const struct config_program *program, const struct strvec *to,
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

/* An answer (auto-replied) to the sender of the message being handled. */
static int
queue_answer(struct wf *wf, const char *key, const char *kind, const struct strvec *to,
             const char *thread_type, int64_t thread_ref, const char *template_name,
             const struct template_vars *vars, enum template_audience audience,
             struct outbox_queued *q_r, const char **error_r)
{
	struct outbox_mail mail;

	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = kind;
	mail.program = wf->program->name;
	mail.to = to;
	mail.thread_type = thread_type;
	mail.thread_ref = thread_ref;
	mail.template_name = template_name;
	mail.vars = vars;
	mail.audience = audience;
	mail.nature = OUTBOX_ANSWER;
	mail.unproven = !wf->proven;
	mail.in_reply_to = wf->msg->message_id;
	return outbox_enqueue(wf->config, wf->store, &mail, wf->now, q_r, error_r);
}

/* A notice (auto-generated) to one address, caused by what the message
 * decided. */
static int
queue_to_one(struct wf *wf, const char *key, const char *kind, const char *addr,
             const char *thread_type, int64_t thread_ref, const char *template_name,
             const struct template_vars *vars, enum template_audience audience,
             const char **error_r)
{
	struct strvec to = {0};
	int ret;

	strvec_push(&to, addr);
	ret = queue_mail(wf->config, wf->store, wf->now, key, kind, wf->program, &to, thread_type,
	                 thread_ref, template_name, vars, audience, OUTBOX_NOTICE, NULL, NULL,
	                 error_r);
	strvec_free(&to);
	return ret;
}

/*
 * Queues an answer (auto-replied) to the sender, under key.  Cases:
 *   1. the message is automatic mail (trust_may_answer): never answered;
 *   2. the address has had its share of answers today: the outbox keeps
 *      the copy unsent (dropped);
 *   3. queued.
 * *sent_r says whether it was queued.
 */
static int
wf_answer_key(struct wf *wf, const char *key, const char *kind, const char *template_name,
              const struct template_vars *vars, const char *thread_type, int64_t thread_ref,
              bool *sent_r, const char **error_r)
{
	struct outbox_queued q;
	struct strvec to = {0};
	int ret;

	*sent_r = false;
	if (!wf->may_answer) {
		log_info("not answering %s: the message is automatic (%s)", wf->from,
		         wf->no_answer_why);
		return 0;
	}
	strvec_push(&to, wf->from);
	ret = queue_answer(wf, key, kind, &to, thread_type, thread_ref, template_name, vars,
	                   AUDIENCE_PARTICIPANT, &q, error_r);
	strvec_free(&to);
	*sent_r = ret == 0 && q.queued > 0;
	return ret;
}

/* An answer to this message: one per message and kind. */
static int
wf_answer(struct wf *wf, const char *kind, const char *template_name,
          const struct template_vars *vars, bool *sent_r, const char **error_r)
{
	char key[96];

	snprintf(key, sizeof(key), "%s:msg=%lld", kind, (long long)wf->row);
	return wf_answer_key(wf, key, kind, template_name, vars, "message", wf->row, sent_r,
	                     error_r);
}

/* An explanation of something that went wrong: at most one a day to an
 * address for each kind (as Discourse answers rejections), so a robot that
 * keeps writing gets one, and the coordinator sees the rest. */
static int
wf_explain(struct wf *wf, const char *kind, const char *template_name,
           const struct template_vars *vars, bool *sent_r, const char **error_r)
{
	char day[11], *key;
	int ret;

	clock_date_key(wf->sent_at, day);
	key = xasprintf("%s:to=%s:day=%s", kind, wf->from, day);
	ret =
	    wf_answer_key(wf, key, kind, template_name, vars, "message", wf->row, sent_r, error_r);
	free(key);
	return ret;
}

static const char *
display_name(const char *name, const char *email)
{
	return name != NULL && *name != '\0' ? name : email;
}

/*
 * The sender did not prove their address and the message would change
 * something: nothing is done; the address is asked to confirm by a reply,
 * whose token proves it (the request is applied then, as theirs).  Cases:
 *   1. the message is automatic: it cannot be answered, so it is held for
 *      the coordinator;
 *   2. a request for this message exists (a replay): asked once only;
 *   3. the daily answer limit of the address is reached: held;
 *   4. asked: the message waits (pending).
 * what says what would be done ("run these commands"); summary what was
 * understood, quoted in the request.
 */
static int
request_confirmation(struct wf *wf, const char *what, const char *summary, const char **error_r)
{
	struct template_vars *vars = NULL;
	struct outbox_queued q;
	struct strvec to = {0};
	char key[64];
	int64_t person, id;
	bool created;
	int ret = -1;

	if (!wf->may_answer) {
		wf_result(wf, "held",
		          "from %s, not proven, and automatic (%s), so it cannot be confirmed: "
		          "would %s",
		          wf->from, wf->no_answer_why, what);
		return 0;
	}
	if (store_person_upsert(wf->store, wf->from, NULL, &person, error_r) < 0 ||
	    store_confirmation_create(wf->store, wf->program->name, wf->row, person, summary,
	                              wf->now, &id, &created, error_r) < 0)
		return -1;
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "what", what);
	template_vars_set_confidential(vars, "summary", summary);
	template_vars_setf(vars, "days", "%d", CONFIRM_DAYS);
	template_vars_set(vars, "subject", wf->msg->subject);
	snprintf(key, sizeof(key), "confirm:request=%lld", (long long)id);
	strvec_push(&to, wf->from);
	if (queue_answer(wf, key, "confirm", &to, "confirm", id, "confirm-request", vars,
	                 AUDIENCE_PARTICIPANT, &q, error_r) < 0)
		goto out;
	if (q.created && q.queued == 0)
		wf_result(wf, "held",
		          "from %s, not proven; the daily answer limit stops the request to "
		          "confirm: would %s",
		          wf->from, what);
	else
		wf_result(wf, "pending", "waiting for %s to confirm by reply (request #%lld): %s",
		          wf->from, (long long)id, what);
	ret = 0;
out:
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
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
	if (queue_to_one(wf, key, decisions[d].kind, app.email, "application", app.id,
	                 decisions[d].template_name, vars, AUDIENCE_PARTICIPANT, error_r) < 0)
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
	ret = queue_mail(wf->config, wf->store, wf->now, key, "introduction", wf->program, &to,
	                 "match", m.id, "introduction", vars, AUDIENCE_PARTICIPANT, OUTBOX_NOTICE,
	                 NULL, NULL, error_r);
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
	if (strcmp(mentor->status, "withdrawn") == 0) {
		strbuf_addf(out, "%s: mentor #%lld %s has withdrawn; choose another mentor.\n",
		            cmd->line, (long long)mentor->id,
		            display_name(mentor->name, mentor->email));
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
	if (queue_to_one(wf, key, "mentor-welcome", app.email, "application", id, "mentor-welcome",
	                 vars, AUDIENCE_PARTICIPANT, error_r) < 0)
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

/* The command lines of a list, for a request to confirm. */
static char *
command_lines(const struct command_list *cmds)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < cmds->n; i++)
		strbuf_addf(&sb, "  %s\n", cmds->cmds[i].line);
	for (size_t i = 0; i < cmds->errors.n; i++)
		strbuf_addf(&sb, "  (not understood) %s\n", cmds->errors.v[i]);
	return strbuf_detach(&sb);
}

/*
 * A message from a coordinator.  Cases:
 *   1. no command and no mentor form: nothing to do, and no answer at all
 *      (an out-of-office reply must not start a conversation);
 *   2. only "help": the command list, answered;
 *   3. not proven: commands or a mentor form wait for the coordinator's
 *      confirming reply (request_confirmation), malformed lines are listed
 *      in that request;
 *   4. proven: each command is applied, and one summary of what was done
 *      goes to every coordinator (an answer: it counts against each one's
 *      daily cap).
 */
static int
handle_coordinator(struct wf *wf, const char **error_r)
{
	struct command_list *cmds = NULL;
	struct form_result *form = NULL;
	struct template_vars *vars = NULL;
	struct strbuf out = {0};
	struct outbox_queued q;
	char key[64];
	bool help = false, only_help = true;
	int ret = -1;

	command_parse_text(wf->reply, wf->sent_at, &cmds);
	for (size_t i = 0; i < cmds->n; i++)
		if (cmds->cmds[i].verb != CMD_HELP)
			only_help = false;
	if (cmds->n == 0 && cmds->errors.n == 0) {
		form_parse(&wf->program->mentor_form, wf->reply, &form);
		if (form->keys_found < 2) {
			wf_result(wf, "ignored",
			          "a coordinator's message with no command; not answered");
			ret = 0;
			goto out;
		}
		if (!wf->proven) {
			char *summary = form_result_summary(form);

			ret = request_confirmation(wf, "register the mentor in this form", summary,
			                           error_r);
			free(summary);
			goto out;
		}
		if (register_mentor_form(wf, form, &out, error_r) < 0)
			goto out;
	} else if (!wf->proven && !(only_help && cmds->n > 0)) {
		char *summary = command_lines(cmds);

		if (cmds->n > 0)
			ret = request_confirmation(wf, "run these commands", summary, error_r);
		else {
			ret = 0;
			wf_result(wf, "ignored",
			          "only lines that are not commands, from an unproven sender: %s",
			          summary);
		}
		free(summary);
		goto out;
	}
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
	if (!wf->may_answer) {
		wf_result(wf, cmds->errors.n > 0 ? "answered" : "applied",
		          "%zu command(s), %zu error(s); not answered (automatic: %s)", cmds->n,
		          cmds->errors.n, wf->no_answer_why);
		ret = 0;
		goto out;
	}
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "results", strbuf_str(&out));
	template_vars_set(vars, "help", help ? "yes" : NULL);
	snprintf(key, sizeof(key), "command-results:msg=%lld", (long long)wf->row);
	if (queue_answer(wf, key, "command-results", &wf->config->coordinators, "message", wf->row,
	                 "command-results", vars, AUDIENCE_COORDINATOR, &q, error_r) < 0)
		goto out;
	wf_result(wf, cmds->errors.n > 0 ? "answered" : "applied", "%zu command(s), %zu error(s)%s",
	          cmds->n, cmds->errors.n,
	          q.created && q.queued == 0 ? "; not answered (daily answer limit)" : "");
	ret = 0;
out:
	strbuf_free(&out);
	template_vars_free(&vars);
	form_result_free(&form);
	command_list_free(&cmds);
	return ret;
}

/* ---- participants ---- */

/* The partnership a message is about: the thread it answers, else the
 * sender's first active partnership. */
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
	if (wf->thread->thread_type != NULL && strcmp(wf->thread->thread_type, "match") == 0) {
		for (size_t i = 0; i < n; i++)
			if (list[i].id == wf->thread->thread_ref)
				pick = i;
	}
	*m_r = list[pick];
	memset(&list[pick], 0, sizeof(list[pick]));
	*found_r = true;
	store_match_list_free(&list, n);
	return 0;
}

/* The sender's active partnership, or an explanation (once a day) and the
 * message held when there is none.  *found_r says which. */
static int
sender_match_or_explain(struct wf *wf, const char *what, const char *kind,
                        const char *template_name, struct store_match *m_r, bool *found_r,
                        const char **error_r)
{
	struct template_vars *vars;
	char *text;
	bool sent;
	int ret;

	*found_r = false;
	if (wf->person_id > 0 && find_sender_match(wf, wf->person_id, m_r, found_r, error_r) < 0)
		return -1;
	if (*found_r)
		return 0;
	vars = program_vars(wf->config, wf->program);
	text = xasprintf("You are not in an active partnership of this program, so the %s "
	                 "could not be recorded. The coordinator has been told.\n",
	                 what);
	template_vars_set(vars, "results", text);
	template_vars_set(vars, "name", wf->from);
	ret = wf_explain(wf, kind, template_name, vars, &sent, error_r);
	if (ret == 0)
		wf_result(wf, "held", "%s from someone not in a partnership", what);
	free(text);
	template_vars_free(&vars);
	return ret;
}

static int
handle_meetings(struct wf *wf, const struct command_list *cmds, const char **error_r)
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
	if (sender_match_or_explain(wf, "meeting report", "meeting-problem", "meeting-recorded", &m,
	                            &found, error_r) < 0)
		return -1;
	if (!found)
		return 0;
	if (!wf->proven) {
		char *summary = command_lines(cmds);

		ret = request_confirmation(wf, "record the meeting(s) below", summary, error_r);
		free(summary);
		goto out;
	}
	if (store_person_get(wf->store, wf->person_id, &person, error_r) < 0)
		goto out;
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
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "results", strbuf_str(&out));
	template_vars_set(vars, "partner_name",
	                  m.mentee_person == person.id
	                      ? display_name(m.mentor_name, m.mentor_email)
	                      : display_name(m.mentee_name, m.mentee_email));
	if (wf_answer(wf, "meeting-recorded", "meeting-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, cmds->errors.n > 0 ? "answered" : "applied",
	          "meeting report for partnership #%lld", (long long)m.id);
	ret = 0;
out:
	strbuf_free(&out);
	template_vars_free(&vars);
	store_person_clear(&person);
	store_match_clear(&m);
	return ret;
}

/*
 * A participant leaves the program ("withdraw [reason]").  Cases:
 *   1. the sender has no application in the program: told so (once a day);
 *   2. not proven: waits for their confirming reply;
 *   3. applied: every application of theirs in the program is withdrawn,
 *      every active partnership ends (a mentee whose mentor left goes back
 *      to the accepted list, to be rematched), each partner is told, the
 *      coordinators are told, and so is the participant.
 */
static int
do_withdraw(struct wf *wf, const struct command *cmd, const char **error_r)
{
	struct store_application *apps = NULL;
	struct store_match *matches = NULL;
	struct template_vars *vars = NULL;
	struct strbuf ended = {0};
	size_t napps = 0, nmatches = 0, mine = 0;
	char key[96];
	bool sent;
	int ret = -1;

	if (wf->person_id > 0 && store_application_list(wf->store, wf->program->name, NULL, NULL,
	                                                &apps, &napps, error_r) < 0)
		goto out;
	for (size_t i = 0; i < napps; i++)
		if (apps[i].person_id == wf->person_id &&
		    strcmp(apps[i].status, "withdrawn") != 0 &&
		    strcmp(apps[i].status, "declined") != 0)
			mine++;
	if (mine == 0) {
		vars = program_vars(wf->config, wf->program);
		template_vars_set(vars, "results",
		                  "You have no application in this program, so there was nothing "
		                  "to withdraw.\n");
		template_vars_set(vars, "name", wf->from);
		ret = wf_explain(wf, "withdraw-problem", "meeting-recorded", vars, &sent, error_r);
		if (ret == 0)
			wf_result(wf, "answered", "withdraw from someone with no application");
		goto out;
	}
	if (!wf->proven) {
		char *summary = xasprintf("  %s\n", cmd->line);

		ret = request_confirmation(wf, "withdraw you from the program", summary, error_r);
		free(summary);
		goto out;
	}
	if (store_match_for_person(wf->store, wf->person_id, &matches, &nmatches, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nmatches; i++) {
		const struct store_match *m = &matches[i];
		bool is_mentee = m->mentee_person == wf->person_id;
		const char *partner = is_mentee ? m->mentor_email : m->mentee_email;
		const char *partner_name = is_mentee
		                               ? display_name(m->mentor_name, m->mentor_email)
		                               : display_name(m->mentee_name, m->mentee_email);
		char *why = xasprintf("%s withdrew%s%s", wf->from, cmd->text != NULL ? ": " : "",
		                      cmd->text != NULL ? cmd->text : "");

		if (strcmp(m->program, wf->program->name) != 0) {
			free(why);
			continue;
		}
		if (store_match_end(wf->store, m->id, why, wf->now, error_r) < 0 ||
		    (!is_mentee &&
		     store_application_set_status(wf->store, m->mentee_app, "accepted", why,
		                                  wf->now, error_r) < 0)) {
			free(why);
			goto out;
		}
		free(why);
		template_vars_free(&vars);
		vars = program_vars(wf->config, wf->program);
		template_vars_set(vars, "name", partner_name);
		template_vars_set(vars, "partner_name",
		                  is_mentee ? display_name(m->mentee_name, m->mentee_email)
		                            : display_name(m->mentor_name, m->mentor_email));
		template_vars_set(vars, "rematch", is_mentee ? NULL : "yes");
		snprintf(key, sizeof(key), "partner-withdrew:match=%lld", (long long)m->id);
		if (queue_to_one(wf, key, "partner-withdrew", partner, "match", m->id,
		                 "partner-withdrew", vars, AUDIENCE_PARTICIPANT, error_r) < 0)
			goto out;
		strbuf_addf(&ended, "  partnership #%lld with %s <%s> ended%s\n", (long long)m->id,
		            partner_name, partner,
		            is_mentee ? "" : "; the mentee can be matched again");
	}
	for (size_t i = 0; i < napps; i++) {
		if (apps[i].person_id != wf->person_id ||
		    strcmp(apps[i].status, "withdrawn") == 0 ||
		    strcmp(apps[i].status, "declined") == 0)
			continue;
		if (store_application_set_status(wf->store, apps[i].id, "withdrawn", cmd->text,
		                                 wf->now, error_r) < 0)
			goto out;
	}
	template_vars_free(&vars);
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "name", display_name(apps[0].name, wf->from));
	template_vars_set(vars, "address", wf->from);
	template_vars_set(vars, "reason", cmd->text);
	template_vars_set(vars, "ended", strbuf_str(&ended));
	snprintf(key, sizeof(key), "withdrawal:msg=%lld", (long long)wf->row);
	if (queue_mail(wf->config, wf->store, wf->now, key, "withdrawal", wf->program,
	               &wf->config->coordinators, "person", wf->person_id, "withdrawal-notice",
	               vars, AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r) < 0 ||
	    wf_answer(wf, "withdrawn", "withdrawn", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "withdrew from the program (%zu partnership(s) ended)", nmatches);
	ret = 0;
out:
	strbuf_free(&ended);
	template_vars_free(&vars);
	store_application_list_free(&apps, napps);
	store_match_list_free(&matches, nmatches);
	return ret;
}

/*
 * An evaluation form (the program's form evaluation) from a partner.  Cases:
 *   1. the sender is in no active partnership: held for the coordinator,
 *      the sender told why (once a day);
 *   2. the form has problems (a missing answer, a scale out of range):
 *      nothing recorded, the sender told what to fix;
 *   3. not proven: waits for the sender's confirming reply;
 *   4. recorded, once per message (a replay of the same message finds it
 *      recorded), the sender thanked.
 * The answers are stored as the form's summary and never put in an email
 * other than the request to confirm, which goes to their writer.
 */
static int
handle_evaluation(struct wf *wf, const struct form_result *form, const char **error_r)
{
	struct store_person person;
	struct store_match m;
	struct template_vars *vars = NULL;
	struct strbuf out = {0};
	char *answers = NULL;
	bool found, created, sent;
	long count = 0;
	int ret = -1;

	memset(&person, 0, sizeof(person));
	memset(&m, 0, sizeof(m));
	if (sender_match_or_explain(wf, "evaluation", "evaluation-problem", "evaluation-recorded",
	                            &m, &found, error_r) < 0)
		return -1;
	if (!found)
		return 0;
	vars = program_vars(wf->config, wf->program);
	if (wf->person_id > 0 && store_person_get(wf->store, wf->person_id, &person, error_r) < 0)
		goto out;
	template_vars_set(vars, "name", display_name(person.name, wf->from));
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
	if (!wf->proven) {
		ret = request_confirmation(wf, "record your evaluation of the partnership", answers,
		                           error_r);
		goto out;
	}
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

/* Names people write in a form reach other people's mail (a supervisor's,
 * a mentor's): no longer than a name. */
#define NAME_MAX_CHARS 80

static int
save_application(struct wf *wf, const struct form_result *form, const char **error_r)
{
	struct store_application app;
	struct template_vars *vars = NULL;
	const struct form_value *years;
	const char *given = form_result_value(form, "Name");
	char *name = given != NULL ? xstrndup(given, NAME_MAX_CHARS) : NULL;
	char key[80];
	int64_t person, id;
	bool created;
	int ret = -1;

	memset(&app, 0, sizeof(app));
	if (!wf->proven) {
		char *summary = form_result_summary(form);

		ret = request_confirmation(wf, "submit your application", summary, error_r);
		free(summary);
		free(name);
		return ret;
	}
	if (store_person_upsert(wf->store, wf->from, name, &person, error_r) < 0)
		goto out;
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
	{
		bool sent;

		if (wf_answer_key(wf, key, "ack",
		                  created ? "application-ack" : "application-updated", vars,
		                  "application", id, &sent, error_r) < 0)
			goto out;
	}
	/* The supervisor learns that their employee applied, and nothing of the
	 * self-assessment: the template is rendered for the supervisor audience,
	 * which refuses confidential values.  The supervisor is a person with a
	 * role, and a notice to them counts against their daily cap. */
	if (wf->program->notify_supervisor && app.supervisor_email != NULL) {
		struct outbox_mail mail;
		struct strvec to = {0};

		template_vars_set(vars, "supervisor_email", app.supervisor_email);
		template_vars_set(vars, "division", app.division);
		snprintf(key, sizeof(key), "supervisor-notice:application=%lld", (long long)id);
		strvec_push(&to, app.supervisor_email);
		memset(&mail, 0, sizeof(mail));
		mail.key = key;
		mail.kind = "supervisor-notice";
		mail.program = wf->program->name;
		mail.to = &to;
		mail.thread_type = "application";
		mail.thread_ref = id;
		mail.template_name = "supervisor-notice";
		mail.vars = vars;
		mail.audience = AUDIENCE_SUPERVISOR;
		mail.nature = OUTBOX_NOTICE;
		mail.capped = true;
		mail.role = "supervisor";
		if (outbox_enqueue(wf->config, wf->store, &mail, wf->now, NULL, error_r) < 0) {
			strvec_free(&to);
			goto out;
		}
		strvec_free(&to);
	}
	wf_result(wf, "applied", "application #%lld %s", (long long)id,
	          created ? "received" : "updated");
	ret = 0;
out:
	free(name);
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
		          form->problems.n,
		          sent ? "" : "; not answered (automatic, or daily limit)");
	strbuf_free(&problems);
	free(summary);
	free(blank);
	template_vars_free(&vars);
	return ret;
}

/*
 * A message from anyone but a coordinator.  In order:
 *   1. a coordinator's command: refused, with an explanation (once a day);
 *   2. help: the participant's commands;
 *   3. withdraw: do_withdraw;
 *   4. meeting reports: handle_meetings;
 *   5. the program's evaluation form (in the new text only): evaluation;
 *   6. an application form (new text first, else the quoted questionnaire
 *      they filled in): saved, or one answer naming each problem;
 *   7. someone with no application in the program: the questionnaire
 *      (once a day);
 *   8. anything else: held for the coordinator, the sender told (once a
 *      day) that a person will read it.
 * State changes (3 to 6) wait for a confirming reply when the sender did
 * not prove their address.
 */
static int
handle_participant(struct wf *wf, const char **error_r)
{
	struct command_list *cmds = NULL;
	struct form_result *form = NULL;
	struct template_vars *vars = NULL;
	bool sent, meetings = false, participant = false;
	int ret = -1;

	command_parse_text(wf->reply, wf->sent_at, &cmds);
	for (size_t i = 0; i < cmds->n; i++) {
		const struct command *cmd = &cmds->cmds[i];

		if (command_is_coordinator_only(cmd->verb)) {
			vars = program_vars(wf->config, wf->program);
			template_vars_set(vars, "command", cmd->line);
			if (wf_explain(wf, "command-refused", "command-refused", vars, &sent,
			               error_r) < 0)
				goto out;
			wf_result(wf, "answered", "refused \"%s\": sender is not a coordinator",
			          command_verb_name(cmd->verb));
			ret = 0;
			goto out;
		}
		if (cmd->verb == CMD_HELP) {
			vars = program_vars(wf->config, wf->program);
			if (wf_answer(wf, "participant-help", "participant-help", vars, &sent,
			              error_r) < 0)
				goto out;
			wf_result(wf, "answered", "help%s", sent ? "" : "; not answered");
			ret = 0;
			goto out;
		}
		if (cmd->verb == CMD_WITHDRAW) {
			ret = do_withdraw(wf, cmd, error_r);
			goto out;
		}
		if (cmd->verb == CMD_MET)
			meetings = true;
	}
	if (meetings) {
		ret = handle_meetings(wf, cmds, error_r);
		goto out;
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

	vars = program_vars(wf->config, wf->program);
	if (wf->person_id > 0 && store_person_in_program(wf->store, wf->program->name,
	                                                 wf->person_id, &participant, error_r) < 0)
		goto out;
	if (!participant) {
		char *blank = form_render_blank(&wf->program->application_form);

		template_vars_set(vars, "form", blank);
		free(blank);
		if (wf_explain(wf, "questionnaire", "questionnaire", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "answered", "%s",
		          sent ? "questionnaire sent"
		               : "questionnaire not sent (automatic, or daily answer limit)");
	} else {
		if (cmds->errors.n > 0) {
			char *errors = strvec_join(&cmds->errors, "\n");

			template_vars_set(vars, "errors", errors);
			free(errors);
		}
		if (wf_explain(wf, "not-understood", "not-understood", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "held", "not understood; held for the coordinator");
	}
	ret = 0;
out:
	template_vars_free(&vars);
	form_result_free(&form);
	command_list_free(&cmds);
	return ret;
}

/* Applies the message as a coordinator's or a participant's. */
static int
dispatch(struct wf *wf, const char **error_r)
{
	if (config_is_coordinator(wf->config, wf->from))
		return handle_coordinator(wf, error_r);
	return handle_participant(wf, error_r);
}

/* ---- bounces ---- */

/* Tells the coordinators, once, that a person's address stopped working. */
static int
notify_bounce(struct wf *wf, const struct store_person *p, const struct bounce_info *bounce,
              const char **error_r)
{
	struct template_vars *vars;
	char key[96], *roles = NULL;
	int ret;

	if (wf->config->coordinators.n == 0)
		return 0;
	if (store_person_roles(wf->store, p->id, &roles, error_r) < 0)
		return -1;
	vars = program_vars(wf->config, wf->program);
	template_vars_set(vars, "address", p->email);
	template_vars_set(vars, "name", p->name);
	template_vars_set(vars, "roles", roles);
	template_vars_set(vars, "status", bounce->status != NULL ? bounce->status : "unknown");
	template_vars_set(vars, "diagnostic", bounce->diagnostic);
	snprintf(key, sizeof(key), "bounce-notice:person=%lld:msg=%lld", (long long)p->id,
	         (long long)wf->row);
	ret = queue_mail(wf->config, wf->store, wf->now, key, "bounce-notice", wf->program,
	                 &wf->config->coordinators, "person", p->id, "bounce-notice", vars,
	                 AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
	template_vars_free(&vars);
	free(roles);
	return ret;
}

/* Marks one recipient of a bounced email undeliverable, and tells the
 * coordinators the first time. */
static int
bounce_person(struct wf *wf, const char *addr, const struct bounce_info *bounce,
              const char **error_r)
{
	struct store_person p;
	bool found;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	if (store_person_by_email(wf->store, addr, &found, &p, error_r) < 0)
		return -1;
	if (found && !p.undeliverable &&
	    (store_person_set_undeliverable(
	         wf->store, p.id, bounce->status ? bounce->status : "bounced", error_r) < 0 ||
	     notify_bounce(wf, &p, bounce, error_r) < 0))
		ret = -1;
	store_person_clear(&p);
	return ret;
}

/*
 * A bounce is never answered, and acts only when it is tied to an email
 * mentord sent.  Cases:
 *   1. tied to nothing (no signed return path, no returned Message-ID of
 *      ours): held for the coordinator, nothing marked (anyone can write a
 *      DSN naming anyone);
 *   2. tied, temporary (a delay, 4.x.x): recorded, ignored;
 *   3. tied, permanent: the email's recipient is marked undeliverable and
 *      the coordinators told once; for an email of an older release sent
 *      to several, the DSN's recipients that the email went to.
 */
static int
handle_bounce(struct wf *wf, const struct bounce_info *bounce, const char **error_r)
{
	struct store_outbox sent;
	struct strbuf who = {0};
	const char *why;
	bool tied;
	int ret = -1;

	memset(&sent, 0, sizeof(sent));
	if (origin_bounce_source(wf->config, wf->store, wf->msg, &tied, &sent, &why, error_r) < 0)
		goto out;
	if (!tied) {
		wf_result(wf, "held",
		          "%s bounce not tied to an email mentord sent (%s); not acted on",
		          bounce->permanent ? "permanent" : "temporary", why);
		ret = 0;
		goto out;
	}
	if (sent.person_id > 0) {
		struct store_person p;

		memset(&p, 0, sizeof(p));
		if (store_person_get(wf->store, sent.person_id, &p, error_r) < 0)
			goto out;
		strbuf_adds(&who, p.email);
		if (bounce->permanent && bounce_person(wf, p.email, bounce, error_r) < 0) {
			store_person_clear(&p);
			goto out;
		}
		store_person_clear(&p);
	} else {
		for (size_t i = 0; i < bounce->recipients.n; i++) {
			const char *addr = bounce->recipients.v[i];
			bool listed = false;

			for (const char *r = sent.recipients; r != NULL && *r != '\0' && !listed;) {
				const char *end = strchr(r, ',');
				size_t n = end != NULL ? (size_t)(end - r) : strlen(r);

				listed = n == strlen(addr) && strncasecmp(r, addr, n) == 0;
				r = end != NULL ? end + 1 : NULL;
			}
			if (!listed)
				continue;
			strbuf_addf(&who, "%s%s", who.len > 0 ? ", " : "", addr);
			if (bounce->permanent && bounce_person(wf, addr, bounce, error_r) < 0)
				goto out;
		}
	}
	wf_result(wf, bounce->permanent ? "held" : "ignored",
	          "%s bounce (%s) of email #%lld (%s) for %s",
	          bounce->permanent ? "permanent" : "temporary",
	          bounce->status != NULL ? bounce->status : "no status", (long long)sent.id, why,
	          who.len > 0 ? strbuf_str(&who) : "nobody it was sent to");
	ret = 0;
out:
	strbuf_free(&who);
	store_outbox_clear(&sent);
	return ret;
}

/* ---- confirmations ---- */

static int apply_confirmed(struct wf *wf, const struct store_confirmation *c, const char **error_r);

/* A short answer about a request: cancelled, expired, already decided. */
static int
answer_request(struct wf *wf, const struct store_confirmation *c, const char *outcome,
               const char **error_r)
{
	struct template_vars *vars = program_vars(wf->config, wf->program);
	bool sent;
	int ret;

	template_vars_set(vars, "outcome", outcome);
	template_vars_setf(vars, "request", "%lld", (long long)c->id);
	template_vars_set(vars, "note",
	                  strcmp(outcome, "confirmed") == 0
	                      ? "It was done when you first confirmed it; nothing more was done."
	                      : "Nothing was done. If you still want it done, send it again as a "
	                        "reply to any email from the program.");
	ret = wf_answer(wf, "confirm-result", "confirm-result", vars, &sent, error_r);
	template_vars_free(&vars);
	return ret;
}

/*
 * A proven reply to a request to confirm.  Cases:
 *   1. not from the person asked (the token names someone else): handled
 *      as an ordinary message of theirs (*handled_r false);
 *   2. the request was already decided: said so;
 *   3. older than CONFIRM_DAYS: expired, the person asked to write again;
 *   4. "yes": the original message is applied as theirs;
 *   5. "no": cancelled;
 *   6. neither: an ordinary message (a corrected form, say): *handled_r
 *      false.
 */
static int
handle_confirmation_reply(struct wf *wf, bool *handled_r, const char **error_r)
{
	struct store_confirmation c;
	enum trust_answer answer;
	bool found;
	int ret = -1;

	*handled_r = false;
	memset(&c, 0, sizeof(c));
	if (store_confirmation_get(wf->store, wf->thread->thread_ref, &found, &c, error_r) < 0)
		return -1;
	if (!found || c.person_id != wf->person_id) {
		ret = 0;
		goto out;
	}
	answer = trust_confirm_word(wf->reply);
	if (strcmp(c.status, "waiting") != 0) {
		if (answer == TRUST_ANSWER_NONE) {
			ret = 0;
			goto out;
		}
		*handled_r = true;
		ret = answer_request(wf, &c, c.status, error_r);
		wf_result(wf, "ignored", "request #%lld was already %s", (long long)c.id, c.status);
		goto out;
	}
	if (answer == TRUST_ANSWER_NONE) {
		ret = 0;
		goto out;
	}
	*handled_r = true;
	if (wf->now - c.created_at > CONFIRM_DAYS * 86400) {
		if (store_confirmation_decide(wf->store, c.id, "expired", wf->row, wf->now,
		                              error_r) < 0 ||
		    answer_request(wf, &c, "expired", error_r) < 0)
			goto out;
		wf_result(wf, "answered", "request #%lld expired", (long long)c.id);
		ret = 0;
		goto out;
	}
	if (answer == TRUST_ANSWER_NO) {
		if (store_confirmation_decide(wf->store, c.id, "cancelled", wf->row, wf->now,
		                              error_r) < 0 ||
		    store_message_set_result(wf->store, c.message_row, NULL, NULL, "message",
		                             "ignored", "cancelled by the sender's reply",
		                             c.program, error_r) < 0 ||
		    answer_request(wf, &c, "cancelled", error_r) < 0)
			goto out;
		wf_result(wf, "applied", "request #%lld cancelled", (long long)c.id);
		ret = 0;
		goto out;
	}
	if (store_confirmation_decide(wf->store, c.id, "confirmed", wf->row, wf->now, error_r) <
	        0 ||
	    apply_confirmed(wf, &c, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "confirmed request #%lld (message #%lld)", (long long)c.id,
	          (long long)c.message_row);
	ret = 0;
out:
	store_confirmation_clear(&c);
	return ret;
}

/* ---- one message ---- */

/* Someone whose address bounced writes again from it: it works after all.
 * Only a proven message counts: a forged one proves nothing about the
 * address. */
static int
mark_deliverable(struct wf *wf, const char **error_r)
{
	struct store_person p;
	bool found;
	int ret = 0;

	if (!wf->proven || wf->msg->from_addr == NULL ||
	    strcasecmp(wf->from, wf->msg->from_addr) != 0)
		return 0;
	memset(&p, 0, sizeof(p));
	if (store_person_by_email(wf->store, wf->from, &found, &p, error_r) < 0)
		return -1;
	if (found && p.undeliverable) {
		log_info("%s wrote again: no longer marked undeliverable", p.email);
		ret = store_person_set_undeliverable(wf->store, p.id, NULL, error_r);
	}
	store_person_clear(&p);
	return ret;
}

/* A message only partly read: over the size limit, or set aside after
 * failing to be stored.  Quarantined by reference (the server keeps it);
 * the sender of an oversize message is told once, when it is safe. */
static int
handle_truncated(struct wf *wf, const struct workflow_parsed *parsed, enum message_class cls,
                 const char **error_r)
{
	struct template_vars *vars;
	bool sent = false;
	int ret = 0;

	if (parsed->set_aside) {
		wf_result(wf, "quarantined",
		          "could not be stored after %d tries; set aside, kept on the server (%zu "
		          "bytes): only its header is here",
		          INGEST_STORE_TRIES, parsed->size);
		return 0;
	}
	wf_result(wf, "quarantined",
	          "%zu bytes, over max_message_size (%zu MiB): only its header was read; the "
	          "original stays on the server",
	          parsed->size, wf->config->imap.max_message_size / (1024 * 1024));
	if (cls != CLASS_MESSAGE || wf->msg->from_addr == NULL || !wf->may_answer)
		return 0;
	wf->from = wf->msg->from_addr;
	vars = program_vars(wf->config, wf->program);
	template_vars_setf(vars, "size_mb", "%.1f", (double)parsed->size / (1024.0 * 1024.0));
	template_vars_setf(vars, "limit_mb", "%zu",
	                   wf->config->imap.max_message_size / (1024 * 1024));
	template_vars_set(vars, "subject", wf->msg->subject);
	ret = wf_answer(wf, "too-large", "too-large", vars, &sent, error_r);
	template_vars_free(&vars);
	return ret;
}

/* What the message applies, once its origin is known.  Cases:
 *   1. held by origin (forged or altered): recorded, never answered;
 *   2. a proven answer to a request to confirm: handle_confirmation_reply;
 *   3. everything else: dispatch, proven or as a claim. */
static int
apply_person_message(struct wf *wf, const struct workflow_parsed *parsed, const char **error_r)
{
	struct origin o;
	bool handled = false;
	int ret = -1;

	if (origin_resolve(wf->config, wf->store, wf->msg, parsed->reply, &o, error_r) < 0)
		return -1;
	if (o.held != NULL) {
		wf_result(wf, "held", "%s", o.held);
		ret = 0;
		goto out;
	}
	wf->from = o.address;
	wf->person_id = o.person_id;
	wf->proven = o.proof != ORIGIN_CLAIMED;
	wf->thread = &o.thread;
	wf->reply = o.reply;
	if (o.thread.id != 0 && o.thread.program != NULL &&
	    config_program_by_name(wf->config, o.thread.program) != NULL)
		wf->program = config_program_by_name(wf->config, o.thread.program);
	if (mark_deliverable(wf, error_r) < 0)
		goto out;
	if (wf->proven && o.thread.thread_type != NULL &&
	    strcmp(o.thread.thread_type, "confirm") == 0 &&
	    handle_confirmation_reply(wf, &handled, error_r) < 0)
		goto out;
	if (!handled && dispatch(wf, error_r) < 0)
		goto out;
	if (o.echo && wf->reason != NULL) {
		char *r =
		    xasprintf("%s (the email it answers was echoed back; ignored)", wf->reason);

		free(wf->reason);
		wf->reason = r;
	}
	ret = 0;
out:
	/* Borrowed from o. */
	wf->from = NULL;
	wf->reply = NULL;
	wf->thread = NULL;
	origin_clear(&o);
	return ret;
}

static const struct config_program *
program_of(const struct config *config, const struct mime_message *msg)
{
	const struct config_program *program;
	struct strvec rcpts = {0};

	for (size_t i = 0; i < msg->to.n; i++)
		strvec_push(&rcpts, msg->to.v[i]);
	for (size_t i = 0; i < msg->cc.n; i++)
		strvec_push(&rcpts, msg->cc.v[i]);
	program = config_program_for(config, &rcpts);
	strvec_free(&rcpts);
	return program;
}

/*
 * A request confirmed: its message, stored when it came, is applied now
 * as the confirming person's, and its result recorded on it.  The thread
 * its headers name gives context only (which partnership).
 */
static int
apply_confirmed(struct wf *wf, const struct store_confirmation *c, const char **error_r)
{
	struct workflow_parsed parsed;
	struct store_message m;
	struct store_outbox thread;
	struct store_person p;
	struct wf sub;
	char *raw = NULL, *reason = NULL;
	size_t len;
	bool found;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	memset(&thread, 0, sizeof(thread));
	memset(&p, 0, sizeof(p));
	memset(&parsed, 0, sizeof(parsed));
	memset(&sub, 0, sizeof(sub));
	if (store_message_get(wf->store, c->message_row, &m, &raw, &len, error_r) < 0 ||
	    store_person_get(wf->store, c->person_id, &p, error_r) < 0)
		goto out;
	workflow_parse(raw, len, &parsed);
	if (parsed.msg == NULL) {
		*error_r = errorf("message #%lld can no longer be read: %s",
		                  (long long)c->message_row, parsed.error);
		goto out;
	}
	if (origin_thread_by_headers(wf->store, parsed.msg, &found, &thread, error_r) < 0)
		goto out;
	sub.config = wf->config;
	sub.store = wf->store;
	sub.now = wf->now;
	sub.sent_at = m.received_at;
	sub.row = c->message_row;
	sub.msg = parsed.msg;
	sub.program = c->program != NULL && config_program_by_name(wf->config, c->program) != NULL
	                  ? config_program_by_name(wf->config, c->program)
	                  : wf->program;
	sub.reply = parsed.reply;
	sub.from = p.email;
	sub.person_id = p.id;
	sub.proven = true;
	/* The confirming reply is a person's: the answers may go. */
	sub.may_answer = true;
	sub.thread = &thread;
	sub.confirmed_by = wf->row;
	if (dispatch(&sub, error_r) < 0)
		goto out;
	reason = xasprintf("%s (confirmed by message #%lld)", sub.reason != NULL ? sub.reason : "",
	                   (long long)wf->row);
	if (store_message_set_result(wf->store, c->message_row, parsed.msg->from_addr,
	                             parsed.msg->subject, "message",
	                             sub.status != NULL ? sub.status : "applied", reason,
	                             sub.program->name, error_r) < 0)
		goto out;
	ret = 0;
out:
	free(reason);
	free(sub.reason);
	free(raw);
	workflow_parsed_clear(&parsed);
	store_message_clear(&m);
	store_outbox_clear(&thread);
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
	struct store_outbox none;
	struct wf wf;
	int ret = -1;

	memset(&wf, 0, sizeof(wf));
	memset(&none, 0, sizeof(none));
	wf.config = config;
	wf.store = store;
	wf.now = now;
	wf.sent_at = parsed->received_at != 0 ? parsed->received_at : now;
	wf.row = row;
	wf.thread = &none;
	if (msg == NULL) {
		wf_result(&wf, "quarantined", "%s", parsed->error);
		goto record;
	}
	wf.msg = msg;
	wf.program = program_of(config, msg);
	wf.may_answer = trust_may_answer(msg, &wf.no_answer_why);
	if (parsed->truncated) {
		if (handle_truncated(&wf, parsed, cls, error_r) < 0)
			goto out;
	} else if (cls == CLASS_BOUNCE) {
		if (handle_bounce(&wf, &parsed->bounce, error_r) < 0)
			goto out;
	} else if (cls == CLASS_AUTO_REPLY) {
		wf_result(&wf, "ignored", "automatic message; not answered");
	} else if (msg->from_addr == NULL || *msg->from_addr == '\0') {
		wf_result(&wf, "held", "no sender address; held for the coordinator");
	} else if (apply_person_message(&wf, parsed, error_r) < 0) {
		goto out;
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
	return ret;
}

int
workflow_apply_message(const struct config *config, struct store *store, int64_t row,
                       const char *raw, size_t len, time_t received_at, time_t now,
                       const char **error_r)
{
	struct workflow_parsed parsed;
	int ret;

	workflow_parse(raw, len, &parsed);
	parsed.received_at = received_at;
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
	struct outbox_queued q;
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
	if (queue_mail(config, store, now, key, "digest", program, &config->coordinators, "digest",
	               0, "digest", vars, AUDIENCE_COORDINATOR, OUTBOX_NOTICE, in_reply_to, &q,
	               error_r) < 0)
		goto out;
	if (q.created) {
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
		ret = queue_mail(config, store, now, a->key, "reminder", program, &to, "match",
		                 m.id, "meeting-reminder", vars, AUDIENCE_PARTICIPANT,
		                 OUTBOX_NOTICE, NULL, NULL, error_r);
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
		                 &config->coordinators, "program", 0, "cadence-followup", vars,
		                 AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r);
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
	static const char *const confidential[] = {"answers",  "needs",   "notes",
	                                           "comments", "summary", NULL};
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
	    {"confirm-request", AUDIENCE_PARTICIPANT},
	    {"confirm-result", AUDIENCE_PARTICIPANT},
	    {"participant-help", AUDIENCE_PARTICIPANT},
	    {"withdrawn", AUDIENCE_PARTICIPANT},
	    {"partner-withdrew", AUDIENCE_PARTICIPANT},
	    {"withdrawal-notice", AUDIENCE_COORDINATOR},
	    {"too-large", AUDIENCE_PARTICIPANT},
	};

	for (size_t i = 0; i < N_ELEMENTS(templates); i++)
		if (template_check(config->templates, templates[i].name, templates[i].audience,
		                   confidential, error_r) < 0)
			return -1;
	return 0;
}
