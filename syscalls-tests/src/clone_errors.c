/*
 * clone_errors: argument validation of clone(2) and clone3(2).
 */
#define _GNU_SOURCE
#include "t.h"
#include <sched.h>
#include <signal.h>
#include <linux/sched.h>

static long raw_clone(unsigned long flags)
{
	return syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
}

int main(void)
{
	EXPECT_ERRNO("CLONE_SIGHAND without CLONE_VM", raw_clone(CLONE_SIGHAND), EINVAL);
	EXPECT_ERRNO("CLONE_THREAD without CLONE_SIGHAND", raw_clone(CLONE_THREAD | CLONE_VM), EINVAL);
	EXPECT_ERRNO("CLONE_NEWNS|CLONE_FS", raw_clone(CLONE_NEWNS | CLONE_FS), EINVAL);
	EXPECT_ERRNO("CLONE_PIDFD to a NULL slot -> EFAULT", raw_clone(CLONE_PIDFD), EFAULT);
	int slot = 0;
	EXPECT_ERRNO("CLONE_PIDFD|CLONE_PARENT_SETTID share a slot", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID, NULL, &slot, NULL, 0), EINVAL);
	struct clone_args ca = {0};
	EXPECT_ERRNO("clone3 size too small", syscall(SYS_clone3, &ca, 32), EINVAL);
	char big[200] = {0};
	big[150] = 1;
	EXPECT_ERRNO("clone3 nonzero tail -> E2BIG", syscall(SYS_clone3, big, sizeof big), E2BIG);
	ca.exit_signal = 0x100;
	EXPECT_ERRNO("clone3 bad exit signal", syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
	ca.exit_signal = SIGCHLD;
	ca.stack = 4096;
	EXPECT_ERRNO("clone3 stack without size", syscall(SYS_clone3, &ca, sizeof ca), EINVAL);
	EXPECT_ERRNO("clone3 wild args", syscall(SYS_clone3, (void *)8, sizeof ca), EFAULT);
	return t_done();
}
