package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/signalfd"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_SIGNALFD:  partial("signalfd", Signalfd, "as signalfd4"),
		unix.SYS_SIGNALFD4: partial("signalfd4", Signalfd4, "poll/epoll readiness follows the creating task, reads the calling one"),
	})
}

// Signalfd implements Linux syscall signalfd(2) (signalfd4 with no flags).
func Signalfd(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return doSignalfd(t, args[0].Int(), args[1].Pointer(), args[2].SizeT(), 0)
}

// Signalfd4 implements Linux syscall signalfd4(2).
func Signalfd4(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return doSignalfd(t, args[0].Int(), args[1].Pointer(), args[2].SizeT(), args[3].Int())
}

// doSignalfd is signalfd4 then do_signalfd4(): a new signalfd for ufd == -1,
// else a new mask for the existing one.
func doSignalfd(t *kernel.Task, ufd int32, maskAddr uintptr, size uint, flags int32) (uintptr, error) {
	if size != sigsetSize {
		return 0, unix.EINVAL
	}
	var b [sigsetSize]byte
	if err := t.CopyInBytes(maskAddr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	if flags&^(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	mask := binary.LittleEndian.Uint64(b[:]) &^ (1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))
	if ufd == -1 {
		f := signalfd.New(t, mask, unix.O_RDWR|uint32(flags)&unix.O_NONBLOCK)
		return installFD(t, f, flags&unix.SFD_CLOEXEC != 0)
	}
	f, err := getFile(t, ufd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	sf, ok := f.Impl().(*signalfd.File)
	if !ok {
		return 0, unix.EINVAL
	}
	sf.SetMask(mask)
	t.ThreadGroup().SignalfdQueue().Notify(waiter.EventIn)
	return uintptr(ufd), nil
}
