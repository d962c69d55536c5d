package inotify

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// drainForTest renders the queued events as "wd mask name;" items and empties
// the queue.
func (in *Inotify) drainForTest() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var b strings.Builder
	for _, e := range in.events {
		fmt.Fprintf(&b, "%d %#x %s;", e.wd, e.mask, e.name)
	}
	in.events = nil
	return b.String()
}

func TestVFSEvents(t *testing.T) {
	ctx := vfs.CredsContext(auth.NewRootCredentials())
	v := vfs.New()
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o777})
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	fsc := vfs.NewFSContext(root, root)
	if err := v.MkdirAt(ctx, fsc, nil, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := v.ResolvePath(ctx, fsc, nil, "/d", true)
	if err != nil {
		t.Fatal(err)
	}
	inf := New(unix.O_RDONLY)
	in := inf.Impl().(*Inotify)
	if wd, err := in.AddWatch(dir.Dentry, InAllEvents); wd != 1 || err != nil {
		t.Fatalf("AddWatch = %d, %v", wd, err)
	}
	steps := []struct {
		name string
		op   func() error
		want string
	}{
		{"create", func() error {
			f, err := v.Open(ctx, fsc, nil, "/d/f", unix.O_CREAT|unix.O_WRONLY, 0o644)
			if err == nil {
				f.DecRef()
			}
			return err
		}, "1 0x100 f;1 0x20 f;1 0x8 f;"},
		{"chmod", func() error {
			return v.SetStatAt(ctx, fsc, nil, "/d/f", true, vfs.SetStat{Mask: unix.STATX_MODE, Mode: 0o600})
		}, "1 0x4 f;"},
		{"rename", func() error { return v.RenameAt(ctx, fsc, nil, "/d/f", nil, "/d/g", 0) }, "1 0x40 f;1 0x80 g;"},
		{"unlink", func() error { return v.UnlinkAt(ctx, fsc, nil, "/d/g") }, "1 0x200 g;"},
		{"mkdir", func() error { return v.MkdirAt(ctx, fsc, nil, "/d/s", 0o755) }, "1 0x40000100 s;"},
		{"rmdir self", func() error {
			if err := v.RmdirAt(ctx, fsc, nil, "/d/s"); err != nil {
				return err
			}
			return v.RmdirAt(ctx, fsc, nil, "/d")
		}, "1 0x40000200 s;1 0x400 ;1 0x8000 ;"},
	}
	for _, s := range steps {
		if err := s.op(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		// Cookies differ per run; compare without them.
		if got := in.drainForTest(); got != s.want {
			t.Errorf("%s: events %q, want %q", s.name, got, s.want)
		}
	}
	inf.DecRef()
}
