// Package linux holds the amd64 Linux syscall table and its handlers. Each
// handler implements one syscall; files group them by family.
package linux

import (
	"encoding/binary"
	"runtime"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

// Exit implements Linux syscall exit(2).
func Exit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.Exit(int(args[0].Int()))
	return 0, kernel.ErrNoReturn
}

// ExitGroup implements Linux syscall exit_group(2).
func ExitGroup(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.ExitGroup(int(args[0].Int()))
	return 0, kernel.ErrNoReturn
}

// Getpid implements Linux syscall getpid(2).
func Getpid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().PID()), nil
}

// Gettid implements Linux syscall gettid(2).
func Gettid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.TID()), nil
}

// Getppid implements Linux syscall getppid(2). The sandbox's init has no
// parent in its PID namespace, so it sees 0, as a container's PID 1 does.
func Getppid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.PPID()), nil
}

// Getuid implements Linux syscall getuid(2).
func Getuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealUID), nil
}

// Geteuid implements Linux syscall geteuid(2).
func Geteuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveUID), nil
}

// Getgid implements Linux syscall getgid(2).
func Getgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealGID), nil
}

// Getegid implements Linux syscall getegid(2).
func Getegid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveGID), nil
}

func copyOutIDs(t *kernel.Task, args arch.SyscallArguments, ids [3]uint32) error {
	for i, id := range ids {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], id)
		if err := t.CopyOutBytes(args[i].Pointer(), b[:]); err != nil {
			return err
		}
	}
	return nil
}

// Getresuid implements Linux syscall getresuid(2).
func Getresuid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutIDs(t, args, [3]uint32{c.RealUID, c.EffectiveUID, c.SavedUID})
}

// Getresgid implements Linux syscall getresgid(2).
func Getresgid(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutIDs(t, args, [3]uint32{c.RealGID, c.EffectiveGID, c.SavedGID})
}

// Getgroups implements Linux syscall getgroups(2).
func Getgroups(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	size := args[0].Int()
	groups := t.Credentials().ExtraGIDs
	if size < 0 {
		return 0, unix.EINVAL
	}
	if size == 0 {
		return uintptr(len(groups)), nil
	}
	if int(size) < len(groups) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	return uintptr(len(groups)), t.CopyOutBytes(args[1].Pointer(), b)
}

// SetTidAddress implements Linux syscall set_tid_address(2).
func SetTidAddress(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	t.SetClearChildTID(args[0].Pointer())
	return uintptr(t.TID()), nil
}

// SetRobustList implements Linux syscall set_robust_list(2). The list is
// recorded; walking it on thread death comes with futexes.
func SetRobustList(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[1].Uint64() != 24 { // sizeof(struct robust_list_head)
		return 0, unix.EINVAL
	}
	t.SetRobustList(args[0].Pointer(), args[1].Uint64())
	return 0, nil
}

// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
const (
	archSetGS    = 0x1001
	archSetFS    = 0x1002
	archGetFS    = 0x1003
	archGetGS    = 0x1004
	archGetCPUID = 0x1011
	archSetCPUID = 0x1012
)

// ArchPrctl implements Linux syscall arch_prctl(2).
func ArchPrctl(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	regs := t.Regs()
	addr := args[1].Pointer()
	switch args[0].Int() {
	case archSetFS:
		// do_arch_prctl_64(): the base must be a user address.
		if addr >= 1<<47 {
			return 0, unix.EPERM
		}
		regs.SetTLS(addr)
		return 0, nil
	case archSetGS:
		if addr >= 1<<47 {
			return 0, unix.EPERM
		}
		regs.Regs.Gs_base = uint64(addr)
		return 0, nil
	case archGetFS, archGetGS:
		v := regs.Regs.Fs_base
		if args[0].Int() == archGetGS {
			v = regs.Regs.Gs_base
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		return 0, t.CopyOutBytes(addr, b[:])
	case archGetCPUID:
		return 1, nil
	case archSetCPUID:
		// CPUID faulting is not offered to the app.
		return 0, unix.ENODEV
	}
	return 0, unix.EINVAL
}

// Release is the kernel release uname(2) reports: a long-term kernel whose
// ABI the sentry follows.
const Release = "6.1.0"

// Uname implements Linux syscall uname(2).
func Uname(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	k := t.Kernel()
	var u [6 * 65]byte
	host, domain := k.UTSNames()
	for i, s := range []string{"Linux", host, Release, "#1 SMP PREEMPT_DYNAMIC Pangolin", "x86_64", domain} {
		copy(u[65*i:65*i+64], s)
	}
	return 0, t.CopyOutBytes(args[0].Pointer(), u[:])
}

// SchedYield implements Linux syscall sched_yield(2).
func SchedYield(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	runtime.Gosched()
	return 0, nil
}

// SchedGetaffinity implements Linux syscall sched_getaffinity(2): every
// CPU the sandbox may use.
func SchedGetaffinity(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid := args[0].Int()
	size := args[1].SizeT()
	if pid < 0 {
		return 0, unix.EINVAL
	}
	if pid != 0 && t.Kernel().TaskByTID(pid) == nil {
		return 0, unix.ESRCH
	}
	ncpu := runtime.NumCPU()
	need := uint(((ncpu + 63) / 64) * 8)
	// sched_getaffinity(): the user buffer must hold nr_cpu_ids bits and
	// be a multiple of sizeof(long).
	if size < need || size&7 != 0 {
		return 0, unix.EINVAL
	}
	mask := make([]byte, need)
	for i := 0; i < ncpu; i++ {
		mask[i/8] |= 1 << (i % 8)
	}
	return uintptr(need), t.CopyOutBytes(args[2].Pointer(), mask)
}

// SchedSetaffinity implements Linux syscall sched_setaffinity(2). The
// sentry schedules tasks itself; a mask with at least one online CPU is
// accepted.
func SchedSetaffinity(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid := args[0].Int()
	if pid < 0 {
		return 0, unix.EINVAL
	}
	if pid != 0 && t.Kernel().TaskByTID(pid) == nil {
		return 0, unix.ESRCH
	}
	size := args[1].SizeT()
	if size > 1024 {
		size = 1024
	}
	mask := make([]byte, size)
	if err := t.CopyInBytes(args[2].Pointer(), mask); err != nil {
		return 0, err
	}
	ncpu := runtime.NumCPU()
	for i := 0; i < ncpu && i/8 < len(mask); i++ {
		if mask[i/8]&(1<<(i%8)) != 0 {
			return 0, nil
		}
	}
	return 0, unix.EINVAL
}

// Getcpu implements Linux syscall getcpu(2).
func Getcpu(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	zero := []byte{0, 0, 0, 0}
	if args[0].Pointer() != 0 {
		if err := t.CopyOutBytes(args[0].Pointer(), zero); err != nil {
			return 0, err
		}
	}
	if args[1].Pointer() != 0 {
		if err := t.CopyOutBytes(args[1].Pointer(), zero); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Getpriority implements Linux syscall getpriority(2); every task runs at

// Setpriority implements Linux syscall setpriority(2). Nice values are
// accepted (raising priority needs CAP_SYS_NICE) but do not change
