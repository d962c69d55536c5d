/* tmpfs_write: ns per 1 MiB pwrite(2) to a 16 MiB file in /dev/shm (tmpfs),
 * 512 writes (the first pass allocates the pages, later ones reuse them). */
#include "bench.h"

int main(void)
{
	static char buf[1 << 20];
	const long n = 512;
	char path[] = "/dev/shm/bench_write.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	unlink(path);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)i;
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (pwrite(fd, buf, sizeof buf, (i % 16) * sizeof buf) != sizeof buf) {
			perror("pwrite");
			return 1;
		}
	bench_report(t, n);
	return 0;
}
