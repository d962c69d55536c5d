package linux

import (
	"encoding/binary"
	"strings"

	"math"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// atFDCWD is AT_FDCWD.
const atFDCWD = -100

// maxRWCount is MAX_RW_COUNT: one read/write transfers at most this much.
const maxRWCount = 0x7ffff000

// taskSize is the top of the x86-64 user address space (TASK_SIZE_MAX).
const taskSize = 0x7ffffffff000

// ioChunk bounds the sentry buffer used to move file data to and from app
// memory.
const ioChunk = 1 << 20

// getFile returns the file for fd with a reference, or EBADF.
func getFile(t *kernel.Task, fd int32) (*vfs.FileDescription, error) {
	f, _, err := t.FDTable().Get(fd)
	return f, err
}

// getDirFile returns the starting directory for an *at(2) call on path:
// nil for AT_FDCWD or an absolute path (whose dirfd Linux ignores, even a
// bad one), else the file for dirfd (EBADF if none). The caller releases
// it with putFile.
func getDirFile(t *kernel.Task, dirfd int32, path string) (*vfs.FileDescription, error) {
	if dirfd == atFDCWD || strings.HasPrefix(path, "/") {
		return nil, nil
	}
	return getFile(t, dirfd)
}

// putFile drops a reference taken by getFile or getDirFile (nil is fine).
func putFile(f *vfs.FileDescription) {
	if f != nil {
		f.DecRef()
	}
}

// nofile returns RLIMIT_NOFILE's soft limit as a descriptor bound.
func nofile(t *kernel.Task) int32 {
	l := t.Limits().Get(unix.RLIMIT_NOFILE).Cur
	if l > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(l)
}

// installFD puts f in the task's table at the lowest free descriptor and
// drops the caller's reference (the table keeps its own).
func installFD(t *kernel.Task, f *vfs.FileDescription, cloexec bool) (uintptr, error) {
	fd, err := t.FDTable().NewFD(0, f, vfs.FDFlags{CloseOnExec: cloexec}, nofile(t))
	f.DecRef()
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// openFlagsO_TMPFILE is __O_TMPFILE | O_DIRECTORY (O_TMPFILE); tmpfileBit
// is __O_TMPFILE alone.
const tmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY

// openAt is the common part of open(2), openat(2) and creat(2)
// (do_sys_openat2() with build_open_flags()).
func openAt(t *kernel.Task, dirfd int32, pathAddr uintptr, flags, mode uint32) (uintptr, error) {
	return openAtResolve(t, dirfd, pathAddr, flags, mode, 0)
}

// openAtResolve is openAt with openat2's resolve flags.
func openAtResolve(t *kernel.Task, dirfd int32, pathAddr uintptr, flags, mode uint32, resolve uint64) (uintptr, error) {
	// Unknown flags are ignored, as open(2) always has; a 64-bit kernel
	// forces O_LARGEFILE (force_o_largefile()).
	flags |= unix.O_LARGEFILE
	if flags&unix.O_CREAT != 0 && flags&unix.O_DIRECTORY != 0 {
		// Since Linux 6.4 this combination is rejected.
		return 0, unix.EINVAL
	}
	if flags&tmpfileBit != 0 {
		if flags&unix.O_TMPFILE != unix.O_TMPFILE {
			return 0, unix.EINVAL
		}
		if acc := flags & unix.O_ACCMODE; acc != unix.O_WRONLY && acc != unix.O_RDWR {
			return 0, unix.EINVAL
		}
	}
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	var dir *vfs.FileDescription
	if resolve&(vfs.ResolveBeneath|vfs.ResolveInRoot) != 0 && dirfd != atFDCWD {
		// A scoped lookup is relative to dirfd even for an absolute
		// path (RESOLVE_IN_ROOT treats "/" as dirfd).
		dir, err = getFile(t, dirfd)
	} else {
		dir, err = getDirFile(t, dirfd, path)
	}
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	f, err := t.VFS().OpenResolve(t, t.FSContext(), dir, path, flags, mode&0o7777, resolve)
	if err != nil {
		return 0, err
	}
	return installFD(t, f, flags&unix.O_CLOEXEC != 0)
}

// openHowSizeVer0 is OPEN_HOW_SIZE_VER0, the first struct open_how.
const openHowSizeVer0 = 24

// validOpenFlags are the flags openat2 accepts (VALID_OPEN_FLAGS):
// unlike open(2) it refuses anything else.
const validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT | unix.O_LARGEFILE |
	unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC | unix.O_PATH | unix.O_TMPFILE |
	unix.O_SYNC

// Openat2 implements Linux syscall openat2(2).
func Openat2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	howAddr, size := args[2].Pointer(), args[3].SizeT()
	if size < openHowSizeVer0 {
		return 0, unix.EINVAL
	}
	if size > 4096 {
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if err := t.CopyInBytes(howAddr, b); err != nil {
		return 0, err
	}
	for _, c := range b[openHowSizeVer0:] {
		if c != 0 {
			// copy_struct_from_user(): unknown extensions must be 0.
			return 0, unix.E2BIG
		}
	}
	le := binary.LittleEndian
	flags, mode, resolve := le.Uint64(b[0:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	// build_open_flags() for openat2: strict checks.
	if flags&^validOpenFlags != 0 || flags>>32 != 0 {
		return 0, unix.EINVAL
	}
	if resolve&^(vfs.ResolveNoXdev|vfs.ResolveNoMagiclinks|vfs.ResolveNoSymlinks|vfs.ResolveBeneath|vfs.ResolveInRoot|vfs.ResolveCached) != 0 {
		return 0, unix.EINVAL
	}
	if resolve&vfs.ResolveBeneath != 0 && resolve&vfs.ResolveInRoot != 0 {
		return 0, unix.EINVAL
	}
	if flags&(unix.O_CREAT|tmpfileBit) != 0 {
		if mode&^0o7777 != 0 {
			return 0, unix.EINVAL
		}
	} else if mode != 0 {
		return 0, unix.EINVAL
	}
	if resolve&vfs.ResolveCached != 0 && flags&(unix.O_TRUNC|unix.O_CREAT|tmpfileBit) != 0 {
		// A cached lookup cannot create or truncate.
		return 0, unix.EAGAIN
	}
	return openAtResolve(t, args[0].Int(), args[1].Pointer(), uint32(flags), uint32(mode), resolve)
}

// Open implements Linux syscall open(2).
func Open(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return openAt(t, atFDCWD, args[0].Pointer(), args[1].Uint(), args[2].ModeT())
}

// Openat implements Linux syscall openat(2).
func Openat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return openAt(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), args[3].ModeT())
}

// Creat implements Linux syscall creat(2).
func Creat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return openAt(t, atFDCWD, args[0].Pointer(), unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, args[1].ModeT())
}

// Close implements Linux syscall close(2).
func Close(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := t.FDTable().Remove(args[0].Int())
	if err != nil {
		return 0, err
	}
	f.DecRef()
	return 0, nil
}

// close_range(2) flags.
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

// CloseRange implements Linux syscall close_range(2).
func CloseRange(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	first, last, flags := args[0].Uint(), args[1].Uint(), args[2].Uint()
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, unix.EINVAL
	}
	if flags&closeRangeUnshare != 0 {
		t.UnshareFDTable()
	}
	if flags&closeRangeCloexec != 0 {
		t.FDTable().SetCloseOnExecRange(first, last)
		return 0, nil
	}
	for _, f := range t.FDTable().RemoveRange(first, last) {
		f.DecRef()
	}
	return 0, nil
}

