// Package epoll implements epoll(7) instances (fs/eventpoll.c).
//
// An instance is an anonymous file holding an interest list: entries
// keyed by (open file description, descriptor number), each registered on
// its file's waiter.Queue through the file's waiter.Waitable readiness
// seam (see fs/vfs/waitable.go). A wakeup from a file puts its entry on
// the instance's ready list; epoll_wait(2) harvests the ready list,
// polling each entry's file again for the events actually ready, and
// puts level-triggered entries back for the next call. Entries do not
// keep their file open: a vfs.ReleaseHook removes an entry when its
// description is released (eventpoll_release()). An instance is itself
// pollable, so instances nest (with cycles and deep chains refused with
// ELOOP, as ep_loop_check() does).
//
// The package sits in fs/ beside the other file types because an epoll
// instance is a file built only on vfs.FileDescription and waiter; the
// syscall layer supplies what depends on the task (descriptor lookup,
// copying events out, signal masks).
//
// Lock order (outermost first), mirroring Linux's epnested_mutex,
// ep->mtx and ep->lock:
//
//  1. nestMu (package): serializes adding an instance to another, so
//     that the loop check and the insertion are atomic.
//  2. EventPoll.mu of an outer instance, then of instances it watches
//     (nesting follows the watch graph, which is acyclic).
//  3. exclMu (package).
//  4. A watched file's own locks and its waiter.Queue lock (taken by
//     EventRegister/Unregister, Readiness and Notify).
//  5. exclGroup.mu (taken inside a file's Notify).
//  6. EventPoll.readyMu (taken inside a file's Notify, by the wakeup
//     callback). Nothing is called with readyMu held.
//  7. refsMu (package): leaf.
package epoll

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/anon"
	"pangolin/fs/vfs"
)

// Event bits and control operations (include/uapi/linux/eventpoll.h).
const (
	EPOLLIN        = 0x1
	EPOLLPRI       = 0x2
	EPOLLOUT       = 0x4
	EPOLLERR       = 0x8
	EPOLLHUP       = 0x10
	EPOLLRDNORM    = 0x40
	EPOLLRDHUP     = 0x2000
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	CtlAdd = 1
	CtlDel = 2
	CtlMod = 3

	// privateBits are the entry flags that are not events (EP_PRIVATE_BITS).
	privateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
	// exclusiveOK are the bits EPOLLEXCLUSIVE may be combined with
	// (EPOLLEXCLUSIVE_OK_BITS).
	exclusiveOK = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE
	// maxNests is EP_MAX_NESTS: the longest allowed chain of instances
	// watching instances.
	maxNests = 4
)

// Event is struct epoll_event.
type Event struct {
	Events uint32
	Data   uint64
}

// key identifies an interest entry (struct epoll_filefd).
type key struct {
	file *vfs.FileDescription
	fd   int32
}

// EventPoll is an epoll instance.
type EventPoll struct {
	vfs.FileDefaults
	anon.File

	// queue is notified with EventIn when an entry becomes ready: poll(2),
	// select(2) and instances watching this one wait on it
	// (ep->poll_wait).
	queue waiter.Queue

	// mu is ep->mtx: it serializes interest-list changes, harvesting and
	// release.
	mu sync.Mutex
	// items is the interest list. Protected by mu.
	items map[key]*item
	// released is set once Release has run. Protected by mu.
	released bool

	// readyMu is ep->lock, taken by wakeup callbacks.
	readyMu sync.Mutex
	// ready is the ready list. Protected by readyMu.
	ready itemList
	// scanning is set while a harvest owns a private list taken from
	// ready; wakeups then go to ovf (ep->ovflist). Protected by readyMu.
	scanning bool
	// ovf are entries woken during a scan, in wakeup order. Protected by
	// readyMu.
	ovf []*item
	// sleepers are the epoll_wait callers waiting for the ready list to
	// fill, woken one per wakeup (they wait exclusively, as ep_poll()
	// does). Protected by readyMu.
	sleepers []chan struct{}

	// parents are the entries of other instances that watch this one
	// (ep->refs), for the upward part of the nesting check. Protected
	// by refsMu.
	parents map[*item]struct{}
}

