package socket

import "golang.org/x/sys/unix"

// Memory is the caller's address space as sends and receives use it.
type Memory interface {
	CopyInBytes(addr uintptr, dst []byte) error
	CopyOutBytes(addr uintptr, src []byte) error
}

// Segment is one contiguous app buffer (struct iovec).
type Segment struct {
	Base uintptr
	Len  int
}

// IOSequence is the buffer of one send or receive (struct iov_iter):
// segments of the caller's memory, already range-checked by the syscall
// layer (access_ok()), or a sentry buffer for file reads and writes.
// Offsets are bytes from the start of the sequence.
type IOSequence struct {
	mem  Memory
	segs []Segment
	buf  []byte
	n    int
}

// UserIO returns the sequence of segs in mem.
func UserIO(mem Memory, segs []Segment) IOSequence {
	n := 0
	for _, s := range segs {
		n += s.Len
	}
	return IOSequence{mem: mem, segs: segs, n: n}
}

// BufferIO returns a sequence over a sentry buffer.
func BufferIO(b []byte) IOSequence { return IOSequence{buf: b, n: len(b)} }

// Len returns the sequence's total length.
func (s IOSequence) Len() int { return s.n }

// walk calls fn for each piece of the segments covering [off, off+n),
// stopping at the first error; it returns the bytes fn handled.
func (s IOSequence) walk(off, n int, fn func(addr uintptr, lo, hi int) error) (int, error) {
	done := 0
	pos := 0
	for _, seg := range s.segs {
		if done == n {
			break
		}
		cur := off + done
		if cur >= pos+seg.Len {
			pos += seg.Len
			continue
		}
		start := cur - pos
		c := min(seg.Len-start, n-done)
		if err := fn(seg.Base+uintptr(start), done, done+c); err != nil {
			return done, err
		}
		done += c
		pos += seg.Len
	}
	return done, nil
}

// CopyOut writes src at offset off of the sequence, as far as the
// sequence reaches. On a fault it returns the bytes written before the
// faulting segment and EFAULT.
func (s IOSequence) CopyOut(off int, src []byte) (int, error) {
	n := min(len(src), max(s.n-off, 0))
	if s.mem == nil {
		return copy(s.buf[off:off+n], src[:n]), nil
	}
	return s.walk(off, n, func(addr uintptr, lo, hi int) error {
		if s.mem.CopyOutBytes(addr, src[lo:hi]) != nil {
			return unix.EFAULT
		}
		return nil
	})
}

// CopyIn reads into dst from offset off of the sequence, as far as the
// sequence reaches. On a fault it returns the bytes read before the
// faulting segment and EFAULT.
func (s IOSequence) CopyIn(off int, dst []byte) (int, error) {
	n := min(len(dst), max(s.n-off, 0))
	if s.mem == nil {
		return copy(dst[:n], s.buf[off:off+n]), nil
	}
	return s.walk(off, n, func(addr uintptr, lo, hi int) error {
		if s.mem.CopyInBytes(addr, dst[lo:hi]) != nil {
			return unix.EFAULT
		}
		return nil
	})
}
