package pipe

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// FS is a VFS's pipefs: the device anonymous pipes report in st_dev, their
// inode numbers, and the registry binding FIFO inodes to their pipes.
type FS struct {
	// fs gives pipefs its anonymous device number. Immutable.
	fs *vfs.Filesystem
	// nextIno numbers anonymous pipes' inodes (get_next_ino()).
	nextIno atomic.Uint64

	mu sync.Mutex
	// fifos maps a FIFO's inode to its pipe while any file has it open
	// or is opening it (inode->i_pipe). Protected by mu.
	fifos map[fifoKey]*Pipe
}

// fifoKey names a FIFO inode: its filesystem and inode number.
type fifoKey struct {
	fs  *vfs.Filesystem
	ino uint64
}

// pipefsImpl is pipefs as a filesystem type (never mounted).
type pipefsImpl struct{}

func (pipefsImpl) Name() string { return "pipefs" }

// Statfs implements vfs.FilesystemImpl (PIPEFS_MAGIC).
func (pipefsImpl) Statfs() (vfs.Statfs, error) {
	return vfs.Statfs{Type: 0x50495045, Bsize: PageSize, Frsize: PageSize, Namelen: vfs.NameMax}, nil
}

// instances holds each VFS's pipefs (*vfs.VirtualFilesystem → *FS).
var instances sync.Map

// For returns v's pipefs, creating it on first use.
func For(v *vfs.VirtualFilesystem) *FS {
	if fs, ok := instances.Load(v); ok {
		return fs.(*FS)
	}
	vfsFS, err := v.NewFilesystem(pipefsImpl{}, vfs.NewStaticDir(1, 0o700, nil))
	if err != nil {
		// A static directory always stats as a directory.
		panic("pipefs: " + err.Error())
	}
	fs := &FS{fs: vfsFS, fifos: make(map[fifoKey]*Pipe)}
	fs.nextIno.Store(1)
	got, _ := instances.LoadOrStore(v, fs)
	return got.(*FS)
}

// Install creates v's pipefs and makes FIFO nodes of every filesystem
// openable (v.OpenFIFO). Call it before the first task runs.
func Install(v *vfs.VirtualFilesystem) *FS {
	fs := For(v)
	v.OpenFIFO = fs.openFIFO
	return fs
}

// Dev returns the st_dev of anonymous pipes.
func (fs *FS) Dev() uint64 { return fs.fs.Dev() }

// NewPipe returns the read and write ends of a new anonymous pipe
// (create_pipe_files()), each with one reference. Their inode belongs to
// creds' fsuid and fsgid, mode 0600. flags may hold O_NONBLOCK (both ends)
// and O_DIRECT (the write end: packet mode).
func (fs *FS) NewPipe(creds *auth.Credentials, flags uint32) (r, w *vfs.FileDescription) {
	p := newPipe()
	in := &inode{dev: fs.Dev()}
	in.Init(fs.nextIno.Add(1), unix.S_IFIFO|0o600, creds.FSUID, creds.FSGID, 1, 0)
	p.open(true, true)
	re := &anonEnd{end: end{pipe: p, readable: true}, inode: in}
	we := &anonEnd{end: end{pipe: p, writable: true}, inode: in}
	r = vfs.NewAnonFile(re, unix.O_RDONLY|flags&unix.O_NONBLOCK, fileOptions)
	w = vfs.NewAnonFile(we, unix.O_WRONLY|flags&(unix.O_NONBLOCK|unix.O_DIRECT), fileOptions)
	return r, w
}

// getFIFO returns the pipe of the FIFO inode key, creating it, and counts
// a file for it.
func (fs *FS) getFIFO(key fifoKey) *Pipe {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := fs.fifos[key]
	if p == nil {
		p = newPipe()
		fs.fifos[key] = p
	}
	p.files++
	return p
}

// putFIFO uncounts a file of p; the last one drops the pipe and whatever
// it still holds (put_pipe_info()).
func (fs *FS) putFIFO(key fifoKey, p *Pipe) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p.files--
	if p.files == 0 && fs.fifos[key] == p {
		delete(fs.fifos, key)
	}
}

// openFIFO is vfs.VirtualFilesystem.OpenFIFO: it binds the file to its
// inode's pipe with the rules of fifo(7) and fifo_open(). Permissions were
// checked by the VFS.
func (fs *FS) openFIFO(ctx vfs.Context, vd vfs.VirtualDentry, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	st, err := vd.Dentry.Inode().Stat()
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	key := fifoKey{fs: vd.Dentry.Filesystem(), ino: st.Ino}
	p := fs.getFIFO(key)
	f := &fifoEnd{end: end{pipe: p}, fs: fs, key: key}
	if err := f.open(ctx, flags); err != nil {
		fs.putFIFO(key, p)
		return nil, vfs.FileOptions{}, err
	}
	return f, fileOptions, nil
}

// open counts the file as a reader and/or writer of its pipe and waits
// for the other side as fifo_open() does:
//   - O_RDONLY waits for a writer unless O_NONBLOCK (then EventHUp stays
//     off until a writer has come);
//   - O_WRONLY waits for a reader; with O_NONBLOCK and no reader, ENXIO;
//   - O_RDWR never waits.
//
// A wait is for the other side's open counter to move, so a partner that
// opened and closed meanwhile still counts. A signal ends it with
// ERESTARTSYS.
func (f *fifoEnd) open(ctx vfs.Context, flags uint32) error {
	p := f.pipe
	nonblock := flags&unix.O_NONBLOCK != 0
	p.mu.Lock()
	var counter *uint64
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		f.readable = true
		p.rCounter++
		p.readers++
		if p.writers == 0 {
			if nonblock {
				f.version = p.wCounter
			} else {
				counter = &p.wCounter
			}
		}
	case unix.O_WRONLY:
		if nonblock && p.readers == 0 {
			p.mu.Unlock()
			return unix.ENXIO
		}
		f.writable = true
		p.wCounter++
		p.writers++
		if p.readers == 0 {
			counter = &p.rCounter
		}
	case unix.O_RDWR:
		f.readable, f.writable = true, true
		p.rCounter++
		p.wCounter++
		p.readers++
		p.writers++
	default:
		p.mu.Unlock()
		return unix.EINVAL
	}
	var cur uint64
	if counter != nil {
		cur = *counter
	}
	p.mu.Unlock()
	// Wake openers waiting for this side (wake_up_partner()).
	p.queue.Notify(waiter.EventInternal)
	if counter == nil {
		return nil
	}
	_, err := vfs.BlockOn(ctx, p, waiter.EventInternal, false, time.Time{}, func() (struct{}, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if *counter != cur {
			return struct{}{}, nil
		}
		return struct{}{}, unix.EAGAIN
	})
	if err != nil {
		f.release()
		return err
	}
	return nil
}
