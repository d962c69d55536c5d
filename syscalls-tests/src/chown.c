/*
 * chown: chown(2), fchown(2), lchown(2), fchownat(2) to the caller's own
 * uid/gid always succeed for the owner and leave the owner unchanged;
 * -1 means "don't change". lchown changes the link, not the target.
 * - fchownat bad flags -> EINVAL; missing -> ENOENT
 */
#include "t.h"

int main(void)
{
	struct stat st;
	uid_t u = geteuid();
	gid_t g = getegid();

	t_tmpdir("chown");
	t_writefile("f", "x");
	MUST("symlink", symlink("f", "ln"));
	SYSOK("chown to self", chown("f", u, g));
	CHECK("owner unchanged", stat("f", &st) == 0 && st.st_uid == u && st.st_gid == g);
	SYSOK("chown -1 -1", chown("f", (uid_t)-1, (gid_t)-1));
	CHECK("owner still self", stat("f", &st) == 0 && st.st_uid == u);
	int fd = open("f", O_RDONLY);
	SYSOK("fchown to self", fchown(fd, u, g));
	close(fd);
	SYSOK("lchown symlink to self", lchown("ln", u, g));
	CHECK("link owned by self", lstat("ln", &st) == 0 && st.st_uid == u);
	SYSOK("fchownat AT_SYMLINK_NOFOLLOW", fchownat(AT_FDCWD, "ln", u, g, AT_SYMLINK_NOFOLLOW));
	EXPECT_ERRNO("fchownat bad flags -> EINVAL", fchownat(AT_FDCWD, "f", u, g, 0x2), EINVAL);
	EXPECT_ERRNO("chown missing -> ENOENT", chown("nope", u, g), ENOENT);
	EXPECT_ERRNO("fchown closed fd -> EBADF", fchown(fd, u, g), EBADF);
	return t_done();
}
