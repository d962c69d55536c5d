// Package ktime is the sandbox's time: CLOCK_REALTIME, CLOCK_MONOTONIC and
// their variants as the app sees them, both through clock_gettime(2) and
// friends in the sentry and through the vDSO without a trap.
//
// The clocks are computed from the TSC: CLOCK_MONOTONIC is a piecewise
// linear function of the counter (params), published in the data page
// ([vvar], mapped read-only into every app) under a seqcount. The vDSO and
// Clock.Now evaluate the same parameters with the same integer arithmetic,
// so a reading through the vDSO is never later than a following syscall
// reading and vice versa, in any thread or process: both are one monotonic
// function of a counter that is synchronized across CPUs (constant_tsc,
// nonstop_tsc). Other clocks are CLOCK_MONOTONIC plus an offset from the
// page.
//
// The parameters track the host's CLOCK_MONOTONIC (Go's monotonic clock, the
// one the sentry's timers run on): a goroutine samples the host clock and
// the TSC periodically, measures the counter's rate and publishes a new
// segment that starts where the old one is at that instant (the clock stays
// continuous) with a rate that slews the remaining error away, never more
// than maxSlew from the host's rate (timekeeping_adjust() does the same for
// Linux's NTP corrections). CLOCK_REALTIME is the host's wall clock offset
// from its monotonic clock, carried over to the sandbox's.
//
// Without an invariant TSC (or if the counter is seen to misbehave) the
// page says so and the vDSO makes the syscall for every clock, which the
// sentry then answers from the host's clocks, continuing from the last TSC
// reading.
//
// Locking: Clock.mu serializes writers of the page (New and update). Readers
// take no lock: they follow the seqcount.
package ktime

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// monoOrigin is CLOCK_MONOTONIC at the sandbox's boot: one second, so
	// that it is never zero.
	monoOrigin = int64(time.Second)
	// maxSlew bounds how far the clock's rate may be steered from the
	// host's measured rate (100 ppm; Linux's NTP allows 500 ppm).
	maxSlew = 100e-6
	// sleepSlack is the relative margin HostDuration adds, covering the
	// steering (maxSlew) and as much again of rate change of the host
	// clock between two samples.
	sleepSlack = 2 * maxSlew
	// firstInterval and maxInterval bound the time between updates: they
	// start frequent, while the rate estimate is still coarse, and
	// double up to maxInterval.
	firstInterval = 10 * time.Millisecond
	maxInterval   = time.Second
	// calibration is how long New measures the TSC before the first
	// segment.
	calibration = 2 * time.Millisecond
	// maxRateChange is how far (relative) the counter's measured rate may
	// move from the first calibration before it is considered unusable.
	maxRateChange = 0.01
	// stepThreshold: an error larger than this (the sandbox clock behind
	// the host by more than 100 ms) is stepped forward rather than slewed.
	stepThreshold = int64(100 * time.Millisecond)
)

// sample is one simultaneous reading of the TSC and the host clocks.
type sample struct {
	tsc uint64
	// mono is the host's monotonic clock since Clock.boot, wall its
	// realtime clock (ns since the epoch).
	mono, wall int64
}

// Clock is the sandbox's set of clocks.
type Clock struct {
	// p is the data page; buf keeps its memory. Immutable.
	p   *page
	buf []byte
	// boot is the host time at which CLOCK_MONOTONIC read monoOrigin.
	// Immutable.
	boot time.Time
	// hostOff is added to the host-derived CLOCK_MONOTONIC in
	// modeSyscall so that it continues from the last TSC reading. Written
	// while the page's seq is odd.
	hostOff atomic.Int64

	mu sync.Mutex
	// last is the sample the current segment was computed from.
	// Protected by mu.
	last sample
	// cur is the segment in the page. Protected by mu.
	cur params
	// rate0 is the first measured rate. Protected by mu.
	rate0 uint64
	// interval is the time until the next update. Protected by mu.
	interval time.Duration
}

