/* The sandbox's hostname is its own UTS namespace: root in the sandbox
 * may change it (as in a container), uname then reports the new name, and
 * the host's hostname stays what it was. The harness checks the host's
 * hostname afterwards (and runs this in a UTS namespace of its own, a
 * fence should an escape ever happen). Unprivileged callers get EPERM. */
#include "e.h"
#include <sys/utsname.h>
#include <sys/wait.h>

int main(void)
{
	struct utsname u;
	uname(&u);
	CHECK("hostname is the sandbox's", strcmp(u.nodename, "pangolin") == 0);
	SYSOK("sethostname in the sandbox", sethostname("pangolin-escaped", 16));
	SYSOK("setdomainname in the sandbox", setdomainname("escaped", 7));
	uname(&u);
	CHECK("uname shows the sandbox's new name", strcmp(u.nodename, "pangolin-escaped") == 0 && strcmp(u.domainname, "escaped") == 0);
	int fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	if (fd >= 0) {
		CHECK("writing /proc/sys/kernel/hostname fails", write(fd, "escaped\n", 8) < 0);
		close(fd);
	} else {
		t_ok("/proc/sys/kernel/hostname not writable");
	}
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		_exit(sethostname("x", 1) == -1 && errno == EPERM ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("unprivileged sethostname -> EPERM", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return t_done();
}
