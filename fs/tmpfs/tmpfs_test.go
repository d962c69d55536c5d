package tmpfs_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

func setup(t *testing.T, opts tmpfs.Options) (*vfs.VirtualFilesystem, *vfs.FSContext, vfs.Context) {
	t.Helper()
	v := vfs.New()
	fs, err := tmpfs.New(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	return v, vfs.NewFSContext(root, root), vfs.CredsContext(auth.NewRootCredentials())
}

func TestSparseReadWriteTruncate(t *testing.T) {
	v, fsc, ctx := setup(t, tmpfs.Options{})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	if _, err := fd.PWrite(ctx, []byte("end"), 1<<20); err != nil {
		t.Fatal(err)
	}
	st, _ := fd.Stat()
	if st.Size != 1<<20+3 || st.Blocks != 8 {
		t.Errorf("size %d blocks %d, want %d and 8 (one page)", st.Size, st.Blocks, 1<<20+3)
	}
	buf := make([]byte, 10)
	if n, _ := fd.PReadCtx(ctx, buf, 4090); n != 10 || !bytes.Equal(buf, make([]byte, 10)) {
		t.Errorf("hole read %d %q", n, buf)
	}
	if err := fd.Truncate(ctx, 1<<20+1); err != nil {
		t.Fatal(err)
	}
	if err := fd.Truncate(ctx, 1<<20+3); err != nil {
		t.Fatal(err)
	}
	n, _ := fd.PReadCtx(ctx, buf, 1<<20)
	if n != 3 || string(buf[:3]) != "e\x00\x00" {
		t.Errorf("after shrink+grow read %q, want e\\0\\0", buf[:n])
	}
	if n, _ := fd.PReadCtx(ctx, buf, 1<<30); n != 0 {
		t.Errorf("read past EOF = %d", n)
	}
}

func TestSizeLimitAndStatfs(t *testing.T) {
	v, fsc, ctx := setup(t, tmpfs.Options{MaxSize: 2 * 4096})
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n, err := fd.Write(ctx, make([]byte, 3*4096))
	if n != 2*4096 || err != nil {
		t.Errorf("write past the limit = %d, %v; want a short write of 8192", n, err)
	}
	if _, err := fd.Write(ctx, []byte("x")); err != unix.ENOSPC {
		t.Errorf("write when full = %v, want ENOSPC", err)
	}
	root := fsc.Root()
	sf, _ := v.StatfsVD(root)
	if sf.Type != tmpfs.Magic || sf.Bfree != 0 {
		t.Errorf("statfs %+v", sf)
	}
	fd.DecRef()
	// Unlinking the closed file frees its pages.
	if err := v.UnlinkAt(ctx, fsc, nil, "/f"); err != nil {
		t.Fatal(err)
	}
	sf, _ = v.StatfsVD(root)
	if sf.Bfree != 2 {
		t.Errorf("after unlink bfree = %d, want 2", sf.Bfree)
	}
}

func TestTimestamps(t *testing.T) {
	v, fsc, ctx := setup(t, tmpfs.Options{})
	if err := v.MkdirAt(ctx, fsc, nil, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	old := vfs.Timespec{Sec: 1000}
	set := vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: old, Mtime: old}
	if err := v.SetStatAt(ctx, fsc, nil, "/d", true, set); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if err := v.MknodAt(ctx, fsc, nil, "/d/f", unix.S_IFREG|0o644, 0); err != nil {
		t.Fatal(err)
	}
	st, _ := v.StatAt(ctx, fsc, nil, "/d", true)
	if st.Mtime == old || st.Ctime.Sec < st.Mtime.Sec || st.Atime != old {
		t.Errorf("creating an entry must update the parent's mtime/ctime only: %+v", st)
	}
	if st.Size != 60 {
		t.Errorf("dir size %d, want 60 (3 bogo entries)", st.Size)
	}
	fst, _ := v.StatAt(ctx, fsc, nil, "/d/f", true)
	old2 := fst.Ctime
	time.Sleep(time.Millisecond)
	if err := v.RenameAt(ctx, fsc, nil, "/d/f", nil, "/d/g", 0); err != nil {
		t.Fatal(err)
	}
	fst, _ = v.StatAt(ctx, fsc, nil, "/d/g", true)
	if !old2.Before(fst.Ctime) {
		t.Errorf("rename did not update the inode's ctime")
	}
}
