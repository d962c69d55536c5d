package server

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// Operation handlers. Each validates its untrusted arguments first (EINVAL),
// then refuses mutations on a read-only server (EROFS), then resolves node
// IDs (EBADF for unknown ones). Errors are errno values from the host or
// chosen here to match what Linux would return.

func (c *conn) mount(req *proto.MountReq) (*proto.MountResp, error) {
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	if c.mounted.Load() {
		return nil, unix.EINVAL
	}
	if req.Version < proto.MinVersion {
		return nil, unix.EPROTONOSUPPORT
	}
	// A duplicate rather than openat(root, "."): the root may be a
	// regular file (a bind-mounted file), served as a one-node tree.
	fd, err := unix.FcntlInt(uintptr(c.s.rootFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	n, st, err := c.s.nodeFromFD(fd, nil, "")
	if err != nil {
		return nil, err
	}
	id, err := c.nodes.add(n)
	if err != nil {
		return nil, err
	}
	c.mounted.Store(true)
	resp := &proto.MountResp{Version: min(req.Version, proto.Version), Root: proto.NodeInfo{ID: id, Stat: statToWire(&st)}}
	if c.s.opts.ReadOnly {
		resp.Flags |= proto.MountReadOnly
	}
	return resp, nil
}

func (c *conn) walk(req *proto.WalkReq) (*proto.WalkResp, error) {
	for _, name := range req.Names {
		if !proto.ValidName(name) {
			return nil, unix.EINVAL
		}
	}
	cur, err := c.nodes.get(req.Dir)
	if err != nil {
		return nil, err
	}
	resp := &proto.WalkResp{Nodes: make([]proto.NodeInfo, 0, len(req.Names))}
	for i, name := range req.Names {
		if cur.ftype != unix.S_IFDIR {
			// Stop at a symlink we walked: the client resolves it. A
			// starting node that is not a directory is an error.
			if i == 0 || cur.ftype != unix.S_IFLNK {
				resp.Errno = uint32(unix.ENOTDIR)
			}
			break
		}
		n, st, err := c.s.newNode(cur, name)
		if err != nil {
			resp.Errno = proto.ErrnoOf(err)
			break
		}
		n.incRef() // for cur, beyond the table's
		id, err := c.nodes.add(n)
		if err != nil {
			n.decRef()
			resp.Errno = proto.ErrnoOf(err)
			break
		}
		resp.Nodes = append(resp.Nodes, proto.NodeInfo{ID: id, Stat: statToWire(&st)})
		cur.decRef()
		cur = n
	}
	cur.decRef()
	return resp, nil
}

func (c *conn) stat(req *proto.NodeReq) (*proto.StatResp, error) {
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return nil, err
	}
	defer n.decRef()
	st, err := fstat(n.fd)
	if err != nil {
		return nil, err
	}
	return &proto.StatResp{Stat: statToWire(&st)}, nil
}

// setStat applies the fields in order size, owner, mode, times: chown(2)
// clears set-user-ID and set-group-ID bits on non-directories, so the mode
// must come after it, and truncation updates mtime, so explicit times come
// last. It stops at the first failure; earlier changes stay applied.
func (c *conn) setStat(req *proto.SetStatReq) (*proto.StatResp, error) {
	if c.s.opts.ReadOnly {
		return nil, unix.EROFS
	}
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return nil, err
	}
	defer n.decRef()
	a := &req.Attr
	if a.Mask&proto.SetStatSize != 0 {
		if err := c.truncate(n, int64(a.Size)); err != nil {
			return nil, err
		}
	}
	if a.Mask&(proto.SetStatUID|proto.SetStatGID) != 0 {
		uid, gid := -1, -1
		if a.Mask&proto.SetStatUID != 0 {
			uid = int(a.UID)
		}
		if a.Mask&proto.SetStatGID != 0 {
			gid = int(a.GID)
		}
		if err := chown(n, uid, gid); err != nil {
			return nil, err
		}
	}
	if a.Mask&proto.SetStatMode != 0 {
		if err := c.s.chmod(n, a.Mode); err != nil {
			return nil, err
		}
	}
	if a.Mask&(proto.SetStatAtime|proto.SetStatMtime) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if a.Mask&proto.SetStatAtime != 0 {
			ts[0] = unix.Timespec{Sec: a.Atime.Sec, Nsec: a.Atime.Nsec}
		}
		if a.Mask&proto.SetStatMtime != 0 {
			ts[1] = unix.Timespec{Sec: a.Mtime.Sec, Nsec: a.Mtime.Nsec}
		}
		if err := c.s.utimens(n, ts); err != nil {
			return nil, err
		}
	}
	st, err := fstat(n.fd)
	if err != nil {
		return nil, err
	}
	return &proto.StatResp{Stat: statToWire(&st)}, nil
}

