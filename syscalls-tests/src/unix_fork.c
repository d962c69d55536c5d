/*
 * unix_fork: AF_UNIX servers and clients in separate processes, the way
 * servers (and python's socketserver/multiprocessing) use them.
 * - a stream echo server on a path serves several forked clients that
 *   connect at the same time; each gets its own answers back
 * - 4 MiB from a forked writer arrive intact through a stream socket
 *   (flow control across processes, in chunks of odd sizes)
 * - a datagram server answers requests from a forked client bound to its
 *   own path, by the source address of each request
 * - 200 seqpacket round trips between two processes
 * - a client blocked in connect on a full backlog proceeds once the
 *   server accepts
 */
#include "t.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define NCLIENTS 4

static int child_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static socklen_t path_addr(struct sockaddr_un *a, const char *p)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, p);
	return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

/* readn reads exactly n bytes unless EOF or an error comes first. */
static ssize_t readn(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return r < 0 ? r : (ssize_t)got;
		got += r;
	}
	return got;
}

static void test_echo(void)
{
	struct sockaddr_un a;
	socklen_t al = path_addr(&a, "echo.sock");
	pid_t pids[NCLIENTS];
	int l, i, served = 0, answered = 1;

	l = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("server bind", bind(l, (struct sockaddr *)&a, al));
	SYSOK("server listen", listen(l, NCLIENTS));
	for (i = 0; i < NCLIENTS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			char req[32], resp[32];

			close(l);
			if (connect(c, (struct sockaddr *)&a, al) != 0)
				_exit(1);
			for (int k = 0; k < 3; k++) {
				int n = snprintf(req, sizeof req, "client %d msg %d", i, k);

				if (write(c, &n, sizeof n) != sizeof n || write(c, req, n) != n)
					_exit(2);
				if (readn(c, resp, n) != n || memcmp(resp, req, n) != 0)
					_exit(3);
			}
			shutdown(c, SHUT_WR);
			_exit(read(c, resp, 1) == 0 ? 0 : 4);
		}
	}
	for (i = 0; i < NCLIENTS; i++) {
		int s = accept(l, NULL, NULL), n;
		char buf[64];

		if (s < 0)
			break;
		served++;
		while (readn(s, &n, sizeof n) == sizeof n) {
			if (n <= 0 || n > (int)sizeof buf || readn(s, buf, n) != n || write(s, buf, n) != n) {
				answered = 0;
				break;
			}
		}
		close(s);
	}
	EXPECT_EQ("served every client", served, NCLIENTS);
	CHECK("echoed every request", answered);
	for (i = 0; i < NCLIENTS; i++) {
		char what[64];

		snprintf(what, sizeof what, "client %d saw its answers", i);
		CHECK(what, child_ok(pids[i]));
	}
	close(l);
	unlink("echo.sock");
}

static void test_bulk(void)
{
	int sv[2];
	pid_t pid;
	unsigned long sum = 0, want = 0;
	long total = 0;
	static unsigned char buf[70000];

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	for (long i = 0; i < (4L << 20); i++)
		want += (unsigned char)(i * 7 + 3);
	pid = fork();
	if (pid == 0) {
		static unsigned char out[4L << 20];
		long off = 0, chunk = 1;

		close(sv[0]);
		for (long i = 0; i < (long)sizeof out; i++)
			out[i] = (unsigned char)(i * 7 + 3);
		while (off < (long)sizeof out) {
			long n = chunk;

			if (n > (long)sizeof out - off)
				n = sizeof out - off;
			n = write(sv[1], out + off, n);
			if (n <= 0)
				_exit(1);
			off += n;
			chunk = chunk * 3 + 1;
			if (chunk > 300000)
				chunk = 7;
		}
		_exit(0);
	}
	close(sv[1]);
	for (;;) {
		ssize_t n = read(sv[0], buf, sizeof buf);

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			sum += buf[i];
		total += n;
	}
	EXPECT_EQ("4 MiB arrived", total, 4L << 20);
	CHECK("contents intact", sum == want);
	CHECK("writer ok", child_ok(pid));
	close(sv[0]);
}

