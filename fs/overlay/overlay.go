// Package overlay is an overlay filesystem over two vfs filesystems: a
// read-only lower layer (the gofer-backed host root) and a writable upper
// layer (a tmpfs), after Linux overlayfs
// (Documentation/filesystems/overlayfs.rst). Applications see the union;
// every change lands in the upper layer and the lower layer is never
// written.
//
// # Semantics
//
//   - Lookup: an upper entry wins; a whiteout in the upper directory hides
//     the lower entry; a directory present in both layers is merged unless
//     the upper one is opaque. Like overlayfs, an upper non-directory hides
//     whatever the lower layer has under that name, and an upper directory
//     hides a lower non-directory.
//   - Copy-up: before a lower-only object is modified (opened for writing,
//     SetStat, truncated, linked, renamed, or an entry of a lower directory
//     is created or removed) it is copied to the upper layer with its parent
//     directories, preserving type, mode, owner, times, symlink target and
//     file data (ovl_copy_up()). Reading never copies up.
//   - Removal of a name the lower layer has leaves a whiteout; mkdir over a
//     whiteout makes an opaque directory; rmdir needs the merged view empty.
//   - Renaming a directory that has a lower layer fails with EXDEV, as
//     overlayfs without redirect_dir does; mv(1) then copies.
//
// # Whiteouts and opaque directories
//
// Linux records whiteouts as 0:0 character devices and opaqueness as the
// trusted.overlay.opaque xattr in the upper filesystem. Our layers have no
// xattrs, so both live in an overlay-private side table keyed by the upper
// directory's inode number (Filesystem.marks). Nothing is stored in the
// upper tmpfs, so whiteouts can never leak through it, an upper directory
// whose merged view is empty really is empty (rmdir needs no cleanup), and
// because the key is the upper inode the marks follow a renamed directory.
// The price is that the upper layer alone does not describe the overlay (it
// cannot be remounted); it is a tmpfs that dies with the sandbox anyway.
// Since whiteouts are not device nodes, mknod of a 0:0 character device is
// allowed (overlayfs refuses it with EPERM to avoid the ambiguity).
//
// # Inode numbers
//
// An object that came from the lower layer keeps the lower st_ino for its
// whole life, including after copy-up; objects that exist only in the upper
// layer report the upper st_ino with bit 63 set (upperInoBit) so that the
// two layers' numbers cannot collide. This is overlayfs's xino scheme (the
// layer is encoded in the high bits) with the lower layer as the unmarked
// one; st_dev is the overlay's own device, filled in by the VFS. The copy-up
// origin of each upper object (trusted.overlay.origin in Linux) is kept in
// Filesystem.origins so that readdir reports the same d_ino as stat. A lower
// inode number with bit 63 set would collide (Linux falls back to non-xino
// numbers then); host filesystems do not produce such numbers.
//
// Merged directories report st_nlink 1, as ovl_getattr() does ("nlink=1
// seems to pacify find"); everything else reports the visible layer's
// link count.
//
// # Locking
//
// Lock order, outermost first:
//
//	Filesystem.renameMu
//	node.copyMu (a node before its ancestors: copy-up walks upward)
//	node.mu of directories (an ancestor before its descendants)
//	Filesystem.marksMu (leaf)
//	the layers' own locks (taken inside calls into the layers)
//
// copyMu is never taken while holding any node.mu. The VFS's dentry locks
// are always taken before any overlay lock.
package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// Magic is OVERLAYFS_SUPER_MAGIC (statfs f_type).
const Magic = 0x794c7630

// upperInoBit marks the inode numbers of objects that exist only in the
// upper layer (see "Inode numbers" in the package comment).
const upperInoBit = 1 << 63

// Options configure an overlay.
type Options struct {
	// UpperFS, if set, answers statfs(2): ovl_statfs() reports the upper
	// filesystem's numbers with the overlay's f_type. Without it statfs
	// reports no capacity.
	UpperFS vfs.FilesystemImpl
	// Creds are the credentials copy-up runs with. Linux copies up with
	// the mounter's credentials (ovl_override_creds()), so that a caller
	// who may write a file can copy it up even without the right to
	// create it in the upper directory. nil means root.
	Creds *auth.Credentials
}

// Filesystem is an overlay instance. It implements vfs.FilesystemImpl;
// mount it with v.NewFilesystem(ofs, ofs.Root()).
type Filesystem struct {
	// root, ctx and upperFS are immutable.
	root    *node
	ctx     vfs.Context
	upperFS vfs.FilesystemImpl

	// renameMu serializes Rename (s_vfs_rename_mutex: the VFS already
	// runs one rename at a time; this keeps direct callers safe) and
	// protects node.parent and node.name once a node has an upper layer.
	renameMu sync.Mutex

	marksMu sync.Mutex
	// marks holds the whiteouts and opaque flag of upper directories,
	// keyed by upper inode number. Only directories with a mark have an
	// entry. Protected by marksMu.
	// +checklocks:marksMu
	marks map[uint64]*dirMarks
	// origins maps an upper inode number to the overlay inode number of
	// the lower object it was copied up from. Protected by marksMu.
	// +checklocks:marksMu
	origins map[uint64]uint64
}

// dirMarks are the overlay's notes about one upper directory.
type dirMarks struct {
	// opaque hides the lower directory of the same name.
	opaque bool
	// whiteouts are names whose lower entries are hidden.
	whiteouts map[string]struct{}
}

var _ vfs.FilesystemImpl = (*Filesystem)(nil)

// New returns an overlay of upperRoot over lowerRoot, both directories.
// The upper layer must support creating, linking, removing and renaming
// entries (a tmpfs); the lower one is only looked up, listed and read.
func New(lowerRoot, upperRoot vfs.Inode) (*Filesystem, error) {
	return NewWithOptions(lowerRoot, upperRoot, Options{})
}

