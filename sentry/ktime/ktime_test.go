package ktime

import (
	"sync"
	"testing"
	"time"
	"unsafe"
)

func TestParamsAt(t *testing.T) {
	ghz := uint64(1) << multShift // 1 ns per cycle
	for _, tc := range []struct {
		name string
		p    params
		tsc  uint64
		want int64
	}{
		{"at base", params{tscBase: 1000, mult: ghz, monoBase: 5}, 1000, 5},
		{"before base clamps", params{tscBase: 1000, mult: ghz, monoBase: 5}, 10, 5},
		{"1 GHz", params{tscBase: 1000, mult: ghz, monoBase: 5}, 3000, 2005},
		{"2 GHz", params{tscBase: 0, mult: ghz / 2, monoBase: 0}, 2e9, 1e9},
		{"3 GHz rounds down", params{tscBase: 0, mult: ghz / 3, monoBase: 0}, 3, 0},
		{"fraction accumulates", params{tscBase: 0, mult: ghz / 3, monoBase: 0}, 3e9, 999999999},
		// A day at 4 GHz: the product needs more than 64 bits.
		{"no overflow", params{tscBase: 7, mult: ghz / 4, monoBase: 1}, 7 + 4e9*86400, 1 + 86400e9},
	} {
		if got := tc.p.at(tc.tsc); got != tc.want {
			t.Errorf("%s: at(%d) = %d, want %d", tc.name, tc.tsc, got, tc.want)
		}
	}
}

func TestMultFor(t *testing.T) {
	for _, tc := range []struct {
		dns, dtsc, want uint64
	}{
		{1e9, 1e9, 1 << 32},
		{1e9, 2e9, 1 << 31},
		{1e9, 0, 0},
		{3, 1, 3 << 32},
		{1 << 40, 1, 0}, // does not fit
		{1e9, 2.5e9, 1717986918},
	} {
		if got := multFor(tc.dns, tc.dtsc); got != tc.want {
			t.Errorf("multFor(%d, %d) = %d, want %d", tc.dns, tc.dtsc, got, tc.want)
		}
	}
}

