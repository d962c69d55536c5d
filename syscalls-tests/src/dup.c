/*
 * dup: dup(2), dup2(2), dup3(2).
 * - dup returns the lowest free descriptor; the copies share the offset
 * - dup2(fd, fd) returns fd; dup2 onto an open fd closes it first
 * - dup3(fd, fd, 0) -> EINVAL; dup3 with O_CLOEXEC sets FD_CLOEXEC;
 *   dup3 with flags other than O_CLOEXEC -> EINVAL
 * - the close-on-exec flag is not copied by dup
 */
#include "t.h"

int main(void)
{
	char c;
	int a, b, d, e;

	t_tmpdir("dup");
	t_writefile("f", "abcdef");
	a = open("f", O_RDONLY | O_CLOEXEC);
	b = open("f", O_RDONLY);
	MUST("open", a);
	MUST("open", b);
	close(a);
	d = dup(b);
	EXPECT_EQ("dup returns lowest free fd", d, a);
	CHECK("dup clears FD_CLOEXEC", fcntl(d, F_GETFD) == 0);
	CHECK("read via original", read(b, &c, 1) == 1 && c == 'a');
	CHECK("dup shares offset", read(d, &c, 1) == 1 && c == 'b');
	EXPECT_EQ("dup2 same fd returns fd", dup2(b, b), b);
	e = open("/dev/null", O_RDONLY);
	EXPECT_EQ("dup2 onto open fd", dup2(b, e), e);
	CHECK("dup2 target now refers to file", read(e, &c, 1) == 1 && c == 'c');
	EXPECT_EQ("dup2 to high fd", dup2(b, 200), 200);
	CHECK("fd 200 valid", fcntl(200, F_GETFD) == 0);
	close(200);
	EXPECT_ERRNO("dup3 same fd -> EINVAL", dup3(b, b, 0), EINVAL);
	EXPECT_ERRNO("dup3 bad flags -> EINVAL", dup3(b, 201, O_NONBLOCK), EINVAL);
	EXPECT_EQ("dup3 O_CLOEXEC", dup3(b, 201, O_CLOEXEC), 201);
	CHECK("dup3 sets FD_CLOEXEC", fcntl(201, F_GETFD) == FD_CLOEXEC);
	close(201);
	EXPECT_ERRNO("dup2 to negative -> EBADF", dup2(b, -1), EBADF);
	EXPECT_ERRNO("dup2 to huge fd -> EBADF", dup2(b, 1 << 30), EBADF);
	close(b);
	CHECK("dup copy survives close of original", read(d, &c, 1) == 1 && c == 'd');
	close(d);
	close(e);
	return t_done();
}
