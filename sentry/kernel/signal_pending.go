package kernel

// pendingSignals is a set of pending signals (struct sigpending): standard
// signals (1-31) are pending at most once (a second instance is merged),
// real-time signals (32-64) queue every instance in order
// (legacy_queue() and __send_signal() in kernel/signal.c).
//
// The owner's lock protects it (ThreadGroup.mu for both the process's and
// its threads' sets).
type pendingSignals struct {
	// mask has bit sig-1 set while at least one instance of sig is
	// queued.
	mask uint64
	// queue holds the queued instances of each signal, oldest first.
	queue [NumSignals][]SigInfo
}

// firstRTSignal is SIGRTMIN as the kernel numbers it (glibc reserves 32
// and 33 for itself and reports SIGRTMIN as 34).
const firstRTSignal = 32

// isRT reports whether sig is a real-time signal.
func isRT(sig int) bool { return sig >= firstRTSignal }

// enqueue adds info. It reports false if a standard signal of that number
// was already pending (the new instance is merged, keeping the first
// siginfo, as Linux does).
func (p *pendingSignals) enqueue(info SigInfo) bool {
	sig := info.Signo
	if !isRT(sig) && p.mask&sigBit(sig) != 0 {
		return false
	}
	p.mask |= sigBit(sig)
	p.queue[sig-1] = append(p.queue[sig-1], info)
	return true
}

// dequeue removes the oldest instance of the lowest-numbered signal in
// allowed (next_signal(): synchronous signals first, then by number; the
// faults that must be first are thread-directed and taken before the
// process set by the caller).
func (p *pendingSignals) dequeue(allowed uint64) (SigInfo, bool) {
	ready := p.mask & allowed
	if ready == 0 {
		return SigInfo{}, false
	}
	// Synchronous fault signals take priority (SYNCHRONOUS_MASK).
	const syncMask = 1<<(11-1) | 1<<(7-1) | 1<<(5-1) | 1<<(4-1) | 1<<(8-1) | 1<<(31-1) // SEGV BUS TRAP ILL FPE SYS
	if ready&syncMask != 0 {
		ready &= syncMask
	}
	for sig := 1; sig <= NumSignals; sig++ {
		if ready&sigBit(sig) == 0 {
			continue
		}
		q := p.queue[sig-1]
		info := q[0]
		copy(q, q[1:])
		q[len(q)-1] = SigInfo{}
		p.queue[sig-1] = q[:len(q)-1]
		if len(p.queue[sig-1]) == 0 {
			p.mask &^= sigBit(sig)
		}
		return info, true
	}
	return SigInfo{}, false
}

// discard removes every instance of the signals in set (used when
// SIGCONT flushes stop signals and vice versa, and when a signal becomes
// ignored).
func (p *pendingSignals) discard(set uint64) {
	for sig := 1; sig <= NumSignals; sig++ {
		if set&sigBit(sig) != 0 && p.mask&sigBit(sig) != 0 {
			p.queue[sig-1] = nil
			p.mask &^= sigBit(sig)
		}
	}
}

// count returns the number of queued instances (for RLIMIT_SIGPENDING).
func (p *pendingSignals) count() int {
	n := 0
	for sig := 1; sig <= NumSignals; sig++ {
		n += len(p.queue[sig-1])
	}
	return n
}
