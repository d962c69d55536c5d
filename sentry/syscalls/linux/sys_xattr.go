package linux

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

// Extended attributes. No filesystem of the sandbox stores them (the
// gofer protocol carries none), so every file has an empty attribute
// list, as a file on ext4 or tmpfs without security labels has: reads
// find nothing (ENODATA), lists are empty, and setting one fails with
// EOPNOTSUPP. What programs rely on is that probing (ls and cp probing
// security.selinux and system.posix_acl_access, tar --xattrs) sees "no
// attributes" rather than ENOSYS. Arguments are checked in the order
// fs/xattr.c checks them (the name first, then the file).

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_GETXATTR:     partial("getxattr", Getxattr, xattrNote),
		unix.SYS_LGETXATTR:    partial("lgetxattr", Lgetxattr, xattrNote),
		unix.SYS_FGETXATTR:    partial("fgetxattr", Fgetxattr, xattrNote),
		unix.SYS_LISTXATTR:    partial("listxattr", Listxattr, xattrNote),
		unix.SYS_LLISTXATTR:   partial("llistxattr", Llistxattr, xattrNote),
		unix.SYS_FLISTXATTR:   partial("flistxattr", Flistxattr, xattrNote),
		unix.SYS_SETXATTR:     partial("setxattr", Setxattr, xattrNote),
		unix.SYS_LSETXATTR:    partial("lsetxattr", Lsetxattr, xattrNote),
		unix.SYS_FSETXATTR:    partial("fsetxattr", Fsetxattr, xattrNote),
		unix.SYS_REMOVEXATTR:  partial("removexattr", Removexattr, xattrNote),
		unix.SYS_LREMOVEXATTR: partial("lremovexattr", Lremovexattr, xattrNote),
		unix.SYS_FREMOVEXATTR: partial("fremovexattr", Fremovexattr, xattrNote),
	})
}

const xattrNote = "no filesystem stores extended attributes: get ENODATA, list empty, set EOPNOTSUPP"

// Limits from include/uapi/linux/limits.h.
const (
	xattrNameMax = 255
	xattrSizeMax = 65536
)

// xattrTarget resolves the file an xattr call acts on: a path (following
// a final symlink if follow) or, with pathAddr 0 and fd >= 0, a
// descriptor (EBADF for an O_PATH one, as fdget() in the f*xattr calls
// refuses it).
func xattrTarget(t *kernel.Task, fd int32, pathAddr uintptr, follow bool) (vfs.VirtualDentry, vfs.Stat, func(), error) {
	if fd >= 0 {
		f, err := getFile(t, fd)
		if err != nil {
			return vfs.VirtualDentry{}, vfs.Stat{}, nil, err
		}
		if f.IsPath() {
			f.DecRef()
			return vfs.VirtualDentry{}, vfs.Stat{}, nil, unix.EBADF
		}
		st, err := f.Stat()
		if err != nil {
			f.DecRef()
			return vfs.VirtualDentry{}, vfs.Stat{}, nil, err
		}
		return f.VirtualDentry(), st, f.DecRef, nil
	}
	path, err := t.CopyInPath(pathAddr)
	if err != nil {
		return vfs.VirtualDentry{}, vfs.Stat{}, nil, err
	}
	vd, err := t.VFS().ResolvePath(t, t.FSContext(), nil, path, follow)
	if err != nil {
		return vfs.VirtualDentry{}, vfs.Stat{}, nil, err
	}
	st, err := t.VFS().StatVD(vd)
	if err != nil {
		return vfs.VirtualDentry{}, vfs.Stat{}, nil, err
	}
	return vd, st, func() {}, nil
}

// copyInXattrName reads an attribute name (import_xattr_name()): ERANGE
// if it is empty or longer than XATTR_NAME_MAX.
func copyInXattrName(t *kernel.Task, addr uintptr) (string, error) {
	name, err := t.CopyInString(addr, xattrNameMax+1)
	if errors.Is(err, unix.ENAMETOOLONG) {
		return "", unix.ERANGE
	}
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", unix.ERANGE
	}
	return name, nil
}

// xattrNamespaceOK reports whether name has a prefix some Linux
// filesystem has a handler for (xattr_resolve_name() fails with
// EOPNOTSUPP otherwise).
func xattrNamespaceOK(name string) bool {
	for _, p := range []string{"user.", "trusted.", "security."} {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return name == "system.posix_acl_access" || name == "system.posix_acl_default"
}

// xattrReadPermission applies xattr_permission() for a read of name:
// trusted.* needs CAP_SYS_ADMIN and user.* exists only on regular files
// and directories (both ENODATA otherwise); user.* needs read access.
func xattrReadPermission(creds *auth.Credentials, st vfs.Stat, name string) error {
	switch {
	case strings.HasPrefix(name, "trusted."):
		if !creds.HasCapability(auth.CapSysAdmin) {
			return unix.ENODATA
		}
	case strings.HasPrefix(name, "user."):
		mode := st.Mode & unix.S_IFMT
		if mode != unix.S_IFREG && mode != unix.S_IFDIR {
			return unix.ENODATA
		}
		if !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), auth.MayRead) {
			return unix.EACCES
		}
	}
	return nil
}

