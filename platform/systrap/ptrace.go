package systrap

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrStubDied is wrapped by errors reporting that a stub process or thread
// exited or was killed underneath the platform.
var ErrStubDied = errors.New("systrap: stub died")

// ptraceOptions are set on every traced stub thread (the master stub and
// each stub process's leader). EXITKILL makes the kernel SIGKILL the tracee
// if the master thread exits.
const ptraceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// tracee is a stub thread stopped under ptrace by the master thread: the
// master stub, or the leader of a stub process. Only the master goroutine
// uses it. ptrace is used only to set up stub processes; app threads are
// never traced.
type tracee struct {
	p   *Platform
	tid int // == tgid: tracees are thread-group leaders
}

// wait4 waits for a state change of tid. __WALL is needed because the
// leaders are clone children of the master stub; EINTR (a Go runtime
// signal) retries.
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

// waitTrap waits until t stops with SIGTRAP (the stub's int3), resuming it
// with signal 0 past any other stop.
func (t *tracee) waitTrap() error {
	for {
		ws, err := wait4(t.tid)
		if err != nil {
			return fmt.Errorf("wait4(%d): %w", t.tid, err)
		}
		if ws.Exited() || ws.Signaled() {
			return fmt.Errorf("%w: %d: %s", ErrStubDied, t.tid, describeStatus(ws))
		}
		if !ws.Stopped() {
			continue
		}
		if ws.StopSignal() == unix.SIGTRAP && ws>>16 == 0 {
			return nil
		}
		if err := unix.PtraceCont(t.tid, 0); err != nil {
			return fmt.Errorf("PTRACE_CONT(%d): %w", t.tid, err)
		}
	}
}

// isRestart reports whether a raw syscall return is an ERESTART* code.
func isRestart(ret int64) bool { return ret <= -512 && ret >= -516 }

// syscall runs syscall nr in t at the stub entry point site (which ends in
// int3), with extra registers from set. t must be stopped.
func (t *tracee) syscall(site uintptr, set func(*unix.PtraceRegs), nr uintptr, args ...uintptr) (uintptr, error) {
	var a [6]uintptr
	copy(a[:], args)
	for {
		regs := t.p.initRegs
		regs.Rip = uint64(site)
		regs.Rax = uint64(nr)
		regs.Orig_rax = ^uint64(0)
		regs.Rdi, regs.Rsi, regs.Rdx = uint64(a[0]), uint64(a[1]), uint64(a[2])
		regs.R10, regs.R8, regs.R9 = uint64(a[3]), uint64(a[4]), uint64(a[5])
		if set != nil {
			set(&regs)
		}
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

// inject runs a syscall at the stub's plain injection site.
func (t *tracee) inject(nr uintptr, args ...uintptr) (uintptr, error) {
	return t.syscall(t.p.stub.syscall, nil, nr, args...)
}

// reap waits until tid has exited, discarding stop notifications. ECHILD
// means it is already gone.
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
			_ = unix.PtraceCont(tid, 0)
		}
	}
}

// kill SIGKILLs t's process and reaps it. A zombie leader is reported only
// once its other threads are gone (delay_group_leader()), so when reap
// returns no thread of the process runs any more.
func (t *tracee) kill() {
	_ = unix.Kill(t.tid, unix.SIGKILL)
	_ = reap(t.tid)
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

// rseqConfig is struct ptrace_rseq_configuration (linux/ptrace.h).
type rseqConfig struct {
	ptr   uint64
	size  uint32
	sig   uint32
	flags uint32
	_     uint32
}

// unregisterRseq drops the rseq registration the master stub inherited from
// the sentry thread that cloned it (see platform/ptrace: the area lies in
// the copy of the sentry that the stub erases).
func (t *tracee) unregisterRseq() error {
	var c rseqConfig
	if err := ptraceGetRseqConfig(t.tid, &c); err != nil {
		if err == unix.EIO || err == unix.EINVAL {
			return nil
		}
		return fmt.Errorf("systrap: PTRACE_GET_RSEQ_CONFIGURATION: %w", err)
	}
	if c.ptr == 0 {
		return nil
	}
	const rseqFlagUnregister = 1
	if _, err := t.inject(unix.SYS_RSEQ, uintptr(c.ptr), uintptr(c.size), rseqFlagUnregister, uintptr(c.sig)); err != nil {
		return fmt.Errorf("systrap: unregister the stub's rseq area: %w", err)
	}
	return nil
}
