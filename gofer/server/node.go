package server

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// node is one host file the client holds by ID.
type node struct {
	// fd is an O_PATH|O_NOFOLLOW descriptor of the file. Immutable; closed
	// when refs drops to zero, so it stays valid while any handler uses it.
	fd int

	// ftype is the S_IFMT bits, dev and ino identify the inode. Immutable: an
	// inode's type never changes, so a type check on the node is never stale.
	ftype    uint32
	dev, ino uint64

	// parent and name locate the file for the no-/proc reopen fallback
	// (Options.DisableProcReopen). Immutable and possibly stale after a
	// rename: reopen verifies dev/ino. parent holds a reference; nil for the
	// root and whenever /proc is used.
	parent *node
	name   string

	// refs counts the table's reference plus one per in-flight handler.
	refs atomic.Int64
}

func (n *node) incRef() { n.refs.Add(1) }

func (n *node) decRef() {
	if n.refs.Add(-1) != 0 {
		return
	}
	unix.Close(n.fd)
	if n.parent != nil {
		n.parent.decRef()
	}
}

// nodeTable maps the IDs of one connection to nodes.
type nodeTable struct {
	max int // immutable

	mu sync.Mutex
	// nodes holds one reference on each node. Protected by mu.
	nodes map[uint64]*node
	// next is the next ID to hand out. IDs are never reused, so a stale ID
	// from a confused client fails with EBADF instead of naming another
	// file. Protected by mu.
	next uint64
}

func newNodeTable(max int) *nodeTable {
	return &nodeTable{max: max, nodes: make(map[uint64]*node), next: 1}
}

// get returns node id with a reference the caller must drop.
func (t *nodeTable) get(id uint64) (*node, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.nodes[id]
	if !ok {
		return nil, unix.EBADF
	}
	n.incRef()
	return n, nil
}

// add inserts n, taking over the caller's reference. On failure (table full:
// ENFILE) the reference is dropped, which closes n.fd.
func (t *nodeTable) add(n *node) (uint64, error) {
	t.mu.Lock()
	if len(t.nodes) >= t.max {
		t.mu.Unlock()
		n.decRef()
		return 0, unix.ENFILE
	}
	id := t.next
	t.next++
	t.nodes[id] = n
	t.mu.Unlock()
	return id, nil
}

// remove drops the table's reference on id. It returns EBADF if id is unknown.
func (t *nodeTable) remove(id uint64) error {
	t.mu.Lock()
	n, ok := t.nodes[id]
	delete(t.nodes, id)
	t.mu.Unlock()
	if !ok {
		return unix.EBADF
	}
	n.decRef()
	return nil
}

// clear drops every node (connection teardown).
func (t *nodeTable) clear() {
	t.mu.Lock()
	nodes := t.nodes
	t.nodes = make(map[uint64]*node)
	t.mu.Unlock()
	for _, n := range nodes {
		n.decRef()
	}
}

func (t *nodeTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.nodes)
}
