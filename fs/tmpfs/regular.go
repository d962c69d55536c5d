package tmpfs

import (
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/memmap"
)

// File seals (include/uapi/linux/fcntl.h).
const (
	SealSeal        = 0x1
	SealShrink      = 0x2
	SealGrow        = 0x4
	SealWrite       = 0x8
	SealFutureWrite = 0x10
	SealExec        = 0x20

	allSeals = SealSeal | SealShrink | SealGrow | SealWrite | SealFutureWrite | SealExec
)

// regularFile is a tmpfs regular file. Its pages live in the memory file
// (see fileData) and the file is its own memmap.Mappable, so that every
// mapping shares them.
//
// Locking: InodeAttrs.Mu (Linux's inode lock) is held by everything that
// changes the size or the data (write, truncate, fallocate) and protects
// the attributes and users. dataMu protects the size, the pages, the seals
// and the mappings; it is what Translate takes, under an address space's
// lock. Lock order: Mu, then address-space locks (truncate invalidating
// mappings), then dataMu.
type regularFile struct {
	inode
	// users counts open descriptions and memmap.Files; with nlink it
	// decides when the data is freed (iput() of an unlinked inode).
	// Protected by Mu.
	users int
	// anon marks a memfd, which has no name: its data goes with its last
	// user. Immutable.
	anon bool

	dataMu sync.Mutex
	// size is the file size. Protected by dataMu.
	size int64
	// data holds the pages. Protected by dataMu.
	data fileData
	// seals are the F_SEAL_* bits (F_SEAL_SEAL for every file but a
	// sealable memfd, as shmem_get_inode() sets). Protected by dataMu.
	seals uint32
	// mappings counts the VMAs mapping the file in each address space;
	// writableMappings counts the shared writable ones
	// (i_mmap_writable). Protected by dataMu.
	mappings         memmap.Spaces
	writableMappings int
}

var (
	_ memmap.Mappable    = (*regularFile)(nil)
	_ memmap.Tracker     = (*regularFile)(nil)
	_ memmap.HolePuncher = (*regularFile)(nil)
)

func (fs *Filesystem) newRegular(opts vfs.CreateOptions) *regularFile {
	f := &regularFile{data: newFileData(fs.mf, fs), seals: SealSeal}
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
	f.dataMu.Lock()
	st.Size = f.size
	st.Blocks = f.data.count() * (pageSize / 512)
	f.dataMu.Unlock()
	return st, nil
}

// SetStat implements vfs.Inode; a size change truncates or extends
// (shmem_setattr()) and updates mtime and ctime, as do_truncate() asks
// with ATTR_MTIME|ATTR_CTIME. Seals refuse shrinking, growing and
// changing the exec bits with EPERM.
func (f *regularFile) SetStat(_ vfs.Context, s vfs.SetStat) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.dataMu.Lock()
	seals, size := f.seals, f.size
	f.dataMu.Unlock()
	if s.Mask&unix.STATX_SIZE != 0 {
		if s.Size < 0 {
			return unix.EINVAL
		}
		if (s.Size < size && seals&SealShrink != 0) || (s.Size > size && seals&SealGrow != 0) {
			return unix.EPERM
		}
	}
	if s.Mask&unix.STATX_MODE != 0 && seals&SealExec != 0 {
		var st vfs.Stat
		f.FillStatLocked(&st)
		if (st.Mode^s.Mode)&0o111 != 0 {
			return unix.EPERM
		}
	}
	if s.Mask&unix.STATX_SIZE != 0 {
		f.truncateLocked(s.Size)
		f.TouchMtimeCtimeLocked()
	}
	f.SetStatLocked(s)
	return nil
}

// truncateLocked sets the size. Shrinking first unmaps the pages wholly
// past the new end from every address space (unmap_mapping_range() in
// shmem_setattr(): an access there then raises SIGBUS), then frees them.
//
// Preconditions: f.Mu is held (no write can grow the file meanwhile).
func (f *regularFile) truncateLocked(size int64) {
	f.dataMu.Lock()
	old := f.size
	f.size = size
	if size >= old {
		f.dataMu.Unlock()
		return
	}
	spaces := f.mappings.List()
	f.dataMu.Unlock()
	// Translate refuses pages past the new size from here on, so the
	// invalidated pages cannot come back.
	start := (uint64(size) + pageSize - 1) &^ (pageSize - 1)
	for _, ms := range spaces {
		ms.Invalidate(f, start, math.MaxUint64, true)
	}
	f.dataMu.Lock()
	f.data.truncate(size)
	f.dataMu.Unlock()
}

// addLink frees the data when the last link goes and nothing has the
// file open.
func (f *regularFile) addLink(delta int) {
	f.Mu.Lock()
	f.AddLinkLocked(delta)
	gone := f.NlinkLocked() == 0
	if gone && f.users == 0 {
		f.releaseData()
	}
	f.Mu.Unlock()
	if gone {
		f.fs.inodes.Add(-1)
	}
}

