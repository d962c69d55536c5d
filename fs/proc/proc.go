// Package proc is procfs for the sentry (fs/proc in Linux): a synthetic
// filesystem whose files are generated from kernel state when they are
// read.
//
// Mount it at /proc:
//
//	pfs, err := proc.New(k)
//	fs, err := k.VFS.NewFilesystem(pfs, pfs.Root())
//	_, err = k.VFS.Mount(ctx, fsc, "/proc", fs, vfs.MountFlags{NoSuid: true, NoDev: true, NoExec: true})
//
// Layout: the root directory lists the fixed entries (self, thread-self,
// cpuinfo, meminfo, ..., sys) followed by one directory per live process;
// /proc/PID holds the per-process files and task/ the per-thread ones.
// Inodes under /proc/PID are created on each lookup and bound to the
// process (or thread); the VFS caches them and revalidates them against
// the live task table (pid_revalidate() in fs/proc/base.c).
//
// Files are seq_file-like: the content is generated on the first read and
// on every read at offset 0, and later reads are served from that
// snapshot, so a reader that reads sequentially sees one consistent
// version.
//
// Lock order: vfs locks (Dentry.mu during Lookup/Revalidate) before
// kernel.Kernel.mu before seqFile.mu. Generators run with no procfs lock
// but seqFile.mu held.
package proc

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// procSuperMagic is PROC_SUPER_MAGIC (include/uapi/linux/magic.h).
const procSuperMagic = 0x9fa0

// Filesystem is one procfs instance (a proc superblock). It implements
// vfs.FilesystemImpl.
type Filesystem struct {
	// k is the kernel whose tasks are shown. Immutable.
	k *kernel.Kernel
	// root is the root directory. Immutable after New.
	root *rootDir
	// nextIno allocates inode numbers for static inodes (dynamic ones
	// use taskIno). Atomic.
	nextIno atomic.Uint64
	// cpu is the CPU description /proc/cpuinfo renders, captured at New.
	// Immutable.
	cpu cpuInfo
	// hostMem is the host's RAM in bytes, used when the kernel reports
	// no total. Immutable.
	hostMem uint64
	// bootID is /proc/sys/kernel/random/boot_id. Immutable.
	bootID string
}

// New returns a procfs instance showing k. Mount Root() with
// vfs.VirtualFilesystem.NewFilesystem(fs, fs.Root()).
func New(k *kernel.Kernel) (*Filesystem, error) {
	fs := &Filesystem{k: k, cpu: hostCPUInfo(), bootID: newUUID()}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err == nil {
		fs.hostMem = uint64(si.Totalram) * uint64(si.Unit)
	}
	fs.root = fs.newRootDir()
	return fs, nil
}

// Root returns the root directory inode.
func (fs *Filesystem) Root() vfs.Inode { return fs.root }

// Name implements vfs.FilesystemImpl.Name.
func (fs *Filesystem) Name() string { return "proc" }

// Statfs implements vfs.FilesystemImpl.Statfs (simple_statfs() with
// PROC_SUPER_MAGIC).
func (fs *Filesystem) Statfs() (vfs.Statfs, error) {
	return vfs.Statfs{Type: procSuperMagic, Bsize: 4096, Frsize: 4096, Namelen: vfs.NameMax}, nil
}

// ino returns a fresh inode number for a static inode.
func (fs *Filesystem) ino() uint64 { return fs.nextIno.Add(1) }

// Dynamic inode numbers: an inode under /proc/PID gets a number derived
// from the TID it shows and what it is, so that the numbers getdents
// reports match what stat(2) reports after a lookup, and stay stable
// while the task lives. Static inodes count up from 1 and stay far
// below taskInoBase.
const (
	taskInoBase   = uint64(1) << 40
	taskInoThread = uint64(1) << 39 // per-thread view (/proc/PID/task/TID)
	inoFDBase     = 1 << 20         // kinds >= inoFDBase are fd/ entries
	inoFDInfoBase = 1 << 21         // kinds >= inoFDInfoBase are fdinfo/ entries
)

// taskIno returns the inode number for kind (0: the directory itself,
// 1..: its entries, inoFDBase+fd, inoFDInfoBase+fd) of tid's directory.
func taskIno(tid int32, thread bool, kind uint64) uint64 {
	n := taskInoBase | uint64(tid)<<22 | kind
	if thread {
		n |= taskInoThread
	}
	return n
}

// node is the part of every procfs inode: attributes, and SetStat
// refused as proc_setattr() refuses mode changes (we refuse every
// change, which Linux only allows for owner and times).
type node struct {
	vfs.InodeAttrs
}

