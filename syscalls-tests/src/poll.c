/*
 * poll: poll(2) on pipes, files, /dev/null and stdin (do_sys_poll(),
 * pipe_poll()).
 * - a pipe's read end: POLLIN with data, POLLHUP once the writers are
 *   gone (with POLLIN while data is left); its write end: POLLOUT while
 *   not full, POLLERR once the readers are gone
 * - POLLERR and POLLHUP are reported unasked; other events only if asked
 * - regular files and /dev/null are always readable and writable; stdin
 *   (/dev/null under the harness) polls readable and reads EOF
 * - negative fds are ignored (revents cleared), closed and O_PATH fds give
 *   POLLNVAL, duplicates each report
 * - timeouts: 0 returns at once, a finite one expires with 0; a blocked
 *   poll wakes for data, hang-up, error, and room from another process
 * - a signal handler interrupts it with EINTR even with SA_RESTART
 * - nfds above RLIMIT_NOFILE -> EINVAL; a bad array -> EFAULT
 */
#include "t.h"
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void on_alarm(int sig) { (void)sig; }

static short poll1(int fd, short events, int timeout)
{
	struct pollfd p = {fd, events, 0x7fff};
	int n = poll(&p, 1, timeout);
	if (n < 0)
		return -1;
	return p.revents;
}

/* later forks a child that sleeps ms, then writes to wfd (if >= 0),
 * closes cfd (if >= 0) or drains rfd (if >= 0), and exits. */
