package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

var le = binary.LittleEndian

// statBytes encodes struct stat for x86-64 (144 bytes,
// arch/x86/include/uapi/asm/stat.h).
func statBytes(s *vfs.Stat) []byte {
	b := make([]byte, 144)
	le.PutUint64(b[0:], s.Dev)
	le.PutUint64(b[8:], s.Ino)
	le.PutUint64(b[16:], uint64(s.Nlink))
	le.PutUint32(b[24:], s.Mode)
	le.PutUint32(b[28:], s.UID)
	le.PutUint32(b[32:], s.GID)
	le.PutUint64(b[40:], s.Rdev)
	le.PutUint64(b[48:], uint64(s.Size))
	le.PutUint64(b[56:], uint64(s.Blksize))
	le.PutUint64(b[64:], uint64(s.Blocks))
	for i, ts := range []vfs.Timespec{s.Atime, s.Mtime, s.Ctime} {
		le.PutUint64(b[72+16*i:], uint64(ts.Sec))
		le.PutUint64(b[80+16*i:], uint64(ts.Nsec))
	}
	return b
}

// statxBytes encodes struct statx (256 bytes, include/uapi/linux/stat.h).
func statxBytes(s *vfs.Stat) []byte {
	x := s.ToStatx()
	b := make([]byte, 256)
	le.PutUint32(b[0:], x.Mask)
	le.PutUint32(b[4:], x.Blksize)
	le.PutUint64(b[8:], x.Attributes)
	le.PutUint32(b[16:], x.Nlink)
	le.PutUint32(b[20:], x.Uid)
	le.PutUint32(b[24:], x.Gid)
	le.PutUint16(b[28:], x.Mode)
	le.PutUint64(b[32:], x.Ino)
	le.PutUint64(b[40:], x.Size)
	le.PutUint64(b[48:], x.Blocks)
	le.PutUint64(b[56:], x.Attributes_mask)
	for i, ts := range []unix.StatxTimestamp{x.Atime, x.Btime, x.Ctime, x.Mtime} {
		le.PutUint64(b[64+16*i:], uint64(ts.Sec))
		le.PutUint32(b[72+16*i:], ts.Nsec)
	}
	le.PutUint32(b[128:], x.Rdev_major)
	le.PutUint32(b[132:], x.Rdev_minor)
	le.PutUint32(b[136:], x.Dev_major)
	le.PutUint32(b[140:], x.Dev_minor)
	le.PutUint64(b[144:], x.Mnt_id)
	return b
}

// statAt resolves (dirfd, path) for the stat family: an empty path with
// AT_EMPTY_PATH (or a NULL path, since Linux 6.11) stats dirfd itself,
// which may be any file.
func statAt(t *kernel.Task, dirfd int32, pathAddr uintptr, flags uint32) (vfs.Stat, error) {
	var path string
	if pathAddr != 0 || flags&unix.AT_EMPTY_PATH == 0 {
		p, err := t.CopyInPath(pathAddr)
		if err != nil {
			return vfs.Stat{}, err
		}
		path = p
	}
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return vfs.Stat{}, unix.ENOENT
		}
		if dirfd == atFDCWD {
			return t.VFS().StatVD(t.FSContext().Cwd())
		}
		f, err := getFile(t, dirfd)
		if err != nil {
			return vfs.Stat{}, err
		}
		defer f.DecRef()
		return f.Stat()
	}
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return vfs.Stat{}, err
	}
	defer putFile(dir)
	return t.VFS().StatAt(t, t.FSContext(), dir, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0)
}

func copyOutStat(t *kernel.Task, addr uintptr, st vfs.Stat, err error) (uintptr, error) {
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(addr, statBytes(&st))
}

// Stat implements Linux syscall stat(2).
func Stat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	st, err := statAt(t, atFDCWD, args[0].Pointer(), 0)
	return copyOutStat(t, args[1].Pointer(), st, err)
}

// Lstat implements Linux syscall lstat(2).
func Lstat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	st, err := statAt(t, atFDCWD, args[0].Pointer(), unix.AT_SYMLINK_NOFOLLOW)
	return copyOutStat(t, args[1].Pointer(), st, err)
}

// Fstat implements Linux syscall fstat(2). O_PATH descriptors work.
func Fstat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	st, err := f.Stat()
	return copyOutStat(t, args[1].Pointer(), st, err)
}

// Newfstatat implements Linux syscall newfstatat(2) (fstatat(2)).
func Newfstatat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[3].Uint()
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	st, err := statAt(t, args[0].Int(), args[1].Pointer(), flags)
	return copyOutStat(t, args[2].Pointer(), st, err)
}

