// Package mm is an application address space (struct mm_struct): the VMAs the
// app asked for, and the page table entries (ptes) established from them on
// demand. A pte records which host file page backs an app page: a page of
// the memory file for private memory, or a page of a shared Mappable. Host
// mappings are created lazily on page faults (or on sentry copy-in/out) with
// platform.AddressSpace.MapFile, in runs of up to privateChunk bytes so that
// touching a large buffer does not take one trap per page.
//
// Copy-in/out never touches the app's host mappings: the sentry reads and
// writes the backing pages through its own mapping of the memory file (or of
// the Mappable), so it is a memcpy.
//
// Shared mappings (and private mappings of files that are
// memmap.CoherentPrivate, such as tmpfs files) take their pages from a
// memmap.Mappable. Their ptes hold no reference on those pages: a Mappable
// that frees pages while mapped (a truncated tmpfs file) first calls
// Invalidate, and one that is a memmap.Tracker is told of every VMA mapping
// it (AddMapping/RemoveMapping), which is how shared anonymous memory and
// SysV segments know when their last mapping is gone. A private mapping of
// a coherent file maps the file's page read-only and copies it on the first
// write (do_cow_fault()), so write(2) to the file shows through until then.
//
// Locking: MemoryManager.mu protects everything mutable in a MemoryManager.
// It is taken before memfile.File.mu and before any lock a Mappable takes in
// Translate, AddMapping and RemoveMapping, and may be held across platform
// calls.
package mm

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

const (
	pageSize = memfile.PageSize
	pageMask = pageSize - 1

	// privateChunk is how much private anonymous memory a fault
	// populates at once (aligned, clipped to the VMA), as gVisor does with
	// huge-page-sized allocation units.
	privateChunk = 2 << 20
	// fileChunk is the populate unit for private file mappings, which
	// must be read from the file.
	fileChunk = 256 << 10

	// minMmapAddr is vm.mmap_min_addr's default.
	minMmapAddr = 0x10000
)

func pageDown(a uintptr) uintptr { return a &^ pageMask }

// pageUp rounds up, reporting overflow.
func pageUp(a uintptr) (uintptr, bool) {
	r := (a + pageMask) &^ pageMask
	return r, r >= a
}

// vma is one virtual memory area (struct vm_area_struct).
type vma struct {
	start, end uintptr
	perms      platform.AccessType
	// maxPerms bounds mprotect: a shared file mapping of a read-only file
	// can never become writable.
	maxPerms platform.AccessType
	private  bool
	// file is set for file-backed mappings; off is the file offset of
	// start.
	file memmap.File
	off  uint64
	// mappable backs shared mappings (a file's, or an anonymous shared
	// object), and private mappings of memmap.CoherentPrivate files,
	// whose pages are then copied on write.
	mappable  memmap.Mappable
	name      string
	growsDown bool
	// dev and ino identify the file in /proc/PID/maps.
	dev, ino uint64
}

func (v *vma) contains(a uintptr) bool { return v.start <= a && a < v.end }

// sharedWritable reports whether v is a shared mapping that may ever be
// written (VM_SHARED|VM_MAYWRITE), which is what seals and Trackers count.
func (v *vma) sharedWritable() bool { return !v.private && v.maxPerms.Write }

// fileCOW reports whether v maps its Mappable's pages copy-on-write.
func (v *vma) fileCOW() bool { return v.private && v.mappable != nil }

// fileOffset returns the file offset of app address a.
func (v *vma) fileOffset(a uintptr) uint64 { return v.off + uint64(a-v.start) }

// pte is one established app page.
type pte struct {
	fd  int
	off uint64
	// internal is the sentry's view of the page.
	internal []byte
	// private pages are memory-file pages holding one reference owned by
	// this mm.
	private bool
	// cow is set on private pages shared with another address space
	// after fork: they are mapped without write permission, and a write
	// copies them (or takes them over when this mm holds the last
	// reference).
	cow bool
	// mapped is the permission of the host mapping (NoAccess: none).
	mapped platform.AccessType
}

// MemoryManager is one app address space.
type MemoryManager struct {
	// Immutable after New.
	mf      *memfile.File
	as      platform.AddressSpace
	maxAddr uintptr

	// users counts the tasks using this address space (mm_users): threads
	// and CLONE_VM children share it. The last DecUsers releases it.
	users atomic.Int32

	mu sync.Mutex
	// vmas is sorted by start and non-overlapping. Protected by mu.
	vmas []*vma
	// ptes maps page addresses to established pages. Protected by mu.
	ptes map[uintptr]*pte
	// brkStart and brk delimit the heap. Protected by mu.
	brkStart, brk uintptr
	// mmapBase is where top-down mmap placement starts. Protected by mu.
	mmapBase uintptr
	// ownerPID is the process the address space belongs to, for
	// Trackers (shm_lpid). Set by the kernel; copied by Fork.
	ownerPID atomic.Int32
	// Layout of the initial stack for /proc/PID/{cmdline,environ,auxv}.
	// Protected by mu.
	ArgStart, ArgEnd, EnvStart, EnvEnd uintptr
	Auxv                               []uint64
	// The executable's layout for /proc/PID/{stat,statm,status}
	// (mm->start_code and friends), set by the loader. Protected by mu
	// like the above (written before the address space runs).
	StartCode, EndCode, StartData, EndData, StartStack uintptr
}

