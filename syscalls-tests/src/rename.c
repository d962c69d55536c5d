/*
 * rename: rename(2), renameat(2).
 * - a file replaces an existing file atomically; the old name disappears
 * - a dir replaces an empty dir; a non-empty target -> ENOTEMPTY
 * - dir over file -> ENOTDIR; file over dir -> EISDIR
 * - a dir into its own subdirectory -> EINVAL
 * - renaming a name to itself (or a hard link onto its twin) succeeds and
 *   changes nothing
 * - missing source -> ENOENT; renameat honours both dirfds
 */
#include "t.h"

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

int main(void)
{
	char buf[16] = { 0 };

	t_tmpdir("rename");
	t_writefile("a", "AAA");
	t_writefile("b", "BBB");
	SYSOK("rename file over file", rename("a", "b"));
	CHECK("old name gone", !exists("a"));
	int fd = open("b", O_RDONLY);
	CHECK("target has source content", read(fd, buf, 3) == 3 && strcmp(buf, "AAA") == 0);
	close(fd);
	MUST("mkdir", mkdir("d1", 0755));
	MUST("mkdir", mkdir("d2", 0755));
	MUST("mkdir", mkdir("full", 0755));
	t_writefile("full/x", "x");
	t_writefile("d1/inside", "x");
	SYSOK("rename dir over empty dir", rename("d1", "d2"));
	CHECK("content moved", exists("d2/inside") && !exists("d1"));
	EXPECT_ERRNO("dir over non-empty dir -> ENOTEMPTY", rename("d2", "full"), ENOTEMPTY);
	EXPECT_ERRNO("dir over file -> ENOTDIR", rename("d2", "b"), ENOTDIR);
	EXPECT_ERRNO("file over dir -> EISDIR", rename("b", "d2"), EISDIR);
	EXPECT_ERRNO("dir into own subdir -> EINVAL", rename("d2", "d2/sub"), EINVAL);
	EXPECT_ERRNO("missing source -> ENOENT", rename("nope", "x"), ENOENT);
	EXPECT_ERRNO("target in missing dir -> ENOENT", rename("b", "nodir/x"), ENOENT);
	SYSOK("rename to itself", rename("b", "b"));
	CHECK("still there", exists("b"));
	MUST("link", link("b", "b2"));
	SYSOK("rename onto own hard link", rename("b", "b2"));
	CHECK("both names remain (POSIX no-op)", exists("b") && exists("b2"));
	int d2 = open("d2", O_RDONLY | O_DIRECTORY);
	int fl = open("full", O_RDONLY | O_DIRECTORY);
	SYSOK("renameat across dirfds", renameat(d2, "inside", fl, "moved"));
	CHECK("moved via dirfds", exists("full/moved") && !exists("d2/inside"));
	close(d2);
	close(fl);
	MUST("symlink", symlink("b", "ln"));
	SYSOK("rename symlink", rename("ln", "ln2"));
	struct stat st;
	CHECK("renamed link is still a link", lstat("ln2", &st) == 0 && S_ISLNK(st.st_mode));
	return t_done();
}