// truncate needs a writable FD (ftruncate(2) on O_PATH fails with EBADF), so
// it reopens the file O_WRONLY the same way Open does. Errors match
// truncate(2): EISDIR for directories, EINVAL for other non-regular files.
func (c *conn) truncate(n *node, size int64) error {
	switch n.ftype {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return unix.EISDIR
	default:
		return unix.EINVAL
	}
	fd, err := c.s.reopen(n, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, size)
}

// open reopens a node for I/O. Only regular files and directories are
// opened: a symlink fails with ELOOP (as open(2) with O_NOFOLLOW), a socket
// with ENXIO (as open(2)), and FIFOs and device nodes with EPERM — the gofer
// never opens them, because opening a FIFO blocks and opening a device has
// side effects on the host; the sentry emulates FIFOs and provides devices
// itself.
func (c *conn) open(req *proto.OpenReq) (int, error) {
	flags := int(req.Flags)
	if flags&^proto.OpenFlags != 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return -1, unix.EINVAL
	}
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return -1, err
	}
	defer n.decRef()
	if err := openableType(n.ftype); err != nil {
		return -1, err
	}
	writes := flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	if n.ftype == unix.S_IFDIR && writes {
		return -1, unix.EISDIR
	}
	if c.s.opts.ReadOnly && writes {
		return -1, unix.EROFS
	}
	return c.s.reopen(n, flags)
}

func openableType(ftype uint32) error {
	switch ftype {
	case unix.S_IFREG, unix.S_IFDIR:
		return nil
	case unix.S_IFLNK:
		return unix.ELOOP
	case unix.S_IFSOCK:
		return unix.ENXIO
	default:
		return unix.EPERM
	}
}

// dirNode resolves a directory argument of a create/remove operation.
func (c *conn) dirNode(id uint64) (*node, error) {
	n, err := c.nodes.get(id)
	if err != nil {
		return nil, err
	}
	if n.ftype != unix.S_IFDIR {
		n.decRef()
		return nil, unix.ENOTDIR
	}
	return n, nil
}

// addNode inserts n (consuming its reference) and describes it.
func (c *conn) addNode(n *node) (*proto.NodeResp, error) {
	st, err := fstat(n.fd)
	if err != nil {
		n.decRef()
		return nil, err
	}
	id, err := c.nodes.add(n)
	if err != nil {
		return nil, err
	}
	return &proto.NodeResp{Node: proto.NodeInfo{ID: id, Stat: statToWire(&st)}}, nil
}

// addCreated is addNode for a file this request created: if the node table
// is full the file is removed again, so a failed request leaves no trace.
func (c *conn) addCreated(n *node, dir *node, name string, unlinkFlags int) (*proto.NodeResp, error) {
	resp, err := c.addNode(n)
	if err != nil {
		unix.Unlinkat(dir.fd, name, unlinkFlags)
	}
	return resp, err
}

// setOwnerMode gives a new file the owner the client asked for (the server
// runs as root, so the host would make root the owner) and exactly the
// permission bits asked for (bypassing the gofer's umask; the sentry applies
// the application's umask). chown goes first because it clears set-ID bits.
// setMode is false for symlinks, whose mode Linux cannot change.
func (c *conn) setOwnerMode(n *node, uid, gid, perm uint32, setMode bool) error {
	st, err := fstat(n.fd)
	if err != nil {
		return err
	}
	chowned := false
	if st.Uid != uid || st.Gid != gid {
		if err := chown(n, int(uid), int(gid)); err != nil {
			return err
		}
		chowned = true
	}
	if setMode && (chowned || st.Mode&0o7777 != perm) {
		return c.s.chmod(n, perm)
	}
	return nil
}

