package stubproc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/seccomp"
)

// requestNames names the ptrace(2) requests the platforms issue, for the
// sentry filter's documentation.
var requestNames = map[uint64]string{
	unix.PTRACE_GETREGS:    "PTRACE_GETREGS",
	unix.PTRACE_SETREGS:    "PTRACE_SETREGS",
	unix.PTRACE_GETFPREGS:  "PTRACE_GETFPREGS",
	unix.PTRACE_SETFPREGS:  "PTRACE_SETFPREGS",
	unix.PTRACE_GETREGSET:  "PTRACE_GETREGSET",
	unix.PTRACE_SETREGSET:  "PTRACE_SETREGSET",
	unix.PTRACE_GETSIGINFO: "PTRACE_GETSIGINFO",
	unix.PTRACE_CONT:       "PTRACE_CONT",
	unix.PTRACE_SYSEMU:     "PTRACE_SYSEMU",
	unix.PTRACE_SETOPTIONS: "PTRACE_SETOPTIONS",
	unix.PTRACE_SEIZE:      "PTRACE_SEIZE",
	unix.PTRACE_INTERRUPT:  "PTRACE_INTERRUPT",
}

// PtraceRule is the sentry filter's rule for ptrace(2) restricted to the
// requests reqs, in that order.
func PtraceRule(why string, reqs ...uint64) seccomp.Rule {
	r := seccomp.Rule{Name: "ptrace", Why: why}
	for _, q := range reqs {
		name, ok := requestNames[q]
		if !ok {
			name = fmt.Sprintf("%#x", q)
		}
		r.Any = append(r.Any, seccomp.Match{seccomp.Eq(0, q, "request == "+name)})
	}
	return r
}

// KillRule is the sentry filter's rule for kill(2): SIGKILL of one stub
// process (KillProcess), nothing broadcast.
func KillRule() seccomp.Rule {
	return seccomp.Rule{Name: "kill", Why: "SIGKILL a stub process on Release", Any: []seccomp.Match{{
		seccomp.MaskedEq(0, 0xffffffff80000000, 0, "pid >= 0 (no process-group or kill(-1) broadcast)"),
		seccomp.Eq(1, uint64(unix.SIGKILL), "sig == SIGKILL"),
	}}}
}
