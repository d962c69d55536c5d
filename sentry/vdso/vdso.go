// Package vdso is the sandbox's vDSO: the image built from src/vdso.c
// (embedded as vdso.so) and the data page it reads ([vvar]), both in the memory file
// once per kernel and mapped into every address space an exec creates.
//
// Why a committed blob: the sentry must build with plain `go build` (and a
// clean clone with `make build`, `go vet ./...`) without a C cross-toolchain
// in the loop, and the image is a few kilobytes that change rarely. `make
// vdso` rebuilds it from source; vdso.sum records the hashes of the sources,
// the build flags and the compiler it was built with, and TestBlobCurrent
// fails when the blob is stale (rebuilding it byte for byte when the same
// compiler is installed).
package vdso

import (
	_ "embed"
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
	"pangolin/sentry/mm"
)

//go:embed vdso.so
var blob []byte

const pageSize = memfile.PageSize

// Image is the vDSO and its data page in the memory file. The pages live as
// long as the kernel; every address space shares them (the vDSO
// copy-on-write, the data page read-only).
type Image struct {
	vvar, text region
}

// New copies the vDSO into the memory file and allocates its data page
// (zeroed; the caller's clock fills it in).
func New(mf *memfile.File) (*Image, error) {
	size := (uint64(len(blob)) + pageSize - 1) &^ (pageSize - 1)
	off, err := mf.Allocate(pageSize + size)
	if err != nil {
		return nil, fmt.Errorf("vdso: allocating %d bytes: %w", pageSize+size, err)
	}
	img := &Image{
		vvar: region{mf: mf, off: off, size: pageSize},
		text: region{mf: mf, off: off + pageSize, size: size},
	}
	copy(mf.Slice(img.text.off, size), blob)
	return img, nil
}

// DataPage returns the sentry's view of the data page.
func (img *Image) DataPage() []byte { return img.vvar.mf.Slice(img.vvar.off, pageSize) }

// Map maps the data page and the vDSO right above it into m (the vDSO finds
// the page at a fixed distance below itself), at an address chosen like any
// other mapping's (top-down below the mmap base, as Linux's map_vdso()
// does), and returns the vDSO's base for AT_SYSINFO_EHDR. Like Linux's, the
// mappings may be unmapped, moved and (the vDSO) made writable, which
// copies it; the data page can never be written or executed.
func (img *Image) Map(m *mm.MemoryManager) (uintptr, error) {
	addr, err := m.MMap(mm.MMapOpts{
		Length: uintptr(img.vvar.size + img.text.size), Perms: platform.Read, MaxPerms: platform.Read,
		Private: true, File: &img.vvar, Name: "[vvar]",
	})
	if err != nil {
		return 0, err
	}
	base := addr + uintptr(img.vvar.size)
	if _, err := m.MMap(mm.MMapOpts{
		Addr: base, Length: uintptr(img.text.size), Fixed: true,
		Perms: platform.AccessType{Read: true, Execute: true}, Private: true, File: &img.text, Name: "[vdso]",
	}); err != nil {
		return 0, err
	}
	return base, nil
}

// region is a run of kernel-owned memory-file pages mapped as a file
// (memmap.File and its own Mappable). Private mappings share its pages
// (CoherentPrivate) and copy one only when written.
type region struct {
	// All immutable.
	mf        *memfile.File
	off, size uint64
}

var (
	_ memmap.File            = (*region)(nil)
	_ memmap.Mappable        = (*region)(nil)
	_ memmap.CoherentPrivate = (*region)(nil)
)

// ReadAt implements memmap.File.
func (r *region) ReadAt(dst []byte, off int64) (int, error) {
	if off < 0 || uint64(off) >= r.size {
		return 0, nil
	}
	return copy(dst, r.mf.Slice(r.off+uint64(off), r.size-uint64(off))), nil
}

// Size implements memmap.File.
func (r *region) Size() (int64, error) { return int64(r.size), nil }

// Mappable implements memmap.File.
func (r *region) Mappable() memmap.Mappable { return r }

// IncRef implements memmap.File: the pages belong to the kernel, not to the
// mappings.
func (r *region) IncRef() {}

// DecRef implements memmap.File.
func (r *region) DecRef() {}

// CoherentPrivate implements memmap.CoherentPrivate.
func (r *region) CoherentPrivate() bool { return true }

// Translate implements memmap.Mappable. Past the end (a mapping grown with
// mremap) is SIGBUS, as for Linux's special mappings.
func (r *region) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	if off >= r.size {
		return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
	}
	n := min(length, r.size-off)
	return memmap.Translation{FD: r.mf.FD(), Offset: r.off + off, Length: n, Internal: r.mf.Slice(r.off+off, n)}, nil
}
