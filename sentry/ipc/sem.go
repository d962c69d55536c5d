package ipc

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Semaphore limits (include/uapi/linux/sem.h defaults).
const (
	semMSL = 32000
	semMNI = 32000
	semMNS = semMNI * semMSL
	semOPM = 500
	semVMX = 32767
	semAEM = semVMX
	semMNU = semMNS
	semMAP = semMNS
	semUME = semOPM
	semUSZ = 20

	// SemOPM is the most operations one semop(2) may carry.
	SemOPM = semOPM
	// SemMSL is the most semaphores in a set.
	SemMSL = semMSL
)

// semctl commands and semop flags (include/uapi/linux/sem.h).
const (
	GetPID     = 11
	GetVal     = 12
	GetAll     = 13
	GetNcnt    = 14
	GetZcnt    = 15
	SetVal     = 16
	SetAll     = 17
	SemStat    = 18
	SemInfo    = 19
	SemStatAny = 20

	SemUndo = 0x1000
)

// Sembuf is one semop(2) operation (struct sembuf).
type Sembuf struct {
	Num uint16
	Op  int16
	Flg int16
}

type semaphore struct {
	val int
	pid int32
}

// SemSet is a semaphore set (struct sem_array).
type SemSet struct {
	ns *Namespace

	// The fields below are protected by ns.mu.
	perm  perm
	sems  []semaphore
	otime int64
	// pending are the blocked operations, oldest first.
	pending []*semWaiter
	// undo holds each process's SEM_UNDO adjustments (struct sem_undo),
	// by process ID.
	undo map[int32][]int
}

func (s *SemSet) ipcPerm() *perm { return &s.perm }

// semWaiter is a blocked semop(2) (struct sem_queue). The operation is
// performed by whoever makes it possible, in arrival order
// (update_queue()), and the sleeper just collects the result, so waiters
// are served first come, first served.
type semWaiter struct {
	ops []Sembuf
	pid int32
	// blocking indexes the operation that blocked (GETNCNT, GETZCNT).
	blocking int
	// done is closed once status is final. status is protected by ns.mu.
	done   chan struct{}
	status error
}

// SemGet implements semget(2) (newary(), sem_more_checks()).
func (ns *Namespace) SemGet(ctx Context, key int32, nsems int32, flg int32) (int32, error) {
	if nsems < 0 || nsems > semMSL {
		return 0, unix.EINVAL
	}
	c := ctx.Credentials()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return get(&ns.sems, c, getParams[*SemSet]{
		key: key, flg: flg,
		create: func() (*SemSet, error) {
			if nsems == 0 {
				return nil, unix.EINVAL
			}
			if ns.usedSems+int(nsems) > semMNS || len(ns.sems.byIdx) >= semMNI {
				return nil, unix.ENOSPC
			}
			ns.usedSems += int(nsems)
			return &SemSet{ns: ns, perm: newPerm(c, key, flg), sems: make([]semaphore, nsems), undo: make(map[int32][]int)}, nil
		},
		more: func(s *SemSet) error {
			if int(nsems) > len(s.sems) {
				return unix.EINVAL
			}
			return nil
		},
	})
}

// tryLocked performs ops atomically (perform_atomic_semop()): it returns
// nil when done, EAGAIN or ERANGE when refused, or errBlocked (with the
// index of the blocking operation) when the caller must wait. Operations
// apply in order, so repeated semaphores see each other's effect; on any
// failure nothing changes.
//
// Preconditions: ns.mu is held; every Num is in range.
func (s *SemSet) tryLocked(ops []Sembuf, pid int32) (int, error) {
	var newAdj []int
	if hasUndo(ops) {
		newAdj = make([]int, len(s.sems))
		copy(newAdj, s.undo[pid])
	}
	cur := make(map[uint16]int)
	value := func(n uint16) int {
		if v, ok := cur[n]; ok {
			return v
		}
		return s.sems[n].val
	}
	for i, op := range ops {
		v := value(op.Num)
		if op.Op == 0 {
			if v != 0 {
				return i, wouldBlock(op)
			}
			continue
		}
		nv := v + int(op.Op)
		if nv < 0 {
			return i, wouldBlock(op)
		}
		if nv > semVMX {
			return i, unix.ERANGE
		}
		if op.Flg&SemUndo != 0 {
			a := newAdj[op.Num] - int(op.Op)
			if a < -semAEM-1 || a > semAEM {
				return i, unix.ERANGE
			}
			newAdj[op.Num] = a
		}
		cur[op.Num] = nv
	}
	for n, v := range cur {
		s.sems[n].val = v
	}
	for _, op := range ops {
		s.sems[op.Num].pid = pid
	}
	if newAdj != nil {
		s.undo[pid] = newAdj
		s.ns.undoPIDs[pid] = true
	}
	return 0, nil
}

