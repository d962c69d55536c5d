package goferfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/sentry/memmap"
)

// chunkSize is the unit in which a host FD is mapped into the sentry for
// Translation.Internal. It is large so that a file needs few sentry
// mappings (each is a host VMA, and vm.max_map_count defaults to 65530);
// address space is cheap, and mapping past the end of a file is allowed
// (touching it faults, which the sentry's copy-in/out tolerates).
const chunkSize = 32 << 20

// handle is a host FD donated by the gofer for one inode, shared by the
// open files and mappings that need its access mode.
type handle struct {
	inode *inode // immutable
	fd    int    // immutable; open until refs drops to zero
	acc   uint32 // O_RDONLY, O_WRONLY or O_RDWR; immutable

	// refs counts the open files and mappings using the handle.
	// Protected by inode.handleMu.
	// +checklocks:inode.handleMu
	refs int

	mapMu sync.Mutex
	// chunks are the sentry's MAP_SHARED mappings of the FD, by chunk
	// index. They are unmapped only when refs drops to zero, since
	// Translations handed out point into them. Protected by mapMu.
	// +checklocks:mapMu
	chunks map[uint64][]byte
}

var _ memmap.Mappable = (*handle)(nil)

// getHandle returns a handle with at least access mode acc, with a
// reference for the caller: a shared one if open, else the FD kept from
// Create, else a new FD from the gofer.
func (i *inode) getHandle(acc uint32) (*handle, error) {
	i.handleMu.Lock()
	defer i.handleMu.Unlock()
	for _, m := range [...]uint32{acc, unix.O_RDWR} {
		if h := i.handles[m]; h != nil {
			h.refs++
			return h, nil
		}
	}
	if i.spareFD >= 0 {
		h := &handle{inode: i, fd: i.spareFD, acc: unix.O_RDWR, refs: 1}
		i.spareFD = -1
		i.handles[unix.O_RDWR] = h
		return h, nil
	}
	// Only the access mode goes to the host: O_TRUNC was applied by the
	// VFS, and O_APPEND would make pwrite(2) ignore its offset (pwrite
	// BUGS), which the non-appending descriptions sharing this FD need.
	fd, err := i.fs.c.Open(i.node, int(acc))
	if err != nil {
		return nil, errno(err)
	}
	h := &handle{inode: i, fd: fd, acc: acc, refs: 1}
	i.handles[acc] = h
	return h, nil
}

// refHandle takes another reference on h.
func (i *inode) refHandle(h *handle) {
	i.handleMu.Lock()
	h.refs++
	i.handleMu.Unlock()
}

// putHandle drops a reference on h, closing it at zero.
func (i *inode) putHandle(h *handle) {
	i.handleMu.Lock()
	h.refs--
	last := h.refs == 0
	if h.refs < 0 {
		i.handleMu.Unlock()
		panic("goferfs: handle reference count below zero")
	}
	if last && i.handles[h.acc] == h {
		i.handles[h.acc] = nil
	}
	i.handleMu.Unlock()
	if last {
		h.destroy()
	}
}

// dropSpare closes the FD kept from Create if no open adopted it.
func (i *inode) dropSpare() {
	i.handleMu.Lock()
	defer i.handleMu.Unlock()
	if i.spareFD >= 0 {
		unix.Close(i.spareFD)
		i.spareFD = -1
	}
}

// destroy unmaps and closes h. Nothing may use it any more.
func (h *handle) destroy() {
	h.mapMu.Lock()
	for _, m := range h.chunks {
		unix.Munmap(m)
	}
	h.chunks = nil
	h.mapMu.Unlock()
	unix.Close(h.fd)
}

// readable reports whether the FD can be read (and hence mmapped: mmap(2)
// needs a readable FD even for PROT_WRITE).
func (h *handle) readable() bool { return h.acc != unix.O_WRONLY }

// Translate implements memmap.Mappable: the file range lives at the same
// offset of the host FD itself, and Internal is the sentry's shared
// mapping of it, made lazily one chunk at a time.
func (h *handle) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	if !h.readable() || (write && h.acc != unix.O_RDWR) {
		return memmap.Translation{}, unix.EACCES
	}
	if off > 1<<63-1 {
		return memmap.Translation{}, unix.EINVAL
	}
	if length == 0 {
		return memmap.Translation{FD: h.fd, Offset: off}, nil
	}
	idx := off / chunkSize
	m, err := h.chunk(idx)
	if err != nil {
		return memmap.Translation{}, err
	}
	in := off - idx*chunkSize
	n := min(length, chunkSize-in)
	return memmap.Translation{FD: h.fd, Offset: off, Length: n, Internal: m[in : in+n : in+n]}, nil
}

// chunk returns the sentry's mapping of chunk idx, mapping it if needed:
// MAP_SHARED, so that it is the host page cache the application's
// mappings and other FDs see, and writable only for an O_RDWR FD (mmap(2)
// refuses PROT_WRITE on a shared mapping of a read-only FD).
func (h *handle) chunk(idx uint64) ([]byte, error) {
	h.mapMu.Lock()
	defer h.mapMu.Unlock()
	if m, ok := h.chunks[idx]; ok {
		return m, nil
	}
	prot := unix.PROT_READ
	if h.acc == unix.O_RDWR {
		prot |= unix.PROT_WRITE
	}
	m, err := unix.Mmap(h.fd, int64(idx*chunkSize), chunkSize, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	if h.chunks == nil {
		h.chunks = make(map[uint64][]byte)
	}
	h.chunks[idx] = m
	return m, nil
}

// mappedFile is the memmap.File of a gofer regular file. It holds a
// reference on its handle, so the host FD and the sentry's mappings of it
// outlive the file description (mmap then close).
type mappedFile struct {
	h    *handle // immutable
	refs atomic.Int64
}

var _ memmap.File = (*mappedFile)(nil)

// ReadAt implements memmap.File with pread(2); bytes past the end of the
// file are left alone.
func (f *mappedFile) ReadAt(dst []byte, off int64) (int, error) {
	return preadFull(f.h.fd, dst, off)
}

// Size implements memmap.File with fstat(2): the host's current size,
// whoever changed it.
func (f *mappedFile) Size() (int64, error) {
	return fdSize(f.h.fd)
}

// Mappable implements memmap.File.
func (f *mappedFile) Mappable() memmap.Mappable { return f.h }

// IncRef implements memmap.File.
func (f *mappedFile) IncRef() { f.refs.Add(1) }

// DecRef implements memmap.File; the last one drops the handle.
func (f *mappedFile) DecRef() {
	switch n := f.refs.Add(-1); {
	case n == 0:
		f.h.inode.putHandle(f.h)
	case n < 0:
		panic("goferfs: mappedFile.DecRef below zero")
	}
}
