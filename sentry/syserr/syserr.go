// Package syserr holds the kernel-internal errno values that never reach
// the app as such: the syscall restart codes. It is a leaf so that
// filesystems and sockets, which the kernel package imports, can return
// them from blocking operations.
package syserr

import "golang.org/x/sys/unix"

// Restart codes (include/linux/errno.h). A syscall interrupted by a signal
// returns one of these; before returning to the app, the signal code either
// restarts the syscall or turns the code into EINTR
// (arch/x86/kernel/signal.c: handle_signal(), arch_do_signal_or_restart()).
const (
	// ERestartSys: restart if the handler has SA_RESTART (or no handler
	// runs), else EINTR. What blocking reads, writes, waits and accepts
	// return.
	ERestartSys = unix.Errno(512)
	// ERestartNoIntr: always restart.
	ERestartNoIntr = unix.Errno(513)
	// ERestartNoHand: restart only if no handler runs (sigsuspend,
	// pause, poll with a timeout).
	ERestartNoHand = unix.Errno(514)
	// ERestartRestartBlock: restart through restart_syscall(2) if no
	// handler runs (nanosleep, clock_nanosleep with a relative time).
	ERestartRestartBlock = unix.Errno(516)
)

// IsRestart reports whether err is one of the restart codes.
func IsRestart(err error) bool {
	switch err {
	case ERestartSys, ERestartNoIntr, ERestartNoHand, ERestartRestartBlock:
		return true
	}
	return false
}
