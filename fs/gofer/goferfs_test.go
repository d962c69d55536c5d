package goferfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/gofer/client"
	"pangolin/gofer/server"
	"pangolin/sentry/auth"
)

// newTestFS serves a fresh temporary directory with an in-process gofer
// server and returns a filesystem on it and the directory's host path.
func newTestFS(t *testing.T, sopts server.Options, opts Options) (*Filesystem, string) {
	t.Helper()
	dir := t.TempDir()
	rootFD, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(rootFD, sopts)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(fds[0]) }()
	c, err := client.New(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	fs, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return fs, dir
}

var rootCtx = vfs.CredsContext(auth.NewRootCredentials())

func root(fs *Filesystem) *inode { return fs.Root().(*inode) }

func mustLookup(t *testing.T, dir vfs.Inode, name string) *inode {
	t.Helper()
	in, err := dir.(vfs.Lookuper).Lookup(name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	return in.(*inode)
}

func mustStat(t *testing.T, in vfs.Inode) vfs.Stat {
	t.Helper()
	st, err := in.Stat()
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	return st
}

func mustOpen(t *testing.T, in vfs.Inode, flags uint32) vfs.FileImpl {
	t.Helper()
	f, _, err := in.Open(rootCtx, flags)
	if err != nil {
		t.Fatalf("Open(%#x): %v", flags, err)
	}
	return f
}

func writeHost(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readHost(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listAll lists dir from offset 2, resuming after every entry, as
// getdents(2) with a tiny buffer would.
func listAll(t *testing.T, dir vfs.Inode) []vfs.Dirent {
	t.Helper()
	it := dir.(vfs.DirIterator)
	var out []vfs.Dirent
	off := int64(2)
	for {
		var got []vfs.Dirent
		err := it.IterDirents(off, func(d vfs.Dirent) bool {
			got = append(got, d)
			return false // take one entry per call
		})
		if err != nil {
			t.Fatalf("IterDirents(%d): %v", off, err)
		}
		if len(got) == 0 {
			return out
		}
		if got[0].NextOff <= off {
			t.Fatalf("NextOff %d does not advance past %d", got[0].NextOff, off)
		}
		out = append(out, got[0])
		off = got[0].NextOff
	}
}

func names(ds []vfs.Dirent) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}

func TestLookupStat(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "hello")
	f := mustLookup(t, fs.Root(), "f")
	st := mustStat(t, f)
	if st.Type() != unix.S_IFREG || st.Mode&0o777 != 0o644 || st.Size != 5 || st.Nlink != 1 {
		t.Errorf("stat = %+v", st)
	}
	if rst := mustStat(t, fs.Root()); !rst.IsDir() || rst.Ino == st.Ino {
		t.Errorf("root stat = %+v", rst)
	}
	if _, err := root(fs).Lookup("missing"); err != unix.ENOENT {
		t.Errorf("Lookup(missing) = %v, want bare ENOENT", err)
	}
	if _, err := f.Lookup("x"); err != unix.ENOTDIR {
		t.Errorf("Lookup in a file = %v, want ENOTDIR", err)
	}
	// Two lookups of one host file report one inode number.
	if st2 := mustStat(t, mustLookup(t, fs.Root(), "f")); st2.Ino != st.Ino {
		t.Errorf("ino %d then %d", st.Ino, st2.Ino)
	}
}

func TestCreateWriteRead(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	in, err := root(fs).Mknod("f", vfs.CreateOptions{Mode: unix.S_IFREG | 0o640, UID: 123, GID: 456})
	if err != nil {
		t.Fatal(err)
	}
	f := in.(*inode)
	spare := f.spareFD
	if spare < 0 {
		t.Fatal("Create's FD was not kept")
	}
	fi := mustOpen(t, f, unix.O_RDWR).(*regularFile)
	if fi.h.fd != spare {
		t.Errorf("open after create used fd %d, not the created fd %d", fi.h.fd, spare)
	}
	if n, end, err := fi.Write(rootCtx, nil, []byte("hello world"), 0, false); n != 11 || end != 11 || err != nil {
		t.Fatalf("Write = %d, %d, %v", n, end, err)
	}
	if n, end, err := fi.Write(rootCtx, nil, []byte("!"), 0, true); n != 1 || end != 12 || err != nil {
		t.Fatalf("append Write = %d, %d, %v", n, end, err)
	}
	buf := make([]byte, 64)
	n, err := fi.Read(rootCtx, nil, buf, 6)
	if err != nil || string(buf[:n]) != "world!" {
		t.Errorf("Read = %q, %v", buf[:n], err)
	}
	if n, err := fi.Read(rootCtx, nil, buf, 100); n != 0 || err != nil {
		t.Errorf("Read past EOF = %d, %v", n, err)
	}
	if got := readHost(t, filepath.Join(dir, "f")); got != "hello world!" {
		t.Errorf("host content %q", got)
	}
	var hst unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "f"), &hst); err != nil {
		t.Fatal(err)
	}
	if hst.Uid != 123 || hst.Gid != 456 || hst.Mode != unix.S_IFREG|0o640 {
		t.Errorf("host owner %d:%d mode %#o", hst.Uid, hst.Gid, hst.Mode)
	}
	// Stat of a file with an open FD is fresh.
	if st := mustStat(t, f); st.Size != 12 {
		t.Errorf("size %d, want 12", st.Size)
	}
	// Another open shares the host FD; the read-only one too.
	fi2 := mustOpen(t, f, unix.O_RDONLY).(*regularFile)
	if fi2.h != fi.h {
		t.Error("read-only open did not share the read-write FD")
	}
	if err := fi.Sync(rootCtx); err != nil {
		t.Errorf("Sync: %v", err)
	}
	fi.Release()
	if n, err := fi2.Read(rootCtx, nil, buf, 0); err != nil || string(buf[:n]) != "hello world!" {
		t.Errorf("Read after the other file's release = %q, %v", buf[:n], err)
	}
	fi2.Release()
	if f.handles != [3]*handle{} {
		t.Error("handles still open after every file was released")
	}
	// Creating an existing name fails as O_EXCL does.
	if _, err := root(fs).Mknod("f", vfs.CreateOptions{Mode: unix.S_IFREG | 0o644}); err != unix.EEXIST {
		t.Errorf("Mknod existing = %v, want EEXIST", err)
	}
	// A FIFO is a node only; opening it is the VFS's business.
	fifo, err := root(fs).Mknod("p", vfs.CreateOptions{Mode: unix.S_IFIFO | 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, fifo); st.Type() != unix.S_IFIFO {
		t.Errorf("fifo mode %#o", st.Mode)
	}
	if _, err := root(fs).Mknod("c", vfs.CreateOptions{Mode: unix.S_IFCHR | 0o600, Rdev: unix.Mkdev(1, 3)}); err != unix.EPERM {
		t.Errorf("Mknod chr = %v, want EPERM", err)
	}
}

