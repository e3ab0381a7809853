/*
 * classify: what a message is, from its content alone (pure).
 *
 *   CLASS_BOUNCE      a delivery status notification: RFC 3464
 *                     multipart/report; report-type=delivery-status, or one
 *                     of the common non-standard formats (Postfix, Exim,
 *                     qmail, Exchange, Gmail, Lotus Notes, ...).  A bounce
 *                     quoting a thread token is still a bounce; a delay
 *                     notice (Action: delayed) or a challenge/response
 *                     notice dressed as a bounce is not one (it is
 *                     CLASS_AUTO_REPLY).
 *   CLASS_AUTO_REPLY  automatic mail: RFC 3834 Auto-Submitted (not "no"),
 *                     X-Autoreply, X-Autorespond, Precedence bulk/junk/list,
 *                     List-Id/List-Unsubscribe, a null or MAILER-DAEMON
 *                     sender, vacation subjects in several languages, ARF
 *                     feedback reports, and mentord's own messages (its
 *                     X-Mentord header).  X-Auto-Response-Suppress alone is
 *                     not enough (Exchange adds it to ordinary mail).
 *   CLASS_MESSAGE     everything else: a person wrote it.
 */
#ifndef MENTORD_CLASSIFY_H
#define MENTORD_CLASSIFY_H

#include "mime.h"

enum message_class { CLASS_MESSAGE = 0, CLASS_BOUNCE, CLASS_AUTO_REPLY };

struct bounce_info {
	struct strvec recipients; /* failed addresses, lower case; a bare local
	                           * part is qualified with the returned
	                           * message's To or the provider's domain */
	char *status;             /* owned DSN status such as "5.1.1"; NULL if unknown */
	char *diagnostic;         /* owned, first diagnostic text; NULL */
	bool permanent;           /* 5.x.x, or a hard failure in a non-standard bounce */
};

/* bounce_r may be NULL; when the result is CLASS_BOUNCE and bounce_r is not
 * NULL, it is filled and the caller frees it with bounce_info_free. */
enum message_class classify_message(const struct mime_message *msg, struct bounce_info *bounce_r);
const char *classify_name(enum message_class cls); /* "message", "bounce", "auto_reply" */
void bounce_info_free(struct bounce_info *b);

#endif
