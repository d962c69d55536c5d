package kernel

import (
	"errors"

	"pangolin/sentry/arch"
)

// SyscallFn is the signature of every syscall handler. It returns the value
// for rax, or an error: a unix.Errno (returned to the app as -errno), or one of
// the control errors below.
type SyscallFn func(t *Task, args arch.SyscallArguments) (uintptr, error)

// Support says how completely a syscall is implemented.
type Support int

// Support levels, shown by `pangolin syscalls` and the compatibility table.
const (
	Supported Support = iota
	PartiallySupported
	Unimplemented
)

func (s Support) String() string {
	switch s {
	case Supported:
		return "supported"
	case PartiallySupported:
		return "partial"
	}
	return "unimplemented"
}

// Syscall is one entry of the syscall table.
type Syscall struct {
	Name    string
	Fn      SyscallFn
	Support Support
	Note    string
}

// SyscallTable maps syscall numbers to entries. Numbers absent from the
// table return ENOSYS and are logged once.
type SyscallTable struct {
	Entries map[uintptr]Syscall
}

// ErrNoReturn is returned by handlers that replaced the task's registers
// wholesale (execve, rt_sigreturn) or ended the task (exit): the run loop
// must not store a return value in rax.
var ErrNoReturn = errors.New("syscall does not return a value")
