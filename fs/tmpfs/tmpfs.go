// Package tmpfs is an in-memory filesystem (mm/shmem.c): regular files,
// directories, symlinks, hard links and device/FIFO/socket nodes. File
// data lives in the sentry's memory file, so that read(2), write(2) and
// mappings of a file share its pages, and memfd_create(2) files are unnamed
// tmpfs files (NewMemfd).
//
// Locking: each inode's vfs.InodeAttrs.Mu protects its attributes and
// contents (a directory's entries; a regular file's data has its own lock,
// see regularFile). A directory's
// Mu may be held while locking a child's Mu (parent before child); only
// Rename locks two directories, ordered by inode number, and the VFS lets
// one rename run at a time. The VFS's dentry locks are always taken before
// any tmpfs lock.
package tmpfs

import (
	"fmt"
	"sort"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/memfile"
)

// Magic is TMPFS_MAGIC (statfs f_type).
const Magic = 0x01021994

// bogoDirentSize is what each entry adds to a directory's size
// (BOGO_DIRENT_SIZE in mm/shmem.c), so "ls -ld" shows what Linux shows.
const bogoDirentSize = 20

// defaultFreePages is the free space statfs reports for an unlimited
// instance (8 GiB).
const defaultFreePages = 2 << 20

// Options configure a tmpfs instance (mount options).
type Options struct {
	// MaxSize limits file data in bytes (size=); 0 means unlimited.
	MaxSize int64
	// Mode, UID and GID are the root directory's (mode=, uid=, gid=).
	// Mode 0 means 01777, as Linux's default.
	Mode     uint32
	UID, GID uint32
	// Name is the filesystem type name reported in /proc/mounts; ""
	// means "tmpfs".
	Name string
	// MemFile holds the file data: the sentry's memory file, which app
	// address spaces map. nil gives the instance a memory file of its
	// own (for tests outside a sandbox).
	MemFile *memfile.File
}

// ownMemFileSize is the address range of a memory file made for an
// instance without Options.MemFile (sparse: only used pages cost memory).
const ownMemFileSize = 1 << 36

// Filesystem is a tmpfs instance.
type Filesystem struct {
	// vfsfs is set once by New; immutable afterwards.
	vfsfs *vfs.Filesystem
	// name, maxPages and mf are immutable.
	name     string
	maxPages int64
	mf       *memfile.File

	nextIno   atomic.Uint64
	usedPages atomic.Int64
	inodes    atomic.Int64
}

// New creates a tmpfs instance in v. The result is ready for
// v.MountRoot or v.MountAt.
func New(v *vfs.VirtualFilesystem, opts Options) (*vfs.Filesystem, error) {
	fs := &Filesystem{name: opts.Name, maxPages: (opts.MaxSize + pageSize - 1) / pageSize, mf: opts.MemFile}
	if fs.name == "" {
		fs.name = "tmpfs"
	}
	if fs.mf == nil {
		mf, err := memfile.New("tmpfs", ownMemFileSize)
		if err != nil {
			return nil, fmt.Errorf("tmpfs: %w", err)
		}
		fs.mf = mf
	}
	mode := opts.Mode & 0o7777
	if opts.Mode == 0 {
		mode = 0o1777
	}
	root := fs.newDir(nil, vfs.CreateOptions{Mode: unix.S_IFDIR | mode, UID: opts.UID, GID: opts.GID})
	vfsfs, err := v.NewFilesystem(fs, root)
	if err != nil {
		return nil, err
	}
	fs.vfsfs = vfsfs
	return vfsfs, nil
}

// FromVFS returns the tmpfs instance behind a vfs.Filesystem, if it is one.
func FromVFS(f *vfs.Filesystem) (*Filesystem, bool) {
	fs, ok := f.Impl().(*Filesystem)
	return fs, ok
}

// Name implements vfs.FilesystemImpl.
func (fs *Filesystem) Name() string { return fs.name }

