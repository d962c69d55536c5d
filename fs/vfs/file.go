// Package vfs is the sentry's virtual filesystem: path resolution, mounts,
// the dentry cache and open file descriptions. Filesystems implement small
// interfaces defined here (see README.md).
package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/sentry/memmap"
)

// statusFlagsSettable are the flags F_SETFL may change (SETFL_MASK in
// fs/fcntl.c).
const statusFlagsSettable = unix.O_APPEND | unix.O_NONBLOCK | unix.O_DIRECT | unix.O_NOATIME | unix.O_ASYNC

// statusFlagsKept are the open(2) flags a description remembers and
// F_GETFL reports; creation flags (O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC) and
// O_CLOEXEC (a descriptor flag) are dropped (do_dentry_open()).
const statusFlagsKept = unix.O_ACCMODE | statusFlagsSettable | unix.O_DSYNC | unix.O_SYNC |
	unix.O_PATH | unix.O_LARGEFILE | unix.O_DIRECTORY | unix.O_NOFOLLOW

// FileDescription is an open file description (struct file): what open(2)
// returns and descriptors and mappings refer to.
type FileDescription struct {
	// refs is the reference count; the last DecRef calls impl.Release.
	refs atomic.Int64

	// vd is where the file was opened; zero for anonymous files (pipes,
	// host files). Immutable.
	vd VirtualDentry
	// impl and opts are immutable.
	impl FileImpl
	opts FileOptions

	// flags are the status flags (F_GETFL). Updated atomically.
	flags atomic.Uint32

	// posMu is f_pos_lock: it serializes read, write, lseek and getdents
	// on descriptions with a VFS-managed position, so that concurrent
	// read(2)s on a shared description see consecutive data (Linux takes
	// it for regular files and directories: FMODE_ATOMIC_POS).
	posMu sync.Mutex
	// pos is the file position. Protected by posMu.
	pos int64

	// releaseMu protects releaseHooks and released (see release.go).
	releaseMu sync.Mutex
	// releaseHooks run once when the last reference is dropped.
	// Protected by releaseMu.
	releaseHooks map[ReleaseHook]struct{}
	// released is set once the hooks have been taken to run. Protected
	// by releaseMu.
	released bool
}

// NewFileDescription returns a description with one reference for impl,
// opened at vd (zero for anonymous files) with open(2) flags.
func NewFileDescription(impl FileImpl, vd VirtualDentry, flags uint32, opts FileOptions) *FileDescription {
	fd := &FileDescription{vd: vd, impl: impl, opts: opts}
	fd.refs.Store(1)
	fd.flags.Store(flags & statusFlagsKept)
	if vd.Dentry != nil {
		vd.Dentry.fileOpened()
	}
	return fd
}

// NewAnonFile returns a description for a file that has no dentry (pipes,
// sockets, host files, eventfds). impl should implement FileStater.
func NewAnonFile(impl FileImpl, flags uint32, opts FileOptions) *FileDescription {
	return NewFileDescription(impl, VirtualDentry{}, flags, opts)
}

// ReadRefs returns the current reference count. It is only a snapshot:
// the AF_UNIX garbage collector compares it with the references it knows
// are in flight.
func (fd *FileDescription) ReadRefs() int64 { return fd.refs.Load() }

// IncRef takes a reference.
func (fd *FileDescription) IncRef() { fd.refs.Add(1) }

// DecRef drops a reference, releasing the file at zero (fput()).
func (fd *FileDescription) DecRef() {
	if n := fd.refs.Add(-1); n == 0 {
		fd.runReleaseHooks()
		if fd.Writable() {
			fd.notify(InCloseWrite)
		} else {
			fd.notify(InCloseNowrite)
		}
		fd.impl.Release()
		if fd.vd.Dentry != nil {
			fd.vd.Dentry.fileReleased()
		}
	} else if n < 0 {
		panic("vfs: FileDescription.DecRef on a released file")
	}
}

// Impl returns the filesystem's implementation.
func (fd *FileDescription) Impl() FileImpl { return fd.impl }

// VirtualDentry returns where the file was opened (zero for anonymous
// files).
func (fd *FileDescription) VirtualDentry() VirtualDentry { return fd.vd }

// Dentry returns the file's dentry, or nil.
func (fd *FileDescription) Dentry() *Dentry { return fd.vd.Dentry }

// Inode returns the file's inode, or nil for anonymous files.
func (fd *FileDescription) Inode() Inode {
	if fd.vd.Dentry == nil {
		return nil
	}
	return fd.vd.Dentry.inode
}

