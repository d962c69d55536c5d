// Package anon is the sentry's anon_inodefs (fs/anon_inodes.c): the single
// inode that event files (eventfd, epoll, timerfd, signalfd, inotify)
// share. Such files have no dentry; fstat(2) shows the shared inode, and
// /proc/PID/fd shows "anon_inode:[NAME]".
package anon

import (
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// Dev is the st_dev of anonymous inodes: a fixed anonymous device number
// that the VFS's allocator (counting up from 0:1) does not reach in
// practice, below the host files' 0:4095.
var Dev = unix.Mkdev(0, 0xffe)

// Ino is the inode number every anonymous file shows, as all of Linux's
// anon_inode_getfile() files share anon_inode_inode.
const Ino = 1

// created is the shared inode's timestamp (allocated once, at boot, as
// anon_inode_init() does).
var created = vfs.FromTime(time.Now())

// File implements the parts of vfs.FileImpl that every anonymous file
// shares: fstat of the shared inode, attribute changes refused, and lseek
// that does nothing. Embed it next to vfs.FileDefaults.
type File struct{}

// Stat implements vfs.FileStater: mode 0600 with no file type, owned by
// root, as alloc_anon_inode() makes it.
func (File) Stat() (vfs.Stat, error) {
	return vfs.Stat{
		Mode:    0o600,
		Nlink:   1,
		Ino:     Ino,
		Dev:     Dev,
		Blksize: 4096,
		Atime:   created,
		Mtime:   created,
		Ctime:   created,
	}, nil
}

// SetStat implements vfs.FileStater: anonymous inodes refuse chmod, chown
// and utimes with EOPNOTSUPP (anon_inode_setattr()).
func (File) SetStat(vfs.Context, vfs.SetStat) error { return unix.EOPNOTSUPP }

// Seek implements vfs.Seeker as noop_llseek(): the position stays 0.
func (File) Seek(vfs.Context, int64, int64, int) (int64, error) { return 0, nil }

// Options are the vfs.FileOptions of anonymous files: no VFS position,
// and pread/pwrite fail with ESPIPE (no FMODE_PREAD/FMODE_PWRITE).
var Options = vfs.FileOptions{Positionless: true, NoPRead: true}
