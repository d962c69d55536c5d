/*
 * unlink: unlink(2), unlinkat(2).
 * - unlink removes a file; a symlink is removed, not its target
 * - unlink of a directory -> EISDIR (Linux); missing -> ENOENT
 * - unlinkat(AT_REMOVEDIR) removes an empty dir, non-empty -> ENOTEMPTY,
 *   on a file -> ENOTDIR; unknown flags -> EINVAL
 * - an open fd stays usable after unlink
 */
#include "t.h"

int main(void)
{
	struct stat st;

	t_tmpdir("unlink");
	t_writefile("f", "x");
	t_writefile("target", "t");
	MUST("symlink", symlink("target", "ln"));
	MUST("mkdir", mkdir("d", 0755));
	MUST("mkdir", mkdir("full", 0755));
	t_writefile("full/x", "x");

	int fd = open("f", O_RDONLY);
	SYSOK("unlink file", unlink("f"));
	CHECK("file gone", stat("f", &st) == -1 && errno == ENOENT);
	CHECK("open fd still valid", fstat(fd, &st) == 0 && st.st_nlink == 0);
	close(fd);
	SYSOK("unlink symlink", unlink("ln"));
	CHECK("target kept", stat("target", &st) == 0);
	EXPECT_ERRNO("unlink dir -> EISDIR", unlink("d"), EISDIR);
	EXPECT_ERRNO("unlink missing -> ENOENT", unlink("nope"), ENOENT);
	EXPECT_ERRNO("unlink through file -> ENOTDIR", unlink("target/x"), ENOTDIR);
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	EXPECT_ERRNO("unlinkat bad flags -> EINVAL", unlinkat(dfd, "target", 0x1), EINVAL);
	EXPECT_ERRNO("unlinkat AT_REMOVEDIR on file -> ENOTDIR", unlinkat(dfd, "target", AT_REMOVEDIR), ENOTDIR);
	EXPECT_ERRNO("unlinkat AT_REMOVEDIR non-empty -> ENOTEMPTY", unlinkat(dfd, "full", AT_REMOVEDIR), ENOTEMPTY);
	EXPECT_ERRNO("unlinkat 0 on dir -> EISDIR", unlinkat(dfd, "d", 0), EISDIR);
	SYSOK("unlinkat AT_REMOVEDIR empty dir", unlinkat(dfd, "d", AT_REMOVEDIR));
	CHECK("dir gone", stat("d", &st) == -1);
	SYSOK("unlinkat file", unlinkat(dfd, "full/x", 0));
	SYSOK("unlinkat now-empty dir", unlinkat(dfd, "full", AT_REMOVEDIR));
	close(dfd);
	return t_done();
}
