package kernel

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/ktime"
)

// POSIX per-process timers (timer_create(2), kernel/time/posix-timers.c).
//
// A timer measures one of the wall clocks (CLOCK_REALTIME, CLOCK_MONOTONIC,
// CLOCK_BOOTTIME, which advance together in the sandbox) and, on expiry,
// queues a signal for the process (SIGEV_SIGNAL), for one of its threads
// (SIGEV_THREAD_ID), or nothing (SIGEV_NONE). While its signal is still
// queued, further expirations are counted as overruns (timer_getoverrun(2),
// si_overrun) instead of queueing more signals.

// Sigevent notification kinds (include/uapi/asm-generic/siginfo.h).
const (
	SigevSignal   = 0
	SigevNone     = 1
	SigevThread   = 2
	SigevThreadID = 4
)

// maxTimerOverrun is DELAYTIMER_MAX.
const maxTimerOverrun = 1<<31 - 1

// TimerSpec is what timer_create was asked to deliver.
type TimerSpec struct {
	// Clock is the timer's clock ID.
	Clock  int32
	Notify int
	Signo  int
	Value  uint64
	// Target is the thread for SIGEV_THREAD_ID.
	Target *Task
}

// posixTimer is one timer. Its fields are protected by its mu; the timer
// table by ThreadGroup.mu.
type posixTimer struct {
	tg   *ThreadGroup
	id   int32
	spec TimerSpec
	// clock converts expiry times for Go's timers. Immutable.
	clock *ktime.Clock

	mu sync.Mutex
	// timer is the armed Go timer, nil when disarmed.
	timer *time.Timer
	// deadline is the next expiry and interval the reload value.
	deadline time.Time
	interval time.Duration
	// queued is set while the timer's signal is pending; overrun counts
	// expirations meanwhile, and lastOverrun is what the last delivered
	// signal reported (timer_getoverrun).
	queued      bool
	overrun     int64
	lastOverrun int64
	// gen invalidates callbacks of a timer that was re-armed or deleted.
	gen uint64
}

// CreateTimer implements timer_create(2) with validated arguments.
func (t *Task) CreateTimer(spec TimerSpec) (int32, error) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.timers == nil {
		tg.timers = make(map[int32]*posixTimer)
	}
	// The lowest free ID, as posix_timer_add() hands them out for a
	// fresh process.
	id := tg.nextTimerID
	for tg.timers[id] != nil {
		id++
	}
	if id < 0 {
		return 0, unix.EAGAIN
	}
	tg.nextTimerID = id + 1
	tg.timers[id] = &posixTimer{tg: tg, id: id, spec: spec, clock: t.k.Time}
	return id, nil
}

// SetTimerValue sets the si_value the timer's signals carry.
func (t *Task) SetTimerValue(id int32, v uint64) error {
	pt, err := t.tg.timer(id)
	if err != nil {
		return err
	}
	pt.mu.Lock()
	pt.spec.Value = v
	pt.mu.Unlock()
	return nil
}

// TimerClock returns the clock timer id measures.
func (t *Task) TimerClock(id int32) (int32, error) {
	pt, err := t.tg.timer(id)
	if err != nil {
		return 0, err
	}
	return pt.spec.Clock, nil
}

// timer returns the process's timer id, or EINVAL.
func (tg *ThreadGroup) timer(id int32) (*posixTimer, error) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	pt := tg.timers[id]
	if pt == nil {
		return nil, unix.EINVAL
	}
	return pt, nil
}

// SetTimer implements timer_settime(2): value 0 disarms; otherwise the
// timer fires after value (or at the absolute time abs on the wall clock,
// for CLOCK_REALTIME) and then every interval. It returns the old value and
// interval.
func (t *Task) SetTimer(id int32, value, interval time.Duration) (oldValue, oldInterval time.Duration, err error) {
	pt, err := t.tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	oldValue, oldInterval = pt.remainingLocked(), pt.interval
	pt.stopLocked()
	pt.interval = interval
	pt.overrun = 0
	if value > 0 {
		pt.armLocked(value)
	}
	return oldValue, oldInterval, nil
}

