// Package filter is the sentry's host syscall allowlist: every syscall the
// sentry process may make once it has booted (after the platform, memory
// file, gofer connection and stdio are set up, before any application code
// runs). The platform adds its own rules (platform/ptrace.HostSyscalls,
// platform/systrap.HostSyscalls).
//
// The sentry implements the application's syscalls itself, so this list is
// about the sentry's own needs: the Go runtime, I/O on descriptors it was
// given (stdio, the gofer socket, files the gofer donated, the memory file),
// and the platform. There is no open, no socket, no exec, no mount: the
// sentry never names a host path. Each rule says why it is here; argument
// conditions narrow the ones that matter.
//
// Measured on the ptrace platform with networking off: see the README's
// security section and TestHostSyscallBudget. --network=none adds nothing
// (netstack runs on the sentry's own goroutines and timers);
// --network=sandbox adds recvmmsg, sendmmsg and writev on the packet
// sockets only (packetRules).
package filter

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/seccomp"
)

// MaxHostSyscalls is the budget of distinct host syscalls the sentry (with
// the ptrace platform, networking off) may reach; issue #4's target.
const MaxHostSyscalls = 55

// Go's and glibc's thread-creation flags. The Go runtime creates threads
// with clone(2) directly (runtime/os_linux.go: cloneFlags); with cgo (we link
// libseccomp) it uses pthread_create, whose glibc clone adds TLS and TID
// bookkeeping (sysdeps/unix/sysv/linux/createthread.c).
const (
	goCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_SYSVSEM | unix.CLONE_THREAD
	glibcCloneFlags = goCloneFlags | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID
)

// noExec is the condition on a prot argument: never executable. The
// sentry never maps code after boot (the platform's stub page is mapped
// before the filter is installed), so a compromised sentry cannot make
// memory it can write into memory it can run.
func noExec(arg uint) seccomp.Match {
	return seccomp.Match{seccomp.MaskedEq(arg, unix.PROT_EXEC, 0, "prot has no PROT_EXEC")}
}

// ioctls are the terminal and FIONREAD requests fs/host passes through to
// the host stdio descriptors (fs/host.file.Ioctl). Job control (TIOC*PGRP,
// TIOCSCTTY) and TIOCSTI are deliberately absent.
var ioctls = []struct {
	req  uint64
	name string
}{
	{unix.TCGETS, "TCGETS"},
	{unix.TCSETS, "TCSETS"},
	{unix.TCSETSW, "TCSETSW"},
	{unix.TCSETSF, "TCSETSF"},
	{unix.TIOCGWINSZ, "TIOCGWINSZ"},
	{unix.TIOCSWINSZ, "TIOCSWINSZ"},
	{0x541b, "FIONREAD"}, // not in x/sys/unix; asm-generic/ioctls.h,
}

func ioctlRule() seccomp.Rule {
	r := seccomp.Rule{Name: "ioctl", Why: "terminal attributes, window size and FIONREAD on host stdio (fs/host)"}
	for _, c := range ioctls {
		r.Any = append(r.Any, seccomp.Match{seccomp.Eq(1, c.req, "request == "+c.name)})
	}
	return r
}

