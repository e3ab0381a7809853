/*
 * libFuzzer target: raw message bytes through everything `mentorctl parse`
 * does -- mime_parse, reply_extract and classify_message, serialised by
 * parsed_message_json -- and once more through mime_parse with small limits,
 * so the limit paths are exercised too.  Any bytes must give a result
 * without a crash, a leak or a sanitizer report.
 */
#include "classify.h"
#include "mime.h"
#include "parsed.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mime_limits small = {4096, 8, 3};
	struct mime_message *msg = NULL;
	struct bounce_info bounce = {0};
	const char *error = NULL;
	char *json = NULL;

	parsed_message_json((const char *)data, size, &json);
	if (json == NULL || strlen(json) < 3 || json[0] != '{' || json[strlen(json) - 1] != '\n')
		abort(); /* the contract: always one line of JSON */
	for (size_t i = 0; json[i + 1] != '\0'; i++) {
		if ((unsigned char)json[i] < 0x20)
			abort(); /* a control character escaped nothing */
	}
	free(json);

	if (mime_parse((const char *)data, size, &small, &msg, &error) == 0) {
		(void)mime_header_get(msg, "Subject");
		if (classify_message(msg, &bounce) == CLASS_BOUNCE)
			bounce_info_free(&bounce);
		mime_message_free(&msg);
	}
	return 0;
}
