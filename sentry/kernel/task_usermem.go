package kernel

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// Task methods that move data between the sentry and app memory. Every
// address and length comes from the app and is untrusted: the memory manager
// validates it against the task's VMAs and returns EFAULT for anything not
// mapped with the needed permission.

// PathMax is PATH_MAX including the terminating NUL.
const PathMax = 4096

// CopyInBytes copies len(dst) bytes from app address addr. It returns EFAULT
// if any byte is unreadable.
func (t *Task) CopyInBytes(addr uintptr, dst []byte) error {
	if len(dst) == 0 {
		return nil
	}
	n, err := t.mm.CopyIn(addr, dst)
	if err != nil || n != len(dst) {
		return unix.EFAULT
	}
	return nil
}

// CopyOutBytes copies src to app address addr. It returns EFAULT if any byte
// is unwritable.
func (t *Task) CopyOutBytes(addr uintptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	n, err := t.mm.CopyOut(addr, src)
	if err != nil || n != len(src) {
		return unix.EFAULT
	}
	return nil
}

// CopyInString reads a NUL-terminated string of at most maxLen bytes
// including the NUL. It returns ENAMETOOLONG if no NUL is found within
// maxLen bytes and EFAULT if the string runs into unreadable memory
// (strncpy_from_user() semantics).
func (t *Task) CopyInString(addr uintptr, maxLen int) (string, error) {
	var out []byte
	const chunk = 256
	buf := make([]byte, chunk)
	for len(out) < maxLen {
		n := chunk
		// Do not cross a page boundary in one read so that a string
		// ending just before an unmapped page is still readable.
		if rem := int(pageSize - (addr+uintptr(len(out)))%pageSize); rem < n {
			n = rem
		}
		if maxLen-len(out) < n {
			n = maxLen - len(out)
		}
		if err := t.CopyInBytes(addr+uintptr(len(out)), buf[:n]); err != nil {
			return "", unix.EFAULT
		}
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			out = append(out, buf[:i]...)
			return string(out), nil
		}
		out = append(out, buf[:n]...)
	}
	return "", unix.ENAMETOOLONG
}

// CopyInPath reads a pathname argument (getname() in fs/namei.c): EFAULT for
// a bad pointer, ENAMETOOLONG past PATH_MAX. An empty path is returned as is;
// callers decide between ENOENT and AT_EMPTY_PATH.
func (t *Task) CopyInPath(addr uintptr) (string, error) {
	return t.CopyInString(addr, PathMax)
}

// Iovec is one element of a readv/writev vector.
type Iovec struct {
	Base uintptr
	Len  uint64
}

// UIOMaxIov is UIO_MAXIOV.
const UIOMaxIov = 1024

// CopyInIovecs reads an iovec array, applying the checks of
// import_iovec(): EINVAL for more than UIO_MAXIOV entries or a total length
// that overflows ssize_t, EFAULT for an unreadable array. Lengths are clamped
// so the total does not exceed MAX_RW_COUNT, as Linux does.
func (t *Task) CopyInIovecs(addr uintptr, n int) ([]Iovec, error) {
	if n < 0 || n > UIOMaxIov {
		return nil, unix.EINVAL
	}
	if n == 0 {
		return nil, nil
	}
	raw := make([]byte, 16*n)
	if err := t.CopyInBytes(addr, raw); err != nil {
		return nil, err
	}
	iovs := make([]Iovec, n)
	var total uint64
	const maxRW = 0x7ffff000 // MAX_RW_COUNT
	for i := range iovs {
		base := uintptr(le64(raw[16*i:]))
		l := le64(raw[16*i+8:])
		if int64(l) < 0 {
			return nil, unix.EINVAL
		}
		if total+l > maxRW {
			l = maxRW - total
		}
		total += l
		iovs[i] = Iovec{Base: base, Len: l}
	}
	return iovs, nil
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
