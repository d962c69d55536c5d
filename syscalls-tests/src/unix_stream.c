/*
 * unix_stream: AF_UNIX SOCK_STREAM sockets (unix(7)).
 * - socketpair: byte stream both ways, read/write/readv/writev/send/recv,
 *   no message boundaries, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL across
 *   several writes of a forked writer, zero-length reads and writes
 * - SOCK_NONBLOCK/SOCK_CLOEXEC, fcntl O_NONBLOCK, EAGAIN when empty,
 *   flow control: a full socket blocks the writer until the reader drains
 * - FIONREAD/SIOCINQ and SIOCOUTQ; fstat S_IFSOCK; /proc/self/fd
 *   socket:[ino]; lseek/pread ESPIPE; SO_TYPE/SO_DOMAIN/SO_PROTOCOL,
 *   SO_SNDBUF/SO_RCVBUF doubling and minimums, SO_RCVTIMEO timeouts
 * - peer close: EOF; unread data makes the survivor see ECONNRESET;
 *   writes get EPIPE with SIGPIPE, or without it under MSG_NOSIGNAL
 * - listen/connect/accept over an abstract name: data sent before accept,
 *   accept4 flags, backlog limits, a listener closing with pending
 *   connections
 */
#include "t.h"
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <stddef.h>
#include <sys/random.h>

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

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void test_pair(void)
{
	int sv[2], n, v;
	char buf[64];
	struct stat st;
	socklen_t l;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write 5", write(sv[0], "hello", 5), 5);
	EXPECT_EQ("send 6", send(sv[0], " world", 6, 0), 6);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("recv peek 3", recv(sv[1], buf, 3, MSG_PEEK), 3);
	CHECK("peek data", memcmp(buf, "hel", 3) == 0);
	EXPECT_EQ("writes glued into one read", read(sv[1], buf, sizeof buf), 11);
	CHECK("stream data", memcmp(buf, "hello world", 11) == 0);
	EXPECT_EQ("other direction", write(sv[1], "back", 4), 4);
	EXPECT_EQ("read other direction", read(sv[0], buf, sizeof buf), 4);
	EXPECT_ERRNO("empty MSG_DONTWAIT -> EAGAIN", recv(sv[0], buf, 1, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ("zero-length read", read(sv[0], buf, 0), 0);
	EXPECT_EQ("zero-length write", write(sv[0], buf, 0), 0);
	EXPECT_ERRNO("nothing queued by zero-length write", recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);

	/* Short reads split a message; the rest stays. */
	EXPECT_EQ("write abcdef", write(sv[0], "abcdef", 6), 6);
	EXPECT_EQ("read 2", read(sv[1], buf, 2), 2);
	v = -1;
	CHECK("FIONREAD 4", ioctl(sv[1], FIONREAD, &v) == 0 && v == 4);
	CHECK("SIOCOUTQ nonzero while unread", ioctl(sv[0], SIOCOUTQ, &v) == 0 && v > 0);
	EXPECT_EQ("read rest", read(sv[1], buf, sizeof buf), 4);
	CHECK("rest data", memcmp(buf, "cdef", 4) == 0);
	CHECK("SIOCOUTQ 0 when read", ioctl(sv[0], SIOCOUTQ, &v) == 0 && v == 0);
	CHECK("SIOCINQ 0 when empty", ioctl(sv[1], SIOCINQ, &v) == 0 && v == 0);

	/* Vectors are one transfer. */
	{
		struct iovec w[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
		char x[2], y[10];
		struct iovec r[2] = {{x, 2}, {y, 10}};

		EXPECT_EQ("writev", writev(sv[0], w, 3), 5);
		EXPECT_EQ("readv gets all available", readv(sv[1], r, 2), 5);
		CHECK("readv data", memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);
		EXPECT_EQ("write 3", write(sv[0], "xyz", 3), 3);
		r[0].iov_len = 3;
		EXPECT_EQ("readv with exactly the data queued", readv(sv[1], r, 2), 3);
	}

	CHECK("fstat S_IFSOCK|0777", fstat(sv[0], &st) == 0 && st.st_mode == (S_IFSOCK | 0777));
	CHECK("fstat nlink 1 size 0", st.st_nlink == 1 && st.st_size == 0);
	{
		char p[64], link[64], want[64];
		ssize_t k;

		snprintf(p, sizeof p, "/proc/self/fd/%d", sv[0]);
		k = readlink(p, link, sizeof link - 1);
		link[k > 0 ? k : 0] = 0;
		snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
		CHECK("/proc/self/fd shows socket:[ino]", strcmp(link, want) == 0);
	}
	EXPECT_ERRNO("lseek -> ESPIPE", lseek(sv[0], 0, SEEK_CUR), ESPIPE);
	EXPECT_ERRNO("pread -> ESPIPE", pread(sv[0], buf, 1, 0), ESPIPE);
	EXPECT_ERRNO("fsync -> EINVAL", fsync(sv[0]), EINVAL);
	CHECK("F_GETFL O_RDWR", (fcntl(sv[0], F_GETFL) & O_ACCMODE) == O_RDWR);

	l = sizeof v;
	CHECK("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v == SOCK_STREAM && l == 4);
	CHECK("SO_DOMAIN", getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v == AF_UNIX);
	CHECK("SO_PROTOCOL", getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0 && v == 0);
	CHECK("SO_ACCEPTCONN 0", getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v == 0);
	CHECK("SO_ERROR 0", getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0);
	CHECK("SO_SNDBUF default", getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v == 212992);
	v = 10000;
	SYSOK("set SO_SNDBUF 10000", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	CHECK("SO_SNDBUF doubled", getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v == 20000);
	v = 1;
	SYSOK("set SO_SNDBUF 1", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	CHECK("SO_SNDBUF minimum", getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v == 4608);
	v = 0;
	SYSOK("set SO_RCVBUF 0", setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
	CHECK("SO_RCVBUF minimum", getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 && v == 2304);
	v = 1;
	l = 1;
	CHECK("getsockopt with optlen 1 truncates", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l) == 0 && l == 1);
	v = 1;
	SYSOK("SO_REUSEADDR accepted", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	l = sizeof v;
	CHECK("SO_REUSEADDR reads back", getsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, &l) == 0 && v == 1);
	{
		struct linger lg = {1, 5};

		SYSOK("SO_LINGER", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
		memset(&lg, 0, sizeof lg);
		l = sizeof lg;
		CHECK("SO_LINGER reads back", getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &l) == 0 &&
		      lg.l_onoff == 1 && lg.l_linger == 5 && l == sizeof lg);
	}
	{
		struct timeval tv = {0, 50000}, got;

		SYSOK("SO_RCVTIMEO 50ms", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
		l = sizeof got;
		CHECK("SO_RCVTIMEO reads back", getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &l) == 0 &&
		      got.tv_sec == 0 && got.tv_usec == 52000 && l == sizeof got);
		EXPECT_ERRNO("recv times out -> EAGAIN", recv(sv[1], buf, 1, 0), EAGAIN);
		tv.tv_sec = -1;
		SYSOK("negative SO_RCVTIMEO", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
		EXPECT_ERRNO("negative timeout never blocks", recv(sv[1], buf, 1, 0), EAGAIN);
		tv.tv_sec = tv.tv_usec = 0;
		SYSOK("SO_RCVTIMEO 0 is no timeout", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	}

	close(sv[0]);
	close(sv[1]);

	/* Flow control: fill the socket, then a forked reader drains it and
	 * the blocked writer completes. */
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	{
		static char big[300000];
		long sent = 0;
		pid_t pid;
		int e;

		SYSOK("fcntl O_NONBLOCK", fcntl(sv[0], F_SETFL, O_NONBLOCK));
		for (;;) {
			n = write(sv[0], big, sizeof big);
			if (n < 0)
				break;
			sent += n;
		}
		e = errno;
		EXPECT_EQ("full socket -> EAGAIN", e, EAGAIN);
		CHECK("some data was accepted", sent > 100000);
		CHECK("FIONREAD counts it", ioctl(sv[1], FIONREAD, &v) == 0 && v == sent);
		SYSOK("back to blocking", fcntl(sv[0], F_SETFL, 0));
		pid = fork();
		if (pid == 0) {
			long got = 0, want = sent + 100000;

			usleep(100000);
			while (got < want) {
				n = read(sv[1], big, sizeof big);
				if (n <= 0)
					_exit(1);
				got += n;
			}
			_exit(0);
		}
		EXPECT_EQ("blocking write completes once drained", write(sv[0], big, 100000), 100000);
		CHECK("reader got everything", child_ok(pid));
	}

	/* MSG_WAITALL waits for the whole buffer from several writes. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			for (int i = 0; i < 4; i++) {
				usleep(20000);
				if (write(sv[0], "ab", 2) != 2)
					_exit(1);
			}
			_exit(0);
		}
		memset(buf, 0, sizeof buf);
		EXPECT_EQ("MSG_WAITALL gets 8", recv(sv[1], buf, 8, MSG_WAITALL), 8);
		CHECK("MSG_WAITALL data", memcmp(buf, "abababab", 8) == 0);
		CHECK("writer ok", child_ok(pid));
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_close(void)
{
	int sv[2], v;
	char buf[16];
	socklen_t l = sizeof v;

	signal(SIGPIPE, on_sigpipe);
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write before close", write(sv[0], "bye", 3), 3);
	close(sv[0]);
	EXPECT_EQ("data still readable", read(sv[1], buf, sizeof buf), 3);
	EXPECT_EQ("then EOF", read(sv[1], buf, sizeof buf), 0);
	EXPECT_EQ("EOF again", read(sv[1], buf, sizeof buf), 0);
	sigpipes = 0;
	EXPECT_ERRNO("write to closed peer -> EPIPE", write(sv[1], "x", 1), EPIPE);
	EXPECT_EQ("with SIGPIPE", sigpipes, 1);
	EXPECT_ERRNO("MSG_NOSIGNAL -> EPIPE", send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	EXPECT_EQ("without SIGPIPE", sigpipes, 1);
	close(sv[1]);

	/* Closing with unread data resets the peer. */
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write to a", write(sv[0], "aa", 2), 2);
	EXPECT_EQ("write to b", write(sv[1], "bb", 2), 2);
	close(sv[1]);
	CHECK("SO_ERROR ECONNRESET", getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == ECONNRESET);
	CHECK("SO_ERROR cleared", getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l) == 0 && v == 0);
	EXPECT_EQ("queued data first", read(sv[0], buf, sizeof buf), 2);
	EXPECT_EQ("then EOF", read(sv[0], buf, sizeof buf), 0);
	close(sv[0]);
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("write to a", write(sv[0], "aa", 2), 2);
	EXPECT_EQ("write to b", write(sv[1], "bb", 2), 2);
	close(sv[1]);
	EXPECT_EQ("read data", read(sv[0], buf, sizeof buf), 2);
	EXPECT_ERRNO("then ECONNRESET", read(sv[0], buf, sizeof buf), ECONNRESET);
	EXPECT_EQ("then EOF", read(sv[0], buf, sizeof buf), 0);
	close(sv[0]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_listen(void)
{
	struct sockaddr_un a, peer;
	socklen_t al, pl;
	int l, c, c2, c3, s, v;
	char buf[16];
	pid_t pid;
	char name[64];

	unsigned int r = 0;

	getrandom(&r, sizeof r, 0);
	snprintf(name, sizeof name, "unix_stream-%08x", r);
	al = abstract_addr(&a, name);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYSOK("listener socket", l);
	SYSOK("bind abstract", bind(l, (struct sockaddr *)&a, al));
	SYSOK("listen 0", listen(l, 0));
	pl = sizeof v;
	CHECK("SO_ACCEPTCONN 1", getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &pl) == 0 && v == 1);
	EXPECT_ERRNO("nothing to accept -> EAGAIN", accept(l, NULL, NULL), EAGAIN);

	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("connect", connect(c, (struct sockaddr *)&a, al));
	EXPECT_EQ("send before accept", write(c, "early", 5), 5);
	c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_ERRNO("backlog 0 holds one: nonblocking connect -> EAGAIN", connect(c2, (struct sockaddr *)&a, al), EAGAIN);
	EXPECT_ERRNO("read on unaccepted listener -> EINVAL", read(l, buf, 1), EINVAL);
	v = -1;
	EXPECT_ERRNO("SIOCINQ on listener -> EINVAL", ioctl(l, SIOCINQ, &v), EINVAL);

	memset(&peer, 0xff, sizeof peer);
	pl = sizeof peer;
	s = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	SYSOK("accept4", s);
	CHECK("unbound peer: address length 2", pl == 2 && peer.sun_family == AF_UNIX);
	CHECK("SOCK_NONBLOCK", fcntl(s, F_GETFL) & O_NONBLOCK);
	CHECK("SOCK_CLOEXEC", fcntl(s, F_GETFD) == FD_CLOEXEC);
	EXPECT_EQ("data sent before accept", read(s, buf, sizeof buf), 5);
	CHECK("early data", memcmp(buf, "early", 5) == 0);
	EXPECT_ERRNO("accepted socket nonblocking -> EAGAIN", read(s, buf, 1), EAGAIN);
	pl = sizeof peer;
	CHECK("accepted socket's name is the listener's", getsockname(s, (struct sockaddr *)&peer, &pl) == 0 &&
	      pl == al && memcmp(&peer, &a, al) == 0);
	pl = sizeof peer;
	CHECK("client's peer is the listener's name", getpeername(c, (struct sockaddr *)&peer, &pl) == 0 &&
	      pl == al && memcmp(&peer, &a, al) == 0);
	SYSOK("now there is room: connect", connect(c2, (struct sockaddr *)&a, al));
	EXPECT_ERRNO("full backlog is checked first -> EAGAIN", connect(c2, (struct sockaddr *)&a, al), EAGAIN);
	close(s);
	close(c);
	v = accept(l, NULL, NULL);
	SYSOK("accept c2", v);
	EXPECT_ERRNO("connected again -> EISCONN", connect(c2, (struct sockaddr *)&a, al), EISCONN);
	close(v);

	/* A blocking accept is woken by a forked connector. */
	close(c2);
	SYSOK("listener blocking", fcntl(l, F_SETFL, 0));
	pid = fork();
	if (pid == 0) {
		int k = socket(AF_UNIX, SOCK_STREAM, 0);

		usleep(50000);
		if (connect(k, (struct sockaddr *)&a, al) != 0 || write(k, "hi", 2) != 2)
			_exit(1);
		_exit(0);
	}
	s = accept(l, NULL, NULL);
	SYSOK("blocking accept", s);
	EXPECT_EQ("read from forked client", read(s, buf, sizeof buf), 2);
	CHECK("client ok", child_ok(pid));
	EXPECT_EQ("client gone: EOF", read(s, buf, sizeof buf), 0);
	close(s);

	/* Closing a listener resets the connections nobody accepted. */
	SYSOK("listen 5", listen(l, 5));
	c3 = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("connect", connect(c3, (struct sockaddr *)&a, al));
	close(l);
	EXPECT_ERRNO("unaccepted connection reset", read(c3, buf, sizeof buf), ECONNRESET);
	EXPECT_EQ("then EOF", read(c3, buf, sizeof buf), 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO("name gone with the listener -> ECONNREFUSED", connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	close(c);
	close(c3);
}

int main(void)
{
	test_pair();
	test_close();
	test_listen();
	return t_done();
}
