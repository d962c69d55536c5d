/*
 * spawn: ns per fork + execv + waitpid of a program, N times.
 *   spawn N PATH ARGV0 [ARGS...]
 * The program must exit 0. Prints "ns_per_op X", or "na REASON" if the
 * first spawn fails (a missing prerequisite, not a number).
 */
#include "bench.h"
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

static int spawn(char **argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(argv[0], argv + 1);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: spawn N PATH ARGV0 [ARGS...]\n");
		return 2;
	}
	long n = atol(argv[1]);
	char **prog = argv + 2;
	int r = spawn(prog);
	if (r < 0) {
		printf("na fork: %s\n", strerror(-r));
		return 0;
	}
	if (r != 0) {
		printf("na %s exited %d\n", prog[0], r);
		return 0;
	}
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (spawn(prog) != 0) {
			fprintf(stderr, "spawn: run %ld failed\n", i);
			return 1;
		}
	bench_report(t, n);
	return 0;
}
