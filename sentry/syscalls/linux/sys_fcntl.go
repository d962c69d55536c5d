package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Fcntl implements Linux syscall fcntl(2) for descriptor duplication, the
// descriptor and status flags, record locks (sys_lock.go), seals
// (sys_memfd.go) and pipe sizes (sys_pipe.go). Leases and owners fail with
// EINVAL.
func Fcntl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fd, cmd := args[0].Int(), args[1].Int()
	f, flags, err := t.FDTable().Get(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		// The argument is an unsigned long: a negative int is huge,
		// hence >= RLIMIT_NOFILE, hence EINVAL (f_dupfd()).
		min := args[2].Int64()
		if min < 0 || min >= int64(nofile(t)) {
			return 0, unix.EINVAL
		}
		nfd, err := t.FDTable().NewFD(int32(min), f, vfs.FDFlags{CloseOnExec: cmd == unix.F_DUPFD_CLOEXEC}, nofile(t))
		if err != nil {
			return 0, err
		}
		return uintptr(nfd), nil
	case unix.F_GETFD:
		if flags.CloseOnExec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, t.FDTable().SetFlags(fd, vfs.FDFlags{CloseOnExec: args[2].Int()&unix.FD_CLOEXEC != 0})
	case unix.F_GETFL:
		return uintptr(f.StatusFlags()), nil
	case unix.F_SETFL:
		if f.IsPath() {
			return 0, unix.EBADF
		}
		nf := args[2].Uint()
		if nf&unix.O_NOATIME != 0 && f.StatusFlags()&unix.O_NOATIME == 0 {
			st, err := f.Stat()
			if err != nil {
				return 0, err
			}
			c := t.Credentials()
			if c.FSUID != st.UID && !c.HasCapability(3 /* CAP_FOWNER */) {
				return 0, unix.EPERM
			}
		}
		f.SetStatusFlags(nf)
		return 0, nil
	}
	if f.IsPath() {
		return 0, unix.EBADF
	}
	switch cmd {
	case unix.F_ADD_SEALS, unix.F_GET_SEALS:
		return fcntlSeals(f, cmd, args[2].Uint64())
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return fcntlLock(t, fd, f, cmd, args[2].Pointer())
	case unix.F_GETPIPE_SZ, unix.F_SETPIPE_SZ:
		return pipeFcntl(t, f, cmd, args[2].Uint())
	}
	return 0, unix.EINVAL
}
