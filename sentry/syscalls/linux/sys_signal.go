package linux

import (
	"time"

	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
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

// mayKill reports whether sender may signal target (kill_ok_by_cred()):
// root, or a matching real or effective uid.
func mayKill(t *kernel.Task, target *kernel.ThreadGroup) bool {
	c := t.Credentials()
	if c.HasCapability(auth.CapKill) {
		return true
	}
	tc := target.Leader().Credentials()
	return c.EffectiveUID == tc.SavedUID || c.EffectiveUID == tc.RealUID ||
		c.RealUID == tc.SavedUID || c.RealUID == tc.RealUID
}

// Kill implements Linux syscall kill(2) (kill_something_info()).
func Kill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, sig := args[0].Int(), int(args[1].Int())
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	k := t.Kernel()
	var targets []*kernel.ThreadGroup
	switch {
	case pid > 0:
		if tg := k.ThreadGroupByPID(pid); tg != nil {
			targets = append(targets, tg)
		}
	case pid == 0:
		targets = k.ProcessGroup(k.PGID(t.ThreadGroup()))
	case pid == -1:
		// Every process but init and the caller (kill_something_info()).
		for _, tg := range k.ThreadGroups() {
			if tg != t.ThreadGroup() && !k.IsInit(tg) {
				targets = append(targets, tg)
			}
		}
		if len(targets) == 0 {
			return 0, unix.ESRCH
		}
	default:
		if pid == -1<<31 {
			return 0, unix.ESRCH
		}
		targets = k.ProcessGroup(-pid)
	}
	if len(targets) == 0 {
		return 0, unix.ESRCH
	}
	sent := false
	for _, tg := range targets {
		if !mayKill(t, tg) {
			continue
		}
		sent = true
		if sig != 0 {
			t.SignalProcess(tg, sig)
		}
	}
	if !sent {
		return 0, unix.EPERM
	}
	return 0, nil
}

// signalThread is tgkill/tkill's common part.
func signalThread(t *kernel.Task, tgid, tid int32, sig int) (uintptr, error) {
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || (tgid > 0 && target.ThreadGroup().PID() != tgid) {
		return 0, unix.ESRCH
	}
	if !mayKill(t, target.ThreadGroup()) {
		return 0, unix.EPERM
	}
	if sig != 0 {
		target.SendThreadSignal(kernel.SigInfo{Signo: sig, Code: kernel.SITkill, PID: t.ThreadGroup().PID(), UID: t.Credentials().RealUID})
	}
	return 0, nil
}

// Tgkill implements Linux syscall tgkill(2).
func Tgkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid := args[0].Int(), args[1].Int()
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	return signalThread(t, tgid, tid, int(args[2].Int()))
}

// Tkill implements Linux syscall tkill(2).
func Tkill(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tid := args[0].Int()
	if tid <= 0 {
		return 0, unix.EINVAL
	}
	return signalThread(t, 0, tid, int(args[1].Int()))
}

// RtSigreturn implements Linux syscall rt_sigreturn(2).
func RtSigreturn(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SigReturn()
}

// RtSigpending implements Linux syscall rt_sigpending(2).
func RtSigpending(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[1].SizeT() > sigsetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], t.PendingSignals()&t.SigMask())
	return 0, t.CopyOutBytes(args[0].Pointer(), b[:args[1].SizeT()])
}

// RtSigsuspend implements Linux syscall rt_sigsuspend(2): wait with a
// temporary mask until a signal is delivered. It always fails with EINTR
// (ERESTARTNOHAND until a handler ran); the old mask comes back when the
// handler returns.
func RtSigsuspend(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[1].SizeT() != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyInBytes(args[0].Pointer(), b[:]); err != nil {
		return 0, err
	}
	t.SuspendWithMask(binary.LittleEndian.Uint64(b[:]))
	return 0, kernel.ERestartNoHand
}

// Pause implements Linux syscall pause(2).
func Pause(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.SuspendWithMask(t.SigMask())
	return 0, kernel.ERestartNoHand
}

