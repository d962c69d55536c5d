/*
 * timerfd: timerfd_create(2), timerfd_settime(2), timerfd_gettime(2).
 * - clocks REALTIME, MONOTONIC, BOOTTIME and the _ALARM ones (root has
 *   CAP_WAKE_ALARM); other clocks and unknown flags EINVAL; TFD_CLOEXEC,
 *   TFD_NONBLOCK
 * - settime/gettime errors in Linux's order (EFAULT, EINVAL flags and
 *   timespecs, EBADF, EINVAL for other files; a bad old pointer fails
 *   after the timer is set)
 * - one-shot and interval timers, the expiration count (overruns of an
 *   interval timer armed in the past), relative and TFD_TIMER_ABSTIME
 *   times, TFD_TIMER_CANCEL_ON_SET accepted, old values, disarming,
 *   re-arming discards unread expirations
 * - reads: 8-byte buffers, EAGAIN when non-blocking, blocking until
 *   expiry, EINTR on a signal; epoll readiness; TFD_IOC_SET_TICKS
 */
#include "t.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define MS 1000000L

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct itimerspec spec(long long value_ns, long long interval_ns)
{
	struct itimerspec s;
	s.it_value.tv_sec = value_ns / 1000000000LL;
	s.it_value.tv_nsec = value_ns % 1000000000LL;
	s.it_interval.tv_sec = interval_ns / 1000000000LL;
	s.it_interval.tv_nsec = interval_ns % 1000000000LL;
	return s;
}