// GetTimer implements timer_gettime(2).
func (t *Task) GetTimer(id int32) (value, interval time.Duration, err error) {
	pt, err := t.tg.timer(id)
	if err != nil {
		return 0, 0, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.remainingLocked(), pt.interval, nil
}

// TimerOverrun implements timer_getoverrun(2): the overrun count of the
// last delivered expiration signal.
func (t *Task) TimerOverrun(id int32) (int32, error) {
	pt, err := t.tg.timer(id)
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return int32(min(pt.lastOverrun, maxTimerOverrun)), nil
}

// DeleteTimer implements timer_delete(2).
func (t *Task) DeleteTimer(id int32) error {
	tg := t.tg
	tg.mu.Lock()
	pt := tg.timers[id]
	if pt == nil {
		tg.mu.Unlock()
		return unix.EINVAL
	}
	delete(tg.timers, id)
	tg.mu.Unlock()
	pt.mu.Lock()
	pt.stopLocked()
	pt.mu.Unlock()
	return nil
}

// deleteTimers removes every timer (exec and exit: exit_itimers()).
func (tg *ThreadGroup) deleteTimers() {
	tg.mu.Lock()
	ts := tg.timers
	tg.timers = nil
	tg.nextTimerID = 0
	tg.mu.Unlock()
	for _, pt := range ts {
		pt.mu.Lock()
		pt.stopLocked()
		pt.mu.Unlock()
	}
}

// remainingLocked is the time to the next expiry (0: disarmed).
//
// Preconditions: pt.mu is held.
func (pt *posixTimer) remainingLocked() time.Duration {
	if pt.timer == nil {
		return 0
	}
	d := time.Until(pt.deadline)
	if d <= 0 {
		d = 1 // expired, signal on its way: still armed
	}
	return d
}

// stopLocked disarms the timer.
//
// Preconditions: pt.mu is held.
func (pt *posixTimer) stopLocked() {
	pt.gen++
	if pt.timer != nil {
		pt.timer.Stop()
		pt.timer = nil
	}
}

// armLocked schedules the next expiry after d.
//
// Preconditions: pt.mu is held.
func (pt *posixTimer) armLocked(d time.Duration) {
	// timer_gettime and the period grid count from the deadline; the
	// host timer runs long enough for the app's clocks to have advanced
	// by d when it fires.
	pt.deadline = time.Now().Add(d)
	gen := pt.gen
	pt.timer = time.AfterFunc(pt.clock.HostDuration(d), func() { pt.fire(gen) })
}

// fire handles an expiry: queue the signal, or count an overrun if the last
// one is still pending; re-arm periodic timers, counting the periods
// missed while the sentry was late as overruns too.
func (pt *posixTimer) fire(gen uint64) {
	pt.mu.Lock()
	if pt.gen != gen {
		pt.mu.Unlock()
		return
	}
	pt.timer = nil
	if pt.interval > 0 {
		late := time.Since(pt.deadline)
		missed := int64(late / pt.interval)
		if missed > 0 {
			pt.overrun += missed
		}
		next := pt.interval - late%pt.interval
		pt.armLocked(next)
	}
	spec := pt.spec
	pt.mu.Unlock()
	if spec.Notify == SigevNone {
		return
	}

	info := SigInfo{Signo: spec.Signo, Code: SITimer, TimerID: pt.id, Value: spec.Value}
	tg := pt.tg
	k := tg.leader.k
	k.mu.Lock()
	tg.mu.Lock()
	target := spec.Target
	if target != nil && k.tasks[target.tid] != target {
		// The thread is gone: Linux delivers to the process.
		target = nil
	}
	pt.mu.Lock()
	if pt.queued && tg.timerSignalPendingLocked(pt.id) {
		pt.overrun++
		pt.mu.Unlock()
		tg.mu.Unlock()
		k.mu.Unlock()
		return
	}
	queued := k.sendSignalLocked(tg, target, info)
	pt.queued = queued
	pt.mu.Unlock()
	tg.mu.Unlock()
	k.mu.Unlock()
	if !queued {
		return
	}
	tg.signalQueued()
	if target != nil {
		target.Interrupt()
	} else {
		k.interruptGroup(tg)
	}
}

// timerSignalPendingLocked reports whether a signal of timer id is still
// queued for the process or one of its threads (it may have been discarded
// by a change of disposition).
//
// Preconditions: tg.mu and the kernel's mu are held.
func (tg *ThreadGroup) timerSignalPendingLocked(id int32) bool {
	has := func(p *pendingSignals) bool {
		for _, q := range p.queue {
			for _, i := range q {
				if i.Code == SITimer && i.TimerID == id {
					return true
				}
			}
		}
		return false
	}
	if has(&tg.pending) {
		return true
	}
	for _, t := range tg.leader.k.tasks {
		if t.tg == tg && has(&t.pending) {
			return true
		}
	}
	return false
}

// timerSignalDequeued fills info's overrun when a timer's signal is taken
// and lets the timer queue the next one (posixtimer_deliver_signal()).
//
// Preconditions: tg.mu is held.
func (tg *ThreadGroup) timerSignalDequeuedLocked(info *SigInfo) {
	pt := tg.timers[info.TimerID]
	if pt == nil {
		return
	}
	pt.mu.Lock()
	pt.queued = false
	pt.lastOverrun = pt.overrun
	pt.overrun = 0
	info.Overrun = int32(min(pt.lastOverrun, maxTimerOverrun))
	pt.mu.Unlock()
}
