package mm

// Memory accounting for /proc/PID/smaps, statm and status
// (smaps_account() and show_smap_vma_flags() in fs/proc/task_mmu.c).

// SmapEntry is one vma with the resident pages counted by kind. Sizes are
// in bytes.
type SmapEntry struct {
	MapEntry
	// MayRead, MayWrite, MayExec are VM_MAY*: what mprotect may grant.
	MayRead, MayWrite, MayExec bool
	GrowsDown                  bool

	Rss uint64
	// Pss divides each page by the number of address spaces sharing it
	// (known for memory-file pages, which are reference counted per
	// address space; a file or shared-memory page is counted as if this
	// address space alone mapped it). Fixed point: bytes << PssShift.
	// PssDirty is the part of Pss from dirty pages.
	Pss, PssDirty uint64
	// Private pages are mapped by this address space only; Shared ones
	// by others too (copy-on-write pages after fork). Dirty: anonymous
	// and shared-memory pages, and the sentry's private copies of file
	// pages in a writable mapping (the app may have written them: the
	// sentry does not track which it did); Clean: pages of host files,
	// and private copies of file pages in a mapping that was never
	// writable.
	SharedClean, SharedDirty, PrivateClean, PrivateDirty uint64
	// Anonymous counts the dirty pages owned by this address space
	// (anonymous memory and written copies of file pages).
	Anonymous uint64
}

// PssShift is PSS_SHIFT: Pss is kept in fixed point so that sums of
// fractional pages stay exact.
const PssShift = 12

// Smaps returns every vma with its resident pages classified.
func (m *MemoryManager) Smaps() []SmapEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SmapEntry, len(m.vmas))
	for i, v := range m.vmas {
		e := MapEntry{Start: v.start, End: v.end, Perms: v.perms, Private: v.private, Name: v.name, Dev: v.dev, Ino: v.ino}
		if v.file != nil {
			e.Offset = v.off
		}
		out[i] = SmapEntry{
			MapEntry: e,
			MayRead:  v.maxPerms.Read, MayWrite: v.maxPerms.Write, MayExec: v.maxPerms.Execute,
			GrowsDown: v.growsDown,
		}
	}
	memFD := m.mf.FD()
	// Each page is looked up in the sorted vmas: iterating the established
	// pages costs what is resident, not what is reserved.
	for addr, p := range m.ptes {
		i := m.findVMA(addr)
		if i < 0 {
			continue
		}
		s := &out[i]
		s.Rss += pageSize
		v := m.vmas[i]
		refs := uint64(1)
		if p.private {
			// Each address space holding the page has a reference.
			// Lock order: MemoryManager.mu before memfile.File.mu.
			refs = uint64(max(m.mf.RefCount(p.off), 1))
		}
		switch {
		case p.private && v.file != nil && !v.perms.Write:
			// File data copied into the memory file, never
			// writable here: a clean file page.
			s.account(refs, false)
		case p.private:
			s.Anonymous += pageSize
			s.account(refs, true)
		case p.fd == memFD:
			// Shared anonymous memory, tmpfs and SysV segments: shmem
			// pages are always dirty.
			s.account(refs, true)
		default:
			s.account(refs, false)
		}
	}
	return out
}

// account adds one page mapped by refs address spaces (smaps_page_accumulate()).
func (s *SmapEntry) account(refs uint64, dirty bool) {
	pss := (pageSize << PssShift) / refs
	s.Pss += pss
	switch {
	case dirty:
		s.PssDirty += pss
		if refs > 1 {
			s.SharedDirty += pageSize
		} else {
			s.PrivateDirty += pageSize
		}
	case refs > 1:
		s.SharedClean += pageSize
	default:
		s.PrivateClean += pageSize
	}
}

// VmFlags renders the "VmFlags:" mnemonics of e, in the kernel's order,
// each followed by a space (show_smap_vma_flags()). Only the flags the
// sandbox's vmas can have are shown: VM_ACCOUNT ("ac") is taken to be set
// on writable private mappings (accountable_mapping()).
func (e *SmapEntry) VmFlags() string {
	var b []byte
	add := func(ok bool, s string) {
		if ok {
			b = append(b, s...)
			b = append(b, ' ')
		}
	}
	shared := !e.Private
	add(e.Perms.Read, "rd")
	add(e.Perms.Write, "wr")
	add(e.Perms.Execute, "ex")
	// A shared mapping that can never be written loses VM_SHARED but
	// keeps VM_MAYSHARE (do_mmap()).
	add(shared && e.MayWrite, "sh")
	add(e.MayRead, "mr")
	add(e.MayWrite, "mw")
	add(e.MayExec, "me")
	add(shared, "ms")
	add(e.GrowsDown, "gd")
	add(e.Private && e.Perms.Write, "ac")
	return string(b)
}

// MemCounters are the totals /proc/PID/status and statm show (the mm
// counters of include/linux/mm_types.h), in bytes.
type MemCounters struct {
	// Data is data_vm: private writable mappings that are not stacks;
	// Stack is stack_vm (VM_GROWSDOWN mappings).
	Data, Stack uint64
	// AnonRSS, FileRSS and ShmemRSS split the resident pages as
	// MM_ANONPAGES, MM_FILEPAGES and MM_SHMEMPAGES do, with the
	// classification of Smaps (a never-writable private copy of a file
	// page counts as a file page).
	AnonRSS, FileRSS, ShmemRSS uint64
	// Exec is exec_vm: executable private mappings (VM_EXEC & ~VM_WRITE
	// & ~VM_STACK).
	Exec uint64
	// StartBrk is the start of the heap (mm->start_brk).
	StartBrk uintptr
}

// Counters returns the address space's counters.
func (m *MemoryManager) Counters() MemCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := MemCounters{StartBrk: m.brkStart}
	for _, v := range m.vmas {
		size := uint64(v.end - v.start)
		if v.perms.Execute && !v.perms.Write && !v.growsDown {
			c.Exec += size
		}
		switch {
		case v.growsDown:
			c.Stack += size
		case v.private && v.perms.Write:
			c.Data += size
		}
	}
	memFD := m.mf.FD()
	for addr, p := range m.ptes {
		i := m.findVMA(addr)
		if i < 0 {
			continue
		}
		v := m.vmas[i]
		switch {
		case p.private && v.file != nil && !v.perms.Write:
			c.FileRSS += pageSize
		case p.private:
			c.AnonRSS += pageSize
		case p.fd == memFD:
			c.ShmemRSS += pageSize
		default:
			c.FileRSS += pageSize
		}
	}
	return c
}