func TestSpareFDsBounded(t *testing.T) {
	fs, _ := newTestFS(t, server.Options{}, Options{})
	var made []*inode
	for i := range maxSpares + 4 {
		in, err := root(fs).Mknod("f"+string(rune('a'+i)), vfs.CreateOptions{Mode: unix.S_IFREG | 0o644})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, in.(*inode))
	}
	open := 0
	for _, in := range made {
		if in.spareFD >= 0 {
			open++
		}
	}
	if open != maxSpares {
		t.Errorf("%d spare FDs open, want %d", open, maxSpares)
	}
	// A file whose spare was dropped opens through the gofer.
	fi := mustOpen(t, made[0], unix.O_WRONLY).(*regularFile)
	if _, _, err := fi.Write(rootCtx, nil, []byte("x"), 0, false); err != nil {
		t.Error(err)
	}
	fi.Release()
}

func TestMkdirReaddir(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	before := mustStat(t, fs.Root())
	d, err := root(fs).Mkdir("d", vfs.CreateOptions{Mode: unix.S_IFDIR | 0o755})
	if err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, d); !st.IsDir() || st.Mode&0o7777 != 0o755 {
		t.Errorf("dir stat %+v", st)
	}
	if after := mustStat(t, fs.Root()); after.Nlink != before.Nlink+1 {
		t.Errorf("parent nlink %d -> %d", before.Nlink, after.Nlink)
	}
	want := []string{"a", "b", "c", "sub"}
	for _, n := range want[:3] {
		if _, err := d.(vfs.Mknoder).Mknod(n, vfs.CreateOptions{Mode: unix.S_IFREG | 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.(vfs.Mkdirer).Mkdir("sub", vfs.CreateOptions{Mode: unix.S_IFDIR | 0o700}); err != nil {
		t.Fatal(err)
	}
	ents := listAll(t, d)
	if got := names(ents); !slices.Equal(got, want) {
		t.Fatalf("listing %v, want %v", got, want)
	}
	// Host order, and one call lists the same thing.
	hostEnts, err := os.ReadDir(filepath.Join(dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hostEnts) != len(ents) {
		t.Errorf("host has %d entries, we list %d", len(hostEnts), len(ents))
	}
	var oneCall []vfs.Dirent
	if err := d.(vfs.DirIterator).IterDirents(2, func(de vfs.Dirent) bool {
		oneCall = append(oneCall, de)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(oneCall, ents) {
		t.Errorf("one call %v, entry by entry %v", oneCall, ents)
	}
	for _, de := range ents {
		st := mustStat(t, mustLookup(t, d, de.Name))
		if de.Ino != st.Ino || uint32(de.Type) != st.Type()>>12 {
			t.Errorf("%s: dirent ino %d type %d, stat ino %d mode %#o", de.Name, de.Ino, de.Type, st.Ino, st.Mode)
		}
	}
	// Resuming past the end lists nothing.
	if err := d.(vfs.DirIterator).IterDirents(100, func(vfs.Dirent) bool {
		t.Error("entry past the end")
		return true
	}); err != nil {
		t.Error(err)
	}
	// Rewinding (offset 2) sees entries created on the host since.
	writeHost(t, filepath.Join(dir, "d", "hostfile"), "")
	if got := names(listAll(t, d)); !slices.Contains(got, "hostfile") {
		t.Errorf("rewound listing %v misses hostfile", got)
	}
}

func TestSymlink(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	l, err := root(fs).Symlink("l", "../some/target", vfs.CreateOptions{Mode: unix.S_IFLNK | 0o777, UID: 7, GID: 8})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.(vfs.Readlinker).Readlink(); got != "../some/target" || err != nil {
		t.Errorf("Readlink = %q, %v", got, err)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "l")); got != "../some/target" {
		t.Errorf("host link %q", got)
	}
	// A fresh lookup reads it from the gofer.
	l2 := mustLookup(t, fs.Root(), "l")
	if got, err := l2.Readlink(); got != "../some/target" || err != nil {
		t.Errorf("Readlink after lookup = %q, %v", got, err)
	}
	if st := mustStat(t, l2); st.Type() != unix.S_IFLNK || st.UID != 7 || st.GID != 8 {
		t.Errorf("symlink stat %+v", st)
	}
	if _, _, err := l2.Open(rootCtx, unix.O_RDONLY); err != unix.ELOOP {
		t.Errorf("Open symlink = %v, want ELOOP", err)
	}
	if _, err := root(fs).Readlink(); err != unix.EINVAL {
		t.Errorf("Readlink dir = %v, want EINVAL", err)
	}
}

func TestLinkUnlinkRmdir(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "data")
	f := mustLookup(t, fs.Root(), "f")
	if err := root(fs).Link("g", f); err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, f); st.Nlink != 2 {
		t.Errorf("nlink after link %d", st.Nlink)
	}
	if got := readHost(t, filepath.Join(dir, "g")); got != "data" {
		t.Errorf("host link content %q", got)
	}
	if err := root(fs).Unlink("f", f); err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, f); st.Nlink != 1 {
		t.Errorf("nlink after unlink %d", st.Nlink)
	}
	if _, err := root(fs).Lookup("f"); err != unix.ENOENT {
		t.Errorf("Lookup unlinked = %v", err)
	}
	if err := root(fs).Unlink("f", f); err != unix.ENOENT {
		t.Errorf("Unlink twice = %v, want ENOENT", err)
	}

	// An open file keeps working after its last name goes.
	g := mustLookup(t, fs.Root(), "g")
	fi := mustOpen(t, g, unix.O_RDWR)
	if err := root(fs).Unlink("g", g); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := fi.Read(rootCtx, nil, buf, 0); string(buf[:n]) != "data" || err != nil {
		t.Errorf("Read unlinked = %q, %v", buf[:n], err)
	}
	if st := mustStat(t, g); st.Nlink != 0 {
		t.Errorf("nlink of an unlinked open file %d", st.Nlink)
	}
	fi.Release()

	d, err := root(fs).Mkdir("d", vfs.CreateOptions{Mode: unix.S_IFDIR | 0o755})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.(vfs.Mknoder).Mknod("x", vfs.CreateOptions{Mode: unix.S_IFREG | 0o644}); err != nil {
		t.Fatal(err)
	}
	if err := root(fs).Rmdir("d", d); err != unix.ENOTEMPTY {
		t.Errorf("Rmdir non-empty = %v, want ENOTEMPTY", err)
	}
	if err := d.(vfs.Unlinker).Unlink("x", nil); err != nil {
		t.Fatal(err)
	}
	rootLinks := mustStat(t, fs.Root()).Nlink
	if err := root(fs).Rmdir("d", d); err != nil {
		t.Fatal(err)
	}
	if n := mustStat(t, fs.Root()).Nlink; n != rootLinks-1 {
		t.Errorf("root nlink %d -> %d", rootLinks, n)
	}
	if n := mustStat(t, d).Nlink; n != 0 {
		t.Errorf("removed dir nlink %d", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "d")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host dir still there: %v", err)
	}
}

func TestRename(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "a"), "A")
	writeHost(t, filepath.Join(dir, "b"), "B")
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := root(fs)
	a, b, d := mustLookup(t, r, "a"), mustLookup(t, r, "b"), mustLookup(t, r, "d")
	aIno := mustStat(t, a).Ino

	// Within a directory.
	if err := r.Rename("a", a, r, "a2", nil, 0); err != nil {
		t.Fatal(err)
	}
	if st := mustStat(t, mustLookup(t, r, "a2")); st.Ino != aIno {
		t.Errorf("renamed file ino %d, want %d", st.Ino, aIno)
	}
	// Across directories, and the node follows the file.
	if err := r.Rename("a2", a, d, "a3", nil, 0); err != nil {
		t.Fatal(err)
	}
	if got := readHost(t, filepath.Join(dir, "d", "a3")); got != "A" {
		t.Errorf("host content %q", got)
	}
	fi := mustOpen(t, a, unix.O_RDONLY)
	buf := make([]byte, 4)
	if n, _ := fi.Read(rootCtx, nil, buf, 0); string(buf[:n]) != "A" {
		t.Errorf("open after rename read %q", buf[:n])
	}
	fi.Release()
	// Replacing.
	if err := d.Rename("a3", a, r, "b", b, 0); err != nil {
		t.Fatal(err)
	}
	if got := readHost(t, filepath.Join(dir, "b")); got != "A" {
		t.Errorf("replaced content %q", got)
	}
	if st := mustStat(t, b); st.Nlink != 0 {
		t.Errorf("replaced file nlink %d", st.Nlink)
	}
	// Exchange.
	writeHost(t, filepath.Join(dir, "c"), "C")
	c := mustLookup(t, r, "c")
	if err := r.Rename("b", a, r, "c", c, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	if readHost(t, filepath.Join(dir, "b")) != "C" || readHost(t, filepath.Join(dir, "c")) != "A" {
		t.Error("exchange did not swap")
	}
	// A directory over a non-empty directory.
	if err := os.MkdirAll(filepath.Join(dir, "e", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := mustLookup(t, r, "e")
	if err := r.Rename("d", d, r, "e", e, 0); err != unix.ENOTEMPTY && err != unix.EEXIST {
		t.Errorf("rename over non-empty dir = %v, want ENOTEMPTY", err)
	}
	if err := r.Rename("missing", a, r, "z", nil, 0); err != unix.ENOENT {
		t.Errorf("rename missing = %v", err)
	}
}

func TestSetStat(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	path := filepath.Join(dir, "f")
	writeHost(t, path, "0123456789")
	f := mustLookup(t, fs.Root(), "f")
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_SIZE, Size: 3}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_UID | unix.STATX_GID, UID: 1000, GID: 1001}); err != nil {
		t.Fatal(err)
	}
	mt := vfs.Timespec{Sec: 1_000_000_000, Nsec: 5}
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: mt, Mtime: mt}); err != nil {
		t.Fatal(err)
	}
	var hst unix.Stat_t
	if err := unix.Stat(path, &hst); err != nil {
		t.Fatal(err)
	}
	if hst.Mode&0o7777 != 0o600 || hst.Size != 3 || hst.Uid != 1000 || hst.Gid != 1001 || hst.Mtim.Sec != mt.Sec || hst.Mtim.Nsec != mt.Nsec {
		t.Errorf("host stat mode %#o size %d owner %d:%d mtime %v", hst.Mode, hst.Size, hst.Uid, hst.Gid, hst.Mtim)
	}
	st := mustStat(t, f)
	if st.Mode&0o7777 != 0o600 || st.Size != 3 || st.UID != 1000 || st.GID != 1001 || st.Mtime != mt {
		t.Errorf("cached stat %+v", st)
	}
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_SIZE, Size: -1}); err != unix.EINVAL {
		t.Errorf("negative size = %v", err)
	}
	if err := root(fs).SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_SIZE}); err != unix.EISDIR && err != unix.EINVAL {
		t.Errorf("truncate dir = %v", err)
	}
}

