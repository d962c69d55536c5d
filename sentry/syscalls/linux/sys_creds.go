package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_SETUID:    sup("setuid", Setuid),
		unix.SYS_SETGID:    sup("setgid", Setgid),
		unix.SYS_SETREUID:  sup("setreuid", Setreuid),
		unix.SYS_SETREGID:  sup("setregid", Setregid),
		unix.SYS_SETRESUID: sup("setresuid", Setresuid),
		unix.SYS_SETRESGID: sup("setresgid", Setresgid),
		unix.SYS_SETFSUID:  sup("setfsuid", Setfsuid),
		unix.SYS_SETFSGID:  sup("setfsgid", Setfsgid),
		unix.SYS_SETGROUPS: sup("setgroups", Setgroups),
		unix.SYS_CAPGET:    sup("capget", Capget),
		unix.SYS_CAPSET:    sup("capset", Capset),
	})
}

// Setuid implements Linux syscall setuid(2).
func Setuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setuid(args[0].Uint())
}

// Setgid implements Linux syscall setgid(2).
func Setgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setgid(args[0].Uint())
}

// Setreuid implements Linux syscall setreuid(2).
func Setreuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setreuid(args[0].Uint(), args[1].Uint())
}

// Setregid implements Linux syscall setregid(2).
func Setregid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setregid(args[0].Uint(), args[1].Uint())
}

// Setresuid implements Linux syscall setresuid(2).
func Setresuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setresuid(args[0].Uint(), args[1].Uint(), args[2].Uint())
}

// Setresgid implements Linux syscall setresgid(2).
func Setresgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setresgid(args[0].Uint(), args[1].Uint(), args[2].Uint())
}

// Setfsuid implements Linux syscall setfsuid(2).
func Setfsuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Setfsuid(args[0].Uint())), nil
}

// Setfsgid implements Linux syscall setfsgid(2).
func Setfsgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Setfsgid(args[0].Uint())), nil
}

// Setgroups implements Linux syscall setgroups(2).
func Setgroups(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	size := args[0].Int()
	if size < 0 || size > kernel.NGroupsMax {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*int(size))
	if err := t.CopyInBytes(args[1].Pointer(), b); err != nil {
		return 0, err
	}
	gids := make([]uint32, size)
	for i := range gids {
		gids[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return 0, t.Setgroups(gids)
}

// Capability ABI versions (include/uapi/linux/capability.h).
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capHeader reads struct __user_cap_header_struct and returns the version,
// the pid, and the number of data words the version uses. An unknown
// version is answered as cap_validate_magic() does: the preferred version
// is written back and the call fails with EINVAL.
func capHeader(t *kernel.Task, addr uintptr) (pid int32, words int, err error) {
	var h [8]byte
	if err := t.CopyInBytes(addr, h[:]); err != nil {
		return 0, 0, err
	}
	switch binary.LittleEndian.Uint32(h[0:]) {
	case capVersion1:
		words = 1
	case capVersion2, capVersion3:
		words = 2
	default:
		binary.LittleEndian.PutUint32(h[0:], capVersion3)
		if err := t.CopyOutBytes(addr, h[:4]); err != nil {
			return 0, 0, err
		}
		return 0, 0, unix.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(h[4:])), words, nil
}

// Capget implements Linux syscall capget(2).
func Capget(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, words, err := capHeader(t, args[0].Pointer())
	if err != nil {
		return 0, err
	}
	if pid < 0 {
		return 0, unix.EINVAL
	}
	target := t
	if pid != 0 && pid != t.TID() {
		if target = t.Kernel().TaskByTID(pid); target == nil {
			return 0, unix.ESRCH
		}
	}
	data := args[1].Pointer()
	if data == 0 {
		// Probing for the version only.
		return 0, nil
	}
	c := target.Credentials()
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		le := binary.LittleEndian
		le.PutUint32(b[12*i:], uint32(c.EffectiveCaps>>(32*i)))
		le.PutUint32(b[12*i+4:], uint32(c.PermittedCaps>>(32*i)))
		le.PutUint32(b[12*i+8:], uint32(c.InheritableCaps>>(32*i)))
	}
	return 0, t.CopyOutBytes(data, b)
}

// Capset implements Linux syscall capset(2): only the calling thread's
// capabilities may be set.
func Capset(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid, words, err := capHeader(t, args[0].Pointer())
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.TID() {
		return 0, unix.EPERM
	}
	b := make([]byte, 12*words)
	if err := t.CopyInBytes(args[1].Pointer(), b); err != nil {
		return 0, err
	}
	var c kernel.Capabilities
	for i := 0; i < words; i++ {
		le := binary.LittleEndian
		c.Effective |= uint64(le.Uint32(b[12*i:])) << (32 * i)
		c.Permitted |= uint64(le.Uint32(b[12*i+4:])) << (32 * i)
		c.Inheritable |= uint64(le.Uint32(b[12*i+8:])) << (32 * i)
	}
	return 0, t.Capset(c)
}
