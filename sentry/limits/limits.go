// Package limits holds resource limits (getrlimit(2)).
package limits

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Infinity is RLIM_INFINITY.
const Infinity = ^uint64(0)

// Limit is one soft/hard pair.
type Limit struct {
	Cur, Max uint64
}

// NumLimits is RLIM_NLIMITS.
const NumLimits = 16

// LimitSet is a thread group's resource limits. Safe for concurrent use.
type LimitSet struct {
	mu sync.Mutex
	// data is protected by mu.
	data [NumLimits]Limit
}

// NewDefault returns the limits a fresh Linux init task has, adjusted as
// container runtimes do (RLIMIT_NOFILE 1024/1048576? runc leaves the
// runtime's; we use the common docker default of 1048576 hard).
func NewDefault() *LimitSet {
	ls := &LimitSet{}
	for i := range ls.data {
		ls.data[i] = Limit{Infinity, Infinity}
	}
	ls.data[unix.RLIMIT_STACK] = Limit{8 << 20, Infinity}
	ls.data[unix.RLIMIT_CORE] = Limit{0, Infinity}
	ls.data[unix.RLIMIT_NOFILE] = Limit{1024, 1 << 20}
	ls.data[unix.RLIMIT_NPROC] = Limit{Infinity, Infinity}
	ls.data[unix.RLIMIT_MEMLOCK] = Limit{8 << 20, 8 << 20}
	ls.data[unix.RLIMIT_SIGPENDING] = Limit{63432, 63432}
	ls.data[unix.RLIMIT_MSGQUEUE] = Limit{819200, 819200}
	ls.data[13] = Limit{0, 0} // RLIMIT_NICE
	ls.data[14] = Limit{0, 0} // RLIMIT_RTPRIO
	return ls
}

// Get returns limit r.
func (ls *LimitSet) Get(r int) Limit {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.data[r]
}

// Set replaces limit r, enforcing the rules of setrlimit(2): soft <= hard,
// and raising the hard limit needs privilege (CAP_SYS_RESOURCE).
func (ls *LimitSet) Set(r int, l Limit, privileged bool) (Limit, error) {
	if l.Cur > l.Max {
		return Limit{}, unix.EINVAL
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	old := ls.data[r]
	if l.Max > old.Max && !privileged {
		return Limit{}, unix.EPERM
	}
	if r == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
		// fs.nr_open default.
		return Limit{}, unix.EPERM
	}
	ls.data[r] = l
	return old, nil
}

// Fork returns a copy (limits are inherited across fork).
func (ls *LimitSet) Fork() *LimitSet {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return &LimitSet{data: ls.data}
}