func TestSeekAllocate(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "0123456789")
	f := mustLookup(t, fs.Root(), "f")
	fi := mustOpen(t, f, unix.O_RDWR).(*regularFile)
	defer fi.Release()
	for _, tc := range []struct {
		pos, off int64
		whence   int
		want     int64
		err      error
	}{
		{0, 4, unix.SEEK_SET, 4, nil},
		{4, 2, unix.SEEK_CUR, 6, nil},
		{4, -5, unix.SEEK_CUR, 0, unix.EINVAL},
		{0, -3, unix.SEEK_END, 7, nil},
		{0, 100, unix.SEEK_END, 110, nil},
		{0, 3, unix.SEEK_DATA, 3, nil},
		{0, 3, unix.SEEK_HOLE, 10, nil},
		{0, 10, unix.SEEK_DATA, 0, unix.ENXIO},
		{0, -1, unix.SEEK_DATA, 0, unix.ENXIO},
		{0, 0, 17, 0, unix.EINVAL},
		{1 << 62, 1<<63 - 1, unix.SEEK_CUR, 0, unix.EOVERFLOW},
	} {
		got, err := fi.Seek(rootCtx, tc.pos, tc.off, tc.whence)
		if err != tc.err || (err == nil && got != tc.want) {
			t.Errorf("Seek(%d, %d, %d) = %d, %v; want %d, %v", tc.pos, tc.off, tc.whence, got, err, tc.want, tc.err)
		}
	}
	if err := fi.Allocate(0, 0, 1<<16); err != nil {
		t.Fatalf("Allocate: %v", err)
	}
	if st := mustStat(t, f); st.Size != 1<<16 {
		t.Errorf("size after fallocate %d", st.Size)
	}
	if err := fi.Allocate(unix.FALLOC_FL_KEEP_SIZE, 1<<16, 1<<16); err != nil {
		t.Errorf("Allocate KEEP_SIZE: %v", err)
	}
	if st := mustStat(t, f); st.Size != 1<<16 {
		t.Errorf("size after KEEP_SIZE %d", st.Size)
	}
}