// StatusFlags returns the status flags (F_GETFL): access mode, O_APPEND,
// O_NONBLOCK, O_PATH, ...
func (fd *FileDescription) StatusFlags() uint32 { return fd.flags.Load() }

// SetStatusFlags changes the flags F_SETFL may change and leaves the rest
// (setfl() in fs/fcntl.c).
func (fd *FileDescription) SetStatusFlags(flags uint32) {
	for {
		old := fd.flags.Load()
		n := old&^statusFlagsSettable | flags&statusFlagsSettable
		if fd.flags.CompareAndSwap(old, n) {
			return
		}
	}
}

// IsPath reports whether the file was opened with O_PATH.
func (fd *FileDescription) IsPath() bool { return fd.flags.Load()&unix.O_PATH != 0 }

// Readable reports whether the file was opened for reading (FMODE_READ).
func (fd *FileDescription) Readable() bool {
	f := fd.flags.Load()
	return f&unix.O_PATH == 0 && (f&unix.O_ACCMODE == unix.O_RDONLY || f&unix.O_ACCMODE == unix.O_RDWR)
}

// Writable reports whether the file was opened for writing (FMODE_WRITE).
func (fd *FileDescription) Writable() bool {
	f := fd.flags.Load()
	return f&unix.O_PATH == 0 && (f&unix.O_ACCMODE == unix.O_WRONLY || f&unix.O_ACCMODE == unix.O_RDWR)
}

// Positionless reports whether the file has no VFS-managed offset.
func (fd *FileDescription) Positionless() bool { return fd.opts.Positionless }

// Read reads into dst at the file position and advances it (read(2)).
// It fails with EBADF if the file is not open for reading.
func (fd *FileDescription) Read(ctx Context, dst []byte) (int, error) {
	if !fd.Readable() {
		return 0, unix.EBADF
	}
	if fd.opts.Positionless {
		n, err := fd.impl.Read(ctx, fd, dst, -1)
		if n > 0 {
			fd.notify(InAccess)
		}
		return n, err
	}
	fd.posMu.Lock()
	n, err := fd.impl.Read(ctx, fd, dst, fd.pos)
	fd.pos += int64(n)
	fd.posMu.Unlock()
	if n > 0 {
		fd.notify(InAccess)
	}
	return n, err
}

