package kernel

import "golang.org/x/sys/unix"

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
// (do_group_exit()). The first caller's status wins.
func (t *Task) exitGroup(s WaitStatus) {
	tg := t.tg
	tg.mu.Lock()
	if !tg.exiting {
		tg.exiting = true
		tg.exitStatus = s
	}
	tg.mu.Unlock()
	t.exitRequested = true
}

// exitThread ends only t (exit(2)). The last thread's exit code becomes the
// group's status, as in do_exit().
func (t *Task) exitThread(code int) {
	tg := t.tg
	tg.mu.Lock()
	if !tg.exiting && tg.tasks == 1 {
		tg.exiting = true
		tg.exitStatus = WaitStatus{Code: code}
	}
	tg.mu.Unlock()
	t.exitRequested = true
}

// exitNotify releases the task's resources and, for the last thread of
// init, reports the sandbox's exit status.
func (t *Task) exitNotify() {
	t.releaseVfork()
	if t.clearChildTID != 0 && t.mm != nil {
		// CLONE_CHILD_CLEARTID: zero the TID word and wake one waiter
		// (mm_release()), which is how pthread_join learns of the exit.
		if t.CopyOutBytes(t.clearChildTID, []byte{0, 0, 0, 0}) == nil {
			_, _ = t.FutexWake(t.clearChildTID, 1, ^uint32(0), false)
		}
	}
	if t.fdTable != nil {
		t.fdTable.DecRef()
	}
	if t.fsc != nil {
		t.fsc.DecRef()
	}
	if t.mm != nil {
		t.mm.Release()
	}
	if t.pctx != nil {
		t.pctx.Release()
	}
	k := t.k
	tg := t.tg
	k.mu.Lock()
	delete(k.tasks, t.tid)
	tg.mu.Lock()
	tg.tasks--
	last := tg.tasks == 0
	status := tg.exitStatus
	tg.mu.Unlock()
	if last {
		t.exitIPC()
		tg.stopTimers()
		k.becomeZombieLocked(tg)
	}
	k.mu.Unlock()
	if last && tg == k.initTG {
		k.initStatus = status
		close(k.initExited)
		// Init's death ends the sandbox: kill every other process
		// (zap_pid_ns_processes()).
		k.killAll()
	}
}

// becomeZombieLocked turns tg into a zombie (exit_notify()): its children go
// to init, and its parent is told, or reaps it at once if the parent ignores
// SIGCHLD.
//
// Preconditions: k.mu is held; tg's last thread has exited.
func (k *Kernel) becomeZombieLocked(tg *ThreadGroup) {
	tg.zombie = true
	close(tg.exited)
	for c := range tg.children {
		delete(tg.children, c)
		if k.initTG != nil && k.initTG != tg {
			c.parent = k.initTG
			k.initTG.children[c] = struct{}{}
			if c.zombie {
				notify(k.initTG.childEvent)
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
	// zombies (do_notify_parent()).
	a := p.SigAction(int(unix.SIGCHLD))
	if tg.exitSignal == int(unix.SIGCHLD) && (a.Handler == SigIgn || a.Flags&saNoCldWait != 0) {
		delete(p.children, tg)
		delete(k.tgs, tg.pid)
	}
	notify(p.childEvent)
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
		t.tg.mu.Lock()
		if !t.tg.exiting {
			t.tg.exiting = true
			t.tg.exitStatus = WaitStatus{Signal: int(unix.SIGKILL)}
		}
		t.tg.mu.Unlock()
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
