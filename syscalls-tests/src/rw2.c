/*
 * rw2: preadv2(2)/pwritev2(2) flags, readahead(2), syncfs(2),
 * sync_file_range(2).
 * - offset -1 uses and advances the file position; otherwise positional
 * - RWF_APPEND writes at the end; RWF_DSYNC/RWF_SYNC accepted; RWF_NOWAIT
 *   reads a regular file; unknown flags EOPNOTSUPP
 * - readahead on a pipe EINVAL, on a write-only file EBADF
 * - sync_file_range bad flags / negative offset EINVAL, on a pipe ESPIPE
 */
#include "t.h"
#include <sys/uio.h>

int main(void)
{
	t_tmpdir("rw2");
	int fd = open("f", O_RDWR | O_CREAT, 0644);
	MUST("open", fd);
	struct iovec w = {"hello world", 11};
	EXPECT_EQ("pwritev2 at 0", pwritev2(fd, &w, 1, 0, 0), 11);
	EXPECT_EQ("position unchanged by positional write", lseek(fd, 0, SEEK_CUR), 0);
	char b[32] = {0};
	struct iovec r = {b, 5};
	EXPECT_EQ("preadv2 offset -1 reads at the position", preadv2(fd, &r, 1, -1, 0), 5);
	CHECK("got hello", memcmp(b, "hello", 5) == 0);
	EXPECT_EQ("position advanced", lseek(fd, 0, SEEK_CUR), 5);
	struct iovec a = {"!", 1};
	EXPECT_EQ("RWF_APPEND", pwritev2(fd, &a, 1, 0, RWF_APPEND), 1);
	memset(b, 0, sizeof b);
	r.iov_len = 12;
	EXPECT_EQ("RWF_NOWAIT on a regular file", preadv2(fd, &r, 1, 0, RWF_NOWAIT), 12);
	CHECK("appended at the end", memcmp(b, "hello world!", 12) == 0);
	SYSOK("RWF_DSYNC", pwritev2(fd, &w, 1, 0, RWF_DSYNC));
	SYSOK("RWF_SYNC", pwritev2(fd, &w, 1, 0, RWF_SYNC));
	EXPECT_ERRNO("unknown flag -> EOPNOTSUPP", preadv2(fd, &r, 1, 0, 0x4000), EOPNOTSUPP);
	SYSOK("readahead", readahead(fd, 0, 4096));
	SYSOK("syncfs", syncfs(fd));
	SYSOK("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	EXPECT_ERRNO("sync_file_range bad flags", sync_file_range(fd, 0, 0, 0x80), EINVAL);
	EXPECT_ERRNO("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0), EINVAL);
	int p[2];
	MUST("pipe", pipe(p));
	EXPECT_ERRNO("readahead on a pipe -> EINVAL", readahead(p[0], 0, 10), EINVAL);
	EXPECT_ERRNO("sync_file_range on a pipe -> ESPIPE", sync_file_range(p[0], 0, 0, 0), ESPIPE);
	int wo = open("f", O_WRONLY);
	EXPECT_ERRNO("readahead write-only -> EBADF", readahead(wo, 0, 10), EBADF);
	EXPECT_ERRNO("syncfs bad fd", syncfs(999), EBADF);
	return t_done();
}