// statxReserved is STATX__RESERVED.
const statxReserved = 0x80000000

// Statx implements Linux syscall statx(2).
func Statx(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags, mask := args[2].Uint(), args[3].Uint()
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_EMPTY_PATH|atStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	if flags&atStatxSyncType == atStatxSyncType {
		return 0, unix.EINVAL
	}
	if mask&statxReserved != 0 {
		return 0, unix.EINVAL
	}
	st, err := statAt(t, args[0].Int(), args[1].Pointer(), flags)
	if err != nil {
		return 0, err
	}
	return 0, t.CopyOutBytes(args[4].Pointer(), statxBytes(&st))
}

// accessContext is the task with the credentials access(2) checks with.
type accessContext struct {
	*kernel.Task
	creds *auth.Credentials
}

// Credentials overrides the task's.
func (a accessContext) Credentials() *auth.Credentials { return a.creds }

// accessCreds returns the credentials of access(2): the real IDs, and
// capabilities only for a real root (access_override_creds()).
func accessCreds(c *auth.Credentials) *auth.Credentials {
	n := c.Fork()
	n.FSUID, n.FSGID = c.RealUID, c.RealGID
	if c.RealUID != 0 {
		n.EffectiveCaps = 0
	} else {
		n.EffectiveCaps = c.PermittedCaps
	}
	return n
}

// accessAt is do_faccessat().
func accessAt(t *kernel.Task, dirfd int32, pathAddr uintptr, mode, flags uint32) (uintptr, error) {
	if mode&^(unix.R_OK|unix.W_OK|unix.X_OK) != 0 {
		return 0, unix.EINVAL
	}
	if flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	creds := t.Credentials()
	if flags&unix.AT_EACCESS == 0 {
		creds = accessCreds(creds)
	}
	ctx := accessContext{t, creds}
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	if path == "" {
		if flags&unix.AT_EMPTY_PATH == 0 {
			return 0, unix.ENOENT
		}
		vd := t.FSContext().Cwd()
		if dirfd != atFDCWD {
			f, err := getFile(t, dirfd)
			if err != nil {
				return 0, err
			}
			defer f.DecRef()
			vd = f.VirtualDentry()
			if !vd.Ok() {
				// An anonymous file: check its own mode.
				st, err := f.Stat()
				if err != nil {
					return 0, err
				}
				if !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), int(mode)) {
					return 0, unix.EACCES
				}
				return 0, nil
			}
		}
		return 0, t.VFS().AccessVD(creds, vd, mode)
	}
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	return 0, t.VFS().AccessAt(ctx, t.FSContext(), dir, path, flags&unix.AT_SYMLINK_NOFOLLOW == 0, mode)
}

// Access implements Linux syscall access(2).
func Access(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, atFDCWD, args[0].Pointer(), args[1].Uint(), 0)
}

// Faccessat implements Linux syscall faccessat(2) (which has no flags
// argument; glibc's flags go to faccessat2).
func Faccessat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), 0)
}

// Faccessat2 implements Linux syscall faccessat2(2).
func Faccessat2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return accessAt(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), args[3].Uint())
}

// readlinkAt is do_readlinkat(): an empty path reads dirfd itself (an
// O_PATH|O_NOFOLLOW descriptor of a symlink), ENOENT if it is not one.
func readlinkAt(t *kernel.Task, dirfd int32, pathAddr, bufAddr uintptr, size int32) (uintptr, error) {
	if size <= 0 {
		return 0, unix.EINVAL
	}
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	var target string
	if path == "" {
		vd := t.FSContext().Cwd()
		if dir != nil {
			vd = dir.VirtualDentry()
		}
		if !vd.Ok() || !vd.Dentry.IsSymlink() {
			return 0, unix.ENOENT
		}
		target, err = t.VFS().ReadlinkVD(t, vd)
	} else {
		target, err = t.VFS().ReadlinkAt(t, t.FSContext(), dir, path)
	}
	if err != nil {
		return 0, err
	}
	b := []byte(target)
	if len(b) > int(size) {
		b = b[:size]
	}
	if err := t.CopyOutBytes(bufAddr, b); err != nil {
		return 0, err
	}
	return uintptr(len(b)), nil
}

// Readlink implements Linux syscall readlink(2).
func Readlink(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return readlinkAt(t, atFDCWD, args[0].Pointer(), args[1].Pointer(), args[2].Int())
}

// Readlinkat implements Linux syscall readlinkat(2).
func Readlinkat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return readlinkAt(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Int())
}

// atStatxSyncType is AT_STATX_SYNC_TYPE.
const atStatxSyncType = 0x6000
