package kernel

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Job control: group stop and continue (kernel/signal.c do_signal_stop(),
// prepare_signal(), do_notify_parent_cldstop()).
//
// A stop signal whose action is the default stops the whole process: the
// group is marked stopped at once, its threads are interrupted and park in
// waitWhileStopped before returning to the app (or leaving a syscall), and
// the parent is told (SIGCHLD with CLD_STOPPED, unless it set
// SA_NOCLDSTOP, and a report for wait(WUNTRACED)). SIGCONT, at the moment
// it is sent, resumes a stopped group and leaves a CLD_CONTINUED report.
// SIGKILL resumes a stopped group so that it can die.
//
// Linux declares the group stopped only when its last thread parks; here
// the declaration is immediate and threads running app code are kicked out
// of it by the interrupt, so a parent can see the stop a few instructions
// before the last thread parks. Nothing the app can observe depends on it.

// CLD_* si_code values for SIGCHLD (include/uapi/asm-generic/siginfo.h).
const (
	cldExited    = 1
	cldKilled    = 2
	cldDumped    = 3
	cldStopped   = 5
	cldContinued = 6
)

// stopGroup starts a group stop of tg by signal sig.
func (k *Kernel) stopGroup(tg *ThreadGroup, sig int) {
	k.mu.Lock()
	tg.mu.Lock()
	if tg.exiting || tg.stopped {
		tg.mu.Unlock()
		k.mu.Unlock()
		return
	}
	tg.stopped = true
	tg.stopReport = sig
	tg.contReport = false
	tg.mu.Unlock()
	k.notifyParentStateLocked(tg, cldStopped, sig)
	k.mu.Unlock()
	k.interruptGroup(tg)
}

// resumeStoppedLocked ends a group stop (SIGCONT or SIGKILL). report says
// whether the parent is told (CLD_CONTINUED); SIGKILL's resumption is not
// reported, the death is.
//
// Preconditions: k.mu and tg.mu are held.
func (k *Kernel) resumeStoppedLocked(tg *ThreadGroup, report bool) {
	if !tg.stopped {
		return
	}
	tg.stopped = false
	tg.stopReport = 0
	close(tg.continued)
	tg.continued = make(chan struct{})
	if !report {
		return
	}
	tg.contReport = true
	k.notifyParentStateLocked(tg, cldContinued, int(unix.SIGCONT))
}

// notifyParentStateLocked tells tg's parent that tg stopped or continued:
// its wait(2) callers wake, and it gets SIGCHLD unless it set SA_NOCLDSTOP.
// The caller may hold tg.mu (SIGCONT is handled under it): the parent's
// lock then nests inside the child's. That is the only place two
// ThreadGroup.mu are held, always child before parent, which cannot cycle
// since a process is never its own ancestor.
//
// Preconditions: k.mu is held.
func (k *Kernel) notifyParentStateLocked(tg *ThreadGroup, code int32, status int) {
	p := tg.parent
	if p == nil {
		return
	}
	p.mu.Lock()
	k.postCldStopLocked(tg, p, code, status)
	p.mu.Unlock()
	p.signalQueued()
	p.childEvents.Notify(waiter.EventIn)
	k.interruptGroupLocked(p)
}

// postCldStopLocked queues SIGCHLD for p about child tg unless p's
// SIGCHLD action has SA_NOCLDSTOP or ignores it.
//
// Preconditions: k.mu and p.mu are held.
func (k *Kernel) postCldStopLocked(tg, p *ThreadGroup, code int32, status int) {
	a := p.sigactions[unix.SIGCHLD-1]
	if a.Flags&saNoCldStop != 0 {
		return
	}
	info := SigInfo{Signo: int(unix.SIGCHLD), Code: code, PID: tg.pid, UID: tg.leader.creds.RealUID, Status: int32(status)}
	if !k.signalIgnoredLocked(p, info) || p.leader.sigMask&sigBit(int(unix.SIGCHLD)) != 0 {
		p.pending.enqueue(info)
	}
}

// interruptGroupLocked wakes every thread of tg.
//
// Preconditions: k.mu is held.
func (k *Kernel) interruptGroupLocked(tg *ThreadGroup) {
	for _, t := range k.tasks {
		if t.tg == tg {
			t.Interrupt()
		}
	}
}

// waitWhileStopped parks t while its group is stopped (the TASK_STOPPED
// part of do_signal_stop()). SIGCONT and SIGKILL end the wait.
func (t *Task) waitWhileStopped() {
	tg := t.tg
	for {
		tg.mu.Lock()
		if !tg.stopped || tg.exiting {
			tg.mu.Unlock()
			return
		}
		cont := tg.continued
		tg.mu.Unlock()
		select {
		case <-cont:
		case <-t.interruptCh:
		}
	}
}

// killed reports whether t must exit instead of returning to the app: it
// called exit, its group is exiting, or another thread is running execve.
func (t *Task) killed() bool {
	if t.exitRequested {
		return true
	}
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exiting || tg.execer != nil && tg.execer != t
}

// Stopped reports whether tg is stopped by a job-control signal (for
// /proc/PID/stat's state T).
func (tg *ThreadGroup) Stopped() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.stopped
}

// pgrpOrphaned reports whether tg's process group is orphaned: no member
// has a parent in a different group of the same session
// (will_become_orphaned_pgrp()). Orphaned groups ignore SIGTSTP, SIGTTIN and
// SIGTTOU, so a shell-less job cannot stop forever.
func (k *Kernel) pgrpOrphaned(tg *ThreadGroup) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pgrpOrphanedLocked(tg.pgid, nil)
}

// pgrpOrphanedLocked is pgrpOrphaned for group pgid, ignoring member
// ignore (a process about to exit).
//
// Preconditions: k.mu is held.
func (k *Kernel) pgrpOrphanedLocked(pgid int32, ignore *ThreadGroup) bool {
	for _, m := range k.tgs {
		if m.pgid != pgid || m.zombie || m == ignore {
			continue
		}
		// Linux skips parents that are the global init; the
		// sandbox's init is a namespace init, which counts.
		p := m.parent
		if p == nil {
			continue
		}
		if p.pgid != pgid && p.sid == m.sid {
			return false
		}
	}
	return true
}
