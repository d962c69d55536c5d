/*
 * pipe: pipe(2)/pipe2(2) without blocking and without SIGPIPE.
 * - data written to the write end is read from the read end in order
 * - read returns 0 once all write ends are closed and the pipe is empty
 * - O_NONBLOCK read of an empty pipe -> EAGAIN
 * - O_CLOEXEC sets FD_CLOEXEC on both ends; bad flags -> EINVAL
 * - F_GETFL: O_DIRECT only on the write end
 * - the read end is not writable (EBADF), fstat says S_ISFIFO 0600, one
 *   link, size 0, both ends share an inode that another pipe does not
 * - /proc/self/fd names "pipe:[ino]"; fstatfs says PIPEFS_MAGIC
 * - lseek, pread, pwrite -> ESPIPE; ftruncate, fsync -> EINVAL;
 *   fallocate -> ESPIPE; mmap -> ENODEV; fchmod works
 * - FIONREAD counts queued bytes; zero-length read and write return 0
 * - O_DIRECT packet mode: one packet per read, the rest of a short-read
 *   packet is discarded; readv/writev across iovecs, each one transfer
 *   (one packet; a writev of PIPE_BUF bytes in all is atomic)
 */
#include "t.h"
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/vfs.h>

#define PIPEFS_MAGIC 0x50495045