// abandon removes a file whose creation could not be completed (ownership
// or mode failed), so the client never sees a half-made file.
func abandon(dir *node, name string, flags int, n *node) {
	if n != nil {
		n.decRef()
	}
	unix.Unlinkat(dir.fd, name, flags)
}

func (c *conn) create(req *proto.CreateReq) (proto.Message, int, error) {
	flags := int(req.Flags)
	if !proto.ValidName(req.Name) || flags&^proto.CreateFlags != 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return nil, -1, unix.EINVAL
	}
	if t := req.Mode & unix.S_IFMT; (t != 0 && t != unix.S_IFREG) || req.Mode&^(unix.S_IFMT|0o7777) != 0 {
		return nil, -1, unix.EINVAL
	}
	perm := req.Mode & 0o7777
	if c.s.opts.ReadOnly {
		return nil, -1, unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return nil, -1, err
	}
	defer dir.decRef()
	fd, err := c.s.openat(dir.fd, req.Name, flags|unix.O_CREAT|unix.O_EXCL|unix.O_NOCTTY|unix.O_LARGEFILE, perm)
	if err != nil {
		return nil, -1, err
	}
	n, err := c.s.pathNodeOf(fd, dir, req.Name)
	if err == nil {
		err = c.setOwnerMode(n, req.UID, req.GID, perm, true)
	}
	if err != nil {
		unix.Close(fd)
		abandon(dir, req.Name, 0, n)
		return nil, -1, err
	}
	resp, err := c.addNode(n)
	if err != nil {
		unix.Close(fd)
		unix.Unlinkat(dir.fd, req.Name, 0)
		return nil, -1, err
	}
	return resp, fd, nil
}

