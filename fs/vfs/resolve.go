package vfs

import (
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// resolver walks a path one component at a time (struct nameidata,
// link_path_walk() and friends in fs/namei.c).
type resolver struct {
	vfs *VirtualFilesystem
	// ctx is the caller, for symlinks whose target depends on it.
	ctx   Context
	creds *auth.Credentials
	// root is the task's root: ".." never climbs above it and absolute
	// paths and symlinks start there.
	root VirtualDentry
	// cur is the directory the next component is looked up in.
	cur VirtualDentry
	// rem is the rest of the path (after symlink substitution).
	rem string
	// follows counts symlinks followed so far (MAXSYMLINKS).
	follows int
}

// newResolver prepares to resolve path from dir (nil: the working
// directory). It fails with EBADF-like errors for a bad starting point:
// ENOTDIR if path is relative and dir is not a directory.
func (v *VirtualFilesystem) newResolver(ctx Context, fsc *FSContext, dir *FileDescription, path string) (*resolver, error) {
	root, cwd := fsc.RootAndCwd()
	r := &resolver{vfs: v, ctx: ctx, creds: ctx.Credentials(), root: root, cur: cwd, rem: path}
	if strings.HasPrefix(path, "/") {
		r.cur = root
	} else if dir != nil {
		if !dir.vd.Ok() || !dir.vd.Dentry.IsDir() {
			return nil, unix.ENOTDIR
		}
		r.cur = dir.vd
	}
	if !r.cur.Ok() {
		return nil, unix.ENOENT
	}
	return r, nil
}

// mayLookup checks search permission on the current directory
// (may_lookup()).
func (r *resolver) mayLookup() error {
	return checkAccess(r.creds, r.cur.Dentry.inode, auth.MayExec)
}

// checkAccess checks want (auth.May*) against inode's mode and owner
// (inode_permission() without the read-only-mount part).
func checkAccess(creds *auth.Credentials, inode Inode, want int) error {
	st, err := inode.Stat()
	if err != nil {
		return err
	}
	if !creds.CheckPermission(st.Mode, st.UID, st.GID, st.IsDir(), want) {
		return unix.EACCES
	}
	return nil
}

// nextComponent splits the next component off r.rem. last reports
// whether it is the final one, trailing whether the final component was
// followed by slashes. comp is "" when the rest is only slashes (the path
// named the current directory, as "/" does).
func (r *resolver) nextComponent() (comp string, last, trailing bool) {
	p := strings.TrimLeft(r.rem, "/")
	i := strings.IndexByte(p, '/')
	if i < 0 {
		r.rem = ""
		return p, true, false
	}
	comp = p[:i]
	rest := strings.TrimLeft(p[i:], "/")
	r.rem = rest
	if rest == "" {
		return comp, true, true
	}
	return comp, false, false
}

// walkToLast walks every component but the last, following symlinks on
// the way. Afterwards r.cur is the directory that contains the last
// component, which is returned ("" if the path ends at r.cur, as "/"
// does; possibly "." or "..").
func (r *resolver) walkToLast() (last string, trailing bool, err error) {
	for {
		comp, isLast, tr := r.nextComponent()
		if len(comp) > NameMax {
			return "", false, unix.ENAMETOOLONG
		}
		if isLast {
			return comp, tr, nil
		}
		if err := r.mayLookup(); err != nil {
			return "", false, err
		}
		if err := r.step(comp, true); err != nil {
			return "", false, err
		}
	}
}

// step moves r.cur to component comp of r.cur. A symlink is followed if
// follow is set (always, for a component that is not the last): the rest
// of the path becomes target + "/" + rest and r.cur stays (or becomes the
// root for an absolute target). The result must be a directory (ENOTDIR),
// since another component follows.
func (r *resolver) step(comp string, follow bool) error {
	switch comp {
	case "", ".":
		return nil
	case "..":
		r.dotdot()
		return nil
	}
	child, err := r.cur.Dentry.lookup(comp)
	if err != nil {
		return err
	}
	if child.IsSymlink() && follow {
		return r.followSymlink(child, "/"+r.rem)
	}
	r.cur = r.vfs.crossDown(VirtualDentry{r.cur.Mount, child})
	if !r.cur.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	return nil
}

// followSymlink substitutes link's target for the link: r.rem becomes
// target + suffix (get_link() + pick_link()).
func (r *resolver) followSymlink(link *Dentry, suffix string) error {
	r.follows++
	if r.follows > MaxSymlinkFollows {
		return unix.ELOOP
	}
	if ml, ok := link.inode.(MagicLink); ok {
		vd, err := ml.Jump()
		if err != nil {
			return err
		}
		if suffix != "" && !vd.Dentry.IsDir() {
			// More of the path (or a trailing slash) follows: the
			// jump target must be a directory.
			return unix.ENOTDIR
		}
		r.cur = vd
		r.rem = suffix
		return nil
	}
	target, ok, err := readlink(r.ctx, link.inode)
	if !ok {
		return unix.EINVAL
	}
	if err != nil {
		return err
	}
	if target == "" {
		// An empty symlink resolves to nothing (ENOENT since 2.6.x).
		return unix.ENOENT
	}
	if strings.HasPrefix(target, "/") {
		r.cur = r.root
	}
	r.rem = target + suffix
	return nil
}

// dotdot moves r.cur to its parent, staying at the task root and crossing
// from a mount's root to its mount point (follow_dotdot()).
func (r *resolver) dotdot() {
	for {
		if r.cur == r.root {
			return
		}
		if r.cur.Dentry != r.cur.Mount.root {
			p := r.cur.Dentry.Parent()
			if p == nil {
				return
			}
			r.cur = r.vfs.crossDown(VirtualDentry{r.cur.Mount, p})
			return
		}
		mp := r.cur.Mount.MountPoint()
		if !mp.Ok() {
			return // the root of the mount tree
		}
		r.cur = mp
	}
}

// resolveLast resolves the remaining path to its final dentry, following
// a final symlink if follow (or if the path has a trailing slash). A
// trailing slash requires a directory (ENOTDIR).
func (r *resolver) resolveLast(follow bool) (VirtualDentry, error) {
	for {
		last, trailing, err := r.walkToLast()
		if err != nil {
			return VirtualDentry{}, err
		}
		if last == "" {
			return r.cur, nil
		}
		if err := r.mayLookup(); err != nil {
			return VirtualDentry{}, err
		}
		switch last {
		case ".":
			return r.cur, nil
		case "..":
			r.dotdot()
			return r.cur, nil
		}
		child, err := r.cur.Dentry.lookup(last)
		if err != nil {
			return VirtualDentry{}, err
		}
		if child.IsSymlink() && (follow || trailing) {
			// A trailing slash stays after the target: it must
			// still resolve to a directory.
			suffix := ""
			if trailing {
				suffix = "/"
			}
			if err := r.followSymlink(child, suffix); err != nil {
				return VirtualDentry{}, err
			}
			continue
		}
		vd := r.vfs.crossDown(VirtualDentry{r.cur.Mount, child})
		if trailing && !vd.Dentry.IsDir() {
			return VirtualDentry{}, unix.ENOTDIR
		}
		return vd, nil
	}
}

// resolve resolves path from dir (nil: the working directory) with fsc's
// root. An empty path fails with ENOENT; callers implementing AT_EMPTY_PATH
// use the file itself instead.
func (v *VirtualFilesystem) resolve(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool) (VirtualDentry, error) {
	if path == "" {
		return VirtualDentry{}, unix.ENOENT
	}
	r, err := v.newResolver(ctx, fsc, dir, path)
	if err != nil {
		return VirtualDentry{}, err
	}
	return r.resolveLast(follow)
}

// ResolvePath resolves path from dir (nil: the working directory) as the
// caller in ctx with fsc's root, following a final symlink if follow.
func (v *VirtualFilesystem) ResolvePath(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool) (VirtualDentry, error) {
	return v.resolve(ctx, fsc, dir, path, follow)
}

// resolveParent walks path up to its last component for operations that
// create or remove a name. It returns the parent directory (locked by
// nobody) and the last component, which may be "", "." or "..".
func (v *VirtualFilesystem) resolveParent(ctx Context, fsc *FSContext, dir *FileDescription, path string) (parent VirtualDentry, last string, trailing bool, err error) {
	if path == "" {
		return VirtualDentry{}, "", false, unix.ENOENT
	}
	r, err := v.newResolver(ctx, fsc, dir, path)
	if err != nil {
		return VirtualDentry{}, "", false, err
	}
	last, trailing, err = r.walkToLast()
	if err != nil {
		return VirtualDentry{}, "", false, err
	}
	if last != "" {
		if err := r.mayLookup(); err != nil {
			return VirtualDentry{}, "", false, err
		}
	}
	return r.cur, last, trailing, nil
}

// isNormal reports whether a last component names an entry (LAST_NORM).
func isNormal(last string) bool {
	return last != "" && last != "." && last != ".."
}
