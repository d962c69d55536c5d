package eventfd

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

func TestCounter(t *testing.T) {
	ctx := vfs.CredsContext(auth.NewRootCredentials())
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	for _, tc := range []struct {
		name      string
		init      uint64
		semaphore bool
		write     []uint64 // values written first
		writeErr  error    // error of the last write
		reads     []uint64 // values then read; 0 means EAGAIN
		ready     waiter.EventMask
	}{
		{"sum", 0, false, []uint64{3, 4}, nil, []uint64{7, 0}, waiter.EventOut},
		{"semaphore", 2, true, nil, nil, []uint64{1, 1, 0}, waiter.EventOut},
		{"max", 0, false, []uint64{maxCount}, nil, nil, waiter.EventIn},
		{"overflow", 0, false, []uint64{maxCount, 1}, unix.EAGAIN, []uint64{maxCount}, waiter.EventOut},
		{"ullong max", 0, false, []uint64{^uint64(0)}, unix.EINVAL, []uint64{0}, waiter.EventOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := New(tc.init, tc.semaphore, unix.O_RDWR|unix.O_NONBLOCK)
			defer fd.DecRef()
			var err error
			for _, v := range tc.write {
				_, err = fd.Write(ctx, u64(v))
			}
			if err != tc.writeErr {
				t.Fatalf("last write: %v, want %v", err, tc.writeErr)
			}
			for i, want := range tc.reads {
				b := make([]byte, 8)
				n, err := fd.Read(ctx, b)
				if want == 0 {
					if err != unix.EAGAIN {
						t.Fatalf("read %d: %d, %v; want EAGAIN", i, n, err)
					}
					continue
				}
				if err != nil || n != 8 || binary.LittleEndian.Uint64(b) != want {
					t.Fatalf("read %d: %d, %v, %d; want %d", i, n, err, binary.LittleEndian.Uint64(b), want)
				}
			}
			if r := fd.Readiness(waiter.EventIn | waiter.EventOut); r != tc.ready {
				t.Fatalf("readiness %#x, want %#x", r, tc.ready)
			}
		})
	}
}
