package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// VirtualFilesystem is the sentry's mount tree and dentry cache (the
// kernel's VFS state: struct mount hash, dcache, chrdev table). One exists
// per sandbox.
type VirtualFilesystem struct {
	// renameMu serializes renames against each other and protects every
	// Dentry's parent and name (rename_lock + s_vfs_rename_mutex).
	// Renames hold it for writing; readers of parent/name hold it for
	// reading only briefly and never while holding a Dentry.mu.
	renameMu sync.RWMutex

	mountMu sync.RWMutex
	// mounts maps a mount point (parent mount, dentry in it) to the mount
	// on top of it. Protected by mountMu.
	mounts map[mountKey]*Mount
	// root is the root mount. Protected by mountMu.
	root *Mount

	// nextMountID and nextAnonMinor are allocation counters.
	nextMountID   atomic.Uint64
	nextAnonMinor atomic.Uint32

	devMu sync.RWMutex
	// devices is the character device table (cdev_map). Protected by
	// devMu.
	devices map[uint64]Device

	// OpenFIFO, if set, opens a FIFO node (fifo_open() in fs/pipe.c). The
	// pipe implementation installs it; without it opening a FIFO fails
	// with ENXIO. Set before the first task runs; read-only afterwards.
	OpenFIFO func(ctx Context, vd VirtualDentry, flags uint32) (FileImpl, FileOptions, error)

	socketsMu sync.Mutex
	// sockets maps socket nodes to the sockets bound to them (socket.go).
	// Protected by socketsMu, a leaf lock.
	sockets map[socketKey]BoundSocket
}

type mountKey struct {
	parent *Mount
	point  *Dentry
}

// New returns an empty VFS. Call MountRoot before resolving paths.
func New() *VirtualFilesystem {
	return &VirtualFilesystem{
		mounts:  make(map[mountKey]*Mount),
		devices: make(map[uint64]Device),
		sockets: make(map[socketKey]BoundSocket),
	}
}

// FilesystemImpl is a filesystem type's per-instance state (struct
// super_block + super_operations).
type FilesystemImpl interface {
	// Name is the filesystem type as /proc/mounts shows it ("tmpfs").
	Name() string
	// Statfs answers statfs(2).
	Statfs() (Statfs, error)
}

// Filesystem is one instance of a filesystem (a superblock): a root inode,
// a device number and the dentry tree rooted there. Mounting the same
// Filesystem twice (a bind mount) shares its dentries.
type Filesystem struct {
	vfs  *VirtualFilesystem
	impl FilesystemImpl
	// dev is the device number reported in st_dev. Immutable.
	dev uint64
	// root is the root dentry. Immutable.
	root *Dentry
}

// NewFilesystem creates a filesystem instance with the given root
// directory. It gets an anonymous device number (0:N), like tmpfs and
// other nodev filesystems (get_anon_bdev()).
func (v *VirtualFilesystem) NewFilesystem(impl FilesystemImpl, root Inode) (*Filesystem, error) {
	st, err := root.Stat()
	if err != nil {
		return nil, err
	}
	// A filesystem's root is normally a directory; a bind-mounted file
	// makes a filesystem whose root is that file. A symlink cannot be a
	// root (bind mounts follow it).
	typ := st.Mode & unix.S_IFMT
	if typ == unix.S_IFLNK {
		return nil, unix.EINVAL
	}
	fs := &Filesystem{
		vfs:  v,
		impl: impl,
		dev:  unix.Mkdev(0, v.nextAnonMinor.Add(1)),
	}
	fs.root = &Dentry{fs: fs, inode: root, typ: typ}
	return fs, nil
}

// Impl returns the filesystem's implementation.
func (fs *Filesystem) Impl() FilesystemImpl { return fs.impl }

// Dev returns the filesystem's device number.
func (fs *Filesystem) Dev() uint64 { return fs.dev }

// Root returns the root dentry.
func (fs *Filesystem) Root() *Dentry { return fs.root }

// VFS returns the VFS the filesystem belongs to.
func (fs *Filesystem) VFS() *VirtualFilesystem { return fs.vfs }

// Dentry is a cached name → inode binding (struct dentry). Dentries form a
// tree per Filesystem; the VFS creates them during lookup and drops them on
// unlink, rmdir, rename over, or failed revalidation.
type Dentry struct {
	// fs, inode and typ (S_IFMT bits) are immutable.
	fs    *Filesystem
	inode Inode
	typ   uint32

	// parent and name are protected by VirtualFilesystem.renameMu
	// (written with it held for writing). parent is nil for a root.
	parent *Dentry
	name   string

	mu sync.Mutex
	// children caches looked-up children by name. Protected by mu, which
	// is also held across a directory's mutations and lookups
	// (i_rwsem), so that "does it exist" and "create it" are atomic.
	children map[string]*Dentry

	// mountCount is how many mounts sit on this dentry. A dentry with
	// mounts is never dropped from the cache.
	mountCount atomic.Int32
	// dead is set when the dentry is unlinked (or its directory removed):
	// lookups and creation inside a dead directory fail with ENOENT
	// (IS_DEADDIR).
	dead atomic.Bool

	// watches are the inotify watchers of the dentry (notify.go).
	watches watches
	// opens counts the open file descriptions on the dentry, and
	// deletePending is set when IN_DELETE_SELF waits for the last of
	// them to be released (notify.go).
	opens         atomic.Int32
	deletePending atomic.Bool
}

