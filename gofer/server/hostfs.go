package server

import (
	"strconv"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// This file holds the host syscalls. Every path argument is either a single
// validated component relative to a node FD, "" with AT_EMPTY_PATH, or the
// decimal number of one of our own FDs relative to s.procFD.

// resolveFlags is the openat2(2) guard: even if a name slipped past
// validation, the kernel would refuse to leave the directory, cross a
// symlink or follow a /proc magic link.
const resolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// retryEINTR retries f while it fails with EINTR: Go's runtime signals
// (SIGURG preemption) can interrupt slow opens.
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

// openat opens the single component name in dirfd, never following a
// symlink. O_NOFOLLOW and O_CLOEXEC are always added.
func (s *Server) openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	flags |= unix.O_NOFOLLOW | unix.O_CLOEXEC
	var fd int
	if s.useOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Mode: uint64(mode), Resolve: resolveFlags}
		err := retryEINTR(func() (err error) { fd, err = unix.Openat2(dirfd, name, &how); return })
		if err != unix.ENOSYS {
			return fd, err
		}
		// Kernel older than 5.6: O_NOFOLLOW plus single-component names
		// are the whole guard from now on.
		s.useOpenat2.Store(false)
	}
	err := retryEINTR(func() (err error) { fd, err = unix.Openat(dirfd, name, flags, mode); return })
	return fd, err
}

