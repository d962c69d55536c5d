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
	sig := int(flags & csignal)
	if sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	tid, err := t.Clone(kernel.CloneOptions{
		Flags:      flags &^ csignal,
		ExitSignal: sig,
		Stack:      args[1].Pointer(),
		ParentTID:  args[2].Pointer(),
		ChildTID:   args[3].Pointer(),
		TLS:        args[4].Pointer(),
	})
	return uintptr(tid), err
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
	tid, err := t.Clone(kernel.CloneOptions{
		Flags:      flags,
		ExitSignal: int(exitSignal),
		Stack:      sp,
		ParentTID:  uintptr(le.Uint64(b[24:])),
		ChildTID:   uintptr(le.Uint64(b[16:])),
		TLS:        uintptr(le.Uint64(b[56:])),
	})
	return uintptr(tid), err
}

// wait option bits (include/uapi/linux/wait.h).
const (
	wNohang    = 0x1
	wUntraced  = 0x2
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
	res, err := t.Wait(kernel.WaitOptions{PID: pid, NoHang: opts&wNohang != 0})
	if err != nil {
		return 0, err
	}
	if res == nil {
		return 0, nil
	}
	if p := args[1].Pointer(); p != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], res.Status.Raw())
		if err := t.CopyOutBytes(p, b[:]); err != nil {
			return 0, err
		}
	}
	if p := args[3].Pointer(); p != 0 {
		if err := t.CopyOutBytes(p, make([]byte, 144)); err != nil {
			return 0, err
		}
	}
	return uintptr(res.PID), nil
}

// waitid idtypes.
const (
	pAll  = 0
	pPID  = 1
	pPGID = 2
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
		pid = 0
	default:
		return 0, unix.EINVAL
	}
	if opts&wExited == 0 {
		// Only stop/continue events asked for: there are none yet.
		if opts&wNohang != 0 {
			return 0, nil
		}
		return 0, unix.ECHILD
	}
	res, err := t.Wait(kernel.WaitOptions{PID: pid, NoHang: opts&wNohang != 0, NoWait: opts&wNowait != 0})
	if err != nil {
		return 0, err
	}
	if infop == 0 {
		return 0, nil
	}
	si := make([]byte, 128)
	if res != nil {
		le := binary.LittleEndian
		le.PutUint32(si[0:], uint32(unix.SIGCHLD))
		code, status := int32(1), int32(res.Status.Code) // CLD_EXITED
		if res.Status.Signal != 0 {
			code, status = 2, int32(res.Status.Signal) // CLD_KILLED
			if res.Status.CoreDumped {
				code = 3 // CLD_DUMPED
			}
		}
		le.PutUint32(si[8:], uint32(code))
		le.PutUint32(si[16:], uint32(res.PID))
		le.PutUint32(si[20:], res.UID)
		le.PutUint32(si[24:], uint32(status))
	}
	return 0, t.CopyOutBytes(infop, si)
}
