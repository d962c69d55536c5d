/* open_close: ns per open(2)+close(2) of an existing file in /tmp, 20k pairs. */
#include "bench.h"

int main(void)
{
	char path[] = "/tmp/bench_open_close.XXXXXX";
	const long n = 20000;
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		close(fd);
	}
	bench_report(t, n);
	unlink(path);
	return 0;
}
