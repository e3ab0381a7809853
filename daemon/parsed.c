/*
 * parsed: mime + classify + reply, the one parse pipeline of the daemon and
 * of `mentorctl parse` (which shows it as JSON).
 */
#include "parsed.h"

#include "classify.h"
#include "clock.h"
#include "mime.h"
#include "reply.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void
parsed_message_parse(const char *raw, size_t len, struct parsed_message *parsed_r)
{
	const char *perr = NULL;
	const char *text;

	memset(parsed_r, 0, sizeof(*parsed_r));
	parsed_r->cls = CLASS_MESSAGE;
	if (mime_parse(raw, len, NULL, &parsed_r->msg, &perr) < 0) {
		parsed_r->error = xstrdup(perr != NULL ? perr : "message could not be parsed");
		return;
	}
	parsed_r->cls = classify_message(parsed_r->msg, &parsed_r->bounce);
	text = parsed_r->msg->text != NULL ? parsed_r->msg->text : "";
	parsed_r->reply = reply_extract(text, strlen(text), NULL);
	parsed_r->form_text = reply_extract_with(text, strlen(text), REPLY_FOR_FORMS, NULL);
}

void
parsed_message_clear(struct parsed_message *parsed)
{
	if (parsed->cls == CLASS_BOUNCE)
		bounce_info_free(&parsed->bounce);
	mime_message_free(&parsed->msg);
	free(parsed->error);
	free(parsed->reply);
	free(parsed->form_text);
	memset(parsed, 0, sizeof(*parsed));
}

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
add_message(struct strbuf *sb, const struct parsed_message *parsed)
{
	const struct mime_message *msg = parsed->msg;
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
	add_key(sb, "reply", false);
	strbuf_add_json(sb, parsed->reply);
	add_key(sb, "form_text", false);
	strbuf_add_json(sb, parsed->form_text);
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

	add_key(sb, "kind", false);
	strbuf_add_json(sb, classify_name(parsed->cls));
	if (parsed->cls == CLASS_BOUNCE) {
		add_key(sb, "bounce", false);
		strbuf_adds(sb, "{\"recipients\":");
		add_json_list(sb, &parsed->bounce.recipients);
		strbuf_adds(sb, ",\"status\":");
		add_json_or_null(sb, parsed->bounce.status);
		strbuf_addf(sb, ",\"permanent\":%s}", parsed->bounce.permanent ? "true" : "false");
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
	strbuf_adds(
	    sb, ",\"message_id\":null,\"date\":null,\"from\":null,\"from_name\":null,"
	        "\"to\":[],\"subject\":\"\",\"in_reply_to\":null,\"references\":[],"
	        "\"text\":\"\",\"reply\":\"\",\"form_text\":\"\",\"html\":false,\"attachments\":[],"
	        "\"kind\":\"message\",\"defects\":[]");
}

int
parsed_message_json(const char *data, size_t len, char **json_r)
{
	struct strbuf sb = {0};
	struct parsed_message parsed;
	int ret = 0;

	parsed_message_parse(data, len, &parsed);
	strbuf_addc(&sb, '{');
	if (parsed.msg == NULL) {
		add_error(&sb, parsed.error);
		ret = 1;
	} else {
		add_message(&sb, &parsed);
	}
	strbuf_adds(&sb, "}\n");
	parsed_message_clear(&parsed);
	*json_r = strbuf_detach(&sb);
	return ret;
}