// New returns the sandbox's clocks, starting at boot, publishing into page
// (at least PageSize bytes, zeroed). If useTSC is false (no invariant TSC)
// every clock is read from the host and the vDSO falls back to syscalls.
// Call Run to keep the clocks calibrated.
func New(buf []byte, boot time.Time, useTSC bool) (*Clock, error) {
	p, err := overlay(buf)
	if err != nil {
		return nil, err
	}
	c := &Clock{p: p, buf: buf, boot: boot, interval: firstInterval}
	p.clockMask.Store(servedClocks)
	p.ncpu.Store(uint32(runtime.NumCPU()))
	for id := int32(0); id < numClocks; id++ {
		if served(id) {
			p.res[id].Store(1)
		}
	}
	p.res[ClockRealtimeCoarse].Store(coarseResolutionNsecs)
	p.res[ClockMonotonicCoarse].Store(coarseResolutionNsecs)
	if !useTSC {
		return c, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s0 := c.sample()
	time.Sleep(calibration)
	s1 := c.sample()
	rate := multFor(uint64(s1.mono-s0.mono), s1.tsc-s0.tsc)
	if s1.tsc <= s0.tsc || rate == 0 {
		return c, nil
	}
	c.rate0 = rate
	c.last = s1
	c.cur = params{tscBase: s1.tsc, mult: rate, monoBase: s1.mono + monoOrigin}
	p.seq.Add(1)
	c.store(c.cur, s1.wall-(s1.mono+monoOrigin), modeTSC)
	p.seq.Add(1)
	return c, nil
}

// sample reads the TSC around the host clock a few times and keeps the
// tightest bracket, taking the TSC at its middle.
func (c *Clock) sample() sample {
	var best sample
	bestWidth := ^uint64(0)
	for i := 0; i < 5; i++ {
		t1 := rdtsc()
		now := time.Now()
		t2 := rdtsc()
		if t2 >= t1 && t2-t1 < bestWidth {
			bestWidth = t2 - t1
			best = sample{tsc: t1 + (t2-t1)/2, mono: int64(now.Sub(c.boot)), wall: now.UnixNano()}
		}
	}
	return best
}

// store writes segment p, CLOCK_REALTIME at CLOCK_MONOTONIC + realOff and
// mode into the page.
//
// Preconditions: c.mu is held; the page's seq is odd.
func (c *Clock) store(p params, realOff int64, mode uint32) {
	pg := c.p
	pg.tscBase.Store(p.tscBase)
	pg.mult.Store(p.mult)
	pg.monoBase.Store(p.monoBase)
	pg.offset[ClockRealtime].Store(realOff)
	pg.offset[ClockRealtimeCoarse].Store(realOff)
	pg.offset[ClockTAI].Store(realOff + taiOffset)
	pg.mode.Store(mode)
}

// Run keeps the clocks calibrated until stop is closed (the sentry never
// closes it).
func (c *Clock) Run(stop <-chan struct{}) {
	for {
		c.mu.Lock()
		d := c.interval
		c.mu.Unlock()
		select {
		case <-stop:
			return
		case <-time.After(d):
		}
		c.update()
	}
}

// update starts a new segment from a fresh sample.
func (c *Clock) update() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p.mode.Load() != modeTSC {
		return
	}
	s := c.sample()
	rate := multFor(uint64(max(s.mono-c.last.mono, 0)), s.tsc-c.last.tsc)
	if s.tsc <= c.last.tsc || rate == 0 || !near(rate, c.rate0, maxRateChange) {
		// The counter went backwards or changed speed: it is not a
		// clock we can serve from.
		c.fallBack()
		return
	}
	c.interval = min(2*c.interval, maxInterval)
	target := s.mono + monoOrigin
	errNs := target - c.cur.at(s.tsc)
	next := params{mult: steer(rate, errNs, int64(c.interval))}
	// The new segment starts at a TSC value read after seq turned odd:
	// any reader that used the old segment read the counter before
	// that (its seq check would fail otherwise), so its value is at most
	// the old segment's value here, where the new one begins.
	pg := c.p
	pg.seq.Add(1)
	next.tscBase = rdtsc()
	next.monoBase = c.cur.at(next.tscBase)
	if errNs > stepThreshold {
		next.monoBase += errNs
	}
	c.store(next, s.wall-target, modeTSC)
	pg.seq.Add(1)
	c.cur, c.last = next, s
}

// fallBack switches to the host's clocks for good: the page tells the vDSO
// to make syscalls, and CLOCK_MONOTONIC continues from the TSC clock's
// current value (or the host's, if that is later) so it never goes back.
//
// Preconditions: c.mu is held; mode is modeTSC.
func (c *Clock) fallBack() {
	pg := c.p
	pg.seq.Add(1)
	last := c.cur.at(rdtsc())
	host := int64(time.Since(c.boot)) + monoOrigin
	c.hostOff.Store(max(last-host, 0))
	pg.mode.Store(modeSyscall)
	pg.seq.Add(1)
}

// near reports whether a is within rel of b.
func near(a, b uint64, rel float64) bool {
	d := float64(a) - float64(b)
	return d <= rel*float64(b) && -d <= rel*float64(b)
}

// Now returns clock id's current value in ns, or false if id is not one of
// the clocks the page describes (the CPU-time and alarm clocks, unknown
// IDs), which the caller handles itself.
func (c *Clock) Now(id int32) (int64, bool) {
	if !served(id) {
		return 0, false
	}
	pg := c.p
	for {
		seq := pg.seq.Load()
		if seq&1 != 0 {
			runtime.Gosched()
			continue
		}
		var ns int64
		if pg.mode.Load() == modeTSC {
			p := params{tscBase: pg.tscBase.Load(), mult: pg.mult.Load(), monoBase: pg.monoBase.Load()}
			off := pg.offset[id].Load()
			ns = p.at(rdtsc()) + off
		} else {
			ns = c.hostNow(id)
		}
		if pg.seq.Load() == seq {
			return ns, true
		}
	}
}

// hostNow is clock id read from the host's clocks (modeSyscall).
func (c *Clock) hostNow(id int32) int64 {
	switch {
	case realtimeClocks&(1<<id) != 0:
		return time.Now().UnixNano()
	case id == ClockTAI:
		return time.Now().UnixNano() + taiOffset
	}
	return int64(time.Since(c.boot)) + monoOrigin + c.hostOff.Load()
}

// Resolution returns clock_getres(id) in ns, or false if id is not served.
func (c *Clock) Resolution(id int32) (int64, bool) {
	if !served(id) {
		return 0, false
	}
	return c.p.res[id].Load(), true
}

// HostDuration converts a duration of the sandbox's clocks into one of the
// host's monotonic clock (which Go's timers use) that is at least as long:
// the sandbox clock may run up to sleepSlack slower than the host's, so a
// timer set for the returned duration fires when the app's clocks have
// advanced by at least d. One microsecond more covers the sampling error of
// the rate estimate.
func (c *Clock) HostDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if c.p.mode.Load() != modeTSC {
		return d
	}
	extra := time.Duration(float64(d)*sleepSlack) + time.Microsecond
	if d > 1<<62-extra {
		return d
	}
	return d + extra
}

// Usable reports whether the clocks run from the TSC (the vDSO serves them
// without a syscall).
func (c *Clock) Usable() bool { return c.p.mode.Load() == modeTSC }
