/*
 * statx: statx(2).
 * - STATX_BASIC_STATS is returned for a regular file; fields agree with
 *   stat(2) (mode, size, nlink, ino, uid)
 * - AT_SYMLINK_NOFOLLOW reports the link; AT_EMPTY_PATH reports the fd
 * - unknown flags -> EINVAL; the reserved mask bit STATX__RESERVED -> EINVAL
 * - missing file -> ENOENT; NULL buffer -> EFAULT
 */
#include "t.h"
#include <linux/stat.h>

static long do_statx(int dfd, const char *p, int flags, unsigned mask, void *buf)
{
	return syscall(SYS_statx, dfd, p, flags, mask, buf);
}

int main(void)
{
	struct statx sx;
	struct stat st;
	int fd;

	t_tmpdir("statx");
	t_writefile("f", "0123456789");
	MUST("symlink", symlink("f", "ln"));
	MUST("stat", stat("f", &st));

	memset(&sx, 0, sizeof sx);
	SYSOK("statx basic", do_statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
	CHECK("mask has BASIC_STATS", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	CHECK("mode matches stat", sx.stx_mode == st.st_mode);
	CHECK("size matches", (long long)sx.stx_size == st.st_size && sx.stx_size == 10);
	CHECK("nlink matches", sx.stx_nlink == st.st_nlink);
	CHECK("ino matches", sx.stx_ino == st.st_ino);
	CHECK("uid matches", sx.stx_uid == st.st_uid);
	CHECK("mtime matches", sx.stx_mtime.tv_sec == st.st_mtim.tv_sec &&
				       sx.stx_mtime.tv_nsec == (unsigned)st.st_mtim.tv_nsec);
	CHECK("blksize > 0", sx.stx_blksize > 0);

	SYSOK("statx nofollow", do_statx(AT_FDCWD, "ln", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	CHECK("symlink type", S_ISLNK(sx.stx_mode) && sx.stx_size == 1);
	SYSOK("statx follow", do_statx(AT_FDCWD, "ln", 0, STATX_BASIC_STATS, &sx));
	CHECK("followed to file", S_ISREG(sx.stx_mode) && sx.stx_ino == st.st_ino);
	fd = open("f", O_RDONLY);
	SYSOK("statx AT_EMPTY_PATH", do_statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	CHECK("AT_EMPTY_PATH size", sx.stx_size == 10);
	close(fd);
	SYSOK("statx mask 0", do_statx(AT_FDCWD, "f", 0, 0, &sx));
	EXPECT_ERRNO("statx bad flags -> EINVAL", do_statx(AT_FDCWD, "f", 0x40000000, STATX_BASIC_STATS, &sx), EINVAL);
	EXPECT_ERRNO("statx STATX__RESERVED -> EINVAL", do_statx(AT_FDCWD, "f", 0, STATX__RESERVED, &sx), EINVAL);
	EXPECT_ERRNO("statx sync type both -> EINVAL",
		     do_statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx), EINVAL);
	EXPECT_ERRNO("statx missing -> ENOENT", do_statx(AT_FDCWD, "nope", 0, STATX_BASIC_STATS, &sx), ENOENT);
	EXPECT_ERRNO("statx NULL buf -> EFAULT", do_statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, NULL), EFAULT);
	return t_done();
}
