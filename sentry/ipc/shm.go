package ipc

import (
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

// Shared memory limits (include/uapi/linux/shm.h defaults).
const (
	shmMNI = 4096
	shmMin = 1
	shmMax = ^uint64(0) - 1<<24
	shmAll = ^uint64(0) - 1<<24
	shmSeg = shmMNI
)

// shmget flags, shmat flags and shmctl commands (include/uapi/linux/shm.h).
const (
	ShmHugetlb = 0o4000

	ShmRdonly = 0o10000
	ShmRnd    = 0o20000
	ShmRemap  = 0o40000
	ShmExec   = 0o100000

	ShmLock    = 11
	ShmUnlock  = 12
	ShmStat    = 13
	ShmInfo    = 14
	ShmStatAny = 15

	// Mode bits: marked for removal, locked in memory.
	shmDest   = 0o1000
	shmLocked = 0o2000
)

// Shm is a shared memory segment (struct shmid_kernel). Its pages are
// allocated on first touch and freed when it is destroyed: when marked
// for removal and no longer mapped.
type Shm struct {
	// ns and size are immutable.
	ns   *Namespace
	size uint64

	// The fields below are protected by ns.mu.
	perm perm
	// nattch counts the VMAs mapping the segment, plus attaches in
	// progress.
	nattch       int
	atime, dtime int64
	cpid, lpid   int32
	// spaces are the address spaces mapping the segment.
	spaces memmap.Spaces

	mu sync.Mutex
	// pages maps page-aligned offsets to memory-file offsets, each with
	// one reference. Protected by mu.
	pages map[uint64]uint64
}

var (
	_ memmap.Mappable    = (*Shm)(nil)
	_ memmap.Tracker     = (*Shm)(nil)
	_ memmap.HolePuncher = (*Shm)(nil)
)

func (s *Shm) ipcPerm() *perm { return &s.perm }

// ID returns the segment's identifier.
func (s *Shm) ID() int32 {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.perm.id
}

func pagesOf(size uint64) uint64 { return (size + memfile.PageSize - 1) / memfile.PageSize }

// ShmGet implements shmget(2) (newseg(), shm_more_checks()).
func (ns *Namespace) ShmGet(ctx Context, pid int32, key int32, size uint64, flg int32) (int32, error) {
	c := ctx.Credentials()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return get(&ns.shms, c, getParams[*Shm]{
		key: key, flg: flg,
		create: func() (*Shm, error) {
			if size < shmMin || size > shmMax {
				return nil, unix.EINVAL
			}
			n := pagesOf(size)
			if ns.shmTot+n < ns.shmTot || ns.shmTot+n > shmAll {
				return nil, unix.ENOSPC
			}
			if flg&ShmHugetlb != 0 {
				// No hugetlbfs in the sandbox.
				return nil, unix.EINVAL
			}
			if len(ns.shms.byIdx) >= shmMNI {
				return nil, unix.ENOSPC
			}
			ns.shmTot += n
			return &Shm{ns: ns, size: size, perm: newPerm(c, key, flg), cpid: pid, pages: make(map[uint64]uint64)}, nil
		},
		more: func(s *Shm) error {
			if s.size < size {
				return unix.EINVAL
			}
			return nil
		},
	})
}

// ShmAttachment is a segment being attached by shmat(2): the caller maps
// File (shared, Size bytes) and then calls Done, whatever happened.
type ShmAttachment struct {
	File memmap.File
	Size uint64
	// Key and ID name the mapping in /proc/PID/maps ("/SYSV%08x
	// (deleted)", inode number = ID).
	Key int32
	ID  int32
	s   *Shm
}

// Done ends the attach: the segment is destroyed now if it was removed
// meanwhile and nothing maps it.
func (a *ShmAttachment) Done() {
	ns := a.s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	a.s.nattch--
	a.s.mayDestroyLocked()
}

// ShmAttach implements the checks of shmat(2) (do_shmat()): the segment
// must exist (EINVAL) and allow reading, and writing unless readonly
// (EACCES). It counts an attach in progress so that a concurrent
// IPC_RMID cannot destroy the segment before the mapping exists.
func (ns *Namespace) ShmAttach(ctx Context, id int32, readonly, exec bool) (*ShmAttachment, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, err := ns.shms.find(id)
	if err != nil {
		return nil, err
	}
	acc := int32(mayRead | mayWrite)
	if readonly {
		acc = mayRead
	}
	if exec {
		acc |= mayExec
	}
	if !s.perm.check(ctx.Credentials(), acc) {
		return nil, unix.EACCES
	}
	s.nattch++
	return &ShmAttachment{File: shmFile{s}, Size: s.size, Key: s.perm.key, ID: s.perm.id, s: s}, nil
}

// IsShm reports whether m is a segment, and its size (for shmdt(2)).
func IsShm(m memmap.Mappable) (uint64, bool) {
	s, ok := m.(*Shm)
	if !ok {
		return 0, false
	}
	return s.size, true
}

// Translate implements memmap.Mappable: pages are allocated on first
// touch; past the segment's end is SIGBUS (a mapping grown by mremap).
func (s *Shm) Translate(off, length uint64, write bool) (memmap.Translation, error) {
	if off >= pagesOf(s.size)*memfile.PageSize {
		return memmap.Translation{}, &memmap.BusError{Errno: unix.EFAULT}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mf := s.ns.mf
	mo, ok := s.pages[off]
	if !ok {
		var err error
		if mo, err = mf.Allocate(memfile.PageSize); err != nil {
			return memmap.Translation{}, err
		}
		s.pages[off] = mo
	}
	return memmap.Translation{FD: mf.FD(), Offset: mo, Length: memfile.PageSize, Internal: mf.Slice(mo, memfile.PageSize)}, nil
}

// AddMapping implements memmap.Tracker (shm_open()): one more attach,
// by the address space's process.
func (s *Shm) AddMapping(ms memmap.MappingSpace, _ bool) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.nattch++
	s.atime = now()
	s.lpid = ms.OwnerPID()
	s.spaces.Add(ms)
	return nil
}

// RemoveMapping implements memmap.Tracker (shm_close()): the last detach
// of a segment marked for removal destroys it.
func (s *Shm) RemoveMapping(ms memmap.MappingSpace, _ bool) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.nattch--
	s.dtime = now()
	s.lpid = ms.OwnerPID()
	s.spaces.Remove(ms)
	s.mayDestroyLocked()
}

