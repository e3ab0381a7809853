/*
 * libFuzzer target: what strangers control in the trust model.  The input
 * is split at the first NUL: the first part is a message (its headers feed
 * trust_authenticated and trust_may_answer), the second a reply's text, fed
 * to trust_confirm_word, trust_strip_echo (against the first part's text and
 * against itself), and to the token parsers (token_from_address,
 * token_verify, token_verify_bounce), as a confirmation reply arrives.
 */
#include "mime.h"
#include "token.h"
#include "trust.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t mlen = nul != NULL ? (size_t)(nul - (const char *)data) : size;
	char *reply = NULL, *stripped = NULL, *tok;
	struct mime_message *msg = NULL;
	struct strvec trusted = {0};
	const char *error;
	int64_t a, b;

	reply = malloc(size - mlen + 1);
	if (reply == NULL)
		return 0;
	if (nul != NULL)
		memcpy(reply, nul + 1, size - mlen - 1);
	reply[nul != NULL ? size - mlen - 1 : 0] = '\0';
	strvec_push(&trusted, "mx.example.org");
	if (mime_parse((const char *)data, mlen, NULL, &msg, &error) == 0) {
		(void)trust_authenticated(msg, &trusted, NULL);
		(void)trust_may_answer(msg, NULL);
		if (trust_strip_echo(reply, msg->text, &stripped)) {
			if (stripped == NULL || strlen(stripped) > strlen(reply))
				abort(); /* an echo only takes lines away */
			free(stripped);
		} else if (stripped != NULL) {
			abort();
		}
		mime_message_free(&msg);
	}
	(void)trust_confirm_word(reply);
	if (trust_strip_echo(reply, reply, &stripped))
		free(stripped);
	tok = token_from_address(reply);
	if (tok != NULL) {
		(void)token_verify("fuzz-secret-0123456789", tok, &a, &b);
		(void)token_verify_bounce("fuzz-secret-0123456789", tok, &a, &b);
		free(tok);
	}
	(void)token_verify("fuzz-secret-0123456789", reply, &a, &b);
	strvec_free(&trusted);
	free(reply);
	return 0;
}
