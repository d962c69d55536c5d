package vfs

import (
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// capMknod and capFsetid are CAP_MKNOD and CAP_FSETID.
const (
	capMknod  = 27
	capFsetid = 4
)

// OpenAt opens path relative to dirfd (nil: the working directory) with
// open(2) flags and creation mode (the kernel/loader entry point; syscalls
// use Open with the task as Context).
func (v *VirtualFilesystem) OpenAt(creds *auth.Credentials, fsc *FSContext, dirfd *FileDescription, path string, flags uint32, mode uint32) (*FileDescription, error) {
	return v.Open(CredsContext(creds), fsc, dirfd, path, flags, mode)
}

// Open implements the VFS part of openat(2) (do_filp_open()). flags are
// already validated by the caller (unknown bits are ignored, as Linux
// does); mode is only used with O_CREAT.
func (v *VirtualFilesystem) Open(ctx Context, fsc *FSContext, dir *FileDescription, path string, flags, mode uint32) (*FileDescription, error) {
	return v.OpenResolve(ctx, fsc, dir, path, flags, mode, 0)
}

// OpenResolve is Open with openat2(2)'s RESOLVE_* restrictions on the
// path walk.
func (v *VirtualFilesystem) OpenResolve(ctx Context, fsc *FSContext, dir *FileDescription, path string, flags, mode uint32, resolve uint64) (*FileDescription, error) {
	if path == "" {
		return nil, unix.ENOENT
	}
	if flags&unix.O_TMPFILE == unix.O_TMPFILE {
		return nil, unix.EOPNOTSUPP
	}
	if flags&unix.O_PATH != 0 {
		// O_PATH ignores every flag but these (O_PATH_FLAGS).
		flags &= unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	}
	r, err := v.newScopedResolver(ctx, fsc, dir, path, resolve)
	if err != nil {
		return nil, err
	}
	var vd VirtualDentry
	created := false
	if flags&unix.O_CREAT != 0 {
		vd, created, err = r.openCreate(ctx, fsc.Umask(), flags, mode)
	} else {
		vd, err = r.resolveLast(flags&unix.O_NOFOLLOW == 0)
	}
	if err != nil {
		return nil, err
	}
	if r.anon != nil {
		return reopenAnon(ctx, r.anon, flags)
	}
	return v.openVD(ctx, vd, flags, created)
}

// reopenAnon opens the anonymous file a magic link led to (consuming the
// reference): O_PATH gives a path-only description of it; otherwise only
// files that implement Reopener can be opened again.
func reopenAnon(ctx Context, f *FileDescription, flags uint32) (*FileDescription, error) {
	defer f.DecRef()
	if flags&unix.O_DIRECTORY != 0 {
		return nil, unix.ENOTDIR
	}
	if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
		return nil, unix.EEXIST
	}
	ro, ok := f.impl.(Reopener)
	if !ok {
		return nil, unix.ENXIO
	}
	return ro.Reopen(ctx, flags)
}

// openCreate resolves the last component of an O_CREAT open, creating a
// regular file if it does not exist (open_last_lookups() + lookup_open()).
func (r *resolver) openCreate(ctx Context, umask, flags, mode uint32) (VirtualDentry, bool, error) {
	for {
		last, trailing, err := r.walkToLast()
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if last == "" && !trailing && r.follows > 0 && !r.cur.Dentry.IsDir() {
			// A magic link jumped straight to a file (O_CREAT on
			// /dev/stdout → /proc/self/fd/1).
			if flags&unix.O_EXCL != 0 {
				return VirtualDentry{}, false, unix.EEXIST
			}
			return r.cur, false, nil
		}
		if !isNormal(last) || trailing {
			// "/", ".", ".." and "name/" all name directories.
			return VirtualDentry{}, false, unix.EISDIR
		}
		if err := r.mayLookup(); err != nil {
			return VirtualDentry{}, false, err
		}
		parent := r.cur
		d := parent.Dentry
		d.mu.Lock()
		child, err := d.lookupLocked(last)
		if err == unix.ENOENT {
			child, err = r.vfs.createLocked(r.creds, parent, last, func(opts CreateOptions) (Inode, error) {
				mk, ok := d.inode.(Mknoder)
				if !ok {
					return nil, unix.EACCES
				}
				return mk.Mknod(last, opts)
			}, unix.S_IFREG|mode&^umask&0o7777)
			if err == nil {
				notifyEntry(d, last, child, InCreate, 0)
			}
			d.mu.Unlock()
			if err != nil {
				return VirtualDentry{}, false, err
			}
			return VirtualDentry{parent.Mount, child}, true, nil
		}
		d.mu.Unlock()
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if flags&unix.O_EXCL != 0 {
			return VirtualDentry{}, false, unix.EEXIST
		}
		if child.IsSymlink() && flags&unix.O_NOFOLLOW == 0 {
			if err := r.followSymlink(child, ""); err != nil {
				return VirtualDentry{}, false, err
			}
			if r.anon != nil {
				// O_CREAT on /dev/stdout when it is a pipe:
				// the caller reopens r.anon.
				return VirtualDentry{}, false, nil
			}
			continue
		}
		vd, err := r.crossDown(VirtualDentry{parent.Mount, child})
		return vd, false, err
	}
}

