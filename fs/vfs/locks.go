package vfs

import "pangolin/fs/lock"

// File locks (fs/lock) attach to the inode a description was opened on,
// or to the description's FileImpl for files without a dentry. flock and
// OFD locks are owned by the description and go with its last reference
// (a release hook); POSIX record locks are owned by a descriptor table and
// go when that table closes any descriptor of the inode (filp_close()
// calling locks_remove_posix()), which FDTable does on every removal.

// lockKey returns the identity the file's locks attach to.
func (fd *FileDescription) lockKey() any {
	if fd.vd.Dentry != nil {
		return fd.vd.Dentry.inode
	}
	return fd.impl
}

// locksHook releases a description's flock and OFD locks on one inode
// when the description is released. It holds a reference on the
// FileLocks.
type locksHook struct{ l *lock.FileLocks }

// FileReleased implements ReleaseHook.
func (h *locksHook) FileReleased(fd *FileDescription) {
	h.l.ReleaseOwner(fd, true)
	h.l.Release()
}

// acquireLocks returns the file's lock state with a reference; if the
// description is about to own a lock there, it makes sure the locks are
// released with the description.
func (fd *FileDescription) acquireLocks(owned bool) *lock.FileLocks {
	l := lock.Acquire(fd.lockKey())
	if owned && l.MarkHooked(fd) {
		fd.AddReleaseHook(&locksHook{l: lock.Acquire(fd.lockKey())})
	}
	return l
}

// Flock applies a flock(2) lock request to the description (see
// lock.FileLocks.Flock).
func (fd *FileDescription) Flock(ctx Context, t lock.Type, block bool) error {
	l := fd.acquireLocks(t != lock.Unlock)
	defer l.Release()
	return l.Flock(ctx, fd, t, block)
}

// SetRecordLock applies a record lock request (F_SETLK, F_SETLKW and the
// OFD forms). An OFD request is owned by the description itself; a POSIX
// one by r.Owner, the caller's descriptor table.
func (fd *FileDescription) SetRecordLock(ctx Context, r lock.Record, block bool) error {
	if r.OFD {
		r.Owner = fd
	}
	l := fd.acquireLocks(r.OFD && r.Type != lock.Unlock)
	defer l.Release()
	return l.SetRecord(ctx, r, block)
}

// TestRecordLock returns a lock that would conflict with r (F_GETLK,
// F_OFD_GETLK), if there is one.
func (fd *FileDescription) TestRecordLock(r lock.Record) (lock.Record, bool) {
	if r.OFD {
		r.Owner = fd
	}
	l := lock.Lookup(fd.lockKey())
	if l == nil {
		return lock.Record{}, false
	}
	defer l.Release()
	return l.Test(r)
}

// ReleasePOSIXLocks drops the POSIX record locks owner holds on the file's
// inode (locks_remove_posix()).
func (fd *FileDescription) ReleasePOSIXLocks(owner lock.Owner) {
	if !lock.AnyPOSIX() {
		return
	}
	l := lock.Lookup(fd.lockKey())
	if l == nil {
		return
	}
	l.ReleaseOwner(owner, false)
	l.Release()
}
