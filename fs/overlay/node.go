package overlay

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// layer is a node's object in the upper layer.
type layer struct {
	// inode and ino (its upper inode number) are immutable.
	inode vfs.Inode
	ino   uint64
}

// node is an overlay inode (struct ovl_inode): one object of the merged
// tree, backed by a lower object, an upper object, or both.
//
// Every node the overlay hands out is cached in its parent's children
// until the name is removed or renamed, so one name always yields one node
// and a copy-up is seen by every user of it.
type node struct {
	// fs, lower, ino and typ are immutable. lower is nil for objects
	// that exist only in the upper layer, and for opaque directories.
	fs    *Filesystem
	lower vfs.Inode
	ino   uint64
	typ   uint32

	// upper goes from nil to set once, by copy-up under copyMu (or at
	// creation), and never changes afterwards; readers load it without
	// locks.
	upper atomic.Pointer[layer]

	// copyMu serializes copy-up of the node, and unlink and rename
	// against it: they decide between "remove the upper object" and
	// "only whiteout" from upper, which copy-up changes.
	copyMu sync.Mutex

	// parent and name locate the node in the tree for copy-up. They only
	// change (by Rename, under fs.renameMu) once the node has an upper
	// layer, and copy-up reads them only before it has one, so a node
	// that still needs copying up always sees its original place. parent
	// is nil for the root.
	parent *node
	name   string

	// mu is the directory's lock (i_rwsem): it serializes lookups and
	// changes of entries, and protects the fields below.
	mu sync.Mutex
	// children caches the nodes handed out, by name.
	// +checklocks:mu
	children map[string]*node
	// removed is set when the directory is removed: nothing can be
	// created in it any more.
	// +checklocks:mu
	removed bool
	// serials give each name of a merged directory a stable readdir
	// cookie: the entry's cookie is serial+1. nextSerial is the next to
	// give out; serials start at 2, after "." and "..".
	// +checklocks:mu
	serials map[string]int64
	// +checklocks:mu
	nextSerial int64
	// snap is the merged listing sorted by cookie, rebuilt when an
	// iteration starts and after a change (nil). Never modified once
	// built, so iterators use it without mu.
	// +checklocks:mu
	snap []vfs.Dirent
}

var (
	_ vfs.Inode       = (*node)(nil)
	_ vfs.Lookuper    = (*node)(nil)
	_ vfs.DirIterator = (*node)(nil)
	_ vfs.Mknoder     = (*node)(nil)
	_ vfs.Mkdirer     = (*node)(nil)
	_ vfs.Symlinker   = (*node)(nil)
	_ vfs.Linker      = (*node)(nil)
	_ vfs.Unlinker    = (*node)(nil)
	_ vfs.Renamer     = (*node)(nil)
	_ vfs.Readlinker  = (*node)(nil)
)

func (n *node) isDir() bool { return n.typ == unix.S_IFDIR }

// upperLayer returns the node's upper object, or nil.
func (n *node) upperLayer() *layer { return n.upper.Load() }

// visible returns the object whose attributes and data the node shows.
func (n *node) visible() vfs.Inode {
	if up := n.upperLayer(); up != nil {
		return up.inode
	}
	return n.lower
}

// Stat implements vfs.Inode (ovl_getattr()): the visible layer's
// attributes with the overlay's stable inode number.
func (n *node) Stat() (vfs.Stat, error) {
	up := n.upperLayer()
	var st vfs.Stat
	var err error
	if up != nil {
		st, err = up.inode.Stat()
	} else {
		st, err = n.lower.Stat()
	}
	if err != nil {
		return vfs.Stat{}, err
	}
	st.Ino = n.ino
	if n.isDir() && up != nil && n.lower != nil {
		st.Nlink = 1
	}
	return st, nil
}

// SetStat implements vfs.Inode. Changing attributes copies the object up
// first (ovl_setattr()); a truncation copies only the data that survives
// it (ovl_copy_up_one() shortens the copy for O_TRUNC).
func (n *node) SetStat(ctx vfs.Context, s vfs.SetStat) error {
	limit := int64(-1)
	if s.Mask&unix.STATX_SIZE != 0 {
		if s.Size < 0 {
			return unix.EINVAL
		}
		if n.typ != unix.S_IFREG {
			if n.isDir() {
				return unix.EISDIR
			}
			return unix.EINVAL
		}
		limit = s.Size
	}
	up, err := n.copyUp(limit)
	if err != nil {
		return err
	}
	return up.inode.SetStat(ctx, s)
}

