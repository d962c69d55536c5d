package proc

import (
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// taskDir is /proc/PID (tgid_base_stuff in fs/proc/base.c), /proc/TID
// for a thread that is not a leader, or /proc/PID/task/TID
// (tid_base_stuff).
type taskDir struct {
	node
	fs *Filesystem
	tg *kernel.ThreadGroup
	// t is the thread shown; nil for /proc/PID, which shows the thread
	// group through its leader (or, once the leader has exited, any
	// live thread). Immutable.
	t *kernel.Task
	// thread is set for /proc/PID/task/TID: no task/ entry, and stat
	// counts only the thread. Immutable.
	thread bool
}

// id returns the PID or TID the directory is named by.
func (d *taskDir) id() int32 {
	if d.t != nil {
		return d.t.TID()
	}
	return d.tg.PID()
}

func (fs *Filesystem) newTaskDir(tg *kernel.ThreadGroup, t *kernel.Task) *taskDir {
	d := &taskDir{fs: fs, tg: tg, t: t}
	d.Init(taskIno(d.id(), false, 0), unix.S_IFDIR|0o555, 0, 0, 2, 0)
	return d
}

func (fs *Filesystem) newThreadDir(t *kernel.Task) *taskDir {
	d := &taskDir{fs: fs, tg: t.ThreadGroup(), t: t, thread: true}
	d.Init(taskIno(t.TID(), true, 0), unix.S_IFDIR|0o555, 0, 0, 2, 0)
	return d
}

// task returns the task whose state the directory shows.
func (d *taskDir) task() *kernel.Task {
	if d.t != nil {
		return d.t
	}
	k := d.fs.k
	if l := d.tg.Leader(); l != nil && k.TaskByTID(l.TID()) == l {
		return l
	}
	if ts := threadsOf(k, d.tg); len(ts) > 0 {
		return ts[0]
	}
	return d.tg.Leader()
}

// valid reports whether the process or thread still exists (zombies
// included, as in Linux until they are reaped).
func (d *taskDir) valid() bool {
	k := d.fs.k
	if d.t != nil {
		return k.TaskByTID(d.t.TID()) == d.t
	}
	return k.ThreadGroupByPID(d.tg.PID()) == d.tg
}

// dead reports whether the task shown has exited (a zombie process, or
// an exited thread whose dentry is still open).
func (d *taskDir) dead() bool {
	t := d.task()
	return t == nil || d.fs.k.TaskByTID(t.TID()) != t
}

// owner is the ownerFunc of the directory and its entries.
func (d *taskDir) owner() (uint32, uint32, bool) {
	t := d.task()
	if t == nil {
		return 0, 0, false
	}
	return taskOwner(t)()
}

// Stat implements vfs.Inode.Stat: owned by the task's euid and egid.
func (d *taskDir) Stat() (vfs.Stat, error) {
	st, err := statWithOwner(&d.node, d.owner)
	st.Nlink = uint32(2 + d.numSubdirs())
	return st, err
}

func (d *taskDir) numSubdirs() int {
	if d.thread {
		return 2 // fd, fdinfo
	}
	return 3 // task, fd, fdinfo
}

// Open implements vfs.Inode.Open.
func (d *taskDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return dirFile{}, vfs.FileOptions{}, nil
}

// taskEntry describes one entry of a task directory.
type taskEntry struct {
	name string
	// tgidOnly entries are absent from /proc/PID/task/TID.
	tgidOnly bool
	// make builds the inode with number ino.
	make func(d *taskDir, ino uint64) vfs.Inode
}

// taskEntries lists a task directory's entries, in the order of
// tgid_base_stuff (the subset we implement).
var taskEntries = []taskEntry{
	{"task", true, func(d *taskDir, ino uint64) vfs.Inode { return d.newTasksDir(ino) }},
	{"fd", false, func(d *taskDir, ino uint64) vfs.Inode { return d.newFDDir(ino, false) }},
	{"fdinfo", false, func(d *taskDir, ino uint64) vfs.Inode { return d.newFDDir(ino, true) }},
	{"environ", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o400, d.genEnviron) }},
	{"auxv", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o400, d.genAuxv) }},
	{"status", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genStatus) }},
	{"limits", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genLimits) }},
	{"comm", false, func(d *taskDir, ino uint64) vfs.Inode {
		f := d.file(ino, 0o644, d.genComm)
		f.write = d.writeComm
		return f
	}},
	{"cmdline", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genCmdline) }},
	{"stat", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genStat) }},
	{"statm", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genStatm) }},
	{"maps", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genMaps) }},
	{"smaps", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genSmaps) }},
	{"cwd", false, func(d *taskDir, ino uint64) vfs.Inode {
		return d.fs.newMagicLink(ino, d.owner, d.cwdTarget, func() (vfs.VirtualDentry, *vfs.FileDescription, error) {
			_, cwd, err := d.fsRoots()
			return cwd, nil, err
		})
	}},
	{"root", false, func(d *taskDir, ino uint64) vfs.Inode {
		return d.fs.newMagicLink(ino, d.owner, d.rootTarget, func() (vfs.VirtualDentry, *vfs.FileDescription, error) {
			root, _, err := d.fsRoots()
			return root, nil, err
		})
	}},
	{"exe", false, func(d *taskDir, ino uint64) vfs.Inode { return d.fs.newSymlink(ino, d.owner, d.exeTarget) }},
	{"mounts", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genMounts) }},
	{"mountinfo", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genMountinfo) }},
	{"cgroup", false, func(d *taskDir, ino uint64) vfs.Inode { return d.file(ino, 0o444, d.genCgroup) }},
}

