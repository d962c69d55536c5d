// Package goferfs is the sentry's filesystem backed by a gofer (see
// pangolin/gofer): every inode wraps a gofer node, metadata operations are
// gofer RPCs, and file I/O and mmap go straight to host FDs the gofer
// donates, with no round trip (gVisor's fsimpl/gofer plays the same role).
//
// # Caching
//
// Each inode caches its attributes. The cache is refreshed by every RPC
// that returns attributes (walks, SetStat, Link), by fstat(2) on a host FD
// whenever the inode has one open (so an open file's size is always
// fresh), and by revalidation. Mutations made through this filesystem
// update the cached times and link counts locally, as Linux's in-memory
// inode does, instead of asking the gofer again.
//
// Cached children are revalidated (Revalidator) by walking the name again
// and comparing the host (st_dev, st_ino): a file replaced or removed on
// the host (docker cp, a bind-mounted volume) is noticed at the next path
// lookup. Options select how often (every time, after an interval, or never
// for a tree the sandbox owns exclusively).
//
// # Host FDs
//
// An inode shares its donated host FDs between the open files and mappings
// that use them: at most one per access mode (O_RDONLY, O_WRONLY, O_RDWR),
// reference counted, and closed when the last open file and mapping using
// it are gone. A read-only open reuses an O_RDWR FD if one is open (the VFS
// enforces the description's access mode, so this grants nothing). Creating
// a regular file keeps the O_RDWR FD the gofer's Create returned, so the
// open(O_CREAT) that follows needs no second RPC.
//
// # Node lifetime
//
// The VFS has no hook telling a filesystem that a dentry was evicted, so an
// inode's gofer node is released (CloseNodes) by a runtime cleanup when the
// inode becomes unreachable: no dentry, open file or mapping refers to it.
// Releases are batched.
//
// # Lock order
//
//	inode.direntMu
//	inode.writeMu
//	  inode.handleMu
//	    inode.mu
//	    handle.mapMu
//	Filesystem.inoMu, Filesystem.releaseMu, Filesystem.spareMu (leaves)
//
// Gofer RPCs may be made with inode.direntMu or inode.handleMu held, never
// with the leaf locks held.
package goferfs

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/gofer/client"
)

// Options configure a Filesystem.
type Options struct {
	// Exclusive declares that nothing but this sandbox changes the tree
	// (the gofer's root is private to the container), so cached children
	// are never revalidated (gVisor's "exclusive" cache policy).
	Exclusive bool

	// RevalidateAfter trusts a cached child that was checked against the
	// gofer less than this long ago. Zero revalidates on every lookup of
	// a cached name: host changes are seen immediately, for one Walk
	// round trip per path component. Ignored if Exclusive.
	RevalidateAfter time.Duration
}

// v9fsMagic is V9FS_MAGIC (include/uapi/linux/magic.h). statfs(2) reports
// it, and /proc/mounts shows "9p", as gVisor does for its gofer mounts:
// applications see a network filesystem and do not try host-filesystem
// specific ioctls.
const v9fsMagic = 0x01021997

// releaseBatch is how many unused gofer nodes are queued before one Close
// request releases them all.
const releaseBatch = 32

// maxSpares bounds the host FDs kept from Create for files not opened yet
// (mknod(2) of a regular file never opens it).
const maxSpares = 8

// inoKey is a host file's identity.
type inoKey struct {
	dev, ino uint64
}

// Filesystem is one gofer-backed filesystem instance. It implements
// vfs.FilesystemImpl.
type Filesystem struct {
	c        *client.Client // immutable
	opts     Options        // immutable
	readOnly bool           // immutable: the gofer refuses mutations
	root     *inode         // immutable
	epoch    time.Time      // immutable: origin of revalidation stamps

	inoMu sync.Mutex
	// inos maps host (dev, ino) pairs to the inode numbers the sentry
	// reports. The gofer's tree may span several host filesystems (a
	// rootfs of the host "/" includes /proc, /sys, ...), but the VFS
	// gives the whole mount one st_dev, so host inode numbers alone
	// could collide and make tools like du, tar and cp -a treat two
	// files as hard links (gVisor's gofer keeps the same kind of map).
	// Entries are never removed, so a file keeps its number. Protected
	// by inoMu.
	// +checklocks:inoMu
	inos map[inoKey]uint64
	// nextIno is the next inode number to hand out. Protected by inoMu.
	// +checklocks:inoMu
	nextIno uint64

	releaseMu sync.Mutex
	// releases are nodes waiting for a batched Close. Protected by
	// releaseMu.
	// +checklocks:releaseMu
	releases []client.Node

	spareMu sync.Mutex
	// spares are inodes that may still hold the FD their Create
	// returned, oldest first; at most maxSpares. Protected by spareMu.
	// +checklocks:spareMu
	spares []*inode
}

var _ vfs.FilesystemImpl = (*Filesystem)(nil)

