package linux

import (
	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
	"pangolin/sentry/memmap"
	"pangolin/sentry/mm"
)

// mmapFile is what mmap needs from an open file description.
type mmapFile interface {
	MMapFile() (memmap.File, error)
	StatusFlags() uint32
}

func protToAccess(prot int) platform.AccessType {
	return platform.AccessType{
		Read:    prot&(unix.PROT_READ|unix.PROT_EXEC|unix.PROT_WRITE) != 0,
		Write:   prot&unix.PROT_WRITE != 0,
		Execute: prot&unix.PROT_EXEC != 0,
	}
}

// protSem is PROT_SEM (x/sys/unix lacks it).
const protSem = 0x8

// protFlags are the PROT_* bits mmap and mprotect accept.
const protFlags = unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC | protSem | unix.PROT_GROWSDOWN | unix.PROT_GROWSUP

// Mmap implements Linux syscall mmap(2) (ksys_mmap_pgoff(), do_mmap()).
func Mmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr := args[0].Pointer()
	length := args[1].Pointer()
	prot := int(args[2].Int())
	flags := int(args[3].Int())
	fd := args[4].Int()
	off := args[5].Uint64()

	if prot&^protFlags != 0 || prot&(unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	if off&(4096-1) != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, unix.EINVAL
	}
	private := false
	switch flags & unix.MAP_TYPE {
	case unix.MAP_PRIVATE:
		private = true
	case unix.MAP_SHARED, unix.MAP_SHARED_VALIDATE:
	default:
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_HUGETLB != 0 {
		// No hugetlbfs in the sandbox.
		return 0, unix.EINVAL
	}
	fixed := flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0
	if fixed && addr&(4096-1) != 0 {
		return 0, unix.EINVAL
	}
	o := mm.MMapOpts{
		Addr:      addr,
		Length:    length,
		Fixed:     fixed,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0,
		Perms:     protToAccess(prot),
		Private:   private,
		GrowsDown: flags&unix.MAP_GROWSDOWN != 0,
	}
	if flags&unix.MAP_ANONYMOUS == 0 {
		f, _, err := t.FDTable().Get(fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		mf, ok := any(f).(mmapFile)
		if !ok {
			return 0, unix.ENODEV
		}
		// do_mmap(): the file must be open for reading; shared writable
		// mappings need it open for writing, and not append-only.
		acc := mf.StatusFlags() & unix.O_ACCMODE
		if acc == unix.O_WRONLY || mf.StatusFlags()&unix.O_PATH != 0 {
			return 0, unix.EACCES
		}
		o.MaxPerms = platform.AnyAccess
		if !private {
			if acc != unix.O_RDWR {
				if o.Perms.Write {
					return 0, unix.EACCES
				}
				o.MaxPerms.Write = false
			} else if mf.StatusFlags()&unix.O_APPEND != 0 && o.Perms.Write {
				return 0, unix.EACCES
			}
		}
		file, err := mf.MMapFile()
		if err != nil {
			return 0, err
		}
		defer file.DecRef()
		if ws, ok := file.(memmap.WriteSealer); ok && !private && ws.WriteSealed() {
			// seal_check_write(): no shared writable mapping of a
			// sealed memfd, and a read-only one stays read-only.
			if o.Perms.Write {
				return 0, unix.EPERM
			}
			o.MaxPerms.Write = false
		}
		o.File = file
		o.Offset = off
		if di, ok := any(f).(interface{ DevIno() (uint64, uint64) }); ok {
			o.Dev, o.Ino = di.DevIno()
		}
		if p, ok := any(f).(interface{ MapsName() string }); ok {
			o.Name = p.MapsName()
		}
	}
	return t.MemoryManager().MMap(o)
}

// Munmap implements Linux syscall munmap(2).
func Munmap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MemoryManager().MUnmap(args[0].Pointer(), args[1].Pointer())
}

// Mprotect implements Linux syscall mprotect(2).
func Mprotect(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	prot := int(args[2].Int())
	if prot&^protFlags != 0 || prot&(unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP {
		return 0, unix.EINVAL
	}
	return 0, t.MemoryManager().MProtect(args[0].Pointer(), args[1].Pointer(), protToAccess(prot), prot&unix.PROT_GROWSDOWN != 0)
}

// Mremap implements Linux syscall mremap(2).
func Mremap(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return t.MemoryManager().MRemap(args[0].Pointer(), args[1].Pointer(), args[2].Pointer(), int(args[3].Int()), args[4].Pointer())
}

// Madvise implements Linux syscall madvise(2).
func Madvise(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MemoryManager().MAdvise(args[0].Pointer(), args[1].Pointer(), int(args[2].Int()))
}

// Brk implements Linux syscall brk(2).
func Brk(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return t.MemoryManager().Brk(args[0].Pointer()), nil
}

// Msync implements Linux syscall msync(2). Shared file mappings write
// through to the host file directly, so there is nothing to flush.
func Msync(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, length, flags := args[0].Pointer(), args[1].Pointer(), args[2].Int()
	if addr&(4096-1) != 0 {
		return 0, unix.EINVAL
	}
	if flags&^(unix.MS_ASYNC|unix.MS_INVALIDATE|unix.MS_SYNC) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MS_ASYNC != 0 && flags&unix.MS_SYNC != 0 {
		return 0, unix.EINVAL
	}
	return 0, t.MemoryManager().CheckMapped(addr, length)
}

// Mincore implements Linux syscall mincore(2): every mapped page is
// reported resident (pages are populated on first touch, and the app cannot
// tell an unpopulated zero page apart).
func Mincore(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, length := args[0].Pointer(), args[1].Pointer()
	if addr&(4096-1) != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	pages := (length + 4095) / 4096
	if err := t.MemoryManager().CheckMapped(addr, length); err != nil {
		return 0, unix.ENOMEM
	}
	if pages > 1<<24 {
		return 0, unix.ENOMEM
	}
	vec := make([]byte, pages)
	for i := range vec {
		vec[i] = 1
	}
	return 0, t.CopyOutBytes(args[2].Pointer(), vec)
}

// Mlock implements Linux syscall mlock(2) (and mlock2, munlock): memory is
// never swapped by the sentry, so locking only validates the range.
func Mlock(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MemoryManager().CheckMapped(args[0].Pointer()&^4095, args[1].Pointer()+args[0].Pointer()&4095)
}

// Mlockall implements Linux syscall mlockall(2) and munlockall(2).
func Mlockall(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Int()
	if flags&^(1|2|4) != 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}
