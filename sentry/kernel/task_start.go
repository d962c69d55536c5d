package kernel

// StartProcess creates a process that is not a descendant of init, loads
// its image and starts it: the runtime's exec (`pangolin exec`, `docker
// exec`), which joins a running sandbox the way a process entering the
// container's PID namespace with setns(2) does. It has no parent (getppid
// returns 0), leads a new session and process group, and is reaped by the
// kernel when it exits; its children are reparented to init. Load errors
// are returned before anything runs.
func (k *Kernel) StartProcess(a InitArgs) (*ThreadGroup, error) {
	return k.startProcess(a, false)
}

// Exited returns a channel that is closed when the process's last thread
// has exited; ExitStatus is final then.
func (tg *ThreadGroup) Exited() <-chan struct{} { return tg.exited }

// Parent returns the parent's PID, or 0 for init and processes started by
// StartProcess.
func (k *Kernel) Parent(tg *ThreadGroup) int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.pid
}

// SetTaskLimit bounds the sandbox's live tasks to n (the OCI
// linux.resources.pids.limit, which a host pids cgroup cannot enforce
// because the sentry's own threads would count): clone and fork fail with
// EAGAIN at the limit, as the pids controller makes them. Call before the
// first task starts.
func (k *Kernel) SetTaskLimit(n int) { k.taskLimit = n }
