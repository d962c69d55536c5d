// Package inotify implements inotify(7) instances (fs/notify/inotify):
// watches on dentries, fed by the VFS's notification API (fs/vfs/notify.go),
// and a queue of struct inotify_event records read from the instance.
//
// Lock order: Inotify.mu, then a dentry's watcher list (inside
// vfs.Dentry.AddWatcher/RemoveWatcher), then the waiter.Queue of readers.
// The VFS calls watch.Notify without holding Inotify.mu.
package inotify

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/anon"
	"pangolin/fs/vfs"
)

// Watch and event bits beyond the VFS's (include/uapi/linux/inotify.h).
const (
	InUnmount    = 0x2000
	InQOverflow  = 0x4000
	InIgnored    = 0x8000
	InOnlyDir    = 0x01000000
	InDontFollow = 0x02000000
	InExclUnlink = 0x04000000
	InMaskCreate = 0x10000000
	InMaskAdd    = 0x20000000
	InOneshot    = 0x80000000

	// InAllEvents is IN_ALL_EVENTS.
	InAllEvents = 0xfff
	// AllBits is ALL_INOTIFY_BITS: every bit inotify_add_watch knows.
	AllBits = InAllEvents | InUnmount | InQOverflow | InIgnored | InOnlyDir | InDontFollow |
		InExclUnlink | InMaskCreate | InMaskAdd | vfs.InIsDir | InOneshot

	// maxQueued is fs.inotify.max_queued_events.
	maxQueued = 16384
	// eventHeader is sizeof(struct inotify_event).
	eventHeader = 16
	// fionread is FIONREAD.
	fionread = 0x541b
)

// event is a queued struct inotify_event.
type event struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// size is the record's length: the header, and the name NUL-padded to a
// multiple of the header size (round_event_name_len()).
func (e *event) size() int {
	if e.name == "" {
		return eventHeader
	}
	return eventHeader + (len(e.name)+eventHeader)/eventHeader*eventHeader
}

func (e *event) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(e.wd))
	le.PutUint32(b[4:], e.mask)
	le.PutUint32(b[8:], e.cookie)
	n := e.size() - eventHeader
	le.PutUint32(b[12:], uint32(n))
	clear(b[eventHeader:e.size()])
	copy(b[eventHeader:], e.name)
}

// Inotify is an inotify instance.
type Inotify struct {
	vfs.FileDefaults
	anon.File

	// queue is notified with EventIn when an event is queued.
	queue waiter.Queue

	mu sync.Mutex
	// events are the queued events. Protected by mu.
	events []event
	// overflowed is set while an IN_Q_OVERFLOW event is queued.
	// Protected by mu.
	overflowed bool
	// watches maps watch descriptors, and byDentry dentries, to watches.
	// Protected by mu.
	watches  map[int32]*watch
	byDentry map[*vfs.Dentry]*watch
	// lastWD is the last watch descriptor given out; they are allocated
	// cyclically from 1 (idr_alloc_cyclic()). Protected by mu.
	lastWD int32
	// released is set by Release. Protected by mu.
	released bool
}

// New returns an inotify instance as a description with one reference
// (inotify_init1(2)); flags are the open flags (O_RDONLY plus O_NONBLOCK
// for IN_NONBLOCK).
func New(flags uint32) *vfs.FileDescription {
	in := &Inotify{watches: make(map[int32]*watch), byDentry: make(map[*vfs.Dentry]*watch)}
	return vfs.NewAnonFile(in, flags, anon.Options)
}

// Name implements vfs.Namer.
func (*Inotify) Name() string { return "anon_inode:inotify" }

// watch is one watch (struct inotify_inode_mark).
type watch struct {
	in   *Inotify
	wd   int32         // immutable
	d    *vfs.Dentry   // immutable
	mask atomic.Uint32 // written with in.mu held
}

// Notify implements vfs.Watcher (inotify_handle_inode_event()).
func (w *watch) Notify(mask uint32, name string, cookie uint32) {
	wm := w.mask.Load()
	want := mask&wm&InAllEvents != 0
	in := w.in
	in.mu.Lock()
	if in.watches[w.wd] != w {
		in.mu.Unlock()
		return
	}
	queued := false
	if want {
		queued = in.queueLocked(event{wd: w.wd, mask: mask, cookie: cookie, name: name})
	}
	// A one-shot watch goes after its event; any watch goes with its
	// file (the mark is freed with the inode).
	if (want && wm&InOneshot != 0) || mask&vfs.InDeleteSelf != 0 {
		in.removeLocked(w)
		queued = true
	}
	in.mu.Unlock()
	if queued {
		in.queue.Notify(waiter.EventIn)
	}
}

