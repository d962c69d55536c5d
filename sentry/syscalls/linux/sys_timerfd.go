package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/fs/timerfd"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_TIMERFD_CREATE:  sup("timerfd_create", TimerfdCreate),
		unix.SYS_TIMERFD_SETTIME: partial("timerfd_settime", TimerfdSettime, "TFD_TIMER_CANCEL_ON_SET accepted; the sandbox clock is never set, so no ECANCELED"),
		unix.SYS_TIMERFD_GETTIME: sup("timerfd_gettime", TimerfdGettime),
	})
}

// capWakeAlarm is CAP_WAKE_ALARM, needed for the _ALARM clocks.
const capWakeAlarm = 35

// TimerfdCreate implements Linux syscall timerfd_create(2).
func TimerfdCreate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	clock, flags := args[0].Int(), args[1].Int()
	if flags&^(unix.TFD_CLOEXEC|unix.TFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	alarm := false
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		alarm = true
		if !t.Credentials().HasCapability(capWakeAlarm) {
			return 0, unix.EPERM
		}
	default:
		return 0, unix.EINVAL
	}
	// These clocks read only kernel-wide state (see clockNow), so the
	// creating task may outlive its use here.
	now := func() int64 {
		ns, _ := clockNow(t, clock)
		return ns
	}
	f := timerfd.New(now, alarm, unix.O_RDWR|uint32(flags)&unix.O_NONBLOCK)
	return installFD(t, f, flags&unix.TFD_CLOEXEC != 0)
}

// getTimerfd returns the timerfd for fd with a reference (timerfd_fget():
// EBADF, EINVAL for other files).
func getTimerfd(t *kernel.Task, fd int32) (*timerfd.File, func(), error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	tf, ok := f.Impl().(*timerfd.File)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EINVAL
	}
	return tf, f.DecRef, nil
}

// copyInItimerspec reads a struct itimerspec, validating both timespecs
// (itimerspec64_valid()).
func copyInItimerspec(t *kernel.Task, addr uintptr) (timerfd.Spec, bool, error) {
	var b [32]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return timerfd.Spec{}, false, unix.EFAULT
	}
	le := binary.LittleEndian
	ts := func(off int) (int64, bool) {
		sec, nsec := int64(le.Uint64(b[off:])), int64(le.Uint64(b[off+8:]))
		if sec < 0 || nsec < 0 || nsec >= nsecPerSec {
			return 0, false
		}
		if sec > (1<<63-1)/nsecPerSec-1 {
			return 1<<63 - 1, true // ktime_set() saturates at KTIME_MAX
		}
		return sec*nsecPerSec + nsec, true
	}
	interval, ok1 := ts(0)
	value, ok2 := ts(16)
	return timerfd.Spec{Value: value, Interval: interval}, ok1 && ok2, nil
}

func putItimerspec(s timerfd.Spec) []byte {
	return append(putTimespec(s.Interval), putTimespec(s.Value)...)
}

// TimerfdSettime implements Linux syscall timerfd_settime(2).
func TimerfdSettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fd, flags, newAddr, oldAddr := args[0].Int(), args[1].Int(), args[2].Pointer(), args[3].Pointer()
	spec, valid, err := copyInItimerspec(t, newAddr)
	if err != nil {
		return 0, err
	}
	if flags&^(timerfd.TimerAbstime|timerfd.TimerCancelOnSet) != 0 || !valid {
		return 0, unix.EINVAL
	}
	tf, put, err := getTimerfd(t, fd)
	if err != nil {
		return 0, err
	}
	defer put()
	if tf.IsAlarm() && !t.Credentials().HasCapability(capWakeAlarm) {
		return 0, unix.EPERM
	}
	old := tf.Set(flags, spec)
	if oldAddr != 0 {
		if err := t.CopyOutBytes(oldAddr, putItimerspec(old)); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// TimerfdGettime implements Linux syscall timerfd_gettime(2).
func TimerfdGettime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tf, put, err := getTimerfd(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer put()
	return 0, t.CopyOutBytes(args[1].Pointer(), putItimerspec(tf.Get()))
}
