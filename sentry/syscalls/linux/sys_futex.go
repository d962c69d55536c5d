package linux

import (
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// futex(2) operations and flags (include/uapi/linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexLockPI2       = 13
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAll     = ^uint32(0)
)

// Futex implements Linux syscall futex(2). The requeue-to-PI operations
// (FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI) are not implemented
// (ENOSYS); glibc uses them only for condition variables on PI mutexes.
func Futex(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr := args[0].Pointer()
	op := args[1].Int()
	val := args[2].Uint()
	private := op&futexPrivateFlag != 0
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	if op&futexClockRealtime != 0 && cmd != futexWaitBitset && cmd != futexLockPI2 {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset := futexBitsetAll
		if cmd == futexWaitBitset {
			bitset = args[5].Uint()
		}
		timeout := time.Duration(-1)
		if tp := args[3].Pointer(); tp != 0 {
			ns, err := copyInTimespec(t, tp)
			if err != nil {
				return 0, err
			}
			if cmd == futexWaitBitset {
				// Absolute deadline on CLOCK_MONOTONIC or, with
				// FUTEX_CLOCK_REALTIME, CLOCK_REALTIME.
				clock := int32(clockMonotonic)
				if op&futexClockRealtime != 0 {
					clock = clockRealtime
				}
				now, _ := clockNow(t, clock)
				ns -= now
				if ns < 0 {
					ns = 0
				}
			}
			timeout = t.Kernel().Time.HostDuration(time.Duration(ns))
		}
		return 0, t.FutexWait(addr, val, bitset, private, timeout)
	case futexWake, futexWakeBitset:
		bitset := futexBitsetAll
		if cmd == futexWakeBitset {
			bitset = args[5].Uint()
		}
		n, err := t.FutexWake(addr, int(int32(val)), bitset, private)
		return uintptr(n), err
	case futexRequeue, futexCmpRequeue:
		nreq := int(int32(args[3].Uint()))
		if int32(val) < 0 || nreq < 0 {
			return 0, unix.EINVAL
		}
		n, err := t.FutexRequeue(addr, args[4].Pointer(), int(val), nreq, cmd == futexCmpRequeue, args[5].Uint(), private)
		return uintptr(n), err
	case futexLockPI, futexLockPI2, futexTrylockPI:
		var deadline time.Time
		if tp := args[3].Pointer(); tp != 0 && cmd != futexTrylockPI {
			ns, err := copyInTimespec(t, tp)
			if err != nil {
				return 0, err
			}
			// An absolute time: CLOCK_REALTIME for FUTEX_LOCK_PI,
			// CLOCK_MONOTONIC for FUTEX_LOCK_PI2 unless it asks for
			// the real-time clock.
			clock := int32(clockRealtime)
			if cmd == futexLockPI2 && op&futexClockRealtime == 0 {
				clock = clockMonotonic
			}
			now, _ := clockNow(t, clock)
			deadline = time.Now().Add(t.Kernel().Time.HostDuration(time.Duration(ns - now)))
		}
		return 0, t.FutexLockPI(addr, private, cmd == futexTrylockPI, deadline)
	case futexUnlockPI:
		return 0, t.FutexUnlockPI(addr, private)
	case futexWakeOp:
		n, err := t.FutexWakeOp(addr, args[4].Pointer(), int(int32(val)), int(int32(args[3].Uint())), args[5].Uint(), private)
		return uintptr(n), err
	}
	return 0, unix.ENOSYS
}
