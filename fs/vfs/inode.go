package vfs

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
	"pangolin/sentry/memmap"
)

// Context is the calling task as the VFS and file implementations see it.
// *kernel.Task implements it.
type Context interface {
	// Credentials are used for permission checks and new files' owners.
	Credentials() *auth.Credentials
	// InterruptChan is closed or signalled when a blocking operation must
	// stop (a signal arrived); a nil channel never fires.
	InterruptChan() <-chan struct{}
	// Interrupted reports whether a blocking operation woken through
	// InterruptChan must give up (a signal is pending that the caller
	// does not block, or its process is exiting). Blocking code returns
	// syserr.ERestartSys then.
	Interrupted() bool
	// CopyInBytes and CopyOutBytes move ioctl arguments between the
	// sentry and the caller's memory; both return EFAULT on bad
	// addresses.
	CopyInBytes(addr uintptr, dst []byte) error
	CopyOutBytes(addr uintptr, src []byte) error
}

// credsContext is a Context with no task behind it: the kernel and loader
// open files with only credentials (for example the init binary).
type credsContext struct{ creds *auth.Credentials }

func (c credsContext) Credentials() *auth.Credentials     { return c.creds }
func (c credsContext) InterruptChan() <-chan struct{}     { return nil }
func (c credsContext) Interrupted() bool                  { return false }
func (c credsContext) CopyInBytes(uintptr, []byte) error  { return unix.EFAULT }
func (c credsContext) CopyOutBytes(uintptr, []byte) error { return unix.EFAULT }

// CredsContext returns a Context that carries only credentials, for
// opening files outside any task (boot, the loader, tests).
func CredsContext(creds *auth.Credentials) Context { return credsContext{creds} }

// Inode is a file in a filesystem (struct inode + inode_operations).
// The VFS does path resolution, permission checks and ownership of new
// files; an Inode only stores and reports.
//
// Directories additionally implement Lookuper and DirIterator, and any of
// the mutation interfaces below they support. Symlinks implement Readlinker.
// A missing optional interface makes the operation fail with the errno
// Linux returns when the inode operation is NULL.
type Inode interface {
	// Stat returns the inode's attributes. Dev is filled by the VFS.
	Stat() (Stat, error)

	// SetStat applies a permission-checked attribute change (the
	// filesystem part of notify_change()). Filesystems that cannot
	// change attributes return EPERM (or EROFS).
	SetStat(ctx Context, s SetStat) error

	// Open returns the implementation of a new open file description for
	// a regular file, directory or symlink (O_PATH never calls Open;
	// device and FIFO nodes are opened by the VFS's device table).
	// flags are the open(2) flags; permissions are already checked and
	// O_TRUNC already applied.
	Open(ctx Context, flags uint32) (FileImpl, FileOptions, error)
}

// Lookuper is implemented by directories (inode_operations.lookup). Lookup
// returns the child named name or ENOENT. name is never "", "." or "..".
type Lookuper interface {
	Lookup(name string) (Inode, error)
}

// DirIterator is implemented by directories that can be listed
// (file_operations.iterate_shared). The VFS emits "." and ".." itself at
// offsets 0 and 1; IterDirents starts at cookie off >= 2 and calls emit
// for each entry in order until emit returns false. Each Dirent's NextOff
// must be > 2 and resume iteration after that entry.
type DirIterator interface {
	IterDirents(off int64, emit func(Dirent) bool) error
}

// Revalidator is implemented by directories whose cached children may go
// stale behind the VFS's back (a remote filesystem, procfs). Before a
// cached child dentry is used, the VFS calls Revalidate; if it returns
// false the dentry is dropped and the name looked up again
// (dentry_operations.d_revalidate).
type Revalidator interface {
	Revalidate(name string, child Inode) bool
}

// CreateOptions describe a new inode. The VFS computes them as
// inode_init_owner() does: UID is the caller's fsuid; GID is the parent's
// gid if the parent has S_ISGID (and then a new directory keeps S_ISGID),
// else the caller's fsgid. Mode includes the file type and has the umask
// applied.
type CreateOptions struct {
	Mode uint32
	UID  uint32
	GID  uint32
	Rdev uint64
}

