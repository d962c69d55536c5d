// Package host wraps file descriptors the sandbox inherited from the host
// (the container's stdin, stdout and stderr: pipes, regular files,
// /dev/null or a terminal) as sentry files. It is the only place the sentry
// does I/O on a host FD that did not come from the gofer.
package host

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

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
// status flags (access mode, O_APPEND, O_NONBLOCK) are the host's.
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
	// The host's O_NONBLOCK is not mirrored: the sentry reads with poll
	// so that the app's O_NONBLOCK never changes the shared host flag.
	flags := uint32(fl) & (unix.O_ACCMODE | unix.O_APPEND)
	return vfs.NewAnonFile(f, flags, fo), nil
}

// file is a host FD as a vfs.FileImpl.
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

// wait blocks until the host FD is ready for events, the task is
// interrupted (EINTR... restarted by the kernel if the handler allows), or
// returns EAGAIN at once for a non-blocking description.
func (f *file) wait(ctx vfs.Context, events int16, nonblock bool) error {
	if f.typ == unix.S_IFREG || f.typ == unix.S_IFBLK {
		return nil
	}
	fds := []unix.PollFd{{Fd: int32(f.fd), Events: events}}
	if nonblock {
		n, err := retry(func() (int, error) { return unix.Poll(fds, 0) })
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EAGAIN
		}
		return nil
	}
	var intr <-chan struct{}
	if ctx != nil {
		intr = ctx.InterruptChan()
	}
	for {
		// Poll in slices so that an interrupted task does not stay
		// blocked in the host: the channel is checked between them.
		n, err := retry(func() (int, error) { return unix.Poll(fds, 100) })
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if intr != nil {
			select {
			case <-intr:
				return unix.EINTR
			default:
			}
		}
	}
}

// isNonblock reports whether the calling description is non-blocking.
func isNonblock(fd *vfs.FileDescription) bool {
	return fd != nil && fd.StatusFlags()&unix.O_NONBLOCK != 0
}

// Read implements vfs.FileImpl: off -1 reads at the host file position.
func (f *file) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if off >= 0 {
		return retry(func() (int, error) { return unix.Pread(f.fd, dst, off) })
	}
	if err := f.wait(ctx, unix.POLLIN, isNonblock(fd)); err != nil {
		return 0, err
	}
	n, err := retry(func() (int, error) { return unix.Read(f.fd, dst) })
	if n < 0 {
		n = 0
	}
	return n, err
}

// Write implements vfs.FileImpl; the whole buffer is written unless an
// error occurs (a blocking write(2) to a pipe or terminal does the same).
func (f *file) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, off int64, _ bool) (int, int64, error) {
	done := 0
	for done < len(src) {
		var n int
		var err error
		if off >= 0 {
			n, err = retry(func() (int, error) { return unix.Pwrite(f.fd, src[done:], off+int64(done)) })
		} else {
			if werr := f.wait(ctx, unix.POLLOUT, isNonblock(fd)); werr != nil {
				if done > 0 {
					return done, 0, nil
				}
				return 0, 0, werr
			}
			n, err = retry(func() (int, error) { return unix.Write(f.fd, src[done:]) })
		}
		if n > 0 {
			done += n
		}
		if err != nil {
			if done > 0 && err != unix.EPIPE {
				return done, 0, nil
			}
			return done, 0, err
		}
		if n == 0 {
			break
		}
	}
	return done, 0, nil
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
