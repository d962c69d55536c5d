package kernel

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestStraceDecoders(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{decodeOpenFlags(unix.O_RDONLY), "O_RDONLY"},
		{decodeOpenFlags(unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC), "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"},
		{decodeOpenFlags(unix.O_RDWR | 0x40000000), "O_RDWR|0x40000000"},
		{decodeFlags(0, protNames, "PROT_NONE"), "PROT_NONE"},
		{decodeFlags(unix.PROT_READ|unix.PROT_WRITE, protNames, "PROT_NONE"), "PROT_READ|PROT_WRITE"},
		{decodeFlags(unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, mmapFlagNames, ""), "MAP_PRIVATE|MAP_ANONYMOUS"},
		{decodeFlags(unix.MAP_SHARED_VALIDATE, mmapFlagNames, ""), "MAP_SHARED_VALIDATE"},
		{decodeCloneFlags(unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)), "CLONE_VM|CLONE_VFORK|SIGCHLD"},
		{decodeCloneFlags(uint64(unix.SIGCHLD)), "SIGCHLD"},
		{decodeSignal(15), "SIGTERM"},
		{decodeSignal(34), "SIGRTMIN+2"},
		{decodeSignal(0), "0"},
		{sigprocmaskHow(unix.SIG_SETMASK), "SIG_SETMASK"},
		{fcntlCmd(unix.F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC"},
		{decodeFamily(unix.AF_UNIX), "AF_UNIX"},
		{decodeSocketType(unix.SOCK_STREAM | unix.SOCK_CLOEXEC), "SOCK_STREAM|SOCK_CLOEXEC"},
		{decodeFlags(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, atFlagNames, "0"), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
