/*
 * sigmask: rt_sigprocmask(2) (no signal is ever delivered).
 * - SIG_BLOCK adds, SIG_UNBLOCK removes, SIG_SETMASK replaces; the old
 *   mask is returned in oldset
 * - SIGKILL and SIGSTOP cannot be blocked (silently dropped from the mask)
 * - a blocked pending signal shows in rt_sigpending: none pending here
 * - bad how -> EINVAL; sigsetsize != 8 -> EINVAL; wild set -> EFAULT
 */
#include "t.h"
#include <signal.h>

static unsigned long long get(void)
{
	unsigned long long m = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

#define BIT(s) (1ULL << ((s) - 1))

int main(void)
{
	unsigned long long set, old;
	EXPECT_EQ("initial mask empty", get(), 0);
	set = BIT(SIGUSR1) | BIT(SIGTERM);
	SYSOK("SIG_BLOCK usr1|term", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
	EXPECT_EQ("old mask was empty", old, 0);
	CHECK("mask has usr1|term", get() == (BIT(SIGUSR1) | BIT(SIGTERM)));
	set = BIT(SIGUSR2);
	SYSOK("SIG_BLOCK usr2", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
	CHECK("old mask returned", old == (BIT(SIGUSR1) | BIT(SIGTERM)));
	set = BIT(SIGUSR1);
	SYSOK("SIG_UNBLOCK usr1", syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8));
	CHECK("mask term|usr2", get() == (BIT(SIGTERM) | BIT(SIGUSR2)));
	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGHUP) | BIT(SIGRTMIN + 2);
	SYSOK("SIG_SETMASK with KILL/STOP", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8));
	CHECK("KILL/STOP dropped", get() == (BIT(SIGHUP) | BIT(SIGRTMIN + 2)));
	unsigned long long pend = 1;
	SYSOK("rt_sigpending", syscall(SYS_rt_sigpending, &pend, 8));
	EXPECT_EQ("nothing pending", pend, 0);
	EXPECT_ERRNO("bad how -> EINVAL", syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8), EINVAL);
	EXPECT_ERRNO("sigsetsize 4 -> EINVAL", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);
	EXPECT_ERRNO("sigsetsize 16 -> EINVAL", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL);
	EXPECT_ERRNO("wild set -> EFAULT", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8), EFAULT);
	EXPECT_ERRNO("wild oldset -> EFAULT", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)1, 8), EFAULT);
	CHECK("mask unchanged by failed calls", get() == (BIT(SIGHUP) | BIT(SIGRTMIN + 2)));
	sigset_t s;
	sigemptyset(&s);
	SYSOK("libc sigprocmask SETMASK empty", sigprocmask(SIG_SETMASK, &s, NULL));
	EXPECT_EQ("mask empty again", get(), 0);
	return t_done();
}
