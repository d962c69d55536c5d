/*
 * unix_dgram: AF_UNIX SOCK_DGRAM sockets (unix(7)).
 * - message boundaries, empty datagrams, truncation (MSG_TRUNC in
 *   msg_flags; MSG_TRUNC as a flag returns the full length), MSG_PEEK,
 *   readv/writev/sendmsg with several iovecs are one datagram, SIOCINQ
 * - sockets bound to relative paths: sendto/recvfrom with addresses, an
 *   unbound sender's address has length 0, sendto an unbound name ->
 *   ENOENT, to a regular file or a closed socket's node -> ECONNREFUSED
 * - connect: default destination and source filter (others get EPERM),
 *   AF_UNSPEC disconnects, reconnecting drops what was queued and resets
 *   a peer connected back, a dead peer gives ECONNREFUSED once
 * - limits: a receiver not connected back holds 11 datagrams, then
 *   EAGAIN; EMSGSIZE above sndbuf - 32; a blocked sender is woken when
 *   the forked receiver reads
 * - shutdown(SHUT_RD): blocking recv returns 0, non-blocking EAGAIN;
 *   sending to it -> EPIPE without SIGPIPE
 */
#include "t.h"
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static socklen_t path_addr(struct sockaddr_un *a, const char *p)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, p);
	return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

static int bound(const char *p)
{
	struct sockaddr_un a;
	socklen_t al = path_addr(&a, p);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);

	MUST("socket", s);
	MUST("bind", bind(s, (struct sockaddr *)&a, al));
	return s;
}

