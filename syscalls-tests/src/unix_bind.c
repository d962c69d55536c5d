/*
 * unix_bind: AF_UNIX names (unix(7), net/unix/af_unix.c).
 * - paths in /tmp and in a directory of the root filesystem (next to the
 *   test binary): bind makes an S_IFSOCK node with mode 0777 & ~umask,
 *   connect finds the socket through it (also through a symlink and a
 *   hard link); EADDRINUSE for an existing name, ECONNREFUSED when nobody
 *   listens, for a regular file and after the socket closed; ENOENT and
 *   ENOTDIR from path lookup; EPROTOTYPE for a socket of another type;
 *   unlinking the node keeps the socket bound but unreachable
 * - getsockname/getpeername lengths as Linux reports them: 2 for unnamed
 *   sockets, strlen + 3 for paths (111 for a 108-byte path), the given
 *   length for abstract names, 8 for autobind's "\0xxxxx"
 * - a bound socket cannot bind again (EINVAL, and no node is made), but
 *   an existing name still says EADDRINUSE first; autobind on a bound
 *   socket is a no-op
 * - abstract names: EADDRINUSE within a type, independent per type,
 *   length matters; SO_PASSCRED autobinds on connect and send
 */
#include "t.h"
#include <libgen.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t path_addr(struct sockaddr_un *a, const char *p)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, p, strlen(p));
	return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, strlen(name));
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

/* test_dir runs the path checks with names under prefix ("" for the
 * working directory), reporting with tag. */
