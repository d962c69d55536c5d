package mm

import (
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// anonShared is the backing object of a MAP_SHARED|MAP_ANONYMOUS mapping
// (shmem_zero_setup() in Linux): memory-file pages allocated on first touch
// and shared by every mapping of it, including across fork. Its pages are
// freed when the last VMA mapping it goes away (munmap, exit or exec of the
// last process sharing it).
type anonShared struct {
	// mf and size are immutable.
	mf   *memfile.File
	size uint64

	mu sync.Mutex
	// pages maps page-aligned offsets to memory-file offsets, each
	// holding one reference. Protected by mu.
	pages map[uint64]uint64
	// mappings counts the VMAs mapping the object; spaces says where
	// they are. Protected by mu.
	mappings int
	spaces   memmap.Spaces
}

var (
	_ memmap.Tracker     = (*anonShared)(nil)
	_ memmap.HolePuncher = (*anonShared)(nil)
)

func newAnonShared(mf *memfile.File, size uint64) *anonShared {
	return &anonShared{mf: mf, size: size, pages: make(map[uint64]uint64)}
}

// Translate implements memmap.Mappable.Translate, one page at a time, so
// that pages allocated at different times need not be contiguous. Pages
// past the object's size (a mapping grown with mremap) raise SIGBUS, as
// for any shmem file.
func (s *anonShared) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	if off >= s.size {
		return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mo, ok := s.pages[off]
	if !ok {
		var err error
		mo, err = s.mf.Allocate(pageSize)
		if err != nil {
			return memmap.Translation{}, err
		}
		s.pages[off] = mo
	}
	return memmap.Translation{FD: s.mf.FD(), Offset: mo, Length: pageSize, Internal: s.mf.Slice(mo, pageSize)}, nil
}

// AddMapping implements memmap.Tracker.
func (s *anonShared) AddMapping(ms memmap.MappingSpace, _ bool) error {
	s.mu.Lock()
	s.mappings++
	s.spaces.Add(ms)
	s.mu.Unlock()
	return nil
}

// RemoveMapping implements memmap.Tracker: the last mapping frees the
// pages (no pte can refer to them any more).
func (s *anonShared) RemoveMapping(ms memmap.MappingSpace, _ bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mappings--
	s.spaces.Remove(ms)
	if s.mappings > 0 {
		return
	}
	for off, mo := range s.pages {
		s.mf.DecRef(mo, pageSize)
		delete(s.pages, off)
	}
}

// PunchHole implements memmap.HolePuncher (madvise(MADV_REMOVE)): the
// whole pages of the range are taken out of the object, unmapped from
// every address space, then freed; they read as zeros afterwards.
func (s *anonShared) PunchHole(off, length uint64) error {
	s.mu.Lock()
	freed := takePages(s.pages, off, length)
	spaces := s.spaces.List()
	s.mu.Unlock()
	for _, ms := range spaces {
		ms.Invalidate(s, off, off+length, false)
	}
	for _, mo := range freed {
		s.mf.DecRef(mo, pageSize)
	}
	return nil
}

// takePages removes the pages of [off, off+length) (page aligned) from
// pages and returns their memory-file offsets.
func takePages(pages map[uint64]uint64, off, length uint64) []uint64 {
	var out []uint64
	for o, mo := range pages {
		if o >= off && o-off < length {
			out = append(out, mo)
			delete(pages, o)
		}
	}
	return out
}
