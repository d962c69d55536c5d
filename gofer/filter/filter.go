// Package filter is the gofer's host syscall allowlist, installed once the
// gofer holds its root, its /proc/self/fd and its connection, before it
// reads the first request (server.Options.BeforeServe).
//
// The gofer is the only Pangolin process that opens host files, so its list
// has the *at family the server uses (every path a single component
// relative to a directory FD it holds; see gofer/server) and nothing else:
// no ioctl, no read/write of file data (the sentry does I/O on donated FDs),
// no exec, no sockets, no ptrace. It is narrower than the sentry's in what it
// may do to processes and memory, and wider only in file metadata.
package filter

import (
	"golang.org/x/sys/unix"

	"pangolin/seccomp"
)

// Thread-creation flags of the Go runtime and of glibc's pthread_create
// (see sentry/filter).
const (
	goCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_SYSVSEM | unix.CLONE_THREAD
	glibcCloneFlags = goCloneFlags | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID
)

// Private futex operations (linux/futex.h).
const (
	futexWaitPrivate       = 128
	futexWakePrivate       = 129
	futexWaitBitsetPrivate = 137
	futexClockRealtime     = 256
)

func noExec(arg uint) seccomp.Match {
	return seccomp.Match{seccomp.MaskedEq(arg, unix.PROT_EXEC, 0, "prot has no PROT_EXEC")}
}

