package linux

import (
	"crypto/rand"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

const (
	grndNonblock = 1
	grndRandom   = 2
	grndInsecure = 4
)

// Getrandom implements Linux syscall getrandom(2). The sentry's
// crypto/rand is always initialized, so it never blocks.
func Getrandom(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[2].Uint()
	if flags&^(grndNonblock|grndRandom|grndInsecure) != 0 {
		return 0, unix.EINVAL
	}
	if flags&grndRandom != 0 && flags&grndInsecure != 0 {
		return 0, unix.EINVAL
	}
	n := args[1].SizeT()
	// get_random_bytes_user() caps one call at MAX_RW_COUNT.
	if n > 0x7ffff000 {
		n = 0x7ffff000
	}
	addr := args[0].Pointer()
	buf := make([]byte, min(n, 64<<10))
	done := uint(0)
	for done < n {
		c := min(n-done, uint(len(buf)))
		_, _ = rand.Read(buf[:c])
		if err := t.CopyOutBytes(addr+uintptr(done), buf[:c]); err != nil {
			if done > 0 {
				return uintptr(done), nil
			}
			return 0, err
		}
		done += c
	}
	return uintptr(n), nil
}