func hasUndo(ops []Sembuf) bool {
	for _, op := range ops {
		if op.Flg&SemUndo != 0 {
			return true
		}
	}
	return false
}

// errBlocked is tryLocked's "must wait" result; it never reaches the app.
var errBlocked = unix.Errno(0x7fff)

func wouldBlock(op Sembuf) error {
	if op.Flg&IPCNowait != 0 {
		return unix.EAGAIN
	}
	return errBlocked
}

func alters(ops []Sembuf) bool {
	for _, op := range ops {
		if op.Op != 0 {
			return true
		}
	}
	return false
}

// updateQueueLocked retries the blocked operations in arrival order after
// a change (update_queue()): each one that can now complete does, and
// after one that changed values the scan starts over.
//
// Preconditions: ns.mu is held.
func (s *SemSet) updateQueueLocked() {
	for restart := true; restart; {
		restart = false
		for i := 0; i < len(s.pending); i++ {
			w := s.pending[i]
			idx, err := s.tryLocked(w.ops, w.pid)
			if err == errBlocked {
				w.blocking = idx
				continue
			}
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			i--
			w.status = err
			close(w.done)
			if err == nil {
				s.otime = now()
				if alters(w.ops) {
					restart = true
					break
				}
			}
		}
	}
}

// removeWaiterLocked drops w if it is still pending, reporting whether it
// was.
//
// Preconditions: ns.mu is held.
func (s *SemSet) removeWaiterLocked(w *semWaiter) bool {
	for i, o := range s.pending {
		if o == w {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return true
		}
	}
	return false
}

// SemOp implements semop(2) and semtimedop(2) (do_semtimedop()) after the
// syscall layer has checked nsops and copied the operations in. A wait
// ends with the operation done by whoever made it possible, EIDRM if the
// set is removed, EAGAIN when timeout (if not nil) passes, or EINTR on a
// signal: semop is never restarted.
func (ns *Namespace) SemOp(ctx Context, pid int32, id int32, ops []Sembuf, timeout *time.Duration) error {
	ns.mu.Lock()
	s, err := ns.sems.find(id)
	if err != nil {
		ns.mu.Unlock()
		return err
	}
	maxNum := uint16(0)
	for _, op := range ops {
		maxNum = max(maxNum, op.Num)
	}
	if int(maxNum) >= len(s.sems) {
		ns.mu.Unlock()
		return unix.EFBIG
	}
	acc := int32(mayRead)
	if alters(ops) {
		acc = mayWrite
	}
	if !s.perm.check(ctx.Credentials(), acc) {
		ns.mu.Unlock()
		return unix.EACCES
	}
	idx, err := s.tryLocked(ops, pid)
	if err == nil {
		s.otime = now()
		if alters(ops) {
			s.updateQueueLocked()
		}
		ns.mu.Unlock()
		return nil
	}
	if err != errBlocked {
		ns.mu.Unlock()
		return err
	}
	w := &semWaiter{ops: ops, pid: pid, blocking: idx, done: make(chan struct{})}
	s.pending = append(s.pending, w)
	ns.mu.Unlock()

	var deadline <-chan time.Time
	if timeout != nil {
		t := time.NewTimer(*timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-w.done:
			ns.mu.Lock()
			defer ns.mu.Unlock()
			return w.status
		case <-deadline:
			return ns.abandon(s, w, unix.EAGAIN)
		case <-ctx.InterruptChan():
			if ctx.Interrupted() {
				return ns.abandon(s, w, unix.EINTR)
			}
		}
	}
}