// file returns a per-task regular file.
func (d *taskDir) file(ino uint64, perm uint32, gen genFunc) *file {
	return d.fs.newFile(ino, perm, d.owner, gen)
}

// entries returns the entries present in d with their inode kinds.
func (d *taskDir) entries() []int {
	var out []int
	for i, e := range taskEntries {
		if e.tgidOnly && d.thread {
			continue
		}
		out = append(out, i)
	}
	return out
}

// Lookup implements vfs.Lookuper (proc_pident_lookup()).
func (d *taskDir) Lookup(name string) (vfs.Inode, error) {
	for _, i := range d.entries() {
		if taskEntries[i].name == name {
			return taskEntries[i].make(d, taskIno(d.id(), d.thread, uint64(i+1))), nil
		}
	}
	return nil, unix.ENOENT
}

// IterDirents implements vfs.DirIterator (proc_pident_readdir()).
func (d *taskDir) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	idx := d.entries()
	for j := max(off-2, 0); j < int64(len(idx)); j++ {
		i := idx[j]
		e := taskEntries[i]
		ino := taskIno(d.id(), d.thread, uint64(i+1))
		st, err := e.make(d, ino).Stat()
		if err != nil {
			continue
		}
		if !emit(vfs.Dirent{Name: e.name, Ino: ino, Type: vfs.DirentType(st.Mode), NextOff: j + 3}) {
			return nil
		}
	}
	return nil
}

// tasksDir is /proc/PID/task (proc_task_inode_operations): one directory
// per thread.
type tasksDir struct {
	node
	d *taskDir
}

func (d *taskDir) newTasksDir(ino uint64) *tasksDir {
	td := &tasksDir{d: d}
	td.Init(ino, unix.S_IFDIR|0o555, 0, 0, 2, 0)
	return td
}

// Stat implements vfs.Inode.Stat.
func (td *tasksDir) Stat() (vfs.Stat, error) {
	st, err := statWithOwner(&td.node, td.d.owner)
	st.Nlink = uint32(2 + len(threadsOf(td.d.fs.k, td.d.tg)))
	return st, err
}

// Open implements vfs.Inode.Open.
func (td *tasksDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return dirFile{}, vfs.FileOptions{}, nil
}

// Lookup implements vfs.Lookuper (proc_task_lookup()).
func (td *tasksDir) Lookup(name string) (vfs.Inode, error) {
	tid, ok := parseID(name)
	if !ok {
		return nil, unix.ENOENT
	}
	t := td.d.fs.k.TaskByTID(tid)
	if t == nil || t.ThreadGroup() != td.d.tg {
		return nil, unix.ENOENT
	}
	return td.d.fs.newThreadDir(t), nil
}

// Revalidate implements vfs.Revalidator.
func (td *tasksDir) Revalidate(_ string, child vfs.Inode) bool {
	c, ok := child.(*taskDir)
	return ok && c.valid()
}

// IterDirents implements vfs.DirIterator (proc_task_readdir()): thread
// TID has cookie 2+TID.
func (td *tasksDir) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	for _, t := range threadsOf(td.d.fs.k, td.d.tg) {
		tid := int64(t.TID())
		if 2+tid < off {
			continue
		}
		de := vfs.Dirent{Name: strconv.Itoa(int(tid)), Ino: taskIno(t.TID(), true, 0), Type: vfs.DTDir, NextOff: 2 + tid + 1}
		if !emit(de) {
			return nil
		}
	}
	return nil
}

// fdDir is /proc/PID/fd (mode 0500) or /proc/PID/fdinfo (0555) in
// fs/proc/fd.c.
type fdDir struct {
	node
	d    *taskDir
	info bool
}

