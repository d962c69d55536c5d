/*
 * dev_null_zero: null(4) and zero(4).
 * - /dev/null: writes succeed with the full count, reads return 0 (EOF);
 *   it is a character device (1,3); isatty() is false (ENOTTY)
 * - /dev/zero: reads fill the buffer with zeros, any size; writes succeed;
 *   character device (1,5)
 * - lseek on both succeeds
 */
#include "t.h"
#include <sys/sysmacros.h>

int main(void)
{
	static char buf[65536];
	struct stat st;

	int n = open("/dev/null", O_RDWR);
	CHECK("open /dev/null", n >= 0);
	CHECK("/dev/null is char dev 1,3", fstat(n, &st) == 0 && S_ISCHR(st.st_mode) &&
						 major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
	EXPECT_EQ("write to /dev/null", write(n, buf, sizeof buf), (long)sizeof buf);
	EXPECT_EQ("read from /dev/null is EOF", read(n, buf, sizeof buf), 0);
	errno = 0;
	int tty = isatty(n), e = errno;
	CHECK("isatty(/dev/null) false", tty == 0);
	CHECK("isatty errno ENOTTY", e == ENOTTY);
	SYSOK("lseek /dev/null", lseek(n, 100, SEEK_SET));
	close(n);
	CHECK("stat /dev/null world rw", stat("/dev/null", &st) == 0 && (st.st_mode & 0666) == 0666);

	int z = open("/dev/zero", O_RDWR);
	CHECK("open /dev/zero", z >= 0);
	CHECK("/dev/zero is char dev 1,5", fstat(z, &st) == 0 && S_ISCHR(st.st_mode) &&
						 major(st.st_rdev) == 1 && minor(st.st_rdev) == 5);
	memset(buf, 'x', sizeof buf);
	EXPECT_EQ("read 64 KiB from /dev/zero", read(z, buf, sizeof buf), (long)sizeof buf);
	int allzero = 1;
	for (size_t i = 0; i < sizeof buf; i++)
		allzero &= buf[i] == 0;
	CHECK("all zeros", allzero);
	EXPECT_EQ("write to /dev/zero", write(z, "abc", 3), 3);
	EXPECT_EQ("pread /dev/zero", pread(z, buf, 10, 12345), 10);
	CHECK("isatty(/dev/zero) false", isatty(z) == 0);
	close(z);
	return t_done();
}
