// Package host wraps file descriptors the sandbox inherited from the host
// (the container's stdin, stdout and stderr: pipes, regular files,
// /dev/null or a terminal) as sentry files. It is the only place the sentry
// does I/O on a host FD that did not come from the gofer.
package host

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// Options configure NewFile.
type Options struct {
	// Dev is the st_dev reported by fstat (the host's is not shown to
	// the app). 0 means a fixed anonymous device.
	Dev uint64
}

// hostDev is the default st_dev of host files (an anonymous device
// number unlikely to clash with the VFS's, which count up from 0:1).
var hostDev = unix.Mkdev(0, 0xfff)

// NewFile wraps hostFD as an open file description with one reference.
// The description takes ownership of hostFD and closes it on release. Its
// status flags (access mode, O_APPEND) are the host's. Files the host can
// poll (pipes, sockets, terminals) get readiness from the notifier and
// block in the sentry, never in the host.
func NewFile(hostFD int, opts Options) (*vfs.FileDescription, error) {
	var st unix.Stat_t
	if err := unix.Fstat(hostFD, &st); err != nil {
		return nil, err
	}
	fl, err := unix.FcntlInt(uintptr(hostFD), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	f := &file{fd: hostFD, dev: opts.Dev, typ: st.Mode & unix.S_IFMT}
	if f.dev == 0 {
		f.dev = hostDev
	}
	if f.typ == unix.S_IFCHR {
		if _, err := unix.IoctlGetTermios(hostFD, unix.TCGETS); err == nil {
			f.tty = true
		}
	}
	seekable := f.typ == unix.S_IFREG || f.typ == unix.S_IFBLK
	fo := vfs.FileOptions{Positionless: true, NoPRead: !seekable}
	// The host's O_NONBLOCK is not mirrored: the host file description
	// may be shared with processes outside the sandbox, so the sentry
	// never changes it and does non-blocking I/O per call instead.
	flags := uint32(fl) & (unix.O_ACCMODE | unix.O_APPEND)
	var impl vfs.FileImpl = f
	if !seekable {
		n, err := getNotifier()
		if err != nil {
			return nil, err
		}
		pf := &pollableFile{file: f}
		switch err := n.add(int32(hostFD), &pf.queue); err {
		case nil:
			impl = pf
		case unix.EPERM:
			// The host cannot poll it (/dev/null, /dev/zero): it
			// never blocks, and epoll(7) refuses it in the sandbox
			// too.
		default:
			return nil, err
		}
	}
	return vfs.NewAnonFile(impl, flags, fo), nil
}

// file is a host FD as a vfs.FileImpl: a file that never blocks (regular
// files, block devices, character devices the host cannot poll).
type file struct {
	vfs.FileDefaults
	// fd, dev, typ and tty are immutable; fd is valid until Release.
	fd  int
	dev uint64
	typ uint32
	tty bool

	closeOnce sync.Once
}

// Release implements vfs.FileImpl.
func (f *file) Release() {
	f.closeOnce.Do(func() { unix.Close(f.fd) })
}

// Name implements vfs.Namer ("host:[N]", what /proc/self/fd shows).
func (f *file) Name() string {
	switch f.typ {
	case unix.S_IFIFO:
		return fmt.Sprintf("pipe:[host%d]", f.fd)
	case unix.S_IFSOCK:
		return fmt.Sprintf("socket:[host%d]", f.fd)
	}
	return fmt.Sprintf("host:[%d]", f.fd)
}

// retry repeats a host call interrupted by a signal the Go runtime got
// (SIGURG preemption and friends): EINTR here never comes from the app.
func retry(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Read implements vfs.FileImpl: off -1 reads at the host file position.
func (f *file) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if off >= 0 {
		n, err = retry(func() (int, error) { return unix.Pread(f.fd, dst, off) })
	} else {
		n, err = retry(func() (int, error) { return unix.Read(f.fd, dst) })
	}
	return max(n, 0), err
}

// Write implements vfs.FileImpl; the whole buffer is written unless an
// error occurs.
func (f *file) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, off int64, _ bool) (int, int64, error) {
	done := 0
	for done < len(src) {
		var n int
		var err error
		if off >= 0 {
			n, err = retry(func() (int, error) { return unix.Pwrite(f.fd, src[done:], off+int64(done)) })
		} else {
			n, err = retry(func() (int, error) { return unix.Write(f.fd, src[done:]) })
		}
		done += max(n, 0)
		if err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
		if n == 0 {
			break
		}
	}
	return done, 0, nil
}

