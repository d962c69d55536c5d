// Package lock implements advisory file locks (fs/locks.c): flock(2) locks,
// POSIX record locks (fcntl F_SETLK, owned by a descriptor table) and open
// file description locks (F_OFD_SETLK, owned by a description). The VFS
// keeps one FileLocks per locked inode (see Acquire) and releases locks
// when their owner goes away; the syscall layer translates struct flock.
//
// Locks are the sentry's own: files served by the gofer are not locked on
// the host, so they exclude only processes in the same sandbox.
//
// Lock order: registry.mu, then FileLocks.mu, then deadlockMu. Waiters
// block with no lock held.
package lock

import (
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/sentry/syserr"
)

// Owner identifies who holds a lock: a descriptor table for POSIX record
// locks (fl_owner is the files_struct), a file description for flock and
// OFD locks. Owners are compared with ==.
type Owner any

// Type is a lock type: F_RDLCK, F_WRLCK or F_UNLCK.
type Type int16

// Lock types (include/uapi/asm-generic/fcntl.h).
const (
	ReadLock  Type = unix.F_RDLCK
	WriteLock Type = unix.F_WRLCK
	Unlock    Type = unix.F_UNLCK
)

// MaxOffset is OFFSET_MAX: a record lock ending here runs to the end of
// the file, however far it grows.
const MaxOffset = math.MaxInt64

// Context is what a blocking lock request needs from its caller (a task).
type Context interface {
	// InterruptChan fires when the wait must be reconsidered; then
	// Interrupted says whether to give up (ERESTARTSYS).
	InterruptChan() <-chan struct{}
	Interrupted() bool
}

// Record is a byte-range lock: [Start, End], inclusive as in Linux.
type Record struct {
	Type       Type
	Start, End int64
	// Owner holds the lock; OFD says it is an open file description
	// lock. PID is the locking process (reported by F_GETLK; OFD locks
	// report -1).
	Owner Owner
	OFD   bool
	PID   int32
}

func (r *Record) overlaps(o *Record) bool { return r.Start <= o.End && o.Start <= r.End }

// conflicts reports whether r and o cannot both be held (posix_locks_conflict()).
func (r *Record) conflicts(o *Record) bool {
	return r.Owner != o.Owner && r.overlaps(o) && (r.Type == WriteLock || o.Type == WriteLock)
}

// flock is one flock(2) lock.
type flock struct {
	owner     Owner
	exclusive bool
}

// FileLocks are the locks on one inode (struct file_lock_context).
type FileLocks struct {
	key any

	mu sync.Mutex
	// flocks are the flock(2) locks. Protected by mu.
	flocks []flock
	// records are the POSIX and OFD record locks, each owner's
	// non-overlapping. Protected by mu.
	records []Record
	// refs counts Acquire calls not yet Released. Protected by
	// registry.mu.
	refs int
	// hooked records the descriptions whose release removes their flock
	// and OFD locks here (see MarkHooked). Protected by mu.
	hooked map[Owner]bool
	// queue wakes blocked requests when locks are released, narrowed or
	// downgraded.
	queue waiter.Queue
}

// registry maps lock keys (inodes) to their FileLocks. It is one per
// sentry, like Linux's per-inode contexts: keys are unique objects, so
// independent VFS instances (tests) cannot collide.
var registry struct {
	mu sync.Mutex
	// m is protected by mu.
	m map[any]*FileLocks
}

// posixLocks counts the POSIX (non-OFD) record locks held anywhere, so
// that closing a descriptor skips the lookup when there are none.
var posixLocks atomic.Int64

// AnyPOSIX reports whether some POSIX record lock may be held.
func AnyPOSIX() bool { return posixLocks.Load() > 0 }

// countPOSIX returns the number of POSIX record locks in rs.
func countPOSIX(rs []Record) int64 {
	n := int64(0)
	for i := range rs {
		if !rs[i].OFD {
			n++
		}
	}
	return n
}

// Acquire returns the FileLocks for key, creating it if needed, with a
// reference the caller must Release.
func Acquire(key any) *FileLocks {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.m == nil {
		registry.m = make(map[any]*FileLocks)
	}
	l := registry.m[key]
	if l == nil {
		l = &FileLocks{key: key}
		registry.m[key] = l
	}
	l.refs++
	return l
}

