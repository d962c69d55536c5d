package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Prctl implements Linux syscall prctl(2) for the options programs use at
// start-up; other options return EINVAL, as Linux does for unknown ones.
func Prctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	switch args[0].Int() {
	case unix.PR_SET_NAME:
		name, err := t.CopyInString(args[1].Pointer(), 16)
		if err == unix.ENAMETOOLONG {
			// The name is truncated to 15 bytes, not rejected.
			b := make([]byte, 15)
			if err := t.CopyInBytes(args[1].Pointer(), b); err != nil {
				return 0, err
			}
			name, err = string(b), nil
		}
		if err != nil {
			return 0, err
		}
		t.SetName(name)
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b, t.Name())
		return 0, t.CopyOutBytes(args[1].Pointer(), b)
	case unix.PR_GET_DUMPABLE:
		return 1, nil
	case unix.PR_SET_DUMPABLE:
		if v := args[1].Uint64(); v > 1 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case unix.PR_SET_NO_NEW_PRIVS:
		if args[1].Uint64() != 1 || args[2].Uint64() != 0 || args[3].Uint64() != 0 || args[4].Uint64() != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if t.NoNewPrivs() {
			return 1, nil
		}
		return 0, nil
	case unix.PR_GET_SECCOMP:
		// In strict mode this call itself is fatal, before it gets here.
		return uintptr(t.SeccompMode()), nil
	case unix.PR_SET_SECCOMP:
		return prctlSetSeccomp(t, args[1].Uint64(), args[2].Pointer())
	case unix.PR_CAPBSET_READ:
		c := args[1].Uint64()
		if c > 40 {
			return 0, unix.EINVAL
		}
		if t.Credentials().BoundingCaps&(1<<c) != 0 {
			return 1, nil
		}
		return 0, nil
	case unix.PR_CAPBSET_DROP:
		return 0, t.DropBoundingCap(int(args[1].Int()))
	case unix.PR_SET_KEEPCAPS:
		if v := args[1].Uint64(); v > 1 {
			return 0, unix.EINVAL
		}
		t.SetKeepCaps(args[1].Uint64() == 1)
		return 0, nil
	case unix.PR_GET_KEEPCAPS:
		if t.Credentials().KeepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_PDEATHSIG:
		sig := args[1].Uint64()
		if sig > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		t.SetPdeathsig(int(sig))
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(t.Pdeathsig()))
		return 0, t.CopyOutBytes(args[1].Pointer(), b[:])
	case unix.PR_SET_CHILD_SUBREAPER:
		t.ThreadGroup().SetSubreaper(args[1].Uint64() != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		var b [4]byte
		if t.ThreadGroup().Subreaper() {
			b[0] = 1
		}
		return 0, t.CopyOutBytes(args[1].Pointer(), b[:])
	case unix.PR_GET_TIMERSLACK:
		// The default timer slack, 50 µs.
		return 50000, nil
	case unix.PR_MCE_KILL_GET:
		return 0, nil
	}
	return 0, unix.EINVAL
}
