/*
 * socket_errors: the errno of every socket syscall error path, for
 * AF_UNIX and families the sentry does not provide in the same way on
 * every kernel (only ones whose answer does not depend on the host).
 * - socket/socketpair: unknown families (EAFNOSUPPORT), bad type flags
 *   and types beyond SOCK_MAX (EINVAL), AF_UNIX types and protocols
 *   (ESOCKTNOSUPPORT, EPROTONOSUPPORT), socketpair's EFAULT before all
 * - descriptors: EBADF (closed, negative, O_PATH), ENOTSOCK (files)
 * - addresses: length bounds (EINVAL), bad pointers (EFAULT), wrong
 *   family (EINVAL); getsockname/getpeername length handling
 * - listen/accept/connect state errors: EOPNOTSUPP, EINVAL, EISCONN,
 *   ENOTCONN, and bad accept4 flags
 * - sendto/recvfrom/sendmsg/recvmsg: buffers and msghdr fields (EFAULT,
 *   EINVAL, EMSGSIZE, ENOBUFS), MSG_CMSG_COMPAT (EINVAL), EISCONN and
 *   EOPNOTSUPP for addresses on streams, ENOTCONN (AF_UNIX never says
 *   EDESTADDRREQ), EINVAL for reads on unconnected streams
 * - setsockopt/getsockopt: lengths (EINVAL), pointers (EFAULT), unknown
 *   options (ENOPROTOOPT), read-only options, other levels (EOPNOTSUPP),
 *   EDOM for bad timeouts
 * - sendmmsg/recvmmsg: bad timeout (EINVAL), vlen 0, error after a
 *   datagram; ioctl: ENOTTY
 */
#include "t.h"
#include <netinet/in.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <linux/sockios.h>

static char *bad; /* an unmapped page */
static unsigned int rnd; /* makes abstract names unique */

