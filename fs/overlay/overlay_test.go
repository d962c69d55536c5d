package overlay_test

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/overlay"
	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

var rootCtx = vfs.CredsContext(auth.NewRootCredentials())

// tree is a filesystem mounted as the root of its own VFS, driven through
// the VFS path API.
type tree struct {
	t    *testing.T
	v    *vfs.VirtualFilesystem
	fs   *vfs.Filesystem
	root vfs.VirtualDentry
	fsc  *vfs.FSContext
}

func mount(t *testing.T, v *vfs.VirtualFilesystem, fs *vfs.Filesystem) *tree {
	t.Helper()
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	return &tree{t: t, v: v, fs: fs, root: root, fsc: vfs.NewFSContext(root, root)}
}

func newTmpfs(t *testing.T) *tree {
	t.Helper()
	v := vfs.New()
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	return mount(t, v, fs)
}

// env is an overlay of two tmpfs trees, mounted as the root of a third
// VFS. Populate lower (and upper) before calling wrap.
type env struct {
	lower, upper, ov *tree
	ofs              *overlay.Filesystem
}

func newEnv(t *testing.T) *env {
	return &env{lower: newTmpfs(t), upper: newTmpfs(t)}
}

func (e *env) wrap() *tree {
	t := e.lower.t
	t.Helper()
	ofs, err := overlay.New(e.lower.fs.Root().Inode(), e.upper.fs.Root().Inode())
	if err != nil {
		t.Fatal(err)
	}
	e.ofs = ofs
	v := vfs.New()
	fs, err := v.NewFilesystem(ofs, ofs.Root())
	if err != nil {
		t.Fatal(err)
	}
	e.ov = mount(t, v, fs)
	return e.ov
}

func (tr *tree) mkdir(p string) {
	tr.t.Helper()
	if err := tr.v.MkdirAt(rootCtx, tr.fsc, nil, p, 0o755); err != nil {
		tr.t.Fatalf("mkdir %s: %v", p, err)
	}
}

func (tr *tree) file(p, data string, mode uint32) {
	tr.t.Helper()
	fd, err := tr.v.Open(rootCtx, tr.fsc, nil, p, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, mode)
	if err != nil {
		tr.t.Fatalf("create %s: %v", p, err)
	}
	defer fd.DecRef()
	if _, err := fd.Write(rootCtx, []byte(data)); err != nil {
		tr.t.Fatalf("write %s: %v", p, err)
	}
}

func (tr *tree) read(p string) string {
	tr.t.Helper()
	fd, err := tr.v.Open(rootCtx, tr.fsc, nil, p, unix.O_RDONLY, 0)
	if err != nil {
		tr.t.Fatalf("open %s: %v", p, err)
	}
	defer fd.DecRef()
	return readAll(tr.t, fd)
}

func readAll(t *testing.T, fd *vfs.FileDescription) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 7) // odd size: exercise several reads
	for off := int64(0); ; {
		n, err := fd.PReadCtx(rootCtx, buf, off)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
}

func (tr *tree) stat(p string) (vfs.Stat, error) {
	return tr.v.StatAt(rootCtx, tr.fsc, nil, p, false)
}

func (tr *tree) mustStat(p string) vfs.Stat {
	tr.t.Helper()
	st, err := tr.stat(p)
	if err != nil {
		tr.t.Fatalf("stat %s: %v", p, err)
	}
	return st
}

func (tr *tree) wantErr(p string, want unix.Errno) {
	tr.t.Helper()
	if _, err := tr.stat(p); err != want {
		tr.t.Fatalf("stat %s: got %v, want %v", p, err, want)
	}
}