// queueLocked appends e unless it repeats the last queued event
// (inotify_merge()) or the queue is full (then IN_Q_OVERFLOW is queued
// once). It reports whether anything was queued.
//
// Preconditions: in.mu is held.
func (in *Inotify) queueLocked(e event) bool {
	if n := len(in.events); n > 0 && in.events[n-1] == e {
		return false
	}
	if len(in.events) >= maxQueued {
		if in.overflowed {
			return false
		}
		in.overflowed = true
		e = event{wd: -1, mask: InQOverflow}
	}
	in.events = append(in.events, e)
	return true
}

// removeLocked drops w and queues IN_IGNORED for it.
//
// Preconditions: in.mu is held; w is one of in's watches.
func (in *Inotify) removeLocked(w *watch) {
	delete(in.watches, w.wd)
	delete(in.byDentry, w.d)
	w.d.RemoveWatcher(w)
	in.queueLocked(event{wd: w.wd, mask: InIgnored})
}

// AddWatch adds or updates the watch on d and returns its descriptor
// (inotify_update_watch()); mask has been validated by the caller.
func (in *Inotify) AddWatch(d *vfs.Dentry, mask uint32) (int32, error) {
	// inotify_arg_to_mask(): unmount is always reported.
	m := InUnmount | mask&(InAllEvents|InOneshot|InExclUnlink)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.released {
		return 0, unix.EBADF
	}
	if w := in.byDentry[d]; w != nil {
		if mask&InMaskCreate != 0 {
			return 0, unix.EEXIST
		}
		if mask&InMaskAdd != 0 {
			m |= w.mask.Load()
		}
		w.mask.Store(m)
		return w.wd, nil
	}
	wd := in.lastWD
	for {
		wd++
		if wd <= 0 {
			wd = 1
		}
		if in.watches[wd] == nil {
			break
		}
	}
	in.lastWD = wd
	w := &watch{in: in, wd: wd, d: d}
	w.mask.Store(m)
	in.watches[wd] = w
	in.byDentry[d] = w
	d.AddWatcher(w)
	return wd, nil
}

// RemoveWatch removes watch wd, queueing IN_IGNORED (inotify_rm_watch(2));
// EINVAL if there is none.
func (in *Inotify) RemoveWatch(wd int32) error {
	in.mu.Lock()
	w := in.watches[wd]
	if w == nil {
		in.mu.Unlock()
		return unix.EINVAL
	}
	in.removeLocked(w)
	in.mu.Unlock()
	in.queue.Notify(waiter.EventIn)
	return nil
}

// Readiness implements waiter.Waitable (inotify_poll()).
func (in *Inotify) Readiness(mask waiter.EventMask) waiter.EventMask {
	in.mu.Lock()
	n := len(in.events)
	in.mu.Unlock()
	if n > 0 {
		return mask & waiter.ReadableEvents
	}
	return 0
}

// EventRegister implements waiter.Waitable.
func (in *Inotify) EventRegister(e *waiter.Entry) error {
	in.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (in *Inotify) EventUnregister(e *waiter.Entry) { in.queue.EventUnregister(e) }

// Read implements vfs.FileImpl (inotify_read()): whole events that fit in
// dst, waiting for one unless non-blocking; EINVAL if the first does not
// fit.
func (in *Inotify) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	nonblock := fd.StatusFlags()&unix.O_NONBLOCK != 0
	return vfs.BlockOn(ctx, in, waiter.EventIn, nonblock, time.Time{}, func() (int, error) {
		in.mu.Lock()
		defer in.mu.Unlock()
		if len(in.events) == 0 {
			return 0, unix.EAGAIN
		}
		n, i := 0, 0
		for ; i < len(in.events); i++ {
			e := &in.events[i]
			sz := e.size()
			if n+sz > len(dst) {
				break
			}
			e.encode(dst[n:])
			n += sz
			if e.mask == InQOverflow {
				in.overflowed = false
			}
		}
		if i == 0 {
			return 0, unix.EINVAL
		}
		in.events = append(in.events[:0:0], in.events[i:]...)
		return n, nil
	})
}

// Ioctl implements vfs.FileImpl: FIONREAD returns the bytes queued
// (inotify_ioctl()).
func (in *Inotify) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != fionread {
		return 0, unix.ENOTTY
	}
	in.mu.Lock()
	n := 0
	for i := range in.events {
		n += in.events[i].size()
	}
	in.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, ctx.CopyOutBytes(arg, b[:])
}

// Release implements vfs.FileImpl: every watch is removed.
func (in *Inotify) Release() {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, w := range in.watches {
		w.d.RemoveWatcher(w)
	}
	in.watches, in.byDentry = nil, nil
	in.events = nil
	in.released = true
}
