/*
 * mentord: the daemon.  One cycle = ingest the mailbox, queue what is due,
 * send the outbox; then wait for new mail (IDLE, or a poll), the next due
 * time, or a signal.
 *
 *   mentord -c FILE            run as a daemon (systemd Type=notify)
 *   mentord -c FILE --once     one full cycle, then exit
 *   mentord --now TIME         the clock for this run (tests, demos)
 *   mentord --check-config     validate and exit (2 with FILE:LINE errors)
 *   mentord --check-config --online   ... then log in to IMAP and SMTP (1 on failure)
 *   mentord --print-config     the effective configuration, secrets masked
 *   mentord --version          "mentord VERSION"
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or arguments.
 */
#define _GNU_SOURCE /* pipe2 */
#include "check.h"
#include "clock.h"
#include "config.h"
#include "imap.h"
#include "ingest.h"
#include "log.h"
#include "oauth.h"
#include "outbox.h"
#include "smtp.h"
#include "store.h"
#include "template.h"
#include "due.h"
#include "workflow.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG MENTORD_SYSCONFDIR "/mentord.conf"
/* RFC 2177: the server may drop an IDLE after 30 minutes. */
#define IDLE_MAX_SECONDS (25 * 60)
#define BACKOFF_MIN 5
#define BACKOFF_MAX 300
/* A database that refused a write (locked, disk full) is tried again after
 * this many seconds, doubling up to STORE_RETRY_MAX. */
#define STORE_RETRY_MIN 5
#define STORE_RETRY_MAX 300

static volatile sig_atomic_t got_term, got_hup;
static int signal_pipe[2] = {-1, -1};

/*
 * The daemon is two processes (like OpenSMTPD's, though without privilege
 * separation): the monitor, which lives long, holds the IMAP connection
 * that waits in IDLE, feeds systemd's watchdog and handles signals; and for
 * each cycle a child forked from it, which opens the database, connects to
 * IMAP and SMTP, ingests, schedules and sends, and exits.  So whatever a
 * cycle needs (libcurl and libxml2 with their dependencies, SQLite's cache,
 * the heap a backlog of 10,000 messages leaves behind) is gone when it
 * ends, and the waiting monitor stays as small as it started; a cycle that
 * crashes (a bug on some message) is logged and retried after a backoff
 * instead of taking the daemon down.  --once runs the cycle in-process.
 *
 * The child tells the monitor two things through a pipe: 't' when the
 * watchdog is due a ping (the monitor sends WATCHDOG=1, so systemd sees the
 * main PID alive only while the cycle makes progress), and at the end 'r'
 * and a struct cycle_report: what the monitor must remember for the next
 * wait and the next cycle.
 */
struct cycle_report {
	int status;          /* run_cycle's */
	int backoff;         /* IMAP reconnect state, as the cycle left it */
	time_t reconnect_at; /* ... */
	int retry_backoff;   /* store-failure (or crash) retry state */
	time_t retry_at;     /* ... */
	time_t next_due;     /* the next queued email, 0 when none */
	long long smtp_pace; /* smtp_pace_get() */
};

