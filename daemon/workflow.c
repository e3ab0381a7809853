/* workflow: see include/workflow.h. */
#include "workflow.h"
#include "calendar.h"
#include "classify.h"
#include "clock.h"
#include "command.h"
#include "due.h"
#include "form.h"
#include "groups.h"
#include "ingest.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "origin.h"
#include "outbox.h"
#include "reply.h"
#include "schedule.h"
#include "session.h"
#include "template.h"
#include "trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request that nobody confirmed within this many days can no longer be
 * confirmed: the person is asked to send it again. */
#define CONFIRM_DAYS 7

/* Names people write in a form reach other people's mail (a supervisor's,
 * a mentor's): no longer than a name. */
#define NAME_MAX_CHARS 80

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
	/* The text forms are read from: quotes above a reply dropped, but a
	 * form filled in inside the quote kept (reply.h REPLY_FOR_FORMS). */
	const char *form_text;
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
wf_vars(struct wf *wf)
{
	return notice_vars(wf->config, wf->program);
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

/* A short result in the "results" variable of a template, explained once a
 * day, and the message held. */
static int
wf_explain_held(struct wf *wf, const char *kind, const char *template_name, const char *text,
                const char *held_reason, const char **error_r)
{
	struct template_vars *vars = wf_vars(wf);
	bool sent;
	int ret;

	template_vars_set(vars, "results", text);
	template_vars_set(vars, "name", wf->from);
	ret = wf_explain(wf, kind, template_name, vars, &sent, error_r);
	if (ret == 0)
		wf_result(wf, "held", "%s", held_reason);
	template_vars_free(&vars);
	return ret;
}

static bool
wf_is_coordinator(const struct wf *wf)
{
	return config_program_coordinator(wf->program, wf->from);
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
	vars = wf_vars(wf);
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

/* A first-role limit (a class) is full: accepted and matched count. */
static int
role_full(struct wf *wf, const struct program_role *role, bool *full_r, const char **error_r)
{
	long accepted = 0, matched = 0;

	*full_r = false;
	if (role == NULL || role->limit <= 0)
		return 0;
	if (store_participation_count(wf->store, wf->program->name, role->name, "accepted",
	                              &accepted, error_r) < 0 ||
	    store_participation_count(wf->store, wf->program->name, role->name, "matched", &matched,
	                              error_r) < 0)
		return -1;
	*full_r = accepted + matched >= role->limit;
	return 0;
}

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
	const struct program_role *role;
	struct store_participation app;
	struct template_vars *vars = NULL;
	char key[96];
	size_t d = 0;
	bool found, full;
	int ret = -1;

	while (decisions[d].verb != cmd->verb)
		d++;
	memset(&app, 0, sizeof(app));
	if (store_participation_get(wf->store, cmd->id, &found, &app, error_r) < 0)
		return -1;
	role = found ? program_role(&wf->program->model, app.role) : NULL;
	/* A role accepted automatically is still the coordinator's to settle
	 * while its approvals wait (an approver who never answers). */
	if (!found || strcmp(app.program, wf->program->name) != 0 || role == NULL ||
	    (role->decided_by != DECIDED_BY_COORDINATOR && strcmp(app.status, "approving") != 0)) {
		strbuf_addf(out, "%s: there is no application #%ld.\n", cmd->line, cmd->id);
		ret = 0;
		goto out;
	}
	if (strcmp(app.status, "matched") == 0 || strcmp(app.status, "withdrawn") == 0 ||
	    strcmp(app.status, "completed") == 0 || strcmp(app.status, decisions[d].status) == 0) {
		strbuf_addf(out, "%s: #%ld %s is already %s; nothing changed.\n", cmd->line,
		            cmd->id, notice_name(app.name, app.email), app.status);
		ret = 0;
		goto out;
	}
	if (cmd->verb == CMD_ACCEPT) {
		if (role_full(wf, role, &full, error_r) < 0)
			goto out;
		if (full) {
			strbuf_addf(out,
			            "%s: the class is full (%d places); nothing changed. Use "
			            "\"pool %ld\" to keep the application for a later class.\n",
			            cmd->line, role->limit, cmd->id);
			ret = 0;
			goto out;
		}
	}
	if (store_participation_set_status(wf->store, app.id, decisions[d].status, cmd->text,
	                                   wf->now, error_r) < 0)
		goto out;
	/* The coordinator decided: approvals still waiting are asked no more. */
	if (strcmp(app.status, "approving") == 0) {
		struct store_approval *waiting = NULL;
		size_t nw = 0;

		if (store_approval_list(wf->store, NULL, app.id, "waiting", &waiting, &nw,
		                        error_r) < 0)
			goto out;
		for (size_t i = 0; i < nw; i++)
			if (store_approval_decide(wf->store, waiting[i].id, "settled",
			                          "decided by the coordinator", wf->row, wf->now,
			                          error_r) < 0) {
				store_approval_list_free(&waiting, nw);
				goto out;
			}
		store_approval_list_free(&waiting, nw);
	}
	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(app.name, app.email));
	template_vars_setf(vars, "application_id", "%lld", (long long)app.id);
	template_vars_set(vars, "reason", cmd->text);
	template_vars_set(vars, "role_title", role->title);
	snprintf(key, sizeof(key), "%s:application=%lld", decisions[d].kind, (long long)app.id);
	if (notice_queue_one(wf->config, wf->store, wf->program, wf->now, key, decisions[d].kind,
	                     app.email, "application", app.id, decisions[d].template_name, vars,
	                     AUDIENCE_PARTICIPANT, error_r) < 0)
		goto out;
	strbuf_addf(out, "%s: #%ld %s %s; they have been told.\n", cmd->line, cmd->id,
	            notice_name(app.name, app.email), decisions[d].done);
	ret = 0;
out:
	template_vars_free(&vars);
	store_participation_clear(&app);
	return ret;
}

/* Registers someone in a role, decided already (a coordinator's command
 * or form): the participation is active (a mentor with places) or
 * accepted (waiting for a group).  *id_r gets it, *created_r whether new. */
static int
register_participant(const struct config *config, struct store *store,
                     const struct config_program *program, const struct program_role *role,
                     struct store_participation *p, time_t now, int64_t *id_r, bool *created_r,
                     const char **error_r)
{
	const struct program_group *unit = program->model.unit;
	bool first = unit != NULL && strcmp(unit->roles.v[0], role->name) == 0;

	(void)config;
	p->program = (char *)program->name;
	p->role = (char *)role->name;
	p->status = (char *)(first ? "accepted" : "active");
	if (p->capacity <= 0)
		p->capacity = role->capacity > 0 ? role->capacity : 1;
	p->created_at = now;
	return store_participation_save(store, p, id_r, created_r, error_r);
}

int
workflow_add_mentor(const struct config *config, struct store *store,
                    const struct config_program *program, const char *email, const char *name,
                    const char *strengths, long capacity, time_t now, int64_t *app_id_r,
                    const char **error_r)
{
	const struct program_role *role = program_role(&program->model, "mentor");
	struct store_participation p;
	int64_t person;
	bool created, found;
	int ret = -1;

	if (role == NULL && program->model.unit != NULL && program->model.unit->pair)
		role = program_role(&program->model, program->model.unit->roles.v[1]);
	if (role == NULL) {
		*error_r = errorf("program %s has no mentor role", program->name);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	if (store_person_upsert(store, email, name, &person, error_r) < 0)
		return -1;
	/* A mentor registered before keeps what they told (their strengths,
	 * division, answers): only what is given here changes. */
	if (store_participation_find(store, program->name, person, role->name, &found, &p,
	                             error_r) < 0)
		return -1;
	if (!found) {
		/* p holds nothing of its own: its strings are borrowed here. */
		p.person_id = person;
		p.level = -1;
		p.topics = (char *)strengths;
		p.capacity = capacity;
		return register_participant(config, store, program, role, &p, now, app_id_r,
		                            &created, error_r);
	}
	if (strengths != NULL &&
	    store_participation_set_field(store, p.id, "topics", strengths, 0, error_r) < 0)
		goto out;
	if (capacity > 0 &&
	    store_participation_set_field(store, p.id, "capacity", NULL, capacity, error_r) < 0)
		goto out;
	*app_id_r = p.id;
	ret = 0;
out:
	store_participation_clear(&p);
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
	                        name != NULL && *name != '\0' ? name : NULL, NULL, 0, wf->now, &id,
	                        error_r) < 0) {
		strbuf_addf(out, "%s: %s.\n", cmd->line, *error_r);
		ret = 0;
		goto out;
	}
	strbuf_addf(out,
	            "%s: mentor #%lld registered. Send the mentor form for them to record "
	            "strengths and capacity.\n",
	            cmd->line, (long long)id);
	ret = 0;
out:
	free(text);
	return ret;
}

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

static int handle_join_form(struct wf *wf, const struct program_form *pf,
                            const struct form_result *form, struct strbuf *out,
                            const char **error_r);

/* The join form with the most keys in text (at least two), or NULL; the
 * caller frees *form_r. */
static const struct program_form *
find_join_form(const struct config_program *program, const char *text, struct form_result **form_r)
{
	const struct program_form *best = NULL;

	*form_r = NULL;
	for (size_t i = 0; i < program->model.nforms; i++) {
		const struct program_form *f = &program->model.forms[i];
		struct form_result *r = NULL;

		if (f->use != FORM_USE_JOIN)
			continue;
		form_parse(&f->def, text, &r);
		if (r->keys_found >= 2 &&
		    (*form_r == NULL || r->keys_found > (*form_r)->keys_found)) {
			form_result_free(form_r);
			*form_r = r;
			best = f;
		} else {
			form_result_free(&r);
		}
	}
	return best;
}

/*
 * A message from a coordinator.  Cases:
 *   1. no command and no join form: nothing to do, and no answer at all
 *      (an out-of-office reply must not start a conversation);
 *   2. only "help": the command list, answered;
 *   3. not proven: commands or a form wait for the coordinator's
 *      confirming reply (request_confirmation), malformed lines are listed
 *      in that request;
 *   4. proven: each command is applied, and one summary of what was done
 *      goes to the program's coordinators (an answer: it counts against
 *      each one's daily cap).
 */
/* "attended SESSION ADDRESS, ADDRESS..." or "absent ...": the register of
 * a session, by email; each address recorded or refused with the reason. */
static int
cmd_attendance(struct wf *wf, const struct command *cmd, struct strbuf *out, const char **error_r)
{
	struct strvec words = {0};
	char *copy = xstrdup(cmd->text), *save = NULL;
	bool present = cmd->verb == CMD_ATTENDED;
	int ret = -1;

	for (char *w = strtok_r(copy, " \t,;", &save); w != NULL;
	     w = strtok_r(NULL, " \t,;", &save))
		strvec_push(&words, w);
	if (words.n < 2 || program_session(&wf->program->model, words.v[0]) == NULL) {
		strbuf_addf(out, "%s: program %s has no session \"%s\"; nothing recorded.\n",
		            cmd->line, wf->program->name, words.n > 0 ? words.v[0] : "");
		ret = 0;
		goto out;
	}
	for (size_t i = 1; i < words.n; i++) {
		struct store_person p;
		const char *why = NULL;
		bool found, done = false;

		memset(&p, 0, sizeof(p));
		if (store_person_by_email(wf->store, words.v[i], &found, &p, error_r) < 0)
			goto out;
		if (found && session_attend(wf->program, wf->store, words.v[0], p.id, present,
		                            wf->now, &done, &why, error_r) < 0) {
			store_person_clear(&p);
			goto out;
		}
		store_person_clear(&p);
		if (done)
			strbuf_addf(out, "%s %s: %s recorded %s.\n", command_verb_name(cmd->verb),
			            words.v[0], words.v[i], present ? "present" : "absent");
		else
			strbuf_addf(out, "%s %s: %s: %s; not recorded.\n",
			            command_verb_name(cmd->verb), words.v[0], words.v[i],
			            found ? why : "no such person");
	}
	ret = 0;
out:
	strvec_free(&words);
	free(copy);
	return ret;
}