// getxattr reads the name before resolving the path, as Linux does since
// 6.13 (import_xattr_name() in filename_getxattr()).
func getxattr(t *kernel.Task, fd int32, pathAddr uintptr, follow bool, nameAddr uintptr) (uintptr, error) {
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	_, st, release, err := xattrTarget(t, fd, pathAddr, follow)
	if err != nil {
		return 0, err
	}
	defer release()
	if err := xattrReadPermission(t.Credentials(), st, name); err != nil {
		return 0, err
	}
	if !xattrNamespaceOK(name) {
		return 0, unix.EOPNOTSUPP
	}
	return 0, unix.ENODATA
}

// Getxattr implements Linux syscall getxattr(2).
func Getxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, -1, args[0].Pointer(), true, args[1].Pointer())
}

// Lgetxattr implements Linux syscall lgetxattr(2).
func Lgetxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, -1, args[0].Pointer(), false, args[1].Pointer())
}

// Fgetxattr implements Linux syscall fgetxattr(2).
func Fgetxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() < 0 {
		return 0, unix.EBADF
	}
	return getxattr(t, args[0].Int(), 0, true, args[1].Pointer())
}

func listxattr(t *kernel.Task, fd int32, pathAddr uintptr, follow bool) (uintptr, error) {
	_, _, release, err := xattrTarget(t, fd, pathAddr, follow)
	if err != nil {
		return 0, err
	}
	release()
	// The list is empty: 0 bytes, whatever the buffer (listxattr()
	// writes nothing then).
	return 0, nil
}

// Listxattr implements Linux syscall listxattr(2).
func Listxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, -1, args[0].Pointer(), true)
}

// Llistxattr implements Linux syscall llistxattr(2).
func Llistxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, -1, args[0].Pointer(), false)
}

// Flistxattr implements Linux syscall flistxattr(2).
func Flistxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() < 0 {
		return 0, unix.EBADF
	}
	return listxattr(t, args[0].Int(), 0, true)
}

// setxattr checks the arguments as setxattr_copy() and the path walk do,
// then refuses: EROFS on a read-only mount, else EOPNOTSUPP (no
// filesystem here stores attributes).
func setxattr(t *kernel.Task, fd int32, pathAddr uintptr, follow bool, args arch.SyscallArguments) (uintptr, error) {
	nameAddr, valueAddr, size, flags := args[1].Pointer(), args[2].Pointer(), args[3].SizeT(), args[4].Int()
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	if size > xattrSizeMax {
		return 0, unix.E2BIG
	}
	if size > 0 {
		if err := t.CopyInBytes(valueAddr, make([]byte, size)); err != nil {
			return 0, err
		}
	}
	vd, st, release, err := xattrTarget(t, fd, pathAddr, follow)
	if err != nil {
		return 0, err
	}
	defer release()
	if vd.Ok() && vd.Mount.ReadOnly() {
		return 0, unix.EROFS
	}
	// xattr_permission() for a write: trusted.* needs CAP_SYS_ADMIN and
	// user.* exists only on regular files and directories.
	switch {
	case strings.HasPrefix(name, "trusted.") && !t.Credentials().HasCapability(auth.CapSysAdmin):
		return 0, unix.EPERM
	case strings.HasPrefix(name, "user."):
		if mode := st.Mode & unix.S_IFMT; mode != unix.S_IFREG && mode != unix.S_IFDIR {
			return 0, unix.EPERM
		}
	}
	return 0, unix.EOPNOTSUPP
}

// Setxattr implements Linux syscall setxattr(2).
func Setxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, -1, args[0].Pointer(), true, args)
}

// Lsetxattr implements Linux syscall lsetxattr(2).
func Lsetxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, -1, args[0].Pointer(), false, args)
}

// Fsetxattr implements Linux syscall fsetxattr(2).
func Fsetxattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() < 0 {
		return 0, unix.EBADF
	}
	return setxattr(t, args[0].Int(), 0, true, args)
}

// removexattr: the name is read first (path_removexattr()), then the
// path; there is nothing to remove (ENODATA), or EROFS on a read-only
// mount.
func removexattr(t *kernel.Task, fd int32, pathAddr uintptr, follow bool, nameAddr uintptr) (uintptr, error) {
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	vd, _, release, err := xattrTarget(t, fd, pathAddr, follow)
	if err != nil {
		return 0, err
	}
	defer release()
	if vd.Ok() && vd.Mount.ReadOnly() {
		return 0, unix.EROFS
	}
	if !xattrNamespaceOK(name) {
		return 0, unix.EOPNOTSUPP
	}
	return 0, unix.ENODATA
}

// Removexattr implements Linux syscall removexattr(2).
func Removexattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, -1, args[0].Pointer(), true, args[1].Pointer())
}

// Lremovexattr implements Linux syscall lremovexattr(2).
func Lremovexattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, -1, args[0].Pointer(), false, args[1].Pointer())
}

// Fremovexattr implements Linux syscall fremovexattr(2).
func Fremovexattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() < 0 {
		return 0, unix.EBADF
	}
	return removexattr(t, args[0].Int(), 0, true, args[1].Pointer())
}
