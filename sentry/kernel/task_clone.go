package kernel

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// CloneOptions are the decoded arguments of clone(2)/clone3(2).
type CloneOptions struct {
	Flags      uint64
	ExitSignal int
	Stack      uintptr
	ParentTID  uintptr
	ChildTID   uintptr
	TLS        uintptr
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

// Clone creates a new task (copy_process()). Address spaces are copied
// (copy-on-write); sharing one between tasks (threads, real vfork) needs
// platform support that is not there yet, so CLONE_VM without CLONE_VFORK
// fails with EAGAIN (pthread_create reports it), and CLONE_VM|CLONE_VFORK
// (posix_spawn, vfork) runs the child on a copy while the parent waits, as
// vfork(2) allows.
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
	if f&CloneVM != 0 && f&CloneVfork == 0 {
		return 0, unix.EAGAIN
	}
	if f&ClonePidfd != 0 {
		return 0, unix.EINVAL
	}

	k := t.k
	if nproc := t.tg.limits.Get(unix.RLIMIT_NPROC).Cur; nproc != ^uint64(0) && t.creds.RealUID != 0 {
		k.mu.Lock()
		n := uint64(len(k.tgs))
		k.mu.Unlock()
		if n >= nproc {
			return 0, unix.EAGAIN
		}
	}

	if err := k.checkTaskLimit(); err != nil {
		return 0, err
	}

	childMM := t.mm.Fork()
	nt := &Task{
		k:           k,
		creds:       t.creds,
		sigMask:     t.sigMask,
		name:        t.name,
		exe:         t.exe,
		startTime:   time.Now(),
		interruptCh: make(chan struct{}, 1),
		altStack:    t.altStack,
		noNewPrivs:  t.noNewPrivs,
		mm:          childMM,
	}
	nt.regs = t.regs
	nt.regs.SetReturn(0)
	if o.Stack != 0 {
		nt.regs.SetStack(o.Stack)
	}
	if f&CloneSettls != 0 {
		if o.TLS >= 1<<47 {
			childMM.Release()
			return 0, unix.EPERM
		}
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

	parent := t.tg
	if f&CloneParent != 0 && t.tg.parent != nil {
		parent = t.tg.parent
	}
	tg := newThreadGroup(parent, t.tg.limits.Fork())
	tg.exitSignal = o.ExitSignal
	t.tg.mu.Lock()
	tg.sigactions = t.tg.sigactions
	t.tg.mu.Unlock()
	nt.tg = tg
	tg.leader = nt
	tg.tasks = 1

	k.mu.Lock()
	nt.tid = k.nextTID
	k.nextTID++
	tg.pid = nt.tid
	childMM.SetOwnerPID(tg.pid)
	tg.pgid, tg.sid = t.tg.pgid, t.tg.sid
	k.tasks[nt.tid] = nt
	k.tgs[tg.pid] = tg
	parent.children[tg] = struct{}{}
	k.mu.Unlock()

	var vforkDone chan struct{}
	if f&CloneVfork != 0 {
		vforkDone = make(chan struct{})
		nt.vforkDone = vforkDone
	}

	errc := make(chan error, 1)
	go nt.start(func() error {
		as, err := k.Platform.NewAddressSpace()
		if err != nil {
			return err
		}
		childMM.SetAddressSpace(as)
		var tid [4]byte
		binary.LittleEndian.PutUint32(tid[:], uint32(nt.tid))
		if f&CloneChildSettid != 0 {
			_ = nt.CopyOutBytes(o.ChildTID, tid[:])
		}
		return nil
	}, errc)
	if err := <-errc; err != nil {
		t.Warningf("clone: %v", err)
		k.mu.Lock()
		delete(parent.children, tg)
		delete(k.tgs, tg.pid)
		k.mu.Unlock()
		return 0, unix.EAGAIN
	}
	if f&CloneParentSettid != 0 {
		var tid [4]byte
		binary.LittleEndian.PutUint32(tid[:], uint32(nt.tid))
		_ = t.CopyOutBytes(o.ParentTID, tid[:])
	}
	if vforkDone != nil {
		// The parent sleeps until the child execs or exits
		// (wait_for_vfork_done()).
		<-vforkDone
	}
	return nt.tid, nil
}

// releaseVfork wakes a vfork parent (on exec or exit).
func (t *Task) releaseVfork() {
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
}