// Statfs implements vfs.FilesystemImpl (shmem_statfs()).
func (fs *Filesystem) Statfs() (vfs.Statfs, error) {
	used := uint64(fs.usedPages.Load())
	total := uint64(fs.maxPages)
	if total == 0 {
		total = used + defaultFreePages
	}
	free := uint64(0)
	if total > used {
		free = total - used
	}
	files := uint64(fs.inodes.Load())
	return vfs.Statfs{
		Type:    Magic,
		Bsize:   pageSize,
		Frsize:  pageSize,
		Blocks:  total,
		Bfree:   free,
		Bavail:  free,
		Files:   files + defaultFreePages,
		Ffree:   defaultFreePages,
		Namelen: vfs.NameMax,
	}, nil
}

func (fs *Filesystem) charge(n int64) bool {
	for {
		used := fs.usedPages.Load()
		if fs.maxPages > 0 && used+n > fs.maxPages {
			return false
		}
		if fs.usedPages.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (fs *Filesystem) uncharge(n int64) { fs.usedPages.Add(-n) }

func (fs *Filesystem) newIno() uint64 {
	fs.inodes.Add(1)
	return fs.nextIno.Add(1)
}

// inode is what every tmpfs inode has.
type inode struct {
	vfs.InodeAttrs
	// fs is immutable.
	fs *Filesystem
}

// setStatNoSize applies an attribute change to an inode without a size.
func (i *inode) setStatNoSize(s vfs.SetStat) error { return i.SetStatNoSize(s) }

// dirent is one directory entry.
type dirent struct {
	name  string
	inode vfs.Inode
	// typ is the S_IFMT bits of the inode, cached for getdents.
	typ uint32
	// serial orders entries for getdents: the cookie after this entry
	// is serial+1. Never reused within a directory.
	serial int64
}

// directory is a tmpfs directory.
type directory struct {
	inode
	// entries, order and nextSerial are protected by Mu. order holds
	// the entries sorted by serial.
	entries    map[string]*dirent
	order      []*dirent
	nextSerial int64
	// removed is set by rmdir. Protected by Mu.
	removed bool
}

func (fs *Filesystem) newDir(parent *directory, opts vfs.CreateOptions) *directory {
	d := &directory{entries: make(map[string]*dirent), nextSerial: 3}
	d.fs = fs
	d.Init(fs.newIno(), opts.Mode, opts.UID, opts.GID, 2, 0)
	return d
}

// Stat implements vfs.Inode.
func (d *directory) Stat() (vfs.Stat, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	var st vfs.Stat
	d.FillStatLocked(&st)
	st.Size = int64(2+len(d.entries)) * bogoDirentSize
	return st, nil
}

// SetStat implements vfs.Inode.
func (d *directory) SetStat(_ vfs.Context, s vfs.SetStat) error { return d.setStatNoSize(s) }

// Open implements vfs.Inode.
func (d *directory) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return vfs.DirFileDefaults{}, vfs.FileOptions{}, nil
}

// Lookup implements vfs.Lookuper.
func (d *directory) Lookup(name string) (vfs.Inode, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if e, ok := d.entries[name]; ok {
		return e.inode, nil
	}
	if len(name) > vfs.NameMax {
		return nil, unix.ENAMETOOLONG
	}
	return nil, unix.ENOENT
}

// IterDirents implements vfs.DirIterator (dcache_readdir() order: creation
// order, renamed entries move to the end).
func (d *directory) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].serial >= off })
	for ; i < len(d.order); i++ {
		e := d.order[i]
		if !emit(vfs.Dirent{Name: e.name, Ino: inodeIno(e.inode), Type: vfs.DirentType(e.typ), NextOff: e.serial + 1}) {
			return nil
		}
	}
	return nil
}

func inodeIno(i vfs.Inode) uint64 {
	if a, ok := i.(interface{ Ino() uint64 }); ok {
		return a.Ino()
	}
	st, _ := i.Stat()
	return st.Ino
}

func inodeType(i vfs.Inode) uint32 {
	if a, ok := i.(interface{ Mode() uint32 }); ok {
		return a.Mode() & unix.S_IFMT
	}
	st, _ := i.Stat()
	return st.Type()
}

