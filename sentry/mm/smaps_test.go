package mm

import (
	"testing"

	"pangolin/platform"
)

func TestSmapsAndCounters(t *testing.T) {
	m, _ := newTestMM(t)
	a, err := m.MMap(MMapOpts{Length: 4 * pageSize, Perms: platform.ReadWrite, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	// Touch two of the four pages.
	if _, err := m.CopyOut(a, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyOut(a+2*pageSize, []byte{1}); err != nil {
		t.Fatal(err)
	}
	var e *SmapEntry
	entries := m.Smaps()
	for i := range entries {
		if entries[i].Start == a {
			e = &entries[i]
		}
	}
	if e == nil {
		t.Fatalf("no smaps entry at %#x: %+v", a, entries)
	}
	if e.Rss == 0 || e.Rss > 4*pageSize || e.Rss%pageSize != 0 {
		t.Errorf("Rss %d, want whole pages, at most the mapping", e.Rss)
	}
	if e.Anonymous != e.Rss || e.PrivateDirty != e.Rss || e.Pss>>PssShift != e.Rss || e.PssDirty != e.Pss {
		t.Errorf("anonymous private pages: got %+v", e)
	}
	if got, want := e.VmFlags(), "rd wr mr mw me ac "; got != want {
		t.Errorf("VmFlags %q, want %q", got, want)
	}
	c := m.Counters()
	if c.Data < 4*pageSize || c.AnonRSS != e.Rss || c.FileRSS != 0 || c.ShmemRSS != 0 {
		t.Errorf("counters %+v after one private mapping with Rss %d", c, e.Rss)
	}
}

func TestVmFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    SmapEntry
		want string
	}{
		{"private rw", SmapEntry{MapEntry: MapEntry{Perms: platform.ReadWrite, Private: true}, MayRead: true, MayWrite: true, MayExec: true}, "rd wr mr mw me ac "},
		{"private rx", SmapEntry{MapEntry: MapEntry{Perms: platform.AccessType{Read: true, Execute: true}, Private: true}, MayRead: true, MayWrite: true, MayExec: true}, "rd ex mr mw me "},
		{"shared rw", SmapEntry{MapEntry: MapEntry{Perms: platform.ReadWrite}, MayRead: true, MayWrite: true, MayExec: true}, "rd wr sh mr mw me ms "},
		{"shared read-only file", SmapEntry{MapEntry: MapEntry{Perms: platform.AccessType{Read: true}}, MayRead: true, MayExec: true}, "rd mr me ms "},
		{"stack", SmapEntry{MapEntry: MapEntry{Perms: platform.ReadWrite, Private: true}, MayRead: true, MayWrite: true, MayExec: true, GrowsDown: true}, "rd wr mr mw me gd ac "},
		{"guard", SmapEntry{MapEntry: MapEntry{Private: true}, MayRead: true, MayWrite: true, MayExec: true}, "mr mw me "},
	} {
		if got := tc.e.VmFlags(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMapEntryString(t *testing.T) {
	for _, tc := range []struct {
		e    MapEntry
		want string
	}{
		{MapEntry{Start: 0x7f0000000000, End: 0x7f0000003000, Perms: platform.ReadWrite, Private: true},
			"7f0000000000-7f0000003000 rw-p 00000000 00:00 0 "},
		{MapEntry{Start: 0x55861710e000, End: 0x558617150000, Perms: platform.ReadWrite, Private: true, Name: "[heap]"},
			"55861710e000-558617150000 rw-p 00000000 00:00 0                          [heap]"},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
