/*
 * libFuzzer target: the two readers of an attendee's answer on any bytes.
 * calendar_parse_reply gets them as a text/calendar part (libical's parser
 * behind our checks), calendar_rsvp_text as the words of a reply.  libical
 * is held loaded for the whole run (calendar_acquire), as a batch caller
 * would, rather than loaded and unloaded for every input.
 */
#include "calendar.h"
#include "compose.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct calendar_reply *r)
{
	if (r->uid == NULL || *r->uid == '\0' || strlen(r->uid) > 255)
		abort();
	for (const char *p = r->uid; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort(); /* the UID is looked up again: printable ASCII */
	}
	if (!compose_valid_addr(r->attendee))
		abort(); /* the attendee is an address mentord could write to */
	if (r->partstat != CALENDAR_ACCEPTED && r->partstat != CALENDAR_DECLINED &&
	    r->partstat != CALENDAR_TENTATIVE)
		abort();
	if (r->comment != NULL && !utf8_valid(r->comment, strlen(r->comment)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool loaded;
	struct calendar_reply *reply = NULL;
	const char *error = NULL;
	enum calendar_partstat ps;

	if (!loaded) {
		if (calendar_acquire(&error) < 0)
			abort(); /* libical missing: nothing would be tested */
		loaded = true;
	}

	/* Exactly size bytes, no terminator past them in the fuzzer's buffer. */
	if (calendar_parse_reply((const char *)data, size, &reply, &error) == 0) {
		if (reply == NULL)
			abort();
		check_reply(reply);
		calendar_reply_free(&reply);
	} else if (reply != NULL || error == NULL || *error == '\0') {
		abort(); /* a refusal says why and leaves nothing */
	}

	ps = calendar_rsvp_text((const char *)data, size);
	if (ps != CALENDAR_PARTSTAT_NONE && ps != CALENDAR_ACCEPTED && ps != CALENDAR_DECLINED &&
	    ps != CALENDAR_TENTATIVE)
		abort();
	return 0;
}
