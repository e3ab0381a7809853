/*
 * mentorctl: the operator's tool.
 *
 *   mentorctl parse FILE.eml              the normalised message as JSON (no config)
 *   mentorctl -c FILE status              counts: applications, matches, outbox, messages
 *   mentorctl -c FILE people              everyone mentord knows
 *   mentorctl -c FILE applications        applications and mentor registrations
 *   mentorctl -c FILE matches             partnerships and this month's meetings
 *   mentorctl -c FILE mentor add EMAIL NAME [--strengths "A, B"] [--capacity N] [--program P]
 *   mentorctl -c FILE report --csv        one row per partnership and month
 *   mentorctl -c FILE messages [--quarantined|--held]
 *   mentorctl -c FILE replay ID           apply a stored message again
 *   mentorctl -c FILE outbox              queued, sent and failed emails
 *   mentorctl -c FILE oauth login         sign in (OAuth) and store the refresh token
 *   mentorctl -c FILE oauth status        the stored tokens' state (never a token)
 *   mentorctl --version                   "mentord VERSION"
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad arguments or configuration.
 */
#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "oauth.h"
#include "parsed.h"
#include "store.h"
#include "util.h"
#include "workflow.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG MENTORD_SYSCONFDIR "/mentord.conf"

static int
cmd_parse(const char *path)
{
	const char *error;
	char *data, *json;
	size_t len;

	if (read_file(path, 64u * 1024 * 1024, &data, &len, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 2;
	}
	parsed_message_json(data, len, &json);
	fputs(json, stdout);
	free(json);
	free(data);
	return 0;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* The name of a group's member at position k, or "". */
static const char *
member_name(const struct store_group *g, size_t k)
{
	if (k >= g->nmembers)
		return "";
	return g->members[k].name != NULL ? g->members[k].name : g->members[k].email;
}

static int
cmd_status(struct config *config, struct store *store)
{
	static const char *const states[] = {"applied",  "approving", "accepted",
	                                     "matched",  "active",    "pool",
	                                     "declined", "withdrawn", "completed"};
	static const char *const out_states[] = {"queued", "sent", "failed", "dropped"};
	const char *error;
	struct store_group *groups = NULL;
	size_t ngroups = 0;
	long n;

	for (size_t p = 0; p < config->nprograms; p++) {
		const struct config_program *prog = &config->programs[p];
		const struct program_group *unit = prog->model.unit;

		printf("program %s (%s)\n", prog->name, prog->title);
		for (size_t r = 0; r < prog->model.nroles; r++) {
			const struct program_role *role = &prog->model.roles[r];
			bool any = false;

			printf("  %ss:", role->title);
			for (size_t i = 0; i < N_ELEMENTS(states); i++) {
				if (store_participation_count(store, prog->name, role->name,
				                              states[i], &n, &error) < 0)
					goto fail;
				if (n == 0)
					continue;
				printf("%s %s %ld", any ? "," : "", states[i], n);
				any = true;
			}
			printf("%s\n", any ? "" : " none");
		}
		if (unit == NULL)
			continue;
		if (store_group_list(store, prog->name, unit->name, "active", &groups, &ngroups,
		                     &error) < 0)
			goto fail;
		printf("  active %s: %zu\n", unit->pair ? "partnerships" : "teams", ngroups);
		store_group_list_free(&groups, ngroups);
		if (!unit->pair) {
			if (store_group_list(store, prog->name, unit->name, "proposed", &groups,
			                     &ngroups, &error) < 0)
				goto fail;
			printf("  proposed teams: %zu\n", ngroups);
			store_group_list_free(&groups, ngroups);
		}
	}
	printf("outbox:");
	for (size_t i = 0; i < N_ELEMENTS(out_states); i++) {
		if (store_outbox_count(store, out_states[i], &n, &error) < 0)
			goto fail;
		printf(" %s %ld%s", out_states[i], n, i + 1 < N_ELEMENTS(out_states) ? "," : "\n");
	}
	{
		struct store_message *list = NULL;
		size_t nq = 0, nh = 0, np = 0;

		if (store_message_list(store, "quarantined", 100000, &list, &nq, &error) < 0)
			goto fail;
		store_message_list_free(&list, nq);
		if (store_message_list(store, "held", 100000, &list, &nh, &error) < 0)
			goto fail;
		store_message_list_free(&list, nh);
		if (store_message_list(store, "pending", 100000, &list, &np, &error) < 0)
			goto fail;
		store_message_list_free(&list, np);
		printf("messages: %zu quarantined, %zu held, %zu waiting for confirmation\n", nq,
		       nh, np);
	}
	return 0;
fail:
	fprintf(stderr, "mentorctl: %s\n", error);
	return 1;
}

static int
cmd_people(struct store *store)
{
	struct store_person *list = NULL;
	const char *error;
	size_t n = 0;

	if (store_person_list(store, &list, &n, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("%-5s %-32s %-28s %s\n", "ID", "EMAIL", "NAME", "DELIVERABLE");
	for (size_t i = 0; i < n; i++)
		printf("%-5lld %-32s %-28s %s%s\n", (long long)list[i].id, list[i].email,
		       nz(list[i].name), list[i].undeliverable ? "no: " : "yes",
		       list[i].undeliverable ? nz(list[i].undeliverable_reason) : "");
	store_person_list_free(&list, n);
	return 0;
}

static int
cmd_applications(struct store *store)
{
	struct store_participation *list = NULL;
	const char *error;
	size_t n = 0;

	if (store_participation_list(store, NULL, NULL, NULL, &list, &n, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("%-5s %-10s %-8s %-10s %-28s %s\n", "ID", "PROGRAM", "ROLE", "STATUS", "NAME",
	       "EMAIL");
	for (size_t i = 0; i < n; i++)
		printf("%-5lld %-10s %-8s %-10s %-28s %s\n", (long long)list[i].id, list[i].program,
		       list[i].role, list[i].status, nz(list[i].name), list[i].email);
	store_participation_list_free(&list, n);
	return 0;
}

static int
cmd_matches(struct store *store)
{
	struct store_group *list = NULL;
	const char *error;
	char month[8];
	size_t n = 0;
	long count;

	clock_month_key(clock_now(), month);
	if (store_group_list(store, NULL, NULL, NULL, &list, &n, &error) < 0)
		goto fail;
	printf("%-5s %-10s %-6s %-9s %-44s %s\n", "ID", "PROGRAM", "KIND", "STATUS", "MEMBERS",
	       "MEETINGS THIS MONTH");
	for (size_t i = 0; i < n; i++) {
		struct strbuf members = {0};

		if (strcmp(list[i].status, "discarded") == 0)
			continue;
		if (store_event_count(store, list[i].id, "meeting", month, &count, NULL, &error) <
		    0)
			goto fail;
		for (size_t k = 0; k < list[i].nmembers; k++)
			strbuf_addf(&members, "%s%s",
			            k == 0 ? "" : (list[i].nmembers == 2 ? " with " : ", "),
			            member_name(&list[i], k));
		printf("%-5lld %-10s %-6s %-9s %-44s %ld\n", (long long)list[i].id, list[i].program,
		       list[i].kind, list[i].status, strbuf_str(&members), count);
		strbuf_free(&members);
	}
	store_group_list_free(&list, n);
	return 0;
fail:
	store_group_list_free(&list, n);
	fprintf(stderr, "mentorctl: %s\n", error);
	return 1;
}

/* CSV field: quoted when it holds a comma, quote or line break, and
 * neutralised when it starts like a spreadsheet formula. */
static void
csv_field(const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;

	if (quote)
		putchar('"');
	if (s[0] != '\0' && strchr("=+-@", s[0]) != NULL)
		putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	if (quote)
		putchar('"');
	putchar(last ? '\n' : ',');
}

struct month_count {
	int64_t match_id;
	char month[8];
	long count, minutes;
};

struct month_counts {
	struct month_count *v;
	size_t n, cap;
};

static int
collect_month(void *ctx, int64_t match_id, const char *month, long count, long minutes)
{
	struct month_counts *mc = ctx;
	struct month_count *c;

	mc->v = xgrow(mc->v, &mc->cap, mc->n + 1, sizeof(*mc->v));
	c = &mc->v[mc->n++];
	c->match_id = match_id;
	snprintf(c->month, sizeof(c->month), "%s", month);
	c->count = count;
	c->minutes = minutes;
	return 0;
}

/* Cadence and status only: no notes, no self-assessments (confidentiality).
 * The meetings come from one grouped query, merged with the months of each
 * partnership (both ordered by partnership), so a report over 100,000
 * partnerships is one pass, not one query per partnership and month. */
static int
cmd_report(struct config *config, struct store *store)
{
	struct store_group *list = NULL;
	struct month_counts mc = {0};
	const char *error;
	size_t n = 0, cur = 0;

	if (store_group_list(store, NULL, NULL, NULL, &list, &n, &error) < 0 ||
	    store_meeting_months(store, collect_month, &mc, &error) < 0)
		goto fail;
	/* A pair's two members are its mentee and mentor (in the order of the
	 * group's roles); a team's "mentee" column holds its members. */
	printf("program,partnership,mentee,mentor,status,month,meetings,minutes,required\n");
	for (size_t i = 0; i < n; i++) {
		const struct config_program *p = config_program_by_name(config, list[i].program);
		const struct program_group *unit = p != NULL ? p->model.unit : NULL;
		time_t t = list[i].created_at;
		time_t end = list[i].ended_at != 0 ? list[i].ended_at : clock_now();
		struct strbuf members = {0};
		char month[8], buf[32];
		struct tm tm;

		if (strcmp(list[i].status, "proposed") == 0 ||
		    strcmp(list[i].status, "discarded") == 0)
			continue;
		for (size_t k = 0; k < list[i].nmembers; k++)
			strbuf_addf(&members, "%s%s", k == 0 ? "" : "; ", member_name(&list[i], k));
		while (cur < mc.n && mc.v[cur].match_id < list[i].id)
			cur++;
		/* One row per month from the group's start to today (or its end). */
		for (int guard = 0; guard < 240 && t <= end; guard++) {
			long count = 0, minutes = 0;

			clock_month_key(t, month);
			while (cur < mc.n && mc.v[cur].match_id == list[i].id &&
			       strcmp(mc.v[cur].month, month) < 0)
				cur++;
			if (cur < mc.n && mc.v[cur].match_id == list[i].id &&
			    strcmp(mc.v[cur].month, month) == 0) {
				count = mc.v[cur].count;
				minutes = mc.v[cur].minutes;
			}
			csv_field(list[i].program, false);
			snprintf(buf, sizeof(buf), "%lld", (long long)list[i].id);
			csv_field(buf, false);
			if (list[i].nmembers == 2) {
				csv_field(member_name(&list[i], 0), false);
				csv_field(member_name(&list[i], 1), false);
			} else {
				csv_field(strbuf_str(&members), false);
				csv_field("", false);
			}
			csv_field(list[i].status, false);
			csv_field(month, false);
			printf("%ld,%ld,%d\n", count, minutes,
			       unit != NULL ? unit->meetings_per_month : 0);
			clock_local(t, &tm);
			t = clock_local_midnight(tm.tm_year + 1900, tm.tm_mon + 2, 1);
		}
		strbuf_free(&members);
	}
	store_group_list_free(&list, n);
	free(mc.v);
	return 0;
fail:
	store_group_list_free(&list, n);
	free(mc.v);
	fprintf(stderr, "mentorctl: %s\n", error);
	return 1;
}

static int
cmd_messages(struct store *store, const char *status)
{
	struct store_message *list = NULL;
	const char *error;
	char when[26];
	size_t n = 0;

	if (store_message_list(store, status, 1000, &list, &n, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("%-6s %-25s %-12s %-11s %-30s %s\n", "ID", "RECEIVED", "KIND", "STATUS", "FROM",
	       "REASON");
	for (size_t i = 0; i < n; i++) {
		clock_iso8601(list[i].received_at, when);
		printf("%-6lld %-25s %-12s %-11s %-30s %s\n", (long long)list[i].id, when,
		       list[i].kind, list[i].status, nz(list[i].from_addr), nz(list[i].reason));
	}
	store_message_list_free(&list, n);
	return 0;
}

static int
cmd_outbox(struct store *store)
{
	static const char *const states[] = {"queued", "sent", "failed"};
	const char *error;
	long n;

	for (size_t i = 0; i < N_ELEMENTS(states); i++) {
		if (store_outbox_count(store, states[i], &n, &error) < 0) {
			fprintf(stderr, "mentorctl: %s\n", error);
			return 1;
		}
		printf("%s: %ld\n", states[i], n);
	}
	return 0;
}

static int
cmd_mentor_add(struct config *config, struct store *store, int argc, char **argv)
{
	static const struct option options[] = {
	    {"strengths", required_argument, NULL, 's'},
	    {"capacity", required_argument, NULL, 'n'},
	    {"program", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const struct config_program *program = &config->programs[0];
	const char *strengths = NULL, *error;
	struct strbuf name = {0};
	long capacity = 0;
	int64_t id;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			strengths = optarg;
			break;
		case 'n':
			capacity = atol(optarg);
			break;
		case 'p':
			program = config_program_by_name(config, optarg);
			if (program == NULL) {
				fprintf(stderr, "mentorctl: no program \"%s\"\n", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 1 || strchr(argv[optind], '@') == NULL) {
		fprintf(stderr, "usage: mentorctl mentor add EMAIL NAME... [--strengths \"A, B\"] "
		                "[--capacity N] [--program P]\n");
		return 2;
	}
	for (int i = optind + 1; i < argc; i++) {
		if (name.len > 0)
			strbuf_addc(&name, ' ');
		strbuf_adds(&name, argv[i]);
	}
	if (store_begin(store, &error) < 0 ||
	    workflow_add_mentor(config, store, program, argv[optind],
	                        name.len > 0 ? strbuf_str(&name) : NULL, strengths, capacity,
	                        clock_now(), &id, &error) < 0 ||
	    store_commit(store, &error) < 0) {
		store_rollback(store);
		strbuf_free(&name);
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("mentor #%lld registered in %s\n", (long long)id, program->name);
	strbuf_free(&name);
	return 0;
}

static void
print_time(const char *label, time_t t)
{
	char buf[26];

	clock_iso8601(t, buf);
	printf("%s%s\n", label, buf);
}

/* oauth status: what the token file says.  Exit 0 when mentord can get
 * access tokens without anyone's help, 1 otherwise. */
static int
cmd_oauth_status(const struct config *config)
{
	static const char *const flows[] = {"device", "browser", "client_credentials"};
	const struct config_oauth *o = &config->oauth;
	struct oauth_status st;
	const char *error;
	time_t now = time(NULL);
	int status = 0;

	if (oauth_status_read(o, &st, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 1;
	}
	printf("provider: %s (flow %s), client %s\n", config_oauth_provider_name(o->provider),
	       flows[o->flow], o->client_id);
	printf("used by: %s%s%s\n", config->imap.auth != CONFIG_AUTH_PASSWORD ? "imap " : "",
	       config->imap.auth != CONFIG_AUTH_PASSWORD ? config_auth_name(config->imap.auth) : "",
	       config->smtp.auth != CONFIG_AUTH_PASSWORD
	           ? (config->smtp.auth == CONFIG_AUTH_XOAUTH2 ? ", smtp xoauth2"
	                                                       : ", smtp oauthbearer")
	           : "");
	printf("token file: %s%s\n", o->token_file, st.exists ? "" : " (missing)");
	if (st.other_client) {
		printf("the stored tokens are for another client_id or token_url: run mentorctl "
		       "oauth login\n");
		status = 1;
	}
	if (o->flow != CONFIG_OAUTH_CLIENT_CREDENTIALS) {
		printf("refresh token: %s\n",
		       st.has_refresh ? "stored" : "none: run mentorctl oauth login");
		if (!st.has_refresh)
			status = 1;
	}
	if (!st.has_access)
		printf("access token: none cached\n");
	else if (st.expires_at > now)
		print_time("access token: valid until ", st.expires_at);
	else
		print_time("access token: expired at ", st.expires_at);
	if (st.has_access && st.refresh_at > now)
		print_time("next renewal: ", st.refresh_at);
	if (st.failures > 0) {
		printf("renewal failures: %d in a row\n", st.failures);
		print_time("failing since: ", st.failing_since);
		print_time("next try: ", st.retry_at);
		printf("last error: %s\n", st.last_error != NULL ? st.last_error : "-");
		status = 1;
	}
	oauth_status_clear(&st);
	return status;
}

static int
cmd_oauth(const struct config *config, int argc, char **argv)
{
	const char *error = NULL;

	if (argc != 2 || (strcmp(argv[1], "login") != 0 && strcmp(argv[1], "status") != 0)) {
		fprintf(stderr, "usage: mentorctl [-c FILE] oauth login|status\n");
		return 2;
	}
	if (!config->oauth.used) {
		fprintf(stderr,
		        "mentorctl: %s: neither imap nor smtp has auth = xoauth2 or "
		        "oauthbearer; there is no OAuth sign-in to manage\n",
		        config->path);
		return 2;
	}
	if (strcmp(argv[1], "status") == 0)
		return cmd_oauth_status(config);
	if (oauth_login(&config->oauth, stdin, stdout, &error) != OAUTH_OK) {
		fprintf(stderr, "mentorctl: oauth login: %s\n", error);
		return 1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mentorctl parse FILE.eml\n"
	           "       mentorctl [-c FILE] [--now TIME] COMMAND\n"
	           "       mentorctl --version\n"
	           "commands: status, people, applications, matches, outbox,\n"
	           "          mentor add EMAIL NAME [--strengths \"A, B\"] [--capacity N],\n"
	           "          report --csv, messages [--quarantined|--held], replay ID,\n"
	           "          oauth login, oauth status\n"
	           "See mentorctl(8).\n");
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *error, *now_arg = NULL;
	struct config *config = NULL;
	struct store *store = NULL;
	const char *cmd;
	bool path_given = false;
	time_t now;
	int i = 1, status = 2;

	log_init("mentorctl", LOG_LEVEL_WARN);
	/* Options before the command; the command parses its own. */
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			path = argv[i + 1];
			path_given = true;
			i += 2;
		} else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			now_arg = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("mentord %s\n", MENTORD_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	if (strcmp(cmd, "parse") == 0) {
		if (argc - i != 2) {
			usage(stderr);
			return 2;
		}
		return cmd_parse(argv[i + 1]);
	}
	if (!path_given && access(path, R_OK) < 0) {
		fprintf(stderr,
		        "mentorctl: cannot read the default configuration %s: %s; %s, or give "
		        "another file with -c FILE\n",
		        path, strerror(errno),
		        errno == ENOENT ? "install one there (an example is in " MENTORD_DOCDIR
		                          "/examples)"
		                        : "run mentorctl as root or as the mentord user");
		return 2;
	}
	if (config_load(path, &config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 2;
	}
	if (clock_set_timezone(config->timezone, &error) < 0) {
		fprintf(stderr, "%s: %s\n", path, error);
		goto out;
	}
	if (now_arg != NULL) {
		if (clock_parse(now_arg, &now) < 0) {
			fprintf(stderr, "mentorctl: --now %s: expected YYYY-MM-DDTHH:MM\n",
			        now_arg);
			goto out;
		}
		clock_set_fake(now);
	}
	if (strcmp(cmd, "oauth") == 0) {
		/* No database: the token file is the oauth module's. */
		status = cmd_oauth(config, argc - i, argv + i);
		goto out;
	}
	if (store_open(config->database, &store, &error) < 0 ||
	    config_ensure_secret(config, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		status = 1;
		goto out;
	}
	if (strcmp(cmd, "status") == 0)
		status = cmd_status(config, store);
	else if (strcmp(cmd, "people") == 0)
		status = cmd_people(store);
	else if (strcmp(cmd, "applications") == 0)
		status = cmd_applications(store);
	else if (strcmp(cmd, "matches") == 0)
		status = cmd_matches(store);
	else if (strcmp(cmd, "outbox") == 0)
		status = cmd_outbox(store);
	else if (strcmp(cmd, "report") == 0)
		status = cmd_report(config, store);
	else if (strcmp(cmd, "messages") == 0)
		status =
		    cmd_messages(store, i + 1 < argc && strcmp(argv[i + 1], "--held") == 0 ? "held"
		                        : i + 1 < argc ? "quarantined"
		                                       : NULL);
	else if (strcmp(cmd, "replay") == 0 && i + 1 < argc) {
		if (ingest_replay(config, store, atoll(argv[i + 1]), clock_now(), &error) < 0) {
			fprintf(stderr, "mentorctl: replay %s: %s\n", argv[i + 1], error);
			status = 1;
		} else {
			printf("message %s applied again\n", argv[i + 1]);
			status = 0;
		}
	} else if (strcmp(cmd, "mentor") == 0 && i + 1 < argc && strcmp(argv[i + 1], "add") == 0)
		status = cmd_mentor_add(config, store, argc - i - 1, argv + i + 1);
	else
		usage(stderr);
out:
	store_close(&store);
	config_free(&config);
	oauth_cleanup();
	return status;
}
