package goferfs

import (
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/gofer/client"
	"pangolin/gofer/proto"
)

// inode is a file of the gofer's tree. It implements vfs.Inode and, for
// directories, vfs.Lookuper, vfs.DirIterator, vfs.Revalidator and the
// mutation interfaces; for symlinks, vfs.Readlinker. The methods check the
// file type, since one Go type serves every kind of file.
type inode struct {
	fs *Filesystem // immutable
	// node names the file on the gofer (only its ID is used; the
	// attributes live in stat). Immutable.
	node client.Node
	// key is the host (st_dev, st_ino), ino the number the sentry
	// reports. Immutable: a node holds one host inode for life.
	key inoKey
	ino uint64
	// ftype is the S_IFMT bits. Immutable.
	ftype uint32

	// validated is Filesystem.now() when the inode was last found under
	// its name by a walk.
	validated atomic.Int64

	mu sync.Mutex
	// stat is the cached host attributes. Protected by mu.
	// +checklocks:mu
	stat proto.Stat
	// target is a symlink's target once read; symlinks cannot change
	// (a new target is a new inode), so it never goes stale. haveTarget
	// tells whether it was read. Protected by mu.
	// +checklocks:mu
	target string
	// +checklocks:mu
	haveTarget bool

	direntMu sync.Mutex
	// dirents is the listing read by the last IterDirents from offset
	// 2, which later offsets index into. It is replaced, never
	// modified, so a copy of the slice may be used unlocked. Protected
	// by direntMu.
	// +checklocks:direntMu
	dirents []proto.Dirent

	// writeMu makes an O_APPEND write (fstat for the size, then pwrite
	// there) atomic with respect to the other writes made through this
	// inode; Linux holds i_rwsem across every write
	// (generic_file_write_iter()). Plain writes hold it for reading:
	// the host's own i_rwsem orders them.
	writeMu sync.RWMutex

	handleMu sync.Mutex
	// handles are the shared host FDs, indexed by access mode (O_RDONLY,
	// O_WRONLY, O_RDWR). Protected by handleMu.
	// +checklocks:handleMu
	handles [3]*handle
	// spareFD is the O_RDWR FD returned by Create that no open file has
	// adopted yet, or -1. Protected by handleMu.
	// +checklocks:handleMu
	spareFD int
}

var (
	_ vfs.Inode       = (*inode)(nil)
	_ vfs.Lookuper    = (*inode)(nil)
	_ vfs.DirIterator = (*inode)(nil)
	_ vfs.Revalidator = (*inode)(nil)
	_ vfs.Mknoder     = (*inode)(nil)
	_ vfs.Mkdirer     = (*inode)(nil)
	_ vfs.Symlinker   = (*inode)(nil)
	_ vfs.Linker      = (*inode)(nil)
	_ vfs.Unlinker    = (*inode)(nil)
	_ vfs.Renamer     = (*inode)(nil)
	_ vfs.Readlinker  = (*inode)(nil)
)

func (i *inode) isDir() bool { return i.ftype == unix.S_IFDIR }

func timespec(t proto.Timespec) vfs.Timespec { return vfs.Timespec{Sec: t.Sec, Nsec: t.Nsec} }

func nowProto() proto.Timespec {
	t := vfs.Now()
	return proto.Timespec{Sec: t.Sec, Nsec: t.Nsec}
}

// Stat implements vfs.Inode. A regular file with an open host FD is
// fstat'ed (fresh size and times, whoever wrote); otherwise the cached
// attributes are returned.
func (i *inode) Stat() (vfs.Stat, error) {
	if i.ftype == unix.S_IFREG {
		i.refreshFromFD()
	}
	i.mu.Lock()
	s := i.stat
	i.mu.Unlock()
	return vfs.Stat{
		Mask:    unix.STATX_BASIC_STATS,
		Mode:    s.Mode,
		Nlink:   uint32(min(s.Nlink, math.MaxUint32)),
		UID:     s.UID,
		GID:     s.GID,
		Ino:     i.ino,
		Rdev:    s.Rdev,
		Size:    s.Size,
		Blocks:  s.Blocks,
		Blksize: uint32(s.Blksize),
		Atime:   timespec(s.Atime),
		Mtime:   timespec(s.Mtime),
		Ctime:   timespec(s.Ctime),
	}, nil
}