func fstat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(fd, "", &st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// newNode opens name in dir as O_PATH and returns it with one reference.
// parent (with a new reference) and name are recorded only when the no-/proc
// reopen fallback needs them.
func (s *Server) newNode(dir *node, name string) (*node, unix.Stat_t, error) {
	fd, err := s.openat(dir.fd, name, unix.O_PATH, 0)
	if err != nil {
		return nil, unix.Stat_t{}, err
	}
	return s.nodeFromFD(fd, dir, name)
}

// nodeFromFD wraps O_PATH fd (consumed, even on error) in a node.
func (s *Server) nodeFromFD(fd int, dir *node, name string) (*node, unix.Stat_t, error) {
	st, err := fstat(fd)
	if err != nil {
		unix.Close(fd)
		return nil, st, err
	}
	n := &node{fd: fd, ftype: st.Mode & unix.S_IFMT, dev: st.Dev, ino: st.Ino}
	n.refs.Store(1)
	if s.procFD < 0 && dir != nil {
		dir.incRef()
		n.parent, n.name = dir, name
	}
	return n, st, nil
}

// createdNode returns a node for the file just created as name in dir,
// checking that it is still the file we made (type ftype, and inode ino if
// non-zero): a concurrent rename by the client could have replaced it.
func (s *Server) createdNode(dir *node, name string, ftype uint32, ino uint64) (*node, unix.Stat_t, error) {
	n, st, err := s.newNode(dir, name)
	if err != nil {
		return nil, st, err
	}
	if n.ftype != ftype || (ino != 0 && n.ino != ino) {
		n.decRef()
		return nil, st, unix.ESTALE
	}
	return n, st, nil
}

// reopen returns a real (non-O_PATH) FD for n with open(2) flags. n must be
// a regular file or a directory: the caller checks, and the type of an inode
// never changes.
//
// Directories reopen as openat(fd, ".") which names exactly the inode of the
// O_PATH FD with no /proc involved. Regular files reopen through the
// /proc/self/fd magic link of the O_PATH FD, which also names exactly that
// inode whatever renames happened since the walk; it cannot be raced into
// opening a FIFO or device node. Without /proc (Options.DisableProcReopen, or
// /proc not mounted in the gofer's root) we fall back to
// openat(parent, name, O_NOFOLLOW|O_NONBLOCK) and verify the inode afterwards:
// a rename since the walk then yields ESTALE (or ENOENT), and a racing
// rename could make the open itself touch another file of the tree before
// the check refuses it. That is why /proc is the default.
func (s *Server) reopen(n *node, flags int) (int, error) {
	flags |= unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_LARGEFILE
	var fd int
	var err error
	switch {
	case n.ftype == unix.S_IFDIR:
		err = retryEINTR(func() (err error) { fd, err = unix.Openat(n.fd, ".", flags|unix.O_DIRECTORY, 0); return })
		return fd, err
	case n.ftype != unix.S_IFREG:
		return -1, unix.EINVAL
	case s.procFD >= 0:
		// No O_NOFOLLOW: the final component is the magic link itself.
		err = retryEINTR(func() (err error) {
			fd, err = unix.Openat(s.procFD, strconv.Itoa(n.fd), flags, 0)
			return
		})
		if err != nil {
			return -1, err
		}
		if err := checkSame(fd, n); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	case n.parent == nil:
		return -1, unix.ESTALE
	}
	trunc := flags&unix.O_TRUNC != 0
	fd, err = s.openat(n.parent.fd, n.name, flags&^unix.O_TRUNC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, err
	}
	if err := checkSame(fd, n); err != nil {
		unix.Close(fd)
		return -1, err
	}
	// O_NONBLOCK only guarded the open against a FIFO swapped in; clear it so
	// the donated FD behaves as the client asked. O_TRUNC is applied only
	// now that we know which file we opened.
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	if err == nil && trunc {
		err = unix.Ftruncate(fd, 0)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkSame returns ESTALE unless fd refers to the inode of n.
func checkSame(fd int, n *node) error {
	st, err := fstat(fd)
	if err != nil {
		return err
	}
	if st.Dev != n.dev || st.Ino != n.ino {
		return unix.ESTALE
	}
	return nil
}

// chmod sets the permission bits of n. Linux cannot chmod a symlink
// (fchmodat2(AT_SYMLINK_NOFOLLOW) returns EOPNOTSUPP), and fchmod(2) on an
// O_PATH FD fails with EBADF, so: fchmodat2(fd, "", AT_EMPTY_PATH) (Linux
// 6.6+), else fchmod of a "." reopen for directories, else chmod through the
// /proc/self/fd magic link.
func (s *Server) chmod(n *node, mode uint32) error {
	if n.ftype == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	err := unix.Fchmodat(n.fd, "", mode, unix.AT_EMPTY_PATH)
	if err != unix.EOPNOTSUPP && err != unix.ENOSYS && err != unix.EINVAL {
		return err
	}
	if n.ftype == unix.S_IFDIR {
		fd, err := s.reopen(n, unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fchmod(fd, mode)
	}
	if s.procFD < 0 {
		return unix.EOPNOTSUPP
	}
	return unix.Fchmodat(s.procFD, strconv.Itoa(n.fd), mode, 0)
}

// chown changes owner and group of n itself (never a symlink's target);
// -1 leaves a field unchanged, as fchownat(2).
func chown(n *node, uid, gid int) error {
	return unix.Fchownat(n.fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
}

// utimens sets the times of n itself. utimensat(2) accepts AT_EMPTY_PATH
// since Linux 5.8; before that fall back to the /proc magic link, which we
// refuse for symlinks (it could operate on the link's target).
func (s *Server) utimens(n *node, ts []unix.Timespec) error {
	err := unix.UtimesNanoAt(n.fd, "", ts, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	if err != unix.EINVAL && err != unix.ENOENT {
		return err
	}
	if s.procFD < 0 || n.ftype == unix.S_IFLNK {
		return unix.EOPNOTSUPP
	}
	return unix.UtimesNanoAt(s.procFD, strconv.Itoa(n.fd), ts, 0)
}

// link makes name in dir a hard link to target. linkat(AT_EMPTY_PATH) needs
// CAP_DAC_READ_SEARCH (ENOENT without it); the /proc magic link with
// AT_SYMLINK_FOLLOW does not.
func (s *Server) link(target, dir *node, name string) error {
	err := unix.Linkat(target.fd, "", dir.fd, name, unix.AT_EMPTY_PATH)
	if err != unix.ENOENT || s.procFD < 0 {
		return err
	}
	return unix.Linkat(s.procFD, strconv.Itoa(target.fd), dir.fd, name, unix.AT_SYMLINK_FOLLOW)
}

// openProcFD opens /proc/self/fd for magic-link reopens, or returns -1 if it
// is unusable. The filesystem type is checked so a fake /proc planted in the
// gofer's root cannot redirect reopens.
func openProcFD() int {
	fd, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return checkProcFD(fd)
}

// dupProcFD duplicates fd, a /proc/self/fd descriptor given by the caller,
// or returns -1 if it is not one.
func dupProcFD(fd int) int {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return checkProcFD(nfd)
}

// checkProcFD returns fd if it is on procfs, else closes it and returns -1.
func checkProcFD(fd int) int {
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1
	}
	return fd
}

// statToWire converts a host stat.
func statToWire(st *unix.Stat_t) proto.Stat { return proto.StatFromUnix(st) }
