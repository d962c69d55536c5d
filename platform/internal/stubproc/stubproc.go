// Package stubproc is what the ptrace and systrap platforms share about
// stub processes: host processes cloned from the sentry (Go cannot fork)
// that hold nothing but one page of stub code and the app's mappings, and
// that the sentry drives by ptrace, at least while it sets them up.
//
//   - The master stub: rawClone (clone_amd64.s) copies the sentry into a
//     child that jumps to the stub page's entry, which makes itself a tracee
//     and stops; StartMaster then confines it with the platform's process
//     filter and erases the copy of the sentry by injected munmap calls.
//     New stub processes are injected clone(2) calls in the master stub
//     (NewProcess).
//   - Injection (Tracee.Inject): the registers of a stopped stub thread are
//     pointed at an injection site of the stub page (a syscall instruction
//     followed by int3), and the thread runs to the SIGTRAP.
//   - The master goroutine (Master) that owns those tracees, the low-level
//     ptrace wrappers (stubproc_unsafe.go), the interrupt handshake of a
//     Context (Interrupter), MapFile/Unmap (Mapper), siginfo decoding, and
//     the sentry filter rules both platforms need.
//
// What differs stays in the platforms: the stub code itself, how app code
// traps (PTRACE_SYSEMU in ptrace, an in-stub signal handler in systrap),
// how MapFile's syscall reaches the stub, and the stub processes' filters.
//
// Everything here that issues ptrace requests or waits must run on the OS
// thread that traces the target (ptrace_check_attach() compares the caller
// with the tracee's tracer task, a thread, not a thread group).
package stubproc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// PageSize is the size of the stub page (and of a host page).
const PageSize = 0x1000

// MaxTaskSize is TASK_SIZE_MAX for 4-level paging on x86-64: the exclusive
// end of user addresses (arch/x86/include/asm/page_64_types.h).
const MaxTaskSize = 0x7ffffffff000

// Options are set on every traced stub thread. EXITKILL makes the kernel
// SIGKILL the tracee if its tracer thread exits (exit_ptrace() ->
// __ptrace_detach()), so app code never runs untraced and no stub outlives
// the sentry; TRACESYSGOOD marks syscall stops as SIGTRAP|0x80 so they
// cannot be confused with an int3.
const Options = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// ProcessCloneFlags are the flags of the clone(2) injected into the master
// stub for a new stub process. CLONE_PARENT makes the master thread (the
// master stub's parent) the real parent, so it can reap the process and
// PR_SET_PDEATHSIG refers to it; CLONE_PTRACE makes it traced by the master
// thread from its first instruction, starting with SIGSTOP pending
// (ptrace_init_task()), and inheriting the ptrace options. CLONE_FILES keeps
// sharing the sentry's file descriptor table, so any host FD the sentry
// holds can be mmapped by number.
const ProcessCloneFlags = unix.CLONE_PARENT | unix.CLONE_PTRACE | unix.CLONE_FILES | uint32(unix.SIGCHLD)

// Stub is one platform's stub page as seen by ptrace injection.
type Stub struct {
	// Name is the platform's name, which prefixes errors ("ptrace").
	Name string
	// ErrDied is the platform's ErrStubDied, wrapped by errors reporting
	// that a stub process or thread exited or was killed underneath it.
	ErrDied error
	// Start is the address of the stub page, identical in the sentry and
	// in every stub process.
	Start uintptr
	// SyscallSite is the address of the stub's plain injection site
	// (syscall; int3).
	SyscallSite uintptr
	// InitRegs is the register template for injected syscalls: the
	// master stub's user segment selectors and EFLAGS.IF, nothing else
	// from the Go thread it was cloned from. Set by StartMaster.
	InitRegs unix.PtraceRegs
}

// Tracee is a stub thread in a ptrace-stop, traced by the OS thread that
// uses it.
type Tracee struct {
	Stub *Stub
	TGID int // its stub process
	TID  int // this thread
}

// Wait4 waits for a state change of tid. __WALL is needed because stub
// threads (and leaders cloned from the master stub) are not "clone
// children" with exit_signal SIGCHLD of the waiting thread; EINTR (a Go
// runtime signal such as SIGURG) just retries.
func Wait4(tid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		return ws, err
	}
}

