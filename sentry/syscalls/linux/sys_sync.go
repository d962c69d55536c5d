package linux

import (
	"math"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Fsync implements Linux syscall fsync(2).
func Fsync(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, f.Sync(t)
}

// Fdatasync implements Linux syscall fdatasync(2) (as fsync: there is no
// metadata-only distinction in memory).
func Fdatasync(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return Fsync(t, args)
}

// Sync implements Linux syscall sync(2). Sandbox filesystems are in
// memory or write through to the gofer, so there is nothing to flush.
func Sync(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, nil
}

// Truncate implements Linux syscall truncate(2).
func Truncate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	length := args[1].Int64()
	if length < 0 {
		return 0, unix.EINVAL
	}
	path, err := t.CopyInPath(args[0].Pointer())
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().TruncateAt(t, t.FSContext(), path, length)
}

// Ftruncate implements Linux syscall ftruncate(2).
func Ftruncate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	length := args[1].Int64()
	if length < 0 {
		return 0, unix.EINVAL
	}
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, unix.EBADF
	}
	return 0, f.Truncate(t, length)
}

// posixFadvNoreuse is the largest POSIX_FADV_* value.
const posixFadvNoreuse = 5

// Fadvise64 implements Linux syscall fadvise64(2): the arguments are
// validated as generic_fadvise() does and the advice is ignored (the
// sentry has no page cache to tune).
func Fadvise64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, unix.EBADF
	}
	if st, err := f.Stat(); err == nil && st.Type() == unix.S_IFIFO {
		return 0, unix.ESPIPE
	}
	if args[2].Int64() < 0 || args[3].Int() < 0 || args[3].Int() > posixFadvNoreuse {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// fallocModes are the FALLOC_FL_* bits Linux knows.
const fallocModes = unix.FALLOC_FL_KEEP_SIZE | unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_NO_HIDE_STALE |
	unix.FALLOC_FL_COLLAPSE_RANGE | unix.FALLOC_FL_ZERO_RANGE | unix.FALLOC_FL_INSERT_RANGE |
	unix.FALLOC_FL_UNSHARE_RANGE

// Fallocate implements Linux syscall fallocate(2) (vfs_fallocate()
// checks; tmpfs supports mode 0 and FALLOC_FL_KEEP_SIZE).
func Fallocate(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	mode, off, length := args[1].Uint(), args[2].Int64(), args[3].Int64()
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if off < 0 || length <= 0 {
		return 0, unix.EINVAL
	}
	if mode&^fallocModes != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if mode&unix.FALLOC_FL_PUNCH_HOLE != 0 && mode&unix.FALLOC_FL_KEEP_SIZE == 0 {
		return 0, unix.EOPNOTSUPP
	}
	if f.IsPath() || !f.Writable() {
		return 0, unix.EBADF
	}
	if off > math.MaxInt64-length {
		return 0, unix.EFBIG
	}
	return 0, f.Allocate(mode, off, length)
}
