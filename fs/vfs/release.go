package vfs

// Release hooks let objects that refer to a file description without
// holding a reference learn that it is gone. epoll is the user: an epoll
// interest entry names a description but does not keep it open, and is
// removed when the description's last reference is dropped, that is, when
// every descriptor for it (in any process) is closed and no mapping or
// other holder remains (eventpoll_release() from __fput()).

// ReleaseHook is notified once when the description it was added to is
// released. FileReleased runs on the goroutine that dropped the last
// reference, before the file's FileImpl.Release, with no VFS lock held; it
// may take its own locks but must not take a reference on fd.
type ReleaseHook interface {
	FileReleased(fd *FileDescription)
}

// AddReleaseHook registers h to run when fd is released. The caller must
// hold a reference on fd (so it cannot be released meanwhile). Adding the
// same hook twice registers it once.
func (fd *FileDescription) AddReleaseHook(h ReleaseHook) {
	fd.releaseMu.Lock()
	defer fd.releaseMu.Unlock()
	if fd.released {
		// The caller's reference makes this impossible.
		panic("vfs: AddReleaseHook on a released file")
	}
	if fd.releaseHooks == nil {
		fd.releaseHooks = make(map[ReleaseHook]struct{})
	}
	fd.releaseHooks[h] = struct{}{}
}

// RemoveReleaseHook unregisters h. It is a no-op if h is not registered
// or the hooks have already been taken to run (FileReleased may then still
// be called once, so hooks must tolerate a call after removal).
func (fd *FileDescription) RemoveReleaseHook(h ReleaseHook) {
	fd.releaseMu.Lock()
	delete(fd.releaseHooks, h)
	fd.releaseMu.Unlock()
}

// runReleaseHooks runs every hook once; called by the last DecRef.
func (fd *FileDescription) runReleaseHooks() {
	fd.releaseMu.Lock()
	hooks := fd.releaseHooks
	fd.releaseHooks = nil
	fd.released = true
	fd.releaseMu.Unlock()
	for h := range hooks {
		h.FileReleased(fd)
	}
}
