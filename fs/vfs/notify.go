package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Filesystem change notification for inotify(7) (fs/notify/fsnotify.c).
//
// A Watcher is attached to a Dentry and receives that dentry's events; a
// directory's watchers also receive events on its children, with the
// child's name. The VFS generates every event itself, from the
// operations below, so that all filesystems report the same events; a
// filesystem never calls this API.
//
//	operation                 watched file (name "")   its directory (name)
//	open (not O_PATH)         IN_OPEN                   IN_OPEN
//	read, pread, getdents     IN_ACCESS                 IN_ACCESS
//	write, truncate, O_TRUNC  IN_MODIFY                 IN_MODIFY
//	chmod, chown, utimes      IN_ATTRIB (IN_ACCESS/IN_MODIFY for atime/mtime alone)
//	last close                IN_CLOSE_WRITE or IN_CLOSE_NOWRITE (both)
//	create, mkdir, mknod,
//	symlink, link             -                         IN_CREATE
//	unlink, rmdir             IN_ATTRIB (link count)    IN_DELETE
//	rename                    IN_MOVE_SELF              IN_MOVED_FROM / IN_MOVED_TO
//	last link gone            IN_DELETE_SELF            -
//
// IN_ISDIR is added when the subject is a directory. IN_DELETE_SELF comes
// when the last link is gone and no open file refers to the dentry any
// more (Linux sends it when the inode is evicted: dentry_unlink_inode()).
//
// Watches are per dentry, not per inode: a file with several hard links
// reports to the watchers of the name it was reached through.
//
// Watchers run synchronously in the operation, possibly with directory
// locks held: Notify must not call into the VFS, and may take only locks
// that are never held while calling the VFS.

// Event bits: inotify's IN_* values, which are fsnotify's FS_* bits.
const (
	InAccess       = 0x1
	InModify       = 0x2
	InAttrib       = 0x4
	InCloseWrite   = 0x8
	InCloseNowrite = 0x10
	InOpen         = 0x20
	InMovedFrom    = 0x40
	InMovedTo      = 0x80
	InCreate       = 0x100
	InDelete       = 0x200
	InDeleteSelf   = 0x400
	InMoveSelf     = 0x800
	InIsDir        = 0x40000000
)

// Watcher receives events for a dentry (an fsnotify mark).
type Watcher interface {
	// Notify reports an event on the watched dentry (name == "") or on
	// its child name. cookie pairs IN_MOVED_FROM with IN_MOVED_TO (0
	// otherwise).
	Notify(mask uint32, name string, cookie uint32)
}

// watches is a dentry's watcher list, replaced (never modified) under mu
// so that delivery reads it without locking.
type watches struct {
	mu   sync.Mutex
	list atomic.Pointer[[]Watcher]
}

// watchersActive counts registered watchers everywhere, so that
// operations skip event generation while there are none.
var watchersActive atomic.Int64

// renameCookie numbers renames for IN_MOVED_FROM/IN_MOVED_TO pairs
// (fsnotify_get_cookie()).
var renameCookie atomic.Uint32

// AddWatcher attaches w to d. Adding a watcher twice attaches it once.
func (d *Dentry) AddWatcher(w Watcher) {
	d.watches.mu.Lock()
	defer d.watches.mu.Unlock()
	var old []Watcher
	if p := d.watches.list.Load(); p != nil {
		old = *p
	}
	for _, o := range old {
		if o == w {
			return
		}
	}
	nl := append(append([]Watcher(nil), old...), w)
	d.watches.list.Store(&nl)
	watchersActive.Add(1)
}

// RemoveWatcher detaches w from d, if attached.
func (d *Dentry) RemoveWatcher(w Watcher) {
	d.watches.mu.Lock()
	defer d.watches.mu.Unlock()
	p := d.watches.list.Load()
	if p == nil {
		return
	}
	for i, o := range *p {
		if o == w {
			nl := append(append([]Watcher(nil), (*p)[:i]...), (*p)[i+1:]...)
			if len(nl) == 0 {
				d.watches.list.Store(nil)
			} else {
				d.watches.list.Store(&nl)
			}
			watchersActive.Add(-1)
			return
		}
	}
}

