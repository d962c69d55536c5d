package kernel

// UnshareFDTable gives t a private copy of its descriptor table if it is
// shared with other tasks (CLONE_FILES), as unshare(CLONE_FILES) and
// close_range(CLOSE_RANGE_UNSHARE) do.
//
// Preconditions: called on t's goroutine.
func (t *Task) UnshareFDTable() {
	if t.fdTable == nil || !t.fdTable.Shared() {
		return
	}
	old := t.fdTable
	t.fdTable = old.Fork()
	old.DecRef()
}