// futexOps are the futex operations the Go runtime and glibc use on the
// sentry's own memory. Application futexes are emulated by the kernel
// package and never reach the host.
//
// The values are from linux/futex.h (x/sys/unix does not define them).
const (
	futexWait          = 0
	futexWake          = 1
	futexWaitBitset    = 9
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

var futexOps = []struct {
	op   uint64
	name string
}{
	{futexWait | futexPrivateFlag, "FUTEX_WAIT_PRIVATE"},
	{futexWake | futexPrivateFlag, "FUTEX_WAKE_PRIVATE"},
	{futexWaitBitset | futexPrivateFlag, "FUTEX_WAIT_BITSET_PRIVATE"},
	{futexWaitBitset | futexPrivateFlag | futexClockRealtime, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"},
}

func futexRule() seccomp.Rule {
	r := seccomp.Rule{Name: "futex", Why: "Go runtime and glibc thread synchronisation (private futexes only)"}
	for _, o := range futexOps {
		r.Any = append(r.Any, seccomp.Match{seccomp.Eq(1, o.op, "op == "+o.name)})
	}
	return r
}

// Rules returns the sentry's allowlist, without the platform's rules.
func Rules() []seccomp.Rule {
	return seccomp.MustMerge([]seccomp.Rule{
		// Go runtime: memory, threads, scheduling, signals.
		{Name: "mmap", Why: "Go heap and stacks; mapping the memory file and donated files for copy-in/out (sentry/memfile, fs/gofer)", Any: []seccomp.Match{noExec(2)}},
		{Name: "munmap", Why: "Go runtime; unmapping donated files' chunks"},
		{Name: "mprotect", Why: "glibc thread stacks (guard pages) for cgo-created threads", Any: []seccomp.Match{noExec(2)}},
		{Name: "madvise", Why: "Go's scavenger returns freed heap pages to the host"},
		futexRule(),
		{Name: "clone", Why: "new OS threads for goroutines (task goroutines lock their thread); thread flags only, never a new process", Any: []seccomp.Match{
			{seccomp.Eq(0, goCloneFlags, "flags == Go runtime thread flags")},
			{seccomp.Eq(0, glibcCloneFlags, "flags == glibc pthread_create flags")},
		}},
		{Name: "clone3", Why: "glibc tries clone3 first for threads; its flags live in memory a filter cannot read, so it fails and glibc falls back to clone", Errno: unix.ENOSYS},
		{Name: "rseq", Why: "glibc registers restartable sequences for every thread it starts, and aborts if that fails once the main thread has one"},
		{Name: "set_robust_list", Why: "glibc registers each new thread's robust futex list"},
		{Name: "exit", Why: "an OS thread ends (a task goroutine exits with its locked thread)"},
		{Name: "exit_group", Why: "the sentry exits with the application's status"},
		{Name: "gettid", Why: "Go runtime signal targeting"},
		{Name: "getpid", Why: "Go runtime signal targeting"},
		{Name: "tgkill", Why: "Go runtime preemption (SIGURG) of its own threads"},
		{Name: "sched_yield", Why: "Go runtime spinning (osyield)"},
		{Name: "nanosleep", Why: "Go runtime short sleeps (usleep)"},
		{Name: "rt_sigaction", Why: "Go runtime signal handlers (installed at start; os/signal)"},
		{Name: "rt_sigprocmask", Why: "Go runtime masks signals around thread creation"},
		{Name: "rt_sigreturn", Why: "return from the Go runtime's signal handlers"},
		{Name: "sigaltstack", Why: "Go runtime gives every thread a signal stack"},
		{Name: "restart_syscall", Why: "the kernel restarts an interrupted nanosleep/futex through it"},
		{Name: "epoll_create1", Why: "Go netpoller; fs/host's notifier for host stdio readiness"},
		{Name: "epoll_ctl", Why: "Go netpoller; fs/host's notifier"},
		{Name: "epoll_pwait", Why: "Go netpoller and timers"},
		{Name: "eventfd2", Why: "Go netpoller wake-up (netpollBreak)"},
		{Name: "clock_gettime", Why: "a task's system time is its sentry thread's CPU time (sentry/kernel/task_usage.go); other clocks are read from the vDSO, without a syscall", Any: []seccomp.Match{
			{seccomp.Eq(0, unix.CLOCK_THREAD_CPUTIME_ID, "clock == CLOCK_THREAD_CPUTIME_ID")},
		}},
		{Name: "getrandom", Why: "crypto/rand: AT_RANDOM, getrandom(2) and /dev/urandom for the application"},

		// I/O on descriptors the sentry was given.
		{Name: "read", Why: "host stdio, netpoller eventfd, control connections"},
		{Name: "write", Why: "host stdio, debug log, netpoller eventfd, OCI ready pipe"},
		{Name: "preadv2", Why: "non-blocking reads of pollable host stdio (fs/host: RWF_NOWAIT, so no sentry thread blocks in the host)", Any: []seccomp.Match{
			{seccomp.Eq(5, unix.RWF_NOWAIT, "flags == RWF_NOWAIT")},
		}},
		{Name: "pwritev2", Why: "non-blocking writes to pollable host stdio (fs/host: RWF_NOWAIT)", Any: []seccomp.Match{
			{seccomp.Eq(5, unix.RWF_NOWAIT, "flags == RWF_NOWAIT")},
		}},
		{Name: "pread64", Why: "donated host files (fs/gofer)"},
		{Name: "pwrite64", Why: "donated host files (fs/gofer)"},
		{Name: "lseek", Why: "host stdio and donated files' offsets"},
		{Name: "close", Why: "descriptors the sentry owns (donated files, duplicates)"},
		{Name: "fcntl", Why: "Go netpoller sets O_NONBLOCK; fs/host reads status flags and the app's F_GETPIPE_SZ/F_SETPIPE_SZ on host pipes (at most 1 MiB); F_DUPFD_CLOEXEC", Any: []seccomp.Match{
			{seccomp.Eq(1, unix.F_GETFL, "cmd == F_GETFL")},
			{seccomp.Eq(1, unix.F_GETPIPE_SZ, "cmd == F_GETPIPE_SZ")},
			{seccomp.Eq(1, unix.F_SETPIPE_SZ, "cmd == F_SETPIPE_SZ")},
			{seccomp.Eq(1, unix.F_SETFL, "cmd == F_SETFL")},
			{seccomp.Eq(1, unix.F_GETFD, "cmd == F_GETFD")},
			{seccomp.Eq(1, unix.F_SETFD, "cmd == F_SETFD")},
			{seccomp.Eq(1, unix.F_DUPFD_CLOEXEC, "cmd == F_DUPFD_CLOEXEC")},
		}},
		{Name: "fstat", Why: "attributes of donated files and host stdio"},
		{Name: "ftruncate", Why: "truncating donated files (fs/gofer)"},
		{Name: "fallocate", Why: "punching freed pages out of the memory file (sentry/memfile)"},
		{Name: "fsync", Why: "fsync(2) of donated files"},
		{Name: "fdatasync", Why: "fdatasync(2) of donated files"},
		ioctlRule(),
		{Name: "ppoll", Why: "host stdio readiness without RWF_NOWAIT (fs/host)"},
		{Name: "epoll_wait", Why: "fs/host's notifier waits for host stdio readiness"},
		{Name: "recvmsg", Why: "gofer replies with donated FDs (SCM_RIGHTS)"},
		{Name: "sendmsg", Why: "gofer requests"},
	})
}

// Options are what varies between sentries.
type Options struct {
	// ControlFD is the listening control socket of an OCI sandbox
	// (runsc-cli/control), or -1 for `pangolin do`, which has none.
	ControlFD int
	// PacketFDs are the AF_PACKET sockets of --network=sandbox, one per
	// interface (none for --network=none).
	PacketFDs []int
}

// packetRules move frames on the packet sockets the CLI opened in the
// container's network namespace and bound to its interfaces
// (sentry/socket/netstack: gVisor's fdbased link endpoint). Every rule
// is restricted to those descriptors; nothing here can open a socket or
// reach another one. Blocking until a frame arrives uses ppoll and the
// dispatcher's stop eventfd (read/write), already in the base list.
func packetRules(fds []int) []seccomp.Rule {
	if len(fds) == 0 {
		return nil
	}
	onFD := func(extra ...seccomp.Cond) []seccomp.Match {
		var ms []seccomp.Match
		for _, fd := range fds {
			m := seccomp.Match{seccomp.Eq(0, uint64(fd), fmt.Sprintf("fd == packet socket %d", fd))}
			ms = append(ms, append(m, extra...))
		}
		return ms
	}
	dontwait := seccomp.Eq(3, unix.MSG_DONTWAIT, "flags == MSG_DONTWAIT")
	return []seccomp.Rule{
		{Name: "recvmmsg", Why: "frames received on the sandbox's interfaces, in batches (fdbased's recvmmsg dispatcher)", Any: onFD(dontwait)},
		{Name: "sendmmsg", Why: "batches of frames the sandbox sends on its interfaces", Any: onFD(dontwait)},
		{Name: "writev", Why: "single frames the sandbox sends on its interfaces (header and payload as one iovec list)", Any: onFD()},
	}
}

// controlRules serve the control socket: the CLI's verbs (start, kill,
// exec, wait, ps...) connect to it, and exec passes the new process's
// stdio as SCM_RIGHTS (received with recvmsg, already allowed).
func controlRules(fd int) []seccomp.Rule {
	return []seccomp.Rule{
		{Name: "accept4", Why: "control socket connections (OCI verbs)", Any: []seccomp.Match{
			{seccomp.Eq(0, uint64(fd), "fd == the control socket")},
		}},
		{Name: "getsockopt", Why: "SO_PEERCRED of a control connection: only the sandbox's owner may call", Any: []seccomp.Match{{
			seccomp.Eq(1, unix.SOL_SOCKET, "level == SOL_SOCKET"),
			seccomp.Eq(2, unix.SO_PEERCRED, "option == SO_PEERCRED"),
		}}},
	}
}

// Sentry returns the complete allowlist of a sentry running on a platform
// whose own host syscalls are platformRules.
func Sentry(platformRules []seccomp.Rule, o Options) ([]seccomp.Rule, error) {
	lists := [][]seccomp.Rule{Rules(), platformRules}
	if o.ControlFD >= 0 {
		lists = append(lists, controlRules(o.ControlFD))
	}
	lists = append(lists, packetRules(o.PacketFDs))
	return seccomp.Merge(lists...)
}
