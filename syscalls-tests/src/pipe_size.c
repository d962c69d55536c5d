/*
 * pipe_size: pipe capacity and write atomicity (fs/pipe.c).
 * - F_GETPIPE_SZ is 64 KiB; F_SETPIPE_SZ rounds up to a power-of-two
 *   number of pages (0 -> one page), above 2 GiB -> EINVAL, is shared by
 *   both ends, and fails with EBUSY below the slots in use; up to
 *   /proc/sys/fs/pipe-max-size (1 MiB) needs no privilege (beyond needs
 *   CAP_SYS_RESOURCE, which differs between hosts: not checked here)
 * - F_GETPIPE_SZ on a regular file or /dev/null -> EBADF; on the host pipe
 *   the harness makes stdout, it reports and changes the host pipe
 * - non-blocking: a big write fills the pipe to capacity and returns the
 *   count, then EAGAIN; a write of at most PIPE_BUF goes in whole or not
 *   at all; small writes share a page
 * - blocking: a write larger than the pipe completes as a reader drains
 *   it; concurrent PIPE_BUF-sized writes never interleave
 */
#include "t.h"
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int queued(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) != 0)
		return -1;
	return n;
}

int main(void)
{
	int p[2];
	static char big[300000], in[300000];

	t_tmpdir("pipe_size");
	MUST("pipe", pipe2(p, O_NONBLOCK));
	EXPECT_EQ("default size 64 KiB", fcntl(p[0], F_GETPIPE_SZ), 65536);
	EXPECT_EQ("write end same size", fcntl(p[1], F_GETPIPE_SZ), 65536);
	EXPECT_EQ("PIPE_BUF", PIPE_BUF, 4096);
	EXPECT_EQ("set 0 -> one page", fcntl(p[1], F_SETPIPE_SZ, 0), 4096);
	EXPECT_EQ("set 5000 -> 8192", fcntl(p[1], F_SETPIPE_SZ, 5000), 8192);
	EXPECT_EQ("set 12288 -> 16384", fcntl(p[0], F_SETPIPE_SZ, 12288), 16384);
	EXPECT_EQ("shared by both ends", fcntl(p[1], F_GETPIPE_SZ), 16384);
	EXPECT_EQ("set 1 MiB", fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	EXPECT_EQ("set 1 MiB - 1 -> 1 MiB", fcntl(p[1], F_SETPIPE_SZ, (1 << 20) - 1), 1 << 20);
	EXPECT_ERRNO("above 2 GiB -> EINVAL", fcntl(p[1], F_SETPIPE_SZ, 0x80000001u), EINVAL);
	EXPECT_EQ("size unchanged by EINVAL", fcntl(p[1], F_GETPIPE_SZ), 1 << 20);
	EXPECT_EQ("upper argument bits ignored", fcntl(p[1], F_SETPIPE_SZ, 0x100001000L), 4096);
	{
		char s[32] = {0};
		int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY);
		CHECK("pipe-max-size is 1 MiB", fd >= 0 && read(fd, s, sizeof s - 1) > 0 && strcmp(s, "1048576\n") == 0);
		close(fd);
	}
	t_writefile("f", "x");
	int f = open("f", O_RDONLY);
	EXPECT_ERRNO("F_GETPIPE_SZ regular file -> EBADF", fcntl(f, F_GETPIPE_SZ), EBADF);
	EXPECT_ERRNO("F_SETPIPE_SZ regular file -> EBADF", fcntl(f, F_SETPIPE_SZ, 4096), EBADF);
	close(f);
	f = open("/dev/null", O_RDWR);
	EXPECT_ERRNO("F_GETPIPE_SZ /dev/null -> EBADF", fcntl(f, F_GETPIPE_SZ), EBADF);
	close(f);

	/* The harness's stdout is a host pipe: its size is the host's. */
	{
		struct stat so;
		int isfifo = fstat(1, &so) == 0 && S_ISFIFO(so.st_mode);
		CHECK("host stdout pipe: F_GETPIPE_SZ", !isfifo || fcntl(1, F_GETPIPE_SZ) == 65536);
		CHECK("host stdout pipe: F_SETPIPE_SZ", !isfifo || fcntl(1, F_SETPIPE_SZ, 131072) == 131072);
		CHECK("host stdout pipe: new size", !isfifo || fcntl(1, F_GETPIPE_SZ) == 131072);
		EXPECT_ERRNO("stdin (/dev/null): F_GETPIPE_SZ -> EBADF", fcntl(0, F_GETPIPE_SZ), EBADF);
	}

	/* EBUSY: three pages in use. */
	EXPECT_EQ("set 64 KiB", fcntl(p[1], F_SETPIPE_SZ, 65536), 65536);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ("write a page", write(p[1], big, 4096), 4096);
	EXPECT_ERRNO("shrink below contents -> EBUSY", fcntl(p[1], F_SETPIPE_SZ, 8192), EBUSY);
	EXPECT_EQ("shrink to 4 pages", fcntl(p[1], F_SETPIPE_SZ, 16384), 16384);
	EXPECT_EQ("contents kept", queued(p[0]), 3 * 4096);
	EXPECT_EQ("fill the last page", write(p[1], big, 4096), 4096);
	EXPECT_ERRNO("full 4-page pipe -> EAGAIN", write(p[1], big, 1), EAGAIN);
	EXPECT_EQ("grow to 8 pages", fcntl(p[1], F_SETPIPE_SZ, 32768), 32768);
	EXPECT_EQ("room again", write(p[1], big, 1), 1);
	EXPECT_EQ("drain", read(p[0], in, sizeof in), 4 * 4096 + 1);
	EXPECT_EQ("back to 64 KiB", fcntl(p[1], F_SETPIPE_SZ, 65536), 65536);

	/* Non-blocking fill to capacity. */
	memset(big, 'b', sizeof big);
	EXPECT_EQ("big write fills to 64 KiB", write(p[1], big, 100000), 65536);
	EXPECT_EQ("FIONREAD 64 KiB", queued(p[0]), 65536);
	EXPECT_ERRNO("full -> EAGAIN", write(p[1], big, 1), EAGAIN);
	EXPECT_EQ("read one page", read(p[0], in, 4096), 4096);
	EXPECT_EQ("a page of room: partial big write", write(p[1], big, 5000), 4096);
	EXPECT_EQ("drain all", read(p[0], in, sizeof in), 65536);
	EXPECT_ERRNO("empty -> EAGAIN", read(p[0], in, 1), EAGAIN);

	/* Atomicity: 15 full pages and one holding a single byte. */
	EXPECT_EQ("15 pages", write(p[1], big, 15 * 4096), 15 * 4096);
	EXPECT_EQ("1 byte in a 16th page", write(p[1], big, 1), 1);
	EXPECT_ERRNO("PIPE_BUF write never split -> EAGAIN", write(p[1], big, 4096), EAGAIN);
	EXPECT_EQ("nothing went in", queued(p[0]), 15 * 4096 + 1);
	{
		struct iovec iv[2] = {{big, 2048}, {big, 2048}};
		EXPECT_ERRNO("writev of PIPE_BUF in all is atomic too", writev(p[1], iv, 2), EAGAIN);
	}
	EXPECT_EQ("4095 bytes share the last page", write(p[1], big, 4095), 4095);
	EXPECT_ERRNO("now full", write(p[1], big, 1), EAGAIN);
	EXPECT_EQ("drain", read(p[0], in, sizeof in), 65536);
	/* Small writes share pages: 16 slots take more than 16 writes. */
	int small = 0;
	while (write(p[1], big, 100) == 100)
		small++;
	EXPECT_EQ("small writes packed into pages", small, 16 * (4096 / 100));
	EXPECT_EQ("drain small", read(p[0], in, sizeof in), small * 100);
	/* A write is page-aligned after its tail fragment. */
	EXPECT_EQ("100 bytes", write(p[1], big, 100), 100);
	EXPECT_EQ("4196 bytes: 100 merged, one new page", write(p[1], big, 4196), 4196);
	EXPECT_EQ("drain", read(p[0], in, sizeof in), 4296);
	close(p[0]);
	close(p[1]);

	/* Blocking write larger than the pipe, drained by a child. */
	MUST("pipe", pipe(p));
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + i / 4096);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		close(p[1]);
		size_t got = 0;
		ssize_t n;
		while ((n = read(p[0], in + got, sizeof in - got)) > 0)
			got += n;
		_exit(got == sizeof big && memcmp(in, big, sizeof big) == 0 ? 0 : 1);
	}
	close(p[0]);
	EXPECT_EQ("blocking write of 300000 completes", write(p[1], big, sizeof big), sizeof big);
	close(p[1]);
	int st;
	MUST("wait", waitpid(pid, &st, 0));
	CHECK("reader got every byte in order", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* Two writers of PIPE_BUF-sized records never interleave. */
	MUST("pipe", pipe(p));
	pid_t w[2];
	for (int k = 0; k < 2; k++) {
		w[k] = fork();
		MUST("fork", w[k]);
		if (w[k] == 0) {
			char rec[PIPE_BUF];
			memset(rec, 'A' + k, sizeof rec);
			close(p[0]);
			for (int i = 0; i < 200; i++)
				if (write(p[1], rec, sizeof rec) != sizeof rec)
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	static char all[2 * 200 * PIPE_BUF];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof all && (n = read(p[0], all + got, sizeof all - got)) > 0)
		got += n;
	close(p[0]);
	int mixed = 0, as = 0;
	for (size_t r = 0; r + PIPE_BUF <= got; r += PIPE_BUF) {
		for (size_t i = 1; i < PIPE_BUF; i++)
			if (all[r + i] != all[r])
				mixed++;
		as += all[r] == 'A';
	}
	EXPECT_EQ("all records read", got, sizeof all);
	EXPECT_EQ("no record interleaved", mixed, 0);
	EXPECT_EQ("half from each writer", as, 200);
	for (int k = 0; k < 2; k++) {
		MUST("wait", waitpid(w[k], &st, 0));
		CHECK("writer done", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	return t_done();
}
