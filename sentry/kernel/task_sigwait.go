package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

// SigTimedWait implements the core of rt_sigtimedwait(2)
// (do_sigtimedwait()): it dequeues a pending signal in set, waiting up to
// timeout (negative: forever) for one to arrive. While waiting, the signals
// of set are unblocked as far as waking is concerned, but are taken here
// rather than delivered. A timeout gives EAGAIN; another signal that
// interrupts the wait gives EINTR (the syscall is not restarted).
func (t *Task) SigTimedWait(set uint64, timeout time.Duration) (SigInfo, error) {
	set &^= sigBit(int(unix.SIGKILL)) | sigBit(int(unix.SIGSTOP))
	if info, ok := t.dequeueSignalMask(set); ok {
		return info, nil
	}
	if timeout == 0 {
		return SigInfo{}, unix.EAGAIN
	}
	// Let signals in set wake us: temporarily drop them from the mask
	// (real_blocked in Linux), restoring it before returning.
	old := t.sigMask
	t.SetSigMask(old &^ set)
	defer t.SetSigMask(old)
	var timer <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(t.k.Time.HostDuration(timeout))
		defer tm.Stop()
		timer = tm.C
	}
	for {
		if info, ok := t.dequeueSignalMask(set); ok {
			return info, nil
		}
		if t.Interrupted() {
			return SigInfo{}, unix.EINTR
		}
		select {
		case <-t.interruptCh:
		case <-timer:
			if info, ok := t.dequeueSignalMask(set); ok {
				return info, nil
			}
			return SigInfo{}, unix.EAGAIN
		}
	}
}

// QueueSignal implements rt_sigqueueinfo(2) and rt_tgsigqueueinfo(2): info
// comes from the app. Only a process signalling itself may use a
// non-negative si_code or SI_TKILL, so that it cannot forge kernel or kill
// signals for others (do_rt_sigqueueinfo()). target nil queues for the
// process. Real-time signals beyond RLIMIT_SIGPENDING fail with EAGAIN.
func (t *Task) QueueSignal(tg *ThreadGroup, target *Task, info SigInfo) error {
	if (info.Code >= 0 || info.Code == SITkill) && tg != t.tg {
		return unix.EPERM
	}
	k := t.k
	k.mu.Lock()
	tg.mu.Lock()
	if isRT(info.Signo) && info.Code < 0 {
		set := &tg.pending
		if target != nil {
			set = &target.pending
		}
		if set.count() >= int(tg.limits.Get(unix.RLIMIT_SIGPENDING).Cur) {
			tg.mu.Unlock()
			k.mu.Unlock()
			return unix.EAGAIN
		}
	}
	queued := k.sendSignalLocked(tg, target, info)
	tg.mu.Unlock()
	k.mu.Unlock()
	if queued {
		tg.signalQueued()
		if target != nil {
			target.Interrupt()
		} else {
			k.interruptGroup(tg)
		}
	}
	return nil
}
