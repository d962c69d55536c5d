package mm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"pangolin/platform"
)

// FutexKey identifies a futex word: for private mappings the address in
// this mm, for shared ones the backing host file page, so that processes
// mapping the same memory share futexes (get_futex_key()).
type FutexKey struct {
	MM   *MemoryManager
	Addr uintptr
	FD   int
	Off  uint64
}

// AtomicUint32 returns the futex key of the aligned 32-bit word at addr and
// a pointer to it in the sentry's mapping of its backing page, populating
// (and, for write, un-sharing) the page. EFAULT if the word is not
// accessible; EINVAL if misaligned.
func (m *MemoryManager) AtomicUint32(addr uintptr, write, private bool) (*atomic.Uint32, FutexKey, error) {
	if addr&3 != 0 {
		return nil, FutexKey{}, unix.EINVAL
	}
	at := platform.Read
	if write {
		at = platform.AccessType{Write: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.pageLocked(addr, at, false)
	if err != nil {
		return nil, FutexKey{}, unix.EFAULT
	}
	key := FutexKey{MM: m, Addr: addr}
	if !private {
		if i := m.findVMA(addr); i >= 0 && !m.vmas[i].private {
			key = FutexKey{FD: p.fd, Off: p.off + uint64(addr&pageMask)}
		}
	}
	// SAFETY: p.internal is a page of a host mapping that stays mapped
	// for the sentry's lifetime (the memory file, or a Mappable's
	// internal mapping); addr&pageMask is 4-byte aligned and < pageSize-3,
	// so the word lies inside the page.
	ptr := (*atomic.Uint32)(unsafe.Pointer(&p.internal[addr&pageMask]))
	return ptr, key, nil
}
