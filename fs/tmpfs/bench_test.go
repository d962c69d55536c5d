package tmpfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// benchFile returns a 16 MiB tmpfs file, written once.
func benchFile(b *testing.B) (*vfs.FileDescription, vfs.Context) {
	v := vfs.New()
	fs, err := tmpfs.New(v, tmpfs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	root, _ := v.MountRoot(fs, vfs.MountFlags{})
	fsc := vfs.NewFSContext(root, root)
	ctx := vfs.CredsContext(auth.NewRootCredentials())
	fd, err := v.Open(ctx, fsc, nil, "/f", unix.O_CREAT|unix.O_RDWR, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := 0; i < 16; i++ {
		if _, err := fd.PWrite(ctx, buf, int64(i)<<20); err != nil {
			b.Fatal(err)
		}
	}
	return fd, ctx
}

func BenchmarkRead1MiB(b *testing.B) {
	fd, ctx := benchFile(b)
	defer fd.DecRef()
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fd.PReadCtx(ctx, buf, int64(i%16)<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite1MiB(b *testing.B) {
	fd, ctx := benchFile(b)
	defer fd.DecRef()
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fd.PWrite(ctx, buf, int64(i%16)<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFresh1MiB writes into new pages each time (allocation).
func BenchmarkWriteFresh1MiB(b *testing.B) {
	fd, ctx := benchFile(b)
	defer fd.DecRef()
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%16 == 0 {
			b.StopTimer()
			if err := fd.Truncate(ctx, 0); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if _, err := fd.PWrite(ctx, buf, int64(i%16)<<20); err != nil {
			b.Fatal(err)
		}
	}
}
