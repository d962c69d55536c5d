/*
 * unix_scm: control messages on AF_UNIX sockets (unix(7), cmsg(3)).
 * - SCM_RIGHTS across fork: a forked child sends a file and a socket; the
 *   parent reads the file through the received descriptor and talks over
 *   the socket; MSG_CMSG_CLOEXEC sets FD_CLOEXEC (and shows in msg_flags)
 * - truncated control data: as many descriptors as fit are installed,
 *   MSG_CTRUNC is set, the rest are closed; no control buffer or
 *   read(2) loses them all; MSG_PEEK installs copies
 * - files in flight are closed when the receiving socket is; sockets that
 *   only hold each other in flight (a closed cycle) are collected
 * - a stream read stops after a message carrying files; files sent with
 *   no data on a stream are dropped
 * - sendmsg errors: bad descriptor EBADF, more than 253 EINVAL, bad
 *   cmsg_len EINVAL, unknown SOL_SOCKET type EINVAL, other levels ignored
 * - SCM_CREDENTIALS and SO_PASSCRED: the sender's PID and IDs; explicit
 *   credentials; a PID that does not exist -> ESRCH; credentials come
 *   before rights; a short buffer truncates them
 * - SO_PEERCRED: socketpair, connect/accept across fork, unconnected
 */
#include "t.h"
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>

