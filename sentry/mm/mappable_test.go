package mm

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// fakeFile is a coherent, tracked file of n pages in the memory file.
type fakeFile struct {
	mf    *memfile.File
	pages []uint64

	mu       sync.Mutex
	mappings map[memmap.MappingSpace]int
	writable int
}

func newFakeFile(t *testing.T, mf *memfile.File, n int) *fakeFile {
	f := &fakeFile{mf: mf, mappings: map[memmap.MappingSpace]int{}}
	for i := 0; i < n; i++ {
		off, err := mf.Allocate(pageSize)
		if err != nil {
			t.Fatal(err)
		}
		f.pages = append(f.pages, off)
	}
	return f
}

func (f *fakeFile) page(i int) []byte { return f.mf.Slice(f.pages[i], pageSize) }

func (f *fakeFile) ReadAt(dst []byte, off int64) (int, error) { panic("coherent files are not read") }
func (f *fakeFile) Size() (int64, error)                      { return int64(len(f.pages)) * pageSize, nil }
func (f *fakeFile) Mappable() memmap.Mappable                 { return f }
func (f *fakeFile) IncRef()                                   {}
func (f *fakeFile) DecRef()                                   {}
func (f *fakeFile) CoherentPrivate() bool                     { return true }

func (f *fakeFile) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	i := int(off / pageSize)
	if i >= len(f.pages) {
		return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
	}
	return memmap.Translation{FD: f.mf.FD(), Offset: f.pages[i], Length: pageSize, Internal: f.page(i)}, nil
}

func (f *fakeFile) AddMapping(ms memmap.MappingSpace, w bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mappings[ms]++
	if w {
		f.writable++
	}
	return nil
}

func (f *fakeFile) RemoveMapping(ms memmap.MappingSpace, w bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mappings[ms]--
	if w {
		f.writable--
	}
}

func (f *fakeFile) count(ms memmap.MappingSpace) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mappings[ms]
}

func TestCoherentPrivateMapping(t *testing.T) {
	m, as := newTestMM(t)
	f := newFakeFile(t, m.mf, 2)
	copy(f.page(0), "file")
	sh, err := m.MMap(MMapOpts{Length: 2 * pageSize, Perms: platform.ReadWrite, File: f})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := m.MMap(MMapOpts{Length: 2 * pageSize, Perms: platform.ReadWrite, Private: true, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if f.count(m) != 2 || f.writable != 1 {
		t.Errorf("mappings %d writable %d, want 2 and 1", f.count(m), f.writable)
	}
	buf := make([]byte, 4)
	if _, err := m.CopyIn(pr, buf); err != nil || string(buf) != "file" {
		t.Fatalf("private read %q %v", buf, err)
	}
	if as.pages[pr] != platform.Read {
		t.Errorf("private mapping of a file page is %v, want read-only", as.pages[pr])
	}
	// A store through the shared mapping is the file's: the untouched
	// private page shows it.
	m.CopyOut(sh, []byte("SHAR"))
	m.CopyIn(pr, buf)
	if string(buf) != "SHAR" {
		t.Errorf("private mapping sees %q, want the file's new bytes", buf)
	}
	used := m.mf.Usage()
	m.CopyOut(pr, []byte("priv"))
	if string(f.page(0)[:4]) != "SHAR" {
		t.Errorf("a private write reached the file: %q", f.page(0)[:4])
	}
	if m.mf.Usage() != used+pageSize {
		t.Errorf("private write copied %d bytes, want one page", m.mf.Usage()-used)
	}
	copy(f.page(0), "late")
	m.CopyIn(pr, buf)
	if string(buf) != "priv" {
		t.Errorf("copied private page sees %q", buf)
	}
	// A hole punch's invalidation keeps private copies.
	m.Invalidate(f, 0, 1<<40, false)
	m.CopyIn(pr, buf)
	if string(buf) != "priv" {
		t.Errorf("private copy lost to an invalidation without evenCopies: %q", buf)
	}
	// Invalidation drops shared and private pages, copies included.
	m.CopyIn(sh+pageSize, buf)
	m.Invalidate(f, 0, 1<<40, true)
	if len(as.pages) != 0 {
		t.Errorf("host pages left after Invalidate: %v", as.pages)
	}
	m.CopyIn(pr, buf)
	if string(buf) != "late" {
		t.Errorf("after invalidation the private page reads %q, want the file's", buf)
	}
	if m.mf.Usage() != used {
		t.Errorf("invalidation did not free the private copy")
	}
	// Splitting makes one more mapping; fork one per VMA; release none.
	if err := m.MProtect(sh, pageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if f.count(m) != 3 {
		t.Errorf("after a split %d mappings, want 3", f.count(m))
	}
	c := m.Fork()
	if f.count(c) != 3 {
		t.Errorf("child has %d mappings, want 3", f.count(c))
	}
	c.DecUsers()
	m.DecUsers()
	if f.count(m) != 0 || f.count(c) != 0 || f.writable != 0 {
		t.Errorf("mappings left after release: %d %d writable %d", f.count(m), f.count(c), f.writable)
	}
	// A page past the file's end is a bus error.
	m2, _ := newTestMM(t)
	a, _ := m2.MMap(MMapOpts{Length: 4 * pageSize, Perms: platform.Read, File: f})
	if err := m2.HandleFault(a+3*pageSize, platform.Read); !memmap.IsBusError(err) {
		t.Errorf("fault past EOF = %v, want a bus error", err)
	}
}

func TestAnonSharedFreedWithLastMapping(t *testing.T) {
	m, _ := newTestMM(t)
	a, err := m.MMap(MMapOpts{Length: 4 * pageSize, Perms: platform.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	m.CopyOut(a, []byte("shared"))
	c := m.Fork()
	c.SetAddressSpace(&fakeAS{pages: map[uintptr]platform.AccessType{}})
	c.CopyOut(a+3, []byte("ED"))
	buf := make([]byte, 6)
	m.CopyIn(a, buf)
	if string(buf) != "shaEDd" {
		t.Errorf("parent sees %q after the child's write", buf)
	}
	if err := m.MUnmap(a, 4*pageSize); err != nil {
		t.Fatal(err)
	}
	if m.mf.Usage() == 0 {
		t.Fatalf("pages freed while the child still maps them")
	}
	c.DecUsers()
	if u := m.mf.Usage(); u != 0 {
		t.Errorf("usage %d after the last mapping went, want 0", u)
	}
}
