package kernel

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// CPU time accounting. App time is the wall time a task spends inside
// platform.Context.Switch, as gVisor accounts it (the host cannot report
// a stub thread's CPU time to a tracer in another process). System time is
// the CPU time of the task's own sentry OS thread, which every task
// goroutine keeps locked for its whole life (platform requirement), so
// clock_gettime(CLOCK_THREAD_CPUTIME_ID) on it counts exactly the sentry
// work done for the task and nothing it spent blocked.

// Usage is resource usage as getrusage(2) reports it.
type Usage struct {
	UserTime, SysTime time.Duration
	// MaxRSS is the peak resident set in bytes.
	MaxRSS uint64
}

func (u *Usage) add(o Usage) {
	u.UserTime += o.UserTime
	u.SysTime += o.SysTime
	if o.MaxRSS > u.MaxRSS {
		u.MaxRSS = o.MaxRSS
	}
}

// taskTimes are a task's CPU times in nanoseconds, written by the task
// goroutine and read atomically by anyone (getrusage from another thread,
// /proc).
type taskTimes struct {
	user atomic.Int64
	sys  atomic.Int64
	// maxRSS is the peak resident size seen, in bytes.
	maxRSS atomic.Uint64
}

// threadCPUTime returns the calling OS thread's CPU time.
func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// accountSys samples the task's system time. Called on the task goroutine.
func (t *Task) accountSys() {
	t.times.sys.Store(int64(threadCPUTime()))
}

// accountExit records the final times and peak RSS before the task's
// resources go.
func (t *Task) accountExit() {
	t.accountSys()
	t.sampleRSS()
}

// sampleRSS records the address space's resident size if it is a new peak.
func (t *Task) sampleRSS() {
	if t.mm == nil {
		return
	}
	rss := t.mm.ResidentSize()
	for {
		old := t.times.maxRSS.Load()
		if rss <= old || t.times.maxRSS.CompareAndSwap(old, rss) {
			return
		}
	}
}

// usage returns the task's own usage so far.
func (t *Task) usage() Usage {
	return Usage{
		UserTime: time.Duration(t.times.user.Load()),
		SysTime:  time.Duration(t.times.sys.Load()),
		MaxRSS:   t.times.maxRSS.Load(),
	}
}

// Usage returns the task's usage (RUSAGE_THREAD).
func (t *Task) Usage() Usage {
	if t == nil {
		return Usage{}
	}
	return t.usage()
}

// ProcessUsage returns the usage of the whole process: exited threads plus
// live ones (RUSAGE_SELF).
func (tg *ThreadGroup) ProcessUsage() Usage {
	k := tg.leader.k
	k.mu.Lock()
	tg.mu.Lock()
	u := tg.usage
	tg.mu.Unlock()
	for _, t := range k.tasks {
		if t.tg == tg {
			u.add(t.usage())
		}
	}
	k.mu.Unlock()
	return u
}

// ChildrenUsage returns the usage of the reaped children (RUSAGE_CHILDREN).
func (tg *ThreadGroup) ChildrenUsage() Usage {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.childrenUsage
}
