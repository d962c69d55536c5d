package tmpfs

import "golang.org/x/sys/unix"

// pageSize is the unit of tmpfs storage and accounting.
const pageSize = 4096

// Storage holds a regular file's bytes. It is an interface so that file
// data can later move from Go memory to the sentry's memory file (which
// MAP_SHARED needs) without touching the file logic. Callers serialize
// access (the file's InodeAttrs.Mu); the file tracks the size.
type Storage interface {
	// ReadAt fills dst from offset off; holes read as zeros. The caller
	// keeps the range within the file size.
	ReadAt(dst []byte, off int64)
	// WriteAt stores src at off. It returns how many bytes were stored
	// and ENOSPC if the filesystem is full.
	WriteAt(src []byte, off int64) (int, error)
	// Allocate reserves pages for [off, off+length) so that later
	// writes there cannot fail (fallocate mode 0).
	Allocate(off, length int64) error
	// Truncate drops data at and beyond size and zeroes the tail of the
	// last page, so that growing the file again reads zeros.
	Truncate(size int64)
	// Pages returns the number of allocated pages (for st_blocks).
	Pages() int64
	// Release frees everything (the inode is gone).
	Release()
}

// pageAccount limits the pages of one filesystem instance.
type pageAccount interface {
	// charge reserves n pages, or returns false if the limit is reached.
	charge(n int64) bool
	// uncharge returns n pages.
	uncharge(n int64)
}

// memStorage is a sparse Storage in Go memory: a map from page index to
// page. Unwritten pages are holes.
type memStorage struct {
	acct  pageAccount
	pages map[int64]*[pageSize]byte
}

func newMemStorage(acct pageAccount) *memStorage {
	return &memStorage{acct: acct, pages: make(map[int64]*[pageSize]byte)}
}

func (s *memStorage) ReadAt(dst []byte, off int64) {
	for len(dst) > 0 {
		idx, po := off/pageSize, off%pageSize
		n := int64(len(dst))
		if n > pageSize-po {
			n = pageSize - po
		}
		if p := s.pages[idx]; p != nil {
			copy(dst[:n], p[po:po+n])
		} else {
			clear(dst[:n])
		}
		dst = dst[n:]
		off += n
	}
}

// page returns page idx, allocating it if needed.
func (s *memStorage) page(idx int64) (*[pageSize]byte, error) {
	if p := s.pages[idx]; p != nil {
		return p, nil
	}
	if !s.acct.charge(1) {
		return nil, unix.ENOSPC
	}
	p := new([pageSize]byte)
	s.pages[idx] = p
	return p, nil
}

func (s *memStorage) WriteAt(src []byte, off int64) (int, error) {
	done := 0
	for len(src) > 0 {
		idx, po := off/pageSize, off%pageSize
		n := int64(len(src))
		if n > pageSize-po {
			n = pageSize - po
		}
		p, err := s.page(idx)
		if err != nil {
			return done, err
		}
		copy(p[po:po+n], src[:n])
		src = src[n:]
		off += n
		done += int(n)
	}
	return done, nil
}

func (s *memStorage) Allocate(off, length int64) error {
	for idx := off / pageSize; idx <= (off+length-1)/pageSize; idx++ {
		if _, err := s.page(idx); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStorage) Truncate(size int64) {
	last := (size + pageSize - 1) / pageSize // first page wholly past size
	var freed int64
	for idx := range s.pages {
		if idx >= last {
			delete(s.pages, idx)
			freed++
		}
	}
	s.acct.uncharge(freed)
	if po := size % pageSize; po != 0 {
		if p := s.pages[size/pageSize]; p != nil {
			clear(p[po:])
		}
	}
}

func (s *memStorage) Pages() int64 { return int64(len(s.pages)) }

func (s *memStorage) Release() {
	s.acct.uncharge(int64(len(s.pages)))
	s.pages = make(map[int64]*[pageSize]byte)
}
