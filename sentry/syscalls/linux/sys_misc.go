package linux

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_TIMES:           sup("times", Times),
		unix.SYS_PERSONALITY:     partial("personality", Personality, "recorded and reported; ADDR_NO_RANDOMIZE and other flags are not applied"),
		unix.SYS_SETHOSTNAME:     sup("sethostname", Sethostname),
		unix.SYS_SETDOMAINNAME:   sup("setdomainname", Setdomainname),
		unix.SYS_GET_ROBUST_LIST: sup("get_robust_list", GetRobustList),
		unix.SYS_IOPRIO_GET:      partial("ioprio_get", IoprioGet, "recorded per task, no effect on I/O"),
		unix.SYS_IOPRIO_SET:      partial("ioprio_set", IoprioSet, "recorded per task, no effect on I/O"),
	})
}

// clockTicks is USER_HZ, the unit of times(2).
const clockTicks = 100

// ticks converts a duration to clock ticks.
func ticks(d time.Duration) uint64 { return uint64(d / (time.Second / clockTicks)) }

// Times implements Linux syscall times(2): the process's and its reaped
// children's CPU times, and the elapsed ticks since boot as the result.
func Times(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if p := args[0].Pointer(); p != 0 {
		self := t.ThreadGroup().ProcessUsage()
		kids := t.ThreadGroup().ChildrenUsage()
		b := make([]byte, 32)
		le := binary.LittleEndian
		le.PutUint64(b[0:], ticks(self.UserTime))
		le.PutUint64(b[8:], ticks(self.SysTime))
		le.PutUint64(b[16:], ticks(kids.UserTime))
		le.PutUint64(b[24:], ticks(kids.SysTime))
		if err := t.CopyOutBytes(p, b); err != nil {
			return 0, err
		}
	}
	// jiffies_64_to_clock_t(get_jiffies_64()): Linux starts jiffies at
	// -5 minutes; counting from the sandbox's boot is as good a base.
	return uintptr(ticks(time.Since(t.Kernel().Boot)) + 1), nil
}

// perQuery is personality(2)'s "just report it" argument.
const perQuery = 0xffffffff

// Personality implements Linux syscall personality(2): any value is
// recorded and the old one returned, as Linux does; the only execution
// domain is Linux's, and flags such as ADDR_NO_RANDOMIZE are reported but
// do not change how the sentry lays out memory.
func Personality(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	v := args[0].Uint()
	old := t.Personality()
	if v != perQuery {
		t.SetPersonality(v)
	}
	return uintptr(old), nil
}

// maxHostnameLen is __NEW_UTS_LEN.
const maxHostnameLen = 64

// copyInUTSName reads sethostname/setdomainname's name: CAP_SYS_ADMIN
// (in the sandbox's own UTS namespace), at most 64 bytes, EFAULT.
func copyInUTSName(t *kernel.Task, addr uintptr, n int) (string, error) {
	if !t.Credentials().HasCapability(auth.CapSysAdmin) {
		return "", unix.EPERM
	}
	if n < 0 || n > maxHostnameLen {
		return "", unix.EINVAL
	}
	b := make([]byte, n)
	if err := t.CopyInBytes(addr, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// Sethostname implements Linux syscall sethostname(2) for the sandbox's
// own UTS namespace.
func Sethostname(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	name, err := copyInUTSName(t, args[0].Pointer(), int(args[1].Int()))
	if err != nil {
		return 0, err
	}
	t.Kernel().SetHostname(name)
	return 0, nil
}

// Setdomainname implements Linux syscall setdomainname(2).
func Setdomainname(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	name, err := copyInUTSName(t, args[0].Pointer(), int(args[1].Int()))
	if err != nil {
		return 0, err
	}
	t.Kernel().SetDomainname(name)
	return 0, nil
}

// GetRobustList implements Linux syscall get_robust_list(2): the list head
// and its length for a thread the caller may ptrace (itself, or with the
// same UID, or CAP_SYS_PTRACE).
func GetRobustList(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	target := t
	if pid := args[0].Int(); pid != 0 {
		if target = t.Kernel().TaskByTID(pid); target == nil {
			return 0, unix.ESRCH
		}
		c, tc := t.Credentials(), target.Credentials()
		if !c.HasCapability(auth.CapSysPtrace) && (c.RealUID != tc.RealUID || c.RealGID != tc.RealGID) {
			return 0, unix.EPERM
		}
	}
	head, n := target.RobustList()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(head))
	if err := t.CopyOutBytes(args[1].Pointer(), b[:]); err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(b[:], n)
	return 0, t.CopyOutBytes(args[2].Pointer(), b[:])
}

// capSysNice is CAP_SYS_NICE.
const capSysNice = 23

// ioprio_* (include/uapi/linux/ioprio.h).
const (
	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
	ioprioWhoUser    = 3
	ioprioClassShift = 13
	ioprioClassNone  = 0
	ioprioClassIdle  = 3
	ioprioClassRT    = 1
	ioprioClassBE    = 2
)

// ioprioTargets maps ioprio's (which, who) to getpriority's.
func ioprioTargets(t *kernel.Task, which, who int32) ([]*kernel.Task, error) {
	switch which {
	case ioprioWhoProcess:
		return t.PriorityTargets(unix.PRIO_PROCESS, who)
	case ioprioWhoPgrp:
		return t.PriorityTargets(unix.PRIO_PGRP, who)
	case ioprioWhoUser:
		return t.PriorityTargets(unix.PRIO_USER, who)
	}
	return nil, unix.EINVAL
}

// IoprioGet implements Linux syscall ioprio_get(2).
func IoprioGet(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	targets, err := ioprioTargets(t, args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	// The highest priority among the targets; a task that never set one
	// reports IOPRIO_CLASS_NONE (get_task_ioprio()).
	best := -1
	for _, o := range targets {
		if p := o.IOPriority(); best < 0 || p < best {
			best = p
		}
	}
	return uintptr(best), nil
}

// IoprioSet implements Linux syscall ioprio_set(2).
func IoprioSet(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	prio := int(args[2].Int())
	// ioprio_check_cap(): the class is bits 13-15, the level bits 0-2;
	// hints in between are not checked.
	class, level := (prio>>ioprioClassShift)&7, prio&7
	switch class {
	case ioprioClassRT:
		if c := t.Credentials(); !c.HasCapability(auth.CapSysAdmin) && !c.HasCapability(capSysNice) {
			return 0, unix.EPERM
		}
	case ioprioClassBE, ioprioClassIdle:
	case ioprioClassNone:
		if level != 0 {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	targets, err := ioprioTargets(t, args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	for _, o := range targets {
		o.SetIOPriority(prio)
	}
	return 0, nil
}
