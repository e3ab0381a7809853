/*
 * reply: the new text of a reply, without the quoted thread and signature.
 *
 * Removes the quoted original below the reply: ">" (any depth), "|" and
 * Supercite ("JD>") quotes; attributions ("On ... wrote:" and its forms in
 * many clients and languages, wrapped over up to five lines, with or
 * without a verb, Zoho's dashed form), also when the original that follows
 * is not quoted; Outlook's From/Sent/To/Subject block;
 * "-----Original Message-----" and forwarded-message blocks; signatures
 * ("-- ") and the footers of mail clients ("Sent from my iPhone", "Get
 * Outlook for iOS", in many languages), and Gmail's tracking character.
 *
 * Quotes above or between new text are kept as context (the writer
 * answers below them), with their marker written as '>'; attributions are
 * dropped wherever they are.  A body of nothing but quotes gives "".
 *
 * It runs in linear time on any input (no backtracking regular expressions)
 * and fails open: when unsure, or when trimming would leave nothing new
 * (only a marker or a signature), it keeps the text.
 */
#ifndef MENTORD_REPLY_H
#define MENTORD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* text is UTF-8 with LF (or CRLF) line ends.  Returns the new text, right
 * trimmed; the caller owns it.  *trimmed_r (may be NULL) says whether anything
 * was removed or rewritten. */
char *reply_extract(const char *text, size_t len, bool *trimmed_r);

enum reply_mode {
	/* what reply_extract does */
	REPLY_WITH_CONTEXT = 0,
	/* For the form parser, which reads the first key it finds (quoted
	 * or not) as the form's own: a quote block above the reply is
	 * dropped unless the writer answers between quotes (bottom posting
	 * under the quoted blank form), and a body of nothing but quotes is
	 * returned as it is (a form filled in inside the quote). */
	REPLY_FOR_FORMS,
};

/* reply_extract with a choice of mode; the caller owns the result. */
char *reply_extract_with(const char *text, size_t len, enum reply_mode mode, bool *trimmed_r);

#endif
