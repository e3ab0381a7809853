/*
 * parsed: one message as `mentorctl parse` shows it -- mime normalisation,
 * reply extraction and classification put together as one JSON object.
 * Pure: no configuration, database or network.
 *
 * Keys: message_id, date (ISO 8601 or null), from, from_name, to (list),
 * subject, in_reply_to, references (list), text, reply, html (bool),
 * attachments (list of {filename, content_type, size}), kind ("message",
 * "bounce" or "auto_reply"), bounce ({recipients, status, permanent}, only
 * for bounces), defects (list), and error (only when a limit was exceeded).
 */
#ifndef MENTORD_PARSED_H
#define MENTORD_PARSED_H

#include <stddef.h>

/* Always succeeds for any bytes; the caller owns *json_r (one line plus
 * "\n").  Returns 0, or 1 when a limit was exceeded (the JSON says which). */
int parsed_message_json(const char *data, size_t len, char **json_r);

#endif
