// Package signalfd implements signalfd(2) files (fs/signalfd.c): reading
// one dequeues pending signals in its mask from the reading thread and
// its process, as struct signalfd_siginfo records.
//
// Reads act on the calling task, as in Linux. Readiness (poll, epoll) has
// no caller in the waiter.Waitable interface, so it reports the signals
// pending for the task that created the file and is notified by that
// task's process; Linux uses the polling task, which differs only when a
// signalfd is polled by a process other than its creator (after fork).
package signalfd

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/anon"
	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// recordSize is sizeof(struct signalfd_siginfo).
const recordSize = 128

// File is a signalfd.
type File struct {
	vfs.FileDefaults
	anon.File

	// creator is the task that made the file (see the package comment).
	// Immutable.
	creator *kernel.Task

	mu sync.Mutex
	// mask is the set of signals the file reads, never SIGKILL or
	// SIGSTOP. Protected by mu.
	mask uint64
}

// New returns a signalfd for the signals in mask, created by t, as a
// description with one reference; flags are the open flags (O_RDWR plus
// O_NONBLOCK for SFD_NONBLOCK).
func New(t *kernel.Task, mask uint64, flags uint32) *vfs.FileDescription {
	return vfs.NewAnonFile(&File{creator: t, mask: mask}, flags, anon.Options)
}

// Name implements vfs.Namer.
func (*File) Name() string { return "anon_inode:[signalfd]" }

// Mask returns the signals the file reads.
func (f *File) Mask() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mask
}

// SetMask replaces the mask (signalfd4(2) on an existing signalfd). The
// caller wakes waiters through the process's SignalfdQueue, as Linux wakes
// signalfd_wqh.
func (f *File) SetMask(mask uint64) {
	f.mu.Lock()
	f.mask = mask
	f.mu.Unlock()
}

// Readiness implements waiter.Waitable (signalfd_poll()).
func (f *File) Readiness(mask waiter.EventMask) waiter.EventMask {
	if f.creator.PendingSignals()&f.Mask() != 0 {
		return mask & waiter.EventIn
	}
	return 0
}

// EventRegister implements waiter.Waitable.
func (f *File) EventRegister(e *waiter.Entry) error {
	f.creator.ThreadGroup().SignalfdQueue().EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (f *File) EventUnregister(e *waiter.Entry) {
	f.creator.ThreadGroup().SignalfdQueue().EventUnregister(e)
}

// signalQueue is a process's signalfd queue as a waiter.Waitable, for
// blocking reads by that process's threads.
type signalQueue struct{ q *waiter.Queue }

func (signalQueue) Readiness(waiter.EventMask) waiter.EventMask { return 0 }

func (s signalQueue) EventRegister(e *waiter.Entry) error {
	s.q.EventRegister(e)
	return nil
}

func (s signalQueue) EventUnregister(e *waiter.Entry) { s.q.EventUnregister(e) }

// Read implements vfs.FileImpl (signalfd_read()): it dequeues as many
// signals as whole records fit in dst, waiting for the first one unless
// the file is non-blocking.
func (f *File) Read(ctx vfs.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	count := len(dst) / recordSize
	if count == 0 {
		return 0, unix.EINVAL
	}
	t, ok := ctx.(*kernel.Task)
	if !ok {
		return 0, unix.EINVAL
	}
	nonblock := fd.StatusFlags()&unix.O_NONBLOCK != 0
	q := signalQueue{t.ThreadGroup().SignalfdQueue()}
	n := 0
	for n < count {
		info, err := vfs.BlockOn(ctx, q, waiter.EventIn, nonblock || n > 0, time.Time{}, func() (kernel.SigInfo, error) {
			info, ok := t.DequeueSignalMask(f.Mask())
			if !ok {
				return info, unix.EAGAIN
			}
			return info, nil
		})
		if err != nil {
			if n > 0 {
				break
			}
			return 0, err
		}
		encode(dst[n*recordSize:(n+1)*recordSize], &info)
		n++
	}
	return n * recordSize, nil
}

// siginfo layouts (siginfo_layout() in kernel/signal.c) that matter for
// the fields signalfd copies.
const (
	siUser    = 0
	siKernel  = 0x80
	nsigFault = 8 // the largest fault si_code of any fault signal
)

// encode fills a struct signalfd_siginfo (signalfd_copyinfo()): fields
// that the signal's siginfo layout does not carry stay zero.
func encode(b []byte, i *kernel.SigInfo) {
	clear(b)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(i.Signo))
	le.PutUint32(b[8:], uint32(i.Code))
	kernelCode := i.Code > siUser && i.Code < siKernel
	switch {
	case kernelCode && isFault(i.Signo) && i.Code <= nsigFault:
		// SIL_FAULT: the faulting address.
		le.PutUint64(b[72:], i.Addr)
	case kernelCode && i.Signo == int(unix.SIGCHLD):
		// SIL_CHLD: child's pid, uid and status (CPU times are not
		// accounted per child yet and read as zero).
		le.PutUint32(b[12:], uint32(i.PID))
		le.PutUint32(b[16:], i.UID)
		le.PutUint32(b[40:], uint32(i.Status))
	default:
		// SIL_KILL and SIL_RT (kill, tgkill, sigqueue): the sender.
		le.PutUint32(b[12:], uint32(i.PID))
		le.PutUint32(b[16:], i.UID)
	}
}

func isFault(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		return true
	}
	return false
}