// Inode returns the dentry's inode.
func (d *Dentry) Inode() Inode { return d.inode }

// Filesystem returns the filesystem the dentry belongs to.
func (d *Dentry) Filesystem() *Filesystem { return d.fs }

// IsDir reports whether the dentry is a directory.
func (d *Dentry) IsDir() bool { return d.typ == unix.S_IFDIR }

// IsSymlink reports whether the dentry is a symlink.
func (d *Dentry) IsSymlink() bool { return d.typ == unix.S_IFLNK }

// Type returns the S_IFMT bits of the inode's mode.
func (d *Dentry) Type() uint32 { return d.typ }

// IsDead reports whether the dentry was unlinked.
func (d *Dentry) IsDead() bool { return d.dead.Load() }

// Name returns the dentry's current name.
func (d *Dentry) Name() string {
	d.fs.vfs.renameMu.RLock()
	defer d.fs.vfs.renameMu.RUnlock()
	return d.name
}

// Parent returns the dentry's parent (nil at a filesystem root).
func (d *Dentry) Parent() *Dentry {
	d.fs.vfs.renameMu.RLock()
	defer d.fs.vfs.renameMu.RUnlock()
	return d.parent
}

// newChild returns a dentry for inode under d.
//
// Preconditions: d.mu is held.
func (d *Dentry) newChildLocked(name string, inode Inode) (*Dentry, error) {
	st, err := inode.Stat()
	if err != nil {
		return nil, err
	}
	c := &Dentry{fs: d.fs, inode: inode, typ: st.Type(), parent: d, name: name}
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	return c, nil
}

// lookupLocked returns d's child name, from the cache or the filesystem.
// name is a normal component ("." and ".." are handled by callers).
//
// Preconditions: d.mu is held; d is a directory.
func (d *Dentry) lookupLocked(name string) (*Dentry, error) {
	if d.dead.Load() {
		return nil, unix.ENOENT
	}
	if c, ok := d.children[name]; ok {
		rv, isRV := d.inode.(Revalidator)
		if !isRV || c.mountCount.Load() > 0 || rv.Revalidate(name, c.inode) {
			return c, nil
		}
		delete(d.children, name)
	}
	lk, ok := d.inode.(Lookuper)
	if !ok {
		return nil, unix.ENOTDIR
	}
	inode, err := lk.Lookup(name)
	if err != nil {
		return nil, err
	}
	return d.newChildLocked(name, inode)
}

// lookup is lookupLocked taking d.mu.
func (d *Dentry) lookup(name string) (*Dentry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookupLocked(name)
}

// removeChildLocked drops child name from the cache and marks it dead.
//
// Preconditions: d.mu is held.
func (d *Dentry) removeChildLocked(name string, c *Dentry) {
	if d.children[name] == c {
		delete(d.children, name)
	}
	c.dead.Store(true)
}

// Invalidate drops d's cached child name, if any, so that the next lookup
// asks the filesystem again (d_invalidate()). Filesystems use it when they
// learn that a name changed behind the VFS's back. Mount points stay.
func (d *Dentry) Invalidate(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.children[name]; ok && c.mountCount.Load() == 0 {
		delete(d.children, name)
	}
}

// MountFlags are per-mount options (MNT_*).
type MountFlags struct {
	ReadOnly bool
	NoExec   bool
	NoSuid   bool
	NoDev    bool
}

// Mount is a Filesystem (or a subtree of one) attached at a point in the
// mount tree (struct mount).
type Mount struct {
	vfs *VirtualFilesystem
	// id, fs and root are immutable.
	id   uint64
	fs   *Filesystem
	root *Dentry

	// flags, parent and point are protected by vfs.mountMu. parent is
	// nil for the root mount; point is the dentry in parent it covers.
	flags  MountFlags
	parent *Mount
	point  *Dentry
}

// ID returns the mount ID (/proc/self/mountinfo, statx's stx_mnt_id).
func (m *Mount) ID() uint64 { return m.id }

// Filesystem returns the mounted filesystem.
func (m *Mount) Filesystem() *Filesystem { return m.fs }

// Root returns the mount's root dentry.
func (m *Mount) Root() *Dentry { return m.root }

