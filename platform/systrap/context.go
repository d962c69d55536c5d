package systrap

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/arch"
)

// interruptSignal is sent with tgkill(2) to the stub thread running a
// context to kick it out of app code; the stub's handler takes it like any
// trap. SIGCHLD, as gVisor uses: nothing else sends it to a stub process,
// which has no children.
const interruptSignal = unix.SIGCHLD

const (
	siKernel  = 0x80 // SI_KERNEL
	sysSeccmp = 1    // SYS_SECCOMP, si_code of a seccomp SIGSYS
	// foreignSyscall is added to the number of a syscall made through
	// another ABI (int $0x80, x32) so that the sentry's table, which
	// knows only x86-64 numbers, answers ENOSYS.
	foreignSyscall = 0x86000000
)

// context is a platform.Context. It is owned by one task goroutine; only
// Interrupt is called from elsewhere.
type context struct {
	p *Platform

	mu sync.Mutex
	// interrupted is set by Interrupt and consumed by Switch;
	// interruptedAt is when it was set. +checklocks:mu
	interrupted   bool
	interruptedAt time.Time
	// running is the stub thread executing app code for Switch, or nil.
	// +checklocks:mu
	running *thread

	// threads are this context's stub threads, one per address space it
	// switched into. Owned by the task goroutine.
	threads map[*addressSpace]*thread
}

var _ platform.Context = (*context)(nil)

// Interrupt implements platform.Context. The flag is set before the
// thread is signalled, and Switch publishes the thread before it looks at
// the flag (both under mu), so an Interrupt is never lost: either Switch
// sees the flag, or Interrupt sees the thread and signals it, and the
// signal, blocked while the handler runs, fires as soon as the thread is
// back in app code.
func (c *context) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.interrupted {
		c.interrupted, c.interruptedAt = true, time.Now()
	}
	if t := c.running; t != nil {
		_ = unix.Tgkill(t.as.leader.tid, t.tid, interruptSignal)
	}
}

// pendingInterrupt reports an interrupt not yet consumed, and since when.
func (c *context) pendingInterrupt() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interruptedAt, c.interrupted
}

func (c *context) consumeInterrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.interrupted
	c.interrupted = false
	return was
}

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
	c.mu.Lock()
	if c.interrupted {
		c.interrupted = false
		c.mu.Unlock()
		return platform.Exit{Kind: platform.ExitInterrupted}, nil
	}
	c.running = t
	c.mu.Unlock()

	exit, err := c.run(t, regs)

	c.mu.Lock()
	c.running = nil
	c.mu.Unlock()
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
		if err := t.waitEvent(c.pendingInterrupt); err != nil {
			return platform.Exit{}, err
		}
		ev, err := t.readEvent()
		if err != nil {
			return platform.Exit{}, err
		}
		t.ev = ev
		code := ev.siCode()
		sig := unix.Signal(ev.signo)
		switch {
		case sig == unix.SIGSYS && code == sysSeccmp:
			t.getRegs(regs)
			// The kernel rolled RAX back to the syscall number
			// (syscall_rollback()); present it as a syscall stop does.
			nr := regs.Regs.Rax
			if ev.siArch() != auditArchX8664 {
				nr += foreignSyscall
			}
			regs.Regs.Orig_rax = nr
			regs.Regs.Rax = ^uint64(unix.ENOSYS) + 1 // -ENOSYS
			return platform.Exit{Kind: platform.ExitSyscall}, nil
		case code <= 0:
			// Sent by a process (SI_USER, SI_TKILL...), not raised by
			// app code: ours is the interrupt, anything else is a host
			// process poking the stub and is dropped.
			if sig == interruptSignal && ev.siPid() == c.p.pid && c.consumeInterrupt() {
				t.getRegs(regs)
				regs.Regs.Orig_rax = ^uint64(0)
				return platform.Exit{Kind: platform.ExitInterrupted}, nil
			}
			t.resume()
			continue
		}
		t.getRegs(regs)
		regs.Regs.Orig_rax = ^uint64(0)
		exit := platform.Exit{Signo: int(sig), Code: code, Addr: ev.siAddr()}
		if (sig == unix.SIGSEGV || sig == unix.SIGBUS) && code != siKernel {
			exit.Kind = platform.ExitFault
			exit.Access = faultAccess(t.greg(gTRAPNO), t.greg(gERR))
		} else {
			exit.Kind = platform.ExitSignal
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
