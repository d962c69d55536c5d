/*
 * pipe: pipe(2)/pipe2(2) basics without blocking and without SIGPIPE.
 * - data written to the write end is read from the read end in order
 * - read returns 0 once all write ends are closed and the pipe is empty
 * - O_NONBLOCK read of an empty pipe -> EAGAIN
 * - O_CLOEXEC sets FD_CLOEXEC on both ends; bad flags -> EINVAL
 * - the read end is not writable (EBADF), fstat says S_ISFIFO
 */
#include "t.h"

int main(void)
{
	int p[2];
	char buf[16];
	struct stat st;

	SYSOK("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(p, O_NONBLOCK | O_CLOEXEC));
	CHECK("read end cloexec", fcntl(p[0], F_GETFD) == FD_CLOEXEC);
	CHECK("write end cloexec", fcntl(p[1], F_GETFD) == FD_CLOEXEC);
	CHECK("read end O_RDONLY", (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
	CHECK("write end O_WRONLY", (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
	CHECK("fstat S_ISFIFO", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
	EXPECT_ERRNO("empty nonblocking read -> EAGAIN", read(p[0], buf, 1), EAGAIN);
	EXPECT_EQ("write 5", write(p[1], "hello", 5), 5);
	EXPECT_EQ("write 3", write(p[1], "abc", 3), 3);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("read 4", read(p[0], buf, 4), 4);
	CHECK("FIFO order", memcmp(buf, "hell", 4) == 0);
	EXPECT_ERRNO("write to read end -> EBADF", write(p[0], "x", 1), EBADF);
	close(p[1]);
	EXPECT_EQ("drain rest", read(p[0], buf, sizeof buf), 4);
	CHECK("rest data", memcmp(buf, "oabc", 4) == 0);
	EXPECT_EQ("EOF after writers closed", read(p[0], buf, sizeof buf), 0);
	close(p[0]);
	EXPECT_ERRNO("pipe2 bad flags -> EINVAL", pipe2(p, O_APPEND), EINVAL);
	SYSOK("plain pipe", pipe(p));
	CHECK("plain pipe no cloexec", fcntl(p[0], F_GETFD) == 0);
	CHECK("plain pipe blocking", !(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	close(p[0]);
	close(p[1]);
	return t_done();
}