// New returns an empty address space backed by mf and established in as.
// It has one user.
func New(mf *memfile.File, as platform.AddressSpace, maxAddr uintptr) *MemoryManager {
	m := &MemoryManager{
		mf:       mf,
		as:       as,
		maxAddr:  maxAddr,
		ptes:     make(map[uintptr]*pte),
		mmapBase: maxAddr,
	}
	m.users.Store(1)
	return m
}

// SetOwnerPID records the process that owns the address space.
func (m *MemoryManager) SetOwnerPID(pid int32) { m.ownerPID.Store(pid) }

// OwnerPID implements memmap.MappingSpace.
func (m *MemoryManager) OwnerPID() int32 { return m.ownerPID.Load() }

// addMapping tells v's Mappable about a new VMA mapping it.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) addMapping(v *vma) error {
	if t, ok := v.mappable.(memmap.Tracker); ok {
		return t.AddMapping(m, v.sharedWritable())
	}
	return nil
}

// removeMapping tells v's Mappable that v is gone.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) removeMapping(v *vma) {
	if t, ok := v.mappable.(memmap.Tracker); ok {
		t.RemoveMapping(m, v.sharedWritable())
	}
}

// Invalidate implements memmap.MappingSpace: the established pages of every
// VMA mapping mp's file range [start, end) are dropped and unmapped (the
// private copies in private VMAs only with evenCopies).
func (m *MemoryManager) Invalidate(mp memmap.Mappable, start, end uint64, evenCopies bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.vmas {
		if v.mappable != mp {
			continue
		}
		vs, ve := v.off, v.off+uint64(v.end-v.start)
		s, e := max(vs, start), min(ve, end)
		if s >= e {
			continue
		}
		as, ae := v.start+uintptr(s-v.off), v.start+uintptr(e-v.off)
		if !v.private || evenCopies {
			if m.dropPTEs(as, ae) > 0 && m.as != nil {
				_ = m.as.Unmap(as, ae-as)
			}
			continue
		}
		// Keep the copies: drop only the file's own pages.
		drop := func(a uintptr, p *pte) {
			if !p.private {
				m.dropPTE(a, p)
				if m.as != nil {
					_ = m.as.Unmap(a, pageSize)
				}
			}
		}
		if uintptr(len(m.ptes)) < (ae-as)/pageSize {
			for a, p := range m.ptes {
				if a >= as && a < ae {
					drop(a, p)
				}
			}
			continue
		}
		for a := as; a < ae; a += pageSize {
			if p, ok := m.ptes[a]; ok {
				drop(a, p)
			}
		}
	}
}

// IncUsers adds a user (a thread or CLONE_VM child starting to run in m).
func (m *MemoryManager) IncUsers() { m.users.Add(1) }

// DecUsers drops a user; the last one releases the address space
// (mmput()).
func (m *MemoryManager) DecUsers() {
	switch n := m.users.Add(-1); {
	case n == 0:
		m.release()
	case n < 0:
		panic("mm: DecUsers without a user")
	}
}

// Users returns the number of tasks using m.
func (m *MemoryManager) Users() int32 { return m.users.Load() }

// AddressSpace returns the platform address space.
func (m *MemoryManager) AddressSpace() platform.AddressSpace { return m.as }

// MaxAddress returns the exclusive upper bound of app addresses.
func (m *MemoryManager) MaxAddress() uintptr { return m.maxAddr }

// SetMmapBase sets where top-down placement starts (below the stack).
func (m *MemoryManager) SetMmapBase(a uintptr) {
	m.mu.Lock()
	m.mmapBase = pageDown(a)
	m.mu.Unlock()
}

// release drops every page and destroys the host address space.
func (m *MemoryManager) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for a, p := range m.ptes {
		if p.private {
			m.mf.DecRef(p.off, pageSize)
		}
		delete(m.ptes, a)
	}
	for _, v := range m.vmas {
		m.removeMapping(v)
		if v.file != nil {
			v.file.DecRef()
		}
	}
	m.vmas = nil
	if m.as != nil {
		m.as.Release()
		m.as = nil
	}
}

// findVMA returns the index of the vma containing a, or -1.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) findVMA(a uintptr) int {
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > a })
	if i < len(m.vmas) && m.vmas[i].start <= a {
		return i
	}
	return -1
}

