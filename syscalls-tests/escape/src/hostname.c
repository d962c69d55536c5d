/* The sandbox's hostname is its own: changing it is not implemented yet
 * (ENOSYS), and uname keeps reporting the sandbox's name. The harness
 * checks the host's hostname (and runs this in a UTS namespace of its own,
 * a fence should an escape ever happen). */
#include "e.h"
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	uname(&u);
	CHECK("hostname is the sandbox's", strcmp(u.nodename, "pangolin") == 0);
	EXPECT_ERRNO("sethostname", sethostname("pangolin-escaped", 16), ENOSYS);
	EXPECT_ERRNO("setdomainname", setdomainname("escaped", 7), ENOSYS);
	int fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	if (fd >= 0) {
		CHECK("writing /proc/sys/kernel/hostname fails", write(fd, "escaped\n", 8) < 0);
		close(fd);
	} else {
		t_ok("/proc/sys/kernel/hostname not writable");
	}
	uname(&u);
	CHECK("hostname unchanged", strcmp(u.nodename, "pangolin") == 0);
	return t_done();
}