// abandon ends w's wait with err, unless it completed meanwhile.
func (ns *Namespace) abandon(s *SemSet, w *semWaiter, err error) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s.removeWaiterLocked(w) {
		return err
	}
	return w.status
}

// SemidDS is struct semid64_ds.
type SemidDS struct {
	Perm         Perm
	Otime, Ctime int64
	Nsems        uint64
}

// SemidDSSize is sizeof(struct semid64_ds) on amd64.
const SemidDSSize = 104

// Encode returns the app's layout.
func (d *SemidDS) Encode() []byte {
	b := make([]byte, SemidDSSize)
	le := binary.LittleEndian
	d.Perm.encode(b)
	le.PutUint64(b[48:], uint64(d.Otime))
	le.PutUint64(b[64:], uint64(d.Ctime))
	le.PutUint64(b[80:], d.Nsems)
	return b
}

// DecodeSemidDS reads the fields IPC_SET uses.
func DecodeSemidDS(b []byte) SemidDS {
	var d SemidDS
	d.Perm.decode(b)
	return d
}

// SemInfoSize is sizeof(struct seminfo).
const SemInfoSize = 40

// SemInfo implements semctl(2) IPC_INFO and SEM_INFO (semctl_info()).
func (ns *Namespace) SemInfo(cmd int32) ([]byte, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	usz, aem := semUSZ, semAEM
	if cmd == SemInfo {
		usz, aem = len(ns.sems.byIdx), ns.usedSems
	}
	b := make([]byte, SemInfoSize)
	le := binary.LittleEndian
	for i, v := range []int{semMAP, semMNI, semMNS, semMNU, semMSL, semOPM, semUME, usz, semVMX, aem} {
		le.PutUint32(b[4*i:], uint32(v))
	}
	return b, int32(ns.sems.maxIdx())
}

// SemCtlArgs carries semctl's fourth argument, decoded by the caller:
// the value for SETVAL, the values for SETALL, the semid64_ds for
// IPC_SET.
type SemCtlArgs struct {
	Val  int32
	Vals []uint16
	Set  SemidDS
}

