package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Clock IDs (include/uapi/linux/time.h).
const (
	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCPUTime   = 2
	clockThreadCPUTime    = 3
	clockMonotonicRaw     = 4
	clockRealtimeCoarse   = 5
	clockMonotonicCoarse  = 6
	clockBoottime         = 7
	clockRealtimeAlarm    = 8
	clockBoottimeAlarm    = 9
	clockTAI              = 11
	timerAbstime          = 1
	nsecPerSec            = int64(time.Second)
	coarseResolutionNsecs = 4000000 // one jiffy at HZ=250
)

// clockNow returns clock c's current value, or EINVAL for an unknown clock.
// CPU-time clocks report the task's lifetime (see Task.CPUTime).
func clockNow(t *kernel.Task, c int32) (int64, error) {
	switch c {
	case clockRealtime, clockRealtimeCoarse, clockRealtimeAlarm:
		return time.Now().UnixNano(), nil
	case clockTAI:
		return time.Now().UnixNano() + 37*nsecPerSec, nil
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime, clockBoottimeAlarm:
		// Counted from the sandbox's boot, plus one second so that it is
		// never zero, using Go's monotonic clock reading.
		return int64(time.Since(t.Kernel().Boot)) + nsecPerSec, nil
	case clockProcessCPUTime, clockThreadCPUTime:
		return int64(t.CPUTime()), nil
	}
	return 0, unix.EINVAL
}

func putTimespec(ns int64) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, uint64(ns/nsecPerSec))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%nsecPerSec))
	return b
}

// copyInTimespec reads a struct timespec, rejecting nanoseconds outside
// [0, 1e9) and negative seconds with EINVAL (timespec64_valid()).
func copyInTimespec(t *kernel.Task, addr uintptr) (int64, error) {
	var b [16]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= nsecPerSec {
		return 0, unix.EINVAL
	}
	if sec > (1<<63-1)/nsecPerSec-1 {
		return 1<<63 - 1, nil
	}
	return sec*nsecPerSec + nsec, nil
}

// ClockGettime implements Linux syscall clock_gettime(2).
func ClockGettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ns, err := clockNow(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putTimespec(ns))
}

// ClockGetres implements Linux syscall clock_getres(2).
func ClockGetres(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := args[0].Int()
	if _, err := clockNow(t, c); err != nil {
		return 0, err
	}
	res := int64(1)
	if c == clockRealtimeCoarse || c == clockMonotonicCoarse {
		res = coarseResolutionNsecs
	}
	if args[1].Pointer() == 0 {
		return 0, nil
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putTimespec(res))
}

// Gettimeofday implements Linux syscall gettimeofday(2).
func Gettimeofday(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if tv := args[0].Pointer(); tv != 0 {
		now := time.Now().UnixNano()
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, uint64(now/nsecPerSec))
		binary.LittleEndian.PutUint64(b[8:], uint64((now%nsecPerSec)/1000))
		if err := t.CopyOutBytes(tv, b); err != nil {
			return 0, err
		}
	}
	if tz := args[1].Pointer(); tz != 0 {
		// The sandbox runs in UTC.
		if err := t.CopyOutBytes(tz, make([]byte, 8)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Time implements Linux syscall time(2).
func Time(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	now := time.Now().Unix()
	if p := args[0].Pointer(); p != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(now))
		if err := t.CopyOutBytes(p, b[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(now), nil
}

// sleepFor sleeps d, waking early if the task is interrupted, and returns
// the time left.
func sleepFor(t *kernel.Task, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	deadline := time.Now().Add(d)
	if t.Sleep(d) {
		return 0
	}
	return time.Until(deadline)
}

// Nanosleep implements Linux syscall nanosleep(2).
func Nanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ns, err := copyInTimespec(t, args[0].Pointer())
	if err != nil {
		return 0, err
	}
	return sleepUntil(t, time.Now().Add(time.Duration(ns)), args[1].Pointer())
}

// sleepUntil sleeps until deadline (a relative sleep made absolute). If a
// signal interrupts it, the time left is written to rem (if non-zero) and
// the call returns ERESTART_RESTARTBLOCK: EINTR if a handler runs,
// otherwise restart_syscall(2) resumes the same deadline
// (hrtimer_nanosleep_restart()), so that a stop and continue does not cut
// a sleep short.
func sleepUntil(t *kernel.Task, deadline time.Time, rem uintptr) (uintptr, error) {
	left := sleepFor(t, time.Until(deadline))
	if left <= 0 {
		return 0, nil
	}
	if rem != 0 {
		if err := t.CopyOutBytes(rem, putTimespec(int64(left))); err != nil {
			return 0, err
		}
	}
	t.SetRestartBlock(func(t *kernel.Task) (uintptr, error) {
		return sleepUntil(t, deadline, rem)
	})
	return 0, kernel.ERestartRestartBlock
}

// RestartSyscall implements Linux syscall restart_syscall(2).
func RestartSyscall(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fn := t.TakeRestartBlock()
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2).
func ClockNanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := args[0].Int()
	flags := args[1].Int()
	switch c {
	case clockRealtime, clockMonotonic, clockBoottime, clockTAI, clockProcessCPUTime:
	case clockThreadCPUTime:
		return 0, unix.EINVAL
	default:
		if _, err := clockNow(t, c); err != nil {
			return 0, unix.EINVAL
		}
		return 0, unix.ENOTSUP
	}
	ns, err := copyInTimespec(t, args[2].Pointer())
	if err != nil {
		return 0, err
	}
	if flags&timerAbstime == 0 {
		return sleepUntil(t, time.Now().Add(time.Duration(ns)), args[3].Pointer())
	}
	// An absolute sleep is simply restarted with the same arguments
	// (ERESTARTNOHAND) and never writes rem.
	now, _ := clockNow(t, c)
	if sleepFor(t, time.Duration(ns-now)) > 0 {
		return 0, kernel.ERestartNoHand
	}
	return 0, nil
}
