package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

// vfsFile abbreviates the VFS's open file type.
type vfsFile = vfs.FileDescription

// Unlink implements Linux syscall unlink(2).
func Unlink(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return withPathAt(t, atFDCWD, args[0].Pointer(), func(dir *vfsFile, path string) error {
		return t.VFS().UnlinkAt(t, t.FSContext(), dir, path)
	})
}

// Unlinkat implements Linux syscall unlinkat(2).
func Unlinkat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[2].Uint()
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	return withPathAt(t, args[0].Int(), args[1].Pointer(), func(dir *vfsFile, path string) error {
		if flags&unix.AT_REMOVEDIR != 0 {
			return t.VFS().RmdirAt(t, t.FSContext(), dir, path)
		}
		return t.VFS().UnlinkAt(t, t.FSContext(), dir, path)
	})
}

func symlinkAt(t *kernel.Task, targetAddr uintptr, dirfd int32, pathAddr uintptr) (uintptr, error) {
	target, err := t.CopyInPath(targetAddr)
	if err != nil {
		return 0, err
	}
	return withPathAt(t, dirfd, pathAddr, func(dir *vfsFile, path string) error {
		return t.VFS().SymlinkAt(t, t.FSContext(), dir, path, target)
	})
}

// Symlink implements Linux syscall symlink(2).
func Symlink(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return symlinkAt(t, args[0].Pointer(), atFDCWD, args[1].Pointer())
}

// Symlinkat implements Linux syscall symlinkat(2).
func Symlinkat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return symlinkAt(t, args[0].Pointer(), args[1].Int(), args[2].Pointer())
}

// linkAt is do_linkat().
func linkAt(t *kernel.Task, olddirfd int32, oldAddr uintptr, newdirfd int32, newAddr uintptr, flags uint32) (uintptr, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	oldPath, err := t.CopyInPath(oldAddr)
	if err != nil {
		return 0, err
	}
	var old vfs.VirtualDentry
	if oldPath == "" && flags&unix.AT_EMPTY_PATH != 0 {
		// Linking an open file needs CAP_DAC_READ_SEARCH.
		if !t.Credentials().HasCapability(auth.CapDacReadSearch) {
			return 0, unix.ENOENT
		}
		if olddirfd == atFDCWD {
			old = t.FSContext().Cwd()
		} else {
			f, err := getFile(t, olddirfd)
			if err != nil {
				return 0, err
			}
			old = f.VirtualDentry()
			f.DecRef()
			if !old.Ok() {
				return 0, unix.ENOENT
			}
		}
	} else {
		dir, err := getDirFile(t, olddirfd, oldPath)
		if err != nil {
			return 0, err
		}
		old, err = t.VFS().ResolvePath(t, t.FSContext(), dir, oldPath, flags&unix.AT_SYMLINK_FOLLOW != 0)
		putFile(dir)
		if err != nil {
			return 0, err
		}
	}
	return withPathAt(t, newdirfd, newAddr, func(dir *vfsFile, path string) error {
		return t.VFS().LinkAt(t, t.FSContext(), old, dir, path)
	})
}

// Link implements Linux syscall link(2).
func Link(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return linkAt(t, atFDCWD, args[0].Pointer(), atFDCWD, args[1].Pointer(), 0)
}

// Linkat implements Linux syscall linkat(2).
func Linkat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return linkAt(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].Uint())
}
