/*
 * libFuzzer target: command_parse_text, the grammar of commands sent by
 * email, on any text, with a fixed "now" so "today" and "yesterday" are
 * deterministic.  Every command found is also named and checked, as the
 * workflow does with it.
 */
#include "command.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct command_list *list = NULL;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	command_parse_text(text, (time_t)1796115600 /* 2026-12-01T09:00Z */, &list);
	if (list == NULL)
		abort();
	for (size_t i = 0; i < list->n; i++) {
		const struct command *c = &list->cmds[i];
		if (command_verb_name(c->verb) == NULL || c->line == NULL)
			abort();
		(void)command_is_coordinator_only(c->verb);
		if (c->verb == CMD_MET &&
		    (strlen(c->date) != 10 || c->minutes < 0 || c->minutes > 24 * 60))
			abort(); /* MET carries YYYY-MM-DD and at most a day */
		if ((c->verb == CMD_ACCEPT || c->verb == CMD_DECLINE || c->verb == CMD_POOL ||
		     c->verb == CMD_MATCH || c->verb == CMD_END) &&
		    c->id <= 0)
			abort(); /* ids are positive */
		if (c->verb == CMD_MATCH && c->id2 <= 0)
			abort();
	}
	command_list_free(&list);
	free(text);
	return 0;
}
