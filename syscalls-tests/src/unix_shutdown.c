/*
 * unix_shutdown: shutdown(2) on AF_UNIX sockets and readiness (epoll).
 * - SHUT_WR: the peer reads the data then EOF; the writer's writes get
 *   EPIPE with SIGPIPE; SHUT_RD: own reads return queued data then EOF,
 *   the peer's writes get EPIPE; SHUT_RDWR both; bad how -> EINVAL;
 *   unconnected sockets and dgram sockets only change themselves
 * - readiness as unix_poll() reports it: a fresh stream socket is
 *   EPOLLOUT|EPOLLHUP, connected ones writable, readable with data;
 *   EPOLLRDHUP|EPOLLIN after the peer's SHUT_WR; EPOLLHUP after
 *   SHUT_RDWR or the peer's close, EPOLLERR for a reset; a listener is
 *   readable with a pending connection and never writable
 * - a blocked reader is woken by the peer's shutdown; epoll_wait is woken
 *   by data from a forked writer
 * - a connected dgram socket is not writable while its receiver's queue
 *   is full, and becomes writable when the receiver reads
 */
#include "t.h"
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int child_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ready returns the events epoll reports for fd right now (timeout ms). */
static unsigned ready(int fd, int timeout)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI};
	unsigned r = 0;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(ep);
		return ~0u;
	}
	if (epoll_wait(ep, &ev, 1, timeout) == 1)
		r = ev.events;
	close(ep);
	return r;
}