// Mknoder creates regular files, FIFOs, sockets and device nodes
// (inode_operations.create and .mknod). Without it, creating a file fails
// with EACCES and mknod with EPERM, as in vfs_create() and vfs_mknod().
type Mknoder interface {
	Mknod(name string, opts CreateOptions) (Inode, error)
}

// Mkdirer creates directories (inode_operations.mkdir; EPERM without).
type Mkdirer interface {
	Mkdir(name string, opts CreateOptions) (Inode, error)
}

// Symlinker creates symlinks (inode_operations.symlink; EPERM without).
type Symlinker interface {
	Symlink(name, target string, opts CreateOptions) (Inode, error)
}

// Linker adds a hard link to target, an inode of the same filesystem
// (inode_operations.link; EPERM without). The filesystem increments the
// link count and updates ctime.
type Linker interface {
	Link(name string, target Inode) error
}

// Unlinker removes directory entries (inode_operations.unlink and .rmdir;
// EPERM without). child is the inode the VFS found under name. Rmdir must
// fail with ENOTEMPTY if child has entries.
type Unlinker interface {
	Unlink(name string, child Inode) error
	Rmdir(name string, child Inode) error
}

// Renamer moves the entry oldName (inode child) of this directory to
// newName in newDir, a directory of the same filesystem
// (inode_operations.rename; EPERM without). replaced is the inode
// currently at newName or nil. The VFS has checked every rename(2) rule
// except emptiness of a replaced directory (ENOTEMPTY), which the
// filesystem checks. flags is 0 or RENAME_EXCHANGE (RENAME_NOREPLACE is
// handled by the VFS).
type Renamer interface {
	Rename(oldName string, child Inode, newDir Inode, newName string, replaced Inode, flags uint32) error
}

// Readlinker is implemented by symlinks (inode_operations.get_link).
type Readlinker interface {
	Readlink() (string, error)
}

// ContextReadlinker is implemented by symlinks whose target depends on the
// task resolving or reading them (/proc/self and /proc/thread-self:
// proc_self_get_link() reads current). Path resolution and readlink(2)
// prefer it over Readlinker.Readlink, passing the caller.
type ContextReadlinker interface {
	ReadlinkContext(ctx Context) (string, error)
}

// readlink reads inode's target as seen by ctx.
func readlink(ctx Context, inode Inode) (string, bool, error) {
	if cl, ok := inode.(ContextReadlinker); ok && ctx != nil {
		t, err := cl.ReadlinkContext(ctx)
		return t, true, err
	}
	rl, ok := inode.(Readlinker)
	if !ok {
		return "", false, nil
	}
	t, err := rl.Readlink()
	return t, true, err
}

// MagicLink is implemented by symlinks that resolve to an object rather
// than to their text (/proc/PID/fd/N, /proc/PID/cwd, /proc/PID/root:
// nd_jump_link()). Readlink still gives the text readlink(2) shows; path
// resolution jumps to what Jump returns instead, so a deleted file or a
// file outside the caller's root stays reachable. A link to a file with no
// place in the tree (a pipe, a socket, an eventfd) returns that file, with
// a reference for the caller, and a zero VirtualDentry: open(2) reopens it
// (see Reopener) and stat(2) reports it.
type MagicLink interface {
	Readlinker
	Jump() (VirtualDentry, *FileDescription, error)
}

// Reopener is implemented by anonymous files that may be opened again
// through a magic link, as a pipe end is through /proc/self/fd/N (the
// pipefs inode's fifo_open()). It returns a new description for the same
// object with flags' access mode. Other anonymous files cannot be reopened
// (ENXIO, as for sockets).
type Reopener interface {
	Reopen(ctx Context, flags uint32) (*FileDescription, error)
}