// releaseData frees the pages of a file that is gone.
//
// Preconditions: f.Mu is held; f has no users (so no mappings).
func (f *regularFile) releaseData() {
	f.dataMu.Lock()
	f.data.release()
	f.dataMu.Unlock()
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
	if f.users == 0 && (f.anon || f.NlinkLocked() == 0) {
		f.releaseData()
	}
}

// Open implements vfs.Inode.
func (f *regularFile) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	f.incUsers()
	return &regularFD{f: f}, vfs.FileOptions{}, nil
}

// Translate implements memmap.Mappable: the pages are the file's own
// (shmem_fault()). A page wholly past the end of the file, or one that
// cannot be allocated because the filesystem is full, raises SIGBUS.
func (f *regularFile) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	end := (uint64(f.size) + pageSize - 1) &^ (pageSize - 1)
	if off >= end {
		return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
	}
	maxPages := int64(min(length, end-off) / pageSize)
	mo, n, err := f.data.translate(int64(off/pageSize), max(maxPages, 1))
	if err != nil {
		if err == unix.ENOSPC {
			return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
		}
		return memmap.Translation{}, err
	}
	l := uint64(n) * pageSize
	mf := f.fs.mf
	return memmap.Translation{FD: mf.FD(), Offset: mo, Length: l, Internal: mf.Slice(mo, l)}, nil
}

// AddMapping implements memmap.Tracker. A shared writable mapping of a
// file sealed against writing fails with EPERM (seal_check_write()).
func (f *regularFile) AddMapping(ms memmap.MappingSpace, writable bool) error {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if writable {
		if f.seals&(SealWrite|SealFutureWrite) != 0 {
			return unix.EPERM
		}
		f.writableMappings++
	}
	f.mappings.Add(ms)
	return nil
}

// RemoveMapping implements memmap.Tracker.
func (f *regularFile) RemoveMapping(ms memmap.MappingSpace, writable bool) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if writable {
		f.writableMappings--
	}
	f.mappings.Remove(ms)
}