static long long ns(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int rd(int fd, uint64_t *v)
{
	return read(fd, v, 8) == 8 ? 0 : -1;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	struct itimerspec s, old;
	uint64_t v = 0;

	EXPECT_ERRNO("CLOCK_PROCESS_CPUTIME_ID -> EINVAL", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	EXPECT_ERRNO("CLOCK_MONOTONIC_RAW -> EINVAL", timerfd_create(CLOCK_MONOTONIC_RAW, 0), EINVAL);
	EXPECT_ERRNO("clock 99 -> EINVAL", timerfd_create(99, 0), EINVAL);
	EXPECT_ERRNO("unknown flag -> EINVAL", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
	int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM};
	int ok = 1;
	for (int i = 0; i < 5; i++) {
		int fd = timerfd_create(clocks[i], 0);
		if (fd < 0)
			ok = 0;
		close(fd);
	}
	CHECK("all five clocks (root has CAP_WAKE_ALARM)", ok);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	MUST("timerfd_create", fd);
	EXPECT_EQ("TFD_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ("F_GETFL is O_RDWR|O_NONBLOCK", fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	struct stat st;
	SYSOK("fstat", fstat(fd, &st));
	EXPECT_EQ("mode 0600", st.st_mode, 0600);
	char path[64], link[64] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	SYSOK("readlink /proc/self/fd", readlink(path, link, sizeof link - 1));
	CHECK("named anon_inode:[timerfd]", strcmp(link, "anon_inode:[timerfd]") == 0);

	SYSOK("gettime unarmed", timerfd_gettime(fd, &s));
	CHECK("unarmed reads zero", ns(s.it_value) == 0 && ns(s.it_interval) == 0);
	EXPECT_ERRNO("read unarmed non-blocking -> EAGAIN", rd(fd, &v), EAGAIN);
	uint32_t small;
	EXPECT_ERRNO("4-byte read -> EINVAL", read(fd, &small, 4), EINVAL);

	/* Error paths. */
	s = spec(1000 * MS, 0);
	EXPECT_ERRNO("bad flags -> EINVAL", timerfd_settime(fd, 4, &s, NULL), EINVAL);
	EXPECT_ERRNO("bad new pointer -> EFAULT", timerfd_settime(fd, 0, (void *)1, NULL), EFAULT);
	EXPECT_ERRNO("EFAULT before EBADF", timerfd_settime(-1, 0, (void *)1, NULL), EFAULT);
	EXPECT_ERRNO("EINVAL flags before EBADF", timerfd_settime(-1, 4, &s, NULL), EINVAL);
	EXPECT_ERRNO("bad fd -> EBADF", timerfd_settime(-1, 0, &s, NULL), EBADF);
	int efd = eventfd(0, 0);
	EXPECT_ERRNO("not a timerfd -> EINVAL", timerfd_settime(efd, 0, &s, NULL), EINVAL);
	EXPECT_ERRNO("gettime not a timerfd -> EINVAL", timerfd_gettime(efd, &s), EINVAL);
	EXPECT_ERRNO("gettime bad fd -> EBADF", timerfd_gettime(-1, &s), EBADF);
	EXPECT_ERRNO("gettime bad pointer -> EFAULT", timerfd_gettime(fd, (void *)1), EFAULT);
	close(efd);
	s = spec(0, 0);
	s.it_value.tv_nsec = 1000000000;
	EXPECT_ERRNO("value nsec 1e9 -> EINVAL", timerfd_settime(fd, 0, &s, NULL), EINVAL);
	s = spec(0, 0);
	s.it_value.tv_sec = -1;
	EXPECT_ERRNO("negative value -> EINVAL", timerfd_settime(fd, 0, &s, NULL), EINVAL);
	s = spec(1000 * MS, 0);
	s.it_interval.tv_nsec = -1;
	EXPECT_ERRNO("bad interval -> EINVAL", timerfd_settime(fd, 0, &s, NULL), EINVAL);
	s = spec(1000 * MS, 0);
	EXPECT_ERRNO("bad old pointer -> EFAULT", timerfd_settime(fd, 0, &s, (void *)1), EFAULT);
	SYSOK("gettime", timerfd_gettime(fd, &s));
	CHECK("...but the timer was set", ns(s.it_value) > 0 && ns(s.it_value) <= 1000 * MS);

	/* Old values and disarming. */
	s = spec(2000 * MS, 500 * MS);
	SYSOK("re-arm with old", timerfd_settime(fd, 0, &s, &old));
	CHECK("old value is what was left", ns(old.it_value) > 0 && ns(old.it_value) <= 1000 * MS && ns(old.it_interval) == 0);
	SYSOK("gettime interval timer", timerfd_gettime(fd, &s));
	CHECK("interval reported exactly", ns(s.it_interval) == 500 * MS);
	CHECK("value at most 2s", ns(s.it_value) > 1000 * MS && ns(s.it_value) <= 2000 * MS);
	s = spec(0, 0);
	SYSOK("disarm", timerfd_settime(fd, 0, &s, &old));
	CHECK("old interval returned", ns(old.it_interval) == 500 * MS);
	SYSOK("gettime disarmed", timerfd_gettime(fd, &s));
	CHECK("disarmed reads zero", ns(s.it_value) == 0 && ns(s.it_interval) == 0);
	close(fd);

	/* One-shot, blocking. */
	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	long long t0 = now_ns(CLOCK_MONOTONIC);
	s = spec(50 * MS, 0);
	SYSOK("arm 50ms", timerfd_settime(fd, 0, &s, NULL));
	SYSOK("blocking read", rd(fd, &v));
	EXPECT_EQ("one expiration", v, 1);
	CHECK("not before 50ms", now_ns(CLOCK_MONOTONIC) - t0 >= 50 * MS);
	SYSOK("gettime expired one-shot", timerfd_gettime(fd, &s));
	CHECK("expired one-shot reads zero", ns(s.it_value) == 0);

	/* Interval: expirations accumulate. */
	t0 = now_ns(CLOCK_MONOTONIC);
	s = spec(10 * MS, 10 * MS);
	SYSOK("arm 10ms/10ms", timerfd_settime(fd, 0, &s, NULL));
	usleep(205000);
	SYSOK("read interval count", rd(fd, &v));
	CHECK("at least 20 expirations in 205ms", v >= 20);
	SYSOK("gettime running interval", timerfd_gettime(fd, &s));
	CHECK("next expiry within the interval", ns(s.it_value) > 0 && ns(s.it_value) <= 10 * MS);
	SYSOK("blocking read next period", rd(fd, &v));
	/* Well below the 20 accumulated before, even on a loaded host. */
	CHECK("count restarts after a read", v >= 1 && v < 20);

	/* Absolute times. */
	s = spec(now_ns(CLOCK_MONOTONIC) + 30 * MS, 0);
	SYSOK("ABSTIME 30ms ahead", timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL));
	SYSOK("ABSTIME read", rd(fd, &v));
	EXPECT_EQ("ABSTIME one expiration", v, 1);
	s = spec(now_ns(CLOCK_MONOTONIC) - 1000 * MS, 100 * MS);
	SYSOK("ABSTIME 1s in the past, 100ms interval", timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL));
	SYSOK("past ABSTIME read", rd(fd, &v));
	CHECK("overruns counted (11)", v >= 11 && v <= 13);
	s = spec(now_ns(CLOCK_MONOTONIC) - 1000 * MS, 0);
	SYSOK("past ABSTIME one-shot", timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL));
	s = spec(1000 * MS, 0);
	SYSOK("re-arm before reading", timerfd_settime(fd, 0, &s, NULL));
	int nb = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, nb | O_NONBLOCK);
	EXPECT_ERRNO("re-arming discards the expiration", rd(fd, &v), EAGAIN);
	fcntl(fd, F_SETFL, nb);
	close(fd);

	fd = timerfd_create(CLOCK_REALTIME, 0);
	s = spec(now_ns(CLOCK_REALTIME) + 30 * MS, 0);
	SYSOK("REALTIME ABSTIME|CANCEL_ON_SET", timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL));
	SYSOK("REALTIME read", rd(fd, &v));
	EXPECT_EQ("REALTIME one expiration", v, 1);
	s = spec(30 * MS, 0);
	SYSOK("CANCEL_ON_SET on a relative timer", timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &s, NULL));
	SYSOK("relative read", rd(fd, &v));
	close(fd);

	/* Readiness through epoll. */
	fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	EXPECT_EQ("unarmed: not ready", epoll_wait(ep, &out, 1, 0), 0);
	s = spec(40 * MS, 0);
	timerfd_settime(fd, 0, &s, NULL);
	EXPECT_EQ("armed: not ready yet", epoll_wait(ep, &out, 1, 0), 0);
	int n = epoll_wait(ep, &out, 1, 5000);
	CHECK("epoll woken by expiry", n == 1 && out.events == EPOLLIN && out.data.u64 == 9);
	SYSOK("read after epoll", rd(fd, &v));
	EXPECT_EQ("after read: not ready", epoll_wait(ep, &out, 1, 0), 0);

	/* TFD_IOC_SET_TICKS. */
	v = 5;
	SYSOK("TFD_IOC_SET_TICKS 5", ioctl(fd, TFD_IOC_SET_TICKS, &v));
	EXPECT_EQ("ticks set: ready", epoll_wait(ep, &out, 1, 0), 1);
	SYSOK("read set ticks", rd(fd, &v));
	EXPECT_EQ("read 5", v, 5);
	v = 0;
	EXPECT_ERRNO("TFD_IOC_SET_TICKS 0 -> EINVAL", ioctl(fd, TFD_IOC_SET_TICKS, &v), EINVAL);
	EXPECT_ERRNO("TFD_IOC_SET_TICKS bad pointer -> EFAULT", ioctl(fd, TFD_IOC_SET_TICKS, (void *)1), EFAULT);
	EXPECT_ERRNO("other ioctl -> ENOTTY", ioctl(fd, _IOW('T', 1, uint64_t), &v), ENOTTY);
	close(ep);
	close(fd);

	/* A signal interrupts a blocking read; a forked child shares the timer. */
	fd = timerfd_create(CLOCK_MONOTONIC, 0);
	s = spec(10000 * MS, 0);
	timerfd_settime(fd, 0, &s, NULL);
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	ualarm(50000, 0);
	EXPECT_ERRNO("signal during read -> EINTR", rd(fd, &v), EINTR);
	s = spec(50 * MS, 0);
	timerfd_settime(fd, 0, &s, NULL);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		uint64_t x = 0;
		_exit(rd(fd, &x) == 0 && x == 1 ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK("child read the shared timer", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	EXPECT_ERRNO("the child consumed it", rd(fd, &v), EAGAIN);
	close(fd);
	return t_done();
}