static int child_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* nfds counts open descriptors below 256. */
static int nfds(void)
{
	int n = 0;

	for (int fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* send_fds sends data with an SCM_RIGHTS message carrying fds. */
static ssize_t send_fds(int s, const char *data, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 300)];
	struct iovec io = {(void *)data, len};
	struct msghdr m = {0};
	struct cmsghdr *c;

	memset(ctl, 0, sizeof ctl);
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

/* recv_fds receives into buf with a control buffer of ctllen bytes (no
 * buffer if ctllen < 0) and returns the received descriptors in fds. */
static ssize_t recv_fds(int s, char *buf, size_t len, int ctllen, int flags, int *fds, int *nfd, struct msghdr *out)
{
	static char ctl[4096];
	struct iovec io = {buf, len};
	struct msghdr m = {0};
	struct cmsghdr *c;
	ssize_t r;

	memset(ctl, 0, sizeof ctl);
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	if (ctllen >= 0) {
		m.msg_control = ctl;
		m.msg_controllen = ctllen;
	}
	r = recvmsg(s, &m, flags);
	*nfd = 0;
	if (r >= 0 && ctllen > 0) {
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
					fds[(*nfd)++] = ((int *)CMSG_DATA(c))[i];
	}
	if (out)
		*out = m;
	return r;
}

static void test_fork(void)
{
	int sv[2], fds[8], n, base;
	char buf[64];
	struct msghdr m;
	pid_t pid;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	if (pid == 0) {
		int f, p[2], got;
		char b[16];

		close(sv[0]);
		t_writefile("passed.txt", "from the child");
		f = open("passed.txt", O_RDONLY);
		if (f < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0)
			_exit(1);
		if (send_fds(sv[1], "F", 1, (int[]){f, p[0]}, 2) != 1)
			_exit(2);
		close(f);
		close(p[0]);
		/* The parent answers over the passed socket. */
		got = read(p[1], b, sizeof b);
		if (got != 5 || memcmp(b, "thanks", 5) != 0)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	base = nfds();
	EXPECT_EQ("receive the child's message", recv_fds(sv[0], buf, sizeof buf, 256, MSG_CMSG_CLOEXEC, fds, &n, &m), 1);
	EXPECT_EQ("two descriptors", n, 2);
	EXPECT_EQ("installed", nfds(), base + 2);
	CHECK("MSG_CMSG_CLOEXEC in msg_flags", m.msg_flags == MSG_CMSG_CLOEXEC);
	CHECK("msg_controllen", m.msg_controllen == CMSG_SPACE(2 * sizeof(int)));
	CHECK("FD_CLOEXEC set", fcntl(fds[0], F_GETFD) == FD_CLOEXEC && fcntl(fds[1], F_GETFD) == FD_CLOEXEC);
	memset(buf, 0, sizeof buf);
	CHECK("read the child's file through the passed descriptor",
	      read(fds[0], buf, sizeof buf) == 14 && strcmp(buf, "from the child") == 0);
	EXPECT_EQ("write over the passed socket", write(fds[1], "thanks", 5), 5);
	CHECK("child ok", child_ok(pid));
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	unlink("passed.txt");
}

static void test_truncation(void)
{
	int sv[2], d[2], fds[8], n, base, k;
	char buf[16];
	struct msghdr m;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	SYSOK("spare pair", socketpair(AF_UNIX, SOCK_STREAM, 0, d));
	base = nfds();

	EXPECT_EQ("send two fds", send_fds(sv[0], "a", 1, d, 2), 1);
	EXPECT_EQ("room for one", recv_fds(sv[1], buf, sizeof buf, CMSG_LEN(sizeof(int)), 0, fds, &n, &m), 1);
	EXPECT_EQ("one installed", n, 1);
	CHECK("MSG_CTRUNC", m.msg_flags == MSG_CTRUNC);
	EXPECT_EQ("msg_controllen", m.msg_controllen, CMSG_LEN(sizeof(int)));
	CHECK("without MSG_CMSG_CLOEXEC: no FD_CLOEXEC", fcntl(fds[0], F_GETFD) == 0);
	EXPECT_EQ("the other was closed", nfds(), base + 1);
	close(fds[0]);

	EXPECT_EQ("send two fds", send_fds(sv[0], "b", 1, d, 2), 1);
	EXPECT_EQ("no control buffer", recv_fds(sv[1], buf, sizeof buf, -1, 0, fds, &n, &m), 1);
	CHECK("MSG_CTRUNC", m.msg_flags == MSG_CTRUNC);
	EXPECT_EQ("nothing installed", nfds(), base);
	EXPECT_EQ("send two fds", send_fds(sv[0], "c", 1, d, 2), 1);
	EXPECT_EQ("control buffer of length 0", recv_fds(sv[1], buf, sizeof buf, 0, 0, fds, &n, &m), 1);
	CHECK("MSG_CTRUNC, controllen 0", m.msg_flags == MSG_CTRUNC && m.msg_controllen == 0);
	EXPECT_EQ("nothing installed", nfds(), base);
	EXPECT_EQ("send two fds", send_fds(sv[0], "d", 1, d, 2), 1);
	EXPECT_EQ("read(2)", read(sv[1], buf, sizeof buf), 1);
	EXPECT_EQ("nothing installed", nfds(), base);

	EXPECT_EQ("send one fd", send_fds(sv[0], "e", 1, d, 1), 1);
	EXPECT_EQ("MSG_PEEK", recv_fds(sv[1], buf, sizeof buf, 256, MSG_PEEK, fds, &n, NULL), 1);
	EXPECT_EQ("peek installs a copy", n, 1);
	k = fds[0];
	EXPECT_EQ("receive", recv_fds(sv[1], buf, sizeof buf, 256, 0, fds, &n, NULL), 1);
	CHECK("and receiving installs another", n == 1 && fds[0] != k);
	EXPECT_EQ("two new descriptors", nfds(), base + 2);
	close(k);
	close(fds[0]);

	/* Files in flight die with the receiving socket: d[0]'s only other
	 * reference is queued, so d[1] sees EOF once sv[1] closes. */
	EXPECT_EQ("send d[0]", send_fds(sv[0], "f", 1, d, 1), 1);
	close(d[0]);
	EXPECT_ERRNO("d[0] still open in flight", recv(d[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	close(sv[1]);
	EXPECT_EQ("closed with its receiver: EOF", read(d[1], buf, 1), 0);
	close(sv[0]);
	close(d[1]);
}

static void test_stream_rights(void)
{
	int sv[2], d[2], fds[8], n, base;
	char buf[16];

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYSOK("spare pair", socketpair(AF_UNIX, SOCK_STREAM, 0, d));
	base = nfds();
	EXPECT_EQ("no data, one fd: nothing sent", send_fds(sv[0], "", 0, d, 1), 0);
	EXPECT_ERRNO("nothing to receive", recv_fds(sv[1], buf, sizeof buf, 256, MSG_DONTWAIT, fds, &n, NULL), EAGAIN);
	EXPECT_EQ("plain data", write(sv[0], "ab", 2), 2);
	EXPECT_EQ("data with a file", send_fds(sv[0], "cd", 2, d, 1), 2);
	EXPECT_EQ("more data", write(sv[0], "ef", 2), 2);
	EXPECT_EQ("read stops after the file", recv_fds(sv[1], buf, sizeof buf, 256, 0, fds, &n, NULL), 4);
	CHECK("one file", n == 1 && nfds() == base + 1);
	close(fds[0]);
	EXPECT_EQ("rest", recv_fds(sv[1], buf, sizeof buf, 256, 0, fds, &n, NULL), 2);
	EXPECT_EQ("no file", n, 0);
	close(sv[0]);
	close(sv[1]);
	close(d[0]);
	close(d[1]);
}

static void test_errors(void)
{
	int sv[2], fds[256], i;
	char ctl[64];
	struct iovec io = {"x", 1};
	struct msghdr m = {0};
	struct cmsghdr *c;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	EXPECT_ERRNO("bad descriptor -> EBADF", send_fds(sv[0], "x", 1, (int[]){999}, 1), EBADF);
	EXPECT_ERRNO("negative descriptor -> EBADF", send_fds(sv[0], "x", 1, (int[]){-1}, 1), EBADF);
	for (i = 0; i < 254; i++)
		fds[i] = sv[0];
	EXPECT_ERRNO("254 descriptors -> EINVAL", send_fds(sv[0], "x", 1, fds, 254), EINVAL);
	EXPECT_EQ("253 are fine", send_fds(sv[0], "x", 1, fds, 253), 1);
	{
		char buf[4];
		int got[256], n;

		EXPECT_EQ("receive 253", recv_fds(sv[1], buf, sizeof buf, 4096, 0, got, &n, NULL), 1);
		EXPECT_EQ("253 installed", n, 253);
		for (i = 0; i < n; i++)
			close(got[i]);
	}
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	memset(ctl, 0, sizeof ctl);
	c = (struct cmsghdr *)ctl;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = 8;
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	EXPECT_ERRNO("cmsg_len below the header -> EINVAL", sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_len = 100;
	EXPECT_ERRNO("cmsg_len beyond the buffer -> EINVAL", sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 99;
	EXPECT_ERRNO("unknown SOL_SOCKET type -> EINVAL", sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_level = SOL_IP;
	EXPECT_EQ("other levels are ignored", sendmsg(sv[0], &m, 0), 1);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	EXPECT_ERRNO("SCM_CREDENTIALS of the wrong size -> EINVAL", sendmsg(sv[0], &m, 0), EINVAL);
	m.msg_controllen = 8;
	EXPECT_EQ("control shorter than a header is ignored", sendmsg(sv[0], &m, 0), 1);
	close(sv[0]);
	close(sv[1]);
}

static ssize_t send_creds(int fd, pid_t pid, uid_t uid, gid_t gid, const int *f)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
	struct msghdr m = {0};
	struct iovec io = {"c", 1};
	struct cmsghdr *c;
	struct ucred u = {pid, uid, gid};

	memset(ctl, 0, sizeof ctl);
	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = CMSG_SPACE(sizeof u) + (f ? CMSG_SPACE(sizeof(int)) : 0);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof u);
	memcpy(CMSG_DATA(c), &u, sizeof u);
	if (f) {
		c = CMSG_NXTHDR(&m, c);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), f, sizeof(int));
	}
	return sendmsg(fd, &m, 0);
}

/* recv_creds receives one byte and returns the SCM_CREDENTIALS found (pid
 * -2 if none) and the types of the control messages in order. */
static struct ucred recv_creds(int fd, int ctllen, int *types, int *ntypes, int *flags)
{
	char buf[4], ctl[256];
	struct iovec io = {buf, sizeof buf};
	struct msghdr m = {0};
	struct cmsghdr *c;
	struct ucred u = {-2, 0, 0};

	m.msg_iov = &io;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = ctllen;
	*ntypes = 0;
	if (recvmsg(fd, &m, MSG_DONTWAIT) < 0)
		return u;
	*flags = m.msg_flags;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		types[(*ntypes)++] = c->cmsg_type;
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof u))
			memcpy(&u, CMSG_DATA(c), sizeof u);
		if (c->cmsg_type == SCM_RIGHTS)
			close(*(int *)CMSG_DATA(c));
	}
	return u;
}

static void test_creds(void)
{
	int sv[2], on = 1, types[4], nt, fl;
	struct ucred u;
	pid_t pid;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	EXPECT_EQ("send without SO_PASSCRED", send(sv[0], "x", 1, 0), 1);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("no control data without SO_PASSCRED", u.pid == -2 && nt == 0);
	SYSOK("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	pid = fork();
	if (pid == 0)
		_exit(send(sv[0], "x", 1, 0) == 1 ? 0 : 1);
	CHECK("child sent", child_ok(pid));
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("credentials of the forked sender", u.pid == pid && u.uid == getuid() && u.gid == getgid() && nt == 1);
	EXPECT_EQ("explicit own credentials", send_creds(sv[0], getpid(), 0, 0, NULL), 1);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("explicit credentials arrive", u.pid == getpid() && u.uid == 0 && u.gid == 0);
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	EXPECT_EQ("root may claim another live PID and IDs", send_creds(sv[0], pid, 1000, 1000, NULL), 1);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("claimed credentials arrive", u.pid == pid && u.uid == 1000 && u.gid == 1000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	EXPECT_ERRNO("a PID that does not exist -> ESRCH", send_creds(sv[0], 99999, 0, 0, NULL), ESRCH);
	EXPECT_ERRNO("uid -1 -> EINVAL", send_creds(sv[0], getpid(), -1, 0, NULL), EINVAL);
	EXPECT_EQ("credentials and a file", send_creds(sv[0], getpid(), 0, 0, &sv[0]), 1);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("credentials first, then rights", nt == 2 && types[0] == SCM_CREDENTIALS && types[1] == SCM_RIGHTS);
	EXPECT_EQ("send", send(sv[0], "x", 1, 0), 1);
	u = recv_creds(sv[1], CMSG_LEN(4), types, &nt, &fl);
	CHECK("short buffer truncates the credentials", fl == MSG_CTRUNC && u.pid == -2 && nt == 1);
	close(sv[0]);
	close(sv[1]);

	/* A message sent before the receiver asked for credentials. */
	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ("send a", send(sv[0], "a", 1, 0), 1);
	SYSOK("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	EXPECT_EQ("send b", send(sv[0], "b", 1, 0), 1);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("no credentials recorded: pid 0, overflow IDs", u.pid == 0 && u.uid == 65534 && u.gid == 65534);
	u = recv_creds(sv[1], 256, types, &nt, &fl);
	CHECK("different writers are not glued", u.pid == getpid());
	close(sv[0]);
	close(sv[1]);
}

static void test_peercred(void)
{
	int sv[2], l, s;
	struct ucred u;
	socklen_t ul = sizeof u;
	struct sockaddr_un a;
	socklen_t al;
	unsigned int r = 0;
	pid_t pid;

	SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK("socketpair SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 &&
	      u.pid == getpid() && u.uid == geteuid() && u.gid == getegid() && ul == sizeof u);
	ul = 4;
	CHECK("short optlen", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 && ul == 4);
	close(sv[0]);
	close(sv[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ul = sizeof u;
	CHECK("unconnected: pid 0, IDs -1", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 &&
	      u.pid == 0 && u.uid == (uid_t)-1 && u.gid == (gid_t)-1);
	close(s);

	getrandom(&r, sizeof r, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	al = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(a.sun_path + 1, 100, "unix_scm-%08x", r);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST("bind", bind(l, (struct sockaddr *)&a, al));
	MUST("listen", listen(l, 4));
	ul = sizeof u;
	CHECK("listener: its own credentials", getsockopt(l, SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 && u.pid == getpid());
	pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		struct ucred v;
		socklen_t vl = sizeof v;
		char b;

		if (connect(c, (struct sockaddr *)&a, al) != 0)
			_exit(1);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &v, &vl) != 0 || v.pid != getppid())
			_exit(2);
		_exit(read(c, &b, 1) == 0 ? 0 : 3);
	}
	s = accept(l, NULL, NULL);
	SYSOK("accept", s);
	ul = sizeof u;
	CHECK("accepted: the connecting child", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &ul) == 0 && u.pid == pid);
	close(s);
	CHECK("child saw the listener's credentials", child_ok(pid));
	close(l);
}

/* A cycle: a and b hold each other in their queues, and x hangs off it.
 * Once all three are closed nothing can reach them; the collector, run
 * when some socket is released, frees them, and x's peer sees EOF. */
static void test_gc(void)
{
	int ab[2], xy[2], other[2];
	char buf[4];
	struct pollfd p;

	SYSOK("socketpair a b", socketpair(AF_UNIX, SOCK_STREAM, 0, ab));
	SYSOK("socketpair x y", socketpair(AF_UNIX, SOCK_STREAM, 0, xy));
	EXPECT_EQ("a into b's queue", send_fds(ab[0], "a", 1, &ab[0], 1), 1);
	EXPECT_EQ("b and x into a's queue", send_fds(ab[1], "b", 1, (int[]){ab[1], xy[0]}, 2), 1);
	close(ab[0]);
	close(ab[1]);
	close(xy[0]);
	EXPECT_ERRNO("x still open", recv(xy[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	SYSOK("another socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, other));
	close(other[0]);
	close(other[1]);
	p.fd = xy[1];
	p.events = POLLIN;
	CHECK("the cycle is collected: x's peer sees EOF", poll(&p, 1, 5000) == 1 && read(xy[1], buf, 1) == 0);
	close(xy[1]);
}

int main(void)
{
	t_tmpdir("unix_scm");
	test_fork();
	test_truncation();
	test_stream_rights();
	test_errors();
	test_creds();
	test_peercred();
	test_gc();
	return t_done();
}
