/*
 * unix_seqpacket: AF_UNIX SOCK_SEQPACKET sockets (unix(7)).
 * - connected, reliable, with message boundaries: truncation sets
 *   MSG_TRUNC and discards the rest; empty messages; MSG_PEEK; writev
 * - not connected: send and recv -> ENOTCONN; listen/connect/accept over
 *   a path in the working directory; sendto ignores its address
 * - peer closed: recv returns 0 (also non-blocking); send -> EPIPE
 *   without SIGPIPE; the limit is the send buffer, not a queue length
 */
#include "t.h"
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

int main(void)
{
	int sp[2], l, c, s, v;
	char buf[64];
	struct msghdr m;
	struct iovec io;
	struct sockaddr_un a;
	socklen_t al, vl = sizeof v;

	t_tmpdir("unix_seqpacket");
	signal(SIGPIPE, on_sigpipe);
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	CHECK("SO_TYPE", getsockopt(sp[0], SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_SEQPACKET);
	EXPECT_EQ("send 3", send(sp[0], "abc", 3, 0), 3);
	EXPECT_EQ("send 0", send(sp[0], "", 0, 0), 0);
	EXPECT_EQ("send 6", send(sp[0], "defghi", 6, 0), 6);
	EXPECT_EQ("peek", recv(sp[1], buf, sizeof buf, MSG_PEEK), 3);
	memset(&m, 0, sizeof m);
	io.iov_base = buf;
	io.iov_len = sizeof buf;
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	EXPECT_EQ("one message per recv", recvmsg(sp[1], &m, 0), 3);
	CHECK("no flags", m.msg_flags == 0);
	EXPECT_EQ("empty message", recv(sp[1], buf, sizeof buf, 0), 0);
	io.iov_len = 4;
	EXPECT_EQ("truncated", recvmsg(sp[1], &m, 0), 4);
	CHECK("MSG_TRUNC", m.msg_flags == MSG_TRUNC);
	EXPECT_ERRNO("rest discarded", recv(sp[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	{
		struct iovec w[2] = {{"xy", 2}, {"z", 1}};

		EXPECT_EQ("writev is one message", writev(sp[0], w, 2), 3);
		EXPECT_EQ("send 1", send(sp[0], "!", 1, 0), 1);
		EXPECT_EQ("read message", read(sp[1], buf, sizeof buf), 3);
		EXPECT_EQ("read next", read(sp[1], buf, sizeof buf), 1);
	}
	{
		int n = 0, e;

		while (send(sp[0], "x", 1, MSG_DONTWAIT) == 1)
			n++;
		e = errno;
		EXPECT_EQ("send buffer full -> EAGAIN", e, EAGAIN);
		CHECK("not limited to 11 messages", n > 11);
		while (n-- > 0)
			recv(sp[1], buf, 1, 0);
	}
	close(sp[0]);
	EXPECT_EQ("peer closed: EOF", recv(sp[1], buf, sizeof buf, 0), 0);
	EXPECT_EQ("non-blocking EOF too", recv(sp[1], buf, sizeof buf, MSG_DONTWAIT), 0);
	sigpipes = 0;
	EXPECT_ERRNO("send to closed peer -> EPIPE", send(sp[1], "x", 1, 0), EPIPE);
	EXPECT_EQ("no SIGPIPE", sigpipes, 0);
	close(sp[1]);

	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	EXPECT_ERRNO("unconnected send -> ENOTCONN", send(s, "x", 1, 0), ENOTCONN);
	EXPECT_ERRNO("unconnected recv -> ENOTCONN", recv(s, buf, 1, MSG_DONTWAIT), ENOTCONN);
	close(s);

	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, "seq.sock");
	al = offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1;
	l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	SYSOK("bind", bind(l, (struct sockaddr *)&a, al));
	SYSOK("listen", listen(l, 4));
	c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	SYSOK("connect", connect(c, (struct sockaddr *)&a, al));
	s = accept(l, NULL, NULL);
	SYSOK("accept", s);
	EXPECT_EQ("sendto ignores the address", sendto(c, "m1", 2, 0, (struct sockaddr *)&a, al), 2);
	EXPECT_EQ("send m2", send(c, "m22", 3, 0), 3);
	EXPECT_EQ("recv m1", recv(s, buf, sizeof buf, 0), 2);
	EXPECT_EQ("recv m2", recv(s, buf, sizeof buf, 0), 3);
	{
		struct sockaddr_un st;
		int t2 = socket(AF_UNIX, SOCK_STREAM, 0);

		EXPECT_ERRNO("stream connect to a seqpacket socket -> EPROTOTYPE", connect(t2, (struct sockaddr *)&a, al), EPROTOTYPE);
		close(t2);
		(void)st;
	}
	SYSOK("shutdown SHUT_WR", shutdown(c, SHUT_WR));
	EXPECT_EQ("peer reads EOF", recv(s, buf, sizeof buf, 0), 0);
	EXPECT_ERRNO("writer gets EPIPE", send(c, "x", 1, 0), EPIPE);
	EXPECT_EQ("no SIGPIPE", sigpipes, 0);
	close(s);
	close(c);
	close(l);
	return t_done();
}