// splitAt makes a a vma boundary if it falls inside a vma.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) splitAt(a uintptr) {
	i := m.findVMA(a)
	if i < 0 || m.vmas[i].start == a {
		return
	}
	v := m.vmas[i]
	nv := *v
	nv.start = a
	if v.file != nil {
		nv.off = v.fileOffset(a)
		v.file.IncRef()
	}
	v.end = a
	m.vmas = append(m.vmas, nil)
	copy(m.vmas[i+2:], m.vmas[i+1:])
	m.vmas[i+1] = &nv
	// The new half is one more mapping (__split_vma() calls vm_ops->open);
	// an existing mapping's Tracker cannot refuse it.
	_ = m.addMapping(&nv)
}

// insertVMA adds v, which must not overlap any vma.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) insertVMA(v *vma) {
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].start >= v.end })
	m.vmas = append(m.vmas, nil)
	copy(m.vmas[i+1:], m.vmas[i:])
	m.vmas[i] = v
}

// overlaps reports whether any vma intersects [start, end).
//
// Preconditions: m.mu is held.
func (m *MemoryManager) overlaps(start, end uintptr) bool {
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > start })
	return i < len(m.vmas) && m.vmas[i].start < end
}

// fullyMapped reports whether every page of [start, end) is in some vma.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) fullyMapped(start, end uintptr) bool {
	a := start
	i := m.findVMA(a)
	if i < 0 {
		return false
	}
	for ; i < len(m.vmas) && a < end; i++ {
		if m.vmas[i].start > a {
			return false
		}
		a = m.vmas[i].end
	}
	return a >= end
}

// removeRange unmaps [start, end): vmas are cut, ptes dropped and host
// mappings removed.
//
// Preconditions: m.mu is held; start and end are page aligned.
func (m *MemoryManager) removeRange(start, end uintptr) {
	if !m.overlaps(start, end) {
		return
	}
	m.splitAt(start)
	m.splitAt(end)
	kept := m.vmas[:0]
	var removed []*vma
	for _, v := range m.vmas {
		if v.start >= start && v.end <= end {
			removed = append(removed, v)
		} else {
			kept = append(kept, v)
		}
	}
	m.vmas = kept
	for _, v := range removed {
		m.dropPTEs(v.start, v.end)
		m.removeMapping(v)
		if v.file != nil {
			v.file.DecRef()
		}
	}
	if m.as != nil {
		_ = m.as.Unmap(start, end-start)
	}
}

// dropPTEs forgets the pages of [start, end) without touching host
// mappings, and returns how many there were.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) dropPTEs(start, end uintptr) int {
	n := 0
	if uintptr(len(m.ptes)) < (end-start)/pageSize {
		for a, p := range m.ptes {
			if a >= start && a < end {
				m.dropPTE(a, p)
				n++
			}
		}
		return n
	}
	for a := start; a < end; a += pageSize {
		if p, ok := m.ptes[a]; ok {
			m.dropPTE(a, p)
			n++
		}
	}
	return n
}

// Preconditions: m.mu is held.
func (m *MemoryManager) dropPTE(a uintptr, p *pte) {
	if p.private {
		m.mf.DecRef(p.off, pageSize)
	}
	delete(m.ptes, a)
}

// MMapOpts describes a new mapping.
type MMapOpts struct {
	Addr   uintptr
	Length uintptr
	// Fixed places the mapping at exactly Addr, replacing what was
	// there; NoReplace makes an overlap fail with EEXIST instead.
	Fixed     bool
	NoReplace bool
	Perms     platform.AccessType
	MaxPerms  platform.AccessType
	Private   bool
	// File and Offset describe a file mapping; nil File is anonymous.
	File   memmap.File
	Offset uint64
	// Dev and Ino label file mappings in /proc/PID/maps.
	Dev, Ino  uint64
	Name      string
	GrowsDown bool
}