// pathFile is the implementation of O_PATH files: only fstat, fchdir,
// *at(2) lookups and descriptor operations work on them.
type pathFile struct{ FileDefaults }

// Read fails with EBADF for O_PATH files.
func (pathFile) Read(Context, *FileDescription, []byte, int64) (int, error) { return 0, unix.EBADF }

// Write fails with EBADF for O_PATH files.
func (pathFile) Write(Context, *FileDescription, []byte, int64, bool) (int, int64, error) {
	return 0, 0, unix.EBADF
}

// openVD opens the file at vd after resolution (do_open() + may_open() +
// vfs_open()).
func (v *VirtualFilesystem) openVD(ctx Context, vd VirtualDentry, flags uint32, created bool) (*FileDescription, error) {
	d := vd.Dentry
	if flags&unix.O_CREAT != 0 && !created && d.IsDir() {
		return nil, unix.EISDIR
	}
	if flags&unix.O_DIRECTORY != 0 && !d.IsDir() {
		return nil, unix.ENOTDIR
	}
	if flags&unix.O_PATH != 0 {
		return NewFileDescription(pathFile{}, vd, flags, FileOptions{}), nil
	}
	creds := ctx.Credentials()
	want := 0
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		want = auth.MayRead
	case unix.O_WRONLY:
		want = auth.MayWrite
	default:
		want = auth.MayRead | auth.MayWrite
	}
	trunc := flags&unix.O_TRUNC != 0
	if trunc {
		want |= auth.MayWrite
	}
	special := false
	switch d.typ {
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	case unix.S_IFDIR:
		if want&auth.MayWrite != 0 {
			return nil, unix.EISDIR
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		if vd.Mount.Flags().NoDev {
			return nil, unix.EACCES
		}
		special, trunc = true, false
	case unix.S_IFIFO, unix.S_IFSOCK:
		special, trunc = true, false
	}
	st, err := d.inode.Stat()
	if err != nil {
		return nil, err
	}
	if !created {
		if !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), want) {
			return nil, unix.EACCES
		}
		if want&auth.MayWrite != 0 && !special && vd.Mount.ReadOnly() {
			return nil, unix.EROFS
		}
	}
	if flags&unix.O_NOATIME != 0 && creds.FSUID != st.UID && !creds.HasCapability(auth.CapFowner) {
		return nil, unix.EPERM
	}
	truncated := false
	if trunc && !created && d.typ == unix.S_IFREG {
		// handle_truncate(): O_TRUNC sets the size to 0 and, like any
		// truncate, updates mtime and ctime.
		if err := d.inode.SetStat(ctx, SetStat{Mask: unix.STATX_SIZE}); err != nil {
			return nil, err
		}
		truncated = true
	}
	var impl FileImpl
	var opts FileOptions
	switch d.typ {
	case unix.S_IFCHR:
		dev := v.charDevice(st.Rdev)
		if dev == nil {
			return nil, unix.ENXIO
		}
		impl, opts, err = dev.Open(ctx, vd, flags)
	case unix.S_IFBLK, unix.S_IFSOCK:
		return nil, unix.ENXIO
	case unix.S_IFIFO:
		if v.OpenFIFO == nil {
			return nil, unix.ENXIO
		}
		impl, opts, err = v.OpenFIFO(ctx, vd, flags)
	default:
		impl, opts, err = d.inode.Open(ctx, flags)
	}
	if err != nil {
		return nil, err
	}
	fd := NewFileDescription(impl, vd, flags, opts)
	// vfs_open() reports IN_OPEN, then handle_truncate() IN_MODIFY.
	fd.notify(InOpen)
	if truncated {
		fd.notify(InModify)
	}
	return fd, nil
}

// mayCreate checks that the caller may add an entry to parent
// (may_create(): a removed directory gives ENOENT, then write and search
// permission) and that the mount is writable.
func (v *VirtualFilesystem) mayCreate(creds *auth.Credentials, parent VirtualDentry) error {
	if parent.Dentry.IsDead() {
		return unix.ENOENT
	}
	if parent.Mount.ReadOnly() {
		return unix.EROFS
	}
	return checkAccess(creds, parent.Dentry.inode, auth.MayWrite|auth.MayExec)
}

