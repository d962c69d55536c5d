/* getpid: ns per raw getpid(2) syscall (no libc caching), 200k calls. */
#include "bench.h"

int main(void)
{
	const long n = 200000;
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getpid);
	double t = bench_now();
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
	bench_report(t, n);
	return 0;
}