static void test_shutdown(void)
{
	int sv[2], s;
	char buf[16];

	signal(SIGPIPE, on_sigpipe);
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write", write(sv[0], "data", 4), 4);
	SYSOK("SHUT_WR", shutdown(sv[0], SHUT_WR));
	EXPECT_EQ("peer reads the data", read(sv[1], buf, sizeof buf), 4);
	EXPECT_EQ("then EOF", read(sv[1], buf, sizeof buf), 0);
	sigpipes = 0;
	EXPECT_ERRNO("write after SHUT_WR -> EPIPE", write(sv[0], "x", 1), EPIPE);
	EXPECT_EQ("SIGPIPE", sigpipes, 1);
	EXPECT_EQ("the other direction still works", write(sv[1], "back", 4), 4);
	EXPECT_EQ("read it", read(sv[0], buf, sizeof buf), 4);
	SYSOK("SHUT_WR again", shutdown(sv[0], SHUT_WR));
	close(sv[0]);
	close(sv[1]);

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write", write(sv[1], "q", 1), 1);
	SYSOK("SHUT_RD", shutdown(sv[0], SHUT_RD));
	EXPECT_EQ("queued data still read", read(sv[0], buf, sizeof buf), 1);
	EXPECT_EQ("then EOF", read(sv[0], buf, sizeof buf), 0);
	sigpipes = 0;
	EXPECT_ERRNO("peer's write -> EPIPE", write(sv[1], "x", 1), EPIPE);
	EXPECT_EQ("with SIGPIPE", sigpipes, 1);
	EXPECT_EQ("own writes still work", write(sv[0], "y", 1), 1);
	EXPECT_EQ("peer reads them", read(sv[1], buf, sizeof buf), 1);
	EXPECT_ERRNO("how 3 -> EINVAL", shutdown(sv[0], 3), EINVAL);
	EXPECT_ERRNO("how -1 -> EINVAL", shutdown(sv[0], -1), EINVAL);
	close(sv[0]);
	close(sv[1]);

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("shutdown of an unconnected socket", shutdown(s, SHUT_RDWR));
	close(s);
	{
		int fd = open("/", O_RDONLY);

		EXPECT_ERRNO("shutdown of a directory -> ENOTSOCK", shutdown(fd, SHUT_RD), ENOTSOCK);
		close(fd);
	}

	/* A blocked reader is woken by the peer's shutdown. */
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	{
		pid_t pid = fork();

		if (pid == 0) {
			usleep(50000);
			_exit(shutdown(sv[1], SHUT_WR) == 0 ? 0 : 1);
		}
		EXPECT_EQ("blocked read returns EOF", read(sv[0], buf, sizeof buf), 0);
		CHECK("child ok", child_ok(pid));
	}
	close(sv[0]);
	close(sv[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_readiness(void)
{
	int sv[2], s, l, c;
	char buf[16];
	struct sockaddr_un a;
	socklen_t al;
	unsigned int r = 0;

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_EQ("fresh stream socket", ready(s, 0), EPOLLOUT | EPOLLHUP);
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_EQ("fresh dgram socket", ready(s, 0), EPOLLOUT);
	close(s);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	EXPECT_EQ("fresh seqpacket socket", ready(s, 0), EPOLLOUT | EPOLLHUP);
	close(s);

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("connected: writable", ready(sv[0], 0), EPOLLOUT);
	EXPECT_EQ("write", write(sv[1], "x", 1), 1);
	EXPECT_EQ("data: readable too", ready(sv[0], 0), EPOLLIN | EPOLLOUT);
	SYSOK("peer SHUT_WR", shutdown(sv[1], SHUT_WR));
	EXPECT_EQ("EPOLLRDHUP", ready(sv[0], 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	EXPECT_EQ("the shut-down writer", ready(sv[1], 0), EPOLLOUT);
	SYSOK("SHUT_RD", shutdown(sv[1], SHUT_RD));
	EXPECT_EQ("after SHUT_RDWR: EPOLLHUP", ready(sv[1], 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
	close(sv[1]);
	EXPECT_EQ("peer closed", ready(sv[0], 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
	close(sv[0]);

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write unread data", write(sv[0], "x", 1), 1);
	close(sv[1]);
	EXPECT_EQ("reset: EPOLLERR", ready(sv[0], 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	close(sv[0]);

	/* epoll_wait is woken by a forked writer. */
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	{
		pid_t pid = fork();

		if (pid == 0) {
			usleep(50000);
			_exit(write(sv[1], "x", 1) == 1 ? 0 : 1);
		}
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN};

		epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
		EXPECT_EQ("epoll_wait woken by data", epoll_wait(ep, &ev, 1, 5000), 1);
		CHECK("EPOLLIN", ev.events == EPOLLIN);
		close(ep);
		CHECK("child ok", child_ok(pid));
	}
	close(sv[0]);
	close(sv[1]);

	getrandom(&r, sizeof r, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	al = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(a.sun_path + 1, 100, "unix_shutdown-%08x", r);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST("bind", bind(l, (struct sockaddr *)&a, al));
	MUST("listen", listen(l, 4));
	EXPECT_EQ("idle listener", ready(l, 0), 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("connect", connect(c, (struct sockaddr *)&a, al));
	EXPECT_EQ("listener with a pending connection", ready(l, 0), EPOLLIN);
	EXPECT_EQ("connected client", ready(c, 0), EPOLLOUT);
	close(accept(l, NULL, NULL));
	EXPECT_EQ("accepted and closed: client hung up", ready(c, 0), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
	close(c);
	close(l);

	/* Datagram writability follows the receiver's queue. */
	{
		int rcv, snd, i;

		rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
		snd = socket(AF_UNIX, SOCK_DGRAM, 0);
		a.sun_path[1] = 'D';
		MUST("bind", bind(rcv, (struct sockaddr *)&a, al));
		SYSOK("connect sender", connect(snd, (struct sockaddr *)&a, al));
		for (i = 0; i < 11; i++)
			send(snd, "x", 1, 0);
		EXPECT_ERRNO("queue full", send(snd, "x", 1, MSG_DONTWAIT), EAGAIN);
		EXPECT_EQ("sender not writable", ready(snd, 0), 0);
		{
			pid_t pid = fork();

			if (pid == 0) {
				usleep(50000);
				_exit(recv(rcv, buf, sizeof buf, 0) == 1 ? 0 : 1);
			}
			EXPECT_EQ("writable once the receiver reads", ready(snd, 5000), EPOLLOUT);
			CHECK("child ok", child_ok(pid));
		}
		EXPECT_EQ("receiver readable", ready(rcv, 0), EPOLLIN | EPOLLOUT);
		close(snd);
		close(rcv);
	}
}

int main(void)
{
	test_shutdown();
	test_readiness();
	return t_done();
}
