package kernel

import "time"

// PPID returns the parent's TGID as seen in the sandbox (0 for init).
func (t *Task) PPID() int32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if p := t.tg.parent; p != nil {
		return p.pid
	}
	return 0
}

// SetClearChildTID records set_tid_address(2)'s address.
func (t *Task) SetClearChildTID(a uintptr) { t.clearChildTID = a }

// SetRobustList records set_robust_list(2)'s arguments.
func (t *Task) SetRobustList(head uintptr, length uint64) {
	t.robustList, t.robustListLen = head, length
}

// RobustList returns the robust list head and length.
func (t *Task) RobustList() (uintptr, uint64) { return t.robustList, t.robustListLen }

// SigMask returns the blocked signal set.
func (t *Task) SigMask() uint64 { return t.sigMask }

// SetSigMask replaces the blocked set; SIGKILL and SIGSTOP can never be
// blocked (sigprocmask(2)).
func (t *Task) SetSigMask(m uint64) {
	t.tg.mu.Lock()
	t.sigMask = m &^ (1<<(9-1) | 1<<(19-1))
	t.tg.mu.Unlock()
}

// SetName sets the comm name (PR_SET_NAME), truncated to 15 bytes.
func (t *Task) SetName(n string) {
	if len(n) > 15 {
		n = n[:15]
	}
	t.name = n
}

// AltStack is sigaltstack(2)'s state.
type AltStack struct {
	SP    uint64
	Flags int32
	Size  uint64
}

// AltStack returns the alternate signal stack.
func (t *Task) AltStack() AltStack { return t.altStack }

// SetAltStack replaces the alternate signal stack.
func (t *Task) SetAltStack(s AltStack) { t.altStack = s }

// CPUTime returns the CPU time charged to the task (user + system).
func (t *Task) CPUTime() time.Duration {
	u := t.usage()
	return u.UserTime + u.SysTime
}

// StartTime returns when the task was created.
func (t *Task) StartTime() time.Time { return t.startTime }

// TotalMemory is the memory the sandbox reports as installed (sysinfo,
// /proc/meminfo): the memory limit if one is set, else the host's.
func (k *Kernel) TotalMemory() uint64 {
	if k.MemoryLimit != 0 {
		return k.MemoryLimit
	}
	return k.HostMemory
}

// Sleep blocks for d of the sandbox's clocks (see ktime.Clock.HostDuration).
// It reports whether the full duration elapsed; it returns early (false)
// when a signal is pending for the task or its thread group is exiting.
func (t *Task) Sleep(d time.Duration) bool {
	timer := time.NewTimer(t.k.Time.HostDuration(d))
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return true
		case <-t.interruptCh:
			if t.Interrupted() {
				return false
			}
		}
	}
}

// Interrupted reports whether a blocking syscall should stop waiting: an
// unblocked signal is pending or the thread group is exiting.
//
// A stop does not interrupt: a thread blocked in a syscall stays blocked
// while its group is stopped, as in Linux, and parks only on its way out.
func (t *Task) Interrupted() bool {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.exiting || tg.execer != nil && tg.execer != t {
		return true
	}
	return (t.pending.mask|tg.pending.mask)&^t.sigMask != 0
}

// InterruptChan is signalled when the task may have been interrupted;
// blocking code selects on it and then checks Interrupted.
func (t *Task) InterruptChan() <-chan struct{} { return t.interruptCh }

// Interrupt wakes the task from a blocking syscall or app execution.
func (t *Task) Interrupt() {
	select {
	case t.interruptCh <- struct{}{}:
	default:
	}
	if t.pctx != nil {
		t.pctx.Interrupt()
	}
}

// SetNoNewPrivs sets PR_SET_NO_NEW_PRIVS; it can never be cleared.
func (t *Task) SetNoNewPrivs() { t.noNewPrivs.Store(true) }

// NoNewPrivs reports PR_GET_NO_NEW_PRIVS.
func (t *Task) NoNewPrivs() bool { return t.noNewPrivs.Load() }

// SetRestartBlock records how restart_syscall(2) resumes the syscall about
// to return ERESTART_RESTARTBLOCK (nanosleep, clock_nanosleep).
func (t *Task) SetRestartBlock(fn func(*Task) (uintptr, error)) { t.restartBlock = fn }

// TakeRestartBlock returns and clears the restart block (nil if none).
func (t *Task) TakeRestartBlock() func(*Task) (uintptr, error) {
	fn := t.restartBlock
	t.restartBlock = nil
	return fn
}

// SetPdeathsig implements PR_SET_PDEATHSIG (0 clears it).
func (t *Task) SetPdeathsig(sig int) {
	t.k.mu.Lock()
	t.pdeathsig = sig
	t.k.mu.Unlock()
}

// Pdeathsig returns PR_GET_PDEATHSIG's signal.
func (t *Task) Pdeathsig() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pdeathsig
}

// SetSubreaper implements PR_SET_CHILD_SUBREAPER: descendants that lose
// their parent are reparented to the nearest subreaper ancestor.
func (tg *ThreadGroup) SetSubreaper(on bool) {
	k := tg.leader.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg.subreaper = on
	if !on {
		return
	}
	// Mark existing descendants, so their exit looks up the tree
	// (has_child_subreaper).
	var mark func(*ThreadGroup)
	mark = func(p *ThreadGroup) {
		for c := range p.children {
			c.hasSubreaper = true
			mark(c)
		}
	}
	mark(tg)
}

// Subreaper reports PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) Subreaper() bool {
	k := tg.leader.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.subreaper
}
