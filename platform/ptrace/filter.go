package ptrace

import (
	"golang.org/x/sys/unix"

	"pangolin/platform/internal/stubproc"
	"pangolin/seccomp"
)

// ptraceRequests are the requests the platform issues as a tracer. Memory
// is never read or written through ptrace (the sentry maps the memory file),
// and attaching to an arbitrary process (PTRACE_ATTACH) is not among them:
// PTRACE_SEIZE is only used on stub threads the platform just cloned.
var ptraceRequests = []uint64{
	unix.PTRACE_GETREGS,
	unix.PTRACE_SETREGS,
	unix.PTRACE_GETFPREGS,
	unix.PTRACE_SETFPREGS,
	unix.PTRACE_GETREGSET,
	unix.PTRACE_SETREGSET,
	unix.PTRACE_GETSIGINFO,
	unix.PTRACE_CONT,
	unix.PTRACE_SYSEMU,
	unix.PTRACE_SETOPTIONS,
	unix.PTRACE_SEIZE,
	unix.PTRACE_INTERRUPT,
}

// HostSyscalls returns the host syscalls the ptrace platform makes in the
// sentry process once it is running, merged into the sentry's filter
// (sentry/filter). New, which maps the stub page and clones the master
// stub, runs before the filter is installed.
func HostSyscalls() []seccomp.Rule {
	return []seccomp.Rule{
		stubproc.PtraceRule("tracing stub threads: registers, FP state, siginfo, SYSEMU/CONT, seizing new stub threads", ptraceRequests...),
		{Name: "wait4", Why: "ptrace stops and exits of stub threads (__WALL)"},
		stubproc.KillRule(),
		{Name: "tgkill", Why: "interrupt a stub thread running app code (SIGCHLD)"},
		{Name: "gettid", Why: "stub threads are keyed by their tracer's TID"},
		{Name: "getpid", Why: "check that a stub's signal came from the sentry"},
	}
}

// StubSyscalls returns the filter of every stub process (for
// documentation; the platform installs it itself).
func StubSyscalls() []seccomp.Rule { return stubRules() }

// stubRules is the filter of every stub process. The application's own
// syscalls never reach it: PTRACE_SYSEMU stops them at syscall entry before
// seccomp runs (syscall_trace_enter() checks SYSCALL_WORK_SYSCALL_EMU first),
// and the sentry emulates them. What reaches it are the syscalls the
// platform injects at the stub's syscall and clone sites, and the three
// calls the kernel emulates for the legacy vsyscall page. Anything else
// means app code runs where it should not, and kills the stub.
func stubRules() []seccomp.Rule {
	return []seccomp.Rule{
		{Name: "mmap", Why: "MapFile: shared mappings of sentry-held FDs at fixed addresses", Any: []seccomp.Match{
			{seccomp.Eq(3, unix.MAP_SHARED|unix.MAP_FIXED, "flags == MAP_SHARED|MAP_FIXED")},
		}},
		{Name: "munmap", Why: "Unmap, and erasing the sentry's image from the master stub"},
		{Name: "clone", Why: "new stub processes (from the master stub) and stub threads (from a leader)", Any: []seccomp.Match{
			{seccomp.Eq(0, uint64(stubproc.ProcessCloneFlags), "flags == new stub process")},
			{seccomp.Eq(0, unix.CLONE_VM|unix.CLONE_FILES|unix.CLONE_FS|unix.CLONE_SIGHAND|unix.CLONE_THREAD|unix.CLONE_SYSVSEM, "flags == new stub thread")},
		}},
		{Name: "prctl", Why: "PR_SET_PDEATHSIG in a new stub process", Any: []seccomp.Match{
			{seccomp.Eq(0, unix.PR_SET_PDEATHSIG, "option == PR_SET_PDEATHSIG")},
		}},
		{Name: "pause", Why: "a new stub thread parks until its tracer seizes it"},
		{Name: "exit", Why: "a stub thread is retired"},
		{Name: "gettimeofday", Why: "vsyscall page emulation by the host kernel (no syscall instruction for SYSEMU to stop)"},
		{Name: "time", Why: "vsyscall page emulation"},
		{Name: "getcpu", Why: "vsyscall page emulation"},
	}
}