static pid_t later(int ms, int wfd, int cfd, int rfd)
{
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(ms * 1000);
		if (wfd >= 0 && write(wfd, "x", 1) != 1)
			_exit(1);
		if (cfd >= 0)
			close(cfd);
		if (rfd >= 0) {
			static char b[65536];
			if (read(rfd, b, sizeof b) <= 0)
				_exit(2);
		}
		_exit(0);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	int p[2];
	char buf[16];

	t_tmpdir("poll");
	MUST("pipe", pipe(p));
	EXPECT_EQ("empty read end", poll1(p[0], POLLIN | POLLOUT | POLLPRI, 0), 0);
	EXPECT_EQ("write end writable", poll1(p[1], POLLIN | POLLOUT, 0), POLLOUT);
	EXPECT_EQ("write end POLLWRNORM", poll1(p[1], POLLWRNORM, 0), POLLWRNORM);
	EXPECT_EQ("write end, POLLIN only asked", poll1(p[1], POLLIN, 0), 0);
	MUST("write", write(p[1], "ab", 2));
	EXPECT_EQ("read end readable", poll1(p[0], POLLIN, 0), POLLIN);
	EXPECT_EQ("read end POLLRDNORM", poll1(p[0], POLLIN | POLLRDNORM, 0), POLLIN | POLLRDNORM);
	EXPECT_EQ("read end, POLLOUT only asked", poll1(p[0], POLLOUT, 0), 0);
	close(p[1]);
	EXPECT_EQ("data and no writer: POLLIN|POLLHUP", poll1(p[0], POLLIN, 0), POLLIN | POLLHUP);
	EXPECT_EQ("POLLHUP reported unasked", poll1(p[0], 0, 0), POLLHUP);
	MUST("read", read(p[0], buf, sizeof buf));
	EXPECT_EQ("drained, no writer: POLLHUP", poll1(p[0], POLLIN, 0), POLLHUP);
	close(p[0]);
	MUST("pipe", pipe(p));
	close(p[0]);
	EXPECT_EQ("no reader: POLLOUT|POLLERR", poll1(p[1], POLLOUT, 0), POLLOUT | POLLERR);
	EXPECT_EQ("POLLERR reported unasked", poll1(p[1], 0, 0), POLLERR);
	close(p[1]);

	/* Files that never block. */
	t_writefile("f", "data");
	int f = open("f", O_RDWR);
	EXPECT_EQ("regular file", poll1(f, POLLIN | POLLOUT | POLLPRI, 0), POLLIN | POLLOUT);
	EXPECT_EQ("regular file RDNORM|WRNORM", poll1(f, POLLRDNORM | POLLWRNORM, 0), POLLRDNORM | POLLWRNORM);
	close(f);
	f = open("/dev/null", O_RDWR);
	EXPECT_EQ("/dev/null", poll1(f, POLLIN | POLLOUT, 0), POLLIN | POLLOUT);
	close(f);
	EXPECT_EQ("stdin (/dev/null) readable", poll1(0, POLLIN, 0), POLLIN);
	EXPECT_EQ("stdin reads EOF", read(0, buf, sizeof buf), 0);
	EXPECT_EQ("stdin with a timeout", poll1(0, POLLIN, 1000), POLLIN);

	/* Entry kinds. */
	MUST("pipe", pipe(p));
	MUST("write", write(p[1], "x", 1));
	int op = open(".", O_PATH);
	struct pollfd fds[6] = {
		{-1, POLLIN, 0x7fff}, {p[0], POLLIN, 0x7fff}, {1000, POLLIN, 0x7fff},
		{p[0], POLLIN, 0x7fff}, {op, POLLIN, 0x7fff}, {p[1], POLLIN, 0x7fff},
	};
	EXPECT_EQ("count of ready entries", poll(fds, 6, 0), 4);
	EXPECT_EQ("negative fd ignored, revents cleared", fds[0].revents, 0);
	EXPECT_EQ("pipe entry", fds[1].revents, POLLIN);
	EXPECT_EQ("closed fd POLLNVAL", fds[2].revents, POLLNVAL);
	EXPECT_EQ("duplicate entry", fds[3].revents, POLLIN);
	EXPECT_EQ("O_PATH fd POLLNVAL", fds[4].revents, POLLNVAL);
	EXPECT_EQ("not-ready entry cleared", fds[5].revents, 0);
	CHECK("fd and events untouched", fds[2].fd == 1000 && fds[2].events == POLLIN);
	close(op);
	MUST("read", read(p[0], buf, 1));
	EXPECT_EQ("nfds 0", poll(NULL, 0, 0), 0);
	EXPECT_EQ("timeout expires with 0", poll1(p[0], POLLIN, 100), 0);

	/* Blocked polls woken from another process. */
	pid_t pid = later(100, p[1], -1, -1);
	EXPECT_EQ("woken by data", poll1(p[0], POLLIN, 5000), POLLIN);
	EXPECT_EQ("child", reap(pid), 0);
	MUST("read", read(p[0], buf, 1));
	pid = later(100, -1, p[1], -1);
	close(p[1]);
	EXPECT_EQ("woken by the last writer leaving", poll1(p[0], POLLIN, 5000), POLLHUP);
	EXPECT_EQ("child", reap(pid), 0);
	close(p[0]);
	MUST("pipe", pipe(p));
	pid = later(100, -1, p[0], -1);
	close(p[0]);
	EXPECT_EQ("woken by the last reader leaving", poll1(p[1], POLLIN, 5000), POLLERR);
	EXPECT_EQ("child", reap(pid), 0);
	close(p[1]);
	MUST("pipe", pipe2(p, O_NONBLOCK));
	while (write(p[1], buf, sizeof buf) > 0)
		;
	EXPECT_EQ("full: not writable", poll1(p[1], POLLOUT, 0), 0);
	pid = later(100, -1, -1, p[0]);
	EXPECT_EQ("woken by room", poll1(p[1], POLLOUT, 5000), POLLOUT);
	EXPECT_EQ("child", reap(pid), 0);
	close(p[0]);
	close(p[1]);

	/* Many pipes, one gets data. */
	{
		int pp[64][2];
		struct pollfd many[64];
		for (int i = 0; i < 64; i++) {
			MUST("pipe", pipe(pp[i]));
			many[i] = (struct pollfd){pp[i][0], POLLIN, 0};
		}
		pid = later(100, pp[37][1], -1, -1);
		int n = poll(many, 64, 5000);
		EXPECT_EQ("one of 64 ready", n, 1);
		EXPECT_EQ("the right one", many[37].revents, POLLIN);
		EXPECT_EQ("child", reap(pid), 0);
		for (int i = 0; i < 64; i++) {
			close(pp[i][0]);
			close(pp[i][1]);
		}
	}

	/* Signals. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	MUST("pipe", pipe(p));
	alarm(1);
	{
		struct pollfd e = {p[0], POLLIN, 0};
		EXPECT_ERRNO("interrupted -> EINTR despite SA_RESTART", poll(&e, 1, -1), EINTR);
	}
	close(p[0]);
	close(p[1]);

	/* Limits and bad memory. */
	{
		struct rlimit rl = {64, 64};
		static struct pollfd neg[65];
		for (int i = 0; i < 65; i++)
			neg[i] = (struct pollfd){-1, POLLIN, 0};
		MUST("setrlimit", setrlimit(RLIMIT_NOFILE, &rl));
		EXPECT_EQ("nfds == RLIMIT_NOFILE", poll(neg, 64, 0), 0);
		EXPECT_ERRNO("nfds > RLIMIT_NOFILE -> EINVAL", poll(neg, 65, 0), EINVAL);
		EXPECT_ERRNO("bad array -> EFAULT", syscall(SYS_poll, 8L, 1, 0), EFAULT);
	}
	return t_done();
}