// refreshFromFD updates the cached attributes with fstat(2) on one of the
// inode's host FDs, if it has any.
func (i *inode) refreshFromFD() {
	i.handleMu.Lock()
	defer i.handleMu.Unlock()
	fd := i.spareFD
	for _, h := range i.handles {
		if h != nil {
			fd = h.fd
			break
		}
	}
	if fd < 0 {
		return
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return
	}
	s := proto.StatFromUnix(&st)
	// The owner comes from the gofer, never from our own fstat: the
	// sentry runs in a user namespace of its own, where host IDs with no
	// mapping (root's, everybody's but nobody's) read as the overflow ID.
	i.mu.Lock()
	s.UID, s.GID = i.stat.UID, i.stat.GID
	i.stat = s
	i.mu.Unlock()
}

// setStat replaces the cached attributes with ones the host reported.
func (i *inode) setStat(s proto.Stat) {
	i.mu.Lock()
	i.stat = s
	i.mu.Unlock()
}

// touchCtime records a change of the inode's links (link, unlink, rename)
// locally: ctime becomes now and nlink moves by nlinkDelta (never below
// zero).
func (i *inode) touchCtime(nlinkDelta int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.stat.Ctime = nowProto()
	switch {
	case nlinkDelta < 0 && i.stat.Nlink < uint64(-nlinkDelta):
		i.stat.Nlink = 0
	default:
		i.stat.Nlink = uint64(int64(i.stat.Nlink) + int64(nlinkDelta))
	}
}

// touchDir records locally a change of the directory's entries, as the
// host just made it: mtime and ctime become now, and nlink moves by
// subdirs (subdirectories added or removed). Filesystems that do not
// count subdirectories report nlink 1 for directories (btrfs, many network
// filesystems); find(1) reads 1 as "unknown" and must keep seeing it.
func (i *inode) touchDir(subdirs int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := nowProto()
	i.stat.Mtime, i.stat.Ctime = now, now
	if subdirs != 0 && i.stat.Nlink >= 2 {
		n := int64(i.stat.Nlink) + int64(subdirs)
		i.stat.Nlink = uint64(max(n, 2))
	}
}

// SetStat implements vfs.Inode with the gofer's SetStat, which applies
// size, owner, mode and times in that order and returns the new
// attributes (the host sets ctime, and mtime on truncation, as
// notify_change() does).
func (i *inode) SetStat(ctx vfs.Context, s vfs.SetStat) error {
	if i.fs.readOnly {
		return unix.EROFS
	}
	var a proto.SetAttr
	if s.Mask&unix.STATX_MODE != 0 {
		a.Mask |= proto.SetStatMode
		a.Mode = s.Mode & 0o7777
	}
	if s.Mask&unix.STATX_UID != 0 {
		a.Mask |= proto.SetStatUID
		a.UID = s.UID
	}
	if s.Mask&unix.STATX_GID != 0 {
		a.Mask |= proto.SetStatGID
		a.GID = s.GID
	}
	if s.Mask&unix.STATX_SIZE != 0 {
		if s.Size < 0 {
			return unix.EINVAL
		}
		a.Mask |= proto.SetStatSize
		a.Size = uint64(s.Size)
	}
	if s.Mask&unix.STATX_ATIME != 0 {
		a.Mask |= proto.SetStatAtime
		a.Atime = proto.Timespec{Sec: s.Atime.Sec, Nsec: s.Atime.Nsec}
	}
	if s.Mask&unix.STATX_MTIME != 0 {
		a.Mask |= proto.SetStatMtime
		a.Mtime = proto.Timespec{Sec: s.Mtime.Sec, Nsec: s.Mtime.Nsec}
	}
	if a.Mask == 0 {
		return nil
	}
	st, err := i.fs.c.SetStat(i.node, a)
	if err != nil {
		return errno(err)
	}
	i.setStat(st)
	return nil
}

// Open implements vfs.Inode. Regular files get a shared host FD of the
// requested access mode; directories need none (listing goes through the
// gofer node).
func (i *inode) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	switch i.ftype {
	case unix.S_IFDIR:
		return &dirFile{inode: i}, vfs.FileOptions{}, nil
	case unix.S_IFREG:
	case unix.S_IFLNK:
		return nil, vfs.FileOptions{}, unix.ELOOP
	default:
		// FIFOs and devices are opened by the VFS, never here; a
		// socket file cannot be opened (ENXIO, as open(2)).
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	acc := flags & unix.O_ACCMODE
	if acc == unix.O_ACCMODE {
		// Access mode 3 (no read, no write; ioctl only) needs both
		// permissions, which the VFS checked; a read-write FD serves.
		acc = unix.O_RDWR
	}
	if i.fs.readOnly && acc != unix.O_RDONLY {
		return nil, vfs.FileOptions{}, unix.EROFS
	}
	h, err := i.getHandle(acc)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	return &regularFile{inode: i, h: h, syncMode: flags & unix.O_SYNC}, vfs.FileOptions{}, nil
}

