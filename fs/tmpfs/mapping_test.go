package tmpfs_test

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// fakeSpace records invalidations.
type fakeSpace struct{ inval [][2]uint64 }

func (s *fakeSpace) Invalidate(_ memmap.Mappable, start, end uint64, _ bool) {
	s.inval = append(s.inval, [2]uint64{start, end})
}
func (s *fakeSpace) OwnerPID() int32 { return 1 }

func setupMF(t *testing.T, opts tmpfs.Options) (*vfs.VirtualFilesystem, *vfs.FSContext, vfs.Context, *memfile.File) {
	t.Helper()
	mf, err := memfile.New("tmpfs-test", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	opts.MemFile = mf
	v := vfs.New()
	fs, err := tmpfs.New(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	return v, vfs.NewFSContext(root, root), vfs.CredsContext(auth.NewRootCredentials()), mf
}

func TestMappingSharesPages(t *testing.T) {
	v, fsc, ctx, mf := setupMF(t, tmpfs.Options{})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.PWrite(ctx, []byte("hello"), 4096+10); err != nil {
		t.Fatal(err)
	}
	file, err := fd.MMapFile()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := file.(memmap.CoherentPrivate); !ok || !c.CoherentPrivate() {
		t.Errorf("tmpfs files must be coherent for private mappings")
	}
	mp := file.Mappable()
	tr := mp.(memmap.Tracker)
	sp := &fakeSpace{}
	if err := tr.AddMapping(sp, true); err != nil {
		t.Fatal(err)
	}
	// The second page holds the data; translating it returns the very
	// bytes write(2) stored.
	x, err := mp.Translate(4096, 4096, true)
	if err != nil || x.Length != 4096 || x.FD != mf.FD() {
		t.Fatalf("Translate = %+v, %v", x, err)
	}
	if !bytes.Equal(x.Internal[10:15], []byte("hello")) {
		t.Errorf("mapped page holds %q", x.Internal[10:15])
	}
	copy(x.Internal[0:3], "abc")
	buf := make([]byte, 3)
	if _, err := fd.PReadCtx(ctx, buf, 4096); err != nil || string(buf) != "abc" {
		t.Errorf("read after a store through the mapping: %q %v", buf, err)
	}
	// Past the end: SIGBUS.
	if _, err := mp.Translate(8192, 4096, false); !memmap.IsBusError(err) {
		t.Errorf("Translate past EOF = %v, want a bus error", err)
	}
	// A hole inside the file is allocated on fault, one page only.
	st, _ := fd.Stat()
	if st.Blocks != 8 {
		t.Errorf("blocks %d before faulting the hole, want 8", st.Blocks)
	}
	if _, err := mp.Translate(0, 8192, false); err != nil {
		t.Fatal(err)
	}
	st, _ = fd.Stat()
	if st.Blocks != 16 {
		t.Errorf("blocks %d after faulting the hole, want 16", st.Blocks)
	}
	// Shrinking invalidates the pages wholly past the new end.
	if err := fd.Truncate(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if len(sp.inval) != 1 || sp.inval[0][0] != 4096 {
		t.Errorf("invalidations %v, want one from 4096", sp.inval)
	}
	if _, err := mp.Translate(4096, 4096, false); !memmap.IsBusError(err) {
		t.Errorf("Translate of a truncated page = %v, want a bus error", err)
	}
	tr.RemoveMapping(sp, true)
	file.DecRef()
	fd.DecRef()
	if err := v.UnlinkAt(ctx, fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	if u := mf.Usage(); u != 0 {
		t.Errorf("memory file usage %d after unlink and close, want 0", u)
	}
}

func TestMappingKeepsUnlinkedData(t *testing.T) {
	v, fsc, ctx, mf := setupMF(t, tmpfs.Options{})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(ctx, make([]byte, 3*4096)); err != nil {
		t.Fatal(err)
	}
	file, _ := fd.MMapFile()
	fd.DecRef()
	if err := v.UnlinkAt(ctx, fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	if u := mf.Usage(); u != 3*4096 {
		t.Errorf("usage %d while mapped, want 3 pages", u)
	}
	file.DecRef()
	if u := mf.Usage(); u != 0 {
		t.Errorf("usage %d after the last mapping, want 0", u)
	}
}

func TestFaultPastSizeLimit(t *testing.T) {
	v, fsc, ctx, _ := setupMF(t, tmpfs.Options{MaxSize: 4096})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	if err := fd.Truncate(ctx, 1<<20); err != nil {
		t.Fatal(err)
	}
	file, _ := fd.MMapFile()
	defer file.DecRef()
	if _, err := file.Mappable().Translate(0, 4096, true); err != nil {
		t.Fatalf("first page: %v", err)
	}
	_, err = file.Mappable().Translate(4096, 4096, true)
	if !memmap.IsBusError(err) {
		t.Errorf("fault beyond size= gives %v, want a bus error (SIGBUS)", err)
	}
}

func TestSeals(t *testing.T) {
	ctx := vfs.CredsContext(auth.NewRootCredentials())
	v := vfs.New()
	fsys, err := tmpfs.New(v, tmpfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := tmpfs.FromVFS(fsys)
	fd := fs.NewMemfd(tmpfs.MemfdOptions{Name: "x", Mode: 0o777})
	defer fd.DecRef()
	type sealer interface {
		Seals() uint32
		AddSeals(uint32) error
	}
	s := fd.Impl().(sealer)
	if _, err := fd.Write(ctx, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSeals(tmpfs.SealShrink | tmpfs.SealGrow); err != nil {
		t.Fatal(err)
	}
	if err := fd.Truncate(ctx, 2); !errors.Is(err, unix.EPERM) {
		t.Errorf("shrink with F_SEAL_SHRINK = %v", err)
	}
	if err := fd.Truncate(ctx, 8); !errors.Is(err, unix.EPERM) {
		t.Errorf("grow with F_SEAL_GROW = %v", err)
	}
	if _, err := fd.PWrite(ctx, []byte("ab"), 3); !errors.Is(err, unix.EPERM) {
		t.Errorf("growing write with F_SEAL_GROW = %v", err)
	}
	if n, err := fd.PWrite(ctx, []byte("DA"), 0); n != 2 || err != nil {
		t.Errorf("write inside the file with F_SEAL_GROW = %d, %v", n, err)
	}
	file, _ := fd.MMapFile()
	tr := file.Mappable().(memmap.Tracker)
	sp := &fakeSpace{}
	if err := tr.AddMapping(sp, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSeals(tmpfs.SealWrite); !errors.Is(err, unix.EBUSY) {
		t.Errorf("F_SEAL_WRITE with a writable mapping = %v, want EBUSY", err)
	}
	tr.RemoveMapping(sp, true)
	if err := s.AddSeals(tmpfs.SealWrite | tmpfs.SealSeal); err != nil {
		t.Fatal(err)
	}
	if err := tr.AddMapping(sp, true); !errors.Is(err, unix.EPERM) {
		t.Errorf("writable mapping of a write-sealed file = %v, want EPERM", err)
	}
	if ws, ok := file.(memmap.WriteSealer); !ok || !ws.WriteSealed() {
		t.Errorf("WriteSealed false after F_SEAL_WRITE")
	}
	file.DecRef()
	if _, err := fd.PWrite(ctx, []byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("write with F_SEAL_WRITE = %v", err)
	}
	if err := s.AddSeals(tmpfs.SealExec); !errors.Is(err, unix.EPERM) {
		t.Errorf("adding after F_SEAL_SEAL = %v", err)
	}
	if got := s.Seals(); got != tmpfs.SealSeal|tmpfs.SealShrink|tmpfs.SealGrow|tmpfs.SealWrite {
		t.Errorf("seals %#x", got)
	}
	if err := s.AddSeals(0x1000); !errors.Is(err, unix.EINVAL) {
		t.Errorf("unknown seal = %v", err)
	}
	if fd.PathName(vfs.VirtualDentry{}) != "/memfd:x (deleted)" {
		t.Errorf("name %q", fd.PathName(vfs.VirtualDentry{}))
	}
}

func TestPunchHole(t *testing.T) {
	v, fsc, ctx, mf := setupMF(t, tmpfs.Options{})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	data := bytes.Repeat([]byte("x"), 3*4096)
	if _, err := fd.PWrite(ctx, data, 0); err != nil {
		t.Fatal(err)
	}
	file, _ := fd.MMapFile()
	defer file.DecRef()
	sp := &fakeSpace{}
	file.Mappable().(memmap.Tracker).AddMapping(sp, false)
	// From the middle of page 0 to the middle of page 2: page 1 goes,
	// the edges are zeroed.
	if err := fd.Allocate(unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 2048, 2*4096); err != nil {
		t.Fatal(err)
	}
	if len(sp.inval) != 1 || sp.inval[0] != [2]uint64{4096, 8192} {
		t.Errorf("invalidations %v, want [4096 8192]", sp.inval)
	}
	if u := mf.Usage(); u != 2*4096 {
		t.Errorf("usage %d, want 2 pages", u)
	}
	got := make([]byte, 3*4096)
	fd.PReadCtx(ctx, got, 0)
	want := append(append(bytes.Repeat([]byte("x"), 2048), make([]byte, 2*4096)...), bytes.Repeat([]byte("x"), 2048)...)
	if !bytes.Equal(got, want) {
		t.Errorf("contents after the punch differ")
	}
	st, _ := fd.Stat()
	if st.Size != 3*4096 || st.Blocks != 16 {
		t.Errorf("size %d blocks %d", st.Size, st.Blocks)
	}
	file.Mappable().(memmap.Tracker).RemoveMapping(sp, false)
}