// FileImpl is the filesystem's part of an open file description
// (file_operations). Embed FileDefaults (or DirFileDefaults) to get Linux's
// behaviour for operations a file does not support.
type FileImpl interface {
	// Release is called once, when the last reference to the file
	// description is dropped.
	Release()

	// Read reads into dst at off. For a file opened with
	// FileOptions.Positionless, off is -1 for read(2) and readv(2)
	// (the implementation keeps its own position, if any). It returns
	// 0, nil at end of file.
	Read(ctx Context, fd *FileDescription, dst []byte, off int64) (int, error)

	// Write writes src at off (off is -1 for positionless files). If
	// appendMode, the write goes to the end of the file atomically and
	// off is ignored. It returns the bytes written and the offset just
	// past them, which becomes the file position.
	Write(ctx Context, fd *FileDescription, src []byte, off int64, appendMode bool) (n int, end int64, err error)

	// Ioctl implements ioctl(2) commands other than the generic ones the
	// VFS handles (FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC).
	Ioctl(ctx Context, fd *FileDescription, cmd uint32, arg uintptr) (uintptr, error)

	// Sync flushes the file (fsync/fdatasync).
	Sync(ctx Context) error
}

// Seeker is implemented by files with their own lseek(2) semantics. pos is
// the current VFS position (-1 for positionless files). Files without it use
// the generic rules for regular files (generic_file_llseek()), or ESPIPE
// when positionless.
type Seeker interface {
	Seek(ctx Context, pos, offset int64, whence int) (int64, error)
}

// Mappable is implemented by files that can be mmapped. MMapFile returns
// a memmap.File with one reference owned by the caller.
type Mappable interface {
	MMapFile() (memmap.File, error)
}

// FileStater is implemented by files with no inode in the dentry tree
// (host files, pipes, sockets) to answer fstat(2) and fchmod(2)-style calls.
type FileStater interface {
	Stat() (Stat, error)
	SetStat(ctx Context, s SetStat) error
}

// Allocator is implemented by files supporting fallocate(2).
type Allocator interface {
	Allocate(mode uint32, off, length int64) error
}

// Namer gives an anonymous file its name in /proc/PID/fd ("pipe:[12]").
type Namer interface {
	Name() string
}

// FileOptions tell the VFS how an open file uses offsets.
type FileOptions struct {
	// Positionless files have no VFS-managed offset (FMODE_STREAM or a
	// file keeping its own, like a host FD): read/write pass off = -1 and
	// lseek needs a Seeker (else ESPIPE).
	Positionless bool
	// NoPRead makes pread/pwrite/preadv/pwritev fail with ESPIPE
	// (FMODE_PREAD/FMODE_PWRITE unset).
	NoPRead bool
}

// FileDefaults implements FileImpl for a file that supports nothing, with
// the errors Linux returns when a file_operations member is NULL.
type FileDefaults struct{}

// Release does nothing.
func (FileDefaults) Release() {}

// Read fails with EINVAL (vfs_read() without ->read).
func (FileDefaults) Read(Context, *FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Write fails with EINVAL (vfs_write() without ->write).
func (FileDefaults) Write(Context, *FileDescription, []byte, int64, bool) (int, int64, error) {
	return 0, 0, unix.EINVAL
}

// Ioctl fails with ENOTTY (vfs_ioctl() without ->unlocked_ioctl).
func (FileDefaults) Ioctl(Context, *FileDescription, uint32, uintptr) (uintptr, error) {
	return 0, unix.ENOTTY
}

// Sync fails with EINVAL (vfs_fsync_range() without ->fsync).
func (FileDefaults) Sync(Context) error { return unix.EINVAL }

// DirFileDefaults implements FileImpl for an open directory: read and
// write fail with EISDIR (generic_read_dir()), fsync succeeds. Listing
// goes through the inode's DirIterator.
type DirFileDefaults struct{ FileDefaults }

// Read fails with EISDIR.
func (DirFileDefaults) Read(Context, *FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

// Write fails with EISDIR.
func (DirFileDefaults) Write(Context, *FileDescription, []byte, int64, bool) (int, int64, error) {
	return 0, 0, unix.EISDIR
}

// Sync succeeds: there is nothing to flush (noop_fsync).
func (DirFileDefaults) Sync(Context) error { return nil }