// pollableFile is a host FD the host can poll (a pipe, a socket, a
// terminal): waiter.Waitable through the notifier, and blocking I/O that
// waits in the sentry (vfs.BlockOn), so signals interrupt it.
type pollableFile struct {
	*file
	// queue is notified by the notifier of the host FD's events.
	queue waiter.Queue
	// noNowait is set once the host refused RWF_NOWAIT for the FD
	// (EOPNOTSUPP: terminals and other character devices, or a kernel
	// older than 5.x for pipes); I/O then checks readiness first.
	noNowait atomic.Bool
}

// Release implements vfs.FileImpl: the FD leaves the notifier before it
// is closed, so its number cannot alias a later FD's there.
func (f *pollableFile) Release() {
	f.closeOnce.Do(func() {
		if n, _ := getNotifier(); n != nil {
			n.remove(int32(f.fd))
		}
		unix.Close(f.fd)
	})
}

// Readiness implements waiter.Waitable with a zero-timeout host poll.
func (f *pollableFile) Readiness(mask waiter.EventMask) waiter.EventMask {
	return pollNow(f.fd, mask)
}

// EventRegister implements waiter.Waitable.
func (f *pollableFile) EventRegister(e *waiter.Entry) error {
	f.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (f *pollableFile) EventUnregister(e *waiter.Entry) { f.queue.EventUnregister(e) }

// readNowait reads without blocking in the host: EAGAIN if nothing is
// there.
func (f *pollableFile) readNowait(dst []byte) (int, error) {
	if !f.noNowait.Load() {
		n, err := retry(func() (int, error) { return unix.Preadv2(f.fd, [][]byte{dst}, -1, unix.RWF_NOWAIT) })
		if err != unix.EOPNOTSUPP {
			return max(n, 0), err
		}
		f.noNowait.Store(true)
	}
	// Without RWF_NOWAIT: read only what poll says is there. Another
	// reader of the same host file could still take it first; the
	// sandbox's stdin terminal normally has none while the app runs.
	if pollNow(f.fd, waiter.ReadableEvents) == 0 {
		return 0, unix.EAGAIN
	}
	n, err := retry(func() (int, error) { return unix.Read(f.fd, dst) })
	return max(n, 0), err
}

// writeNowait writes without blocking in the host, as much as fits.
func (f *pollableFile) writeNowait(src []byte) (int, error) {
	if !f.noNowait.Load() {
		n, err := retry(func() (int, error) { return unix.Pwritev2(f.fd, [][]byte{src}, -1, unix.RWF_NOWAIT) })
		if err != unix.EOPNOTSUPP {
			return max(n, 0), err
		}
		f.noNowait.Store(true)
	}
	if pollNow(f.fd, waiter.WritableEvents) == 0 {
		return 0, unix.EAGAIN
	}
	n, err := retry(func() (int, error) { return unix.Write(f.fd, src) })
	return max(n, 0), err
}

// isNonblock reports whether the calling description is non-blocking.
func isNonblock(fd *vfs.FileDescription) bool {
	return fd != nil && fd.StatusFlags()&unix.O_NONBLOCK != 0
}

// Read implements vfs.FileImpl, waiting in the sentry for data unless the
// description is non-blocking.
func (f *pollableFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if off >= 0 {
		return f.file.Read(ctx, fd, dst, off)
	}
	return vfs.BlockOn(ctx, f, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, isNonblock(fd), time.Time{}, func() (int, error) {
		return f.readNowait(dst)
	})
}

// Write implements vfs.FileImpl: a blocking write waits for room until
// everything is written, as a write(2) to a pipe or terminal does; a
// signal or a non-blocking description ends it early with the count so
// far. EPIPE after some bytes is returned with their count, so the
// caller still raises SIGPIPE as the host would have.
func (f *pollableFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, off int64, app bool) (int, int64, error) {
	if off >= 0 {
		return f.file.Write(ctx, fd, src, off, app)
	}
	nonblock := isNonblock(fd)
	done := 0
	for done < len(src) {
		n, err := vfs.BlockOn(ctx, f, waiter.WritableEvents|waiter.EventErr|waiter.EventHUp, nonblock, time.Time{}, func() (int, error) {
			return f.writeNowait(src[done:])
		})
		done += n
		switch {
		case err == unix.EPIPE:
			return done, 0, err
		case err != nil && done > 0:
			return done, 0, nil
		case err != nil:
			return 0, 0, err
		case n == 0 || nonblock:
			return done, 0, nil
		}
	}
	return done, 0, nil
}

// maxPipeSize is the largest host pipe F_SETPIPE_SZ may ask for: the
// default pipe-max-size, whatever the caller's capabilities in the
// sandbox (the sentry's own privileges on the host are not the app's).
const maxPipeSize = 1 << 20

// PipeSize implements F_GETPIPE_SZ on a host pipe (EBADF for anything
// else, as for a file that is not a pipe).
func (f *file) PipeSize() (int64, error) {
	if f.typ != unix.S_IFIFO {
		return 0, unix.EBADF
	}
	n, err := unix.FcntlInt(uintptr(f.fd), unix.F_GETPIPE_SZ, 0)
	return int64(n), err
}

// SetPipeSize implements F_SETPIPE_SZ on a host pipe; above maxPipeSize it
// fails with EPERM as for an unprivileged caller.
func (f *file) SetPipeSize(size uint32, _ bool) (int64, error) {
	if f.typ != unix.S_IFIFO {
		return 0, unix.EBADF
	}
	if size > maxPipeSize {
		return 0, unix.EPERM
	}
	n, err := unix.FcntlInt(uintptr(f.fd), unix.F_SETPIPE_SZ, int(size))
	return int64(n), err
}

// Seek implements vfs.Seeker with the host file position.
func (f *file) Seek(_ vfs.Context, _, offset int64, whence int) (int64, error) {
	switch f.typ {
	case unix.S_IFREG, unix.S_IFBLK, unix.S_IFCHR:
		if f.tty {
			return 0, unix.ESPIPE
		}
		return unix.Seek(f.fd, offset, whence)
	}
	return 0, unix.ESPIPE
}

// Sync implements vfs.FileImpl.
func (f *file) Sync(vfs.Context) error {
	if f.typ != unix.S_IFREG {
		// fsync on a pipe or terminal: EINVAL, as Linux answers.
		return unix.EINVAL
	}
	return unix.Fsync(f.fd)
}

// Stat implements vfs.FileStater from the host's fstat; st_dev is the
// sentry's.
func (f *file) Stat() (vfs.Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return vfs.Stat{}, err
	}
	ts := func(t unix.Timespec) vfs.Timespec { return vfs.Timespec{Sec: t.Sec, Nsec: t.Nsec} }
	return vfs.Stat{
		Mask:    unix.STATX_BASIC_STATS,
		Mode:    st.Mode,
		Nlink:   uint32(st.Nlink),
		UID:     st.Uid,
		GID:     st.Gid,
		Ino:     st.Ino,
		Dev:     f.dev,
		Rdev:    st.Rdev,
		Size:    st.Size,
		Blocks:  st.Blocks,
		Blksize: uint32(st.Blksize),
		Atime:   ts(st.Atim),
		Mtime:   ts(st.Mtim),
		Ctime:   ts(st.Ctim),
	}, nil
}