// MMap creates a mapping (do_mmap() in mm/mmap.c) and returns its address.
// Length must be non-zero; it is rounded up to a page. The mapping takes its
// own reference on o.File; the caller keeps its own.
func (m *MemoryManager) MMap(o MMapOpts) (uintptr, error) {
	length, ok := pageUp(o.Length)
	if o.Length == 0 || !ok || length > m.maxAddr {
		return 0, unix.ENOMEM
	}
	if o.Offset&pageMask != 0 {
		return 0, unix.EINVAL
	}
	if o.File != nil && o.Offset+uint64(length) < o.Offset {
		return 0, unix.EOVERFLOW
	}
	if o.MaxPerms == (platform.AccessType{}) {
		o.MaxPerms = platform.AnyAccess
	}
	v := &vma{
		perms:     o.Perms,
		maxPerms:  o.MaxPerms,
		private:   o.Private,
		file:      o.File,
		off:       o.Offset,
		name:      o.Name,
		growsDown: o.GrowsDown,
		dev:       o.Dev,
		ino:       o.Ino,
	}
	anonFile := false
	if a, ok := o.File.(memmap.AnonymousShared); ok {
		anonFile = a.AnonymousShared()
	}
	switch {
	case !o.Private && o.File != nil && !anonFile:
		v.mappable = o.File.Mappable()
		if v.mappable == nil {
			return 0, unix.ENODEV
		}
	case !o.Private:
		v.mappable = newAnonShared(m.mf, uint64(length))
		v.name = "/dev/zero (deleted)"
	case o.File != nil:
		if c, ok := o.File.(memmap.CoherentPrivate); ok && c.CoherentPrivate() {
			v.mappable = o.File.Mappable()
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	var addr uintptr
	if o.Fixed {
		if o.Addr&pageMask != 0 {
			return 0, unix.EINVAL
		}
		if o.Addr+length < o.Addr || o.Addr+length > m.maxAddr || o.Addr < minMmapAddr {
			if o.Addr < minMmapAddr {
				return 0, unix.EPERM
			}
			return 0, unix.ENOMEM
		}
		overlap := m.overlaps(o.Addr, o.Addr+length)
		if overlap && o.NoReplace {
			return 0, unix.EEXIST
		}
		// A Tracker refusing the mapping (a sealed file) leaves what
		// was there in place.
		if err := m.addMapping(v); err != nil {
			return 0, err
		}
		if overlap {
			m.removeRange(o.Addr, o.Addr+length)
		}
		addr = o.Addr
	} else {
		var err error
		addr, err = m.findGap(pageDown(o.Addr), length)
		if err != nil {
			return 0, err
		}
		if err := m.addMapping(v); err != nil {
			return 0, err
		}
	}
	v.start, v.end = addr, addr+length
	if v.file != nil {
		v.file.IncRef()
	}
	m.insertVMA(v)
	return addr, nil
}

// findGap picks an address for a length-byte mapping: the hint if free,
// else the highest free gap below mmapBase, else the lowest one
// (arch_get_unmapped_area_topdown()).
//
// Preconditions: m.mu is held.
func (m *MemoryManager) findGap(hint, length uintptr) (uintptr, error) {
	if hint >= minMmapAddr && hint+length > hint && hint+length <= m.maxAddr && !m.overlaps(hint, hint+length) {
		return hint, nil
	}
	// Top-down from mmapBase.
	top := m.mmapBase
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > top }) - 1
	for ; i >= -1; i-- {
		lo := uintptr(minMmapAddr)
		if i >= 0 {
			lo = m.vmas[i].end
		}
		hi := top
		if i+1 < len(m.vmas) && m.vmas[i+1].start < hi {
			hi = m.vmas[i+1].start
		}
		if hi > lo && hi-lo >= length {
			return hi - length, nil
		}
		if i >= 0 && m.vmas[i].start < top {
			top = m.vmas[i].start
		}
	}
	// Bottom-up above mmapBase.
	lo := m.mmapBase
	for _, v := range m.vmas {
		if v.end <= lo {
			continue
		}
		if v.start >= lo && v.start-lo >= length {
			return lo, nil
		}
		if v.end > lo {
			lo = v.end
		}
	}
	if m.maxAddr > lo && m.maxAddr-lo >= length {
		return lo, nil
	}
	return 0, unix.ENOMEM
}

// MUnmap implements munmap(2)'s checks and removal.
func (m *MemoryManager) MUnmap(addr, length uintptr) error {
	if addr&pageMask != 0 || length == 0 {
		return unix.EINVAL
	}
	l, ok := pageUp(length)
	if !ok || addr+l < addr || addr+l > m.maxAddr {
		return unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeRange(addr, addr+l)
	return nil
}

// MProtect implements mprotect(2).
func (m *MemoryManager) MProtect(addr, length uintptr, perms platform.AccessType, growsDown bool) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	l, ok := pageUp(length)
	if !ok || addr+l < addr {
		return unix.ENOMEM
	}
	if l == 0 {
		return nil
	}
	end := addr + l
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.fullyMapped(addr, end) {
		return unix.ENOMEM
	}
	for i := m.findVMA(addr); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		if !m.vmas[i].maxPerms.SupersetOf(perms) {
			return unix.EACCES
		}
	}
	m.splitAt(addr)
	m.splitAt(end)
	for i := m.findVMA(addr); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		m.vmas[i].perms = perms
	}
	m.remapLocked(addr, end)
	return nil
}

// remapLocked re-establishes host mappings of every established page in
// [start, end) with its vma's current permissions, in maximal runs.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) remapLocked(start, end uintptr) {
	if m.as == nil {
		return
	}
	for i := m.findVMA(start); i >= 0 && i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := m.vmas[i]
		s, e := max(v.start, start), min(v.end, end)
		if v.perms == platform.NoAccess {
			_ = m.as.Unmap(s, e-s)
			for a := s; a < e; a += pageSize {
				if p := m.ptes[a]; p != nil {
					p.mapped = platform.NoAccess
				}
			}
			continue
		}
		runStart := uintptr(0)
		var runFD int
		var runOff uint64
		flush := func(runEnd uintptr) {
			if runStart != 0 {
				_ = m.as.MapFile(runStart, runFD, runOff, runEnd-runStart, v.perms)
				runStart = 0
			}
		}
		for a := s; a < e; a += pageSize {
			p := m.ptes[a]
			if p == nil || p.mapped == platform.NoAccess {
				flush(a)
				continue
			}
			if p.cow && v.perms.Write {
				// Copy-on-write pages stay write-protected.
				flush(a)
				ro := v.perms
				ro.Write = false
				_ = m.as.MapFile(a, p.fd, p.off, pageSize, ro)
				p.mapped = ro
				continue
			}
			if runStart != 0 && (p.fd != runFD || p.off != runOff+uint64(a-runStart)) {
				flush(a)
			}
			if runStart == 0 {
				runStart, runFD, runOff = a, p.fd, p.off
			}
			p.mapped = v.perms
		}
		flush(e)
	}
}

