package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/mm"
)

// Priority-inheritance futexes (kernel/futex/pi.c, futex(2) "Priority-
// inheritance futexes"). The futex word holds the owner's TID, plus
// FUTEX_WAITERS while someone is blocked and FUTEX_OWNER_DIED after an
// owner died holding it. User space takes a free lock with a CAS of 0 to
// its TID and releases an uncontended one with a CAS back to 0; the kernel
// is entered only under contention, and then hands the lock from owner to
// waiter directly, in FIFO order (the sentry has no priorities to boost, so
// inheritance itself is moot; the ownership protocol is what programs rely
// on).
//
// PI waiters are kept in futexTable.pi, under futexTable.mu, which also
// serializes every kernel-side update of a PI futex word.

// piWaiter is a task blocked in FUTEX_LOCK_PI.
type piWaiter struct {
	tid int32
	// granted is closed once the lock was handed to this waiter (its TID
	// is in the word).
	granted chan struct{}
}

// piLookupOwner reports whether the owner TID in v is a live task.
func (t *Task) piOwnerAlive(v uint32) bool {
	return t.k.TaskByTID(int32(v&futexTIDMask)) != nil
}

// FutexLockPI implements FUTEX_LOCK_PI (and FUTEX_TRYLOCK_PI if try): it
// returns once the calling thread owns the futex at addr. deadline zero
// waits forever. A dead owner's lock is taken over with FUTEX_OWNER_DIED
// set; the caller owning it already gets EDEADLK; an owner TID that names
// no task and is not marked dead gives ESRCH.
func (t *Task) FutexLockPI(addr uintptr, private, try bool, deadline time.Time) error {
	word, key, err := t.mm.AtomicUint32(addr, true, private)
	if err != nil {
		return err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	ft.init()
	tid := uint32(t.tid)
	for {
		v := word.Load()
		owner := v & futexTIDMask
		switch {
		case owner == 0 || owner != tid && !t.piOwnerAlive(v) && v&futexOwnerDied != 0:
			// Free, or its owner died: take it, keeping the flags
			// that still apply.
			nv := tid | v&futexOwnerDied
			if len(ft.pi[key]) > 0 {
				nv |= futexWaiters
			}
			if !word.CompareAndSwap(v, nv) {
				continue
			}
			ft.mu.Unlock()
			return nil
		case owner == tid:
			ft.mu.Unlock()
			return unix.EDEADLK
		case !t.piOwnerAlive(v):
			ft.mu.Unlock()
			return unix.ESRCH
		}
		if try {
			ft.mu.Unlock()
			return unix.EAGAIN
		}
		if v&futexWaiters == 0 && !word.CompareAndSwap(v, v|futexWaiters) {
			continue
		}
		break
	}
	w := &piWaiter{tid: int32(tid), granted: make(chan struct{})}
	ft.pi[key] = append(ft.pi[key], w)
	ft.mu.Unlock()

	var timer <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		select {
		case <-w.granted:
			return nil
		case <-timer:
			if ft.dequeuePI(key, w, word) {
				return unix.ETIMEDOUT
			}
			return nil
		case <-t.interruptCh:
			if t.Interrupted() {
				if ft.dequeuePI(key, w, word) {
					// Linux restarts FUTEX_LOCK_PI after the
					// handler (ERESTARTNOINTR).
					return ERestartNoIntr
				}
				return nil
			}
		}
	}
}

// dequeuePI removes w if it was not granted the lock meanwhile, clearing
// FUTEX_WAITERS when it was the last waiter. It reports whether w was
// removed.
func (ft *futexTable) dequeuePI(key mm.FutexKey, w *piWaiter, word interface {
	Load() uint32
	CompareAndSwap(old, new uint32) bool
}) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	q := ft.pi[key]
	for i, o := range q {
		if o != w {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if len(q) == 0 {
			delete(ft.pi, key)
			for {
				v := word.Load()
				if v&futexWaiters == 0 || word.CompareAndSwap(v, v&^futexWaiters) {
					break
				}
			}
		} else {
			ft.pi[key] = q
		}
		return true
	}
	return false
}

// FutexUnlockPI implements FUTEX_UNLOCK_PI: the caller must own the futex
// (EPERM otherwise); the lock goes to the first waiter, or becomes free.
func (t *Task) FutexUnlockPI(addr uintptr, private bool) error {
	word, key, err := t.mm.AtomicUint32(addr, true, private)
	if err != nil {
		return err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.init()
	for {
		v := word.Load()
		if v&futexTIDMask != uint32(t.tid) {
			return unix.EPERM
		}
		if ft.handOffPILocked(key, word, v, 0) {
			return nil
		}
		if word.CompareAndSwap(v, 0) {
			return nil
		}
	}
}

// handOffPILocked gives the futex whose word currently reads v to the first
// PI waiter on key, with extra flags (FUTEX_OWNER_DIED) added. It reports
// false if there is no waiter, or the word changed under it (the caller
// retries).
//
// Preconditions: ft.mu is held.
func (ft *futexTable) handOffPILocked(key mm.FutexKey, word interface {
	CompareAndSwap(old, new uint32) bool
}, v, extra uint32) bool {
	q := ft.pi[key]
	if len(q) == 0 {
		return false
	}
	w := q[0]
	nv := uint32(w.tid) | extra
	if len(q) > 1 {
		nv |= futexWaiters
	}
	if !word.CompareAndSwap(v, nv) {
		return false
	}
	if len(q) == 1 {
		delete(ft.pi, key)
	} else {
		ft.pi[key] = q[1:]
	}
	close(w.granted)
	return true
}

// handOffDeadPI passes a PI futex whose owner t died (robust list walk) to
// its first waiter with FUTEX_OWNER_DIED set. It reports whether a waiter
// took it.
func (t *Task) handOffDeadPI(addr uintptr, v uint32) bool {
	word, key, err := t.mm.AtomicUint32(addr, true, false)
	if err != nil {
		return false
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.init()
	if _, ok := ft.pi[key]; !ok {
		// A private-key waiter (FUTEX_LOCK_PI_PRIVATE) uses the
		// per-address-space key.
		word, key, err = t.mm.AtomicUint32(addr, true, true)
		if err != nil {
			return false
		}
	}
	return ft.handOffPILocked(key, word, v, futexOwnerDied)
}