// createOptions computes a new inode's owner and mode (inode_init_owner()
// and mode_strip_sgid()).
func createOptions(creds *auth.Credentials, dir Inode, mode uint32) (CreateOptions, error) {
	st, err := dir.Stat()
	if err != nil {
		return CreateOptions{}, err
	}
	o := CreateOptions{Mode: mode, UID: creds.FSUID, GID: creds.FSGID}
	isDir := mode&unix.S_IFMT == unix.S_IFDIR
	if st.Mode&unix.S_ISGID != 0 {
		o.GID = st.GID
		if isDir {
			o.Mode |= unix.S_ISGID
		} else if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP &&
			!creds.InGroup(st.GID) && !creds.HasCapability(capFsetid) {
			o.Mode &^= unix.S_ISGID
		}
	}
	return o, nil
}

// createLocked checks that the caller may create in parent and calls mk,
// then caches the new child.
//
// Preconditions: parent.Dentry.mu is held; the name does not exist.
func (v *VirtualFilesystem) createLocked(creds *auth.Credentials, parent VirtualDentry, name string, mk func(CreateOptions) (Inode, error), mode uint32) (*Dentry, error) {
	if err := v.mayCreate(creds, parent); err != nil {
		return nil, err
	}
	opts, err := createOptions(creds, parent.Dentry.inode, mode)
	if err != nil {
		return nil, err
	}
	inode, err := mk(opts)
	if err != nil {
		return nil, err
	}
	return parent.Dentry.newChildLocked(name, inode)
}

// createAt implements the common part of mkdir, mknod, symlink and link
// (filename_create()): the last component must be a normal name that does
// not exist (EEXIST); a trailing slash is only allowed for mkdir (ENOENT
// otherwise).
func (v *VirtualFilesystem) createAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, isMkdir bool, mk func(parent VirtualDentry, name string) (Inode, error)) error {
	parent, last, trailing, err := v.resolveParent(ctx, fsc, dir, path)
	if err != nil {
		return err
	}
	if !isNormal(last) {
		return unix.EEXIST
	}
	d := parent.Dentry
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err = d.lookupLocked(last)
	if err == nil {
		return unix.EEXIST
	}
	if err != unix.ENOENT {
		return err
	}
	if trailing && !isMkdir {
		return unix.ENOENT
	}
	inode, err := mk(parent, last)
	if err != nil {
		return err
	}
	child, err := d.newChildLocked(last, inode)
	if err != nil {
		return err
	}
	notifyEntry(d, last, child, InCreate, 0)
	return nil
}

// MkdirAt implements mkdir(2) (do_mkdirat(), vfs_mkdir()).
func (v *VirtualFilesystem) MkdirAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, mode uint32) error {
	creds := ctx.Credentials()
	mode = unix.S_IFDIR | mode&^fsc.Umask()&(0o777|unix.S_ISVTX)
	return v.createAt(ctx, fsc, dir, path, true, func(parent VirtualDentry, name string) (Inode, error) {
		if err := v.mayCreate(creds, parent); err != nil {
			return nil, err
		}
		mk, ok := parent.Dentry.inode.(Mkdirer)
		if !ok {
			return nil, unix.EPERM
		}
		opts, err := createOptions(creds, parent.Dentry.inode, mode)
		if err != nil {
			return nil, err
		}
		return mk.Mkdir(name, opts)
	})
}

// MknodAt implements mknod(2) (do_mknodat(), may_mknod(), vfs_mknod()).
// mode's type may be 0 (a regular file), S_IFREG, S_IFCHR, S_IFBLK,
// S_IFIFO or S_IFSOCK.
func (v *VirtualFilesystem) MknodAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, mode uint32, rdev uint64) error {
	creds := ctx.Credentials()
	switch mode & unix.S_IFMT {
	case 0:
		mode |= unix.S_IFREG
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	typ := mode & unix.S_IFMT
	mode = typ | mode&^fsc.Umask()&0o7777
	if typ != unix.S_IFCHR && typ != unix.S_IFBLK {
		rdev = 0
	}
	return v.createAt(ctx, fsc, dir, path, false, func(parent VirtualDentry, name string) (Inode, error) {
		if err := v.mayCreate(creds, parent); err != nil {
			return nil, err
		}
		if (typ == unix.S_IFCHR || typ == unix.S_IFBLK) && !creds.HasCapability(capMknod) {
			return nil, unix.EPERM
		}
		mk, ok := parent.Dentry.inode.(Mknoder)
		if !ok {
			return nil, unix.EPERM
		}
		opts, err := createOptions(creds, parent.Dentry.inode, mode)
		if err != nil {
			return nil, err
		}
		opts.Rdev = rdev
		return mk.Mknod(name, opts)
	})
}

// SymlinkAt implements symlink(2): a link at path pointing to target.
func (v *VirtualFilesystem) SymlinkAt(ctx Context, fsc *FSContext, dir *FileDescription, path, target string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) > SymlinkMax {
		return unix.ENAMETOOLONG
	}
	creds := ctx.Credentials()
	return v.createAt(ctx, fsc, dir, path, false, func(parent VirtualDentry, name string) (Inode, error) {
		if err := v.mayCreate(creds, parent); err != nil {
			return nil, err
		}
		sl, ok := parent.Dentry.inode.(Symlinker)
		if !ok {
			return nil, unix.EPERM
		}
		opts, err := createOptions(creds, parent.Dentry.inode, unix.S_IFLNK|0o777)
		if err != nil {
			return nil, err
		}
		return sl.Symlink(name, target, opts)
	})
}