func TestMMap(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	path := filepath.Join(dir, "f")
	content := bytes.Repeat([]byte("pangolin"), 1000) // 8000 bytes, 2 pages
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f := mustLookup(t, fs.Root(), "f")

	// Read-only: translations are readable and refuse write.
	ro := mustOpen(t, f, unix.O_RDONLY).(*regularFile)
	mf, err := ro.MMapFile()
	if err != nil {
		t.Fatal(err)
	}
	if size, err := mf.Size(); size != int64(len(content)) || err != nil {
		t.Errorf("Size = %d, %v", size, err)
	}
	tr, err := mf.Mappable().Translate(0, 8192, false)
	if err != nil {
		t.Fatal(err)
	}
	if tr.FD != ro.h.fd || tr.Offset != 0 || tr.Length != 8192 || len(tr.Internal) != 8192 {
		t.Fatalf("translation %+v", tr)
	}
	if !bytes.Equal(tr.Internal[:len(content)], content) {
		t.Error("Internal does not hold the file content")
	}
	// A host FD range: reading the FD at Offset gives the same bytes.
	buf := make([]byte, 100)
	if _, err := unix.Pread(tr.FD, buf, int64(tr.Offset)+4000); err != nil || !bytes.Equal(buf, content[4000:4100]) {
		t.Errorf("pread of translation FD: %v", err)
	}
	if _, err := mf.Mappable().Translate(0, 4096, true); err != unix.EACCES {
		t.Errorf("writable translation of a read-only file = %v, want EACCES", err)
	}
	// Page in the second chunk: the translation is clipped to it.
	tr2, err := mf.Mappable().Translate(chunkSize-4096, 3*4096, false)
	if err != nil || tr2.Length != 4096 || tr2.Offset != chunkSize-4096 {
		t.Errorf("translation across a chunk boundary = %+v, %v", tr2, err)
	}
	got := make([]byte, 16)
	if n, err := mf.ReadAt(got, 8); n != 16 || err != nil || !bytes.Equal(got, content[8:24]) {
		t.Errorf("ReadAt = %d, %v, %q", n, err, got)
	}

	// The mapping outlives the file description: mmap then close.
	fd := ro.h.fd
	ro.Release()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("host FD closed while mapped: %v", err)
	}
	if !bytes.Equal(tr.Internal[:8], content[:8]) {
		t.Error("Internal changed after close")
	}
	mf.IncRef()
	mf.DecRef()
	mf.DecRef()
	if f.handles != [3]*handle{} {
		t.Error("handle still installed after the last mapping went")
	}

	// Read-write: writes through Internal reach the host file.
	rw := mustOpen(t, f, unix.O_RDWR).(*regularFile)
	mf2, err := rw.MMapFile()
	if err != nil {
		t.Fatal(err)
	}
	tr3, err := mf2.Mappable().Translate(0, 4096, true)
	if err != nil {
		t.Fatal(err)
	}
	copy(tr3.Internal, "PANGOLIN")
	if got := readHost(t, path); got[:16] != "PANGOLINpangolin" {
		t.Errorf("host sees %q", got[:16])
	}
	rw.Release()
	mf2.DecRef()

	// Write-only descriptions cannot be mapped.
	wo := mustOpen(t, f, unix.O_WRONLY).(*regularFile)
	if _, err := wo.MMapFile(); err != unix.EACCES {
		t.Errorf("MMapFile of O_WRONLY = %v, want EACCES", err)
	}
	wo.Release()
}

