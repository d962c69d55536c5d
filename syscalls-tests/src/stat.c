/*
 * stat: stat(2), lstat(2), fstat(2), newfstatat (fstatat(2)) field
 * relationships.
 * - a regular file: S_ISREG, st_size == bytes written, st_nlink == 1,
 *   st_blksize > 0; stat, fstat and fstatat agree on st_dev/st_ino
 * - a directory: S_ISDIR, st_nlink >= 2
 * - lstat of a symlink: S_ISLNK, st_size == strlen(target); stat follows it
 * - AT_SYMLINK_NOFOLLOW behaves like lstat; AT_EMPTY_PATH stats the fd
 * - missing -> ENOENT; bad flags -> EINVAL; empty path without
 *   AT_EMPTY_PATH -> ENOENT
 */
#include "t.h"

int main(void)
{
	struct stat a, b, c, d;
	int fd, dfd;

	t_tmpdir("stat");
	t_writefile("f", "twelve bytes");
	MUST("symlink", symlink("f", "ln"));
	MUST("mkdir", mkdir("d", 0755));

	SYSOK("stat file", stat("f", &a));
	CHECK("S_ISREG", S_ISREG(a.st_mode));
	EXPECT_EQ("st_size", a.st_size, 12);
	EXPECT_EQ("st_nlink", a.st_nlink, 1);
	CHECK("st_blksize > 0", a.st_blksize > 0);
	EXPECT_EQ("permission bits 0644", a.st_mode & 07777, 0644);
	CHECK("st_ino != 0", a.st_ino != 0);
	CHECK("owner is euid", a.st_uid == geteuid());
	fd = open("f", O_RDONLY);
	SYSOK("fstat", fstat(fd, &b));
	CHECK("fstat same dev/ino", a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	dfd = open(".", O_RDONLY | O_DIRECTORY);
	SYSOK("fstatat relative", fstatat(dfd, "f", &c, 0));
	CHECK("fstatat same ino", c.st_ino == a.st_ino && c.st_size == 12);
	SYSOK("fstatat AT_EMPTY_PATH", fstatat(fd, "", &d, AT_EMPTY_PATH));
	CHECK("AT_EMPTY_PATH same ino", d.st_ino == a.st_ino);
	EXPECT_ERRNO("empty path without AT_EMPTY_PATH -> ENOENT", fstatat(fd, "", &d, 0), ENOENT);
	EXPECT_ERRNO("fstatat bad flags -> EINVAL", fstatat(dfd, "f", &d, 0x40000000), EINVAL);
	close(fd);

	SYSOK("lstat symlink", lstat("ln", &b));
	CHECK("S_ISLNK", S_ISLNK(b.st_mode));
	EXPECT_EQ("symlink size == strlen(target)", b.st_size, 1);
	CHECK("symlink has its own inode", b.st_ino != a.st_ino);
	SYSOK("stat follows symlink", stat("ln", &c));
	CHECK("stat(symlink) is the file", c.st_ino == a.st_ino && S_ISREG(c.st_mode));
	SYSOK("fstatat AT_SYMLINK_NOFOLLOW", fstatat(dfd, "ln", &d, AT_SYMLINK_NOFOLLOW));
	CHECK("AT_SYMLINK_NOFOLLOW is lstat", S_ISLNK(d.st_mode) && d.st_ino == b.st_ino);
	SYSOK("lstat regular file", lstat("f", &d));
	CHECK("lstat(file) == stat(file)", d.st_ino == a.st_ino && S_ISREG(d.st_mode));

	SYSOK("stat dir", stat("d", &b));
	CHECK("S_ISDIR", S_ISDIR(b.st_mode));
	CHECK("dir nlink >= 2", b.st_nlink >= 2);
	CHECK("dir same device as file", b.st_dev == a.st_dev);
	SYSOK("stat /", stat("/", &b));
	CHECK("/ is dir", S_ISDIR(b.st_mode));
	EXPECT_ERRNO("stat missing -> ENOENT", stat("nope", &b), ENOENT);
	EXPECT_ERRNO("lstat missing -> ENOENT", lstat("nope", &b), ENOENT);
	EXPECT_ERRNO("stat through file -> ENOTDIR", stat("f/x", &b), ENOTDIR);
	close(dfd);
	return t_done();
}
