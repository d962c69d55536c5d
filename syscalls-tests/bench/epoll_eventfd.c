/* epoll_eventfd: ns per wakeup round trip on one thread, 50k rounds:
 * write(2) an eventfd, epoll_wait(2) for its EPOLLIN, read(2) it back. */
#include "bench.h"
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

int main(void)
{
	const long n = 50000;
	int efd = eventfd(0, EFD_NONBLOCK), ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
		perror("setup");
		return 1;
	}
	uint64_t v = 1;
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		if (write(efd, &v, 8) != 8 || epoll_wait(ep, &out, 1, -1) != 1 || read(efd, &v, 8) != 8) {
			perror("round trip");
			return 1;
		}
	}
	bench_report(t, n);
	return 0;
}
