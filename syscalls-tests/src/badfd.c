/*
 * badfd: operations on closed or invalid descriptors fail with EBADF
 * (read(2), write(2), close(2), fstat(2), fcntl(2), dup(2), fsync(2),
 * ftruncate(2), getdents64(2), fchdir(2): "EBADF fd is not a valid file
 * descriptor").
 */
#include "t.h"
#include <sys/uio.h>

int main(void)
{
	char buf[8];
	struct stat st;
	int fd = open("/dev/null", O_RDONLY);
	MUST("open", fd);
	MUST("close", close(fd));

	EXPECT_ERRNO("read closed fd", read(fd, buf, 1), EBADF);
	EXPECT_ERRNO("write closed fd", write(fd, "x", 1), EBADF);
	EXPECT_ERRNO("close closed fd", close(fd), EBADF);
	EXPECT_ERRNO("fstat closed fd", fstat(fd, &st), EBADF);
	EXPECT_ERRNO("fcntl F_GETFD closed fd", fcntl(fd, F_GETFD), EBADF);
	EXPECT_ERRNO("dup closed fd", dup(fd), EBADF);
	EXPECT_ERRNO("dup2 from closed fd", dup2(fd, 50), EBADF);
	EXPECT_ERRNO("fsync closed fd", fsync(fd), EBADF);
	EXPECT_ERRNO("ftruncate closed fd", ftruncate(fd, 0), EBADF);
	EXPECT_ERRNO("fchdir closed fd", fchdir(fd), EBADF);
	EXPECT_ERRNO("getdents64 closed fd", syscall(SYS_getdents64, fd, buf, sizeof buf), EBADF);
	EXPECT_ERRNO("read fd -1", read(-1, buf, 1), EBADF);
	EXPECT_ERRNO("write fd -1", write(-1, "x", 1), EBADF);
	EXPECT_ERRNO("close fd -1", close(-1), EBADF);
	EXPECT_ERRNO("read fd 100000", read(100000, buf, 1), EBADF);
	EXPECT_ERRNO("close fd INT_MAX", close(0x7fffffff), EBADF);
	struct iovec iov = { buf, 1 };
	EXPECT_ERRNO("readv closed fd", readv(fd, &iov, 1), EBADF);
	EXPECT_ERRNO("pread closed fd", pread(fd, buf, 1, 0), EBADF);
	EXPECT_ERRNO("fstatat with closed dirfd", fstatat(fd, "x", &st, 0), EBADF);
	return t_done();
}