// Reap waits until tid has exited, discarding stop notifications. ECHILD
// means it is already gone (for example auto-reaped after its tracer died).
func Reap(tid int) error {
	for {
		ws, err := Wait4(tid)
		if err == unix.ECHILD {
			return nil
		}
		if err != nil {
			return err
		}
		if ws.Exited() || ws.Signaled() {
			return nil
		}
		if ws.Stopped() {
			// A stop reported before the SIGKILL/exit took effect;
			// resume it so it can die (harmless if already dying).
			_ = unix.PtraceCont(tid, 0)
		}
	}
}

// DescribeStatus says in words what a wait status reports.
func DescribeStatus(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("killed by %v", ws.Signal())
	case ws.Stopped():
		return fmt.Sprintf("stopped by %v (event %d)", ws.StopSignal(), ws>>16)
	}
	return fmt.Sprintf("status %#x", uint32(ws))
}

// isRestart reports whether a raw syscall return is one of the kernel-internal
// ERESTART* codes (include/linux/errno.h: ERESTARTSYS 512 ..
// ERESTART_RESTARTBLOCK 516), which must never be seen by user space but can
// surface to a tracer that changes registers around a signal stop.
func isRestart(ret int64) bool { return ret <= -512 && ret >= -516 }

// KillProcess SIGKILLs t's process and reaps the given other threads of it,
// then t (its leader): a zombie leader is not reported while other threads
// remain (delay_group_leader()), so once it returns no thread of the process
// runs any more. Any thread of the sentry may reap a tracee of a sibling
// thread (do_wait() walks the whole thread group unless __WNOTHREAD).
func (t *Tracee) KillProcess(others ...int) {
	_ = unix.Kill(t.TGID, unix.SIGKILL)
	for _, tid := range others {
		_ = Reap(tid)
	}
	_ = Reap(t.TID)
}

// waitTrap resumes nothing; it waits until t stops with SIGTRAP (the stub's
// int3), resuming it with signal 0 past any other stop (a stale interrupt
// signal, a host signal). It returns an error if t died.
func (t *Tracee) waitTrap() error {
	for {
		ws, err := Wait4(t.TID)
		if err != nil {
			return fmt.Errorf("wait4(%d): %w", t.TID, err)
		}
		if ws.Exited() || ws.Signaled() {
			return fmt.Errorf("%w: thread %d: %s", t.Stub.ErrDied, t.TID, DescribeStatus(ws))
		}
		if !ws.Stopped() {
			continue
		}
		if ws.StopSignal() == unix.SIGTRAP && ws>>16 == 0 {
			return nil
		}
		// Any other stop: discard the signal. If it interrupted the
		// injected syscall the kernel restarts it on resume
		// (arch_do_signal_or_restart()), since no handler runs.
		if err := unix.PtraceCont(t.TID, 0); err != nil {
			return fmt.Errorf("PTRACE_CONT(%d): %w", t.TID, err)
		}
	}
}

// injectRegs returns the registers that make a stopped thread run syscall nr
// with args at site.
func (s *Stub) injectRegs(site, nr uintptr, args []uintptr) unix.PtraceRegs {
	var a [6]uintptr
	copy(a[:], args)
	regs := s.InitRegs
	regs.Rip = uint64(site)
	regs.Rax = uint64(nr)
	// orig_rax = -1: the thread may sit in a syscall stop or in a signal
	// stop after an interrupted syscall; with no syscall number the
	// kernel neither treats our registers as a syscall to skip or restart
	// (syscall_get_nr() < 0).
	regs.Orig_rax = ^uint64(0)
	regs.Rdi, regs.Rsi, regs.Rdx = uint64(a[0]), uint64(a[1]), uint64(a[2])
	regs.R10, regs.R8, regs.R9 = uint64(a[3]), uint64(a[4]), uint64(a[5])
	return regs
}

