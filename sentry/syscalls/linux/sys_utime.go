package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// utimeNow and utimeOmit are UTIME_NOW and UTIME_OMIT.
const (
	utimeNow  = (1 << 30) - 1
	utimeOmit = (1 << 30) - 2
)

// timesStat turns two timespecs (nil: both now) into a SetStat
// (vfs_utimes()). Validation of tv_nsec is the caller's.
func timesStat(ts *[2]vfs.Timespec) vfs.SetStat {
	now := vfs.Now()
	if ts == nil || (ts[0].Nsec == utimeNow && ts[1].Nsec == utimeNow) {
		return vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: now, Mtime: now, Touch: true}
	}
	s := vfs.SetStat{Touch: true}
	for i, t := range ts {
		if t.Nsec == utimeOmit {
			continue
		}
		v := t
		if t.Nsec == utimeNow {
			v = now
		} else {
			s.Touch = false
		}
		if i == 0 {
			s.Mask |= unix.STATX_ATIME
			s.Atime = v
		} else {
			s.Mask |= unix.STATX_MTIME
			s.Mtime = v
		}
	}
	return s
}

// utimes is do_utimes(): path NULL with a dirfd means the file itself
// (futimens).
func utimes(t *kernel.Task, dirfd int32, pathAddr uintptr, ts *[2]vfs.Timespec, flags uint32) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	if ts != nil && ts[0].Nsec == utimeOmit && ts[1].Nsec == utimeOmit {
		return 0, nil
	}
	s := timesStat(ts)
	if pathAddr == 0 && dirfd != atFDCWD {
		if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			return 0, unix.EINVAL
		}
		f, err := getFile(t, dirfd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		if vd := f.VirtualDentry(); vd.Ok() {
			return 0, t.VFS().SetStatVD(t, vd, s)
		}
		return 0, f.SetStat(t, s)
	}
	return setStatAt(t, dirfd, pathAddr, flags, s)
}

// Utimensat implements Linux syscall utimensat(2).
func Utimensat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	var ts *[2]vfs.Timespec
	if addr := args[2].Pointer(); addr != 0 {
		b := make([]byte, 32)
		if err := t.CopyInBytes(addr, b); err != nil {
			return 0, err
		}
		ts = &[2]vfs.Timespec{}
		for i := range ts {
			ts[i] = vfs.Timespec{Sec: int64(le.Uint64(b[16*i:])), Nsec: int64(le.Uint64(b[16*i+8:]))}
			n := ts[i].Nsec
			if n != utimeNow && n != utimeOmit && (n < 0 || n >= 1e9) {
				return 0, unix.EINVAL
			}
		}
	}
	return utimes(t, args[0].Int(), args[1].Pointer(), ts, args[3].Uint())
}

// timevals reads two struct timevals (utimes, futimesat); NULL means now.
func timevals(t *kernel.Task, addr uintptr) (*[2]vfs.Timespec, error) {
	if addr == 0 {
		return nil, nil
	}
	b := make([]byte, 32)
	if err := t.CopyInBytes(addr, b); err != nil {
		return nil, err
	}
	ts := &[2]vfs.Timespec{}
	for i := range ts {
		usec := int64(le.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return nil, unix.EINVAL
		}
		ts[i] = vfs.Timespec{Sec: int64(le.Uint64(b[16*i:])), Nsec: usec * 1000}
	}
	return ts, nil
}

// Utimes implements Linux syscall utimes(2).
func Utimes(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ts, err := timevals(t, args[1].Pointer())
	if err != nil {
		return 0, err
	}
	return utimes(t, atFDCWD, args[0].Pointer(), ts, 0)
}

// Futimesat implements Linux syscall futimesat(2).
func Futimesat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	ts, err := timevals(t, args[2].Pointer())
	if err != nil {
		return 0, err
	}
	return utimes(t, args[0].Int(), args[1].Pointer(), ts, 0)
}

// Utime implements Linux syscall utime(2) (struct utimbuf: seconds).
func Utime(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	var ts *[2]vfs.Timespec
	if addr := args[1].Pointer(); addr != 0 {
		b := make([]byte, 16)
		if err := t.CopyInBytes(addr, b); err != nil {
			return 0, err
		}
		ts = &[2]vfs.Timespec{{Sec: int64(le.Uint64(b[0:]))}, {Sec: int64(le.Uint64(b[8:]))}}
	}
	return utimes(t, atFDCWD, args[0].Pointer(), ts, 0)
}
