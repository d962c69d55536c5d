package kernel

import (
	"fmt"
	"log"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
)

// straceFormats says how --strace prints each syscall's arguments, one
// letter per argument: d decimal, x hex, f fd (AT_FDCWD shown by name),
// p path, w buffer written by the app (shown on entry, first 32 bytes),
// r buffer read by the app (shown on exit, sized by the return value),
// o octal mode, v string vector (argv/envp); symbolic: O open flags,
// P mmap protection, M mmap flags, A AT_* flags, K clone flags,
// S signal, H sigprocmask how, C fcntl command, F address family,
// T socket type (strace_flags.go). Unlisted syscalls print hex.
var straceFormats = map[string]string{
	"read": "frd", "write": "fwd", "pread64": "frdd", "pwrite64": "fwdd",
	"open": "pOo", "openat": "fpOo", "creat": "po", "close": "f",
	"stat": "px", "lstat": "px", "fstat": "fx", "newfstatat": "fpxA", "statx": "fpAxx",
	"access": "po", "faccessat": "fpo", "faccessat2": "fpoA", "readlink": "pxd", "readlinkat": "fpxd",
	"chdir": "p", "fchdir": "f", "mkdir": "po", "mkdirat": "fpo", "rmdir": "p",
	"unlink": "p", "unlinkat": "fpA", "rename": "pp", "renameat": "fpfp", "renameat2": "fpfpx",
	"symlink": "pp", "symlinkat": "pfp", "link": "pp", "linkat": "fpfpA",
	"chmod": "po", "fchmod": "fo", "fchmodat": "fpo", "chown": "pdd", "lchown": "pdd", "fchown": "fdd",
	"fchownat": "fpddA", "truncate": "pd", "ftruncate": "fd", "lseek": "fdd", "getdents64": "fxd",
	"dup": "f", "dup2": "ff", "dup3": "ffO", "fcntl": "fCx", "ioctl": "fxx",
	"execve": "pvv", "execveat": "fpvvA", "exit": "d", "exit_group": "d",
	"mmap": "xxPMfx", "munmap": "xx", "mprotect": "xxP", "brk": "x", "mremap": "xxxxx", "madvise": "xxd",
	"kill": "dS", "tgkill": "ddS", "tkill": "dS", "wait4": "dxxx", "chroot": "p", "statfs": "px", "fstatfs": "fx",
	"utimensat": "fpxA", "getcwd": "xd", "clone": "Kxxxx", "rt_sigaction": "Sxxd", "rt_sigprocmask": "Hxxd",
	"socket": "FTd", "socketpair": "FTdx", "connect": "fxd", "bind": "fxd", "accept4": "fxxO",
	"sendto": "fwdxxd", "recvfrom": "frdxxx", "listen": "fd", "shutdown": "fd", "pipe2": "xO",
	"readv": "fxd", "writev": "fxd", "poll": "xdd", "epoll_wait": "fxdd", "epoll_ctl": "fdfx",
	"chmodat": "fpo", "setuid": "d", "setgid": "d", "getrandom": "xdx", "memfd_create": "px",
	"eventfd2": "dO", "nanosleep": "xx", "umask": "o", "prlimit64": "ddxx", "setpgid": "dd",
}

func (t *Task) straceEnter(nr uintptr, name string, args arch.SyscallArguments) {
	if name == "" {
		name = "syscall_" + strconv.Itoa(int(nr))
	}
	log.Printf("[%d] %s(%s) ...", t.tid, name, t.straceArgs(name, args, false, 0))
}

func (t *Task) straceExit(nr uintptr, name string, args arch.SyscallArguments, ret uintptr, err error) {
	if name == "" {
		name = "syscall_" + strconv.Itoa(int(nr))
	}
	var res string
	if errno, ok := err.(unix.Errno); ok {
		res = fmt.Sprintf("-1 %s (%s)", errnoName(errno), errno.Error())
	} else if err != nil {
		res = fmt.Sprintf("-1 (%v)", err)
	} else {
		res = fmt.Sprintf("%#x", ret)
		if int64(ret) >= 0 && ret < 1<<20 {
			res = strconv.FormatInt(int64(ret), 10)
		}
	}
	log.Printf("[%d] %s(%s) = %s", t.tid, name, t.straceArgs(name, args, true, ret), res)
}

