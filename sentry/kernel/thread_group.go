package kernel

import (
	"sync"

	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/sentry/limits"
)

// ThreadGroup is a process (struct signal_struct and sighand_struct plus
// the thread list).
type ThreadGroup struct {
	mu sync.Mutex

	// pid is the thread group ID. Immutable.
	pid int32

	// leader is the thread group leader: the first thread, or the thread
	// that called execve after the others were killed (de_thread()).
	// Written with Kernel.mu and mu both held; read with either.
	leader *Task

	// limits is shared by all threads. Immutable pointer.
	limits *limits.LimitSet

	// tasks counts live threads. Protected by mu.
	tasks int

	// exiting is set once exit_group(2) or a fatal signal started tearing
	// the group down (SIGNAL_GROUP_EXIT); exitStatus is then final.
	// Protected by mu.
	exiting    bool
	exitStatus WaitStatus
	// leaderStatus is how the leader ended alone (exit(2)'s code, or a
	// seccomp kill of that thread): the process's status when it ends
	// without a group exit (the leader's exit_code in wait_task_zombie()).
	// Protected by mu.
	leaderStatus WaitStatus

	// execer is the thread running execve while the others are being
	// killed (de_thread()); every other thread exits. execDone is
	// signalled (non-blocking) when a thread exits meanwhile. Protected
	// by mu; execDone is an immutable channel.
	execer   *Task
	execDone chan struct{}

	// Group stop (job control, kernel/signal.c do_signal_stop()).
	// stopped is set while the group is stopped by a stop signal;
	// continued is closed and replaced on SIGCONT (threads parked in the
	// stop wait on it). stopReport and contReport are the stop (the
	// signal number) or continue not yet reported to a waiting parent
	// (WUNTRACED, WCONTINUED). Protected by mu.
	stopped    bool
	continued  chan struct{}
	stopReport int
	contReport bool

	// sigactions are the signal handlers, indexed by signal number - 1.
	// Protected by mu.
	sigactions [NumSignals]SigAction

	// realTimer is ITIMER_REAL, created on first use. Protected by mu.
	realTimer *realTimer
	// timers are the POSIX timers by ID; nextTimerID is where the search
	// for a free ID starts. Protected by mu.
	timers      map[int32]*posixTimer
	nextTimerID int32

	// pending are the process-directed pending signals. Protected by mu.
	pending pendingSignals

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
	// exitSignal is sent to the parent on exit (clone's CSIGNAL; 0 for
	// none). A child with an exit signal other than SIGCHLD is a "clone
	// child" for wait's __WCLONE.
	exitSignal int
	// pgid and sid are the process group and session IDs.
	pgid, sid int32
	// execed is set once the process has called execve (setpgid on it
	// from the parent then fails with EACCES).
	execed bool
	// exited is closed when the last thread has exited (exitStatus is
	// final then). Immutable channel; closed under Kernel.mu.
	exited chan struct{}
	// subreaper is PR_SET_CHILD_SUBREAPER: orphaned descendants are
	// reparented here instead of to init.
	subreaper bool
	// hasSubreaper is set if an ancestor is a subreaper (so exits need
	// only look up the tree when it is).
	hasSubreaper bool

	// childEvents is notified (EventIn) whenever a child becomes a zombie,
	// stops or continues; wait(2) callers in every thread block on it.
	childEvents waiter.Queue
	// exitEvents is notified (EventIn) when the process becomes a zombie
	// (pidfd readiness).
	exitEvents waiter.Queue

	// usage is the resource usage of the group's exited threads, and
	// childrenUsage that of its reaped children and their descendants
	// (RUSAGE_CHILDREN). Protected by mu.
	usage         Usage
	childrenUsage Usage
}

func newThreadGroup(parent *ThreadGroup, ls *limits.LimitSet) *ThreadGroup {
	return &ThreadGroup{
		parent:    parent,
		limits:    ls,
		children:  make(map[*ThreadGroup]struct{}),
		exited:    make(chan struct{}),
		execDone:  make(chan struct{}, 1),
		continued: make(chan struct{}),
	}
}

// PID returns the thread group ID.
func (tg *ThreadGroup) PID() int32 { return tg.pid }

// Leader returns the thread group leader.
func (tg *ThreadGroup) Leader() *Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.leader
}

// Limits returns the resource limits.
func (tg *ThreadGroup) Limits() *limits.LimitSet { return tg.limits }

// Tasks returns the group's live threads, leader first if alive, then by
// TID.
func (tg *ThreadGroup) Tasks() []*Task {
	k := tg.leader.k
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*Task
	for _, t := range k.tasks {
		if t.tg == tg {
			out = append(out, t)
		}
	}
	sortTasks(out)
	return out
}

// NumThreads returns the number of live threads.
func (tg *ThreadGroup) NumThreads() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.tasks
}

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

// SetSigAction replaces the action for sig and returns the old one. A
// signal whose action becomes "ignore" (explicitly, or SIG_DFL with an
// ignoring default) is discarded from every pending set, as
// do_sigaction() does.
func (tg *ThreadGroup) SetSigAction(sig int, a SigAction) SigAction {
	k := tg.leader.k
	k.mu.Lock()
	tg.mu.Lock()
	old := tg.sigactions[sig-1]
	tg.sigactions[sig-1] = a
	if a.Handler == SigIgn || a.Handler == SigDfl && defaultIgnored(sig) {
		tg.pending.discard(sigBit(sig))
		for _, t := range k.tasks {
			if t.tg == tg {
				t.pending.discard(sigBit(sig))
			}
		}
	}
	tg.mu.Unlock()
	k.mu.Unlock()
	return old
}
