/* log: see include/log.h. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_progname = "mentord";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool log_journal;

/* Held lines (log_hold): info and debug lines of a backlog, written by the
 * kilobyte rather than one write(2) each, which was a tenth of the time
 * ingest spent outside the store.  A warning or an error writes what is
 * held first, then itself, so the order stays and trouble shows at once. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_held[16384];
static size_t log_nheld;
static int log_holding;

/* With log_mu held. */
static void
log_flush_locked(void)
{
	if (log_nheld > 0)
		(void)fwrite(log_held, 1, log_nheld, stderr);
	log_nheld = 0;
}

void
log_hold(bool on)
{
	pthread_mutex_lock(&log_mu);
	log_holding += on ? 1 : -1;
	if (log_holding <= 0) {
		log_holding = 0;
		log_flush_locked();
	}
	pthread_mutex_unlock(&log_mu);
}

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_max = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_max = level;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *names[] = {[LOG_LEVEL_ERROR] = "error",
	                              [LOG_LEVEL_WARN] = "warning",
	                              [LOG_LEVEL_INFO] = "info",
	                              [LOG_LEVEL_DEBUG] = "debug"};
	char line[2048], out[2304];
	int n;

	if (level > log_max)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal)
		n = snprintf(out, sizeof(out), "<%d>%s%s%s\n", (int)level, line, suffix ? ": " : "",
		             suffix ? suffix : "");
	else
		n = snprintf(out, sizeof(out), "%s: %s: %s%s%s\n", log_progname, names[level], line,
		             suffix ? ": " : "", suffix ? suffix : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out)) {
		/* Cut: still one line. */
		n = (int)sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	pthread_mutex_lock(&log_mu);
	if (log_holding > 0 && level >= LOG_LEVEL_INFO && (size_t)n <= sizeof(log_held)) {
		if (log_nheld + (size_t)n > sizeof(log_held))
			log_flush_locked();
		memcpy(log_held + log_nheld, out, (size_t)n);
		log_nheld += (size_t)n;
	} else {
		log_flush_locked();
		(void)fwrite(out, 1, (size_t)n, stderr);
	}
	pthread_mutex_unlock(&log_mu);
}

#define LOG_FN(fn, level, with_errno)                                                              \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(level, fmt, ap, with_errno ? strerror(saved) : NULL);                   \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_error, LOG_LEVEL_ERROR, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatalx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(status);
}
