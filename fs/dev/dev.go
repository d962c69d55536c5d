// Package dev provides the sandbox's /dev: the memory character devices
// (drivers/char/mem.c, drivers/char/random.c), /dev/tty, and a tmpfs
// populated with their nodes and the usual symlinks.
package dev

import (
	"crypto/rand"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// Device numbers (Documentation/admin-guide/devices.txt).
const (
	MemMajor     = 1
	NullMinor    = 3
	ZeroMinor    = 5
	FullMinor    = 7
	RandomMinor  = 8
	URandomMinor = 9
	TTYMajor     = 5
	TTYMinor     = 0
)

// Register installs the device drivers in v's character device table, so
// that device nodes with these numbers work on any filesystem.
func Register(v *vfs.VirtualFilesystem) {
	v.RegisterCharDevice(MemMajor, NullMinor, memDevice{kind: nullDev})
	v.RegisterCharDevice(MemMajor, ZeroMinor, memDevice{kind: zeroDev})
	v.RegisterCharDevice(MemMajor, FullMinor, memDevice{kind: fullDev})
	v.RegisterCharDevice(MemMajor, RandomMinor, memDevice{kind: randomDev})
	v.RegisterCharDevice(MemMajor, URandomMinor, memDevice{kind: randomDev})
	v.RegisterCharDevice(TTYMajor, TTYMinor, ttyDevice{})
}

// New registers the drivers and returns a tmpfs instance laid out as a
// container's /dev (what runc and gVisor create): null, zero, full, random,
// urandom, tty (all crw-rw-rw-), the fd/stdin/stdout/stderr symlinks into
// /proc/self/fd, and the shm directory (drwxrwxrwt), where the boot code
// mounts a tmpfs of its own (/dev/shm is a separate mount on Linux, with
// its own size accounting). mf holds the data of files created in /dev.
func New(v *vfs.VirtualFilesystem, mf *memfile.File) (*vfs.Filesystem, error) {
	Register(v)
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o755, MemFile: mf})
	if err != nil {
		return nil, err
	}
	root := fs.Root().Inode()
	mk := root.(vfs.Mknoder)
	for _, n := range []struct {
		name         string
		major, minor uint32
	}{
		{"null", MemMajor, NullMinor},
		{"zero", MemMajor, ZeroMinor},
		{"full", MemMajor, FullMinor},
		{"random", MemMajor, RandomMinor},
		{"urandom", MemMajor, URandomMinor},
		{"tty", TTYMajor, TTYMinor},
	} {
		opts := vfs.CreateOptions{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(n.major, n.minor)}
		if _, err := mk.Mknod(n.name, opts); err != nil {
			return nil, err
		}
	}
	sl := root.(vfs.Symlinker)
	for _, l := range [][2]string{
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
		{"ptmx", "pts/ptmx"},
	} {
		if _, err := sl.Symlink(l[0], l[1], vfs.CreateOptions{Mode: unix.S_IFLNK | 0o777}); err != nil {
			return nil, err
		}
	}
	md := root.(vfs.Mkdirer)
	if _, err := md.Mkdir("shm", vfs.CreateOptions{Mode: unix.S_IFDIR | 0o1777}); err != nil {
		return nil, err
	}
	if _, err := md.Mkdir("pts", vfs.CreateOptions{Mode: unix.S_IFDIR | 0o755}); err != nil {
		return nil, err
	}
	return fs, nil
}

type memKind int

const (
	nullDev memKind = iota
	zeroDev
	fullDev
	randomDev
)

// memDevice is one of the memory devices.
type memDevice struct{ kind memKind }

// Open implements vfs.Device.
func (d memDevice) Open(vfs.Context, vfs.VirtualDentry, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return &memFile{kind: d.kind}, vfs.FileOptions{}, nil
}

// memFile is an open memory device.
type memFile struct {
	vfs.FileDefaults
	// kind is immutable.
	kind memKind
}

// Read implements vfs.FileImpl: EOF for null (read_null()), zeros for
// zero and full (read_iter_zero()), random bytes for random and urandom
// (the sentry's crypto/rand never blocks once seeded, like getrandom).
func (f *memFile) Read(_ vfs.Context, _ *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	switch f.kind {
	case nullDev:
		return 0, nil
	case randomDev:
		if _, err := rand.Read(dst); err != nil {
			return 0, unix.EIO
		}
		return len(dst), nil
	}
	clear(dst)
	return len(dst), nil
}

// Write implements vfs.FileImpl: everything is accepted and discarded,
// except /dev/full, which is always full (write_full()).
func (f *memFile) Write(_ vfs.Context, _ *vfs.FileDescription, src []byte, off int64, _ bool) (int, int64, error) {
	if f.kind == fullDev {
		return 0, off, unix.ENOSPC
	}
	return len(src), off + int64(len(src)), nil
}

// Seek implements vfs.Seeker: the position of null, zero and full is
// always 0 (null_lseek()); random devices keep theirs (noop_llseek()...
// which leaves the position unchanged).
func (f *memFile) Seek(_ vfs.Context, pos, _ int64, whence int) (int64, error) {
	if whence < unix.SEEK_SET || whence > unix.SEEK_END {
		return 0, unix.EINVAL
	}
	if f.kind == randomDev {
		return pos, nil
	}
	return 0, nil
}

// Sync implements vfs.FileImpl (fsync on a character device: EINVAL).
func (f *memFile) Sync(vfs.Context) error { return unix.EINVAL }

// MMapFile implements vfs.Mappable for /dev/zero: a private mapping is
// anonymous memory, a shared one new shared anonymous memory (mmap_zero()).
func (f *memFile) MMapFile() (memmap.File, error) {
	if f.kind != zeroDev {
		return nil, unix.ENODEV
	}
	z := &zeroMapping{}
	z.refs.Store(1)
	return z, nil
}

// zeroMapping is /dev/zero as a memmap.File: every page reads as zeros.
type zeroMapping struct{ refs atomic.Int64 }

func (z *zeroMapping) ReadAt([]byte, int64) (int, error) { return 0, nil }
func (z *zeroMapping) Size() (int64, error)              { return 1<<63 - 1, nil }
func (z *zeroMapping) Mappable() memmap.Mappable         { return nil }
func (z *zeroMapping) AnonymousShared() bool             { return true }
func (z *zeroMapping) IncRef()                           { z.refs.Add(1) }
func (z *zeroMapping) DecRef()                           { z.refs.Add(-1) }

// ttyDevice is /dev/tty, the caller's controlling terminal. The sandbox
// has no controlling terminals yet, so opening it fails with ENXIO, as
// tty_open_current_tty() does for a process without one.
type ttyDevice struct{}

// Open implements vfs.Device.
func (ttyDevice) Open(vfs.Context, vfs.VirtualDentry, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ENXIO
}