// Lookup implements vfs.Lookuper with a one-name Walk.
func (i *inode) Lookup(name string) (vfs.Inode, error) {
	if !i.isDir() {
		return nil, unix.ENOTDIR
	}
	nodes, err := i.fs.c.Walk(i.node, []string{name})
	if err != nil {
		i.fs.releaseNodes(nodes)
		return nil, errno(err)
	}
	if len(nodes) != 1 {
		i.fs.releaseNodes(nodes)
		return nil, unix.EIO
	}
	return i.fs.newInode(nodes[0], true), nil
}

// Revalidate implements vfs.Revalidator (d_revalidate, as
// v9fs_lookup_revalidate() and nfs_lookup_revalidate() do for remote
// trees): the name is walked again and the child stays valid if it still
// names the same host file. The walk's attributes refresh the child's
// cache, so stat(2) sees host changes too.
func (i *inode) Revalidate(name string, child vfs.Inode) bool {
	c, ok := child.(*inode)
	if !ok || c.fs != i.fs || i.fs.opts.Exclusive {
		return true
	}
	now := i.fs.now()
	if after := int64(i.fs.opts.RevalidateAfter); after > 0 && now-c.validated.Load() < after {
		return true
	}
	nodes, err := i.fs.c.Walk(i.node, []string{name})
	i.fs.releaseNodes(nodes)
	if err != nil || len(nodes) != 1 {
		// Gone (ENOENT), or the gofer is unhappy: look the name up
		// again, which reports the error.
		return false
	}
	st := nodes[0].Stat
	if (inoKey{st.Dev, st.Ino}) != c.key || st.FileType() != c.ftype {
		return false
	}
	c.setStat(st)
	c.validated.Store(now)
	return true
}

// IterDirents implements vfs.DirIterator. Offset 2 (the first entry after
// "." and "..", so every opendir and rewinddir) reads the whole listing
// from the gofer; entry k of that listing has cookie k+3, so later calls
// resume by index. Entries added or removed after the listing was read
// show up at the next rewind, which POSIX allows (readdir(3)). The
// snapshot is per directory, not per open file: a concurrent rewind by
// another open file replaces it for everyone.
func (i *inode) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	if !i.isDir() {
		return unix.ENOTDIR
	}
	if off < 2 {
		return unix.EINVAL
	}
	i.direntMu.Lock()
	ents := i.dirents
	if off == 2 || ents == nil {
		var err error
		ents, err = i.fs.c.Getdents(i.node)
		if err != nil {
			i.direntMu.Unlock()
			return errno(err)
		}
		if ents == nil {
			ents = []proto.Dirent{}
		}
		i.dirents = ents
	}
	i.direntMu.Unlock()
	for k := off - 2; k < int64(len(ents)); k++ {
		d := &ents[k]
		de := vfs.Dirent{
			Name: d.Name,
			// getdents(2) has no st_dev: the entry is on the
			// directory's device (a mount point shows the inode
			// underneath, as on Linux).
			Ino:     i.fs.inoOf(inoKey{i.key.dev, d.Ino}),
			Type:    d.Type,
			NextOff: k + 3,
		}
		if !emit(de) {
			return nil
		}
	}
	return nil
}

// checkCreate is the part of every creation the filesystem checks.
func (i *inode) checkCreate() error {
	if !i.isDir() {
		return unix.ENOTDIR
	}
	if i.fs.readOnly {
		return unix.EROFS
	}
	return nil
}

// Mknod implements vfs.Mknoder. A regular file is made with the gofer's
// Create (O_CREAT|O_EXCL) and the O_RDWR FD it returns is kept for the
// open that normally follows; a FIFO or a socket node with the gofer's
// Mknod (a socket node is only a placeholder: the VFS associates it with
// the sentry's bound socket). Device nodes fail with EPERM: the gofer never
// makes them on the host (as mknod(2) without CAP_MKNOD).
func (i *inode) Mknod(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := i.checkCreate(); err != nil {
		return nil, err
	}
	var child *inode
	switch opts.Mode & unix.S_IFMT {
	case unix.S_IFREG, 0:
		n, fd, err := i.fs.c.Create(i.node, name, unix.O_RDWR, opts.Mode&0o7777, opts.UID, opts.GID)
		if err != nil {
			return nil, errno(err)
		}
		child = i.fs.newInode(n, true)
		child.spareFD = fd
		i.fs.addSpare(child)
	case unix.S_IFIFO, unix.S_IFSOCK:
		n, err := i.fs.c.Mknod(i.node, name, opts.Mode&(unix.S_IFMT|0o7777), opts.UID, opts.GID)
		if err != nil {
			return nil, errno(err)
		}
		child = i.fs.newInode(n, true)
	default:
		return nil, unix.EPERM
	}
	i.touchDir(0)
	return child, nil
}

