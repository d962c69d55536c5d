package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"
)

// isExiting reports whether the thread group is being torn down.
func (tg *ThreadGroup) isExiting() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting
}

// ExitStatus returns the group's final status once it is exiting.
func (tg *ThreadGroup) ExitStatus() WaitStatus {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exitStatus
}

// exitGroup starts tearing down t's thread group with status s
// (do_group_exit()): the first caller's status wins and every other thread
// is interrupted so that it exits too (zap_other_threads()).
func (t *Task) exitGroup(s WaitStatus) {
	tg := t.tg
	tg.mu.Lock()
	first := !tg.exiting
	if first {
		tg.exiting = true
		tg.exitStatus = s
	}
	tg.mu.Unlock()
	t.exitRequested = true
	if first {
		t.k.interruptGroup(tg)
	}
}

// exitThread ends only t (exit(2)). If t is the leader its code becomes the
// process's status unless a group exit happens first.
func (t *Task) exitThread(code int) {
	tg := t.tg
	tg.mu.Lock()
	if tg.leader == t {
		tg.leaderStatus = WaitStatus{Code: code}
	}
	tg.mu.Unlock()
	t.exitRequested = true
}

// exitNotify releases the task's resources (do_exit()): robust futexes and
// CLONE_CHILD_CLEARTID are handled while the address space is still there;
// the last thread of a process makes it a zombie and tells the parent.
func (t *Task) exitNotify() {
	t.releaseVfork()
	if t.mm != nil {
		t.exitRobustList()
	}
	t.accountExit()
	if t.fdTable != nil {
		t.fdTable.DecRef()
	}
	if t.fsc != nil {
		t.fsc.DecRef()
	}
	k := t.k
	tg := t.tg
	k.mu.Lock()
	delete(k.tasks, t.tid)
	tg.mu.Lock()
	tg.tasks--
	last := tg.tasks == 0
	status := tg.exitStatus
	if !tg.exiting {
		status = tg.leaderStatus
		if last {
			// The status is final now (do_exit() of the last
			// thread); later readers see the same.
			tg.exitStatus = status
			tg.exiting = true
		}
	}
	if tg.execer != nil {
		notify(tg.execDone)
	}
	tg.usage.add(t.usage())
	tg.mu.Unlock()
	if last {
		t.exitIPC()
		tg.stopTimers()
		tg.deleteTimers()
	}
	k.mu.Unlock()
	if t.mm != nil {
		if t.clearChildTID != 0 && t.mm.Users() > 1 {
			// CLONE_CHILD_CLEARTID: zero the TID word and wake one
			// waiter (mm_release()), which is how pthread_join learns
			// of the exit. Only meaningful if someone else still uses
			// the memory. Done after the thread left the task list,
			// so that a joiner never still sees it in /proc/PID/task.
			if t.CopyOutBytes(t.clearChildTID, []byte{0, 0, 0, 0}) == nil {
				_, _ = t.FutexWake(t.clearChildTID, 1, ^uint32(0), false)
			}
		}
		t.mm.DecUsers()
	}
	if t.pctx != nil {
		t.pctx.Release()
	}
	if last {
		// The process becomes a zombie, and its parent can reap it, only
		// once its memory is gone (exit_mm() precedes exit_notify()): a
		// parent's wait must find the child's pages freed and its SysV
		// shared memory detached.
		k.mu.Lock()
		k.becomeZombieLocked(tg, status)
		k.mu.Unlock()
		// Outside Kernel.mu: listeners (epoll) may look at the
		// pidfd's readiness, which takes it.
		tg.exitEvents.Notify(waiter.ReadableEvents)
	}
	if last && tg == k.initTG {
		k.initStatus = status
		close(k.initExited)
		// Init's death ends the sandbox: kill every other process
		// (zap_pid_ns_processes()).
		k.killAll()
	}
}

