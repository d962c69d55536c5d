/*
 * eisdir: directories cannot be opened for writing or read with read(2)
 * (open(2): "EISDIR pathname refers to a directory and the access requested
 * involved writing"; read(2): "EISDIR fd refers to a directory").
 */
#include "t.h"

int main(void)
{
	char buf[16];

	t_tmpdir("eisdir");
	MUST("mkdir", mkdir("d", 0755));
	EXPECT_ERRNO("open dir O_WRONLY -> EISDIR", open("d", O_WRONLY), EISDIR);
	EXPECT_ERRNO("open dir O_RDWR -> EISDIR", open("d", O_RDWR), EISDIR);
	EXPECT_ERRNO("open dir O_CREAT -> EISDIR", open("d", O_CREAT | O_WRONLY, 0644), EISDIR);
	EXPECT_ERRNO("open dir O_TRUNC|O_WRONLY -> EISDIR", open("d", O_WRONLY | O_TRUNC), EISDIR);
	EXPECT_ERRNO("open / O_WRONLY -> EISDIR", open("/", O_WRONLY), EISDIR);
	int fd = open("d", O_RDONLY);
	CHECK("open dir O_RDONLY", fd >= 0);
	EXPECT_ERRNO("read dir fd -> EISDIR", read(fd, buf, sizeof buf), EISDIR);
	EXPECT_ERRNO("write dir fd (O_RDONLY) -> EBADF", write(fd, "x", 1), EBADF);
	EXPECT_ERRNO("pread dir fd -> EISDIR", pread(fd, buf, sizeof buf, 0), EISDIR);
	close(fd);
	EXPECT_ERRNO("creat dir -> EISDIR", creat("d", 0644), EISDIR);
	EXPECT_ERRNO("truncate dir -> EISDIR", truncate("d", 0), EISDIR);
	return t_done();
}