// Mkdir implements vfs.Mkdirer. The VFS has put S_ISGID in the mode if
// the parent has it; the gofer keeps it.
func (i *inode) Mkdir(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := i.checkCreate(); err != nil {
		return nil, err
	}
	n, err := i.fs.c.Mkdir(i.node, name, opts.Mode&0o7777, opts.UID, opts.GID)
	if err != nil {
		return nil, errno(err)
	}
	i.touchDir(1)
	return i.fs.newInode(n, true), nil
}

// Symlink implements vfs.Symlinker.
func (i *inode) Symlink(name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	if err := i.checkCreate(); err != nil {
		return nil, err
	}
	n, err := i.fs.c.Symlink(i.node, name, target, opts.UID, opts.GID)
	if err != nil {
		return nil, errno(err)
	}
	child := i.fs.newInode(n, true)
	child.target, child.haveTarget = target, true
	i.touchDir(0)
	return child, nil
}

// Link implements vfs.Linker. The gofer's reply carries the target's new
// attributes (link count, ctime).
func (i *inode) Link(name string, target vfs.Inode) error {
	if err := i.checkCreate(); err != nil {
		return err
	}
	t, ok := target.(*inode)
	if !ok || t.fs != i.fs {
		return unix.EXDEV
	}
	n, err := i.fs.c.Link(i.node, name, t.node)
	if err != nil {
		return errno(err)
	}
	// The VFS keeps using t for the new name; this node is a duplicate.
	i.fs.releaseNode(n)
	t.setStat(n.Stat)
	i.touchDir(0)
	return nil
}

// Unlink implements vfs.Unlinker.
func (i *inode) Unlink(name string, child vfs.Inode) error {
	if err := i.checkCreate(); err != nil {
		return err
	}
	if err := i.fs.c.Unlink(i.node, name, 0); err != nil {
		return errno(err)
	}
	if c, ok := child.(*inode); ok {
		c.touchCtime(-1)
	}
	i.touchDir(0)
	return nil
}

// Rmdir implements vfs.Unlinker. The host checks emptiness (ENOTEMPTY).
func (i *inode) Rmdir(name string, child vfs.Inode) error {
	if err := i.checkCreate(); err != nil {
		return err
	}
	if err := i.fs.c.Unlink(i.node, name, unix.AT_REMOVEDIR); err != nil {
		return errno(err)
	}
	if c, ok := child.(*inode); ok {
		// An empty directory has two links ("." and its name); both
		// go (vfs_rmdir() → clear_nlink()).
		c.touchCtime(-int(c.Nlink()))
	}
	i.touchDir(-1)
	return nil
}

// Nlink returns the cached link count.
func (i *inode) Nlink() uint64 {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.stat.Nlink
}

// Rename implements vfs.Renamer with renameat2(2) on the host, which
// checks that a replaced directory is empty.
func (i *inode) Rename(oldName string, child vfs.Inode, newDir vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	if err := i.checkCreate(); err != nil {
		return err
	}
	nd, ok := newDir.(*inode)
	if !ok || nd.fs != i.fs {
		return unix.EXDEV
	}
	if err := i.fs.c.Rename(i.node, oldName, nd.node, newName, flags); err != nil {
		return errno(err)
	}
	dirCount := func(in vfs.Inode) int {
		if c, ok := in.(*inode); ok && c.isDir() {
			return 1
		}
		return 0
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	// Subdirectory moves change the parents' link counts ("..").
	oldDelta, newDelta := -dirCount(child), dirCount(child)
	if c, ok := child.(*inode); ok {
		c.touchCtime(0)
	}
	if r, ok := replaced.(*inode); ok {
		if exchange {
			oldDelta += dirCount(r)
			newDelta -= dirCount(r)
			r.touchCtime(0)
		} else {
			newDelta -= dirCount(r)
			if r.isDir() {
				r.touchCtime(-int(r.Nlink()))
			} else {
				r.touchCtime(-1)
			}
		}
	}
	if nd == i {
		i.touchDir(oldDelta + newDelta)
	} else {
		i.touchDir(oldDelta)
		nd.touchDir(newDelta)
	}
	return nil
}

// Readlink implements vfs.Readlinker; the target is read once.
func (i *inode) Readlink() (string, error) {
	if i.ftype != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	i.mu.Lock()
	if i.haveTarget {
		t := i.target
		i.mu.Unlock()
		return t, nil
	}
	i.mu.Unlock()
	t, err := i.fs.c.Readlink(i.node)
	if err != nil {
		return "", errno(err)
	}
	i.mu.Lock()
	i.target, i.haveTarget = t, true
	i.mu.Unlock()
	return t, nil
}
