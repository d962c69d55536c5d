package kernel

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// CloneOptions are the decoded arguments of clone(2)/clone3(2).
type CloneOptions struct {
	Flags      uint64
	ExitSignal int
	Stack      uintptr
	ParentTID  uintptr
	ChildTID   uintptr
	TLS        uintptr
	// PidFD is where CLONE_PIDFD stores the new pidfd (clone's
	// parent_tid slot, clone3's pidfd field).
	PidFD uintptr
}

// Clone flags (include/uapi/linux/sched.h).
const (
	CloneVM            = unix.CLONE_VM
	CloneFS            = unix.CLONE_FS
	CloneFiles         = unix.CLONE_FILES
	CloneSighand       = unix.CLONE_SIGHAND
	ClonePidfd         = unix.CLONE_PIDFD
	CloneVfork         = unix.CLONE_VFORK
	CloneParent        = unix.CLONE_PARENT
	CloneThread        = unix.CLONE_THREAD
	CloneSysvsem       = unix.CLONE_SYSVSEM
	CloneSettls        = unix.CLONE_SETTLS
	CloneParentSettid  = unix.CLONE_PARENT_SETTID
	CloneChildCleartid = unix.CLONE_CHILD_CLEARTID
	CloneChildSettid   = unix.CLONE_CHILD_SETTID
	CloneNewNS         = unix.CLONE_NEWNS
)

// Clone creates a new task (copy_process()): a thread of t's process
// with CLONE_THREAD, else a new process. CLONE_VM shares the address space
// (threads, vfork, posix_spawn); without it the child gets a copy-on-write
// copy.
func (t *Task) Clone(o CloneOptions) (int32, error) {
	f := o.Flags
	// Invalid combinations (copy_process()).
	if f&CloneSighand != 0 && f&CloneVM == 0 {
		return 0, unix.EINVAL
	}
	if f&CloneThread != 0 && f&CloneSighand == 0 {
		return 0, unix.EINVAL
	}
	if f&(CloneNewNS|CloneFS) == CloneNewNS|CloneFS {
		return 0, unix.EINVAL
	}
	if f&(CloneNewNS|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC|unix.CLONE_NEWPID|unix.CLONE_NEWNET|unix.CLONE_NEWUSER|unix.CLONE_NEWCGROUP) != 0 {
		// Namespaces inside the sandbox come later.
		return 0, unix.EPERM
	}
	if f&ClonePidfd != 0 && f&CloneParentSettid != 0 && o.PidFD == o.ParentTID {
		// clone(2) returns both in the same slot: refuse.
		return 0, unix.EINVAL
	}
	if f&CloneSettls != 0 && o.TLS >= 1<<47 {
		return 0, unix.EPERM
	}

	k := t.k
	if err := k.checkTaskLimits(t); err != nil {
		return 0, err
	}

	nt := &Task{
		k:           k,
		creds:       t.creds,
		sigMask:     t.sigMask,
		name:        t.name,
		exe:         t.exe,
		startTime:   time.Now(),
		interruptCh: make(chan struct{}, 1),
		sched:       t.Sched(),
	}
	// A thread starts with no alternate stack (copy_process() clears
	// sas_ss_sp for CLONE_VM without CLONE_VFORK); fork and vfork keep it.
	if f&CloneVM == 0 || f&CloneVfork != 0 {
		nt.altStack = t.altStack
	}
	if f&CloneVM != 0 {
		t.mm.IncUsers()
		nt.mm = t.mm
	} else {
		nt.mm = t.mm.Fork()
	}
	nt.regs = t.regs
	nt.regs.SetReturn(0)
	if o.Stack != 0 {
		nt.regs.SetStack(o.Stack)
	}
	if f&CloneSettls != 0 {
		nt.regs.SetTLS(o.TLS)
	}
	if f&CloneFiles != 0 {
		nt.fdTable = t.fdTable
		nt.fdTable.IncRef()
	} else {
		nt.fdTable = t.fdTable.Fork()
	}
	if f&CloneFS != 0 {
		nt.fsc = t.fsc
		nt.fsc.IncRef()
	} else {
		nt.fsc = t.fsc.Fork()
	}
	if f&CloneChildCleartid != 0 {
		nt.clearChildTID = o.ChildTID
	}

	var tg *ThreadGroup
	if f&CloneThread != 0 {
		tg = t.tg
	} else {
		parent := t.tg
		if f&CloneParent != 0 {
			k.mu.Lock()
			if t.tg.parent != nil {
				parent = t.tg.parent
			}
			k.mu.Unlock()
		}
		tg = newThreadGroup(parent, t.tg.limits.Fork())
		tg.exitSignal = o.ExitSignal
		tg.leader = nt
		t.tg.mu.Lock()
		// CLONE_SIGHAND without CLONE_THREAD would share the handler
		// table between processes; the sentry keeps handlers per
		// process, so such a child gets a copy (partial support).
		tg.sigactions = t.tg.sigactions
		t.tg.mu.Unlock()
	}
	nt.tg = tg

	k.mu.Lock()
	if f&CloneThread != 0 {
		tg.mu.Lock()
		if tg.exiting || tg.execer != nil {
			// A fatal signal or exec is in progress
			// (fatal_signal_pending() in copy_process()).
			tg.mu.Unlock()
			k.mu.Unlock()
			nt.releaseUnstarted()
			return 0, ERestartNoIntr
		}
		tg.tasks++
		tg.mu.Unlock()
	} else {
		tg.tasks = 1
	}
	nt.tid = k.nextTID
	k.nextTID++
	if f&CloneThread == 0 {
		tg.pid = nt.tid
		if f&CloneVM == 0 {
			nt.mm.SetOwnerPID(tg.pid)
		}
		tg.pgid, tg.sid = t.tg.pgid, t.tg.sid
		tg.hasSubreaper = t.tg.subreaper || t.tg.hasSubreaper
		k.tgs[tg.pid] = tg
		tg.parent.children[tg] = struct{}{}
	}
	// Under Kernel.mu, so that a concurrent seccomp TSYNC either sees
	// the new thread or is seen by it (copy_seccomp()).
	nt.noNewPrivs.Store(t.noNewPrivs.Load())
	nt.seccomp.Store(t.seccomp.Load())
	k.tasks[nt.tid] = nt
	k.mu.Unlock()

	var vforkDone chan struct{}
	if f&CloneVfork != 0 {
		vforkDone = make(chan struct{})
		nt.vforkDone = vforkDone
	}
	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(nt.tid))
	// CLONE_PARENT_SETTID is written before the child runs, so that it is
	// visible to both (for a thread they share the memory).
	if f&CloneParentSettid != 0 {
		if err := t.CopyOutBytes(o.ParentTID, tidBytes[:]); err != nil {
			nt.unregisterUnstarted(f)
			return 0, err
		}
	}

	errc := make(chan error, 1)
	go nt.start(func() error {
		if f&CloneVM == 0 {
			as, err := k.Platform.NewAddressSpace()
			if err != nil {
				return err
			}
			nt.mm.SetAddressSpace(as)
		}
		if f&CloneChildSettid != 0 {
			_ = nt.CopyOutBytes(o.ChildTID, tidBytes[:])
		}
		return nil
	}, errc)
	if err := <-errc; err != nil {
		t.Warningf("clone: %v", err)
		nt.unregisterUnstarted(f)
		return 0, unix.EAGAIN
	}
	if vforkDone != nil {
		// The parent sleeps until the child execs or exits
		// (wait_for_vfork_done()). Like Linux it cannot be interrupted
		// by signals (it is killable: a group exit makes the child
		// exit too, or it finishes on its own).
		<-vforkDone
	}
	return nt.tid, nil
}

