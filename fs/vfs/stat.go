package vfs

import (
	"time"

	"golang.org/x/sys/unix"
)

// Timespec is a timestamp with nanosecond resolution (struct timespec64).
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Now returns the current wall-clock time as a Timespec
// (current_time() in fs/inode.c).
func Now() Timespec { return FromTime(time.Now()) }

// FromTime converts a time.Time.
func FromTime(t time.Time) Timespec {
	return Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// Before reports whether a is earlier than b.
func (a Timespec) Before(b Timespec) bool {
	return a.Sec < b.Sec || (a.Sec == b.Sec && a.Nsec < b.Nsec)
}

// Stat is the attributes of an inode, the union of what stat(2) and
// statx(2) report. Filesystems fill everything but Dev, which the VFS sets
// from the Filesystem the inode belongs to.
type Stat struct {
	// Mask is the set of STATX_* fields that are valid. Filesystems that
	// leave it zero get STATX_BASIC_STATS.
	Mask uint32
	// Mode is the file type (S_IFMT bits) and permissions.
	Mode    uint32
	Nlink   uint32
	UID     uint32
	GID     uint32
	Ino     uint64
	Dev     uint64
	Rdev    uint64
	Size    int64
	Blocks  int64 // 512-byte units
	Blksize uint32
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
	Btime   Timespec
	// MountID is statx's stx_mnt_id, set by the VFS.
	MountID uint64
}

// Type returns the S_IFMT bits of the mode.
func (s *Stat) Type() uint32 { return s.Mode & unix.S_IFMT }

// IsDir reports whether the inode is a directory.
func (s *Stat) IsDir() bool { return s.Type() == unix.S_IFDIR }

// ToStatT converts to the stat(2) structure.
func (s *Stat) ToStatT() unix.Stat_t {
	return unix.Stat_t{
		Dev:     s.Dev,
		Ino:     s.Ino,
		Nlink:   uint64(s.Nlink),
		Mode:    s.Mode,
		Uid:     s.UID,
		Gid:     s.GID,
		Rdev:    s.Rdev,
		Size:    s.Size,
		Blksize: int64(s.Blksize),
		Blocks:  s.Blocks,
		Atim:    unix.Timespec{Sec: s.Atime.Sec, Nsec: s.Atime.Nsec},
		Mtim:    unix.Timespec{Sec: s.Mtime.Sec, Nsec: s.Mtime.Nsec},
		Ctim:    unix.Timespec{Sec: s.Ctime.Sec, Nsec: s.Ctime.Nsec},
	}
}

// ToStatx converts to the statx(2) structure. The mask reported is the
// filesystem's; like Linux, fields not asked for may still be filled.
func (s *Stat) ToStatx() unix.Statx_t {
	ts := func(t Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	mask := s.Mask
	if mask == 0 {
		mask = unix.STATX_BASIC_STATS
	}
	return unix.Statx_t{
		Mask:       mask | unix.STATX_MNT_ID,
		Blksize:    s.Blksize,
		Nlink:      s.Nlink,
		Uid:        s.UID,
		Gid:        s.GID,
		Mode:       uint16(s.Mode),
		Ino:        s.Ino,
		Size:       uint64(s.Size),
		Blocks:     uint64(s.Blocks),
		Atime:      ts(s.Atime),
		Btime:      ts(s.Btime),
		Ctime:      ts(s.Ctime),
		Mtime:      ts(s.Mtime),
		Rdev_major: unix.Major(s.Rdev),
		Rdev_minor: unix.Minor(s.Rdev),
		Dev_major:  unix.Major(s.Dev),
		Dev_minor:  unix.Minor(s.Dev),
		Mnt_id:     s.MountID,
	}
}

// SetStat is a request to change attributes (struct iattr). Mask says which
// fields are set, using STATX_* bits: STATX_MODE, STATX_UID, STATX_GID,
// STATX_SIZE, STATX_ATIME, STATX_MTIME. The VFS has already checked
// permissions and resolved UTIME_NOW; filesystems apply the change and
// update ctime (and mtime for a size change), as simple_setattr() does.
type SetStat struct {
	Mask  uint32
	Mode  uint32 // permission bits only (07777)
	UID   uint32
	GID   uint32
	Size  int64
	Atime Timespec
	Mtime Timespec
	// Touch marks a change of both times to "now" requested without
	// explicit values (utimes(NULL) or UTIME_NOW): write permission is
	// then enough, instead of ownership (ATTR_TOUCH).
	Touch bool
}

// Statfs is what statfs(2) reports about a filesystem.
type Statfs struct {
	Type    uint64
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Namelen uint64
	Frsize  int64
	Flags   uint64
}

// Dirent types (DT_* in include/linux/fs_types.h).
const (
	DTUnknown = 0
	DTFIFO    = 1
	DTChr     = 2
	DTDir     = 4
	DTBlk     = 6
	DTReg     = 8
	DTLnk     = 10
	DTSock    = 12
)

// DirentType returns the DT_* value for a mode (fs_umode_to_dtype()).
func DirentType(mode uint32) uint8 {
	return uint8((mode & unix.S_IFMT) >> 12)
}

// Dirent is one directory entry emitted while iterating a directory.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // DT_*
	// NextOff is the cookie that resumes iteration after this entry
	// (d_off in linux_dirent64).
	NextOff int64
}

// NameMax is the longest file name component (NAME_MAX).
const NameMax = 255

// SymlinkMax is the longest symlink target, PATH_MAX - 1 bytes.
const SymlinkMax = 4095

// MaxSymlinkFollows is how many symlinks one path resolution may follow
// (MAXSYMLINKS in include/linux/namei.h).
const MaxSymlinkFollows = 40
