/* session: see include/session.h. */
#include "session.h"

#include "calendar.h"
#include "clock.h"
#include "log.h"
#include "notice.h"
#include "outbox.h"
#include "report.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Who sessions are for: everyone of the program's roles taking part (of
 * the unit's roles, when it has a unit). */
static const char *const session_taking_part[] = {"accepted", "matched", "active"};

static int
session_people(const struct config_program *program, struct store *store,
               struct store_participation **list_r, size_t *n_r, const char **error_r)
{
	struct store_participation *all = NULL;
	size_t n = 0;

	for (size_t st = 0; st < N_ELEMENTS(session_taking_part); st++) {
		struct store_participation *ps = NULL;
		size_t np = 0;

		if (store_participation_list(store, program->name, NULL, session_taking_part[st],
		                             &ps, &np, error_r) < 0) {
			store_participation_list_free(&all, n);
			return -1;
		}
		for (size_t i = 0; i < np; i++) {
			bool seen = false;

			/* Supervisors are people of the program, not in it; one
			 * person in two roles is invited once. */
			for (size_t k = 0; k < n && !seen; k++)
				seen = all[k].person_id == ps[i].person_id;
			/* The cohort is the unit's people: a mentor paired with
			 * one of them (DOL) is not invited to the workshops. */
			if (!seen && program->model.unit != NULL &&
			    !strvec_contains_ci(&program->model.unit->roles, ps[i].role))
				seen = true;
			if (seen || program_role(&program->model, ps[i].role) == NULL) {
				store_participation_clear(&ps[i]);
				continue;
			}
			all = xrealloc(all, (n + 1) * sizeof(*all));
			all[n++] = ps[i];
		}
		free(ps);
	}
	*list_r = all;
	*n_r = n;
	return 0;
}