// Brk implements brk(2): it returns the new break, or the old one if the
// request cannot be satisfied.
func (m *MemoryManager) Brk(addr uintptr) uintptr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr < m.brkStart || addr > m.maxAddr {
		return m.brk
	}
	oldEnd, _ := pageUp(m.brk)
	newEnd, _ := pageUp(addr)
	switch {
	case newEnd > oldEnd:
		if m.overlaps(oldEnd, newEnd) {
			return m.brk
		}
		if i := m.findVMA(oldEnd - 1); oldEnd > m.brkStart && i >= 0 && m.vmas[i].name == "[heap]" {
			m.vmas[i].end = newEnd
		} else {
			m.insertVMA(&vma{start: oldEnd, end: newEnd, perms: platform.ReadWrite,
				maxPerms: platform.AnyAccess, private: true, name: "[heap]"})
		}
	case newEnd < oldEnd:
		m.removeRange(newEnd, oldEnd)
	}
	m.brk = addr
	return addr
}

// SetBrk sets the start of the heap (after exec).
func (m *MemoryManager) SetBrk(a uintptr) {
	m.mu.Lock()
	m.brkStart, m.brk = a, a
	m.mu.Unlock()
}

// Madvise advice values we act on (include/uapi/asm-generic/mman-common.h).
const (
	madvDontneed = 4
	madvFree     = 8
	madvRemove   = 9
)

// MAdvise implements madvise(2).
func (m *MemoryManager) MAdvise(addr, length uintptr, advice int) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	l, ok := pageUp(length)
	if !ok || addr+l < addr {
		return unix.EINVAL
	}
	switch advice {
	case 0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 100, 101, 102, 103:
		// NORMAL RANDOM SEQUENTIAL WILLNEED DONTFORK DOFORK MERGEABLE
		// UNMERGEABLE HUGEPAGE NOHUGEPAGE DONTDUMP DODUMP WIPEONFORK
		// KEEPONFORK COLD PAGEOUT POPULATE_* COLLAPSE HWPOISON...: hints.
		if l == 0 {
			return nil
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.fullyMapped(addr, addr+l) {
			return unix.ENOMEM
		}
		return nil
	case madvDontneed, madvFree, madvRemove:
	default:
		return unix.EINVAL
	}
	if l == 0 {
		return nil
	}
	end := addr + l
	if advice == madvRemove {
		return m.madviseRemove(addr, end)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.fullyMapped(addr, end) {
		return unix.ENOMEM
	}
	// Dropping the pages makes private memory read back as zeros (or the
	// file's contents) on the next touch, as zap_page_range() does.
	for i := m.findVMA(addr); i >= 0 && i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := m.vmas[i]
		s, e := max(v.start, addr), min(v.end, end)
		m.dropPTEs(s, e)
		if m.as != nil {
			_ = m.as.Unmap(s, e-s)
		}
	}
	return nil
}

// madviseRemove implements MADV_REMOVE (madvise_remove()): the backing of
// shared writable mappings is freed with a hole punch in their object, so
// every mapping of it reads zeros there. Private anonymous memory is
// EINVAL, other mappings that may not be written shared EACCES, objects
// that cannot punch holes EOPNOTSUPP.
func (m *MemoryManager) madviseRemove(addr, end uintptr) error {
	type hole struct {
		p        memmap.HolePuncher
		off, len uint64
	}
	var holes []hole
	m.mu.Lock()
	if !m.fullyMapped(addr, end) {
		m.mu.Unlock()
		return unix.ENOMEM
	}
	for i := m.findVMA(addr); i >= 0 && i < len(m.vmas) && m.vmas[i].start < end; i++ {
		v := m.vmas[i]
		if v.private && v.file == nil {
			m.mu.Unlock()
			return unix.EINVAL
		}
		if v.private || !v.maxPerms.Write {
			m.mu.Unlock()
			return unix.EACCES
		}
		p, ok := v.mappable.(memmap.HolePuncher)
		if !ok {
			m.mu.Unlock()
			return unix.EOPNOTSUPP
		}
		s, e := max(v.start, addr), min(v.end, end)
		holes = append(holes, hole{p, v.fileOffset(s), uint64(e - s)})
	}
	m.mu.Unlock()
	// The objects invalidate every address space, this one included, so
	// m.mu must not be held.
	for _, h := range holes {
		if err := h.p.PunchHole(h.off, h.len); err != nil {
			return err
		}
	}
	return nil
}

