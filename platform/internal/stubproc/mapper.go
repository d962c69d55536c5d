package stubproc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform"
)

// Mapper implements platform.AddressSpace's MapFile and Unmap for a stub
// process, given a way to run a syscall in it. An address space embeds it.
type Mapper struct {
	// Name is the platform's name, which prefixes errors.
	Name string
	// Limit is the exclusive end of what the app may map: the first page
	// the platform reserves (a MAP_FIXED over the stub page would destroy
	// the injection sites and the handler).
	Limit uintptr
	// Syscall runs syscall nr with args in the stub process and returns
	// its result, or an error wrapping the errno.
	Syscall func(nr uintptr, args ...uintptr) (uintptr, error)
}

// checkRange rejects ranges that are unaligned, empty, wrap, or reach Limit.
func (m *Mapper) checkRange(addr, length uintptr) error {
	const pageMask = PageSize - 1
	if addr&pageMask != 0 || length&pageMask != 0 || length == 0 ||
		addr+length < addr || addr+length > m.Limit {
		return fmt.Errorf("%s: bad range [%#x, +%#x): %w", m.Name, addr, length, unix.EINVAL)
	}
	return nil
}

// MapFile implements platform.AddressSpace with
// mmap(addr, length, prot, MAP_SHARED|MAP_FIXED, fd, offset) in the stub.
// The fd is valid there because every stub process shares the sentry's
// file descriptor table (CLONE_FILES).
func (m *Mapper) MapFile(addr uintptr, fd int, offset uint64, length uintptr, at platform.AccessType) error {
	if err := m.checkRange(addr, length); err != nil {
		return err
	}
	if offset&(PageSize-1) != 0 {
		return fmt.Errorf("%s: unaligned offset %#x: %w", m.Name, offset, unix.EINVAL)
	}
	got, err := m.Syscall(unix.SYS_MMAP, addr, length, uintptr(at.Prot()),
		unix.MAP_SHARED|unix.MAP_FIXED, uintptr(fd), uintptr(offset))
	if err != nil {
		return fmt.Errorf("%s: mmap(%#x, %#x, fd %d, off %#x): %w", m.Name, addr, length, fd, offset, err)
	}
	if got != addr {
		return fmt.Errorf("%s: mmap(%#x) returned %#x", m.Name, addr, got)
	}
	return nil
}

// Unmap implements platform.AddressSpace with munmap in the stub.
func (m *Mapper) Unmap(addr uintptr, length uintptr) error {
	if err := m.checkRange(addr, length); err != nil {
		return err
	}
	if _, err := m.Syscall(unix.SYS_MUNMAP, addr, length); err != nil {
		return fmt.Errorf("%s: munmap(%#x, %#x): %w", m.Name, addr, length, err)
	}
	return nil
}