int
session_times(const struct program_session *se, time_t *start_r, time_t *end_r)
{
	char buf[32];

	if (se->date == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "%s %02d:%02d", se->date, se->start_min / 60,
	         se->start_min % 60);
	if (clock_parse(buf, start_r) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s %02d:%02d", se->date, se->end_min / 60, se->end_min % 60);
	return clock_parse(buf, end_r);
}

/* What a participant's calendar shows of a session: a change to any of it
 * is an update.  FNV-1a, for a key, not for secrecy. */
static unsigned long
session_version(const struct program_session *se)
{
	uint32_t h = 2166136261u;
	char buf[32];
	const char *parts[5];

	snprintf(buf, sizeof(buf), "%d-%d", se->start_min, se->end_min);
	parts[0] = se->title;
	parts[1] = se->date;
	parts[2] = buf;
	parts[3] = se->location != NULL ? se->location : "";
	parts[4] = "";
	for (size_t i = 0; i < N_ELEMENTS(parts); i++) {
		for (const char *p = parts[i] != NULL ? parts[i] : ""; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 16777619u;
		}
		h ^= 0x1f;
		h *= 16777619u;
	}
	return (unsigned long)h;
}

void
session_template_vars(struct template_vars *vars, const struct program_session *se, time_t start)
{
	struct tm tm;
	char date[64];

	clock_local(start, &tm);
	if (strftime(date, sizeof(date), "%A %-d %B %Y", &tm) == 0)
		snprintf(date, sizeof(date), "%s", se->date);
	template_vars_set(vars, "session", se->name);
	template_vars_set(vars, "session_title", se->title);
	template_vars_set(vars, "session_date", date);
	template_vars_setf(vars, "session_time", "%02d:%02d-%02d:%02d", se->start_min / 60,
	                   se->start_min % 60, se->end_min / 60, se->end_min % 60);
	template_vars_set(vars, "session_location", se->location);
}

/* One participant's invitation, update or cancellation. */
static int
session_send(const struct config *config, struct store *store, const struct config_program *program,
             const struct program_session *se, int64_t event_id,
             const struct store_participation *p, time_t start, time_t end, time_t now,
             const char **error_r)
{
	char prefix[96], *key = NULL, *token = NULL, *organizer = NULL, *uid = NULL, *ics = NULL;
	struct calendar_attendee att = {p->email, p->name};
	struct calendar_event ev;
	struct compose_attachment file;
	struct outbox_mail mail;
	struct template_vars *vars = NULL;
	struct strvec to = {0};
	size_t len = 0;
	long versions = 0;
	int64_t id;
	bool created, taken;
	int ret = -1;

	snprintf(prefix, sizeof(prefix), "invite:session=%lld:person=%lld:", (long long)event_id,
	         (long long)p->person_id);
	if (se->cancelled)
		key = xasprintf("%scancel", prefix);
	else
		key = xasprintf("%sv=%08lx", prefix, session_version(se));
	if (store_outbox_has_key(store, key, &taken, error_r) < 0 ||
	    store_outbox_count_prefix(store, prefix, &versions, error_r) < 0)
		goto out;
	/* Nothing to cancel for someone never invited. */
	if (taken || (se->cancelled && versions == 0)) {
		ret = 0;
		goto out;
	}
	/* The row this email will be: its reply token is the ORGANIZER. */
	if (store_outbox_claim(store, key, &id, &created, error_r) < 0)
		goto out;
	token = token_make(config->hmac_secret, id, p->person_id);
	organizer = token != NULL ? token_address(config->smtp.from_addr, token)
	                          : xstrdup(config->smtp.from_addr);
	uid = xasprintf("session-%lld.%s@%s", (long long)event_id, program->name,
	                strchr(config->smtp.from_addr, '@') != NULL
	                    ? strchr(config->smtp.from_addr, '@') + 1
	                    : "localhost");
	memset(&ev, 0, sizeof(ev));
	ev.uid = uid;
	ev.sequence = (unsigned)versions;
	ev.dtstamp = now;
	ev.start = start;
	ev.end = end;
	ev.tzid = program->timezone;
	ev.summary = se->title;
	ev.location = se->location;
	ev.description = program->title;
	ev.organizer_addr = organizer;
	ev.organizer_name = program->title;
	ev.attendees = &att;
	ev.nattendees = 1;
	if (calendar_build(se->cancelled ? CALENDAR_CANCEL : CALENDAR_REQUEST, &ev, &ics, &len,
	                   error_r) < 0)
		goto out;
	memset(&file, 0, sizeof(file));
	file.filename = se->cancelled ? "cancel.ics" : "invite.ics";
	file.data = ics;
	file.len = len;
	file.inline_calendar_method = se->cancelled ? "CANCEL" : "REQUEST";
	vars = notice_vars(config, program);
	template_vars_set(vars, "name", notice_name(p->name, p->email));
	session_template_vars(vars, se, start);
	template_vars_set(vars, "update", versions > 0 && !se->cancelled ? "yes" : NULL);
	strvec_push(&to, p->email);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = se->cancelled ? "session-cancelled" : "session-invitation";
	mail.program = program->name;
	mail.to = &to;
	mail.thread_type = "session";
	mail.thread_ref = event_id;
	mail.template_name = se->cancelled ? "session-cancelled" : "session-invitation";
	mail.vars = vars;
	mail.audience = AUDIENCE_PARTICIPANT;
	mail.nature = OUTBOX_NOTICE;
	mail.attachments = &file;
	mail.nattachments = 1;
	ret = outbox_enqueue(config, store, &mail, now, NULL, error_r);
out:
	free(key);
	free(token);
	free(organizer);
	free(uid);
	free(ics);
	strvec_free(&to);
	template_vars_free(&vars);
	return ret;
}

int
session_due(const struct config *config, struct store *store, const struct config_program *program,
            time_t now, const char **error_r)
{
	struct store_participation *people = NULL;
	size_t n = 0;
	int ret = -1;
	bool loaded = false;

	if (program->model.nsessions == 0)
		return 0;
	if (session_people(program, store, &people, &n, error_r) < 0)
		return -1;
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (calendar_acquire(error_r) < 0)
		goto out;
	loaded = true;
	for (size_t i = 0; i < program->model.nsessions; i++) {
		const struct program_session *se = &program->model.sessions[i];
		time_t start, end;
		int64_t event_id;

		if (session_times(se, &start, &end) < 0) {
			*error_r = errorf("session %s: its date and time do not convert", se->name);
			goto out;
		}
		if (start <= now)
			continue;
		if (store_session_event(store, program->name, se->name, se->date, now, true,
		                        &event_id, error_r) < 0)
			goto out;
		for (size_t k = 0; k < n; k++)
			if (session_send(config, store, program, se, event_id, &people[k], start,
			                 end, now, error_r) < 0) {
				*error_r = errorf("session %s: %s", se->name, *error_r);
				goto out;
			}
	}
	ret = 0;
out:
	if (loaded)
		calendar_release();
	store_participation_list_free(&people, n);
	return ret;
}

int
session_attend(const struct config_program *program, struct store *store, const char *name,
               int64_t person_id, bool present, time_t now, bool *done_r, const char **why_r,
               const char **error_r)
{
	const struct program_session *se = program_session(&program->model, name);
	bool in = false;
	time_t start, end;
	int64_t event_id;

	*done_r = false;
	*why_r = NULL;
	if (se == NULL) {
		*why_r = "no such session";
		return 0;
	}
	if (se->cancelled) {
		*why_r = "that session is cancelled";
		return 0;
	}
	{
		/* The session's clock is the program's, whichever zone the caller
		 * (a message applied in the global zone) runs in. */
		const char *was = getenv("TZ"), *tzerr;
		char *saved = was != NULL ? xstrdup(was) : NULL;
		int rc;

		(void)clock_set_timezone(program->timezone, &tzerr);
		rc = session_times(se, &start, &end);
		(void)clock_set_timezone(saved, &tzerr);
		free(saved);
		if (rc < 0 || start > now) {
			*why_r = "that session has not begun";
			return 0;
		}
	}
	if (store_person_in_program(store, program->name, person_id, &in, error_r) < 0)
		return -1;
	if (!in) {
		*why_r = "that person takes no part in the program";
		return 0;
	}
	if (store_session_event(store, program->name, se->name, se->date, now, true, &event_id,
	                        error_r) < 0 ||
	    store_event_attend(store, event_id, person_id, present ? "present" : "absent",
	                       error_r) < 0)
		return -1;
	*done_r = true;
	return 0;
}

int
session_below_rule(const struct config_program *program, struct store *store, time_t now,
                   struct strbuf *out, long *count_r, const char **error_r)
{
	struct store_participation *people = NULL;
	size_t n = 0;
	char today[11];

	*count_r = 0;
	if (program->model.nsessions == 0 || program->model.session_attendance <= 0)
		return 0;
	if (session_people(program, store, &people, &n, error_r) < 0)
		return -1;
	clock_date_key(now + 86400, today); /* today's session counts once taken */
	for (size_t i = 0; i < n; i++) {
		long held = 0, attended = 0;

		if (store_session_record(store, program->name, people[i].person_id, today, &held,
		                         &attended, error_r) < 0) {
			store_participation_list_free(&people, n);
			return -1;
		}
		if (held == 0 || attended * 100 >= held * program->model.session_attendance)
			continue;
		strbuf_addf(out, "  %s <%s>: attended %ld of %ld sessions\n",
		            notice_name(people[i].name, people[i].email), people[i].email, attended,
		            held);
		(*count_r)++;
	}
	store_participation_list_free(&people, n);
	return 0;
}

/* Where participation id's mentoring stands, from the pairs of the
 * program: a completed pair, else an active one, else none. */
static const char *
session_mentoring(const struct store_group *groups, size_t n, int64_t id)
{
	const char *state = "no mentor";

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < groups[i].nmembers; k++) {
			if (groups[i].members[k].participation_id != id)
				continue;
			if (strcmp(groups[i].status, "completed") == 0)
				return "completed";
			if (strcmp(groups[i].status, "active") == 0)
				state = "paired";
		}
	return state;
}

