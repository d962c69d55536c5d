/*
 * signal_deliver: delivery to handlers and default actions.
 * - raise() runs an SA_SIGINFO handler with si_pid/si_code; FP state is
 *   preserved around the handler
 * - a SIGSEGV handler gets si_addr and can siglongjmp out
 * - a blocked signal stays pending (sigpending) and runs on unblock
 * - SA_RESETHAND resets to default; SA_NODEFER allows nesting
 * - real-time signals queue every instance, in order; standard ones merge;
 *   several deliverable signals get nested frames
 * - sigqueue passes si_value; sigwaitinfo/sigtimedwait take pending ones
 * - kill to a child: default SIGTERM kills it; SIGQUIT dumps core flag
 * - sigaltstack: a handler with SA_ONSTACK runs on the alternate stack
 */
#include "t.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static volatile int got, depth, maxdepth;
static sigjmp_buf jb;
static void *faddr;
static volatile int rt_order[8], nrt;

static void h(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	got = s * 100 + (si->si_pid == getpid()) * 10 + (si->si_code == SI_TKILL || si->si_code == SI_USER);
}
static void segv(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	faddr = si->si_addr;
	siglongjmp(jb, 1);
}
static void nest(int s)
{
	depth++;
	if (depth > maxdepth)
		maxdepth = depth;
	if (depth < 3)
		raise(s);
	depth--;
}
static void rt(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nrt < 8)
		rt_order[nrt++] = (s - SIGRTMIN) * 100 + si->si_value.sival_int;
}
static volatile uintptr_t alt_sp_seen;
static void onstack(int s)
{
	(void)s;
	alt_sp_seen = (uintptr_t)__builtin_frame_address(0);
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	volatile double d = 1.5;
	raise(SIGUSR1);
	EXPECT_EQ("SA_SIGINFO handler ran with sender info", got, SIGUSR1 * 100 + 11);
	CHECK("FP preserved", d * 2 == 3.0);

	sa.sa_sigaction = segv;
	sigaction(SIGSEGV, &sa, 0);
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)0x1234 = 1;
	CHECK("SIGSEGV si_addr", faddr == (void *)0x1234);

	sigset_t m, p;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, 0);
	got = 0;
	raise(SIGUSR1);
	sigpending(&p);
	CHECK("blocked signal pending, not run", sigismember(&p, SIGUSR1) && got == 0);
	sigprocmask(SIG_UNBLOCK, &m, 0);
	CHECK("runs on unblock", got != 0);

	struct sigaction r = {0};
	r.sa_handler = nest;
	r.sa_flags = SA_NODEFER;
	sigaction(SIGUSR2, &r, 0);
	raise(SIGUSR2);
	EXPECT_EQ("SA_NODEFER nests", maxdepth, 3);
	r.sa_flags = SA_RESETHAND;
	depth = maxdepth = 0;
	sigaction(SIGUSR2, &r, 0);
	raise(SIGUSR2);
	struct sigaction cur;
	sigaction(SIGUSR2, NULL, &cur);
	CHECK("SA_RESETHAND: default after one run, no nesting", cur.sa_handler == SIG_DFL && maxdepth == 1);

	/* RT signals queue; standard signals merge. */
	sa.sa_sigaction = rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, 0);
	sigaction(SIGRTMIN + 1, &sa, 0);
	sigset_t rm;
	sigemptyset(&rm);
	sigaddset(&rm, SIGRTMIN);
	sigaddset(&rm, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &rm, 0);
	for (int i = 1; i <= 3; i++)
		sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i});
	sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 7});
	sigprocmask(SIG_UNBLOCK, &rm, 0);
	/* All four are deliverable at unblock: the kernel pushes a frame for
	 * the lowest (SIGRTMIN) and then one for SIGRTMIN+1 on top, which
	 * runs first; its sigreturn lets the next instance in. */
	CHECK("RT queued in order, nested frames", nrt == 4 && rt_order[0] == 101 && rt_order[1] == 102 && rt_order[2] == 103 && rt_order[3] == 7);

	sigprocmask(SIG_BLOCK, &m, 0);
	raise(SIGUSR1);
	raise(SIGUSR1);
	siginfo_t si;
	EXPECT_EQ("sigwaitinfo takes it", sigwaitinfo(&m, &si), SIGUSR1);
	struct timespec ts = {0, 10000000};
	EXPECT_ERRNO("standard signal merged: nothing left", sigtimedwait(&m, &si, &ts), EAGAIN);
	sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
	EXPECT_EQ("sigtimedwait with value", sigtimedwait(&m, &si, &ts), SIGUSR1);
	CHECK("si_value and SI_QUEUE", si.si_value.sival_int == 42 && si.si_code == SI_QUEUE);
	sigprocmask(SIG_UNBLOCK, &m, 0);

	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
	SYSOK("sigaltstack", sigaltstack(&ss, NULL));
	struct sigaction os = {0};
	os.sa_handler = onstack;
	os.sa_flags = SA_ONSTACK;
	sigaction(SIGWINCH, &os, 0);
	raise(SIGWINCH);
	CHECK("handler ran on alternate stack", alt_sp_seen >= (uintptr_t)ss.ss_sp && alt_sp_seen < (uintptr_t)ss.ss_sp + 65536);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGTERM);
	int st;
	waitpid(c, &st, 0);
	CHECK("child killed by SIGTERM", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGQUIT);
	waitpid(c, &st, 0);
	CHECK("SIGQUIT kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT);
	return t_done();
}
