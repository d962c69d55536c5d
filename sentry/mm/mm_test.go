package mm

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/memfile"
)

// fakeAS records host mappings page by page.
type fakeAS struct {
	pages map[uintptr]platform.AccessType
}

func (f *fakeAS) MapFile(addr uintptr, fd int, off uint64, length uintptr, at platform.AccessType) error {
	for a := addr; a < addr+length; a += pageSize {
		f.pages[a] = at
	}
	return nil
}

func (f *fakeAS) Unmap(addr, length uintptr) error {
	for a := range f.pages {
		if a >= addr && a < addr+length {
			delete(f.pages, a)
		}
	}
	return nil
}

func (f *fakeAS) Release() {}

func newTestMM(t *testing.T) (*MemoryManager, *fakeAS) {
	t.Helper()
	mf, err := memfile.New("mm-test", 1<<32)
	if err != nil {
		t.Fatal(err)
	}
	as := &fakeAS{pages: map[uintptr]platform.AccessType{}}
	m := New(mf, as, 1<<46)
	m.SetMmapBase(1 << 45)
	return m, as
}

func TestMMapPlacementAndErrors(t *testing.T) {
	m, _ := newTestMM(t)
	a, err := m.MMap(MMapOpts{Length: 3 * pageSize, Perms: platform.ReadWrite, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if a+3*pageSize != 1<<45 {
		t.Errorf("first top-down mapping at %#x, want just below mmap base", a)
	}
	b, err := m.MMap(MMapOpts{Length: 1, Perms: platform.ReadWrite, Private: true})
	if err != nil || b+pageSize != a {
		t.Errorf("second mapping at %#x (%v), want %#x", b, err, a-pageSize)
	}
	for _, tc := range []struct {
		name string
		o    MMapOpts
		want error
	}{
		{"zero length", MMapOpts{Length: 0, Private: true}, unix.ENOMEM},
		{"fixed unaligned", MMapOpts{Addr: a + 1, Length: pageSize, Fixed: true, Private: true}, unix.EINVAL},
		{"noreplace overlap", MMapOpts{Addr: a, Length: pageSize, Fixed: true, NoReplace: true, Private: true}, unix.EEXIST},
		{"fixed below mmap_min_addr", MMapOpts{Addr: 0x1000, Length: pageSize, Fixed: true, Private: true}, unix.EPERM},
		{"too long", MMapOpts{Length: 1 << 47, Private: true}, unix.ENOMEM},
	} {
		if _, err := m.MMap(tc.o); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestFaultCopyAndDontneed(t *testing.T) {
	m, as := newTestMM(t)
	a, err := m.MMap(MMapOpts{Length: 16 * pageSize, Perms: platform.ReadWrite, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.HandleFault(a+5*pageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	if len(as.pages) != 16 {
		t.Errorf("fault populated %d pages, want the whole 16-page vma", len(as.pages))
	}
	// A fault on a page already mapped for that access raced with
	// another thread's fault on it: it resolves and the app retries.
	if err := m.HandleFault(a+5*pageSize, platform.AccessType{Write: true}); err != nil {
		t.Errorf("raced fault: got %v, want nil", err)
	}
	// A write to a read-only mapping is an access violation.
	ro, err := m.MMap(MMapOpts{Length: pageSize, Perms: platform.Read, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.HandleFault(ro, platform.AccessType{Write: true}); !errors.Is(err, unix.EFAULT) {
		t.Errorf("write to read-only: got %v, want EFAULT", err)
	}
	if err := m.MUnmap(ro, pageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(a+pageSize-2, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := m.CopyIn(a+pageSize-2, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("CopyIn = %q, %v", buf, err)
	}
	if err := m.MAdvise(a, 2*pageSize, madvDontneed); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyIn(a+pageSize-2, buf); err != nil || string(buf) != "\x00\x00\x00\x00\x00" {
		t.Fatalf("after MADV_DONTNEED CopyIn = %q, %v", buf, err)
	}
	// Unmapped and unreadable memory.
	if _, err := m.CopyIn(a-pageSize, buf); !errors.Is(err, unix.EFAULT) {
		t.Errorf("CopyIn of unmapped memory: %v", err)
	}
	if err := m.MProtect(a, pageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if as.pages[a] != platform.Read {
		t.Errorf("mprotect did not remap the host page read-only: %v", as.pages[a])
	}
	if _, err := m.CopyOut(a, buf); !errors.Is(err, unix.EFAULT) {
		t.Errorf("CopyOut to read-only memory: %v", err)
	}
	if err := m.MProtect(a-pageSize, 2*pageSize, platform.Read, false); !errors.Is(err, unix.ENOMEM) {
		t.Errorf("mprotect of a partly unmapped range: %v", err)
	}
}

func TestMunmapSplitsAndFrees(t *testing.T) {
	m, as := newTestMM(t)
	a, _ := m.MMap(MMapOpts{Length: 8 * pageSize, Perms: platform.ReadWrite, Private: true})
	if _, err := m.CopyOut(a, make([]byte, 8*pageSize)); err != nil {
		t.Fatal(err)
	}
	used := m.mf.Usage()
	if err := m.MUnmap(a+2*pageSize, 2*pageSize); err != nil {
		t.Fatal(err)
	}
	if got := len(m.Maps()); got != 2 {
		t.Errorf("munmap in the middle left %d vmas, want 2", got)
	}
	if m.mf.Usage() != used-2*pageSize {
		t.Errorf("munmap freed %d bytes, want %d", used-m.mf.Usage(), 2*pageSize)
	}
	if _, ok := as.pages[a+2*pageSize]; ok {
		t.Errorf("host page still mapped after munmap")
	}
	if err := m.MUnmap(a+1, pageSize); !errors.Is(err, unix.EINVAL) {
		t.Errorf("unaligned munmap: %v", err)
	}
	m.DecUsers()
	if m.mf.Usage() != 0 {
		t.Errorf("Release leaked %d bytes", m.mf.Usage())
	}
}

func TestMremapAndBrk(t *testing.T) {
	m, _ := newTestMM(t)
	a, _ := m.MMap(MMapOpts{Length: 2 * pageSize, Perms: platform.ReadWrite, Private: true})
	// Block in-place growth.
	if _, err := m.MMap(MMapOpts{Addr: a + 2*pageSize, Length: pageSize, Fixed: true, Perms: platform.Read, Private: true}); err != nil {
		t.Fatal(err)
	}
	m.CopyOut(a+pageSize, []byte("moved"))
	if _, err := m.MRemap(a, 2*pageSize, 4*pageSize, 0, 0); !errors.Is(err, unix.ENOMEM) {
		t.Errorf("growth without MAYMOVE: %v", err)
	}
	b, err := m.MRemap(a, 2*pageSize, 4*pageSize, MremapMaymove, 0)
	if err != nil || b == a {
		t.Fatalf("MRemap = %#x, %v", b, err)
	}
	buf := make([]byte, 5)
	if _, err := m.CopyIn(b+pageSize, buf); err != nil || string(buf) != "moved" {
		t.Errorf("contents after move: %q, %v", buf, err)
	}
	m.SetBrk(0x100000)
	if got := m.Brk(0x100000 + 3*pageSize); got != 0x100000+3*pageSize {
		t.Errorf("brk grow = %#x", got)
	}
	if got := m.Brk(0x1000); got != 0x100000+3*pageSize {
		t.Errorf("brk below start = %#x, want unchanged", got)
	}
	if got := m.Brk(0x100000 + pageSize); got != 0x100000+pageSize {
		t.Errorf("brk shrink = %#x", got)
	}
}

func TestForkCopyOnWrite(t *testing.T) {
	m, as := newTestMM(t)
	a, _ := m.MMap(MMapOpts{Length: 4 * pageSize, Perms: platform.ReadWrite, Private: true})
	m.CopyOut(a, []byte("parent"))
	if as.pages[a] != platform.ReadWrite {
		t.Fatalf("page not mapped rw before fork")
	}
	cas := &fakeAS{pages: map[uintptr]platform.AccessType{}}
	c := m.Fork()
	c.SetAddressSpace(cas)
	if as.pages[a] != platform.Read {
		t.Errorf("fork left the parent's page writable: %v", as.pages[a])
	}
	used := m.mf.Usage()
	// The child reads the shared page, then writes its own copy.
	buf := make([]byte, 6)
	if _, err := c.CopyIn(a, buf); err != nil || string(buf) != "parent" {
		t.Fatalf("child read %q, %v", buf, err)
	}
	if m.mf.Usage() != used {
		t.Errorf("a read copied the page")
	}
	c.CopyOut(a, []byte("child!"))
	if m.mf.Usage() != used+pageSize {
		t.Errorf("a write did not copy exactly one page: %d -> %d", used, m.mf.Usage())
	}
	m.CopyIn(a, buf)
	if string(buf) != "parent" {
		t.Errorf("parent sees %q after the child's write", buf)
	}
	// The parent now holds the only reference: a write fault reuses the
	// page instead of copying.
	if err := m.HandleFault(a, platform.AccessType{Write: true}); err != nil {
		t.Fatal(err)
	}
	if m.mf.Usage() != used+pageSize {
		t.Errorf("last reference was copied, not reused")
	}
	if as.pages[a] != platform.ReadWrite {
		t.Errorf("parent page not writable again: %v", as.pages[a])
	}
	c.DecUsers()
	m.DecUsers()
	if m.mf.Usage() != 0 {
		t.Errorf("leaked %d bytes", m.mf.Usage())
	}
}