// SetStat implements vfs.Inode.SetStat.
func (*node) SetStat(vfs.Context, vfs.SetStat) error { return unix.EPERM }

// ownerFunc reports the owner of an inode under /proc/PID: the task's
// effective uid and gid (task_dump_owner() in fs/proc/base.c), or false
// if the task is gone.
type ownerFunc func() (uid, gid uint32, ok bool)

// taskOwner returns the ownerFunc for t.
func taskOwner(t *kernel.Task) ownerFunc {
	return func() (uint32, uint32, bool) {
		c := t.Credentials()
		if c == nil {
			return 0, 0, false
		}
		return c.EffectiveUID, c.EffectiveGID, true
	}
}

// statWithOwner is Stat for inodes with a dynamic owner.
func statWithOwner(n *node, owner ownerFunc) (vfs.Stat, error) {
	st := n.StatAttrs()
	if owner != nil {
		if uid, gid, ok := owner(); ok {
			st.UID, st.GID = uid, gid
		}
	}
	return st, nil
}

// genFunc produces a file's content. ctx is the reader.
type genFunc func(ctx vfs.Context) ([]byte, error)

// writeFunc accepts a write of a whole buffer.
type writeFunc func(ctx vfs.Context, src []byte) error

// file is a regular procfs file whose content gen produces.
type file struct {
	node
	owner ownerFunc
	gen   genFunc
	// write handles writes; nil makes writes fail with writeErr
	// (EINVAL for /proc/PID files, which have no ->write, so vfs_write()
	// refuses; EIO for top-level proc_create_single() files, whose
	// proc_reg_write() finds no proc_write).
	write    writeFunc
	writeErr error
	// atOpen generates the content when the file is opened instead of
	// at read time (fdinfo: generating it reads the position of a file
	// description, which may be the very file being read, whose
	// position lock the VFS holds during read).
	atOpen bool
}

// newFile returns a read-only regular file with permissions perm.
func (fs *Filesystem) newFile(ino uint64, perm uint32, owner ownerFunc, gen genFunc) *file {
	f := &file{owner: owner, gen: gen, writeErr: unix.EINVAL}
	f.Init(ino, unix.S_IFREG|perm, 0, 0, 1, 0)
	return f
}

// Stat implements vfs.Inode.Stat. Size is 0, as for every proc file.
func (f *file) Stat() (vfs.Stat, error) { return statWithOwner(&f.node, f.owner) }

// Open implements vfs.Inode.Open.
func (f *file) Open(ctx vfs.Context, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	sf := &seqFile{f: f}
	if f.atOpen {
		data, err := f.gen(ctx)
		if err != nil {
			return nil, vfs.FileOptions{}, err
		}
		sf.mu.Lock()
		sf.data, sf.valid = data, true
		sf.mu.Unlock()
	}
	return sf, vfs.FileOptions{}, nil
}

// seqFile is an open procfs file (struct seq_file).
type seqFile struct {
	vfs.FileDefaults
	f *file

	mu sync.Mutex
	// data is the snapshot being read; valid is set once generated.
	// Protected by mu.
	// +checklocks:mu
	data []byte
	// +checklocks:mu
	valid bool
}

// Read implements vfs.FileImpl.Read. As seq_read_iter() does, a read at
// offset 0 starts over with fresh content.
func (sf *seqFile) Read(ctx vfs.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if !sf.valid || (off == 0 && !sf.f.atOpen) {
		data, err := sf.f.gen(ctx)
		if err != nil {
			return 0, err
		}
		sf.data, sf.valid = data, true
	}
	if off >= int64(len(sf.data)) {
		return 0, nil
	}
	return copy(dst, sf.data[off:]), nil
}

// Write implements vfs.FileImpl.Write.
func (sf *seqFile) Write(ctx vfs.Context, _ *vfs.FileDescription, src []byte, off int64, _ bool) (int, int64, error) {
	if sf.f.write == nil {
		return 0, 0, sf.f.writeErr
	}
	if err := sf.f.write(ctx, src); err != nil {
		return 0, 0, err
	}
	if off < 0 {
		off = 0
	}
	return len(src), off + int64(len(src)), nil
}

// Seek implements vfs.Seeker as seq_lseek() does: SEEK_SET and SEEK_CUR
// only (the content has no size until generated).
func (sf *seqFile) Seek(_ vfs.Context, pos, offset int64, whence int) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		offset += pos
	default:
		return 0, unix.EINVAL
	}
	if offset < 0 {
		return 0, unix.EINVAL
	}
	return offset, nil
}

