package ktime

import (
	"math"
	"math/bits"
)

// multShift is the fixed-point position of params.mult: mult is the length of
// one TSC cycle in units of 2^-32 ns. At 32 bits a cycle of a 1 GHz to 10 GHz
// counter is resolved to better than one part in 10^9, and the 64x64->128
// bit product in at() cannot overflow for any realistic elapsed time.
const multShift = 32

// params is one linear segment of the sandbox's CLOCK_MONOTONIC: at TSC
// value tscBase the clock read monoBase ns, and it advances mult/2^32 ns per
// cycle from there. The sentry (Clock.Now) and the vDSO (vdso.c) evaluate
// exactly the same integer expression, so they return the same value for
// the same TSC reading.
type params struct {
	tscBase  uint64
	mult     uint64
	monoBase int64
}

// at returns the clock's value at TSC reading tsc. A reading before tscBase
// (a counter read on another CPU a few cycles behind, or a read ordered
// before an update that raced with it) counts as tscBase, so the clock never
// goes backwards (the same clamp the vDSO makes).
func (p params) at(tsc uint64) int64 {
	if tsc <= p.tscBase {
		return p.monoBase
	}
	hi, lo := bits.Mul64(tsc-p.tscBase, p.mult)
	return p.monoBase + int64(hi<<(64-multShift)|lo>>multShift)
}

// multFor returns the mult that advances dns nanoseconds over dtsc cycles,
// or 0 if dtsc is 0 or the rate cannot be represented.
func multFor(dns, dtsc uint64) uint64 {
	if dtsc == 0 {
		return 0
	}
	hi, lo := dns>>(64-multShift), dns<<multShift
	if hi >= dtsc {
		return 0
	}
	q, _ := bits.Div64(hi, lo, dtsc)
	return q
}

// steer returns the mult for the next segment: rate (the host clock's
// measured ns per cycle over the last segment) corrected so that an error of
// errNs (host minus sandbox clock: positive when the sandbox clock is
// behind) is cancelled over the next intervalNs, with the correction limited
// to maxSlew in either direction. This is how Linux's NTP code slews a clock
// instead of stepping it: the clock stays continuous and its rate never
// differs from the host's by more than maxSlew, a bound the sentry's sleeps
// rely on (Clock.HostDuration).
func steer(rate uint64, errNs, intervalNs int64) uint64 {
	if intervalNs <= 0 {
		return rate
	}
	adj := float64(errNs) / float64(intervalNs)
	adj = math.Max(-maxSlew, math.Min(maxSlew, adj))
	return uint64(float64(rate) * (1 + adj))
}
