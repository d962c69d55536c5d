package timerfd

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestExpirations drives a timer with a fake clock and checks the
// expiration count and the remaining time.
func TestExpirations(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flags     int32
		spec      Spec
		at        int64 // clock value when read
		ticks     uint64
		remaining int64
	}{
		{"one-shot not due", 0, Spec{Value: 100}, 1050, 0, 50},
		{"one-shot due", 0, Spec{Value: 100}, 1100, 1, 0},
		{"interval, three periods", 0, Spec{Value: 100, Interval: 10}, 1125, 3, 5},
		{"absolute in the past", TimerAbstime, Spec{Value: 500, Interval: 100}, 1000, 6, 100},
		{"absolute ahead", TimerAbstime, Spec{Value: 2000}, 1999, 0, 1},
		{"disarmed", 0, Spec{}, 5000, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := int64(1000)
			fd := New(func() int64 { return clock }, false, unix.O_RDWR)
			defer fd.DecRef()
			f := fd.Impl().(*File)
			f.Set(tc.flags, tc.spec)
			clock = tc.at
			got := f.Get()
			f.mu.Lock()
			ticks := f.ticks
			f.mu.Unlock()
			if ticks != tc.ticks || got.Value != tc.remaining || got.Interval != tc.spec.Interval {
				t.Fatalf("ticks %d, spec %+v; want ticks %d, remaining %d", ticks, got, tc.ticks, tc.remaining)
			}
		})
	}
}
