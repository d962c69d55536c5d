package ptrace

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
	"pangolin/sentry/arch"
)

// context is a platform.Context. It is owned by one task goroutine locked to
// one OS thread; only Interrupt is called from elsewhere.
type context struct {
	p *Platform

	// Interrupter implements Interrupt: it signals the stub thread that
	// runs app code for Switch with stubproc.InterruptSignal.
	stubproc.Interrupter

	// The fields below are used only by the owning goroutine.

	// lastFault is the page of the previous ExitFault if nothing else
	// happened since; see faultAccess.
	lastFault uintptr
	// hasLastFault says lastFault is meaningful.
	hasLastFault bool
	// owner is the host TID the context switched on.
	owner int
	// spaces are the address spaces this context switched into; Release
	// retires the owner thread's stub threads in them.
	spaces map[*addressSpace]struct{}
}

var _ platform.Context = (*context)(nil)

// Release implements platform.Context. Called on the owning thread (as the
// sentry's task exit path does), it also exits the stub threads that thread
// traces in still-live address spaces: the task's OS thread dies with its
// goroutine, and PTRACE_O_EXITKILL would then SIGKILL each of those stub
// processes, taking down the app's other threads. Called elsewhere, it only
// drops references.
func (c *context) Release() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if c.owner != 0 && c.owner == unix.Gettid() {
		for as := range c.spaces {
			as.retire(c.owner)
		}
	}
	c.spaces = nil
}

// Switch implements platform.Context.
func (c *context) Switch(pas platform.AddressSpace, regs *arch.Registers) (platform.Exit, error) {
	as, ok := pas.(*addressSpace)
	if !ok {
		return platform.Exit{}, fmt.Errorf("ptrace: foreign address space %T", pas)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	t, err := as.threadFor(tid)
	if err != nil {
		return platform.Exit{}, err
	}
	c.remember(as, tid)

	if !c.Arm(t.TGID, t.TID) {
		return platform.Exit{Kind: platform.ExitInterrupted}, nil
	}
	exit, err := c.run(t, regs)
	c.Disarm()
	if err == nil {
		if exit.Kind == platform.ExitFault {
			c.lastFault, c.hasLastFault = exit.Addr&^0xfff, true
		} else {
			c.hasLastFault = false
		}
	}
	return exit, err
}

// remember records as for Release and prunes released address spaces.
func (c *context) remember(as *addressSpace, tid int) {
	c.owner = tid
	if _, ok := c.spaces[as]; ok {
		return
	}
	for o := range c.spaces {
		o.mu.Lock()
		released := o.released
		o.mu.Unlock()
		if released {
			delete(c.spaces, o)
		}
	}
	if c.spaces == nil {
		c.spaces = make(map[*addressSpace]struct{})
	}
	c.spaces[as] = struct{}{}
}

// run loads regs into t, runs it with PTRACE_SYSEMU until an event the
// sentry must see, and stores the registers back.
func (c *context) run(t *thread, regs *arch.Registers) (platform.Exit, error) {
	hregs := regs.Regs
	// No syscall in progress as far as the host is concerned: the sentry
	// implements syscall restart itself, and a stale orig_rax next to an
	// -ERESTART* looking rax must not make the host rewind RIP after a
	// signal stop (arch_do_signal_or_restart()).
	hregs.Orig_rax = ^uint64(0)
	if err := stubproc.SetRegs(t.TID, &hregs); err != nil {
		return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: PTRACE_SETREGS: %w", err))
	}
	if regs.FPValid {
		if err := t.setFP(regs); err != nil {
			return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: set FP state: %w", err))
		}
	}
	for {
		// PTRACE_SYSEMU: stop at the next syscall entry without running
		// it (SYSCALL_WORK_SYSCALL_EMU); signals stop as usual.
		if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SYSEMU, uintptr(t.TID), 0, 0, 0, 0); e != 0 {
			return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: PTRACE_SYSEMU: %w", e))
		}
		ws, err := stubproc.Wait4(t.TID)
		if err != nil {
			return platform.Exit{}, fmt.Errorf("ptrace: wait4: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			return platform.Exit{}, fmt.Errorf("%w: thread %d: %s", ErrStubDied, t.TID, stubproc.DescribeStatus(ws))
		}
		if !ws.Stopped() {
			continue
		}
		sig := ws.StopSignal()
		if sig == unix.SIGTRAP|0x80 {
			return c.exit(t, regs, platform.Exit{Kind: platform.ExitSyscall})
		}
		if ws>>16 != 0 {
			// PTRACE_EVENT_STOP (group-stop of a seized thread, e.g. a
			// host SIGSTOP): nothing for the app, keep going.
			continue
		}
		var si stubproc.Siginfo
		if err := stubproc.GetSiginfo(t.TID, &si); err != nil {
			return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: PTRACE_GETSIGINFO: %w", err))
		}
		if si.Code() <= 0 {
			// Sent by a process, not raised by app code: ours is
			// the interrupt, anything else is dropped.
			if c.Claim(sig, &si, unix.Getpid()) {
				return c.exit(t, regs, platform.Exit{Kind: platform.ExitInterrupted})
			}
			continue
		}
		exit, err := c.exit(t, regs, stubproc.SignalExit(sig, &si))
		if err == nil && exit.Kind == platform.ExitFault {
			exit.Access = c.faultAccess(exit.Addr, uintptr(regs.Regs.Rip))
		}
		return exit, err
	}
}

// exit reads the stopped thread's registers into regs and returns e.
func (c *context) exit(t *thread, regs *arch.Registers, e platform.Exit) (platform.Exit, error) {
	if err := stubproc.GetRegs(t.TID, &regs.Regs); err != nil {
		return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: PTRACE_GETREGS: %w", err))
	}
	if err := t.getFP(regs); err != nil {
		return platform.Exit{}, c.deadOr(t, fmt.Errorf("ptrace: get FP state: %w", err))
	}
	return e, nil
}

// deadOr turns a failed ptrace request into ErrStubDied if the thread died.
// ptrace requests fail with ESRCH when the tracee is not in a ptrace-stop
// (ptrace_check_attach()); an idle stub thread of ours is always stopped, so
// ESRCH means it is being killed (e.g. a SIGKILL from outside), and waiting
// for it both confirms that and reaps it.
func (c *context) deadOr(t *thread, err error) error {
	if !errors.Is(err, unix.ESRCH) {
		return err
	}
	ws, werr := stubproc.Wait4(t.TID)
	if werr == nil && (ws.Exited() || ws.Signaled()) {
		return fmt.Errorf("%w: thread %d: %s (%v)", ErrStubDied, t.TID, stubproc.DescribeStatus(ws), err)
	}
	return err
}

// faultAccess guesses the kind of a faulting access; ptrace exposes no
// hardware error code. An address equal to RIP, or the first byte of the
// page following RIP within an instruction's length (a fetch crossing a page
// boundary), is an execute. Otherwise it is a read, unless the previous exit
// of this context was a fault on the same page: the sentry mapped the page
// for the read and the access still faults, so it must be a write.
func (c *context) faultAccess(addr, rip uintptr) platform.AccessType {
	const maxInsnLen = 15
	if addr == rip || (addr&0xfff == 0 && addr > rip && addr-rip < maxInsnLen) {
		return platform.AccessType{Execute: true}
	}
	if c.hasLastFault && c.lastFault == addr&^0xfff {
		return platform.AccessType{Write: true}
	}
	return platform.Read
}