// list returns a directory's entries other than "." and "..", in order,
// reading at most batch entries per IterDirents call (0: no limit).
func (tr *tree) list(p string, batch int) []vfs.Dirent {
	tr.t.Helper()
	fd, err := tr.v.Open(rootCtx, tr.fsc, nil, p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		tr.t.Fatalf("open %s: %v", p, err)
	}
	defer fd.DecRef()
	var out []vfs.Dirent
	for {
		got := 0
		if err := fd.IterDirents(rootCtx, func(d vfs.Dirent) bool {
			if batch > 0 && got == batch {
				return false
			}
			got++
			if d.Name != "." && d.Name != ".." {
				out = append(out, d)
			}
			return true
		}); err != nil {
			tr.t.Fatalf("getdents %s: %v", p, err)
		}
		if got == 0 {
			return out
		}
	}
}

func names(ds []vfs.Dirent) []string {
	var n []string
	for _, d := range ds {
		n = append(n, d.Name)
	}
	slices.Sort(n)
	return n
}

func (tr *tree) names(p string) []string {
	tr.t.Helper()
	return names(tr.list(p, 0))
}

func TestLookupPrecedence(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/a", "lower a", 0o644)
	e.lower.file("/only-lower", "L", 0o644)
	e.lower.mkdir("/d")
	e.lower.file("/d/x", "lower x", 0o644)
	e.lower.mkdir("/notdir")
	e.upper.file("/a", "upper a", 0o600)
	e.upper.file("/only-upper", "U", 0o644)
	e.upper.mkdir("/d")
	e.upper.file("/d/y", "upper y", 0o644)
	// An upper file hides a lower directory of the same name.
	e.upper.file("/notdir", "file", 0o644)
	ov := e.wrap()

	if got := ov.read("/a"); got != "upper a" {
		t.Errorf("/a = %q, want the upper file", got)
	}
	if st := ov.mustStat("/a"); st.Mode&0o777 != 0o600 {
		t.Errorf("/a mode %o, want the upper's 600", st.Mode&0o777)
	}
	if got := ov.read("/only-lower"); got != "L" {
		t.Errorf("/only-lower = %q", got)
	}
	if got := ov.read("/only-upper"); got != "U" {
		t.Errorf("/only-upper = %q", got)
	}
	// /d is merged.
	if got := ov.read("/d/x"); got != "lower x" {
		t.Errorf("/d/x = %q", got)
	}
	if got := ov.read("/d/y"); got != "upper y" {
		t.Errorf("/d/y = %q", got)
	}
	if st := ov.mustStat("/d"); st.Nlink != 1 {
		t.Errorf("merged dir nlink %d, want 1 (ovl_getattr)", st.Nlink)
	}
	if st := ov.mustStat("/notdir"); st.Type() != unix.S_IFREG {
		t.Errorf("/notdir type %o, want the upper regular file", st.Type())
	}
	ov.wantErr("/missing", unix.ENOENT)
	ov.wantErr("/a/x", unix.ENOTDIR)
}

func TestUnlinkLowerLeavesWhiteout(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/f", "data", 0o644)
	e.lower.file("/g", "keep", 0o644)
	ov := e.wrap()

	old := vfs.Timespec{Sec: 1000}
	if err := ov.v.SetStatAt(rootCtx, ov.fsc, nil, "/", false, vfs.SetStat{Mask: unix.STATX_MTIME, Mtime: old}); err != nil {
		t.Fatal(err)
	}
	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	ov.wantErr("/f", unix.ENOENT)
	if got := ov.names("/"); !slices.Equal(got, []string{"g"}) {
		t.Errorf("readdir / = %v, want [g]", got)
	}
	if st := ov.mustStat("/"); st.Mtime == old {
		t.Errorf("unlink did not update the directory's mtime")
	}
	// The whiteout is not a file in the upper layer, and the lower file
	// is untouched.
	if got := e.upper.names("/"); len(got) != 0 {
		t.Errorf("upper / = %v, want empty", got)
	}
	if got := e.lower.read("/f"); got != "data" {
		t.Errorf("lower /f = %q", got)
	}
	// A fresh lookup (new dentry) still sees the whiteout.
	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/f"); err != unix.ENOENT {
		t.Errorf("second unlink: %v, want ENOENT", err)
	}
	// Creating the name again replaces the whiteout.
	ov.file("/f", "new", 0o644)
	if got := ov.read("/f"); got != "new" {
		t.Errorf("/f = %q, want new", got)
	}
	if got := ov.names("/"); !slices.Equal(got, []string{"f", "g"}) {
		t.Errorf("readdir / = %v, want [f g]", got)
	}
	// And removing it again needs a whiteout again.
	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	ov.wantErr("/f", unix.ENOENT)
	if got := ov.names("/"); !slices.Equal(got, []string{"g"}) {
		t.Errorf("readdir / = %v, want [g]", got)
	}
}

