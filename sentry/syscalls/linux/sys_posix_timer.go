package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/timerfd"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_TIMER_CREATE:     partial("timer_create", TimerCreate, "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; CPU-time clocks: ENOTSUP"),
		unix.SYS_TIMER_SETTIME:    sup("timer_settime", TimerSettime),
		unix.SYS_TIMER_GETTIME:    sup("timer_gettime", TimerGettime),
		unix.SYS_TIMER_GETOVERRUN: sup("timer_getoverrun", TimerGetoverrun),
		unix.SYS_TIMER_DELETE:     sup("timer_delete", TimerDelete),
	})
}

// TimerCreate implements Linux syscall timer_create(2).
func TimerCreate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	clock := args[0].Int()
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		if !t.Credentials().HasCapability(capWakeAlarm) {
			return 0, unix.EPERM
		}
	case clockProcessCPUTime, clockThreadCPUTime:
		return 0, unix.ENOTSUP
	default:
		if clock < 0 {
			// A CPU clock of another process or thread.
			return 0, unix.ENOTSUP
		}
		return 0, unix.EINVAL
	}
	spec := kernel.TimerSpec{Clock: clock, Notify: kernel.SigevSignal, Signo: int(unix.SIGALRM)}
	sevp := args[1].Pointer()
	useID := sevp == 0
	if sevp != 0 {
		var b [64]byte
		if err := t.CopyInBytes(sevp, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		spec.Value = le.Uint64(b[0:])
		spec.Signo = int(int32(le.Uint32(b[8:])))
		spec.Notify = int(int32(le.Uint32(b[12:])))
		switch spec.Notify &^ kernel.SigevThreadID {
		case kernel.SigevSignal, kernel.SigevNone, kernel.SigevThread:
		default:
			return 0, unix.EINVAL
		}
		if spec.Notify != kernel.SigevNone && (spec.Signo <= 0 || spec.Signo > kernel.NumSignals) {
			return 0, unix.EINVAL
		}
		if spec.Notify&kernel.SigevThreadID != 0 {
			if spec.Notify != kernel.SigevThreadID {
				return 0, unix.EINVAL
			}
			// good_sigevent(): the thread must be in the caller's
			// process.
			tid := int32(le.Uint32(b[16:]))
			target := t.Kernel().TaskByTID(tid)
			if target == nil || target.ThreadGroup() != t.ThreadGroup() {
				return 0, unix.EINVAL
			}
			spec.Target = target
		}
		if spec.Notify == kernel.SigevThread {
			// SIGEV_THREAD is a libc construct; the kernel sees it
			// as SIGEV_SIGNAL.
			spec.Notify = kernel.SigevSignal
		}
	}
	id, err := t.CreateTimer(spec)
	if err != nil {
		return 0, err
	}
	if useID {
		// With no sigevent, si_value is the timer ID.
		if err := t.SetTimerValue(id, uint64(id)); err != nil {
			return 0, err
		}
	}
	var idb [4]byte
	binary.LittleEndian.PutUint32(idb[:], uint32(id))
	if err := t.CopyOutBytes(args[2].Pointer(), idb[:]); err != nil {
		_ = t.DeleteTimer(id)
		return 0, err
	}
	return 0, nil
}

// TimerSettime implements Linux syscall timer_settime(2).
func TimerSettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, flags := args[0].Int(), args[1].Int()
	spec, valid, err := copyInItimerspec(t, args[2].Pointer())
	if err != nil {
		return 0, err
	}
	if !valid {
		return 0, unix.EINVAL
	}
	interval, value := spec.Interval, spec.Value
	if _, _, err := t.GetTimer(id); err != nil {
		return 0, err
	}
	if flags&timerAbstime != 0 && value != 0 {
		// All the timer clocks tick together in the sandbox; the
		// absolute value is on the timer's clock, which for
		// CLOCK_REALTIME is wall time and otherwise the sandbox
		// monotonic clock.
		clock, _ := t.TimerClock(id)
		now, _ := clockNow(t, clock)
		value -= now
		if value <= 0 {
			value = 1 // already due: fire at once
		}
	}
	oldV, oldI, err := t.SetTimer(id, time.Duration(value), time.Duration(interval))
	if err != nil {
		return 0, err
	}
	if p := args[3].Pointer(); p != 0 {
		return 0, t.CopyOutBytes(p, putItimerspec(timerfd.Spec{Value: int64(oldV), Interval: int64(oldI)}))
	}
	return 0, nil
}

// TimerGettime implements Linux syscall timer_gettime(2).
func TimerGettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	v, i, err := t.GetTimer(args[0].Int())
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putItimerspec(timerfd.Spec{Value: int64(v), Interval: int64(i)}))
}

// TimerGetoverrun implements Linux syscall timer_getoverrun(2).
func TimerGetoverrun(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	n, err := t.TimerOverrun(args[0].Int())
	return uintptr(n), err
}

// TimerDelete implements Linux syscall timer_delete(2).
func TimerDelete(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.DeleteTimer(args[0].Int())
}