func TestSteer(t *testing.T) {
	rate := uint64(1) << 32
	for _, tc := range []struct {
		name     string
		err, ivl int64
		want     uint64
	}{
		{"no error", 0, 1e9, rate},
		{"behind by 10us over 1s: 10 ppm faster", 10000, 1e9, rate + rate/100000},
		{"ahead by 10us over 1s: 10 ppm slower", -10000, 1e9, uint64(float64(rate) * (1 - 1e-5))},
		{"clamped fast", 1e9, 1e9, uint64(float64(rate) * (1 + maxSlew))},
		{"clamped slow", -1e9, 1e9, uint64(float64(rate) * (1 - maxSlew))},
		{"zero interval", 5, 0, rate},
	} {
		if got := steer(rate, tc.err, tc.ivl); got != tc.want {
			t.Errorf("%s: steer = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestSegmentsContinuous: a new segment starting at the old one's value at
// its base TSC keeps the clock monotonic across the switch whatever the new
// rate, for readings on either side of it.
func TestSegmentsContinuous(t *testing.T) {
	old := params{tscBase: 100, mult: 1<<32 + 12345, monoBase: 1e9}
	for _, mult := range []uint64{1 << 31, 1<<32 - 1, 1 << 32, 1 << 33} {
		base := uint64(123456789)
		next := params{tscBase: base, mult: mult, monoBase: old.at(base)}
		prev := int64(0)
		for tsc := base - 50; tsc < base+50; tsc++ {
			v := old.at(tsc)
			if tsc >= base {
				v = next.at(tsc)
			}
			if v < prev {
				t.Fatalf("mult %d: value %d at tsc %d after %d", mult, v, tsc, prev)
			}
			prev = v
		}
	}
}

func TestPageLayout(t *testing.T) {
	var p page
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"seq", unsafe.Offsetof(p.seq), offSeq},
		{"mode", unsafe.Offsetof(p.mode), offMode},
		{"tsc_base", unsafe.Offsetof(p.tscBase), offTSCBase},
		{"mult", unsafe.Offsetof(p.mult), offMult},
		{"mono_base", unsafe.Offsetof(p.monoBase), offMonoBase},
		{"clock_mask", unsafe.Offsetof(p.clockMask), offClockMask},
		{"ncpu", unsafe.Offsetof(p.ncpu), offNCPU},
		{"offset", unsafe.Offsetof(p.offset), offOffset},
		{"res", unsafe.Offsetof(p.res), offRes},
		{"size", unsafe.Sizeof(p), pageBytes},
	} {
		if f.got != f.want {
			t.Errorf("%s at %d, vvar.h says %d", f.name, f.got, f.want)
		}
	}
	if pageBytes > PageSize {
		t.Errorf("page is %d bytes, more than a page", pageBytes)
	}
}

func newTestClock(t *testing.T, tsc bool) *Clock {
	t.Helper()
	buf := make([]byte, PageSize)
	c, err := New(buf, time.Now(), tsc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClockTracksHost(t *testing.T) {
	for _, tsc := range []bool{true, false} {
		c := newTestClock(t, tsc)
		if c.Usable() != tsc {
			t.Fatalf("useTSC %v: Usable = %v", tsc, c.Usable())
		}
		for i := 0; i < 5; i++ {
			time.Sleep(5 * time.Millisecond)
			c.update()
		}
		mono, _ := c.Now(ClockMonotonic)
		host := int64(time.Since(c.boot)) + monoOrigin
		if d := host - mono; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
			t.Errorf("useTSC %v: CLOCK_MONOTONIC %d, host %d: off by %v", tsc, mono, host, time.Duration(d))
		}
		real, _ := c.Now(ClockRealtime)
		if d := time.Now().UnixNano() - real; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
			t.Errorf("useTSC %v: CLOCK_REALTIME off the host's by %v", tsc, time.Duration(d))
		}
		tai, _ := c.Now(ClockTAI)
		if d := tai - real - taiOffset; d < 0 || d > int64(time.Millisecond) {
			t.Errorf("useTSC %v: CLOCK_TAI - CLOCK_REALTIME = %v", tsc, time.Duration(tai-real))
		}
	}
}

func TestClockUnserved(t *testing.T) {
	c := newTestClock(t, true)
	for _, id := range []int32{-1, ClockProcessCPUTime, ClockThreadCPUTime, ClockRealtimeAlarm, ClockBoottimeAlarm, 10, 12, 1 << 20} {
		if _, ok := c.Now(id); ok {
			t.Errorf("Now(%d) served", id)
		}
		if _, ok := c.Resolution(id); ok {
			t.Errorf("Resolution(%d) served", id)
		}
	}
	for id, want := range map[int32]int64{ClockMonotonic: 1, ClockRealtime: 1, ClockMonotonicCoarse: coarseResolutionNsecs} {
		if got, ok := c.Resolution(id); !ok || got != want {
			t.Errorf("Resolution(%d) = %d, %v; want %d", id, got, ok, want)
		}
	}
}

// TestMonotonicAcrossUpdates reads CLOCK_MONOTONIC from several goroutines
// while segments are replaced as fast as possible: no reader ever sees the
// clock go back, and readings ordered by a mutex are ordered in value.
func TestMonotonicAcrossUpdates(t *testing.T) {
	c := newTestClock(t, true)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				c.update()
			}
		}
	}()
	var mu sync.Mutex
	var latest int64
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 20000; i++ {
				mu.Lock()
				v, _ := c.Now(ClockMonotonic)
				if v < latest {
					t.Errorf("CLOCK_MONOTONIC %d after %d", v, latest)
				}
				latest = v
				mu.Unlock()
			}
		}()
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}

func TestFallBackContinues(t *testing.T) {
	c := newTestClock(t, true)
	// Make the TSC clock run ahead of the host's, as a counter that sped
	// up would.
	c.mu.Lock()
	c.p.seq.Add(1)
	c.cur.monoBase += int64(time.Hour)
	c.store(c.cur, 0, modeTSC)
	c.p.seq.Add(1)
	c.mu.Unlock()
	before, _ := c.Now(ClockMonotonic)
	c.mu.Lock()
	c.fallBack()
	c.mu.Unlock()
	after, _ := c.Now(ClockMonotonic)
	if c.Usable() || after < before {
		t.Errorf("after fallback: usable %v, CLOCK_MONOTONIC %d then %d", c.Usable(), before, after)
	}
	if d := c.HostDuration(time.Second); d != time.Second {
		t.Errorf("host clocks: HostDuration(1s) = %v", d)
	}
}

func TestHostDuration(t *testing.T) {
	c := newTestClock(t, true)
	for _, tc := range []struct{ d, min, max time.Duration }{
		{0, 0, 0},
		{-5, 0, 0},
		{time.Millisecond, time.Millisecond + time.Microsecond, time.Millisecond + 2*time.Microsecond},
		{time.Second, time.Second + 200*time.Microsecond, time.Second + 202*time.Microsecond},
		{1<<63 - 1, 1<<63 - 1, 1<<63 - 1},
	} {
		if got := c.HostDuration(tc.d); got < tc.min || got > tc.max {
			t.Errorf("HostDuration(%v) = %v, want in [%v, %v]", tc.d, got, tc.min, tc.max)
		}
	}
}