// Rules returns the gofer's allowlist.
func Rules() []seccomp.Rule {
	return seccomp.MustMerge([]seccomp.Rule{
		// Go runtime.
		{Name: "mmap", Why: "Go heap and stacks", Any: []seccomp.Match{noExec(2)}},
		{Name: "munmap", Why: "Go heap"},
		{Name: "mprotect", Why: "glibc thread stacks (guard pages)", Any: []seccomp.Match{noExec(2)}},
		{Name: "madvise", Why: "Go's scavenger"},
		{Name: "futex", Why: "Go runtime and glibc thread synchronisation (private futexes only)", Any: []seccomp.Match{
			{seccomp.Eq(1, futexWaitPrivate, "op == FUTEX_WAIT_PRIVATE")},
			{seccomp.Eq(1, futexWakePrivate, "op == FUTEX_WAKE_PRIVATE")},
			{seccomp.Eq(1, futexWaitBitsetPrivate, "op == FUTEX_WAIT_BITSET_PRIVATE")},
			{seccomp.Eq(1, futexWaitBitsetPrivate|futexClockRealtime, "op == FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME")},
		}},
		{Name: "clone", Why: "OS threads for request handlers; thread flags only", Any: []seccomp.Match{
			{seccomp.Eq(0, goCloneFlags, "flags == Go runtime thread flags")},
			{seccomp.Eq(0, glibcCloneFlags, "flags == glibc pthread_create flags")},
		}},
		{Name: "clone3", Why: "glibc tries clone3 first; failing makes it use clone, whose flags the filter checks", Errno: unix.ENOSYS},
		{Name: "rseq", Why: "glibc registers restartable sequences for every thread it starts"},
		{Name: "set_robust_list", Why: "glibc registers each new thread's robust futex list"},
		{Name: "exit", Why: "an OS thread ends"},
		{Name: "exit_group", Why: "the gofer exits when the sentry hangs up"},
		{Name: "gettid", Why: "Go runtime signal targeting"},
		{Name: "getpid", Why: "Go runtime signal targeting"},
		{Name: "tgkill", Why: "Go runtime preemption (SIGURG) of its own threads"},
		{Name: "sched_yield", Why: "Go runtime spinning"},
		{Name: "nanosleep", Why: "Go runtime short sleeps"},
		{Name: "rt_sigaction", Why: "Go runtime signal handlers"},
		{Name: "rt_sigprocmask", Why: "Go runtime masks signals around thread creation"},
		{Name: "rt_sigreturn", Why: "return from the Go runtime's signal handlers"},
		{Name: "sigaltstack", Why: "Go runtime gives every thread a signal stack"},
		{Name: "restart_syscall", Why: "the kernel restarts an interrupted nanosleep/futex through it"},
		{Name: "epoll_create1", Why: "Go netpoller (the sentry connection)"},
		{Name: "epoll_ctl", Why: "Go netpoller"},
		{Name: "epoll_pwait", Why: "Go netpoller and timers"},
		{Name: "eventfd2", Why: "Go netpoller wake-up"},

		// The connection and the debug log.
		{Name: "recvmsg", Why: "requests from the sentry"},
		{Name: "sendmsg", Why: "replies, donating opened FDs (SCM_RIGHTS)"},
		{Name: "read", Why: "Go netpoller wake-up eventfd"},
		{Name: "write", Why: "debug log; Go netpoller wake-up eventfd"},
		{Name: "close", Why: "node and donated FDs"},
		{Name: "fcntl", Why: "status flags of reopened files (O_NONBLOCK guard); Mount duplicates the root FD", Any: []seccomp.Match{
			{seccomp.Eq(1, unix.F_GETFL, "cmd == F_GETFL")},
			{seccomp.Eq(1, unix.F_SETFL, "cmd == F_SETFL")},
			{seccomp.Eq(1, unix.F_DUPFD_CLOEXEC, "cmd == F_DUPFD_CLOEXEC")},
		}},

		// The file server (gofer/server/hostfs.go, ops.go).
		{Name: "openat", Why: "walks (O_PATH|O_NOFOLLOW, one component), reopens for I/O, Create", Any: []seccomp.Match{
			{seccomp.MaskedEq(2, unix.O_CREAT|unix.O_EXCL, 0, "flags has neither O_CREAT nor O_EXCL")},
			{seccomp.MaskedEq(2, unix.O_CREAT|unix.O_EXCL, unix.O_CREAT|unix.O_EXCL, "flags has O_CREAT|O_EXCL (create, never open an existing file by O_CREAT)")},
		}},
		{Name: "openat2", Why: "the same walks, with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS as a second guard"},
		{Name: "newfstatat", Why: "stat of a node (fstatat(fd, \"\", AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW))"},
		{Name: "fstatfs", Why: "StatFS"},
		{Name: "getdents64", Why: "Getdents"},
		{Name: "lseek", Why: "Getdents cookies"},
		{Name: "readlinkat", Why: "Readlink (the sentry resolves symlinks)"},
		{Name: "mkdirat", Why: "Mkdir"},
		{Name: "mknodat", Why: "Mknod of regular files, FIFOs and socket placeholder nodes (nothing binds them on the host); never device nodes", Any: []seccomp.Match{
			{seccomp.MaskedEq(2, unix.S_IFMT, unix.S_IFREG, "mode is S_IFREG")},
			{seccomp.MaskedEq(2, unix.S_IFMT, unix.S_IFIFO, "mode is S_IFIFO")},
			{seccomp.MaskedEq(2, unix.S_IFMT, unix.S_IFSOCK, "mode is S_IFSOCK")},
		}},
		{Name: "symlinkat", Why: "Symlink"},
		{Name: "linkat", Why: "Link"},
		{Name: "unlinkat", Why: "Unlink"},
		{Name: "renameat2", Why: "Rename"},
		{Name: "fchownat", Why: "SetStat owner, Create owner"},
		{Name: "fchmodat", Why: "SetStat mode through /proc/self/fd (kernels without fchmodat2)"},
		{Name: "fchmodat2", Why: "SetStat mode of the node itself (AT_EMPTY_PATH)"},
		{Name: "fchmod", Why: "SetStat mode of a directory reopened as \".\""},
		{Name: "utimensat", Why: "SetStat times"},
		{Name: "ftruncate", Why: "SetStat size, O_TRUNC after the inode check"},
	})
}
