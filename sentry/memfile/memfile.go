// Package memfile is the sentry's memory file: one memfd that backs all
// anonymous memory (and, later, tmpfs), mapped once into the sentry for
// copy-in/out and piecewise into app address spaces by the platform.
//
// Pages are handed out in page-aligned ranges and reference counted per
// page, so copy-on-write can share a page between address spaces. A page
// whose count drops to zero is returned to the host with
// fallocate(PUNCH_HOLE), so freed memory is really freed and a reused page
// reads as zeros.
package memfile

import (
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// PageSize is the host page size on amd64.
const PageSize = 4096

// File is the memory file.
type File struct {
	// fd and mapping are immutable after New.
	fd      int
	mapping []byte
	size    uint64

	mu sync.Mutex
	// refs holds the reference count of each page below high. Protected by
	// mu.
	refs []int32
	// free holds free page ranges below high, sorted by start, coalesced.
	// Protected by mu.
	free []frange
	// high is the end of the range ever handed out. Protected by mu.
	high uint64
	// used is the number of pages currently allocated. Protected by mu.
	used uint64
	// limit is the maximum number of allocated pages (0: no limit).
	// Protected by mu.
	limit uint64
}

type frange struct{ start, end uint64 }

// New creates a memory file that can hold up to size bytes (a sparse file:
// only pages that are touched use host memory).
func New(name string, size uint64) (*File, error) {
	fd, err := unix.MemfdCreate(name, 0)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ftruncate memory file to %d: %w", size, err)
	}
	m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mmap memory file: %w", err)
	}
	return &File{fd: fd, mapping: m, size: size}, nil
}

// FD returns the host memfd.
func (f *File) FD() int { return f.fd }

// SetLimit bounds the number of bytes that may be allocated at once
// (0 removes the bound). Allocations beyond it fail with ENOMEM.
func (f *File) SetLimit(bytes uint64) {
	f.mu.Lock()
	f.limit = bytes / PageSize
	f.mu.Unlock()
}

// Usage returns the number of bytes currently allocated.
func (f *File) Usage() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used * PageSize
}

// Slice returns the sentry's view of [off, off+length).
func (f *File) Slice(off, length uint64) []byte {
	return f.mapping[off : off+length : off+length]
}

// Allocate returns a zeroed, page-aligned range of length bytes with a
// reference count of one on each page.
func (f *File) Allocate(length uint64) (uint64, error) {
	if length == 0 || length%PageSize != 0 {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	pages := length / PageSize
	if f.limit != 0 && f.used+pages > f.limit {
		return 0, unix.ENOMEM
	}
	// First fit among freed ranges.
	for i, r := range f.free {
		if r.end-r.start >= length {
			off := r.start
			if r.end-r.start == length {
				f.free = append(f.free[:i], f.free[i+1:]...)
			} else {
				f.free[i].start += length
			}
			f.setRefs(off, length, 1)
			f.used += pages
			return off, nil
		}
	}
	if f.high+length > f.size {
		return 0, unix.ENOMEM
	}
	off := f.high
	f.high += length
	n := f.high / PageSize
	if uint64(cap(f.refs)) < n {
		nr := make([]int32, n, 2*n)
		copy(nr, f.refs)
		f.refs = nr
	}
	f.refs = f.refs[:n]
	f.setRefs(off, length, 1)
	f.used += pages
	return off, nil
}

// Preconditions: f.mu is held.
func (f *File) setRefs(off, length uint64, v int32) {
	for p := off / PageSize; p < (off+length)/PageSize; p++ {
		f.refs[p] = v
	}
}

// IncRef takes a reference on every page of [off, off+length).
func (f *File) IncRef(off, length uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := off / PageSize; p < (off+length)/PageSize; p++ {
		if f.refs[p] <= 0 {
			panic(fmt.Sprintf("memfile: IncRef of free page %#x", p*PageSize))
		}
		f.refs[p]++
	}
}

// RefCount returns the reference count of the page at off.
func (f *File) RefCount(off uint64) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs[off/PageSize]
}

// DecRef drops a reference on every page of [off, off+length); pages that
// reach zero are freed and their memory returned to the host.
func (f *File) DecRef(off, length uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	runStart := uint64(0)
	inRun := false
	flush := func(end uint64) {
		if inRun {
			f.release(runStart, end)
			inRun = false
		}
	}
	for p := off / PageSize; p < (off+length)/PageSize; p++ {
		if f.refs[p] <= 0 {
			panic(fmt.Sprintf("memfile: DecRef of free page %#x", p*PageSize))
		}
		f.refs[p]--
		if f.refs[p] == 0 {
			if !inRun {
				runStart, inRun = p*PageSize, true
			}
		} else {
			flush(p * PageSize)
		}
	}
	flush(off + length)
}

// release frees [start, end).
//
// Preconditions: f.mu is held; every page's count is zero.
func (f *File) release(start, end uint64) {
	// Return the memory to the host and make the range read as zeros
	// when reused (fallocate(2) FALLOC_FL_PUNCH_HOLE).
	_ = unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(start), int64(end-start))
	f.used -= (end - start) / PageSize
	i := sort.Search(len(f.free), func(i int) bool { return f.free[i].start >= start })
	f.free = append(f.free, frange{})
	copy(f.free[i+1:], f.free[i:])
	f.free[i] = frange{start, end}
	// Coalesce with neighbours.
	if i+1 < len(f.free) && f.free[i].end == f.free[i+1].start {
		f.free[i].end = f.free[i+1].end
		f.free = append(f.free[:i+1], f.free[i+2:]...)
	}
	if i > 0 && f.free[i-1].end == f.free[i].start {
		f.free[i-1].end = f.free[i].end
		f.free = append(f.free[:i], f.free[i+1:]...)
	}
}
