package linux

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Fcntl implements Linux syscall fcntl(2) for descriptor duplication, the
// descriptor and status flags, signal-driven I/O (owners, F_SETSIG; see
// kernel/fasync.go), record locks (sys_lock.go), seals (sys_memfd.go) and
// pipe sizes (sys_pipe.go). Leases fail with EINVAL.
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
		setStatusFlags(t, fd, f, nf)
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
	case unix.F_GETOWN, unix.F_SETOWN, unix.F_GETOWN_EX, unix.F_SETOWN_EX, unix.F_GETSIG, unix.F_SETSIG:
		return fcntlOwner(t, f, cmd, args[2])
	}
	return 0, unix.EINVAL
}

// setStatusFlags is F_SETFL's (and FIOASYNC's) change of f's status flags;
// turning O_ASYNC on or off starts or stops signal-driven I/O (setfl()
// calls the file's fasync).
func setStatusFlags(t *kernel.Task, fd int32, f *vfs.FileDescription, flags uint32) {
	was := f.StatusFlags()&unix.O_ASYNC != 0
	f.SetStatusFlags(flags)
	if on := f.StatusFlags()&unix.O_ASYNC != 0; on != was {
		t.SetFileAsync(f, fd, on)
	}
}

// fcntlOwner implements F_GETOWN, F_SETOWN, F_GETOWN_EX, F_SETOWN_EX,
// F_GETSIG and F_SETSIG (f_getown(), f_setown(), f_getown_ex(),
// f_setown_ex() in fs/fcntl.c).
func fcntlOwner(t *kernel.Task, f *vfs.FileDescription, cmd int32, arg arch.SyscallArgument) (uintptr, error) {
	switch cmd {
	case unix.F_GETOWN:
		typ, id := t.FileOwner(f)
		if typ == kernel.OwnerPGRP {
			id = -id
		}
		return uintptr(int64(id)), nil
	case unix.F_SETOWN:
		// A negative argument names a process group; INT_MIN has no
		// positive counterpart.
		who := arg.Int()
		switch {
		case who == math.MinInt32:
			return 0, unix.EINVAL
		case who < 0:
			return 0, t.SetFileOwner(f, kernel.OwnerPGRP, -who)
		}
		return 0, t.SetFileOwner(f, kernel.OwnerPID, who)
	case unix.F_GETOWN_EX:
		typ, id := t.FileOwner(f)
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b[0:], uint32(typ))
		binary.LittleEndian.PutUint32(b[4:], uint32(id))
		return 0, t.CopyOutBytes(arg.Pointer(), b)
	case unix.F_SETOWN_EX:
		b := make([]byte, 8)
		if err := t.CopyInBytes(arg.Pointer(), b); err != nil {
			return 0, err
		}
		typ, id := int32(binary.LittleEndian.Uint32(b[0:])), int32(binary.LittleEndian.Uint32(b[4:]))
		if typ < kernel.OwnerTID || typ > kernel.OwnerPGRP {
			return 0, unix.EINVAL
		}
		return 0, t.SetFileOwner(f, int(typ), id)
	case unix.F_GETSIG:
		return uintptr(t.FileSig(f)), nil
	default: // F_SETSIG
		sig := arg.Int() // valid_signal() of the argument as an int
		if sig < 0 || sig > kernel.NumSignals {
			return 0, unix.EINVAL
		}
		return 0, t.SetFileSig(f, int(sig))
	}
}
