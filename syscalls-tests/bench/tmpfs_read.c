/* tmpfs_read: ns per 1 MiB pread(2) from a 16 MiB file in /dev/shm (tmpfs),
 * 1024 reads. */
#include "bench.h"

int main(void)
{
	static char buf[1 << 20];
	const long n = 1024;
	char path[] = "/dev/shm/bench_read.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	unlink(path);
	for (long i = 0; i < 16; i++)
		if (pwrite(fd, buf, sizeof buf, i * sizeof buf) != sizeof buf) {
			perror("pwrite");
			return 1;
		}
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof buf, (i % 16) * sizeof buf) != sizeof buf) {
			perror("pread");
			return 1;
		}
	bench_report(t, n);
	return 0;
}
