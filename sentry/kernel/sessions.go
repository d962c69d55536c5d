package kernel

import "golang.org/x/sys/unix"

// Process groups and sessions (kernel/sys.c). Every field involved is
// protected by Kernel.mu.

// PGID returns tg's process group ID.
func (k *Kernel) PGID(tg *ThreadGroup) int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.pgid
}

// SID returns tg's session ID.
func (k *Kernel) SID(tg *ThreadGroup) int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.sid
}

// ProcessGroup returns the live members of process group pgid.
func (k *Kernel) ProcessGroup(pgid int32) []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*ThreadGroup
	for _, tg := range k.tgs {
		if tg.pgid == pgid && !tg.zombie {
			out = append(out, tg)
		}
	}
	return out
}

// Setpgid implements setpgid(2) for t.
func (t *Task) Setpgid(pid, pgid int32) error {
	if pgid < 0 {
		return unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	self := t.tg
	target := self
	if pid != 0 && pid != self.pid {
		target = k.tgs[pid]
		if target == nil || target.parent != self {
			return unix.ESRCH
		}
		if target.sid != self.sid {
			return unix.EPERM
		}
		if target.execed {
			return unix.EACCES
		}
	}
	if pgid == 0 {
		pgid = target.pid
	}
	if target.sid == target.pid {
		// A session leader cannot change its group.
		return unix.EPERM
	}
	if pgid != target.pid {
		// The group must exist in the caller's session.
		found := false
		for _, tg := range k.tgs {
			if tg.pgid == pgid && tg.sid == self.sid && !tg.zombie {
				found = true
				break
			}
		}
		if !found {
			return unix.EPERM
		}
	}
	target.pgid = pgid
	return nil
}

// Getpgid implements getpgid(2) (pid 0: the caller).
func (t *Task) Getpgid(pid int32) (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if pid != 0 {
		tg = k.tgs[pid]
		if tg == nil {
			return 0, unix.ESRCH
		}
	}
	return tg.pgid, nil
}

// Getsid implements getsid(2).
func (t *Task) Getsid(pid int32) (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if pid != 0 {
		tg = k.tgs[pid]
		if tg == nil {
			return 0, unix.ESRCH
		}
	}
	return tg.sid, nil
}

// Setsid implements setsid(2): EPERM if the caller already leads a process
// group.
func (t *Task) Setsid() (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	for _, o := range k.tgs {
		if o.pgid == tg.pid && !o.zombie {
			return 0, unix.EPERM
		}
	}
	tg.pgid, tg.sid = tg.pid, tg.pid
	return tg.pid, nil
}
