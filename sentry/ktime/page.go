package ktime

import "sync/atomic"

// Clock IDs (include/uapi/linux/time.h).
const (
	ClockRealtime         = 0
	ClockMonotonic        = 1
	ClockProcessCPUTime   = 2
	ClockThreadCPUTime    = 3
	ClockMonotonicRaw     = 4
	ClockRealtimeCoarse   = 5
	ClockMonotonicCoarse  = 6
	ClockBoottime         = 7
	ClockRealtimeAlarm    = 8
	ClockBoottimeAlarm    = 9
	ClockTAI              = 11
	numClocks             = 12
	coarseResolutionNsecs = 4000000 // one jiffy at HZ=250
)

// PageSize is the size of the data page ([vvar]).
const PageSize = 4096

// Values of page.mode.
const (
	// modeSyscall: the vDSO makes the real syscall for every clock and
	// the sentry reads the host's clocks directly (no usable TSC).
	modeSyscall = 0
	// modeTSC: clocks in clockMask are computed from the TSC and the
	// parameters below.
	modeTSC = 1
)

// page is the layout of the data page the sentry writes and every app maps
// read-only as [vvar]. It must match struct pangolin_vvar in
// sentry/vdso/src/vvar.h field for field (TestPageLayout pins the offsets, the
// header asserts the same ones).
//
// The fields after seq form one snapshot, written by Clock.publish only
// while seq is odd (a seqcount, as Linux's vdso_data): a reader loads seq,
// waits while it is odd, loads the fields and the TSC, and retries if seq
// changed meanwhile. clockMask, ncpu and res are written once before any
// app runs.
type page struct {
	seq       atomic.Uint32
	mode      atomic.Uint32
	tscBase   atomic.Uint64
	mult      atomic.Uint64
	monoBase  atomic.Int64
	clockMask atomic.Uint32
	ncpu      atomic.Uint32
	// offset[c] is added to CLOCK_MONOTONIC to get clock c.
	offset [numClocks]atomic.Int64
	// res[c] is clock_getres(c) in ns.
	res [numClocks]atomic.Int64
}

// Byte offsets of page's fields, as in vvar.h.
const (
	offSeq       = 0
	offMode      = 4
	offTSCBase   = 8
	offMult      = 16
	offMonoBase  = 24
	offClockMask = 32
	offNCPU      = 36
	offOffset    = 40
	offRes       = offOffset + 8*numClocks
	pageBytes    = offRes + 8*numClocks
)

// servedClocks are the clocks the data page describes, as Linux's vDSO
// serves them (hres: REALTIME, MONOTONIC, BOOTTIME, TAI; coarse: the
// _COARSE pair; raw: MONOTONIC_RAW). The CPU-time and alarm clocks are not
// in it, so the vDSO makes the syscall for them.
const servedClocks = 1<<ClockRealtime | 1<<ClockMonotonic | 1<<ClockMonotonicRaw |
	1<<ClockRealtimeCoarse | 1<<ClockMonotonicCoarse | 1<<ClockBoottime | 1<<ClockTAI

// realtimeClocks follow CLOCK_REALTIME (offset realOff).
const realtimeClocks = 1<<ClockRealtime | 1<<ClockRealtimeCoarse

// taiOffset is CLOCK_TAI - CLOCK_REALTIME: the 37 leap seconds since 1972.
const taiOffset = 37 * 1000000000

func served(c int32) bool { return c >= 0 && c < numClocks && servedClocks&(1<<c) != 0 }
