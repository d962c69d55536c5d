/*
 * nlink: link counts (link(2), unlink(2), mkdir(2), rmdir(2), stat(2)).
 * - a new file has nlink 1; each hard link adds 1; unlink subtracts 1
 * - all names share one inode; data written via one name shows in the other
 * - a new directory has nlink 2; each subdirectory adds 1 to its parent
 * - an open file that is unlinked stays readable and fstat shows nlink 0
 */
#include "t.h"

static long nlink(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (long)st.st_nlink : -1;
}

int main(void)
{
	struct stat a, b;
	char buf[8] = { 0 };

	t_tmpdir("nlink");
	t_writefile("a", "data");
	EXPECT_EQ("new file nlink 1", nlink("a"), 1);
	SYSOK("link a b", link("a", "b"));
	EXPECT_EQ("nlink 2 after link", nlink("a"), 2);
	SYSOK("link a c", link("a", "c"));
	EXPECT_EQ("nlink 3 via other name", nlink("b"), 3);
	stat("a", &a);
	stat("c", &b);
	CHECK("same inode", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	SYSOK("unlink a", unlink("a"));
	EXPECT_EQ("nlink 2 after unlink", nlink("b"), 2);
	CHECK("unlinked name gone", nlink("a") == -1 && errno == ENOENT);

	int fd = open("b", O_RDWR);
	SYSOK("unlink b", unlink("b"));
	SYSOK("unlink c", unlink("c"));
	CHECK("fstat nlink 0 after last unlink", fstat(fd, &a) == 0 && a.st_nlink == 0);
	CHECK("unlinked file still readable", pread(fd, buf, 4, 0) == 4 && strcmp(buf, "data") == 0);
	CHECK("unlinked file still writable", pwrite(fd, "more", 4, 4) == 4);
	CHECK("size grew", fstat(fd, &a) == 0 && a.st_size == 8);
	close(fd);

	MUST("mkdir", mkdir("d", 0755));
	EXPECT_EQ("new dir nlink 2", nlink("d"), 2);
	long parent = nlink(".");
	MUST("mkdir sub", mkdir("d/s1", 0755));
	MUST("mkdir sub", mkdir("d/s2", 0755));
	EXPECT_EQ("dir nlink 4 with 2 subdirs", nlink("d"), 4);
	t_writefile("d/file", "x");
	EXPECT_EQ("files do not add to dir nlink", nlink("d"), 4);
	SYSOK("rmdir sub", rmdir("d/s1"));
	EXPECT_EQ("dir nlink 3 after rmdir", nlink("d"), 3);
	EXPECT_EQ("parent nlink unchanged by grandchildren", nlink("."), parent);
	return t_done();
}