// Dup implements Linux syscall dup(2).
func Dup(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, vfs.FDFlags{}, nofile(t))
	if err != nil {
		return 0, err
	}
	return uintptr(fd), nil
}

// dup3 is the common part of dup2(2) and dup3(2) (do_dup2()).
func dup3(t *kernel.Task, oldfd, newfd int32, cloexec bool) (uintptr, error) {
	f, err := getFile(t, oldfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	old, err := t.FDTable().SetFD(newfd, f, vfs.FDFlags{CloseOnExec: cloexec}, nofile(t))
	if err != nil {
		return 0, err
	}
	putFile(old)
	return uintptr(newfd), nil
}

// Dup2 implements Linux syscall dup2(2).
func Dup2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd := args[0].Int(), args[1].Int()
	if oldfd == newfd {
		// dup2(fd, fd) only validates fd and keeps its flags.
		f, err := getFile(t, oldfd)
		if err != nil {
			return 0, err
		}
		f.DecRef()
		return uintptr(newfd), nil
	}
	return dup3(t, oldfd, newfd, false)
}

// Dup3 implements Linux syscall dup3(2).
func Dup3(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd, flags := args[0].Int(), args[1].Int(), args[2].Uint()
	if flags&^unix.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, unix.EINVAL
	}
	return dup3(t, oldfd, newfd, flags&unix.O_CLOEXEC != 0)
}
