package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// sigsetSize is sizeof(sigset_t) as the kernel uses it (_NSIG / 8).
const sigsetSize = 8

const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

// RtSigaction implements Linux syscall rt_sigaction(2). Handlers are
// recorded; running them comes with signal delivery.
func RtSigaction(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	sig := int(args[0].Int())
	act, oact := args[1].Pointer(), args[2].Pointer()
	if args[3].SizeT() != sigsetSize {
		return 0, unix.EINVAL
	}
	if sig < 1 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	if act != 0 && (sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP)) {
		return 0, unix.EINVAL
	}
	tg := t.ThreadGroup()
	old := tg.SigAction(sig)
	if act != 0 {
		var b [32]byte
		if err := t.CopyInBytes(act, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		na := kernel.SigAction{
			Handler:  le.Uint64(b[0:]),
			Flags:    le.Uint64(b[8:]),
			Restorer: le.Uint64(b[16:]),
			Mask:     le.Uint64(b[24:]) &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)),
		}
		old = tg.SetSigAction(sig, na)
	}
	if oact != 0 {
		b := make([]byte, 32)
		le := binary.LittleEndian
		le.PutUint64(b[0:], old.Handler)
		le.PutUint64(b[8:], old.Flags)
		le.PutUint64(b[16:], old.Restorer)
		le.PutUint64(b[24:], old.Mask)
		if err := t.CopyOutBytes(oact, b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// RtSigprocmask implements Linux syscall rt_sigprocmask(2).
func RtSigprocmask(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	how := args[0].Int()
	set, oset := args[1].Pointer(), args[2].Pointer()
	if args[3].SizeT() != sigsetSize {
		return 0, unix.EINVAL
	}
	old := t.SigMask()
	if set != 0 {
		var b [8]byte
		if err := t.CopyInBytes(set, b[:]); err != nil {
			return 0, err
		}
		m := binary.LittleEndian.Uint64(b[:])
		switch how {
		case sigBlock:
			t.SetSigMask(old | m)
		case sigUnblock:
			t.SetSigMask(old &^ m)
		case sigSetmask:
			t.SetSigMask(m)
		default:
			return 0, unix.EINVAL
		}
	}
	if oset != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], old)
		if err := t.CopyOutBytes(oset, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sigaltstack constants (include/uapi/linux/signal.h).
const (
	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
	minSigstksz  = 2048
)

// Sigaltstack implements Linux syscall sigaltstack(2) (do_sigaltstack()).
func Sigaltstack(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ss, oss := args[0].Pointer(), args[1].Pointer()
	old := t.AltStack()
	if ss != 0 {
		var b [24]byte // stack_t: ss_sp, ss_flags (int + pad), ss_size
		if err := t.CopyInBytes(ss, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		n := kernel.AltStack{SP: le.Uint64(b[0:]), Flags: int32(le.Uint32(b[8:])), Size: le.Uint64(b[16:])}
		mode := uint32(n.Flags) &^ ssAutodisarm
		if mode != ssDisable && mode != ssOnstack && mode != 0 {
			return 0, unix.EINVAL
		}
		if mode == ssDisable {
			n = kernel.AltStack{Flags: ssDisable}
		} else if n.Size < minSigstksz {
			return 0, unix.ENOMEM
		}
		t.SetAltStack(n)
	}
	if oss != 0 {
		b := make([]byte, 24)
		le := binary.LittleEndian
		flags := old.Flags
		if old.Size == 0 {
			flags = ssDisable
		}
		le.PutUint64(b[0:], old.SP)
		le.PutUint32(b[8:], uint32(flags))
		le.PutUint64(b[16:], old.Size)
		if err := t.CopyOutBytes(oss, b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// signalSelf applies sig to the caller's own process for kill/tkill/tgkill
// aimed at itself.
func signalSelf(t *kernel.Task, sig int) (uintptr, error) {
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	if sig == 0 {
		return 0, nil
	}
	t.SendSignalToSelf(unix.Signal(sig))
	return 0, nil
}

// Kill implements Linux syscall kill(2) for the processes that exist in the
// sandbox.
func Kill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, sig := args[0].Int(), int(args[1].Int())
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	self := t.ThreadGroup().PID()
	switch {
	case pid == self || pid == 0 || pid == -self:
		return signalSelf(t, sig)
	case pid == -1:
		// Every process the caller may signal except itself and init:
		// with a single process that is nobody.
		return 0, unix.ESRCH
	}
	return 0, unix.ESRCH
}

// Tgkill implements Linux syscall tgkill(2).
func Tgkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig := args[0].Int(), args[1].Int(), int(args[2].Int())
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	if tgid != t.ThreadGroup().PID() || tid != t.TID() {
		if sig < 0 || sig > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		return 0, unix.ESRCH
	}
	return signalSelf(t, sig)
}

// Tkill implements Linux syscall tkill(2).
func Tkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tid, sig := args[0].Int(), int(args[1].Int())
	if tid <= 0 {
		return 0, unix.EINVAL
	}
	if tid != t.TID() {
		if sig < 0 || sig > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		return 0, unix.ESRCH
	}
	return signalSelf(t, sig)
}
