/*
 * clocks: clock_gettime(2), clock_getres(2), gettimeofday(2), time(2).
 * All calls go through the raw syscall (glibc would use the vDSO, which the
 * sandbox may or may not provide; both paths must agree anyway).
 * - CLOCK_MONOTONIC never goes backwards over 1000 reads
 * - CLOCK_REALTIME, gettimeofday and time agree within 2 seconds
 * - realtime is after 2020-01-01
 * - clock_getres: MONOTONIC/REALTIME resolution in (0, 1ms]
 * - CLOCK_PROCESS_CPUTIME_ID / THREAD_CPUTIME_ID / BOOTTIME work
 * - bad clock id -> EINVAL; wild pointer -> EFAULT
 */
#include "t.h"
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	struct timespec a, b, r;
	struct timeval tv;
	int mono = 1;

	SYSOK("clock_gettime MONOTONIC", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a));
	for (int i = 0; i < 1000; i++) {
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
		mono &= ns(b) >= ns(a);
		a = b;
	}
	CHECK("monotonic never decreases", mono);
	CHECK("tv_nsec in range", b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
	SYSOK("clock_gettime REALTIME", syscall(SYS_clock_gettime, CLOCK_REALTIME, &a));
	SYSOK("gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
	long t = syscall(SYS_time, NULL);
	CHECK("realtime after 2020", a.tv_sec > 1577836800);
	CHECK("gettimeofday ~ realtime", tv.tv_sec - a.tv_sec >= 0 && tv.tv_sec - a.tv_sec <= 2);
	CHECK("tv_usec in range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK("time ~ gettimeofday", t - tv.tv_sec >= 0 && t - tv.tv_sec <= 2);
	time_t tt = 0;
	CHECK("time(&t) stores the value", syscall(SYS_time, &tt) >= t && tt >= t);
	SYSOK("clock_getres MONOTONIC", syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r));
	CHECK("monotonic res in (0,1ms]", ns(r) > 0 && ns(r) <= 1000000);
	SYSOK("clock_getres REALTIME", syscall(SYS_clock_getres, CLOCK_REALTIME, &r));
	CHECK("realtime res in (0,1ms]", ns(r) > 0 && ns(r) <= 1000000);
	SYSOK("clock_getres NULL res", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
	SYSOK("PROCESS_CPUTIME_ID", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &a));
	SYSOK("THREAD_CPUTIME_ID", syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &a));
	SYSOK("BOOTTIME", syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &a));
	SYSOK("MONOTONIC_RAW", syscall(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, &a));
	SYSOK("MONOTONIC_COARSE", syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &a));
	EXPECT_ERRNO("bad clock id -> EINVAL", syscall(SYS_clock_gettime, 12345, &a), EINVAL);
	EXPECT_ERRNO("getres bad clock id -> EINVAL", syscall(SYS_clock_getres, 12345, &a), EINVAL);
	EXPECT_ERRNO("clock_gettime wild ptr -> EFAULT", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);
	EXPECT_ERRNO("gettimeofday wild ptr -> EFAULT", syscall(SYS_gettimeofday, (void *)1, NULL), EFAULT);
	/* the glibc wrappers agree with the raw syscalls */
	struct timespec g;
	clock_gettime(CLOCK_MONOTONIC, &g);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
	CHECK("vDSO/libc monotonic <= later raw read", ns(g) <= ns(b));
	return t_done();
}