// pathNodeOf returns an O_PATH node for the file open as fd, created as name
// in dir. With /proc the magic link names exactly fd's inode (no
// O_NOFOLLOW: that would open the magic link itself); without it we look the
// name up again and check the inode.
func (s *Server) pathNodeOf(fd int, dir *node, name string) (*node, error) {
	st, err := fstat(fd)
	if err != nil {
		return nil, err
	}
	if s.procFD < 0 {
		n, _, err := s.createdNode(dir, name, st.Mode&unix.S_IFMT, st.Ino)
		return n, err
	}
	pfd, err := unix.Openat(s.procFD, strconv.Itoa(fd), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	n, _, err := s.nodeFromFD(pfd, dir, name)
	if err != nil {
		return nil, err
	}
	if n.ino != st.Ino || n.dev != st.Dev {
		n.decRef()
		return nil, unix.ESTALE
	}
	return n, nil
}

func (c *conn) mkdir(req *proto.MkdirReq) (*proto.NodeResp, error) {
	if !proto.ValidName(req.Name) || req.Mode&^0o7777 != 0 {
		return nil, unix.EINVAL
	}
	if c.s.opts.ReadOnly {
		return nil, unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return nil, err
	}
	defer dir.decRef()
	// As mkdir(2): only the permission and sticky bits of the mode count.
	perm := req.Mode & 0o1777
	if err := unix.Mkdirat(dir.fd, req.Name, perm); err != nil {
		return nil, err
	}
	n, st, err := c.s.createdNode(dir, req.Name, unix.S_IFDIR, 0)
	if err == nil {
		// A directory inherits S_ISGID from a set-group-ID parent
		// (fs/inode.c:inode_init_owner()); keep it.
		err = c.setOwnerMode(n, req.UID, req.GID, perm|st.Mode&unix.S_ISGID, true)
	}
	if err != nil {
		abandon(dir, req.Name, unix.AT_REMOVEDIR, n)
		return nil, err
	}
	return c.addCreated(n, dir, req.Name, unix.AT_REMOVEDIR)
}

// mknod creates regular files, FIFOs and socket nodes. Device nodes fail
// with EPERM, as mknod(2) without CAP_MKNOD: a sandbox must never create a
// host device node. A socket node is only a placeholder for a socket the
// sentry binds to the path (it implements AF_UNIX itself): no host socket
// is ever bound to it, so a host process connecting gets ECONNREFUSED, and
// the gofer never connects to host sockets.
func (c *conn) mknod(req *proto.MkdirReq) (*proto.NodeResp, error) {
	if !proto.ValidName(req.Name) {
		return nil, unix.EINVAL
	}
	ftype := req.Mode & unix.S_IFMT
	switch ftype {
	case 0:
		ftype = unix.S_IFREG // mknod(2): zero means a regular file
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFDIR:
		return nil, unix.EPERM
	default:
		return nil, unix.EINVAL
	}
	perm := req.Mode & 0o7777
	if c.s.opts.ReadOnly {
		return nil, unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return nil, err
	}
	defer dir.decRef()
	if err := unix.Mknodat(dir.fd, req.Name, ftype|perm, 0); err != nil {
		return nil, err
	}
	n, _, err := c.s.createdNode(dir, req.Name, ftype, 0)
	if err == nil {
		err = c.setOwnerMode(n, req.UID, req.GID, perm, true)
	}
	if err != nil {
		abandon(dir, req.Name, 0, n)
		return nil, err
	}
	return c.addCreated(n, dir, req.Name, 0)
}

func (c *conn) symlink(req *proto.SymlinkReq) (*proto.NodeResp, error) {
	if !proto.ValidName(req.Name) {
		return nil, unix.EINVAL
	}
	if req.Target == "" {
		return nil, unix.ENOENT // as symlink(2)
	}
	if c.s.opts.ReadOnly {
		return nil, unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return nil, err
	}
	defer dir.decRef()
	// The target is stored, never resolved by the server.
	if err := unix.Symlinkat(req.Target, dir.fd, req.Name); err != nil {
		return nil, err
	}
	n, _, err := c.s.createdNode(dir, req.Name, unix.S_IFLNK, 0)
	if err == nil {
		err = c.setOwnerMode(n, req.UID, req.GID, 0, false)
	}
	if err != nil {
		abandon(dir, req.Name, 0, n)
		return nil, err
	}
	return c.addCreated(n, dir, req.Name, 0)
}

func (c *conn) link(req *proto.LinkReq) (*proto.NodeResp, error) {
	if !proto.ValidName(req.Name) {
		return nil, unix.EINVAL
	}
	if c.s.opts.ReadOnly {
		return nil, unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return nil, err
	}
	defer dir.decRef()
	target, err := c.nodes.get(req.Target)
	if err != nil {
		return nil, err
	}
	defer target.decRef()
	if target.ftype == unix.S_IFDIR {
		return nil, unix.EPERM // link(2): no hard links to directories
	}
	if err := c.s.link(target, dir, req.Name); err != nil {
		return nil, err
	}
	n, _, err := c.s.createdNode(dir, req.Name, target.ftype, target.ino)
	if err != nil {
		return nil, err
	}
	return c.addNode(n)
}

func (c *conn) unlink(req *proto.UnlinkReq) error {
	if !proto.ValidName(req.Name) || (req.Flags != 0 && req.Flags != unix.AT_REMOVEDIR) {
		return unix.EINVAL
	}
	if c.s.opts.ReadOnly {
		return unix.EROFS
	}
	dir, err := c.dirNode(req.Dir)
	if err != nil {
		return err
	}
	defer dir.decRef()
	return unix.Unlinkat(dir.fd, req.Name, int(req.Flags))
}

func (c *conn) rename(req *proto.RenameReq) error {
	if !proto.ValidName(req.OldName) || !proto.ValidName(req.NewName) ||
		req.Flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 {
		return unix.EINVAL
	}
	if c.s.opts.ReadOnly {
		return unix.EROFS
	}
	oldDir, err := c.dirNode(req.OldDir)
	if err != nil {
		return err
	}
	defer oldDir.decRef()
	newDir, err := c.dirNode(req.NewDir)
	if err != nil {
		return err
	}
	defer newDir.decRef()
	// The kernel rejects NOREPLACE|EXCHANGE together with EINVAL.
	return unix.Renameat2(oldDir.fd, req.OldName, newDir.fd, req.NewName, uint(req.Flags))
}

func (c *conn) readlink(req *proto.NodeReq) (*proto.ReadlinkResp, error) {
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return nil, err
	}
	defer n.decRef()
	if n.ftype != unix.S_IFLNK {
		return nil, unix.EINVAL // readlink(2) on a non-symlink
	}
	buf := make([]byte, proto.SymlinkMax+1)
	nr, err := unix.Readlinkat(n.fd, "", buf)
	if err != nil {
		return nil, err
	}
	if nr > proto.SymlinkMax {
		return nil, unix.ENAMETOOLONG
	}
	return &proto.ReadlinkResp{Target: string(buf[:nr])}, nil
}

