package overlay

import (
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/memmap"
)

// lowerFile is a read-only open of a file that was in the lower layer
// only. Since Linux 4.19 overlayfs stacks its file operations and, when the
// file has been copied up since it was opened, reads the upper copy
// (ovl_real_fdget_meta()), so a reader sees data written through another
// descriptor after the copy-up. lowerFile does the same. Mappings made
// before the copy-up keep the lower data, as overlayfs.rst documents for
// MAP_SHARED of a lower file.
type lowerFile struct {
	// n and flags are immutable.
	n     *node
	flags uint32

	mu sync.Mutex
	// lower is the lower file. It is released only by Release: a read
	// racing with the switch may still be using it. Protected by mu.
	// +checklocks:mu
	lower vfs.FileImpl
	// upper is the upper copy, opened on first use after the copy-up,
	// or nil. Protected by mu.
	// +checklocks:mu
	upper vfs.FileImpl
}

var (
	_ vfs.FileImpl = (*lowerFile)(nil)
	_ vfs.Seeker   = (*lowerFile)(nil)
	_ vfs.Mappable = (*lowerFile)(nil)
)

func newLowerFile(n *node, flags uint32, lower vfs.FileImpl) *lowerFile {
	return &lowerFile{n: n, flags: flags, lower: lower}
}

// current returns the file to use now: the upper copy once there is one.
func (f *lowerFile) current(ctx vfs.Context) vfs.FileImpl {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upper != nil {
		return f.upper
	}
	if up := f.n.upperLayer(); up != nil {
		impl, _, err := up.inode.Open(ctx, f.flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC))
		if err == nil {
			f.upper = impl
			return impl
		}
		// The copy could not be opened (the upper layer is out of
		// some resource); keep serving the lower data, which is what
		// the file showed at open.
	}
	return f.lower
}

// Release implements vfs.FileImpl.
func (f *lowerFile) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lower.Release()
	if f.upper != nil {
		f.upper.Release()
	}
}

// Read implements vfs.FileImpl.
func (f *lowerFile) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return f.current(ctx).Read(ctx, fd, dst, off)
}

// Write implements vfs.FileImpl. The VFS refuses writes to read-only
// descriptions before calling it; pass anything else to the layer.
func (f *lowerFile) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, off int64, appendMode bool) (int, int64, error) {
	return f.current(ctx).Write(ctx, fd, src, off, appendMode)
}

// Ioctl implements vfs.FileImpl.
func (f *lowerFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	return f.current(ctx).Ioctl(ctx, fd, cmd, arg)
}

// Sync implements vfs.FileImpl.
func (f *lowerFile) Sync(ctx vfs.Context) error { return f.current(ctx).Sync(ctx) }

// Seek implements vfs.Seeker: the layer's own lseek if it has one (the
// gofer's answers SEEK_DATA/SEEK_HOLE from the host), else
// generic_file_llseek() with the overlay's size.
func (f *lowerFile) Seek(ctx vfs.Context, pos, offset int64, whence int) (int64, error) {
	if sk, ok := f.current(ctx).(vfs.Seeker); ok {
		return sk.Seek(ctx, pos, offset, whence)
	}
	var size int64
	switch whence {
	case unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE:
		st, err := f.n.Stat()
		if err != nil {
			return 0, err
		}
		size = st.Size
	}
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = offset
	case unix.SEEK_CUR:
		n = pos + offset
		if offset > 0 && n < pos {
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

// MMapFile implements vfs.Mappable by mapping the current real file.
func (f *lowerFile) MMapFile() (memmap.File, error) {
	cur := f.current(f.n.fs.ctx)
	m, ok := cur.(vfs.Mappable)
	if !ok {
		return nil, unix.ENODEV
	}
	return m.MMapFile()
}
