package systrap

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
	"pangolin/sentry/arch"
)

const (
	sysSeccmp = 1 // SYS_SECCOMP, si_code of a seccomp SIGSYS
	// foreignSyscall is added to the number of a syscall made through
	// another ABI (int $0x80, x32) so that the sentry's table, which
	// knows only x86-64 numbers, answers ENOSYS.
	foreignSyscall = 0x86000000
)

// context is a platform.Context. It is owned by one task goroutine; only
// Interrupt is called from elsewhere.
type context struct {
	p *Platform

	// Interrupter implements Interrupt: it signals the stub thread that
	// runs app code for Switch with stubproc.InterruptSignal, which the
	// handler takes like any trap. The signal is blocked while the
	// handler runs, so one sent while the thread is handed over fires as
	// soon as it is back in app code.
	stubproc.Interrupter

	// threads are this context's stub threads, one per address space it
	// switched into. Owned by the task goroutine.
	threads map[*addressSpace]*thread
}

var _ platform.Context = (*context)(nil)

// Release implements platform.Context: the context's stub threads exit
// (their address spaces live on for other contexts).
func (c *context) Release() {
	for as, t := range c.threads {
		as.retire(t)
	}
	c.threads = nil
}

// threadFor returns the context's thread in as, creating it if needed.
func (c *context) threadFor(as *addressSpace) (*thread, error) {
	if as.isReleased() {
		delete(c.threads, as)
		return nil, ErrReleased
	}
	if t := c.threads[as]; t != nil {
		return t, nil
	}
	for o := range c.threads {
		if o.isReleased() {
			delete(c.threads, o)
		}
	}
	t, err := as.newThread()
	if err != nil {
		return nil, err
	}
	if c.threads == nil {
		c.threads = make(map[*addressSpace]*thread)
	}
	c.threads[as] = t
	return t, nil
}

// Switch implements platform.Context.
func (c *context) Switch(pas platform.AddressSpace, regs *arch.Registers) (platform.Exit, error) {
	as, ok := pas.(*addressSpace)
	if !ok {
		return platform.Exit{}, fmt.Errorf("systrap: foreign address space %T", pas)
	}
	t, err := c.threadFor(as)
	if err != nil {
		return platform.Exit{}, err
	}
	if !c.Arm(as.leader.TGID, t.tid) {
		return platform.Exit{Kind: platform.ExitInterrupted}, nil
	}
	exit, err := c.run(t, regs)
	c.Disarm()
	if err != nil {
		// The thread is dead or confused: forget it, so that a later
		// Switch (if the address space lives on) gets a new one.
		delete(c.threads, as)
	}
	return exit, err
}

// run loads regs into t's frame, resumes it, and decodes events until one
// the sentry must see.
func (c *context) run(t *thread, regs *arch.Registers) (platform.Exit, error) {
	t.setRegs(regs)
	t.resume()
	for {
		if err := t.waitEvent(c.Pending); err != nil {
			return platform.Exit{}, err
		}
		ev, err := t.readEvent()
		if err != nil {
			return platform.Exit{}, err
		}
		t.ev = ev
		code := ev.si.Code()
		sig := unix.Signal(ev.signo)
		switch {
		case sig == unix.SIGSYS && code == sysSeccmp:
			t.getRegs(regs)
			// The kernel rolled RAX back to the syscall number
			// (syscall_rollback()); present it as a syscall stop does.
			nr := regs.Regs.Rax
			if ev.si.Arch() != auditArchX8664 {
				nr += foreignSyscall
			}
			regs.Regs.Orig_rax = nr
			regs.Regs.Rax = ^uint64(unix.ENOSYS) + 1 // -ENOSYS
			return platform.Exit{Kind: platform.ExitSyscall}, nil
		case code <= 0:
			// Sent by a process, not raised by app code: ours is the
			// interrupt, anything else is dropped.
			if c.Claim(sig, &ev.si, c.p.pid) {
				t.getRegs(regs)
				regs.Regs.Orig_rax = ^uint64(0)
				return platform.Exit{Kind: platform.ExitInterrupted}, nil
			}
			t.resume()
			continue
		}
		t.getRegs(regs)
		regs.Regs.Orig_rax = ^uint64(0)
		exit := stubproc.SignalExit(sig, &ev.si)
		if exit.Kind == platform.ExitFault {
			exit.Access = faultAccess(t.greg(gTRAPNO), t.greg(gERR))
		}
		return exit, nil
	}
}

// faultAccess decodes the hardware page-fault error code the kernel saved
// in the frame (sigcontext.err, for trapno X86_TRAP_PF).
func faultAccess(trapno, errCode uint64) platform.AccessType {
	if trapno != x86TrapPF {
		return platform.Read
	}
	switch {
	case errCode&pfWrite != 0:
		return platform.AccessType{Write: true}
	case errCode&pfInstr != 0:
		return platform.AccessType{Execute: true}
	}
	return platform.Read
}
