package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Interval timer kinds (setitimer(2)).
const (
	itimerReal    = 0
	itimerVirtual = 1
	itimerProf    = 2
)

func putTimeval(d time.Duration) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64((d%time.Second)/time.Microsecond))
	return b
}

// copyInTimeval reads a struct timeval, rejecting microseconds outside
// [0, 1e6) and negative seconds with EINVAL.
func copyInTimeval(t *kernel.Task, addr uintptr) (time.Duration, error) {
	var b [16]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	usec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, unix.EINVAL
	}
	if sec > int64(1<<62)/int64(time.Second) {
		sec = int64(1<<62) / int64(time.Second)
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

// Alarm implements Linux syscall alarm(2).
func Alarm(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	old, _ := t.SetRealTimer(time.Duration(args[0].Uint())*time.Second, 0)
	// Round the old value to the nearest second, and report at least 1
	// for a pending alarm (alarm_setitimer()).
	secs := uintptr((old + 500*time.Millisecond) / time.Second)
	if old > 0 && secs == 0 {
		secs = 1
	}
	return secs, nil
}

// Setitimer implements Linux syscall setitimer(2). ITIMER_VIRTUAL and
// ITIMER_PROF are validated but never fire: the platform does not account
// app CPU time yet.
func Setitimer(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	which := args[0].Int()
	nv, ov := args[1].Pointer(), args[2].Pointer()
	if which < itimerReal || which > itimerProf {
		return 0, unix.EINVAL
	}
	var interval, value time.Duration
	if nv != 0 {
		var err error
		if interval, err = copyInTimeval(t, nv); err != nil {
			return 0, err
		}
		if value, err = copyInTimeval(t, nv+16); err != nil {
			return 0, err
		}
	}
	var oldV, oldI time.Duration
	if which == itimerReal {
		oldV, oldI = t.SetRealTimer(value, interval)
	}
	if ov != 0 {
		b := append(putTimeval(oldI), putTimeval(oldV)...)
		if err := t.CopyOutBytes(ov, b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Getitimer implements Linux syscall getitimer(2).
func Getitimer(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	which := args[0].Int()
	if which < itimerReal || which > itimerProf {
		return 0, unix.EINVAL
	}
	var v, i time.Duration
	if which == itimerReal {
		v, i = t.RealTimer()
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), append(putTimeval(i), putTimeval(v)...))
}
