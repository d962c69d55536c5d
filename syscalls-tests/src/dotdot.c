/*
 * dotdot: ".." at the root stays at the root (path_resolution(7): "in the
 * root directory, .. is the same as .").
 * - chdir("/"), chdir("..") -> getcwd "/"
 * - "/..", "/../..", "/../tmp" resolve like "/", "/", "/tmp"
 * - "." and ".." inside paths; openat(dirfd_of_root, "..") is the root
 */
#include "t.h"

static int same(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int main(void)
{
	char buf[300];
	struct stat st, rt;

	SYSOK("chdir /", chdir("/"));
	SYSOK("chdir ..", chdir(".."));
	CHECK("getcwd still /", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
	SYSOK("chdir ../../..", chdir("../../.."));
	CHECK("getcwd still / after ../../..", getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0);
	CHECK("/.. is /", same("/..", "/"));
	CHECK("/../.. is /", same("/../..", "/"));
	CHECK("/./. is /", same("/./.", "/"));
	CHECK("/../tmp is /tmp", same("/../tmp", "/tmp"));
	CHECK("/tmp/.. is /", same("/tmp/..", "/"));
	CHECK(".. from / is /", same("..", "/"));
	CHECK("//tmp is /tmp", same("//tmp", "/tmp"));
	int rfd = open("/", O_RDONLY | O_DIRECTORY);
	int pfd = openat(rfd, "..", O_RDONLY | O_DIRECTORY);
	CHECK("openat(root, ..)", pfd >= 0);
	CHECK("is the root", fstat(pfd, &st) == 0 && stat("/", &rt) == 0 && st.st_ino == rt.st_ino && st.st_dev == rt.st_dev);
	close(pfd);
	close(rfd);
	t_tmpdir("dotdot");
	MUST("mkdir", mkdir("a", 0755));
	MUST("mkdir", mkdir("a/b", 0755));
	CHECK("a/b/.. is a", same("a/b/..", "a"));
	CHECK("a/./b/../. is a", same("a/./b/../.", "a"));
	CHECK(". is cwd", same(".", t_dir));
	snprintf(buf, sizeof buf, "%s/../..", t_dir);
	CHECK("tmpdir/../.. is /", same(buf, "/"));
	return t_done();
}