func TestCopyUpOnWrite(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/a")
	e.lower.mkdir("/a/b")
	e.lower.file("/a/b/f", "hello", 0o640)
	if err := e.lower.v.SetStatAt(rootCtx, e.lower.fsc, nil, "/a/b/f", false, vfs.SetStat{
		Mask: unix.STATX_UID | unix.STATX_GID | unix.STATX_MTIME | unix.STATX_ATIME,
		UID:  1000, GID: 1001,
		Mtime: vfs.Timespec{Sec: 1000000, Nsec: 5}, Atime: vfs.Timespec{Sec: 2000000},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.lower.v.SetStatAt(rootCtx, e.lower.fsc, nil, "/a", false, vfs.SetStat{
		Mask: unix.STATX_MODE | unix.STATX_MTIME, Mode: 0o711, Mtime: vfs.Timespec{Sec: 3000000},
	}); err != nil {
		t.Fatal(err)
	}
	lowerSt := e.lower.mustStat("/a/b/f")
	ov := e.wrap()

	// Reading does not copy up.
	if got := ov.read("/a/b/f"); got != "hello" {
		t.Fatalf("read = %q", got)
	}
	if got := e.upper.names("/"); len(got) != 0 {
		t.Fatalf("read copied up: upper / = %v", got)
	}

	// chmod copies up with data, owner and times.
	if err := ov.v.SetStatAt(rootCtx, ov.fsc, nil, "/a/b/f", false, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o604}); err != nil {
		t.Fatal(err)
	}
	// (Reading through the overlay updated the lower atime.)
	lowerSt = e.lower.mustStat("/a/b/f")
	st := e.upper.mustStat("/a/b/f")
	if st.Mode != unix.S_IFREG|0o604 || st.UID != 1000 || st.GID != 1001 || st.Mtime != lowerSt.Mtime || st.Atime != lowerSt.Atime {
		t.Errorf("upper copy: mode %o uid %d gid %d mtime %v atime %v; lower mtime %v atime %v",
			st.Mode, st.UID, st.GID, st.Mtime, st.Atime, lowerSt.Mtime, lowerSt.Atime)
	}
	if got := e.upper.read("/a/b/f"); got != "hello" {
		t.Errorf("upper content %q", got)
	}
	// The parent chain was copied up with its attributes.
	if st := e.upper.mustStat("/a"); st.Mode&0o7777 != 0o711 || st.Mtime.Sec != 3000000 {
		t.Errorf("upper /a mode %o mtime %v", st.Mode&0o7777, st.Mtime)
	}

	// Open for writing sees and extends the copy.
	fd, err := ov.v.Open(rootCtx, ov.fsc, nil, "/a/b/f", unix.O_WRONLY|unix.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(rootCtx, []byte(" world")); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if got := ov.read("/a/b/f"); got != "hello world" {
		t.Errorf("after write: %q", got)
	}
	if st := ov.mustStat("/a/b/f"); st.Mode&0o777 != 0o604 || st.Size != 11 {
		t.Errorf("overlay stat mode %o size %d", st.Mode&0o777, st.Size)
	}
	// The lower layer is unchanged.
	if got := e.lower.read("/a/b/f"); got != "hello" {
		t.Errorf("lower content %q", got)
	}
	if st := e.lower.mustStat("/a/b/f"); st.Mode&0o777 != 0o640 {
		t.Errorf("lower mode %o", st.Mode&0o777)
	}
}

func TestCopyUpOnOpenWrite(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/f", "0123456789", 0o644)
	e.lower.file("/t", "truncate me", 0o644)
	ov := e.wrap()

	fd, err := ov.v.Open(rootCtx, ov.fsc, nil, "/f", unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.PWrite(rootCtx, []byte("AB"), 3); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if got := ov.read("/f"); got != "012AB56789" {
		t.Errorf("/f = %q", got)
	}
	if got := e.lower.read("/f"); got != "0123456789" {
		t.Errorf("lower /f = %q", got)
	}

	fd, err = ov.v.Open(rootCtx, ov.fsc, nil, "/t", unix.O_WRONLY|unix.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if st := ov.mustStat("/t"); st.Size != 0 {
		t.Errorf("O_TRUNC: size %d", st.Size)
	}
	if got := e.lower.read("/t"); got != "truncate me" {
		t.Errorf("lower /t = %q", got)
	}

	// truncate(2) to a shorter length copies only what survives.
	e2 := newEnv(t)
	e2.lower.file("/f", "0123456789", 0o644)
	ov2 := e2.wrap()
	if err := ov2.v.TruncateAt(rootCtx, ov2.fsc, "/f", 4); err != nil {
		t.Fatal(err)
	}
	if got := ov2.read("/f"); got != "0123" {
		t.Errorf("truncated = %q", got)
	}
}

func TestCopyUpLargeSparseFile(t *testing.T) {
	e := newEnv(t)
	// Three chunks and a bit, with a hole in the middle and at the end.
	size := 3*256<<10 + 123
	data := make([]byte, size)
	for i := range 1000 {
		data[i] = byte(i%250 + 1)
	}
	copy(data[600<<10:], "middle")
	e.lower.file("/big", string(data), 0o644)
	// Extend with a trailing hole.
	if err := e.lower.v.TruncateAt(rootCtx, e.lower.fsc, "/big", int64(size+5000)); err != nil {
		t.Fatal(err)
	}
	data = append(data, make([]byte, 5000)...)
	ov := e.wrap()
	if err := ov.v.SetStatAt(rootCtx, ov.fsc, nil, "/big", false, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if got := e.upper.read("/big"); !bytes.Equal([]byte(got), data) {
		t.Errorf("copied data differs (len %d, want %d)", len(got), len(data))
	}
}

func TestCopyUpSymlinkAndOpenReader(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/f", "old", 0o644)
	if err := e.lower.v.SymlinkAt(rootCtx, e.lower.fsc, nil, "/l", "f"); err != nil {
		t.Fatal(err)
	}
	ov := e.wrap()

	// lchown copies the link itself up.
	if err := ov.v.SetStatAt(rootCtx, ov.fsc, nil, "/l", false, vfs.SetStat{Mask: unix.STATX_UID, UID: 7}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.upper.v.ReadlinkAt(rootCtx, e.upper.fsc, nil, "/l"); err != nil || got != "f" {
		t.Errorf("upper link = %q, %v", got, err)
	}
	if got := ov.read("/l"); got != "old" {
		t.Errorf("through link: %q", got)
	}

	// A reader opened before the copy-up sees the new data after it
	// (ovl_real_fdget()).
	r, err := ov.v.Open(rootCtx, ov.fsc, nil, "/f", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.DecRef()
	if got := readAll(t, r); got != "old" {
		t.Fatalf("before: %q", got)
	}
	ov.file("/f", "new data", 0o644)
	if got := readAll(t, r); got != "new data" {
		t.Errorf("reader after copy-up: %q", got)
	}
	if n, err := r.Seek(rootCtx, 0, unix.SEEK_END); err != nil || n != 8 {
		t.Errorf("SEEK_END = %d, %v", n, err)
	}
	// mmap of a read-only lower file goes to the layer's file.
	e.lower.file("/m", "mapped", 0o644)
	m, err := ov.v.Open(rootCtx, ov.fsc, nil, "/m", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.DecRef()
	mf, err := m.MMapFile()
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer mf.DecRef()
	buf := make([]byte, 6)
	if n, err := mf.ReadAt(buf, 0); err != nil || string(buf[:n]) != "mapped" {
		t.Errorf("mapped read %q, %v", buf[:n], err)
	}
}

func TestMkdirOverWhiteoutIsOpaque(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/x", "x", 0o644)
	e.lower.mkdir("/d/sub")
	ov := e.wrap()

	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/d/x"); err != nil {
		t.Fatal(err)
	}
	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/d/sub"); err != nil {
		t.Fatal(err)
	}
	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/d"); err != nil {
		t.Fatal(err)
	}
	ov.wantErr("/d", unix.ENOENT)
	ov.mkdir("/d")
	if got := ov.names("/d"); len(got) != 0 {
		t.Errorf("new /d lists %v, want nothing from the lower /d", got)
	}
	ov.wantErr("/d/x", unix.ENOENT)
	ov.wantErr("/d/sub", unix.ENOENT)
	ov.file("/d/y", "y", 0o644)
	if got := ov.names("/d"); !slices.Equal(got, []string{"y"}) {
		t.Errorf("/d = %v", got)
	}
	if st := ov.mustStat("/d"); st.Nlink != 2 {
		t.Errorf("opaque dir nlink %d, want the upper's 2", st.Nlink)
	}
}

func TestRmdirMergedNotEmpty(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/x", "x", 0o644)
	e.lower.mkdir("/e")
	ov := e.wrap()

	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/d"); err != unix.ENOTEMPTY {
		t.Fatalf("rmdir non-empty lower dir: %v, want ENOTEMPTY", err)
	}
	// A file created in a lower-only dir also keeps it non-empty.
	ov.file("/e/new", "n", 0o644)
	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/e"); err != unix.ENOTEMPTY {
		t.Fatalf("rmdir merged dir with upper entry: %v, want ENOTEMPTY", err)
	}
	// Whiteouts do not count.
	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/d/x"); err != nil {
		t.Fatal(err)
	}
	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/d"); err != nil {
		t.Fatalf("rmdir emptied merged dir: %v", err)
	}
	ov.wantErr("/d", unix.ENOENT)
	if got := ov.names("/"); !slices.Equal(got, []string{"e"}) {
		t.Errorf("/ = %v", got)
	}
	if got := e.lower.names("/d"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("lower /d = %v", got)
	}
}

func TestRenameLowerFile(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/f", "content", 0o640)
	e.lower.file("/victim", "v", 0o644)
	ov := e.wrap()
	ino := ov.mustStat("/d/f").Ino

	ov.mkdir("/new")
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/d/f", nil, "/new/g", 0); err != nil {
		t.Fatal(err)
	}
	ov.wantErr("/d/f", unix.ENOENT)
	if got := ov.read("/new/g"); got != "content" {
		t.Errorf("/new/g = %q", got)
	}
	st := ov.mustStat("/new/g")
	if st.Ino != ino || st.Mode&0o777 != 0o640 {
		t.Errorf("renamed: ino %d (want %d) mode %o", st.Ino, ino, st.Mode&0o777)
	}
	if got := ov.names("/d"); len(got) != 0 {
		t.Errorf("/d = %v, want empty", got)
	}
	if got := e.lower.read("/d/f"); got != "content" {
		t.Errorf("lower /d/f = %q", got)
	}
	// d_ino in the upper-only directory matches st_ino.
	if ds := ov.list("/new", 0); len(ds) != 1 || ds[0].Ino != ino {
		t.Errorf("readdir /new = %+v, want ino %d", ds, ino)
	}

	// Rename over a lower file.
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/new/g", nil, "/victim", 0); err != nil {
		t.Fatal(err)
	}
	if got := ov.read("/victim"); got != "content" {
		t.Errorf("/victim = %q", got)
	}
	if got := ov.names("/"); !slices.Equal(got, []string{"d", "new", "victim"}) {
		t.Errorf("/ = %v", got)
	}
	// And back onto the whited-out name.
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/victim", nil, "/d/f", 0); err != nil {
		t.Fatal(err)
	}
	if got := ov.read("/d/f"); got != "content" {
		t.Errorf("/d/f = %q", got)
	}
	ov.wantErr("/victim", unix.ENOENT)
}