// LinkAt implements linkat(2): a new name at path for the file at old
// (do_linkat(), may_linkat(), vfs_link()).
func (v *VirtualFilesystem) LinkAt(ctx Context, fsc *FSContext, old VirtualDentry, dir *FileDescription, path string) error {
	creds := ctx.Credentials()
	if old.Dentry.IsDir() {
		return unix.EPERM
	}
	return v.createAt(ctx, fsc, dir, path, false, func(parent VirtualDentry, name string) (Inode, error) {
		if parent.Mount != old.Mount {
			return nil, unix.EXDEV
		}
		if err := v.mayCreate(creds, parent); err != nil {
			return nil, err
		}
		st, err := old.Dentry.inode.Stat()
		if err != nil {
			return nil, err
		}
		// fs.protected_hardlinks = 1 (the default): a non-owner may
		// link only to a regular, non-set-id file it can read and
		// write (may_linkat()).
		if creds.FSUID != st.UID && !creds.HasCapability(auth.CapFowner) {
			safe := st.Type() == unix.S_IFREG && st.Mode&unix.S_ISUID == 0 &&
				st.Mode&(unix.S_ISGID|unix.S_IXGRP) != unix.S_ISGID|unix.S_IXGRP &&
				creds.CheckPermission(st.Mode, st.UID, st.GID, false, auth.MayRead|auth.MayWrite)
			if !safe {
				return nil, unix.EPERM
			}
		}
		if st.Nlink == 0 {
			return nil, unix.ENOENT
		}
		lk, ok := parent.Dentry.inode.(Linker)
		if !ok {
			return nil, unix.EPERM
		}
		if err := lk.Link(name, old.Dentry.inode); err != nil {
			return nil, err
		}
		// fsnotify_link(): the link count changed (IN_ATTRIB), then
		// createAt reports IN_CREATE.
		old.Dentry.notifySelf(InAttrib)
		return old.Dentry.inode, nil
	})
}

// mayDelete checks that the caller may remove child from parent
// (may_delete()): write and search permission on parent, the sticky bit's
// restricted deletion, and the file type.
func mayDelete(creds *auth.Credentials, parent VirtualDentry, child *Dentry, isDir bool) error {
	pst, err := parent.Dentry.inode.Stat()
	if err != nil {
		return err
	}
	if !creds.CheckPermission(pst.Mode, pst.UID, pst.GID, true, auth.MayWrite|auth.MayExec) {
		return unix.EACCES
	}
	if pst.Mode&unix.S_ISVTX != 0 && !creds.HasCapability(auth.CapFowner) {
		cst, err := child.inode.Stat()
		if err != nil {
			return err
		}
		if creds.FSUID != cst.UID && creds.FSUID != pst.UID {
			return unix.EPERM
		}
	}
	if isDir {
		if !child.IsDir() {
			return unix.ENOTDIR
		}
	} else if child.IsDir() {
		return unix.EISDIR
	}
	return nil
}

