/* read_zero: ns per 4 KiB read(2) from /dev/zero, 100k reads. */
#include "bench.h"

int main(void)
{
	static char buf[4096];
	const long n = 100000;
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0) {
		perror("open /dev/zero");
		return 1;
	}
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (read(fd, buf, sizeof buf) != sizeof buf) {
			perror("read");
			return 1;
		}
	bench_report(t, n);
	return 0;
}
