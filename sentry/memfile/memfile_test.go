package memfile

import "testing"

func TestAllocateFreeReuse(t *testing.T) {
	f, err := New("test", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Allocate(3 * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Slice(a, 3*PageSize)
	s[0], s[PageSize], s[2*PageSize] = 1, 2, 3
	f.IncRef(a+PageSize, PageSize)
	f.DecRef(a, 3*PageSize)
	if got := f.Usage(); got != PageSize {
		t.Fatalf("usage after partial free = %d, want %d", got, PageSize)
	}
	if s[PageSize] != 2 {
		t.Fatalf("shared page lost its contents")
	}
	b, err := f.Allocate(PageSize)
	if err != nil {
		t.Fatal(err)
	}
	if b != a {
		t.Fatalf("freed range not reused: got %#x want %#x", b, a)
	}
	if f.Slice(b, PageSize)[0] != 0 {
		t.Fatalf("reused page not zeroed")
	}
	f.DecRef(b, PageSize)
	f.DecRef(a+PageSize, PageSize)
	if f.Usage() != 0 {
		t.Fatalf("usage = %d, want 0", f.Usage())
	}
	if len(f.free) != 1 {
		t.Fatalf("free ranges not coalesced: %v", f.free)
	}
}

func TestLimit(t *testing.T) {
	f, err := New("test", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	f.SetLimit(4 * PageSize)
	if _, err := f.Allocate(5 * PageSize); err == nil {
		t.Fatal("allocation over the limit succeeded")
	}
	if _, err := f.Allocate(4 * PageSize); err != nil {
		t.Fatal(err)
	}
}