var (
	// nestMu is epnested_mutex.
	nestMu sync.Mutex
	// refsMu protects every EventPoll.parents.
	refsMu sync.Mutex
)

// New returns a new epoll instance as a description with one reference
// (epoll_create1(2)); flags are the open flags (O_RDWR).
func New(flags uint32) *vfs.FileDescription {
	ep := &EventPoll{items: make(map[key]*item)}
	return vfs.NewAnonFile(ep, flags, anon.Options)
}

// Name implements vfs.Namer.
func (*EventPoll) Name() string { return "anon_inode:[eventpoll]" }

// item is an interest entry (struct epitem).
type item struct {
	ep *EventPoll
	// file and fd are the key. Immutable. file is not a reference: the
	// entry is removed when file is released.
	file *vfs.FileDescription
	fd   int32
	// target is file's instance when file is an epoll instance, else nil.
	// Immutable.
	target *EventPoll

	// events is the requested mask with EPOLLERR|EPOLLHUP and the flag
	// bits; an EPOLLONESHOT entry that fired keeps only the flags. Written
	// with ep.mu held; read atomically by wakeup callbacks.
	events atomic.Uint32
	// data is returned with each event. Protected by ep.mu.
	data uint64

	// entry is registered on file's queue (for non-exclusive entries).
	entry waiter.Entry
	// excl is the group of an EPOLLEXCLUSIVE entry. Immutable.
	excl *exclGroup

	// list, prev and next link the entry into ep.ready or a scan's
	// private list; list is nil when it is on neither. Protected by
	// ep.readyMu, except on a scan's private list, which the scanning
	// goroutine owns (holding ep.mu) while ep.scanning is set.
	list       *itemList
	prev, next *item
	// inOvf is set while the entry is in ep.ovf. Protected by ep.readyMu.
	inOvf bool
}

// itemList is an intrusive FIFO of entries.
type itemList struct{ head, tail *item }

func (l *itemList) empty() bool { return l.head == nil }

func (l *itemList) pushBack(it *item) {
	it.list, it.prev, it.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = it
	} else {
		l.head = it
	}
	l.tail = it
}

func (l *itemList) pushFront(it *item) {
	it.list, it.prev, it.next = l, nil, l.head
	if l.head != nil {
		l.head.prev = it
	} else {
		l.tail = it
	}
	l.head = it
}

func (l *itemList) remove(it *item) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		l.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		l.tail = it.prev
	}
	it.list, it.prev, it.next = nil, nil, nil
}

// appendList moves every entry of o to the end of l.
func (l *itemList) appendList(o *itemList) {
	for it := o.head; it != nil; {
		next := it.next
		o.remove(it)
		l.pushBack(it)
		it = next
	}
}

// NotifyEvent implements waiter.EventListener for a non-exclusive entry
// (ep_poll_callback()).
func (it *item) NotifyEvent(mask waiter.EventMask) {
	if !it.wants(mask) {
		return
	}
	it.ep.markReady(it)
}

// wants reports whether a wakeup with mask concerns the entry: it is not
// disabled (a fired EPOLLONESHOT) and mask meets its events.
func (it *item) wants(mask waiter.EventMask) bool {
	ev := it.events.Load()
	if ev&^privateBits == 0 {
		return false
	}
	return mask == 0 || uint32(mask)&ev != 0
}

// markReady queues it on the ready list (or the overflow list during a
// scan), wakes one sleeper and notifies pollers. It reports whether a
// sleeper was woken.
func (ep *EventPoll) markReady(it *item) bool {
	ep.readyMu.Lock()
	if ep.scanning {
		if !it.inOvf {
			it.inOvf = true
			ep.ovf = append(ep.ovf, it)
		}
	} else if it.list == nil {
		ep.ready.pushBack(it)
	}
	woke := ep.wakeOneLocked()
	ep.readyMu.Unlock()
	ep.queue.Notify(waiter.EventIn)
	return woke
}

// wakeOneLocked wakes the first sleeper, if any (wake_up() on an exclusive
// wait queue), and reports whether there was one.
//
// Preconditions: ep.readyMu is held.
func (ep *EventPoll) wakeOneLocked() bool {
	if len(ep.sleepers) == 0 {
		return false
	}
	ch := ep.sleepers[0]
	ep.sleepers = ep.sleepers[1:]
	ch <- struct{}{}
	return true
}