struct daemon {
	struct config *config;
	struct store *store; /* the cycle's (NULL in the monitor) */
	const struct mail_driver *driver;
	void *imap;                /* the cycle's driver context, NULL when not connected */
	void *idle_imap;           /* the monitor's, for IDLE; NULL when not connected */
	struct smtp_session *smtp; /* the cycle's */
	int backoff;               /* seconds before the next IMAP reconnect */
	time_t reconnect_at;
	/* After a store failure or a crashed cycle: seconds before trying
	 * again, and when. */
	int retry_backoff;
	time_t retry_at;
	time_t next_due;        /* from the last cycle's report */
	long long smtp_pace;    /* ditto: the rate_per_minute grid */
	uint64_t watchdog_usec; /* WATCHDOG_USEC, 0 when systemd does not watch */
	long watchdog_last_ms;  /* monotonic time of the last WATCHDOG=1 */
	int report_fd;          /* in a cycle child: the pipe to the monitor; else -1 */
	bool idle_broken;       /* the server does not offer IDLE: poll */
	bool once;
	/* A cycle's sending stops at this monotonic time (0: never, --once),
	 * so that a fan-out of thousands at the SMTP rate does not keep the
	 * next ingest waiting: the rest goes in the following cycles. */
	long send_until_ms;
};

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
	if (write(signal_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	errno = saved;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		fatalx(1, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
drain_signal_pipe(void)
{
	char buf[64];

	while (read(signal_pipe[0], buf, sizeof(buf)) > 0)
		;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mentord [-c FILE] [--once] [--now TIME] [-v]\n"
	           "       mentord [-c FILE] --check-config [--online] | --print-config\n"
	           "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	           "      --once          run one cycle (ingest, schedule, send) and exit\n"
	           "      --now TIME      act as if it were TIME (YYYY-MM-DDTHH:MM, local time)\n"
	           "      --check-config  validate the configuration and exit\n"
	           "      --online        with --check-config: also log in to IMAP and SMTP\n"
	           "      --print-config  print the effective configuration, secrets masked\n"
	           "  -v, --verbose       log debug messages\n"
	           "  -V, --version       print the version and exit\n"
	           "See mentord(8) and mentord.conf(5).\n");
}

static long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* WATCHDOG=1, at most every quarter of the watchdog interval: called from
 * the main loop, between messages of a backlog and between slices of a
 * wait, so only a daemon that is really stuck misses it.  In a cycle child
 * the ping goes to the monitor, which sends it on. */
static void
watchdog_ping(struct daemon *d)
{
	long now;

	if (d->watchdog_usec == 0)
		return;
	now = monotonic_ms();
	if (d->watchdog_last_ms != 0 &&
	    (uint64_t)(now - d->watchdog_last_ms) * 1000 < d->watchdog_usec / 4)
		return;
	d->watchdog_last_ms = now;
	if (d->report_fd >= 0) {
		if (write(d->report_fd, "t", 1) < 0)
			log_warn("cannot reach the monitor process");
		return;
	}
	sd_notify(0, "WATCHDOG=1");
}

/* The longest single wait (IDLE or poll), in seconds: half the watchdog
 * interval, so a quiet mailbox never lets the watchdog fire. */
static int
watchdog_slice(const struct daemon *d, int seconds)
{
	int half;

	if (d->watchdog_usec == 0)
		return seconds;
	half = (int)(d->watchdog_usec / 2000000);
	if (half < 1)
		half = 1;
	return seconds < half ? seconds : half;
}

/* A cycle (the daemon's child, or --once) keeps SIGTERM, SIGINT and SIGHUP
 * blocked and looks for them here, between messages and emails: a handler
 * would interrupt a read from the IMAP or SMTP server (EINTR), which
 * libetpan takes for a lost connection, and the messages just committed
 * would stay unflagged.  Blocked, the signal waits for the next tick. */
static void
cycle_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

static void
cycle_block_signals(void)
{
	sigset_t set;

	cycle_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* True once SIGTERM or SIGINT is pending (see cycle_block_signals). */
static bool
cycle_stop_requested(void)
{
	sigset_t set;

	if (!got_term && sigpending(&set) == 0 &&
	    (sigismember(&set, SIGTERM) || sigismember(&set, SIGINT)))
		got_term = 1;
	return got_term != 0;
}

/* Between messages of a backlog and emails of a send: feed the watchdog;
 * stop on SIGTERM. */
static bool
cycle_tick(void *arg)
{
	struct daemon *d = arg;

	watchdog_ping(d);
	return cycle_stop_requested();
}

/* cycle_tick, and stop sending once the cycle's sending time is up. */
static bool
send_tick(void *arg)
{
	struct daemon *d = arg;

	if (cycle_tick(d))
		return true;
	return d->send_until_ms > 0 && monotonic_ms() >= d->send_until_ms;
}

/* After a store failure or a dead cycle: try the cycle again after a
 * doubling backoff, rather than waiting for new mail or the poll interval. */
static void
retry_later(struct daemon *d)
{
	d->retry_backoff = d->retry_backoff == 0 ? STORE_RETRY_MIN : d->retry_backoff * 2;
	if (d->retry_backoff > STORE_RETRY_MAX)
		d->retry_backoff = STORE_RETRY_MAX;
	d->retry_at = clock_now() + d->retry_backoff;
}

/* The store refused a write: logged, and retry_later. */
static void
store_failed(struct daemon *d, const char *what, const char *error)
{
	retry_later(d);
	if (d->once)
		log_error("database %s: %s; %s; the next run tries again", d->config->database,
		          error != NULL ? error : "failed", what);
	else
		log_error("database %s: %s; %s; trying again in %d s", d->config->database,
		          error != NULL ? error : "failed", what, d->retry_backoff);
}

/* Closes *ctx, the cycle's connection or the monitor's. */
static void
imap_disconnect(struct daemon *d, void **ctx)
{
	if (*ctx != NULL)
		d->driver->close(ctx);
	if (ctx == &d->idle_imap)
		d->idle_broken = false; /* the next server may offer it */
}

/* Connects *ctx when not connected and the backoff allows.  Returns IMAP_OK
 * or the grade of the failure. */
static int
imap_ensure(struct daemon *d, void **ctx, const char **error_r)
{
	uint32_t r;
	int rc;

	if (*ctx != NULL)
		return IMAP_OK;
	if (!d->once && clock_now() < d->reconnect_at) {
		*error_r = "waiting before reconnecting";
		return IMAP_ERR_CONN;
	}
	rc = d->driver->connect(&d->config->imap, ctx, error_r);
	if (rc == IMAP_OK) {
		d->backoff = 0;
		return IMAP_OK;
	}
	/* Exponential backoff with jitter, so a server coming back is not
	 * hammered by every client at once. */
	d->backoff = d->backoff == 0 ? BACKOFF_MIN : d->backoff * 2;
	if (d->backoff > BACKOFF_MAX)
		d->backoff = BACKOFF_MAX;
	random_bytes(&r, sizeof(r));
	d->reconnect_at = clock_now() + d->backoff + (time_t)(r % (uint32_t)(d->backoff / 2 + 1));
	return rc;
}

/* Logs an IMAP failure.  The imap module's own errors start with "IMAP
 * host:port:"; others (ingest's) get that prefix here, so it is never
 * written twice. */
static void
log_imap_error(const struct daemon *d, const char *error, const char *fallback)
{
	if (error == NULL)
		error = fallback;
	if (strncmp(error, "IMAP ", 5) == 0)
		log_error("%s", error);
	else
		log_error("IMAP %s:%d: %s", d->config->imap.host, d->config->imap.port, error);
}

/* Tells the coordinators, once for this run of failures (the outbox key
 * carries its start), that OAuth renewals fail.  Called with SMTP able to
 * send. */
static void
oauth_notify(struct daemon *d, const struct oauth_status *st, bool imap_ok, bool smtp_ok)
{
	const struct config *config = d->config;
	const struct config_program *program = &config->programs[0];
	const char *error = NULL, *account;
	struct template_vars *vars = template_vars_new();
	struct outbox_mail mail;
	struct outbox_queued q = {0};
	char key[64], since[26];

	clock_iso8601(st->failing_since, since);
	(void)snprintf(key, sizeof(key), "oauth-failed:since=%lld", (long long)st->failing_since);
	account = config->imap.auth != CONFIG_AUTH_PASSWORD ? config->imap.user : config->smtp.user;
	template_vars_set(vars, "program_title", program->title);
	template_vars_set(vars, "account", account);
	template_vars_set(vars, "since", since);
	template_vars_set(vars, "error",
	                  st->last_error != NULL ? st->last_error : "no access token");
	template_vars_set(vars, "uses",
	                  config->imap.auth != CONFIG_AUTH_PASSWORD &&
	                          config->smtp.auth != CONFIG_AUTH_PASSWORD
	                      ? "reading the mailbox (IMAP) and sending (SMTP)"
	                  : config->imap.auth != CONFIG_AUTH_PASSWORD ? "reading the mailbox (IMAP)"
	                                                              : "sending (SMTP)");
	template_vars_set(vars, "effect",
	                  !imap_ok && !smtp_ok ? "can neither read new mail nor send"
	                  : !imap_ok           ? "cannot read new mail"
	                  : !smtp_ok           ? "cannot send"
	                                       : "still works with its current access, which "
	                                         "expires soon");
	template_vars_set(vars, "login", st->last_grade == OAUTH_ERR_GRANT ? "yes" : NULL);
	template_vars_set(vars, "client", st->last_grade == OAUTH_ERR_CLIENT ? "yes" : NULL);
	template_vars_set(vars, "network", st->last_grade == OAUTH_ERR_TEMP ? "yes" : NULL);
	memset(&mail, 0, sizeof(mail));
	mail.key = key;
	mail.kind = "oauth-failed";
	mail.program = program->name;
	mail.to = &config->coordinators;
	mail.thread_type = "program";
	mail.template_name = "oauth-failed";
	mail.vars = vars;
	mail.audience = AUDIENCE_COORDINATOR;
	mail.nature = OUTBOX_NOTICE;
	if (store_begin(d->store, &error) < 0 ||
	    outbox_enqueue(config, d->store, &mail, clock_now(), &q, &error) < 0 ||
	    store_commit(d->store, &error) < 0) {
		store_rollback(d->store);
		log_error("OAuth: cannot queue the notice to the coordinators: %s", error);
	} else if (q.created) {
		log_error("OAuth: renewals fail since %s (%s); the coordinators are told by email",
		          since, st->last_error != NULL ? st->last_error : "no access token");
	}
	template_vars_free(&vars);
}

/*
 * OAuth at the start of a cycle: the access token is renewed when it is
 * due (wait_seconds wakes the daemon for it, so it is renewed before it
 * expires), and the cycle learns what can log in.  Cases:
 *   1. no auth = xoauth2/oauthbearer: everything works;
 *   2. a token (a fresh one, or the cached one while renewals fail): both
 *      work;
 *   3. no token: IMAP and SMTP that need one are skipped this cycle, so no
 *      email is charged an attempt it never made, and they resume when a
 *      token comes back (a renewal, or mentorctl oauth login);
 * and when renewals fail in a way that needs a person (the refresh token or
 * the client refused) or no token is left, the coordinators are told once
 * for this run of failures: by email when SMTP can send, always in the
 * log (oauth logs every failed attempt).
 */
static void
oauth_cycle(struct daemon *d, bool *imap_ok_r, bool *smtp_ok_r)
{
	const struct config *config = d->config;
	struct oauth_status st;
	const char *error = NULL;
	char *token = NULL;
	int rc;

	*imap_ok_r = true;
	*smtp_ok_r = true;
	if (!config->oauth.used)
		return;
	rc = oauth_token_get(&config->oauth, NULL, &token, NULL, &error);
	oauth_token_free(&token);
	if (rc != OAUTH_OK) {
		*imap_ok_r = config->imap.auth == CONFIG_AUTH_PASSWORD;
		*smtp_ok_r = config->smtp.auth == CONFIG_AUTH_PASSWORD;
		log_error("OAuth: no access token: %s; %s postponed", error,
		          !*imap_ok_r && !*smtp_ok_r ? "reading and sending"
		          : !*imap_ok_r              ? "reading the mailbox"
		                                     : "sending");
	}
	if (oauth_status_read(&config->oauth, &st, &error) < 0) {
		log_error("OAuth: %s", error);
		return;
	}
	if (st.failures > 0 && st.failing_since > 0 &&
	    (rc != OAUTH_OK || st.last_grade == OAUTH_ERR_GRANT ||
	     st.last_grade == OAUTH_ERR_CLIENT) &&
	    *smtp_ok_r)
		oauth_notify(d, &st, *imap_ok_r, *smtp_ok_r);
	oauth_status_clear(&st);
}

/* One cycle.  Returns 0, or 1 when something failed that --once must
 * report through its exit status.  Cases:
 *   1. IMAP fails: logged, the scheduler and the outbox still run;
 *   2. the store refuses a write while ingesting (locked by another
 *      process past the busy timeout, disk full): the message stays
 *      unflagged on the server, and the rest of the cycle is skipped, since
 *      the scheduler and the outbox would fail the same way (and an email
 *      sent whose "sent" mark cannot be written would go out twice); the
 *      daemon retries after a backoff;
 *   3. the store is locked just before sending: sending waits for the
 *      next try, for the same reason;
 *   4. SIGTERM during ingest: stop after the current message, send nothing.
 */
static int
run_cycle(struct daemon *d)
{
	struct ingest_stats in;
	struct outbox_stats out;
	const char *error = NULL;
	time_t now = clock_now();
	int status = 0, rc;
	bool imap_ok, smtp_ok;

	memset(&in, 0, sizeof(in));
	watchdog_ping(d);
	oauth_cycle(d, &imap_ok, &smtp_ok);
	if (!imap_ok || !smtp_ok)
		status = 1;
	memset(&in, 0, sizeof(in));
	rc = imap_ok ? imap_ensure(d, &d->imap, &error) : IMAP_OK;
	if (imap_ok && rc == IMAP_OK) {
		rc = ingest_mailbox(d->config, d->store, d->driver, d->imap, now, cycle_tick, d,
		                    &in, &error);
		if (in.fetched > 0 || in.duplicates > 0)
			log_info("ingest: %zu fetched, %zu stored, %zu duplicates", in.fetched,
			         in.stored, in.duplicates);
	}
	if (rc == INGEST_ERR_STORE) {
		free(in.skipped_why);
		store_failed(d, "messages not stored stay unflagged on the IMAP server", error);
		return 1;
	}
	if (in.skipped > 0) {
		/* The store works (others were stored): schedule and send as
		 * usual, and try the skipped ones again after the backoff. */
		store_failed(d, "they stay unflagged on the IMAP server", in.skipped_why);
		free(in.skipped_why);
		in.skipped_why = NULL;
		status = 1;
	}
	if (rc != IMAP_OK) {
		log_imap_error(d, error, "failed");
		if (rc == IMAP_ERR_CONN || rc == IMAP_ERR_AUTH)
			imap_disconnect(d, &d->imap);
		status = 1;
	}
	if (cycle_stop_requested())
		return status;
	watchdog_ping(d);
	now = clock_now();
	if (due_run(d->config, d->store, now, &error) < 0) {
		log_error("schedule: %s", error);
		status = 1;
	}
	watchdog_ping(d);
	/* Can we write?  BEGIN IMMEDIATE waits out the busy timeout. */
	if (store_begin(d->store, &error) < 0 || store_commit(d->store, &error) < 0) {
		store_rollback(d->store);
		store_failed(d, "sending postponed", error);
		return 1;
	}
	/* Skipped messages keep their retry (set above). */
	if (in.skipped == 0) {
		d->retry_backoff = 0;
		d->retry_at = 0;
	}
	if (!smtp_ok)
		return status;
	/* About a poll interval of sending, then back to ingest (answers to a
	 * survey keep being read while its emails go out). */
	d->send_until_ms =
	    d->once ? 0 : monotonic_ms() + (long)d->config->imap.poll_interval * 1000;
	if (outbox_flush(d->config, d->store, &d->smtp, now, send_tick, d, &out, &error) < 0) {
		log_error("outbox: %s", error);
		status = 1;
	} else if (out.sent + out.retried + out.failed > 0) {
		log_info("outbox: %zu sent, %zu to retry, %zu failed", out.sent, out.retried,
		         out.failed);
	}
	return status;
}

/* Seconds until the next local full hour: what the scheduler decides
 * changes only on the hour (working hours, days, months), so with IDLE
 * announcing new mail there is nothing to wake up for in between. */
static int
seconds_to_next_hour(time_t now)
{
	struct tm tm;

	clock_local(now, &tm);
	return 3600 - (tm.tm_min * 60 + tm.tm_sec);
}

/* Seconds until something is due: the next queued email, a reconnect or
 * retry, else the next poll, or with IDLE working the next hour. */
static int
wait_seconds(struct daemon *d)
{
	time_t next = d->next_due, now = clock_now();
	int wait = d->idle_imap != NULL && d->config->imap.idle && !d->idle_broken
	               ? seconds_to_next_hour(now)
	               : d->config->imap.poll_interval;

	if (next > 0) {
		if (next <= now)
			return 1;
		if (next - now < wait)
			wait = (int)(next - now);
	}
	if (d->idle_imap == NULL && d->reconnect_at > now && d->reconnect_at - now < wait)
		wait = (int)(d->reconnect_at - now);
	if (d->retry_at > now && d->retry_at - now < wait)
		wait = (int)(d->retry_at - now);
	if (d->config->oauth.used) {
		/* The next renewal, or retry, on the provider's (real) clock. */
		struct oauth_status st;
		const char *error;
		time_t real = time(NULL), at;

		if (oauth_status_read(&d->config->oauth, &st, &error) == 0) {
			at = oauth_status_wake(&st);
			if (at > 0 && at - real < wait)
				wait = at <= real ? 1 : (int)(at - real);
			oauth_status_clear(&st);
		}
	}
	return wait < 1 ? 1 : wait;
}

/* Waits for new mail (IDLE), a signal, or wait_seconds(), in slices no
 * longer than half the watchdog interval, feeding it between slices.
 * Cases: new mail announced, a signal, an IDLE failure (reconnect in the
 * next cycle) or the time is up: return; a quiet slice: keep waiting. */
static void
wait_for_work(struct daemon *d, int seconds)
{
	long deadline = monotonic_ms() + (long)seconds * 1000;

	for (;;) {
		const char *error = NULL;
		bool supported = false, new_mail = false;
		long left = deadline - monotonic_ms();
		int slice;
		struct pollfd pfd;

		if (left <= 0 || got_term || got_hup)
			return;
		slice = watchdog_slice(d, (int)((left + 999) / 1000));
		if (d->idle_imap != NULL && d->config->imap.idle) {
			int rc = d->driver->idle(
			    d->idle_imap, slice < IDLE_MAX_SECONDS ? slice : IDLE_MAX_SECONDS,
			    signal_pipe[0], &supported, &new_mail, &error);

			if (rc != IMAP_OK) {
				log_warnx("IDLE: %s; reconnecting", error);
				imap_disconnect(d, &d->idle_imap);
				return;
			}
			if (supported) {
				watchdog_ping(d);
				if (new_mail)
					return;
				continue;
			}
			/* No IDLE after all: the wait, planned for IDLE, is cut
			 * to the poll interval. */
			if (!d->idle_broken) {
				long poll_end =
				    monotonic_ms() + (long)d->config->imap.poll_interval * 1000;

				d->idle_broken = true;
				if (poll_end < deadline)
					deadline = poll_end;
				continue;
			}
		}
		pfd.fd = signal_pipe[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, slice * 1000) < 0 && errno != EINTR)
			log_warn("poll");
		watchdog_ping(d);
		if (pfd.revents != 0)
			return;
	}
}

/* Every template the daemon may render: the program's, and the OAuth
 * notice when a token is used. */
static int
check_templates(const struct config *config, const char **error_r)
{
	if (workflow_check_templates(config, error_r) < 0)
		return -1;
	if (config->oauth.used && template_check(config->templates, "oauth-failed",
	                                         AUDIENCE_COORDINATOR, NULL, error_r) < 0)
		return -1;
	return 0;
}

static void
reload(struct daemon *d, const char *path)
{
	struct config *fresh = NULL;
	struct template_cache *previous;
	const char *error;

	if (config_load(path, &fresh, &error) < 0) {
		log_error("reload refused, keeping the running configuration:\n%s", error);
		return;
	}
	/* The templates are checked afresh from the files; the running
	 * configuration keeps rendering the texts it checked unless the new
	 * ones are accepted. */
	previous = template_cache_detach();
	if (check_templates(fresh, &error) < 0 || config_ensure_secret(fresh, &error) < 0 ||
	    clock_set_timezone(fresh->timezone, &error) < 0) {
		log_error("reload refused: %s", error);
		template_cache_restore(&previous);
		config_free(&fresh);
		return;
	}
	template_cache_free(&previous);
	/* Connections follow the new settings from the next cycle on. */
	imap_disconnect(d, &d->idle_imap);
	config_free(&d->config);
	d->config = fresh;
	log_info("configuration reloaded from %s", path);
}

/* The monitor's IDLE connection, made (and the mailbox selected) before a
 * cycle starts: a message that arrives after this SELECT is announced in
 * the next IDLE, one that arrived before it is found by the cycle's
 * search, so none waits for the next poll. */
static void
idle_ensure(struct daemon *d)
{
	struct imap_mailbox_info info;
	const char *error = NULL;

	if (!d->config->imap.idle || d->idle_imap != NULL)
		return;
	if (imap_ensure(d, &d->idle_imap, &error) != IMAP_OK) {
		/* The cycle then waits out the same backoff. */
		log_imap_error(d, error, "cannot connect");
		return;
	}
	if (d->driver->select(d->idle_imap, d->config->imap.mailbox, &info, &error) != IMAP_OK) {
		log_warnx("IDLE: %s; polling instead", error);
		imap_disconnect(d, &d->idle_imap);
	}
}

/* In the child: one cycle, its report to the monitor, and exit.  What the
 * monitor owns (its IMAP connection, its signal pipe) is left alone: only
 * the descriptors are closed.  The database is opened here, never across
 * fork(): SQLite forbids using a connection in both processes. */
static void ATTR_NORETURN
cycle_child(struct daemon *d, int report_fd, pid_t monitor)
{
	struct cycle_report rep;
	char msg[1 + sizeof(rep)];
	const char *error;
	int status = 1;

	/* The cycle must not outlive the monitor (a SIGKILL, a crash):
	 * a second daemon would otherwise race it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor)
		_exit(1);
	close(signal_pipe[0]);
	close(signal_pipe[1]);
	cycle_block_signals();
	d->report_fd = report_fd;
	/* d->idle_imap is the monitor's: never used or closed here (a LOGOUT
	 * would end the monitor's session; TLS state cannot be shared). */
	smtp_pace_set(d->smtp_pace);
	if (store_open(d->config->database, &d->store, &error) < 0) {
		store_failed(d, "nothing was done this time", error);
	} else {
		status = run_cycle(d);
		if (store_outbox_next_due(d->store, &d->next_due, &error) < 0)
			d->next_due = 0;
	}
	memset(&rep, 0, sizeof(rep));
	rep.status = status;
	rep.backoff = d->backoff;
	rep.reconnect_at = d->reconnect_at;
	rep.retry_backoff = d->retry_backoff;
	rep.retry_at = d->retry_at;
	rep.next_due = d->next_due;
	rep.smtp_pace = smtp_pace_get();
	msg[0] = 'r';
	memcpy(msg + 1, &rep, sizeof(rep));
	/* Smaller than PIPE_BUF: written whole or not at all. */
	if (write(report_fd, msg, sizeof(msg)) < 0)
		log_warn("cannot report to the monitor process");
	imap_disconnect(d, &d->imap);
	smtp_close(&d->smtp);
	store_close(&d->store);
	oauth_cleanup();
	exit(status);
}

/*
 * In the monitor: runs one cycle in a child and waits for it.  Cases:
 *   1. the child sends 't': WATCHDOG=1 goes out (so the watchdog fires if
 *      a cycle hangs);
 *   2. it reports and exits: its report is taken over;
 *   3. SIGTERM (or SIGINT) arrives: passed on, once; the child stops after
 *      the current message or email, commits, and exits;
 *   4. it dies without a report (killed, crashed): logged, and the next
 *      cycle waits for a backoff, so a message that crashes the cycle does
 *      not make it spin;
 *   5. fork or pipe fails: logged, same backoff.
 * Returns the cycle's status (1 when it did not report).
 */
static int
cycle_process(struct daemon *d)
{
	struct cycle_report rep;
	char buf[1 + sizeof(rep)];
	size_t have = 0;
	bool reported = false, term_sent = false;
	int fds[2], wstatus = 0;
	pid_t pid, monitor = getpid();
	sigset_t block, saved;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_warn("cannot start a cycle: pipe");
		store_failed(d, "nothing was done this time", "no pipe");
		return 1;
	}
	/* The child starts with the signals blocked (cycle_block_signals), so
	 * none reaches the monitor's handler in it. */
	cycle_signals(&block);
	sigprocmask(SIG_BLOCK, &block, &saved);
	pid = fork();
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid < 0) {
		log_warn("cannot start a cycle: fork");
		close(fds[0]);
		close(fds[1]);
		store_failed(d, "nothing was done this time", "no process");
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		cycle_child(d, fds[1], monitor);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {signal_pipe[0], POLLIN, 0}};
		ssize_t n;

		if (got_term && !term_sent) {
			kill(pid, SIGTERM);
			term_sent = true;
		}
		if (poll(pfd, 2, -1) < 0) {
			if (errno != EINTR)
				log_warn("poll");
			continue;
		}
		if (pfd[1].revents != 0)
			drain_signal_pipe();
		if (pfd[0].revents == 0)
			continue;
		n = read(fds[0], buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the child is gone */
		have += (size_t)n;
		/* Ticks come alone; the report comes whole, last. */
		while (have > 0 && buf[0] == 't') {
			watchdog_ping(d);
			memmove(buf, buf + 1, --have);
		}
		if (have == sizeof(buf) && buf[0] == 'r') {
			memcpy(&rep, buf + 1, sizeof(rep));
			reported = true;
			have = 0;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!reported) {
		if (WIFSIGNALED(wstatus))
			log_error("the cycle process was killed by signal %d (%s)",
			          WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		else
			log_error("the cycle process exited %d without a report",
			          WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		retry_later(d);
		return 1;
	}
	d->backoff = rep.backoff;
	d->reconnect_at = rep.reconnect_at;
	d->retry_backoff = rep.retry_backoff;
	d->retry_at = rep.retry_at;
	d->next_due = rep.next_due;
	d->smtp_pace = rep.smtp_pace;
	return rep.status;
}

/* A wrong templates directory, reported with the line that names it
 * before the templates in it are checked. */
static bool
templates_dir_missing(const struct config *config)
{
	const char *why = NULL;
	struct stat st;

	if (stat(config->templates, &st) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	if (why == NULL)
		return false;
	fprintf(stderr,
	        "%s: templates %s: %s; point it at the directory of email texts (installed as "
	        "%s/templates)\n",
	        config->templates_where, config->templates, why, MENTORD_DATADIR);
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"config", required_argument, NULL, 'c'}, {"once", no_argument, NULL, 'o'},
	    {"now", required_argument, NULL, 'n'},    {"check-config", no_argument, NULL, 'k'},
	    {"online", no_argument, NULL, 'O'},       {"print-config", no_argument, NULL, 'P'},
	    {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	struct daemon d;
	const char *path = DEFAULT_CONFIG, *now_arg = NULL, *error;
	bool check_only = false, online = false, print_config = false, verbose = false;
	bool path_given = false;
	time_t now;
	int opt, status = 0;

	memset(&d, 0, sizeof(d));
	d.driver = &imap_driver;
	d.report_fd = -1;
	while ((opt = getopt_long(argc, argv, "c:vhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'o':
			d.once = true;
			break;
		case 'n':
			now_arg = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'O':
			online = true;
			break;
		case 'P':
			print_config = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("mentord %s\n", MENTORD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (online && !check_only) || (print_config && (check_only || d.once))) {
		usage(stderr);
		return 2;
	}
	log_init("mentord", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (!path_given && access(path, R_OK) < 0) {
		fprintf(stderr,
		        "mentord: cannot read the default configuration %s: %s; %s, or give "
		        "another file with -c FILE\n",
		        path, strerror(errno),
		        errno == ENOENT ? "install one there (an example is in " MENTORD_DOCDIR
		                          "/examples)"
		                        : "run mentord as root or as the mentord user");
		return 2;
	}
	if (print_config) {
		status = config_print(path, stdout, &error) < 0 ? 2 : 0;
		if (status != 0)
			fprintf(stderr, "%s\n", error);
		return status;
	}
	if (config_load(path, &d.config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 2;
	}
	if (clock_set_timezone(d.config->timezone, &error) < 0) {
		fprintf(stderr, "%s: %s\n", path, error);
		config_free(&d.config);
		return 2;
	}
	if (templates_dir_missing(d.config)) {
		config_free(&d.config);
		return 2;
	}
	if (check_templates(d.config, &error) < 0) {
		fprintf(stderr, "%s: %s\n", d.config->templates_where, error);
		config_free(&d.config);
		return 2;
	}
	if (check_only) {
		printf("%s: configuration OK (%zu program%s)\n", path, d.config->nprograms,
		       d.config->nprograms == 1 ? "" : "s");
		fflush(stdout);
		if (online && check_online(d.config, stdout, stderr) < 0)
			status = 1;
		config_free(&d.config);
		return status;
	}
	if (now_arg != NULL) {
		if (clock_parse(now_arg, &now) < 0) {
			fprintf(stderr, "mentord: --now %s: expected YYYY-MM-DDTHH:MM\n", now_arg);
			config_free(&d.config);
			return 2;
		}
		clock_set_fake(now);
	}
	/* Opened (and migrated) here so that a database that cannot be used
	 * stops the start with a clear error; the daemon's monitor then closes
	 * it, and each cycle opens its own. */
	if (store_open(d.config->database, &d.store, &error) < 0 ||
	    config_ensure_secret(d.config, &error) < 0) {
		log_error("%s", error);
		store_close(&d.store);
		config_free(&d.config);
		return 1;
	}
	if (d.once)
		cycle_block_signals();
	else
		setup_signals();
	if (!d.once && sd_watchdog_enabled(0, &d.watchdog_usec) <= 0)
		d.watchdog_usec = 0;
	if (d.once) {
		status = run_cycle(&d);
	} else {
		store_close(&d.store);
		sd_notify(0, "READY=1");
		log_info("started (%zu program%s)", d.config->nprograms,
		         d.config->nprograms == 1 ? "" : "s");
		while (!got_term) {
			idle_ensure(&d);
			cycle_process(&d);
			watchdog_ping(&d);
			if (got_term)
				break;
			wait_for_work(&d, wait_seconds(&d));
			drain_signal_pipe();
			if (got_hup) {
				got_hup = 0;
				sd_notify(0, "RELOADING=1");
				reload(&d, path);
				sd_notify(0, "READY=1");
			}
		}
		sd_notify(0, "STOPPING=1");
		log_info("stopping");
	}
	imap_disconnect(&d, &d.imap);
	imap_disconnect(&d, &d.idle_imap);
	smtp_close(&d.smtp);
	store_close(&d.store);
	config_free(&d.config);
	oauth_cleanup();
	return status;
}