func TestRenameDirectories(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/x", "x", 0o644)
	e.lower.mkdir("/empty")
	ov := e.wrap()

	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/d", nil, "/d2", 0); err != unix.EXDEV {
		t.Errorf("rename lower dir: %v, want EXDEV", err)
	}
	// Still EXDEV once merged.
	ov.file("/d/y", "y", 0o644)
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/d", nil, "/d2", 0); err != unix.EXDEV {
		t.Errorf("rename merged dir: %v, want EXDEV", err)
	}

	// An upper-only directory moves freely...
	ov.mkdir("/u")
	ov.file("/u/z", "z", 0o644)
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/u", nil, "/u2", 0); err != nil {
		t.Fatal(err)
	}
	if got := ov.read("/u2/z"); got != "z" {
		t.Errorf("/u2/z = %q", got)
	}
	// ...and when it replaces a removed lower directory, it is opaque:
	// the lower /d's x must not show through.
	for _, p := range []string{"/d/x", "/d/y"} {
		if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := ov.v.RmdirAt(rootCtx, ov.fsc, nil, "/d"); err != nil {
		t.Fatal(err)
	}
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/u2", nil, "/d", 0); err != nil {
		t.Fatal(err)
	}
	if got := ov.names("/d"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("/d = %v, want [z]", got)
	}
	// Replacing an empty lower directory works too (and is opaque).
	ov.mkdir("/w")
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/w", nil, "/empty", 0); err != nil {
		t.Fatalf("rename over empty lower dir: %v", err)
	}
	if got := ov.names("/"); !slices.Equal(got, []string{"d", "empty"}) {
		t.Errorf("/ = %v", got)
	}
}

