/*
 * pidfd: pidfd_open(2), pidfd_send_signal(2), CLONE_PIDFD, waitid(P_PIDFD).
 * - a pidfd is close-on-exec and polls readable once the process exits
 * - pidfd_send_signal kills the child; waitid(P_PIDFD) reaps it
 * - errors: bad flags EINVAL, no such pid ESRCH, non-pidfd EBADF, bad fd
 *   EBADF, signal to an exited process ESRCH
 */
#define _GNU_SOURCE
#include "t.h"
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/sched.h>

static int pidfd_open(pid_t p, unsigned f) { return syscall(SYS_pidfd_open, p, f); }
static int pidfd_send(int fd, int sig) { return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

int main(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	int fd = pidfd_open(c, 0);
	MUST("pidfd_open", fd);
	CHECK("close-on-exec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	EXPECT_EQ("not readable while alive", poll(&pf, 1, 0), 0);
	SYSOK("pidfd_send_signal SIGKILL", pidfd_send(fd, SIGKILL));
	EXPECT_EQ("readable after exit", poll(&pf, 1, 5000), 1);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	SYSOK("waitid P_PIDFD", waitid(P_PIDFD, fd, &si, WEXITED));
	CHECK("reaped the child", si.si_pid == c && si.si_code == CLD_KILLED && si.si_status == SIGKILL);
	EXPECT_ERRNO("signal to exited -> ESRCH", pidfd_send(fd, SIGTERM), ESRCH);
	close(fd);
	EXPECT_ERRNO("bad flags -> EINVAL", pidfd_open(getpid(), 1), EINVAL);
	EXPECT_ERRNO("no such pid -> ESRCH", pidfd_open(99999, 0), ESRCH);
	EXPECT_ERRNO("pid 0 -> EINVAL", pidfd_open(0, 0), EINVAL);
	EXPECT_ERRNO("not a pidfd -> EBADF", pidfd_send(0, 0), EBADF);
	EXPECT_ERRNO("bad fd -> EBADF", pidfd_send(1000, 0), EBADF);

	int pfd = -1;
	struct clone_args ca = {.flags = CLONE_PIDFD, .pidfd = (unsigned long)&pfd, .exit_signal = SIGCHLD};
	long r = syscall(SYS_clone3, &ca, sizeof ca);
	if (r == 0)
		_exit(4);
	MUST("clone3 CLONE_PIDFD", r);
	CHECK("CLONE_PIDFD stored an fd", pfd > 2);
	memset(&si, 0, sizeof si);
	SYSOK("waitid on clone3 pidfd", waitid(P_PIDFD, pfd, &si, WEXITED));
	CHECK("clone3 child status", si.si_status == 4 && si.si_code == CLD_EXITED);
	return t_done();
}