// eventsAvailable is ep_events_available().
func (ep *EventPoll) eventsAvailable() bool {
	ep.readyMu.Lock()
	defer ep.readyMu.Unlock()
	return !ep.ready.empty() || ep.scanning
}

// poll returns the events of it's file that are ready and requested
// (ep_item_poll()).
//
// Preconditions: it.ep.mu is held.
func (it *item) poll() uint32 {
	ev := it.events.Load()
	mask := waiter.EventMask(ev &^ privateBits)
	if mask == 0 {
		return 0
	}
	return uint32(it.file.Readiness(mask)) & ev
}

// startScan takes the ready list for a harvest (ep_start_scan()).
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) startScan() *itemList {
	tx := &itemList{}
	ep.readyMu.Lock()
	for it := ep.ready.head; it != nil; it = it.next {
		it.list = tx
	}
	*tx = ep.ready
	ep.ready = itemList{}
	ep.scanning = true
	ep.readyMu.Unlock()
	return tx
}

// doneScan ends a harvest (ep_done_scan()): the entries left on tx go back
// first, then those woken during the scan, then the ones already requeued
// (level-triggered entries the scan reported). A sleeper is woken if
// anything remains.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) doneScan(tx *itemList) {
	ep.readyMu.Lock()
	requeued := ep.ready
	for it := requeued.head; it != nil; it = it.next {
		it.list = &requeued
	}
	ep.ready = itemList{}
	ep.ready.appendList(tx)
	for _, it := range ep.ovf {
		it.inOvf = false
		if it.list == nil {
			ep.ready.pushBack(it)
		}
	}
	ep.ovf = nil
	ep.ready.appendList(&requeued)
	ep.scanning = false
	if !ep.ready.empty() {
		ep.wakeOneLocked()
	}
	ep.readyMu.Unlock()
}

// requeue puts it back on the ready list during a scan (a level-triggered
// entry that was just reported).
//
// Preconditions: ep.mu is held; ep is scanning; it is on no list.
func (ep *EventPoll) requeue(it *item) {
	ep.readyMu.Lock()
	ep.ready.pushBack(it)
	ep.readyMu.Unlock()
}

// sendEvents harvests up to max events, calling put for each
// (ep_send_events()). put returns false if the event could not be copied
// out; the entry then stays ready, and sendEvents fails with EFAULT if
// nothing was delivered.
func (ep *EventPoll) sendEvents(max int, put func(i int, ev Event) bool) (int, error) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	tx := ep.startScan()
	n := 0
	var err error
	for it := tx.head; it != nil && n < max; {
		next := it.next
		tx.remove(it)
		revents := it.poll()
		if revents != 0 {
			if !put(n, Event{Events: revents, Data: it.data}) {
				tx.pushFront(it)
				if n == 0 {
					err = unix.EFAULT
				}
				break
			}
			n++
			ev := it.events.Load()
			if ev&EPOLLONESHOT != 0 {
				it.events.Store(ev & privateBits)
			} else if ev&EPOLLET == 0 {
				ep.requeue(it)
			}
		}
		it = next
	}
	ep.doneScan(tx)
	return n, err
}