// getdents returns one page of the directory from req.Cookie, read through a
// fresh O_RDONLY FD (getdents64(2) fails with EBADF on O_PATH FDs) positioned
// with lseek(2) to the d_off cookie of the previous page — the telldir
// cookies Linux filesystems keep stable across opens. "." and ".." are
// dropped: the sentry knows them.
func (c *conn) getdents(req *proto.GetdentsReq) (*proto.GetdentsResp, error) {
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return nil, err
	}
	defer n.decRef()
	if n.ftype != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	if req.Cookie > 1<<63-1 {
		return nil, unix.EINVAL
	}
	fd, err := c.s.reopen(n, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if req.Cookie != 0 {
		if _, err := unix.Seek(fd, int64(req.Cookie), 0); err != nil {
			return nil, err
		}
	}
	resp := &proto.GetdentsResp{Next: req.Cookie}
	size := proto.HeaderSize + proto.GetdentsRespOverhead
	buf := make([]byte, 32<<10)
	for {
		var nr int
		err := retryEINTR(func() (err error) { nr, err = unix.Getdents(fd, buf); return })
		if err != nil {
			return nil, err
		}
		if nr == 0 {
			resp.EOF = true
			return resp, nil
		}
		// struct linux_dirent64 (include/linux/dirent.h): u64 d_ino, s64
		// d_off, u16 d_reclen, u8 d_type, char d_name[].
		for off := 0; off < nr; {
			if nr-off < 19 {
				return nil, unix.EIO
			}
			rec := buf[off:nr]
			reclen := int(binary.LittleEndian.Uint16(rec[16:]))
			if reclen < 19 || reclen > len(rec) {
				return nil, unix.EIO
			}
			name := rec[19:reclen]
			for i, b := range name {
				if b == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			d := proto.Dirent{Ino: binary.LittleEndian.Uint64(rec), Type: rec[18], Name: string(name)}
			next := binary.LittleEndian.Uint64(rec[8:])
			if d.Name == "." || d.Name == ".." {
				resp.Next = next
				continue
			}
			if size+proto.DirentSize(d.Name) > proto.MaxMessageSize {
				return resp, nil // full; resume at resp.Next
			}
			size += proto.DirentSize(d.Name)
			resp.Dirents = append(resp.Dirents, d)
			resp.Next = next
		}
	}
}

func (c *conn) statFS(req *proto.NodeReq) (*proto.StatFS, error) {
	n, err := c.nodes.get(req.Node)
	if err != nil {
		return nil, err
	}
	defer n.decRef()
	var s unix.Statfs_t
	if err := unix.Fstatfs(n.fd, &s); err != nil {
		return nil, err
	}
	return &proto.StatFS{
		Type: uint64(s.Type), Bsize: uint64(s.Bsize), Blocks: s.Blocks, Bfree: s.Bfree,
		Bavail: s.Bavail, Files: s.Files, Ffree: s.Ffree, Namelen: uint64(s.Namelen),
		Frsize: uint64(s.Frsize), Flags: uint64(s.Flags),
	}, nil
}

// close releases every known ID and reports EBADF if any was unknown.
func (c *conn) close(req *proto.CloseReq) error {
	var err error
	for _, id := range req.Nodes {
		if e := c.nodes.remove(id); e != nil {
			err = e
		}
	}
	return err
}
