package kernel

// Accessors for procfs (fs/proc): consistent reads of state owned by
// other goroutines.

// SignalState returns the task's thread-directed pending signals, its
// thread group's shared pending signals and its blocked mask, read
// together under the thread group lock (task_sig() in fs/proc/array.c).
func (t *Task) SignalState() (pending, shared, blocked uint64) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return t.pending.mask, tg.pending.mask, t.sigMask
}

// LastTID returns the most recently allocated TID, 0 if none (the "last
// pid" of /proc/loadavg, idr_get_cursor() - 1).
func (k *Kernel) LastTID() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nextTID - 1
}
