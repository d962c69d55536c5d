package goferfs

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/memmap"
)

// regularFile is an open regular file: reads and writes are pread(2) and
// pwrite(2) on the inode's shared host FD; the VFS keeps the position.
type regularFile struct {
	vfs.FileDefaults
	inode *inode  // immutable
	h     *handle // immutable; one reference owned until Release
	// syncMode is the O_SYNC bits of the open flags: O_DSYNC alone, or
	// O_SYNC (which includes O_DSYNC). Immutable: F_SETFL cannot change
	// them.
	syncMode uint32
}

var (
	_ vfs.FileImpl  = (*regularFile)(nil)
	_ vfs.Seeker    = (*regularFile)(nil)
	_ vfs.Mappable  = (*regularFile)(nil)
	_ vfs.Allocator = (*regularFile)(nil)
)

// Release implements vfs.FileImpl: the description's reference on the
// host FD goes (mappings made from it keep their own).
func (f *regularFile) Release() { f.inode.putHandle(f.h) }

// Read implements vfs.FileImpl.
func (f *regularFile) Read(ctx vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	return preadFull(f.h.fd, dst, off)
}

// Write implements vfs.FileImpl. An appending write finds the end with
// fstat(2) and writes there while excluding the inode's other writers, as
// generic_file_write_iter() does under i_rwsem. (Writers on the host or in
// another sandbox are not excluded; the host FD is never O_APPEND since
// descriptions share it.)
func (f *regularFile) Write(ctx vfs.Context, _ *vfs.FileDescription, src []byte, off int64, appendMode bool) (int, int64, error) {
	if appendMode {
		f.inode.writeMu.Lock()
		defer f.inode.writeMu.Unlock()
		size, err := fdSize(f.h.fd)
		if err != nil {
			return 0, 0, err
		}
		off = size
	} else {
		if off < 0 {
			return 0, 0, unix.EINVAL
		}
		f.inode.writeMu.RLock()
		defer f.inode.writeMu.RUnlock()
	}
	n, err := pwriteFull(f.h.fd, src, off)
	if n > 0 && err == nil && f.syncMode != 0 {
		// O_SYNC/O_DSYNC: the data is on disk when write(2) returns
		// (generic_write_sync()).
		if f.syncMode&unix.O_SYNC == unix.O_SYNC {
			err = retryEINTR(func() error { return unix.Fsync(f.h.fd) })
		} else {
			err = retryEINTR(func() error { return unix.Fdatasync(f.h.fd) })
		}
		if err != nil {
			return 0, off, err
		}
	}
	return n, off + int64(n), err
}

// fionread is FIONREAD (asm-generic/ioctls.h), which x/sys/unix lacks.
const fionread = 0x541B

// Ioctl implements vfs.FileImpl. FIONREAD is the one regular-file ioctl
// Linux answers for every filesystem (do_vfs_ioctl()): the bytes from the
// position to the end, stored as an int (negative past the end, as Linux
// does). Everything else is ENOTTY.
func (f *regularFile) Ioctl(ctx vfs.Context, fd *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != fionread {
		return 0, unix.ENOTTY
	}
	size, err := fdSize(f.h.fd)
	if err != nil {
		return 0, err
	}
	var pos int64
	if fd != nil {
		pos = fd.Position()
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(int32(size-pos)))
	return 0, ctx.CopyOutBytes(arg, b[:])
}

// Sync implements vfs.FileImpl with fsync(2) of the host FD. fdatasync(2)
// is also served by fsync: stronger, and the FileImpl does not tell them
// apart.
func (f *regularFile) Sync(ctx vfs.Context) error {
	return retryEINTR(func() error { return unix.Fsync(f.h.fd) })
}

// Seek implements vfs.Seeker: generic_file_llseek() with the host's size,
// and SEEK_DATA/SEEK_HOLE answered by the host filesystem (lseek(2) moves
// the shared host FD's offset, which nobody uses: I/O is positional).
func (f *regularFile) Seek(ctx vfs.Context, pos, offset int64, whence int) (int64, error) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = offset
	case unix.SEEK_CUR:
		n = pos + offset
		if (offset > 0 && n < pos) || (offset < 0 && n > pos) {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_END:
		size, err := fdSize(f.h.fd)
		if err != nil {
			return 0, err
		}
		n = size + offset
		if offset > 0 && n < size {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		if offset < 0 {
			return 0, unix.ENXIO
		}
		r, err := unix.Seek(f.h.fd, offset, whence)
		if err != nil {
			return 0, err
		}
		n = r
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// Allocate implements vfs.Allocator with fallocate(2) on the host FD (the
// host filesystem decides which modes it supports).
func (f *regularFile) Allocate(mode uint32, off, length int64) error {
	if f.h.acc == unix.O_RDONLY {
		return unix.EBADF
	}
	return retryEINTR(func() error { return unix.Fallocate(f.h.fd, mode, off, length) })
}

// MMapFile implements vfs.Mappable. mmap(2) needs a readable FD (EACCES),
// even for a shared writable mapping.
func (f *regularFile) MMapFile() (memmap.File, error) {
	if !f.h.readable() {
		return nil, unix.EACCES
	}
	f.inode.refHandle(f.h)
	mf := &mappedFile{h: f.h}
	mf.refs.Store(1)
	return mf, nil
}

// dirFile is an open directory. Listing goes through the inode's
// DirIterator, so it needs no host FD.
type dirFile struct {
	vfs.DirFileDefaults
	inode *inode // immutable
}

// Sync implements vfs.FileImpl: fsync(2) of a directory makes its entries
// durable (applications fsync the directory after creating or renaming a
// file), so the host directory is opened through the gofer and synced.
func (f *dirFile) Sync(ctx vfs.Context) error {
	fd, err := f.inode.fs.c.Open(f.inode.node, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(fd)
	return retryEINTR(func() error { return unix.Fsync(fd) })
}

// retryEINTR calls f until it does not fail with EINTR (the sentry's own
// signals may interrupt host syscalls).
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// preadFull reads dst at off until it is full or the file ends; regular
// files return short counts only at the end (or past 2 GiB per call).
func preadFull(fd int, dst []byte, off int64) (int, error) {
	done := 0
	for done < len(dst) {
		n, err := unix.Pread(fd, dst[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}

// pwriteFull writes all of src at off; a failure after some bytes were
// written reports the bytes written, as write(2) does.
func pwriteFull(fd int, src []byte, off int64) (int, error) {
	done := 0
	for done < len(src) {
		n, err := unix.Pwrite(fd, src[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}

// fdSize returns the host file's current size.
func fdSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}
