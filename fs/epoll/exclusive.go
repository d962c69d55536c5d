package epoll

import (
	"sync"

	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// EPOLLEXCLUSIVE entries wait on their file exclusively: Linux adds them
// at the tail of the file's wait queue with add_wait_queue_exclusive(), and
// a wakeup runs their callbacks in order only until one of them has woken
// a sleeping epoll_wait (ep_poll_callback() returning 1 stops
// __wake_up_common()). waiter.Queue has no exclusive entries, so all the
// exclusive entries on one file share a single registration, an
// exclGroup, whose callback applies that rule.
//
// The group is per open file description, the object whose Waitable the
// entries register with; two descriptions of one pipe end each get their
// own group (Linux would share the pipe's wait queue).

// exclGroup is the exclusive entries on one file.
type exclGroup struct {
	file *vfs.FileDescription // immutable
	// entry is registered on file while the group has members.
	entry waiter.Entry

	mu sync.Mutex
	// items are the members in registration order. Protected by mu.
	items []*item
}

var (
	// exclMu protects exclGroups and group registration.
	exclMu sync.Mutex
	// exclGroups maps a file to its group. Protected by exclMu.
	exclGroups = make(map[*vfs.FileDescription]*exclGroup)
)

// joinExclusive registers an EPOLLEXCLUSIVE entry.
func joinExclusive(it *item) error {
	exclMu.Lock()
	defer exclMu.Unlock()
	g := exclGroups[it.file]
	if g == nil {
		g = &exclGroup{file: it.file}
		g.entry.Init(g, ^waiter.EventMask(0))
		if err := it.file.EventRegister(&g.entry); err != nil {
			return err
		}
		exclGroups[it.file] = g
	}
	g.mu.Lock()
	g.items = append(g.items, it)
	g.mu.Unlock()
	it.excl = g
	return nil
}

// leaveExclusive unregisters an EPOLLEXCLUSIVE entry.
func leaveExclusive(it *item) {
	exclMu.Lock()
	defer exclMu.Unlock()
	g := it.excl
	g.mu.Lock()
	for i, o := range g.items {
		if o == it {
			g.items = append(g.items[:i:i], g.items[i+1:]...)
			break
		}
	}
	empty := len(g.items) == 0
	g.mu.Unlock()
	if empty {
		delete(exclGroups, g.file)
		g.file.EventUnregister(&g.entry)
	}
}

// NotifyEvent implements waiter.EventListener: members are marked ready in
// order until one wakes a sleeper interested in the event
// (ep_poll_callback()'s ewake for exclusive entries).
func (g *exclGroup) NotifyEvent(mask waiter.EventMask) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, it := range g.items {
		if !it.wants(mask) {
			continue
		}
		if !it.ep.markReady(it) {
			continue
		}
		ev := it.events.Load()
		woke := false
		switch uint32(mask) & (EPOLLIN | EPOLLOUT) {
		case EPOLLIN:
			woke = ev&EPOLLIN != 0
		case EPOLLOUT:
			woke = ev&EPOLLOUT != 0
		case 0:
			woke = true
		}
		if woke {
			return
		}
	}
}
