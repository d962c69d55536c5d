package mm

import (
	"sync"

	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// anonShared is the backing object of a MAP_SHARED|MAP_ANONYMOUS mapping
// (shmem_zero_setup() in Linux): memory-file pages allocated on first touch
// and shared by every mapping of it, including across fork.
type anonShared struct {
	mf   *memfile.File
	size uint64

	mu sync.Mutex
	// pages maps page-aligned offsets to memory-file offsets. Protected by
	// mu.
	pages map[uint64]uint64
}

func newAnonShared(mf *memfile.File, size uint64) *anonShared {
	return &anonShared{mf: mf, size: size, pages: make(map[uint64]uint64)}
}

// Translate implements memmap.Mappable.Translate, one page at a time, so
// that pages allocated at different times need not be contiguous.
func (s *anonShared) Translate(off, length uint64, write bool) (memmap.Translation, error) {
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
