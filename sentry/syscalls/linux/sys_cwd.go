package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// capSysChroot is CAP_SYS_CHROOT.
const capSysChroot = 18

// Getcwd implements Linux syscall getcwd(2): ENOENT if the working
// directory was removed, ERANGE if size is too small, and a path prefixed
// with "(unreachable)" if it lies outside the task's root.
func Getcwd(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, size := args[0].Pointer(), args[1].SizeT()
	root, cwd := t.FSContext().RootAndCwd()
	if cwd.Dentry.IsDead() {
		return 0, unix.ENOENT
	}
	p, reachable := t.VFS().PathName(root, cwd)
	if !reachable {
		p = "(unreachable)" + p
	}
	b := append([]byte(p), 0)
	if uint(len(b)) > size {
		return 0, unix.ERANGE
	}
	if err := t.CopyOutBytes(addr, b); err != nil {
		return 0, err
	}
	return uintptr(len(b)), nil
}

// Chdir implements Linux syscall chdir(2).
func Chdir(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	path, err := t.CopyInPath(args[0].Pointer())
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().ResolvePath(t, t.FSContext(), nil, path, true)
	if err != nil {
		return 0, err
	}
	if err := t.VFS().CheckSearchDir(t.Credentials(), vd); err != nil {
		return 0, err
	}
	t.FSContext().SetCwd(vd)
	return 0, nil
}

// Fchdir implements Linux syscall fchdir(2). O_PATH descriptors work.
func Fchdir(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return 0, unix.ENOTDIR
	}
	if err := t.VFS().CheckSearchDir(t.Credentials(), vd); err != nil {
		return 0, err
	}
	t.FSContext().SetCwd(vd)
	return 0, nil
}

// Chroot implements Linux syscall chroot(2). As in Linux, the working
// directory is not changed.
func Chroot(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	path, err := t.CopyInPath(args[0].Pointer())
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().ResolvePath(t, t.FSContext(), nil, path, true)
	if err != nil {
		return 0, err
	}
	if err := t.VFS().CheckSearchDir(t.Credentials(), vd); err != nil {
		return 0, err
	}
	if !t.Credentials().HasCapability(capSysChroot) {
		return 0, unix.EPERM
	}
	t.FSContext().SetRoot(vd)
	return 0, nil
}

// Umask implements Linux syscall umask(2).
func Umask(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.FSContext().SetUmask(args[0].ModeT())), nil
}
