// Package devpts is the sentry's pseudo-terminals: the devpts filesystem
// (/dev/pts, with ptmx and one node per terminal), the pty master and
// replica files, and the N_TTY line discipline between them: canonical
// mode with erase and kill, echo, signals to the foreground process
// group (^C, ^\, ^Z), window size with SIGWINCH, and the job-control
// ioctls (TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCNOTTY). It also
// provides /dev/tty, the caller's controlling terminal.
//
// Lock order: Filesystem.mu, then Terminal.mu. Signals are sent after
// Terminal.mu is released (the kernel's locks are never taken under it).
//
// A background process group of the terminal's session that reads, or
// that writes with TOSTOP set or changes the terminal, gets SIGTTIN or
// SIGTTOU (jobCheck).
//
// Non-canonical reads honour VMIN and VTIME (replicaFile.readTimed).
//
// Not yet: packet mode (TIOCPKT).
package devpts

import (
	"fmt"
	"sort"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// Device numbers (Documentation/admin-guide/devices.txt).
const (
	ttyAuxMajor   = 5 // /dev/tty is 5:0, /dev/ptmx 5:2
	ptmxMinor     = 2
	ttyMinor      = 0
	replicaMajor  = 136 // UNIX98 pty replicas
	maxTerminals  = 4096
	ttyGID        = 5 // the tty group, as docker's gid=5 mount option
	replicaMode   = 0o620
	devptsMagic   = 0x1cd1
	firstInoAfter = 3
)

// JobControl is what the terminals need from the kernel (implemented by
// *kernel.Kernel).
type JobControl interface {
	SignalProcessGroup(pgid int32, sig int) bool
	SignalProcess(pid int32, sig int) bool
	// ProcessGroupSession returns the session of process group pgid,
	// false if the group has no live member.
	ProcessGroupSession(pgid int32) (int32, bool)
}

// jobCtx is what a caller (a *kernel.Task) tells about itself.
type jobCtx interface {
	JobIDs() (pid, pgid, sid int32)
	// TTYBackgroundAccess decides the access of a caller from a
	// background process group: nil to go ahead, or EIO, or
	// ERESTARTSYS after sig was sent to the caller's group.
	TTYBackgroundAccess(sig int) error
}

// Filesystem is one devpts instance. The sandbox has one (mounting devpts
// again shows the same terminals, like a mount without newinstance).
type Filesystem struct {
	vfs.SimpleFilesystem
	v  *vfs.VirtualFilesystem
	jc JobControl

	root *vfs.SyntheticDir
	ptmx *vfs.InodeAttrs

	mu sync.Mutex
	// terms are the terminals by number. Protected by mu.
	terms map[uint32]*Terminal
	// nodes are the /dev/pts/N inodes. Protected by mu.
	nodes map[uint32]*replicaNode
	// ctty maps a session to its controlling terminal. Protected by mu.
	ctty map[int32]*Terminal
}

// New creates the devpts filesystem and registers /dev/ptmx, the
// replicas' major and /dev/tty with v.
func New(v *vfs.VirtualFilesystem, jc JobControl) (*vfs.Filesystem, *Filesystem, error) {
	fs := &Filesystem{
		SimpleFilesystem: vfs.SimpleFilesystem{FSName: "devpts", Magic: devptsMagic},
		v:                v,
		jc:               jc,
		terms:            map[uint32]*Terminal{},
		nodes:            map[uint32]*replicaNode{},
		ctty:             map[int32]*Terminal{},
	}
	ptmx := &ptmxNode{}
	ptmx.Init(2, unix.S_IFCHR|0o666, 0, 0, 1, unix.Mkdev(ttyAuxMajor, ptmxMinor))
	fs.ptmx = &ptmx.InodeAttrs
	fs.root = vfs.NewSyntheticDir(1, 0o755, func() ([]vfs.SyntheticDirent, error) {
		ents := []vfs.SyntheticDirent{{Name: "ptmx", Inode: ptmx}}
		fs.mu.Lock()
		ns := make([]uint32, 0, len(fs.nodes))
		for n := range fs.nodes {
			ns = append(ns, n)
		}
		sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
		for _, n := range ns {
			ents = append(ents, vfs.SyntheticDirent{Name: strconv.Itoa(int(n)), Inode: fs.nodes[n]})
		}
		fs.mu.Unlock()
		return ents, nil
	})
	fs.root.Dynamic = true
	v.RegisterCharDevice(ttyAuxMajor, ptmxMinor, ptmxDevice{fs})
	v.RegisterCharDevice(ttyAuxMajor, ttyMinor, ttyDevice{fs})
	vfsFS, err := v.NewFilesystem(fs, fs.root)
	if err != nil {
		return nil, nil, err
	}
	return vfsFS, fs, nil
}

// ptmxNode is /dev/pts/ptmx.
type ptmxNode struct {
	vfs.InodeAttrs
}

func (p *ptmxNode) Stat() (vfs.Stat, error)                    { return p.StatAttrs(), nil }
func (p *ptmxNode) SetStat(_ vfs.Context, s vfs.SetStat) error { return p.SetStatNoSize(s) }
func (p *ptmxNode) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO // device nodes are opened by the VFS
}

