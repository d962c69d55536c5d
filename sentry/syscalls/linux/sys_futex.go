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
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAll     = ^uint32(0)
)

// Futex implements Linux syscall futex(2). Priority-inheritance operations
// are not implemented (ENOSYS); glibc only uses them for PI mutexes.
func Futex(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr := args[0].Pointer()
	op := args[1].Int()
	val := args[2].Uint()
	private := op&futexPrivateFlag != 0
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	if op&futexClockRealtime != 0 && cmd != futexWaitBitset {
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
			timeout = time.Duration(ns)
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
	case futexWakeOp:
		n, err := t.FutexWakeOp(addr, args[4].Pointer(), int(int32(val)), int(int32(args[3].Uint())), args[5].Uint(), private)
		return uintptr(n), err
	}
	return 0, unix.ENOSYS
}
