package main

import (
	"fmt"
	"time"

	"pangolin/seccomp"
)

// seccompKillMessage explains the death by SIGSYS of the sandbox process
// kind (sentry or gofer) whose host PID was pid, started at started
// (seccomp.Now): which host syscall its seccomp filter refused, read from
// the kernel's audit record when the log is readable.
func seccompKillMessage(kind string, pid int, started time.Duration) string {
	nr, err := seccomp.FindKill(pid, started, time.Second)
	if err != nil {
		return fmt.Sprintf("%s killed by its seccomp filter: it made a host syscall outside its allowlist (%v; try: dmesg | grep 'type=1326.*pid=%d')", kind, err, pid)
	}
	return fmt.Sprintf("%s killed by its seccomp filter: host syscall %s (%d) is not in its allowlist ('pangolin syscalls --%s')", kind, seccomp.SyscallName(nr), nr, kind)
}

// seccompKillReport says which host syscall got the process kind with host
// PID pid killed by its seccomp filter, if the kernel log has a record of
// it (for callers that are not the process's parent and cannot see its
// wait status, such as the OCI verbs after create).
func seccompKillReport(kind string, pid int, startTicks uint64) (string, bool) {
	if pid <= 0 {
		return "", false
	}
	// /proc/PID/stat start times are in clock ticks since boot (USER_HZ,
	// 100 on Linux); a coarse lower bound is all FindKill needs.
	started := time.Duration(startTicks) * 10 * time.Millisecond
	nr, err := seccomp.FindKill(pid, started, 100*time.Millisecond)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("the %s was killed by its seccomp filter: host syscall %s (%d) is not in its allowlist", kind, seccomp.SyscallName(nr), nr), true
}
