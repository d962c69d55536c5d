package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/fs/lock"
	"pangolin/fs/vfs"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_FLOCK: partial("flock", Flock, "sandbox-local: gofer files are not locked on the host"),
	})
}

// flock(2) operations (include/uapi/asm-generic/fcntl.h).
const (
	lockSH   = 1
	lockEX   = 2
	lockNB   = 4
	lockUN   = 8
	lockMand = 32
)

// Flock implements Linux syscall flock(2) (fs/locks.c). Locks belong to
// the open file description: dup'ed and inherited descriptors share them,
// a separate open(2) of the same file conflicts with them, and they go
// with the description's last close. LOCK_MAND requests are ignored, as
// Linux has done since 5.15.
func Flock(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	fd, cmd := args[0].Int(), args[1].Uint()
	if cmd&lockMand != 0 {
		return 0, nil
	}
	var typ lock.Type
	switch cmd &^ lockNB {
	case lockSH:
		typ = lock.ReadLock
	case lockEX:
		typ = lock.WriteLock
	case lockUN:
		typ = lock.Unlock
	default:
		return 0, unix.EINVAL
	}
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if f.IsPath() {
		// fdget() does not return O_PATH files.
		return 0, unix.EBADF
	}
	if typ != lock.Unlock && !f.Readable() && !f.Writable() {
		return 0, unix.EBADF
	}
	return 0, f.Flock(t, typ, cmd&lockNB == 0)
}

// flockSize is sizeof(struct flock) on amd64: l_type and l_whence
// (shorts), l_start and l_len (off_t, from offset 8), l_pid (int).
const flockSize = 32

// cFlock is a decoded struct flock.
type cFlock struct {
	typ, whence int16
	start, len  int64
	pid         int32
}

func (c *cFlock) decode(b []byte) {
	c.typ = int16(binary.LittleEndian.Uint16(b[0:]))
	c.whence = int16(binary.LittleEndian.Uint16(b[2:]))
	c.start = int64(binary.LittleEndian.Uint64(b[8:]))
	c.len = int64(binary.LittleEndian.Uint64(b[16:]))
	c.pid = int32(binary.LittleEndian.Uint32(b[24:]))
}

func (c *cFlock) encode(b []byte) {
	binary.LittleEndian.PutUint16(b[0:], uint16(c.typ))
	binary.LittleEndian.PutUint16(b[2:], uint16(c.whence))
	binary.LittleEndian.PutUint64(b[8:], uint64(c.start))
	binary.LittleEndian.PutUint64(b[16:], uint64(c.len))
	binary.LittleEndian.PutUint32(b[24:], uint32(c.pid))
}

// toRecord converts c to a lock range (flock_to_posix_lock()): the start
// is relative to l_whence, a negative l_len locks the bytes before it, and
// 0 runs to the end of the file, however far it grows.
func (c *cFlock) toRecord(f *vfs.FileDescription) (lock.Record, error) {
	var base int64
	switch c.whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		base = f.Position()
	case unix.SEEK_END:
		st, err := f.Stat()
		if err != nil {
			return lock.Record{}, err
		}
		base = st.Size
	default:
		return lock.Record{}, unix.EINVAL
	}
	if c.start > lock.MaxOffset-base {
		return lock.Record{}, unix.EOVERFLOW
	}
	r := lock.Record{Type: lock.Type(c.typ), Start: base + c.start}
	if r.Start < 0 {
		return lock.Record{}, unix.EINVAL
	}
	switch {
	case c.len > 0:
		if c.len-1 > lock.MaxOffset-r.Start {
			return lock.Record{}, unix.EOVERFLOW
		}
		r.End = r.Start + c.len - 1
	case c.len < 0:
		if r.Start+c.len < 0 {
			return lock.Record{}, unix.EINVAL
		}
		r.End = r.Start - 1
		r.Start += c.len
	default:
		r.End = lock.MaxOffset
	}
	return r, nil
}

// fcntlLock implements F_GETLK, F_SETLK, F_SETLKW and their OFD forms
// (fcntl_getlk(), fcntl_setlk()). POSIX locks belong to the caller's
// descriptor table and are released when it closes any descriptor of the
// file; OFD locks belong to the open file description.
func fcntlLock(t *kernel.Task, fd int32, f *vfs.FileDescription, cmd int32, addr uintptr) (uintptr, error) {
	var buf [flockSize]byte
	if err := t.CopyInBytes(addr, buf[:]); err != nil {
		return 0, err
	}
	var c cFlock
	c.decode(buf[:])
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	switch cmd {
	case unix.F_GETLK, unix.F_OFD_GETLK:
		if c.typ != unix.F_RDLCK && c.typ != unix.F_WRLCK {
			return 0, unix.EINVAL
		}
		r, err := c.toRecord(f)
		if err != nil {
			return 0, err
		}
		if ofd && c.pid != 0 {
			return 0, unix.EINVAL
		}
		r.Owner, r.OFD = t.FDTable(), ofd
		o, found := f.TestRecordLock(r)
		if !found {
			c.typ = unix.F_UNLCK
		} else {
			// posix_lock_to_flock()
			c.typ, c.whence, c.start, c.pid = int16(o.Type), unix.SEEK_SET, o.Start, o.PID
			c.len = 0
			if o.End != lock.MaxOffset {
				c.len = o.End - o.Start + 1
			}
			if o.OFD {
				c.pid = -1
			}
		}
		c.encode(buf[:])
		return 0, t.CopyOutBytes(addr, buf[:])
	}
	r, err := c.toRecord(f)
	if err != nil {
		return 0, err
	}
	// check_fmode_for_setlk()
	switch r.Type {
	case lock.ReadLock:
		if !f.Readable() {
			return 0, unix.EBADF
		}
	case lock.WriteLock:
		if !f.Writable() {
			return 0, unix.EBADF
		}
	case lock.Unlock:
	default:
		return 0, unix.EINVAL
	}
	if ofd && c.pid != 0 {
		return 0, unix.EINVAL
	}
	r.Owner, r.OFD, r.PID = t.FDTable(), ofd, t.ThreadGroup().PID()
	block := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	if err := f.SetRecordLock(t, r, block); err != nil {
		return 0, err
	}
	if !ofd && r.Type != lock.Unlock {
		// A close racing with the lock (another thread): drop what was
		// just taken, as close would have (fcntl_setlk()).
		g, _, err := t.FDTable().Get(fd)
		if g != nil {
			g.DecRef()
		}
		if err != nil || g != f {
			f.ReleasePOSIXLocks(t.FDTable())
			return 0, unix.EBADF
		}
	}
	return 0, nil
}