// addLocked inserts an entry and updates the directory's times.
//
// Preconditions: d.Mu is held; name is not present.
func (d *directory) addLocked(name string, in vfs.Inode, typ uint32) {
	e := &dirent{name: name, inode: in, typ: typ, serial: d.nextSerial}
	d.nextSerial++
	d.entries[name] = e
	d.order = append(d.order, e)
	d.TouchMtimeCtimeLocked()
}

// removeLocked deletes entry name and updates the directory's times.
//
// Preconditions: d.Mu is held; name is present.
func (d *directory) removeLocked(name string) {
	e := d.entries[name]
	delete(d.entries, name)
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].serial >= e.serial })
	d.order = append(d.order[:i], d.order[i+1:]...)
	d.TouchMtimeCtimeLocked()
}

// checkAddLocked fails if the directory cannot get a new entry name.
//
// Preconditions: d.Mu is held.
func (d *directory) checkAddLocked(name string) error {
	if d.removed {
		return unix.ENOENT
	}
	if _, ok := d.entries[name]; ok {
		return unix.EEXIST
	}
	if len(name) > vfs.NameMax {
		return unix.ENAMETOOLONG
	}
	return nil
}

// Mknod implements vfs.Mknoder (shmem_mknod()).
func (d *directory) Mknod(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if err := d.checkAddLocked(name); err != nil {
		return nil, err
	}
	var in vfs.Inode
	typ := opts.Mode & unix.S_IFMT
	switch typ {
	case unix.S_IFREG:
		in = d.fs.newRegular(opts)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		n := &node{}
		n.fs = d.fs
		n.Init(d.fs.newIno(), opts.Mode, opts.UID, opts.GID, 1, opts.Rdev)
		in = n
	default:
		return nil, unix.EINVAL
	}
	d.addLocked(name, in, typ)
	return in, nil
}

// Mkdir implements vfs.Mkdirer.
func (d *directory) Mkdir(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if err := d.checkAddLocked(name); err != nil {
		return nil, err
	}
	c := d.fs.newDir(d, opts)
	d.addLocked(name, c, unix.S_IFDIR)
	// The new directory's ".." links to d (inc_nlink(dir)).
	d.AddLinkLocked(1)
	return c, nil
}

// Symlink implements vfs.Symlinker.
func (d *directory) Symlink(name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if err := d.checkAddLocked(name); err != nil {
		return nil, err
	}
	s := &symlink{target: target}
	s.fs = d.fs
	s.Init(d.fs.newIno(), unix.S_IFLNK|0o777, opts.UID, opts.GID, 1, 0)
	d.addLocked(name, s, unix.S_IFLNK)
	return s, nil
}

// linkCounted is implemented by every tmpfs inode.
type linkCounted interface {
	vfs.Inode
	addLink(delta int)
	tmpfs() *Filesystem
}

func (i *inode) tmpfs() *Filesystem { return i.fs }

func (i *inode) addLink(delta int) {
	i.Mu.Lock()
	i.AddLinkLocked(delta)
	gone := i.NlinkLocked() == 0
	i.Mu.Unlock()
	if gone {
		i.fs.inodes.Add(-1)
	}
}

// Link implements vfs.Linker.
func (d *directory) Link(name string, target vfs.Inode) error {
	t, ok := target.(linkCounted)
	if !ok || t.tmpfs() != d.fs {
		return unix.EXDEV
	}
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if err := d.checkAddLocked(name); err != nil {
		return err
	}
	d.addLocked(name, target, inodeType(target))
	t.addLink(1)
	return nil
}

// Unlink implements vfs.Unlinker.
func (d *directory) Unlink(name string, child vfs.Inode) error {
	d.Mu.Lock()
	e, ok := d.entries[name]
	if !ok || e.inode != child {
		d.Mu.Unlock()
		return unix.ENOENT
	}
	d.removeLocked(name)
	d.Mu.Unlock()
	child.(linkCounted).addLink(-1)
	return nil
}

// Rmdir implements vfs.Unlinker.
func (d *directory) Rmdir(name string, child vfs.Inode) error {
	c, ok := child.(*directory)
	if !ok {
		return unix.ENOTDIR
	}
	c.Mu.Lock()
	if len(c.entries) != 0 {
		c.Mu.Unlock()
		return unix.ENOTEMPTY
	}
	c.removed = true
	c.Mu.Unlock()
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if e, ok := d.entries[name]; !ok || e.inode != child {
		return unix.ENOENT
	}
	d.removeLocked(name)
	d.AddLinkLocked(-1)
	c.addLink(-2)
	return nil
}

