/*
 * ppoll_pselect: ppoll(2) and pselect6(2), the raw syscalls and glibc's
 * wrappers (do_ppoll(), do_pselect(), set_user_sigmask()).
 * - timespec timeouts: expire with 0, and the raw syscalls write back the
 *   time left (0 once expired, less than given after waking); a zero
 *   timeout is left alone; tv_nsec >= 1e9 or negative values -> EINVAL
 * - a bad timeout, sigmask or pselect6 argument pack -> EFAULT; a
 *   sigsetsize other than 8 -> EINVAL; a pack with a NULL mask changes
 *   nothing
 * - an alarm or interval timer interrupts them with EINTR
 * - the mask applies atomically for the wait: a pending signal it
 *   unblocks is delivered during the call (EINTR), its handler runs under
 *   the temporary mask, and the original mask is back afterwards; a
 *   signal it blocks waits until the call returns
 */
#include "t.h"
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>

static volatile sig_atomic_t usr1, alrm, usr2_blocked_in_handler;

static void on_usr1(int sig)
{
	sigset_t cur;
	(void)sig;
	usr1++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static long sys_ppoll(struct pollfd *f, unsigned n, struct timespec *ts, const sigset_t *m, size_t sz)
{
	return syscall(SYS_ppoll, f, n, ts, m, sz);
}

static long sys_pselect6(int n, fd_set *r, struct timespec *ts, const void *pack)
{
	return syscall(SYS_pselect6, n, r, NULL, NULL, ts, pack);
}

struct pack {
	const sigset_t *ss;
	size_t len;
};

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

int main(void)
{
	int p[2];
	struct timespec ts;
	sigset_t none, block_usr2, block_alrm;
	struct sigaction sa;

	sigemptyset(&none);
	sigemptyset(&block_usr2);
	sigaddset(&block_usr2, SIGUSR2);
	sigemptyset(&block_alrm);
	sigaddset(&block_alrm, SIGALRM);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	MUST("sigaction USR1", sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	MUST("sigaction ALRM", sigaction(SIGALRM, &sa, NULL));

	MUST("pipe", pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};
	fd_set r;

	/* Timeouts. */
	ts = (struct timespec){0, 100000000};
	EXPECT_EQ("ppoll timeout expires", sys_ppoll(&pf, 1, &ts, NULL, 8), 0);
	CHECK("ppoll expired: time left 0", ts.tv_sec == 0 && ts.tv_nsec == 0);
	ts = (struct timespec){0, 0};
	EXPECT_EQ("ppoll zero timeout", sys_ppoll(&pf, 1, &ts, NULL, 8), 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts = (struct timespec){0, 100000000};
	EXPECT_EQ("pselect6 timeout expires", sys_pselect6(p[0] + 1, &r, &ts, NULL), 0);
	CHECK("pselect6 expired: time left 0", ts.tv_sec == 0 && ts.tv_nsec == 0);
	MUST("write", write(p[1], "x", 1));
	ts = (struct timespec){5, 0};
	EXPECT_EQ("ppoll ready", sys_ppoll(&pf, 1, &ts, NULL, 8), 1);
	CHECK("ppoll: time left under 5 s", ts.tv_sec == 4 && ts.tv_nsec > 0);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts = (struct timespec){5, 0};
	EXPECT_EQ("pselect6 ready", sys_pselect6(p[0] + 1, &r, &ts, NULL), 1);
	CHECK("pselect6: time left under 5 s", ts.tv_sec == 4 && ts.tv_nsec > 0);
	struct timespec keep = {5, 0};
	EXPECT_EQ("glibc ppoll ready", ppoll(&pf, 1, &keep, NULL), 1);
	CHECK("glibc ppoll leaves the caller's timeout", keep.tv_sec == 5 && keep.tv_nsec == 0);
	char c;
	MUST("read", read(p[0], &c, 1));

	/* Argument errors. */
	ts = (struct timespec){0, 1000000000};
	EXPECT_ERRNO("ppoll tv_nsec 1e9 -> EINVAL", sys_ppoll(&pf, 1, &ts, NULL, 8), EINVAL);
	ts = (struct timespec){-1, 0};
	EXPECT_ERRNO("ppoll negative tv_sec -> EINVAL", sys_ppoll(&pf, 1, &ts, NULL, 8), EINVAL);
	ts = (struct timespec){0, -1};
	FD_ZERO(&r);
	EXPECT_ERRNO("pselect6 negative tv_nsec -> EINVAL", sys_pselect6(0, &r, &ts, NULL), EINVAL);
	EXPECT_ERRNO("ppoll bad timeout -> EFAULT", sys_ppoll(&pf, 1, (struct timespec *)8, NULL, 8), EFAULT);
	ts = (struct timespec){0, 0};
	EXPECT_ERRNO("ppoll sigsetsize 4 -> EINVAL", sys_ppoll(&pf, 1, &ts, &none, 4), EINVAL);
	EXPECT_ERRNO("ppoll bad sigmask -> EFAULT", sys_ppoll(&pf, 1, &ts, (sigset_t *)8, 8), EFAULT);
	struct pack pk = {&none, 4};
	EXPECT_ERRNO("pselect6 ss_len 4 -> EINVAL", sys_pselect6(0, NULL, &ts, &pk), EINVAL);
	pk = (struct pack){(sigset_t *)8, 8};
	EXPECT_ERRNO("pselect6 bad sigmask -> EFAULT", sys_pselect6(0, NULL, &ts, &pk), EFAULT);
	EXPECT_ERRNO("pselect6 bad argument pack -> EFAULT", sys_pselect6(0, NULL, &ts, (void *)8), EFAULT);
	pk = (struct pack){NULL, 0};
	MUST("block USR2", sigprocmask(SIG_BLOCK, &block_usr2, NULL));
	EXPECT_EQ("pselect6 pack with NULL mask", sys_pselect6(0, NULL, &ts, &pk), 0);
	CHECK("NULL mask changed nothing", blocked(SIGUSR2));
	MUST("unblock USR2", sigprocmask(SIG_UNBLOCK, &block_usr2, NULL));

	/* Timers interrupt them. */
	alarm(1);
	EXPECT_ERRNO("ppoll interrupted by alarm -> EINTR", ppoll(&pf, 1, NULL, NULL), EINTR);
	EXPECT_EQ("alarm handler", alrm, 1);
	struct itimerval it = {{0, 0}, {0, 200000}};
	MUST("setitimer", setitimer(ITIMER_REAL, &it, NULL));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts = (struct timespec){5, 0};
	EXPECT_ERRNO("pselect6 interrupted by setitimer -> EINTR", sys_pselect6(p[0] + 1, &r, &ts, NULL), EINTR);
	CHECK("interrupted: time left between 4 and 5 s", ts.tv_sec == 4);
	EXPECT_EQ("timer handler", alrm, 2);

	/* The mask is applied atomically: a pending USR1 it unblocks. */
	sigset_t block_usr1;
	sigemptyset(&block_usr1);
	sigaddset(&block_usr1, SIGUSR1);
	MUST("block USR1", sigprocmask(SIG_BLOCK, &block_usr1, NULL));
	raise(SIGUSR1);
	EXPECT_EQ("USR1 pending, not delivered", usr1, 0);
	EXPECT_ERRNO("ppoll with a mask unblocking it -> EINTR", ppoll(&pf, 1, NULL, &block_usr2), EINTR);
	EXPECT_EQ("delivered during ppoll", usr1, 1);
	CHECK("handler ran under the temporary mask", usr2_blocked_in_handler);
	CHECK("ppoll: original mask back", blocked(SIGUSR1) && !blocked(SIGUSR2));
	raise(SIGUSR1);
	pk = (struct pack){&block_usr2, 8};
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	EXPECT_ERRNO("pselect6 with a mask unblocking it -> EINTR", sys_pselect6(p[0] + 1, &r, NULL, &pk), EINTR);
	EXPECT_EQ("delivered during pselect6", usr1, 2);
	CHECK("pselect6: handler under the temporary mask", usr2_blocked_in_handler);
	CHECK("pselect6: original mask back", blocked(SIGUSR1) && !blocked(SIGUSR2));
	raise(SIGUSR1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	EXPECT_ERRNO("glibc pselect -> EINTR", pselect(p[0] + 1, &r, NULL, NULL, NULL, &none), EINTR);
	EXPECT_EQ("delivered during glibc pselect", usr1, 3);
	CHECK("glibc pselect: original mask back", blocked(SIGUSR1));
	MUST("unblock USR1", sigprocmask(SIG_UNBLOCK, &block_usr1, NULL));

	/* A signal the temporary mask blocks waits for the return. */
	alarm(1);
	ts = (struct timespec){1, 500000000};
	EXPECT_EQ("ALRM blocked during ppoll: times out", sys_ppoll(&pf, 1, &ts, &block_alrm, 8), 0);
	EXPECT_EQ("ALRM delivered once ppoll returned", alrm, 3);
	alarm(1);
	pk = (struct pack){&block_alrm, 8};
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts = (struct timespec){1, 500000000};
	EXPECT_EQ("ALRM blocked during pselect6: times out", sys_pselect6(p[0] + 1, &r, &ts, &pk), 0);
	EXPECT_EQ("ALRM delivered once pselect6 returned", alrm, 4);

	/* The classic use: block a signal, start the work that raises it,
	 * then wait with it unblocked, without a race. */
	sigset_t orig;
	MUST("block USR1", sigprocmask(SIG_BLOCK, &block_usr1, &orig));
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0)
		_exit(kill(getppid(), SIGUSR1) == 0 ? 0 : 1);
	int st;
	MUST("wait", waitpid(pid, &st, 0));
	EXPECT_ERRNO("pselect woken by another process's signal", pselect(0, NULL, NULL, NULL, NULL, &orig), EINTR);
	EXPECT_EQ("its handler ran", usr1, 4);
	MUST("restore", sigprocmask(SIG_SETMASK, &orig, NULL));
	return t_done();
}
