/*
 * epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
 * epoll_pwait2, on eventfds.
 * - creation flags and sizes; EPOLL_CLOEXEC
 * - epoll_ctl errors in Linux's order: EFAULT event, EBADF, EPERM for files
 *   that cannot be polled, EINVAL (self, not an epoll, bad op,
 *   EPOLLEXCLUSIVE misuse), ELOOP (cycles, chains deeper than 5), EEXIST,
 *   ENOENT
 * - epoll_wait errors: EBADF, EINVAL maxevents, EFAULT events
 * - level-triggered (reported until consumed, round-robin with
 *   maxevents 1), EPOLLET (once per wakeup), EPOLLONESHOT (until
 *   EPOLL_CTL_MOD re-arms), data round trip, EPOLLERR|EPOLLHUP implied
 * - entries belong to the open file description: they survive dup+close
 *   and go when the last descriptor is closed
 * - nested epoll, EPOLLEXCLUSIVE (one of two sleepers woken), EPOLLRDHUP
 *   accepted
 * - timeouts, wakeup by a child, EINTR even with SA_RESTART, epoll_pwait's
 *   temporary mask (the handler runs under it, the old mask comes back)
 */
#include "t.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void wr(int fd, uint64_t v)
{
	if (write(fd, &v, 8) != 8) {
		t_fail("setup eventfd write: errno=%s", t_errname(errno));
		exit(2);
	}
}

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, 8) != 8)
		return 0;
	return v;
}

