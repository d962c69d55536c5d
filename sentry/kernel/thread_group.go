package kernel

import (
	"sync"

	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/sentry/limits"
)

// ThreadGroup is a process (struct signal_struct plus the thread list).
type ThreadGroup struct {
	mu sync.Mutex

	// pid is the thread group ID. Immutable.
	pid int32

	// leader is the thread group leader. Immutable.
	leader *Task

	// limits is shared by all threads. Immutable pointer.
	limits *limits.LimitSet

	// tasks counts live threads. Protected by mu.
	tasks int

	// exiting is set once exit_group(2) or a fatal signal started
	// tearing the group down; exitStatus is then final. Protected by mu.
	exiting    bool
	exitStatus WaitStatus

	// sigactions are the signal handlers, indexed by signal number - 1.
	// Protected by mu.
	sigactions [NumSignals]SigAction

	// realTimer is ITIMER_REAL, created on first use. Protected by mu.
	realTimer *realTimer

	// pending and pendingInfo are the process-directed pending signals.
	// Protected by mu.
	pending     uint64
	pendingInfo [NumSignals]SigInfo

	// signalfdQueue is notified when a signal is queued for the group
	// or one of its threads (see task_signalfd.go). Has its own lock.
	signalfdQueue waiter.Queue

	// The process tree is protected by Kernel.mu.
	//
	// parent is the parent process (nil for init).
	parent *ThreadGroup
	// children are the live and zombie child processes.
	children map[*ThreadGroup]struct{}
	// zombie is set when the last thread has exited and the group waits
	// to be reaped.
	zombie bool
	// exitSignal is sent to the parent on exit (clone's CSIGNAL).
	exitSignal int
	// pgid and sid are the process group and session IDs.
	pgid, sid int32
	// execed is set once the process has called execve (setpgid on it
	// from the parent then fails with EACCES).
	execed bool
	// childEvent is signalled (non-blocking) when a child changes state.
	// Immutable channel.
	childEvent chan struct{}
	// exited is closed when the last thread has exited (exitStatus is
	// final then). Immutable channel; closed under Kernel.mu.
	exited chan struct{}
}

func newThreadGroup(parent *ThreadGroup, ls *limits.LimitSet) *ThreadGroup {
	return &ThreadGroup{
		parent:     parent,
		limits:     ls,
		children:   make(map[*ThreadGroup]struct{}),
		childEvent: make(chan struct{}, 1),
		exited:     make(chan struct{}),
	}
}

// PID returns the thread group ID.
func (tg *ThreadGroup) PID() int32 { return tg.pid }

// Leader returns the thread group leader.
func (tg *ThreadGroup) Leader() *Task { return tg.leader }

// Limits returns the resource limits.
func (tg *ThreadGroup) Limits() *limits.LimitSet { return tg.limits }

// NumSignals is _NSIG.
const NumSignals = 64

// SigAction is struct k_sigaction as rt_sigaction(2) passes it.
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     uint64
}

// Special handler values.
const (
	SigDfl = 0
	SigIgn = 1
)

// SigAction returns the action for signal sig (1-based).
func (tg *ThreadGroup) SigAction(sig int) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.sigactions[sig-1]
}

// SetSigAction replaces the action for sig and returns the old one.
func (tg *ThreadGroup) SetSigAction(sig int, a SigAction) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.sigactions[sig-1]
	tg.sigactions[sig-1] = a
	return old
}
