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
	// flags are openat2(2)'s RESOLVE_* restrictions (0 for every other
	// caller). Immutable.
	flags uint64
	// anon is set (with a reference) when the path ended at a magic link
	// to an anonymous file; see MagicLink.
	anon *FileDescription
}

// openat2(2) resolve flags (include/uapi/linux/openat2.h).
const (
	ResolveNoXdev       = 0x01
	ResolveNoMagiclinks = 0x02
	ResolveNoSymlinks   = 0x04
	ResolveBeneath      = 0x08
	ResolveInRoot       = 0x10
	ResolveCached       = 0x20
	resolveScoped       = ResolveBeneath | ResolveInRoot
)

// crossDown enters any mount on vd, refusing with EXDEV under
// RESOLVE_NO_XDEV.
func (r *resolver) crossDown(vd VirtualDentry) (VirtualDentry, error) {
	n := r.vfs.crossDown(vd)
	if n != vd && r.flags&ResolveNoXdev != 0 {
		return VirtualDentry{}, unix.EXDEV
	}
	return n, nil
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

// newScopedResolver is newResolver for openat2(2) with resolve flags:
// RESOLVE_BENEATH and RESOLVE_IN_ROOT make the starting directory (dir, or
// the working directory) the root of the lookup; BENEATH refuses to leave
// it (EXDEV), IN_ROOT clamps at it as chroot does.
func (v *VirtualFilesystem) newScopedResolver(ctx Context, fsc *FSContext, dir *FileDescription, path string, flags uint64) (*resolver, error) {
	if flags&resolveScoped != 0 {
		start := fsc.Cwd()
		if dir != nil {
			if !dir.vd.Ok() || !dir.vd.Dentry.IsDir() {
				return nil, unix.ENOTDIR
			}
			start = dir.vd
		}
		if strings.HasPrefix(path, "/") && flags&ResolveBeneath != 0 {
			return nil, unix.EXDEV
		}
		return &resolver{vfs: v, ctx: ctx, creds: ctx.Credentials(), root: start, cur: start, rem: path, flags: flags}, nil
	}
	r, err := v.newResolver(ctx, fsc, dir, path)
	if err != nil {
		return nil, err
	}
	r.flags = flags
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
		return r.dotdot()
	}
	child, err := r.cur.Dentry.lookup(comp)
	if err != nil {
		return err
	}
	if child.IsSymlink() && follow {
		return r.followSymlink(child, "/"+r.rem)
	}
	if r.cur, err = r.crossDown(VirtualDentry{r.cur.Mount, child}); err != nil {
		return err
	}
	if !r.cur.Dentry.IsDir() {
		return unix.ENOTDIR
	}
	return nil
}

// followSymlink substitutes link's target for the link: r.rem becomes
// target + suffix (get_link() + pick_link()).
func (r *resolver) followSymlink(link *Dentry, suffix string) error {
	r.follows++
	if r.follows > MaxSymlinkFollows || r.flags&ResolveNoSymlinks != 0 {
		return unix.ELOOP
	}
	if ml, ok := link.inode.(MagicLink); ok {
		// nd_jump_link(): refused outright with
		// RESOLVE_NO_MAGICLINKS, and as an escape from a scoped
		// lookup or its mount.
		if r.flags&ResolveNoMagiclinks != 0 {
			return unix.ELOOP
		}
		vd, anon, err := ml.Jump()
		if err != nil {
			return err
		}
		if anon != nil {
			if r.flags&resolveScoped != 0 || r.flags&ResolveNoXdev != 0 {
				anon.DecRef()
				return unix.EXDEV
			}
			if suffix != "" {
				// Nothing can follow a file that is not a
				// directory.
				anon.DecRef()
				return unix.ENOTDIR
			}
			r.anon = anon
			r.rem = ""
			return nil
		}
		if r.flags&resolveScoped != 0 || r.flags&ResolveNoXdev != 0 && vd.Mount != r.cur.Mount {
			return unix.EXDEV
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
		if r.flags&ResolveBeneath != 0 {
			return unix.EXDEV
		}
		if r.flags&ResolveNoXdev != 0 && r.root.Mount != r.cur.Mount {
			return unix.EXDEV
		}
		r.cur = r.root
	}
	r.rem = target + suffix
	return nil
}

// dotdot moves r.cur to its parent, staying at the task root and crossing
// from a mount's root to its mount point (follow_dotdot()). Under
// RESOLVE_BENEATH, ".." at the lookup's root escapes it (EXDEV); under
// RESOLVE_NO_XDEV so does leaving a mount.
func (r *resolver) dotdot() error {
	for {
		if r.cur == r.root {
			if r.flags&ResolveBeneath != 0 {
				return unix.EXDEV
			}
			return nil
		}
		if r.cur.Dentry != r.cur.Mount.root {
			p := r.cur.Dentry.Parent()
			if p == nil {
				return nil
			}
			var err error
			r.cur, err = r.crossDown(VirtualDentry{r.cur.Mount, p})
			return err
		}
		mp := r.cur.Mount.MountPoint()
		if !mp.Ok() {
			return nil // the root of the mount tree
		}
		if r.flags&ResolveNoXdev != 0 {
			return unix.EXDEV
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
			if err := r.dotdot(); err != nil {
				return VirtualDentry{}, err
			}
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
			if r.anon != nil {
				return VirtualDentry{}, nil
			}
			continue
		}
		vd, err := r.crossDown(VirtualDentry{r.cur.Mount, child})
		if err != nil {
			return VirtualDentry{}, err
		}
		if trailing && !vd.Dentry.IsDir() {
			return VirtualDentry{}, unix.ENOTDIR
		}
		return vd, nil
	}
}

// resolve resolves path from dir (nil: the working directory) with fsc's
// root. An empty path fails with ENOENT; callers implementing AT_EMPTY_PATH
// use the file itself instead. A path ending at a magic link to an
// anonymous file fails with ENXIO here; operations that can act on such a
// file use resolveAny.
func (v *VirtualFilesystem) resolve(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool) (VirtualDentry, error) {
	vd, anon, err := v.resolveAny(ctx, fsc, dir, path, follow)
	if anon != nil {
		anon.DecRef()
		return VirtualDentry{}, unix.ENXIO
	}
	return vd, err
}

// resolveAny is resolve that returns the anonymous file (with a reference)
// a final magic link leads to, instead of a position.
func (v *VirtualFilesystem) resolveAny(ctx Context, fsc *FSContext, dir *FileDescription, path string, follow bool) (VirtualDentry, *FileDescription, error) {
	if path == "" {
		return VirtualDentry{}, nil, unix.ENOENT
	}
	r, err := v.newResolver(ctx, fsc, dir, path)
	if err != nil {
		return VirtualDentry{}, nil, err
	}
	vd, err := r.resolveLast(follow)
	return vd, r.anon, err
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
