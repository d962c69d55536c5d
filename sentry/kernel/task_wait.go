package kernel

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"
)

// WaitOptions select children and events for Wait, in wait4(2)/waitid(2)
// terms.
type WaitOptions struct {
	// PID is wait4's pid argument: > 0 that child, -1 any child, 0 a
	// child in the caller's process group, < -1 a child in group -PID.
	PID int32
	// Exited, Stopped and Continued select the events reported (WEXITED
	// is implied by wait4; WUNTRACED/WSTOPPED; WCONTINUED).
	Exited, Stopped, Continued bool
	// NoHang returns at once when no child is ready (WNOHANG).
	NoHang bool
	// NoWait leaves the child waitable (WNOWAIT, waitid only).
	NoWait bool
	// Clone and All select children by exit signal (__WCLONE: only
	// children whose exit signal is not SIGCHLD; __WALL: all; neither:
	// only SIGCHLD children).
	Clone, All bool
	// NoThread waits only for children of the calling thread; the
	// sentry tracks children per process, so it has no effect
	// (__WNOTHREAD).
	NoThread bool
}

// WaitEvent says what happened to a child.
type WaitEvent int

// Wait events.
const (
	WaitExited WaitEvent = iota
	WaitStopped
	WaitContinued
)

// WaitResult is a reaped (or, with NoWait, peeked) child.
type WaitResult struct {
	PID    int32
	UID    uint32
	Event  WaitEvent
	Status WaitStatus
	// StopSignal is the signal that stopped the child (WaitStopped).
	StopSignal int
	// Usage is the child's resource usage including its reaped
	// children (WaitExited only).
	Usage Usage
}

// RawStatus returns the wait(2) status word for r.
func (r *WaitResult) RawStatus() uint32 {
	switch r.Event {
	case WaitStopped:
		return uint32(r.StopSignal)<<8 | 0x7f
	case WaitContinued:
		return 0xffff
	}
	return r.Status.Raw()
}

// CldCode returns waitid's si_code and si_status for r.
func (r *WaitResult) CldCode() (int32, int32) {
	switch r.Event {
	case WaitStopped:
		return cldStopped, int32(r.StopSignal)
	case WaitContinued:
		return cldContinued, int32(unix.SIGCONT)
	}
	return r.Status.cldCode()
}

// Wait waits for a child to change state (do_wait()). It returns
// (nil, nil) when NoHang is set and no child is ready, ECHILD when no child
// matches, and ERESTARTSYS when the task is interrupted.
func (t *Task) Wait(o WaitOptions) (*WaitResult, error) {
	e, ch := waiter.NewChannelEntry(waiter.EventIn)
	t.tg.childEvents.EventRegister(&e)
	defer t.tg.childEvents.EventUnregister(&e)
	for {
		res, matched := t.tryWait(o)
		if res != nil {
			return res, nil
		}
		if !matched {
			return nil, unix.ECHILD
		}
		if o.NoHang {
			return nil, nil
		}
		select {
		case <-ch:
		case <-t.interruptCh:
			if t.Interrupted() {
				return nil, ERestartSys
			}
		}
	}
}

// tryWait looks for a child with a reportable event. It returns the event
// (consuming it unless NoWait) and whether any child matched at all.
func (t *Task) tryWait(o WaitOptions) (*WaitResult, bool) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	self := t.tg
	matched := false
	for c := range self.children {
		switch {
		case o.PID > 0 && c.pid != o.PID,
			o.PID == 0 && c.pgid != self.pgid,
			o.PID < -1 && c.pgid != -o.PID:
			continue
		}
		// eligible_child(): __WALL takes all; otherwise __WCLONE
		// selects exactly the children whose exit signal is not
		// SIGCHLD.
		if !o.All && o.Clone != (c.exitSignal != int(unix.SIGCHLD)) {
			continue
		}
		matched = true
		c.mu.Lock()
		uid := c.leader.creds.RealUID
		switch {
		case c.zombie && o.Exited:
			res := &WaitResult{PID: c.pid, UID: uid, Event: WaitExited, Status: c.exitStatus}
			res.Usage = c.usage
			res.Usage.add(c.childrenUsage)
			c.mu.Unlock()
			if !o.NoWait {
				delete(self.children, c)
				delete(k.tgs, c.pid)
				self.mu.Lock()
				self.childrenUsage.add(res.Usage)
				self.mu.Unlock()
			}
			return res, true
		case o.Stopped && c.stopped && c.stopReport != 0:
			res := &WaitResult{PID: c.pid, UID: uid, Event: WaitStopped, StopSignal: c.stopReport}
			if !o.NoWait {
				c.stopReport = 0
			}
			c.mu.Unlock()
			return res, true
		case o.Continued && c.contReport:
			res := &WaitResult{PID: c.pid, UID: uid, Event: WaitContinued}
			if !o.NoWait {
				c.contReport = false
			}
			c.mu.Unlock()
			return res, true
		}
		c.mu.Unlock()
	}
	return nil, matched
}