static long ms_since(struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static volatile sig_atomic_t handled;
static volatile sig_atomic_t usr2_blocked_in_handler;

static void on_sig(int sig)
{
	sigset_t cur;
	(void)sig;
	handled++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

static void creation(void)
{
	EXPECT_ERRNO("epoll_create(0) -> EINVAL", epoll_create(0), EINVAL);
	EXPECT_ERRNO("epoll_create(-1) -> EINVAL", epoll_create(-1), EINVAL);
	int ep = epoll_create(1);
	SYSOK("epoll_create(1)", ep);
	EXPECT_EQ("epoll_create: no FD_CLOEXEC", fcntl(ep, F_GETFD), 0);
	EXPECT_EQ("epoll fd is O_RDWR", fcntl(ep, F_GETFL), O_RDWR);
	close(ep);
	EXPECT_ERRNO("epoll_create1(1) -> EINVAL", epoll_create1(1), EINVAL);
	EXPECT_ERRNO("epoll_create1(O_NONBLOCK) -> EINVAL", epoll_create1(O_NONBLOCK), EINVAL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	SYSOK("epoll_create1(EPOLL_CLOEXEC)", ep);
	EXPECT_EQ("EPOLL_CLOEXEC sets FD_CLOEXEC", fcntl(ep, F_GETFD), FD_CLOEXEC);
	struct stat st;
	SYSOK("fstat epoll", fstat(ep, &st));
	EXPECT_EQ("epoll mode 0600", st.st_mode, 0600);
	char path[64], link[64] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
	SYSOK("readlink /proc/self/fd", readlink(path, link, sizeof link - 1));
	CHECK("named anon_inode:[eventpoll]", strcmp(link, "anon_inode:[eventpoll]") == 0);
	uint64_t v;
	EXPECT_ERRNO("read epoll -> EINVAL", read(ep, &v, 8), EINVAL);
	close(ep);
}

static void ctl_errors(void)
{
	int ep = epoll_create1(0), ep2 = epoll_create1(0);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN};
	t_writefile("reg", "x");
	int reg = open("reg", O_RDONLY);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	MUST("open reg", reg);
	MUST("open dir", dir);

	EXPECT_ERRNO("bad event pointer -> EFAULT", epoll_ctl(ep, EPOLL_CTL_ADD, efd, (void *)1), EFAULT);
	EXPECT_ERRNO("EFAULT before EBADF", epoll_ctl(-1, EPOLL_CTL_ADD, efd, (void *)1), EFAULT);
	EXPECT_ERRNO("bad epfd -> EBADF", epoll_ctl(-1, EPOLL_CTL_ADD, efd, &ev), EBADF);
	EXPECT_ERRNO("bad fd -> EBADF", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
	EXPECT_ERRNO("regular file -> EPERM", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
	EXPECT_ERRNO("directory -> EPERM", epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev), EPERM);
	EXPECT_ERRNO("EPERM before not-an-epoll", epoll_ctl(efd, EPOLL_CTL_ADD, reg, &ev), EPERM);
	EXPECT_ERRNO("epfd not an epoll -> EINVAL", epoll_ctl(efd, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	EXPECT_ERRNO("epfd == fd -> EINVAL", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	EXPECT_ERRNO("bad op -> EINVAL", epoll_ctl(ep, 99, efd, &ev), EINVAL);
	EXPECT_ERRNO("MOD missing -> ENOENT", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev), ENOENT);
	EXPECT_ERRNO("DEL missing -> ENOENT", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);
	SYSOK("ADD", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	EXPECT_ERRNO("ADD twice -> EEXIST", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), EEXIST);
	SYSOK("MOD", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev));
	SYSOK("DEL with a NULL event", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));
	EXPECT_ERRNO("DEL again -> ENOENT", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);

	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	EXPECT_ERRNO("MOD with EPOLLEXCLUSIVE -> EINVAL", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	EXPECT_ERRNO("EPOLLEXCLUSIVE|EPOLLONESHOT -> EINVAL", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP;
	EXPECT_ERRNO("EPOLLEXCLUSIVE|EPOLLRDHUP -> EINVAL", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	EXPECT_ERRNO("EPOLLEXCLUSIVE on an epoll -> EINVAL", epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev), EINVAL);
	SYSOK("ADD EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ev.events = EPOLLIN;
	EXPECT_ERRNO("MOD an exclusive entry -> EINVAL", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev), EINVAL);
	SYSOK("DEL an exclusive entry", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));

	/* Nesting: a cycle, then the depth limit. */
	SYSOK("ep2 watches ep", add(ep2, ep, EPOLLIN, 0));
	EXPECT_ERRNO("ep watches ep2: cycle -> ELOOP", add(ep, ep2, EPOLLIN, 0), ELOOP);
	close(ep2);
	int chain[7];
	for (int i = 0; i < 7; i++)
		chain[i] = epoll_create1(0);
	int linked = 0, err = 0;
	for (int i = 0; i < 6; i++) {
		if (add(chain[i + 1], chain[i], EPOLLIN, 0) != 0) {
			err = errno;
			break;
		}
		linked++;
	}
	EXPECT_EQ("chain: 4 links allowed", linked, 4);
	EXPECT_EQ("chain: the 5th -> ELOOP", err, ELOOP);
	EXPECT_ERRNO("chain: top cannot join from above either", add(chain[6], chain[4], EPOLLIN, 0), ELOOP);
	SYSOK("chain: a short branch is fine", add(chain[6], chain[2], EPOLLIN, 0));
	for (int i = 0; i < 7; i++)
		close(chain[i]);
	close(ep);
	close(efd);
	close(reg);
	close(dir);
}

static void wait_errors(void)
{
	int ep = epoll_create1(0), efd = eventfd(1, 0);
	struct epoll_event out[2];
	EXPECT_ERRNO("wait bad epfd -> EBADF", epoll_wait(-1, out, 2, 0), EBADF);
	EXPECT_ERRNO("EBADF before maxevents", epoll_wait(-1, out, 0, 0), EBADF);
	EXPECT_ERRNO("maxevents 0 -> EINVAL", epoll_wait(ep, out, 0, 0), EINVAL);
	EXPECT_ERRNO("maxevents -1 -> EINVAL", syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL);
	EXPECT_ERRNO("maxevents too large -> EINVAL", syscall(SYS_epoll_wait, ep, out, 0x7fffffff / 12 + 1, 0), EINVAL);
	EXPECT_ERRNO("wait on non-epoll -> EINVAL", epoll_wait(efd, out, 2, 0), EINVAL);
	EXPECT_ERRNO("kernel events pointer -> EFAULT",
		     epoll_wait(ep, (void *)0xffffffffff600000UL, 1, 0), EFAULT);
	EXPECT_EQ("unmapped events, nothing ready -> 0", syscall(SYS_epoll_wait, ep, NULL, 1, 0), 0);
	add(ep, efd, EPOLLIN, 7);
	EXPECT_ERRNO("unmapped events, one ready -> EFAULT", syscall(SYS_epoll_wait, ep, NULL, 1, 0), EFAULT);
	EXPECT_EQ("the event is still there", epoll_wait(ep, out, 2, 0), 1);
	uint64_t mask = 0;
	EXPECT_ERRNO("pwait sigsetsize 4 -> EINVAL", syscall(SYS_epoll_pwait, ep, out, 2, 0, &mask, 4), EINVAL);
	EXPECT_ERRNO("pwait bad sigmask -> EFAULT", syscall(SYS_epoll_pwait, ep, out, 2, 0, (void *)1, 8), EFAULT);
	struct timespec bad = {0, 1000000000};
	EXPECT_ERRNO("pwait2 nsec 1e9 -> EINVAL", syscall(SYS_epoll_pwait2, ep, out, 2, &bad, NULL, 8), EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	EXPECT_ERRNO("pwait2 negative -> EINVAL", syscall(SYS_epoll_pwait2, ep, out, 2, &bad, NULL, 8), EINVAL);
	EXPECT_ERRNO("pwait2 bad timeout -> EFAULT", syscall(SYS_epoll_pwait2, ep, out, 2, (void *)1, NULL, 8), EFAULT);
	close(ep);
	close(efd);
}

static void triggering(void)
{
	int ep = epoll_create1(0), a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
	struct epoll_event out[4];

	/* Level-triggered: reported until consumed. */
	SYSOK("add a (level)", add(ep, a, EPOLLIN, 0x1122334455667788ULL));
	EXPECT_EQ("nothing ready", epoll_wait(ep, out, 4, 0), 0);
	wr(a, 1);
	int n = epoll_wait(ep, out, 4, 0);
	EXPECT_EQ("level: one event", n, 1);
	EXPECT_EQ("level: EPOLLIN", out[0].events, EPOLLIN);
	CHECK("data round trip", out[0].data.u64 == 0x1122334455667788ULL);
	EXPECT_EQ("level: reported again", epoll_wait(ep, out, 4, 0), 1);
	rd(a);
	EXPECT_EQ("level: gone once read", epoll_wait(ep, out, 4, 0), 0);
	SYSOK("MOD to EPOLLIN|EPOLLOUT", mod(ep, a, EPOLLIN | EPOLLOUT, 5));
	n = epoll_wait(ep, out, 4, 0);
	CHECK("EPOLLOUT with new data", n == 1 && out[0].events == EPOLLOUT && out[0].data.u64 == 5);
	SYSOK("MOD to EPOLLIN|EPOLLRDHUP", mod(ep, a, EPOLLIN | EPOLLRDHUP, 6));
	wr(a, 1);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("EPOLLRDHUP accepted, not reported", n == 1 && out[0].events == EPOLLIN);
	rd(a);

	/* Two ready entries: FIFO order, round-robin with maxevents 1. */
	SYSOK("add b (level)", add(ep, b, EPOLLIN, 2));
	SYSOK("MOD a", mod(ep, a, EPOLLIN, 1));
	EXPECT_EQ("stale entries dropped", epoll_wait(ep, out, 4, 0), 0);
	wr(b, 1);
	wr(a, 1);
	n = epoll_wait(ep, out, 4, 0);
	CHECK("both ready, in order b, a", n == 2 && out[0].data.u64 == 2 && out[1].data.u64 == 1);
	char seq[8] = {0};
	for (int i = 0; i < 4; i++) {
		if (epoll_wait(ep, out, 1, 0) != 1)
			break;
		seq[i] = '0' + (char)out[0].data.u64;
	}
	CHECK("maxevents 1 alternates b a b a", strcmp(seq, "2121") == 0);
	rd(a);
	rd(b);
	epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL);

	/* Edge-triggered: once per wakeup. */
	SYSOK("MOD a to EPOLLET", mod(ep, a, EPOLLIN | EPOLLET, 3));
	wr(a, 1);
	EXPECT_EQ("edge: one event", epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ("edge: not again", epoll_wait(ep, out, 4, 0), 0);
	wr(a, 1);
	EXPECT_EQ("edge: a new write reports again", epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ("edge: counter still 2", rd(a), 2);
	EXPECT_EQ("edge: MOD when ready reports", (mod(ep, a, EPOLLOUT | EPOLLET, 3), epoll_wait(ep, out, 4, 0)), 1);
	EXPECT_EQ("edge: then not again", epoll_wait(ep, out, 4, 0), 0);

	/* One-shot: disabled after one event until MOD. */
	SYSOK("MOD a to EPOLLONESHOT", mod(ep, a, EPOLLIN | EPOLLONESHOT, 4));
	wr(a, 1);
	EXPECT_EQ("oneshot: one event", epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ("oneshot: disabled", epoll_wait(ep, out, 4, 0), 0);
	wr(a, 1);
	EXPECT_EQ("oneshot: stays disabled after a write", epoll_wait(ep, out, 4, 0), 0);
	EXPECT_ERRNO("oneshot: ADD again -> EEXIST", add(ep, a, EPOLLIN, 4), EEXIST);
	SYSOK("oneshot: MOD re-arms", mod(ep, a, EPOLLIN | EPOLLONESHOT, 4));
	EXPECT_EQ("oneshot: reported after re-arm", epoll_wait(ep, out, 4, 0), 1);
	rd(a);

	/* EPOLLERR|EPOLLHUP are always requested: an entry with no events. */
	SYSOK("MOD a to no events", mod(ep, a, 0, 8));
	wr(a, 1);
	EXPECT_EQ("no events requested: nothing", epoll_wait(ep, out, 4, 0), 0);
	close(ep);
	close(a);
	close(b);
}

static void lifetime(void)
{
	int ep = epoll_create1(0), a = eventfd(1, 0);
	struct epoll_event out[4];
	add(ep, a, EPOLLIN, 11);
	int d = dup(a);
	close(a);
	int n = epoll_wait(ep, out, 4, 0);
	CHECK("entry survives dup+close", n == 1 && out[0].data.u64 == 11);
	EXPECT_ERRNO("DEL by the closed number -> EBADF", epoll_ctl(ep, EPOLL_CTL_DEL, a, NULL), EBADF);
	EXPECT_ERRNO("DEL by the dup's number -> ENOENT", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), ENOENT);
	SYSOK("the dup's number can be added too", add(ep, d, EPOLLIN, 12));
	n = epoll_wait(ep, out, 4, 0);
	EXPECT_EQ("two entries for one file", n, 2);
	close(d);
	EXPECT_EQ("last close removes both", epoll_wait(ep, out, 4, 0), 0);
	int b = eventfd(1, 0);
	CHECK("a new file may reuse the number", b == a);
	SYSOK("ADD the new file under the old number", add(ep, b, EPOLLIN, 13));
	n = epoll_wait(ep, out, 4, 0);
	CHECK("only the new entry", n == 1 && out[0].data.u64 == 13);

	/* A forked child holds the description: the entry stays. */
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(100000);
		_exit(0);
	}
	close(b);
	n = epoll_wait(ep, out, 4, 0);
	EXPECT_EQ("child's copy keeps the entry", n, 1);
	int st;
	waitpid(pid, &st, 0);
	EXPECT_EQ("gone when the child exits", epoll_wait(ep, out, 4, 0), 0);
	close(ep);
}

static void nested(void)
{
	int inner = epoll_create1(0), outer = epoll_create1(0), a = eventfd(0, EFD_NONBLOCK);
	struct epoll_event out[4];
	add(inner, a, EPOLLIN, 1);
	SYSOK("outer watches inner", add(outer, inner, EPOLLIN, 2));
	EXPECT_EQ("outer: nothing yet", epoll_wait(outer, out, 4, 0), 0);
	wr(a, 1);
	int n = epoll_wait(outer, out, 4, 0);
	CHECK("outer reports inner readable", n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 2);
	n = epoll_wait(inner, out, 4, 0);
	CHECK("inner reports the eventfd", n == 1 && out[0].data.u64 == 1);
	rd(a);
	EXPECT_EQ("outer: drained", epoll_wait(outer, out, 4, 0), 0);

	/* Blocking on the outer instance, woken through the inner. */
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		wr(a, 1);
		_exit(0);
	}
	n = epoll_wait(outer, out, 4, 5000);
	CHECK("blocked outer woken via inner", n == 1 && out[0].data.u64 == 2);
	int st;
	waitpid(pid, &st, 0);
	close(inner);
	EXPECT_EQ("closing inner removes it from outer", epoll_wait(outer, out, 4, 0), 0);
	close(outer);
	close(a);
}

static void blocking(void)
{
	int ep = epoll_create1(0), a = eventfd(0, 0);
	struct epoll_event out[4];
	struct timespec t0;
	add(ep, a, EPOLLIN, 1);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ("timeout 50ms -> 0", epoll_wait(ep, out, 4, 50), 0);
	CHECK("waited at least 40ms", ms_since(&t0) >= 40);
	struct timespec ts = {0, 30000000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ("pwait2 30ms -> 0", syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8), 0);
	CHECK("pwait2 waited at least 20ms", ms_since(&t0) >= 20);

	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		wr(a, 1);
		_exit(0);
	}
	int n = epoll_wait(ep, out, 4, -1);
	CHECK("infinite wait woken by a child", n == 1 && out[0].events == EPOLLIN);
	int st;
	waitpid(pid, &st, 0);
	n = syscall(SYS_epoll_pwait2, ep, out, 4, NULL, NULL, 8);
	EXPECT_EQ("pwait2 NULL timeout with an event", n, 1);
	rd(a);

	/* Signals: EINTR, even with SA_RESTART. */
	struct sigaction sa = {0};
	sa.sa_handler = on_sig;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	handled = 0;
	ualarm(50000, 0);
	EXPECT_ERRNO("signal -> EINTR despite SA_RESTART", epoll_wait(ep, out, 4, -1), EINTR);
	EXPECT_EQ("handler ran", handled, 1);

	/* epoll_pwait: a pending blocked signal, unblocked by the mask. */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t block, tmp, cur;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	handled = 0;
	sigemptyset(&tmp);
	sigaddset(&tmp, SIGUSR1);
	EXPECT_EQ("pwait mask still blocking: no EINTR", epoll_pwait(ep, out, 4, 0, &tmp), 0);
	EXPECT_EQ("no handler yet", handled, 0);
	sigemptyset(&tmp);
	EXPECT_ERRNO("pwait unblocking a pending signal -> EINTR", epoll_pwait(ep, out, 4, -1, &tmp), EINTR);
	EXPECT_EQ("handler ran during pwait", handled, 1);
	EXPECT_EQ("handler ran under the temporary mask", usr2_blocked_in_handler, 0);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK("old mask restored", sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));
	wr(a, 1);
	EXPECT_EQ("pwait with an event", epoll_pwait(ep, out, 4, 0, &tmp), 1);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK("mask restored after success", sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	close(ep);
	close(a);
}

/* Two processes sleep on their own instances, both with EPOLLEXCLUSIVE
 * entries on one eventfd: a write wakes one of them. */
static void exclusive(void)
{
	int a = eventfd(0, EFD_NONBLOCK);
	int e1 = epoll_create1(0), e2 = epoll_create1(0);
	struct epoll_event out[2];
	SYSOK("exclusive entry 1", add(e1, a, EPOLLIN | EPOLLEXCLUSIVE, 1));
	SYSOK("exclusive entry 2", add(e2, a, EPOLLIN | EPOLLEXCLUSIVE, 2));
	wr(a, 1);
	CHECK("no sleepers: both instances see it",
	      epoll_wait(e1, out, 2, 0) == 1 && epoll_wait(e2, out, 2, 0) == 1);
	rd(a);
	EXPECT_EQ("consumed", epoll_wait(e1, out, 2, 0) + epoll_wait(e2, out, 2, 0), 0);
	int res[2];
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		MUST("fork", pids[i]);
		if (pids[i] == 0) {
			int n = epoll_wait(i == 0 ? e1 : e2, out, 2, 1500);
			_exit(n);
		}
	}
	usleep(500000);
	wr(a, 1);
	for (int i = 0; i < 2; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		res[i] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	EXPECT_EQ("exactly one sleeper woken", res[0] + res[1], 1);
	close(e1);
	close(e2);
	close(a);
}

int main(void)
{
	t_tmpdir("epoll");
	creation();
	ctl_errors();
	wait_errors();
	triggering();
	lifetime();
	nested();
	blocking();
	exclusive();
	return t_done();
}