// SetStat implements vfs.FileStater. Host files' attributes belong to the
// host: changes are refused (EPERM), except truncation of a regular file,
// which ftruncate on a redirected stdout needs.
func (f *file) SetStat(_ vfs.Context, s vfs.SetStat) error {
	if s.Mask == unix.STATX_SIZE && f.typ == unix.S_IFREG {
		return unix.Ftruncate(f.fd, s.Size)
	}
	return unix.EPERM
}

// Terminal ioctls passed through (include/uapi/asm-generic/ioctls.h).
const (
	tcgets     = unix.TCGETS
	tcsets     = unix.TCSETS
	tcsetsw    = unix.TCSETSW
	tcsetsf    = unix.TCSETSF
	tiocgwinsz = unix.TIOCGWINSZ
	tiocswinsz = unix.TIOCSWINSZ
	fionread   = 0x541B // FIONREAD (TIOCINQ)
)

// termiosSize is sizeof(struct termios) for TCGETS (the kernel's, 36).
const termiosSize = 36

// Ioctl implements vfs.FileImpl: terminal attributes and window size pass
// through to a host terminal; FIONREAD works on pipes, sockets and
// terminals. Job-control ioctls (TIOCGPGRP, TIOCSPGRP, TIOCSCTTY) would
// expose host process groups and are refused with ENOTTY.
func (f *file) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case fionread:
		if f.typ == unix.S_IFREG {
			// FIONREAD on a regular file: bytes left to read.
			st, err := f.Stat()
			if err != nil {
				return 0, err
			}
			pos, err := unix.Seek(f.fd, 0, unix.SEEK_CUR)
			if err != nil {
				return 0, err
			}
			return 0, copyOutInt(ctx, arg, int32(max(st.Size-pos, 0)))
		}
		n, err := unix.IoctlGetInt(f.fd, fionread)
		if err != nil {
			return 0, err
		}
		return 0, copyOutInt(ctx, arg, int32(n))
	}
	if !f.tty {
		return 0, unix.ENOTTY
	}
	switch cmd {
	case tcgets:
		t, err := unix.IoctlGetTermios(f.fd, unix.TCGETS)
		if err != nil {
			return 0, err
		}
		return 0, ctx.CopyOutBytes(arg, termiosBytes(t))
	case tcsets, tcsetsw, tcsetsf:
		b := make([]byte, termiosSize)
		if err := ctx.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		return 0, unix.IoctlSetTermios(f.fd, uint(cmd), termiosFromBytes(b))
	case tiocgwinsz:
		ws, err := unix.IoctlGetWinsize(f.fd, unix.TIOCGWINSZ)
		if err != nil {
			return 0, err
		}
		b := make([]byte, 8)
		le16(b[0:], ws.Row)
		le16(b[2:], ws.Col)
		le16(b[4:], ws.Xpixel)
		le16(b[6:], ws.Ypixel)
		return 0, ctx.CopyOutBytes(arg, b)
	case tiocswinsz:
		b := make([]byte, 8)
		if err := ctx.CopyInBytes(arg, b); err != nil {
			return 0, err
		}
		ws := &unix.Winsize{Row: rd16(b[0:]), Col: rd16(b[2:]), Xpixel: rd16(b[4:]), Ypixel: rd16(b[6:])}
		return 0, unix.IoctlSetWinsize(f.fd, unix.TIOCSWINSZ, ws)
	}
	return 0, unix.ENOTTY
}

