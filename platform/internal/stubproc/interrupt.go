package stubproc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// InterruptSignal is sent with tgkill(2) to the stub thread running a
// context's app code to kick it out. A traced thread reports it as a
// signal-delivery-stop before its disposition is consulted (get_signal() ->
// ptrace_signal()) and the sentry resumes it with signal 0; systrap's
// handler takes it like any trap. SIGCHLD, as gVisor uses: nothing else
// sends it to a stub process, which has no children, and should it reach a
// stub thread with the default disposition it is ignored.
const InterruptSignal = unix.SIGCHLD

// Interrupter is the interrupt handshake of a platform.Context whose app
// code runs in a stub thread. Switch publishes the thread it is about to run
// (Arm) before it looks at the flag, and Interrupt sets the flag before it
// looks at the thread, both under mu, so an interrupt is never lost: either
// Switch sees the flag, or Interrupt sees the thread and signals it
// (DESIGN.md pitfall 3).
type Interrupter struct {
	mu sync.Mutex
	// interrupted is set by Interrupt and consumed by Switch; at is when
	// it was set. +checklocks:mu
	interrupted bool
	at          time.Time
	// tgid and tid are the stub thread executing app code for Switch, or
	// 0. Interrupt signals it only while it is set, i.e. while Switch owns
	// the thread, so the target cannot have been reaped and reused.
	// +checklocks:mu
	tgid, tid int
}

// Interrupt implements platform.Context.Interrupt.
func (x *Interrupter) Interrupt() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.interrupted {
		x.interrupted, x.at = true, time.Now()
	}
	if x.tid != 0 {
		_ = unix.Tgkill(x.tgid, x.tid, InterruptSignal)
	}
}

// Arm publishes thread tid of process tgid as running the context's app
// code. If an interrupt is pending it consumes it instead and returns false:
// Switch then returns ExitInterrupted without running app code.
func (x *Interrupter) Arm(tgid, tid int) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.interrupted {
		x.interrupted = false
		return false
	}
	x.tgid, x.tid = tgid, tid
	return true
}

// Disarm ends what Arm began: app code no longer runs for the context.
func (x *Interrupter) Disarm() {
	x.mu.Lock()
	x.tgid, x.tid = 0, 0
	x.mu.Unlock()
}

// Pending reports an interrupt not yet consumed, and since when.
func (x *Interrupter) Pending() (time.Time, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.at, x.interrupted
}

// Claim reports whether a signal sig that a process sent to the running
// stub thread (si_code <= 0) is the context's interrupt: InterruptSignal,
// from the sentry (sentryPID), while one is pending. It consumes the
// interrupt. Anything else is a host process poking the stub, to be
// dropped.
func (x *Interrupter) Claim(sig unix.Signal, si *Siginfo, sentryPID int) bool {
	if sig != InterruptSignal || si.Pid() != sentryPID {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	was := x.interrupted
	x.interrupted = false
	return was
}