// UnlinkAt implements unlink(2) (do_unlinkat(), vfs_unlink()).
func (v *VirtualFilesystem) UnlinkAt(ctx Context, fsc *FSContext, dir *FileDescription, path string) error {
	parent, last, trailing, err := v.resolveParent(ctx, fsc, dir, path)
	if err != nil {
		return err
	}
	if !isNormal(last) {
		return unix.EISDIR
	}
	if parent.Mount.ReadOnly() {
		return unix.EROFS
	}
	d := parent.Dentry
	d.mu.Lock()
	defer d.mu.Unlock()
	child, err := d.lookupLocked(last)
	if err != nil {
		return err
	}
	if trailing {
		if child.IsDir() {
			return unix.EISDIR
		}
		return unix.ENOTDIR
	}
	if err := mayDelete(ctx.Credentials(), parent, child, false); err != nil {
		return err
	}
	if child.mountCount.Load() > 0 {
		return unix.EBUSY
	}
	ul, ok := d.inode.(Unlinker)
	if !ok {
		return unix.EPERM
	}
	sockKey, isSock := socketNodeKey(child)
	if err := ul.Unlink(last, child.inode); err != nil {
		return err
	}
	d.removeChildLocked(last, child)
	// vfs_unlink(): fsnotify_link_count(), then d_delete_notify()
	// (IN_DELETE_SELF if nothing holds the file, then IN_DELETE).
	child.notifySelf(InAttrib)
	child.linkGone()
	notifyEntry(d, last, child, InDelete, 0)
	if isSock {
		v.socketNodeRemoved(child, sockKey)
	}
	return nil
}

// RmdirAt implements rmdir(2) (do_rmdir(), vfs_rmdir()).
func (v *VirtualFilesystem) RmdirAt(ctx Context, fsc *FSContext, dir *FileDescription, path string) error {
	parent, last, _, err := v.resolveParent(ctx, fsc, dir, path)
	if err != nil {
		return err
	}
	switch last {
	case ".":
		return unix.EINVAL
	case "..":
		return unix.ENOTEMPTY
	case "":
		return unix.EBUSY
	}
	if parent.Mount.ReadOnly() {
		return unix.EROFS
	}
	d := parent.Dentry
	d.mu.Lock()
	defer d.mu.Unlock()
	child, err := d.lookupLocked(last)
	if err != nil {
		return err
	}
	if err := mayDelete(ctx.Credentials(), parent, child, true); err != nil {
		return err
	}
	if child.mountCount.Load() > 0 {
		return unix.EBUSY
	}
	ul, ok := d.inode.(Unlinker)
	if !ok {
		return unix.EPERM
	}
	// Hold the victim's lock too, so that nothing is created in it
	// between the emptiness check and its removal (Linux locks the
	// victim's inode in vfs_rmdir()). Parent before child.
	child.mu.Lock()
	defer child.mu.Unlock()
	if err := ul.Rmdir(last, child.inode); err != nil {
		return err
	}
	d.removeChildLocked(last, child)
	child.linkGone()
	notifyEntry(d, last, child, InDelete, 0)
	return nil
}

// Rename flags (include/uapi/linux/fs.h).
const (
	RenameNoreplace = 1 << 0
	RenameExchange  = 1 << 1
	RenameWhiteout  = 1 << 2
)

// isAncestor reports whether a is d or one of its ancestors.
//
// Preconditions: v.renameMu is held.
func isAncestor(a, d *Dentry) bool {
	for ; d != nil; d = d.parent {
		if d == a {
			return true
		}
	}
	return false
}

