package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/inotify"
	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_INOTIFY_INIT:      sup("inotify_init", InotifyInit),
		unix.SYS_INOTIFY_INIT1:     sup("inotify_init1", InotifyInit1),
		unix.SYS_INOTIFY_ADD_WATCH: partial("inotify_add_watch", InotifyAddWatch, "watches are per name (dentry), not per inode: other hard links' events are not seen; events on unlinked children are never reported (as with IN_EXCL_UNLINK); no IN_UNMOUNT"),
		unix.SYS_INOTIFY_RM_WATCH:  sup("inotify_rm_watch", InotifyRmWatch),
	})
}

// InotifyInit implements Linux syscall inotify_init(2).
func InotifyInit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return installFD(t, inotify.New(unix.O_RDONLY), false)
}

// InotifyInit1 implements Linux syscall inotify_init1(2).
func InotifyInit1(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Int()
	if flags&^(unix.IN_CLOEXEC|unix.IN_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	return installFD(t, inotify.New(unix.O_RDONLY|uint32(flags)&unix.O_NONBLOCK), flags&unix.IN_CLOEXEC != 0)
}

// getInotify returns the instance for fd with a reference (EBADF, EINVAL
// for other files).
func getInotify(t *kernel.Task, fd int32) (*inotify.Inotify, *vfs.FileDescription, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	in, ok := f.Impl().(*inotify.Inotify)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EINVAL
	}
	return in, f, nil
}

// InotifyAddWatch implements Linux syscall inotify_add_watch(2).
func InotifyAddWatch(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fd, pathAddr, mask := args[0].Int(), args[1].Pointer(), args[2].Uint()
	if mask&inotify.InMaskAdd != 0 && mask&inotify.InMaskCreate != 0 {
		return 0, unix.EINVAL
	}
	if mask&inotify.AllBits == 0 {
		return 0, unix.EINVAL
	}
	in, f, err := getInotify(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return 0, err
	}
	// inotify_find_inode(): LOOKUP_FOLLOW unless IN_DONT_FOLLOW,
	// LOOKUP_DIRECTORY for IN_ONLYDIR, then read permission.
	follow := mask&inotify.InDontFollow == 0
	if mask&inotify.InOnlyDir != 0 && len(path) > 0 && path[len(path)-1] != '/' {
		path += "/"
	}
	vd, err := t.VFS().ResolvePath(t, t.FSContext(), nil, path, follow)
	if err != nil {
		return 0, err
	}
	if err := t.VFS().AccessVD(t.Credentials(), vd, unix.R_OK); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(vd.Dentry, mask)
	return uintptr(wd), err
}

// InotifyRmWatch implements Linux syscall inotify_rm_watch(2).
func InotifyRmWatch(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	in, f, err := getInotify(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, in.RemoveWatch(args[1].Int())
}
