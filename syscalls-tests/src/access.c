/*
 * access: access(2), faccessat(2), faccessat2.
 * The checks hold whether or not the caller is root: F_OK and R_OK on a
 * 0644 file succeed; X_OK on a file with no execute bit -> EACCES even for
 * root ("if the calling process is privileged ... X_OK ... succeeds only if
 * execute permission is enabled for at least one of user, group, other").
 * - missing -> ENOENT; through a file -> ENOTDIR
 * - bad mode -> EINVAL; faccessat2 bad flags -> EINVAL
 * - AT_SYMLINK_NOFOLLOW on a dangling symlink succeeds with F_OK
 */
#include "t.h"

int main(void)
{
	t_tmpdir("access");
	t_writefile("f", "x");
	MUST("chmod", chmod("f", 0644));
	t_writefile("x", "#!/bin/sh\n");
	MUST("chmod", chmod("x", 0755));
	MUST("symlink", symlink("missing", "dangling"));

	SYSOK("F_OK existing", access("f", F_OK));
	SYSOK("R_OK 0644", access("f", R_OK));
	EXPECT_ERRNO("X_OK on 0644 -> EACCES", access("f", X_OK), EACCES);
	SYSOK("X_OK on 0755", access("x", X_OK));
	SYSOK("R_OK|X_OK on 0755", access("x", R_OK | X_OK));
	SYSOK("X_OK on directory", access(".", X_OK));
	EXPECT_ERRNO("missing -> ENOENT", access("nope", F_OK), ENOENT);
	EXPECT_ERRNO("through file -> ENOTDIR", access("f/x", F_OK), ENOTDIR);
	EXPECT_ERRNO("bad mode -> EINVAL", access("f", 0100), EINVAL);
	EXPECT_ERRNO("dangling symlink followed -> ENOENT", access("dangling", F_OK), ENOENT);
	SYSOK("faccessat AT_FDCWD", faccessat(AT_FDCWD, "f", R_OK, 0));
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	SYSOK("faccessat dirfd", faccessat(dfd, "x", X_OK, 0));
	EXPECT_ERRNO("faccessat X_OK on 0644 -> EACCES", faccessat(dfd, "f", X_OK, 0), EACCES);
	SYSOK("faccessat2 AT_SYMLINK_NOFOLLOW on dangling",
	      syscall(SYS_faccessat2, dfd, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	EXPECT_ERRNO("faccessat2 bad flags -> EINVAL",
		     syscall(SYS_faccessat2, dfd, "f", F_OK, 0x1), EINVAL);
	EXPECT_ERRNO("faccessat bad mode -> EINVAL",
		     syscall(SYS_faccessat, dfd, "f", 0x10), EINVAL);
	close(dfd);
	return t_done();
}
