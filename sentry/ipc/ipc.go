// Package ipc is System V IPC (ipc/ in Linux): shared memory segments,
// semaphore sets and message queues, one Namespace per sandbox.
//
// Objects are found by key (ipcget()) and by identifier (id = seq*32768 +
// index, with indexes handed out cyclically as ipc_idr_alloc() does), and
// checked with ipcperms(). Shared memory lives in the sentry's memory file
// and is attached by mapping the segment (a memmap.Tracker) into an
// address space: attach counts are the number of VMAs mapping it, so fork,
// exit, exec and munmap keep them right without help, and a segment marked
// for removal goes with its last mapping.
//
// Lock order: address-space locks (mm.MemoryManager.mu, held when a
// segment's AddMapping or RemoveMapping runs), then Namespace.mu, then
// Shm.mu. Namespace.mu protects every object's state except a segment's
// pages; nothing here calls into an address space while holding it.
package ipc

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
	"pangolin/sentry/memfile"
)

// Context is the calling task as IPC sees it.
type Context interface {
	Credentials() *auth.Credentials
	// InterruptChan fires when a blocked operation must look at its
	// task; Interrupted then says whether a signal ends the wait.
	InterruptChan() <-chan struct{}
	Interrupted() bool
}

// Flags and commands (include/uapi/linux/ipc.h).
const (
	IPCPrivate = 0
	IPCCreat   = 0o1000
	IPCExcl    = 0o2000
	IPCNowait  = 0o4000

	IPCRmid = 0
	IPCSet  = 1
	IPCStat = 2
	IPCInfo = 3
)

// capIPCOwner is CAP_IPC_OWNER; capIPCLock is CAP_IPC_LOCK.
const (
	capIPCOwner = 15
	capIPCLock  = 14
)

// ipcMNI is IPCMNI: identifiers are seq*ipcMNI + index.
const ipcMNI = 32768

// perm is struct kern_ipc_perm.
type perm struct {
	key        int32
	uid, gid   uint32
	cuid, cgid uint32
	// mode holds the permission bits and the kind's flags (SHM_DEST).
	mode uint32
	seq  uint16
	id   int32
	idx  int
	// ctime is the last change (creation, IPC_SET, SETVAL...), in
	// seconds.
	ctime int64
	// removed is set when the object leaves its table.
	removed bool
}

func now() int64 { return time.Now().Unix() }

// newPerm returns the permissions of a new object made by c with the low
// nine bits of flg as its mode (ipc_addid()'s caller's setup).
func newPerm(c *auth.Credentials, key int32, flg int32) perm {
	return perm{
		key: key, mode: uint32(flg) & 0o777,
		uid: c.EffectiveUID, gid: c.EffectiveGID, cuid: c.EffectiveUID, cgid: c.EffectiveGID,
		ctime: now(),
	}
}

// Permission bits asked for by operations (S_IRUGO, S_IWUGO).
const (
	mayRead  = 0o444
	mayWrite = 0o222
	mayExec  = 0o111
)

// check implements ipcperms(): the owner, group or other bits of the mode
// must grant every access in flag (a mode or a get flag); CAP_IPC_OWNER
// overrides.
func (p *perm) check(c *auth.Credentials, flag int32) bool {
	requested := (flag >> 6) | (flag >> 3) | flag
	granted := int32(p.mode)
	if c.EffectiveUID == p.cuid || c.EffectiveUID == p.uid {
		granted >>= 6
	} else if inGroup(c, p.cgid) || inGroup(c, p.gid) {
		granted >>= 3
	}
	return requested&^granted&0o7 == 0 || c.HasCapability(capIPCOwner)
}

// inGroup is in_group_p() with the effective group (IPC uses the
// effective IDs, not the filesystem ones).
func inGroup(c *auth.Credentials, gid uint32) bool {
	if c.EffectiveGID == gid {
		return true
	}
	for _, g := range c.ExtraGIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// mayControl is ipcctl_obtain_check()'s test for IPC_SET and IPC_RMID:
// the creator, the owner, or CAP_SYS_ADMIN.
func (p *perm) mayControl(c *auth.Credentials) bool {
	return c.EffectiveUID == p.cuid || c.EffectiveUID == p.uid || c.HasCapability(auth.CapSysAdmin)
}

// set applies IPC_SET's owner and mode (ipc_update_perm()).
func (p *perm) set(s *Perm) {
	p.uid, p.gid = s.UID, s.GID
	p.mode = p.mode&^0o777 | s.Mode&0o777
	p.ctime = now()
}

// Perm is struct ipc64_perm as the app reads and writes it.
type Perm struct {
	Key              int32
	UID, GID         uint32
	CUID, CGID, Mode uint32
	Seq              uint16
}

func (p *perm) export() Perm {
	return Perm{Key: p.key, UID: p.uid, GID: p.gid, CUID: p.cuid, CGID: p.cgid, Mode: p.mode, Seq: p.seq}
}

// permSize is sizeof(struct ipc64_perm) on amd64.
const permSize = 48

func (p *Perm) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], p.Mode)
	le.PutUint16(b[24:], p.Seq)
}

func (p *Perm) decode(b []byte) {
	le := binary.LittleEndian
	p.Key = int32(le.Uint32(b[0:]))
	p.UID = le.Uint32(b[4:])
	p.GID = le.Uint32(b[8:])
	p.CUID = le.Uint32(b[12:])
	p.CGID = le.Uint32(b[16:])
	p.Mode = le.Uint32(b[20:])
	p.Seq = le.Uint16(b[24:])
}

