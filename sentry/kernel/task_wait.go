package kernel

import "golang.org/x/sys/unix"

// WaitOptions select children for Wait, in wait4(2)'s terms.
type WaitOptions struct {
	// PID is wait4's pid argument: > 0 that child, -1 any child, 0 a
	// child in the caller's process group, < -1 a child in group -PID.
	PID int32
	// NoHang returns at once when no child is ready (WNOHANG).
	NoHang bool
	// NoWait leaves the child waitable (WNOWAIT, waitid only).
	NoWait bool
}

// WaitResult is a reaped (or, with NoWait, peeked) child.
type WaitResult struct {
	PID    int32
	UID    uint32
	Status WaitStatus
}

// Wait waits for a child to exit (do_wait()). It returns (nil, nil) when
// NoHang is set and no child is ready, ECHILD when no child matches, and
// EINTR when the task is interrupted.
func (t *Task) Wait(o WaitOptions) (*WaitResult, error) {
	k := t.k
	for {
		k.mu.Lock()
		matched := false
		for c := range t.tg.children {
			switch {
			case o.PID > 0 && c.pid != o.PID,
				o.PID == 0 && c.pgid != t.tg.pgid,
				o.PID < -1 && c.pgid != -o.PID:
				continue
			}
			matched = true
			if !c.zombie {
				continue
			}
			c.mu.Lock()
			res := &WaitResult{PID: c.pid, UID: c.leader.creds.RealUID, Status: c.exitStatus}
			c.mu.Unlock()
			if !o.NoWait {
				delete(t.tg.children, c)
				delete(k.tgs, c.pid)
			}
			k.mu.Unlock()
			return res, nil
		}
		k.mu.Unlock()
		if !matched {
			return nil, unix.ECHILD
		}
		if o.NoHang {
			return nil, nil
		}
		select {
		case <-t.tg.childEvent:
		case <-t.interruptCh:
			if t.Interrupted() {
				return nil, ERestartSys
			}
		}
	}
}
