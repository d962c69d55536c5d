package linux

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/kernel"
)

func init() {
	registerFamily(map[uintptr]kernel.Syscall{
		unix.SYS_GETPRIORITY:            sup("getpriority", Getpriority),
		unix.SYS_SETPRIORITY:            partial("setpriority", Setpriority, "recorded and reported; the host schedules all app threads alike"),
		unix.SYS_SCHED_SETSCHEDULER:     partial("sched_setscheduler", SchedSetscheduler, "recorded and reported, no effect on scheduling; SCHED_DEADLINE: EINVAL"),
		unix.SYS_SCHED_GETSCHEDULER:     sup("sched_getscheduler", SchedGetscheduler),
		unix.SYS_SCHED_SETPARAM:         partial("sched_setparam", SchedSetparam, "as sched_setscheduler"),
		unix.SYS_SCHED_GETPARAM:         sup("sched_getparam", SchedGetparam),
		unix.SYS_SCHED_GET_PRIORITY_MAX: sup("sched_get_priority_max", SchedGetPriorityMax),
		unix.SYS_SCHED_GET_PRIORITY_MIN: sup("sched_get_priority_min", SchedGetPriorityMin),
		unix.SYS_SCHED_RR_GET_INTERVAL:  sup("sched_rr_get_interval", SchedRRGetInterval),
		unix.SYS_SCHED_SETATTR:          partial("sched_setattr", SchedSetattr, "as sched_setscheduler"),
		unix.SYS_SCHED_GETATTR:          sup("sched_getattr", SchedGetattr),
	})
}

