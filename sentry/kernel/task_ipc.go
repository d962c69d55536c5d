package kernel

import (
	"sync"
	"sync/atomic"

	"pangolin/sentry/ipc"
)

// ipcState holds the sandbox's System V IPC namespace, made on first use
// (one per sandbox, like the container's IPC namespace).
type ipcState struct {
	once sync.Once
	ns   atomic.Pointer[ipc.Namespace]
}

// IPCNamespace returns the sandbox's System V IPC namespace.
func (k *Kernel) IPCNamespace() *ipc.Namespace {
	k.ipc.once.Do(func() { k.ipc.ns.Store(ipc.NewNamespace(k.MemFile)) })
	return k.ipc.ns.Load()
}

// exitIPC runs when the last thread of t's process exits, after its
// address space is gone (so its segments are detached, as exit_mm()
// precedes exit_sem()): the process's SEM_UNDO adjustments are applied.
// The adjustments are per process, shared by its threads (as with
// CLONE_SYSVSEM, which glibc's threads use).
func (t *Task) exitIPC() {
	if ns := t.k.ipc.ns.Load(); ns != nil {
		ns.ExitProcess(t.tg.pid)
	}
}
