package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_PREADV2:         partial("preadv2", Preadv2, "RWF_HIPRI, RWF_DSYNC, RWF_SYNC accepted; RWF_NOWAIT on regular files only (others EOPNOTSUPP)"),
		unix.SYS_PWRITEV2:        partial("pwritev2", Pwritev2, "as preadv2; RWF_APPEND honoured"),
		unix.SYS_READAHEAD:       sup("readahead", Readahead),
		unix.SYS_SYNCFS:          sup("syncfs", Syncfs),
		unix.SYS_SYNC_FILE_RANGE: sup("sync_file_range", SyncFileRange),
	})
}

// RWF_* flags of preadv2/pwritev2 (include/uapi/linux/fs.h).
const (
	rwfHipri    = 0x1
	rwfDsync    = 0x2
	rwfSync     = 0x4
	rwfNowait   = 0x8
	rwfAppend   = 0x10
	rwfNoappend = 0x20
	rwfKnown    = rwfHipri | rwfDsync | rwfSync | rwfNowait | rwfAppend | rwfNoappend
)

// rwv2Flags validates preadv2/pwritev2 flags (kiocb_set_rw_flags()).
// RWF_NOWAIT is honoured for regular files, whose I/O never waits for
// another process in the sentry; for other files it would need a per-call
// non-blocking mode, so it is EOPNOTSUPP there (what Linux says for files
// without FMODE_NOWAIT).
func rwv2Flags(t *kernel.Task, fd int32, flags uint32) error {
	if flags&^rwfKnown != 0 {
		return unix.EOPNOTSUPP
	}
	if flags&rwfNowait == 0 {
		return nil
	}
	f, err := getFile(t, fd)
	if err != nil {
		return err
	}
	defer f.DecRef()
	if st, err := f.Stat(); err != nil || st.Type() != unix.S_IFREG {
		return unix.EOPNOTSUPP
	}
	return nil
}

// Preadv2 implements Linux syscall preadv2(2): preadv, or readv when the
// offset is -1.
func Preadv2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if err := rwv2Flags(t, args[0].Int(), args[5].Uint()); err != nil {
		return 0, err
	}
	off := args[3].Int64()
	if off == -1 {
		return readv(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), 0, false)
	}
	return readv(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), off, true)
}

// Pwritev2 implements Linux syscall pwritev2(2): pwritev, or writev when
// the offset is -1. RWF_APPEND writes at the end whatever the offset;
// RWF_DSYNC and RWF_SYNC make the write durable, which files reached
// through the gofer get from the following fsync.
func Pwritev2(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[5].Uint()
	if err := rwv2Flags(t, args[0].Int(), flags); err != nil {
		return 0, err
	}
	if flags&rwfAppend != 0 && flags&rwfNoappend != 0 {
		return 0, unix.EINVAL
	}
	fd, off := args[0].Int(), args[3].Int64()
	if flags&rwfAppend != 0 {
		// Appends whatever the offset; with -1 the file position
		// moves past the data too (pwritev2(2)).
		f, err := getFile(t, fd)
		if err != nil {
			return 0, err
		}
		st, err := f.Stat()
		if err == nil && off == -1 {
			_, err = f.Seek(t, 0, unix.SEEK_END)
		}
		f.DecRef()
		if err != nil {
			return 0, err
		}
		if off != -1 {
			off = st.Size
		}
	}
	var n uintptr
	var err error
	if off == -1 {
		n, err = writev(t, fd, args[1].Pointer(), int(args[2].Int()), 0, false)
	} else {
		n, err = writev(t, fd, args[1].Pointer(), int(args[2].Int()), off, true)
	}
	if err == nil && flags&(rwfDsync|rwfSync) != 0 {
		if f, gerr := getFile(t, fd); gerr == nil {
			_ = f.Sync(t)
			f.DecRef()
		}
	}
	return n, err
}

// Readahead implements Linux syscall readahead(2). The sentry has no page
// cache to fill ahead, so it only validates: the file must be open for
// reading (EBADF) and be a regular file or block device (EINVAL).
func Readahead(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if !f.Readable() {
		return 0, unix.EBADF
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Type() != unix.S_IFREG && st.Type() != unix.S_IFBLK {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// Syncfs implements Linux syscall syncfs(2): it flushes the file (the
// gofer writes through to the host, so the file's own sync is what is
// left to do).
func Syncfs(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if err := f.Sync(t); err != nil && err != unix.EINVAL {
		return 0, err
	}
	return 0, nil
}

// sync_file_range flags (include/uapi/linux/fs.h).
const syncFileRangeAll = 0x1 | 0x2 | 0x4

// SyncFileRange implements Linux syscall sync_file_range(2): validated,
// then the whole file is synced when SYNC_FILE_RANGE_WAIT_AFTER or
// WRITE asks for it to be written.
func SyncFileRange(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	off, n, flags := args[1].Int64(), args[2].Int64(), args[3].Uint()
	if flags&^syncFileRangeAll != 0 || off < 0 || n < 0 || off+n < off {
		return 0, unix.EINVAL
	}
	f, err := getFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	switch st.Type() {
	case unix.S_IFREG, unix.S_IFBLK, unix.S_IFDIR, unix.S_IFLNK:
	default:
		return 0, unix.ESPIPE
	}
	if flags&0x2 != 0 { // SYNC_FILE_RANGE_WRITE
		if err := f.Sync(t); err != nil && err != unix.EINVAL {
			return 0, err
		}
	}
	return 0, nil
}
