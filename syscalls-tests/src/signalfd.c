/*
 * signalfd: signalfd(2), signalfd4(2).
 * - errors in Linux's order: sizemask != 8 EINVAL, bad mask EFAULT,
 *   unknown flags EINVAL, updating a bad fd EBADF or a non-signalfd EINVAL
 * - SFD_NONBLOCK, SFD_CLOEXEC; the file is O_RDWR
 * - reading dequeues pending signals in the mask (struct
 *   signalfd_siginfo, 128 bytes: signo, code SI_USER / SI_TKILL, sender
 *   pid and uid), several per read, lowest first; signals outside the
 *   mask stay pending; short buffers EINVAL; EAGAIN when non-blocking
 * - updating the mask of an existing signalfd
 * - readiness through epoll; a blocking read woken by another process's
 *   kill; EINTR by an unblocked signal outside the mask
 * - after fork, a read takes the reader's own signals
 */
#include "t.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static int pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

static int ready(int fd)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	int n = epoll_wait(ep, &out, 1, 0);
	close(ep);
	return n == 1 && out.events == EPOLLIN;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	struct signalfd_siginfo si[3];
	sigset_t both = set_of(SIGUSR1, SIGUSR2), usr1 = set_of(SIGUSR1, 0), usr2 = set_of(SIGUSR2, 0);
	sigprocmask(SIG_BLOCK, &both, NULL);

	EXPECT_ERRNO("sizemask 4 -> EINVAL", syscall(SYS_signalfd4, -1, &usr1, 4, 0), EINVAL);
	EXPECT_ERRNO("sizemask before EFAULT", syscall(SYS_signalfd4, -1, (void *)1, 4, 0), EINVAL);
	EXPECT_ERRNO("bad mask -> EFAULT", syscall(SYS_signalfd4, -1, (void *)1, 8, 0), EFAULT);
	EXPECT_ERRNO("EFAULT before flags", syscall(SYS_signalfd4, -1, (void *)1, 8, 0x10), EFAULT);
	EXPECT_ERRNO("unknown flag -> EINVAL", syscall(SYS_signalfd4, -1, &usr1, 8, 1), EINVAL);
	EXPECT_ERRNO("update a bad fd -> EBADF", signalfd(99, &usr1, 0), EBADF);
	EXPECT_ERRNO("fd -2 -> EBADF", signalfd(-2, &usr1, 0), EBADF);
	int efd = eventfd(0, 0);
	EXPECT_ERRNO("update a non-signalfd -> EINVAL", signalfd(efd, &usr1, 0), EINVAL);
	close(efd);

	int fd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC);
	MUST("signalfd", fd);
	EXPECT_EQ("SFD_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ("F_GETFL is O_RDWR|O_NONBLOCK", fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	struct stat st;
	SYSOK("fstat", fstat(fd, &st));
	EXPECT_EQ("mode 0600", st.st_mode, 0600);
	char path[64], link[64] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	SYSOK("readlink /proc/self/fd", readlink(path, link, sizeof link - 1));
	CHECK("named anon_inode:[signalfd]", strcmp(link, "anon_inode:[signalfd]") == 0);

	EXPECT_ERRNO("nothing pending -> EAGAIN", read(fd, si, sizeof si[0]), EAGAIN);
	EXPECT_ERRNO("127-byte read -> EINVAL", read(fd, si, 127), EINVAL);
	CHECK("not ready", !ready(fd));

	SYSOK("kill self SIGUSR1", kill(getpid(), SIGUSR1));
	CHECK("pending", pending(SIGUSR1));
	CHECK("ready", ready(fd));
	memset(si, 0xff, sizeof si);
	EXPECT_EQ("read one record", read(fd, si, sizeof si[0]), 128);
	EXPECT_EQ("ssi_signo SIGUSR1", si[0].ssi_signo, SIGUSR1);
	EXPECT_EQ("ssi_code SI_USER", si[0].ssi_code, SI_USER);
	CHECK("ssi_pid is the sender", si[0].ssi_pid == (uint32_t)getpid());
	CHECK("ssi_uid is the sender's", si[0].ssi_uid == getuid());
	CHECK("other fields zero", si[0].ssi_errno == 0 && si[0].ssi_status == 0 && si[0].ssi_addr == 0 &&
	      si[0].ssi_fd == 0 && si[0].ssi_ptr == 0);
	CHECK("dequeued: no longer pending", !pending(SIGUSR1));
	CHECK("not ready after the read", !ready(fd));

	SYSOK("raise SIGUSR1 (tgkill)", raise(SIGUSR1));
	EXPECT_EQ("read tgkill record", read(fd, si, sizeof si), 128);
	EXPECT_EQ("ssi_code SI_TKILL", si[0].ssi_code, SI_TKILL);
	CHECK("tgkill ssi_pid", si[0].ssi_pid == (uint32_t)getpid());

	/* Signals outside the mask stay pending; the mask can be changed. */
	raise(SIGUSR2);
	EXPECT_ERRNO("SIGUSR2 not in the mask -> EAGAIN", read(fd, si, sizeof si), EAGAIN);
	CHECK("SIGUSR2 still pending", pending(SIGUSR2));
	EXPECT_EQ("update the mask returns the fd", signalfd(fd, &usr2, 0), fd);
	EXPECT_EQ("F_GETFL unchanged by the update", fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	raise(SIGUSR1);
	EXPECT_EQ("read after the update", read(fd, si, sizeof si), 128);
	EXPECT_EQ("got SIGUSR2", si[0].ssi_signo, SIGUSR2);
	CHECK("SIGUSR1 left pending", pending(SIGUSR1));
	EXPECT_EQ("mask both", signalfd(fd, &both, 0), fd);
	raise(SIGUSR2);
	memset(si, 0, sizeof si);
	EXPECT_EQ("two records in one read", read(fd, si, sizeof si), 256);
	CHECK("lowest signal first", si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2);
	CHECK("nothing left pending", !pending(SIGUSR1) && !pending(SIGUSR2));
	close(fd);

	/* Blocking read woken by another process. */
	fd = signalfd(-1, &usr1, 0);
	MUST("blocking signalfd", fd);
	pid_t parent = getpid();
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	EXPECT_EQ("blocking read", read(fd, si, sizeof si), 128);
	CHECK("woken by the child's kill", si[0].ssi_signo == SIGUSR1 && si[0].ssi_pid == (uint32_t)pid);
	int status;
	waitpid(pid, &status, 0);

	/* epoll wakeup. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	int n = epoll_wait(ep, &out, 1, 5000);
	CHECK("epoll woken by a signal", n == 1 && out.data.u64 == 3);
	EXPECT_EQ("read it", read(fd, si, sizeof si), 128);
	waitpid(pid, &status, 0);
	close(ep);

	/* An unblocked signal outside the mask interrupts a blocking read. */
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	ualarm(50000, 0);
	EXPECT_ERRNO("SIGALRM during read -> EINTR", read(fd, si, sizeof si), EINTR);

	/* After fork, the child reads its own pending signals. */
	raise(SIGUSR1);
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		struct signalfd_siginfo c;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (read(fd, &c, sizeof c) != -1 || errno != EAGAIN)
			_exit(1); /* the parent's pending signal is not the child's */
		raise(SIGUSR1);
		if (read(fd, &c, sizeof c) != 128 || c.ssi_signo != SIGUSR1)
			_exit(2);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK("child reads its own signals only", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	EXPECT_EQ("parent's signal still there", read(fd, si, sizeof si), 128);
	close(fd);
	sigprocmask(SIG_UNBLOCK, &both, NULL);
	return t_done();
}