// RenameAt implements renameat2(2) (do_renameat2(), vfs_rename()). flags
// are 0, RENAME_NOREPLACE or RENAME_EXCHANGE (validated by the caller).
func (v *VirtualFilesystem) RenameAt(ctx Context, fsc *FSContext, oldDir *FileDescription, oldPath string, newDir *FileDescription, newPath string, flags uint32) error {
	creds := ctx.Credentials()
	op, oldLast, oldTrailing, err := v.resolveParent(ctx, fsc, oldDir, oldPath)
	if err != nil {
		return err
	}
	np, newLast, newTrailing, err := v.resolveParent(ctx, fsc, newDir, newPath)
	if err != nil {
		return err
	}
	if op.Mount != np.Mount {
		return unix.EXDEV
	}
	if !isNormal(oldLast) || !isNormal(newLast) {
		return unix.EBUSY
	}
	if op.Mount.ReadOnly() {
		return unix.EROFS
	}

	v.renameMu.Lock()
	defer v.renameMu.Unlock()
	// lock_rename(): with renameMu held exclusively no other task locks
	// two unrelated directories; rmdir locks a parent and then its
	// child, so an ancestor is locked before its descendant here too.
	first, second := op.Dentry, np.Dentry
	if isAncestor(second, first) {
		first, second = second, first
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	if second != first {
		second.mu.Lock()
		defer second.mu.Unlock()
	}

	oldChild, err := op.Dentry.lookupLocked(oldLast)
	if err != nil {
		return err
	}
	exchange := flags&RenameExchange != 0
	if !oldChild.IsDir() && (oldTrailing || (newTrailing && !exchange)) {
		return unix.ENOTDIR
	}
	// The source may not be an ancestor of the target directory (the
	// "trap" of lock_rename()).
	if isAncestor(oldChild, np.Dentry) {
		return unix.EINVAL
	}
	newChild, err := np.Dentry.lookupLocked(newLast)
	if err != nil && err != unix.ENOENT {
		return err
	}
	if flags&RenameNoreplace != 0 && newChild != nil {
		return unix.EEXIST
	}
	if exchange {
		if newChild == nil {
			return unix.ENOENT
		}
		if !newChild.IsDir() && newTrailing {
			return unix.ENOTDIR
		}
	}
	if newChild != nil && isAncestor(newChild, op.Dentry) {
		return unix.ENOTEMPTY
	}
	if newChild != nil && newChild.inode == oldChild.inode {
		// Both names are links to the same inode: POSIX says do
		// nothing (vfs_rename(): source == target).
		return nil
	}
	isDir := oldChild.IsDir()
	if err := mayDelete(creds, op, oldChild, isDir); err != nil {
		return err
	}
	if newChild == nil {
		if err := v.mayCreate(creds, np); err != nil {
			return err
		}
	} else {
		newIsDir := isDir
		if exchange {
			newIsDir = newChild.IsDir()
		}
		if err := mayDelete(creds, np, newChild, newIsDir); err != nil {
			return err
		}
	}
	if oldChild.mountCount.Load() > 0 || (newChild != nil && newChild.mountCount.Load() > 0) {
		return unix.EBUSY
	}
	if op.Dentry != np.Dentry {
		// Moving a directory rewrites its "..": that needs write
		// permission on it (vfs_rename()).
		if isDir {
			if err := checkAccess(creds, oldChild.inode, auth.MayWrite); err != nil {
				return err
			}
		}
		if exchange && newChild.IsDir() {
			if err := checkAccess(creds, newChild.inode, auth.MayWrite); err != nil {
				return err
			}
		}
	}
	rn, ok := op.Dentry.inode.(Renamer)
	if !ok {
		return unix.EPERM
	}
	var replaced Inode
	if newChild != nil {
		replaced = newChild.inode
	}
	var sockKey socketKey
	replacedSock := false
	if newChild != nil && !exchange {
		sockKey, replacedSock = socketNodeKey(newChild)
	}
	if err := rn.Rename(oldLast, oldChild.inode, np.Dentry.inode, newLast, replaced, flags&RenameExchange); err != nil {
		return err
	}
	if replacedSock {
		v.socketNodeRemoved(newChild, sockKey)
	}
	// Update the dentry cache (d_move()/d_exchange()).
	delete(op.Dentry.children, oldLast)
	if newChild != nil {
		delete(np.Dentry.children, newLast)
	}
	if np.Dentry.children == nil {
		np.Dentry.children = make(map[string]*Dentry)
	}
	np.Dentry.children[newLast] = oldChild
	oldChild.parent, oldChild.name = np.Dentry, newLast
	if newChild != nil {
		if exchange {
			op.Dentry.children[oldLast] = newChild
			newChild.parent, newChild.name = op.Dentry, oldLast
		} else {
			newChild.dead.Store(true)
		}
	}
	notifyRename(op.Dentry, oldLast, oldChild, np.Dentry, newLast, newChild, exchange)
	return nil
}

// notifyRename reports a rename (fsnotify_move(), twice for an exchange):
// the moved entry's IN_MOVED_FROM and IN_MOVED_TO with one cookie and its
// IN_MOVE_SELF; a replaced file's link count change, and its
// IN_DELETE_SELF once nothing holds it.
func notifyRename(oldDir *Dentry, oldName string, moved, newDir *Dentry, newName string, target *Dentry, exchange bool) {
	if watchersActive.Load() == 0 {
		return
	}
	cookie := renameCookie.Add(1)
	notifyEntry(oldDir, oldName, moved, InMovedFrom, cookie)
	notifyEntry(newDir, newName, moved, InMovedTo, cookie)
	if target != nil && !exchange {
		target.notifySelf(InAttrib)
	}
	moved.notifySelf(InMoveSelf)
	if target == nil {
		return
	}
	if exchange {
		cookie = renameCookie.Add(1)
		notifyEntry(newDir, newName, target, InMovedFrom, cookie)
		notifyEntry(oldDir, oldName, target, InMovedTo, cookie)
		target.notifySelf(InMoveSelf)
		return
	}
	target.linkGone()
}

// StatAt implements stat(2)/lstat(2)/fstatat(2) for a non-empty path.
func (v *VirtualFilesystem) StatAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool) (Stat, error) {
	vd, anon, err := v.resolveAny(ctx, fsc, dir, path, follow)
	if err != nil {
		return Stat{}, err
	}
	if anon != nil {
		// stat(2) of /proc/self/fd/N for a pipe reports the pipe.
		defer anon.DecRef()
		return anon.Stat()
	}
	return statDentry(vd)
}

