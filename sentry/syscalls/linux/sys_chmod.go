package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// setStatAt applies s to (dirfd, path). An empty path with AT_EMPTY_PATH
// changes dirfd itself (which may be an O_PATH descriptor).
func setStatAt(t *kernel.Task, dirfd int32, pathAddr uintptr, flags uint32, s vfs.SetStat) (uintptr, error) {
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
		if dirfd == atFDCWD {
			return 0, t.VFS().SetStatVD(t, t.FSContext().Cwd(), s)
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
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	return 0, t.VFS().SetStatAt(t, t.FSContext(), dir, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0, s)
}

// setStatFD applies s to an open file (fchmod, fchown, futimens).
func setStatFD(t *kernel.Task, fd int32, s vfs.SetStat) (uintptr, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, f.SetStat(t, s)
}

func modeStat(mode uint32) vfs.SetStat {
	return vfs.SetStat{Mask: unix.STATX_MODE, Mode: mode & 0o7777}
}

// Chmod implements Linux syscall chmod(2).
func Chmod(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatAt(t, atFDCWD, args[0].Pointer(), 0, modeStat(args[1].ModeT()))
}

// Fchmod implements Linux syscall fchmod(2).
func Fchmod(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatFD(t, args[0].Int(), modeStat(args[1].ModeT()))
}

// Fchmodat implements Linux syscall fchmodat(2), which has no flags
// argument (fchmodat2 does).
func Fchmodat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatAt(t, args[0].Int(), args[1].Pointer(), 0, modeStat(args[2].ModeT()))
}

// ownerStat builds a chown request; -1 leaves an ID unchanged.
func ownerStat(uid, gid uint32) vfs.SetStat {
	var s vfs.SetStat
	if uid != ^uint32(0) {
		s.Mask |= unix.STATX_UID
		s.UID = uid
	}
	if gid != ^uint32(0) {
		s.Mask |= unix.STATX_GID
		s.GID = gid
	}
	return s
}

// Chown implements Linux syscall chown(2).
func Chown(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatAt(t, atFDCWD, args[0].Pointer(), 0, ownerStat(args[1].Uint(), args[2].Uint()))
}

// Lchown implements Linux syscall lchown(2).
func Lchown(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatAt(t, atFDCWD, args[0].Pointer(), unix.AT_SYMLINK_NOFOLLOW, ownerStat(args[1].Uint(), args[2].Uint()))
}

// Fchown implements Linux syscall fchown(2).
func Fchown(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setStatFD(t, args[0].Int(), ownerStat(args[1].Uint(), args[2].Uint()))
}

// Fchownat implements Linux syscall fchownat(2).
func Fchownat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[4].Uint()
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return setStatAt(t, args[0].Int(), args[1].Pointer(), flags, ownerStat(args[2].Uint(), args[3].Uint()))
}
