package stubproc

// rawClone is clone(2) of the whole sentry into a child that jumps straight
// to entry, with ppid (the sentry's pid, for the stub's parent check) in
// R12; see clone_amd64.s for why it is safe. It returns the child's pid, or
// the errno.
//
//go:noescape
func rawClone(flags, entry, ppid uintptr) (pid uintptr, errno uintptr)