// PunchHole implements memmap.HolePuncher (madvise(MADV_REMOVE) of an
// attach, shm_fallocate()): the range's pages are unmapped everywhere and
// freed, and read as zeros afterwards.
func (s *Shm) PunchHole(off, length uint64) error {
	s.ns.mu.Lock()
	spaces := s.spaces.List()
	s.mu.Lock()
	var freed []uint64
	for o, mo := range s.pages {
		if o >= off && o-off < length {
			freed = append(freed, mo)
			delete(s.pages, o)
		}
	}
	s.mu.Unlock()
	s.ns.mu.Unlock()
	for _, ms := range spaces {
		ms.Invalidate(s, off, off+length, false)
	}
	for _, mo := range freed {
		s.ns.mf.DecRef(mo, memfile.PageSize)
	}
	return nil
}

// mayDestroyLocked destroys s if it is marked for removal and unused
// (shm_may_destroy(), shm_destroy()).
//
// Preconditions: ns.mu is held.
func (s *Shm) mayDestroyLocked() {
	if s.nattch > 0 || s.perm.mode&shmDest == 0 {
		return
	}
	s.destroyLocked()
}

// destroyLocked removes s from its table and frees its pages.
//
// Preconditions: ns.mu is held; nothing maps s.
func (s *Shm) destroyLocked() {
	ns := s.ns
	if !s.perm.removed {
		ns.shms.remove(s)
		ns.shmTot -= pagesOf(s.size)
	}
	s.mu.Lock()
	for off, mo := range s.pages {
		ns.mf.DecRef(mo, memfile.PageSize)
		delete(s.pages, off)
	}
	s.mu.Unlock()
}

// resident returns the number of allocated pages.
func (s *Shm) resident() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(len(s.pages))
}

// shmFile is a segment as mmap sees it. The segment's lifetime is kept by
// its attach count, not by references on this.
type shmFile struct{ s *Shm }

func (f shmFile) ReadAt([]byte, int64) (int, error) { return 0, unix.EINVAL }
func (f shmFile) Size() (int64, error)              { return int64(f.s.size), nil }
func (f shmFile) Mappable() memmap.Mappable         { return f.s }
func (f shmFile) IncRef()                           {}
func (f shmFile) DecRef()                           {}

// ShmidDS is struct shmid64_ds.
type ShmidDS struct {
	Perm                Perm
	Segsz               uint64
	Atime, Dtime, Ctime int64
	CPID, LPID          int32
	Nattch              uint64
}

// ShmidDSSize is sizeof(struct shmid64_ds) on amd64.
const ShmidDSSize = 112

