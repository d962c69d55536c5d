// Package memmap defines what the memory manager needs from a file in order
// to map it: content for private (copy-on-fault) mappings, and a host-FD
// backed translation for shared mappings.
//
// Lock order: an address space's lock (mm.MemoryManager.mu) is taken before
// any lock a Mappable takes in Translate, AddMapping or RemoveMapping. A
// Mappable must not hold its own locks while calling
// MappingSpace.Invalidate.
package memmap

import (
	"errors"

	"golang.org/x/sys/unix"
)

// File is what mmap(2) of a file descriptor needs from the file.
type File interface {
	// ReadAt fills dst from the file at off, for private mappings. Bytes
	// past EOF are left as they are (the caller zero-fills).
	ReadAt(dst []byte, off int64) (int, error)

	// Size returns the current file size, for SIGBUS past EOF.
	Size() (int64, error)

	// Mappable returns the shared backing of the file, or nil if the file
	// cannot be mapped MAP_SHARED (mmap then fails with ENODEV).
	Mappable() Mappable

	// IncRef and DecRef count the mappings using the file. A mapping
	// outlives the file descriptor it was made from (mmap then close is
	// the common case), so the File must keep its backing (host FD,
	// inode) alive until the last DecRef. MMapFile returns a File with
	// one reference that the caller owns.
	IncRef()
	DecRef()
}

// Mappable is a file whose pages can be mapped shared into app address spaces
// and into the sentry.
type Mappable interface {
	// Translate returns where the page-aligned file range [off, off+length)
	// lives on the host. It may return a shorter range than asked; callers
	// loop. write reports whether the mapping will be writable. An access
	// the app must get SIGBUS for (past the end of the file, or no space
	// left to back the page) fails with a *BusError.
	Translate(off, length uint64, write bool) (Translation, error)
}

// Translation is a host FD range backing a file range.
type Translation struct {
	// FD is the host file descriptor; it stays valid while the Mappable
	// lives.
	FD int
	// Offset is the offset in FD matching the requested file offset.
	Offset uint64
	// Length is how many bytes from Offset are covered (page aligned).
	Length uint64
	// Internal is the sentry's own mapping of the same range, used for
	// copy-in/out. len(Internal) == Length.
	Internal []byte
}

// MappingSpace is an address space that maps Mappables (an
// mm.MemoryManager), as a Tracker sees it.
type MappingSpace interface {
	// Invalidate forgets every page of m's file range [start, end) that
	// the space has established, so that the next access faults and
	// translates again; with evenCopies also the private copies made
	// from those pages by copy-on-write (unmap_mapping_range()'s
	// even_cows: truncation drops them, hole punching keeps them). It
	// takes the space's lock: the caller must not hold locks that
	// Translate takes.
	Invalidate(m Mappable, start, end uint64, evenCopies bool)

	// OwnerPID is the process the space belongs to (for shm_lpid).
	OwnerPID() int32
}

// Tracker is a Mappable that wants to know who maps it: shared memory
// objects count attachments and free their pages with the last one, and
// files whose pages can go away (truncate) must invalidate the mappings of
// those pages, since address spaces hold no reference on shared pages.
//
// The memory manager calls AddMapping once per VMA that maps the Mappable
// (a VMA that is split in two makes a second call, fork makes one per
// copied VMA) and RemoveMapping when such a VMA goes away. writable is true
// for shared mappings that may ever be written (VM_SHARED|VM_MAYWRITE).
type Tracker interface {
	// AddMapping may fail for a new mapping (mmap(2) or shmat(2)), which
	// is then not made; the error is returned to the app.
	AddMapping(ms MappingSpace, writable bool) error
	RemoveMapping(ms MappingSpace, writable bool)
}

// HolePuncher is a Mappable whose pages can be freed in place
// (fallocate(FALLOC_FL_PUNCH_HOLE) of a shmem file), which is what
// madvise(MADV_REMOVE) does to a shared mapping. The range reads as zeros
// afterwards; private copies of its pages are kept.
type HolePuncher interface {
	PunchHole(off, length uint64) error
}

// Spaces tracks the address spaces mapping a Tracker, for invalidation:
// a count of VMAs per space. The owner serializes calls.
type Spaces struct {
	m map[MappingSpace]int
}

// Add counts one more VMA of ms.
func (s *Spaces) Add(ms MappingSpace) {
	if s.m == nil {
		s.m = make(map[MappingSpace]int)
	}
	s.m[ms]++
}

// Remove counts one VMA of ms less.
func (s *Spaces) Remove(ms MappingSpace) {
	if s.m[ms]--; s.m[ms] <= 0 {
		delete(s.m, ms)
	}
}

// Len returns the number of spaces.
func (s *Spaces) Len() int { return len(s.m) }

// List returns the spaces, for the owner to invalidate after dropping its
// lock.
func (s *Spaces) List() []MappingSpace {
	l := make([]MappingSpace, 0, len(s.m))
	for ms := range s.m {
		l = append(l, ms)
	}
	return l
}

// CoherentPrivate is implemented by Files whose private mappings share the
// file's pages until the app writes to them, as Linux's page cache does:
// the memory manager then maps the Mappable's pages read-only into private
// mappings and copies a page on the first write, so a write(2) to the file
// stays visible through private mappings of untouched pages. Files without
// it are copied in with ReadAt when a private mapping faults.
type CoherentPrivate interface {
	CoherentPrivate() bool
}

// WriteSealer is implemented by Files that can be sealed against writing
// (memfd F_SEAL_WRITE, F_SEAL_FUTURE_WRITE): a shared writable mapping of
// such a file is refused with EPERM, and a shared read-only one can never
// be made writable (seal_check_write()).
type WriteSealer interface {
	WriteSealed() bool
}

// AnonymousShared is implemented by Files whose shared mappings are new
// shared anonymous memory rather than the file's pages (/dev/zero:
// mmap_zero() calls shmem_zero_setup()).
type AnonymousShared interface {
	AnonymousShared() bool
}

// BusError is a Translate failure that raises SIGBUS in the app (Linux's
// VM_FAULT_SIGBUS), rather than SIGSEGV.
type BusError struct {
	// Errno is what a sentry copy into the same page reports (EFAULT).
	Errno unix.Errno
}

func (e *BusError) Error() string { return "bus error: " + e.Errno.Error() }

// Unwrap returns the errno.
func (e *BusError) Unwrap() error { return e.Errno }

// IsBusError reports whether err is (or wraps) a *BusError.
func IsBusError(err error) bool {
	var be *BusError
	return errors.As(err, &be)
}
