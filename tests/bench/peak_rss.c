/*
 * peak_rss: runs a command and writes its peak resident memory.
 *
 *   peak_rss FILE COMMAND [ARG...]
 *
 * A child's ru_maxrss starts at what its parent held when it forked (the
 * kernel keeps the high-water mark across exec), so a command started
 * straight from the benchmark's Python, which holds tens of MiB, reports
 * Python's size when its own is smaller.  Started from this small process
 * it reports its own.  Writes "KIB\n" to FILE (ru_maxrss of the command,
 * its reaped children included) and exits with the command's status (128 +
 * the signal when killed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: peak_rss FILE COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("peak_rss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("peak_rss: exec");
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("peak_rss: wait4");
			return 2;
		}
	}
	out = fopen(argv[1], "w");
	if (out == NULL || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 || fclose(out) != 0) {
		perror("peak_rss: writing the result");
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
