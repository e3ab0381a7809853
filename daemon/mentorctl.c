/*
 * mentorctl: the operator's tool.  Work in progress: `parse` first.
 */
#include "log.h"
#include "parsed.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_parse(const char *path)
{
	const char *error;
	char *data, *json;
	size_t len;

	if (read_file(path, 64u * 1024 * 1024, &data, &len, &error) < 0) {
		fprintf(stderr, "mentorctl: %s\n", error);
		return 2;
	}
	parsed_message_json(data, len, &json);
	fputs(json, stdout);
	free(json);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("mentorctl", LOG_LEVEL_WARN);
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return cmd_parse(argv[2]);
	fprintf(stderr, "usage: mentorctl parse FILE\n");
	return 2;
}
