/*
 * compose: building the RFC 5322 bytes of an outgoing email (pure).
 *
 * Every header value is sanitised (CR, LF and other control characters
 * removed, so no input can add a header), non-ASCII header text is RFC 2047
 * encoded (UTF-8, B or Q, folded within 76 columns), display names are
 * quoted when needed, the body is UTF-8 quoted-printable with CRLF line ends.
 * Every message is marked automatic (RFC 3834 Auto-Submitted: auto-replied
 * on answers, auto-generated on the rest, and Microsoft's
 * X-Auto-Response-Suppress: All) and carries X-Mentord: KIND so mentord
 * recognises its own mail.
 * Attachments (a certificate, a calendar invitation) make it multipart.
 */
#ifndef MENTORD_COMPOSE_H
#define MENTORD_COMPOSE_H

#include "util.h"

#include <time.h>

/* RFC 3834: an answer to a message is auto-replied; everything else mentord
 * sends (reminders, digests, notices) is auto-generated. */
enum compose_auto { COMPOSE_AUTO_GENERATED = 0, COMPOSE_AUTO_REPLIED };

/* A file sent with the message (base64, Content-Disposition: attachment).
 * Every pointer is borrowed for the duration of compose_message. */
struct compose_attachment {
	const char *filename;     /* UTF-8; path separators and controls removed;
	                           * non-ASCII names are RFC 2231 encoded */
	const char *content_type; /* "type/subtype" without parameters; NULL:
	                           * application/octet-stream (application/ics for
	                           * a calendar) */
	const void *data;         /* len bytes, any content */
	size_t len;
	/* NULL for a plain attachment.  For a calendar invitation (iMIP, RFC
	 * 6047), its iTIP method ("REQUEST", "CANCEL"): data (an iCalendar
	 * object in UTF-8, calendar_build) is then also the body's text/calendar
	 * alternative, "text/calendar; method=REQUEST; charset=UTF-8", which is
	 * what Outlook and Gmail show as an invitation with answer buttons; the
	 * attached copy (content_type application/ics by default, as Google
	 * Calendar sends it) is for clients that only offer to open the file.
	 * At most one attachment of a message may set it. */
	const char *inline_calendar_method;
};

struct compose_mail {
	const char *from_addr;            /* required */
	const char *from_name;            /* may be NULL */
	const struct strvec *to;          /* required: addr-specs */
	const char *reply_to;             /* may be NULL */
	const char *subject;              /* UTF-8 */
	const char *body;                 /* UTF-8, LF or CRLF line ends */
	const char *message_id;           /* required, without <> (see compose_message_id) */
	const char *in_reply_to;          /* without <>, may be NULL */
	const char *references;           /* space-separated msg-ids without <>, may be NULL */
	const char *kind;                 /* X-Mentord value, e.g. "reminder" */
	enum compose_auto auto_submitted; /* the Auto-Submitted value */
	time_t date;
	/* Attachments, in order, after the text; none (NULL, 0): a single
	 * text/plain part, as without this field.  With some: multipart/mixed,
	 * the text first (or multipart/alternative of the text and the
	 * calendar, see inline_calendar_method), then each attachment.
	 * Borrowed. */
	const struct compose_attachment *attachments;
	size_t nattachments;
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

/* A copy of a message compose_message made, for sending it again: its To
 * header replaced by `to`, its Message-ID by message_id (without <>), its
 * Date by date; everything else as it was.  The caller owns *data_r. */
int compose_readdress(const char *data, size_t len, const char *to, const char *message_id,
                      time_t date, char **data_r, size_t *len_r, const char **error_r);

#endif
