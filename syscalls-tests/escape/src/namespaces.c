/* No new namespaces and no joining other ones: unshare and setns are not
 * implemented (ENOSYS), clone with namespace flags is refused (EPERM), and
 * the sandbox has no /proc/PID/ns files of the host's. */
#include "e.h"
#include <sched.h>

int main(void)
{
	EXPECT_ERRNO("unshare(NEWUSER)", unshare(CLONE_NEWUSER), ENOSYS);
	EXPECT_ERRNO("unshare(NEWNS)", unshare(CLONE_NEWNS), ENOSYS);
	EXPECT_ERRNO("unshare(NEWNET|NEWPID)", unshare(CLONE_NEWNET | CLONE_NEWPID), ENOSYS);
	EXPECT_ERRNO("setns(0, 0)", setns(0, 0), ENOSYS);
	EXPECT_ERRNO("clone(NEWUSER)", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
	EXPECT_ERRNO("clone(NEWNS)", syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EPERM);
	EXPECT_ERRNO("clone(NEWNET)", syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM);
	int fd = open("/proc/1/ns/net", O_RDONLY);
	if (fd >= 0)
		EXPECT_ERRNO("setns(/proc/1/ns/net)", setns(fd, CLONE_NEWNET), ENOSYS);
	else
		t_ok("no /proc/1/ns/net to join");
	return t_done();
}
