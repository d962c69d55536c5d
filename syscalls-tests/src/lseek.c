/*
 * lseek: lseek(2) whence semantics.
 * - SEEK_SET/SEEK_CUR/SEEK_END return the new offset
 * - a resulting negative offset -> EINVAL; bad whence -> EINVAL
 * - seeking past EOF is allowed; writing there leaves a hole that reads as 0
 * - lseek on a pipe -> ESPIPE
 * - SEEK_DATA/SEEK_HOLE at/after EOF -> ENXIO
 */
#include "t.h"

int main(void)
{
	char buf[16];
	int fd, p[2];

	t_tmpdir("lseek");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	MUST("open", fd);
	MUST("write", write(fd, "0123456789", 10));
	EXPECT_EQ("SEEK_SET 4", lseek(fd, 4, SEEK_SET), 4);
	EXPECT_EQ("SEEK_CUR +2", lseek(fd, 2, SEEK_CUR), 6);
	EXPECT_EQ("SEEK_CUR -1", lseek(fd, -1, SEEK_CUR), 5);
	EXPECT_EQ("SEEK_END 0", lseek(fd, 0, SEEK_END), 10);
	EXPECT_EQ("SEEK_END -3", lseek(fd, -3, SEEK_END), 7);
	CHECK("read at offset 7", read(fd, buf, 1) == 1 && buf[0] == '7');
	EXPECT_ERRNO("SEEK_SET -1 -> EINVAL", lseek(fd, -1, SEEK_SET), EINVAL);
	EXPECT_ERRNO("SEEK_CUR to negative -> EINVAL", lseek(fd, -100, SEEK_CUR), EINVAL);
	EXPECT_ERRNO("SEEK_END to negative -> EINVAL", lseek(fd, -11, SEEK_END), EINVAL);
	EXPECT_EQ("offset unchanged after failed seek", lseek(fd, 0, SEEK_CUR), 8);
	EXPECT_ERRNO("whence 42 -> EINVAL", lseek(fd, 0, 42), EINVAL);
	EXPECT_EQ("seek past EOF", lseek(fd, 20, SEEK_SET), 20);
	EXPECT_EQ("write past EOF", write(fd, "X", 1), 1);
	EXPECT_EQ("size grew to 21", lseek(fd, 0, SEEK_END), 21);
	memset(buf, 'z', sizeof buf);
	EXPECT_EQ("read hole", pread(fd, buf, 10, 10), 10);
	int zeros = 1;
	for (int i = 0; i < 10; i++)
		zeros &= buf[i] == 0;
	CHECK("hole reads as zeros", zeros);
	EXPECT_EQ("SEEK_DATA at 0", lseek(fd, 0, SEEK_DATA), 0);
	EXPECT_ERRNO("SEEK_DATA at EOF -> ENXIO", lseek(fd, 21, SEEK_DATA), ENXIO);
	EXPECT_ERRNO("SEEK_HOLE past EOF -> ENXIO", lseek(fd, 30, SEEK_HOLE), ENXIO);
	close(fd);
	MUST("pipe", pipe(p));
	EXPECT_ERRNO("lseek on pipe -> ESPIPE", lseek(p[0], 0, SEEK_CUR), ESPIPE);
	close(p[0]);
	close(p[1]);
	EXPECT_ERRNO("lseek on closed fd -> EBADF", lseek(p[0], 0, SEEK_SET), EBADF);
	return t_done();
}
