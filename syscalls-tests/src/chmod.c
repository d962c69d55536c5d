/*
 * chmod: chmod(2), fchmod(2), fchmodat(2).
 * - the permission bits read back exactly (including setuid/setgid/sticky
 *   on a file we own; 0 and 07777 round-trip via fchmod)
 * - chmod through a symlink changes the target, not the link
 * - the file type bits are never changed by chmod
 * - missing -> ENOENT; fchmod on a closed fd -> EBADF
 */
#include "t.h"

static unsigned mode(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (st.st_mode & 07777) : 0xffff;
}

int main(void)
{
	struct stat st;

	t_tmpdir("chmod");
	t_writefile("f", "x");
	MUST("symlink", symlink("f", "ln"));
	MUST("mkdir", mkdir("d", 0755));

	SYSOK("chmod 0600", chmod("f", 0600));
	EXPECT_EQ("mode 0600", mode("f"), 0600);
	SYSOK("chmod 0755", chmod("f", 0755));
	EXPECT_EQ("mode 0755", mode("f"), 0755);
	SYSOK("chmod 01777 on dir", chmod("d", 01777));
	EXPECT_EQ("dir sticky mode", mode("d"), 01777);
	CHECK("dir still a dir", stat("d", &st) == 0 && S_ISDIR(st.st_mode));
	int fd = open("f", O_RDONLY);
	SYSOK("fchmod 0", fchmod(fd, 0));
	EXPECT_EQ("mode 0", mode("f"), 0);
	SYSOK("fchmod 0640", fchmod(fd, 0640));
	EXPECT_EQ("mode 0640", mode("f"), 0640);
	CHECK("still regular", fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
	SYSOK("fchmod S_IFDIR|0644 keeps type", fchmod(fd, S_IFDIR | 0644));
	CHECK("type unchanged", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
	close(fd);
	EXPECT_ERRNO("fchmod closed fd -> EBADF", fchmod(fd, 0644), EBADF);
	SYSOK("chmod via symlink", chmod("ln", 0604));
	EXPECT_EQ("target changed", mode("f"), 0604);
	CHECK("link itself unchanged", lstat("ln", &st) == 0 && S_ISLNK(st.st_mode) && (st.st_mode & 0777) == 0777);
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	SYSOK("fchmodat", fchmodat(dfd, "f", 0620, 0));
	EXPECT_EQ("fchmodat mode", mode("f"), 0620);
	close(dfd);
	EXPECT_ERRNO("chmod missing -> ENOENT", chmod("nope", 0644), ENOENT);
	EXPECT_ERRNO("chmod through file -> ENOTDIR", chmod("f/x", 0644), ENOTDIR);
	return t_done();
}
