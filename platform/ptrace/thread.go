package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrStubDied is wrapped by errors reporting that a stub process or thread
// exited or was killed underneath the platform.
var ErrStubDied = errors.New("ptrace: stub died")

// ptraceOptions are set on every stub thread. EXITKILL makes the kernel
// SIGKILL the tracee if its tracer thread exits (exit_ptrace() ->
// __ptrace_detach()), so app code never runs untraced; TRACESYSGOOD marks
// syscall stops as SIGTRAP|0x80 so they cannot be confused with an int3.
const ptraceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

const siginfoSize = 128

// siginfo is the decoded part of a siginfo_t (x86-64 layout).
type siginfo struct {
	signo int32
	code  int32
	pid   int32   // _kill.si_pid, for SI_USER/SI_TKILL
	addr  uintptr // _sigfault.si_addr
}

func decodeSiginfo(b *[siginfoSize]byte) siginfo {
	return siginfo{
		signo: int32(binary.LittleEndian.Uint32(b[0:])),
		code:  int32(binary.LittleEndian.Uint32(b[8:])),
		pid:   int32(binary.LittleEndian.Uint32(b[16:])),
		addr:  uintptr(binary.LittleEndian.Uint64(b[16:])),
	}
}

// thread is one host thread of a stub process, traced by exactly one host
// thread of the sentry (tracer). Every ptrace request and wait for it must be
// issued from that OS thread (ptrace_check_attach() compares the caller with
// child->parent, a task, not a thread group).
type thread struct {
	p      *Platform
	tgid   int // stub process
	tid    int // this stub thread
	tracer int // host TID of the tracing sentry thread

	// xbuf is scratch space for XSAVE images larger than
	// arch.XSAVEAreaSize (AMX hosts); nil otherwise. Only the tracer uses
	// it.
	xbuf []byte
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// wait4 waits for a state change of tid. __WALL is needed because stub
// threads are not "clone children" with exit_signal SIGCHLD; EINTR (a Go
// runtime signal such as SIGURG) just retries.
func wait4(tid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(tid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		return ws, err
	}
}

// isRestart reports whether a raw syscall return is one of the kernel-internal
// ERESTART* codes (include/linux/errno.h: ERESTARTSYS 512 ..
// ERESTART_RESTARTBLOCK 516), which must never be seen by user space but can
// surface to a tracer that changes registers around a signal stop.
func isRestart(ret int64) bool { return ret <= -512 && ret >= -516 }

// waitTrap resumes nothing; it waits until t stops with SIGTRAP (the stub's
// int3), resuming it with signal 0 past any other stop (a stale interrupt
// signal, a host signal). It returns an error if t died.
func (t *thread) waitTrap() error {
	for {
		ws, err := wait4(t.tid)
		if err != nil {
			return fmt.Errorf("wait4(%d): %w", t.tid, err)
		}
		if ws.Exited() || ws.Signaled() {
			return fmt.Errorf("%w: thread %d: %s", ErrStubDied, t.tid, describeStatus(ws))
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
		if err := unix.PtraceCont(t.tid, 0); err != nil {
			return fmt.Errorf("PTRACE_CONT(%d): %w", t.tid, err)
		}
	}
}

// syscall runs the syscall nr with args in t by pointing RIP at an injection
// site of the stub (which ends in int3) and continuing to the SIGTRAP. t must
// be stopped and traced by the calling OS thread. A negative errno return is
// turned into an error wrapping unix.Errno.
func (t *thread) syscall(site uintptr, nr uintptr, args ...uintptr) (uintptr, error) {
	var a [6]uintptr
	copy(a[:], args)
	for {
		regs := t.p.initRegs
		regs.Rip = uint64(t.p.stubStart + site)
		regs.Rax = uint64(nr)
		// orig_rax = -1: the thread may sit in a syscall stop or in a
		// signal stop after an interrupted syscall; with no syscall
		// number the kernel neither treats our registers as a syscall to
		// skip or restart (syscall_get_nr() < 0).
		regs.Orig_rax = ^uint64(0)
		regs.Rdi, regs.Rsi, regs.Rdx = uint64(a[0]), uint64(a[1]), uint64(a[2])
		regs.R10, regs.R8, regs.R9 = uint64(a[3]), uint64(a[4]), uint64(a[5])
		if err := ptraceSetRegs(t.tid, &regs); err != nil {
			return 0, fmt.Errorf("PTRACE_SETREGS(%d): %w", t.tid, err)
		}
		if err := unix.PtraceCont(t.tid, 0); err != nil {
			return 0, fmt.Errorf("PTRACE_CONT(%d): %w", t.tid, err)
		}
		if err := t.waitTrap(); err != nil {
			return 0, err
		}
		if err := ptraceGetRegs(t.tid, &regs); err != nil {
			return 0, fmt.Errorf("PTRACE_GETREGS(%d): %w", t.tid, err)
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

// exit makes t leave its thread group with exit(2) (not exit_group) and
// reaps it. Used to retire a stub thread whose tracer is about to go away,
// which would otherwise SIGKILL the whole stub process (PTRACE_O_EXITKILL).
func (t *thread) exit() error {
	regs := t.p.initRegs
	regs.Rip = uint64(t.p.stubStart + stubSyscallOffset)
	regs.Rax = unix.SYS_EXIT
	regs.Orig_rax = ^uint64(0)
	// If either request fails the thread is not in a ptrace-stop, which
	// for an idle stub thread means it is already dying (the process was
	// SIGKILLed); reaping is still ours to do.
	if err := ptraceSetRegs(t.tid, &regs); err == nil {
		_ = unix.PtraceCont(t.tid, 0)
	}
	return reap(t.tid)
}

// reap waits until tid has exited, discarding stop notifications. ECHILD
// means it is already gone (for example auto-reaped after its tracer died).
func reap(tid int) error {
	for {
		ws, err := wait4(tid)
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

func describeStatus(ws unix.WaitStatus) string {
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
