/*
 * eventfd: eventfd(2) and eventfd2(2) counter semantics.
 * - flags: EFD_CLOEXEC (FD_CLOEXEC), EFD_NONBLOCK (O_NONBLOCK), unknown
 *   flags EINVAL; the file is O_RDWR
 * - read takes the counter (EFD_SEMAPHORE: 1), EAGAIN at 0 when
 *   non-blocking; write adds; 8-byte buffers (shorter: EINVAL, longer: 8)
 * - writing ULLONG_MAX: EINVAL; the counter holds ULLONG_MAX - 1, and a
 *   write past it blocks (EAGAIN when non-blocking)
 * - blocking read woken by a write, blocking write woken by a read, a
 *   signal interrupting a blocking read (EINTR without SA_RESTART,
 *   restarted with it)
 * - readiness through epoll: EPOLLIN while non-zero, EPOLLOUT while a
 *   write of 1 fits
 * - the anonymous inode: fstat mode 0600, shared inode, /proc name
 *   anon_inode:[eventfd];
 *   lseek 0, pread ESPIPE, fchmod EOPNOTSUPP
 */
#include "t.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

static int rd(int fd, uint64_t *v)
{
	return read(fd, v, 8) == 8 ? 0 : -1;
}

static int wr(int fd, uint64_t v)
{
	return write(fd, &v, 8) == 8 ? 0 : -1;
}

static uint32_t ready(int fd)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	struct epoll_event out = {0};
	int n = epoll_wait(ep, &out, 1, 0);
	close(ep);
	return n == 1 ? out.events : 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	uint64_t v = 0;
	int fd;

	EXPECT_ERRNO("unknown flag -> EINVAL", eventfd(0, 0x10), EINVAL);
	EXPECT_ERRNO("O_RDWR as flag -> EINVAL", eventfd(0, O_RDWR), EINVAL);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	MUST("eventfd", fd);
	CHECK("EFD_CLOEXEC sets FD_CLOEXEC", fcntl(fd, F_GETFD) == FD_CLOEXEC);
	EXPECT_EQ("F_GETFL is O_RDWR|O_NONBLOCK", fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	EXPECT_ERRNO("read at 0 non-blocking -> EAGAIN", rd(fd, &v), EAGAIN);
	uint32_t small = 1;
	EXPECT_ERRNO("4-byte read -> EINVAL", read(fd, &small, 4), EINVAL);
	EXPECT_ERRNO("4-byte write -> EINVAL", write(fd, &small, 4), EINVAL);
	SYSOK("write 3", wr(fd, 3));
	SYSOK("write 4", wr(fd, 4));
	uint64_t big[2] = {0, 0};
	EXPECT_EQ("16-byte read returns 8", read(fd, big, 16), 8);
	EXPECT_EQ("read sums the writes", big[0], 7);
	EXPECT_ERRNO("counter reset to 0", rd(fd, &v), EAGAIN);
	EXPECT_ERRNO("write ULLONG_MAX -> EINVAL", wr(fd, ~0ULL), EINVAL);
	SYSOK("write ULLONG_MAX-1", wr(fd, ~0ULL - 1));
	EXPECT_ERRNO("write past the maximum -> EAGAIN", wr(fd, 1), EAGAIN);
	SYSOK("write 0 at the maximum", wr(fd, 0));
	EXPECT_EQ("full counter: EPOLLIN only", ready(fd), EPOLLIN);
	SYSOK("read the maximum", rd(fd, &v));
	CHECK("read ULLONG_MAX-1", v == ~0ULL - 1);
	EXPECT_EQ("empty counter: EPOLLOUT only", ready(fd), EPOLLOUT);
	SYSOK("write 1", wr(fd, 1));
	EXPECT_EQ("counter 1: EPOLLIN|EPOLLOUT", ready(fd), EPOLLIN | EPOLLOUT);
	close(fd);

	fd = syscall(SYS_eventfd, 5);
	MUST("eventfd(2) syscall", fd);
	EXPECT_EQ("eventfd(2): flags O_RDWR", fcntl(fd, F_GETFL), O_RDWR);
	EXPECT_EQ("eventfd(2): no FD_CLOEXEC", fcntl(fd, F_GETFD), 0);
	SYSOK("read initval", rd(fd, &v));
	EXPECT_EQ("initval 5", v, 5);
	close(fd);

	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	MUST("semaphore eventfd", fd);
	int ok = 1;
	for (int i = 0; i < 3; i++)
		if (rd(fd, &v) != 0 || v != 1)
			ok = 0;
	CHECK("semaphore: three reads of 1", ok);
	EXPECT_ERRNO("semaphore exhausted -> EAGAIN", rd(fd, &v), EAGAIN);
	SYSOK("semaphore write 2", wr(fd, 2));
	SYSOK("semaphore read", rd(fd, &v));
	EXPECT_EQ("semaphore read is 1", v, 1);
	close(fd);

	/* Blocking read woken by a write from a child. */
	fd = eventfd(0, 0);
	MUST("blocking eventfd", fd);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(50000);
		wr(fd, 42);
		_exit(0);
	}
	SYSOK("blocking read", rd(fd, &v));
	EXPECT_EQ("woken with the child's value", v, 42);
	int st;
	waitpid(pid, &st, 0);

	/* Blocking write woken by a read. */
	SYSOK("fill the counter", wr(fd, ~0ULL - 1));
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		uint64_t x;
		usleep(50000);
		_exit(rd(fd, &x) == 0 && x == ~0ULL - 1 ? 0 : 1);
	}
	SYSOK("blocking write", wr(fd, 9));
	waitpid(pid, &st, 0);
	CHECK("child read the full counter", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	SYSOK("read after blocking write", rd(fd, &v));
	EXPECT_EQ("the blocked write landed", v, 9);

	/* A signal interrupts a blocking read. */
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	ualarm(50000, 0);
	EXPECT_ERRNO("signal during read -> EINTR", rd(fd, &v), EINTR);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(200000);
		wr(fd, 5);
		_exit(0);
	}
	ualarm(50000, 0);
	SYSOK("SA_RESTART read restarts", rd(fd, &v));
	EXPECT_EQ("restarted read got the value", v, 5);
	waitpid(pid, &st, 0);

	/* The anonymous inode. */
	struct stat a, b;
	int fd2 = eventfd(0, 0);
	SYSOK("fstat", fstat(fd, &a));
	SYSOK("fstat second", fstat(fd2, &b));
	EXPECT_EQ("mode 0600, no file type", a.st_mode, 0600);
	CHECK("eventfds share one inode", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	EXPECT_EQ("size 0", a.st_size, 0);
	EXPECT_EQ("nlink 1", a.st_nlink, 1);
	char path[64], link[64] = {0};
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	SYSOK("readlink /proc/self/fd", readlink(path, link, sizeof link - 1));
	CHECK("named anon_inode:[eventfd]", strcmp(link, "anon_inode:[eventfd]") == 0);
	EXPECT_EQ("lseek -> 0", lseek(fd, 10, SEEK_SET), 0);
	EXPECT_ERRNO("pread -> ESPIPE", pread(fd, &v, 8, 0), ESPIPE);
	EXPECT_ERRNO("fchmod -> EOPNOTSUPP", fchmod(fd, 0644), EOPNOTSUPP);
	EXPECT_ERRNO("ftruncate -> EINVAL", ftruncate(fd, 0), EINVAL);
	EXPECT_ERRNO("fsync -> EINVAL", fsync(fd), EINVAL);
	close(fd);
	close(fd2);
	return t_done();
}