// Encode returns the app's layout.
func (d *ShmidDS) Encode() []byte {
	b := make([]byte, ShmidDSSize)
	le := binary.LittleEndian
	d.Perm.encode(b)
	le.PutUint64(b[48:], d.Segsz)
	le.PutUint64(b[56:], uint64(d.Atime))
	le.PutUint64(b[64:], uint64(d.Dtime))
	le.PutUint64(b[72:], uint64(d.Ctime))
	le.PutUint32(b[80:], uint32(d.CPID))
	le.PutUint32(b[84:], uint32(d.LPID))
	le.PutUint64(b[88:], d.Nattch)
	return b
}

// DecodeShmidDS reads the fields IPC_SET uses.
func DecodeShmidDS(b []byte) ShmidDS {
	var d ShmidDS
	d.Perm.decode(b)
	return d
}

func (s *Shm) statLocked() ShmidDS {
	return ShmidDS{Perm: s.perm.export(), Segsz: s.size, Atime: s.atime, Dtime: s.dtime, Ctime: s.perm.ctime,
		CPID: s.cpid, LPID: s.lpid, Nattch: uint64(s.nattch)}
}

// ShmCtl implements shmctl(2) commands that name a segment: IPC_STAT,
// SHM_STAT and SHM_STAT_ANY (which take an index and return the
// identifier), IPC_SET, IPC_RMID, SHM_LOCK and SHM_UNLOCK. It returns the
// syscall's value and, for the stat commands, the segment's state.
func (ns *Namespace) ShmCtl(ctx Context, id int32, cmd int32, set *ShmidDS) (int32, ShmidDS, error) {
	c := ctx.Credentials()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var s *Shm
	var err error
	if cmd == ShmStat || cmd == ShmStatAny {
		s, err = ns.shms.byIndex(int(id))
	} else {
		s, err = ns.shms.find(id)
	}
	if err != nil {
		return 0, ShmidDS{}, err
	}
	switch cmd {
	case IPCStat, ShmStat, ShmStatAny:
		if cmd != ShmStatAny && !s.perm.check(c, mayRead) {
			return 0, ShmidDS{}, unix.EACCES
		}
		ret := int32(0)
		if cmd != IPCStat {
			ret = s.perm.id
		}
		return ret, s.statLocked(), nil
	case IPCSet:
		if !s.perm.mayControl(c) {
			return 0, ShmidDS{}, unix.EPERM
		}
		s.perm.set(&set.Perm)
		return 0, ShmidDS{}, nil
	case IPCRmid:
		if !s.perm.mayControl(c) {
			return 0, ShmidDS{}, unix.EPERM
		}
		// do_shm_rmid(): still attached segments only lose their key.
		if s.nattch > 0 {
			s.perm.mode |= shmDest
			ns.shms.forgetKey(s)
			return 0, ShmidDS{}, nil
		}
		s.destroyLocked()
		return 0, ShmidDS{}, nil
	case ShmLock, ShmUnlock:
		if !c.HasCapability(capIPCLock) && c.EffectiveUID != s.perm.uid && c.EffectiveUID != s.perm.cuid {
			return 0, ShmidDS{}, unix.EPERM
		}
		if cmd == ShmLock {
			s.perm.mode |= shmLocked
		} else {
			s.perm.mode &^= shmLocked
		}
		return 0, ShmidDS{}, nil
	}
	return 0, ShmidDS{}, unix.EINVAL
}

// ShmInfoSize is sizeof(struct shminfo64) for IPC_INFO and sizeof(struct
// shm_info) for SHM_INFO, on amd64.
const (
	ShmInfo64Size = 72
	ShmInfoSize   = 48
)

// ShmInfo implements shmctl(2) IPC_INFO (limits) and SHM_INFO (usage):
// the encoded structure and the highest index in use.
func (ns *Namespace) ShmInfo(cmd int32) ([]byte, int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	le := binary.LittleEndian
	if cmd == IPCInfo {
		b := make([]byte, ShmInfo64Size)
		le.PutUint64(b[0:], shmMax)
		le.PutUint64(b[8:], shmMin)
		le.PutUint64(b[16:], shmMNI)
		le.PutUint64(b[24:], shmSeg)
		le.PutUint64(b[32:], shmAll)
		return b, int32(ns.shms.maxIdx())
	}
	b := make([]byte, ShmInfoSize)
	var rss uint64
	for _, s := range ns.shms.byIdx {
		rss += s.resident()
	}
	le.PutUint32(b[0:], uint32(len(ns.shms.byIdx)))
	le.PutUint64(b[8:], ns.shmTot)
	le.PutUint64(b[16:], rss)
	return b, int32(ns.shms.maxIdx())
}
