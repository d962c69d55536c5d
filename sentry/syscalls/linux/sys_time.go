package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
	"pangolin/sentry/ktime"
)

// Clock IDs (include/uapi/linux/time.h).
const (
	clockRealtime        = ktime.ClockRealtime
	clockMonotonic       = ktime.ClockMonotonic
	clockProcessCPUTime  = ktime.ClockProcessCPUTime
	clockThreadCPUTime   = ktime.ClockThreadCPUTime
	clockRealtimeCoarse  = ktime.ClockRealtimeCoarse
	clockMonotonicCoarse = ktime.ClockMonotonicCoarse
	clockBoottime        = ktime.ClockBoottime
	clockRealtimeAlarm   = ktime.ClockRealtimeAlarm
	clockBoottimeAlarm   = ktime.ClockBoottimeAlarm
	clockTAI             = ktime.ClockTAI
	timerAbstime         = 1
	nsecPerSec           = int64(time.Second)
)

// clockNow returns clock c's current value, or EINVAL for an unknown clock.
// The clocks the vDSO serves come from the same parameters it reads
// (ktime.Clock), so the two paths agree; the alarm clocks read as their
// base clocks. CPU-time clocks report the task's lifetime (see
// Task.CPUTime).
func clockNow(t *kernel.Task, c int32) (int64, error) {
	switch c {
	case clockRealtimeAlarm:
		c = clockRealtime
	case clockBoottimeAlarm:
		c = clockBoottime
	case clockProcessCPUTime, clockThreadCPUTime:
		return int64(t.CPUTime()), nil
	}
	if ns, ok := t.Kernel().Time.Now(c); ok {
		return ns, nil
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
	res, ok := t.Kernel().Time.Resolution(c)
	if !ok {
		res = 1
	}
	if args[1].Pointer() == 0 {
		return 0, nil
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putTimespec(res))
}

// Gettimeofday implements Linux syscall gettimeofday(2).
func Gettimeofday(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if tv := args[0].Pointer(); tv != 0 {
		now, _ := clockNow(t, clockRealtime)
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
	ns, _ := clockNow(t, clockRealtime)
	now := ns / nsecPerSec
	if p := args[0].Pointer(); p != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(now))
		if err := t.CopyOutBytes(p, b[:]); err != nil {
			return 0, err
		}
	}
	return uintptr(now), nil
}

// sleepUntil blocks until clock c reads at least deadline, or until the
// task is interrupted, and returns how much of c is left (0 once reached).
// The host timer is set long enough for the sandbox's clock
// (ktime.Clock.HostDuration), and the clock is checked again on wake-up, so
// the app never reads a time before the deadline after the sleep ends.
func sleepUntil(t *kernel.Task, c int32, deadline int64) int64 {
	for {
		now, err := clockNow(t, c)
		if err != nil || now >= deadline {
			return 0
		}
		if !t.Sleep(t.Kernel().Time.HostDuration(time.Duration(deadline - now))) {
			now, _ = clockNow(t, c)
			return max(deadline-now, 0)
		}
	}
}

// addNs returns a+b, saturating at the largest time.
func addNs(a, b int64) int64 {
	if b > 1<<63-1-a {
		return 1<<63 - 1
	}
	return a + b
}

// Nanosleep implements Linux syscall nanosleep(2).
func Nanosleep(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ns, err := copyInTimespec(t, args[0].Pointer())
	if err != nil {
		return 0, err
	}
	now, _ := clockNow(t, clockMonotonic)
	return sleepRelative(t, addNs(now, ns), args[1].Pointer())
}

// sleepRelative sleeps until CLOCK_MONOTONIC reaches deadline (a relative
// sleep made absolute). If a signal interrupts it, the time left is written
// to rem (if non-zero) and the call returns ERESTART_RESTARTBLOCK: EINTR if
// a handler runs, otherwise restart_syscall(2) resumes the same deadline
// (hrtimer_nanosleep_restart()), so that a stop and continue does not cut
// a sleep short.
func sleepRelative(t *kernel.Task, deadline int64, rem uintptr) (uintptr, error) {
	left := sleepUntil(t, clockMonotonic, deadline)
	if left <= 0 {
		return 0, nil
	}
	if rem != 0 {
		if err := t.CopyOutBytes(rem, putTimespec(left)); err != nil {
			return 0, err
		}
	}
	t.SetRestartBlock(func(t *kernel.Task) (uintptr, error) {
		return sleepRelative(t, deadline, rem)
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
		// Relative sleeps are not affected by changes of the clock
		// (hrtimer_nanosleep() with HRTIMER_MODE_REL).
		now, _ := clockNow(t, clockMonotonic)
		return sleepRelative(t, addNs(now, ns), args[3].Pointer())
	}
	// An absolute sleep is simply restarted with the same arguments
	// (ERESTARTNOHAND) and never writes rem.
	if sleepUntil(t, c, ns) > 0 {
		return 0, kernel.ERestartNoHand
	}
	return 0, nil
}