static void test_create(void)
{
	int sv[2];

	EXPECT_ERRNO("socket family -1 -> EAFNOSUPPORT", socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("socket family AF_MAX -> EAFNOSUPPORT", socket(46, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("socket family 1000 -> EAFNOSUPPORT", socket(1000, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("socket AF_UNSPEC -> EAFNOSUPPORT", socket(AF_UNSPEC, SOCK_STREAM, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("unknown type flag -> EINVAL", socket(AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL);
	EXPECT_ERRNO("type 11 -> EINVAL", socket(AF_UNIX, 11, 0), EINVAL);
	EXPECT_ERRNO("type 15 -> EINVAL", socket(AF_UNIX, 15, 0), EINVAL);
	EXPECT_ERRNO("the family is checked before the type", socket(1000, 12, 0), EAFNOSUPPORT);
	EXPECT_ERRNO("AF_UNIX type 0 -> ESOCKTNOSUPPORT", socket(AF_UNIX, 0, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("AF_UNIX SOCK_RDM -> ESOCKTNOSUPPORT", socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("AF_UNIX SOCK_PACKET -> ESOCKTNOSUPPORT", socket(AF_UNIX, SOCK_PACKET, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("AF_UNIX protocol 2 -> EPROTONOSUPPORT", socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	EXPECT_ERRNO("protocol checked before the type", socket(AF_UNIX, SOCK_RDM, 2), EPROTONOSUPPORT);
	{
		int s = socket(AF_UNIX, SOCK_STREAM, PF_UNIX), v;
		socklen_t l = sizeof v;

		SYSOK("protocol PF_UNIX", s);
		CHECK("SO_PROTOCOL still 0", getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0 && v == 0);
		close(s);
		s = socket(AF_UNIX, SOCK_RAW, 0);
		SYSOK("SOCK_RAW", s);
		CHECK("SOCK_RAW is SOCK_DGRAM", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v == SOCK_DGRAM);
		close(s);
	}
	EXPECT_ERRNO("socketpair bad flags -> EINVAL", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv), EINVAL);
	EXPECT_ERRNO("socketpair bad pointer -> EFAULT", socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)bad), EFAULT);
	EXPECT_ERRNO("socketpair EFAULT before the family", socketpair(1000, SOCK_STREAM, 0, (int *)bad), EFAULT);
	EXPECT_ERRNO("socketpair family -> EAFNOSUPPORT", socketpair(1000, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
	EXPECT_ERRNO("socketpair type 0 -> ESOCKTNOSUPPORT", socketpair(AF_UNIX, 0, 0, sv), ESOCKTNOSUPPORT);
	EXPECT_ERRNO("socketpair protocol -> EPROTONOSUPPORT", socketpair(AF_UNIX, SOCK_DGRAM, 7, sv), EPROTONOSUPPORT);
	SYSOK("socketpair SOCK_CLOEXEC|SOCK_NONBLOCK", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv));
	CHECK("both ends cloexec and nonblocking", fcntl(sv[0], F_GETFD) == FD_CLOEXEC && fcntl(sv[1], F_GETFD) == FD_CLOEXEC &&
	      (fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK));
	close(sv[0]);
	close(sv[1]);
}

static void test_notsock(void)
{
	int f = open("/", O_RDONLY), p = open("/", O_PATH), c = socket(AF_UNIX, SOCK_STREAM, 0), v = 0;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t l = sizeof a;
	char buf[4];
	struct msghdr m = {0};

	close(c);
	EXPECT_ERRNO("bind on a closed fd -> EBADF", bind(c, (struct sockaddr *)&a, sizeof a), EBADF);
	EXPECT_ERRNO("bind on fd -1 -> EBADF", bind(-1, (struct sockaddr *)&a, sizeof a), EBADF);
	EXPECT_ERRNO("bind on O_PATH -> EBADF", bind(p, (struct sockaddr *)&a, sizeof a), EBADF);
	EXPECT_ERRNO("bind on a directory -> ENOTSOCK", bind(f, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
	EXPECT_ERRNO("listen -> ENOTSOCK", listen(f, 1), ENOTSOCK);
	EXPECT_ERRNO("accept -> ENOTSOCK", accept(f, NULL, NULL), ENOTSOCK);
	EXPECT_ERRNO("accept4 bad flags before ENOTSOCK -> EINVAL", accept4(f, NULL, NULL, 0x1), EINVAL);
	EXPECT_ERRNO("accept4 on a closed fd -> EBADF", accept4(c, NULL, NULL, 0x1), EBADF);
	EXPECT_ERRNO("connect -> ENOTSOCK", connect(f, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
	EXPECT_ERRNO("getsockname -> ENOTSOCK", getsockname(f, (struct sockaddr *)&a, &l), ENOTSOCK);
	EXPECT_ERRNO("getpeername -> ENOTSOCK", getpeername(f, (struct sockaddr *)&a, &l), ENOTSOCK);
	EXPECT_ERRNO("send -> ENOTSOCK", send(f, "x", 1, 0), ENOTSOCK);
	EXPECT_ERRNO("recv -> ENOTSOCK", recv(f, buf, 1, 0), ENOTSOCK);
	EXPECT_ERRNO("sendmsg -> ENOTSOCK", sendmsg(f, &m, 0), ENOTSOCK);
	EXPECT_ERRNO("recvmsg -> ENOTSOCK", recvmsg(f, &m, 0), ENOTSOCK);
	EXPECT_ERRNO("shutdown -> ENOTSOCK", shutdown(f, SHUT_RD), ENOTSOCK);
	EXPECT_ERRNO("setsockopt -> ENOTSOCK", setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), ENOTSOCK);
	EXPECT_ERRNO("getsockopt -> ENOTSOCK", getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK);
	EXPECT_ERRNO("getsockopt on O_PATH -> EBADF", getsockopt(p, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
	EXPECT_ERRNO("sendmmsg -> ENOTSOCK", syscall(SYS_sendmmsg, f, NULL, 0, 0), ENOTSOCK);
	EXPECT_ERRNO("recvmmsg -> ENOTSOCK", syscall(SYS_recvmmsg, f, NULL, 0, 0, NULL), ENOTSOCK);
	EXPECT_ERRNO("send with a bad buffer: EFAULT before EBADF", send(-1, (void *)-4096L, 10, 0), EFAULT);
	close(f);
	close(p);
}

static socklen_t abstract(struct sockaddr_un *a, char c)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, 100, "socket_errors-%c-%08x", c, rnd);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
}

static void test_addresses(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct sockaddr_storage big;
	socklen_t l;

	memset(&big, 0, sizeof big);
	big.ss_family = AF_UNIX;
	EXPECT_ERRNO("bind addrlen -1 -> EINVAL", bind(s, (struct sockaddr *)&a, -1), EINVAL);
	EXPECT_ERRNO("bind addrlen 129 -> EINVAL", bind(s, (struct sockaddr *)&big, 129), EINVAL);
	EXPECT_ERRNO("bind addrlen 111 -> EINVAL", bind(s, (struct sockaddr *)&big, 111), EINVAL);
	EXPECT_ERRNO("bind addrlen 1 -> EINVAL", bind(s, (struct sockaddr *)&a, 1), EINVAL);
	EXPECT_ERRNO("bind addrlen 0 -> EINVAL", bind(s, (struct sockaddr *)&a, 0), EINVAL);
	EXPECT_ERRNO("bind bad pointer -> EFAULT", bind(s, (struct sockaddr *)bad, sizeof a), EFAULT);
	a.sun_family = AF_INET;
	EXPECT_ERRNO("bind AF_INET address -> EINVAL", bind(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	EXPECT_ERRNO("autobind needs AF_UNIX -> EINVAL", bind(s, (struct sockaddr *)&a, 2), EINVAL);
	EXPECT_ERRNO("connect AF_INET address -> EINVAL", connect(s, (struct sockaddr *)&a, sizeof a), EINVAL);
	EXPECT_ERRNO("connect addrlen 2 -> EINVAL", connect(s, (struct sockaddr *)&(sa_family_t){AF_UNIX}, 2), EINVAL);
	EXPECT_ERRNO("connect addrlen 200 -> EINVAL", connect(s, (struct sockaddr *)&big, 200), EINVAL);
	EXPECT_ERRNO("connect bad pointer -> EFAULT", connect(s, (struct sockaddr *)bad, sizeof a), EFAULT);
	EXPECT_ERRNO("dgram connect addrlen 1 -> EINVAL", connect(d, (struct sockaddr *)&a, 1), EINVAL);
	EXPECT_ERRNO("sendto AF_INET address -> EINVAL", sendto(d, "x", 1, 0, (struct sockaddr *)&a, sizeof a), EINVAL);
	EXPECT_ERRNO("sendto addrlen -1 -> EINVAL", sendto(d, "x", 1, 0, (struct sockaddr *)&a, -1), EINVAL);
	EXPECT_ERRNO("sendto bad address -> EFAULT", sendto(d, "x", 1, 0, (struct sockaddr *)bad, 10), EFAULT);
	EXPECT_ERRNO("sendto address length 0 means none -> ENOTCONN", sendto(d, "x", 1, 0, (struct sockaddr *)&a, 0), ENOTCONN);

	EXPECT_ERRNO("getsockname bad length pointer -> EFAULT", getsockname(s, (struct sockaddr *)&a, (socklen_t *)bad), EFAULT);
	l = -1;
	EXPECT_ERRNO("getsockname negative length -> EINVAL", getsockname(s, (struct sockaddr *)&a, &l), EINVAL);
	l = 1;
	CHECK("getsockname length 1: full length reported", getsockname(s, (struct sockaddr *)&a, &l) == 0 && l == 2);
	l = sizeof a;
	EXPECT_ERRNO("getsockname bad buffer -> EFAULT", getsockname(s, (struct sockaddr *)bad, &l), EFAULT);
	l = 0;
	CHECK("getsockname length 0 with a bad buffer is fine", getsockname(s, (struct sockaddr *)bad, &l) == 0 && l == 2);
	l = sizeof a;
	EXPECT_ERRNO("getpeername unconnected -> ENOTCONN", getpeername(s, (struct sockaddr *)&a, &l), ENOTCONN);
	close(s);
	close(d);
}

static void test_states(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0), l, c, v;
	struct sockaddr_un a, b;
	socklen_t al = abstract(&a, 'l'), bl, vl;
	char buf[8];

	EXPECT_ERRNO("listen on dgram -> EOPNOTSUPP", listen(d, 1), EOPNOTSUPP);
	EXPECT_ERRNO("listen unbound -> EINVAL", listen(s, 1), EINVAL);
	EXPECT_ERRNO("accept on dgram -> EOPNOTSUPP", accept(d, NULL, NULL), EOPNOTSUPP);
	EXPECT_ERRNO("accept not listening -> EINVAL", accept(s, NULL, NULL), EINVAL);
	EXPECT_ERRNO("read unconnected stream -> EINVAL", read(s, buf, 1), EINVAL);
	EXPECT_ERRNO("recv unconnected stream -> EINVAL", recv(s, buf, 1, 0), EINVAL);
	EXPECT_EQ("zero-length read returns first", read(s, buf, 0), 0);
	EXPECT_ERRNO("write unconnected stream -> ENOTCONN", write(s, "x", 1), ENOTCONN);
	EXPECT_ERRNO("send unconnected dgram -> ENOTCONN (not EDESTADDRREQ)", send(d, "x", 1, 0), ENOTCONN);
	EXPECT_ERRNO("sendto unconnected stream with address -> EOPNOTSUPP", sendto(s, "x", 1, 0, (struct sockaddr *)&a, al), EOPNOTSUPP);

	l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST("bind", bind(l, (struct sockaddr *)&a, al));
	MUST("listen", listen(l, 4));
	SYSOK("listen again changes the backlog", listen(l, 8));
	SYSOK("negative backlog is the maximum", listen(l, -1));
	EXPECT_ERRNO("listening socket connects -> EINVAL", connect(l, (struct sockaddr *)&a, al), EINVAL);
	EXPECT_ERRNO("send on a listener -> ENOTCONN", send(l, "x", 1, 0), ENOTCONN);
	EXPECT_ERRNO("getpeername on a listener -> ENOTCONN", getpeername(l, (struct sockaddr *)&b, &(socklen_t){sizeof b}), ENOTCONN);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("connect", connect(c, (struct sockaddr *)&a, al));
	EXPECT_ERRNO("listen on a connected socket -> EINVAL", listen(c, 1), EINVAL);
	EXPECT_ERRNO("sendto connected stream with address -> EISCONN", sendto(c, "x", 1, 0, (struct sockaddr *)&a, al), EISCONN);
	bl = abstract(&b, 'n');
	EXPECT_ERRNO("connected stream to nowhere -> ECONNREFUSED", connect(c, (struct sockaddr *)&b, bl), ECONNREFUSED);
	EXPECT_ERRNO("connected stream again -> EISCONN", connect(c, (struct sockaddr *)&a, al), EISCONN);
	EXPECT_ERRNO("bind a bound name -> EADDRINUSE", bind(s, (struct sockaddr *)&a, al), EADDRINUSE);
	{
		int k = accept(l, (struct sockaddr *)&b, (socklen_t *)bad);

		EXPECT_EQ("accept with a bad length pointer -> EFAULT", k == -1 && errno == EFAULT, 1);
		c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		SYSOK("connect again", connect(c, (struct sockaddr *)&a, al));
		vl = -1;
		k = accept(l, (struct sockaddr *)&b, &vl);
		EXPECT_EQ("accept with a negative length -> EINVAL", k == -1 && errno == EINVAL, 1);
		SYSOK("listener nonblocking", fcntl(l, F_SETFL, O_NONBLOCK));
		EXPECT_ERRNO("those connections were consumed -> EAGAIN", accept(l, NULL, NULL), EAGAIN);
		EXPECT_ERRNO("accept4 unknown flag -> EINVAL", accept4(l, NULL, NULL, 0x10), EINVAL);
	}
	vl = sizeof v;
	EXPECT_ERRNO("SIOCINQ on a listener -> EINVAL", ioctl(l, SIOCINQ, &v), EINVAL);
	EXPECT_ERRNO("TCGETS on a socket -> ENOTTY", ioctl(s, TCGETS, buf), ENOTTY);
	EXPECT_ERRNO("SIOCINQ bad pointer -> EFAULT", ioctl(d, SIOCINQ, bad), EFAULT);
	close(c);
	close(l);
	close(s);
	close(d);
}

static void test_msghdr(void)
{
	int sv[2], d[2];
	char buf[8], ctl[64];
	struct iovec io = {buf, sizeof buf}, many[1025];
	struct msghdr m;
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSOK("dgram socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, d));
#define M() (memset(&m, 0, sizeof m), m.msg_iov = &io, (void)(m.msg_iovlen = 1))
	EXPECT_ERRNO("sendmsg bad msghdr -> EFAULT", sendmsg(sv[0], (struct msghdr *)bad, 0), EFAULT);
	EXPECT_ERRNO("recvmsg bad msghdr -> EFAULT", recvmsg(sv[0], (struct msghdr *)bad, 0), EFAULT);
	M();
	m.msg_name = &a;
	m.msg_namelen = -1;
	EXPECT_ERRNO("sendmsg negative namelen -> EINVAL", sendmsg(d[0], &m, 0), EINVAL);
	EXPECT_ERRNO("recvmsg negative namelen -> EINVAL", recvmsg(d[0], &m, MSG_DONTWAIT), EINVAL);
	M();
	m.msg_name = bad;
	m.msg_namelen = 10;
	EXPECT_ERRNO("sendmsg bad name -> EFAULT", sendmsg(d[0], &m, 0), EFAULT);
	M();
	m.msg_name = NULL;
	m.msg_namelen = 10;
	EXPECT_ERRNO("NULL name ignores namelen -> ENOTCONN", sendmsg(socket(AF_UNIX, SOCK_DGRAM, 0), &m, 0), ENOTCONN);
	M();
	m.msg_iovlen = 1025;
	m.msg_iov = many;
	EXPECT_ERRNO("1025 iovecs -> EMSGSIZE", sendmsg(sv[0], &m, 0), EMSGSIZE);
	EXPECT_ERRNO("recvmsg 1025 iovecs -> EMSGSIZE", recvmsg(sv[0], &m, 0), EMSGSIZE);
	M();
	m.msg_iov = (struct iovec *)bad;
	EXPECT_ERRNO("bad iovec array -> EFAULT", sendmsg(sv[0], &m, 0), EFAULT);
	M();
	io.iov_len = -1;
	EXPECT_ERRNO("negative iov_len -> EINVAL", sendmsg(sv[0], &m, 0), EINVAL);
	io.iov_base = bad;
	io.iov_len = 4;
	EXPECT_ERRNO("bad iov_base -> EFAULT", sendmsg(sv[0], &m, 0), EFAULT);
	io.iov_base = (void *)-8192L;
	EXPECT_ERRNO("kernel iov_base -> EFAULT", recvmsg(sv[0], &m, MSG_DONTWAIT), EFAULT);
	io.iov_base = buf;
	io.iov_len = sizeof buf;
	M();
	m.msg_control = ctl;
	m.msg_controllen = 1UL << 40;
	EXPECT_ERRNO("huge msg_controllen -> ENOBUFS", sendmsg(sv[0], &m, 0), ENOBUFS);
	m.msg_controllen = 200000;
	EXPECT_ERRNO("msg_controllen above optmem_max -> ENOBUFS", sendmsg(sv[0], &m, 0), ENOBUFS);
	m.msg_control = bad;
	m.msg_controllen = 32;
	EXPECT_ERRNO("bad msg_control -> EFAULT", sendmsg(sv[0], &m, 0), EFAULT);
	M();
	EXPECT_ERRNO("sendmsg MSG_CMSG_COMPAT -> EINVAL", sendmsg(sv[0], &m, 0x80000000), EINVAL);
	EXPECT_ERRNO("recvmsg MSG_CMSG_COMPAT -> EINVAL", recvmsg(sv[0], &m, 0x80000000), EINVAL);
	EXPECT_ERRNO("sendmmsg MSG_CMSG_COMPAT -> EINVAL", syscall(SYS_sendmmsg, sv[0], NULL, 1, 0x80000000), EINVAL);
	EXPECT_ERRNO("recvmmsg MSG_CMSG_COMPAT -> EINVAL", syscall(SYS_recvmmsg, sv[0], NULL, 1, 0x80000000, NULL), EINVAL);
	EXPECT_ERRNO("recv bad buffer -> EFAULT", recv(sv[0], (void *)-4096L, 4, 0), EFAULT);
	EXPECT_EQ("write", write(sv[1], "abcd", 4), 4);
	EXPECT_ERRNO("recv into an unmapped page -> EFAULT", recv(sv[0], bad, 4, 0), EFAULT);
	EXPECT_EQ("the data was not lost", recv(sv[0], buf, sizeof buf, 0), 4);
	EXPECT_EQ("dgram write", write(d[1], "abcd", 4), 4);
	EXPECT_ERRNO("dgram recv into an unmapped page -> EFAULT", recv(d[0], bad, 4, 0), EFAULT);
	EXPECT_ERRNO("the datagram was dropped", recv(d[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	EXPECT_EQ("write", write(sv[1], "abcd", 4), 4);
	{
		socklen_t fl = 10;
		struct sockaddr_un from;

		EXPECT_ERRNO("recvfrom bad length pointer -> EFAULT", recvfrom(sv[0], buf, 2, 0, (struct sockaddr *)&from, (socklen_t *)bad), EFAULT);
		fl = -1;
		EXPECT_ERRNO("recvfrom negative length -> EINVAL", recvfrom(sv[0], buf, 2, 0, (struct sockaddr *)&from, &fl), EINVAL);
	}
	EXPECT_ERRNO("the data went anyway", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	EXPECT_ERRNO("send bad buffer -> EFAULT", send(sv[0], bad, 4, 0), EFAULT);
	EXPECT_EQ("vlen 0", syscall(SYS_sendmmsg, sv[0], bad, 0, 0), 0);
	EXPECT_EQ("recvmmsg vlen 0", syscall(SYS_recvmmsg, sv[0], bad, 0, 0, NULL), 0);
	{
		struct timespec ts = {0, 1000000000};

		EXPECT_ERRNO("recvmmsg bad timeout -> EINVAL", syscall(SYS_recvmmsg, sv[0], bad, 1, 0, &ts), EINVAL);
		EXPECT_ERRNO("recvmmsg timeout pointer -> EFAULT", syscall(SYS_recvmmsg, sv[0], bad, 1, 0, bad), EFAULT);
		ts.tv_nsec = -1;
		EXPECT_ERRNO("recvmmsg negative nsec -> EINVAL", syscall(SYS_recvmmsg, sv[0], bad, 1, 0, &ts), EINVAL);
	}
	{
		struct mmsghdr mm[2];
		struct iovec io2 = {buf, 4};

		memset(mm, 0, sizeof mm);
		mm[0].msg_hdr.msg_iov = &io2;
		mm[0].msg_hdr.msg_iovlen = 1;
		mm[1].msg_hdr.msg_iov = (struct iovec *)bad;
		mm[1].msg_hdr.msg_iovlen = 1;
		EXPECT_EQ("sendmmsg: error after one counts one", syscall(SYS_sendmmsg, d[0], mm, 2, 0), 1);
		EXPECT_EQ("msg_len", mm[0].msg_len, 4);
		EXPECT_ERRNO("sendmmsg: error first -> EFAULT", syscall(SYS_sendmmsg, d[0], &mm[1], 1, 0), EFAULT);
		EXPECT_EQ("recvmmsg: error after one counts one", syscall(SYS_recvmmsg, d[1], mm, 2, MSG_DONTWAIT, NULL), 1);
		EXPECT_EQ("recvmmsg msg_len", mm[0].msg_len, 4);
	}
#undef M
	close(sv[0]);
	close(sv[1]);
	close(d[0]);
	close(d[1]);
}

static void test_sockopt(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), v = 1;
	socklen_t l;
	struct timeval tv;

	EXPECT_ERRNO("setsockopt negative optlen -> EINVAL", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, -1), EINVAL);
	EXPECT_ERRNO("setsockopt optlen 0 -> EINVAL", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 0), EINVAL);
	EXPECT_ERRNO("setsockopt optlen 3 -> EINVAL", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 3), EINVAL);
	EXPECT_ERRNO("setsockopt bad pointer -> EFAULT", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, bad, 4), EFAULT);
	SYSOK("setsockopt optlen longer than needed", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 1000));
	EXPECT_ERRNO("setsockopt unknown -> ENOPROTOOPT", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERRNO("SO_TYPE is read-only -> ENOPROTOOPT", setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERRNO("SO_ERROR is read-only -> ENOPROTOOPT", setsockopt(s, SOL_SOCKET, SO_ERROR, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERRNO("SO_PEERCRED is read-only -> ENOPROTOOPT", setsockopt(s, SOL_SOCKET, SO_PEERCRED, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERRNO("SO_SNDLOWAT is fixed -> ENOPROTOOPT", setsockopt(s, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof v), ENOPROTOOPT);
	EXPECT_ERRNO("SO_REUSEPORT on AF_UNIX -> EOPNOTSUPP", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, sizeof v), EOPNOTSUPP);
	v = 0;
	SYSOK("SO_REUSEPORT 0 is fine", setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, sizeof v));
	EXPECT_ERRNO("SOL_IP on AF_UNIX -> EOPNOTSUPP", setsockopt(s, SOL_IP, IP_TOS, &v, sizeof v), EOPNOTSUPP);
	EXPECT_ERRNO("SOL_TCP on AF_UNIX -> EOPNOTSUPP", setsockopt(s, IPPROTO_TCP, 1, &v, sizeof v), EOPNOTSUPP);
	EXPECT_ERRNO("SO_LINGER short -> EINVAL", setsockopt(s, SOL_SOCKET, SO_LINGER, &v, sizeof v), EINVAL);
	tv.tv_sec = 1;
	tv.tv_usec = 1000000;
	EXPECT_ERRNO("SO_RCVTIMEO usec 1000000 -> EDOM", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	tv.tv_usec = -1;
	EXPECT_ERRNO("SO_SNDTIMEO negative usec -> EDOM", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), EDOM);
	EXPECT_ERRNO("SO_RCVTIMEO short -> EINVAL", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	tv.tv_usec = 1;
	SYSOK("SO_SNDTIMEO 1s 1us", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	l = sizeof tv;
	CHECK("rounded up to a tick", getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 && tv.tv_sec == 1 && tv.tv_usec == 4000);

	l = sizeof v;
	EXPECT_ERRNO("getsockopt bad length pointer -> EFAULT", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)bad), EFAULT);
	EXPECT_ERRNO("getsockopt bad value pointer -> EFAULT", getsockopt(s, SOL_SOCKET, SO_TYPE, bad, &l), EFAULT);
	l = -1;
	EXPECT_ERRNO("getsockopt negative length -> EINVAL", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	l = sizeof v;
	EXPECT_ERRNO("getsockopt unknown -> ENOPROTOOPT", getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	EXPECT_ERRNO("getsockopt SOL_IP -> EOPNOTSUPP", getsockopt(s, SOL_IP, IP_TOS, &v, &l), EOPNOTSUPP);
	EXPECT_ERRNO("getsockopt SOL_IP looks at nothing -> EOPNOTSUPP", getsockopt(s, SOL_IP, IP_TOS, bad, (socklen_t *)(bad + 8)), EOPNOTSUPP);
	l = 0;
	CHECK("getsockopt length 0", getsockopt(s, SOL_SOCKET, SO_TYPE, bad, &l) == 0 && l == 0);
	l = 100;
	CHECK("getsockopt long buffer: length of the value", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && l == 4);
	l = sizeof v;
	CHECK("SO_SNDLOWAT is 1", getsockopt(s, SOL_SOCKET, SO_SNDLOWAT, &v, &l) == 0 && v == 1);
	{
		struct sockaddr_un a;

		l = sizeof a;
		EXPECT_ERRNO("SO_PEERNAME unconnected -> ENOTCONN", getsockopt(s, SOL_SOCKET, SO_PEERNAME, &a, &l), ENOTCONN);
	}
	close(s);
}

int main(void)
{
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", bad == MAP_FAILED ? -1 : 0);
	munmap(bad, 4096);
	getrandom(&rnd, sizeof rnd, 0);
	test_create();
	test_notsock();
	test_addresses();
	test_states();
	test_msghdr();
	test_sockopt();
	return t_done();
}
