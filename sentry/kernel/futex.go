package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/mm"
)

// futexWaiter is one task blocked in FUTEX_WAIT.
type futexWaiter struct {
	key    mm.FutexKey
	bitset uint32
	// woken is closed by the waker. Protected by futexTable.mu until
	// closed.
	woken chan struct{}
}

// futexTable holds the blocked futex waiters of the sandbox, in FIFO order
// per key (kernel/futex/).
type futexTable struct {
	mu sync.Mutex
	// waiters is protected by mu.
	waiters map[mm.FutexKey][]*futexWaiter
	// pi are the FUTEX_LOCK_PI waiters, FIFO per key (futex_pi.go).
	// Protected by mu.
	pi map[mm.FutexKey][]*piWaiter
}

func (ft *futexTable) init() {
	if ft.waiters == nil {
		ft.waiters = make(map[mm.FutexKey][]*futexWaiter)
		ft.pi = make(map[mm.FutexKey][]*piWaiter)
	}
}

// FutexWait blocks while the word at addr equals val (FUTEX_WAIT and
// FUTEX_WAIT_BITSET). The comparison and the queueing happen under the
// table lock, which wakers take too, so a wake after the value changed is
// never lost. timeout < 0 waits forever; deadline-based callers pass the
// remaining time.
func (t *Task) FutexWait(addr uintptr, val, bitset uint32, private bool, timeout time.Duration) error {
	if bitset == 0 {
		return unix.EINVAL
	}
	word, key, err := t.mm.AtomicUint32(addr, false, private)
	if err != nil {
		return err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	ft.init()
	if word.Load() != val {
		ft.mu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{key: key, bitset: bitset, woken: make(chan struct{})}
	ft.waiters[key] = append(ft.waiters[key], w)
	ft.mu.Unlock()

	var timer <-chan time.Time
	if timeout >= 0 {
		tm := time.NewTimer(t.k.Time.HostDuration(timeout))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		select {
		case <-w.woken:
			return nil
		case <-timer:
			if ft.dequeue(w) {
				return unix.ETIMEDOUT
			}
			return nil
		case <-t.interruptCh:
			if t.Interrupted() {
				if ft.dequeue(w) {
					return ERestartSys
				}
				return nil
			}
		}
	}
}

// dequeue removes w if it has not been woken, reporting whether it did.
func (ft *futexTable) dequeue(w *futexWaiter) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	q := ft.waiters[w.key]
	for i, o := range q {
		if o == w {
			ft.waiters[w.key] = append(q[:i:i], q[i+1:]...)
			if len(ft.waiters[w.key]) == 0 {
				delete(ft.waiters, w.key)
			}
			return true
		}
	}
	return false
}

// wakeLocked wakes up to n waiters on key whose bitset intersects bitset.
//
// Preconditions: ft.mu is held.
func (ft *futexTable) wakeLocked(key mm.FutexKey, n int, bitset uint32) int {
	q := ft.waiters[key]
	woken := 0
	kept := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&bitset != 0 {
			close(w.woken)
			woken++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = kept
	}
	return woken
}

// FutexWake wakes up to n waiters on addr (FUTEX_WAKE, FUTEX_WAKE_BITSET).
func (t *Task) FutexWake(addr uintptr, n int, bitset uint32, private bool) (int, error) {
	if bitset == 0 {
		return 0, unix.EINVAL
	}
	_, key, err := t.mm.AtomicUint32(addr, false, private)
	if err != nil {
		return 0, err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.init()
	return ft.wakeLocked(key, n, bitset), nil
}

// FutexRequeue wakes up to nwake waiters on addr and moves up to nreq more
// to addr2 (FUTEX_REQUEUE; with checkVal, FUTEX_CMP_REQUEUE first requires
// *addr == val, else EAGAIN).
func (t *Task) FutexRequeue(addr, addr2 uintptr, nwake, nreq int, checkVal bool, val uint32, private bool) (int, error) {
	word, key, err := t.mm.AtomicUint32(addr, false, private)
	if err != nil {
		return 0, err
	}
	_, key2, err := t.mm.AtomicUint32(addr2, false, private)
	if err != nil {
		return 0, err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.init()
	if checkVal && word.Load() != val {
		return 0, unix.EAGAIN
	}
	woken := ft.wakeLocked(key, nwake, ^uint32(0))
	moved := 0
	if key != key2 {
		q := ft.waiters[key]
		for len(q) > 0 && moved < nreq {
			w := q[0]
			q = q[1:]
			w.key = key2
			ft.waiters[key2] = append(ft.waiters[key2], w)
			moved++
		}
		if len(q) == 0 {
			delete(ft.waiters, key)
		} else {
			ft.waiters[key] = q
		}
	}
	return woken + moved, nil
}

// FutexWakeOp implements FUTEX_WAKE_OP: atomically apply op to *addr2, wake
// up to n1 waiters on addr, and, if the old value of *addr2 satisfies the
// comparison encoded in op, up to n2 waiters on addr2.
func (t *Task) FutexWakeOp(addr, addr2 uintptr, n1, n2 int, op uint32, private bool) (int, error) {
	_, key, err := t.mm.AtomicUint32(addr, false, private)
	if err != nil {
		return 0, err
	}
	word2, key2, err := t.mm.AtomicUint32(addr2, true, private)
	if err != nil {
		return 0, err
	}
	opType := (op >> 28) & 7
	cmp := (op >> 24) & 15
	oparg := (op >> 12) & 0xfff
	cmparg := op & 0xfff
	if op&(8<<28) != 0 { // FUTEX_OP_OPARG_SHIFT
		if oparg > 31 {
			return 0, unix.EINVAL
		}
		oparg = 1 << oparg
	}
	// Sign-extend the 12-bit arguments.
	soparg := uint32(int32(oparg<<20) >> 20)
	if op&(8<<28) != 0 {
		soparg = oparg
	}
	scmparg := int32(cmparg<<20) >> 20
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.init()
	var old uint32
	for {
		old = word2.Load()
		var nv uint32
		switch opType {
		case 0: // SET
			nv = soparg
		case 1: // ADD
			nv = old + soparg
		case 2: // OR
			nv = old | soparg
		case 3: // ANDN
			nv = old &^ soparg
		case 4: // XOR
			nv = old ^ soparg
		default:
			return 0, unix.ENOSYS
		}
		if word2.CompareAndSwap(old, nv) {
			break
		}
	}
	var ok bool
	o := int32(old)
	switch cmp {
	case 0:
		ok = o == scmparg
	case 1:
		ok = o != scmparg
	case 2:
		ok = o < scmparg
	case 3:
		ok = o <= scmparg
	case 4:
		ok = o > scmparg
	case 5:
		ok = o >= scmparg
	default:
		return 0, unix.ENOSYS
	}
	woken := ft.wakeLocked(key, n1, ^uint32(0))
	if ok {
		woken += ft.wakeLocked(key2, n2, ^uint32(0))
	}
	return woken, nil
}