// becomeZombieLocked turns tg into a zombie (exit_notify()): its children
// go to the nearest subreaper or to init (forget_original_parent()), each
// child that asked for it gets its PR_SET_PDEATHSIG, and the parent gets
// the exit signal — or reaps tg at once if it ignores SIGCHLD.
//
// Preconditions: k.mu is held; tg's last thread has exited.
func (k *Kernel) becomeZombieLocked(tg *ThreadGroup, status WaitStatus) {
	tg.zombie = true
	close(tg.exited)
	reaper := k.findReaperLocked(tg)
	for c := range tg.children {
		delete(tg.children, c)
		k.sendPdeathsigLocked(c)
		if reaper != nil {
			c.parent = reaper
			reaper.children[c] = struct{}{}
			if c.zombie {
				reaper.childEvents.Notify(waiter.EventIn)
				if c.exitSignal > 0 {
					// An orphaned zombie is reported to its
					// new parent as if it had just died.
					k.postExitSignalLocked(c, reaper, c.exitStatus)
				}
			}
		} else {
			c.parent = nil
		}
	}
	p := tg.parent
	if p == nil {
		delete(k.tgs, tg.pid)
		return
	}
	// A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never sees
	// zombies of SIGCHLD children (do_notify_parent()).
	a := p.SigAction(int(unix.SIGCHLD))
	if tg.exitSignal == int(unix.SIGCHLD) && (a.Handler == SigIgn || a.Flags&saNoCldWait != 0) {
		delete(p.children, tg)
		delete(k.tgs, tg.pid)
		p.mu.Lock()
		p.childrenUsage.add(tg.usage)
		p.childrenUsage.add(tg.childrenUsage)
		p.mu.Unlock()
		p.childEvents.Notify(waiter.EventIn)
		return
	}
	if tg.exitSignal > 0 {
		k.postExitSignalLocked(tg, p, status)
	}
	p.childEvents.Notify(waiter.EventIn)
}

// postExitSignalLocked sends p the exit signal of its child tg, with the
// SIGCHLD siginfo wait(2) would report.
//
// Preconditions: k.mu is held.
func (k *Kernel) postExitSignalLocked(tg, p *ThreadGroup, status WaitStatus) {
	info := SigInfo{Signo: tg.exitSignal, PID: tg.pid, UID: tg.leader.creds.RealUID}
	info.Code, info.Status = status.cldCode()
	p.mu.Lock()
	queued := k.sendSignalLocked(p, nil, info)
	p.mu.Unlock()
	if queued {
		p.signalQueued()
		k.interruptGroupLocked(p)
	}
}

// cldCode returns the SIGCHLD si_code and si_status for an exit status.
func (w WaitStatus) cldCode() (int32, int32) {
	switch {
	case w.Signal != 0 && w.CoreDumped:
		return cldDumped, int32(w.Signal)
	case w.Signal != 0:
		return cldKilled, int32(w.Signal)
	}
	return cldExited, int32(w.Code)
}

// findReaperLocked returns the process that adopts tg's children: the
// nearest live ancestor with PR_SET_CHILD_SUBREAPER, else init; nil when
// init itself is exiting (find_new_reaper()).
//
// Preconditions: k.mu is held.
func (k *Kernel) findReaperLocked(tg *ThreadGroup) *ThreadGroup {
	if tg == k.initTG {
		return nil
	}
	if tg.hasSubreaper {
		for a := tg.parent; a != nil; a = a.parent {
			if a.subreaper && !a.zombie {
				return a
			}
		}
	}
	return k.initTG
}

// sendPdeathsigLocked delivers PR_SET_PDEATHSIG to the threads of c whose
// parent just died. Linux sends it per thread when the thread that created
// the child exits; the sentry tracks parents per process, so it fires when
// the parent process exits.
//
// Preconditions: k.mu is held.
func (k *Kernel) sendPdeathsigLocked(c *ThreadGroup) {
	for _, t := range k.tasks {
		if t.tg != c || t.pdeathsig == 0 {
			continue
		}
		c.mu.Lock()
		queued := k.sendSignalLocked(c, t, SigInfo{Signo: t.pdeathsig, Code: SIUser})
		c.mu.Unlock()
		if queued {
			t.Interrupt()
		}
	}
}

