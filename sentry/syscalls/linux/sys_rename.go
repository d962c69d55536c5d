package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// renameAt is do_renameat2().
func renameAt(t *kernel.Task, olddirfd int32, oldAddr uintptr, newdirfd int32, newAddr uintptr, flags uint32) (uintptr, error) {
	if flags&^(vfs.RenameNoreplace|vfs.RenameExchange|vfs.RenameWhiteout) != 0 {
		return 0, unix.EINVAL
	}
	if flags&vfs.RenameExchange != 0 && flags&(vfs.RenameNoreplace|vfs.RenameWhiteout) != 0 {
		return 0, unix.EINVAL
	}
	if flags&vfs.RenameWhiteout != 0 {
		// Whiteouts exist for overlayfs; none of our filesystems
		// store them.
		return 0, unix.EINVAL
	}
	oldPath, err := t.CopyInPath(oldAddr)
	if err != nil {
		return 0, err
	}
	newPath, err := t.CopyInPath(newAddr)
	if err != nil {
		return 0, err
	}
	oldDir, err := getDirFile(t, olddirfd, oldPath)
	if err != nil {
		return 0, err
	}
	defer putFile(oldDir)
	newDir, err := getDirFile(t, newdirfd, newPath)
	if err != nil {
		return 0, err
	}
	defer putFile(newDir)
	return 0, t.VFS().RenameAt(t, t.FSContext(), oldDir, oldPath, newDir, newPath, flags)
}

// Rename implements Linux syscall rename(2).
func Rename(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, atFDCWD, args[0].Pointer(), atFDCWD, args[1].Pointer(), 0)
}

// Renameat implements Linux syscall renameat(2).
func Renameat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), 0)
}

// Renameat2 implements Linux syscall renameat2(2).
func Renameat2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return renameAt(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].Uint())
}
