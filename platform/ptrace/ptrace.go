// Package ptrace implements platform.Platform with ptrace(2): application
// code runs in host "stub" processes that contain nothing but one page of
// stub code and the app's own mappings, and every syscall, fault and signal
// of the app stops the stub and wakes the sentry thread that traces it.
//
// The design in short:
//
//   - New installs the stub page in the sentry at a high fixed address and
//     starts the master goroutine, whose locked OS thread clones the sentry
//     once into the master stub and erases its address space by injected
//     munmap calls (platform/internal/stubproc, shared with systrap).
//   - NewAddressSpace injects clone(CLONE_PARENT|CLONE_PTRACE|CLONE_FILES)
//     into the master stub: a new stub process, traced by the master thread.
//   - Each sentry OS thread that switches into an address space gets its own
//     stub thread there (clone(CLONE_THREAD) injected into the leader, then
//     PTRACE_SEIZE by the switching thread), because only the tracer thread
//     may issue ptrace requests.
//   - Switch is PTRACE_SETREGS (+ NT_X86_XSTATE), PTRACE_SYSEMU, wait4.
//
// Locking: addressSpace.mu and context.mu are leaves; no code path holds two
// locks at once. Master-thread-only state is documented as such and needs no
// lock because only the master goroutine touches it.
package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
	"pangolin/seccomp"
	"pangolin/sentry/arch"
)

// Platform is the ptrace platform. It is safe for concurrent use.
type Platform struct {
	// stub is the stub page (Start, SyscallSite), identical in the sentry
	// and in every stub process, and the injection register template.
	// Immutable after New.
	stub stubproc.Stub

	// fpSize is the host's user XSAVE image size as reported by
	// PTRACE_GETREGSET(NT_X86_XSTATE), or 0 if the host has no XSAVE and
	// the 512-byte PTRACE_[GS]ETFPREGS image is used. Immutable after New.
	fpSize int

	// filter is the stub processes' seccomp program (stubRules).
	// Immutable after New.
	filter *stubproc.Filter

	master *master
}

var _ platform.Platform = (*Platform)(nil)

// New installs the stub and starts the master stub process. The calling
// goroutine needs no particular thread state.
func New() (*Platform, error) {
	addr, err := stubproc.InstallStub(stubCode[:])
	if err != nil {
		return nil, fmt.Errorf("ptrace: install stub page: %w", err)
	}
	prog, err := seccomp.BPF(stubRules())
	if err != nil {
		return nil, fmt.Errorf("ptrace: stub filter: %w", err)
	}
	p := &Platform{
		stub:   stubproc.Stub{Name: "ptrace", ErrDied: ErrStubDied, Start: addr, SyscallSite: addr + stubSyscallOffset},
		filter: stubproc.NewFilter(prog),
		master: &master{},
	}
	if err := p.master.Start(ErrClosed, func() error { return p.master.startStub(p) }); err != nil {
		return nil, err
	}
	return p, nil
}

// Close kills every stub process of the platform, including address spaces
// not yet released, and the master stub. The platform must not be used
// afterwards. The stub page stays mapped in the sentry (it is one page and
// unmapping it could race with a concurrent New reusing the address).
func (p *Platform) Close() { p.master.Close(p.master.close) }

// Name implements platform.Platform.
func (p *Platform) Name() string { return "ptrace" }

// MaxUserAddress implements platform.Platform: everything below the stub
// page is the app's.
func (p *Platform) MaxUserAddress() uintptr { return p.stub.Start }

// NewContext implements platform.Platform.
func (p *Platform) NewContext() (platform.Context, error) {
	return &context{p: p, spaces: make(map[*addressSpace]struct{})}, nil
}

// probeFP learns the host's user XSAVE size from a stopped tracee. The
// kernel truncates the reply to the buffer and reports the length it
// filled (ptrace_regset()), so a buffer larger than any XSAVE image
// (including AMX tile data, ~11 KiB) yields the exact size, which is also the
// only length PTRACE_SETREGSET accepts.
func (p *Platform) probeFP(tid int) error {
	buf := make([]byte, 64<<10)
	n, err := stubproc.GetRegset(tid, unix.NT_X86_XSTATE, buf)
	switch {
	case err == unix.ENODEV || err == unix.EINVAL:
		// No XSAVE (xstateregs_get() returns -ENODEV).
		var fx [512]byte
		if err := stubproc.GetFPRegs(tid, &fx); err != nil {
			return fmt.Errorf("ptrace: PTRACE_GETFPREGS: %w", err)
		}
		p.fpSize = 0
		return nil
	case err != nil:
		return fmt.Errorf("ptrace: PTRACE_GETREGSET(NT_X86_XSTATE): %w", err)
	case n < 576:
		return fmt.Errorf("ptrace: implausible XSAVE size %d", n)
	}
	p.fpSize = n
	return nil
}

// setFP loads regs.FP into t.
func (t *thread) setFP(regs *arch.Registers) error {
	switch n := t.p.fpSize; {
	case n == 0:
		return stubproc.SetFPRegs(t.TID, (*[512]byte)(regs.FP[:512]))
	case n <= len(regs.FP):
		return stubproc.SetRegset(t.TID, unix.NT_X86_XSTATE, regs.FP[:n])
	default:
		// The host image is larger than ours (AMX). Components beyond
		// arch.XSAVEAreaSize are zero, i.e. in their init state.
		if t.xbuf == nil {
			t.xbuf = make([]byte, n)
		}
		clear(t.xbuf[len(regs.FP):])
		copy(t.xbuf, regs.FP[:])
		return stubproc.SetRegset(t.TID, unix.NT_X86_XSTATE, t.xbuf)
	}
}

// getFP stores t's FP state in regs.FP and marks it valid.
func (t *thread) getFP(regs *arch.Registers) error {
	var err error
	switch n := t.p.fpSize; {
	case n == 0:
		err = stubproc.GetFPRegs(t.TID, (*[512]byte)(regs.FP[:512]))
	default:
		// A short buffer is fine for reads: the kernel copies what fits.
		_, err = stubproc.GetRegset(t.TID, unix.NT_X86_XSTATE, regs.FP[:min(n, len(regs.FP))])
	}
	if err != nil {
		return err
	}
	regs.FPValid = true
	return nil
}
