package overlay

import (
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// copyChunk is how much file data one copy-up step moves: large enough to
// amortize a gofer round trip, small enough not to pin much memory.
const copyChunk = 256 << 10

// copyUp gives the node an upper object, copying it and its parent
// directories up if needed (ovl_copy_up_flags()), and returns it. For a
// regular file, limit >= 0 copies only the first limit bytes (the rest is
// about to be truncated away); -1 copies everything.
//
// Preconditions: no node.mu is held (copy-up takes its parent's).
func (n *node) copyUp(limit int64) (*layer, error) {
	if up := n.upperLayer(); up != nil {
		return up, nil
	}
	n.copyMu.Lock()
	defer n.copyMu.Unlock()
	return n.copyUpLocked(limit)
}

// copyUpLocked is copyUp with n.copyMu held.
//
// Preconditions: n.copyMu is held; no node.mu is held.
func (n *node) copyUpLocked(limit int64) (*layer, error) {
	if up := n.upperLayer(); up != nil {
		return up, nil
	}
	p := n.parent
	if p == nil || n.lower == nil {
		// The root and upper-only nodes always have an upper object.
		return nil, unix.EIO
	}
	pup, err := p.copyUp(-1)
	if err != nil {
		return nil, err
	}
	fs := n.fs
	ctx := fs.ctx
	st, err := n.lower.Stat()
	if err != nil {
		return nil, err
	}
	opts := vfs.CreateOptions{Mode: st.Mode, UID: st.UID, GID: st.GID, Rdev: st.Rdev}
	var target string
	if st.Type() == unix.S_IFLNK {
		rl, ok := n.lower.(vfs.Readlinker)
		if !ok {
			return nil, unix.EIO
		}
		if target, err = rl.Readlink(); err != nil {
			return nil, err
		}
	}

	// Create the object under the parent's lock, so that the name cannot
	// be removed or replaced meanwhile and readdir sees the origin as
	// soon as it sees the upper entry. Linux builds the copy in a work
	// directory and renames it into place; here an unfinished copy is
	// invisible anyway, because the node, which every user of the name
	// goes through, only points at it once it is complete.
	p.mu.Lock()
	if p.removed || p.children[n.name] != n {
		p.mu.Unlock()
		return nil, unix.ENOENT
	}
	// Copy-up is not a change of the directory the user can see: its
	// times are put back afterwards (ovl_set_timestamps(udir, pstat)).
	pst, err := pup.inode.Stat()
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	var in vfs.Inode
	switch st.Type() {
	case unix.S_IFDIR:
		mk, ok := pup.inode.(vfs.Mkdirer)
		if !ok {
			err = unix.EPERM
			break
		}
		in, err = mk.Mkdir(n.name, opts)
	case unix.S_IFLNK:
		mk, ok := pup.inode.(vfs.Symlinker)
		if !ok {
			err = unix.EPERM
			break
		}
		in, err = mk.Symlink(n.name, target, opts)
	default:
		// Regular files (filled below), FIFOs, sockets and device
		// nodes.
		mk, ok := pup.inode.(vfs.Mknoder)
		if !ok {
			err = unix.EPERM
			break
		}
		in, err = mk.Mknod(n.name, opts)
	}
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	ust, err := in.Stat()
	if err != nil {
		removeUpper(pup.inode, n.name, in, st.IsDir())
		p.mu.Unlock()
		return nil, err
	}
	fs.setOrigin(ust.Ino, n.ino)
	_ = pup.inode.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: pst.Atime, Mtime: pst.Mtime})
	p.mu.Unlock()

	if st.Type() == unix.S_IFREG {
		size := st.Size
		if limit >= 0 && limit < size {
			size = limit
		}
		err = copyData(ctx, n.lower, in, size)
	}
	if err == nil {
		// Set mode after the data (a write by a caller without
		// CAP_FSETID clears set-id bits) and the times last
		// (ovl_set_attr(), ovl_set_timestamps()). Symlink modes are
		// fixed.
		ss := vfs.SetStat{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: st.Atime, Mtime: st.Mtime}
		if st.Type() != unix.S_IFLNK {
			ss.Mask |= unix.STATX_MODE
			ss.Mode = st.Mode & 0o7777
		}
		err = in.SetStat(ctx, ss)
	}
	if err != nil {
		// Take the partial copy away again.
		p.mu.Lock()
		removeUpper(pup.inode, n.name, in, st.IsDir())
		fs.forgetUpper(ust.Ino)
		p.mu.Unlock()
		return nil, err
	}
	up := &layer{inode: in, ino: ust.Ino}
	n.upper.Store(up)
	return up, nil
}

// removeUpper takes away an unfinished copy-up. Failing to is harmless to
// the merged view (the node never pointed at the copy; a later copy-up of
// the name fails with EEXIST), so errors are ignored.
func removeUpper(dir vfs.Inode, name string, in vfs.Inode, isDir bool) {
	ul, ok := dir.(vfs.Unlinker)
	if !ok {
		return
	}
	if isDir {
		_ = ul.Rmdir(name, in)
	} else {
		_ = ul.Unlink(name, in)
	}
}

// copyData copies the first size bytes of regular file src to dst (empty)
// in chunks through the files' own Read and Write (ovl_copy_up_data()).
// All-zero chunks are skipped and the size set at the end, so sparse files
// stay sparse, as overlayfs's SEEK_DATA-based copy keeps holes.
func copyData(ctx vfs.Context, src, dst vfs.Inode, size int64) error {
	if size == 0 {
		return nil
	}
	rimpl, ropts, err := src.Open(ctx, unix.O_RDONLY)
	if err != nil {
		return err
	}
	rfd := vfs.NewAnonFile(rimpl, unix.O_RDONLY, ropts)
	defer rfd.DecRef()
	wimpl, wopts, err := dst.Open(ctx, unix.O_WRONLY)
	if err != nil {
		return err
	}
	wfd := vfs.NewAnonFile(wimpl, unix.O_WRONLY, wopts)
	defer wfd.DecRef()
	sequential := ropts.Positionless || ropts.NoPRead

	buf := make([]byte, min(size, copyChunk))
	var off, written int64
	for off < size {
		want := min(int64(len(buf)), size-off)
		var n int
		if sequential {
			n, err = rfd.Read(ctx, buf[:want])
		} else {
			n, err = rfd.PReadCtx(ctx, buf[:want], off)
		}
		if n > 0 && !allZero(buf[:n]) {
			if werr := writeAll(ctx, wfd, buf[:n], off); werr != nil {
				return werr
			}
			written = off + int64(n)
		}
		off += int64(n)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			// The file shrank since we looked at its size.
			break
		}
	}
	if written < off {
		return dst.SetStat(ctx, vfs.SetStat{Mask: unix.STATX_SIZE, Size: off})
	}
	return nil
}

// writeAll writes all of b at off.
func writeAll(ctx vfs.Context, fd *vfs.FileDescription, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := fd.PWrite(ctx, b, off)
		b = b[n:]
		off += int64(n)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