// StatVD stats a resolved position.
func (v *VirtualFilesystem) StatVD(vd VirtualDentry) (Stat, error) { return statDentry(vd) }

// checkSetStat checks permission for an attribute change and adjusts it
// as Linux does (setattr_prepare(), chown_ok(), chgrp_ok(), and the
// set-id clearing of notify_change()).
func checkSetStat(creds *auth.Credentials, st *Stat, s *SetStat) error {
	owner := creds.FSUID == st.UID || creds.HasCapability(auth.CapFowner)
	if s.Mask&(unix.STATX_UID|unix.STATX_GID) != 0 {
		if s.Mask&unix.STATX_UID != 0 && !(creds.FSUID == st.UID && s.UID == st.UID) &&
			!creds.HasCapability(auth.CapChown) {
			return unix.EPERM
		}
		if s.Mask&unix.STATX_GID != 0 && !(creds.FSUID == st.UID && (creds.InGroup(s.GID) || s.GID == st.GID)) &&
			!creds.HasCapability(auth.CapChown) {
			return unix.EPERM
		}
	}
	if s.Mask&unix.STATX_MODE != 0 {
		if !owner {
			return unix.EPERM
		}
		gid := st.GID
		if s.Mask&unix.STATX_GID != 0 {
			gid = s.GID
		}
		if !creds.InGroup(gid) && !creds.HasCapability(capFsetid) {
			s.Mode &^= unix.S_ISGID
		}
	}
	if s.Mask&unix.STATX_SIZE != 0 {
		switch st.Type() {
		case unix.S_IFDIR:
			return unix.EISDIR
		case unix.S_IFREG:
		default:
			return unix.EINVAL
		}
	}
	if s.Mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 {
		if s.Touch {
			if !owner && !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), auth.MayWrite) {
				return unix.EACCES
			}
		} else if !owner {
			return unix.EPERM
		}
	}
	if s.Mask&(unix.STATX_UID|unix.STATX_GID) != 0 && !st.IsDir() {
		// chown clears set-user-ID, and set-group-ID when group
		// executable, even for root (ATTR_KILL_SUID/SGID).
		mode := st.Mode
		if s.Mask&unix.STATX_MODE != 0 {
			mode = s.Mode
		}
		nm := mode &^ unix.S_ISUID
		if mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
			nm &^= unix.S_ISGID
		}
		if nm&0o7777 != mode&0o7777 {
			s.Mask |= unix.STATX_MODE
			s.Mode = nm & 0o7777
		}
	}
	if s.Mask&unix.STATX_MODE != 0 {
		s.Mode &= 0o7777
	}
	return nil
}

// setStatVD applies a permission-checked attribute change at vd.
func setStatVD(ctx Context, vd VirtualDentry, s SetStat) error {
	if vd.Mount.ReadOnly() {
		return unix.EROFS
	}
	st, err := vd.Dentry.inode.Stat()
	if err != nil {
		return err
	}
	if err := checkSetStat(ctx.Credentials(), &st, &s); err != nil {
		return err
	}
	if err := vd.Dentry.inode.SetStat(ctx, s); err != nil {
		return err
	}
	vd.Dentry.notifyFile(setStatEvent(s.Mask))
	return nil
}

// SetStatAt implements chmod/chown/utimensat on a path.
func (v *VirtualFilesystem) SetStatAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool, s SetStat) error {
	vd, err := v.resolve(ctx, fsc, dir, path, follow)
	if err != nil {
		return err
	}
	return setStatVD(ctx, vd, s)
}

// SetStatVD applies an attribute change at a resolved position.
func (v *VirtualFilesystem) SetStatVD(ctx Context, vd VirtualDentry, s SetStat) error {
	return setStatVD(ctx, vd, s)
}

// TruncateAt implements truncate(2) (do_sys_truncate(), vfs_truncate()):
// write permission on a regular file.
func (v *VirtualFilesystem) TruncateAt(ctx Context, fsc *FSContext, path string, size int64) error {
	if size < 0 {
		return unix.EINVAL
	}
	vd, err := v.resolve(ctx, fsc, nil, path, true)
	if err != nil {
		return err
	}
	if vd.Dentry.IsDir() {
		return unix.EISDIR
	}
	if vd.Dentry.typ != unix.S_IFREG {
		return unix.EINVAL
	}
	if err := checkAccess(ctx.Credentials(), vd.Dentry.inode, auth.MayWrite); err != nil {
		return err
	}
	if vd.Mount.ReadOnly() {
		return unix.EROFS
	}
	if err := vd.Dentry.inode.SetStat(ctx, SetStat{Mask: unix.STATX_SIZE, Size: size}); err != nil {
		return err
	}
	vd.Dentry.notifyFile(InModify)
	return nil
}