// Getpriority implements Linux syscall getpriority(2): the highest
// priority (lowest nice) among the targets, as 20 - nice.
func Getpriority(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	targets, err := t.PriorityTargets(args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	best := 19
	for _, o := range targets {
		best = min(best, o.Sched().Nice)
	}
	return uintptr(20 - best), nil
}

// Setpriority implements Linux syscall setpriority(2).
func Setpriority(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	targets, err := t.PriorityTargets(args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	var firstErr error
	for _, o := range targets {
		if err := t.SetNice(o, int(args[2].Int())); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return 0, firstErr
}

// schedTarget returns the task a sched_* pid names (0: the caller): EINVAL
// for a negative pid, ESRCH for none.
func schedTarget(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid < 0 {
		return nil, unix.EINVAL
	}
	if pid == 0 {
		return t, nil
	}
	if o := t.Kernel().TaskByTID(pid); o != nil {
		return o, nil
	}
	return nil, unix.ESRCH
}

// copyInSchedParam reads struct sched_param (one int).
func copyInSchedParam(t *kernel.Task, addr uintptr) (int, error) {
	if addr == 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, err
	}
	return int(int32(binary.LittleEndian.Uint32(b[:]))), nil
}

// schedResetOnFork is SCHED_RESET_ON_FORK, or-ed into the policy.
const schedResetOnFork = 0x40000000

// SchedSetscheduler implements Linux syscall sched_setscheduler(2).
func SchedSetscheduler(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	policy := int(args[1].Int())
	if policy < 0 {
		return 0, unix.EINVAL
	}
	prio, err := copyInSchedParam(t, args[2].Pointer())
	if err != nil {
		return 0, err
	}
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	a := target.Sched()
	a.Policy, a.Priority = policy&^schedResetOnFork, prio
	return 0, t.SetScheduler(target, a)
}

// SchedGetscheduler implements Linux syscall sched_getscheduler(2).
func SchedGetscheduler(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	return uintptr(target.Sched().Policy), nil
}

// SchedSetparam implements Linux syscall sched_setparam(2).
func SchedSetparam(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	prio, err := copyInSchedParam(t, args[1].Pointer())
	if err != nil {
		return 0, err
	}
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	a := target.Sched()
	a.Priority = prio
	return 0, t.SetScheduler(target, a)
}

// SchedGetparam implements Linux syscall sched_getparam(2).
func SchedGetparam(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	if args[1].Pointer() == 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(target.Sched().Priority))
	return 0, t.CopyOutBytes(args[1].Pointer(), b[:])
}

// SchedGetPriorityMax implements Linux syscall sched_get_priority_max(2).
func SchedGetPriorityMax(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	switch args[0].Int() {
	case kernel.SchedFIFO, kernel.SchedRR:
		return 99, nil
	case kernel.SchedOther, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedDeadline:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// SchedGetPriorityMin implements Linux syscall sched_get_priority_min(2).
func SchedGetPriorityMin(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	switch args[0].Int() {
	case kernel.SchedFIFO, kernel.SchedRR:
		return 1, nil
	case kernel.SchedOther, kernel.SchedBatch, kernel.SchedIdle, kernel.SchedDeadline:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// rrTimeslice is RR_TIMESLICE (100 ms).
const rrTimeslice = 100 * 1000 * 1000

// SchedRRGetInterval implements Linux syscall sched_rr_get_interval(2):
// 100 ms for SCHED_RR, 0 for SCHED_FIFO, and for the fair policies the
// CFS slice the sentry cannot compute, reported as the base slice (3 ms,
// sysctl_sched_base_slice).
func SchedRRGetInterval(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	var ns int64
	switch target.Sched().Policy {
	case kernel.SchedRR:
		ns = rrTimeslice
	case kernel.SchedFIFO:
		ns = 0
	default:
		ns = 3000000
	}
	return 0, t.CopyOutBytes(args[1].Pointer(), putTimespec(ns))
}

// schedAttrSize0 is SCHED_ATTR_SIZE_VER0, the first struct sched_attr.
const schedAttrSize0 = 48

// SchedSetattr implements Linux syscall sched_setattr(2).
func SchedSetattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, flags := args[1].Pointer(), args[2].Uint()
	if addr == 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	var sz [4]byte
	if err := t.CopyInBytes(addr, sz[:]); err != nil {
		return 0, err
	}
	size := int(binary.LittleEndian.Uint32(sz[:]))
	if size == 0 {
		size = schedAttrSize0
	}
	if size < schedAttrSize0 || size > 4096 {
		// sched_copy_attr() writes the size it knows and fails.
		binary.LittleEndian.PutUint32(sz[:], 56)
		_ = t.CopyOutBytes(addr, sz[:])
		return 0, unix.E2BIG
	}
	b := make([]byte, size)
	if err := t.CopyInBytes(addr, b); err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	policy := int(le.Uint32(b[4:]))
	schedFlags := le.Uint64(b[8:])
	nice := int(int32(le.Uint32(b[16:])))
	prio := int(le.Uint32(b[20:]))
	const knownFlags = 0x1 | 0x20 | 0x40 // RESET_ON_FORK, KEEP_POLICY, KEEP_PARAMS
	if schedFlags&^knownFlags != 0 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	a := target.Sched()
	if schedFlags&0x20 == 0 {
		a.Policy = policy
	}
	if schedFlags&0x40 == 0 {
		a.Priority = prio
	}
	if err := t.SetScheduler(target, a); err != nil {
		return 0, err
	}
	if a.Policy == kernel.SchedOther || a.Policy == kernel.SchedBatch {
		if err := t.SetNice(target, nice); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// SchedGetattr implements Linux syscall sched_getattr(2).
func SchedGetattr(t *kernel.Task, args arch.SyscallArguments) (uintptr, error) {
	addr, size, flags := args[1].Pointer(), int(args[2].Uint()), args[3].Uint()
	if addr == 0 || flags != 0 || size < schedAttrSize0 || size > 4096 {
		return 0, unix.EINVAL
	}
	target, err := schedTarget(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	a := target.Sched()
	n := min(size, 56)
	b := make([]byte, n)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(n))
	le.PutUint32(b[4:], uint32(a.Policy))
	le.PutUint32(b[16:], uint32(int32(a.Nice)))
	le.PutUint32(b[20:], uint32(a.Priority))
	if n >= 56 {
		le.PutUint32(b[52:], 1024) // sched_util_max: SCHED_CAPACITY_SCALE
	}
	return 0, t.CopyOutBytes(addr, b)
}
