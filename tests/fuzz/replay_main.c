/*
 * A standalone main for the fuzz targets, so their inputs run in the normal
 * test suite (and under ASan/UBSan in the sanitizer build) without libFuzzer:
 *
 *   fuzz_mime_replay [--every N] PATH...
 *
 * Each PATH is a file or a directory, read recursively in name order; every
 * file is passed once to LLVMFuzzerTestOneInput.  --every N takes only every
 * Nth file of the directories named after it (a sample of a large corpus);
 * --every 1 goes back to all.  A crash or sanitizer report fails the test;
 * so does a PATH that is missing or a directory with no files, so a moved
 * corpus cannot make the test pass by replaying nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are cut, as libFuzzer's -max_len does. */
#define REPLAY_MAX_LEN (1024 * 1024)

struct paths {
	char **v;
	size_t n, cap;
};

static void
paths_push(struct paths *p, const char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 64 : p->cap * 2;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (p->v == NULL)
			abort();
	}
	p->v[p->n] = strdup(s);
	if (p->v[p->n] == NULL)
		abort();
	p->n++;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every regular file under dir, sorted, to out.  Returns -1 when
 * dir cannot be read. */
static int
walk(const char *dir, struct paths *out)
{
	struct paths here = {0};
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len;
		char *path;

		if (de->d_name[0] == '.')
			continue;
		len = strlen(dir) + strlen(de->d_name) + 2;
		path = malloc(len);
		if (path == NULL)
			abort();
		snprintf(path, len, "%s/%s", dir, de->d_name);
		paths_push(&here, path);
		free(path);
	}
	closedir(d);
	qsort(here.v, here.n, sizeof(*here.v), cmp_str);
	for (size_t i = 0; i < here.n; i++) {
		struct stat st;

		if (stat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (walk(here.v[i], out) < 0)
				return -1;
		} else if (stat(here.v[i], &st) == 0 && S_ISREG(st.st_mode)) {
			paths_push(out, here.v[i]);
		}
		free(here.v[i]);
	}
	free(here.v);
	return 0;
}

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	buf = malloc(REPLAY_MAX_LEN);
	if (buf == NULL)
		abort();
	n = fread(buf, 1, REPLAY_MAX_LEN, f);
	fclose(f);
	/* Exactly n bytes, so reading past the input is caught by ASan. */
	buf = realloc(buf, n > 0 ? n : 1);
	if (buf == NULL)
		abort();
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t every = 1, total = 0;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		struct paths files = {0};
		struct stat st;

		if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
			every = strtoul(argv[++i], NULL, 10);
			if (every == 0)
				every = 1;
			continue;
		}
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			ret = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (walk(argv[i], &files) < 0 || files.n == 0) {
				fprintf(stderr, "%s: no input files\n", argv[i]);
				ret = 1;
			}
		} else {
			paths_push(&files, argv[i]);
		}
		for (size_t j = 0; j < files.n; j++) {
			if (j % every == 0) {
				if (replay_file(files.v[j]) < 0)
					ret = 1;
				else
					total++;
			}
			free(files.v[j]);
		}
		free(files.v);
	}
	printf("replayed %zu inputs\n", total);
	return total == 0 ? 1 : ret;
}
