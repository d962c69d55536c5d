/* pipe_pingpong: ns per round trip of one byte between two processes
 * over two pipes, 10k rounds (blocking read wakeup latency). */
#include "bench.h"
#include <sys/wait.h>

int main(void)
{
	const long n = 10000;
	int a[2], b[2];
	char c = 0;
	if (pipe(a) != 0 || pipe(b) != 0) {
		perror("pipe");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		for (long i = 0; i < n; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) {
			perror("ping");
			return 1;
		}
	bench_report(t, n);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}