// checkTaskLimits enforces RLIMIT_NPROC (per real UID, across the
// sandbox; root and CAP_SYS_RESOURCE/CAP_SYS_ADMIN holders are exempt as
// in copy_process()) and the sandbox's own task limit.
func (k *Kernel) checkTaskLimits(t *Task) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.taskLimit > 0 && len(k.tasks) >= k.taskLimit {
		return unix.EAGAIN
	}
	nproc := t.tg.limits.Get(unix.RLIMIT_NPROC).Cur
	c := t.creds
	if nproc == ^uint64(0) || c.RealUID == 0 || c.HasCapability(auth.CapSysResource) || c.HasCapability(auth.CapSysAdmin) {
		return nil
	}
	n := uint64(0)
	for _, o := range k.tasks {
		if o.creds.RealUID == c.RealUID {
			n++
		}
	}
	if n >= nproc {
		return unix.EAGAIN
	}
	return nil
}

// releaseUnstarted drops what a task that never ran holds.
func (t *Task) releaseUnstarted() {
	t.fdTable.DecRef()
	t.fsc.DecRef()
	t.mm.DecUsers()
}

// unregisterUnstarted undoes Clone's registration of a task that never
// ran (its goroutine's setup failed and already removed it from
// Kernel.tasks, or it was not started).
func (t *Task) unregisterUnstarted(flags uint64) {
	k, tg := t.k, t.tg
	k.mu.Lock()
	delete(k.tasks, t.tid)
	if flags&CloneThread != 0 {
		tg.mu.Lock()
		tg.tasks--
		tg.mu.Unlock()
	} else {
		delete(tg.parent.children, tg)
		delete(k.tgs, tg.pid)
	}
	k.mu.Unlock()
	t.releaseUnstarted()
}

// releaseVfork wakes a vfork parent (on exec or exit).
func (t *Task) releaseVfork() {
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
}
