/*
 * trust: what a message proves about its sender, and whether it may be
 * answered (pure: no store, no network, so it can be fuzzed).
 *
 * A From header proves nothing.  mentord believes a sender's address only
 * on one of two proofs (the rest is in README "Whose message is it"):
 *   - a reply token that verifies and is bound to that person (token.h);
 *     the workflow checks it against the store;
 *   - an Authentication-Results header (RFC 8601) written by a receiving
 *     server the administrator trusts (its authserv-id is configured),
 *     saying DMARC passed for the From domain, or DKIM passed with a
 *     signing domain aligned with it.  trust_authenticated reads it.
 * Anything else is a request, confirmed by a reply from the registered
 * address (trust_confirm_word reads that reply's answer).
 *
 * Auto-responders that copy the email they answer back unquoted must not
 * command anything: trust_strip_echo turns such an echo into quoted text.
 */
#ifndef MENTORD_TRUST_H
#define MENTORD_TRUST_H

#include "mime.h"
#include "util.h"

/*
 * Whether the topmost Authentication-Results header whose authserv-id is in
 * trusted says that the From address's domain is authenticated: dmarc=pass
 * with header.from equal to the From domain, or dkim=pass with header.d (or
 * the domain of header.i) equal to the From domain or a parent of it.  Only
 * the topmost trusted header counts: receiving servers prepend theirs, and
 * RFC 8601 section 5 has them delete forged copies of their own below.
 * *why_r (may be NULL) gets a static description for logs.
 */
bool trust_authenticated(const struct mime_message *msg, const struct strvec *trusted,
                         const char **why_r);

enum trust_answer {
	TRUST_ANSWER_NONE = 0, /* no yes or no: the text is something else */
	TRUST_ANSWER_YES,
	TRUST_ANSWER_NO,
};

/* The answer to "reply yes to confirm": the first non-empty line of a
 * reply's new text, when it is short and starts with a yes ("yes", "y",
 * "confirm", "ok", "oui", "ja", "sí") or a no ("no", "cancel", "non",
 * "nein"). */
enum trust_answer trust_confirm_word(const char *reply);

/*
 * An auto-responder echo: the reply reproduces, unquoted, at least half of
 * the distinct lines (and at least three) of the email it answers.  Then
 * *stripped_r gets the reply without those lines (the caller owns it) and
 * the result is true; otherwise false and *stripped_r is NULL.  Copying a
 * few lines of the original (a suggested command) is not an echo.  Lines
 * are compared trimmed, with white space folded and ASCII case ignored.
 * Linear in the sizes of both texts (a sorted index of the original).
 */
bool trust_strip_echo(const char *reply, const char *original, char **stripped_r);

/* Whether an automatic answer may be sent to this message: not when it
 * carries Auto-Submitted (other than "no"), Precedence bulk, junk or list,
 * X-Auto-Response-Suppress naming All, OOF or AutoReply (RFC 3834 and
 * Microsoft's header), list headers, or mentord's own X-Mentord.  The
 * message may still be applied; it only gets no answer.  *why_r (may be
 * NULL) names the header. */
bool trust_may_answer(const struct mime_message *msg, const char **why_r);

#endif
