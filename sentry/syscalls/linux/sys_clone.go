package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// csignal is the exit-signal byte of clone's flags.
const csignal = 0xff

// Clone implements Linux syscall clone(2). On x86-64 the argument order is
// flags, stack, parent_tid, child_tid, tls.
func Clone(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Uint64()
	// clone(2) does not validate the exit signal (only clone3 does); an
	// invalid one is never sent, and the child counts as a clone child.
	sig := int(flags & csignal)
	if sig > kernel.NumSignals {
		sig = -1
	}
	if flags&kernel.ClonePidfd != 0 && flags&kernel.CloneParentSettid != 0 {
		// Both would be stored in parent_tid (clone(2) ERRORS).
		return 0, unix.EINVAL
	}
	return doClone(t, kernel.CloneOptions{
		Flags:      flags &^ csignal,
		ExitSignal: sig,
		Stack:      args[1].Pointer(),
		ParentTID:  args[2].Pointer(),
		ChildTID:   args[3].Pointer(),
		TLS:        args[4].Pointer(),
		PidFD:      args[2].Pointer(),
	})
}

// Fork implements Linux syscall fork(2).
func Fork(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneOptions{ExitSignal: int(unix.SIGCHLD)})
	return uintptr(tid), err
}

// Vfork implements Linux syscall vfork(2).
func Vfork(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneOptions{Flags: kernel.CloneVM | kernel.CloneVfork, ExitSignal: int(unix.SIGCHLD)})
	return uintptr(tid), err
}

// clone3ArgsSizeVer0 is CLONE_ARGS_SIZE_VER0.
const clone3ArgsSizeVer0 = 64

// Clone3 implements Linux syscall clone3(2).
func Clone3(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	size := args[1].SizeT()
	if size < clone3ArgsSizeVer0 || size > 4096 {
		return 0, unix.EINVAL
	}
	b := make([]byte, size)
	if err := t.CopyInBytes(args[0].Pointer(), b); err != nil {
		return 0, err
	}
	// Bytes past the fields we know must be zero (copy_struct_from_user()).
	known := 88
	for i := known; i < len(b); i++ {
		if b[i] != 0 {
			return 0, unix.E2BIG
		}
	}
	le := binary.LittleEndian
	flags := le.Uint64(b[0:])
	exitSignal := le.Uint64(b[32:])
	stack := le.Uint64(b[40:])
	stackSize := le.Uint64(b[48:])
	if len(b) >= 72 && le.Uint64(b[64:]) != 0 { // set_tid
		return 0, unix.EPERM
	}
	if exitSignal&^csignal != 0 || flags&csignal != 0 || exitSignal > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	if (stack == 0) != (stackSize == 0) {
		return 0, unix.EINVAL
	}
	sp := uintptr(0)
	if stack != 0 {
		sp = uintptr(stack + stackSize)
	}
	return doClone(t, kernel.CloneOptions{
		Flags:      flags,
		ExitSignal: int(exitSignal),
		Stack:      sp,
		ParentTID:  uintptr(le.Uint64(b[24:])),
		ChildTID:   uintptr(le.Uint64(b[16:])),
		TLS:        uintptr(le.Uint64(b[56:])),
		PidFD:      uintptr(le.Uint64(b[8:])),
	})
}

// wait option bits (include/uapi/linux/wait.h).
const (
	wNohang    = 0x1
	wUntraced  = 0x2 // WSTOPPED for waitid
	wExited    = 0x4
	wContinued = 0x8
	wNowait    = 0x01000000
	wNothread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// Wait4 implements Linux syscall wait4(2).
func Wait4(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid := args[0].Int()
	opts := args[2].Uint()
	if opts&^(wNohang|wUntraced|wContinued|wNothread|wAll|wClone) != 0 {
		return 0, unix.EINVAL
	}
	if pid == -1<<31 {
		return 0, unix.ESRCH
	}
	res, err := t.Wait(kernel.WaitOptions{
		PID:       pid,
		Exited:    true,
		Stopped:   opts&wUntraced != 0,
		Continued: opts&wContinued != 0,
		NoHang:    opts&wNohang != 0,
		Clone:     opts&wClone != 0,
		All:       opts&wAll != 0,
		NoThread:  opts&wNothread != 0,
	})
	if err != nil {
		return 0, err
	}
	if res == nil {
		return 0, nil
	}
	if p := args[1].Pointer(); p != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], res.RawStatus())
		if err := t.CopyOutBytes(p, b[:]); err != nil {
			return 0, err
		}
	}
	if p := args[3].Pointer(); p != 0 {
		if err := t.CopyOutBytes(p, rusageBytes(res.Usage)); err != nil {
			return 0, err
		}
	}
	return uintptr(res.PID), nil
}

// waitid idtypes.
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3
)

// Waitid implements Linux syscall waitid(2).
func Waitid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	idtype, id := args[0].Int(), args[1].Int()
	infop := args[2].Pointer()
	opts := args[3].Uint()
	if opts&^(wNohang|wUntraced|wExited|wContinued|wNowait|wNothread|wAll|wClone) != 0 {
		return 0, unix.EINVAL
	}
	if opts&(wExited|wUntraced|wContinued) == 0 {
		return 0, unix.EINVAL
	}
	var pid int32
	switch idtype {
	case pAll:
		pid = -1
	case pPID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		pid = id
	case pPGID:
		if id < 0 {
			return 0, unix.EINVAL
		}
		// 0 is the caller's group; -g selects group g.
		pid = -id
	case pPIDFD:
		tg, err := pidfdTarget(t, id)
		if err != nil {
			return 0, err
		}
		pid = tg.PID()
	default:
		return 0, unix.EINVAL
	}
	res, err := t.Wait(kernel.WaitOptions{
		PID:       pid,
		Exited:    opts&wExited != 0,
		Stopped:   opts&wUntraced != 0,
		Continued: opts&wContinued != 0,
		NoHang:    opts&wNohang != 0,
		NoWait:    opts&wNowait != 0,
		Clone:     opts&wClone != 0,
		All:       opts&wAll != 0,
		NoThread:  opts&wNothread != 0,
	})
	if err != nil {
		return 0, err
	}
	if p := args[4].Pointer(); p != 0 && res != nil {
		if err := t.CopyOutBytes(p, rusageBytes(res.Usage)); err != nil {
			return 0, err
		}
	}
	if infop == 0 {
		return 0, nil
	}
	si := make([]byte, 128)
	if res != nil {
		le := binary.LittleEndian
		le.PutUint32(si[0:], uint32(unix.SIGCHLD))
		code, status := res.CldCode()
		le.PutUint32(si[8:], uint32(code))
		le.PutUint32(si[16:], uint32(res.PID))
		le.PutUint32(si[20:], res.UID)
		le.PutUint32(si[24:], uint32(status))
	}
	return 0, t.CopyOutBytes(infop, si)
}
