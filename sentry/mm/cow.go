package mm

import (
	"pangolin/platform"
)

// breakCOWLocked gives this mm a private, writable copy of the page at page
// (wp_page_copy()), or reuses the page if no other address space still
// references it (wp_page_reuse()), and maps it with the vma's permissions.
//
// Preconditions: m.mu is held; p is the cow pte of page in v.
func (m *MemoryManager) breakCOWLocked(page uintptr, p *pte, v *vma) error {
	switch {
	case !p.private:
		// A file page mapped into a private VMA: the copy becomes
		// this mm's own page; the file keeps its page.
		off, err := m.mf.Allocate(pageSize)
		if err != nil {
			return err
		}
		buf := m.mf.Slice(off, pageSize)
		copy(buf, p.internal)
		p.fd, p.off, p.internal, p.private = m.mf.FD(), off, buf, true
	case m.mf.RefCount(p.off) > 1:
		off, err := m.mf.Allocate(pageSize)
		if err != nil {
			return err
		}
		buf := m.mf.Slice(off, pageSize)
		copy(buf, p.internal)
		m.mf.DecRef(p.off, pageSize)
		p.off = off
		p.internal = buf
	}
	p.cow = false
	if m.as != nil && v.perms != platform.NoAccess {
		if err := m.as.MapFile(page, p.fd, p.off, pageSize, v.perms); err != nil {
			return err
		}
	}
	p.mapped = v.perms
	return nil
}

// Fork returns a copy of m (dup_mmap()) with no host address space yet (see
// SetAddressSpace; the platform may require the child's own thread to create
// it). The copy has the
// same vmas, shared mappings sharing their backing, and private pages shared
// copy-on-write. m's writable private pages are remapped read-only so that
// the next write by either side faults and copies.
func (m *MemoryManager) Fork() *MemoryManager {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := New(m.mf, nil, m.maxAddr)
	n.brkStart, n.brk, n.mmapBase = m.brkStart, m.brk, m.mmapBase
	n.ArgStart, n.ArgEnd, n.EnvStart, n.EnvEnd = m.ArgStart, m.ArgEnd, m.EnvStart, m.EnvEnd
	n.StartCode, n.EndCode, n.StartData, n.EndData, n.StartStack = m.StartCode, m.EndCode, m.StartData, m.EndData, m.StartStack
	n.Auxv = append([]uint64(nil), m.Auxv...)
	n.ownerPID.Store(m.ownerPID.Load())
	for _, v := range m.vmas {
		nv := *v
		if nv.file != nil {
			nv.file.IncRef()
		}
		// The child's copy is one more mapping (dup_mmap() calls
		// vm_ops->open); it cannot be refused.
		_ = n.addMapping(&nv)
		n.vmas = append(n.vmas, &nv)
		for a := v.start; a < v.end; a += pageSize {
			p, ok := m.ptes[a]
			if !ok {
				continue
			}
			np := *p
			np.mapped = platform.NoAccess
			if p.private {
				m.mf.IncRef(p.off, pageSize)
				p.cow, np.cow = true, true
			}
			n.ptes[a] = &np
		}
		if v.private && v.perms.Write {
			// Write-protect the parent's established pages.
			ro := v.perms
			ro.Write = false
			m.remapPermsLocked(v.start, v.end, ro)
		}
	}
	return n
}

// remapPermsLocked re-establishes the host mappings of the established pages
// in [start, end) with permissions perms, in maximal runs.
//
// Preconditions: m.mu is held.
func (m *MemoryManager) remapPermsLocked(start, end uintptr, perms platform.AccessType) {
	if m.as == nil {
		return
	}
	var runStart uintptr
	var runFD int
	var runOff uint64
	flush := func(runEnd uintptr) {
		if runStart != 0 {
			_ = m.as.MapFile(runStart, runFD, runOff, runEnd-runStart, perms)
			runStart = 0
		}
	}
	for a := start; a < end; a += pageSize {
		p := m.ptes[a]
		if p == nil || p.mapped == platform.NoAccess {
			flush(a)
			continue
		}
		if runStart != 0 && (p.fd != runFD || p.off != runOff+uint64(a-runStart)) {
			flush(a)
		}
		if runStart == 0 {
			runStart, runFD, runOff = a, p.fd, p.off
		}
		p.mapped = perms
	}
	flush(end)
}

// SetAddressSpace attaches the host address space to an mm made by Fork.
// Nothing is mapped in it yet; pages are established on demand.
func (m *MemoryManager) SetAddressSpace(as platform.AddressSpace) {
	m.mu.Lock()
	m.as = as
	m.mu.Unlock()
}