// object is what every IPC object has.
type object interface{ ipcPerm() *perm }

// ids is one kind's identifier table (struct ipc_ids).
//
// Preconditions for every method: Namespace.mu is held.
type ids[T object] struct {
	byIdx   map[int]T
	byKey   map[int32]T
	seq     uint16
	lastIdx int
	max     int
}

func newIDs[T object](max int) ids[T] {
	return ids[T]{byIdx: make(map[int]T), byKey: make(map[int32]T), lastIdx: -1, max: max}
}

// add gives o an index and identifier (ipc_addid(), ipc_idr_alloc():
// the index after the last one handed out, wrapping to the lowest free;
// the sequence number advances on each wrap). ENOSPC when full.
func (s *ids[T]) add(o T) (int32, error) {
	if len(s.byIdx) >= s.max {
		return 0, unix.ENOSPC
	}
	idx := -1
	for i := s.lastIdx + 1; i < s.max; i++ {
		if _, ok := s.byIdx[i]; !ok {
			idx = i
			break
		}
	}
	if idx < 0 {
		for i := 0; i <= s.lastIdx; i++ {
			if _, ok := s.byIdx[i]; !ok {
				idx = i
				break
			}
		}
	}
	if idx <= s.lastIdx {
		s.seq++
		if int(s.seq) >= math.MaxInt32/ipcMNI {
			s.seq = 0
		}
	}
	s.lastIdx = idx
	p := o.ipcPerm()
	p.idx, p.seq = idx, s.seq
	p.id = int32(int(s.seq)*ipcMNI + idx)
	s.byIdx[idx] = o
	if p.key != IPCPrivate {
		s.byKey[p.key] = o
	}
	return p.id, nil
}

// find returns the object with identifier id (ipc_obtain_object_check()):
// EINVAL for a negative, unknown or stale identifier.
func (s *ids[T]) find(id int32) (T, error) {
	var zero T
	if id < 0 {
		return zero, unix.EINVAL
	}
	o, ok := s.byIdx[int(id%ipcMNI)]
	if !ok || o.ipcPerm().id != id {
		return zero, unix.EINVAL
	}
	return o, nil
}

// forgetKey makes o unreachable by key (ipc_set_key_private()).
func (s *ids[T]) forgetKey(o T) {
	p := o.ipcPerm()
	if p.key != IPCPrivate && any(s.byKey[p.key]) == any(o) {
		delete(s.byKey, p.key)
	}
	p.key = IPCPrivate
}

// remove drops o (ipc_rmid()).
func (s *ids[T]) remove(o T) {
	s.forgetKey(o)
	p := o.ipcPerm()
	delete(s.byIdx, p.idx)
	p.removed = true
}

// maxIdx is ipc_get_maxidx(), or 0 with no objects.
func (s *ids[T]) maxIdx() int {
	m := 0
	for i := range s.byIdx {
		m = max(m, i)
	}
	return m
}

// byIndex returns the object at index idx (SHM_STAT and friends).
func (s *ids[T]) byIndex(idx int) (T, error) {
	o, ok := s.byIdx[idx]
	if !ok || idx < 0 {
		var zero T
		return zero, unix.EINVAL
	}
	return o, nil
}

// getParams is what ipcget() needs from a *get call.
type getParams[T object] struct {
	key int32
	flg int32
	// create makes a new object, not yet added.
	create func() (T, error)
	// more checks an existing object (shm size, sem count): EINVAL.
	more func(T) error
}

// get implements ipcget(): IPC_PRIVATE always creates; a key finds its
// object (EEXIST with IPC_CREAT|IPC_EXCL, EACCES without permission) or,
// with IPC_CREAT, creates one (ENOENT without).
func get[T object](s *ids[T], c *auth.Credentials, p getParams[T]) (int32, error) {
	if p.key != IPCPrivate {
		if o, ok := s.byKey[p.key]; ok {
			if p.flg&IPCCreat != 0 && p.flg&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if p.more != nil {
				if err := p.more(o); err != nil {
					return 0, err
				}
			}
			if !o.ipcPerm().check(c, p.flg) {
				return 0, unix.EACCES
			}
			return o.ipcPerm().id, nil
		}
		if p.flg&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	o, err := p.create()
	if err != nil {
		return 0, err
	}
	return s.add(o)
}

// Namespace is a System V IPC namespace (struct ipc_namespace).
type Namespace struct {
	// mf holds shared memory. Immutable.
	mf *memfile.File

	mu sync.Mutex
	// The identifier tables. Protected by mu.
	shms ids[*Shm]
	sems ids[*SemSet]
	msgs ids[*Queue]
	// shmTot is the size in pages of every segment (shm_tot). Protected
	// by mu.
	shmTot uint64
	// usedSems counts the semaphores of every set (used_sems).
	// Protected by mu.
	usedSems int
	// undoPIDs are the processes with SEM_UNDO adjustments somewhere.
	// Protected by mu.
	undoPIDs map[int32]bool
	// msgBytes and msgHdrs count queued message bytes and messages
	// (percpu_msg_bytes, percpu_msg_hdrs). Protected by mu.
	msgBytes, msgHdrs int
}

// NewNamespace returns an empty namespace whose segments live in mf.
func NewNamespace(mf *memfile.File) *Namespace {
	return &Namespace{
		mf:       mf,
		shms:     newIDs[*Shm](shmMNI),
		sems:     newIDs[*SemSet](semMNI),
		msgs:     newIDs[*Queue](msgMNI),
		undoPIDs: make(map[int32]bool),
	}
}