// sigwaitSyscalls are the synchronous signal syscalls.
var sigwaitSyscalls = map[uintptr]kernel.Syscall{
	unix.SYS_RT_SIGTIMEDWAIT:   sup("rt_sigtimedwait", RtSigtimedwait),
	unix.SYS_RT_SIGQUEUEINFO:   sup("rt_sigqueueinfo", RtSigqueueinfo),
	unix.SYS_RT_TGSIGQUEUEINFO: sup("rt_tgsigqueueinfo", RtTgsigqueueinfo),
}

func init() { registerFamily(sigwaitSyscalls) }

// RtSigtimedwait implements Linux syscall rt_sigtimedwait(2).
func RtSigtimedwait(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[3].SizeT() != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyInBytes(args[0].Pointer(), b[:]); err != nil {
		return 0, err
	}
	set := binary.LittleEndian.Uint64(b[:])
	timeout := time.Duration(-1)
	if p := args[2].Pointer(); p != 0 {
		d, err := copyInTimespecDuration(t, p)
		if err != nil {
			return 0, err
		}
		timeout = d
	}
	info, err := t.SigTimedWait(set, timeout)
	if err != nil {
		return 0, err
	}
	if p := args[1].Pointer(); p != 0 {
		if err := t.CopyOutBytes(p, info.Bytes()); err != nil {
			return 0, err
		}
	}
	return uintptr(info.Signo), nil
}

// copyInTimespecDuration reads a relative struct timespec: EFAULT for a bad
// pointer, EINVAL for a negative or unnormalized value.
func copyInTimespecDuration(t *kernel.Task, addr uintptr) (time.Duration, error) {
	var b [16]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[0:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > int64(time.Duration(1<<62)/time.Second) {
		return time.Duration(1 << 62), nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

// copyInQueuedSiginfo reads the siginfo_t of rt_[tg]sigqueueinfo: the
// signal number in it is replaced by sig, as the kernel does.
func copyInQueuedSiginfo(t *kernel.Task, addr uintptr, sig int) (kernel.SigInfo, error) {
	var b [128]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return kernel.SigInfo{}, err
	}
	le := binary.LittleEndian
	return kernel.SigInfo{
		Signo: sig,
		Code:  int32(le.Uint32(b[8:])),
		PID:   int32(le.Uint32(b[16:])),
		UID:   le.Uint32(b[20:]),
		Value: le.Uint64(b[24:]),
	}, nil
}

// RtSigqueueinfo implements Linux syscall rt_sigqueueinfo(2).
func RtSigqueueinfo(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, sig := args[0].Int(), int(args[1].Int())
	info, err := copyInQueuedSiginfo(t, args[2].Pointer(), sig)
	if err != nil {
		return 0, err
	}
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	tg := t.Kernel().ThreadGroupByPID(pid)
	if pid <= 0 || tg == nil || tg.HasExited() {
		return 0, unix.ESRCH
	}
	if !mayKill(t, tg) {
		return 0, unix.EPERM
	}
	if sig == 0 {
		return 0, nil
	}
	return 0, t.QueueSignal(tg, nil, info)
}

// RtTgsigqueueinfo implements Linux syscall rt_tgsigqueueinfo(2).
func RtTgsigqueueinfo(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig := args[0].Int(), args[1].Int(), int(args[2].Int())
	info, err := copyInQueuedSiginfo(t, args[3].Pointer(), sig)
	if err != nil {
		return 0, err
	}
	if sig < 0 || sig > kernel.NumSignals || tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	target := t.Kernel().TaskByTID(tid)
	if target == nil || target.ThreadGroup().PID() != tgid {
		return 0, unix.ESRCH
	}
	if !mayKill(t, target.ThreadGroup()) {
		return 0, unix.EPERM
	}
	if sig == 0 {
		return 0, nil
	}
	return 0, t.QueueSignal(target.ThreadGroup(), target, info)
}