// Rename implements vfs.Renamer (shmem_rename2()).
func (d *directory) Rename(oldName string, child vfs.Inode, newDirInode vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, ok := newDirInode.(*directory)
	if !ok || nd.fs != d.fs {
		return unix.EXDEV
	}
	exchange := flags&vfs.RenameExchange != 0
	childDir, _ := child.(*directory)
	replacedDir, _ := replaced.(*directory)
	if replacedDir != nil && !exchange {
		replacedDir.Mu.Lock()
		empty := len(replacedDir.entries) == 0
		if empty {
			replacedDir.removed = true
		}
		replacedDir.Mu.Unlock()
		if !empty {
			return unix.ENOTEMPTY
		}
	}
	// Lock the directories by inode number (see the package comment).
	first, second := d, nd
	if second.Ino() < first.Ino() {
		first, second = second, first
	}
	first.Mu.Lock()
	if second != first {
		second.Mu.Lock()
	}
	oe, ok := d.entries[oldName]
	if !ok || oe.inode != child {
		second.Mu.Unlock()
		if second != first {
			first.Mu.Unlock()
		}
		return unix.ENOENT
	}
	childTyp := oe.typ
	if exchange {
		ne := nd.entries[newName]
		// Swap the inodes behind the two names.
		oe.inode, ne.inode = ne.inode, oe.inode
		oe.typ, ne.typ = ne.typ, oe.typ
		d.TouchMtimeCtimeLocked()
		nd.TouchMtimeCtimeLocked()
		if d != nd && (childDir != nil) != (replacedDir != nil) {
			if childDir != nil {
				d.AddLinkLocked(-1)
				nd.AddLinkLocked(1)
			} else {
				d.AddLinkLocked(1)
				nd.AddLinkLocked(-1)
			}
		}
	} else {
		d.removeLocked(oldName)
		if replaced != nil {
			nd.removeLocked(newName)
			if replacedDir != nil {
				nd.AddLinkLocked(-1)
			}
		}
		nd.addLocked(newName, child, childTyp)
		if childDir != nil && d != nd {
			d.AddLinkLocked(-1)
			nd.AddLinkLocked(1)
		}
	}
	if second != first {
		second.Mu.Unlock()
	}
	first.Mu.Unlock()

	child.(linkCounted).(interface{ TouchCtime() }).TouchCtime()
	if replaced != nil {
		if exchange {
			replaced.(interface{ TouchCtime() }).TouchCtime()
		} else if replacedDir != nil {
			replacedDir.addLink(-2)
		} else {
			replaced.(linkCounted).addLink(-1)
		}
	}
	return nil
}

// symlink is a tmpfs symlink.
type symlink struct {
	inode
	// target is immutable.
	target string
}

// Stat implements vfs.Inode.
func (s *symlink) Stat() (vfs.Stat, error) {
	st := s.StatAttrs()
	st.Size = int64(len(s.target))
	return st, nil
}

// SetStat implements vfs.Inode.
func (s *symlink) SetStat(_ vfs.Context, ss vfs.SetStat) error { return s.setStatNoSize(ss) }

// Open implements vfs.Inode (never reached: symlinks are followed or
// opened with O_PATH).
func (s *symlink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.Readlinker. Reading a link updates its atime
// (touch_atime() in vfs_readlink()/pick_link()).
func (s *symlink) Readlink() (string, error) {
	s.TouchAtime()
	return s.target, nil
}

// node is a FIFO, socket or device node: tmpfs only stores it; the VFS
// opens it through its device table.
type node struct {
	inode
}

// Stat implements vfs.Inode.
func (n *node) Stat() (vfs.Stat, error) { return n.StatAttrs(), nil }

// SetStat implements vfs.Inode.
func (n *node) SetStat(_ vfs.Context, s vfs.SetStat) error { return n.setStatNoSize(s) }

// Open implements vfs.Inode.
func (n *node) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}