// Lookup returns the FileLocks for key with a reference, or nil if key
// has none.
func Lookup(key any) *FileLocks {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	l := registry.m[key]
	if l != nil {
		l.refs++
	}
	return l
}

// Release drops a reference; an unreferenced FileLocks without locks is
// forgotten.
func (l *FileLocks) Release() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	l.refs--
	if l.refs > 0 {
		return
	}
	l.mu.Lock()
	empty := len(l.flocks) == 0 && len(l.records) == 0
	l.mu.Unlock()
	if empty {
		delete(registry.m, l.key)
	}
}

// MarkHooked records that owner's release will call ReleaseOwner, and
// reports whether this is the first time (the caller then arranges it).
func (l *FileLocks) MarkHooked(owner Owner) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hooked[owner] {
		return false
	}
	if l.hooked == nil {
		l.hooked = make(map[Owner]bool)
	}
	l.hooked[owner] = true
	return true
}

// wait blocks until the queue is notified or ctx is interrupted. entry
// was registered while l.mu was held, so no notification is lost.
func wait(ctx Context, l *FileLocks, e *waiter.Entry, ch <-chan struct{}) error {
	defer l.queue.EventUnregister(e)
	select {
	case <-ch:
		return nil
	case <-ctx.InterruptChan():
		if ctx.Interrupted() {
			return syserr.ERestartSys
		}
		return nil
	}
}

// notifyLocked wakes every blocked request to retry.
//
// Preconditions: l.mu is held.
func (l *FileLocks) notifyLocked() { l.queue.Notify(waiter.EventIn) }

// Flock implements flock(2) for owner (flock_lock_inode()): a shared or
// exclusive lock, or unlocking. Changing the type of a held lock is not
// atomic: the old lock is dropped first (waking others), then the new one
// is requested. Without block a conflict fails with EAGAIN; with it the
// caller sleeps, interruptibly.
func (l *FileLocks) Flock(ctx Context, owner Owner, t Type, block bool) error {
	first := true
	for {
		l.mu.Lock()
		if first {
			first = false
			for i, f := range l.flocks {
				if f.owner != owner {
					continue
				}
				if f.exclusive == (t == WriteLock) && t != Unlock {
					l.mu.Unlock()
					return nil
				}
				l.flocks = append(l.flocks[:i], l.flocks[i+1:]...)
				l.notifyLocked()
				break
			}
			if t == Unlock {
				l.mu.Unlock()
				return nil
			}
		}
		conflict := false
		for _, f := range l.flocks {
			if f.owner != owner && (f.exclusive || t == WriteLock) {
				conflict = true
				break
			}
		}
		if !conflict {
			l.flocks = append(l.flocks, flock{owner: owner, exclusive: t == WriteLock})
			l.mu.Unlock()
			return nil
		}
		if !block {
			l.mu.Unlock()
			return unix.EAGAIN
		}
		e, ch := waiter.NewChannelEntry(waiter.EventIn)
		l.queue.EventRegister(&e)
		l.mu.Unlock()
		if err := wait(ctx, l, &e, ch); err != nil {
			return err
		}
	}
}

// Test returns the first lock conflicting with r (F_GETLK,
// posix_test_lock()), if any.
func (l *FileLocks) Test(r Record) (Record, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.records {
		if o.conflicts(&r) {
			return o, true
		}
	}
	return Record{}, false
}

// SetRecord applies r (posix_lock_inode()): r.Type Unlock removes r's
// range from its owner's locks; a lock first checks for conflicts with
// other owners (EAGAIN without block; with it the caller sleeps,
// interruptibly, and a POSIX request that would close a cycle of waiting
// owners fails with EDEADLK), then replaces the owner's locks in the
// range, merging with adjacent and overlapping locks of the same type.
func (l *FileLocks) SetRecord(ctx Context, r Record, block bool) error {
	defer clearWaiting(r.Owner, r.OFD)
	for {
		l.mu.Lock()
		if r.Type != Unlock {
			var conflict *Record
			for i := range l.records {
				if l.records[i].conflicts(&r) {
					conflict = &l.records[i]
					break
				}
			}
			if conflict != nil {
				if !block {
					l.mu.Unlock()
					return unix.EAGAIN
				}
				if !r.OFD && !setWaiting(r.Owner, conflict.Owner) {
					l.mu.Unlock()
					return unix.EDEADLK
				}
				e, ch := waiter.NewChannelEntry(waiter.EventIn)
				l.queue.EventRegister(&e)
				l.mu.Unlock()
				if err := wait(ctx, l, &e, ch); err != nil {
					return err
				}
				continue
			}
		}
		l.applyLocked(r)
		l.mu.Unlock()
		return nil
	}
}

