package kernel

import "gvisor.dev/gvisor/pkg/waiter"

// Hooks for signalfd(2) (fs/signalfd) and for syscalls that wait with a
// temporary signal mask (epoll_pwait(2), ppoll(2), pselect(2)). They keep
// the kernel's signal state private: signalfd reads through
// DequeueSignalMask and waits on SignalfdQueue, which the signal-queueing
// paths notify through signalQueued.

// SignalfdQueue returns the queue notified with EventIn whenever a signal
// is queued for the process or any of its threads
// (sighand->signalfd_wqh, woken by signalfd_notify()).
func (tg *ThreadGroup) SignalfdQueue() *waiter.Queue { return &tg.signalfdQueue }

// signalQueued wakes signalfd waiters after a signal was queued for tg or
// one of its threads. It must be called without tg.mu held.
func (tg *ThreadGroup) signalQueued() { tg.signalfdQueue.Notify(waiter.EventIn) }

// DequeueSignalMask removes and returns a pending signal in mask, whether
// or not it is blocked: t's own pending signals first, then its
// process's; within a set, synchronous signals first, else the lowest
// number (dequeue_signal() and next_signal(), as signalfd_dequeue() uses
// them).
func (t *Task) DequeueSignalMask(mask uint64) (SigInfo, bool) {
	return t.dequeueSignalMask(mask)
}

// SetSavedSigMask makes mask the signal mask again once the current
// syscall returns: after the next handler frame is set up (the frame saves
// mask as the one sigreturn restores), or at once if no handler runs
// (current->saved_sigmask with set_restore_sigmask()). Syscalls that wait
// under a temporary mask call it when they return EINTR, so that the
// signal that interrupted them is delivered under the temporary mask.
func (t *Task) SetSavedSigMask(mask uint64) {
	t.savedMask, t.haveSavedMask = mask, true
}
