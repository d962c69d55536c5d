package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_PIDFD_OPEN:        sup("pidfd_open", PidfdOpen),
		unix.SYS_PIDFD_SEND_SIGNAL: sup("pidfd_send_signal", PidfdSendSignal),
		unix.SYS_PIDFD_GETFD:       sup("pidfd_getfd", PidfdGetfd),
	})
}

// pidfdNonblock is PIDFD_NONBLOCK (O_NONBLOCK).
const pidfdNonblock = unix.O_NONBLOCK

// installPidFD installs a close-on-exec pidfd for tg, as pidfd_create()
// does.
func installPidFD(t *kernel.Task, tg *kernel.ThreadGroup, flags uint32) (int32, error) {
	f := kernel.NewPidFD(tg, flags)
	defer f.DecRef()
	return t.FDTable().NewFD(0, f, vfs.FDFlags{CloseOnExec: true}, nofile(t))
}

// PidfdOpen implements Linux syscall pidfd_open(2).
func PidfdOpen(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, flags := args[0].Int(), args[1].Uint()
	if flags&^pidfdNonblock != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	// The pid must name a thread-group leader (pidfd_open(2) ERRORS);
	// a zombie still has its PID.
	if tk := t.Kernel().TaskByTID(pid); tk != nil && tk.ThreadGroup().PID() != pid {
		return 0, unix.EINVAL
	}
	tg := t.Kernel().ThreadGroupByPID(pid)
	if tg == nil {
		return 0, unix.ESRCH
	}
	fd, err := installPidFD(t, tg, flags)
	return uintptr(fd), err
}

// pidfdTarget returns the process a pidfd descriptor refers to: EBADF for
// a bad descriptor or a file that is not a pidfd (pidfd_get_pid()).
func pidfdTarget(t *kernel.Task, fd int32) (*kernel.ThreadGroup, error) {
	f, _, err := t.FDTable().Get(fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	p, ok := f.Impl().(*kernel.PidFD)
	if !ok {
		return nil, unix.EBADF
	}
	return p.ThreadGroup(), nil
}

// PidfdSendSignal implements Linux syscall pidfd_send_signal(2).
func PidfdSendSignal(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	sig := int(args[1].Int())
	if args[3].Uint() != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidfdTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	if sig < 0 || sig > kernel.NumSignals {
		return 0, unix.EINVAL
	}
	if tg.HasExited() {
		return 0, unix.ESRCH
	}
	info := kernel.SigInfo{Signo: sig, Code: kernel.SIUser, PID: t.ThreadGroup().PID(), UID: t.Credentials().RealUID}
	if p := args[2].Pointer(); p != 0 {
		var b [128]byte
		if err := t.CopyInBytes(p, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		if int(le.Uint32(b[0:])) != sig {
			return 0, unix.EINVAL
		}
		code := int32(le.Uint32(b[8:]))
		// Only a process signalling itself may claim a kernel si_code
		// or SI_TKILL (the rt_sigqueueinfo rule).
		if (code >= 0 || code == kernel.SITkill) && tg != t.ThreadGroup() {
			return 0, unix.EPERM
		}
		info.Code = code
		info.PID = int32(le.Uint32(b[16:]))
		info.UID = le.Uint32(b[20:])
		info.Value = le.Uint64(b[24:])
	}
	if !mayKill(t, tg) {
		return 0, unix.EPERM
	}
	if sig != 0 {
		t.Kernel().SendSignal(tg, info)
	}
	return 0, nil
}

// PidfdGetfd implements Linux syscall pidfd_getfd(2): a duplicate of
// another process's descriptor, which needs ptrace access to it
// (PTRACE_MODE_ATTACH_REALCREDS: same real UID, or CAP_SYS_PTRACE).
func PidfdGetfd(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[2].Uint() != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidfdTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	leader := tg.Leader()
	if tg.HasExited() || leader.FDTable() == nil {
		return 0, unix.ESRCH
	}
	c, tc := t.Credentials(), leader.Credentials()
	if !c.HasCapability(auth.CapSysPtrace) && (c.RealUID != tc.RealUID || c.RealGID != tc.RealGID) {
		return 0, unix.EPERM
	}
	f, _, err := leader.FDTable().Get(args[1].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, vfs.FDFlags{CloseOnExec: true}, nofile(t))
	return uintptr(fd), err
}

// doClone runs clone for clone(2) and clone3(2), creating the pidfd for
// CLONE_PIDFD. The pidfd slot is checked writable first so that a bad
// address fails the call before a child exists, as copy_process() does.
func doClone(t *kernel.Task, o kernel.CloneOptions) (uintptr, error) {
	if o.Flags&kernel.ClonePidfd == 0 {
		tid, err := t.Clone(o)
		return uintptr(tid), err
	}
	var zero [4]byte
	if err := t.CopyOutBytes(o.PidFD, zero[:]); err != nil {
		return 0, err
	}
	tid, err := t.Clone(o)
	if err != nil {
		return 0, err
	}
	tg := t.Kernel().ThreadGroupByPID(tid)
	if tg == nil {
		// Already exited and reaped (by an ignoring parent): the
		// pidfd still refers to it and is readable; there is nothing
		// to attach it to, so report the child as Linux would have
		// seen it: created.
		return uintptr(tid), nil
	}
	fd, err := installPidFD(t, tg, 0)
	if err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(fd))
	_ = t.CopyOutBytes(o.PidFD, b[:])
	return uintptr(tid), nil
}