// Readiness implements waiter.Waitable: an instance is readable while an
// entry on its ready list has events (ep_eventpoll_poll()). Entries found
// not ready are dropped from the list, as Linux does.
func (ep *EventPoll) Readiness(mask waiter.EventMask) waiter.EventMask {
	if mask&(waiter.EventIn|waiter.EventRdNorm) == 0 {
		return 0
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	tx := ep.startScan()
	var r waiter.EventMask
	for it := tx.head; it != nil; {
		next := it.next
		if it.poll() != 0 {
			r = waiter.EventIn | waiter.EventRdNorm
			break
		}
		tx.remove(it)
		it = next
	}
	ep.doneScan(tx)
	return r & mask
}

// EventRegister implements waiter.Waitable.
func (ep *EventPoll) EventRegister(e *waiter.Entry) error {
	ep.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (ep *EventPoll) EventUnregister(e *waiter.Entry) { ep.queue.EventUnregister(e) }

// Wait implements epoll_wait(2) (ep_poll()): it delivers up to max ready
// events through put, waiting for one if there are none. timeout < 0
// waits forever, 0 not at all. A signal ends the wait with EINTR (epoll
// waits are never restarted).
func (ep *EventPoll) Wait(ctx vfs.Context, max int, timeout time.Duration, put func(i int, ev Event) bool) (int, error) {
	timedOut := timeout == 0
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	eavail := ep.eventsAvailable()
	for {
		if eavail {
			n, err := ep.sendEvents(max, put)
			if n > 0 || err != nil {
				return n, err
			}
		}
		if timedOut {
			return 0, nil
		}
		if ctx.Interrupted() {
			return 0, unix.EINTR
		}
		ch := make(chan struct{}, 1)
		ep.readyMu.Lock()
		eavail = !ep.ready.empty() || ep.scanning
		if !eavail {
			ep.sleepers = append(ep.sleepers, ch)
		}
		ep.readyMu.Unlock()
		if eavail {
			continue
		}
		select {
		case <-ch:
		case <-ctx.InterruptChan():
		case <-expired:
			timedOut = true
		}
		// Harvest unless still queued after a timeout or interrupt (a
		// wakeup that raced with them has dequeued us and must not be
		// lost).
		eavail = true
		ep.readyMu.Lock()
		for i, s := range ep.sleepers {
			if s == ch {
				ep.sleepers = append(ep.sleepers[:i:i], ep.sleepers[i+1:]...)
				eavail = !ep.ready.empty() || ep.scanning
				break
			}
		}
		ep.readyMu.Unlock()
	}
}

// Ctl implements the interest-list part of epoll_ctl(2) (do_epoll_ctl()
// after the descriptor checks, which the caller makes: EBADF, EPERM for
// files that cannot be polled, EINVAL for file == the instance itself, and
// clearing EPOLLWAKEUP without CAP_BLOCK_SUSPEND). ev is ignored for
// CtlDel.
func (ep *EventPoll) Ctl(op int, file *vfs.FileDescription, fd int32, ev Event) error {
	target, _ := file.Impl().(*EventPoll)
	if op != CtlDel && ev.Events&EPOLLEXCLUSIVE != 0 {
		if op == CtlMod {
			return unix.EINVAL
		}
		if op == CtlAdd && (target != nil || ev.Events&^exclusiveOK != 0) {
			return unix.EINVAL
		}
	}
	if op == CtlAdd && target != nil {
		nestMu.Lock()
		defer nestMu.Unlock()
		if !ep.loopCheck(target) {
			return unix.ELOOP
		}
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.released {
		return unix.EBADF
	}
	it := ep.items[key{file, fd}]
	switch op {
	case CtlAdd:
		if it != nil {
			return unix.EEXIST
		}
		ev.Events |= EPOLLERR | EPOLLHUP
		return ep.insertLocked(file, fd, target, ev)
	case CtlDel:
		if it == nil {
			return unix.ENOENT
		}
		ep.removeLocked(it)
		return nil
	case CtlMod:
		if it == nil {
			return unix.ENOENT
		}
		if it.events.Load()&EPOLLEXCLUSIVE != 0 {
			return unix.EINVAL
		}
		ev.Events |= EPOLLERR | EPOLLHUP
		ep.modifyLocked(it, ev)
		return nil
	}
	return unix.EINVAL
}

// insertLocked adds an entry (ep_insert()).
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) insertLocked(file *vfs.FileDescription, fd int32, target *EventPoll, ev Event) error {
	it := &item{ep: ep, file: file, fd: fd, target: target, data: ev.Data}
	it.events.Store(ev.Events)
	if ev.Events&EPOLLEXCLUSIVE != 0 {
		if err := joinExclusive(it); err != nil {
			return err
		}
	} else {
		// Filtering happens in NotifyEvent against the current mask, so
		// that EPOLL_CTL_MOD needs no re-registration.
		it.entry.Init(it, ^waiter.EventMask(0))
		if err := file.EventRegister(&it.entry); err != nil {
			return err
		}
	}
	ep.items[key{file, fd}] = it
	file.AddReleaseHook(it)
	if target != nil {
		refsMu.Lock()
		if target.parents == nil {
			target.parents = make(map[*item]struct{})
		}
		target.parents[it] = struct{}{}
		refsMu.Unlock()
	}
	if it.poll() != 0 {
		ep.linkReady(it)
	}
	return nil
}

// linkReady puts it on the ready list if it is not there, waking a
// sleeper and pollers (the tail of ep_insert() and ep_modify()).
//
// Preconditions: ep.mu is held (so no scan is running).
func (ep *EventPoll) linkReady(it *item) {
	ep.readyMu.Lock()
	if it.list != nil {
		ep.readyMu.Unlock()
		return
	}
	ep.ready.pushBack(it)
	ep.wakeOneLocked()
	ep.readyMu.Unlock()
	ep.queue.Notify(waiter.EventIn)
}

// modifyLocked changes an entry's events and data (ep_modify()).
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) modifyLocked(it *item, ev Event) {
	it.events.Store(ev.Events)
	it.data = ev.Data
	if it.poll() != 0 {
		ep.linkReady(it)
	}
}

// removeLocked removes an entry (ep_remove()).
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) removeLocked(it *item) {
	if it.excl != nil {
		leaveExclusive(it)
	} else {
		it.file.EventUnregister(&it.entry)
	}
	it.file.RemoveReleaseHook(it)
	delete(ep.items, key{it.file, it.fd})
	if it.target != nil {
		refsMu.Lock()
		delete(it.target.parents, it)
		refsMu.Unlock()
	}
	ep.readyMu.Lock()
	if it.list != nil {
		it.list.remove(it)
	}
	ep.readyMu.Unlock()
}