// Open implements vfs.Inode. Opening for writing copies the file up
// (ovl_open() -> ovl_maybe_copy_up()); a read-only open of a lower file
// reads the lower file directly and switches to the upper copy if the file
// is copied up later (ovl_real_fdget()).
func (n *node) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	switch n.typ {
	case unix.S_IFDIR:
		return vfs.DirFileDefaults{}, vfs.FileOptions{}, nil
	case unix.S_IFREG:
	default:
		// Symlinks and special files are never opened through the
		// inode (the VFS follows links and opens devices itself); let
		// the layer answer with its errno.
		return n.visible().Open(ctx, flags)
	}
	if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
		up, err := n.copyUp(-1)
		if err != nil {
			return nil, vfs.FileOptions{}, err
		}
		return up.inode.Open(ctx, flags)
	}
	if up := n.upperLayer(); up != nil {
		return up.inode.Open(ctx, flags)
	}
	impl, opts, err := n.lower.Open(ctx, flags)
	if err != nil {
		return nil, opts, err
	}
	if opts.Positionless {
		// A positionless lower file cannot be swapped for an upper
		// file with positions mid-stream; keep reading the lower one.
		return impl, opts, nil
	}
	return newLowerFile(n, flags, impl), opts, nil
}

// Readlink implements vfs.Readlinker.
func (n *node) Readlink() (string, error) {
	rl, ok := n.visible().(vfs.Readlinker)
	if !ok || n.typ != unix.S_IFLNK {
		return "", unix.EINVAL
	}
	return rl.Readlink()
}

