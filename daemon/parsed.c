/*
 * parsed: mime + reply + classify as one JSON object for `mentorctl parse`.
 */
#include "parsed.h"

#include "classify.h"
#include "clock.h"
#include "mime.h"
#include "reply.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A JSON string, or null for a NULL pointer. */
static void
add_json_or_null(struct strbuf *sb, const char *s)
{
	if (s == NULL)
		strbuf_adds(sb, "null");
	else
		strbuf_add_json(sb, s);
}

static void
add_json_list(struct strbuf *sb, const struct strvec *sv)
{
	strbuf_addc(sb, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			strbuf_addc(sb, ',');
		strbuf_add_json(sb, sv->v[i]);
	}
	strbuf_addc(sb, ']');
}

static void
add_key(struct strbuf *sb, const char *key, bool first)
{
	if (!first)
		strbuf_addc(sb, ',');
	strbuf_add_json(sb, key);
	strbuf_addc(sb, ':');
}

static void
add_message(struct strbuf *sb, const struct mime_message *msg)
{
	struct bounce_info bounce = {0};
	enum message_class cls;
	char *reply;
	const char *text = msg->text != NULL ? msg->text : "";

	add_key(sb, "message_id", true);
	add_json_or_null(sb, msg->message_id);
	add_key(sb, "date", false);
	if (msg->date != 0) {
		char buf[26];
		clock_iso8601(msg->date, buf);
		strbuf_add_json(sb, buf);
	} else {
		strbuf_adds(sb, "null");
	}
	add_key(sb, "from", false);
	add_json_or_null(sb, msg->from_addr);
	add_key(sb, "from_name", false);
	add_json_or_null(sb, msg->from_name);
	add_key(sb, "to", false);
	add_json_list(sb, &msg->to);
	add_key(sb, "subject", false);
	add_json_or_null(sb, msg->subject != NULL ? msg->subject : "");
	add_key(sb, "in_reply_to", false);
	add_json_or_null(sb, msg->in_reply_to);
	add_key(sb, "references", false);
	add_json_list(sb, &msg->references);
	add_key(sb, "text", false);
	strbuf_add_json(sb, text);
	reply = reply_extract(text, strlen(text), NULL);
	add_key(sb, "reply", false);
	strbuf_add_json(sb, reply);
	free(reply);
	add_key(sb, "html", false);
	strbuf_adds(sb, msg->text_from_html ? "true" : "false");

	add_key(sb, "attachments", false);
	strbuf_addc(sb, '[');
	for (size_t i = 0; i < msg->nattachments; i++) {
		const struct mime_attachment *a = &msg->attachments[i];
		if (i > 0)
			strbuf_addc(sb, ',');
		strbuf_adds(sb, "{\"filename\":");
		add_json_or_null(sb, a->filename != NULL ? a->filename : "");
		strbuf_adds(sb, ",\"content_type\":");
		add_json_or_null(sb, a->content_type != NULL ? a->content_type : "");
		strbuf_addf(sb, ",\"size\":%zu}", a->size);
	}
	strbuf_addc(sb, ']');

	cls = classify_message(msg, &bounce);
	add_key(sb, "kind", false);
	strbuf_add_json(sb, classify_name(cls));
	if (cls == CLASS_BOUNCE) {
		add_key(sb, "bounce", false);
		strbuf_adds(sb, "{\"recipients\":");
		add_json_list(sb, &bounce.recipients);
		strbuf_adds(sb, ",\"status\":");
		add_json_or_null(sb, bounce.status);
		strbuf_addf(sb, ",\"permanent\":%s}", bounce.permanent ? "true" : "false");
		bounce_info_free(&bounce);
	}
	add_key(sb, "defects", false);
	add_json_list(sb, &msg->defects);
}

/* The same keys, empty, for a message that exceeded a limit: consumers can
 * read every key without checking for "error" first. */
static void
add_error(struct strbuf *sb, const char *error)
{
	add_key(sb, "error", true);
	strbuf_add_json(sb, error);
	strbuf_adds(sb, ",\"message_id\":null,\"date\":null,\"from\":null,\"from_name\":null,"
	                "\"to\":[],\"subject\":\"\",\"in_reply_to\":null,\"references\":[],"
	                "\"text\":\"\",\"reply\":\"\",\"html\":false,\"attachments\":[],"
	                "\"kind\":\"message\",\"defects\":[]");
}

int
parsed_message_json(const char *data, size_t len, char **json_r)
{
	struct strbuf sb = {0};
	struct mime_message *msg = NULL;
	const char *error = NULL;
	int ret = 0;

	strbuf_addc(&sb, '{');
	if (mime_parse(data, len, NULL, &msg, &error) < 0) {
		add_error(&sb, error != NULL ? error : "message could not be parsed");
		ret = 1;
		goto out;
	}
	add_message(&sb, msg);

out:
	strbuf_adds(&sb, "}\n");
	mime_message_free(&msg);
	*json_r = strbuf_detach(&sb);
	return ret;
}