// PReadCtx reads at off without moving the position (pread(2)).
func (fd *FileDescription) PReadCtx(ctx Context, dst []byte, off int64) (int, error) {
	if !fd.Readable() {
		return 0, unix.EBADF
	}
	if fd.opts.NoPRead {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	n, err := fd.impl.Read(ctx, fd, dst, off)
	if n > 0 {
		fd.notify(InAccess)
	}
	return n, err
}

// PRead reads at off outside any task (the loader reading an ELF).
func (fd *FileDescription) PRead(dst []byte, off int64) (int, error) {
	return fd.PReadCtx(credsContext{}, dst, off)
}

// ReadAt is PRead in io.ReaderAt form (loader.File).
func (fd *FileDescription) ReadAt(dst []byte, off int64) (int, error) {
	return fd.PRead(dst, off)
}

// Write writes src at the file position (or the end with O_APPEND) and
// advances it (write(2)).
func (fd *FileDescription) Write(ctx Context, src []byte) (int, error) {
	if !fd.Writable() {
		return 0, unix.EBADF
	}
	app := fd.flags.Load()&unix.O_APPEND != 0
	if fd.opts.Positionless {
		n, _, err := fd.impl.Write(ctx, fd, src, -1, app)
		if n > 0 {
			fd.notify(InModify)
		}
		return n, err
	}
	fd.posMu.Lock()
	n, end, err := fd.impl.Write(ctx, fd, src, fd.pos, app)
	if n > 0 || (err == nil && app) {
		fd.pos = end
	}
	fd.posMu.Unlock()
	if n > 0 {
		fd.notify(InModify)
	}
	return n, err
}

// PWrite writes at off without moving the position (pwrite(2)). As on
// Linux, O_APPEND still appends (pwrite(2) BUGS).
func (fd *FileDescription) PWrite(ctx Context, src []byte, off int64) (int, error) {
	if !fd.Writable() {
		return 0, unix.EBADF
	}
	if fd.opts.NoPRead {
		return 0, unix.ESPIPE
	}
	if off < 0 {
		return 0, unix.EINVAL
	}
	n, _, err := fd.impl.Write(ctx, fd, src, off, fd.flags.Load()&unix.O_APPEND != 0)
	if n > 0 {
		fd.notify(InModify)
	}
	return n, err
}

// Seek implements lseek(2).
func (fd *FileDescription) Seek(ctx Context, offset int64, whence int) (int64, error) {
	if fd.IsPath() {
		return 0, unix.EBADF
	}
	sk, hasSeek := fd.impl.(Seeker)
	if fd.opts.Positionless {
		if !hasSeek {
			return 0, unix.ESPIPE
		}
		return sk.Seek(ctx, -1, offset, whence)
	}
	fd.posMu.Lock()
	defer fd.posMu.Unlock()
	var n int64
	var err error
	if hasSeek {
		n, err = sk.Seek(ctx, fd.pos, offset, whence)
	} else {
		n, err = fd.genericSeek(offset, whence)
	}
	if err != nil {
		return 0, err
	}
	fd.pos = n
	return n, nil
}

// genericSeek is generic_file_llseek() for regular files, treating the
// whole file as data for SEEK_DATA/SEEK_HOLE, and dcache_dir_lseek() for
// directories (any non-negative cookie).
//
// Preconditions: fd.posMu is held.
func (fd *FileDescription) genericSeek(offset int64, whence int) (int64, error) {
	var size int64
	switch whence {
	case unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE:
		st, err := fd.Stat()
		if err != nil {
			return 0, err
		}
		size = st.Size
		if st.IsDir() && whence != unix.SEEK_END {
			return 0, unix.EINVAL
		}
	}
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = offset
	case unix.SEEK_CUR:
		n = fd.pos + offset
		if offset > 0 && n < fd.pos {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_END:
		n = size + offset
		if offset > 0 && n < size {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_DATA:
		if offset < 0 || offset >= size {
			return 0, unix.ENXIO
		}
		n = offset
	case unix.SEEK_HOLE:
		if offset < 0 || offset >= size {
			return 0, unix.ENXIO
		}
		n = size
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// Position returns the current file position.
func (fd *FileDescription) Position() int64 {
	fd.posMu.Lock()
	defer fd.posMu.Unlock()
	return fd.pos
}

// Stat returns the file's attributes (fstat(2)), with st_dev set.
func (fd *FileDescription) Stat() (Stat, error) {
	if fs, ok := fd.impl.(FileStater); ok {
		return fs.Stat()
	}
	if fd.vd.Dentry == nil {
		return Stat{}, unix.EBADF
	}
	return statDentry(fd.vd)
}

// statDentry stats vd's inode and fills Dev and MountID.
func statDentry(vd VirtualDentry) (Stat, error) {
	st, err := vd.Dentry.inode.Stat()
	if err != nil {
		return Stat{}, err
	}
	st.Dev = vd.Dentry.fs.dev
	st.MountID = vd.Mount.id
	return st, nil
}

// SetStat changes the file's attributes with the permission checks of
// fchmod/fchown/futimens (notify_change() on the file's inode). O_PATH
// files fail with EBADF.
func (fd *FileDescription) SetStat(ctx Context, s SetStat) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	if fs, ok := fd.impl.(FileStater); ok {
		st, err := fs.Stat()
		if err != nil {
			return err
		}
		if err := checkSetStat(ctx.Credentials(), &st, &s); err != nil {
			return err
		}
		return fs.SetStat(ctx, s)
	}
	if fd.vd.Dentry == nil {
		return unix.EBADF
	}
	return setStatVD(ctx, fd.vd, s)
}

// Truncate implements ftruncate(2): the file must be a regular file open
// for writing (EINVAL otherwise, as do_sys_ftruncate() says).
func (fd *FileDescription) Truncate(ctx Context, size int64) error {
	if size < 0 || !fd.Writable() {
		return unix.EINVAL
	}
	st, err := fd.Stat()
	if err != nil {
		return err
	}
	if st.Type() != unix.S_IFREG {
		return unix.EINVAL
	}
	s := SetStat{Mask: unix.STATX_SIZE, Size: size}
	if fs, ok := fd.impl.(FileStater); ok {
		return fs.SetStat(ctx, s)
	}
	if err := fd.vd.Dentry.inode.SetStat(ctx, s); err != nil {
		return err
	}
	fd.notify(InModify)
	return nil
}

// Allocate implements fallocate(2) for files that support it (EOPNOTSUPP
// otherwise; ENODEV for non-regular files, ESPIPE for pipes).
func (fd *FileDescription) Allocate(mode uint32, off, length int64) error {
	if !fd.Writable() {
		return unix.EBADF
	}
	if a, ok := fd.impl.(Allocator); ok {
		return a.Allocate(mode, off, length)
	}
	if fd.opts.NoPRead {
		return unix.ESPIPE
	}
	st, err := fd.Stat()
	if err != nil {
		return err
	}
	switch st.Type() {
	case unix.S_IFDIR:
		return unix.EISDIR
	case unix.S_IFREG:
		return unix.EOPNOTSUPP
	}
	return unix.ENODEV
}

// Ioctl implements ioctl(2) commands the file handles (the generic ones
// are handled by the syscall layer).
func (fd *FileDescription) Ioctl(ctx Context, cmd uint32, arg uintptr) (uintptr, error) {
	if fd.IsPath() {
		return 0, unix.EBADF
	}
	return fd.impl.Ioctl(ctx, fd, cmd, arg)
}

// Sync implements fsync(2) and fdatasync(2).
func (fd *FileDescription) Sync(ctx Context) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	return fd.impl.Sync(ctx)
}

// MMapFile returns the file for mmap(2), or ENODEV if it cannot be
// mapped.
func (fd *FileDescription) MMapFile() (memmap.File, error) {
	if fd.IsPath() {
		return nil, unix.EBADF
	}
	if m, ok := fd.impl.(Mappable); ok {
		return m.MMapFile()
	}
	return nil, unix.ENODEV
}

// DevIno returns the device and inode numbers for /proc/PID/maps.
func (fd *FileDescription) DevIno() (dev, ino uint64) {
	st, err := fd.Stat()
	if err != nil {
		return 0, 0
	}
	return st.Dev, st.Ino
}

// MapsName returns the path shown for mappings of the file in
// /proc/PID/maps (relative to the global root).
func (fd *FileDescription) MapsName() string {
	return fd.PathName(VirtualDentry{})
}

// Close drops the caller's reference (loader.File).
func (fd *FileDescription) Close() { fd.DecRef() }

// IterDirents lists the directory from the file position, calling emit for
// each entry until it returns false, and advances the position past the
// entries accepted (getdents64(2), iterate_dir()). "." and ".." come
// first. It fails with ENOTDIR if the file is not a directory.
func (fd *FileDescription) IterDirents(ctx Context, emit func(Dirent) bool) error {
	if fd.IsPath() {
		return unix.EBADF
	}
	d := fd.vd.Dentry
	if d == nil || !d.IsDir() {
		return unix.ENOTDIR
	}
	it, ok := d.inode.(DirIterator)
	if !ok {
		return unix.ENOTDIR
	}
	if !d.IsDead() {
		// iterate_dir() reports IN_ACCESS for every listing (deferred
		// before posMu, so it runs after the unlock).
		defer fd.notify(InAccess)
	}
	fd.posMu.Lock()
	defer fd.posMu.Unlock()
	if d.IsDead() {
		// A removed directory lists as empty (IS_DEADDIR in
		// iterate_dir() returns ENOENT).
		return unix.ENOENT
	}
	if fd.pos == 0 {
		st, err := d.inode.Stat()
		if err != nil {
			return err
		}
		if !emit(Dirent{Name: ".", Ino: st.Ino, Type: DTDir, NextOff: 1}) {
			return nil
		}
		fd.pos = 1
	}
	if fd.pos == 1 {
		ino := fd.parentIno()
		if !emit(Dirent{Name: "..", Ino: ino, Type: DTDir, NextOff: 2}) {
			return nil
		}
		fd.pos = 2
	}
	return it.IterDirents(fd.pos, func(de Dirent) bool {
		if !emit(de) {
			return false
		}
		fd.pos = de.NextOff
		return true
	})
}

// parentIno returns the inode number ".." shows: the parent dentry's, or
// the directory's own at a filesystem root.
func (fd *FileDescription) parentIno() uint64 {
	p := fd.vd.Dentry.Parent()
	if p == nil {
		p = fd.vd.Dentry
	}
	st, err := p.inode.Stat()
	if err != nil {
		return 0
	}
	return st.Ino
}

// PathName returns the file's path relative to root (the global root if
// root is zero), as d_path() shows it in /proc/PID/fd: " (deleted)" is
// appended for unlinked files, and anonymous files use their Namer.
func (fd *FileDescription) PathName(root VirtualDentry) string {
	if fd.vd.Dentry == nil {
		if n, ok := fd.impl.(Namer); ok {
			return n.Name()
		}
		return "anon_inode:[unknown]"
	}
	p, _ := fd.vd.Mount.vfs.PathName(root, fd.vd)
	if fd.vd.Dentry.IsDead() {
		p += " (deleted)"
	}
	return p
}

// Path returns the file's path from the global root (d_path()).
func (fd *FileDescription) Path() string { return fd.PathName(VirtualDentry{}) }
