package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// Signal-driven I/O (fcntl(2) F_SETOWN, F_SETSIG, O_ASYNC; fs/fcntl.c's
// fown_struct, fasync_helper() and send_sigio()). A file description with
// O_ASYNC set signals its owner (a thread, a process or a process group)
// whenever I/O becomes possible on it: SIGIO by default, or the F_SETSIG
// signal with si_code POLL_IN/POLL_OUT/..., si_band and si_fd.
//
// The state lives in Kernel.async, keyed by description, created on first
// use and dropped when the description is released (a vfs.ReleaseHook).
// Readiness comes from the file's own wait queue: a description that is
// not waitable (a regular file) never signals, as on Linux.

// Owner types (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP in fcntl.h).
const (
	OwnerTID  = 0
	OwnerPID  = 1
	OwnerPGRP = 2
)

// poll(2) bands x/sys/unix lacks (include/uapi/asm-generic/poll.h).
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
	pollWrBand = 0x200
)

// si_code values for SIGIO/SIGPOLL (include/uapi/asm-generic/siginfo.h).
const (
	pollIn  = 1
	pollOut = 2
	pollErr = 4
	pollHup = 6
)

// fileAsync is one description's fown_struct plus its fasync
// registration.
type fileAsync struct {
	k    *Kernel
	file *vfs.FileDescription // immutable

	// mu protects the fields below; it is taken by the file's wait queue
	// callback too, so nothing that notifies that queue may run under it.
	mu sync.Mutex
	// ownerType and ownerID name the owner; ownerID 0 is none.
	ownerType int
	ownerID   int32
	// uid and euid are the setter's (sigio_perm() checks them against
	// the target's).
	uid, euid uint32
	// sig is F_SETSIG's signal; 0 sends a plain SIGIO.
	sig int
	// fd is the descriptor O_ASYNC was last turned on through (si_fd).
	fd int32
	// entry is registered with the file's queue while O_ASYNC is on.
	entry      waiter.Entry
	registered bool
}

// asyncState returns fd's state, creating it if create is set (nil
// otherwise when there is none).
func (k *Kernel) asyncState(f *vfs.FileDescription, create bool) *fileAsync {
	k.asyncMu.Lock()
	defer k.asyncMu.Unlock()
	a := k.async[f]
	if a == nil && create {
		if k.async == nil {
			k.async = make(map[*vfs.FileDescription]*fileAsync)
		}
		a = &fileAsync{k: k, file: f}
		a.entry.Init(a, 0)
		k.async[f] = a
		f.AddReleaseHook(a)
	}
	return a
}

// FileReleased implements vfs.ReleaseHook: the description is gone.
func (a *fileAsync) FileReleased(f *vfs.FileDescription) {
	a.setRegistered(false)
	a.k.asyncMu.Lock()
	delete(a.k.async, f)
	a.k.asyncMu.Unlock()
}

// FileOwner implements F_GETOWN_EX: the owner's type and ID, ID 0 if
// there is none or it no longer exists (f_getown_ex(), which reports a
// vanished owner's type with pid 0).
func (t *Task) FileOwner(f *vfs.FileDescription) (typ int, id int32) {
	a := t.k.asyncState(f, false)
	if a == nil {
		return OwnerTID, 0
	}
	a.mu.Lock()
	typ, id = a.ownerType, a.ownerID
	a.mu.Unlock()
	if id != 0 && !t.k.ownerExists(typ, id) {
		id = 0
	}
	return typ, id
}

// SetFileOwner implements F_SETOWN and F_SETOWN_EX: id 0 clears the owner,
// an ID that names nothing (a negative one included) is ESRCH (f_setown(),
// f_setown_ex()).
func (t *Task) SetFileOwner(f *vfs.FileDescription, typ int, id int32) error {
	switch typ {
	case OwnerTID, OwnerPID, OwnerPGRP:
	default:
		return unix.EINVAL
	}
	if id != 0 && (id < 0 || !t.k.ownerExists(typ, id)) {
		return unix.ESRCH
	}
	a := t.k.asyncState(f, true)
	c := t.Credentials()
	a.mu.Lock()
	a.ownerType, a.ownerID = typ, id
	a.uid, a.euid = c.RealUID, c.EffectiveUID
	a.mu.Unlock()
	return nil
}

// FileSig implements F_GETSIG.
func (t *Task) FileSig(f *vfs.FileDescription) int {
	a := t.k.asyncState(f, false)
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sig
}

