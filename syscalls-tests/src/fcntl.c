/*
 * fcntl: fcntl(2) descriptor and status flags.
 * - F_GETFL reports the access mode; F_SETFL changes O_APPEND/O_NONBLOCK
 *   but ignores the access mode and creation flags
 * - F_GETFD/F_SETFD round-trip FD_CLOEXEC
 * - F_DUPFD returns the lowest free fd >= arg; F_DUPFD_CLOEXEC sets the flag
 * - unknown command -> EINVAL; F_DUPFD with negative arg -> EINVAL
 */
#include "t.h"

int main(void)
{
	int fd, fl, d;

	t_tmpdir("fcntl");
	fd = open("f", O_RDWR | O_CREAT, 0644);
	MUST("open", fd);
	fl = fcntl(fd, F_GETFL);
	CHECK("F_GETFL access mode O_RDWR", (fl & O_ACCMODE) == O_RDWR);
	CHECK("F_GETFL no O_APPEND", !(fl & O_APPEND));
	SYSOK("F_SETFL O_APPEND|O_NONBLOCK", fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK));
	fl = fcntl(fd, F_GETFL);
	CHECK("O_APPEND set", (fl & O_APPEND) != 0);
	CHECK("O_NONBLOCK set", (fl & O_NONBLOCK) != 0);
	SYSOK("F_SETFL O_RDONLY ignored", fcntl(fd, F_SETFL, O_RDONLY));
	fl = fcntl(fd, F_GETFL);
	CHECK("access mode unchanged", (fl & O_ACCMODE) == O_RDWR);
	CHECK("O_APPEND cleared", !(fl & O_APPEND));
	SYSOK("F_SETFL O_CREAT|O_TRUNC ignored", fcntl(fd, F_SETFL, O_CREAT | O_TRUNC | O_EXCL));
	CHECK("creation flags not reported", !(fcntl(fd, F_GETFL) & (O_CREAT | O_TRUNC | O_EXCL)));

	EXPECT_EQ("F_GETFD initially 0", fcntl(fd, F_GETFD), 0);
	SYSOK("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	EXPECT_EQ("F_GETFD FD_CLOEXEC", fcntl(fd, F_GETFD), FD_CLOEXEC);
	SYSOK("F_SETFD 0", fcntl(fd, F_SETFD, 0));
	EXPECT_EQ("F_GETFD cleared", fcntl(fd, F_GETFD), 0);

	d = fcntl(fd, F_DUPFD, 100);
	EXPECT_EQ("F_DUPFD >= 100", d, 100);
	EXPECT_EQ("F_DUPFD next is 101", fcntl(fd, F_DUPFD, 100), 101);
	CHECK("F_DUPFD clears cloexec", fcntl(101, F_GETFD) == 0);
	close(101);
	d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	EXPECT_EQ("F_DUPFD_CLOEXEC reuses 101", d, 101);
	EXPECT_EQ("F_DUPFD_CLOEXEC sets FD_CLOEXEC", fcntl(d, F_GETFD), FD_CLOEXEC);
	CHECK("dup shares status flags", (fcntl(100, F_GETFL) & O_ACCMODE) == O_RDWR);
	SYSOK("F_SETFL O_APPEND on dup", fcntl(100, F_SETFL, O_APPEND));
	CHECK("status flags shared with original", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
	CHECK("fd flags not shared", fcntl(fd, F_GETFD) == 0);
	close(100);
	close(101);
	EXPECT_ERRNO("F_DUPFD negative -> EINVAL", fcntl(fd, F_DUPFD, -1), EINVAL);
	EXPECT_ERRNO("unknown cmd -> EINVAL", fcntl(fd, 99999), EINVAL);
	close(fd);
	return t_done();
}