// replicaNode is /dev/pts/N.
type replicaNode struct {
	vfs.InodeAttrs
}

func (r *replicaNode) Stat() (vfs.Stat, error)                    { return r.StatAttrs(), nil }
func (r *replicaNode) SetStat(_ vfs.Context, s vfs.SetStat) error { return r.SetStatNoSize(s) }
func (r *replicaNode) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}

// NewTerminal allocates a terminal as opening /dev/ptmx does, owned by
// uid, and returns it unlocked (for the sandbox's own bridge, which holds
// the master side; Close releases it).
func (fs *Filesystem) NewTerminal(uid uint32) (*Terminal, error) {
	t, err := fs.alloc(uid)
	if err != nil {
		return nil, err
	}
	t.locked = false
	return t, nil
}

// alloc makes terminal N (the lowest free number) with its node, locked
// as a fresh ptmx open leaves it (devpts_new_index(), devpts_pty_new()).
func (fs *Filesystem) alloc(uid uint32) (*Terminal, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var n uint32
	for n = 0; n < maxTerminals; n++ {
		if fs.terms[n] == nil {
			break
		}
	}
	if n == maxTerminals {
		return nil, unix.ENOSPC
	}
	t := &Terminal{fs: fs, n: n, locked: true}
	t.ld.termios = defaultTermios()
	node := &replicaNode{}
	node.Init(uint64(firstInoAfter+n), unix.S_IFCHR|replicaMode, uid, ttyGID, 1, unix.Mkdev(replicaMajor, n))
	fs.terms[n] = t
	fs.nodes[n] = node
	fs.v.RegisterCharDevice(replicaMajor, n, replicaDevice{t})
	return t, nil
}

// remove deletes terminal t's node; its number is free again.
func (fs *Filesystem) remove(t *Terminal) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.terms[t.n] != t {
		return
	}
	delete(fs.terms, t.n)
	delete(fs.nodes, t.n)
	fs.v.RegisterCharDevice(replicaMajor, t.n, goneDevice{})
	for sid, ct := range fs.ctty {
		if ct == t {
			delete(fs.ctty, sid)
		}
	}
}

func (fs *Filesystem) setCtty(sid int32, t *Terminal) {
	fs.mu.Lock()
	fs.ctty[sid] = t
	fs.mu.Unlock()
}

func (fs *Filesystem) clearCtty(sid int32, t *Terminal) {
	fs.mu.Lock()
	if fs.ctty[sid] == t {
		delete(fs.ctty, sid)
	}
	fs.mu.Unlock()
}

func (fs *Filesystem) cttyOf(sid int32) *Terminal {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.ctty[sid]
}

// Path returns the name of terminal t under a devpts mounted at mnt.
func (t *Terminal) Path(mnt string) string { return fmt.Sprintf("%s/%d", mnt, t.n) }

// ptmxDevice opens a new master (ptmx_open()).
type ptmxDevice struct{ fs *Filesystem }

func (d ptmxDevice) Open(ctx vfs.Context, _ vfs.VirtualDentry, _ uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	t, err := d.fs.alloc(ctx.Credentials().FSUID)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	return &masterFile{t: t}, vfs.FileOptions{Positionless: true, NoPRead: true}, nil
}

// replicaDevice opens /dev/pts/N (pts_unix98_lookup(), tty_open()).
type replicaDevice struct{ t *Terminal }

func (d replicaDevice) Open(ctx vfs.Context, _ vfs.VirtualDentry, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	t := d.t
	t.mu.Lock()
	if t.locked || t.masterClosed {
		t.mu.Unlock()
		return nil, vfs.FileOptions{}, unix.EIO
	}
	t.replicaOpens++
	t.replicaSeen = true
	noCtty := flags&unix.O_NOCTTY != 0 || t.sid != 0
	t.mu.Unlock()
	// A session leader without a controlling terminal that opens a
	// terminal nobody controls acquires it (tty_open_proc_set_tty()).
	if jc, ok := ctx.(jobCtx); ok && !noCtty {
		pid, pgid, sid := jc.JobIDs()
		if pid == sid && t.fs.cttyOf(sid) == nil {
			t.SetControlling(sid, pgid)
		}
	}
	return &replicaFile{t: t}, vfs.FileOptions{Positionless: true, NoPRead: true}, nil
}

// ttyDevice is /dev/tty: the caller's controlling terminal, or ENXIO.
type ttyDevice struct{ fs *Filesystem }

func (d ttyDevice) Open(ctx vfs.Context, vd vfs.VirtualDentry, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	jc, ok := ctx.(jobCtx)
	if !ok {
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	_, _, sid := jc.JobIDs()
	t := d.fs.cttyOf(sid)
	if t == nil {
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	return replicaDevice{t}.Open(ctx, vd, flags|unix.O_NOCTTY)
}

// goneDevice is a released terminal's number.
type goneDevice struct{}

func (goneDevice) Open(vfs.Context, vfs.VirtualDentry, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}
