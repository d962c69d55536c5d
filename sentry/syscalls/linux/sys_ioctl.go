package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
	"pangolin/sentry/socket"
)

// Generic ioctl commands (include/uapi/asm-generic/ioctls.h).
const (
	fionclex = 0x5450
	fioclex  = 0x5451
	fionbio  = 0x5421
	fioasync = 0x5452
	fionread = 0x541B
)

// Socket ownership ioctls (include/uapi/linux/sockios.h): F_SETOWN and
// F_GETOWN by another name (sock_ioctl()).
const (
	fioSetOwn = 0x8901
	siocSPgrp = 0x8902
	fioGetOwn = 0x8903
	siocGPgrp = 0x8904
)

// Ioctl implements Linux syscall ioctl(2): the commands do_vfs_ioctl()
// handles for every file, FIONREAD on regular files, and the file's own
// commands (terminal ioctls on host terminals). Others fail with ENOTTY.
func Ioctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fd, cmd, arg := args[0].Int(), args[1].Uint(), args[2].Pointer()
	f, flags, err := t.FDTable().Get(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, unix.EBADF
	}
	switch cmd {
	case fioclex, fionclex:
		flags.CloseOnExec = cmd == fioclex
		return 0, t.FDTable().SetFlags(fd, flags)
	case fionbio, fioasync:
		b := make([]byte, 4)
		if err := t.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		bit := uint32(unix.O_NONBLOCK)
		if cmd == fioasync {
			bit = unix.O_ASYNC
		}
		fl := f.StatusFlags()
		if le.Uint32(b) != 0 {
			fl |= bit
		} else {
			fl &^= bit
		}
		setStatusFlags(t, fd, f, fl)
		return 0, nil
	case fionread:
		if d := f.Dentry(); d != nil && d.Type() == unix.S_IFREG {
			// file_ioctl(): i_size - f_pos, truncated to an int.
			st, err := f.Stat()
			if err != nil {
				return 0, err
			}
			b := make([]byte, 4)
			le.PutUint32(b, uint32(int32(st.Size-f.Position())))
			return 0, t.CopyOutBytes(arg, b)
		}
	}
	if _, err := socket.FromFile(f); err == nil {
		switch cmd {
		case fioSetOwn, siocSPgrp:
			b := make([]byte, 4)
			if err := t.CopyInBytes(arg, b); err != nil {
				return 0, err
			}
			return fcntlOwner(t, f, unix.F_SETOWN, arch.SyscallArgument{Value: uintptr(le.Uint32(b))})
		case fioGetOwn, siocGPgrp:
			v, _ := fcntlOwner(t, f, unix.F_GETOWN, arch.SyscallArgument{})
			b := make([]byte, 4)
			le.PutUint32(b, uint32(v))
			return 0, t.CopyOutBytes(arg, b)
		}
	}
	return f.Ioctl(t, cmd, arg)
}

var _ vfs.Context = (*kernel.Task)(nil)