// deliver sends an event to d's watchers.
func (d *Dentry) deliver(mask uint32, name string, cookie uint32) {
	p := d.watches.list.Load()
	if p == nil {
		return
	}
	for _, w := range *p {
		w.Notify(mask, name, cookie)
	}
}

// isDirBit returns InIsDir for a directory.
func (d *Dentry) isDirBit() uint32 {
	if d.IsDir() {
		return InIsDir
	}
	return 0
}

// notifySelf reports an event to d's own watchers only (fsnotify_inode()).
func (d *Dentry) notifySelf(mask uint32) {
	if watchersActive.Load() == 0 {
		return
	}
	d.deliver(mask|d.isDirBit(), "", 0)
}

// notifyEntry reports an event about the entry name of directory dir
// whose dentry is child (fsnotify_name()).
func notifyEntry(dir *Dentry, name string, child *Dentry, mask, cookie uint32) {
	if watchersActive.Load() == 0 {
		return
	}
	dir.deliver(mask|child.isDirBit(), name, cookie)
}

// notify reports an event on the file's dentry, if it has one and is not
// an O_PATH file (FMODE_NONOTIFY).
func (fd *FileDescription) notify(mask uint32) {
	if fd.vd.Dentry != nil && mask != 0 && !fd.IsPath() {
		fd.vd.Dentry.notifyFile(mask)
	}
}

// notifyFile reports an event on d to its watchers and to its directory's
// (fsnotify_parent()). Removed dentries report to their own watchers only.
//
// Preconditions: no Dentry.mu is held (it takes renameMu for reading).
func (d *Dentry) notifyFile(mask uint32) {
	if watchersActive.Load() == 0 || mask == 0 {
		return
	}
	mask |= d.isDirBit()
	if !d.IsDead() {
		// The directory's watchers hear first (fsnotify() hands the
		// parent's mark the event before the inode's).
		d.fs.vfs.renameMu.RLock()
		parent, name := d.parent, d.name
		d.fs.vfs.renameMu.RUnlock()
		if parent != nil {
			parent.deliver(mask, name, 0)
		}
	}
	d.deliver(mask, "", 0)
}

// linkGone handles a dentry whose inode may have lost its last link
// (unlink, rmdir, rename over it): IN_DELETE_SELF is reported now, or
// when the last open file on d is released.
func (d *Dentry) linkGone() {
	if watchersActive.Load() == 0 {
		return
	}
	if !d.IsDir() {
		st, err := d.inode.Stat()
		if err == nil && st.Nlink > 0 {
			return
		}
	}
	d.deletePending.Store(true)
	if d.opens.Load() == 0 && d.deletePending.CompareAndSwap(true, false) {
		d.deleteSelf()
	}
}

// deleteSelf reports IN_DELETE_SELF, which Linux sends without IN_ISDIR
// even for a directory.
func (d *Dentry) deleteSelf() { d.deliver(InDeleteSelf, "", 0) }

// fileOpened and fileReleased count the descriptions open on d, for
// linkGone.
func (d *Dentry) fileOpened() { d.opens.Add(1) }

func (d *Dentry) fileReleased() {
	if d.opens.Add(-1) == 0 && d.deletePending.CompareAndSwap(true, false) {
		d.deleteSelf()
	}
}

// setStatEvent is the event for an attribute change (fsnotify_change()).
func setStatEvent(mask uint32) uint32 {
	var ev uint32
	if mask&(unix.STATX_UID|unix.STATX_GID|unix.STATX_MODE) != 0 {
		ev |= InAttrib
	}
	if mask&unix.STATX_SIZE != 0 {
		ev |= InModify
	}
	switch mask & (unix.STATX_ATIME | unix.STATX_MTIME) {
	case unix.STATX_ATIME | unix.STATX_MTIME:
		ev |= InAttrib
	case unix.STATX_ATIME:
		ev |= InAccess
	case unix.STATX_MTIME:
		ev |= InModify
	}
	return ev
}