// NewWithOptions is New with options.
func NewWithOptions(lowerRoot, upperRoot vfs.Inode, opts Options) (*Filesystem, error) {
	if lowerRoot == nil || upperRoot == nil {
		return nil, unix.EINVAL
	}
	lst, err := lowerRoot.Stat()
	if err != nil {
		return nil, err
	}
	ust, err := upperRoot.Stat()
	if err != nil {
		return nil, err
	}
	if !lst.IsDir() || !ust.IsDir() {
		return nil, unix.ENOTDIR
	}
	if _, ok := lowerRoot.(vfs.Lookuper); !ok {
		return nil, unix.EINVAL
	}
	if _, ok := lowerRoot.(vfs.DirIterator); !ok {
		return nil, unix.EINVAL
	}
	// overlayfs requires an upper filesystem that can hold everything a
	// copy-up or a change needs (ovl_make_workdir() probes it).
	switch upperRoot.(type) {
	case interface {
		vfs.Lookuper
		vfs.DirIterator
		vfs.Mknoder
		vfs.Mkdirer
		vfs.Symlinker
		vfs.Unlinker
		vfs.Renamer
	}:
	default:
		return nil, unix.EINVAL
	}
	creds := opts.Creds
	if creds == nil {
		creds = auth.NewRootCredentials()
	}
	fs := &Filesystem{
		ctx:     vfs.CredsContext(creds),
		upperFS: opts.UpperFS,
		marks:   make(map[uint64]*dirMarks),
		origins: make(map[uint64]uint64),
	}
	fs.root = &node{fs: fs, lower: lowerRoot, ino: lst.Ino, typ: unix.S_IFDIR}
	fs.root.upper.Store(&layer{inode: upperRoot, ino: ust.Ino})
	fs.setOrigin(ust.Ino, lst.Ino)
	return fs, nil
}

// Root returns the overlay's root directory.
func (fs *Filesystem) Root() vfs.Inode { return fs.root }

// Name implements vfs.FilesystemImpl.
func (fs *Filesystem) Name() string { return "overlay" }

// Statfs implements vfs.FilesystemImpl (ovl_statfs(): the upper
// filesystem's numbers, the overlay's magic).
func (fs *Filesystem) Statfs() (vfs.Statfs, error) {
	if fs.upperFS != nil {
		sf, err := fs.upperFS.Statfs()
		if err != nil {
			return vfs.Statfs{}, err
		}
		sf.Type = Magic
		return sf, nil
	}
	return vfs.Statfs{Type: Magic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}, nil
}

// upperIno returns the overlay inode number of the upper object numbered
// ino: its copy-up origin's, else ino marked with upperInoBit.
func (fs *Filesystem) upperIno(ino uint64) uint64 {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	if o, ok := fs.origins[ino]; ok {
		return o
	}
	return ino | upperInoBit
}

// setOrigin records that upper object upperIno was copied up from the
// object whose overlay inode number is ino.
func (fs *Filesystem) setOrigin(upperIno, ino uint64) {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	fs.origins[upperIno] = ino
}

// forgetUpper drops the notes about an upper object that is gone.
func (fs *Filesystem) forgetUpper(upperIno uint64) {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	delete(fs.origins, upperIno)
	delete(fs.marks, upperIno)
}

// forgetIfUnlinked drops the notes about upper object in (numbered ino)
// if its last link is gone. Open files keep their node's inode number.
func (fs *Filesystem) forgetIfUnlinked(in vfs.Inode, ino uint64) {
	if st, err := in.Stat(); err == nil && st.Nlink == 0 {
		fs.forgetUpper(ino)
	}
}

// isWhiteout reports whether upper directory dir has a whiteout at name.
func (fs *Filesystem) isWhiteout(dir uint64, name string) bool {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	if m == nil {
		return false
	}
	_, ok := m.whiteouts[name]
	return ok
}

// whiteouts returns a copy of upper directory dir's whiteouts.
func (fs *Filesystem) whiteouts(dir uint64) map[string]struct{} {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	if m == nil || len(m.whiteouts) == 0 {
		return nil
	}
	w := make(map[string]struct{}, len(m.whiteouts))
	for k := range m.whiteouts {
		w[k] = struct{}{}
	}
	return w
}

// addWhiteout hides the lower entry name of upper directory dir.
func (fs *Filesystem) addWhiteout(dir uint64, name string) {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	if m == nil {
		m = &dirMarks{}
		fs.marks[dir] = m
	}
	if m.whiteouts == nil {
		m.whiteouts = make(map[string]struct{})
	}
	m.whiteouts[name] = struct{}{}
}

// removeWhiteout drops a whiteout and reports whether there was one.
func (fs *Filesystem) removeWhiteout(dir uint64, name string) bool {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	if m == nil {
		return false
	}
	if _, ok := m.whiteouts[name]; !ok {
		return false
	}
	delete(m.whiteouts, name)
	if len(m.whiteouts) == 0 && !m.opaque {
		delete(fs.marks, dir)
	}
	return true
}

// isOpaque reports whether upper directory dir is opaque.
func (fs *Filesystem) isOpaque(dir uint64) bool {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	return m != nil && m.opaque
}

// setOpaque makes upper directory dir opaque.
func (fs *Filesystem) setOpaque(dir uint64) {
	fs.marksMu.Lock()
	defer fs.marksMu.Unlock()
	m := fs.marks[dir]
	if m == nil {
		m = &dirMarks{}
		fs.marks[dir] = m
	}
	m.opaque = true
}