// MRemap flags (include/uapi/linux/mman.h).
const (
	MremapMaymove   = 1
	MremapFixed     = 2
	MremapDontunmap = 4
)

// MRemap implements mremap(2).
func (m *MemoryManager) MRemap(oldAddr, oldSize, newSize uintptr, flags int, newAddr uintptr) (uintptr, error) {
	if flags&^(MremapMaymove|MremapFixed|MremapDontunmap) != 0 || oldAddr&pageMask != 0 {
		return 0, unix.EINVAL
	}
	if flags&MremapFixed != 0 && flags&MremapMaymove == 0 {
		return 0, unix.EINVAL
	}
	if flags&MremapDontunmap != 0 {
		return 0, unix.EINVAL
	}
	oldSize, ok1 := pageUp(oldSize)
	newSize, ok2 := pageUp(newSize)
	if !ok1 || !ok2 || newSize == 0 {
		return 0, unix.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.findVMA(oldAddr)
	if i < 0 {
		return 0, unix.EFAULT
	}
	v := m.vmas[i]
	if oldSize == 0 {
		// Duplicating a shared mapping is allowed by Linux; private
		// ones are not.
		return 0, unix.EINVAL
	}
	if oldAddr+oldSize < oldAddr || oldAddr+oldSize > v.end {
		return 0, unix.EFAULT
	}
	if flags&MremapFixed != 0 {
		if newAddr&pageMask != 0 || newAddr+newSize < newAddr || newAddr+newSize > m.maxAddr || newAddr < minMmapAddr {
			return 0, unix.EINVAL
		}
		if newAddr < oldAddr+oldSize && oldAddr < newAddr+newSize {
			return 0, unix.EINVAL
		}
		m.removeRange(newAddr, newAddr+newSize)
		return m.moveLocked(oldAddr, oldSize, newSize, newAddr)
	}
	if newSize <= oldSize {
		if newSize < oldSize {
			m.removeRange(oldAddr+newSize, oldAddr+oldSize)
		}
		return oldAddr, nil
	}
	// Grow in place if the vma ends here and the space after is free.
	if oldAddr+oldSize == v.end && oldAddr+newSize <= m.maxAddr && oldAddr+newSize > oldAddr &&
		!m.overlaps(v.end, oldAddr+newSize) {
		v.end = oldAddr + newSize
		return oldAddr, nil
	}
	if flags&MremapMaymove == 0 {
		return 0, unix.ENOMEM
	}
	na, err := m.findGap(0, newSize)
	if err != nil {
		return 0, err
	}
	return m.moveLocked(oldAddr, oldSize, newSize, na)
}

// moveLocked moves [oldAddr, oldAddr+oldSize) to newAddr, growing it to
// newSize, keeping the established pages (move_vma()).
//
// Preconditions: m.mu is held; the target range is free.
func (m *MemoryManager) moveLocked(oldAddr, oldSize, newSize, newAddr uintptr) (uintptr, error) {
	m.splitAt(oldAddr)
	m.splitAt(oldAddr + oldSize)
	i := m.findVMA(oldAddr)
	v := m.vmas[i]
	if v.end != oldAddr+oldSize {
		// The old range spans several vmas.
		return 0, unix.EFAULT
	}
	m.vmas = append(m.vmas[:i], m.vmas[i+1:]...)
	nv := *v
	nv.start, nv.end = newAddr, newAddr+newSize
	// Move the pages.
	moved := make(map[uintptr]*pte)
	for a := oldAddr; a < oldAddr+oldSize; a += pageSize {
		if p, ok := m.ptes[a]; ok {
			delete(m.ptes, a)
			if a-oldAddr < newSize {
				p.mapped = platform.NoAccess
				moved[newAddr+(a-oldAddr)] = p
			} else {
				m.dropPTE(a, p)
			}
		}
	}
	if m.as != nil {
		_ = m.as.Unmap(oldAddr, oldSize)
	}
	for a, p := range moved {
		m.ptes[a] = p
		p.mapped = nv.perms
	}
	m.insertVMA(&nv)
	for a := range moved {
		p := m.ptes[a]
		p.mapped = platform.AccessType{Read: true} // force remap below
	}
	m.remapLocked(nv.start, nv.end)
	return newAddr, nil
}

// HandleFault resolves an app page fault at addr (handle_mm_fault()). It
// returns EFAULT if the access is not allowed (the caller raises SIGSEGV) or
// ENOMEM if memory is exhausted.
func (m *MemoryManager) HandleFault(addr uintptr, at platform.AccessType) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.pageLocked(addr, at, true)
	return err
}

// SegvCode returns the si_code for an unresolvable fault at addr:
// SEGV_MAPERR if nothing is mapped there, SEGV_ACCERR otherwise.
func (m *MemoryManager) SegvCode(addr uintptr) int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.findVMA(addr) < 0 {
		return 1 // SEGV_MAPERR
	}
	return 2 // SEGV_ACCERR
}