func TestRevalidate(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	r := root(fs)
	path := filepath.Join(dir, "f")
	writeHost(t, path, "one")
	f := mustLookup(t, r, "f")
	if !r.Revalidate("f", f) {
		t.Error("unchanged file revalidated false")
	}
	// Content changed in place on the host: same file, fresh stat.
	writeHost(t, path, "longer content")
	if !r.Revalidate("f", f) {
		t.Error("file changed in place revalidated false")
	}
	if st := mustStat(t, f); st.Size != int64(len("longer content")) {
		t.Errorf("size after revalidation %d", st.Size)
	}
	// Replaced on the host (docker cp writes a new file and renames it).
	writeHost(t, filepath.Join(dir, "tmp"), "two")
	if err := os.Rename(filepath.Join(dir, "tmp"), path); err != nil {
		t.Fatal(err)
	}
	if r.Revalidate("f", f) {
		t.Error("replaced file revalidated true")
	}
	f2 := mustLookup(t, r, "f")
	// Removed on the host.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if r.Revalidate("f", f2) {
		t.Error("removed file revalidated true")
	}
	// Created on the host: no negative cache, the lookup finds it.
	writeHost(t, path, "three")
	if st := mustStat(t, mustLookup(t, r, "f")); st.Size != 5 {
		t.Errorf("host-created file size %d", st.Size)
	}
	// A file became a directory.
	d := mustLookup(t, r, "f")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if r.Revalidate("f", d) {
		t.Error("file turned directory revalidated true")
	}
}

