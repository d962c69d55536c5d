/* pipe_rw: ns per 64 KiB write(2) + read(2) through one pipe, 20k rounds
 * in one process (copying cost and syscall overhead, no wakeups). */
#include "bench.h"

int main(void)
{
	static char buf[65536];
	const long n = 20000;
	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		return 1;
	}
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (write(p[1], buf, sizeof buf) != sizeof buf || read(p[0], buf, sizeof buf) != sizeof buf) {
			perror("pipe I/O");
			return 1;
		}
	bench_report(t, n);
	return 0;
}