int main(void)
{
	int p[2], q[2];
	char buf[16];
	struct stat st, st1, sq;

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
	EXPECT_ERRNO("read from write end -> EBADF", read(p[1], buf, 1), EBADF);
	close(p[1]);
	EXPECT_EQ("drain rest", read(p[0], buf, sizeof buf), 4);
	CHECK("rest data", memcmp(buf, "oabc", 4) == 0);
	EXPECT_EQ("EOF after writers closed", read(p[0], buf, sizeof buf), 0);
	close(p[0]);
	EXPECT_ERRNO("pipe2 bad flags -> EINVAL", pipe2(p, O_APPEND), EINVAL);
	EXPECT_ERRNO("pipe2 O_RDWR -> EINVAL", pipe2(p, O_RDWR), EINVAL);
	SYSOK("plain pipe", pipe(p));
	CHECK("plain pipe no cloexec", fcntl(p[0], F_GETFD) == 0);
	CHECK("plain pipe blocking", !(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	EXPECT_EQ("F_GETFL read end", fcntl(p[0], F_GETFL), O_RDONLY);
	EXPECT_EQ("F_GETFL write end", fcntl(p[1], F_GETFL), O_WRONLY);

	/* The inode. */
	MUST("fstat r", fstat(p[0], &st));
	MUST("fstat w", fstat(p[1], &st1));
	EXPECT_EQ("mode S_IFIFO|0600", st.st_mode, S_IFIFO | 0600);
	EXPECT_EQ("nlink 1", st.st_nlink, 1);
	EXPECT_EQ("size 0", st.st_size, 0);
	EXPECT_EQ("blksize 4096", st.st_blksize, 4096);
	EXPECT_EQ("owner euid", st.st_uid, geteuid());
	CHECK("both ends one inode", st.st_ino == st1.st_ino && st.st_dev == st1.st_dev);
	{
		struct statx sx;
		CHECK("statx: basic stats, no birth time",
		      statx(p[0], "", AT_EMPTY_PATH, STATX_ALL, &sx) == 0 &&
			      (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS && !(sx.stx_mask & STATX_BTIME));
	}
	MUST("second pipe", pipe(q));
	MUST("fstat q", fstat(q[0], &sq));
	CHECK("another pipe another inode", sq.st_ino != st.st_ino && sq.st_dev == st.st_dev);
	close(q[0]);
	close(q[1]);
	{
		char path[64], link[64], want[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
		ssize_t n = readlink(path, link, sizeof link - 1);
		link[n > 0 ? n : 0] = 0;
		snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
		CHECK("/proc/self/fd names pipe:[ino]", n > 0 && strcmp(link, want) == 0);
		struct statfs sf;
		CHECK("fstatfs PIPEFS_MAGIC", fstatfs(p[0], &sf) == 0 && sf.f_type == PIPEFS_MAGIC);
	}

	/* What a pipe cannot do. */
	EXPECT_ERRNO("lseek -> ESPIPE", lseek(p[0], 0, SEEK_CUR), ESPIPE);
	EXPECT_ERRNO("pread -> ESPIPE", pread(p[0], buf, 1, 0), ESPIPE);
	EXPECT_ERRNO("pwrite -> ESPIPE", pwrite(p[1], "x", 1, 0), ESPIPE);
	EXPECT_ERRNO("ftruncate -> EINVAL", ftruncate(p[1], 0), EINVAL);
	EXPECT_ERRNO("fsync -> EINVAL", fsync(p[1]), EINVAL);
	EXPECT_ERRNO("fallocate -> ESPIPE", fallocate(p[1], 0, 0, 10), ESPIPE);
	CHECK("mmap -> ENODEV", mmap(NULL, 4096, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED && errno == ENODEV);
	SYSOK("fchmod", fchmod(p[0], 0640));
	CHECK("fchmod seen by both ends", fstat(p[1], &st1) == 0 && st1.st_mode == (S_IFIFO | 0640));

	/* FIONREAD and zero-length I/O. */
	int avail = -1;
	CHECK("FIONREAD empty", ioctl(p[0], FIONREAD, &avail) == 0 && avail == 0);
	EXPECT_EQ("write 0", write(p[1], buf, 0), 0);
	EXPECT_EQ("write 7", write(p[1], "1234567", 7), 7);
	CHECK("FIONREAD 7", ioctl(p[0], FIONREAD, &avail) == 0 && avail == 7);
	CHECK("FIONREAD on write end", ioctl(p[1], FIONREAD, &avail) == 0 && avail == 7);
	EXPECT_EQ("read 0", read(p[0], buf, 0), 0);
	EXPECT_ERRNO("unknown ioctl -> ENOTTY", ioctl(p[0], TCGETS, buf), ENOTTY);

	/* readv and writev. */
	{
		char a[3], b[10];
		struct iovec iv[2] = {{a, sizeof a}, {b, sizeof b}};
		memset(b, 0, sizeof b);
		EXPECT_EQ("readv gets all 7", readv(p[0], iv, 2), 7);
		CHECK("readv data", memcmp(a, "123", 3) == 0 && memcmp(b, "4567", 4) == 0);
		struct iovec ov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
		EXPECT_EQ("writev 5", writev(p[1], ov, 3), 5);
		EXPECT_EQ("read writev data", read(p[0], b, sizeof b), 5);
		CHECK("writev data", memcmp(b, "abcde", 5) == 0);
		/* Every iovec is range-checked before anything moves. */
		struct iovec bad[2] = {{"ok", 2}, {(void *)0xffffffffffff0000UL, 0}};
		EXPECT_ERRNO("writev with a kernel-half iovec -> EFAULT", writev(p[1], bad, 2), EFAULT);
		CHECK("nothing written", ioctl(p[0], FIONREAD, &avail) == 0 && avail == 0);
	}
	close(p[0]);
	close(p[1]);

	/* Packet mode. */
	SYSOK("pipe2 O_DIRECT|O_NONBLOCK", pipe2(p, O_DIRECT | O_NONBLOCK));
	EXPECT_EQ("O_DIRECT read end F_GETFL", fcntl(p[0], F_GETFL), O_RDONLY | O_NONBLOCK);
	EXPECT_EQ("O_DIRECT write end F_GETFL", fcntl(p[1], F_GETFL), O_WRONLY | O_NONBLOCK | O_DIRECT);
	EXPECT_EQ("packet 1", write(p[1], "one", 3), 3);
	EXPECT_EQ("packet 2", write(p[1], "second", 6), 6);
	EXPECT_EQ("packet 3", write(p[1], "3", 1), 1);
	CHECK("FIONREAD counts packets' bytes", ioctl(p[0], FIONREAD, &avail) == 0 && avail == 10);
	memset(buf, 0, sizeof buf);
	EXPECT_EQ("read gets one packet", read(p[0], buf, sizeof buf), 3);
	CHECK("packet 1 data", memcmp(buf, "one", 3) == 0);
	EXPECT_EQ("short read of a packet", read(p[0], buf, 2), 2);
	CHECK("short packet data", memcmp(buf, "se", 2) == 0);
	EXPECT_EQ("rest of packet discarded", read(p[0], buf, sizeof buf), 1);
	CHECK("packet 3 data", buf[0] == '3');
	EXPECT_ERRNO("packets drained -> EAGAIN", read(p[0], buf, 1), EAGAIN);
	{
		/* A write above a page becomes page-sized packets. */
		static char big[6000], in[8192];
		memset(big, 'x', sizeof big);
		EXPECT_EQ("big packet write", write(p[1], big, sizeof big), sizeof big);
		EXPECT_EQ("first page packet", read(p[0], in, sizeof in), 4096);
		EXPECT_EQ("second packet", read(p[0], in, sizeof in), sizeof big - 4096);
	}
	/* readv and writev are one transfer: one packet each. */
	{
		char a[2], b[10];
		struct iovec ov[2] = {{"ab", 2}, {"cde", 3}};
		EXPECT_EQ("writev of a packet", writev(p[1], ov, 2), 5);
		EXPECT_EQ("writev made one packet", read(p[0], buf, sizeof buf), 5);
		EXPECT_EQ("packet for readv", write(p[1], "second", 6), 6);
		EXPECT_EQ("packet after it", write(p[1], "x", 1), 1);
		struct iovec iv[2] = {{a, sizeof a}, {b, sizeof b}};
		memset(b, 0, sizeof b);
		EXPECT_EQ("readv reads one packet across iovecs", readv(p[0], iv, 2), 6);
		CHECK("readv packet data", memcmp(a, "se", 2) == 0 && memcmp(b, "cond", 4) == 0);
		EXPECT_EQ("next packet", read(p[0], buf, sizeof buf), 1);
	}
	/* F_SETFL can turn packet mode off on the writer. */
	SYSOK("F_SETFL clears O_DIRECT", fcntl(p[1], F_SETFL, O_NONBLOCK));
	EXPECT_EQ("stream write a", write(p[1], "ab", 2), 2);
	EXPECT_EQ("stream write b", write(p[1], "cd", 2), 2);
	EXPECT_EQ("stream read merges", read(p[0], buf, sizeof buf), 4);
	close(p[0]);
	close(p[1]);
	return t_done();
}
