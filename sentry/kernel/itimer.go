package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// realTimer is a process's ITIMER_REAL (alarm(2), setitimer(2)): it sends
// SIGALRM to the process when it expires, then re-arms with its interval.
type realTimer struct {
	mu sync.Mutex
	// timer, deadline and interval are protected by mu.
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
}

// itimerReal returns tg's real-time interval timer, creating it.
func (tg *ThreadGroup) itimerReal() *realTimer {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.realTimer == nil {
		tg.realTimer = &realTimer{}
	}
	return tg.realTimer
}

// remaining returns the time to expiry (0 if disarmed).
//
// Preconditions: rt.mu is held.
func (rt *realTimer) remaining() time.Duration {
	if rt.timer == nil {
		return 0
	}
	d := time.Until(rt.deadline)
	if d <= 0 {
		// Expired but not re-armed yet: Linux reports the smallest
		// non-zero value so that "armed" stays visible.
		d = time.Microsecond
	}
	return d
}

// SetRealTimer arms (value > 0) or disarms (value == 0) ITIMER_REAL and
// returns the old value and interval.
func (t *Task) SetRealTimer(value, interval time.Duration) (time.Duration, time.Duration) {
	tg := t.tg
	rt := tg.itimerReal()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	oldV, oldI := rt.remaining(), rt.interval
	if rt.timer != nil {
		rt.timer.Stop()
		rt.timer = nil
	}
	rt.interval = interval
	if value > 0 {
		rt.arm(t.k, tg, value)
	}
	return oldV, oldI
}

// RealTimer returns ITIMER_REAL's remaining time and interval.
func (t *Task) RealTimer() (time.Duration, time.Duration) {
	rt := t.tg.itimerReal()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.remaining(), rt.interval
}

// Preconditions: rt.mu is held.
func (rt *realTimer) arm(k *Kernel, tg *ThreadGroup, d time.Duration) {
	// getitimer reports what is left of d; the host timer runs long
	// enough for the app's clocks to have advanced by d when it fires.
	rt.deadline = time.Now().Add(d)
	var timer *time.Timer
	timer = time.AfterFunc(k.Time.HostDuration(d), func() {
		rt.mu.Lock()
		if rt.timer != timer {
			rt.mu.Unlock()
			return
		}
		rt.timer = nil
		if rt.interval > 0 {
			rt.arm(k, tg, rt.interval)
		}
		rt.mu.Unlock()
		k.SendSignal(tg, SigInfo{Signo: int(unix.SIGALRM), Code: SIKernel})
	})
	rt.timer = timer
}

// stopTimers disarms the process's timers at exit.
func (tg *ThreadGroup) stopTimers() {
	tg.mu.Lock()
	rt := tg.realTimer
	tg.mu.Unlock()
	if rt == nil {
		return
	}
	rt.mu.Lock()
	if rt.timer != nil {
		rt.timer.Stop()
		rt.timer = nil
	}
	rt.mu.Unlock()
}
