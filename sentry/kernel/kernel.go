// Package kernel is the sentry's process model: the kernel object, thread
// groups, tasks and their run loop.
//
// Lock order: Kernel.mu before ThreadGroup.mu.
package kernel

import (
	"sync"

	"pangolin/fs/vfs"
	"pangolin/platform"
	"pangolin/sentry/limits"
	"pangolin/sentry/memfile"
)

// Kernel is one sandbox's application kernel.
type Kernel struct {
	// Immutable after New.
	Platform platform.Platform
	MemFile  *memfile.File
	VFS      *vfs.VirtualFilesystem
	Syscalls *SyscallTable
	Debug    bool
	Strace   bool

	mu sync.Mutex
	// tasks maps TIDs to live tasks. Protected by mu.
	tasks map[int32]*Task
	// nextTID is the next TID to hand out. Protected by mu.
	nextTID int32
}

// ThreadGroup is a process (struct signal_struct plus the thread list).
type ThreadGroup struct {
	mu sync.Mutex

	// pid is the thread group ID. Immutable.
	pid int32

	// limits is shared by all threads. Immutable pointer.
	limits *limits.LimitSet
}

// PID returns the thread group ID.
func (tg *ThreadGroup) PID() int32 { return tg.pid }
