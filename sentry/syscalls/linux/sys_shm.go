package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/sentry/arch"
	"pangolin/sentry/ipc"
	"pangolin/sentry/kernel"
	"pangolin/sentry/mm"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_SHMGET: partial("shmget", Shmget, "SHM_HUGETLB: EINVAL"),
		unix.SYS_SHMAT:  sup("shmat", Shmat),
		unix.SYS_SHMDT:  sup("shmdt", Shmdt),
		unix.SYS_SHMCTL: sup("shmctl", Shmctl),
	})
}

// shmLBA is SHMLBA on x86: attach addresses are page aligned.
const shmLBA = 4096

// Shmget implements Linux syscall shmget(2).
func Shmget(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, err := t.Kernel().IPCNamespace().ShmGet(t, t.ThreadGroup().PID(), args[0].Int(), args[1].Uint64(), args[2].Int())
	return uintptr(id), err
}

// Shmat implements Linux syscall shmat(2) (do_shmat()): the segment is
// mapped shared at a free address, at shmaddr (rounded down with SHM_RND;
// EINVAL if it overlaps a mapping, unless SHM_REMAP replaces it).
func Shmat(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, addr, flg := args[0].Int(), args[1].Pointer(), args[2].Int()
	if id < 0 {
		return 0, unix.EINVAL
	}
	fixed := false
	if addr != 0 {
		if addr&(shmLBA-1) != 0 {
			if flg&ipc.ShmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= shmLBA - 1
			if addr == 0 && flg&ipc.ShmRemap != 0 {
				return 0, unix.EINVAL
			}
		}
		fixed = true
	} else if flg&ipc.ShmRemap != 0 {
		return 0, unix.EINVAL
	}
	readonly, exec := flg&ipc.ShmRdonly != 0, flg&ipc.ShmExec != 0
	att, err := t.Kernel().IPCNamespace().ShmAttach(t, id, readonly, exec)
	if err != nil {
		return 0, err
	}
	defer att.Done()
	perms := platform.AccessType{Read: true, Write: !readonly, Execute: exec}
	o := mm.MMapOpts{
		Addr:      addr,
		Length:    uintptr(att.Size),
		Fixed:     fixed,
		NoReplace: fixed && flg&ipc.ShmRemap == 0,
		Perms:     perms,
		MaxPerms:  platform.AccessType{Read: true, Write: !readonly, Execute: true},
		File:      att.File,
		// The inode of a segment's file is numbered after its ID.
		Ino:  uint64(att.ID),
		Name: fmt.Sprintf("/SYSV%08x (deleted)", uint32(att.Key)),
	}
	if uint64(o.Length) != att.Size || (fixed && addr+o.Length < addr) {
		return 0, unix.EINVAL
	}
	a, err := t.MemoryManager().MMap(o)
	if errors.Is(err, unix.EEXIST) {
		return 0, unix.EINVAL
	}
	return a, err
}

// Shmdt implements Linux syscall shmdt(2).
func Shmdt(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.MemoryManager().DetachShm(args[0].Pointer(), ipc.IsShm)
}

// Shmctl implements Linux syscall shmctl(2) (ksys_shmctl()).
func Shmctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	id, cmd, buf := args[0].Int(), args[1].Int(), args[2].Pointer()
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	ns := t.Kernel().IPCNamespace()
	switch cmd {
	case ipc.IPCInfo, ipc.ShmInfo:
		b, ret := ns.ShmInfo(cmd)
		if err := t.CopyOutBytes(buf, b); err != nil {
			return 0, err
		}
		return uintptr(ret), nil
	case ipc.IPCStat, ipc.ShmStat, ipc.ShmStatAny:
		ret, ds, err := ns.ShmCtl(t, id, cmd, nil)
		if err != nil {
			return 0, err
		}
		return uintptr(ret), t.CopyOutBytes(buf, ds.Encode())
	case ipc.IPCSet:
		b := make([]byte, ipc.ShmidDSSize)
		if err := t.CopyInBytes(buf, b); err != nil {
			return 0, err
		}
		ds := ipc.DecodeShmidDS(b)
		_, _, err := ns.ShmCtl(t, id, cmd, &ds)
		return 0, err
	case ipc.IPCRmid, ipc.ShmLock, ipc.ShmUnlock:
		_, _, err := ns.ShmCtl(t, id, cmd, nil)
		return 0, err
	}
	return 0, unix.EINVAL
}
