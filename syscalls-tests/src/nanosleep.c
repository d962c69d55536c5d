/*
 * nanosleep: nanosleep(2) and clock_nanosleep(2).
 * - a 10 ms sleep takes at least 10 ms of CLOCK_MONOTONIC (and < 5 s)
 * - a zero sleep returns at once
 * - tv_nsec >= 1e9 or negative -> EINVAL; negative tv_sec -> EINVAL
 * - clock_nanosleep TIMER_ABSTIME with a past deadline returns at once;
 *   a relative 10 ms sleep takes >= 10 ms
 * - clock_nanosleep on an unknown clock -> EINVAL (returned, not errno)
 */
#include "t.h"
#include <time.h>

static long long now(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	struct timespec d = { 0, 10 * 1000 * 1000 }, rem;
	long long t0 = now();
	SYSOK("nanosleep 10ms", nanosleep(&d, &rem));
	long long el = now() - t0;
	CHECK("elapsed >= 10ms", el >= 10 * 1000 * 1000);
	CHECK("elapsed < 5s", el < 5LL * 1000 * 1000 * 1000);
	struct timespec z = { 0, 0 };
	SYSOK("nanosleep 0", nanosleep(&z, NULL));
	struct timespec bad = { 0, 1000000000 };
	EXPECT_ERRNO("tv_nsec 1e9 -> EINVAL", nanosleep(&bad, NULL), EINVAL);
	struct timespec neg = { 0, -1 };
	EXPECT_ERRNO("tv_nsec -1 -> EINVAL", nanosleep(&neg, NULL), EINVAL);
	struct timespec negs = { -1, 0 };
	EXPECT_ERRNO("tv_sec -1 -> EINVAL", nanosleep(&negs, NULL), EINVAL);
	EXPECT_ERRNO("wild pointer -> EFAULT", syscall(SYS_nanosleep, (void *)1, NULL), EFAULT);
	struct timespec past = { 1, 0 };
	t0 = now();
	EXPECT_EQ("ABSTIME in the past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
	CHECK("returned at once (< 1s)", now() - t0 < 1000LL * 1000 * 1000);
	t0 = now();
	EXPECT_EQ("clock_nanosleep relative 10ms", clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL), 0);
	CHECK("relative elapsed >= 10ms", now() - t0 >= 10 * 1000 * 1000);
	EXPECT_EQ("REALTIME clock ok", clock_nanosleep(CLOCK_REALTIME, 0, &z, NULL), 0);
	EXPECT_EQ("unknown clock -> EINVAL", clock_nanosleep(12345, 0, &d, NULL), EINVAL);
	EXPECT_EQ("THREAD_CPUTIME_ID -> EINVAL", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL), EINVAL);
	return t_done();
}
