/*
 * link: link(2), linkat(2).
 * - link creates a second name for the same inode
 * - existing new name -> EEXIST; missing old name -> ENOENT
 * - linking a directory -> EPERM
 * - linkat without AT_SYMLINK_FOLLOW links the symlink itself; with it,
 *   the target; unknown flags -> EINVAL
 */
#include "t.h"

int main(void)
{
	struct stat a, b, l;

	t_tmpdir("link");
	t_writefile("f", "x");
	MUST("symlink", symlink("f", "ln"));
	MUST("mkdir", mkdir("d", 0755));
	SYSOK("link", link("f", "g"));
	CHECK("same inode", stat("f", &a) == 0 && stat("g", &b) == 0 && a.st_ino == b.st_ino);
	EXPECT_ERRNO("existing newpath -> EEXIST", link("f", "g"), EEXIST);
	EXPECT_ERRNO("missing oldpath -> ENOENT", link("nope", "h"), ENOENT);
	EXPECT_ERRNO("link directory -> EPERM", link("d", "d2"), EPERM);
	EXPECT_ERRNO("newpath in missing dir -> ENOENT", link("f", "nodir/h"), ENOENT);
	SYSOK("linkat symlink (no follow)", linkat(AT_FDCWD, "ln", AT_FDCWD, "ln_hard", 0));
	CHECK("linked the symlink itself", lstat("ln_hard", &l) == 0 && S_ISLNK(l.st_mode));
	SYSOK("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "ln", AT_FDCWD, "f_hard", AT_SYMLINK_FOLLOW));
	CHECK("linked the target", lstat("f_hard", &l) == 0 && S_ISREG(l.st_mode) && l.st_ino == a.st_ino);
	CHECK("nlink now 3", stat("f", &a) == 0 && a.st_nlink == 3);
	EXPECT_ERRNO("linkat bad flags -> EINVAL", linkat(AT_FDCWD, "f", AT_FDCWD, "z", 0x2), EINVAL);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	SYSOK("linkat into dirfd", linkat(AT_FDCWD, "f", dfd, "in_d", 0));
	CHECK("appears in d", stat("d/in_d", &l) == 0 && l.st_ino == a.st_ino);
	close(dfd);
	return t_done();
}
