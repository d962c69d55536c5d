/*
 * enosys: syscall numbers the kernel does not have fail with ENOSYS
 * (syscall(2), errno(3)): 1000 (past the table), 400 (inside the unused
 * x86_64 gap 335..423) and 512 (an x32 number without the x32 bit).
 */
#include "t.h"

int main(void)
{
	EXPECT_ERRNO("syscall 1000", syscall(1000, 0, 0, 0), ENOSYS);
	EXPECT_ERRNO("syscall 400 (gap)", syscall(400, 0, 0, 0), ENOSYS);
	EXPECT_ERRNO("syscall 512 (x32 number)", syscall(512, 0, 0, 0), ENOSYS);
	EXPECT_ERRNO("syscall 100000", syscall(100000), ENOSYS);
	SYSOK("process still alive: getpid", syscall(SYS_getpid));
	return t_done();
}
