package pipe

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// fileOptions: pipes have no offset, and pread/pwrite/lseek fail with
// ESPIPE (stream_open() clears FMODE_PREAD, FMODE_PWRITE, FMODE_LSEEK).
var fileOptions = vfs.FileOptions{Positionless: true, NoPRead: true}

// fionread is FIONREAD.
const fionread = 0x541B

// end is one open file of a pipe: the common part of an anonymous pipe's
// ends and an open FIFO (pipefifo_fops).
type end struct {
	vfs.FileDefaults
	pipe *Pipe
	// readable and writable are the file's access (FMODE_READ,
	// FMODE_WRITE). Immutable.
	readable, writable bool
	// version is f_pipe: the pipe's wCounter when a FIFO was opened for
	// reading without blocking while no writer was there; EventHUp is
	// suppressed until a writer has come. 0 otherwise. Immutable.
	version uint64

	releaseOnce sync.Once
}

// Read implements vfs.FileImpl (pipe_read()).
func (e *end) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	return e.pipe.Read(ctx, dst, fd.StatusFlags()&unix.O_NONBLOCK != 0)
}

// Write implements vfs.FileImpl (pipe_write()). The writer's O_DIRECT
// selects packet mode.
func (e *end) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64, _ bool) (int, int64, error) {
	fl := fd.StatusFlags()
	n, err := e.pipe.Write(ctx, src, fl&unix.O_NONBLOCK != 0, fl&unix.O_DIRECT != 0)
	return n, 0, err
}

// Ioctl implements vfs.FileImpl: FIONREAD (pipe_ioctl()).
func (e *end) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != fionread {
		return 0, unix.ENOTTY
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(e.pipe.Queued()))
	return 0, ctx.CopyOutBytes(arg, b[:])
}

// Readiness implements waiter.Waitable (pipe_poll()).
func (e *end) Readiness(mask waiter.EventMask) waiter.EventMask {
	return e.pipe.endReadiness(e.readable, e.writable, e.version, mask)
}

// EventRegister implements waiter.Waitable.
func (e *end) EventRegister(w *waiter.Entry) error { return e.pipe.EventRegister(w) }

// EventUnregister implements waiter.Waitable.
func (e *end) EventUnregister(w *waiter.Entry) { e.pipe.EventUnregister(w) }

// PipeSize implements F_GETPIPE_SZ.
func (e *end) PipeSize() (int64, error) { return e.pipe.Size(), nil }

// SetPipeSize implements F_SETPIPE_SZ.
func (e *end) SetPipeSize(size uint32, capSysResource bool) (int64, error) {
	return e.pipe.SetSize(size, capSysResource)
}

// release uncounts the file once.
func (e *end) release() {
	e.releaseOnce.Do(func() { e.pipe.release(e.readable, e.writable) })
}

// anonEnd is an end of an anonymous pipe: it has no dentry, so it
// answers fstat and names itself "pipe:[ino]".
type anonEnd struct {
	end
	inode *inode
}

// Release implements vfs.FileImpl.
func (a *anonEnd) Release() { a.release() }

// Stat implements vfs.FileStater.
func (a *anonEnd) Stat() (vfs.Stat, error) { return a.inode.stat(a.pipe), nil }

// SetStat implements vfs.FileStater (fchmod, fchown and futimens work on
// a pipe's pipefs inode; it has no size).
func (a *anonEnd) SetStat(_ vfs.Context, s vfs.SetStat) error {
	return a.inode.setStat(a.pipe, s)
}

// Name implements vfs.Namer.
func (a *anonEnd) Name() string { return fmt.Sprintf("pipe:[%d]", a.inode.Ino()) }

// Reopen implements vfs.Reopener: opening /proc/PID/fd/N (or /dev/stdin)
// of a pipe end opens the same pipe again with the new access mode, as
// fifo_open() on its pipefs inode does. Unlike a FIFO open it never waits
// for the other side (the pipe has had both from its creation).
func (a *anonEnd) Reopen(_ vfs.Context, flags uint32) (*vfs.FileDescription, error) {
	acc := flags & unix.O_ACCMODE
	readable := acc == unix.O_RDONLY || acc == unix.O_RDWR
	writable := acc == unix.O_WRONLY || acc == unix.O_RDWR
	a.pipe.open(readable, writable)
	ne := &anonEnd{end: end{pipe: a.pipe, readable: readable, writable: writable}, inode: a.inode}
	return vfs.NewAnonFile(ne, acc|flags&(unix.O_NONBLOCK|unix.O_DIRECT), fileOptions), nil
}

// inode is an anonymous pipe's pipefs inode, shared by its two ends.
type inode struct {
	vfs.InodeAttrs
	dev uint64 // immutable
}

// stat returns the inode's attributes, with the times the pipe keeps.
func (i *inode) stat(p *Pipe) vfs.Stat {
	st := i.StatAttrs()
	p.mu.Lock()
	st.Atime, st.Mtime, st.Ctime = p.atime, p.mtime, p.ctime
	p.mu.Unlock()
	st.Dev = i.dev
	// pipefs keeps no birth time.
	st.Mask &^= unix.STATX_BTIME
	st.Btime = vfs.Timespec{}
	return st
}

// setStat applies fchmod/fchown/futimens (simple_setattr() on the pipefs
// inode): the owner and mode go to the attributes, the times to the pipe.
func (i *inode) setStat(p *Pipe, s vfs.SetStat) error {
	if s.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	if err := i.SetStatNoSize(vfs.SetStat{Mask: s.Mask & (unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID), Mode: s.Mode, UID: s.UID, GID: s.GID}); err != nil {
		return err
	}
	p.mu.Lock()
	if s.Mask&unix.STATX_ATIME != 0 {
		p.atime = s.Atime
	}
	if s.Mask&unix.STATX_MTIME != 0 {
		p.mtime = s.Mtime
	}
	p.ctime = vfs.Now()
	p.mu.Unlock()
	return nil
}

// fifoEnd is an open FIFO: fstat and its name come from its dentry.
type fifoEnd struct {
	end
	fs  *FS
	key fifoKey
}

// Release implements vfs.FileImpl.
func (f *fifoEnd) Release() {
	f.release()
	f.fs.putFIFO(f.key, f.pipe)
}
