package linux

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// maxArgBytes bounds the total size of argv and envp (ARG_MAX as sysconf
// reports it with an 8 MiB stack: a quarter of RLIMIT_STACK).
const maxArgBytes = 2 << 20

// maxArgStrings is MAX_ARG_STRINGS.
const maxArgStrings = 0x7fffffff

// copyInVector reads a NULL-terminated array of string pointers
// (copy_strings() in fs/exec.c): EFAULT for bad pointers, E2BIG past the
// size limit.
func copyInVector(t *kernel.Task, addr uintptr, total *int) ([]string, error) {
	if addr == 0 {
		return nil, nil
	}
	var out []string
	for i := 0; ; i++ {
		var b [8]byte
		if err := t.CopyInBytes(addr+uintptr(8*i), b[:]); err != nil {
			return nil, err
		}
		p := uintptr(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(p, 32*4096) // MAX_ARG_STRLEN
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*total += len(s) + 1 + 8
		if *total > maxArgBytes || i >= maxArgStrings {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

// Execve implements Linux syscall execve(2).
func Execve(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	path, err := t.CopyInPath(args[0].Pointer())
	if err != nil {
		return 0, err
	}
	total := 0
	argv, err := copyInVector(t, args[1].Pointer(), &total)
	if err != nil {
		return 0, err
	}
	envv, err := copyInVector(t, args[2].Pointer(), &total)
	if err != nil {
		return 0, err
	}
	if path == "" {
		return 0, unix.ENOENT
	}
	if err := t.Execve(path, argv, envv); err != nil {
		return 0, err
	}
	return 0, kernel.ErrNoReturn
}

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_EXECVEAT: sup("execveat", Execveat),
	})
}

// Execveat implements Linux syscall execveat(2): the program is path
// relative to dirfd, or with AT_EMPTY_PATH and an empty path the file
// dirfd refers to (fexecve(3)). The new image's name (/proc/PID/exe,
// AT_EXECFN) is /dev/fd/N/path or /dev/fd/N as Linux makes it, unless the
// path is absolute or relative to the working directory.
func Execveat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	dirfd, flags := args[0].Int(), args[4].Int()
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	path, err := t.CopyInPath(args[1].Pointer())
	if err != nil {
		return 0, err
	}
	total := 0
	argv, err := copyInVector(t, args[2].Pointer(), &total)
	if err != nil {
		return 0, err
	}
	envv, err := copyInVector(t, args[3].Pointer(), &total)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT
	}
	dir, err := getDirFile(t, dirfd, path)
	if err != nil {
		return 0, err
	}
	defer putFile(dir)
	var f *vfs.FileDescription
	name := path
	switch {
	case path == "":
		if dir == nil {
			// AT_FDCWD with AT_EMPTY_PATH: the working directory.
			return 0, unix.EACCES
		}
		f, err = t.VFS().OpenExecVD(t, dir.VirtualDentry())
		name = fmt.Sprintf("/dev/fd/%d", dirfd)
	default:
		f, err = t.VFS().OpenExec(t, t.FSContext(), dir, path, flags&unix.AT_SYMLINK_NOFOLLOW != 0)
		if dir != nil && !strings.HasPrefix(path, "/") {
			name = fmt.Sprintf("/dev/fd/%d/%s", dirfd, path)
		}
	}
	if err != nil {
		return 0, err
	}
	if err := t.ExecveFile(f, name, argv, envv); err != nil {
		return 0, err
	}
	return 0, kernel.ErrNoReturn
}
