// Package platform defines how application code runs and traps back into the
// sentry. Implementations live in sibling directories (ptrace, systrap; kvm
// later) and all pass the conformance suite in platformtest; the sentry only
// ever talks to these interfaces and never issues ptrace (or any other
// platform mechanism) itself.
//
// Threading contract: a Context is owned by exactly one sentry task goroutine,
// which has called runtime.LockOSThread for its whole life. AddressSpace
// methods may be called from any goroutine that has locked its OS thread.
package platform

import (
	"pangolin/sentry/arch"
)

// Platform creates address spaces and execution contexts.
type Platform interface {
	// Name is the platform's flag name ("ptrace", "systrap").
	Name() string

	// MaxUserAddress is the exclusive upper bound of addresses the app may
	// map. It is page aligned and below whatever the platform reserves for
	// itself (for ptrace, the stub page; for systrap, the stub page and
	// the shared region below it).
	MaxUserAddress() uintptr

	// NewAddressSpace returns a new, empty address space.
	NewAddressSpace() (AddressSpace, error)

	// NewContext returns a new execution context for one task.
	NewContext() (Context, error)
}

// AccessType is a set of memory permissions or the kind of a faulting access.
type AccessType struct {
	Read    bool
	Write   bool
	Execute bool
}

// Common access types.
var (
	NoAccess  = AccessType{}
	Read      = AccessType{Read: true}
	ReadWrite = AccessType{Read: true, Write: true}
	AnyAccess = AccessType{Read: true, Write: true, Execute: true}
)

// Prot returns the mmap(2) PROT_* bits for at.
func (at AccessType) Prot() int {
	p := 0
	if at.Read {
		p |= 0x1 // PROT_READ
	}
	if at.Write {
		p |= 0x2 // PROT_WRITE
	}
	if at.Execute {
		p |= 0x4 // PROT_EXEC
	}
	return p
}

// SupersetOf reports whether at allows every access other allows.
func (at AccessType) SupersetOf(other AccessType) bool {
	return (at.Read || !other.Read) && (at.Write || !other.Write) && (at.Execute || !other.Execute)
}

// AddressSpace is the host side of one application address space: the
// mappings actually established, as opposed to the sentry's own record of
// what the app asked for (sentry/mm).
type AddressSpace interface {
	// MapFile maps [offset, offset+length) of the host file fd at addr
	// (MAP_SHARED|MAP_FIXED semantics) with permissions at. addr, offset and
	// length are page aligned. The fd must stay open until the mapping is
	// replaced or unmapped.
	MapFile(addr uintptr, fd int, offset uint64, length uintptr, at AccessType) error

	// Unmap removes all host mappings in [addr, addr+length).
	Unmap(addr uintptr, length uintptr) error

	// Release destroys the address space. It must not be used afterwards.
	Release()
}

// ExitKind says why Context.Switch returned.
type ExitKind int

// Reasons for returning from Context.Switch.
const (
	// ExitSyscall: the app executed a syscall instruction; the syscall
	// number and arguments are in the registers and the host did not run it.
	ExitSyscall ExitKind = iota
	// ExitFault: the app touched memory that is not mapped with the needed
	// permissions (host SIGSEGV/SIGBUS on an app access).
	ExitFault
	// ExitSignal: a synchronous signal other than a memory fault (SIGILL,
	// SIGFPE, SIGTRAP, ...) was raised by app code.
	ExitSignal
	// ExitInterrupted: Context.Interrupt was called.
	ExitInterrupted
)

func (k ExitKind) String() string {
	switch k {
	case ExitSyscall:
		return "syscall"
	case ExitFault:
		return "fault"
	case ExitSignal:
		return "signal"
	case ExitInterrupted:
		return "interrupted"
	}
	return "unknown"
}

// Exit describes why app execution stopped.
type Exit struct {
	Kind ExitKind

	// Signo, Code and Addr are the host siginfo of the fault or signal
	// (si_signo, si_code, si_addr). Valid for ExitFault and ExitSignal.
	Signo int
	Code  int32
	Addr  uintptr

	// Access is the platform's best knowledge of the faulting access.
	// systrap reports the hardware page-fault error code exactly. ptrace
	// cannot see it, so it guesses: an address equal to RIP is an
	// execute; otherwise read, and a repeated fault at the same address
	// after the page was mapped readable is a write (sentry/mm copes with
	// both). Valid for ExitFault.
	Access AccessType
}

// Context runs application code for one task.
type Context interface {
	// Switch runs app code in as with regs until it traps, then stores the
	// app's registers (including FP state and FS base) back into regs.
	// A non-nil error is a platform failure (the stub died), not an app
	// event.
	Switch(as AddressSpace, regs *arch.Registers) (Exit, error)

	// Interrupt makes a current or the next call to Switch return
	// ExitInterrupted promptly. Safe to call from any goroutine.
	Interrupt()

	// Release frees host resources held by the context.
	Release()
}