func copyOutInt(ctx vfs.Context, addr uintptr, v int32) error {
	b := make([]byte, 4)
	le32(b, uint32(v))
	return ctx.CopyOutBytes(addr, b)
}

func le16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func le32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func rd16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func rd32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// termiosBytes encodes struct termios as the kernel's TCGETS returns it:
// four tcflag_t, c_line, then NCCS (19) control characters.
func termiosBytes(t *unix.Termios) []byte {
	b := make([]byte, termiosSize)
	le32(b[0:], t.Iflag)
	le32(b[4:], t.Oflag)
	le32(b[8:], t.Cflag)
	le32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:36], t.Cc[:19])
	return b
}

func termiosFromBytes(b []byte) *unix.Termios {
	t := &unix.Termios{Iflag: rd32(b[0:]), Oflag: rd32(b[4:]), Cflag: rd32(b[8:]), Lflag: rd32(b[12:]), Line: b[16]}
	copy(t.Cc[:19], b[17:36])
	// Keep the speeds the host encodes in c_cflag (CBAUD).
	t.Ispeed = t.Cflag & unix.CBAUD
	t.Ospeed = t.Cflag & unix.CBAUD
	return t
}

// Reopen implements vfs.Reopener for /proc/self/fd/N and /dev/std* of a
// host file (a pipe or terminal the sandbox was started with): the host
// descriptor is duplicated, since the sentry never opens host paths. The
// duplicate shares the host's file offset and status flags, which matters
// only for regular files. Sockets cannot be reopened (ENXIO, as in Linux),
// nor can a file be reopened for an access its host descriptor lacks.
func (f *file) Reopen(_ vfs.Context, flags uint32) (*vfs.FileDescription, error) {
	if f.typ == unix.S_IFSOCK {
		return nil, unix.ENXIO
	}
	hostFlags, err := unix.FcntlInt(uintptr(f.fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	want, have := flags&unix.O_ACCMODE, uint32(hostFlags)&unix.O_ACCMODE
	if want != have && have != unix.O_RDWR {
		return nil, unix.EACCES
	}
	dup, err := unix.FcntlInt(uintptr(f.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	nf, err := NewFile(dup, Options{Dev: f.dev})
	if err != nil {
		unix.Close(dup)
		return nil, err
	}
	return nf, nil
}