// Flags returns the mount's flags.
func (m *Mount) Flags() MountFlags {
	m.vfs.mountMu.RLock()
	defer m.vfs.mountMu.RUnlock()
	return m.flags
}

// ReadOnly reports whether the mount is read-only.
func (m *Mount) ReadOnly() bool { return m.Flags().ReadOnly }

// VirtualDentry is a position in the mount tree: a dentry seen through a
// mount (struct path in Linux).
type VirtualDentry struct {
	Mount  *Mount
	Dentry *Dentry
}

// Ok reports whether vd is set.
func (vd VirtualDentry) Ok() bool { return vd.Mount != nil && vd.Dentry != nil }

func (v *VirtualFilesystem) newMount(fs *Filesystem, root *Dentry, flags MountFlags) *Mount {
	return &Mount{vfs: v, id: v.nextMountID.Add(1), fs: fs, root: root, flags: flags}
}

// MountRoot makes fs the root of the mount tree and returns the root
// position, which NewFSContext takes. It fails with EBUSY if a root exists.
func (v *VirtualFilesystem) MountRoot(fs *Filesystem, flags MountFlags) (VirtualDentry, error) {
	v.mountMu.Lock()
	defer v.mountMu.Unlock()
	if v.root != nil {
		return VirtualDentry{}, unix.EBUSY
	}
	v.root = v.newMount(fs, fs.root, flags)
	return VirtualDentry{v.root, fs.root}, nil
}

// RootMount returns the root of the mount tree.
func (v *VirtualFilesystem) RootMount() VirtualDentry {
	v.mountMu.RLock()
	defer v.mountMu.RUnlock()
	if v.root == nil {
		return VirtualDentry{}
	}
	return VirtualDentry{v.root, v.root.root}
}

// MountAt attaches fs at target. A directory goes on a directory and a
// non-directory (a bind-mounted file) on a non-directory, ENOTDIR otherwise
// (graft_tree()). A later mount on the same point hides earlier ones, as in
// Linux. Permission to mount is the caller's business (mount(2) needs
// CAP_SYS_ADMIN).
func (v *VirtualFilesystem) MountAt(target VirtualDentry, fs *Filesystem, flags MountFlags) (*Mount, error) {
	if !target.Ok() {
		return nil, unix.EINVAL
	}
	if target.Dentry.IsDir() != fs.root.IsDir() {
		return nil, unix.ENOTDIR
	}
	if target.Dentry.IsDead() {
		return nil, unix.ENOENT
	}
	v.mountMu.Lock()
	defer v.mountMu.Unlock()
	// Mount on top of whatever is already mounted there.
	for {
		m, ok := v.mounts[mountKey{target.Mount, target.Dentry}]
		if !ok {
			break
		}
		target = VirtualDentry{m, m.root}
	}
	m := v.newMount(fs, fs.root, flags)
	m.parent = target.Mount
	m.point = target.Dentry
	v.mounts[mountKey{target.Mount, target.Dentry}] = m
	target.Dentry.mountCount.Add(1)
	return m, nil
}

// Mount resolves path (following symlinks) as creds in fsc and mounts fs
// there (the kernel/boot-time form of mount(2)).
func (v *VirtualFilesystem) Mount(ctx Context, fsc *FSContext, path string, fs *Filesystem, flags MountFlags) (*Mount, error) {
	vd, err := v.resolve(ctx, fsc, nil, path, true)
	if err != nil {
		return nil, err
	}
	return v.MountAt(vd, fs, flags)
}

// crossDown follows mounts stacked on vd (follow_mount()).
func (v *VirtualFilesystem) crossDown(vd VirtualDentry) VirtualDentry {
	if vd.Dentry.mountCount.Load() == 0 {
		return vd
	}
	v.mountMu.RLock()
	defer v.mountMu.RUnlock()
	for {
		m, ok := v.mounts[mountKey{vd.Mount, vd.Dentry}]
		if !ok {
			return vd
		}
		vd = VirtualDentry{m, m.root}
	}
}

// Mounts returns every mount with its mount point, parents first, for
// /proc/self/mounts.
func (v *VirtualFilesystem) Mounts() []*Mount {
	v.mountMu.RLock()
	defer v.mountMu.RUnlock()
	var out []*Mount
	if v.root == nil {
		return nil
	}
	out = append(out, v.root)
	for i := 0; i < len(out); i++ {
		for k, m := range v.mounts {
			if k.parent == out[i] {
				out = append(out, m)
			}
		}
	}
	return out
}

// MountPoint returns where m is mounted (zero for the root mount).
func (m *Mount) MountPoint() VirtualDentry {
	m.vfs.mountMu.RLock()
	defer m.vfs.mountMu.RUnlock()
	if m.parent == nil {
		return VirtualDentry{}
	}
	return VirtualDentry{m.parent, m.point}
}