// applyLocked replaces r.Owner's locks in [r.Start, r.End] with r.
//
// Preconditions: l.mu is held; r conflicts with nothing.
func (l *FileLocks) applyLocked(r Record) {
	var out []Record
	changed := false
	for _, o := range l.records {
		if o.Owner != r.Owner || !o.overlaps(&r) {
			out = append(out, o)
			continue
		}
		changed = true
		// Keep the parts of o outside r.
		if o.Start < r.Start {
			left := o
			left.End = r.Start - 1
			out = append(out, left)
		}
		if o.End > r.End {
			right := o
			right.Start = r.End + 1
			out = append(out, right)
		}
	}
	if r.Type != Unlock {
		// Merge with same-type neighbours touching the new range.
		merged := out[:0]
		for _, o := range out {
			if o.Owner == r.Owner && o.Type == r.Type &&
				((o.End != MaxOffset && o.End+1 == r.Start) || (r.End != MaxOffset && r.End+1 == o.Start)) {
				r.Start = min(r.Start, o.Start)
				r.End = max(r.End, o.End)
				continue
			}
			merged = append(merged, o)
		}
		out = append(merged, r)
		changed = true
	}
	posixLocks.Add(countPOSIX(out) - countPOSIX(l.records))
	l.records = out
	if changed {
		l.notifyLocked()
	}
}

// ReleaseOwner removes every lock owner holds here: flock and OFD locks
// when a description is released (locks_remove_file()), or POSIX locks
// when the owning table closes a descriptor of the file
// (locks_remove_posix()); ofd selects which record locks go.
func (l *FileLocks) ReleaseOwner(owner Owner, ofd bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := false
	if ofd {
		delete(l.hooked, owner)
		for i := 0; i < len(l.flocks); i++ {
			if l.flocks[i].owner == owner {
				l.flocks = append(l.flocks[:i], l.flocks[i+1:]...)
				changed = true
				i--
			}
		}
	}
	var kept []Record
	for _, r := range l.records {
		if r.Owner == owner && r.OFD == ofd {
			changed = true
			continue
		}
		kept = append(kept, r)
	}
	posixLocks.Add(countPOSIX(kept) - countPOSIX(l.records))
	l.records = kept
	if changed {
		l.notifyLocked()
	}
}

// HasPOSIX reports whether any POSIX (non-OFD) record lock is held here.
func (l *FileLocks) HasPOSIX() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if !r.OFD {
			return true
		}
	}
	return false
}

// Deadlock detection (posix_locks_deadlock()): each POSIX owner blocked
// in F_SETLKW records the owner of the lock it waits for. A request that
// would wait for an owner whose chain of waits leads back to the
// requester fails with EDEADLK. Like Linux, the walk gives up after
// maxDeadlockSteps.
const maxDeadlockSteps = 10

var deadlock struct {
	mu sync.Mutex
	// waitingFor maps a blocked POSIX owner to the owner it waits for.
	// Protected by mu.
	waitingFor map[Owner]Owner
}

// setWaiting records that owner waits for holder, unless that would
// deadlock (then it returns false and records nothing).
func setWaiting(owner, holder Owner) bool {
	deadlock.mu.Lock()
	defer deadlock.mu.Unlock()
	o := holder
	for i := 0; i <= maxDeadlockSteps; i++ {
		if o == owner {
			return false
		}
		next, ok := deadlock.waitingFor[o]
		if !ok {
			break
		}
		o = next
	}
	if deadlock.waitingFor == nil {
		deadlock.waitingFor = make(map[Owner]Owner)
	}
	deadlock.waitingFor[owner] = holder
	return true
}

// clearWaiting forgets that owner waits.
func clearWaiting(owner Owner, ofd bool) {
	if ofd {
		return
	}
	deadlock.mu.Lock()
	delete(deadlock.waitingFor, owner)
	deadlock.mu.Unlock()
}
