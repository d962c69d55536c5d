/*
 * xattr: extended-attribute calls on files that carry none. Reads of a
 * missing attribute give ENODATA, lists are empty, and the arguments are
 * checked as fs/xattr.c does: EOPNOTSUPP for a name in no namespace,
 * ERANGE for an empty or over-long name, the name before the path, EBADF for a bad descriptor. (Setting attributes is not
 * compared: ext4 and tmpfs store them, the sandbox does not.)
 */
#include "t.h"
#include <sys/xattr.h>

int main(void)
{
	t_tmpdir("xattr");
	t_writefile("f", "data");
	MUST("mkdir", mkdir("d", 0755));
	MUST("symlink", symlink("f", "ln"));
	MUST("dangling", symlink("nowhere", "dangle"));
	char buf[256];
	static char big[65537];
	char longname[300];
	memset(longname, 'a', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[sizeof longname - 1] = 0;

	EXPECT_ERRNO("getxattr user.x on file: ENODATA", getxattr("f", "user.x", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("getxattr security.selinux: ENODATA", getxattr("f", "security.selinux", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("getxattr posix acl on dir: ENODATA", getxattr("d", "system.posix_acl_access", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("getxattr size 0 probe: ENODATA", getxattr("f", "user.x", NULL, 0), ENODATA);
	EXPECT_ERRNO("lgetxattr user.x on symlink: ENODATA", lgetxattr("ln", "user.x", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("getxattr user.x on /dev/null: ENODATA", getxattr("/dev/null", "user.x", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("getxattr no namespace: EOPNOTSUPP", getxattr("f", "foo.bar", buf, sizeof buf), EOPNOTSUPP);
	EXPECT_ERRNO("getxattr empty name: ERANGE", getxattr("f", "", buf, sizeof buf), ERANGE);
	EXPECT_ERRNO("getxattr 299-byte name: ERANGE", getxattr("f", longname, buf, sizeof buf), ERANGE);
	EXPECT_ERRNO("getxattr bad name pointer: EFAULT", getxattr("f", (char *)8, buf, sizeof buf), EFAULT);
	EXPECT_ERRNO("getxattr missing path: ENOENT", getxattr("nope", "user.x", buf, sizeof buf), ENOENT);
	EXPECT_ERRNO("getxattr name checked before path", getxattr("nope", "", buf, sizeof buf), ERANGE);
	EXPECT_ERRNO("getxattr dangling symlink: ENOENT", getxattr("dangle", "user.x", buf, sizeof buf), ENOENT);
	EXPECT_ERRNO("getxattr bad path pointer: EFAULT", getxattr((char *)8, "user.x", buf, sizeof buf), EFAULT);
	EXPECT_ERRNO("getxattr through a file: ENOTDIR", getxattr("f/x", "user.x", buf, sizeof buf), ENOTDIR);

	int fd = open("f", O_RDONLY);
	MUST("open", fd);
	EXPECT_ERRNO("fgetxattr user.x: ENODATA", fgetxattr(fd, "user.x", buf, sizeof buf), ENODATA);
	EXPECT_ERRNO("fgetxattr bad fd: EBADF", fgetxattr(-1, "user.x", buf, sizeof buf), EBADF);
	EXPECT_ERRNO("fgetxattr closed fd: EBADF", fgetxattr(999, "user.x", buf, sizeof buf), EBADF);
	int pfd = open("f", O_PATH);
	MUST("open O_PATH", pfd);
	EXPECT_ERRNO("fgetxattr O_PATH fd: EBADF", fgetxattr(pfd, "user.x", buf, sizeof buf), EBADF);

	EXPECT_EQ("listxattr empty", listxattr("f", buf, sizeof buf), 0);
	EXPECT_EQ("listxattr size 0", listxattr("f", NULL, 0), 0);
	EXPECT_EQ("llistxattr symlink empty", llistxattr("ln", buf, sizeof buf), 0);
	EXPECT_EQ("flistxattr empty", flistxattr(fd, buf, sizeof buf), 0);
	EXPECT_ERRNO("listxattr missing: ENOENT", listxattr("nope", buf, sizeof buf), ENOENT);
	EXPECT_ERRNO("flistxattr bad fd: EBADF", flistxattr(-1, buf, sizeof buf), EBADF);

	EXPECT_ERRNO("removexattr missing attr: ENODATA", removexattr("f", "user.x"), ENODATA);
	EXPECT_ERRNO("fremovexattr missing attr: ENODATA", fremovexattr(fd, "user.x"), ENODATA);
	EXPECT_ERRNO("removexattr empty name: ERANGE", removexattr("f", ""), ERANGE);
	EXPECT_ERRNO("removexattr missing path: ENOENT", removexattr("nope", "user.x"), ENOENT);
	EXPECT_ERRNO("setxattr bad flags: EINVAL", setxattr("f", "user.x", "v", 1, 0x100), EINVAL);
	EXPECT_ERRNO("setxattr empty name: ERANGE", setxattr("f", "", "v", 1, 0), ERANGE);
	EXPECT_ERRNO("setxattr too large: E2BIG", syscall(SYS_setxattr, "f", "user.x", big, 65537, 0), E2BIG);
	EXPECT_ERRNO("setxattr missing path: ENOENT", setxattr("nope", "user.x", "v", 1, 0), ENOENT);
	EXPECT_ERRNO("lsetxattr user.x on a symlink: EPERM", lsetxattr("ln", "user.x", "v", 1, 0), EPERM);
	close(fd);
	close(pfd);
	return t_done();
}
