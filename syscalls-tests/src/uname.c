/*
 * uname: uname(2) fills every field with a NUL-terminated string; sysname
 * is "Linux" and machine "x86_64" on this architecture; release starts with
 * a digit. The values themselves are not printed (hostname and release
 * differ between host and sandbox). A wild pointer -> EFAULT.
 */
#include "t.h"
#include <ctype.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	memset(&u, 0xff, sizeof u);
	SYSOK("uname", uname(&u));
	CHECK("sysname Linux", strcmp(u.sysname, "Linux") == 0);
	CHECK("machine x86_64", strcmp(u.machine, "x86_64") == 0);
	CHECK("nodename non-empty", memchr(u.nodename, 0, sizeof u.nodename) && u.nodename[0]);
	CHECK("release starts with a digit", memchr(u.release, 0, sizeof u.release) && isdigit((unsigned char)u.release[0]));
	CHECK("version non-empty", memchr(u.version, 0, sizeof u.version) && u.version[0]);
	CHECK("domainname terminated", memchr(u.domainname, 0, sizeof u.domainname) != NULL);
	EXPECT_ERRNO("uname((void*)1) -> EFAULT", syscall(SYS_uname, (void *)1), EFAULT);
	EXPECT_ERRNO("uname(NULL) -> EFAULT", syscall(SYS_uname, NULL), EFAULT);
	return t_done();
}
