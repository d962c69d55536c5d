package tmpfs

import (
	"math"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/memmap"
)

// regularFile is a tmpfs regular file.
type regularFile struct {
	inode
	// size and data are protected by Mu.
	size int64
	data Storage
	// users counts open descriptions and mappings; with nlink it decides
	// when the data is freed (iput() of an unlinked inode). Protected by
	// Mu.
	users int
}

func (fs *Filesystem) newRegular(opts vfs.CreateOptions) *regularFile {
	f := &regularFile{data: newMemStorage(fs)}
	f.fs = fs
	f.Init(fs.newIno(), opts.Mode, opts.UID, opts.GID, 1, 0)
	return f
}

// Stat implements vfs.Inode.
func (f *regularFile) Stat() (vfs.Stat, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var st vfs.Stat
	f.FillStatLocked(&st)
	st.Size = f.size
	st.Blocks = f.data.Pages() * (pageSize / 512)
	return st, nil
}

// SetStat implements vfs.Inode; a size change truncates or extends
// (shmem_setattr()) and updates mtime and ctime, as do_truncate() asks
// with ATTR_MTIME|ATTR_CTIME.
func (f *regularFile) SetStat(_ vfs.Context, s vfs.SetStat) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if s.Mask&unix.STATX_SIZE != 0 {
		if s.Size < 0 {
			return unix.EINVAL
		}
		if s.Size < f.size {
			f.data.Truncate(s.Size)
		}
		f.size = s.Size
		f.TouchMtimeCtimeLocked()
	}
	f.SetStatLocked(s)
	return nil
}

// addLink frees the data when the last link goes and nothing has the
// file open.
func (f *regularFile) addLink(delta int) {
	f.Mu.Lock()
	f.AddLinkLocked(delta)
	gone := f.NlinkLocked() == 0
	if gone && f.users == 0 {
		f.data.Release()
	}
	f.Mu.Unlock()
	if gone {
		f.fs.inodes.Add(-1)
	}
}

func (f *regularFile) incUsers() {
	f.Mu.Lock()
	f.users++
	f.Mu.Unlock()
}

func (f *regularFile) decUsers() {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.users--
	if f.users == 0 && f.NlinkLocked() == 0 {
		f.data.Release()
	}
}

// Open implements vfs.Inode.
func (f *regularFile) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	f.incUsers()
	return &regularFD{f: f}, vfs.FileOptions{}, nil
}

// regularFD is an open tmpfs regular file.
type regularFD struct {
	vfs.FileDefaults
	// f is immutable.
	f *regularFile
}

// Release implements vfs.FileImpl.
func (r *regularFD) Release() { r.f.decUsers() }

// Read implements vfs.FileImpl (shmem_file_read_iter()).
func (r *regularFD) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	f := r.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.TouchAtimeLocked()
	if off >= f.size {
		return 0, nil
	}
	if rem := f.size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	f.data.ReadAt(dst, off)
	return len(dst), nil
}

// maxFileSize is MAX_LFS_FILESIZE.
const maxFileSize = math.MaxInt64

// Write implements vfs.FileImpl (generic_perform_write()).
func (r *regularFD) Write(ctx vfs.Context, _ *vfs.FileDescription, src []byte, off int64, appendMode bool) (int, int64, error) {
	f := r.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if appendMode {
		off = f.size
	}
	if len(src) == 0 {
		return 0, off, nil
	}
	if off > maxFileSize-int64(len(src)) {
		// generic_write_check_limits(): nothing fits past the limit.
		if off >= maxFileSize {
			return 0, off, unix.EFBIG
		}
		src = src[:maxFileSize-off]
	}
	n, err := f.data.WriteAt(src, off)
	if n > 0 {
		if end := off + int64(n); end > f.size {
			f.size = end
		}
		// file_update_time() and file_remove_privs(): a write clears
		// set-user-ID and (group-executable) set-group-ID.
		f.TouchMtimeCtimeLocked()
		if c := ctx.Credentials(); c == nil || !c.HasCapability(capFsetid) {
			f.killSetIDLocked()
		}
		err = nil
	}
	return n, off + int64(n), err
}

// capFsetid is CAP_FSETID.
const capFsetid = 4

// killSetIDLocked clears S_ISUID, and S_ISGID if group-executable, after a
// write by a caller without CAP_FSETID (should_remove_suid()).
//
// Preconditions: f.Mu is held.
func (f *regularFile) killSetIDLocked() {
	st := vfs.Stat{}
	f.FillStatLocked(&st)
	m := st.Mode
	nm := m &^ unix.S_ISUID
	if m&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
		nm &^= unix.S_ISGID
	}
	if nm != m {
		f.SetStatLocked(vfs.SetStat{Mask: unix.STATX_MODE, Mode: nm & 0o7777})
	}
}

// Sync implements vfs.FileImpl: memory needs no flushing.
func (r *regularFD) Sync(vfs.Context) error { return nil }

// Allocate implements vfs.Allocator (shmem_fallocate()): mode 0 and
// FALLOC_FL_KEEP_SIZE reserve the range; other modes are not supported.
func (r *regularFD) Allocate(mode uint32, off, length int64) error {
	if mode&^unix.FALLOC_FL_KEEP_SIZE != 0 {
		return unix.EOPNOTSUPP
	}
	f := r.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if err := f.data.Allocate(off, length); err != nil {
		return err
	}
	if mode&unix.FALLOC_FL_KEEP_SIZE == 0 && off+length > f.size {
		f.size = off + length
	}
	f.TouchMtimeCtimeLocked()
	return nil
}

// MMapFile implements vfs.Mappable. Private mappings copy pages in with
// ReadAt; shared mappings need the data in the memory file, which tmpfs
// does not use yet, so Mappable returns nil (mmap then fails with ENODEV).
func (r *regularFD) MMapFile() (memmap.File, error) {
	r.f.incUsers()
	m := &mmapFile{f: r.f}
	m.refs.Store(1)
	return m, nil
}

// mmapFile is a tmpfs file as the memory manager sees it.
type mmapFile struct {
	refs atomic.Int64
	// f is immutable.
	f *regularFile
}

// ReadAt implements memmap.File.
func (m *mmapFile) ReadAt(dst []byte, off int64) (int, error) {
	f := m.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if off < 0 || off >= f.size {
		return 0, nil
	}
	if rem := f.size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	f.data.ReadAt(dst, off)
	return len(dst), nil
}

// Size implements memmap.File.
func (m *mmapFile) Size() (int64, error) {
	m.f.Mu.Lock()
	defer m.f.Mu.Unlock()
	return m.f.size, nil
}

// Mappable implements memmap.File.
func (m *mmapFile) Mappable() memmap.Mappable { return nil }

// IncRef implements memmap.File.
func (m *mmapFile) IncRef() { m.refs.Add(1) }

// DecRef implements memmap.File.
func (m *mmapFile) DecRef() {
	if m.refs.Add(-1) == 0 {
		m.f.decUsers()
	}
}
