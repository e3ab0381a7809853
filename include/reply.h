/*
 * reply: the new text of a reply, without the quoted thread and signature.
 *
 * Removes ">" quoted lines, "On ... wrote:" attributions (English, German,
 * French, Spanish, Italian, Portuguese, Dutch, Swedish, Polish...), Outlook's
 * From/Sent/To/Subject block, "-----Original Message-----", forwarded blocks,
 * and signatures ("-- ", "Sent from my iPhone" and the like).
 *
 * It runs in linear time on any input (no backtracking regular expressions)
 * and fails open: when unsure, or when trimming would leave nothing, it keeps
 * the text.
 */
#ifndef MENTORD_REPLY_H
#define MENTORD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* text is UTF-8 with LF (or CRLF) line ends.  Returns the new text, right
 * trimmed; the caller owns it.  *trimmed_r (may be NULL) says whether anything
 * was removed. */
char *reply_extract(const char *text, size_t len, bool *trimmed_r);

#endif