static void test_dir(const char *tag, const char *prefix)
{
	char what[128], p[200], q[200];
	struct sockaddr_un a, b, got;
	socklen_t al, bl, gl;
	struct stat st;
	int l, c, s, d;

#define W(s) (snprintf(what, sizeof what, "%s: %s", tag, s), what)
	snprintf(p, sizeof p, "%ss1", prefix);
	al = path_addr(&a, p);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK(W("bind"), bind(l, (struct sockaddr *)&a, al));
	CHECK(W("node is a socket with mode 0755"), lstat(p, &st) == 0 && st.st_mode == (S_IFSOCK | 0755));
	gl = sizeof got;
	CHECK(W("getsockname is the path as given"), getsockname(l, (struct sockaddr *)&got, &gl) == 0 &&
	      gl == al && strcmp(got.sun_path, p) == 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("nobody listening -> ECONNREFUSED"), connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYSOK(W("listen"), listen(l, 8));
	SYSOK(W("connect"), connect(c, (struct sockaddr *)&a, al));
	s = accept(l, NULL, NULL);
	SYSOK(W("accept"), s);
	EXPECT_EQ(W("data flows"), write(c, "x", 1), 1);
	CHECK(W("data arrives"), read(s, q, 1) == 1 && q[0] == 'x');
	gl = sizeof got;
	CHECK(W("getpeername of the client"), getpeername(c, (struct sockaddr *)&got, &gl) == 0 && gl == al &&
	      strcmp(got.sun_path, p) == 0);
	gl = sizeof got;
	CHECK(W("getpeername of the accepted: unnamed client"), getpeername(s, (struct sockaddr *)&got, &gl) == 0 && gl == 2);
	gl = sizeof got;
	CHECK(W("getsockname of the client: unnamed"), getsockname(c, (struct sockaddr *)&got, &gl) == 0 && gl == 2);
	close(s);
	close(c);

	/* The same name again. */
	d = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("bind existing socket node -> EADDRINUSE"), bind(d, (struct sockaddr *)&a, al), EADDRINUSE);
	snprintf(q, sizeof q, "%sfile", prefix);
	t_writefile(q, "x");
	bl = path_addr(&b, q);
	EXPECT_ERRNO(W("bind existing file -> EADDRINUSE"), bind(d, (struct sockaddr *)&b, bl), EADDRINUSE);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("connect to a regular file -> ECONNREFUSED"), connect(c, (struct sockaddr *)&b, bl), ECONNREFUSED);
	close(c);

	/* Symlinks and hard links lead to the socket. */
	snprintf(q, sizeof q, "%slink", prefix);
	SYSOK(W("symlink"), symlink("s1", q));
	bl = path_addr(&b, q);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK(W("connect through a symlink"), connect(c, (struct sockaddr *)&b, bl));
	close(c);
	EXPECT_ERRNO(W("bind on a symlink name -> EADDRINUSE"), bind(d, (struct sockaddr *)&b, bl), EADDRINUSE);
	snprintf(q, sizeof q, "%shard", prefix);
	SYSOK(W("link"), link(p, q));
	bl = path_addr(&b, q);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK(W("connect through a hard link"), connect(c, (struct sockaddr *)&b, bl));
	close(c);

	/* Type mismatch. */
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_ERRNO(W("dgram connect to a stream socket -> EPROTOTYPE"), connect(c, (struct sockaddr *)&a, al), EPROTOTYPE);
	EXPECT_ERRNO(W("dgram sendto a stream socket -> EPROTOTYPE"), sendto(c, "x", 1, 0, (struct sockaddr *)&a, al), EPROTOTYPE);
	close(c);

	/* Unlinking the node: still bound, but unreachable. */
	SYSOK(W("unlink s1"), unlink(p));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK(W("the hard link still works"), connect(c, (struct sockaddr *)&b, bl));
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("unlinked name -> ENOENT"), connect(c, (struct sockaddr *)&a, al), ENOENT);
	close(c);
	gl = sizeof got;
	CHECK(W("getsockname keeps the name"), getsockname(l, (struct sockaddr *)&got, &gl) == 0 && gl == al);
	SYSOK(W("a new socket can take the name"), bind(d, (struct sockaddr *)&a, al));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("the new one does not listen -> ECONNREFUSED"), connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	close(c);
	close(d);
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO(W("closed listener's node -> ECONNREFUSED"), connect(c, (struct sockaddr *)&b, bl), ECONNREFUSED);
	close(c);
	unlink(p);
	unlink(q);

	/* Binding twice. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(p, sizeof p, "%sd1", prefix);
	al = path_addr(&a, p);
	SYSOK(W("bind d1"), bind(s, (struct sockaddr *)&a, al));
	snprintf(q, sizeof q, "%sd2", prefix);
	bl = path_addr(&b, q);
	EXPECT_ERRNO(W("bound socket binds again -> EINVAL"), bind(s, (struct sockaddr *)&b, bl), EINVAL);
	EXPECT_ERRNO(W("and left no node"), lstat(q, &st), ENOENT);
	EXPECT_ERRNO(W("an existing name says EADDRINUSE first"), bind(s, (struct sockaddr *)&a, al), EADDRINUSE);
	SYSOK(W("autobind on a bound socket: no-op"), bind(s, (struct sockaddr *)&(sa_family_t){AF_UNIX}, sizeof(sa_family_t)));
	gl = sizeof got;
	CHECK(W("name unchanged"), getsockname(s, (struct sockaddr *)&got, &gl) == 0 && gl == al && strcmp(got.sun_path, p) == 0);
	close(s);
	unlink(p);
	snprintf(q, sizeof q, "%slink", prefix);
	unlink(q);

	/* Lookup errors. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(q, sizeof q, "%snodir/s", prefix);
	bl = path_addr(&b, q);
	EXPECT_ERRNO(W("bind in a missing directory -> ENOENT"), bind(c, (struct sockaddr *)&b, bl), ENOENT);
	EXPECT_ERRNO(W("connect in a missing directory -> ENOENT"), connect(c, (struct sockaddr *)&b, bl), ENOENT);
	snprintf(q, sizeof q, "%sfile/s", prefix);
	bl = path_addr(&b, q);
	EXPECT_ERRNO(W("bind under a file -> ENOTDIR"), bind(c, (struct sockaddr *)&b, bl), ENOTDIR);
	snprintf(q, sizeof q, "%snew/", prefix);
	bl = path_addr(&b, q);
	EXPECT_ERRNO(W("bind with a trailing slash -> ENOENT"), bind(c, (struct sockaddr *)&b, bl), ENOENT);
	close(c);

	snprintf(q, sizeof q, "%sfile", prefix);
	unlink(q);
#undef W
}

static void test_names(void)
{
	struct sockaddr_un a, got;
	socklen_t al, gl;
	char name[64], path[110];
	unsigned int r = 0;
	int s, s2, t, c;

	s = socket(AF_UNIX, SOCK_STREAM, 0);
	gl = sizeof got;
	CHECK("unbound getsockname: length 2", getsockname(s, (struct sockaddr *)&got, &gl) == 0 && gl == 2 &&
	      got.sun_family == AF_UNIX);
	EXPECT_ERRNO("unconnected getpeername -> ENOTCONN", getpeername(s, (struct sockaddr *)&got, &gl), ENOTCONN);

	/* A path filling all of sun_path. */
	memset(path, 'p', 108);
	path[108] = 0;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, path, 108);
	SYSOK("bind a 108-byte path", bind(s, (struct sockaddr *)&a, sizeof a));
	gl = sizeof got;
	CHECK("its length is 111", getsockname(s, (struct sockaddr *)&got, &gl) == 0 && gl == 111);
	close(s);
	unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, "short");
	SYSOK("bind with the whole sockaddr_un length", bind(s, (struct sockaddr *)&a, sizeof a));
	gl = sizeof got;
	CHECK("length is strlen + 3", getsockname(s, (struct sockaddr *)&got, &gl) == 0 && gl == 8);
	close(s);
	unlink("short");

	/* Abstract names. */
	getrandom(&r, sizeof r, 0);
	snprintf(name, sizeof name, "unix_bind-%08x", r);
	al = abstract_addr(&a, name);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYSOK("bind abstract", bind(s, (struct sockaddr *)&a, al));
	gl = sizeof got;
	CHECK("abstract getsockname: the given length", getsockname(s, (struct sockaddr *)&got, &gl) == 0 && gl == al &&
	      got.sun_path[0] == 0 && memcmp(got.sun_path + 1, name, strlen(name)) == 0);
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO("same abstract name -> EADDRINUSE", bind(s2, (struct sockaddr *)&a, al), EADDRINUSE);
	SYSOK("one byte longer is another name", bind(s2, (struct sockaddr *)&a, al + 1));
	t = socket(AF_UNIX, SOCK_DGRAM, 0);
	SYSOK("same name, other type", bind(t, (struct sockaddr *)&a, al));
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	SYSOK("dgram connect finds the dgram socket of the name", connect(c, (struct sockaddr *)&a, al));
	close(c);
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT_ERRNO("name bound only by stream sockets -> ECONNREFUSED for dgram", connect(c, (struct sockaddr *)&a, al + 1), ECONNREFUSED);
	close(c);
	EXPECT_ERRNO("bound socket binds abstract -> EINVAL", bind(s, (struct sockaddr *)&a, al + 2), EINVAL);
	close(s);
	close(s2);
	close(t);

	/* Autobind. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	SYSOK("autobind (bind with only sun_family)", bind(s, (struct sockaddr *)&(sa_family_t){AF_UNIX}, sizeof(sa_family_t)));
	memset(&got, 0, sizeof got);
	gl = sizeof got;
	CHECK("autobind name: length 8, abstract, 5 hex digits", getsockname(s, (struct sockaddr *)&got, &gl) == 0 &&
	      gl == 8 && got.sun_path[0] == 0 && strspn(got.sun_path + 1, "0123456789abcdef") == 5);
	close(s);
	{
		int on = 1, l, k;
		struct sockaddr_un b;
		socklen_t bl;

		snprintf(name, sizeof name, "unix_bind-l-%08x", r);
		bl = abstract_addr(&b, name);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
		MUST("bind", bind(l, (struct sockaddr *)&b, bl));
		MUST("listen", listen(l, 4));
		k = socket(AF_UNIX, SOCK_STREAM, 0);
		SYSOK("SO_PASSCRED", setsockopt(k, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
		SYSOK("connect", connect(k, (struct sockaddr *)&b, bl));
		gl = sizeof got;
		CHECK("SO_PASSCRED autobinds on connect", getsockname(k, (struct sockaddr *)&got, &gl) == 0 && gl == 8);
		c = accept(l, (struct sockaddr *)&got, &(socklen_t){sizeof got});
		SYSOK("accept", c);
		close(c);
		close(k);
		close(l);
		k = socket(AF_UNIX, SOCK_DGRAM, 0);
		t = socket(AF_UNIX, SOCK_DGRAM, 0);
		MUST("bind dgram", bind(t, (struct sockaddr *)&b, bl));
		SYSOK("SO_PASSCRED", setsockopt(k, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
		EXPECT_EQ("sendto", sendto(k, "x", 1, 0, (struct sockaddr *)&b, bl), 1);
		gl = sizeof got;
		CHECK("SO_PASSCRED autobinds on send", getsockname(k, (struct sockaddr *)&got, &gl) == 0 && gl == 8);
		close(k);
		close(t);
	}
}

int main(int argc, char **argv)
{
	char exe[4096], dir[4096 + 32], *d;
	ssize_t n;

	(void)argc;
	t_tmpdir("unix_bind");
	{
		char pre[300];

		snprintf(pre, sizeof pre, "%s/", t_dir);
		test_dir("/tmp", pre);
	}
	test_dir("cwd", "");
	test_names();

	/* The root filesystem: a directory next to the test binary. */
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(exe, sizeof exe, "%s", argv[0]);
		n = strlen(exe);
	}
	exe[n] = 0;
	d = dirname(exe);
	snprintf(dir, sizeof dir, "%s/unix_bind.XXXXXX", d);
	MUST("mkdtemp next to the binary", mkdtemp(dir) ? 0 : -1);
	MUST("chdir", chdir(dir));
	test_dir("rootfs", "");
	MUST("chdir back", chdir(t_dir));
	t_rmtree(dir);
	return t_done();
}
