/*
 * clock_gettime: ns per clock_gettime(CLOCK_MONOTONIC) through glibc, which
 * takes the vDSO when the kernel (or sandbox) provides one, 1M calls.
 */
#include "bench.h"

int main(void)
{
	const long n = 1000000;
	struct timespec ts;
	for (int i = 0; i < 1000; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	double t = bench_now();
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	bench_report(t, n);
	return 0;
}
