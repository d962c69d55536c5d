package linux

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/sentry/kernel"
)

func sup(name string, fn kernel.SyscallFn) kernel.Syscall {
	return kernel.Syscall{Name: name, Fn: fn, Support: kernel.Supported}
}

func partial(name string, fn kernel.SyscallFn, note string) kernel.Syscall {
	return kernel.Syscall{Name: name, Fn: fn, Support: kernel.PartiallySupported, Note: note}
}

// coreSyscalls are the process, memory, time and signal syscalls. File
// syscalls are in fsSyscalls (linux64_fs.go); Table merges both.
var coreSyscalls = map[uintptr]kernel.Syscall{
	unix.SYS_EXIT:              sup("exit", Exit),
	unix.SYS_EXIT_GROUP:        sup("exit_group", ExitGroup),
	unix.SYS_GETPID:            sup("getpid", Getpid),
	unix.SYS_GETTID:            sup("gettid", Gettid),
	unix.SYS_GETPPID:           sup("getppid", Getppid),
	unix.SYS_GETUID:            sup("getuid", Getuid),
	unix.SYS_GETEUID:           sup("geteuid", Geteuid),
	unix.SYS_GETGID:            sup("getgid", Getgid),
	unix.SYS_GETEGID:           sup("getegid", Getegid),
	unix.SYS_GETRESUID:         sup("getresuid", Getresuid),
	unix.SYS_GETRESGID:         sup("getresgid", Getresgid),
	unix.SYS_GETGROUPS:         sup("getgroups", Getgroups),
	unix.SYS_SET_TID_ADDRESS:   sup("set_tid_address", SetTidAddress),
	unix.SYS_SET_ROBUST_LIST:   sup("set_robust_list", SetRobustList),
	unix.SYS_ARCH_PRCTL:        sup("arch_prctl", ArchPrctl),
	unix.SYS_UNAME:             sup("uname", Uname),
	unix.SYS_PRCTL:             partial("prctl", Prctl, "PR_{SET,GET}_NAME, DUMPABLE, NO_NEW_PRIVS, {SET,GET}_SECCOMP, CAPBSET_*, KEEPCAPS, PDEATHSIG, CHILD_SUBREAPER"),
	unix.SYS_SCHED_YIELD:       sup("sched_yield", SchedYield),
	unix.SYS_SCHED_GETAFFINITY: sup("sched_getaffinity", SchedGetaffinity),
	unix.SYS_SCHED_SETAFFINITY: partial("sched_setaffinity", SchedSetaffinity, "accepted; the sentry schedules tasks itself"),
	unix.SYS_GETCPU:            sup("getcpu", Getcpu),
	unix.SYS_GETRLIMIT:         sup("getrlimit", Getrlimit),
	unix.SYS_SETRLIMIT:         sup("setrlimit", Setrlimit),
	unix.SYS_PRLIMIT64:         sup("prlimit64", Prlimit64),
	unix.SYS_GETRUSAGE:         partial("getrusage", Getrusage, "ru_utime is wall time in app code (as gVisor), ru_stime the sentry thread's CPU time, ru_maxrss; other fields 0"),
	unix.SYS_SYSINFO:           sup("sysinfo", Sysinfo),
	unix.SYS_GETRANDOM:         sup("getrandom", Getrandom),
	unix.SYS_SECCOMP:           partial("seccomp", Seccomp, "strict and filter modes, TSYNC, GET_ACTION_AVAIL; FILTER_FLAG_NEW_LISTENER: EINVAL (no user notification), RET_TRACE: ENOSYS (no ptrace)"),
	unix.SYS_EXECVE:            sup("execve", Execve),
	unix.SYS_CLONE:             partial("clone", Clone, "namespace flags: EPERM; CLONE_SIGHAND without CLONE_THREAD copies the handlers"),
	unix.SYS_CLONE3:            partial("clone3", Clone3, "as clone"),
	unix.SYS_FORK:              sup("fork", Fork),
	unix.SYS_VFORK:             sup("vfork", Vfork),
	unix.SYS_WAIT4:             partial("wait4", Wait4, "rusage: as getrusage"),
	unix.SYS_WAITID:            partial("waitid", Waitid, "rusage: as getrusage"),
	unix.SYS_SETPGID:           sup("setpgid", Setpgid),
	unix.SYS_GETPGID:           sup("getpgid", Getpgid),
	unix.SYS_GETPGRP:           sup("getpgrp", Getpgrp),
	unix.SYS_SETSID:            sup("setsid", Setsid),
	unix.SYS_GETSID:            sup("getsid", Getsid),

	unix.SYS_BRK:        sup("brk", Brk),
	unix.SYS_MMAP:       sup("mmap", Mmap),
	unix.SYS_MUNMAP:     sup("munmap", Munmap),
	unix.SYS_MPROTECT:   sup("mprotect", Mprotect),
	unix.SYS_MREMAP:     partial("mremap", Mremap, "no MREMAP_DONTUNMAP; no duplication of shared mappings"),
	unix.SYS_MADVISE:    sup("madvise", Madvise),
	unix.SYS_MSYNC:      sup("msync", Msync),
	unix.SYS_MINCORE:    partial("mincore", Mincore, "every mapped page reads as resident"),
	unix.SYS_MLOCK:      sup("mlock", Mlock),
	unix.SYS_MLOCK2:     sup("mlock2", Mlock),
	unix.SYS_MUNLOCK:    sup("munlock", Mlock),
	unix.SYS_MLOCKALL:   sup("mlockall", Mlockall),
	unix.SYS_MUNLOCKALL: sup("munlockall", Mlockall),

	unix.SYS_CLOCK_GETTIME:   partial("clock_gettime", ClockGettime, "CPU-time clocks report task lifetime"),
	unix.SYS_CLOCK_GETRES:    sup("clock_getres", ClockGetres),
	unix.SYS_GETTIMEOFDAY:    sup("gettimeofday", Gettimeofday),
	unix.SYS_TIME:            sup("time", Time),
	unix.SYS_NANOSLEEP:       sup("nanosleep", Nanosleep),
	unix.SYS_ALARM:           sup("alarm", Alarm),
	unix.SYS_SETITIMER:       partial("setitimer", Setitimer, "ITIMER_VIRTUAL and ITIMER_PROF never fire"),
	unix.SYS_GETITIMER:       sup("getitimer", Getitimer),
	unix.SYS_RESTART_SYSCALL: sup("restart_syscall", RestartSyscall),
	unix.SYS_CLOCK_NANOSLEEP: sup("clock_nanosleep", ClockNanosleep),

	unix.SYS_FUTEX:          partial("futex", Futex, "no priority-inheritance operations"),
	unix.SYS_RT_SIGACTION:   sup("rt_sigaction", RtSigaction),
	unix.SYS_RT_SIGRETURN:   sup("rt_sigreturn", RtSigreturn),
	unix.SYS_RT_SIGPENDING:  sup("rt_sigpending", RtSigpending),
	unix.SYS_RT_SIGSUSPEND:  sup("rt_sigsuspend", RtSigsuspend),
	unix.SYS_PAUSE:          sup("pause", Pause),
	unix.SYS_RT_SIGPROCMASK: sup("rt_sigprocmask", RtSigprocmask),
	unix.SYS_SIGALTSTACK:    sup("sigaltstack", Sigaltstack),
	unix.SYS_KILL:           sup("kill", Kill),
	unix.SYS_TGKILL:         sup("tgkill", Tgkill),
	unix.SYS_TKILL:          sup("tkill", Tkill),

	unix.SYS_RSEQ: {Name: "rseq", Support: kernel.Unimplemented, Note: "ENOSYS; glibc falls back"},
}

// families are the syscall maps merged by Table, in order (a later family
// may not redefine a number; Table panics at start-up if one does, so the
// mistake cannot ship). Each sys_<family>.go or linux64_<family>.go file
// adds its map with registerFamily from an init function, so families are
// written independently.
var families = []map[uintptr]kernel.Syscall{coreSyscalls, fsSyscalls}

// registerFamily adds a family of syscalls to the table.
func registerFamily(m map[uintptr]kernel.Syscall) { families = append(families, m) }

// Table returns the amd64 syscall table.
func Table() *kernel.SyscallTable {
	t := &kernel.SyscallTable{Entries: make(map[uintptr]kernel.Syscall)}
	for nr, name := range syscallNames {
		t.Entries[nr] = kernel.Syscall{Name: name, Support: kernel.Unimplemented}
	}
	defined := make(map[uintptr]bool)
	for _, fam := range families {
		for nr, e := range fam {
			if defined[nr] {
				panic(fmt.Sprintf("syscall %d (%s) defined by two families", nr, e.Name))
			}
			defined[nr] = true
			t.Entries[nr] = e
		}
	}
	return t
}
