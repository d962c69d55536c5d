package vfs

import (
	"sync"
	"sync/atomic"
)

// FSContext is a task's root, working directory and umask (struct
// fs_struct), shared between tasks created with CLONE_FS.
type FSContext struct {
	// refs counts the tasks sharing the context.
	refs atomic.Int64

	mu sync.Mutex
	// root, cwd and umask are protected by mu.
	root  VirtualDentry
	cwd   VirtualDentry
	umask uint32
}

// NewFSContext returns a context with the given root and working
// directory, umask 022 (the kernel's default for init), and one reference.
func NewFSContext(root, cwd VirtualDentry) *FSContext {
	c := &FSContext{root: root, cwd: cwd, umask: 0o022}
	c.refs.Store(1)
	return c
}

// IncRef takes a reference for another task sharing the context.
func (c *FSContext) IncRef() { c.refs.Add(1) }

// DecRef drops a reference. The context holds no resources beyond memory.
func (c *FSContext) DecRef() { c.refs.Add(-1) }

// Fork returns a copy for a child created without CLONE_FS (copy_fs_struct()).
func (c *FSContext) Fork() *FSContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := &FSContext{root: c.root, cwd: c.cwd, umask: c.umask}
	n.refs.Store(1)
	return n
}

// Root returns the task's root directory (chroot).
func (c *FSContext) Root() VirtualDentry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.root
}

// Cwd returns the working directory.
func (c *FSContext) Cwd() VirtualDentry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cwd
}

// RootAndCwd returns both at once (consistent with each other).
func (c *FSContext) RootAndCwd() (root, cwd VirtualDentry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.root, c.cwd
}

// SetCwd changes the working directory (chdir has checked it).
func (c *FSContext) SetCwd(vd VirtualDentry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cwd = vd
}

// SetRoot changes the root directory (chroot has checked it).
func (c *FSContext) SetRoot(vd VirtualDentry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.root = vd
}

// Umask returns the file mode creation mask.
func (c *FSContext) Umask() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.umask
}

// SetUmask sets the mask to mask & 0777 and returns the old one (umask(2)).
func (c *FSContext) SetUmask(mask uint32) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.umask
	c.umask = mask & 0o777
	return old
}
