/*
 * sigaction: rt_sigaction(2) set/get round trip (no signal is delivered).
 * - a handler, sa_flags and sa_mask read back as set; the previous action
 *   is returned in oldact
 * - SIG_IGN and SIG_DFL round-trip
 * - SIGKILL/SIGSTOP cannot be changed -> EINVAL (but can be queried)
 * - signal 0 or 65 -> EINVAL; sigsetsize != 8 -> EINVAL
 */
#include "t.h"
#include <signal.h>

static void handler(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGHUP);
	SYSOK("query SIGUSR1 initial", sigaction(SIGUSR1, NULL, &old));
	CHECK("initial is SIG_DFL", old.sa_handler == SIG_DFL);
	SYSOK("set SIGUSR1 handler", sigaction(SIGUSR1, &sa, NULL));
	memset(&old, 0, sizeof old);
	SYSOK("get SIGUSR1", sigaction(SIGUSR1, NULL, &old));
	CHECK("handler round-trips", old.sa_handler == handler);
	CHECK("SA_RESTART kept", (old.sa_flags & SA_RESTART) != 0);
	CHECK("SA_NODEFER kept", (old.sa_flags & SA_NODEFER) != 0);
	CHECK("SA_SIGINFO not set", (old.sa_flags & SA_SIGINFO) == 0);
	CHECK("mask has USR2 and HUP", sigismember(&old.sa_mask, SIGUSR2) == 1 && sigismember(&old.sa_mask, SIGHUP) == 1);
	CHECK("mask lacks TERM", sigismember(&old.sa_mask, SIGTERM) == 0);
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	SYSOK("set SIG_IGN returning old", sigaction(SIGUSR1, &ign, &old));
	CHECK("old was our handler", old.sa_handler == handler);
	SYSOK("get", sigaction(SIGUSR1, NULL, &old));
	CHECK("now SIG_IGN", old.sa_handler == SIG_IGN);
	ign.sa_handler = SIG_DFL;
	SYSOK("restore SIG_DFL", sigaction(SIGUSR1, &ign, NULL));
	SYSOK("get", sigaction(SIGUSR1, NULL, &old));
	CHECK("now SIG_DFL", old.sa_handler == SIG_DFL);
	EXPECT_ERRNO("change SIGKILL -> EINVAL", sigaction(SIGKILL, &sa, NULL), EINVAL);
	EXPECT_ERRNO("change SIGSTOP -> EINVAL", sigaction(SIGSTOP, &ign, NULL), EINVAL);
	SYSOK("query SIGKILL", sigaction(SIGKILL, NULL, &old));
	EXPECT_ERRNO("signal 0 -> EINVAL", syscall(SYS_rt_sigaction, 0, NULL, &old, 8), EINVAL);
	EXPECT_ERRNO("signal 65 -> EINVAL", syscall(SYS_rt_sigaction, 65, NULL, &old, 8), EINVAL);
	EXPECT_ERRNO("sigsetsize 4 -> EINVAL", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL);
	EXPECT_ERRNO("wild act -> EFAULT", syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8), EFAULT);
	SYSOK("realtime signal 64 settable", sigaction(64, &ign, NULL));
	return t_done();
}
