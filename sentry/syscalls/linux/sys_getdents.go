package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// getdentsMaxBuf bounds the sentry buffer of one getdents64 call; a
// larger app buffer just gets fewer entries, which callers handle.
const getdentsMaxBuf = 64 << 10

// Getdents64 implements Linux syscall getdents64(2): records of struct
// linux_dirent64 aligned to 8 bytes; EINVAL if the first entry does not
// fit.
func Getdents64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	addr, count := args[1].Pointer(), uint64(args[2].Uint())
	if err := checkUserRange(addr, count); err != nil {
		return 0, err
	}
	buf := make([]byte, 0, min(count, getdentsMaxBuf))
	tooSmall := false
	err = f.IterDirents(t, func(d vfs.Dirent) bool {
		reclen := (19 + len(d.Name) + 1 + 7) &^ 7
		if len(buf)+reclen > cap(buf) {
			if len(buf) == 0 {
				tooSmall = true
			}
			return false
		}
		rec := buf[len(buf) : len(buf)+reclen]
		clear(rec)
		le.PutUint64(rec[0:], d.Ino)
		le.PutUint64(rec[8:], uint64(d.NextOff))
		le.PutUint16(rec[16:], uint16(reclen))
		rec[18] = d.Type
		copy(rec[19:], d.Name)
		buf = buf[:len(buf)+reclen]
		return true
	})
	if err != nil && len(buf) == 0 {
		return 0, err
	}
	if tooSmall {
		return 0, unix.EINVAL
	}
	if err := t.CopyOutBytes(addr, buf); err != nil {
		return 0, err
	}
	return uintptr(len(buf)), nil
}
