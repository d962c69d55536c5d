/*
 * tcp_loopback: TCP over 127.0.0.1 (tcp(7), ip(7)).
 * - socket/bind/listen/connect/accept4, getsockname/getpeername, ports
 *   chosen by bind(0) and connect, accept4 flags, SO_ACCEPTCONN
 * - data both ways with read/write/send/recv, MSG_PEEK, MSG_DONTWAIT,
 *   MSG_WAITALL across delayed writes, MSG_TRUNC discarding, FIONREAD
 * - shutdown(SHUT_WR) half-close: EOF for the peer, which can still send;
 *   EOF after close; EPIPE with SIGPIPE (or not, with MSG_NOSIGNAL)
 * - ECONNREFUSED, EADDRINUSE, EADDRNOTAVAIL, EISCONN, ENOTCONN, EINVAL
 *   and EOPNOTSUPP cases; SO_REUSEADDR rebinding a port in TIME_WAIT
 * - non-blocking connect: EINPROGRESS, poll for POLLOUT, SO_ERROR (0, or
 *   ECONNREFUSED); a listener polls readable with a pending connection
 * - SO_LINGER {1, 0}: close resets, the peer sees ECONNRESET
 * - 8 MiB transfers in each direction between processes, checksummed
 */
#include "t.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* listener returns a socket listening on 127.0.0.1 at a port bind chose. */
static int listener(struct sockaddr_in *a)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t l = sizeof *a;

	*a = loopback(0);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) < 0 || listen(s, 16) < 0 ||
	    getsockname(s, (struct sockaddr *)a, &l) < 0)
		return -1;
	return s;
}