// ReadlinkAt implements readlink(2) on a non-empty path: EINVAL if it is
// not a symlink.
func (v *VirtualFilesystem) ReadlinkAt(ctx Context, fsc *FSContext, dir *FileDescription, path string) (string, error) {
	vd, err := v.resolve(ctx, fsc, dir, path, false)
	if err != nil {
		return "", err
	}
	return v.ReadlinkVD(ctx, vd)
}

// ReadlinkVD reads the symlink at vd as ctx sees it (EINVAL if it is not
// one).
func (v *VirtualFilesystem) ReadlinkVD(ctx Context, vd VirtualDentry) (string, error) {
	if !vd.Dentry.IsSymlink() {
		return "", unix.EINVAL
	}
	target, ok, err := readlink(ctx, vd.Dentry.inode)
	if !ok {
		return "", unix.EINVAL
	}
	return target, err
}

// AccessAt implements faccessat2(2) on a non-empty path with the given
// credentials (the caller builds them from the real IDs unless
// AT_EACCESS). mode is a combination of R_OK, W_OK, X_OK (0 is F_OK).
func (v *VirtualFilesystem) AccessAt(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool, mode uint32) error {
	vd, anon, err := v.resolveAny(ctx, fsc, dir, path, follow)
	if err != nil {
		return err
	}
	if anon != nil {
		// access(2) of /proc/self/fd/N for a pipe checks the pipe's
		// inode.
		defer anon.DecRef()
		st, err := anon.Stat()
		if err != nil {
			return err
		}
		if !ctx.Credentials().CheckPermission(st.Mode, st.UID, st.GID, false, accessWant(mode)) {
			return unix.EACCES
		}
		return nil
	}
	return v.AccessVD(ctx.Credentials(), vd, mode)
}

// accessWant converts access(2)'s R_OK/W_OK/X_OK to auth.May* bits.
func accessWant(mode uint32) int {
	want := 0
	if mode&unix.R_OK != 0 {
		want |= auth.MayRead
	}
	if mode&unix.W_OK != 0 {
		want |= auth.MayWrite
	}
	if mode&unix.X_OK != 0 {
		want |= auth.MayExec
	}
	return want
}

// AccessVD checks R_OK/W_OK/X_OK access to a resolved position.
func (v *VirtualFilesystem) AccessVD(creds *auth.Credentials, vd VirtualDentry, mode uint32) error {
	if mode == 0 {
		return nil
	}
	st, err := vd.Dentry.inode.Stat()
	if err != nil {
		return err
	}
	want := accessWant(mode)
	if !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), want) {
		return unix.EACCES
	}
	if want&auth.MayWrite != 0 && vd.Mount.ReadOnly() {
		switch st.Type() {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return unix.EROFS
		}
	}
	return nil
}

// StatfsVD implements statfs(2) for the filesystem at vd.
func (v *VirtualFilesystem) StatfsVD(vd VirtualDentry) (Statfs, error) {
	sf, err := vd.Dentry.fs.impl.Statfs()
	if err != nil {
		return Statfs{}, err
	}
	if vd.Mount.ReadOnly() {
		sf.Flags |= unix.ST_RDONLY
	}
	return sf, nil
}

// CheckSearchDir checks that vd is a directory (ENOTDIR) the caller may
// search (EACCES), as chdir(2) and chroot(2) require.
func (v *VirtualFilesystem) CheckSearchDir(creds *auth.Credentials, vd VirtualDentry) error {
	if !vd.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	return checkAccess(creds, vd.Dentry.inode, auth.MayExec)
}

// PathName returns vd's absolute path as seen from root (the global root
// if root is zero), and whether vd is reachable from root (d_path(),
// prepend_path()). An unreachable position gets the path from the global
// root.
func (v *VirtualFilesystem) PathName(root, vd VirtualDentry) (string, bool) {
	v.renameMu.RLock()
	defer v.renameMu.RUnlock()
	v.mountMu.RLock()
	defer v.mountMu.RUnlock()
	var parts []string
	cur := vd
	reachable := false
	for cur.Ok() {
		if root.Ok() && cur == root {
			reachable = true
			break
		}
		if cur.Dentry == cur.Mount.root {
			if cur.Mount.parent == nil {
				reachable = !root.Ok()
				break
			}
			cur = VirtualDentry{cur.Mount.parent, cur.Mount.point}
			continue
		}
		if cur.Dentry.parent == nil {
			break
		}
		parts = append(parts, cur.Dentry.name)
		cur.Dentry = cur.Dentry.parent
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	if b.Len() == 0 {
		return "/", reachable
	}
	return b.String(), reachable
}
