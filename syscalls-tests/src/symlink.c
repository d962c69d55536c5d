/*
 * symlink: symlink(2), readlink(2), readlinkat(2).
 * - readlink returns the target without a NUL; a short buffer truncates
 * - readlink on a non-symlink -> EINVAL; missing -> ENOENT
 * - a dangling symlink: lstat works, stat -> ENOENT
 * - symlink onto an existing name -> EEXIST; empty target -> ENOENT
 * - relative targets resolve against the link's directory
 * - readlinkat with AT_FDCWD and with a dirfd
 */
#include "t.h"

int main(void)
{
	char buf[64];
	struct stat st;

	t_tmpdir("symlink");
	MUST("mkdir", mkdir("d", 0755));
	t_writefile("d/target", "T");
	SYSOK("symlink relative", symlink("target", "d/ln"));
	SYSOK("symlink dangling", symlink("nowhere", "dangling"));
	memset(buf, 'z', sizeof buf);
	EXPECT_EQ("readlink length", readlink("d/ln", buf, sizeof buf), 6);
	CHECK("no NUL appended", memcmp(buf, "target", 6) == 0 && buf[6] == 'z');
	memset(buf, 'z', sizeof buf);
	EXPECT_EQ("short buffer truncates", readlink("d/ln", buf, 3), 3);
	CHECK("truncated content", memcmp(buf, "tarz", 4) == 0);
	CHECK("relative target resolved in link's dir", stat("d/ln", &st) == 0 && S_ISREG(st.st_mode));
	EXPECT_ERRNO("readlink on file -> EINVAL", readlink("d/target", buf, sizeof buf), EINVAL);
	EXPECT_ERRNO("readlink on dir -> EINVAL", readlink("d", buf, sizeof buf), EINVAL);
	EXPECT_ERRNO("readlink missing -> ENOENT", readlink("nope", buf, sizeof buf), ENOENT);
	EXPECT_ERRNO("readlink bufsiz 0 -> EINVAL", syscall(SYS_readlink, "d/ln", buf, 0), EINVAL);
	CHECK("dangling lstat works", lstat("dangling", &st) == 0 && S_ISLNK(st.st_mode));
	EXPECT_ERRNO("dangling stat -> ENOENT", stat("dangling", &st), ENOENT);
	EXPECT_ERRNO("symlink existing -> EEXIST", symlink("x", "dangling"), EEXIST);
	EXPECT_ERRNO("symlink empty target -> ENOENT", symlink("", "empty"), ENOENT);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("readlinkat dirfd", readlinkat(dfd, "ln", buf, sizeof buf), 6);
	CHECK("readlinkat content", strcmp(buf, "target") == 0);
	SYSOK("symlinkat", symlinkat("/abs/path", dfd, "abs"));
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("absolute target kept verbatim", readlinkat(AT_FDCWD, "d/abs", buf, sizeof buf), 9);
	CHECK("absolute target content", strcmp(buf, "/abs/path") == 0);
	SYSOK("symlink to dir", symlink("d", "dl"));
	CHECK("path through dir symlink", stat("dl/target", &st) == 0 && S_ISREG(st.st_mode));
	close(dfd);
	return t_done();
}