func TestRevalidatePolicies(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"exclusive", Options{Exclusive: true}},
		{"interval", Options{RevalidateAfter: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, dir := newTestFS(t, server.Options{}, tc.opts)
			path := filepath.Join(dir, "f")
			writeHost(t, path, "x")
			f := mustLookup(t, fs.Root(), "f")
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if !root(fs).Revalidate("f", f) {
				t.Error("trusted cache asked the gofer")
			}
		})
	}
	fs, dir := newTestFS(t, server.Options{}, Options{RevalidateAfter: time.Nanosecond})
	path := filepath.Join(dir, "f")
	writeHost(t, path, "x")
	f := mustLookup(t, fs.Root(), "f")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if root(fs).Revalidate("f", f) {
		t.Error("expired entry was trusted")
	}
}

func TestReadOnly(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{ReadOnly: true}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "ro")
	if !fs.ReadOnly() {
		t.Fatal("ReadOnly() = false")
	}
	r := root(fs)
	f := mustLookup(t, r, "f")
	opts := vfs.CreateOptions{Mode: unix.S_IFREG | 0o644}
	if _, err := r.Mknod("g", opts); err != unix.EROFS {
		t.Errorf("Mknod = %v", err)
	}
	if _, err := r.Mkdir("g", opts); err != unix.EROFS {
		t.Errorf("Mkdir = %v", err)
	}
	if _, err := r.Symlink("g", "f", opts); err != unix.EROFS {
		t.Errorf("Symlink = %v", err)
	}
	if err := r.Link("g", f); err != unix.EROFS {
		t.Errorf("Link = %v", err)
	}
	if err := r.Unlink("f", f); err != unix.EROFS {
		t.Errorf("Unlink = %v", err)
	}
	if err := r.Rename("f", f, r, "g", nil, 0); err != unix.EROFS {
		t.Errorf("Rename = %v", err)
	}
	if err := f.SetStat(rootCtx, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o600}); err != unix.EROFS {
		t.Errorf("SetStat = %v", err)
	}
	if _, _, err := f.Open(rootCtx, unix.O_RDWR); err != unix.EROFS {
		t.Errorf("Open O_RDWR = %v", err)
	}
	fi := mustOpen(t, f, unix.O_RDONLY)
	buf := make([]byte, 4)
	if n, err := fi.Read(rootCtx, nil, buf, 0); string(buf[:n]) != "ro" || err != nil {
		t.Errorf("Read = %q, %v", buf[:n], err)
	}
	fi.Release()
	sf, err := fs.Statfs()
	if err != nil || sf.Flags&unix.ST_RDONLY == 0 {
		t.Errorf("Statfs = %+v, %v", sf, err)
	}
}

