/*
 * mkdir_rmdir: mkdir(2), mkdirat(2), rmdir(2).
 * - mkdir of an existing name (dir, file or dangling symlink) -> EEXIST
 * - mkdir in a missing parent -> ENOENT; under a file -> ENOTDIR
 * - rmdir of a non-empty dir -> ENOTEMPTY; of a file -> ENOTDIR;
 *   of "." -> EINVAL; of a missing dir -> ENOENT
 * - the mode is masked by umask; mkdirat honours dirfd
 */
#include "t.h"

int main(void)
{
	struct stat st;

	t_tmpdir("mkdir_rmdir");
	t_writefile("f", "x");
	MUST("symlink", symlink("nowhere", "dangling"));
	SYSOK("mkdir", mkdir("d", 0755));
	CHECK("is dir with mode 0755", stat("d", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	EXPECT_ERRNO("mkdir existing dir -> EEXIST", mkdir("d", 0755), EEXIST);
	EXPECT_ERRNO("mkdir existing file -> EEXIST", mkdir("f", 0755), EEXIST);
	EXPECT_ERRNO("mkdir dangling symlink -> EEXIST", mkdir("dangling", 0755), EEXIST);
	EXPECT_ERRNO("mkdir missing parent -> ENOENT", mkdir("no/sub", 0755), ENOENT);
	EXPECT_ERRNO("mkdir under file -> ENOTDIR", mkdir("f/sub", 0755), ENOTDIR);
	SYSOK("mkdir 0700 & umask", mkdir("p", 0777));
	CHECK("mode 0755 after umask 022", stat("p", &st) == 0 && (st.st_mode & 0777) == 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	SYSOK("mkdirat", mkdirat(dfd, "sub", 0700));
	CHECK("mkdirat created d/sub", stat("d/sub", &st) == 0 && S_ISDIR(st.st_mode));
	t_writefile("d/sub/file", "x");
	EXPECT_ERRNO("rmdir non-empty -> ENOTEMPTY", rmdir("d"), ENOTEMPTY);
	EXPECT_ERRNO("rmdir non-empty sub -> ENOTEMPTY", rmdir("d/sub"), ENOTEMPTY);
	EXPECT_ERRNO("rmdir file -> ENOTDIR", rmdir("f"), ENOTDIR);
	EXPECT_ERRNO("rmdir . -> EINVAL", rmdir("d/sub/."), EINVAL);
	EXPECT_ERRNO("rmdir missing -> ENOENT", rmdir("nope"), ENOENT);
	EXPECT_ERRNO("rmdir symlink -> ENOTDIR", rmdir("dangling"), ENOTDIR);
	MUST("unlink", unlink("d/sub/file"));
	SYSOK("rmdir now empty", rmdir("d/sub"));
	CHECK("gone", stat("d/sub", &st) == -1 && errno == ENOENT);
	EXPECT_ERRNO("mkdirat closed dirfd -> EBADF", mkdirat(999, "x", 0755), EBADF);
	close(dfd);
	SYSOK("rmdir d", rmdir("d"));
	return t_done();
}