// New returns a filesystem serving the tree of c. The caller keeps
// ownership of c and must keep it open as long as the filesystem is used.
func New(c *client.Client, opts Options) (*Filesystem, error) {
	if c == nil {
		return nil, unix.EINVAL
	}
	if opts.RevalidateAfter < 0 {
		return nil, unix.EINVAL
	}
	fs := &Filesystem{
		c:        c,
		opts:     opts,
		readOnly: c.ReadOnly(),
		epoch:    time.Now(),
		inos:     make(map[inoKey]uint64),
		nextIno:  1,
	}
	root := c.Root()
	// The root is a directory, or a single file for a bind-mounted file;
	// never a symlink (the gofer's root is opened following links).
	if root.Stat.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil, unix.EINVAL
	}
	// The root node belongs to the client (it is the mount's); it is
	// never released here.
	fs.root = fs.newInode(root, false)
	return fs, nil
}

// Root returns the root directory.
func (fs *Filesystem) Root() vfs.Inode { return fs.root }

// ReadOnly reports whether the gofer refuses mutations (EROFS).
func (fs *Filesystem) ReadOnly() bool { return fs.readOnly }

// Name implements vfs.FilesystemImpl.
func (fs *Filesystem) Name() string { return "9p" }

// Statfs implements vfs.FilesystemImpl with the host filesystem's numbers
// for the gofer's root (fstatfs(2) on the host). The type is V9FS_MAGIC;
// the flags are left to the VFS, which knows the mount's (host mount
// flags mean nothing inside the sandbox), except ST_RDONLY for a
// read-only gofer.
func (fs *Filesystem) Statfs() (vfs.Statfs, error) {
	s, err := fs.c.StatFS(fs.root.node)
	if err != nil {
		return vfs.Statfs{}, errno(err)
	}
	out := vfs.Statfs{
		Type:    v9fsMagic,
		Bsize:   int64(s.Bsize),
		Blocks:  s.Blocks,
		Bfree:   s.Bfree,
		Bavail:  s.Bavail,
		Files:   s.Files,
		Ffree:   s.Ffree,
		Namelen: s.Namelen,
		Frsize:  int64(s.Frsize),
	}
	if fs.readOnly {
		out.Flags |= unix.ST_RDONLY
	}
	return out, nil
}

// errno returns the unix.Errno inside a gofer client error. The VFS
// compares errors with == (err == unix.ENOENT), so the client's wrapping
// must not reach it. Anything without an errno is EIO.
func errno(err error) error {
	if err == nil {
		return nil
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// inoOf returns the sentry inode number of host file k.
func (fs *Filesystem) inoOf(k inoKey) uint64 {
	fs.inoMu.Lock()
	defer fs.inoMu.Unlock()
	ino, ok := fs.inos[k]
	if !ok {
		ino = fs.nextIno
		fs.nextIno++
		fs.inos[k] = ino
	}
	return ino
}

// now returns a monotonic timestamp for revalidation.
func (fs *Filesystem) now() int64 { return int64(time.Since(fs.epoch)) }

// releaseNode queues n for release on the gofer. It never blocks on the
// gofer (it runs in runtime cleanups): a full batch is sent by a new
// goroutine.
func (fs *Filesystem) releaseNode(n client.Node) {
	fs.releaseMu.Lock()
	fs.releases = append(fs.releases, n)
	var batch []client.Node
	if len(fs.releases) >= releaseBatch {
		batch, fs.releases = fs.releases, nil
	}
	fs.releaseMu.Unlock()
	if batch != nil {
		// An error means the connection is gone, and with it every
		// node: nothing is left to release.
		go fs.c.CloseNodes(batch...)
	}
}

// releaseNodes queues every node of ns.
func (fs *Filesystem) releaseNodes(ns []client.Node) {
	for _, n := range ns {
		fs.releaseNode(n)
	}
}

// Flush sends the queued node releases now (tests, and before closing the
// client for an orderly shutdown).
func (fs *Filesystem) Flush() error {
	fs.releaseMu.Lock()
	batch := fs.releases
	fs.releases = nil
	fs.releaseMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return errno(fs.c.CloseNodes(batch...))
}

// addSpare records that i holds a created FD not yet opened, closing the
// oldest spare FD beyond maxSpares.
func (fs *Filesystem) addSpare(i *inode) {
	fs.spareMu.Lock()
	fs.spares = append(fs.spares, i)
	var old *inode
	if len(fs.spares) > maxSpares {
		old = fs.spares[0]
		fs.spares = append(fs.spares[:0], fs.spares[1:]...)
	}
	fs.spareMu.Unlock()
	if old != nil {
		old.dropSpare()
	}
}

// newInode wraps node n. If release, the node is released on the gofer
// once the inode is unreachable.
func (fs *Filesystem) newInode(n client.Node, release bool) *inode {
	k := inoKey{n.Stat.Dev, n.Stat.Ino}
	i := &inode{
		fs:      fs,
		node:    client.Node{ID: n.ID},
		key:     k,
		ino:     fs.inoOf(k),
		ftype:   n.Stat.FileType(),
		stat:    n.Stat,
		spareFD: -1,
	}
	i.validated.Store(fs.now())
	if release {
		// The cleanup must not refer to i, or i would never become
		// unreachable.
		runtime.AddCleanup(i, fs.releaseNode, client.Node{ID: n.ID})
	}
	return i
}
