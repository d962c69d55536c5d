package systrap

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxSlots bounds the address spaces alive at once; the memfd is sized for
// all of them but sparse, so only touched pages cost memory.
const maxSlots = 4096

// sharedMem is the platform's memfd of shared regions, one slot per address
// space. The sentry maps a slot while its address space lives; the stub
// maps it at stubShared (request page read-only).
type sharedMem struct {
	fd int // immutable

	mu sync.Mutex
	// free are released slot indices; next is the first never used.
	// +checklocks:mu
	free []int
	// +checklocks:mu
	next int
}

func newSharedMem() (*sharedMem, error) {
	fd, err := unix.MemfdCreate("systrap-shared", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("systrap: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(maxSlots)*slotSize); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("systrap: ftruncate shared memfd: %w", err)
	}
	return &sharedMem{fd: fd}, nil
}

// alloc returns a fresh (zeroed) slot and its mapping in the sentry.
func (s *sharedMem) alloc() (int, []byte, error) {
	s.mu.Lock()
	var idx int
	if n := len(s.free); n > 0 {
		idx = s.free[n-1]
		s.free = s.free[:n-1]
	} else if s.next < maxSlots {
		idx = s.next
		s.next++
	} else {
		s.mu.Unlock()
		return 0, nil, fmt.Errorf("systrap: %d address spaces: %w", maxSlots, unix.ENOMEM)
	}
	s.mu.Unlock()
	mem, err := unix.Mmap(s.fd, int64(idx)*slotSize, slotSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		s.put(idx)
		return 0, nil, fmt.Errorf("systrap: map shared slot: %w", err)
	}
	return idx, mem, nil
}

// release frees the slot's pages (MADV_REMOVE punches them out of the
// memfd, so a reused slot starts zeroed), unmaps it and recycles the index.
// No stub may use the slot any more.
func (s *sharedMem) release(idx int, mem []byte) {
	_ = unix.Madvise(mem, unix.MADV_REMOVE)
	_ = unix.Munmap(mem)
	s.put(idx)
}

func (s *sharedMem) put(idx int) {
	s.mu.Lock()
	s.free = append(s.free, idx)
	s.mu.Unlock()
}

func (s *sharedMem) close() { unix.Close(s.fd) }

// word returns the 32-bit word at off of a shared mapping.
//
// SAFETY: mem is a live MAP_SHARED mapping (not Go heap) that outlives
// every use of the returned pointer (the address space unmaps it only on
// Release, after which nothing of it is used); off is 4-aligned and in
// range (checked by the index expression).
func word(mem []byte, off int) *atomic.Uint32 {
	_ = mem[off+3]
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// futexSleep sleeps while *w == val, at most d. Spurious returns are fine:
// callers re-check. It is a blocking syscall (the Go scheduler runs other
// goroutines meanwhile). The word is in shared memory and the waker is
// another process, so the futex is not FUTEX_PRIVATE.
//
// SAFETY: w points into a live shared mapping (see word); ts lives on the
// stack for the call.
func futexSleep(w *atomic.Uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), opFutexWait, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWakeOne wakes the waiters on w.
//
// SAFETY: as futexSleep.
func futexWakeOne(w *atomic.Uint32) {
	_, _, _ = unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), opFutexWake, 1, 0, 0, 0)
}