// PunchHole implements memmap.HolePuncher (and fallocate's
// FALLOC_FL_PUNCH_HOLE, shmem_fallocate()): the pages wholly inside the
// range are freed, the rest of the range zeroed. Address spaces drop
// their mappings of the freed pages before the pages are freed (they are
// taken out of the file first, so a fault meanwhile sees a new hole), and
// private copies of them are kept. A file sealed against writing refuses
// with EPERM.
func (f *regularFile) PunchHole(off, length uint64) error {
	if off > math.MaxInt64 || length > math.MaxInt64-off {
		return unix.EINVAL
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.punchHoleLocked(int64(off), int64(length))
}

// punchHoleLocked is PunchHole.
//
// Preconditions: f.Mu is held.
func (f *regularFile) punchHoleLocked(off, length int64) error {
	f.dataMu.Lock()
	if f.seals&(SealWrite|SealFutureWrite) != 0 {
		f.dataMu.Unlock()
		return unix.EPERM
	}
	pages := f.data.detach(off, length)
	spaces := f.mappings.List()
	f.dataMu.Unlock()
	start := (uint64(off) + pageSize - 1) &^ (pageSize - 1)
	end := uint64(off+length) &^ (pageSize - 1)
	if end > start {
		for _, ms := range spaces {
			ms.Invalidate(f, start, end, false)
		}
	}
	f.dataMu.Lock()
	f.data.free(pages)
	f.dataMu.Unlock()
	f.TouchMtimeCtimeLocked()
	return nil
}

// Seals returns the file's F_SEAL_* bits (F_GET_SEALS).
func (f *regularFile) Seals() uint32 {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	return f.seals
}

// AddSeals adds seals (F_ADD_SEALS, memfd_add_seals()): EINVAL for
// unknown bits, EPERM once F_SEAL_SEAL is set, EBUSY for F_SEAL_WRITE
// while a shared writable mapping exists. F_SEAL_EXEC on an executable
// file also seals it against every change (W^X from the start). The
// caller checks that the file is open for writing.
func (f *regularFile) AddSeals(seals uint32) error {
	if seals&^allSeals != 0 {
		return unix.EINVAL
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var st vfs.Stat
	f.FillStatLocked(&st)
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if f.seals&SealSeal != 0 {
		return unix.EPERM
	}
	if seals&SealExec != 0 && st.Mode&0o111 != 0 {
		seals |= SealShrink | SealGrow | SealWrite | SealFutureWrite
	}
	if seals&SealWrite != 0 && f.seals&SealWrite == 0 && f.writableMappings > 0 {
		return unix.EBUSY
	}
	f.seals |= seals
	return nil
}

// regularFD is an open tmpfs regular file.
type regularFD struct {
	vfs.FileDefaults
	// f is immutable.
	f *regularFile
}

// Release implements vfs.FileImpl.
func (r *regularFD) Release() { r.f.decUsers() }

// Read implements vfs.FileImpl (shmem_file_read_iter()). It does not take
// the inode lock, as Linux does not: reads run concurrently with each
// other.
func (r *regularFD) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	f := r.f
	f.Mu.Lock()
	f.TouchAtimeLocked()
	f.Mu.Unlock()
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if off >= f.size {
		return 0, nil
	}
	if rem := f.size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	f.data.readAt(dst, off)
	return len(dst), nil
}

// maxFileSize is MAX_LFS_FILESIZE.
const maxFileSize = math.MaxInt64

// Write implements vfs.FileImpl (shmem_file_write_iter(),
// generic_perform_write()). Seals: F_SEAL_WRITE and F_SEAL_FUTURE_WRITE
// refuse any write, F_SEAL_GROW the first page-sized chunk that would
// extend the file (shmem_write_begin()); a write stopped after some
// chunks returns what it wrote.
func (r *regularFD) Write(ctx vfs.Context, _ *vfs.FileDescription, src []byte, off int64, appendMode bool) (int, int64, error) {
	f := r.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.dataMu.Lock()
	if appendMode {
		off = f.size
	}
	if len(src) == 0 {
		f.dataMu.Unlock()
		return 0, off, nil
	}
	if off > maxFileSize-int64(len(src)) {
		// generic_write_check_limits(): nothing fits past the limit.
		if off >= maxFileSize {
			f.dataMu.Unlock()
			return 0, off, unix.EFBIG
		}
		src = src[:maxFileSize-off]
	}
	if f.seals&(SealWrite|SealFutureWrite) != 0 {
		f.dataMu.Unlock()
		return 0, off, unix.EPERM
	}
	var sealErr error
	if f.seals&SealGrow != 0 {
		end := off + int64(len(src))
		p := off
		for p < end {
			chunkEnd := min(end, (p/pageSize+1)*pageSize)
			if chunkEnd > f.size {
				break
			}
			p = chunkEnd
		}
		if p < end {
			sealErr = unix.EPERM
			src = src[:p-off]
		}
	}
	n, err := f.data.writeAt(src, off)
	if end := off + int64(n); end > f.size {
		f.size = end
	}
	f.dataMu.Unlock()
	if err == nil {
		err = sealErr
	}
	if n > 0 {
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
// FALLOC_FL_KEEP_SIZE reserve the range, FALLOC_FL_PUNCH_HOLE (with
// KEEP_SIZE) frees it (see PunchHole); other modes are not supported. A
// reservation reaching past the end of a file sealed with F_SEAL_GROW
// fails with EPERM, even with FALLOC_FL_KEEP_SIZE.
func (r *regularFD) Allocate(mode uint32, off, length int64) error {
	f := r.f
	if mode == unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE {
		f.Mu.Lock()
		defer f.Mu.Unlock()
		return f.punchHoleLocked(off, length)
	}
	if mode&^unix.FALLOC_FL_KEEP_SIZE != 0 {
		return unix.EOPNOTSUPP
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if off+length > f.size && f.seals&SealGrow != 0 {
		return unix.EPERM
	}
	grow := mode&unix.FALLOC_FL_KEEP_SIZE == 0 && off+length > f.size
	if err := f.data.allocate(off, length); err != nil {
		return err
	}
	if grow {
		f.size = off + length
	}
	f.TouchMtimeCtimeLocked()
	return nil
}

// Seals returns the file's seals (F_GET_SEALS).
func (r *regularFD) Seals() uint32 { return r.f.Seals() }

// AddSeals adds seals (F_ADD_SEALS); see regularFile.AddSeals.
func (r *regularFD) AddSeals(seals uint32) error { return r.f.AddSeals(seals) }

// MMapFile implements vfs.Mappable: shared and private mappings both use
// the file's pages (private ones copy a page on its first write).
func (r *regularFD) MMapFile() (memmap.File, error) {
	r.f.incUsers()
	m := &mmapFile{f: r.f}
	m.refs.Store(1)
	return m, nil
}

// mmapFile is a tmpfs file as the memory manager sees it. It keeps the
// file's data alive while mapped (a user of the file).
type mmapFile struct {
	refs atomic.Int64
	// f is immutable.
	f *regularFile
}

var (
	_ memmap.CoherentPrivate = (*mmapFile)(nil)
	_ memmap.WriteSealer     = (*mmapFile)(nil)
)

// ReadAt implements memmap.File.
func (m *mmapFile) ReadAt(dst []byte, off int64) (int, error) {
	f := m.f
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if off < 0 || off >= f.size {
		return 0, nil
	}
	if rem := f.size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	f.data.readAt(dst, off)
	return len(dst), nil
}

// Size implements memmap.File.
func (m *mmapFile) Size() (int64, error) {
	m.f.dataMu.Lock()
	defer m.f.dataMu.Unlock()
	return m.f.size, nil
}

// Mappable implements memmap.File.
func (m *mmapFile) Mappable() memmap.Mappable { return m.f }

// CoherentPrivate implements memmap.CoherentPrivate: private mappings
// share the file's pages until written.
func (m *mmapFile) CoherentPrivate() bool { return true }

// WriteSealed implements memmap.WriteSealer.
func (m *mmapFile) WriteSealed() bool { return m.f.Seals()&(SealWrite|SealFutureWrite) != 0 }

// IncRef implements memmap.File.
func (m *mmapFile) IncRef() { m.refs.Add(1) }

// DecRef implements memmap.File.
func (m *mmapFile) DecRef() {
	if m.refs.Add(-1) == 0 {
		m.f.decUsers()
	}
}