static int connect_to(const struct sockaddr_in *a)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof *a) < 0)
		return -1;
	return c;
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int child_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_basics(void)
{
	struct sockaddr_in a, b, c;
	socklen_t l;
	int s, cl, sv, v;
	char buf[64];

	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("socket AF_INET SOCK_STREAM", s >= 0);
	l = sizeof a;
	CHECK("getsockname unbound", getsockname(s, (struct sockaddr *)&a, &l) == 0 && l == sizeof a &&
					     a.sin_family == AF_INET && a.sin_port == 0 && a.sin_addr.s_addr == 0);
	EXPECT_ERRNO("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &l), ENOTCONN);
	EXPECT_ERRNO("accept not listening", accept(s, NULL, NULL), EINVAL);
	EXPECT_ERRNO("recv unconnected", recv(s, buf, 1, MSG_DONTWAIT), ENOTCONN);
	EXPECT_ERRNO("send unconnected", send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
	v = socket(AF_INET, SOCK_STREAM, 0);
	/* (On another socket: Linux shuts it down all the same, and
	 * connections accepted from a listener inherit that.) */
	EXPECT_ERRNO("shutdown unconnected", shutdown(v, SHUT_RDWR), ENOTCONN);
	close(v);
	a = loopback(0);
	SYSOK("bind 127.0.0.1:0", bind(s, (struct sockaddr *)&a, sizeof a));
	EXPECT_ERRNO("bind twice", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	l = sizeof a;
	CHECK("bound port chosen", getsockname(s, (struct sockaddr *)&a, &l) == 0 && a.sin_port != 0 &&
					   a.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	l = sizeof v;
	CHECK("SO_ACCEPTCONN 0", getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v == 0);
	SYSOK("listen", listen(s, 8));
	CHECK("SO_ACCEPTCONN 1", getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v == 1);
	SYSOK("listen again", listen(s, 16));
	EXPECT_ERRNO("recv on listener", recv(s, buf, 1, MSG_DONTWAIT), ENOTCONN);

	cl = socket(AF_INET, SOCK_STREAM, 0);
	SYSOK("connect", connect(cl, (struct sockaddr *)&a, sizeof a));
	EXPECT_ERRNO("connect again", connect(cl, (struct sockaddr *)&a, sizeof a), EISCONN);
	CHECK("listener readable", readable(s, 5000));
	l = sizeof b;
	sv = accept4(s, (struct sockaddr *)&b, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK("accept4", sv >= 0 && l == sizeof b && b.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	CHECK("accept4 flags", (fcntl(sv, F_GETFL) & O_NONBLOCK) && (fcntl(sv, F_GETFD) & FD_CLOEXEC));
	CHECK("listener not readable", !readable(s, 0));
	l = sizeof c;
	CHECK("client name is accepted peer", getsockname(cl, (struct sockaddr *)&c, &l) == 0 &&
						      c.sin_port == b.sin_port && c.sin_addr.s_addr == b.sin_addr.s_addr);
	l = sizeof c;
	CHECK("client peer is listener", getpeername(cl, (struct sockaddr *)&c, &l) == 0 && c.sin_port == a.sin_port);
	l = sizeof c;
	CHECK("accepted name is listener's", getsockname(sv, (struct sockaddr *)&c, &l) == 0 &&
						     c.sin_port == a.sin_port);
	l = sizeof v;
	CHECK("accepted SO_ACCEPTCONN 0", getsockopt(sv, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v == 0);
	EXPECT_ERRNO("accepted empty EAGAIN", read(sv, buf, sizeof buf), EAGAIN);

	EXPECT_EQ("write client", write(cl, "hello", 5), 5);
	CHECK("server readable", readable(sv, 5000));
	CHECK("FIONREAD 5", ioctl(sv, FIONREAD, &v) == 0 && v == 5);
	memset(buf, 0, sizeof buf);
	CHECK("MSG_PEEK", recv(sv, buf, 3, MSG_PEEK) == 3 && memcmp(buf, "hel", 3) == 0);
	CHECK("read after peek", read(sv, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
	EXPECT_ERRNO("MSG_DONTWAIT empty", recv(cl, buf, 1, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ("send server", send(sv, "world!", 6, 0), 6);
	CHECK("client readable", readable(cl, 5000));
	CHECK("recv client", recv(cl, buf, sizeof buf, 0) == 6 && memcmp(buf, "world!", 6) == 0);
	EXPECT_EQ("send for MSG_TRUNC", send(cl, "discard", 7, 0), 7);
	CHECK("server readable again", readable(sv, 5000));
	CHECK("MSG_PEEK|MSG_TRUNC counts", recv(sv, NULL, 4, MSG_PEEK | MSG_TRUNC) == 4);
	CHECK("MSG_TRUNC discards", recv(sv, NULL, 7, MSG_TRUNC) == 7);
	EXPECT_ERRNO("nothing left", recv(sv, buf, 1, 0), EAGAIN);

	/* Half-close: the client stops sending, the server still can. */
	SYSOK("shutdown SHUT_WR", shutdown(cl, SHUT_WR));
	CHECK("server sees EOF", readable(sv, 5000) && read(sv, buf, sizeof buf) == 0);
	CHECK("EOF again", read(sv, buf, sizeof buf) == 0);
	EXPECT_EQ("server sends after peer SHUT_WR", write(sv, "late", 4), 4);
	CHECK("client reads after its SHUT_WR", readable(cl, 5000) && read(cl, buf, sizeof buf) == 4);
	sigpipes = 0;
	EXPECT_ERRNO("write after SHUT_WR EPIPE", write(cl, "x", 1), EPIPE);
	CHECK("SIGPIPE sent", sigpipes == 1);
	EXPECT_ERRNO("MSG_NOSIGNAL EPIPE", send(cl, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK("no SIGPIPE with MSG_NOSIGNAL", sigpipes == 1);
	close(sv);
	CHECK("client EOF after close", readable(cl, 5000) && read(cl, buf, sizeof buf) == 0);
	close(cl);
	close(s);
}

static void test_errors(void)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	int s, s2, c, v;

	/* A port nobody listens on: bound once, then released. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback(0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	c = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_ERRNO("connect refused", connect(c, (struct sockaddr *)&a, sizeof a), ECONNREFUSED);
	l = sizeof v;
	CHECK("SO_ERROR after refused connect 0", getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0);
	close(c);

	s = listener(&a);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_ERRNO("bind in use", bind(s2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	v = 1;
	setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
	EXPECT_ERRNO("bind in use by a listener, SO_REUSEADDR", bind(s2, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	close(s2);
	close(s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback(0);
	a.sin_addr.s_addr = inet_addr("192.0.2.1");
	EXPECT_ERRNO("bind non-local address", bind(s, (struct sockaddr *)&a, sizeof a), EADDRNOTAVAIL);
	a = loopback(0);
	EXPECT_ERRNO("bind short address", bind(s, (struct sockaddr *)&a, sizeof a - 1), EINVAL);
	a.sin_family = AF_INET6;
	EXPECT_ERRNO("bind wrong family", bind(s, (struct sockaddr *)&a, sizeof a), EAFNOSUPPORT);
	a.sin_family = AF_UNSPEC;
	SYSOK("bind AF_UNSPEC INADDR_ANY", (a.sin_addr.s_addr = 0, bind(s, (struct sockaddr *)&a, sizeof a)));
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback(0);
	a.sin_family = AF_UNSPEC;
	EXPECT_ERRNO("bind AF_UNSPEC loopback", bind(s, (struct sockaddr *)&a, sizeof a), EAFNOSUPPORT);
	close(s);

	EXPECT_ERRNO("socket bad protocol", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	EXPECT_ERRNO("socket SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("socket protocol out of range", socket(AF_INET, SOCK_STREAM, 1000), EINVAL);
	EXPECT_ERRNO("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}), EOPNOTSUPP);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_ERRNO("listen on UDP", listen(s, 1), EOPNOTSUPP);
	EXPECT_ERRNO("accept on UDP", accept(s, NULL, NULL), EOPNOTSUPP);
	close(s);
}

static void test_reuseaddr(void)
{
	struct sockaddr_in a;
	int s, c, sv, n, v = 1;
	char buf[8];

	/* The server closes first, so its end of the connection lingers in
	 * TIME_WAIT on the listener's port; the listener, and so the
	 * connection, has SO_REUSEADDR (both sides need it). */
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
	a = loopback(0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	listen(s, 1);
	n = sizeof a;
	getsockname(s, (struct sockaddr *)&a, (socklen_t *)&n);
	c = connect_to(&a);
	sv = accept(s, NULL, NULL);
	CHECK("connection for TIME_WAIT", c >= 0 && sv >= 0);
	close(sv);
	CHECK("client EOF", readable(c, 5000) && read(c, buf, sizeof buf) == 0);
	close(c);
	close(s);
	usleep(100000);
	s = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_ERRNO("rebind TIME_WAIT port", bind(s, (struct sockaddr *)&a, sizeof a), EADDRINUSE);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v);
	n = bind(s, (struct sockaddr *)&a, sizeof a);
	CHECK("rebind TIME_WAIT port with SO_REUSEADDR", n == 0 && listen(s, 1) == 0);
	close(s);
}

static void test_nonblocking_connect(void)
{
	struct sockaddr_in a;
	struct pollfd p;
	socklen_t l;
	int s, c, sv, v;

	s = listener(&a);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERRNO("non-blocking connect EINPROGRESS", connect(c, (struct sockaddr *)&a, sizeof a), EINPROGRESS);
	p = (struct pollfd){.fd = c, .events = POLLOUT};
	CHECK("poll POLLOUT", poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT) && !(p.revents & POLLERR));
	l = sizeof v;
	CHECK("SO_ERROR 0", getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0);
	/* The first connect after completion reports success, as the socket
	 * only then leaves the connecting state; later ones EISCONN. */
	SYSOK("connect after completion", connect(c, (struct sockaddr *)&a, sizeof a));
	EXPECT_ERRNO("connect again EISCONN", connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
	sv = accept(s, NULL, NULL);
	CHECK("accepted", sv >= 0);
	close(sv);
	close(c);
	close(s);

	/* Refused: the result comes through SO_ERROR. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback(0);
	bind(s, (struct sockaddr *)&a, sizeof a);
	l = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERRNO("refused non-blocking EINPROGRESS", connect(c, (struct sockaddr *)&a, sizeof a), EINPROGRESS);
	p = (struct pollfd){.fd = c, .events = POLLOUT};
	CHECK("refused poll POLLERR", poll(&p, 1, 5000) == 1 && (p.revents & POLLERR));
	l = sizeof v;
	CHECK("SO_ERROR ECONNREFUSED", getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == ECONNREFUSED);
	CHECK("SO_ERROR cleared", getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0);
	close(c);
}

static void test_linger_reset(void)
{
	struct sockaddr_in a;
	struct linger lg = {1, 0};
	int s, c, sv;
	char buf[8];

	s = listener(&a);
	c = connect_to(&a);
	sv = accept(s, NULL, NULL);
	SYSOK("SO_LINGER {1,0}", setsockopt(sv, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	close(sv);
	CHECK("peer readable after reset", readable(c, 5000));
	EXPECT_ERRNO("recv ECONNRESET", recv(c, buf, sizeof buf, 0), ECONNRESET);
	close(c);
	close(s);
}

static void test_waitall(void)
{
	struct sockaddr_in a;
	int s, c, sv;
	char buf[12];
	pid_t pid;

	s = listener(&a);
	c = connect_to(&a);
	sv = accept(s, NULL, NULL);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			usleep(20000);
			if (write(c, "abcd", 4) != 4)
				_exit(1);
		}
		_exit(0);
	}
	CHECK("MSG_WAITALL gathers three writes", recv(sv, buf, 12, MSG_WAITALL) == 12 && memcmp(buf, "abcdabcdabcd", 12) == 0);
	CHECK("writer", child_ok(pid));
	close(c);
	close(sv);
	close(s);
}

#define BIG (8 << 20)

static unsigned long transfer(int from, int to)
{
	static unsigned char buf[65536];
	unsigned long sum = 0, want = 0;
	long got = 0;
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char w[50000];
		long sent = 0;

		while (sent < BIG) {
			int n = BIG - sent < (long)sizeof w ? BIG - sent : (int)sizeof w;
			for (int i = 0; i < n; i++)
				w[i] = (unsigned char)((sent + i) * 7 + 3);
			int k = write(from, w, n);
			if (k <= 0)
				_exit(1);
			sent += k;
			/* A short write continues where it stopped. */
			if (k < n)
				continue;
		}
		_exit(0);
	}
	while (got < BIG) {
		long n = read(to, buf, sizeof buf);
		if (n <= 0)
			break;
		for (long i = 0; i < n; i++)
			sum += buf[i] * (unsigned long)((got + i) % 251 + 1);
		got += n;
	}
	for (long i = 0; i < BIG; i++)
		want += (unsigned char)(i * 7 + 3) * (unsigned long)(i % 251 + 1);
	return got == BIG && child_ok(pid) && sum == want;
}

static void test_large(void)
{
	struct sockaddr_in a;
	int s, c, sv;

	s = listener(&a);
	c = connect_to(&a);
	sv = accept(s, NULL, NULL);
	CHECK("8 MiB client to server", transfer(c, sv));
	CHECK("8 MiB server to client", transfer(sv, c));
	close(c);
	close(sv);
	close(s);
}

int main(void)
{
	signal(SIGPIPE, on_sigpipe);
	test_basics();
	test_errors();
	test_reuseaddr();
	test_nonblocking_connect();
	test_linger_reset();
	test_waitall();
	test_large();
	return t_done();
}
