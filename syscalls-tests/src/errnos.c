/*
 * errnos: common path and flag errors across syscalls.
 * - ENOENT: missing final component, missing middle component, empty path
 * - ENOTDIR: a regular file used as a directory (open, stat, mkdir,
 *   openat with a file dirfd, getdents64 on a file)
 * - EINVAL for unknown flag bits: statx, unlinkat, renameat2, linkat,
 *   fchownat, utimensat, faccessat2, openat2 (unknown how.flags, mode
 *   without O_CREAT), open(O_CREAT|O_DIRECTORY), O_TMPFILE read-only
 * - EXDEV: openat2 RESOLVE_BENEATH with a path escaping the dirfd
 * - EBADF for a dirfd that is not open with a relative path; an absolute
 *   path ignores the bad dirfd
 */
#include "t.h"
#include <linux/openat2.h>

int main(void)
{
	char buf[64];
	struct stat st;

	t_tmpdir("errnos");
	t_writefile("f", "x");
	MUST("mkdir", mkdir("d", 0755));
	int ffd = open("f", O_RDONLY);

	EXPECT_ERRNO("stat missing -> ENOENT", stat("missing", &st), ENOENT);
	EXPECT_ERRNO("stat missing middle -> ENOENT", stat("missing/f", &st), ENOENT);
	EXPECT_ERRNO("open empty path -> ENOENT", open("", O_RDONLY), ENOENT);
	EXPECT_ERRNO("stat empty path -> ENOENT", stat("", &st), ENOENT);
	EXPECT_ERRNO("open file/x -> ENOTDIR", open("f/x", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("mkdir file/x -> ENOTDIR", mkdir("f/x", 0755), ENOTDIR);
	EXPECT_ERRNO("openat(file fd) -> ENOTDIR", openat(ffd, "x", O_RDONLY), ENOTDIR);
	EXPECT_ERRNO("getdents64(file) -> ENOTDIR", syscall(SYS_getdents64, ffd, buf, sizeof buf), ENOTDIR);
	EXPECT_ERRNO("fstatat bad dirfd relative -> EBADF", fstatat(12345, "f", &st, 0), EBADF);
	SYSOK("fstatat bad dirfd absolute path", fstatat(12345, "/", &st, 0));
	EXPECT_ERRNO("statx bad flags -> EINVAL", syscall(SYS_statx, AT_FDCWD, "f", 0x80000000, 0x7ff, buf), EINVAL);
	EXPECT_ERRNO("unlinkat bad flags -> EINVAL", unlinkat(AT_FDCWD, "f", 0x4), EINVAL);
	EXPECT_ERRNO("renameat2 bad flags -> EINVAL",
		     syscall(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "g", 0x80), EINVAL);
	EXPECT_ERRNO("linkat bad flags -> EINVAL", linkat(AT_FDCWD, "f", AT_FDCWD, "g", 0x1), EINVAL);
	EXPECT_ERRNO("fchownat bad flags -> EINVAL", fchownat(AT_FDCWD, "f", -1, -1, 0x1), EINVAL);
	EXPECT_ERRNO("utimensat bad flags -> EINVAL", utimensat(AT_FDCWD, "f", NULL, 0x1), EINVAL);
	EXPECT_ERRNO("faccessat2 bad flags -> EINVAL", syscall(SYS_faccessat2, AT_FDCWD, "f", F_OK, 0x4), EINVAL);
	struct open_how how = { .flags = 1ULL << 40 };
	EXPECT_ERRNO("openat2 unknown flags -> EINVAL", syscall(SYS_openat2, AT_FDCWD, "f", &how, sizeof how), EINVAL);
	struct open_how how2 = { .flags = O_RDONLY, .mode = 0644 };
	EXPECT_ERRNO("openat2 mode without O_CREAT -> EINVAL", syscall(SYS_openat2, AT_FDCWD, "f", &how2, sizeof how2), EINVAL);
	struct open_how how3 = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
	EXPECT_ERRNO("openat2 RESOLVE_BENEATH escaping -> EXDEV", syscall(SYS_openat2, AT_FDCWD, "../x", &how3, sizeof how3), EXDEV);
	struct open_how how4 = { .flags = O_RDONLY };
	long r = syscall(SYS_openat2, AT_FDCWD, "f", &how4, sizeof how4);
	CHECK("openat2 plain open", r >= 0);
	EXPECT_ERRNO("open O_CREAT|O_DIRECTORY -> EINVAL", open("newdir", O_CREAT | O_DIRECTORY | O_RDWR, 0644), EINVAL);
	EXPECT_ERRNO("openat O_TMPFILE without O_WRONLY -> EINVAL", open("d", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	close(ffd);
	return t_done();
}
