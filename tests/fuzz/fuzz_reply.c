/*
 * libFuzzer target: reply_extract on any bytes.  In mentord the text comes
 * from mime (valid UTF-8, no NUL), but reply_extract must not depend on that
 * for memory safety, so the raw bytes are passed as they are, with their
 * length, and again as a C string (up to the first NUL) the way callers use
 * it.
 */
#include "reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool trimmed = false;
	char *text = malloc(size + 1);
	char *out;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* Exactly size bytes, no terminator past them in the fuzzer's buffer. */
	out = reply_extract((const char *)data, size, &trimmed);
	if (out == NULL)
		abort();
	free(out);

	out = reply_extract(text, strlen(text), NULL);
	if (out == NULL || strlen(out) > strlen(text))
		abort(); /* the result is a part of the input, never more */
	free(out);
	free(text);
	return 0;
}