// SetFileSig implements F_SETSIG: 0 or a valid signal number.
func (t *Task) SetFileSig(f *vfs.FileDescription, sig int) error {
	if sig < 0 || sig > NumSignals {
		return unix.EINVAL
	}
	a := t.k.asyncState(f, true)
	a.mu.Lock()
	a.sig = sig
	a.mu.Unlock()
	return nil
}

// SetFileAsync turns signal-driven I/O on or off for f, which fd names
// (the O_ASYNC flag of F_SETFL and FIOASYNC; the flag itself is the
// caller's to set).
func (t *Task) SetFileAsync(f *vfs.FileDescription, fd int32, on bool) {
	a := t.k.asyncState(f, on)
	if a == nil {
		return
	}
	if on {
		a.mu.Lock()
		a.fd = fd
		a.mu.Unlock()
	}
	a.setRegistered(on)
}

// setRegistered adds or removes the queue entry. A reader hears of input
// and hangup, a writer of room to write (pipe_read() and pipe_write()
// signal fasync_writers and fasync_readers respectively).
func (a *fileAsync) setRegistered(on bool) {
	w, ok := a.file.Impl().(waiter.Waitable)
	if !ok {
		return
	}
	a.mu.Lock()
	if a.registered == on {
		a.mu.Unlock()
		return
	}
	a.registered = on
	var mask waiter.EventMask
	if a.file.Readable() {
		mask |= waiter.ReadableEvents | waiter.EventHUp | waiter.EventErr
	}
	if a.file.Writable() {
		mask |= waiter.WritableEvents | waiter.EventErr
	}
	a.mu.Unlock()
	if on {
		a.entry.Init(a, mask)
		if w.EventRegister(&a.entry) != nil {
			a.mu.Lock()
			a.registered = false
			a.mu.Unlock()
		}
	} else {
		w.EventUnregister(&a.entry)
	}
}

// NotifyEvent implements waiter.EventListener: I/O became possible.
func (a *fileAsync) NotifyEvent(mask waiter.EventMask) {
	a.mu.Lock()
	typ, id, uid, euid, sig, fd := a.ownerType, a.ownerID, a.uid, a.euid, a.sig, a.fd
	a.mu.Unlock()
	if id == 0 {
		return
	}
	info := SigInfo{Signo: int(unix.SIGIO), Code: SIKernel}
	if sig != 0 {
		// send_sigio_to_task(): the reason and band of the event.
		code, band := int32(pollIn), int64(unix.POLLIN|pollRdNorm)
		switch {
		case mask&waiter.EventHUp != 0:
			code, band = pollHup, unix.POLLHUP|unix.POLLERR
		case mask&waiter.EventErr != 0:
			code, band = pollErr, unix.POLLERR
		case mask&waiter.ReadableEvents == 0 && mask&waiter.WritableEvents != 0:
			code, band = pollOut, unix.POLLOUT|pollWrNorm|pollWrBand
		}
		info = SigInfo{Signo: sig, Code: code, Band: band, FD: fd, Poll: true}
	}
	k := a.k
	allowed := func(c ownerCreds) bool {
		// sigio_perm(): the setter is root or shares a real or saved
		// UID with the target.
		return euid == 0 || euid == c.suid || euid == c.uid || uid == c.suid || uid == c.uid
	}
	switch typ {
	case OwnerTID:
		if t := k.TaskByTID(id); t != nil && allowed(credsOf(t)) {
			t.SendThreadSignal(info)
		}
	case OwnerPID:
		if tg := k.ThreadGroupByPID(id); tg != nil && tg.Leader() != nil && allowed(credsOf(tg.Leader())) {
			k.SendSignal(tg, info)
		}
	case OwnerPGRP:
		for _, tg := range k.ProcessGroup(id) {
			if l := tg.Leader(); l != nil && allowed(credsOf(l)) {
				k.SendSignal(tg, info)
			}
		}
	}
}

type ownerCreds struct{ uid, suid uint32 }

func credsOf(t *Task) ownerCreds {
	c := t.Credentials()
	return ownerCreds{uid: c.RealUID, suid: c.SavedUID}
}

// ownerExists reports whether an owner of type typ and ID id exists now.
func (k *Kernel) ownerExists(typ int, id int32) bool {
	switch typ {
	case OwnerTID:
		return k.TaskByTID(id) != nil
	case OwnerPID:
		return k.ThreadGroupByPID(id) != nil
	default:
		return len(k.ProcessGroup(id)) > 0
	}
}
