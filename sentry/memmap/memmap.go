// Package memmap defines what the memory manager needs from a file in order
// to map it: content for private (copy-on-fault) mappings, and a host-FD
// backed translation for shared mappings.
package memmap

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
	// loop. write reports whether the mapping will be writable.
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
