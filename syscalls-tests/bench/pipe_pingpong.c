/*
 * pipe_pingpong: ns per round trip of one byte between two processes over
 * two pipes (write, the other side reads and writes back, read). Prints
 * "na REASON" if pipes or fork are unavailable.
 */
#include "bench.h"
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

int main(void)
{
	const long n = 20000;
	int ab[2], ba[2];
	if (pipe(ab) < 0 || pipe(ba) < 0) {
		printf("na pipe: %s\n", strerror(errno));
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("na fork: %s\n", strerror(errno));
		return 0;
	}
	char c = 'x';
	if (pid == 0) {
		close(ab[1]); /* or the read below never sees EOF */
		close(ba[0]);
		for (;;) {
			if (read(ab[0], &c, 1) != 1)
				_exit(0);
			if (write(ba[1], &c, 1) != 1)
				_exit(1);
		}
	}
	close(ab[0]);
	close(ba[1]);
	for (int i = 0; i < 100; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	bench_report(t, n);
	close(ab[1]);
	waitpid(pid, NULL, 0);
	return 0;
}
