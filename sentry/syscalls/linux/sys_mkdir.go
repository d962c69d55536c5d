package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// withPathAt copies in a path, takes the dirfd, and calls fn.
func withPathAt(t *kernel.Task, dirfd int32, pathAddr uintptr, fn func(dir *vfsFile, path string) error) (uintptr, error) {
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	return 0, fn(dir, path)
}

func mkdirAt(t *kernel.Task, dirfd int32, pathAddr uintptr, mode uint32) (uintptr, error) {
	return withPathAt(t, dirfd, pathAddr, func(dir *vfsFile, path string) error {
		return t.VFS().MkdirAt(t, t.FSContext(), dir, path, mode)
	})
}

// Mkdir implements Linux syscall mkdir(2).
func Mkdir(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return mkdirAt(t, atFDCWD, args[0].Pointer(), args[1].ModeT())
}

// Mkdirat implements Linux syscall mkdirat(2).
func Mkdirat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return mkdirAt(t, args[0].Int(), args[1].Pointer(), args[2].ModeT())
}

// decodeDev converts a dev_t from mknod(2) (new_decode_dev()).
func decodeDev(dev uint32) uint64 {
	major := (dev & 0xfff00) >> 8
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	return unix.Mkdev(major, minor)
}

func mknodAt(t *kernel.Task, dirfd int32, pathAddr uintptr, mode, dev uint32) (uintptr, error) {
	return withPathAt(t, dirfd, pathAddr, func(dir *vfsFile, path string) error {
		return t.VFS().MknodAt(t, t.FSContext(), dir, path, mode, decodeDev(dev))
	})
}

// Mknod implements Linux syscall mknod(2).
func Mknod(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return mknodAt(t, atFDCWD, args[0].Pointer(), args[1].ModeT(), args[2].Uint())
}

// Mknodat implements Linux syscall mknodat(2).
func Mknodat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return mknodAt(t, args[0].Int(), args[1].Pointer(), args[2].ModeT(), args[3].Uint())
}

// Rmdir implements Linux syscall rmdir(2).
func Rmdir(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return withPathAt(t, atFDCWD, args[0].Pointer(), func(dir *vfsFile, path string) error {
		return t.VFS().RmdirAt(t, t.FSContext(), dir, path)
	})
}