// symlink is a procfs symlink whose target is computed when read.
type symlink struct {
	node
	owner  ownerFunc
	target func() (string, error)
}

// newSymlink returns a symlink (mode 0777) with a computed target.
func (fs *Filesystem) newSymlink(ino uint64, owner ownerFunc, target func() (string, error)) *symlink {
	s := &symlink{owner: owner, target: target}
	s.Init(ino, unix.S_IFLNK|0o777, 0, 0, 1, 0)
	return s
}

// Stat implements vfs.Inode.Stat.
func (s *symlink) Stat() (vfs.Stat, error) { return statWithOwner(&s.node, s.owner) }

// Open implements vfs.Inode.Open: a symlink is never opened itself.
func (s *symlink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.Readlinker.
func (s *symlink) Readlink() (string, error) { return s.target() }

// magicLink is a symlink that path resolution jumps through to an object
// (/proc/PID/fd/N, cwd, root: proc_fd_link(), proc_cwd_link(),
// proc_root_link()); its text is only what readlink(2) shows.
type magicLink struct {
	symlink
	jump func() (vfs.VirtualDentry, *vfs.FileDescription, error)
}

var _ vfs.MagicLink = (*magicLink)(nil)

// newMagicLink returns a magic link with a computed text and target.
func (fs *Filesystem) newMagicLink(ino uint64, owner ownerFunc, target func() (string, error), jump func() (vfs.VirtualDentry, *vfs.FileDescription, error)) *magicLink {
	m := &magicLink{symlink: symlink{owner: owner, target: target}, jump: jump}
	m.Init(ino, unix.S_IFLNK|0o777, 0, 0, 1, 0)
	return m
}

// Jump implements vfs.MagicLink.
func (m *magicLink) Jump() (vfs.VirtualDentry, *vfs.FileDescription, error) { return m.jump() }

// dirFile is an open procfs directory.
type dirFile struct{ vfs.DirFileDefaults }

// dirEntry is one entry of a static directory.
type dirEntry struct {
	name  string
	inode vfs.Inode
}

// staticDir is a directory with a fixed list of entries (the sys/
// subtree).
type staticDir struct {
	node
	entries []dirEntry
}

// newStaticDir returns a directory (mode 0555) with the given entries.
func (fs *Filesystem) newStaticDir(entries []dirEntry) *staticDir {
	d := &staticDir{entries: entries}
	d.Init(fs.ino(), unix.S_IFDIR|0o555, 0, 0, uint32(2+countDirs(entries)), 0)
	return d
}

func countDirs(entries []dirEntry) int {
	n := 0
	for _, e := range entries {
		if st, err := e.inode.Stat(); err == nil && st.IsDir() {
			n++
		}
	}
	return n
}

// Stat implements vfs.Inode.Stat.
func (d *staticDir) Stat() (vfs.Stat, error) { return d.StatAttrs(), nil }

// Open implements vfs.Inode.Open.
func (d *staticDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return dirFile{}, vfs.FileOptions{}, nil
}

// Lookup implements vfs.Lookuper.
func (d *staticDir) Lookup(name string) (vfs.Inode, error) {
	for _, e := range d.entries {
		if e.name == name {
			return e.inode, nil
		}
	}
	return nil, unix.ENOENT
}

// IterDirents implements vfs.DirIterator: entry i has cookie i+2.
func (d *staticDir) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	return iterEntries(d.entries, off, 2, emit)
}

// iterEntries emits entries[i] with cookie base+i (NextOff base+i+1),
// starting at off.
func iterEntries(entries []dirEntry, off, base int64, emit func(vfs.Dirent) bool) error {
	for i := max(off-base, 0); i < int64(len(entries)); i++ {
		e := entries[i]
		st, err := e.inode.Stat()
		if err != nil {
			continue
		}
		if !emit(vfs.Dirent{Name: e.name, Ino: st.Ino, Type: vfs.DirentType(st.Mode), NextOff: base + i + 1}) {
			return nil
		}
	}
	return nil
}

// callerTask returns the task behind ctx, or nil when the caller is not
// a task (boot code, tests).
func callerTask(ctx vfs.Context) *kernel.Task {
	// Contexts that wrap a task (access(2) checks with other
	// credentials) expose it through KernelTask.
	if tc, ok := ctx.(interface{ KernelTask() *kernel.Task }); ok {
		return tc.KernelTask()
	}
	return nil
}
