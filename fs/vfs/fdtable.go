package vfs

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// FDFlags are per-descriptor flags (not per open file description).
type FDFlags struct {
	CloseOnExec bool
}

type fdEntry struct {
	file  *FileDescription
	flags FDFlags
}

// FDTable maps a task's file descriptor numbers to open file descriptions.
// It is shared between tasks created with CLONE_FILES. It owns its tasks'
// POSIX record locks: removing any descriptor releases the table's locks
// on that file (see locks.go).
type FDTable struct {
	// refs counts the tasks sharing the table (CLONE_FILES).
	refs atomic.Int64

	mu sync.Mutex
	// entries is indexed by fd number; nil file means free. Protected by mu.
	entries []fdEntry
}

// NewFDTable returns an empty table with one reference.
func NewFDTable() *FDTable {
	t := &FDTable{}
	t.refs.Store(1)
	return t
}

// IncRef takes a reference for another task sharing the table.
func (t *FDTable) IncRef() { t.refs.Add(1) }

// DecRef drops a task's reference; the last one closes every descriptor.
func (t *FDTable) DecRef() {
	if t.refs.Add(-1) == 0 {
		t.RemoveAll()
	}
}

// Get returns the file for fd with a new reference, or EBADF.
func (t *FDTable) Get(fd int32) (*FileDescription, FDFlags, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.entries) || t.entries[fd].file == nil {
		return nil, FDFlags{}, unix.EBADF
	}
	e := t.entries[fd]
	e.file.IncRef()
	return e.file, e.flags, nil
}

// NewFD installs f at the lowest free descriptor >= minFD that is below
// limit (RLIMIT_NOFILE), taking a new reference on f. It fails with EMFILE
// when there is none (EINVAL if minFD itself is not below limit, as
// F_DUPFD does).
func (t *FDTable) NewFD(minFD int32, f *FileDescription, flags FDFlags, limit int32) (int32, error) {
	if minFD < 0 {
		return -1, unix.EINVAL
	}
	if minFD >= limit {
		return -1, unix.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for fd := minFD; fd < limit; fd++ {
		if int(fd) >= len(t.entries) {
			t.grow(int(fd) + 1)
		}
		if t.entries[fd].file == nil {
			f.IncRef()
			t.entries[fd] = fdEntry{file: f, flags: flags}
			return fd, nil
		}
	}
	return -1, unix.EMFILE
}

// SetFD installs f at exactly fd (dup2 semantics), returning the file that
// was there (the caller drops that reference after unlocking nothing).
func (t *FDTable) SetFD(fd int32, f *FileDescription, flags FDFlags, limit int32) (*FileDescription, error) {
	if fd < 0 || fd >= limit {
		return nil, unix.EBADF
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(fd) >= len(t.entries) {
		t.grow(int(fd) + 1)
	}
	old := t.entries[fd].file
	f.IncRef()
	t.entries[fd] = fdEntry{file: f, flags: flags}
	if old != nil {
		old.ReleasePOSIXLocks(t)
	}
	return old, nil
}

func (t *FDTable) grow(n int) {
	if n <= len(t.entries) {
		return
	}
	c := 2 * len(t.entries)
	if c < n {
		c = n
	}
	if c < 16 {
		c = 16
	}
	ne := make([]fdEntry, c)
	copy(ne, t.entries)
	t.entries = ne
}

// Remove removes fd and returns its file (the caller must DecRef it), or
// EBADF.
func (t *FDTable) Remove(fd int32) (*FileDescription, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.entries) || t.entries[fd].file == nil {
		return nil, unix.EBADF
	}
	f := t.entries[fd].file
	t.entries[fd] = fdEntry{}
	f.ReleasePOSIXLocks(t)
	return f, nil
}

// SetFlags changes the per-descriptor flags of fd.
func (t *FDTable) SetFlags(fd int32, flags FDFlags) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.entries) || t.entries[fd].file == nil {
		return unix.EBADF
	}
	t.entries[fd].flags = flags
	return nil
}

// ForEach calls fn for each open descriptor in ascending order. fn must not
// call back into t.
func (t *FDTable) ForEach(fn func(fd int32, f *FileDescription, flags FDFlags)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.entries {
		if e.file != nil {
			fn(int32(i), e.file, e.flags)
		}
	}
}

// Fork returns a copy of t sharing the same file descriptions (fork(2)
// without CLONE_FILES).
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	nt := &FDTable{entries: make([]fdEntry, len(t.entries))}
	nt.refs.Store(1)
	for i, e := range t.entries {
		if e.file != nil {
			e.file.IncRef()
			nt.entries[i] = e
		}
	}
	return nt
}

// CloseOnExec removes every close-on-exec descriptor (execve(2)).
func (t *FDTable) CloseOnExec() {
	var drop []*FileDescription
	t.mu.Lock()
	for i, e := range t.entries {
		if e.file != nil && e.flags.CloseOnExec {
			drop = append(drop, e.file)
			t.entries[i] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		f.ReleasePOSIXLocks(t)
		f.DecRef()
	}
}

// RemoveAll closes every descriptor (task exit).
func (t *FDTable) RemoveAll() {
	var drop []*FileDescription
	t.mu.Lock()
	for i, e := range t.entries {
		if e.file != nil {
			drop = append(drop, e.file)
			t.entries[i] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		f.ReleasePOSIXLocks(t)
		f.DecRef()
	}
}

// RemoveRange removes every descriptor in [first, last] and returns their
// files for the caller to DecRef (close_range(2)).
func (t *FDTable) RemoveRange(first, last uint32) []*FileDescription {
	var drop []*FileDescription
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := uint64(first); i <= uint64(last) && i < uint64(len(t.entries)); i++ {
		if e := t.entries[i]; e.file != nil {
			drop = append(drop, e.file)
			t.entries[i] = fdEntry{}
			e.file.ReleasePOSIXLocks(t)
		}
	}
	return drop
}

// SetCloseOnExecRange marks every descriptor in [first, last] close-on-exec
// (close_range(2) with CLOSE_RANGE_CLOEXEC).
func (t *FDTable) SetCloseOnExecRange(first, last uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := uint64(first); i <= uint64(last) && i < uint64(len(t.entries)); i++ {
		if t.entries[i].file != nil {
			t.entries[i].flags.CloseOnExec = true
		}
	}
}

// Shared reports whether more than one task uses the table (CLONE_FILES).
func (t *FDTable) Shared() bool { return t.refs.Load() > 1 }

// MaxFDs is the size Linux's table would have (fdtable->max_fds), which
// bounds the descriptors select(2) looks at: 64 (NR_OPEN_DEFAULT) until a
// descriptor at or above it is allocated, then the power of two above the
// highest one ever allocated (expand_fdtable() never shrinks).
func (t *FDTable) MaxFDs() int {
	t.mu.Lock()
	n := len(t.entries)
	t.mu.Unlock()
	m := 64
	for m < n {
		m <<= 1
	}
	return m
}
