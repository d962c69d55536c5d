/* Setting the clock: not implemented for the app (ENOSYS). Every attempt
 * sets the time it just read, so even an escape would not move the host's
 * clock; the harness checks the host's realtime-monotonic offset. */
#include "e.h"
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

int main(void)
{
	struct timeval tv;
	struct timespec ts;
	gettimeofday(&tv, NULL);
	EXPECT_ERRNO("settimeofday(now)", settimeofday(&tv, NULL), ENOSYS);
	clock_gettime(CLOCK_REALTIME, &ts);
	EXPECT_ERRNO("clock_settime(REALTIME, now)", clock_settime(CLOCK_REALTIME, &ts), ENOSYS);
	struct timex tx = {.modes = 0};
	EXPECT_ERRNO("adjtimex(read-only)", adjtimex(&tx), ENOSYS);
	EXPECT_ERRNO("clock_adjtime", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx), ENOSYS);
	/* The sandbox's own clock still follows the host's. */
	struct timespec a, b;
	clock_gettime(CLOCK_REALTIME, &a);
	CHECK("the sandbox's clock is sane", a.tv_sec > 1700000000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK("monotonic clock runs", b.tv_sec > 0 || b.tv_nsec > 0);
	return t_done();
}
