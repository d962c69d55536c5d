// Package arch holds the amd64 register state of a task and the syscall
// argument accessors used by syscall handlers.
package arch

import "golang.org/x/sys/unix"

// XSAVEAreaSize is the size of the FP/XSAVE buffer kept per task. It is large
// enough for AVX-512 state (CPUID leaf 0xD reports 2696 bytes for it); the
// platform sizes what it copies by what the host reports.
const XSAVEAreaSize = 4096

// Registers is a task's full user register state.
type Registers struct {
	// Regs are the general purpose registers, segment registers and FS/GS
	// base, in the layout of PTRACE_GETREGS (struct user_regs_struct).
	Regs unix.PtraceRegs

	// FP is the XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE layout; the
	// first 512 bytes are the legacy FXSAVE region).
	FP [XSAVEAreaSize]byte

	// FPValid is set once FP holds state read from the host (or
	// initialized by the loader). The platform only writes FP to the host
	// when it is valid.
	FPValid bool
}

// SyscallNo returns the syscall number of a syscall exit.
func (r *Registers) SyscallNo() uintptr { return uintptr(r.Regs.Orig_rax) }

// SyscallArgs returns the six syscall arguments (rdi, rsi, rdx, r10, r8, r9).
func (r *Registers) SyscallArgs() SyscallArguments {
	return SyscallArguments{
		{uintptr(r.Regs.Rdi)}, {uintptr(r.Regs.Rsi)}, {uintptr(r.Regs.Rdx)},
		{uintptr(r.Regs.R10)}, {uintptr(r.Regs.R8)}, {uintptr(r.Regs.R9)},
	}
}

// SetReturn stores a syscall return value in rax.
func (r *Registers) SetReturn(v uintptr) { r.Regs.Rax = uint64(v) }

// IP returns the instruction pointer.
func (r *Registers) IP() uintptr { return uintptr(r.Regs.Rip) }

// SetIP sets the instruction pointer.
func (r *Registers) SetIP(v uintptr) { r.Regs.Rip = uint64(v) }

// Stack returns the stack pointer.
func (r *Registers) Stack() uintptr { return uintptr(r.Regs.Rsp) }

// SetStack sets the stack pointer.
func (r *Registers) SetStack(v uintptr) { r.Regs.Rsp = uint64(v) }

// TLS returns the FS base.
func (r *Registers) TLS() uintptr { return uintptr(r.Regs.Fs_base) }

// SetTLS sets the FS base.
func (r *Registers) SetTLS(v uintptr) { r.Regs.Fs_base = uint64(v) }

// User-mode segment selectors on x86-64 Linux (arch/x86/include/asm/segment.h).
const (
	UserCS = 0x33
	UserDS = 0x2b
)

// Reset sets r to the state of a freshly exec'd task (start_thread() in
// arch/x86/kernel/process_64.c): zeroed GPRs, user segments, IF set in EFLAGS,
// default FPU control words.
func (r *Registers) Reset(ip, sp uintptr) {
	*r = Registers{}
	r.Regs.Rip = uint64(ip)
	r.Regs.Rsp = uint64(sp)
	r.Regs.Cs = UserCS
	r.Regs.Ss = UserDS
	r.Regs.Eflags = 0x202 // IF | reserved bit 1
	// FXSAVE legacy area: FCW=0x37f, MXCSR=0x1f80 (fpstate_init_fxstate()).
	r.FP[0] = 0x7f
	r.FP[1] = 0x03
	r.FP[24] = 0x80
	r.FP[25] = 0x1f
	// XSAVE header: XSTATE_BV = x87|SSE so the restore takes the legacy area.
	r.FP[512] = 0x3
	r.FPValid = true
}
