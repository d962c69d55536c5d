// Package timerfd implements timerfd_create(2) files (fs/timerfd.c): a
// timer on one clock whose expirations are counted and read as a 64-bit
// integer.
//
// Expirations are accounted lazily from the clock: whenever the file is
// read, polled or queried, every expiration due by the clock's current
// value is added to the count (as hrtimer_forward_now() does for interval
// timers in timerfd_read()), so the count never depends on how promptly a
// Go timer fired. The Go timer only wakes waiters when the next expiration
// is due.
package timerfd

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/anon"
	"pangolin/fs/vfs"
)

// Flags of timerfd_settime(2) (include/uapi/linux/timerfd.h).
const (
	TimerAbstime     = 1 << 0
	TimerCancelOnSet = 1 << 1
)

// ioctlSetTicks is TFD_IOC_SET_TICKS, _IOW('T', 0, __u64).
const ioctlSetTicks = 0x40085400

// Spec is a timer setting: the next expiration's distance from now (0:
// disarmed) and the interval (0: one-shot), in nanoseconds.
type Spec struct {
	Value    int64
	Interval int64
}

// File is a timerfd.
type File struct {
	vfs.FileDefaults
	anon.File

	// now reads the timer's clock in nanoseconds. Immutable.
	now func() int64
	// alarm is set for the _ALARM clocks. Immutable.
	alarm bool

	// queue is notified with EventIn when the timer expires.
	queue waiter.Queue

	mu sync.Mutex
	// next is the clock value of the next expiration, 0 when disarmed.
	// Protected by mu.
	next int64
	// interval is the period, 0 for a one-shot timer. Protected by mu.
	interval int64
	// ticks counts expirations not yet read. Protected by mu.
	ticks uint64
	// timer wakes waiters at next; nil when disarmed. Protected by mu.
	timer *time.Timer
	// gen invalidates callbacks of timers that were replaced. Protected
	// by mu.
	gen uint64
}

// New returns a disarmed timerfd on the clock read by now, as a
// description with one reference; alarm marks the CLOCK_*_ALARM clocks,
// and flags are the open flags (O_RDWR plus O_NONBLOCK for TFD_NONBLOCK).
func New(now func() int64, alarm bool, flags uint32) *vfs.FileDescription {
	return vfs.NewAnonFile(&File{now: now, alarm: alarm}, flags, anon.Options)
}

// IsAlarm reports whether the timer is on an _ALARM clock (which needs
// CAP_WAKE_ALARM to set).
func (f *File) IsAlarm() bool { return f.alarm }

// Name implements vfs.Namer.
func (*File) Name() string { return "anon_inode:[timerfd]" }

// advanceLocked counts the expirations due by now.
//
// Preconditions: f.mu is held.
func (f *File) advanceLocked(now int64) {
	if f.next == 0 || now < f.next {
		return
	}
	if f.interval == 0 {
		f.ticks++
		f.next = 0
		return
	}
	k := (now-f.next)/f.interval + 1
	f.ticks += uint64(k)
	if f.next > math.MaxInt64-k*f.interval {
		// Beyond any reachable clock value: the timer never fires again.
		f.next = math.MaxInt64
		return
	}
	f.next += k * f.interval
}

// scheduleLocked (re)starts the Go timer for f.next.
//
// Preconditions: f.mu is held.
func (f *File) scheduleLocked(now int64) {
	f.gen++
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	if f.next == 0 {
		return
	}
	gen := f.gen
	f.timer = time.AfterFunc(time.Duration(f.next-now), func() { f.fire(gen) })
}

// fire runs when the Go timer for generation gen expires.
func (f *File) fire(gen uint64) {
	f.mu.Lock()
	if gen != f.gen {
		f.mu.Unlock()
		return
	}
	now := f.now()
	f.advanceLocked(now)
	if f.next != 0 && now < f.next {
		// Early (a clock that moved) or periodic: wait for the next.
		f.scheduleLocked(now)
	} else {
		f.timer = nil
	}
	ready := f.ticks > 0
	f.mu.Unlock()
	if ready {
		f.queue.Notify(waiter.EventIn)
	}
}

// specLocked returns the current setting (timerfd_gettime()).
//
// Preconditions: f.mu is held and advanceLocked(now) has run.
func (f *File) specLocked(now int64) Spec {
	s := Spec{Interval: f.interval}
	if f.next != 0 {
		s.Value = max(f.next-now, 1)
	}
	return s
}

// Get returns the time until the next expiration and the interval
// (timerfd_gettime(2)).
func (f *File) Get() Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.advanceLocked(now)
	return f.specLocked(now)
}

// Set arms the timer (a zero value disarms it) and returns the previous
// setting (timerfd_settime(2) after argument checks). With TimerAbstime
// the value is a clock reading; one already passed expires at once.
// Unread expirations are discarded. TimerCancelOnSet is accepted: the
// sandbox's clocks are never set, so a read never returns ECANCELED.
func (f *File) Set(flags int32, s Spec) Spec {
	f.mu.Lock()
	now := f.now()
	f.advanceLocked(now)
	old := f.specLocked(now)
	f.ticks = 0
	f.interval = s.Interval
	f.next = 0
	switch {
	case s.Value == 0:
	case flags&TimerAbstime != 0:
		f.next = s.Value
	case s.Value > math.MaxInt64-now:
		f.next = math.MaxInt64
	default:
		f.next = now + s.Value
	}
	f.advanceLocked(now)
	f.scheduleLocked(now)
	ready := f.ticks > 0
	f.mu.Unlock()
	if ready {
		f.queue.Notify(waiter.EventIn)
	}
	return old
}

// Readiness implements waiter.Waitable (timerfd_poll()).
func (f *File) Readiness(mask waiter.EventMask) waiter.EventMask {
	f.mu.Lock()
	f.advanceLocked(f.now())
	ready := f.ticks > 0
	f.mu.Unlock()
	if ready {
		return mask & waiter.EventIn
	}
	return 0
}

// EventRegister implements waiter.Waitable.
func (f *File) EventRegister(e *waiter.Entry) error {
	f.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (f *File) EventUnregister(e *waiter.Entry) { f.queue.EventUnregister(e) }

// Read implements vfs.FileImpl (timerfd_read()): it returns and clears the
// expiration count, blocking until there is one.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	nonblock := fd.StatusFlags()&unix.O_NONBLOCK != 0
	v, err := vfs.BlockOn(ctx, f, waiter.EventIn, nonblock, time.Time{}, func() (uint64, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.advanceLocked(f.now())
		if f.ticks == 0 {
			return 0, unix.EAGAIN
		}
		v := f.ticks
		f.ticks = 0
		return v, nil
	})
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(dst, v)
	return 8, nil
}

// Ioctl implements vfs.FileImpl: TFD_IOC_SET_TICKS sets the expiration
// count (timerfd_ioctl()).
func (f *File) Ioctl(ctx vfs.Context, _ *vfs.FileDescription, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != ioctlSetTicks {
		return 0, unix.ENOTTY
	}
	var b [8]byte
	if err := ctx.CopyInBytes(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	v := binary.LittleEndian.Uint64(b[:])
	if v == 0 {
		return 0, unix.EINVAL
	}
	f.mu.Lock()
	f.ticks = v
	f.mu.Unlock()
	f.queue.Notify(waiter.EventIn)
	return 0, nil
}

// Release implements vfs.FileImpl: the timer stops.
func (f *File) Release() {
	f.mu.Lock()
	f.next = 0
	f.scheduleLocked(0)
	f.mu.Unlock()
}
