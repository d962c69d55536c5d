/*
 * rw_basic: read(2), write(2), pread(2), pwrite(2), readv(2), writev(2).
 * - write returns the count; read at EOF returns 0; a zero-length
 *   read/write returns 0
 * - pread/pwrite use the given offset and do not move the file offset
 * - pread with a negative offset -> EINVAL
 * - readv/writev scatter/gather in order; iovcnt > IOV_MAX (1024) or < 0
 *   -> EINVAL
 */
#include "t.h"
#include <limits.h>
#include <sys/uio.h>

int main(void)
{
	char buf[64];
	int fd;

	t_tmpdir("rw_basic");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	MUST("open", fd);
	EXPECT_EQ("write returns count", write(fd, "0123456789", 10), 10);
	EXPECT_EQ("zero-length write", write(fd, buf, 0), 0);
	EXPECT_EQ("offset after write", lseek(fd, 0, SEEK_CUR), 10);
	EXPECT_EQ("read at EOF returns 0", read(fd, buf, sizeof buf), 0);
	lseek(fd, 0, SEEK_SET);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("short read returns available bytes", read(fd, buf, sizeof buf), 10);
	CHECK("read data", memcmp(buf, "0123456789", 10) == 0);
	EXPECT_EQ("zero-length read", read(fd, buf, 0), 0);

	memset(buf, 0, sizeof buf);
	EXPECT_EQ("pread at 3", pread(fd, buf, 4, 3), 4);
	CHECK("pread data", memcmp(buf, "3456", 4) == 0);
	EXPECT_EQ("pread kept offset", lseek(fd, 0, SEEK_CUR), 10);
	EXPECT_EQ("pwrite at 2", pwrite(fd, "AB", 2, 2), 2);
	EXPECT_EQ("pwrite kept offset", lseek(fd, 0, SEEK_CUR), 10);
	EXPECT_EQ("pread past EOF returns 0", pread(fd, buf, 4, 100), 0);
	EXPECT_ERRNO("pread negative offset -> EINVAL", pread(fd, buf, 4, -1), EINVAL);
	EXPECT_ERRNO("pwrite negative offset -> EINVAL", pwrite(fd, buf, 4, -5), EINVAL);

	struct iovec iov[3] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "cde", .iov_len = 3 },
	};
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ("writev total", writev(fd, iov, 3), 5);
	char a[3] = { 0 }, b[4] = { 0 };
	struct iovec riov[2] = { { a, 2 }, { b, 3 } };
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ("readv total", readv(fd, riov, 2), 5);
	CHECK("readv scatter order", strcmp(a, "ab") == 0 && strcmp(b, "cde") == 0);
	memset(a, 0, sizeof a);
	EXPECT_EQ("preadv at 5", preadv(fd, riov, 1, 5), 2);
	CHECK("preadv data", strcmp(a, "56") == 0);
	EXPECT_ERRNO("writev iovcnt 1025 -> EINVAL", syscall(SYS_writev, fd, iov, IOV_MAX + 1), EINVAL);
	EXPECT_ERRNO("readv iovcnt -1 -> EINVAL", syscall(SYS_readv, fd, riov, -1), EINVAL);
	EXPECT_EQ("writev iovcnt 0", writev(fd, iov, 0), 0);

	memset(buf, 0, sizeof buf);
	EXPECT_EQ("final size", pread(fd, buf, sizeof buf, 0), 10);
	CHECK("final content", memcmp(buf, "abcde56789", 10) == 0);
	close(fd);
	return t_done();
}