// saNoCldWait is SA_NOCLDWAIT.
const saNoCldWait = 2

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// killAll makes every remaining task exit with SIGKILL.
func (k *Kernel) killAll() {
	for _, t := range k.Tasks() {
		tg := t.tg
		tg.mu.Lock()
		if !tg.exiting {
			tg.exiting = true
			tg.exitStatus = WaitStatus{Signal: int(unix.SIGKILL)}
		}
		if tg.stopped {
			tg.stopped = false
			close(tg.continued)
			tg.continued = make(chan struct{})
		}
		tg.mu.Unlock()
		t.Interrupt()
	}
}

// Exit implements exit(2) for the syscall layer.
func (t *Task) Exit(code int) { t.exitThread(code & 0xff) }

// ExitGroup implements exit_group(2) for the syscall layer.
func (t *Task) ExitGroup(code int) { t.exitGroup(WaitStatus{Code: code & 0xff}) }

// SignalProcess sends sig from t to the process tg (kill(2)). Permission
// checks (kill_ok_by_cred()) are the caller's.
func (t *Task) SignalProcess(tg *ThreadGroup, sig int) {
	t.k.SendSignal(tg, SigInfo{Signo: sig, Code: SIUser, PID: t.tg.pid, UID: t.creds.RealUID})
}

// Robust futex list (kernel/futex/core.c exit_robust_list(),
// Documentation/locking/robust-futex-ABI.rst).
const (
	futexWaiters    = 0x80000000
	futexOwnerDied  = 0x40000000
	futexTIDMask    = 0x3fffffff
	robustListLimit = 2048
)

// exitRobustList walks the robust futex list registered with
// set_robust_list(2): every futex still owned by t is marked
// FUTEX_OWNER_DIED and, if it has waiters, one is woken, so that
// pthread_mutex_lock with PTHREAD_MUTEX_ROBUST returns EOWNERDEAD instead of
// hanging. The list is app memory: every read is checked and the walk is
// bounded, so a corrupt list only ends it.
func (t *Task) exitRobustList() {
	head := t.robustList
	if head == 0 || t.robustListLen != 24 {
		return
	}
	le := binary.LittleEndian
	var h [24]byte
	if t.CopyInBytes(head, h[:]) != nil {
		return
	}
	// struct robust_list_head { list.next; futex_offset; list_op_pending }
	next := uintptr(le.Uint64(h[0:]))
	off := int64(le.Uint64(h[8:]))
	pending := uintptr(le.Uint64(h[16:]))
	// An entry's low bit marks a PI futex; the word is at entry+offset.
	handle := func(entry uintptr) {
		t.handleDeadOwner(uintptr(int64(entry&^1)+off), entry&1 != 0)
	}
	for i := 0; next != head && i < robustListLimit; i++ {
		if next == 0 {
			return
		}
		var nb [8]byte
		if t.CopyInBytes(next&^1, nb[:]) != nil {
			return
		}
		nn := uintptr(le.Uint64(nb[:]))
		if next != pending {
			handle(next)
		}
		next = nn
	}
	if pending != 0 {
		handle(pending)
	}
}

// handleDeadOwner is handle_futex_death(): if the futex word at addr names
// t as its owner, set FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and wake a
// waiter. A PI futex with waiters goes straight to the first of them.
func (t *Task) handleDeadOwner(addr uintptr, pi bool) {
	if addr&3 != 0 {
		return
	}
	word, _, err := t.mm.AtomicUint32(addr, true, false)
	if err != nil {
		return
	}
	for {
		v := word.Load()
		if v&futexTIDMask != uint32(t.tid) {
			return
		}
		if pi && v&futexWaiters != 0 && t.handOffDeadPI(addr, v) {
			return
		}
		nv := v&futexWaiters | futexOwnerDied
		if word.CompareAndSwap(v, nv) {
			if v&futexWaiters != 0 {
				_, _ = t.FutexWake(addr, 1, ^uint32(0), false)
			}
			return
		}
	}
}