int
session_report(const struct config_program *program, struct store *store, bool csv,
               struct strbuf *out, const char **error_r)
{
	const struct program_group *pairs = program->model.pairs;
	struct store_participation *people = NULL;
	struct store_group *groups = NULL;
	size_t n = 0, ngroups = 0;
	int ret = -1;

	if (session_people(program, store, &people, &n, error_r) < 0)
		return -1;
	if (csv)
		strbuf_addf(out,
		            "program,session,title,date,time,participant,email,answer,"
		            "attendance%s\n",
		            pairs != NULL ? ",mentoring" : "");
	/* A program with mentor pairs beside its sessions (DOL) says where
	 * each participant's mentoring stands: "completed", "paired" or
	 * "no mentor". */
	if (pairs != NULL && csv &&
	    store_group_list(store, program->name, pairs->name, NULL, &groups, &ngroups, error_r) <
	        0)
		goto out;
	for (size_t i = 0; i < program->model.nsessions; i++) {
		const struct program_session *se = &program->model.sessions[i];
		long answers[4] = {0}, present = 0, absent = 0;
		char when[48];
		int64_t event_id = 0;

		snprintf(when, sizeof(when), "%02d:%02d-%02d:%02d", se->start_min / 60,
		         se->start_min % 60, se->end_min / 60, se->end_min % 60);
		if (store_session_event(store, program->name, se->name, se->date, 0, false,
		                        &event_id, error_r) < 0)
			goto out;
		for (size_t k = 0; k < n; k++) {
			char *rsvp = NULL, *att = NULL;

			if (event_id > 0 &&
			    (store_session_rsvp(store, event_id, people[k].person_id, &rsvp,
			                        error_r) < 0 ||
			     store_session_attendance(store, event_id, people[k].person_id, &att,
			                              error_r) < 0)) {
				free(rsvp);
				goto out;
			}
			if (rsvp == NULL)
				answers[0]++;
			else if (strcmp(rsvp, "accepted") == 0)
				answers[1]++;
			else if (strcmp(rsvp, "declined") == 0)
				answers[2]++;
			else
				answers[3]++;
			present += att != NULL && strcmp(att, "present") == 0;
			absent += att != NULL && strcmp(att, "absent") == 0;
			if (csv) {
				report_csv_field(out, program->name, false);
				report_csv_field(out, se->name, false);
				report_csv_field(out, se->title, false);
				report_csv_field(out, se->date, false);
				report_csv_field(out, when, false);
				report_csv_field(out, notice_name(people[k].name, people[k].email),
				                 false);
				report_csv_field(out, people[k].email, false);
				report_csv_field(out,
				                 se->cancelled  ? "cancelled"
				                 : rsvp != NULL ? rsvp
				                                : "no answer",
				                 false);
				report_csv_field(out, att != NULL ? att : "", pairs == NULL);
				if (pairs != NULL)
					report_csv_field(
					    out, session_mentoring(groups, ngroups, people[k].id),
					    true);
			}
			free(rsvp);
			free(att);
		}
		if (!csv)
			strbuf_addf(
			    out,
			    "%s %s %s  %s%s\n    accepted %ld, declined %ld, tentative %ld, "
			    "no answer %ld; present %ld, absent %ld\n",
			    se->date, when, se->name, se->title,
			    se->cancelled ? " (cancelled)" : "", answers[1], answers[2], answers[3],
			    answers[0], present, absent);
	}
	ret = 0;
out:
	store_group_list_free(&groups, ngroups);
	store_participation_list_free(&people, n);
	return ret;
}
