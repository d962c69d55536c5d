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
	if t.clearChildTID != 0 {
		// CLONE_CHILD_CLEARTID: zero the TID word (the futex wake comes
		// with threads).
		_ = t.CopyOutBytes(t.clearChildTID, []byte{0, 0, 0, 0})
	}
	if t.fdTable != nil {
		t.fdTable.RemoveAll()
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
	k.mu.Unlock()
	tg.mu.Lock()
	tg.tasks--
	last := tg.tasks == 0
	status := tg.exitStatus
	tg.mu.Unlock()
	if last && tg == k.initTG {
		k.initStatus = status
		close(k.initExited)
	}
}

// Exit implements exit(2) for the syscall layer.
func (t *Task) Exit(code int) { t.exitThread(code & 0xff) }

// ExitGroup implements exit_group(2) for the syscall layer.
func (t *Task) ExitGroup(code int) { t.exitGroup(WaitStatus{Code: code & 0xff}) }

// SendSignalToSelf applies sig's default or ignore disposition to t's
// process (kill(getpid(), sig) before handlers can run).
func (t *Task) SendSignalToSelf(sig unix.Signal) {
	a := t.tg.SigAction(int(sig))
	if sig != unix.SIGKILL && sig != unix.SIGSTOP && a.Handler == SigIgn {
		return
	}
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT:
		// Default action: ignore.
		return
	}
	t.forceSignal(sig)
}
