package kernel

import (
	"golang.org/x/sys/unix"
)

// Scheduling attributes. The sentry does not schedule app threads itself
// (the host does, and all of a sandbox's threads are equal there), so
// nice values and policies are recorded and reported exactly as set —
// what nice(1), renice(1), chrt(1) and programs reading them back see — but
// do not change how CPU time is shared.

// Scheduling policies (include/uapi/linux/sched.h).
const (
	SchedOther    = 0
	SchedFIFO     = 1
	SchedRR       = 2
	SchedBatch    = 3
	SchedIdle     = 5
	SchedDeadline = 6
)

// capSysNice is CAP_SYS_NICE.
const capSysNice = 23

// SchedAttr is a task's policy, real-time priority and nice value, and
// its I/O priority (ioprio_set(2)) and personality(2).
type SchedAttr struct {
	Policy      int
	Priority    int
	Nice        int
	IOPrio      int
	Personality uint32
}

// IOPriority returns the I/O priority (ioprio_get(2)).
func (t *Task) IOPriority() int { return t.Sched().IOPrio }

// SetIOPriority records the I/O priority.
func (t *Task) SetIOPriority(p int) {
	t.k.mu.Lock()
	t.sched.IOPrio = p
	t.k.mu.Unlock()
}

// Personality returns personality(2)'s value.
func (t *Task) Personality() uint32 { return t.Sched().Personality }

// SetPersonality sets personality(2)'s value.
func (t *Task) SetPersonality(p uint32) {
	t.k.mu.Lock()
	t.sched.Personality = p
	t.k.mu.Unlock()
}

// Sched returns the task's scheduling attributes.
func (t *Task) Sched() SchedAttr {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.sched
}

// mayChangeSched is the permission check of setpriority(2) and
// sched_setscheduler(2) on target (set_one_prio_perm(),
// check_same_owner()): the same effective or real UID as the target's
// owner, or CAP_SYS_NICE.
func (t *Task) mayChangeSched(target *Task) bool {
	c, tc := t.creds, target.creds
	return c.HasCapability(capSysNice) || c.EffectiveUID == tc.RealUID || c.EffectiveUID == tc.EffectiveUID
}

// SetNice sets target's nice value (clamped to [-20, 19]) as
// setpriority(2) does: EPERM without permission over target, EACCES to
// lower it without CAP_SYS_NICE beyond what RLIMIT_NICE allows.
func (t *Task) SetNice(target *Task, nice int) error {
	nice = min(max(nice, -20), 19)
	if !t.mayChangeSched(target) {
		return unix.EPERM
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	cur := target.sched.Nice
	if nice < cur && !t.creds.HasCapability(capSysNice) {
		// RLIMIT_NICE's soft limit r allows nice values down to 20-r.
		lim := int(t.tg.limits.Get(unix.RLIMIT_NICE).Cur)
		if 20-nice > lim {
			return unix.EACCES
		}
	}
	target.sched.Nice = nice
	return nil
}

// SetScheduler implements sched_setscheduler(2)/sched_setattr(2) on target
// with validated priority ranges: real-time policies need CAP_SYS_NICE (or
// RLIMIT_RTPRIO), and SCHED_DEADLINE is refused (EPERM would lie; Linux
// returns EINVAL for bad deadline parameters, and the sentry has no
// deadline scheduler, so EINVAL).
func (t *Task) SetScheduler(target *Task, a SchedAttr) error {
	switch a.Policy {
	case SchedOther, SchedBatch, SchedIdle:
		if a.Priority != 0 {
			return unix.EINVAL
		}
	case SchedFIFO, SchedRR:
		if a.Priority < 1 || a.Priority > 99 {
			return unix.EINVAL
		}
		if !t.creds.HasCapability(capSysNice) && uint64(a.Priority) > t.tg.limits.Get(unix.RLIMIT_RTPRIO).Cur {
			return unix.EPERM
		}
	default:
		return unix.EINVAL
	}
	if !t.mayChangeSched(target) {
		return unix.EPERM
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target.sched.Policy = a.Policy
	target.sched.Priority = a.Priority
	return nil
}

// PriorityTargets returns the tasks a getpriority/setpriority (which, who)
// pair names: PRIO_PROCESS a thread (0: the caller), PRIO_PGRP the threads
// of a process group (0: the caller's), PRIO_USER the threads of a real
// UID (0: the caller's). ESRCH if none; EINVAL for a bad which.
func (t *Task) PriorityTargets(which, who int32) ([]*Task, error) {
	k := t.k
	var out []*Task
	switch which {
	case unix.PRIO_PROCESS:
		if who == 0 {
			return []*Task{t}, nil
		}
		if o := k.TaskByTID(who); o != nil {
			return []*Task{o}, nil
		}
	case unix.PRIO_PGRP:
		k.mu.Lock()
		pgid := who
		if pgid == 0 {
			pgid = t.tg.pgid
		}
		for _, o := range k.tasks {
			if o.tg.pgid == pgid {
				out = append(out, o)
			}
		}
		k.mu.Unlock()
	case unix.PRIO_USER:
		uid := uint32(who)
		if who == 0 {
			uid = t.creds.RealUID
		}
		k.mu.Lock()
		for _, o := range k.tasks {
			if o.creds.RealUID == uid {
				out = append(out, o)
			}
		}
		k.mu.Unlock()
	default:
		return nil, unix.EINVAL
	}
	if len(out) == 0 {
		return nil, unix.ESRCH
	}
	sortTasks(out)
	return out, nil
}
