package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

type fakeSocket struct{ name string }

func TestBindSocketAt(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	e.file("/d/file", "x")
	e.symlink("s1", "/d/link")
	a, b := &fakeSocket{"a"}, &fakeSocket{"b"}
	commitOK := func(vfs.VirtualDentry) error { return nil }

	if err := e.v.BindSocketAt(e.ctx, e.fsc, "/d/s1", 0o777, a, commitOK); err != nil {
		t.Fatalf("bind /d/s1: %v", err)
	}
	st, err := e.v.StatAt(e.ctx, e.fsc, nil, "/d/s1", false)
	if err != nil || st.Mode != unix.S_IFSOCK|0o755 {
		t.Fatalf("stat /d/s1 = %#o, %v; want a socket node with umask 022 applied", st.Mode, err)
	}

	for _, tc := range []struct {
		path string
		want unix.Errno
	}{
		{"/d/s1", unix.EEXIST},
		{"/d/file", unix.EEXIST},
		{"/d/link", unix.EEXIST}, // a symlink is never followed
		{"/d/new/", unix.ENOENT},
		{"/d/.", unix.EEXIST},
		{"/nodir/s", unix.ENOENT},
		{"/d/file/s", unix.ENOTDIR},
	} {
		if err := e.v.BindSocketAt(e.ctx, e.fsc, tc.path, 0o777, b, commitOK); errno(err) != tc.want {
			t.Errorf("bind %s = %v, want %v", tc.path, err, tc.want)
		}
	}

	// A commit that fails leaves no node behind.
	if err := e.v.BindSocketAt(e.ctx, e.fsc, "/d/s2", 0o777, b, func(vfs.VirtualDentry) error { return unix.EINVAL }); err != unix.EINVAL {
		t.Errorf("bind with failing commit = %v, want EINVAL", err)
	}
	if _, err := e.v.StatAt(e.ctx, e.fsc, nil, "/d/s2", false); err != unix.ENOENT {
		t.Errorf("stat after failed bind = %v, want ENOENT", err)
	}

	for _, tc := range []struct {
		path string
		want vfs.BoundSocket
		err  unix.Errno
	}{
		{"/d/s1", a, 0},
		{"/d/link", a, 0}, // connect follows symlinks
		{"/d/file", nil, unix.ECONNREFUSED},
		{"/d/none", nil, unix.ENOENT},
	} {
		s, err := e.v.BoundSocketAt(e.ctx, e.fsc, tc.path)
		if errno(err) != tc.err || (err == nil && s != tc.want) {
			t.Errorf("BoundSocketAt(%s) = %v, %v; want %v, %v", tc.path, s, err, tc.want, tc.err)
		}
	}

	// Write permission on the node is needed.
	user := vfs.CredsContext(auth.NewUserCredentials(1000, 1000, nil))
	if err := e.v.SetStatAt(e.ctx, e.fsc, nil, "/d/s1", false, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.BoundSocketAt(user, e.fsc, "/d/s1"); err != unix.EACCES {
		t.Errorf("BoundSocketAt without write permission = %v, want EACCES", err)
	}

	// A hard link reaches the same socket; removing one name keeps the
	// association, removing the last drops it.
	vd, err := e.v.ResolvePath(e.ctx, e.fsc, nil, "/d/s1", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.LinkAt(e.ctx, e.fsc, vd, nil, "/d/hard"); err != nil {
		t.Fatal(err)
	}
	if err := e.v.UnlinkAt(e.ctx, e.fsc, nil, "/d/s1"); err != nil {
		t.Fatal(err)
	}
	if s, err := e.v.BoundSocketAt(e.ctx, e.fsc, "/d/hard"); err != nil || s != a {
		t.Errorf("BoundSocketAt(hard link) = %v, %v; want a", s, err)
	}
	if err := e.v.UnlinkAt(e.ctx, e.fsc, nil, "/d/hard"); err != nil {
		t.Fatal(err)
	}
	if err := e.v.MknodAt(e.ctx, e.fsc, nil, "/d/s1", unix.S_IFSOCK|0o777, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.BoundSocketAt(e.ctx, e.fsc, "/d/s1"); err != unix.ECONNREFUSED {
		t.Errorf("BoundSocketAt(mknod'ed node) = %v, want ECONNREFUSED", err)
	}

	// Renaming over a bound node drops the association; UnbindSocket
	// drops it for a released socket.
	if err := e.v.BindSocketAt(e.ctx, e.fsc, "/d/s3", 0o777, b, commitOK); err != nil {
		t.Fatal(err)
	}
	vd3, err := e.v.ResolvePath(e.ctx, e.fsc, nil, "/d/s3", false)
	if err != nil {
		t.Fatal(err)
	}
	e.v.UnbindSocket(vd3, a) // not the bound socket: no effect
	if s, err := e.v.BoundSocketAt(e.ctx, e.fsc, "/d/s3"); err != nil || s != b {
		t.Errorf("BoundSocketAt(s3) = %v, %v; want b", s, err)
	}
	e.v.UnbindSocket(vd3, b)
	if _, err := e.v.BoundSocketAt(e.ctx, e.fsc, "/d/s3"); err != unix.ECONNREFUSED {
		t.Errorf("BoundSocketAt after unbind = %v, want ECONNREFUSED", err)
	}
	if err := e.v.BindSocketAt(e.ctx, e.fsc, "/d/s4", 0o777, b, commitOK); err != nil {
		t.Fatal(err)
	}
	if err := e.v.RenameAt(e.ctx, e.fsc, nil, "/d/file", nil, "/d/s4", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.v.RenameAt(e.ctx, e.fsc, nil, "/d/s4", nil, "/d/s5", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.BoundSocketAt(e.ctx, e.fsc, "/d/s5"); err != unix.ECONNREFUSED {
		t.Errorf("BoundSocketAt(regular file renamed over a socket) = %v, want ECONNREFUSED", err)
	}
}