func (d *taskDir) newFDDir(ino uint64, info bool) *fdDir {
	fd := &fdDir{d: d, info: info}
	perm := uint32(0o500)
	if info {
		perm = 0o555
	}
	fd.Init(ino, unix.S_IFDIR|perm, 0, 0, 2, 0)
	return fd
}

// Stat implements vfs.Inode.Stat.
func (fd *fdDir) Stat() (vfs.Stat, error) { return statWithOwner(&fd.node, fd.d.owner) }

// Open implements vfs.Inode.Open.
func (fd *fdDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return dirFile{}, vfs.FileOptions{}, nil
}

// table returns the task's descriptor table, or nil once it has exited.
func (fd *fdDir) table() *vfs.FDTable {
	if fd.d.dead() {
		return nil
	}
	return fd.d.task().FDTable()
}

// get returns the open file for descriptor n with a reference, or
// ENOENT.
func (fd *fdDir) get(n int32) (*vfs.FileDescription, vfs.FDFlags, error) {
	tbl := fd.table()
	if tbl == nil {
		return nil, vfs.FDFlags{}, unix.ENOENT
	}
	f, flags, err := tbl.Get(n)
	if err != nil {
		return nil, vfs.FDFlags{}, unix.ENOENT
	}
	return f, flags, nil
}

// Lookup implements vfs.Lookuper (proc_lookupfd_common()).
func (fd *fdDir) Lookup(name string) (vfs.Inode, error) {
	n, ok := parseID(name)
	if !ok {
		return nil, unix.ENOENT
	}
	f, _, err := fd.get(n)
	if err != nil {
		return nil, err
	}
	f.DecRef()
	return fd.child(n), nil
}

// child returns the inode for descriptor n.
func (fd *fdDir) child(n int32) vfs.Inode {
	d := fd.d
	if fd.info {
		f := d.fs.newFile(taskIno(d.id(), d.thread, inoFDInfoBase+uint64(n)), 0o444, d.owner,
			func(vfs.Context) ([]byte, error) { return fd.genFDInfo(n) })
		f.atOpen = true
		return f
	}
	l := d.fs.newMagicLink(taskIno(d.id(), d.thread, inoFDBase+uint64(n)), d.owner, func() (string, error) {
		f, _, err := fd.get(n)
		if err != nil {
			return "", err
		}
		defer f.DecRef()
		return f.Path(), nil
	}, func() (vfs.VirtualDentry, *vfs.FileDescription, error) {
		f, _, err := fd.get(n)
		if err != nil {
			return vfs.VirtualDentry{}, nil, err
		}
		if vd := f.VirtualDentry(); vd.Ok() {
			f.DecRef()
			return vd, nil, nil
		}
		return vfs.VirtualDentry{}, f, nil
	})
	// The link's mode shows how the file is open (proc_fd_instantiate():
	// S_IRUSR for readable, S_IWUSR for writable, both with S_IXUSR).
	if f, _, err := fd.get(n); err == nil {
		perm := uint32(0)
		if f.Readable() {
			perm |= 0o500
		}
		if f.Writable() {
			perm |= 0o300
		}
		f.DecRef()
		l.Init(l.Ino(), unix.S_IFLNK|perm, 0, 0, 1, 0)
	}
	return l
}

// Revalidate implements vfs.Revalidator (tid_fd_revalidate()): an entry
// stays while the descriptor is open.
func (fd *fdDir) Revalidate(name string, _ vfs.Inode) bool {
	n, ok := parseID(name)
	if !ok {
		return false
	}
	f, _, err := fd.get(n)
	if err != nil {
		return false
	}
	f.DecRef()
	return true
}

// IterDirents implements vfs.DirIterator (proc_readfd_common()):
// descriptor n has cookie 2+n.
func (fd *fdDir) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	tbl := fd.table()
	if tbl == nil {
		return unix.ENOENT
	}
	var fds []int32
	tbl.ForEach(func(n int32, _ *vfs.FileDescription, _ vfs.FDFlags) { fds = append(fds, n) })
	slices.Sort(fds)
	d := fd.d
	for _, n := range fds {
		if 2+int64(n) < off {
			continue
		}
		de := vfs.Dirent{Name: strconv.Itoa(int(n)), NextOff: 2 + int64(n) + 1}
		if fd.info {
			de.Ino, de.Type = taskIno(d.id(), d.thread, inoFDInfoBase+uint64(n)), vfs.DTReg
		} else {
			de.Ino, de.Type = taskIno(d.id(), d.thread, inoFDBase+uint64(n)), vfs.DTLnk
		}
		if !emit(de) {
			return nil
		}
	}
	return nil
}
