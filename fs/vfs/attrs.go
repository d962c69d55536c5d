package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// InodeAttrs holds the attributes every inode has (the generic fields of
// struct inode) and implements the common parts of Stat and SetStat.
// Filesystems embed it in their inodes.
type InodeAttrs struct {
	// ino is immutable after Init.
	ino uint64

	// Mu protects the fields below. Filesystems may also use it for
	// their own per-inode state (a file's size and data).
	Mu    sync.Mutex
	mode  uint32
	uid   uint32
	gid   uint32
	nlink uint32
	rdev  uint64
	atime Timespec
	mtime Timespec
	ctime Timespec
	btime Timespec
}

// Init sets the initial attributes; all times are now.
func (a *InodeAttrs) Init(ino uint64, mode, uid, gid, nlink uint32, rdev uint64) {
	now := Now()
	a.ino, a.mode, a.uid, a.gid, a.nlink, a.rdev = ino, mode, uid, gid, nlink, rdev
	a.atime, a.mtime, a.ctime, a.btime = now, now, now, now
}

// Ino returns the inode number.
func (a *InodeAttrs) Ino() uint64 { return a.ino }

// Mode returns the mode (type and permissions).
func (a *InodeAttrs) Mode() uint32 {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.mode
}

// FillStatLocked fills the generic fields of st.
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) FillStatLocked(st *Stat) {
	st.Mask = unix.STATX_BASIC_STATS | unix.STATX_BTIME
	st.Ino = a.ino
	st.Mode = a.mode
	st.UID = a.uid
	st.GID = a.gid
	st.Nlink = a.nlink
	st.Rdev = a.rdev
	st.Atime, st.Mtime, st.Ctime, st.Btime = a.atime, a.mtime, a.ctime, a.btime
	st.Blksize = 4096
}

// StatAttrs returns a Stat with the generic fields filled (size 0).
func (a *InodeAttrs) StatAttrs() Stat {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	var st Stat
	a.FillStatLocked(&st)
	return st
}

// SetStatLocked applies the mode, owner and time parts of s and updates
// ctime (simple_setattr() without the size, which the caller handles).
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) SetStatLocked(s SetStat) {
	now := Now()
	if s.Mask&unix.STATX_MODE != 0 {
		a.mode = a.mode&unix.S_IFMT | s.Mode&0o7777
	}
	if s.Mask&unix.STATX_UID != 0 {
		a.uid = s.UID
	}
	if s.Mask&unix.STATX_GID != 0 {
		a.gid = s.GID
	}
	if s.Mask&unix.STATX_ATIME != 0 {
		a.atime = s.Atime
	}
	if s.Mask&unix.STATX_MTIME != 0 {
		a.mtime = s.Mtime
	}
	if s.Mask&(unix.STATX_MODE|unix.STATX_UID|unix.STATX_GID|unix.STATX_ATIME|unix.STATX_MTIME|unix.STATX_SIZE) != 0 {
		a.ctime = now
	}
}

// SetStatNoSize is SetStat for inodes without a size: EINVAL for a size
// change, else SetStatLocked under Mu.
func (a *InodeAttrs) SetStatNoSize(s SetStat) error {
	if s.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.SetStatLocked(s)
	return nil
}

// NlinkLocked returns the link count.
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) NlinkLocked() uint32 { return a.nlink }

// Nlink returns the link count.
func (a *InodeAttrs) Nlink() uint32 {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.nlink
}

// AddLink adjusts the link count by delta and updates ctime (inc_nlink(),
// drop_nlink() + inode_set_ctime_current()).
func (a *InodeAttrs) AddLink(delta int) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.nlink = uint32(int(a.nlink) + delta)
	a.ctime = Now()
}

// AddLinkLocked is AddLink with Mu held.
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) AddLinkLocked(delta int) {
	a.nlink = uint32(int(a.nlink) + delta)
	a.ctime = Now()
}

// TouchCtime sets ctime to now (a rename changes the moved inode's ctime).
func (a *InodeAttrs) TouchCtime() {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.ctime = Now()
}

// TouchMtimeCtimeLocked sets mtime and ctime to now, as a write or a
// directory change does.
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) TouchMtimeCtimeLocked() {
	now := Now()
	a.mtime, a.ctime = now, now
}

// TouchMtimeCtime is TouchMtimeCtimeLocked taking Mu.
func (a *InodeAttrs) TouchMtimeCtime() {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.TouchMtimeCtimeLocked()
}

// TouchAtimeLocked updates atime after a read with relatime semantics (the
// default mount option): only if atime is not newer than mtime or ctime,
// or older than a day (relatime_need_update()).
//
// Preconditions: a.Mu is held.
func (a *InodeAttrs) TouchAtimeLocked() {
	now := Now()
	if !a.mtime.Before(a.atime) || !a.ctime.Before(a.atime) || now.Sec-a.atime.Sec >= 24*60*60 {
		a.atime = now
	}
}

// TouchAtime is TouchAtimeLocked taking Mu.
func (a *InodeAttrs) TouchAtime() {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.TouchAtimeLocked()
}
