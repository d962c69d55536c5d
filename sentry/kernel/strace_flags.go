package kernel

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Symbolic decoding of flag and enum arguments for --strace, in strace's
// notation ("O_RDONLY|O_CLOEXEC", "PROT_READ|PROT_WRITE", "SIGTERM").

// flagName is one bit (or value) of a flag set.
type flagName struct {
	v    uint64
	name string
}

// decodeFlags renders v as names joined with '|', the remaining unknown
// bits in hex; zero is zeroName (or "0").
func decodeFlags(v uint64, names []flagName, zeroName string) string {
	if v == 0 {
		if zeroName != "" {
			return zeroName
		}
		return "0"
	}
	var parts []string
	for _, n := range names {
		if n.v != 0 && v&n.v == n.v {
			parts = append(parts, n.name)
			v &^= n.v
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, "|")
}

var openFlagNames = []flagName{
	{unix.O_WRONLY, "O_WRONLY"}, {unix.O_RDWR, "O_RDWR"}, {unix.O_CREAT, "O_CREAT"},
	{unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"}, {unix.O_TRUNC, "O_TRUNC"},
	{unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_SYNC, "O_SYNC"},
	{unix.O_DSYNC, "O_DSYNC"}, {unix.O_ASYNC, "O_ASYNC"}, {unix.O_DIRECT, "O_DIRECT"},
	{unix.O_LARGEFILE, "O_LARGEFILE"}, {unix.O_DIRECTORY, "O_DIRECTORY"},
	{unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_NOATIME, "O_NOATIME"},
	{unix.O_CLOEXEC, "O_CLOEXEC"}, {unix.O_PATH, "O_PATH"},
}

// decodeOpenFlags renders open(2) flags: the access mode, then the rest.
func decodeOpenFlags(v uint64) string {
	acc := "O_RDONLY"
	switch v & unix.O_ACCMODE {
	case unix.O_WRONLY:
		acc = "O_WRONLY"
	case unix.O_RDWR:
		acc = "O_RDWR"
	case 3:
		acc = "O_ACCMODE"
	}
	rest := v &^ unix.O_ACCMODE
	if rest == 0 {
		return acc
	}
	return acc + "|" + decodeFlags(rest, openFlagNames[2:], "")
}

var protNames = []flagName{{unix.PROT_READ, "PROT_READ"}, {unix.PROT_WRITE, "PROT_WRITE"}, {unix.PROT_EXEC, "PROT_EXEC"},
	{unix.PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {unix.PROT_GROWSUP, "PROT_GROWSUP"}}

var mmapFlagNames = []flagName{
	{unix.MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"}, {unix.MAP_SHARED, "MAP_SHARED"},
	{unix.MAP_PRIVATE, "MAP_PRIVATE"}, {unix.MAP_FIXED, "MAP_FIXED"},
	{unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"},
	{unix.MAP_DENYWRITE, "MAP_DENYWRITE"}, {unix.MAP_EXECUTABLE, "MAP_EXECUTABLE"},
	{unix.MAP_LOCKED, "MAP_LOCKED"}, {unix.MAP_NORESERVE, "MAP_NORESERVE"},
	{unix.MAP_POPULATE, "MAP_POPULATE"}, {unix.MAP_NONBLOCK, "MAP_NONBLOCK"},
	{unix.MAP_STACK, "MAP_STACK"}, {unix.MAP_HUGETLB, "MAP_HUGETLB"},
	{unix.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"},
}

var cloneFlagNames = []flagName{
	{unix.CLONE_VM, "CLONE_VM"}, {unix.CLONE_FS, "CLONE_FS"}, {unix.CLONE_FILES, "CLONE_FILES"},
	{unix.CLONE_SIGHAND, "CLONE_SIGHAND"}, {unix.CLONE_PIDFD, "CLONE_PIDFD"},
	{unix.CLONE_PTRACE, "CLONE_PTRACE"}, {unix.CLONE_VFORK, "CLONE_VFORK"},
	{unix.CLONE_PARENT, "CLONE_PARENT"}, {unix.CLONE_THREAD, "CLONE_THREAD"},
	{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_SYSVSEM, "CLONE_SYSVSEM"},
	{unix.CLONE_SETTLS, "CLONE_SETTLS"}, {unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
	{unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"}, {unix.CLONE_UNTRACED, "CLONE_UNTRACED"},
	{unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"}, {unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, {unix.CLONE_NEWIPC, "CLONE_NEWIPC"},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER"}, {unix.CLONE_NEWPID, "CLONE_NEWPID"},
	{unix.CLONE_NEWNET, "CLONE_NEWNET"}, {unix.CLONE_IO, "CLONE_IO"},
}

// decodeCloneFlags renders clone(2)'s flags with the exit signal.
func decodeCloneFlags(v uint64) string {
	sig := v & 0xff
	s := decodeFlags(v&^0xff, cloneFlagNames, "")
	if sig == 0 {
		return s
	}
	if s == "0" || s == "" {
		return decodeSignal(sig)
	}
	return s + "|" + decodeSignal(sig)
}

var atFlagNames = []flagName{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"}, {unix.AT_REMOVEDIR, "AT_REMOVEDIR"},
	{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"}, {unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH"}, {unix.AT_EACCESS, "AT_EACCESS"},
	{unix.AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC"}, {unix.AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC"},
}

// decodeSignal renders a signal number ("SIGTERM", "SIGRTMIN+3").
func decodeSignal(v uint64) string {
	if v == 0 {
		return "0"
	}
	if v >= 32 && v <= NumSignals {
		if v == 32 {
			return "SIGRTMIN"
		}
		return fmt.Sprintf("SIGRTMIN+%d", v-32)
	}
	if n := unix.SignalName(unix.Signal(v)); n != "" {
		return n
	}
	return fmt.Sprintf("%d", v)
}

// sigprocmaskHow renders rt_sigprocmask's how.
func sigprocmaskHow(v uint64) string {
	switch v {
	case unix.SIG_BLOCK:
		return "SIG_BLOCK"
	case unix.SIG_UNBLOCK:
		return "SIG_UNBLOCK"
	case unix.SIG_SETMASK:
		return "SIG_SETMASK"
	}
	return fmt.Sprintf("%d", v)
}

// fcntlCmd renders fcntl(2)'s command.
func fcntlCmd(v uint64) string {
	names := map[uint64]string{
		unix.F_DUPFD: "F_DUPFD", unix.F_GETFD: "F_GETFD", unix.F_SETFD: "F_SETFD",
		unix.F_GETFL: "F_GETFL", unix.F_SETFL: "F_SETFL", unix.F_GETLK: "F_GETLK",
		unix.F_SETLK: "F_SETLK", unix.F_SETLKW: "F_SETLKW", unix.F_SETOWN: "F_SETOWN",
		unix.F_GETOWN: "F_GETOWN", unix.F_DUPFD_CLOEXEC: "F_DUPFD_CLOEXEC",
		unix.F_SETPIPE_SZ: "F_SETPIPE_SZ", unix.F_GETPIPE_SZ: "F_GETPIPE_SZ",
		unix.F_ADD_SEALS: "F_ADD_SEALS", unix.F_GET_SEALS: "F_GET_SEALS",
		unix.F_OFD_GETLK: "F_OFD_GETLK", unix.F_OFD_SETLK: "F_OFD_SETLK", unix.F_OFD_SETLKW: "F_OFD_SETLKW",
	}
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("%#x", v)
}

var sockFamilies = map[uint64]string{
	unix.AF_UNIX: "AF_UNIX", unix.AF_INET: "AF_INET", unix.AF_INET6: "AF_INET6",
	unix.AF_NETLINK: "AF_NETLINK", unix.AF_PACKET: "AF_PACKET", unix.AF_UNSPEC: "AF_UNSPEC",
}

// decodeSocketType renders socket(2)'s type with SOCK_NONBLOCK/CLOEXEC.
func decodeSocketType(v uint64) string {
	types := map[uint64]string{
		unix.SOCK_STREAM: "SOCK_STREAM", unix.SOCK_DGRAM: "SOCK_DGRAM", unix.SOCK_RAW: "SOCK_RAW",
		unix.SOCK_SEQPACKET: "SOCK_SEQPACKET", unix.SOCK_RDM: "SOCK_RDM", unix.SOCK_PACKET: "SOCK_PACKET",
	}
	s, ok := types[v&0xf]
	if !ok {
		s = fmt.Sprintf("%#x", v&0xf)
	}
	if v&unix.SOCK_NONBLOCK != 0 {
		s += "|SOCK_NONBLOCK"
	}
	if v&unix.SOCK_CLOEXEC != 0 {
		s += "|SOCK_CLOEXEC"
	}
	if rest := v &^ (0xf | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC); rest != 0 {
		s += fmt.Sprintf("|%#x", rest)
	}
	return s
}

// decodeFamily renders an address family.
func decodeFamily(v uint64) string {
	if n, ok := sockFamilies[v]; ok {
		return n
	}
	return fmt.Sprintf("%d", v)
}