func (t *Task) straceArgs(name string, args arch.SyscallArguments, exit bool, ret uintptr) string {
	f, ok := straceFormats[name]
	if !ok {
		f = "xxxxxx"
	}
	parts := make([]string, 0, len(f))
	for i, c := range f {
		a := args[i].Value
		switch c {
		case 'd':
			parts = append(parts, strconv.FormatInt(int64(a), 10))
		case 'f':
			if int32(a) == unix.AT_FDCWD {
				parts = append(parts, "AT_FDCWD")
			} else {
				parts = append(parts, strconv.Itoa(int(int32(a))))
			}
		case 'o':
			parts = append(parts, fmt.Sprintf("%#o", a))
		case 'p':
			s, err := t.CopyInString(a, PathMax)
			if err != nil {
				parts = append(parts, fmt.Sprintf("%#x", a))
			} else {
				parts = append(parts, strconv.Quote(s))
			}
		case 'w', 'r':
			n := int(args[i+1].Value)
			if c == 'r' {
				if !exit || int64(ret) < 0 {
					parts = append(parts, fmt.Sprintf("%#x", a))
					continue
				}
				n = int(ret)
			}
			parts = append(parts, t.straceBuf(a, n))
		case 'v':
			parts = append(parts, t.straceVec(a))
		case 'O':
			parts = append(parts, decodeOpenFlags(uint64(a)))
		case 'P':
			parts = append(parts, decodeFlags(uint64(a), protNames, "PROT_NONE"))
		case 'M':
			parts = append(parts, decodeFlags(uint64(a), mmapFlagNames, ""))
		case 'A':
			parts = append(parts, decodeFlags(uint64(a), atFlagNames, "0"))
		case 'K':
			parts = append(parts, decodeCloneFlags(uint64(a)))
		case 'S':
			parts = append(parts, decodeSignal(uint64(a)))
		case 'H':
			parts = append(parts, sigprocmaskHow(uint64(a)))
		case 'C':
			parts = append(parts, fcntlCmd(uint64(a)))
		case 'F':
			parts = append(parts, decodeFamily(uint64(a)))
		case 'T':
			parts = append(parts, decodeSocketType(uint64(a)))
		default:
			parts = append(parts, fmt.Sprintf("%#x", a))
		}
	}
	return strings.Join(parts, ", ")
}

func (t *Task) straceBuf(addr uintptr, n int) string {
	const show = 32
	m := min(n, show)
	if m < 0 {
		m = 0
	}
	b := make([]byte, m)
	if err := t.CopyInBytes(addr, b); err != nil {
		return fmt.Sprintf("%#x", addr)
	}
	s := strconv.Quote(string(b))
	if n > show {
		s += "..."
	}
	return s
}

func (t *Task) straceVec(addr uintptr) string {
	if addr == 0 {
		return "NULL"
	}
	var parts []string
	for i := 0; i < 8; i++ {
		var p [8]byte
		if err := t.CopyInBytes(addr+uintptr(8*i), p[:]); err != nil {
			return fmt.Sprintf("%#x", addr)
		}
		v := uintptr(le64(p[:]))
		if v == 0 {
			return "[" + strings.Join(parts, ", ") + "]"
		}
		s, err := t.CopyInString(v, 256)
		if err != nil {
			s = "?"
		}
		parts = append(parts, strconv.Quote(s))
	}
	return "[" + strings.Join(parts, ", ") + ", ...]"
}

// errnoName returns the symbolic name of e ("ENOENT").
func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "E" + strconv.Itoa(int(e))
}