static void test_dgram(void)
{
	struct sockaddr_un a, from;
	socklen_t al = path_addr(&a, "dgram-server.sock"), fl;
	int s, i, answered = 0;
	pid_t pid;
	char buf[64];

	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	SYSOK("server bind", bind(s, (struct sockaddr *)&a, al));
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un me;
		socklen_t ml = path_addr(&me, "dgram-client.sock");
		int c = socket(AF_UNIX, SOCK_DGRAM, 0);
		char req[32], resp[64];

		if (bind(c, (struct sockaddr *)&me, ml) != 0)
			_exit(1);
		for (int k = 0; k < 10; k++) {
			int n = snprintf(req, sizeof req, "request %d", k);

			if (sendto(c, req, n, 0, (struct sockaddr *)&a, al) != n)
				_exit(2);
			if (recv(c, resp, sizeof resp, 0) != n + 1 || resp[0] != '>' || memcmp(resp + 1, req, n) != 0)
				_exit(3);
		}
		_exit(0);
	}
	for (i = 0; i < 10; i++) {
		ssize_t n;

		fl = sizeof from;
		n = recvfrom(s, buf + 1, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0 || strcmp(from.sun_path, "dgram-client.sock") != 0)
			break;
		buf[0] = '>';
		if (sendto(s, buf, n + 1, 0, (struct sockaddr *)&from, fl) != n + 1)
			break;
		answered++;
	}
	EXPECT_EQ("answered every request by its source", answered, 10);
	CHECK("client ok", child_ok(pid));
	close(s);
	unlink("dgram-server.sock");
	unlink("dgram-client.sock");
}

static void test_seqpacket(void)
{
	int sp[2], i, ok = 1;
	pid_t pid;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	pid = fork();
	if (pid == 0) {
		int v;

		close(sp[0]);
		while (recv(sp[1], &v, sizeof v, 0) == sizeof v) {
			v++;
			if (send(sp[1], &v, sizeof v, 0) != sizeof v)
				_exit(1);
		}
		_exit(0);
	}
	close(sp[1]);
	for (i = 0; i < 200; i++) {
		int v = i * 2;

		if (send(sp[0], &v, sizeof v, 0) != sizeof v || recv(sp[0], &v, sizeof v, 0) != sizeof v || v != i * 2 + 1) {
			ok = 0;
			break;
		}
	}
	CHECK("200 round trips", ok);
	close(sp[0]);
	CHECK("peer saw EOF", child_ok(pid));
}

static void test_backlog(void)
{
	struct sockaddr_un a;
	socklen_t al = path_addr(&a, "backlog.sock");
	int l, c1, s;
	pid_t pid;
	char b;

	l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST("bind", bind(l, (struct sockaddr *)&a, al));
	MUST("listen", listen(l, 0));
	c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("first connection fills the backlog", connect(c1, (struct sockaddr *)&a, al));
	pid = fork();
	if (pid == 0) {
		int c2 = socket(AF_UNIX, SOCK_STREAM, 0);

		if (connect(c2, (struct sockaddr *)&a, al) != 0 || write(c2, "2", 1) != 1)
			_exit(1);
		_exit(0);
	}
	usleep(100000);
	s = accept(l, NULL, NULL);
	SYSOK("accept the first", s);
	close(s);
	s = accept(l, NULL, NULL);
	SYSOK("the blocked connector got in", s);
	CHECK("its data", read(s, &b, 1) == 1 && b == '2');
	CHECK("connector ok", child_ok(pid));
	close(s);
	close(c1);
	close(l);
	unlink("backlog.sock");
}

int main(void)
{
	t_tmpdir("unix_fork");
	test_echo();
	test_bulk();
	test_dgram();
	test_seqpacket();
	test_backlog();
	return t_done();
}
