/*
 * parsed: what a message says, worked out without the store or the
 * configuration -- mime normalisation, classification, and the sender's own
 * text (reply extraction), once as commands are read and once as forms are.
 * The daemon (ingest, workflow) and `mentorctl parse` share this one
 * pipeline, so what the tool shows is what the daemon acts on.  Pure: no
 * configuration, database or network, so ingest works it out ahead of a
 * message's turn, on another thread.
 *
 * parsed_message_json renders it as one JSON object for `mentorctl parse`.
 *
 * Keys: message_id, date (ISO 8601 or null), from, from_name, to (list),
 * subject, in_reply_to, references (list), text, reply, form_text, html (bool),
 * attachments (list of {filename, content_type, size}), kind ("message",
 * "bounce" or "auto_reply"), bounce ({recipients, status, permanent}, only
 * for bounces), defects (list), and error (only when a limit was exceeded).
 */
#ifndef MENTORD_PARSED_H
#define MENTORD_PARSED_H

#include "classify.h"
#include "mime.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct parsed_message {
	struct mime_message *msg;  /* owned; NULL when mime_parse refused it */
	char *error;               /* owned: why, when msg is NULL */
	enum message_class cls;    /* CLASS_MESSAGE when msg is NULL */
	struct bounce_info bounce; /* owned contents when cls is CLASS_BOUNCE */
	char *reply;               /* owned: the sender's own text; NULL when msg is */
	char *form_text;           /* owned: the text forms are read from (REPLY_FOR_FORMS) */
	/* Set by ingest when only the header block was read: the message was
	 * over max_message_size, or (set_aside) failed to be stored too
	 * often.  It is quarantined by reference, never applied. */
	bool truncated, set_aside;
	size_t size; /* its size on the server */
	/* When it arrived, for a message applied again later (a replay): the
	 * day its answers are counted in.  0: now. */
	time_t received_at;
};

/* Fills *parsed_r from the raw message; never fails (a message mime
 * refuses has msg NULL and error set).  The caller owns the contents
 * (parsed_message_clear). */
void parsed_message_parse(const char *raw, size_t len, struct parsed_message *parsed_r);
void parsed_message_clear(struct parsed_message *parsed);

/* Always succeeds for any bytes; the caller owns *json_r (one line plus
 * "\n").  Returns 0, or 1 when a limit was exceeded (the JSON says which). */
int parsed_message_json(const char *data, size_t len, char **json_r);

#endif
