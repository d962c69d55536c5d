package vfs

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// OpenExec opens path (relative to dir, or the cwd if dir is nil) for
// execve(2), as do_open_execat() does: the final symlink is followed
// unless nofollow, and the result must be a regular file (EACCES) on a
// mount without noexec (EACCES) that the caller may execute (EACCES).
// Execute permission is enough: Linux opens with MAY_EXEC, not MAY_READ,
// so an --x binary runs (a #! script then fails in its interpreter).
func (v *VirtualFilesystem) OpenExec(ctx Context, fsc *FSContext, dir *FileDescription, path string, nofollow bool) (*FileDescription, error) {
	vd, err := v.resolve(ctx, fsc, dir, path, !nofollow)
	if err != nil {
		return nil, err
	}
	return v.OpenExecVD(ctx, vd)
}

// OpenExecVD is OpenExec on a resolved position (execveat(2) with
// AT_EMPTY_PATH).
func (v *VirtualFilesystem) OpenExecVD(ctx Context, vd VirtualDentry) (*FileDescription, error) {
	d := vd.Dentry
	if d.typ == unix.S_IFLNK {
		return nil, unix.ELOOP
	}
	if d.typ != unix.S_IFREG || vd.Mount.Flags().NoExec {
		return nil, unix.EACCES
	}
	st, err := d.inode.Stat()
	if err != nil {
		return nil, err
	}
	if !ctx.Credentials().CheckPermission(st.Mode, st.UID, st.GID, false, auth.MayExec) {
		return nil, unix.EACCES
	}
	impl, opts, err := d.inode.Open(ctx, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	return NewFileDescription(impl, vd, unix.O_RDONLY|unix.O_LARGEFILE, opts), nil
}