// Inject runs the syscall nr with args in t by pointing RIP at site, an
// injection site of the stub page (which ends in int3), and continuing to
// the SIGTRAP. set, if not nil, adjusts the other registers first (values a
// site's code expects). A negative errno return is turned into an error
// wrapping unix.Errno; an ERESTART* return (the call was interrupted by a
// stop we discarded) runs the call again.
func (t *Tracee) Inject(site uintptr, set func(*unix.PtraceRegs), nr uintptr, args ...uintptr) (uintptr, error) {
	for {
		regs := t.Stub.injectRegs(site, nr, args)
		if set != nil {
			set(&regs)
		}
		if err := SetRegs(t.TID, &regs); err != nil {
			return 0, fmt.Errorf("PTRACE_SETREGS(%d): %w", t.TID, err)
		}
		if err := unix.PtraceCont(t.TID, 0); err != nil {
			return 0, fmt.Errorf("PTRACE_CONT(%d): %w", t.TID, err)
		}
		if err := t.waitTrap(); err != nil {
			return 0, err
		}
		if err := GetRegs(t.TID, &regs); err != nil {
			return 0, fmt.Errorf("PTRACE_GETREGS(%d): %w", t.TID, err)
		}
		ret := int64(regs.Rax)
		if isRestart(ret) {
			continue
		}
		if ret < 0 && ret > -4096 {
			return 0, unix.Errno(-ret)
		}
		return uintptr(ret), nil
	}
}

// Syscall injects nr at the stub's plain syscall site.
func (t *Tracee) Syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	return t.Inject(t.Stub.SyscallSite, nil, nr, args...)
}

// Exit makes t leave its thread group with exit(2) (not exit_group) and
// reaps it, for a stub thread whose tracer is about to go away, which would
// otherwise SIGKILL the whole stub process (PTRACE_O_EXITKILL).
func (t *Tracee) Exit() error {
	regs := t.Stub.injectRegs(t.Stub.SyscallSite, unix.SYS_EXIT, nil)
	// If either request fails the thread is not in a ptrace-stop, which
	// for an idle stub thread means it is already dying (the process was
	// SIGKILLed); reaping is still ours to do.
	if err := SetRegs(t.TID, &regs); err == nil {
		_ = unix.PtraceCont(t.TID, 0)
	}
	return Reap(t.TID)
}

// StartMaster creates the master stub, on the calling (master) thread: a
// clone of the sentry that runs only the stub page from entry, confined by
// filter, the process filter of every stub process it will clone, and then
// emptied of everything but the stub page. It sets s.InitRegs.
//
// The stub's entry code must set PR_SET_PDEATHSIG, check that its parent is
// still the sentry (R12), reset every signal handler (the Go runtime's live
// in memory about to be unmapped), PTRACE_TRACEME, unblock signals and
// SIGSTOP itself.
func (s *Stub) StartMaster(entry uintptr, filter *Filter) (*Tracee, error) {
	pid, errno := rawClone(uintptr(unix.SIGCHLD|unix.CLONE_FILES), entry, uintptr(unix.Getpid()))
	if errno != 0 {
		return nil, fmt.Errorf("%s: clone master stub: %w", s.Name, unix.Errno(errno))
	}
	// The stub ends its setup with kill(getpid(), SIGSTOP) after
	// PTRACE_TRACEME, so its first event is that signal-delivery-stop.
	t, err := s.attach(int(pid), "master stub", true)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Tracee, error) {
		t.KillProcess()
		return nil, err
	}
	var regs unix.PtraceRegs
	if err := GetRegs(t.TID, &regs); err != nil {
		return fail(fmt.Errorf("%s: PTRACE_GETREGS: %w", s.Name, err))
	}
	s.InitRegs = unix.PtraceRegs{
		Cs: regs.Cs, Ss: regs.Ss, Ds: regs.Ds, Es: regs.Es, Fs: regs.Fs, Gs: regs.Gs,
		Eflags: 0x202, // IF | reserved bit 1
	}
	if err := t.unregisterRseq(); err != nil {
		return fail(err)
	}
	// Confine the master stub, and with it every stub process it will
	// clone. The program is still mapped here: it is part of the copy of
	// the sentry, erased just below. no_new_privs first, as seccomp(2)
	// requires without CAP_SYS_ADMIN.
	if _, err := t.Syscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("%s: stub no_new_privs: %w", s.Name, err))
	}
	if _, err := t.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, filter.addr()); err != nil {
		return fail(fmt.Errorf("%s: stub seccomp filter: %w", s.Name, err))
	}
	// Erase the copy of the sentry. munmap(2) of unmapped ranges is not an
	// error; this also removes the vDSO and the sentry's stack.
	if _, err := t.Syscall(unix.SYS_MUNMAP, 0, s.Start); err != nil {
		return fail(fmt.Errorf("%s: munmap below stub: %w", s.Name, err))
	}
	if _, err := t.Syscall(unix.SYS_MUNMAP, s.Start+PageSize, MaxTaskSize-(s.Start+PageSize)); err != nil {
		return fail(fmt.Errorf("%s: munmap above stub: %w", s.Name, err))
	}
	return t, nil
}

