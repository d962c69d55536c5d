package vfs

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// Sockets bound to filesystem paths (unix(7)).
//
// bind(2) on an AF_UNIX socket creates a socket node (S_IFSOCK) and
// connect(2) finds the socket again through that node. In Linux the
// socket hangs off the inode (unix_find_socket_byinode()); here the VFS
// keeps the association itself, keyed by the node's identity (its
// filesystem and inode number), so it works the same on every filesystem:
// tmpfs, overlay, and the gofer-backed root, whose host file is only a
// placeholder that nothing on the host listens on (the gofer never
// connects to host sockets). The sockets layer supplies the BoundSocket
// and interprets it; the VFS only stores it.
//
// The association ends when the socket is released (UnbindSocket) or when
// the node's last link is removed (unlink, rename over it), so that a
// recycled inode number never leads to a stale socket.

// BoundSocket is the socket a socket node leads to. The VFS treats it as
// an opaque value.
type BoundSocket interface{}

// socketKey identifies a socket node: its filesystem and inode number.
type socketKey struct {
	fs  *Filesystem
	ino uint64
}

// socketKeyOf returns d's identity.
func socketKeyOf(d *Dentry) (socketKey, error) {
	st, err := d.inode.Stat()
	if err != nil {
		return socketKey{}, err
	}
	return socketKey{d.fs, st.Ino}, nil
}

// BindSocketAt implements the filesystem part of binding a socket to path
// (unix_bind_bsd()): it creates a socket node with permission bits perm
// (minus the umask) as mknod(2) would, then calls commit with the node's
// position while the parent directory is still locked. If commit fails
// the node is removed again and commit's error returned; otherwise s is
// what later lookups of the node find. An existing name fails with
// EEXIST, which bind(2) reports as EADDRINUSE.
func (v *VirtualFilesystem) BindSocketAt(ctx Context, fsc *FSContext, path string, perm uint32, s BoundSocket, commit func(vd VirtualDentry) error) error {
	creds := ctx.Credentials()
	mode := unix.S_IFSOCK | perm&^fsc.Umask()&0o7777
	parent, last, trailing, err := v.resolveParent(ctx, fsc, nil, path)
	if err != nil {
		return err
	}
	if !isNormal(last) {
		return unix.EEXIST
	}
	d := parent.Dentry
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.lookupLocked(last); err == nil {
		return unix.EEXIST
	} else if err != unix.ENOENT {
		return err
	}
	if trailing {
		return unix.ENOENT
	}
	if err := v.mayCreate(creds, parent); err != nil {
		return err
	}
	mk, ok := d.inode.(Mknoder)
	if !ok {
		return unix.EPERM
	}
	opts, err := createOptions(creds, d.inode, mode)
	if err != nil {
		return err
	}
	inode, err := mk.Mknod(last, opts)
	if err != nil {
		return err
	}
	child, err := d.newChildLocked(last, inode)
	if err == nil {
		var key socketKey
		if key, err = socketKeyOf(child); err == nil {
			if err = commit(VirtualDentry{parent.Mount, child}); err == nil {
				v.socketsMu.Lock()
				v.sockets[key] = s
				v.socketsMu.Unlock()
				return nil
			}
		}
	}
	// Undo the creation, as unix_bind_bsd() unlinks what it made.
	if ul, ok := d.inode.(Unlinker); ok {
		if uerr := ul.Unlink(last, inode); uerr == nil && child != nil {
			d.removeChildLocked(last, child)
		}
	}
	return err
}

// UnbindSocket ends the association BindSocketAt made between vd's node
// and s, if it still holds (a bound socket is being released).
func (v *VirtualFilesystem) UnbindSocket(vd VirtualDentry, s BoundSocket) {
	key, err := socketKeyOf(vd.Dentry)
	if err != nil {
		return
	}
	v.socketsMu.Lock()
	defer v.socketsMu.Unlock()
	if v.sockets[key] == s {
		delete(v.sockets, key)
	}
}

// BoundSocketAt resolves path, following symlinks, for connect(2) and
// sendto(2) and returns the socket bound to the node it names
// (unix_find_bsd()): the caller needs write permission on the node
// (EACCES; a read-only mount does not matter for sockets); a node that is
// not a socket, or that no socket is bound to, gives ECONNREFUSED.
func (v *VirtualFilesystem) BoundSocketAt(ctx Context, fsc *FSContext, path string) (BoundSocket, error) {
	vd, err := v.resolve(ctx, fsc, nil, path, true)
	if err != nil {
		return nil, err
	}
	if err := checkAccess(ctx.Credentials(), vd.Dentry.inode, auth.MayWrite); err != nil {
		return nil, err
	}
	if vd.Dentry.typ != unix.S_IFSOCK {
		return nil, unix.ECONNREFUSED
	}
	key, err := socketKeyOf(vd.Dentry)
	if err != nil {
		return nil, err
	}
	v.socketsMu.Lock()
	s, ok := v.sockets[key]
	v.socketsMu.Unlock()
	if !ok {
		return nil, unix.ECONNREFUSED
	}
	return s, nil
}

// socketNodeKey returns the identity of child if it is a socket node that
// may be associated with a socket, for socketNodeRemoved.
func socketNodeKey(child *Dentry) (socketKey, bool) {
	if child.typ != unix.S_IFSOCK {
		return socketKey{}, false
	}
	key, err := socketKeyOf(child)
	return key, err == nil
}

// socketNodeRemoved is called after a name of a socket node was removed
// (unlink, rename over it): once the node has no links left nothing can
// reach its socket through the filesystem any more (the socket stays
// bound, as in Linux), and the association is dropped so that a new file
// given the same inode number cannot lead to it.
func (v *VirtualFilesystem) socketNodeRemoved(child *Dentry, key socketKey) {
	if st, err := child.inode.Stat(); err == nil && st.Nlink > 0 {
		return
	}
	v.socketsMu.Lock()
	delete(v.sockets, key)
	v.socketsMu.Unlock()
}