static int child_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_pair(void)
{
	int d[2], v;
	char buf[64];
	struct msghdr m;
	struct iovec io;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, d));
	EXPECT_EQ("send 3", send(d[0], "abc", 3, 0), 3);
	EXPECT_EQ("send 0", send(d[0], "", 0, 0), 0);
	EXPECT_EQ("send 5", send(d[0], "defgh", 5, 0), 5);
	v = -1;
	CHECK("SIOCINQ is the first datagram", ioctl(d[1], SIOCINQ, &v) == 0 && v == 3);
	EXPECT_EQ("peek", recv(d[1], buf, sizeof buf, MSG_PEEK), 3);
	EXPECT_EQ("boundary kept", recv(d[1], buf, sizeof buf, 0), 3);
	EXPECT_EQ("empty datagram", recv(d[1], buf, sizeof buf, 0), 0);
	memset(&m, 0, sizeof m);
	io.iov_base = buf;
	io.iov_len = 2;
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	EXPECT_EQ("truncated to 2", recvmsg(d[1], &m, 0), 2);
	CHECK("MSG_TRUNC in msg_flags", m.msg_flags == MSG_TRUNC);
	EXPECT_ERRNO("rest discarded", recv(d[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ("send 6", send(d[0], "123456", 6, 0), 6);
	EXPECT_EQ("MSG_TRUNC returns the real length", recv(d[1], buf, 1, MSG_TRUNC), 6);
	{
		struct iovec w[3] = {{"ab", 2}, {"cd", 2}, {"e", 1}};
		char x[3], y[10];
		struct iovec r[2] = {{x, 3}, {y, 10}};

		EXPECT_EQ("writev is one datagram", writev(d[0], w, 3), 5);
		EXPECT_EQ("send another", send(d[0], "zz", 2, 0), 2);
		EXPECT_EQ("readv gets one datagram", readv(d[1], r, 2), 5);
		CHECK("readv data", memcmp(x, "abc", 3) == 0 && memcmp(y, "de", 2) == 0);
		EXPECT_EQ("next datagram", read(d[1], buf, sizeof buf), 2);
	}
	{
		int s = 0;
		socklen_t l = sizeof s;
		static char big[300000];

		CHECK("SO_TYPE", getsockopt(d[0], SOL_SOCKET, SO_TYPE, &s, &l) == 0 && s == SOCK_DGRAM);
		EXPECT_ERRNO("sndbuf - 31 -> EMSGSIZE", send(d[0], big, 212992 - 31, 0), EMSGSIZE);
		EXPECT_EQ("sndbuf - 32 fits", send(d[0], big, 212992 - 32, 0), 212992 - 32);
		EXPECT_EQ("read it", recv(d[1], big, sizeof big, 0), 212992 - 32);
	}
	/* A pair's sender is limited by its send buffer only: fill it. */
	{
		int n = 0, e;

		while (send(d[0], "x", 1, MSG_DONTWAIT) == 1)
			n++;
		e = errno;
		EXPECT_EQ("full -> EAGAIN", e, EAGAIN);
		CHECK("more than the unconnected limit fit", n > 11);
		while (n-- > 0)
			recv(d[1], buf, 1, 0);
	}
	close(d[0]);
	EXPECT_ERRNO("peer closed: empty recv still blocks-> EAGAIN", recv(d[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	EXPECT_ERRNO("send to closed peer -> ECONNREFUSED", send(d[1], "x", 1, 0), ECONNREFUSED);
	EXPECT_ERRNO("then not connected", send(d[1], "x", 1, 0), ENOTCONN);
	close(d[1]);
}

static void test_bound(void)
{
	struct sockaddr_un a, b, from;
	socklen_t al, bl, fl;
	int sa, sb, u, v, i, e;
	char buf[64];

	sa = bound("a.sock");
	sb = bound("b.sock");
	al = path_addr(&a, "a.sock");
	bl = path_addr(&b, "b.sock");
	EXPECT_EQ("sendto b", sendto(sa, "hi", 2, 0, (struct sockaddr *)&b, bl), 2);
	memset(&from, 0, sizeof from);
	fl = sizeof from;
	EXPECT_EQ("recvfrom", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 2);
	CHECK("source is a.sock", fl == al && strcmp(from.sun_path, "a.sock") == 0);
	fl = 4;
	EXPECT_EQ("sendto b again", sendto(sa, "hi", 2, 0, (struct sockaddr *)&b, bl), 2);
	EXPECT_EQ("recvfrom with a short name buffer", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 2);
	CHECK("full length reported", fl == al);

	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_EQ("unbound sender", sendto(u, "u", 1, 0, (struct sockaddr *)&b, bl), 1);
	fl = sizeof from;
	EXPECT_EQ("recvfrom unbound", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl), 1);
	EXPECT_EQ("unbound source has no name", fl, 0);
	EXPECT_ERRNO("send without address -> ENOTCONN", send(u, "x", 1, 0), ENOTCONN);
	path_addr(&from, "nobody.sock");
	EXPECT_ERRNO("sendto unbound name -> ENOENT", sendto(u, "x", 1, 0, (struct sockaddr *)&from, al + 5), ENOENT);
	t_writefile("file", "x");
	fl = path_addr(&from, "file");
	EXPECT_ERRNO("sendto regular file -> ECONNREFUSED", sendto(u, "x", 1, 0, (struct sockaddr *)&from, fl), ECONNREFUSED);

	/* Connected: default destination, and only the peer may send. */
	SYSOK("connect a -> b", connect(sa, (struct sockaddr *)&b, bl));
	EXPECT_EQ("send to peer", send(sa, "p", 1, 0), 1);
	EXPECT_EQ("b gets it", recv(sb, buf, sizeof buf, 0), 1);
	SYSOK("connect b -> a", connect(sb, (struct sockaddr *)&a, al));
	EXPECT_ERRNO("third party to a connected socket -> EPERM", sendto(u, "x", 1, 0, (struct sockaddr *)&b, bl), EPERM);
	{
		int w = socket(AF_UNIX, SOCK_DGRAM, 0);

		EXPECT_ERRNO("connect to a socket connected elsewhere -> EPERM", connect(w, (struct sockaddr *)&b, bl), EPERM);
		close(w);
	}
	fl = sizeof from;
	CHECK("getpeername", getpeername(sa, (struct sockaddr *)&from, &fl) == 0 && fl == bl &&
	      strcmp(from.sun_path, "b.sock") == 0);

	/* Reconnecting elsewhere drops the queue and resets the old peer. */
	EXPECT_EQ("b sends to a", send(sb, "q", 1, 0), 1);
	{
		struct sockaddr_un unspec = {.sun_family = AF_UNSPEC};
		socklen_t l = sizeof v;

		SYSOK("a disconnects (AF_UNSPEC)", connect(sa, (struct sockaddr *)&unspec, sizeof unspec));
		EXPECT_ERRNO("queue dropped", recv(sa, buf, 1, MSG_DONTWAIT), EAGAIN);
		CHECK("old peer sees ECONNRESET", getsockopt(sb, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == ECONNRESET);
		EXPECT_ERRNO("getpeername after disconnect -> ENOTCONN", getpeername(sa, (struct sockaddr *)&from, &fl), ENOTCONN);
		EXPECT_ERRNO("AF_UNSPEC needs a family -> EINVAL", connect(sa, (struct sockaddr *)&unspec, 1), EINVAL);
	}
	SYSOK("b disconnects", connect(sb, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_UNSPEC}, sizeof(struct sockaddr)));

	/* An unconnected receiver holds max_dgram_qlen + 1 datagrams from
	 * others. */
	for (i = 0; i < 20; i++)
		if (sendto(u, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&b, bl) != 1)
			break;
	e = errno;
	EXPECT_EQ("11 datagrams queued", i, 11);
	EXPECT_EQ("then EAGAIN", e, EAGAIN);
	{
		pid_t pid = fork();

		if (pid == 0) {
			usleep(50000);
			_exit(recv(sb, buf, sizeof buf, 0) == 1 ? 0 : 1);
		}
		EXPECT_EQ("blocking sendto waits for room", sendto(u, "y", 1, 0, (struct sockaddr *)&b, bl), 1);
		CHECK("receiver ok", child_ok(pid));
	}
	for (i = 0; i < 11; i++)
		recv(sb, buf, sizeof buf, 0);

	/* A closed socket's node stays but refuses. */
	close(sa);
	EXPECT_ERRNO("sendto a closed socket's node -> ECONNREFUSED", sendto(u, "x", 1, 0, (struct sockaddr *)&a, al), ECONNREFUSED);
	close(sb);
	close(u);
}

static void test_shutdown(void)
{
	int d[2];
	char buf[8];

	signal(SIGPIPE, on_sigpipe);
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, d));
	EXPECT_EQ("queued before shutdown", send(d[0], "x", 1, 0), 1);
	SYSOK("shutdown SHUT_RD", shutdown(d[1], SHUT_RD));
	EXPECT_EQ("queued data still read", recv(d[1], buf, sizeof buf, 0), 1);
	EXPECT_EQ("blocking recv -> 0", recv(d[1], buf, sizeof buf, 0), 0);
	EXPECT_ERRNO("non-blocking recv -> EAGAIN", recv(d[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	sigpipes = 0;
	EXPECT_ERRNO("send to shut-down reader -> EPIPE", send(d[0], "x", 1, 0), EPIPE);
	EXPECT_EQ("no SIGPIPE for datagrams", sigpipes, 0);
	SYSOK("shutdown SHUT_WR", shutdown(d[0], SHUT_WR));
	EXPECT_ERRNO("send after SHUT_WR -> EPIPE", send(d[0], "x", 1, 0), EPIPE);
	EXPECT_EQ("still no SIGPIPE", sigpipes, 0);
	close(d[0]);
	close(d[1]);
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	t_tmpdir("unix_dgram");
	test_pair();
	test_bound();
	test_shutdown();
	return t_done();
}