// NewProcess clones a new, empty stub process from the master stub t
// (ProcessCloneFlags) by an injection at site, and returns its leader,
// stopped and traced by the calling (master) thread. The leader has no
// parent-death signal yet: copy_process() clears it, and the parent is now
// the master thread.
func (t *Tracee) NewProcess(site uintptr) (*Tracee, error) {
	s := t.Stub
	pid, err := t.Inject(site, nil, unix.SYS_CLONE, uintptr(ProcessCloneFlags), 0, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: clone stub process: %w", s.Name, err)
	}
	// CLONE_PTRACE: its first event is a stop (for the SIGSTOP that
	// ptrace_init_task() queued).
	return s.attach(int(pid), "new stub", false)
}

// attach waits for the first stop of the new stub process pid (what names
// it in errors), a SIGSTOP if sigstop is set, and sets Options on it. On
// failure the process is killed and reaped.
func (s *Stub) attach(pid int, what string, sigstop bool) (*Tracee, error) {
	t := &Tracee{Stub: s, TGID: pid, TID: pid}
	fail := func(err error) (*Tracee, error) {
		t.KillProcess()
		return nil, err
	}
	ws, err := Wait4(t.TID)
	if err != nil {
		return fail(fmt.Errorf("%s: wait for %s: %w", s.Name, what, err))
	}
	if !ws.Stopped() || (sigstop && ws.StopSignal() != unix.SIGSTOP) {
		return fail(fmt.Errorf("%w: %s: %s", s.ErrDied, what, DescribeStatus(ws)))
	}
	if err := unix.PtraceSetOptions(t.TID, Options); err != nil {
		return fail(fmt.Errorf("%s: PTRACE_SETOPTIONS: %w", s.Name, err))
	}
	return t, nil
}

// unregisterRseq drops the restartable-sequences registration the master
// stub inherited from the sentry thread that cloned it (glibc registers
// every thread it starts; the binary links glibc for libseccomp). The kernel
// touches that area on every return to user space once a thread was
// preempted (rseq_handle_notify_resume()), and it lies in the copy of the
// sentry the stub is about to erase: the next resume would fault with
// SIGSEGV. Stub processes cloned later inherit no registration, and threads
// (CLONE_VM) never inherit one (rseq_fork()).
func (t *Tracee) unregisterRseq() error {
	var c rseqConfig
	if err := getRseqConfig(t.TID, &c); err != nil {
		if err == unix.EIO || err == unix.EINVAL {
			// Linux < 5.13 cannot tell us; glibc 2.35+ on such a kernel
			// needs GLIBC_TUNABLES=glibc.pthread.rseq=0.
			return nil
		}
		return fmt.Errorf("%s: PTRACE_GET_RSEQ_CONFIGURATION: %w", t.Stub.Name, err)
	}
	if c.ptr == 0 {
		return nil
	}
	const rseqFlagUnregister = 1
	if _, err := t.Syscall(unix.SYS_RSEQ, uintptr(c.ptr), uintptr(c.size), rseqFlagUnregister, uintptr(c.sig)); err != nil {
		return fmt.Errorf("%s: unregister the stub's rseq area: %w", t.Stub.Name, err)
	}
	return nil
}
