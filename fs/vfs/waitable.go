package vfs

import (
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/sentry/syserr"
)

// Readiness for poll(2), select(2) and epoll(7) uses gVisor's waiter
// package (gvisor.dev/gvisor/pkg/waiter): a file that can block implements
// waiter.Waitable on its FileImpl:
//
//	Readiness(mask) waiter.EventMask   // which of mask are ready now
//	EventRegister(e *waiter.Entry) error
//	EventUnregister(e *waiter.Entry)
//
// usually by embedding a waiter.Queue and calling Queue.Notify whenever
// its state changes. Files without it are always ready for reading and
// writing, as regular files are in Linux (DEFAULT_POLLMASK).

// defaultReadiness is what poll reports for files that never block.
const defaultReadiness = waiter.ReadableEvents | waiter.WritableEvents

// Readiness returns the events in mask that are ready on the file (its
// f_op->poll()).
func (fd *FileDescription) Readiness(mask waiter.EventMask) waiter.EventMask {
	if w, ok := fd.impl.(waiter.Waitable); ok {
		return w.Readiness(mask)
	}
	return mask & defaultReadiness
}

// EventRegister registers e for the file's readiness changes. Files that
// never block accept the registration and never notify (epoll_ctl(2)
// returns EPERM for them itself: see Pollable).
func (fd *FileDescription) EventRegister(e *waiter.Entry) error {
	if w, ok := fd.impl.(waiter.Waitable); ok {
		return w.EventRegister(e)
	}
	return nil
}

// EventUnregister undoes EventRegister.
func (fd *FileDescription) EventUnregister(e *waiter.Entry) {
	if w, ok := fd.impl.(waiter.Waitable); ok {
		w.EventUnregister(e)
	}
}

// Pollable reports whether the file has real readiness (epoll_ctl(2) on a
// regular file or directory fails with EPERM: file_can_poll()).
func (fd *FileDescription) Pollable() bool {
	_, ok := fd.impl.(waiter.Waitable)
	return ok
}

// BlockOn runs op until it fails with something other than EAGAIN, waiting
// for one of mask on w between attempts: the shape of every blocking read,
// write, accept and connect. If nonblock, op runs once. A signal for ctx
// ends the wait with syserr.ERestartSys (restarted or EINTR as the
// handler's SA_RESTART says); a zero deadline means none, otherwise its
// passing returns ETIMEDOUT.
//
// op is tried again after registering, so a wakeup between op's EAGAIN and
// the registration is not lost.
func BlockOn[T any](ctx Context, w waiter.Waitable, mask waiter.EventMask, nonblock bool, deadline time.Time, op func() (T, error)) (T, error) {
	v, err := op()
	if err != unix.EAGAIN || nonblock {
		return v, err
	}
	e, ch := waiter.NewChannelEntry(mask)
	if err := w.EventRegister(&e); err != nil {
		return v, err
	}
	defer w.EventUnregister(&e)
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	intr := ctx.InterruptChan()
	for {
		v, err = op()
		if err != unix.EAGAIN {
			return v, err
		}
		select {
		case <-ch:
		case <-intr:
			if ctx.Interrupted() {
				return v, syserr.ERestartSys
			}
		case <-timeout:
			return v, unix.ETIMEDOUT
		}
	}
}
