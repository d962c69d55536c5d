/*
 * openat2: openat2(2) and its RESOLVE_* flags.
 * - RESOLVE_BENEATH: descending and ".." that stays inside work; an
 *   absolute path, ".." above the dirfd, an absolute symlink or a magic
 *   link fail with EXDEV
 * - RESOLVE_IN_ROOT: "/" and ".." clamp at the dirfd; absolute symlinks
 *   resolve inside it
 * - RESOLVE_NO_SYMLINKS: any symlink -> ELOOP (O_NOFOLLOW|O_PATH on the
 *   link itself still works)
 * - RESOLVE_NO_MAGICLINKS: /proc/self/fd/N -> ELOOP; plain /proc/self ok
 * - RESOLVE_NO_XDEV: crossing into another mount -> EXDEV
 * - struct checks: size < 24 EINVAL, non-zero tail E2BIG, unknown resolve
 *   bits EINVAL, BENEATH|IN_ROOT EINVAL
 */
#include "t.h"
#include <linux/openat2.h>

static long o2(int dfd, const char *p, unsigned long long flags, unsigned long long resolve)
{
	struct open_how h = {.flags = flags, .resolve = resolve};
	return syscall(SYS_openat2, dfd, p, &h, sizeof h);
}

static void ok_open(const char *what, int dfd, const char *p, unsigned long long flags, unsigned long long resolve)
{
	long fd = o2(dfd, p, flags, resolve);
	CHECK(what, fd >= 0);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	t_tmpdir("openat2");
	MUST("mkdir a", mkdir("a", 0755));
	MUST("mkdir a/b", mkdir("a/b", 0755));
	t_writefile("a/b/f", "x");
	t_writefile("outside", "o");
	MUST("symlink rel", symlink("b/f", "a/rel"));
	MUST("symlink abs", symlink("/b/f", "a/abs"));
	MUST("symlink up", symlink("../outside", "a/up"));
	int a = open("a", O_RDONLY | O_DIRECTORY);
	MUST("open a", a);

	ok_open("BENEATH: descend", a, "b/f", O_RDONLY, RESOLVE_BENEATH);
	ok_open("BENEATH: .. staying inside", a, "b/../b/f", O_RDONLY, RESOLVE_BENEATH);
	ok_open("BENEATH: relative symlink inside", a, "rel", O_RDONLY, RESOLVE_BENEATH);
	EXPECT_ERRNO("BENEATH: absolute path -> EXDEV", o2(a, "/etc", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO("BENEATH: .. above -> EXDEV", o2(a, "../outside", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO("BENEATH: symlink escaping -> EXDEV", o2(a, "up", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO("BENEATH: absolute symlink -> EXDEV", o2(a, "abs", O_RDONLY, RESOLVE_BENEATH), EXDEV);

	ok_open("IN_ROOT: absolute symlink inside", a, "abs", O_RDONLY, RESOLVE_IN_ROOT);
	ok_open("IN_ROOT: /b/f", a, "/b/f", O_RDONLY, RESOLVE_IN_ROOT);
	ok_open("IN_ROOT: .. clamps", a, "../../b/f", O_RDONLY, RESOLVE_IN_ROOT);
	EXPECT_ERRNO("IN_ROOT: escaping symlink stays inside -> ENOENT", o2(a, "up", O_RDONLY, RESOLVE_IN_ROOT), ENOENT);

	EXPECT_ERRNO("NO_SYMLINKS: final symlink -> ELOOP", o2(a, "rel", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	ok_open("NO_SYMLINKS: O_PATH|O_NOFOLLOW on the link", a, "rel", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	ok_open("NO_SYMLINKS: no links on the way", a, "b/f", O_RDONLY, RESOLVE_NO_SYMLINKS);

	int f = open("a/b/f", O_RDONLY);
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", f);
	ok_open("magic link followed by default", AT_FDCWD, fdpath, O_RDONLY, 0);
	EXPECT_ERRNO("NO_MAGICLINKS: /proc/self/fd/N -> ELOOP", o2(AT_FDCWD, fdpath, O_RDONLY, RESOLVE_NO_MAGICLINKS), ELOOP);
	ok_open("NO_MAGICLINKS: /proc/self is not magic", AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_MAGICLINKS);
	EXPECT_ERRNO("NO_XDEV: into /proc -> EXDEV", o2(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
	ok_open("NO_XDEV: same mount", a, "b/f", O_RDONLY, RESOLVE_NO_XDEV);

	struct open_how h = {.flags = O_RDONLY};
	EXPECT_ERRNO("size 16 -> EINVAL", syscall(SYS_openat2, a, "b/f", &h, 16), EINVAL);
	char big[64] = {0};
	big[40] = 1;
	EXPECT_ERRNO("non-zero tail -> E2BIG", syscall(SYS_openat2, a, "b/f", big, sizeof big), E2BIG);
	EXPECT_ERRNO("unknown resolve -> EINVAL", o2(a, "b/f", O_RDONLY, 0x100), EINVAL);
	EXPECT_ERRNO("BENEATH|IN_ROOT -> EINVAL", o2(a, "b/f", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	EXPECT_ERRNO("wild how -> EFAULT", syscall(SYS_openat2, a, "b/f", (void *)8, 24), EFAULT);
	return t_done();
}
