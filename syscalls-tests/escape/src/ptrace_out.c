/* No way to trace or read another process's memory outside the sandbox:
 * the sentry implements neither ptrace(2) nor process_vm_readv(2) for the
 * app (ENOSYS), and the victim's PID is not a sandbox PID anyway. */
#include "e.h"
#include <sys/ptrace.h>
#include <sys/uio.h>

int main(void)
{
	pid_t victim = atoi(e_env("ESCAPE_VICTIM"));
	EXPECT_ERRNO("ptrace(ATTACH, victim)", ptrace(PTRACE_ATTACH, victim, 0, 0), ENOSYS);
	EXPECT_ERRNO("ptrace(SEIZE, victim)", ptrace(PTRACE_SEIZE, victim, 0, 0), ENOSYS);
	EXPECT_ERRNO("ptrace(ATTACH, 1)", ptrace(PTRACE_ATTACH, 1, 0, 0), ENOSYS);
	char buf[16];
	struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
	EXPECT_ERRNO("process_vm_readv(victim)", syscall(SYS_process_vm_readv, victim, &l, 1, &r, 1, 0), ENOSYS);
	EXPECT_ERRNO("process_vm_writev(victim)", syscall(SYS_process_vm_writev, victim, &l, 1, &r, 1, 0), ENOSYS);
	EXPECT_ERRNO("kcmp(victim)", syscall(SYS_kcmp, victim, getpid(), 0, 0, 0), ENOSYS);
	EXPECT_ERRNO("pidfd_open(victim)", syscall(SYS_pidfd_open, victim, 0), ESRCH);
	return t_done();
}
