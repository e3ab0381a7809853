/*
 * mime: raw message bytes -> a normalised message.  Pure: no database, no
 * network, so it can be fuzzed and tested alone.
 *
 * Built on libetpan's MIME parser (mailmime_parse, mailmime_part_parse for
 * transfer decodings, mailmime_encoded_phrase_parse for RFC 2047 words,
 * charconv_buffer for charsets) and libxml2's HTML parser for HTML-only
 * messages.  Every string in the result is valid UTF-8 without NUL bytes:
 * the declared charset is tried first, then UTF-8, windows-1252 and
 * ISO-8859-1, because charset declarations lie.
 *
 * Where libetpan's parser reads a structure otherwise than mail readers do
 * (two Content-Type fields, a boundary that is a prefix of another, a last
 * bare delimiter), it is given a minimally fixed copy (see structure_fix
 * in mime.c).  Uuencoded blocks in the text ("begin 644 name" ... "end")
 * are listed as attachments and left out of the text; the transfer
 * encoding x-uuencode is decoded; UTF-7 is decoded in bodies, encoded
 * words and, for a message that declares it, in the raw Subject and
 * display names.
 *
 * It never fails on malformed input: whatever could be read is returned, and
 * `defects` says what was wrong.  It fails (returns -1) only when a limit in
 * struct mime_limits is exceeded, with the reason in error_r.
 */
#ifndef MENTORD_MIME_H
#define MENTORD_MIME_H

#include "util.h"

#include <time.h>

struct mime_limits {
	size_t max_bytes; /* whole message; default 25 MiB */
	size_t max_parts; /* MIME parts; default 500 */
	size_t max_depth; /* multipart nesting; default 20 */
};
#define MIME_LIMITS_DEFAULT                                                                        \
	{                                                                                          \
		25u * 1024 * 1024, 500, 20                                                         \
	}

struct mime_attachment {
	char *filename;     /* owned, UTF-8 (RFC 2231/2047 decoded); "" when none */
	char *content_type; /* owned, lower case "type/subtype" */
	size_t size;        /* decoded size in bytes */
};

struct mime_header {
	char *name;  /* owned, as in the message */
	char *value; /* owned, unfolded, RFC 2047 decoded, UTF-8 */
};

struct mime_message {
	char *message_id;         /* owned, without <>; NULL when absent */
	time_t date;              /* 0 when absent or unparsable */
	char *from_addr;          /* owned, lower-cased addr-spec; NULL when absent */
	char *from_name;          /* owned, decoded display name; NULL when none */
	char *reply_to;           /* owned addr-spec of the first Reply-To address; NULL */
	char *return_path;        /* owned addr-spec, "" for the null sender <>; NULL */
	struct strvec to;         /* addr-specs of To */
	struct strvec cc;         /* addr-specs of Cc */
	char *subject;            /* owned, decoded; "" when absent */
	char *in_reply_to;        /* owned, first msg-id without <>; NULL */
	struct strvec references; /* msg-ids without <>, in order */

	struct mime_header *headers; /* owned: the top-level header fields, in order */
	size_t nheaders;

	char *content_type; /* owned, lower case "type/subtype" of the top level */
	char *report_type;  /* owned, lower case report-type parameter; NULL */

	char *text;          /* owned: the text the sender wrote, UTF-8, LF line ends */
	bool text_from_html; /* text was converted from HTML (no text/plain part) */

	struct mime_attachment *attachments; /* owned */
	size_t nattachments;

	/* For bounce detection: the text of a message/delivery-status part, and
	 * the header block of the returned message (message/rfc822 or
	 * text/rfc822-headers), when present.  Owned; NULL when absent. */
	char *delivery_status;
	char *returned_headers;

	struct strvec defects; /* what was malformed, for operators */

	/* The first text/calendar (or application/ics) part, UTF-8: a
	 * calendar's answer to an invitation.  Owned; NULL when none or
	 * larger than MIME_CALENDAR_MAX. */
	char *calendar;
};
#define MIME_CALENDAR_MAX (256u * 1024)

/* Parses data[0..len).  On success *msg_r is owned by the caller (free with
 * mime_message_free).  limits may be NULL for the defaults. */
int mime_parse(const char *data, size_t len, const struct mime_limits *limits,
               struct mime_message **msg_r, const char **error_r);

/* The decoded value of the first top-level header called name (case
 * insensitive), or NULL.  Borrowed from msg. */
const char *mime_header_get(const struct mime_message *msg, const char *name);

void mime_message_free(struct mime_message **msg);

/*
 * What a person writes to mentord -- a command, a form, a meeting report --
 * fits in far less than this; the rest of a longer text (a pasted log, a
 * book) is never read, so it is not decoded, converted or copied: a 10 MB
 * text body would otherwise cost five copies of itself.  The whole message
 * stays in the store (message_raw) for the coordinator.  mime reads at most
 * this much of a text part, and the HTML converter writes at most this much
 * text.
 */
#define MIME_TEXT_MAX (1024u * 1024)

/* HTML (any charset already converted to UTF-8) -> readable text: block
 * elements become line breaks, lists get "- ", links keep their text,
 * scripts and styles are dropped, entities decoded; at most MIME_TEXT_MAX
 * bytes, cut at a line end.  Caller owns the result. */
char *mime_html_to_text(const char *html, size_t len);

/* The same conversion, streamed: libxml2's push parser with SAX callbacks,
 * so no document tree is built.
 * mime_html_new starts one (the caller owns it); mime_html_feed gives it
 * the next bytes, split anywhere, and returns false once it reads no more
 * (the text limit is reached, or the document's top element has ended), so
 * the caller can stop; mime_html_finish ends it, frees it and sets *h to
 * NULL, and returns the text, which the caller owns; mime_html_free drops
 * one without its text. */
struct mime_html;
struct mime_html *mime_html_new(void);
bool mime_html_feed(struct mime_html *h, const char *html, size_t len);
char *mime_html_finish(struct mime_html **h);
void mime_html_free(struct mime_html **h);

/* Converts bytes in charset (may be NULL or a lie) to valid UTF-8 without
 * NUL bytes, trying charset, UTF-8, windows-1252, then ISO-8859-1.  The caller
 * owns the result. */
char *mime_to_utf8(const char *data, size_t len, const char *charset);

/* Added: mime_to_utf8 that also says whether the declared charset was
 * abandoned: *used_r is NULL when it was used (or none was declared), else
 * the fallback used ("UTF-8" or "windows-1252", a static string). */
char *mime_to_utf8_report(const char *data, size_t len, const char *charset, const char **used_r);

#endif
