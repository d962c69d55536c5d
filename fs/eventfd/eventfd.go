// Package eventfd implements eventfd(2) files (fs/eventfd.c): a 64-bit
// counter that write(2) adds to and read(2) takes from, readable while it
// is non-zero and writable while another write of 1 fits.
package eventfd

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/anon"
	"pangolin/fs/vfs"
)

// maxCount is the largest value the counter holds (ULLONG_MAX - 1): a
// write that would pass it blocks, and ULLONG_MAX itself means overflow.
const maxCount = ^uint64(0) - 1

// File is an eventfd.
type File struct {
	vfs.FileDefaults
	anon.File

	// queue is notified with EventIn when the counter becomes non-zero
	// and EventOut when it decreases.
	queue waiter.Queue

	// semaphore is EFD_SEMAPHORE. Immutable.
	semaphore bool

	mu sync.Mutex
	// count is the counter. Protected by mu.
	count uint64
}

// New returns an eventfd description with one reference (eventfd2(2):
// initval, EFD_SEMAPHORE as semaphore; flags are the open flags, O_RDWR
// plus O_NONBLOCK for EFD_NONBLOCK).
func New(initval uint64, semaphore bool, flags uint32) *vfs.FileDescription {
	f := &File{count: initval, semaphore: semaphore}
	return vfs.NewAnonFile(f, flags, anon.Options)
}

// Name implements vfs.Namer.
func (*File) Name() string { return "anon_inode:[eventfd]" }

// Readiness implements waiter.Waitable (eventfd_poll()).
func (f *File) Readiness(mask waiter.EventMask) waiter.EventMask {
	f.mu.Lock()
	c := f.count
	f.mu.Unlock()
	var r waiter.EventMask
	if c > 0 {
		r |= waiter.EventIn
	}
	if c == ^uint64(0) {
		r |= waiter.EventErr
	}
	if c < maxCount {
		r |= waiter.EventOut
	}
	return r & mask
}

// EventRegister implements waiter.Waitable.
func (f *File) EventRegister(e *waiter.Entry) error {
	f.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (f *File) EventUnregister(e *waiter.Entry) { f.queue.EventUnregister(e) }

// Read implements vfs.FileImpl (eventfd_read()): it takes the whole
// counter, or 1 in semaphore mode, blocking while the counter is zero.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	nonblock := fd.StatusFlags()&unix.O_NONBLOCK != 0
	v, err := vfs.BlockOn(ctx, f, waiter.EventIn, nonblock, time.Time{}, func() (uint64, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.count == 0 {
			return 0, unix.EAGAIN
		}
		v := f.count
		if f.semaphore {
			v = 1
		}
		f.count -= v
		return v, nil
	})
	if err != nil {
		return 0, err
	}
	f.queue.Notify(waiter.EventOut)
	binary.LittleEndian.PutUint64(dst, v)
	return 8, nil
}

// Write implements vfs.FileImpl (eventfd_write()): it adds the 8-byte
// value, blocking while the sum would exceed ULLONG_MAX - 1. Writing
// ULLONG_MAX fails with EINVAL.
func (f *File) Write(ctx vfs.Context, fd *vfs.FileDescription, src []byte, _ int64, _ bool) (int, int64, error) {
	if len(src) < 8 {
		return 0, 0, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, 0, unix.EINVAL
	}
	if err := f.add(ctx, v, fd.StatusFlags()&unix.O_NONBLOCK != 0); err != nil {
		return 0, 0, err
	}
	return 8, 0, nil
}

// add adds v to the counter, waiting for room unless nonblock.
func (f *File) add(ctx vfs.Context, v uint64, nonblock bool) error {
	_, err := vfs.BlockOn(ctx, f, waiter.EventOut, nonblock, time.Time{}, func() (struct{}, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if maxCount-f.count < v {
			return struct{}{}, unix.EAGAIN
		}
		f.count += v
		return struct{}{}, nil
	})
	if err != nil {
		return err
	}
	// Linux wakes readers after every successful write, even of 0.
	f.queue.Notify(waiter.EventIn)
	return nil
}