// FileReleased implements vfs.ReleaseHook: the entry's file is gone
// (eventpoll_release_file()).
func (it *item) FileReleased(*vfs.FileDescription) {
	ep := it.ep
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.items[key{it.file, it.fd}] == it {
		ep.removeLocked(it)
	}
}

// Release implements vfs.FileImpl: every entry is removed
// (ep_clear_and_put()).
func (ep *EventPoll) Release() {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, it := range ep.items {
		ep.removeLocked(it)
	}
	ep.released = true
}

// loopCheck reports whether adding to into ep keeps the watch graph free
// of cycles and of chains longer than maxNests (ep_loop_check()).
//
// Preconditions: nestMu is held.
func (ep *EventPoll) loopCheck(to *EventPoll) bool {
	memo := make(map[*EventPoll]int)
	depth := to.downDepth(ep, 0, memo)
	if depth > maxNests {
		return false
	}
	up := ep.upDepth(make(map[*EventPoll]int))
	return depth+1+up <= maxNests
}

// tooDeep marks a loop or an over-deep chain in downDepth.
const tooDeep = 1 << 30

// downDepth returns the length of the longest chain of instances that ep
// watches, or tooDeep if one of them is into (ep_loop_check_proc()).
//
// Preconditions: nestMu is held.
func (ep *EventPoll) downDepth(into *EventPoll, depth int, memo map[*EventPoll]int) int {
	if d, ok := memo[ep]; ok {
		return d
	}
	var children []*EventPoll
	ep.mu.Lock()
	for _, it := range ep.items {
		if it.target != nil {
			children = append(children, it.target)
		}
	}
	ep.mu.Unlock()
	result := 0
	for _, c := range children {
		if c == into || depth > maxNests {
			result = tooDeep
		} else {
			result = max(result, c.downDepth(into, depth+1, memo)+1)
		}
		if result > maxNests {
			break
		}
	}
	memo[ep] = result
	return result
}

// upDepth returns the length of the longest chain of instances watching
// ep (ep_get_upwards_depth_proc()).
//
// Preconditions: nestMu is held.
func (ep *EventPoll) upDepth(memo map[*EventPoll]int) int {
	if d, ok := memo[ep]; ok {
		return d
	}
	memo[ep] = 0
	refsMu.Lock()
	var ps []*EventPoll
	for it := range ep.parents {
		ps = append(ps, it.ep)
	}
	refsMu.Unlock()
	result := 0
	for _, p := range ps {
		result = max(result, p.upDepth(memo)+1)
	}
	memo[ep] = result
	return result
}
