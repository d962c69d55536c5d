package kernel

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/syserr"
)

// Hooks for terminals (fs/devpts): the line discipline signals the
// foreground process group, and the job-control ioctls need the caller's
// process group and session.

// siKernel is SI_KERNEL, the si_code of signals the kernel itself sends
// (a terminal's ^C).
const siKernel = 0x80

// JobIDs returns the task's process, process group and session IDs.
func (t *Task) JobIDs() (pid, pgid, sid int32) {
	tg := t.tg
	return tg.pid, t.k.PGID(tg), t.k.SID(tg)
}

// SignalProcessGroup sends sig to every process of process group pgid, as
// the kernel does for terminal-generated signals (kill_pgrp() with
// SI_KERNEL; ^C, ^\, ^Z, SIGWINCH, hangup). It reports whether the group
// had any process.
func (k *Kernel) SignalProcessGroup(pgid int32, sig int) bool {
	tgs := k.ProcessGroup(pgid)
	for _, tg := range tgs {
		k.SendSignal(tg, SigInfo{Signo: sig, Code: siKernel})
	}
	return len(tgs) > 0
}

// SignalProcess sends sig to process pid from the kernel (a terminal
// hangup's SIGHUP to the session leader). It reports whether pid exists.
func (k *Kernel) SignalProcess(pid int32, sig int) bool {
	tg := k.ThreadGroupByPID(pid)
	if tg == nil {
		return false
	}
	k.SendSignal(tg, SigInfo{Signo: sig, Code: siKernel})
	return true
}

// ProcessGroupSession returns the session of process group pgid, and
// false if the group has no live member (tcsetpgrp(3)'s ESRCH; a group of
// another session is its EPERM).
func (k *Kernel) ProcessGroupSession(pgid int32) (int32, bool) {
	tgs := k.ProcessGroup(pgid)
	if len(tgs) == 0 {
		return 0, false
	}
	return k.SID(tgs[0]), true
}

// TTYBackgroundAccess is the part of __tty_check_change() that needs the
// kernel: the caller belongs to a background process group of its
// controlling terminal's session and wants to read (sig SIGTTIN) or to
// write or change the terminal (SIGTTOU). If the calling thread blocks or
// its process ignores sig, a read fails with EIO and a change goes ahead
// (nil); an orphaned group gets EIO, since nothing would ever continue
// it; otherwise sig goes to the caller's whole process group and the call
// restarts once the group is continued (ERESTARTSYS), when the check is
// made again.
func (t *Task) TTYBackgroundAccess(sig int) error {
	tg := t.tg
	tg.mu.Lock()
	ignored := t.sigMask&sigBit(sig) != 0 || tg.sigactions[sig-1].Handler == SigIgn
	tg.mu.Unlock()
	if ignored {
		if sig == int(unix.SIGTTIN) {
			return unix.EIO
		}
		return nil
	}
	if t.k.pgrpOrphaned(tg) {
		return unix.EIO
	}
	t.k.SignalProcessGroup(t.k.PGID(tg), sig)
	return syserr.ERestartSys
}