static int
handle_coordinator(struct wf *wf, const char **error_r)
{
	struct command_list *cmds = NULL;
	struct form_result *form = NULL;
	struct template_vars *vars = NULL;
	const struct program_form *pf = NULL;
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
		pf = find_join_form(wf->program, wf->form_text, &form);
		if (pf == NULL) {
			wf_result(wf, "ignored",
			          "a coordinator's message with no command; not answered");
			ret = 0;
			goto out;
		}
		if (!wf->proven) {
			char *summary = form_result_summary(form);
			char *what = xasprintf("register someone with this %s form", pf->def.name);

			ret = request_confirmation(wf, what, summary, error_r);
			free(summary);
			free(what);
			goto out;
		}
		if (handle_join_form(wf, pf, form, &out, error_r) < 0)
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
			rc = groups_make_pair(wf->config, wf->store, wf->program, cmd->id, cmd->id2,
			                      cmd->line, cmd->text, wf->now, &out, NULL, error_r);
			break;
		case CMD_END:
			rc = groups_end(wf->config, wf->store, wf->program, cmd->id, cmd->line,
			                cmd->text, wf->now, &out, error_r);
			break;
		case CMD_UNMATCH:
			rc = groups_unmatch(wf->config, wf->store, wf->program, cmd->id, cmd->line,
			                    wf->now, &out, error_r);
			break;
		case CMD_MOVE:
			rc = groups_move(wf->config, wf->store, wf->program, cmd->id, cmd->id2,
			                 cmd->line, wf->now, &out, error_r);
			break;
		case CMD_SWAP:
			rc = groups_swap(wf->store, wf->program, cmd->id, cmd->id2, cmd->line, &out,
			                 error_r);
			break;
		case CMD_PUBLISH:
			rc = groups_publish(wf->config, wf->store, wf->program, wf->now, &out,
			                    error_r);
			break;
		case CMD_PROPOSE:
			strbuf_addf(&out, "%s: a new proposal:\n", cmd->line);
			rc = groups_discard_proposal(wf->store, wf->program, error_r);
			if (rc == 0)
				rc = groups_propose_teams(wf->config, wf->store, wf->program,
				                          wf->now, &out, NULL, error_r);
			break;
		case CMD_MENTOR:
			rc = cmd_mentor(wf, cmd, &out, error_r);
			break;
		case CMD_DIGEST:
			snprintf(key, sizeof(key), "digest:msg=%lld", (long long)wf->row);
			rc = due_digest(wf->config, wf->store, wf->program, wf->now, key,
			                wf->msg->message_id, error_r);
			strbuf_addf(&out, "%s: the digest follows in a separate email.\n",
			            cmd->line);
			break;
		case CMD_HELP:
			help = true;
			break;
		case CMD_ATTENDED:
		case CMD_ABSENT:
			rc = cmd_attendance(wf, cmd, &out, error_r);
			break;
		case CMD_REMATCH:
			if (cmd->id == 0) {
				strbuf_addf(&out,
				            "%s: name the partnership, e.g. rematch 7 their goals "
				            "differ.\n",
				            cmd->line);
				break;
			}
			{
				char *who = xasprintf("coordinator %s", wf->from);

				rc =
				    groups_rematch(wf->config, wf->store, wf->program, cmd->id, who,
				                   cmd->line, cmd->text, wf->now, &out, error_r);
				free(who);
			}
			break;
		case CMD_MET:
		case CMD_WITHDRAW:
		case CMD_STOP:
		case CMD_START:
			strbuf_addf(&out,
			            "%s: only participants report meetings, withdraw, stop or "
			            "start.\n",
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
	vars = wf_vars(wf);
	template_vars_set(vars, "results", strbuf_str(&out));
	template_vars_set(vars, "help", help ? "yes" : NULL);
	template_vars_set(vars, "teams",
	                  wf->program->model.unit != NULL && !wf->program->model.unit->pair ? "yes"
	                                                                                    : NULL);
	snprintf(key, sizeof(key), "command-results:msg=%lld", (long long)wf->row);
	if (queue_answer(wf, key, "command-results", &wf->program->coordinators, "message", wf->row,
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

/* The request a reply answers, from its thread ("request:FORM:ROUND",
 * the group or meeting in thread_ref); *form_r NULL when it answers none.
 * The caller owns the strings. */
static void
thread_request(const struct store_outbox *thread, char **form_r, char **round_r, int64_t *ref_r)
{
	const char *t = thread->thread_type, *c1, *c2;

	*form_r = NULL;
	*round_r = NULL;
	*ref_r = 0;
	if (t == NULL || strncmp(t, "request:", 8) != 0)
		return;
	c1 = t + 8;
	c2 = strchr(c1, ':');
	*form_r = c2 != NULL ? xstrndup(c1, (size_t)(c2 - c1)) : xstrdup(c1);
	*round_r = xstrdup(c2 != NULL ? c2 + 1 : "");
	*ref_r = thread->thread_ref;
}

/* The group a reply's thread names, if any. */
static int64_t
thread_group(const struct store_outbox *thread)
{
	return thread->thread_type != NULL && (strcmp(thread->thread_type, "group") == 0 ||
	                                       strcmp(thread->thread_type, "match") == 0)
	           ? thread->thread_ref
	           : 0;
}

/* What a team's meeting on date was about, when the report does not say:
 * the facilitator whose turn it was (rotate_facilitator) and the month's
 * topic, both counted from the program's first month (or the group's, when
 * it formed later), as the monthly mail announced them. */
static void
meeting_turn(const struct config_program *program, const struct store_group *g, const char *date,
             int64_t *facilitator_r, const char **topic_r)
{
	const struct program_group *unit = program->model.unit;
	time_t start, end, t;
	int y, m, d;
	long month;

	*facilitator_r = 0;
	*topic_r = NULL;
	if (date == NULL || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return;
	notice_program_span(program, &start, &end);
	t = clock_local_midnight(y, m, d);
	if (unit != NULL && unit->rotate_facilitator) {
		const struct store_member *fac = groups_facilitator(
		    g, schedule_month_index(start > g->created_at ? start : g->created_at, t));

		if (fac != NULL)
			*facilitator_r = fac->person_id;
	}
	month = start != 0 ? schedule_month_index(start, t) : -1;
	if (start != 0 && t >= start && month >= 0 && (size_t)month < program->model.ntopics)
		*topic_r = program->model.topics[month].title;
}

/* Records a meeting of group g on date (YYYY-MM-DD), once per group and
 * date (both partners reporting it count once), and says in out what was
 * recorded and the month's count: a participant's report and mentorctl
 * meeting add (reported_by 0, row 0) both come here. */
static int
meeting_record(struct store *store, const struct config_program *program,
               const struct store_group *g, const char *date, int minutes, const char *topic,
               int64_t reported_by, int64_t row, time_t now, struct strbuf *out,
               const char **error_r)
{
	const struct program_group *unit = program->model.unit;
	const char *turn_topic = NULL;
	struct store_event e;
	char month[8];
	long count = 0;
	int64_t id;
	bool created;

	memset(&e, 0, sizeof(e));
	e.program = (char *)program->name;
	e.group_id = g->id;
	e.kind = (char *)"meeting";
	e.date = (char *)date;
	e.minutes = minutes;
	meeting_turn(program, g, date, &e.facilitator_id, &turn_topic);
	e.topic = (char *)(topic != NULL ? topic : turn_topic);
	e.reported_by = reported_by;
	e.message_row = row;
	e.created_at = now;
	if (store_event_add(store, &e, &id, &created, error_r) < 0)
		return -1;
	strbuf_addf(out, "%s: meeting on %s", created ? "Recorded" : "Already recorded", date);
	if (minutes > 0)
		strbuf_addf(out, " (%dh%02d)", minutes / 60, minutes % 60);
	strbuf_adds(out, ".\n");
	memcpy(month, date, 7);
	month[7] = '\0';
	if (store_event_count(store, g->id, "meeting", month, &count, NULL, error_r) < 0)
		return -1;
	strbuf_addf(out, "Meetings in %s so far: %ld of the %d the program asks for.\n", month,
	            count, unit != NULL ? unit->meetings_per_month : 0);
	return 0;
}

int
workflow_meeting_add(const struct config *config, struct store *store, int64_t group_id,
                     const char *date, int minutes, time_t now, struct strbuf *out, bool *done_r,
                     const char **error_r)
{
	const struct config_program *program = NULL;
	struct store_group g;
	bool found;
	int ret = -1;

	*done_r = false;
	memset(&g, 0, sizeof(g));
	if (store_group_get(store, group_id, &found, &g, error_r) < 0)
		return -1;
	if (found)
		program = config_program_by_name(config, g.program);
	if (!found || program == NULL || strcmp(g.status, "active") != 0) {
		strbuf_addf(out, "there is no active partnership or team #%lld.\n",
		            (long long)group_id);
		ret = 0;
		goto out;
	}
	if (meeting_record(store, program, &g, date, minutes, NULL, 0, 0, now, out, error_r) < 0)
		goto out;
	*done_r = true;
	ret = 0;
out:
	store_group_clear(&g);
	return ret;
}

/*
 * Meeting reports ("met 2026-11-20 2h" lines, or the program's meeting
 * form).  Cases:
 *   1. the sender is in no active group: explained (once a day), held;
 *   2. not proven: waits for the sender's confirming reply;
 *   3. each meeting recorded once per group and date (both partners
 *      reporting it count once), and the sender told the month's count.
 */
static int
record_meetings(struct wf *wf, const struct command_list *cmds, const struct form_result *form,
                const struct program_form *pf, const char **error_r)
{
	struct store_group g;
	struct template_vars *vars = NULL;
	struct strbuf out = {0};
	bool found, sent;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	if (groups_of_sender(wf->store, wf->program, wf->person_id, thread_group(wf->thread), &g,
	                     &found, error_r) < 0)
		return -1;
	if (!found) {
		ret = wf_explain_held(
		    wf, "meeting-problem", "meeting-recorded",
		    "You are not in an active partnership or team of this program, "
		    "so the meeting could not be recorded. The coordinator has been "
		    "told.\n",
		    "meeting report from someone not in a partnership", error_r);
		goto out;
	}
	if (!wf->proven) {
		char *summary = cmds != NULL ? command_lines(cmds) : form_result_summary(form);

		ret = request_confirmation(wf, "record the meeting(s) below", summary, error_r);
		free(summary);
		goto out;
	}
	for (size_t i = 0; i < (cmds != NULL ? cmds->n : 1); i++) {
		const char *date = NULL, *topic = NULL;
		int minutes = 0;

		if (cmds != NULL) {
			if (cmds->cmds[i].verb != CMD_MET)
				continue;
			date = cmds->cmds[i].date;
			minutes = cmds->cmds[i].minutes;
		} else {
			const struct form_field_def *fd = program_field_bound(pf, BIND_DATE);
			const struct form_field_def *fm = program_field_bound(pf, BIND_MINUTES);
			const struct form_field_def *ft = program_field_bound(pf, BIND_TOPIC);
			const struct form_value *mv =
			    fm != NULL ? form_result_get(form, fm->key) : NULL;
			int m = 0;

			date = fd != NULL ? form_result_value(form, fd->key) : NULL;
			if (mv != NULL && mv->raw != NULL &&
			    command_parse_duration(mv->raw, &m) == 0)
				minutes = m;
			topic = ft != NULL ? form_result_value(form, ft->key) : NULL;
		}
		if (date == NULL)
			continue;
		if (meeting_record(wf->store, wf->program, &g, date, minutes, topic, wf->person_id,
		                   wf->row, wf->now, &out, error_r) < 0)
			goto out;
	}
	for (size_t i = 0; cmds != NULL && i < cmds->errors.n; i++)
		strbuf_addf(&out, "Not understood: %s\n", cmds->errors.v[i]);
	vars = wf_vars(wf);
	template_vars_set(vars, "results", strbuf_str(&out));
	{
		struct strbuf partners = {0};

		for (size_t k = 0; k < g.nmembers; k++)
			if (g.members[k].person_id != wf->person_id)
				strbuf_addf(&partners, "%s%s", partners.len > 0 ? ", " : "",
				            notice_name(g.members[k].name, g.members[k].email));
		template_vars_set(vars, "partner_name", strbuf_str(&partners));
		strbuf_free(&partners);
	}
	if (wf_answer(wf, "meeting-recorded", "meeting-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, cmds != NULL && cmds->errors.n > 0 ? "answered" : "applied",
	          "meeting report for partnership #%lld", (long long)g.id);
	ret = 0;
out:
	strbuf_free(&out);
	template_vars_free(&vars);
	store_group_clear(&g);
	return ret;
}

/*
 * A participant leaves the program ("withdraw [reason]").  Cases:
 *   1. the sender takes no part in the program: told so (once a day);
 *   2. not proven: waits for their confirming reply;
 *   3. applied: every participation of theirs in the program is withdrawn,
 *      they leave their groups (the others told; a pair ends, and a
 *      first-role partner goes back to be grouped again), the coordinators
 *      are told, and so are they.
 */
static int
do_withdraw(struct wf *wf, const struct command *cmd, const char **error_r)
{
	struct store_participation *mine = NULL;
	struct template_vars *vars = NULL;
	struct strbuf ended = {0};
	size_t nmine = 0, live = 0;
	char key[96];
	bool sent;
	int ret = -1;

	if (wf->person_id > 0 &&
	    store_participation_of_person(wf->store, wf->person_id, &mine, &nmine, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nmine; i++)
		if (strcmp(mine[i].program, wf->program->name) == 0 &&
		    strcmp(mine[i].status, "withdrawn") != 0 &&
		    strcmp(mine[i].status, "declined") != 0 &&
		    strcmp(mine[i].status, "completed") != 0)
			live++;
	if (live == 0) {
		ret =
		    wf_explain_held(wf, "withdraw-problem", "meeting-recorded",
		                    "You have no application in this program, so there was nothing "
		                    "to withdraw.\n",
		                    "withdraw from someone with no application", error_r);
		if (ret == 0)
			wf->status = "answered";
		goto out;
	}
	if (!wf->proven) {
		char *summary = xasprintf("  %s\n", cmd->line);

		ret = request_confirmation(wf, "withdraw you from the program", summary, error_r);
		free(summary);
		goto out;
	}
	for (size_t i = 0; i < nmine; i++) {
		if (strcmp(mine[i].program, wf->program->name) != 0 ||
		    strcmp(mine[i].status, "withdrawn") == 0 ||
		    strcmp(mine[i].status, "declined") == 0 ||
		    strcmp(mine[i].status, "completed") == 0)
			continue;
		if (groups_leave(wf->config, wf->store, wf->program, &mine[i],
		                 cmd->text != NULL ? cmd->text : "withdrew", wf->now, &ended,
		                 error_r) < 0 ||
		    store_participation_set_status(wf->store, mine[i].id, "withdrawn", cmd->text,
		                                   wf->now, error_r) < 0)
			goto out;
	}
	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(mine[0].name, wf->from));
	template_vars_set(vars, "address", wf->from);
	template_vars_set(vars, "reason", cmd->text);
	template_vars_set(vars, "ended", strbuf_str(&ended));
	snprintf(key, sizeof(key), "withdrawal:msg=%lld", (long long)wf->row);
	if (notice_queue(wf->config, wf->store, wf->program, wf->now, key, "withdrawal",
	                 &wf->program->coordinators, "person", wf->person_id, "withdrawal-notice",
	                 vars, AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r) < 0 ||
	    wf_answer(wf, "withdrawn", "withdrawn", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "withdrew from the program");
	ret = 0;
out:
	strbuf_free(&ended);
	template_vars_free(&vars);
	store_participation_list_free(&mine, nmine);
	return ret;
}

/*
 * A partner asks for another partner ("rematch REASON").  Cases:
 *   1. the sender is in no active pair of the program: told so (once a
 *      day), held;
 *   2. not proven (a From proves nothing): waits for their confirming
 *      reply, so a forged From ends nothing;
 *   3. applied: groups_rematch (the pair ends, the reason recorded, the
 *      first partner back to be paired with someone else), the
 *      coordinators are told with the reason, and so is the sender.
 */
static int
do_rematch(struct wf *wf, const struct command *cmd, const char **error_r)
{
	const struct program_group *pg = program_pair_group(&wf->program->model);
	struct store_group *mine = NULL;
	struct template_vars *vars = NULL;
	struct strbuf said = {0};
	size_t nmine = 0;
	int64_t pair = 0;
	char key[96], *who = NULL;
	bool sent;
	int ret = -1;

	if (pg != NULL && wf->person_id > 0 &&
	    store_group_of_person(wf->store, wf->person_id, "active", &mine, &nmine, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nmine && pair == 0; i++)
		if (strcmp(mine[i].program, wf->program->name) == 0 &&
		    strcmp(mine[i].kind, pg->name) == 0)
			pair = mine[i].id;
	if (pair == 0) {
		ret = wf_explain_held(wf, "rematch-problem", "meeting-recorded",
		                      "You have no partner in this program yet, so there was "
		                      "nothing to rematch. Write to the coordinators if you "
		                      "need help.\n",
		                      "rematch from someone in no pair", error_r);
		if (ret == 0)
			wf->status = "answered";
		goto out;
	}
	if (!wf->proven) {
		char *summary = xasprintf("  %s\n", cmd->line);

		ret = request_confirmation(wf, "end your partnership and ask for another partner",
		                           summary, error_r);
		free(summary);
		goto out;
	}
	who = xasprintf("participant %s", wf->from);
	if (groups_rematch(wf->config, wf->store, wf->program, pair, who, cmd->line, cmd->text,
	                   wf->now, &said, error_r) < 0)
		goto out;
	vars = wf_vars(wf);
	template_vars_set(vars, "address", wf->from);
	template_vars_setf(vars, "group_id", "%lld", (long long)pair);
	template_vars_set(vars, "reason", cmd->text);
	template_vars_set(vars, "results", strbuf_str(&said));
	snprintf(key, sizeof(key), "rematch:msg=%lld", (long long)wf->row);
	if (notice_queue(wf->config, wf->store, wf->program, wf->now, key, "rematch",
	                 &wf->program->coordinators, "group", pair, "rematch-notice", vars,
	                 AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL, error_r) < 0 ||
	    wf_answer(wf, "rematch-recorded", "rematch-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "rematch of partnership #%lld", (long long)pair);
	ret = 0;
out:
	free(who);
	strbuf_free(&said);
	template_vars_free(&vars);
	store_group_list_free(&mine, nmine);
	return ret;
}

/*
 * A participant stops the program's periodic mail ("stop") or starts it
 * again ("start").  Cases:
 *   1. the sender has nothing to stop (no participation taking part, not
 *      in a group) or to start (none stopped): told so (once a day), held;
 *   2. not proven: waits for their confirming reply;
 *   3. applied: accepted or active participations become paused (no step
 *      writes to them, no listing shows them), paused ones accepted or
 *      active again, as joining made them; they are told.
 * A participant in a group is not paused: the group's mail is the
 * program itself, and withdraw is how to leave it.
 */
static int
do_stop_start(struct wf *wf, const struct command *cmd, const char **error_r)
{
	bool stop = cmd->verb == CMD_STOP;
	const struct program_group *unit = wf->program->model.unit;
	struct store_participation *mine = NULL;
	struct template_vars *vars = NULL;
	size_t nmine = 0, changed = 0;
	bool sent;
	int ret = -1;

	if (wf->person_id > 0 &&
	    store_participation_of_person(wf->store, wf->person_id, &mine, &nmine, error_r) < 0)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nmine; i++) {
			const struct program_role *role =
			    program_role(&wf->program->model, mine[i].role);
			bool live = strcmp(mine[i].status, "accepted") == 0 ||
			            strcmp(mine[i].status, "active") == 0;
			bool paused = strcmp(mine[i].status, "paused") == 0;

			if (strcmp(mine[i].program, wf->program->name) != 0 || role == NULL ||
			    (stop ? !live : !paused))
				continue;
			if (pass == 0) {
				changed++;
				continue;
			}
			/* Back to what joining gave: accepted when waiting
			 * for a group of the unit's first role, else active. */
			if (store_participation_set_status(
			        wf->store, mine[i].id,
			        stop ? "paused"
			             : (unit != NULL && strcmp(unit->roles.v[0], role->name) == 0
			                    ? "accepted"
			                    : "active"),
			        stop ? "stop" : "start", wf->now, error_r) < 0)
				goto out;
		}
		if (pass > 0)
			break;
		if (changed == 0) {
			ret = wf_explain_held(
			    wf, stop ? "stop-problem" : "start-problem", "stopped",
			    stop ? "You receive no periodic mail of this program that stop could "
			           "end (you have not opted in, or you already sent stop). To "
			           "leave a partnership or team, write: withdraw\n"
			         : "You have not stopped this program's mail, so there was "
			           "nothing to start again.\n",
			    stop ? "stop from someone with nothing to stop"
			         : "start from someone with nothing stopped",
			    error_r);
			if (ret == 0)
				wf->status = "answered";
			goto out;
		}
		if (!wf->proven) {
			char *summary = xasprintf("  %s\n", cmd->line);

			ret = request_confirmation(
			    wf,
			    stop ? "stop the program's periodic mail to you"
			         : "start the program's periodic mail to you again",
			    summary, error_r);
			free(summary);
			goto out;
		}
	}
	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(mine[0].name, wf->from));
	template_vars_set(vars, stop ? "stopped" : "started", "yes");
	if (wf_answer(wf, stop ? "stopped" : "started", "stopped", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "%s", stop ? "stopped the program's mail" : "started it again");
	ret = 0;
out:
	template_vars_free(&vars);
	store_participation_list_free(&mine, nmine);
	return ret;
}

/* The values of a form, for the store. */
static struct store_answer_value *
answer_values(const struct form_result *form)
{
	struct store_answer_value *v = xcalloc(form->nvalues + 1, sizeof(*v));

	for (size_t i = 0; i < form->nvalues; i++) {
		const struct form_value *fv = &form->values[i];

		v[i].field = fv->def->key;
		v[i].value = fv->value;
		v[i].has_number = fv->value != NULL &&
		                  (fv->def->type == FIELD_NUMBER || fv->def->type == FIELD_SCALE);
		v[i].number = fv->number;
	}
	return v;
}

/* The meeting of group g that person has not answered form about yet, the
 * latest first; 0 when none. */
static int
latest_unanswered_meeting(struct wf *wf, int64_t group_id, const char *form, int64_t *event_r,
                          const char **error_r)
{
	struct store_event *events = NULL;
	size_t n = 0;

	*event_r = 0;
	if (store_event_list(wf->store, group_id, "meeting", &events, &n, error_r) < 0)
		return -1;
	for (size_t i = n; i > 0 && *event_r == 0; i--) {
		long count;

		if (store_answer_count(wf->store, wf->program->name, form, NULL, wf->person_id, 0,
		                       events[i - 1].id, &count, error_r) < 0) {
			store_event_list_free(&events, n);
			return -1;
		}
		if (count == 0)
			*event_r = events[i - 1].id;
	}
	store_event_list_free(&events, n);
	return 0;
}

/* The meeting of group g on date (YYYY-MM-DD), its id in *event_r, or 0;
 * *date_r (the caller frees it) the date of event when event_r is set. */
static int
meeting_of_group(struct wf *wf, int64_t group_id, const char *date, int64_t *event_r, char **date_r,
                 const char **error_r)
{
	struct store_event *events = NULL;
	size_t n = 0;

	if (store_event_list(wf->store, group_id, "meeting", &events, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (date != NULL && *event_r == 0 && strcmp(events[i].date, date) == 0)
			*event_r = events[i].id;
		if (date_r != NULL && *event_r != 0 && events[i].id == *event_r && *date_r == NULL)
			*date_r = xstrdup(events[i].date);
	}
	store_event_list_free(&events, n);
	return 0;
}

/* Whether an attended answer says yes: the first choice, a number above 0,
 * or "yes". */
static bool
answer_attended(const struct form_value *v)
{
	const struct form_field_def *fd = v->def;

	if (fd->type == FIELD_NUMBER || fd->type == FIELD_SCALE)
		return v->number > 0;
	if (fd->choices.n > 0)
		return str_ieq(fd->choices.v[0], v->value);
	return str_ieq(v->value, "yes");
}

/*
 * The group a request asked about (ref), when the program has completed it
 * and the sender was one of its members.  A request's window runs past the
 * end (CDSS asks for the final evaluation 14 days before the end with
 * reminders for 21 days), so a partner may answer after the end; the
 * answer is still about their own partnership and is recorded.  A group
 * ended otherwise (a partner withdrew, the coordinator ended it) is not.
 */
static int
request_group_completed(struct wf *wf, int64_t ref, struct store_group *g_r, bool *found_r,
                        const char **error_r)
{
	struct store_group g;
	bool found;

	*found_r = false;
	memset(&g, 0, sizeof(g));
	if (store_group_get(wf->store, ref, &found, &g, error_r) < 0)
		return -1;
	if (found && strcmp(g.program, wf->program->name) == 0 &&
	    strcmp(g.status, "completed") == 0) {
		for (size_t k = 0; k < g.nmembers; k++) {
			if (g.members[k].person_id == wf->person_id) {
				store_group_clear(g_r);
				*g_r = g;
				*found_r = true;
				return 0;
			}
		}
	}
	store_group_clear(&g);
	return 0;
}

/*
 * Whom an answer about a participant (a 180) is about, and whether the
 * sender may write it: the request it replies to names the participant
 * (thread_ref), the reply token proves the sender, who must be that
 * participant or the supervisor their join form bound, as recorded now.
 * *why_r says why not (NULL: they may); *name_r (the caller frees it) is
 * the participant's name.
 */
static int
about_participant(struct wf *wf, int64_t ref, int64_t *subject_r, int64_t *participation_r,
                  char **name_r, const char **why_r, const char **error_r)
{
	static const char *const taking_part[] = {"accepted", "matched", "active", "completed",
	                                          "paused"};
	struct store_participation p;
	bool found = false, part = false;

	*why_r = NULL;
	*name_r = NULL;
	/* Not a reply to the request (a new email, a forged From): nobody
	 * can tell whom it is about, nor that the sender wrote it. */
	if (!wf->proven || ref <= 0 || wf->thread->person_id != wf->person_id) {
		*why_r = "it was not a reply to the email that asked for it";
		return 0;
	}
	memset(&p, 0, sizeof(p));
	if (store_participation_find(wf->store, wf->program->name, ref, NULL, &found, &p, error_r) <
	    0)
		return -1;
	for (size_t i = 0; found && i < N_ELEMENTS(taking_part); i++)
		part = part || strcmp(p.status, taking_part[i]) == 0;
	if (!part || program_role(&wf->program->model, p.role) == NULL)
		*why_r = "the person it is about no longer takes part in the program";
	else if (ref != wf->person_id && p.supervisor_id != wf->person_id)
		*why_r = "this address is not the supervisor recorded for the person it is about";
	*subject_r = ref;
	*participation_r = p.id;
	*name_r = xstrdup(notice_name(p.name, p.email));
	store_participation_clear(&p);
	return 0;
}

/*
 * An answer form (an evaluation, a survey) from a participant.  Cases:
 *   1. about a group, and the sender is in none (nor answers a request about
 *      a group of theirs the program's end completed): explained, held;
 *   2. about a meeting, and none is named or waits for their answer, or
 *      the form's date (binds = date) is no reported meeting of their
 *      group (an evaluation of a meeting that did not happen): explained,
 *      held;
 *   3. the form has problems (a missing answer, a scale out of range):
 *      nothing recorded, the sender told what to fix;
 *   4. not proven: waits for the sender's confirming reply;
 *   5. recorded once per message (a replay finds it), with its round and
 *      what it is about, the sender thanked; a field bound to attended
 *      records whether they attended the meeting.  The answers are kept
 *      and shown to nobody but who the form's fields allow.
 */
static int
handle_answer(struct wf *wf, const struct program_form *pf, const struct form_result *form,
              const char **error_r)
{
	struct store_group g;
	struct store_answer a;
	struct store_answer_value *values = NULL;
	struct template_vars *vars = wf_vars(wf);
	struct strbuf out = {0};
	char *rform = NULL, *round = NULL, *summary = NULL, *event_date = NULL;
	char *subject_name = NULL;
	int64_t ref, event = 0, id, subject = 0, subject_part = 0;
	bool found = false, created, sent;
	long count = 0, replaced = 0;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	/* An assessment is shown in its report: the texts must not promise
	 * that it stays from the supervisor. */
	template_vars_set(vars, "assessment", pf->about == ABOUT_PARTICIPANT ? "yes" : NULL);
	thread_request(wf->thread, &rform, &round, &ref);
	if (rform != NULL && strcmp(rform, pf->def.name) != 0) {
		/* A reply to another request: not its round. */
		free(round);
		round = NULL;
		ref = 0;
	}
	if (pf->about == ABOUT_PARTICIPANT) {
		const char *why;

		if (about_participant(wf, rform != NULL ? ref : 0, &subject, &subject_part,
		                      &subject_name, &why, error_r) < 0)
			goto out;
		if (why != NULL) {
			char *text = xasprintf(
			    "Your %s was not recorded: %s. An assessment counts only as a reply "
			    "to the email that asked for it, from the person it was sent to. "
			    "The coordinator has been told.\n",
			    pf->def.title != NULL ? pf->def.title : pf->def.name, why);

			template_vars_set(vars, "results", text);
			template_vars_set(vars, "name", wf->from);
			ret = wf_explain(wf, "evaluation-problem", "evaluation-recorded", vars,
			                 &sent, error_r);
			if (ret == 0)
				wf_result(wf, "held",
				          "assessment not recorded: not the participant "
				          "or their supervisor answering its request");
			free(text);
			goto out;
		}
	}
	if (pf->about == ABOUT_GROUP || pf->about == ABOUT_MEETING) {
		if (groups_of_sender(wf->store, wf->program, wf->person_id,
		                     pf->about == ABOUT_GROUP && ref > 0 ? ref
		                                                         : thread_group(wf->thread),
		                     &g, &found, error_r) < 0)
			goto out;
		if (!found && pf->about == ABOUT_GROUP && ref > 0 && rform != NULL &&
		    request_group_completed(wf, ref, &g, &found, error_r) < 0)
			goto out;
		if (!found) {
			char *text =
			    xasprintf("You are not in an active partnership or team of this "
			              "program, so your %s could not be recorded. The "
			              "coordinator has been told.\n",
			              pf->def.title != NULL ? pf->def.title : pf->def.name);

			ret = wf_explain_held(wf, "evaluation-problem", "evaluation-recorded", text,
			                      "evaluation from someone not in a partnership",
			                      error_r);
			free(text);
			goto out;
		}
	}
	if (pf->about == ABOUT_MEETING) {
		const struct form_field_def *fd = program_field_bound(pf, BIND_DATE);
		const char *date = fd != NULL ? form_result_value(form, fd->key) : NULL;

		if (date != NULL) {
			/* The date written wins over the request replied to. */
			if (meeting_of_group(wf, g.id, date, &event, &event_date, error_r) < 0)
				goto out;
			if (event == 0) {
				char *text = xasprintf(
				    "There is no reported meeting of your team on %s, so your "
				    "%s was not recorded. If the team met that day, report the "
				    "meeting first (reply with \"met %s\"), then send the "
				    "evaluation again; if the date is wrong, correct it.\n",
				    date, pf->def.title != NULL ? pf->def.title : pf->def.name,
				    date);

				ret = wf_explain_held(
				    wf, "evaluation-problem", "evaluation-recorded", text,
				    "evaluation of a meeting that was not reported", error_r);
				free(text);
				goto out;
			}
		} else if (ref > 0 && rform != NULL) {
			event = ref;
		} else if (latest_unanswered_meeting(wf, g.id, pf->def.name, &event, error_r) < 0) {
			goto out;
		}
		if (event != 0 && event_date == NULL &&
		    meeting_of_group(wf, g.id, NULL, &event, &event_date, error_r) < 0)
			goto out;
		if (event == 0) {
			ret = wf_explain_held(
			    wf, "evaluation-problem", "evaluation-recorded",
			    "There is no reported meeting of your team that this "
			    "evaluation could be about, so it was not recorded. Report "
			    "the meeting first (reply with \"met DATE\"), then send the "
			    "evaluation again.\n",
			    "evaluation of a meeting that was not reported", error_r);
			goto out;
		}
	}
	/* Greeted by the name the roster or application gave, not the
	 * address. */
	{
		struct store_person p;

		memset(&p, 0, sizeof(p));
		if (wf->person_id != 0 &&
		    store_person_get(wf->store, wf->person_id, &p, error_r) < 0)
			goto out;
		template_vars_set(vars, "name", notice_name(p.name, wf->from));
		store_person_clear(&p);
	}
	/* A survey (a form with a deadline, or one answer a person) is for the
	 * people it was sent to: a stranger's answer is kept for the
	 * coordinator, not counted. */
	if ((pf->closes.base != 0 || pf->replace) && pf->about == ABOUT_PROGRAM) {
		bool taking_part = false;
		time_t start, end, closes;

		if (wf->person_id > 0 &&
		    store_person_in_program(wf->store, wf->program->name, wf->person_id,
		                            &taking_part, error_r) < 0)
			goto out;
		if (!taking_part) {
			char *text = xasprintf(
			    "The %s is for the people it was sent to, and this address is not "
			    "one of them, so your answer was not recorded. If you should have "
			    "received it, the coordinator has been told and will get back to "
			    "you.\n",
			    pf->def.title != NULL ? pf->def.title : pf->def.name);

			ret = wf_explain_held(wf, "evaluation-problem", "evaluation-recorded", text,
			                      "survey answer from someone it was not sent to",
			                      error_r);
			free(text);
			goto out;
		}
		/* Late: kept (the message stays, answered), not counted as a
		 * response.  When it arrived decides, not when it is read. */
		notice_program_span(wf->program, &start, &end);
		closes = program_form_closes_at(pf, start, end);
		if (closes != 0 && wf->sent_at >= closes) {
			struct tm tm;
			char day[32];

			clock_local(closes - 1, &tm);
			if (strftime(day, sizeof(day), "%B", &tm) == 0)
				day[0] = '\0';
			strbuf_addf(&out,
			            "The %s closed on %s %d, %d, so your answer, which arrived "
			            "after that, was not counted. Thank you all the same: it is "
			            "kept, and the coordinator can read it.\n",
			            pf->def.title != NULL ? pf->def.title : pf->def.name, day,
			            tm.tm_mday, tm.tm_year + 1900);
			template_vars_set(vars, "results", strbuf_str(&out));
			if (wf_answer(wf, "evaluation-late", "evaluation-recorded", vars, &sent,
			              error_r) < 0)
				goto out;
			wf_result(wf, "answered", "%s answer after its deadline: not recorded",
			          pf->def.name);
			ret = 0;
			goto out;
		}
	}
	if (form->problems.n > 0) {
		strbuf_adds(&out, "It was not recorded:\n");
		for (size_t i = 0; i < form->problems.n; i++)
			strbuf_addf(&out, "  - %s\n", form->problems.v[i]);
		strbuf_adds(&out, "Please correct it and send it again.\n");
		template_vars_set(vars, "results", strbuf_str(&out));
		if (wf_answer(wf, "evaluation-problems", "evaluation-recorded", vars, &sent,
		              error_r) < 0)
			goto out;
		wf_result(wf, "answered", "%s form with %zu problem(s)", pf->def.name,
		          form->problems.n);
		ret = 0;
		goto out;
	}
	summary = form_result_summary(form);
	if (!wf->proven) {
		char *what = xasprintf("record your %s",
		                       pf->def.title != NULL ? pf->def.title : pf->def.name);

		ret = request_confirmation(wf, what, summary, error_r);
		free(what);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.program = wf->program->name;
	a.form = pf->def.name;
	a.round = round != NULL ? round : "";
	a.respondent_id = wf->person_id;
	a.group_id = g.id;
	a.event_id = event;
	a.subject_id = subject;
	a.participation_id = subject_part;
	a.message_row = wf->row;
	a.summary = summary;
	a.created_at = wf->now;
	values = answer_values(form);
	if (store_answer_add(wf->store, &a, values, form->nvalues, &id, &created, error_r) < 0 ||
	    (g.id > 0 && store_answer_count(wf->store, wf->program->name, pf->def.name, NULL, 0,
	                                    g.id, 0, &count, error_r) < 0))
		goto out;
	if (created && pf->replace) {
		bool later;

		if (store_answer_supersede(wf->store, id, &later, &replaced, error_r) < 0)
			goto out;
		if (later) {
			template_vars_set(vars, "results",
			                  "A later answer of yours is already recorded; this "
			                  "earlier one was not.\n");
			if (wf_answer(wf, "evaluation-recorded", "evaluation-recorded", vars, &sent,
			              error_r) < 0)
				goto out;
			wf_result(wf, "answered", "%s answer older than the one recorded",
			          pf->def.name);
			ret = 0;
			goto out;
		}
	}
	if (event > 0 && created) {
		const struct form_field_def *fa = program_field_bound(pf, BIND_ATTENDED);
		const struct form_value *v = fa != NULL ? form_result_get(form, fa->key) : NULL;

		if (v != NULL && v->value != NULL &&
		    store_event_attend(wf->store, event, wf->person_id,
		                       answer_attended(v) ? "present" : "absent", error_r) < 0)
			goto out;
	}
	if (event_date != NULL) {
		strbuf_addf(&out, "%s: your %s of the team meeting on %s.\n",
		            created ? "Recorded" : "Already recorded",
		            pf->def.title != NULL ? pf->def.title : pf->def.name, event_date);
	} else {
		struct strbuf partners = {0};

		for (size_t k = 0; k < g.nmembers; k++)
			if (g.members[k].person_id != wf->person_id)
				strbuf_addf(&partners, "%s%s", partners.len > 0 ? ", " : "",
				            notice_name(g.members[k].name, g.members[k].email));
		if (g.id > 0)
			strbuf_addf(&out, "%s: your evaluation of the partnership with %s.\n",
			            created ? "Recorded" : "Already recorded",
			            strbuf_str(&partners));
		else if (subject != 0)
			strbuf_addf(&out, "%s: your %s%s%s%s%s%s.\n",
			            created ? "Recorded" : "Already recorded",
			            pf->def.title != NULL ? pf->def.title : pf->def.name,
			            subject != wf->person_id ? " of " : "",
			            subject != wf->person_id ? subject_name : "",
			            round != NULL && *round != '\0' ? " (" : "",
			            round != NULL ? round : "",
			            round != NULL && *round != '\0' ? ")" : "");
		else
			strbuf_addf(
			    &out, "%s: your %s%s.\n", created ? "Recorded" : "Already recorded",
			    pf->def.title != NULL ? pf->def.title : pf->def.name,
			    replaced > 0 ? " (it replaces the answer you sent before)" : "");
		strbuf_free(&partners);
	}
	template_vars_set(vars, "results", strbuf_str(&out));
	if (wf_answer(wf, "evaluation-recorded", "evaluation-recorded", vars, &sent, error_r) < 0)
		goto out;
	if (g.id > 0)
		wf_result(wf, "applied", "evaluation for partnership #%lld (%ld in all)",
		          (long long)g.id, count);
	else
		wf_result(wf, "applied", "%s%s%s recorded%s", pf->def.name,
		          round != NULL ? " " : "", round != NULL ? round : "",
		          replaced > 0 ? ", replacing the earlier answer" : "");
	ret = 0;
out:
	free(values);
	free(rform);
	free(round);
	free(subject_name);
	free(event_date);
	free(summary);
	strbuf_free(&out);
	template_vars_free(&vars);
	store_group_clear(&g);
	return ret;
}

static int
answer_form_problems(struct wf *wf, const struct program_form *pf, const struct form_result *form,
                     const char **error_r)
{
	struct template_vars *vars = wf_vars(wf);
	struct strbuf problems = {0};
	char *summary = form_result_summary(form);
	char *blank = form_render_blank(&pf->def);
	bool sent;
	int ret;

	for (size_t i = 0; i < form->problems.n; i++)
		strbuf_addf(&problems, "  - %s\n", form->problems.v[i]);
	template_vars_set(vars, "problems", strbuf_str(&problems));
	template_vars_set(vars, "understood", summary);
	template_vars_set(vars, "form", blank);
	ret = wf_answer(wf, "form-problems", "form-problems", vars, &sent, error_r);
	if (ret == 0)
		wf_result(wf, "answered", "%s form with %zu problem(s)%s", pf->def.name,
		          form->problems.n,
		          sent ? "" : "; not answered (automatic, or daily limit)");
	strbuf_free(&problems);
	free(summary);
	free(blank);
	template_vars_free(&vars);
	return ret;
}

/* The level a form gives: a number as written, or a choice's place in its
 * list (1 for the first), so that "Analyst" < "Supervisor" < "Manager". */
static long
form_level(const struct form_result *form, const struct form_field_def *fd)
{
	const struct form_value *v = fd != NULL ? form_result_get(form, fd->key) : NULL;

	if (v == NULL || v->value == NULL)
		return -1;
	if (fd->type == FIELD_NUMBER || fd->type == FIELD_SCALE)
		return v->number;
	for (size_t i = 0; i < fd->choices.n; i++)
		if (str_ieq(fd->choices.v[i], v->value))
			return (long)i + 1;
	return -1;
}

static const char *
bound_value(const struct program_form *pf, const struct form_result *form, enum form_bind b)
{
	const struct form_field_def *fd = program_field_bound(pf, b);

	return fd != NULL ? form_result_value(form, fd->key) : NULL;
}

/* An approver (supervisor, director) is asked to agree, by reply. */
static int
ask_approval(struct wf *wf, const struct program_role *role, const struct store_participation *p,
             const char *approver, const char *addr, const char *name, const char **error_r)
{
	struct template_vars *vars = NULL;
	struct outbox_mail mail;
	struct strvec to = {0};
	char key[64];
	int64_t person, id;
	bool created;
	int ret = -1;

	if (store_person_upsert(wf->store, addr, NULL, &person, error_r) < 0 ||
	    store_approval_request(wf->store, p->id, approver, person, wf->now, &id, &created,
	                           error_r) < 0)
		return -1;
	if (!created)
		return 0;
	vars = wf_vars(wf);
	template_vars_set(vars, "name", name);
	template_vars_set(vars, "approver", approver);
	template_vars_set(vars, "role_title", role->title);
	template_vars_set(vars, "division", p->division);
	template_vars_setf(vars, "days", "%d", role->approval_days);
	snprintf(key, sizeof(key), "approval:approval=%lld", (long long)id);
	strvec_push(&to, addr);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = "approval-request";
	mail.program = wf->program->name;
	mail.to = &to;
	mail.thread_type = "approval";
	mail.thread_ref = id;
	mail.template_name = "approval-request";
	mail.vars = vars;
	mail.audience = AUDIENCE_SUPERVISOR;
	mail.capped = true;
	mail.role = approver;
	ret = outbox_enqueue(wf->config, wf->store, &mail, wf->now, NULL, error_r);
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
}

/*
 * A join form: an application, or a registration.  Cases:
 *   1. problems: the sender told each one (a coordinator in the command
 *      results), nothing recorded;
 *   2. it registers someone else (a field binds email) and the sender is
 *      no coordinator: refused;
 *   3. not proven: waits for the sender's confirming reply;
 *   4. recorded: the participation with what the form binds (a correction
 *      replaces it, keeping the decision) and the form as an answer; then
 *      - a coordinator's registration: decided at once, the person welcomed;
 *      - approvals asked (supervisor, director), the applicant told;
 *      - decided automatically: accepted (or the pool, when the role's
 *        limit is reached), or active for a role that is not grouped first;
 *      - decided by the coordinator: the application waits for the digest;
 *      and the supervisor told when the role says so (and no approval is
 *      asked).
 */
static int
handle_join_form(struct wf *wf, const struct program_form *pf, const struct form_result *form,
                 struct strbuf *out, const char **error_r)
{
	const struct program_role *role = program_role_of_form(&wf->program->model, pf);
	const struct program_group *unit = wf->program->model.unit;
	const char *who = bound_value(pf, form, BIND_EMAIL);
	const char *given = bound_value(pf, form, BIND_NAME);
	bool by_coordinator = wf_is_coordinator(wf);
	struct store_participation p, saved;
	struct store_answer a;
	struct store_answer_value *values = NULL;
	struct template_vars *vars = NULL;
	/* xstrndup copies exactly n bytes: at most the name's own (a shorter
	 * name was read past its end, which ASan reports). */
	char *name = given != NULL ? xstrndup(given, strnlen(given, NAME_MAX_CHARS)) : NULL,
	     *summary = NULL;
	char key[96];
	int64_t person, sender, id, answer;
	bool created, is_new, found, sent, full;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	memset(&saved, 0, sizeof(saved));
	if (form->problems.n > 0) {
		if (by_coordinator) {
			summary = form_result_summary(form);
			strbuf_addf(out, "The %s form could not be used:\n", pf->def.name);
			for (size_t i = 0; i < form->problems.n; i++)
				strbuf_addf(out, "  - %s\n", form->problems.v[i]);
			strbuf_addf(out, "What was understood:\n%s\n", summary);
			ret = 0;
		} else {
			ret = answer_form_problems(wf, pf, form, error_r);
		}
		goto out;
	}
	if (who == NULL)
		who = wf->from;
	if (!by_coordinator && strcasecmp(who, wf->from) != 0) {
		ret =
		    wf_explain_held(wf, "command-refused", "command-refused",
		                    "A form can register only its sender; the coordinator "
		                    "registers others.\n",
		                    "a form registering someone else, from a participant", error_r);
		goto out;
	}
	if (!wf->proven) {
		char *what = xasprintf("submit your %s",
		                       pf->def.title != NULL ? pf->def.title : pf->def.name);

		summary = form_result_summary(form);
		ret = request_confirmation(wf, what, summary, error_r);
		free(what);
		goto out;
	}
	if (store_person_upsert(wf->store, who, name, &person, error_r) < 0 ||
	    store_person_upsert(wf->store, wf->from, NULL, &sender, error_r) < 0)
		goto out;
	p.person_id = person;
	p.level = form_level(form, program_field_bound(pf, BIND_LEVEL));
	p.division = (char *)bound_value(pf, form, BIND_DIVISION);
	p.topics = (char *)bound_value(pf, form, BIND_TOPICS);
	p.availability = (char *)bound_value(pf, form, BIND_AVAILABILITY);
	{
		const struct form_value *cap =
		    program_field_bound(pf, BIND_CAPACITY) != NULL
		        ? form_result_get(form, program_field_bound(pf, BIND_CAPACITY)->key)
		        : NULL;

		p.capacity = cap != NULL && cap->value != NULL ? cap->number : 0;
	}
	for (int b = BIND_SUPERVISOR; b <= BIND_DIRECTOR; b++) {
		const char *addr = bound_value(pf, form, (enum form_bind)b);
		int64_t pid;

		if (addr == NULL)
			continue;
		if (store_person_upsert(wf->store, addr, NULL, &pid, error_r) < 0 ||
		    store_participation_add(wf->store, wf->program->name, pid,
		                            b == BIND_SUPERVISOR ? "supervisor" : "director",
		                            wf->now, error_r) < 0)
			goto out;
		if (b == BIND_SUPERVISOR)
			p.supervisor_id = pid;
		else
			p.director_id = pid;
	}
	if (store_participation_find(wf->store, wf->program->name, person, role->name, &found,
	                             &saved, error_r) < 0)
		goto out;
	if (by_coordinator || found) {
		if (register_participant(wf->config, wf->store, wf->program, role, &p, wf->now, &id,
		                         &created, error_r) < 0)
			goto out;
	} else {
		p.program = (char *)wf->program->name;
		p.role = (char *)role->name;
		p.created_at = wf->now;
		if (p.capacity <= 0)
			p.capacity = role->capacity;
		if (role->decided_by == DECIDED_BY_COORDINATOR)
			p.status = (char *)"applied";
		else if (role->approvals.n > 0)
			p.status = (char *)"approving";
		else if (unit != NULL && strcmp(unit->roles.v[0], role->name) == 0) {
			if (role_full(wf, role, &full, error_r) < 0)
				goto out;
			p.status = (char *)(full ? "pool" : "accepted");
		} else
			p.status = (char *)"active";
		if (store_participation_save(wf->store, &p, &id, &created, error_r) < 0)
			goto out;
	}
	/* created says whether this form made the participation; the saves
	 * below only update it. */
	is_new = created;
	summary = form_result_summary(form);
	memset(&a, 0, sizeof(a));
	a.program = wf->program->name;
	a.form = pf->def.name;
	a.respondent_id = sender;
	a.subject_id = person;
	a.participation_id = id;
	a.message_row = wf->row;
	a.summary = summary;
	a.created_at = wf->now;
	values = answer_values(form);
	if (store_answer_add(wf->store, &a, values, form->nvalues, &answer, &created, error_r) < 0)
		goto out;
	p.answer_id = answer;
	p.program = (char *)wf->program->name;
	p.role = (char *)role->name;
	if (store_participation_save(wf->store, &p, &id, &created, error_r) < 0)
		goto out;
	store_participation_clear(&saved);
	if (store_participation_get(wf->store, id, &found, &saved, error_r) < 0)
		goto out;

	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(saved.name, saved.email));
	template_vars_setf(vars, "application_id", "%lld", (long long)id);
	template_vars_set(vars, "role_title", role->title);
	template_vars_set_confidential(vars, "answers", summary);
	template_vars_set(vars, "status", saved.status);
	/* Decided at once (a role decided automatically, as CDSS's mentor
	 * role a graduate joins by answering the offer at the end): the
	 * acknowledgment says so, not that the coordinator will review it. */
	if (strcmp(saved.status, "accepted") == 0 || strcmp(saved.status, "active") == 0)
		template_vars_set(vars, "registered", "yes");
	if (by_coordinator && strcasecmp(saved.email, wf->from) != 0) {
		snprintf(key, sizeof(key), "welcome:participation=%lld", (long long)id);
		if (notice_queue_one(wf->config, wf->store, wf->program, wf->now, key, "welcome",
		                     saved.email, "participation", id, "welcome", vars,
		                     AUDIENCE_PARTICIPANT, error_r) < 0)
			goto out;
		strbuf_addf(out, "%s #%lld %s <%s> is registered (%s: %s).\n", role->title,
		            (long long)id, notice_name(saved.name, saved.email), saved.email,
		            "strengths", saved.topics != NULL ? saved.topics : "none given");
		if (out->len > 0)
			out->buf[0] = (char)(out->buf[0] >= 'a' && out->buf[0] <= 'z'
			                         ? out->buf[0] - 'a' + 'A'
			                         : out->buf[0]);
		wf_result(wf, "applied", "%s #%lld registered", role->name, (long long)id);
		ret = 0;
		goto out;
	}
	/* The applicant's own application. */
	{
		struct strbuf approvers = {0};

		if (strcmp(saved.status, "approving") == 0) {
			for (size_t i = 0; i < role->approvals.n; i++) {
				const char *addr = strcmp(role->approvals.v[i], "supervisor") == 0
				                       ? saved.supervisor_email
				                       : saved.director_email;

				if (addr == NULL)
					continue;
				strbuf_addf(&approvers, "%s%s (%s)", approvers.len > 0 ? ", " : "",
				            addr, role->approvals.v[i]);
				if (ask_approval(wf, role, &saved, role->approvals.v[i], addr,
				                 notice_name(saved.name, saved.email),
				                 error_r) < 0) {
					strbuf_free(&approvers);
					goto out;
				}
			}
		}
		template_vars_set(vars, "approvers", strbuf_str(&approvers));
		strbuf_free(&approvers);
	}
	snprintf(key, sizeof(key), is_new ? "ack:application=%lld" : "application-updated:msg=%lld",
	         is_new ? (long long)id : (long long)wf->row);
	if (wf_answer_key(wf, key, "ack", is_new ? "application-ack" : "application-updated", vars,
	                  "application", id, &sent, error_r) < 0)
		goto out;
	/* The supervisor learns that their employee applied, and nothing of the
	 * self-assessment: the template is rendered for the supervisor audience,
	 * which refuses confidential values.  The supervisor is a person with a
	 * role, and a notice to them counts against their daily cap. */
	if (role->notify_supervisor && role->approvals.n == 0 && saved.supervisor_email != NULL) {
		struct outbox_mail mail;
		struct strvec to = {0};

		template_vars_set(vars, "supervisor_email", saved.supervisor_email);
		template_vars_set(vars, "division", saved.division);
		snprintf(key, sizeof(key), "supervisor-notice:application=%lld", (long long)id);
		strvec_push(&to, saved.supervisor_email);
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
	          is_new ? "received" : "updated");
	ret = 0;
out:
	free(name);
	free(summary);
	free(values);
	template_vars_free(&vars);
	store_participation_clear(&saved);
	return ret;
}

/*
 * An approver's reply to a request to approve (thread "approval").  Cases:
 *   1. not the approver asked (a token of someone else): not handled here;
 *   2. already decided: said so;
 *   3. neither yes nor no: not handled here (an ordinary message);
 *   4. yes: agreed; when every approval of the participation agrees, it is
 *      accepted (or the pool, at the role's limit) and the applicant told;
 *   5. no: refused, the application declined, the applicant and the
 *      coordinators told.
 */
static int
handle_approval_reply(struct wf *wf, bool *handled_r, const char **error_r)
{
	struct store_approval ap;
	struct store_approval *all = NULL;
	struct store_participation p;
	struct template_vars *vars = NULL;
	enum trust_answer answer = trust_confirm_word(wf->reply);
	size_t nall = 0, agreed = 0;
	char key[96];
	bool found, sent;
	int ret = -1;

	*handled_r = false;
	memset(&ap, 0, sizeof(ap));
	memset(&p, 0, sizeof(p));
	if (store_approval_get(wf->store, wf->thread->thread_ref, &found, &ap, error_r) < 0)
		return -1;
	if (!found || ap.person_id != wf->person_id || answer == TRUST_ANSWER_NONE) {
		ret = 0;
		goto out;
	}
	*handled_r = true;
	if (store_participation_get(wf->store, ap.participation_id, &found, &p, error_r) < 0)
		goto out;
	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(p.name, p.email));
	template_vars_set(vars, "approver", ap.approver);
	template_vars_setf(vars, "application_id", "%lld", (long long)p.id);
	if (strcmp(ap.status, "waiting") != 0) {
		template_vars_setf(vars, "outcome", "already %s", ap.status);
		if (wf_answer(wf, "approval-thanks", "approval-thanks", vars, &sent, error_r) < 0)
			goto out;
		wf_result(wf, "ignored", "approval #%lld was already %s", (long long)ap.id,
		          ap.status);
		ret = 0;
		goto out;
	}
	if (store_approval_decide(wf->store, ap.id,
	                          answer == TRUST_ANSWER_YES ? "agreed" : "refused", wf->reply,
	                          wf->row, wf->now, error_r) < 0)
		goto out;
	template_vars_set(vars, "outcome", answer == TRUST_ANSWER_YES ? "agreed" : "refused");
	if (wf_answer(wf, "approval-thanks", "approval-thanks", vars, &sent, error_r) < 0 ||
	    store_approval_list(wf->store, NULL, p.id, NULL, &all, &nall, error_r) < 0)
		goto out;
	for (size_t i = 0; i < nall; i++)
		agreed += strcmp(all[i].status, "agreed") == 0;
	if (answer == TRUST_ANSWER_NO || agreed == nall) {
		const struct program_role *role = program_role(&wf->program->model, p.role);
		const char *status = "declined";
		bool full = false;

		if (answer == TRUST_ANSWER_YES) {
			if (role_full(wf, role, &full, error_r) < 0)
				goto out;
			status = full ? "pool" : "accepted";
		}
		if (strcmp(p.status, "approving") == 0 &&
		    store_participation_set_status(
		        wf->store, p.id, status, answer == TRUST_ANSWER_NO ? "not approved" : NULL,
		        wf->now, error_r) < 0)
			goto out;
		template_vars_set(vars, "status", status);
		template_vars_set(vars, "refused", answer == TRUST_ANSWER_NO ? "yes" : NULL);
		snprintf(key, sizeof(key), "approval-result:application=%lld", (long long)p.id);
		if (notice_queue_one(wf->config, wf->store, wf->program, wf->now, key,
		                     "approval-result", p.email, "application", p.id,
		                     "approval-result", vars, AUDIENCE_PARTICIPANT, error_r) < 0)
			goto out;
		if (answer == TRUST_ANSWER_NO) {
			snprintf(key, sizeof(key), "approval-refused:application=%lld",
			         (long long)p.id);
			if (notice_queue(wf->config, wf->store, wf->program, wf->now, key,
			                 "approval-refused", &wf->program->coordinators,
			                 "application", p.id, "approval-refused", vars,
			                 AUDIENCE_COORDINATOR, OUTBOX_NOTICE, NULL, NULL,
			                 error_r) < 0)
				goto out;
		}
	}
	wf_result(wf, "applied", "%s %s application #%lld", ap.approver,
	          answer == TRUST_ANSWER_YES ? "agreed to" : "refused", (long long)p.id);
	ret = 0;
out:
	store_approval_list_free(&all, nall);
	store_approval_clear(&ap);
	store_participation_clear(&p);
	template_vars_free(&vars);
	return ret;
}

/* ---- answers to session invitations ---- */

/* A reply to a session's invitation (the thread is one, proven as its
 * recipient): "yes", "I will attend", "decline"... or the calendar's
 * METHOD:REPLY.  The latest answer counts; each is kept (answers, form
 * "rsvp").  Not handled when the text says none of those: it is then read
 * as any other message. */
static int
handle_session_reply(struct wf *wf, bool *handled_r, const char **error_r)
{
	enum calendar_partstat ps = CALENDAR_PARTSTAT_NONE;
	const struct program_session *se;
	struct store_event ev;
	struct store_answer a;
	struct template_vars *vars = NULL;
	int64_t answer_id;
	time_t start, end;
	bool found, created, sent;
	int ret = -1;

	*handled_r = false;
	memset(&ev, 0, sizeof(ev));
	if (wf->thread->person_id != wf->person_id || wf->person_id == 0)
		return 0;
	if (wf->msg->calendar != NULL) {
		struct calendar_reply *r = NULL;
		const char *why = NULL;

		if (calendar_parse_reply(wf->msg->calendar, strlen(wf->msg->calendar), &r, &why) ==
		    0) {
			/* Only the invited attendee's own answer counts. */
			if (strcasecmp(r->attendee, wf->from) == 0)
				ps = r->partstat;
			else
				log_info("message #%lld: calendar answer for %s, not %s; not read",
				         (long long)wf->row, r->attendee, wf->from);
			calendar_reply_free(&r);
		} else {
			log_info("message #%lld: calendar part not read: %s", (long long)wf->row,
			         why);
		}
	}
	if (ps == CALENDAR_PARTSTAT_NONE)
		ps = calendar_rsvp_text(wf->reply, strlen(wf->reply));
	if (ps == CALENDAR_PARTSTAT_NONE)
		return 0;
	if (store_event_get(wf->store, wf->thread->thread_ref, &found, &ev, error_r) < 0)
		return -1;
	se = found ? program_session(&wf->program->model, ev.topic) : NULL;
	if (se == NULL) {
		ret = 0;
		goto out;
	}
	*handled_r = true;
	memset(&a, 0, sizeof(a));
	a.program = wf->program->name;
	a.form = "rsvp";
	a.round = se->name;
	a.respondent_id = wf->person_id;
	a.event_id = ev.id;
	a.message_row = wf->row;
	a.summary = calendar_partstat_name(ps);
	a.created_at = wf->now;
	if (store_answer_add(wf->store, &a, NULL, 0, &answer_id, &created, error_r) < 0)
		goto out;
	vars = wf_vars(wf);
	template_vars_set(vars, "name", notice_name(NULL, wf->from));
	if (session_times(se, &start, &end) == 0)
		session_template_vars(vars, se, start);
	template_vars_set(vars, "rsvp", calendar_partstat_name(ps));
	template_vars_set(vars, "declined", ps == CALENDAR_DECLINED ? "yes" : NULL);
	if (wf_answer(wf, "rsvp-recorded", "rsvp-recorded", vars, &sent, error_r) < 0)
		goto out;
	wf_result(wf, "applied", "%s to session %s", calendar_partstat_name(ps), se->name);
	ret = 0;
out:
	template_vars_free(&vars);
	store_event_clear(&ev);
	return ret;
}

/* The form of use with the most keys in text (at least two), or NULL; the
 * caller frees *form_r. */
static const struct program_form *
find_form(const struct config_program *program, enum program_form_use use, const char *text,
          struct form_result **form_r)
{
	const struct program_form *best = NULL;

	*form_r = NULL;
	for (size_t i = 0; i < program->model.nforms; i++) {
		const struct program_form *f = &program->model.forms[i];
		struct form_result *r = NULL;

		if (f->use != use)
			continue;
		form_parse(&f->def, text, &r);
		if (r->keys_found >= 2 &&
		    (*form_r == NULL || r->keys_found > (*form_r)->keys_found)) {
			form_result_free(form_r);
			*form_r = r;
			best = f;
		} else {
			form_result_free(&r);
		}
	}
	return best;
}

/*
 * A message from anyone but a coordinator.  In order:
 *   1. a coordinator's command: refused, with an explanation (once a day);
 *   2. help: the participant's commands;
 *   3. withdraw: do_withdraw;
 *   4. meeting reports: "met" lines, or the meeting form;
 *   5. an answer form (in the new text only: a quoted request would look
 *      filled in);
 *   6. a join form (new text first, else the quoted questionnaire they
 *      filled in): saved, or one answer naming each problem;
 *   7. someone taking no part in the program: the questionnaire (once a
 *      day);
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
	const struct program_form *pf;
	struct strbuf unused = {0};
	bool sent, meetings = false, participant = false;
	int ret = -1;

	command_parse_text(wf->reply, wf->sent_at, &cmds);
	for (size_t i = 0; i < cmds->n; i++) {
		const struct command *cmd = &cmds->cmds[i];

		if (command_is_coordinator_only(cmd->verb)) {
			vars = wf_vars(wf);
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
			vars = wf_vars(wf);
			template_vars_set(vars, "pairs",
			                  program_pair_group(&wf->program->model) != NULL ? "yes"
			                                                                  : NULL);
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
		if (cmd->verb == CMD_STOP || cmd->verb == CMD_START) {
			ret = do_stop_start(wf, cmd, error_r);
			goto out;
		}
		if (cmd->verb == CMD_REMATCH) {
			ret = do_rematch(wf, cmd, error_r);
			goto out;
		}
		if (cmd->verb == CMD_MET)
			meetings = true;
	}
	if (meetings) {
		ret = record_meetings(wf, cmds, NULL, NULL, error_r);
		goto out;
	}
	pf = find_form(wf->program, FORM_USE_MEETING, wf->form_text, &form);
	if (pf != NULL) {
		ret = form->problems.n > 0 ? answer_form_problems(wf, pf, form, error_r)
		                           : record_meetings(wf, NULL, form, pf, error_r);
		goto out;
	}
	pf = find_form(wf->program, FORM_USE_ANSWER, wf->form_text, &form);
	if (pf != NULL) {
		ret = handle_answer(wf, pf, form, error_r);
		goto out;
	}
	pf = find_join_form(wf->program, wf->form_text, &form);
	if (pf == NULL)
		pf = find_join_form(wf->program, wf->msg->text, &form);
	if (pf != NULL) {
		ret = handle_join_form(wf, pf, form, &unused, error_r);
		goto out;
	}

	vars = wf_vars(wf);
	if (wf->person_id > 0 && store_person_in_program(wf->store, wf->program->name,
	                                                 wf->person_id, &participant, error_r) < 0)
		goto out;
	if (!participant) {
		const struct program_form *join = NULL;
		char *blank;

		for (size_t i = 0; i < wf->program->model.nroles && join == NULL; i++)
			join = program_form(&wf->program->model, wf->program->model.roles[i].form);
		blank = join != NULL ? form_render_blank(&join->def) : xstrdup("");
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
	strbuf_free(&unused);
	template_vars_free(&vars);
	form_result_free(&form);
	command_list_free(&cmds);
	return ret;
}

/* Applies the message as a coordinator's or a participant's. */
static int
dispatch(struct wf *wf, const char **error_r)
{
	if (wf_is_coordinator(wf))
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

	if (wf->program->coordinators.n == 0)
		return 0;
	if (store_person_roles(wf->store, p->id, &roles, error_r) < 0)
		return -1;
	vars = wf_vars(wf);
	template_vars_set(vars, "address", p->email);
	template_vars_set(vars, "name", p->name);
	template_vars_set(vars, "roles", roles);
	template_vars_set(vars, "status", bounce->status != NULL ? bounce->status : "unknown");
	template_vars_set(vars, "diagnostic", bounce->diagnostic);
	snprintf(key, sizeof(key), "bounce-notice:person=%lld:msg=%lld", (long long)p->id,
	         (long long)wf->row);
	ret = notice_queue(wf->config, wf->store, wf->program, wf->now, key, "bounce-notice",
	                   &wf->program->coordinators, "person", p->id, "bounce-notice", vars,
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
	struct template_vars *vars = wf_vars(wf);
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
handle_truncated(struct wf *wf, const struct parsed_message *parsed, enum message_class cls,
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
	vars = wf_vars(wf);
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
apply_person_message(struct wf *wf, const struct parsed_message *parsed, const char **error_r)
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
	/* An echo of our own email is taken out of both texts; without one,
	 * forms are read the way form writers reply. */
	wf->form_text = o.echo || parsed->form_text == NULL ? o.reply : parsed->form_text;
	if (o.thread.id != 0 && o.thread.program != NULL &&
	    config_program_by_name(wf->config, o.thread.program) != NULL)
		wf->program = config_program_by_name(wf->config, o.thread.program);
	if (mark_deliverable(wf, error_r) < 0)
		goto out;
	if (wf->proven && o.thread.thread_type != NULL &&
	    strcmp(o.thread.thread_type, "confirm") == 0 &&
	    handle_confirmation_reply(wf, &handled, error_r) < 0)
		goto out;
	if (!handled && wf->proven && o.thread.thread_type != NULL &&
	    strcmp(o.thread.thread_type, "approval") == 0 &&
	    handle_approval_reply(wf, &handled, error_r) < 0)
		goto out;
	if (!handled && wf->proven && o.thread.thread_type != NULL &&
	    strcmp(o.thread.thread_type, "session") == 0 &&
	    handle_session_reply(wf, &handled, error_r) < 0)
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
	wf->form_text = NULL;
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
	struct parsed_message parsed;
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
	parsed_message_parse(raw, len, &parsed);
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
	sub.form_text = parsed.form_text;
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
	parsed_message_clear(&parsed);
	store_message_clear(&m);
	store_outbox_clear(&thread);
	store_person_clear(&p);
	return ret;
}

int
workflow_apply_parsed(const struct config *config, struct store *store, int64_t row,
                      const struct parsed_message *parsed, time_t now, const char **error_r)
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
	struct parsed_message parsed;
	int ret;

	parsed_message_parse(raw, len, &parsed);
	parsed.received_at = received_at;
	ret = workflow_apply_parsed(config, store, row, &parsed, now, error_r);
	parsed_message_clear(&parsed);
	return ret;
}

/* ---- templates ---- */

/* What may never reach a supervisor: self-assessments and the answers
 * that hold them, meeting notes, evaluation comments, a request's quote. */
static const char *const workflow_confidential[] = {
    "answers",       "needs",         "notes",         "comments", "summary",
    "mentee_topics", "mentor_topics", "member_topics", NULL};

static int
check_one(const struct config *config, const struct config_program *program, const char *name,
          enum template_audience audience, const char **error_r)
{
	char *dir = template_dir_for(config->templates, program->name, name);
	int ret = template_check(dir, name, audience, workflow_confidential, error_r);

	if (ret < 0)
		*error_r = errorf("program %s: %s", program->name, *error_r);
	free(dir);
	return ret;
}

int
workflow_check_templates(const struct config *config, const char **error_r)
{
	static const struct {
		const char *name;
		enum template_audience audience;
		int needs; /* 0 always; 1 pairs; 2 teams; 3 approvals */
	} templates[] = {
	    {"questionnaire", AUDIENCE_PARTICIPANT, 0},
	    {"application-ack", AUDIENCE_PARTICIPANT, 0},
	    {"application-updated", AUDIENCE_PARTICIPANT, 0},
	    {"supervisor-notice", AUDIENCE_SUPERVISOR, 0},
	    {"form-problems", AUDIENCE_PARTICIPANT, 0},
	    {"accepted", AUDIENCE_PARTICIPANT, 0},
	    {"declined", AUDIENCE_PARTICIPANT, 0},
	    {"pooled", AUDIENCE_PARTICIPANT, 0},
	    {"welcome", AUDIENCE_PARTICIPANT, 0},
	    {"introduction", AUDIENCE_PARTICIPANT, 1},
	    {"team-introduction", AUDIENCE_PARTICIPANT, 2},
	    {"group-ended", AUDIENCE_PARTICIPANT, 0},
	    {"command-results", AUDIENCE_COORDINATOR, 0},
	    {"command-refused", AUDIENCE_PARTICIPANT, 0},
	    {"meeting-recorded", AUDIENCE_PARTICIPANT, 0},
	    {"evaluation-recorded", AUDIENCE_PARTICIPANT, 0},
	    {"not-understood", AUDIENCE_PARTICIPANT, 0},
	    {"digest", AUDIENCE_COORDINATOR, 0},
	    {"bounce-notice", AUDIENCE_COORDINATOR, 0},
	    {"confirm-request", AUDIENCE_PARTICIPANT, 0},
	    {"confirm-result", AUDIENCE_PARTICIPANT, 0},
	    {"participant-help", AUDIENCE_PARTICIPANT, 0},
	    {"withdrawn", AUDIENCE_PARTICIPANT, 0},
	    {"stopped", AUDIENCE_PARTICIPANT, 0},
	    {"partner-withdrew", AUDIENCE_PARTICIPANT, 0},
	    {"withdrawal-notice", AUDIENCE_COORDINATOR, 0},
	    {"too-large", AUDIENCE_PARTICIPANT, 0},
	    {"approval-request", AUDIENCE_SUPERVISOR, 3},
	    {"approval-thanks", AUDIENCE_SUPERVISOR, 3},
	    {"approval-result", AUDIENCE_PARTICIPANT, 3},
	    {"approval-refused", AUDIENCE_COORDINATOR, 3},
	    {"approval-reminder", AUDIENCE_SUPERVISOR, 3},
	    {"approval-expired", AUDIENCE_COORDINATOR, 3},
	    {"rematch-notice", AUDIENCE_COORDINATOR, 1},
	    {"rematch-recorded", AUDIENCE_PARTICIPANT, 1},
	};

	for (size_t p = 0; p < config->nprograms; p++) {
		const struct config_program *program = &config->programs[p];
		const struct program_group *unit = program->model.unit;
		bool approvals = false;

		for (size_t r = 0; r < program->model.nroles; r++)
			approvals = approvals || program->model.roles[r].approvals.n > 0;
		for (size_t i = 0; i < N_ELEMENTS(templates); i++) {
			if ((templates[i].needs == 1 &&
			     program_pair_group(&program->model) == NULL) ||
			    (templates[i].needs == 2 && (unit == NULL || unit->pair)) ||
			    (templates[i].needs == 3 && !approvals))
				continue;
			if (check_one(config, program, templates[i].name, templates[i].audience,
			              error_r) < 0)
				return -1;
		}
		if (program->model.nsessions > 0 &&
		    (check_one(config, program, "session-invitation", AUDIENCE_PARTICIPANT,
		               error_r) < 0 ||
		     check_one(config, program, "session-cancelled", AUDIENCE_PARTICIPANT,
		               error_r) < 0 ||
		     check_one(config, program, "rsvp-recorded", AUDIENCE_PARTICIPANT, error_r) <
		         0))
			return -1;
		if (due_check_templates(config, program, error_r) < 0)
			return -1;
	}
	return 0;
}

/* The join-form field key names: its key or an alias (any case), else the
 * field bound to key as a bind name ("division", "level"); NULL when
 * none. */
static const struct form_field_def *
correct_field(const struct program_form *pf, const char *key)
{
	int b;

	for (size_t i = 0; i < pf->def.nfields; i++) {
		const struct form_field_def *fd = &pf->def.fields[i];

		if (str_ieq(fd->key, key))
			return fd;
		for (size_t k = 0; k < fd->aliases.n; k++)
			if (str_ieq(fd->aliases.v[k], key))
				return fd;
	}
	b = form_bind_parse(key);
	return b > BIND_NONE ? program_field_bound(pf, (enum form_bind)b) : NULL;
}

/* What a corrected value binds on the participation, as handle_join_form
 * sets it from a whole form. */
static int
correct_bound(const struct config_program *program, struct store *store,
              const struct store_participation *p, const struct form_field_def *fd,
              const struct form_result *form, const struct form_value *fv, time_t now,
              const char **error_r)
{
	int64_t pid;

	switch (fd->bind) {
	case BIND_NAME: {
		char *name = xstrndup(fv->value, strnlen(fv->value, NAME_MAX_CHARS));
		int rc = store_person_set_name(store, p->person_id, name, error_r);

		free(name);
		return rc;
	}
	case BIND_LEVEL:
		return store_participation_set_field(store, p->id, "level", NULL,
		                                     form_level(form, fd), error_r);
	case BIND_DIVISION:
		return store_participation_set_field(store, p->id, "division", fv->value, 0,
		                                     error_r);
	case BIND_TOPICS:
		return store_participation_set_field(store, p->id, "topics", fv->value, 0, error_r);
	case BIND_AVAILABILITY:
		return store_participation_set_field(store, p->id, "availability", fv->value, 0,
		                                     error_r);
	case BIND_CAPACITY:
		return store_participation_set_field(store, p->id, "capacity", NULL, fv->number,
		                                     error_r);
	case BIND_SUPERVISOR:
	case BIND_DIRECTOR:
		if (store_person_upsert(store, fv->value, NULL, &pid, error_r) < 0 ||
		    store_participation_add(store, program->name, pid,
		                            fd->bind == BIND_SUPERVISOR ? "supervisor" : "director",
		                            now, error_r) < 0)
			return -1;
		return store_participation_set_field(
		    store, p->id, fd->bind == BIND_SUPERVISOR ? "supervisor" : "director", NULL,
		    pid, error_r);
	default:
		return 0;
	}
}

int
workflow_correct_answer(const struct config *config, struct store *store, int64_t participation_id,
                        const char *key, const char *value, time_t now,
                        struct workflow_correction *c_r, const char **error_r)
{
	const struct config_program *program = NULL;
	const struct program_role *role = NULL;
	const struct program_form *pf = NULL;
	const struct form_field_def *fd = NULL;
	const struct form_value *fv = NULL;
	struct store_participation p;
	struct form_result *form = NULL;
	char *text = NULL;
	bool found;
	int ret = -1;

	memset(c_r, 0, sizeof(*c_r));
	memset(&p, 0, sizeof(p));
	if (store_participation_get(store, participation_id, &found, &p, error_r) < 0)
		return -1;
	if (found)
		program = config_program_by_name(config, p.program);
	if (program != NULL)
		role = program_role(&program->model, p.role);
	if (role != NULL && role->form != NULL)
		pf = program_form(&program->model, role->form);
	if (pf != NULL)
		fd = correct_field(pf, key);
	if (!found || pf == NULL || fd == NULL || p.answer_id == 0) {
		c_r->no_form = true; /* the caller may set a column itself */
		ret = 0;
		goto out;
	}
	if (fd->bind == BIND_EMAIL) {
		c_r->problem = xasprintf("%s is the person's address: correct it with mentorctl "
		                         "person set",
		                         fd->key);
		ret = 0;
		goto out;
	}
	/* The value is read as the form reads it: type, choices, range. */
	text = xasprintf("%s: %s\n", fd->key, value);
	form_parse(&pf->def, text, &form);
	for (size_t i = 0; i < form->nvalues && fv == NULL; i++)
		if (form->values[i].def == fd)
			fv = &form->values[i];
	if (fv == NULL || fv->value == NULL) {
		c_r->problem =
		    xasprintf("%s \"%s\": %s", fd->key, value,
		              fv != NULL && fv->problem != NULL ? fv->problem : "cannot be read");
		ret = 0;
		goto out;
	}
	if (store_answer_value_get(store, p.answer_id, fd->key, &found, &c_r->old_value, error_r) <
	        0 ||
	    store_answer_value_set(store, p.answer_id, fd->key, fv->value, fv->number,
	                           fd->type == FIELD_NUMBER || fd->type == FIELD_SCALE,
	                           error_r) < 0 ||
	    correct_bound(program, store, &p, fd, form, fv, now, error_r) < 0)
		goto out;
	c_r->field = xstrdup(fd->key);
	c_r->new_value = xstrdup(fv->value);
	ret = 0;
out:
	free(text);
	form_result_free(&form);
	store_participation_clear(&p);
	return ret;
}

void
workflow_correction_clear(struct workflow_correction *c)
{
	free(c->field);
	free(c->old_value);
	free(c->new_value);
	free(c->problem);
	memset(c, 0, sizeof(*c));
}

/* ---- a roster (mentorctl import) ---- */

void
workflow_value_clear(struct workflow_value *v)
{
	free(v->text);
	free(v->problem);
	memset(v, 0, sizeof(*v));
}

bool
workflow_roster_bind(enum form_bind b)
{
	return b == BIND_DIVISION || b == BIND_TOPICS || b == BIND_AVAILABILITY ||
	       b == BIND_LEVEL || b == BIND_CAPACITY || b == BIND_SUPERVISOR || b == BIND_DIRECTOR;
}

/* The join form of role in program, or NULL. */
static const struct program_form *
roster_form(const struct config_program *program, const char *role)
{
	const struct program_role *r = program_role(&program->model, role);

	return r != NULL && r->form != NULL ? program_form(&program->model, r->form) : NULL;
}

void
workflow_roster_value(const struct config_program *program, const char *role, enum form_bind b,
                      const char *value, struct workflow_value *v_r)
{
	const struct program_form *pf = roster_form(program, role);
	const struct form_field_def *fd = pf != NULL ? program_field_bound(pf, b) : NULL;
	const char *name = form_bind_name(b);
	bool address = b == BIND_SUPERVISOR || b == BIND_DIRECTOR;
	struct form_result *form = NULL;
	char *flat = NULL, *text = NULL;

	memset(v_r, 0, sizeof(*v_r));
	v_r->given = true;
	/* A line break in a cell of a one-line field (a spreadsheet's
	 * Alt+Enter) is a space, as the cell shows it. */
	if (strchr(value, '\n') != NULL && (fd == NULL || !fd->multiline)) {
		struct strbuf sb = {0};

		for (const char *c = value; *c != '\0'; c++) {
			if (*c != '\n') {
				strbuf_addc(&sb, *c);
				continue;
			}
			while (sb.len > 0 &&
			       (sb.buf[sb.len - 1] == ' ' || sb.buf[sb.len - 1] == '\t'))
				strbuf_truncate(&sb, sb.len - 1);
			while (c[1] == ' ' || c[1] == '\t' || c[1] == '\n')
				c++;
			strbuf_addc(&sb, ' ');
		}
		flat = strbuf_detach(&sb);
		value = flat;
	}
	if (fd != NULL) {
		/* Read as the form reads it: type, choices, range. */
		const struct form_value *fv = NULL;

		text = xasprintf("%s: %s\n", fd->key, value);
		form_parse(&pf->def, text, &form);
		for (size_t i = 0; i < form->nvalues && fv == NULL; i++)
			if (form->values[i].def == fd)
				fv = &form->values[i];
		if (fv == NULL || fv->value == NULL) {
			v_r->problem = xasprintf(
			    "%s \"%s\": %s (as the %s form's \"%s\" reads it)", name, value,
			    fv != NULL && fv->problem != NULL ? fv->problem : "cannot be read",
			    pf->def.name, fd->key);
			goto out;
		}
		v_r->text = xstrdup(fv->value);
		if (b == BIND_LEVEL)
			v_r->number = form_level(form, fd);
		else if (b == BIND_CAPACITY)
			v_r->number = fv->number;
	} else if (b == BIND_LEVEL || b == BIND_CAPACITY) {
		/* As application edit sets the column. */
		v_r->number = parse_count(value, b == BIND_CAPACITY ? 1 : 0);
		if (v_r->number < 0) {
			v_r->problem = xasprintf("%s is a whole number%s, not \"%s\"", name,
			                         b == BIND_CAPACITY ? " above 0" : "", value);
			goto out;
		}
		v_r->text = xasprintf("%ld", v_r->number);
	} else if (address && !compose_valid_addr(value)) {
		v_r->problem = xasprintf("%s is an email address, not \"%s\"", name, value);
		goto out;
	} else {
		v_r->text = xstrdup(value);
	}
	if (address)
		str_lower(v_r->text);
out:
	form_result_free(&form);
	free(text);
	free(flat);
}

void
workflow_registered_clear(struct workflow_registered *r)
{
	for (size_t i = 0; i < r->nchanges; i++) {
		free(r->changes[i].object);
		free(r->changes[i].field);
		free(r->changes[i].old_value);
		free(r->changes[i].new_value);
	}
	free(r->changes);
	memset(r, 0, sizeof(*r));
}

static size_t
roster_change(struct workflow_registered *r, size_t *cap, const char *object, const char *field,
              const char *old_value, const char *new_value)
{
	struct workflow_change *c;

	r->changes = xgrow(r->changes, cap, r->nchanges + 1, sizeof(*r->changes));
	c = &r->changes[r->nchanges];
	c->object = xstrdup(object);
	c->field = xstrdup(field);
	c->old_value = old_value != NULL ? xstrdup(old_value) : NULL;
	c->new_value = new_value != NULL ? xstrdup(new_value) : NULL;
	return r->nchanges++;
}

/* What participation p has for b, as a roster gives it. */
static char *
roster_old(const struct store_participation *p, enum form_bind b)
{
	const char *s = NULL;

	switch (b) {
	case BIND_LEVEL:
		return p->level >= 0 ? xasprintf("%ld", p->level) : NULL;
	case BIND_CAPACITY:
		return xasprintf("%ld", p->capacity);
	case BIND_DIVISION:
		s = p->division;
		break;
	case BIND_TOPICS:
		s = p->topics;
		break;
	case BIND_AVAILABILITY:
		s = p->availability;
		break;
	case BIND_SUPERVISOR:
		s = p->supervisor_email;
		break;
	case BIND_DIRECTOR:
		s = p->director_email;
		break;
	default:
		break;
	}
	return s != NULL ? xstrdup(s) : NULL;
}

/* Whether p already has v for b. */
static bool
roster_same(const struct store_participation *p, enum form_bind b, const struct workflow_value *v)
{
	char *old;
	bool same;

	if (b == BIND_LEVEL)
		return p->level == v->number;
	if (b == BIND_CAPACITY)
		return p->capacity == v->number;
	old = roster_old(p, b);
	same = old != NULL &&
	       (b == BIND_SUPERVISOR || b == BIND_DIRECTOR ? strcasecmp(old, v->text) == 0
	                                                   : strcmp(old, v->text) == 0);
	free(old);
	return same;
}

/* A supervisor's or director's person, recorded as a contact of the
 * program as a join form records them. */
static int
roster_contact(struct store *store, const struct config_program *program, enum form_bind b,
               const char *addr, time_t now, int64_t *id_r, const char **error_r)
{
	if (store_person_upsert(store, addr, NULL, id_r, error_r) < 0)
		return -1;
	return store_participation_add(store, program->name, *id_r,
	                               b == BIND_SUPERVISOR ? "supervisor" : "director", now,
	                               error_r);
}

/*
 * Cases:
 *   1. a contact role: the person and the contact recorded (created when
 *      the contact is new), a name given replacing theirs;
 *   2. no participation in the role: registered (register_participant)
 *      with what the row gives;
 *   3. a participation: its status kept; each value given that differs
 *      from what it has is corrected, through its join form's answer when
 *      it has one that binds it, else in the column; each a change.
 */
int
workflow_register_row(const struct config *config, struct store *store,
                      const struct config_program *program, const struct workflow_roster_row *row,
                      time_t now, struct workflow_registered *r, const char **error_r)
{
	const struct program_role *role = program_role(&program->model, row->role);
	const struct workflow_value *v = row->values;
	struct store_participation p;
	struct store_person person;
	char object[48];
	size_t cap = 0;
	bool found = false, person_found = false;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	memset(&person, 0, sizeof(person));
	if (store_person_by_email(store, row->email, &person_found, &person, error_r) < 0)
		return -1;
	if (!person_found &&
	    store_person_upsert(store, row->email, row->name, &person.id, error_r) < 0)
		goto out;
	if (person_found && row->name != NULL &&
	    (person.name == NULL || strcmp(person.name, row->name) != 0)) {
		if (store_person_set_name(store, person.id, row->name, error_r) < 0)
			goto out;
		snprintf(object, sizeof(object), "person %lld", (long long)person.id);
		roster_change(r, &cap, object, "name", person.name, row->name);
	}
	if (role != NULL && store_participation_find(store, program->name, person.id, row->role,
	                                             &found, &p, error_r) < 0)
		goto out;
	if (role == NULL) {
		/* 1. */
		if (store_contact_find(store, program->name, person.id, row->role,
		                       &r->participation_id, error_r) < 0)
			goto out;
		r->created = r->participation_id == 0;
		if (r->created && (store_participation_add(store, program->name, person.id,
		                                           row->role, now, error_r) < 0 ||
		                   store_contact_find(store, program->name, person.id, row->role,
		                                      &r->participation_id, error_r) < 0))
			goto out;
		r->status = "active";
		ret = 0;
		goto out;
	}
	if (!found) {
		/* 2. p holds nothing of its own: its strings are borrowed. */
		struct store_participation np;

		memset(&np, 0, sizeof(np));
		np.person_id = person.id;
		np.level = v[BIND_LEVEL].given ? v[BIND_LEVEL].number : -1;
		np.capacity = v[BIND_CAPACITY].given ? v[BIND_CAPACITY].number : 0;
		np.division = v[BIND_DIVISION].given ? v[BIND_DIVISION].text : NULL;
		np.topics = v[BIND_TOPICS].given ? v[BIND_TOPICS].text : NULL;
		np.availability = v[BIND_AVAILABILITY].given ? v[BIND_AVAILABILITY].text : NULL;
		if ((v[BIND_SUPERVISOR].given &&
		     roster_contact(store, program, BIND_SUPERVISOR, v[BIND_SUPERVISOR].text, now,
		                    &np.supervisor_id, error_r) < 0) ||
		    (v[BIND_DIRECTOR].given &&
		     roster_contact(store, program, BIND_DIRECTOR, v[BIND_DIRECTOR].text, now,
		                    &np.director_id, error_r) < 0))
			goto out;
		if (register_participant(config, store, program, role, &np, now,
		                         &r->participation_id, &r->created, error_r) < 0)
			goto out;
		r->status = program_status_name(program_status_parse(np.status));
		ret = 0;
		goto out;
	}
	/* 3. */
	r->participation_id = p.id;
	r->status = program_status_name(program_status_parse(p.status));
	snprintf(object, sizeof(object), "participation %lld", (long long)p.id);
	for (int b = 0; b < BIND_COUNT; b++) {
		struct workflow_correction c;
		char *old;
		int64_t number = v[b].number;
		int rc = 0;

		if (!v[b].given || !workflow_roster_bind((enum form_bind)b) ||
		    roster_same(&p, (enum form_bind)b, &v[b]))
			continue;
		if (workflow_correct_answer(config, store, p.id, form_bind_name((enum form_bind)b),
		                            v[b].text, now, &c, error_r) < 0)
			goto out;
		if (!c.no_form && c.problem == NULL) {
			roster_change(r, &cap, object, c.field, c.old_value, c.new_value);
			workflow_correction_clear(&c);
			continue;
		}
		workflow_correction_clear(&c);
		if (b == BIND_SUPERVISOR || b == BIND_DIRECTOR)
			rc = roster_contact(store, program, (enum form_bind)b, v[b].text, now,
			                    &number, error_r);
		if (rc == 0)
			rc = store_participation_set_field(
			    store, p.id, form_bind_name((enum form_bind)b),
			    b == BIND_LEVEL || b == BIND_CAPACITY || b == BIND_SUPERVISOR ||
			            b == BIND_DIRECTOR
			        ? NULL
			        : v[b].text,
			    number, error_r);
		if (rc < 0)
			goto out;
		old = roster_old(&p, (enum form_bind)b);
		roster_change(r, &cap, object, form_bind_name((enum form_bind)b), old, v[b].text);
		free(old);
	}
	ret = 0;
out:
	if (ret != 0)
		workflow_registered_clear(r);
	store_participation_clear(&p);
	store_person_clear(&person);
	return ret;
}
