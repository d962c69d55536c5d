package main

import (
	"fmt"
	"time"

	"pangolin/seccomp"
)

// seccompKillMessage explains the death by SIGSYS of the sandbox process
// kind (sentry or gofer) whose host PID was pid: which host syscall its
// seccomp filter refused, read from the kernel's audit record when the log
// is readable.
func seccompKillMessage(kind string, pid int) string {
	nr, err := seccomp.FindKill(pid, time.Second)
	if err != nil {
		return fmt.Sprintf("%s killed by its seccomp filter: it made a host syscall outside its allowlist (%v; try: dmesg | grep 'type=1326.*pid=%d')", kind, err, pid)
	}
	return fmt.Sprintf("%s killed by its seccomp filter: host syscall %s (%d) is not in its allowlist ('pangolin syscalls --%s')", kind, seccomp.SyscallName(nr), nr, kind)
}
