package unix

import (
	"sync"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
)

// Garbage collection of sockets in flight (net/unix/garbage.c).
//
// A socket's file can be in flight: passed with SCM_RIGHTS and queued on
// some socket. If the only references to a set of sockets are from each
// other's receive queues — a socket sent over itself, or two sockets sent
// to each other, and then closed — no close will ever release them. The
// collector finds such sets: the candidates are the sockets whose every
// file reference is in flight; references from the queues of candidates
// are internal; a candidate with a reference from outside (a live
// socket's queue, or a message being received) is alive, and so is
// everything its queue holds. The rest is garbage: their queues are
// purged, which drops the last references and releases them.
//
// Lock order: gc.mu before endpoint.mu; in-flight counts change without
// any endpoint lock held.

// gcTrigger is UNIX_INFLIGHT_TRIGGER_GC: sending files while this many are
// in flight collects first, which bounds what cycles can pin.
const gcTrigger = 16000

// gcState is the collector's state for all AF_UNIX sockets of the sentry.
type gcState struct {
	mu sync.Mutex
	// inflight counts, per socket with its file in flight, the queued
	// references to that file; total is their sum. Protected by mu.
	inflight map[*endpoint]int
	total    int
	// running and again serialize collections: a socket released by a
	// collection asks for another pass instead of recursing. Protected
	// by mu.
	running, again bool
}

var gc = gcState{inflight: make(map[*endpoint]int)}

// endpointOf returns the AF_UNIX socket behind f, or nil.
func endpointOf(f *vfs.FileDescription) *endpoint {
	s, err := socket.FromFile(f)
	if err != nil {
		return nil
	}
	e, _ := s.(*endpoint)
	return e
}

// attach records that files are now held by a queued message
// (unix_inflight()), and collects first if a great many are in flight.
//
// Preconditions: no endpoint lock is held.
func attachRights(files []*vfs.FileDescription) {
	if len(files) == 0 {
		return
	}
	gc.mu.Lock()
	for _, f := range files {
		if e := endpointOf(f); e != nil {
			gc.inflight[e]++
			gc.total++
		}
	}
	heavy := gc.total > gcTrigger
	gc.mu.Unlock()
	if heavy {
		collect()
	}
}

// detachRights records that files left the queues, received or dropped
// (unix_notinflight()).
//
// Preconditions: no endpoint lock is held.
func detachRights(files []*vfs.FileDescription) {
	if len(files) == 0 {
		return
	}
	gc.mu.Lock()
	for _, f := range files {
		if e := endpointOf(f); e != nil {
			if gc.inflight[e]--; gc.inflight[e] <= 0 {
				delete(gc.inflight, e)
			}
			gc.total--
		}
	}
	gc.mu.Unlock()
}

// maybeCollect collects if any socket is in flight (unix_release_sock()
// calls unix_gc() then).
func maybeCollect() {
	gc.mu.Lock()
	any := gc.total > 0
	gc.mu.Unlock()
	if any {
		collect()
	}
}

// collect runs collections until no release asked for another.
func collect() {
	gc.mu.Lock()
	if gc.running {
		gc.again = true
		gc.mu.Unlock()
		return
	}
	gc.running = true
	for {
		gc.again = false
		msgs := gc.garbageLocked()
		gc.mu.Unlock()
		for _, m := range msgs {
			m.free()
		}
		gc.mu.Lock()
		if !gc.again {
			break
		}
	}
	gc.running = false
	gc.mu.Unlock()
}

// children calls fn for every in-flight socket e's queue holds, directly
// or on the queues of its pending connections.
//
// Preconditions: gc.mu is held.
func (e *endpoint) children(fn func(*endpoint)) {
	e.mu.Lock()
	var embryos []*endpoint
	for i := 0; i < e.recvq.len(); i++ {
		m := e.recvq.at(i)
		for _, f := range m.rights {
			if c := endpointOf(f); c != nil {
				fn(c)
			}
		}
		if m.conn != nil {
			embryos = append(embryos, m.conn)
		}
	}
	e.mu.Unlock()
	for _, n := range embryos {
		n.children(fn)
	}
}

// garbageLocked finds the unreachable sockets (unix_gc()) and takes their
// queued messages, for the caller to free without gc.mu held.
//
// Preconditions: gc.mu is held.
func (g *gcState) garbageLocked() []*message {
	// Candidates: every reference to the file is in flight. A file being
	// received or peeked at has one more, so it is never a candidate.
	count := make(map[*endpoint]int)
	for e, n := range g.inflight {
		if f := e.file.Load(); f != nil && f.ReadRefs() == int64(n) {
			count[e] = n
		}
	}
	if len(count) == 0 {
		return nil
	}
	// Discount the references the candidates hold on each other.
	for e := range count {
		e.children(func(c *endpoint) {
			if _, ok := count[c]; ok {
				count[c]--
			}
		})
	}
	// What is still referenced from outside is alive, with everything
	// reachable from it.
	var live []*endpoint
	for e, n := range count {
		if n > 0 {
			live = append(live, e)
		}
	}
	for len(live) > 0 {
		e := live[len(live)-1]
		live = live[:len(live)-1]
		if _, ok := count[e]; !ok {
			continue
		}
		delete(count, e)
		e.children(func(c *endpoint) {
			if _, ok := count[c]; ok {
				live = append(live, c)
			}
		})
	}
	var msgs []*message
	for e := range count {
		e.mu.Lock()
		msgs = append(msgs, e.recvq.drain()...)
		e.mu.Unlock()
	}
	return msgs
}
