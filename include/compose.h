/*
 * compose: building the RFC 5322 bytes of an outgoing email (pure).
 *
 * Every header value is sanitised (CR, LF and other control characters
 * removed, so no input can add a header), non-ASCII header text is RFC 2047
 * encoded (UTF-8, B or Q, folded within 76 columns), display names are
 * quoted when needed, the body is UTF-8 quoted-printable with CRLF line ends.
 * Auto-Submitted: auto-generated (RFC 3834) is added when asked, and every
 * message carries X-Mentord: KIND so mentord recognises its own mail.
 */
#ifndef MENTORD_COMPOSE_H
#define MENTORD_COMPOSE_H

#include "util.h"

#include <time.h>

struct compose_mail {
	const char *from_addr;   /* required */
	const char *from_name;   /* may be NULL */
	const struct strvec *to; /* required: addr-specs */
	const char *reply_to;    /* may be NULL */
	const char *subject;     /* UTF-8 */
	const char *body;        /* UTF-8, LF or CRLF line ends */
	const char *message_id;  /* required, without <> (see compose_message_id) */
	const char *in_reply_to; /* without <>, may be NULL */
	const char *references;  /* space-separated msg-ids without <>, may be NULL */
	const char *kind;        /* X-Mentord value, e.g. "reminder" */
	bool auto_submitted;     /* add Auto-Submitted: auto-generated */
	time_t date;
};

/* A new globally unique id "<random>@domain" without the angle brackets;
 * the caller owns it. */
char *compose_message_id(const char *domain);

/* The caller owns *data_r (NUL-terminated, CRLF line ends). */
int compose_message(const struct compose_mail *mail, char **data_r, size_t *len_r,
                    const char **error_r);

/* Header-safe copy of s: control characters (CR, LF, NUL...) replaced by
 * spaces, runs of spaces folded, trimmed, at most max bytes (on a UTF-8
 * boundary).  The caller owns the result. */
char *compose_sanitize_header(const char *s, size_t max);

/* True for a plausible addr-spec (local@domain, no spaces, no control or
 * angle brackets), safe to put in a header or SMTP envelope. */
bool compose_valid_addr(const char *addr);

#endif
