package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/pipe"
	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_PIPE:  sup("pipe", Pipe),
		unix.SYS_PIPE2: partial("pipe2", Pipe2, "O_NOTIFICATION_PIPE (watch queues): EINVAL"),
	})
}

// pipe2Flags are the flags pipe2(2) accepts (O_NOTIFICATION_PIPE, for
// watch queues, is not supported).
const pipe2Flags = unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_DIRECT

// Pipe implements Linux syscall pipe(2).
func Pipe(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, doPipe(t, args[0].Pointer(), 0)
}

// Pipe2 implements Linux syscall pipe2(2).
func Pipe2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, doPipe(t, args[0].Pointer(), args[1].Uint())
}

// doPipe is do_pipe2(): make the pipe, install both ends, store their
// numbers. If the numbers cannot be stored (EFAULT) or the second end has
// no descriptor (EMFILE), nothing stays installed.
func doPipe(t *kernel.Task, addr uintptr, flags uint32) error {
	if flags&^pipe2Flags != 0 {
		return unix.EINVAL
	}
	r, w := pipe.For(t.VFS()).NewPipe(t.Credentials(), flags&(unix.O_NONBLOCK|unix.O_DIRECT))
	defer r.DecRef()
	defer w.DecRef()
	fdf := vfs.FDFlags{CloseOnExec: flags&unix.O_CLOEXEC != 0}
	fdt := t.FDTable()
	rfd, err := fdt.NewFD(0, r, fdf, nofile(t))
	if err != nil {
		return err
	}
	wfd, err := fdt.NewFD(0, w, fdf, nofile(t))
	if err != nil {
		dropFD(fdt, rfd)
		return err
	}
	var b [8]byte
	le.PutUint32(b[0:], uint32(rfd))
	le.PutUint32(b[4:], uint32(wfd))
	if err := t.CopyOutBytes(addr, b[:]); err != nil {
		dropFD(fdt, rfd)
		dropFD(fdt, wfd)
		return err
	}
	return nil
}

// dropFD closes a descriptor a failing syscall installed.
func dropFD(fdt *vfs.FDTable, fd int32) {
	if f, err := fdt.Remove(fd); err == nil {
		f.DecRef()
	}
}

// pipeSizer is implemented by pipes and FIFOs, the sentry's and the
// host's, for F_GETPIPE_SZ and F_SETPIPE_SZ (get_pipe_info()).
type pipeSizer interface {
	PipeSize() (int64, error)
	SetPipeSize(size uint32, capSysResource bool) (int64, error)
}

// pipeFcntl implements fcntl(F_GETPIPE_SZ) and fcntl(F_SETPIPE_SZ)
// (pipe_fcntl()): EBADF for anything but a pipe or FIFO. The size is an
// unsigned int; higher bits of the argument are ignored.
func pipeFcntl(t *kernel.Task, f *vfs.FileDescription, cmd int32, arg uint32) (uintptr, error) {
	ps, ok := f.Impl().(pipeSizer)
	if !ok {
		return 0, unix.EBADF
	}
	var n int64
	var err error
	if cmd == unix.F_GETPIPE_SZ {
		n, err = ps.PipeSize()
	} else {
		n, err = ps.SetPipeSize(arg, t.Credentials().HasCapability(auth.CapSysResource))
	}
	return uintptr(n), err
}