// SemCtl implements semctl(2) commands on a set (semctl_main(),
// semctl_setval(), semctl_stat(), semctl_down()). It returns the
// syscall's value, the values for GETALL and the state for the stat
// commands.
func (ns *Namespace) SemCtl(ctx Context, pid int32, id int32, num int32, cmd int32, a SemCtlArgs) (int32, []uint16, SemidDS, error) {
	c := ctx.Credentials()
	if cmd == SetVal && (a.Val < 0 || a.Val > semVMX) {
		return 0, nil, SemidDS{}, unix.ERANGE
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var s *SemSet
	var err error
	if cmd == SemStat || cmd == SemStatAny {
		s, err = ns.sems.byIndex(int(id))
	} else {
		s, err = ns.sems.find(id)
	}
	if err != nil {
		return 0, nil, SemidDS{}, err
	}
	nsems := int32(len(s.sems))
	switch cmd {
	case IPCStat, SemStat, SemStatAny:
		if cmd != SemStatAny && !s.perm.check(c, mayRead) {
			return 0, nil, SemidDS{}, unix.EACCES
		}
		ret := int32(0)
		if cmd != IPCStat {
			ret = s.perm.id
		}
		return ret, nil, SemidDS{Perm: s.perm.export(), Otime: s.otime, Ctime: s.perm.ctime, Nsems: uint64(nsems)}, nil
	case IPCSet, IPCRmid:
		if !s.perm.mayControl(c) {
			return 0, nil, SemidDS{}, unix.EPERM
		}
		if cmd == IPCSet {
			s.perm.set(&a.Set.Perm)
			return 0, nil, SemidDS{}, nil
		}
		s.freeLocked()
		return 0, nil, SemidDS{}, nil
	case GetAll, SetAll:
		acc := int32(mayRead)
		if cmd == SetAll {
			acc = mayWrite
		}
		if !s.perm.check(c, acc) {
			return 0, nil, SemidDS{}, unix.EACCES
		}
		if cmd == GetAll {
			vals := make([]uint16, nsems)
			for i := range s.sems {
				vals[i] = uint16(s.sems[i].val)
			}
			return 0, vals, SemidDS{}, nil
		}
		if len(a.Vals) != int(nsems) {
			return 0, nil, SemidDS{}, unix.EINVAL
		}
		for _, v := range a.Vals {
			if v > semVMX {
				return 0, nil, SemidDS{}, unix.ERANGE
			}
		}
		for i, v := range a.Vals {
			s.sems[i] = semaphore{val: int(v), pid: pid}
		}
		for p := range s.undo {
			clear(s.undo[p])
		}
		s.perm.ctime = now()
		s.updateQueueLocked()
		return 0, nil, SemidDS{}, nil
	case GetVal, GetPID, GetNcnt, GetZcnt, SetVal:
		if num < 0 || num >= nsems {
			return 0, nil, SemidDS{}, unix.EINVAL
		}
		acc := int32(mayRead)
		if cmd == SetVal {
			acc = mayWrite
		}
		if !s.perm.check(c, acc) {
			return 0, nil, SemidDS{}, unix.EACCES
		}
		switch cmd {
		case GetVal:
			return int32(s.sems[num].val), nil, SemidDS{}, nil
		case GetPID:
			return s.sems[num].pid, nil, SemidDS{}, nil
		case GetNcnt, GetZcnt:
			return s.countWaitersLocked(uint16(num), cmd == GetZcnt), nil, SemidDS{}, nil
		}
		s.sems[num] = semaphore{val: int(a.Val), pid: pid}
		for _, adj := range s.undo {
			adj[num] = 0
		}
		s.perm.ctime = now()
		s.updateQueueLocked()
		return 0, nil, SemidDS{}, nil
	}
	return 0, nil, SemidDS{}, unix.EINVAL
}

// Nsems returns the size of set id, for semctl's GETALL/SETALL buffers.
func (ns *Namespace) Nsems(id int32) (int, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.sems.find(id)
	if err != nil {
		return 0, err
	}
	return len(s.sems), nil
}

// countWaitersLocked counts the blocked operations whose blocking
// operation is on semaphore num and waits for zero (zero) or for an
// increase (count_semcnt()).
//
// Preconditions: ns.mu is held.
func (s *SemSet) countWaitersLocked(num uint16, zero bool) int32 {
	n := int32(0)
	for _, w := range s.pending {
		op := w.ops[w.blocking]
		if op.Num == num && (zero && op.Op == 0 || !zero && op.Op < 0) {
			n++
		}
	}
	return n
}

// freeLocked removes the set (freeary()): every waiter fails with EIDRM
// and the undo adjustments are dropped.
//
// Preconditions: ns.mu is held.
func (s *SemSet) freeLocked() {
	for _, w := range s.pending {
		w.status = unix.EIDRM
		close(w.done)
	}
	s.pending = nil
	s.undo = nil
	s.ns.sems.remove(s)
	s.ns.usedSems -= len(s.sems)
}

// ExitProcess applies the SEM_UNDO adjustments of process pid, which is
// exiting (exit_sem()): each semaphore it adjusted moves back by its
// adjustment, clamped to [0, SEMVMX], and blocked operations are retried.
func (ns *Namespace) ExitProcess(pid int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if !ns.undoPIDs[pid] {
		return
	}
	delete(ns.undoPIDs, pid)
	for _, s := range ns.sems.byIdx {
		adj, ok := s.undo[pid]
		if !ok {
			continue
		}
		delete(s.undo, pid)
		for i, a := range adj {
			if a == 0 {
				continue
			}
			v := min(max(s.sems[i].val+a, 0), semVMX)
			s.sems[i] = semaphore{val: v, pid: pid}
		}
		s.otime = now()
		s.updateQueueLocked()
	}
}