// Lookup implements vfs.Lookuper (ovl_lookup()).
func (n *node) Lookup(name string) (vfs.Inode, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// lookupLocked returns the child name, from the cache or the layers.
//
// Preconditions: n.mu is held; n is a directory.
// +checklocks:n.mu
func (n *node) lookupLocked(name string) (*node, error) {
	if n.removed {
		return nil, unix.ENOENT
	}
	if c, ok := n.children[name]; ok {
		return c, nil
	}
	var (
		u         vfs.Inode
		ust, lst  vfs.Stat
		l         vfs.Inode
		err       error
		searchLow = n.lower != nil
	)
	if up := n.upperLayer(); up != nil {
		u, err = lookupIn(up.inode, name)
		if err != nil {
			return nil, err
		}
		if u != nil {
			if ust, err = u.Stat(); err != nil {
				return nil, err
			}
			// An upper non-directory hides the lower entry; an upper
			// directory is merged with a lower one unless opaque.
			searchLow = searchLow && ust.IsDir() && !n.fs.isOpaque(ust.Ino)
		} else {
			searchLow = searchLow && !n.fs.isWhiteout(up.ino, name)
		}
	}
	if searchLow {
		if l, err = lookupIn(n.lower, name); err != nil {
			return nil, err
		}
		if l != nil {
			if lst, err = l.Stat(); err != nil {
				return nil, err
			}
			if u != nil && !lst.IsDir() {
				// Only directories merge; the upper directory
				// hides a lower non-directory.
				l = nil
			}
		}
	}
	if u == nil && l == nil {
		return nil, unix.ENOENT
	}
	c := &node{fs: n.fs, lower: l, parent: n, name: name}
	if l != nil {
		c.ino, c.typ = lst.Ino, lst.Type()
	} else {
		c.ino, c.typ = n.fs.upperIno(ust.Ino), ust.Type()
	}
	if u != nil {
		c.upper.Store(&layer{inode: u, ino: ust.Ino})
	}
	n.addChildLocked(name, c)
	return c, nil
}

// lookupIn looks name up in a layer directory: nil, nil if it is absent.
func lookupIn(dir vfs.Inode, name string) (vfs.Inode, error) {
	lk, ok := dir.(vfs.Lookuper)
	if !ok {
		return nil, unix.ENOTDIR
	}
	in, err := lk.Lookup(name)
	if err == unix.ENOENT {
		return nil, nil
	}
	return in, err
}

// addChildLocked caches c as the child name.
//
// Preconditions: n.mu is held.
// +checklocks:n.mu
func (n *node) addChildLocked(name string, c *node) {
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	n.children[name] = c
}

// changedLocked notes that entry name of the directory was added, removed
// or replaced: the listing is rebuilt and the name gets a new cookie, so
// that an entry created again is listed again (as tmpfs moves a recreated
// name to the end).
//
// Preconditions: n.mu is held.
// +checklocks:n.mu
func (n *node) changedLocked(name string) {
	n.snap = nil
	delete(n.serials, name)
}

// lowerHasLocked reports whether the lower directory has an entry name
// that the merged view would show if nothing in the upper layer covered it
// (ovl_lower_positive()): removing the upper entry, or the name, then
// needs a whiteout.
//
// Preconditions: n.mu is held.
func (n *node) lowerHasLocked(name string) (bool, error) {
	if n.lower == nil {
		return false, nil
	}
	l, err := lookupIn(n.lower, name)
	return l != nil, err
}

// create adds a new entry name to the directory with mk, which creates
// it in the upper directory, and returns the new node. existing, if set,
// is the node the entry refers to (a hard link) instead of a new one.
func (n *node) create(name string, isDir bool, existing *node, mk func(upperDir vfs.Inode) (vfs.Inode, error)) (*node, error) {
	if !n.isDir() {
		return nil, unix.ENOTDIR
	}
	up, err := n.copyUp(-1)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.removed {
		return nil, unix.ENOENT
	}
	if _, err := n.lookupLocked(name); err == nil {
		return nil, unix.EEXIST
	} else if err != unix.ENOENT {
		return nil, err
	}
	in, err := mk(up.inode)
	if err != nil {
		return nil, err
	}
	// The new upper entry covers the lower name by itself; a directory
	// made where a whiteout was must also hide the lower directory's
	// contents (ovl_create_over_whiteout() sets it opaque).
	wasWhiteout := n.fs.removeWhiteout(up.ino, name)
	c := existing
	if c == nil {
		st, err := in.Stat()
		if err != nil {
			return nil, err
		}
		if isDir && wasWhiteout {
			n.fs.setOpaque(st.Ino)
		}
		c = &node{fs: n.fs, ino: n.fs.upperIno(st.Ino), typ: st.Type(), parent: n, name: name}
		c.upper.Store(&layer{inode: in, ino: st.Ino})
	}
	n.addChildLocked(name, c)
	n.changedLocked(name)
	return c, nil
}

// Mknod implements vfs.Mknoder.
func (n *node) Mknod(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	return n.create(name, false, nil, func(dir vfs.Inode) (vfs.Inode, error) {
		mk, ok := dir.(vfs.Mknoder)
		if !ok {
			return nil, unix.EPERM
		}
		return mk.Mknod(name, opts)
	})
}

// Mkdir implements vfs.Mkdirer.
func (n *node) Mkdir(name string, opts vfs.CreateOptions) (vfs.Inode, error) {
	return n.create(name, true, nil, func(dir vfs.Inode) (vfs.Inode, error) {
		mk, ok := dir.(vfs.Mkdirer)
		if !ok {
			return nil, unix.EPERM
		}
		return mk.Mkdir(name, opts)
	})
}

// Symlink implements vfs.Symlinker.
func (n *node) Symlink(name, target string, opts vfs.CreateOptions) (vfs.Inode, error) {
	return n.create(name, false, nil, func(dir vfs.Inode) (vfs.Inode, error) {
		mk, ok := dir.(vfs.Symlinker)
		if !ok {
			return nil, unix.EPERM
		}
		return mk.Symlink(name, target, opts)
	})
}

// Link implements vfs.Linker. A lower target is copied up first and the
// link made in the upper layer (ovl_link()). Other lower names of the same
// lower inode stay separate objects: without overlayfs's index feature a
// copy-up breaks lower hard links, and so does ours.
func (n *node) Link(name string, target vfs.Inode) error {
	t, ok := target.(*node)
	if !ok || t.fs != n.fs {
		return unix.EXDEV
	}
	if t.isDir() {
		return unix.EPERM
	}
	tu, err := t.copyUp(-1)
	if err != nil {
		return err
	}
	_, err = n.create(name, false, t, func(dir vfs.Inode) (vfs.Inode, error) {
		lk, ok := dir.(vfs.Linker)
		if !ok {
			return nil, unix.EPERM
		}
		if err := lk.Link(name, tu.inode); err != nil {
			return nil, err
		}
		return tu.inode, nil
	})
	return err
}

// Unlink implements vfs.Unlinker (ovl_unlink()): the upper object, if
// any, is removed, and a whiteout hides the lower entry, if any.
func (n *node) Unlink(name string, child vfs.Inode) error {
	c, ok := child.(*node)
	if !ok || !n.isDir() {
		return unix.ENOENT
	}
	if c.isDir() {
		return unix.EISDIR
	}
	// Both outcomes change the upper directory.
	up, err := n.copyUp(-1)
	if err != nil {
		return err
	}
	c.copyMu.Lock()
	defer c.copyMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.children[name] != c {
		return unix.ENOENT
	}
	return n.removeLocked(up, name, c)
}

// removeLocked removes entry name (node c) of the directory: c's upper
// object goes and, if the lower layer has the name, a whiteout is left.
//
// Preconditions: c.copyMu and n.mu are held; n.children[name] == c; up is
// n's upper layer.
// +checklocks:n.mu
func (n *node) removeLocked(up *layer, name string, c *node) error {
	lowerHas, err := n.lowerHasLocked(name)
	if err != nil {
		return err
	}
	if cu := c.upperLayer(); cu != nil {
		ul, ok := up.inode.(vfs.Unlinker)
		if !ok {
			return unix.EPERM
		}
		if c.isDir() {
			if err := ul.Rmdir(name, cu.inode); err != nil {
				return err
			}
			n.fs.forgetUpper(cu.ino)
		} else {
			if err := ul.Unlink(name, cu.inode); err != nil {
				return err
			}
			n.fs.forgetIfUnlinked(cu.inode, cu.ino)
		}
	}
	if lowerHas {
		n.fs.addWhiteout(up.ino, name)
		if c.upperLayer() == nil {
			// Linux creates the whiteout in the upper directory,
			// which changes its times; ours is not an entry there,
			// so update them by hand.
			now := vfs.Now()
			_ = up.inode.SetStat(n.fs.ctx, vfs.SetStat{Mask: unix.STATX_MTIME, Mtime: now})
		}
	}
	delete(n.children, name)
	n.changedLocked(name)
	return nil
}

// Rmdir implements vfs.Unlinker (ovl_rmdir()): the directory must be
// empty in the merged view (ENOTEMPTY); whiteouts in it do not count.
func (n *node) Rmdir(name string, child vfs.Inode) error {
	c, ok := child.(*node)
	if !ok || !n.isDir() {
		return unix.ENOENT
	}
	if !c.isDir() {
		return unix.ENOTDIR
	}
	up, err := n.copyUp(-1)
	if err != nil {
		return err
	}
	c.copyMu.Lock()
	defer c.copyMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.children[name] != c {
		return unix.ENOENT
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	empty, err := c.emptyLocked()
	if err != nil {
		return err
	}
	if !empty {
		return unix.ENOTEMPTY
	}
	if err := n.removeLocked(up, name, c); err != nil {
		return err
	}
	c.removed = true
	c.children = nil
	c.snap = nil
	return nil
}

// isAncestor reports whether a is d or one of d's ancestors.
//
// Preconditions: n.fs.renameMu is held.
func isAncestor(a, d *node) bool {
	for ; d != nil; d = d.parent {
		if d == a {
			return true
		}
	}
	return false
}

// Rename implements vfs.Renamer (ovl_rename()). Non-directories are
// copied up and renamed in the upper layer, leaving a whiteout at the old
// name if the lower layer has it. A directory with a lower layer cannot
// move (EXDEV: overlayfs needs redirect_dir for that, which we do not
// implement, and rename(2) users such as mv(1) fall back to copying). An
// upper directory moved into a directory with a lower layer becomes opaque
// so that a lower directory of the new name does not show through it.
//
// It locks two directories chosen at run time (an ancestor first), which
// the lock checker cannot follow.
//
// +checklocksignore
func (n *node) Rename(oldName string, child vfs.Inode, newDir vfs.Inode, newName string, replaced vfs.Inode, flags uint32) error {
	c, ok := child.(*node)
	nd, ok2 := newDir.(*node)
	if !ok || !ok2 || c.fs != n.fs || nd.fs != n.fs {
		return unix.EXDEV
	}
	if !n.isDir() || !nd.isDir() {
		return unix.ENOTDIR
	}
	var r *node
	if replaced != nil {
		if r, ok = replaced.(*node); !ok || r.fs != n.fs {
			return unix.EXDEV
		}
	}
	exchange := flags&vfs.RenameExchange != 0
	if exchange && r == nil {
		return unix.ENOENT
	}
	fs := n.fs
	fs.renameMu.Lock()
	defer fs.renameMu.Unlock()

	if c.isDir() && c.lower != nil {
		return unix.EXDEV
	}
	if exchange && r.isDir() && r.lower != nil {
		return unix.EXDEV
	}
	// The VFS forbids moving a directory under itself and replacing an
	// ancestor of the source; check again for direct callers, since the
	// lock order below relies on it.
	if isAncestor(c, nd) {
		return unix.EINVAL
	}
	if r != nil && isAncestor(r, n) {
		return unix.ENOTEMPTY
	}
	cu, err := c.copyUp(-1)
	if err != nil {
		return err
	}
	var ru *layer
	if exchange {
		if ru, err = r.copyUp(-1); err != nil {
			return err
		}
	}
	oup, err := n.copyUp(-1)
	if err != nil {
		return err
	}
	nup, err := nd.copyUp(-1)
	if err != nil {
		return err
	}
	if r != nil && !exchange {
		// Keep a lower-only target from being copied up while it is
		// being replaced.
		r.copyMu.Lock()
		defer r.copyMu.Unlock()
		ru = r.upperLayer()
	}

	// Lock the directories, an ancestor first.
	first, second := n, nd
	if isAncestor(nd, n) {
		first, second = nd, n
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	if second != first {
		second.mu.Lock()
		defer second.mu.Unlock()
	}
	if n.removed || nd.removed {
		return unix.ENOENT
	}
	if n.children[oldName] != c {
		return unix.ENOENT
	}
	cur, err := nd.lookupLocked(newName)
	if err != nil && err != unix.ENOENT {
		return err
	}
	if cur != r {
		return unix.ENOENT
	}
	if r == c {
		return nil
	}
	if r != nil && r.isDir() && !exchange {
		r.mu.Lock()
		defer r.mu.Unlock()
		empty, err := r.emptyLocked()
		if err != nil {
			return err
		}
		if !empty {
			return unix.ENOTEMPTY
		}
	}
	oldLowerHas, err := n.lowerHasLocked(oldName)
	if err != nil {
		return err
	}
	var ruInode vfs.Inode
	if ru != nil {
		ruInode = ru.inode
	}
	rn, ok := oup.inode.(vfs.Renamer)
	if !ok {
		return unix.EPERM
	}
	if err := rn.Rename(oldName, cu.inode, nup.inode, newName, ruInode, flags&vfs.RenameExchange); err != nil {
		return err
	}

	if c.isDir() && nd.lower != nil {
		fs.setOpaque(cu.ino)
	}
	if exchange {
		if r.isDir() && n.lower != nil {
			fs.setOpaque(ru.ino)
		}
		n.addChildLocked(oldName, r)
		nd.addChildLocked(newName, c)
		r.parent, r.name = n, oldName
	} else {
		if r != nil {
			if ru != nil {
				if r.isDir() {
					fs.forgetUpper(ru.ino)
				} else {
					fs.forgetIfUnlinked(ru.inode, ru.ino)
				}
			}
			if r.isDir() {
				r.removed = true
				r.children = nil
				r.snap = nil
			}
		}
		// The new upper entry covers newName by itself.
		fs.removeWhiteout(nup.ino, newName)
		if oldLowerHas {
			fs.addWhiteout(oup.ino, oldName)
		}
		delete(n.children, oldName)
		nd.addChildLocked(newName, c)
	}
	c.parent, c.name = nd, newName
	n.changedLocked(oldName)
	nd.changedLocked(newName)
	return nil
}