func TestReaddirMerge(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	for _, n := range []string{"a", "b", "c", "dup"} {
		e.lower.file("/d/"+n, n, 0o644)
	}
	e.lower.mkdir("/d/sub")
	e.upper.mkdir("/d")
	e.upper.file("/d/dup", "upper", 0o644)
	e.upper.file("/d/u", "u", 0o644)
	ov := e.wrap()

	// The pre-existing upper /d merges with the lower one: its d_ino is
	// its st_ino.
	for _, d := range ov.list("/", 0) {
		if st := ov.mustStat("/" + d.Name); d.Ino != st.Ino {
			t.Errorf("/%s: d_ino %#x, st_ino %#x", d.Name, d.Ino, st.Ino)
		}
	}
	want := []string{"a", "b", "c", "dup", "sub", "u"}
	if got := ov.names("/d"); !slices.Equal(got, want) {
		t.Errorf("/d = %v, want %v", got, want)
	}
	// One entry per getdents call gives the same listing.
	if got := names(ov.list("/d", 1)); !slices.Equal(got, want) {
		t.Errorf("/d one at a time = %v, want %v", got, want)
	}
	// Types come from the visible layer.
	for _, d := range ov.list("/d", 0) {
		wantType := uint8(vfs.DTReg)
		if d.Name == "sub" {
			wantType = vfs.DTDir
		}
		if d.Type != wantType {
			t.Errorf("%s: type %d, want %d", d.Name, d.Type, wantType)
		}
	}

	// Cookies stay valid across changes in the middle of an iteration:
	// every entry that exists throughout is listed exactly once.
	fd, err := ov.v.Open(rootCtx, ov.fsc, nil, "/d", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	seen := map[string]int{}
	step := 0
	for {
		got := 0
		if err := fd.IterDirents(rootCtx, func(d vfs.Dirent) bool {
			if got == 2 {
				return false
			}
			got++
			seen[d.Name]++
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if got == 0 {
			break
		}
		switch step {
		case 1:
			ov.file("/d/new1", "n", 0o644)
			if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/d/c"); err != nil {
				t.Fatal(err)
			}
		case 2:
			ov.file("/d/a", "rewritten", 0o644) // copy-up of a listed entry
		}
		step++
	}
	for _, n := range []string{"a", "b", "dup", "sub", "u"} {
		if seen[n] != 1 {
			t.Errorf("%s listed %d times during changes", n, seen[n])
		}
	}
	for n, c := range seen {
		if c > 1 {
			t.Errorf("%s listed %d times", n, c)
		}
	}
}

func TestInodeNumbersStable(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/f", "f", 0o644)
	lowerIno := e.lower.mustStat("/d/f").Ino
	lowerDirIno := e.lower.mustStat("/d").Ino
	ov := e.wrap()

	if got := ov.mustStat("/d/f").Ino; got != lowerIno {
		t.Errorf("st_ino %d, want the lower's %d", got, lowerIno)
	}
	ov.file("/d/f", "changed", 0o644) // copy-up of /d and /d/f
	if got := ov.mustStat("/d/f").Ino; got != lowerIno {
		t.Errorf("st_ino after copy-up %d, want %d", got, lowerIno)
	}
	if got := ov.mustStat("/d").Ino; got != lowerDirIno {
		t.Errorf("dir st_ino after copy-up %d, want %d", got, lowerDirIno)
	}
	if ds := ov.list("/d", 0); len(ds) != 1 || ds[0].Ino != lowerIno {
		t.Errorf("d_ino = %+v, want %d", ds, lowerIno)
	}
	// Upper-only objects get numbers that cannot collide with lower ones.
	ov.file("/d/g", "g", 0o644)
	g := ov.mustStat("/d/g")
	if g.Ino == lowerIno || g.Ino == lowerDirIno || g.Ino>>63 != 1 {
		t.Errorf("upper-only ino %#x", g.Ino)
	}
	for _, d := range ov.list("/d", 0) {
		if d.Name == "g" && d.Ino != g.Ino {
			t.Errorf("d_ino of g %#x, st_ino %#x", d.Ino, g.Ino)
		}
	}
	// st_dev is the overlay's, the same for both layers' objects.
	if a, b := ov.mustStat("/d/f").Dev, g.Dev; a != b || a != ov.fs.Dev() {
		t.Errorf("st_dev %d and %d, overlay %d", a, b, ov.fs.Dev())
	}
}

func TestHardLinkCopiesUp(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/f", "shared", 0o644)
	ov := e.wrap()
	ino := ov.mustStat("/f").Ino

	old, err := ov.v.ResolvePath(rootCtx, ov.fsc, nil, "/f", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := ov.v.LinkAt(rootCtx, ov.fsc, old, nil, "/h"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/f", "/h"} {
		st := ov.mustStat(p)
		if st.Nlink != 2 || st.Ino != ino {
			t.Errorf("%s: nlink %d ino %d, want 2 and %d", p, st.Nlink, st.Ino, ino)
		}
	}
	fd, err := ov.v.Open(rootCtx, ov.fsc, nil, "/h", unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(rootCtx, []byte("SH")); err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if got := ov.read("/f"); got != "SHared" {
		t.Errorf("/f = %q", got)
	}
	if err := ov.v.UnlinkAt(rootCtx, ov.fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	ov.wantErr("/f", unix.ENOENT)
	if st := ov.mustStat("/h"); st.Nlink != 1 || st.Ino != ino {
		t.Errorf("/h after unlink: nlink %d ino %d", st.Nlink, st.Ino)
	}
	if got := e.lower.read("/f"); got != "shared" {
		t.Errorf("lower /f = %q", got)
	}
}

func TestDirectInterface(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	e.lower.file("/d/f", "f", 0o644)
	ofs, err := overlay.New(e.lower.fs.Root().Inode(), e.upper.fs.Root().Inode())
	if err != nil {
		t.Fatal(err)
	}
	root := ofs.Root().(vfs.Lookuper)
	d1, err := root.Lookup("d")
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := root.Lookup("d")
	if d1 != d2 {
		t.Errorf("two lookups of /d gave different inodes")
	}
	f, err := d1.(vfs.Lookuper).Lookup("f")
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.(vfs.Unlinker).Unlink("f", f); err != nil {
		t.Fatal(err)
	}
	if _, err := d1.(vfs.Lookuper).Lookup("f"); err != unix.ENOENT {
		t.Errorf("lookup after unlink: %v", err)
	}
	if _, err := overlay.New(e.lower.fs.Root().Inode(), f); err != unix.ENOTDIR {
		t.Errorf("New with a file upper: %v, want ENOTDIR", err)
	}
	if sf, err := ofs.Statfs(); err != nil || sf.Type != overlay.Magic {
		t.Errorf("statfs %+v, %v", sf, err)
	}
}

func TestConcurrentCopyUp(t *testing.T) {
	e := newEnv(t)
	e.lower.mkdir("/d")
	for i := range 8 {
		e.lower.file(fmt.Sprintf("/d/f%d", i), fmt.Sprintf("data%d", i), 0o644)
	}
	ov := e.wrap()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				p := fmt.Sprintf("/d/f%d", (i+w)%8)
				fd, err := ov.v.Open(rootCtx, ov.fsc, nil, p, unix.O_RDWR, 0)
				if err != nil {
					t.Error(err)
					return
				}
				buf := make([]byte, 16)
				if _, err := fd.PReadCtx(rootCtx, buf, 0); err != nil {
					t.Error(err)
				}
				fd.DecRef()
				ov.list("/d", 3)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if got, want := ov.read(fmt.Sprintf("/d/f%d", i)), fmt.Sprintf("data%d", i); got != want {
			t.Errorf("f%d = %q", i, got)
		}
	}
	if got := e.upper.names("/d"); len(got) != 8 {
		t.Errorf("upper /d = %v", got)
	}
}

func TestRenameExchange(t *testing.T) {
	e := newEnv(t)
	e.lower.file("/a", "lower a", 0o644)
	e.lower.mkdir("/ld")
	ov := e.wrap()
	ov.file("/b", "upper b", 0o644)
	inoA := ov.mustStat("/a").Ino

	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/a", nil, "/b", vfs.RenameExchange); err != nil {
		t.Fatal(err)
	}
	if got := ov.read("/a"); got != "upper b" {
		t.Errorf("/a = %q", got)
	}
	if got := ov.read("/b"); got != "lower a" {
		t.Errorf("/b = %q", got)
	}
	if got := ov.mustStat("/b").Ino; got != inoA {
		t.Errorf("/b ino %d, want %d", got, inoA)
	}
	if got := ov.names("/"); !slices.Equal(got, []string{"a", "b", "ld"}) {
		t.Errorf("/ = %v", got)
	}
	if err := ov.v.RenameAt(rootCtx, ov.fsc, nil, "/a", nil, "/ld", vfs.RenameExchange); err != unix.EXDEV {
		t.Errorf("exchange with a lower dir: %v, want EXDEV", err)
	}
}
