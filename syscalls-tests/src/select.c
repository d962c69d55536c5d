/*
 * select: select(2) (the raw syscall, and glibc's select, which is
 * pselect6 underneath) on pipes and files (core_sys_select()).
 * - read set: data, or a read end whose writers are gone, or a write end
 *   whose readers are gone (POLLERR counts for reading too); write set:
 *   room, or no reader; except set: never for pipes and files
 * - the result counts set bits; unasked bits and bits at or above nfds
 *   come back cleared
 * - a set bit for a closed descriptor -> EBADF; descriptors beyond the
 *   descriptor table's size are neither looked at nor written; an O_PATH
 *   descriptor (POLLNVAL) selects in every set it is in
 * - nfds < 0, negative tv_sec or tv_usec -> EINVAL; tv_usec beyond a
 *   second carries; a bad set -> EFAULT
 * - the timeout is updated with the time left: 0 after expiring, less
 *   after an interruption; a zero timeout is left alone
 * - a handler interrupts it with EINTR even with SA_RESTART, leaving the
 *   sets as given; a blocked select wakes for data from another process
 */
#include "t.h"
#include <signal.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>

static void on_alarm(int sig) { (void)sig; }

static long sys_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	return syscall(SYS_select, n, r, w, e, tv);
}

int main(void)
{
	int p[2];
	fd_set r, w, e;
	struct timeval tv;

	t_tmpdir("select");
	MUST("pipe", pipe(p));
	int nfds = p[1] + 1;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(p[0], &r);
	FD_SET(p[1], &r);
	FD_SET(p[0], &w);
	FD_SET(p[1], &w);
	FD_SET(p[0], &e);
	FD_SET(p[1], &e);
	tv = (struct timeval){0, 0};
	EXPECT_EQ("empty pipe: one bit", sys_select(nfds, &r, &w, &e, &tv), 1);
	CHECK("only the write end writable", !FD_ISSET(p[0], &r) && !FD_ISSET(p[1], &r) && !FD_ISSET(p[0], &w) && FD_ISSET(p[1], &w));
	CHECK("no exceptions", !FD_ISSET(p[0], &e) && !FD_ISSET(p[1], &e));
	CHECK("zero timeout left alone", tv.tv_sec == 0 && tv.tv_usec == 0);
	MUST("write", write(p[1], "x", 1));
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	EXPECT_EQ("data: two bits", select(nfds, &r, &w, NULL, NULL), 2);
	CHECK("read end readable", FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w));
	close(p[1]);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 0};
	EXPECT_EQ("data and no writer: readable", select(p[0] + 1, &r, NULL, NULL, &tv), 1);
	char c;
	MUST("read", read(p[0], &c, 1));
	FD_SET(p[0], &r);
	EXPECT_EQ("no writer: readable (EOF)", select(p[0] + 1, &r, NULL, NULL, &tv), 1);
	close(p[0]);
	MUST("pipe", pipe(p));
	close(p[0]);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[1], &r);
	FD_SET(p[1], &w);
	EXPECT_EQ("no reader: readable and writable", select(p[1] + 1, &r, &w, NULL, &tv), 2);
	close(p[1]);

	/* A regular file is ready for everything but exceptions. */
	t_writefile("f", "data");
	int f = open("f", O_RDWR);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(f, &r);
	FD_SET(f, &w);
	FD_SET(f, &e);
	EXPECT_EQ("regular file", sys_select(f + 1, &r, &w, &e, &tv), 2);
	CHECK("regular file sets", FD_ISSET(f, &r) && FD_ISSET(f, &w) && !FD_ISSET(f, &e));

	/* Bits at and above nfds are cleared, not looked at. */
	FD_ZERO(&r);
	FD_SET(f, &r);
	FD_SET(f + 1, &r); /* not open, but beyond nfds */
	EXPECT_EQ("bit beyond nfds ignored", sys_select(f + 1, &r, NULL, NULL, &tv), 1);
	CHECK("bit beyond nfds cleared", FD_ISSET(f, &r) && !FD_ISSET(f + 1, &r));
	FD_ZERO(&r);
	FD_SET(f + 1, &r);
	EXPECT_ERRNO("set bit for a closed fd -> EBADF", sys_select(f + 2, &r, NULL, NULL, &tv), EBADF);
	FD_ZERO(&w);
	FD_SET(f + 1, &w);
	EXPECT_ERRNO("EBADF in the write set too", select(f + 2, NULL, &w, NULL, &tv), EBADF);
	/* Grow the descriptor table to 256 entries, then look past it. */
	MUST("dup2 200", dup2(f, 200));
	close(200);
	FD_ZERO(&r);
	FD_SET(200, &r);
	EXPECT_ERRNO("closed fd inside the table -> EBADF", sys_select(FD_SETSIZE, &r, NULL, NULL, &tv), EBADF);
	FD_ZERO(&r);
	FD_SET(f, &r);
	FD_SET(300, &r);
	EXPECT_EQ("beyond the table's size: not looked at", sys_select(FD_SETSIZE, &r, NULL, NULL, &tv), 1);
	CHECK("beyond the table's size: left as given", FD_ISSET(f, &r) && FD_ISSET(300, &r));
	int op = open(".", O_PATH);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(op, &r);
	FD_SET(op, &w);
	FD_SET(op, &e);
	EXPECT_EQ("O_PATH (POLLNVAL) selects in every set", sys_select(op + 1, &r, &w, &e, &tv), 3);
	close(op);
	MUST("pipe", pipe(p));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 100000};
	EXPECT_EQ("timeout expires with 0", sys_select(p[0] + 1, &r, NULL, NULL, &tv), 0);
	CHECK("expired: time left 0", tv.tv_sec == 0 && tv.tv_usec == 0);
	CHECK("expired: set cleared", !FD_ISSET(p[0], &r));
	close(p[0]);
	close(p[1]);

	/* Argument errors and timeout arithmetic. */
	EXPECT_ERRNO("nfds < 0 -> EINVAL", sys_select(-1, NULL, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){-1, 0};
	EXPECT_ERRNO("negative tv_sec -> EINVAL", sys_select(0, NULL, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){0, -1};
	EXPECT_ERRNO("negative tv_usec -> EINVAL", sys_select(0, NULL, NULL, NULL, &tv), EINVAL);
	EXPECT_ERRNO("bad set -> EFAULT", sys_select(1, (fd_set *)8, NULL, NULL, NULL), EFAULT);
	EXPECT_ERRNO("bad timeout -> EFAULT", sys_select(0, NULL, NULL, NULL, (struct timeval *)8), EFAULT);
	FD_ZERO(&r);
	FD_SET(f, &r);
	tv = (struct timeval){0, 1500000};
	EXPECT_EQ("tv_usec beyond a second accepted", sys_select(f + 1, &r, NULL, NULL, &tv), 1);
	CHECK("time left normalized", tv.tv_sec == 1 && tv.tv_usec > 400000 && tv.tv_usec < 1000000);
	tv = (struct timeval){0, 50000};
	EXPECT_EQ("select as a sleep", sys_select(0, NULL, NULL, NULL, &tv), 0);
	CHECK("sleep: left 0", tv.tv_sec == 0 && tv.tv_usec == 0);
	close(f);

	/* Woken from another process; interrupted by a signal. */
	MUST("pipe", pipe(p));
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(100000);
		_exit(write(p[1], "y", 1) == 1 ? 0 : 1);
	}
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){5, 0};
	EXPECT_EQ("woken by data", sys_select(p[0] + 1, &r, NULL, NULL, &tv), 1);
	CHECK("woken: time left under 5 s", tv.tv_sec < 5 && (tv.tv_sec > 0 || tv.tv_usec > 0));
	int st;
	MUST("wait", waitpid(pid, &st, 0));
	MUST("read", read(p[0], &c, 1));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){5, 0};
	alarm(1);
	EXPECT_ERRNO("interrupted -> EINTR despite SA_RESTART", sys_select(p[0] + 1, &r, NULL, NULL, &tv), EINTR);
	CHECK("interrupted: time left between 2 and 5 s", tv.tv_sec >= 2 && tv.tv_sec < 5);
	CHECK("interrupted: sets as given", FD_ISSET(p[0], &r));
	alarm(1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	EXPECT_ERRNO("glibc select interrupted -> EINTR", select(p[0] + 1, &r, NULL, NULL, NULL), EINTR);
	close(p[0]);
	close(p[1]);
	return t_done();
}