// pageLocked returns the established page containing addr, populating it if
// the vma allows access at. fromApp says the request comes from an app
// fault: a page that is already mapped with all of its vma's permissions
// cannot be faulting for an allowed access, so it is an access violation
// (ptrace does not report the access type, see platform.Exit.Access).
//
// Preconditions: m.mu is held.
func (m *MemoryManager) pageLocked(addr uintptr, at platform.AccessType, fromApp bool) (*pte, error) {
	i := m.findVMA(addr)
	if i < 0 {
		return nil, unix.EFAULT
	}
	v := m.vmas[i]
	if !v.perms.SupersetOf(at) {
		return nil, unix.EFAULT
	}
	page := pageDown(addr)
	if p := m.ptes[page]; p != nil {
		if p.cow {
			// A fault on a copy-on-write page that is already mapped
			// readable can only be a write (ptrace cannot tell us).
			write := at.Write || (fromApp && p.mapped.Read && v.perms.Write)
			if write {
				if err := m.breakCOWLocked(page, p, v); err != nil {
					return nil, err
				}
				return p, nil
			}
			if fromApp {
				if p.mapped.SupersetOf(at) {
					// Already mapped for this access: the fault
					// raced with another thread's (see below).
					return p, nil
				}
				ro := v.perms
				ro.Write = false
				if m.as != nil {
					if err := m.as.MapFile(page, p.fd, p.off, pageSize, ro); err != nil {
						return nil, err
					}
				}
				p.mapped = ro
			}
			return p, nil
		}
		if fromApp {
			if p.mapped.SupersetOf(at) {
				// The host mapping already allows the access: the
				// fault raced with another thread that faulted on
				// the same page and had it mapped first, so the app
				// just retries. (If the platform guessed the access
				// type wrong, the retry faults again, and ptrace
				// reports a repeated fault as a write, which the
				// permission check above then refuses.)
				return p, nil
			}
			if m.as != nil {
				if err := m.as.MapFile(page, p.fd, p.off, pageSize, v.perms); err != nil {
					return nil, err
				}
			}
			p.mapped = v.perms
		}
		return p, nil
	}
	if err := m.populateLocked(v, page); err != nil {
		return nil, err
	}
	p := m.ptes[page]
	if p.cow && at.Write {
		// A write into a private mapping of a file page (a sentry
		// copy-out, or a fault known to be a write) copies it first.
		if err := m.breakCOWLocked(page, p, v); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// populateLocked establishes the page at page and its unestablished
// neighbours within one allocation unit, and maps them on the host.
//
// Preconditions: m.mu is held; page is in v and has no pte.
func (m *MemoryManager) populateLocked(v *vma, page uintptr) error {
	unit := uintptr(privateChunk)
	if v.file != nil || v.mappable != nil {
		unit = fileChunk
	}
	lo := max(v.start, page&^(unit-1))
	hi := min(v.end, (page&^(unit-1))+unit)
	if hi < page { // overflow at the top of the address space
		hi = v.end
	}
	s := page
	for s > lo {
		if _, ok := m.ptes[s-pageSize]; ok {
			break
		}
		s -= pageSize
	}
	e := page + pageSize
	for e < hi {
		if _, ok := m.ptes[e]; ok {
			break
		}
		e += pageSize
	}
	length := uint64(e - s)

	if v.mappable != nil {
		return m.populateMappableLocked(v, page, e)
	}

	off, err := m.mf.Allocate(length)
	if err != nil {
		return err
	}
	buf := m.mf.Slice(off, length)
	if v.file != nil {
		// Bytes past EOF stay zero, as the tail of the last page of a
		// file mapping reads in Linux.
		if _, err := v.file.ReadAt(buf, int64(v.fileOffset(s))); err != nil {
			m.mf.DecRef(off, length)
			return unix.EIO
		}
	}
	for o := uint64(0); o < length; o += pageSize {
		m.ptes[s+uintptr(o)] = &pte{fd: m.mf.FD(), off: off + o,
			internal: buf[o : o+pageSize : o+pageSize], private: true, mapped: v.perms}
	}
	if m.as != nil && v.perms != platform.NoAccess {
		if err := m.as.MapFile(s, m.mf.FD(), off, uintptr(length), v.perms); err != nil {
			return err
		}
	}
	return nil
}

// populateMappableLocked establishes the page at page from v's Mappable,
// and as many of the pages up to end as the same Translate call returns:
// the Mappable decides how far to go, so that a sparse file is not filled
// in around the page that faulted. A private VMA gets the pages
// copy-on-write.
//
// Preconditions: m.mu is held; page is in v and has no pte; the pages in
// [page, end) have none either.
func (m *MemoryManager) populateMappableLocked(v *vma, page, end uintptr) error {
	cow := v.private
	t, err := v.mappable.Translate(v.fileOffset(page), uint64(end-page), v.perms.Write && !cow)
	if err != nil {
		return err
	}
	if t.Length == 0 || t.Length%pageSize != 0 || uint64(len(t.Internal)) < t.Length {
		return unix.EFAULT
	}
	n := min(uintptr(t.Length), end-page)
	perms := v.perms
	if cow {
		perms.Write = false
	}
	for o := uintptr(0); o < n; o += pageSize {
		m.ptes[page+o] = &pte{fd: t.FD, off: t.Offset + uint64(o),
			internal: t.Internal[o : o+pageSize : o+pageSize], cow: cow, mapped: perms}
	}
	if m.as != nil && perms != platform.NoAccess {
		if err := m.as.MapFile(page, t.FD, t.Offset, n, perms); err != nil {
			return err
		}
	}
	return nil
}

// CopyIn copies from app memory at addr into dst, populating pages as
// needed. It returns the bytes copied and EFAULT at the first unreadable
// byte.
func (m *MemoryManager) CopyIn(addr uintptr, dst []byte) (int, error) {
	return m.copy(addr, dst, false)
}

// CopyOut copies src into app memory at addr (EFAULT at the first
// unwritable byte).
func (m *MemoryManager) CopyOut(addr uintptr, src []byte) (int, error) {
	return m.copy(addr, src, true)
}

func (m *MemoryManager) copy(addr uintptr, buf []byte, write bool) (int, error) {
	if addr+uintptr(len(buf)) < addr {
		return 0, unix.EFAULT
	}
	at := platform.Read
	if write {
		at = platform.AccessType{Write: true}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	done := 0
	for done < len(buf) {
		a := addr + uintptr(done)
		p, err := m.pageLocked(a, at, false)
		if err != nil {
			return done, unix.EFAULT
		}
		o := int(a & pageMask)
		var n int
		if write {
			n = copy(p.internal[o:], buf[done:])
		} else {
			n = copy(buf[done:], p.internal[o:])
		}
		done += n
	}
	return done, nil
}

// ZeroOut writes length zero bytes at addr.
func (m *MemoryManager) ZeroOut(addr, length uintptr) error {
	zeros := make([]byte, min(length, 64<<10))
	for length > 0 {
		n := min(length, uintptr(len(zeros)))
		if _, err := m.CopyOut(addr, zeros[:n]); err != nil {
			return err
		}
		addr += n
		length -= n
	}
	return nil
}

// MapEntry is one line of /proc/PID/maps.
type MapEntry struct {
	Start, End uintptr
	Perms      platform.AccessType
	Private    bool
	Offset     uint64
	Dev, Ino   uint64
	Name       string
}

// Maps returns the vmas for /proc/PID/maps.
func (m *MemoryManager) Maps() []MapEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MapEntry, 0, len(m.vmas))
	for _, v := range m.vmas {
		e := MapEntry{Start: v.start, End: v.end, Perms: v.perms, Private: v.private, Name: v.name, Dev: v.dev, Ino: v.ino}
		if v.file != nil {
			e.Offset = v.off
		}
		out = append(out, e)
	}
	return out
}

// String formats e as in /proc/PID/maps (show_map_vma()).
func (e MapEntry) String() string {
	var b strings.Builder
	perm := func(ok bool, c byte) {
		if ok {
			b.WriteByte(c)
		} else {
			b.WriteByte('-')
		}
	}
	fmt.Fprintf(&b, "%08x-%08x ", e.Start, e.End)
	perm(e.Perms.Read, 'r')
	perm(e.Perms.Write, 'w')
	perm(e.Perms.Execute, 'x')
	if e.Private {
		b.WriteByte('p')
	} else {
		b.WriteByte('s')
	}
	// show_vma_header_prefix() ends with a space; a name is padded to
	// column 72 and follows one more space (seq_setwidth(), seq_pad()).
	fmt.Fprintf(&b, " %08x %02x:%02x %d ", e.Offset, unix.Major(e.Dev), unix.Minor(e.Dev), e.Ino)
	if e.Name != "" {
		if pad := 72 - b.Len(); pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteByte(' ')
		b.WriteString(e.Name)
	}
	return b.String()
}

// VirtualSize returns the total size of all vmas (VmSize).
func (m *MemoryManager) VirtualSize() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, v := range m.vmas {
		n += uint64(v.end - v.start)
	}
	return n
}

// ResidentSize returns the bytes of established pages (VmRSS).
func (m *MemoryManager) ResidentSize() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.ptes)) * pageSize
}

// CheckMapped returns ENOMEM unless every page of [addr, addr+length) is
// mapped (the check msync(2), mincore(2) and mlock(2) make).
func (m *MemoryManager) CheckMapped(addr, length uintptr) error {
	l, ok := pageUp(length)
	if !ok || addr+l < addr {
		return unix.ENOMEM
	}
	if l == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.fullyMapped(addr, addr+l) {
		return unix.ENOMEM
	}
	return nil
}