func TestStatfs(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	sf, err := fs.Statfs()
	if err != nil {
		t.Fatal(err)
	}
	var host unix.Statfs_t
	if err := unix.Statfs(dir, &host); err != nil {
		t.Fatal(err)
	}
	if sf.Type != v9fsMagic || sf.Bsize != host.Bsize || sf.Blocks != host.Blocks || sf.Namelen != uint64(host.Namelen) {
		t.Errorf("Statfs = %+v, host %+v", sf, host)
	}
	if fs.Name() != "9p" {
		t.Errorf("Name = %q", fs.Name())
	}
}

// TestNodesReleased checks that inodes the VFS no longer references give
// their gofer nodes back: with a node table far smaller than the number
// of lookups, lookups keep succeeding.
func TestNodesReleased(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{MaxNodes: 3 * releaseBatch}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "x")
	r := root(fs)
	for i := 0; i < 20*releaseBatch; i++ {
		for attempt := 0; ; attempt++ {
			in, err := r.Lookup("f")
			if err == nil {
				// Revalidation walks and releases too.
				r.Revalidate("f", in)
				break
			}
			if err != unix.ENFILE || attempt == 100 {
				t.Fatalf("lookup %d: %v", i, err)
			}
			runtime.GC()
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := fs.Flush(); err != nil {
		t.Errorf("Flush: %v", err)
	}
}

// TestVFS mounts the filesystem as the VFS root and works through the
// path API.
func TestVFS(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeHost(t, filepath.Join(dir, "etc", "hostname"), "sandbox\n")
	if err := os.Symlink("etc/hostname", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}

	v := vfs.New()
	vfsFS, err := v.NewFilesystem(fs, fs.Root())
	if err != nil {
		t.Fatal(err)
	}
	rootVD, err := v.MountRoot(vfsFS, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	fsc := vfs.NewFSContext(rootVD, rootVD)
	creds := auth.NewRootCredentials()

	// Read through a symlink.
	fd, err := v.OpenAt(creds, fsc, nil, "/link", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := fd.Read(rootCtx, buf)
	if err != nil || string(buf[:n]) != "sandbox\n" {
		t.Errorf("read %q, %v", buf[:n], err)
	}
	st, err := fd.Stat()
	if err != nil || st.Size != 8 || st.Dev != vfsFS.Dev() {
		t.Errorf("fstat %+v, %v", st, err)
	}
	fd.DecRef()

	// Create, write, read back through the VFS.
	fd, err = v.OpenAt(creds, fsc, nil, "/etc/new", unix.O_CREAT|unix.O_EXCL|unix.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.Write(rootCtx, []byte("created")); err != nil {
		t.Fatal(err)
	}
	if off, err := fd.Seek(rootCtx, 0, unix.SEEK_SET); off != 0 || err != nil {
		t.Fatal(off, err)
	}
	n, _ = fd.Read(rootCtx, buf)
	if string(buf[:n]) != "created" {
		t.Errorf("read back %q", buf[:n])
	}
	fd.DecRef()
	var hst unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "etc", "new"), &hst); err != nil || hst.Mode != unix.S_IFREG|0o644 {
		t.Errorf("host file mode %#o (umask 022), %v", hst.Mode, err)
	}
	if got := readHost(t, filepath.Join(dir, "etc", "new")); got != "created" {
		t.Errorf("host content %q", got)
	}

	// O_TRUNC and O_APPEND through the VFS.
	fd, err = v.OpenAt(creds, fsc, nil, "/etc/new", unix.O_WRONLY|unix.O_TRUNC|unix.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd.Write(rootCtx, []byte("ab"))
	fd.Write(rootCtx, []byte("cd"))
	fd.DecRef()
	if got := readHost(t, filepath.Join(dir, "etc", "new")); got != "abcd" {
		t.Errorf("after trunc+append %q", got)
	}

	// Directory listing through a description.
	if err := v.MkdirAt(rootCtx, fsc, nil, "/etc/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	dfd, err := v.OpenAt(creds, fsc, nil, "/etc", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	if err := dfd.IterDirents(rootCtx, func(d vfs.Dirent) bool {
		listed = append(listed, d.Name)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if want := []string{".", "..", "hostname", "new", "sub"}; !slices.Equal(listed, want) {
		t.Errorf("listing %v, want %v", listed, want)
	}
	if err := dfd.Sync(rootCtx); err != nil {
		t.Errorf("directory fsync: %v", err)
	}
	dfd.DecRef()

	// Rename and unlink through paths; a host change is noticed.
	if err := v.RenameAt(rootCtx, fsc, nil, "/etc/new", nil, "/etc/renamed", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StatAt(rootCtx, fsc, nil, "/etc/new", true); err != unix.ENOENT {
		t.Errorf("stat old name = %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "etc", "renamed")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StatAt(rootCtx, fsc, nil, "/etc/renamed", true); err != unix.ENOENT {
		t.Errorf("stat of a file removed on the host = %v, want ENOENT", err)
	}
	if err := v.UnlinkAt(rootCtx, fsc, nil, "/etc/hostname"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc", "hostname")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host file still there: %v", err)
	}
	sf, err := v.StatfsVD(rootVD)
	if err != nil || sf.Type != v9fsMagic {
		t.Errorf("statfs %+v, %v", sf, err)
	}
}

// copyCtx is a Context whose "memory" is one buffer at address 0.
type copyCtx struct {
	vfs.Context
	mem []byte
}

func (c *copyCtx) CopyOutBytes(addr uintptr, src []byte) error {
	if int(addr)+len(src) > len(c.mem) {
		return unix.EFAULT
	}
	copy(c.mem[addr:], src)
	return nil
}

func TestIoctl(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "f"), "0123456789")
	fi := mustOpen(t, mustLookup(t, fs.Root(), "f"), unix.O_RDONLY)
	defer fi.Release()
	ctx := &copyCtx{Context: rootCtx, mem: make([]byte, 4)}
	if _, err := fi.Ioctl(ctx, nil, fionread, 0); err != nil {
		t.Fatal(err)
	}
	if got := int32(ctx.mem[0]) | int32(ctx.mem[1])<<8; got != 10 {
		t.Errorf("FIONREAD = %d, want 10", got)
	}
	if _, err := fi.Ioctl(ctx, nil, unix.TCGETS, 0); err != unix.ENOTTY {
		t.Errorf("TCGETS = %v, want ENOTTY", err)
	}
}

// TestConcurrentAppend checks that appends through different
// descriptions never overwrite each other.
func TestConcurrentAppend(t *testing.T) {
	fs, dir := newTestFS(t, server.Options{}, Options{})
	writeHost(t, filepath.Join(dir, "log"), "")
	f := mustLookup(t, fs.Root(), "log")
	const writers, each = 8, 50
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			fi, _, err := f.Open(rootCtx, unix.O_WRONLY)
			if err != nil {
				t.Error(err)
				return
			}
			defer fi.Release()
			line := []byte{byte('a' + w), '\n'}
			for range each {
				if _, _, err := fi.Write(rootCtx, nil, line, 0, true); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range writers {
		<-done
	}
	got := readHost(t, filepath.Join(dir, "log"))
	if len(got) != writers*each*2 {
		t.Fatalf("log has %d bytes, want %d", len(got), writers*each*2)
	}
	for w := range writers {
		if n := bytes.Count([]byte(got), []byte{byte('a' + w), '\n'}); n != each {
			t.Errorf("writer %d: %d lines, want %d", w, n, each)
		}
	}
}
