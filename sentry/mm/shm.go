package mm

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/memmap"
)

// DetachShm implements shmdt(2)'s search (ksys_shmdt()): from addr
// upwards, the first VMA whose Mappable is a segment (match returns its
// size) and whose segment offset equals its distance from addr is
// unmapped, and so is every later VMA of the same segment that lies at
// its own offset from addr within the segment's size (the pieces of one
// attach split by mprotect or munmap). EINVAL if addr is unaligned or no
// such VMA exists.
func (m *MemoryManager) DetachShm(addr uintptr, match func(memmap.Mappable) (uint64, bool)) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	atOffset := func(v *vma) bool { return v.start >= addr && uint64(v.start-addr) == v.off }
	var seg memmap.Mappable
	var size uint64
	var ranges [][2]uintptr
	for _, v := range m.vmas {
		if v.end <= addr {
			continue
		}
		if seg == nil {
			if v.private || v.mappable == nil || !atOffset(v) {
				continue
			}
			sz, ok := match(v.mappable)
			if !ok {
				continue
			}
			seg, size = v.mappable, (sz+pageMask)&^pageMask
			ranges = append(ranges, [2]uintptr{v.start, v.end})
			continue
		}
		if uint64(v.end-addr) > size {
			break
		}
		if v.mappable == seg && !v.private && atOffset(v) {
			ranges = append(ranges, [2]uintptr{v.start, v.end})
		}
	}
	if seg == nil {
		return unix.EINVAL
	}
	for _, r := range ranges {
		m.removeRange(r[0], r[1])
	}
	return nil
}
