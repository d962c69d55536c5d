package client

import (
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// Walk walks names from dir one component at a time and returns a node for
// each component walked. It stops early without error at a symlink (the
// last node returned; the caller reads it with Readlink and resolves it),
// and with an error wrapping the errno (ENOENT, ENOTDIR, EACCES, ...) at a
// component that cannot be walked. Names must be single components: "",
// ".", ".." and names containing '/' fail with EINVAL. The caller owns every
// node returned, even with an error, and releases them with CloseNodes.
func (c *Client) Walk(dir Node, names []string) ([]Node, error) {
	out := make([]Node, 0, len(names))
	cur := dir
	for len(names) > 0 {
		batch := names[:min(len(names), proto.MaxWalkNames)]
		names = names[len(batch):]
		var resp proto.WalkResp
		if _, err := c.rpc(proto.MsgWalk, &proto.WalkReq{Dir: cur.ID, Names: batch}, &resp); err != nil {
			return out, fmt.Errorf("gofer walk %q: %w", batch, err)
		}
		if len(resp.Nodes) > len(batch) || (resp.Errno != 0 && len(resp.Nodes) == len(batch)) {
			return out, fmt.Errorf("gofer walk %q: %w", batch, malformed("walk reply"))
		}
		for _, ni := range resp.Nodes {
			out = append(out, nodeOf(ni))
		}
		if resp.Errno != 0 {
			return out, fmt.Errorf("gofer walk %q: %w", batch[len(resp.Nodes)], proto.ErrorOf(resp.Errno))
		}
		if len(resp.Nodes) < len(batch) {
			if len(resp.Nodes) == 0 || !out[len(out)-1].IsSymlink() {
				return out, fmt.Errorf("gofer walk %q: %w", batch, malformed("short walk"))
			}
			return out, nil // stopped at a symlink
		}
		cur = out[len(out)-1]
	}
	return out, nil
}

// Stat returns the current attributes of n.
func (c *Client) Stat(n Node) (proto.Stat, error) {
	var resp proto.StatResp
	if _, err := c.rpc(proto.MsgStat, &proto.NodeReq{Node: n.ID}, &resp); err != nil {
		return proto.Stat{}, fmt.Errorf("gofer stat: %w", err)
	}
	return resp.Stat, nil
}

// SetStat changes the attributes selected by a.Mask (proto.SetStat*) in the
// order size, owner, mode, times, and returns the new attributes. Linux
// cannot chmod a symlink: EOPNOTSUPP.
func (c *Client) SetStat(n Node, a proto.SetAttr) (proto.Stat, error) {
	var resp proto.StatResp
	if _, err := c.rpc(proto.MsgSetStat, &proto.SetStatReq{Node: n.ID, Attr: a}, &resp); err != nil {
		return proto.Stat{}, fmt.Errorf("gofer setstat: %w", err)
	}
	return resp.Stat, nil
}

// Open opens n (a regular file or directory) and returns a host FD the
// caller owns (close-on-exec). Only the bits in proto.OpenFlags are sent
// (access mode, O_TRUNC, O_APPEND, O_DIRECTORY); other bits are the
// sentry's business and are dropped. Symlinks fail with ELOOP, sockets with
// ENXIO, FIFOs and devices with EPERM.
func (c *Client) Open(n Node, flags int) (int, error) {
	fds, err := c.rpc(proto.MsgOpen, &proto.OpenReq{Node: n.ID, Flags: uint32(flags & proto.OpenFlags)}, &proto.Empty{})
	if err != nil {
		return -1, fmt.Errorf("gofer open: %w", err)
	}
	return fds[0], nil
}

// Create creates regular file name in dir with O_CREAT|O_EXCL semantics
// (EEXIST if it exists), owned by uid:gid with exactly the permission bits
// of mode (the caller applies the umask), opened with flags (access mode,
// O_TRUNC, O_APPEND). It returns the new node and a host FD the caller owns.
func (c *Client) Create(dir Node, name string, flags int, mode, uid, gid uint32) (Node, int, error) {
	var resp proto.NodeResp
	req := &proto.CreateReq{Dir: dir.ID, Name: name, Flags: uint32(flags & proto.CreateFlags), Mode: mode, UID: uid, GID: gid}
	fds, err := c.rpc(proto.MsgCreate, req, &resp)
	if err != nil {
		return Node{}, -1, fmt.Errorf("gofer create %q: %w", name, err)
	}
	return nodeOf(resp.Node), fds[0], nil
}

// Mkdir creates directory name in dir owned by uid:gid with the permission
// and sticky bits of mode.
func (c *Client) Mkdir(dir Node, name string, mode, uid, gid uint32) (Node, error) {
	var resp proto.NodeResp
	if _, err := c.rpc(proto.MsgMkdir, &proto.MkdirReq{Dir: dir.ID, Name: name, Mode: mode, UID: uid, GID: gid}, &resp); err != nil {
		return Node{}, fmt.Errorf("gofer mkdir %q: %w", name, err)
	}
	return nodeOf(resp.Node), nil
}

// Mknod creates a regular file, FIFO or socket node (file type in mode);
// device nodes fail with EPERM.
func (c *Client) Mknod(dir Node, name string, mode, uid, gid uint32) (Node, error) {
	var resp proto.NodeResp
	if _, err := c.rpc(proto.MsgMknod, &proto.MkdirReq{Dir: dir.ID, Name: name, Mode: mode, UID: uid, GID: gid}, &resp); err != nil {
		return Node{}, fmt.Errorf("gofer mknod %q: %w", name, err)
	}
	return nodeOf(resp.Node), nil
}

// Symlink creates symlink name in dir pointing at target, owned by uid:gid.
func (c *Client) Symlink(dir Node, name, target string, uid, gid uint32) (Node, error) {
	var resp proto.NodeResp
	if _, err := c.rpc(proto.MsgSymlink, &proto.SymlinkReq{Dir: dir.ID, Name: name, Target: target, UID: uid, GID: gid}, &resp); err != nil {
		return Node{}, fmt.Errorf("gofer symlink %q: %w", name, err)
	}
	return nodeOf(resp.Node), nil
}

// Link creates name in dir as a hard link to target and returns a node for
// it. Directories cannot be linked (EPERM).
func (c *Client) Link(dir Node, name string, target Node) (Node, error) {
	var resp proto.NodeResp
	if _, err := c.rpc(proto.MsgLink, &proto.LinkReq{Dir: dir.ID, Name: name, Target: target.ID}, &resp); err != nil {
		return Node{}, fmt.Errorf("gofer link %q: %w", name, err)
	}
	return nodeOf(resp.Node), nil
}

// Unlink removes name from dir; flags is 0 or unix.AT_REMOVEDIR (rmdir).
func (c *Client) Unlink(dir Node, name string, flags int) error {
	if _, err := c.rpc(proto.MsgUnlink, &proto.UnlinkReq{Dir: dir.ID, Name: name, Flags: uint32(flags)}, &proto.Empty{}); err != nil {
		return fmt.Errorf("gofer unlink %q: %w", name, err)
	}
	return nil
}

// Rename renames as renameat2(2); flags may hold unix.RENAME_NOREPLACE or
// unix.RENAME_EXCHANGE. Nodes for the renamed files stay valid.
func (c *Client) Rename(oldDir Node, oldName string, newDir Node, newName string, flags uint32) error {
	req := &proto.RenameReq{OldDir: oldDir.ID, OldName: oldName, NewDir: newDir.ID, NewName: newName, Flags: flags}
	if _, err := c.rpc(proto.MsgRename, req, &proto.Empty{}); err != nil {
		return fmt.Errorf("gofer rename %q to %q: %w", oldName, newName, err)
	}
	return nil
}

// Readlink returns the target of symlink n (EINVAL for other files).
func (c *Client) Readlink(n Node) (string, error) {
	var resp proto.ReadlinkResp
	if _, err := c.rpc(proto.MsgReadlink, &proto.NodeReq{Node: n.ID}, &resp); err != nil {
		return "", fmt.Errorf("gofer readlink: %w", err)
	}
	return resp.Target, nil
}

// MaxDirents bounds the listing Getdents assembles, so a hostile server
// cannot make it grow without end; larger directories must be read with
// GetdentsPage.
const MaxDirents = 1 << 20

// Getdents returns the whole listing of directory n, without "." and "..",
// in the host's order. Directories of more than MaxDirents entries fail with
// EOVERFLOW.
func (c *Client) Getdents(n Node) ([]proto.Dirent, error) {
	var out []proto.Dirent
	cookie := uint64(0)
	// A server that hands out a cookie twice would make us loop forever.
	seen := map[uint64]bool{0: true}
	for {
		ents, next, eof, err := c.GetdentsPage(n, cookie)
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
		if eof {
			return out, nil
		}
		if len(out) > MaxDirents {
			return nil, fmt.Errorf("gofer getdents: more than %d entries: %w", MaxDirents, unix.EOVERFLOW)
		}
		if seen[next] {
			return nil, fmt.Errorf("gofer getdents: %w", malformed("cookie repeats"))
		}
		seen[next] = true
		cookie = next
	}
}

// GetdentsPage returns one page of directory n starting at cookie (0 for
// the start, then the next value of the previous page); eof reports that no
// entries follow. Cookies are the host's d_off values: opaque, and stable
// for as long as the host filesystem keeps telldir(3) positions.
func (c *Client) GetdentsPage(n Node, cookie uint64) (ents []proto.Dirent, next uint64, eof bool, err error) {
	var resp proto.GetdentsResp
	if _, err := c.rpc(proto.MsgGetdents, &proto.GetdentsReq{Node: n.ID, Cookie: cookie}, &resp); err != nil {
		return nil, 0, false, fmt.Errorf("gofer getdents: %w", err)
	}
	if !resp.EOF && len(resp.Dirents) == 0 {
		// A page that is neither last nor makes progress.
		return nil, 0, false, fmt.Errorf("gofer getdents: %w", malformed("empty page"))
	}
	return resp.Dirents, resp.Next, resp.EOF, nil
}

// StatFS returns statfs(2) of the filesystem holding n.
func (c *Client) StatFS(n Node) (proto.StatFS, error) {
	var resp proto.StatFS
	if _, err := c.rpc(proto.MsgStatFS, &proto.NodeReq{Node: n.ID}, &resp); err != nil {
		return proto.StatFS{}, fmt.Errorf("gofer statfs: %w", err)
	}
	return resp, nil
}

// CloseNodes releases nodes on the server (their host FDs). Releasing an
// unknown or already released node fails with EBADF, after the others have
// been released.
func (c *Client) CloseNodes(nodes ...Node) error {
	var firstErr error
	for len(nodes) > 0 {
		batch := nodes[:min(len(nodes), proto.MaxCloseNodes)]
		nodes = nodes[len(batch):]
		ids := make([]uint64, len(batch))
		for i, n := range batch {
			ids[i] = n.ID
		}
		if _, err := c.rpc(proto.MsgClose, &proto.CloseReq{Nodes: ids}, &proto.Empty{}); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("gofer close: %w", err)
		}
	}
	return firstErr
}
