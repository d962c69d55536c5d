package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/limits"
)

func putLimit(l limits.Limit) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, l.Cur)
	binary.LittleEndian.PutUint64(b[8:], l.Max)
	return b
}

// Getrlimit implements Linux syscall getrlimit(2).
func Getrlimit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	r := args[0].Uint()
	if r >= limits.NumLimits {
		return 0, unix.EINVAL
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putLimit(t.Limits().Get(int(r))))
}

// Setrlimit implements Linux syscall setrlimit(2).
func Setrlimit(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	r := args[0].Uint()
	if r >= limits.NumLimits {
		return 0, unix.EINVAL
	}
	var b [16]byte
	if err := t.CopyInBytes(args[1].Pointer(), b[:]); err != nil {
		return 0, err
	}
	l := limits.Limit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}
	_, err := t.Limits().Set(int(r), l, t.Credentials().HasCapability(auth.CapSysResource))
	return 0, err
}

// Prlimit64 implements Linux syscall prlimit64(2).
func Prlimit64(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	pid := args[0].Int()
	r := args[1].Uint()
	newp, oldp := args[2].Pointer(), args[3].Pointer()
	if r >= limits.NumLimits {
		return 0, unix.EINVAL
	}
	if pid < 0 {
		return 0, unix.EINVAL
	}
	ls := t.Limits()
	if pid != 0 && pid != t.ThreadGroup().PID() {
		other := t.Kernel().TaskByTID(pid)
		if other == nil {
			return 0, unix.ESRCH
		}
		ls = other.Limits()
	}
	var nl limits.Limit
	if newp != 0 {
		var b [16]byte
		if err := t.CopyInBytes(newp, b[:]); err != nil {
			return 0, err
		}
		nl = limits.Limit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}
		if nl.Cur > nl.Max {
			return 0, unix.EINVAL
		}
	}
	old := ls.Get(int(r))
	if newp != 0 {
		var err error
		old, err = ls.Set(int(r), nl, t.Credentials().HasCapability(auth.CapSysResource))
		if err != nil {
			return 0, err
		}
	}
	if oldp != 0 {
		if err := t.CopyOutBytes(oldp, putLimit(old)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Getrusage implements Linux syscall getrusage(2). CPU times are the
// task's wall-clock lifetime split as user time; memory is the resident set
// Getrusage implements Linux syscall getrusage(2).
func Getrusage(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	var u kernel.Usage
	switch args[0].Int() {
	case 0: // RUSAGE_SELF
		u = t.ThreadGroup().ProcessUsage()
	case 1: // RUSAGE_THREAD
		u = t.Usage()
	case -1: // RUSAGE_CHILDREN
		u = t.ThreadGroup().ChildrenUsage()
	default:
		return 0, unix.EINVAL
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), rusageBytes(u))
}

// rusageBytes encodes struct rusage: ru_utime, ru_stime (timevals) and
// ru_maxrss (KiB); the sentry keeps no other counters, so they are zero.
func rusageBytes(u kernel.Usage) []byte {
	b := make([]byte, 144)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(u.UserTime/time.Second))
	le.PutUint64(b[8:], uint64((u.UserTime%time.Second)/time.Microsecond))
	le.PutUint64(b[16:], uint64(u.SysTime/time.Second))
	le.PutUint64(b[24:], uint64((u.SysTime%time.Second)/time.Microsecond))
	le.PutUint64(b[32:], u.MaxRSS/1024)
	return b
}

// Sysinfo implements Linux syscall sysinfo(2).
func Sysinfo(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	k := t.Kernel()
	b := make([]byte, 112) // struct sysinfo
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(time.Since(k.Boot)/time.Second)+1)
	total := k.TotalMemory()
	used := k.MemFile.Usage()
	le.PutUint64(b[32:], total)
	free := uint64(0)
	if total > used {
		free = total - used
	}
	le.PutUint64(b[40:], free)
	le.PutUint16(b[80:], uint16(len(k.Tasks())))
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.CopyOutBytes(args[0].Pointer(), b)
}
