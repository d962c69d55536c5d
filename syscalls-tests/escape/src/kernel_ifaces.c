/* Host kernel interfaces with a history of privilege escalations are not
 * implemented for the app (ENOSYS): keyrings, eBPF, perf events,
 * userfaultfd, io_uring, fanotify, file handles. Their host counterparts
 * are outside the sentry's seccomp allowlist too. */
#include "e.h"

int main(void)
{
	char buf[64] = {0};
	EXPECT_ERRNO("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), ENOSYS);
	EXPECT_ERRNO("add_key", syscall(SYS_add_key, "user", "x", "y", 1, -3), ENOSYS);
	EXPECT_ERRNO("request_key", syscall(SYS_request_key, "user", "x", NULL, 0), ENOSYS);
	EXPECT_ERRNO("bpf(BPF_PROG_LOAD)", syscall(SYS_bpf, 5, buf, sizeof buf), ENOSYS);
	EXPECT_ERRNO("perf_event_open", syscall(SYS_perf_event_open, buf, 0, -1, -1, 0), ENOSYS);
	EXPECT_ERRNO("userfaultfd", syscall(SYS_userfaultfd, 0), ENOSYS);
	EXPECT_ERRNO("io_uring_setup", syscall(SYS_io_uring_setup, 8, buf), ENOSYS);
	EXPECT_ERRNO("fanotify_init", syscall(SYS_fanotify_init, 0, 0), ENOSYS);
	EXPECT_ERRNO("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", buf, buf + 32, 0), ENOSYS);
	EXPECT_ERRNO("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, buf, O_RDONLY), ENOSYS);
	EXPECT_ERRNO("syslog(READ_ALL)", syscall(SYS_syslog, 3, buf, sizeof buf), ENOSYS);
	EXPECT_ERRNO("iopl(3)", syscall(SYS_iopl, 3), ENOSYS);
	EXPECT_ERRNO("ioperm", syscall(SYS_ioperm, 0x80, 1, 1), ENOSYS);
	EXPECT_ERRNO("modify_ldt", syscall(SYS_modify_ldt, 1, buf, 16), ENOSYS);
	EXPECT_ERRNO("swapon", syscall(SYS_swapon, "/tmp", 0), ENOSYS);
	EXPECT_ERRNO("acct", syscall(SYS_acct, "/tmp/acct"), ENOSYS);
	EXPECT_ERRNO("quotactl", syscall(SYS_quotactl, 0, "/", 0, buf), ENOSYS);
	return t_done();
}
