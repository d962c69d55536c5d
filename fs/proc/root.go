package proc

import (
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/kernel"
)

// rootDir is /proc (proc_root_inode_operations and proc_root_readdir()
// in fs/proc/root.c): fixed entries, then one directory per process.
type rootDir struct {
	node
	fs *Filesystem
	// fixed are the non-process entries. Immutable after New.
	fixed []dirEntry
}

func (fs *Filesystem) newRootDir() *rootDir {
	d := &rootDir{fs: fs}
	fs.nextIno.Store(1)
	top := func(name string, gen genFunc) dirEntry {
		f := fs.newFile(fs.ino(), 0o444, nil, gen)
		f.writeErr = unix.EIO
		return dirEntry{name, f}
	}
	d.fixed = []dirEntry{
		{"self", fs.newSelfLink(false)},
		{"thread-self", fs.newSelfLink(true)},
		top("cpuinfo", fs.genCPUInfo),
		top("meminfo", fs.genMeminfo),
		top("uptime", fs.genUptime),
		top("version", fs.genVersion),
		top("loadavg", fs.genLoadavg),
		top("stat", fs.genStat),
		top("filesystems", fs.genFilesystems),
		top("vmstat", fs.genVmstat),
		top("cmdline", fs.genKernelCmdline),
		{"mounts", fs.newSymlink(fs.ino(), nil, func() (string, error) { return "self/mounts", nil })},
		{"net", fs.newNetDir()},
		{"sys", fs.newSysDir()},
	}
	d.Init(1, unix.S_IFDIR|0o555, 0, 0, uint32(2+countDirs(d.fixed)), 0)
	return d
}

// Stat implements vfs.Inode.Stat. The link count counts process
// directories too, as proc_root_getattr() does.
func (d *rootDir) Stat() (vfs.Stat, error) {
	st := d.StatAttrs()
	st.Nlink += uint32(len(d.fs.k.ThreadGroups()))
	return st, nil
}

// Open implements vfs.Inode.Open.
func (d *rootDir) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return dirFile{}, vfs.FileOptions{}, nil
}

// Lookup implements vfs.Lookuper (proc_root_lookup()): a fixed entry,
// or a PID. Like proc_pid_lookup(), any live TID resolves, although only
// thread group leaders are listed.
func (d *rootDir) Lookup(name string) (vfs.Inode, error) {
	for _, e := range d.fixed {
		if e.name == name {
			return e.inode, nil
		}
	}
	id, ok := parseID(name)
	if !ok {
		return nil, unix.ENOENT
	}
	k := d.fs.k
	if tg := k.ThreadGroupByPID(id); tg != nil {
		return d.fs.newTaskDir(tg, nil), nil
	}
	if t := k.TaskByTID(id); t != nil {
		return d.fs.newTaskDir(t.ThreadGroup(), t), nil
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator (pid_revalidate()): a process
// directory stays valid while its process (or thread) does.
func (d *rootDir) Revalidate(name string, child vfs.Inode) bool {
	td, ok := child.(*taskDir)
	if !ok {
		return true
	}
	return td.valid()
}

// IterDirents implements vfs.DirIterator. Fixed entry i has cookie i+2;
// process p has cookie pidBase+p, so iteration resumes correctly while
// processes come and go (TGID_OFFSET in fs/proc/base.c).
func (d *rootDir) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	if off < 2+int64(len(d.fixed)) {
		stopped := false
		if err := iterEntries(d.fixed, off, 2, func(de vfs.Dirent) bool {
			if !emit(de) {
				stopped = true
				return false
			}
			return true
		}); err != nil || stopped {
			return err
		}
	}
	pidBase := 2 + int64(len(d.fixed))
	var pids []int32
	for _, tg := range d.fs.k.ThreadGroups() {
		pids = append(pids, tg.PID())
	}
	slices.Sort(pids)
	for _, p := range pids {
		if pidBase+int64(p) < off {
			continue
		}
		de := vfs.Dirent{
			Name:    strconv.Itoa(int(p)),
			Ino:     taskIno(p, false, 0),
			Type:    vfs.DTDir,
			NextOff: pidBase + int64(p) + 1,
		}
		if !emit(de) {
			return nil
		}
	}
	return nil
}

// parseID parses a PID or fd number directory entry name: decimal, no
// sign, no leading zeros (name_to_int() in fs/proc/util.c).
func parseID(name string) (int32, bool) {
	if name == "" || len(name) > 10 || (len(name) > 1 && name[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(name, 10, 31)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// selfLink is /proc/self or /proc/thread-self.
type selfLink struct {
	node
	thread bool
}

// The target of /proc/self depends on the task that resolves it
// (proc_self_get_link() and proc_thread_self_get_link() read current).
var _ vfs.ContextReadlinker = (*selfLink)(nil)

func (fs *Filesystem) newSelfLink(thread bool) *selfLink {
	s := &selfLink{thread: thread}
	s.Init(fs.ino(), unix.S_IFLNK|0o777, 0, 0, 1, 0)
	return s
}

// Stat implements vfs.Inode.Stat.
func (s *selfLink) Stat() (vfs.Stat, error) { return s.StatAttrs(), nil }

// Open implements vfs.Inode.Open.
func (s *selfLink) Open(vfs.Context, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	return nil, vfs.FileOptions{}, unix.ELOOP
}

// Readlink implements vfs.Readlinker for a caller the VFS did not name.
// Without a task there is no PID to point at: like proc_self_get_link()
// for a caller outside the PID namespace, it fails with ENOENT.
func (s *selfLink) Readlink() (string, error) { return "", unix.ENOENT }

// ReadlinkContext implements vfs.ContextReadlinker: "<pid>" or
// "<pid>/task/<tid>" of the calling task.
func (s *selfLink) ReadlinkContext(ctx vfs.Context) (string, error) {
	t := callerTask(ctx)
	if t == nil {
		return "", unix.ENOENT
	}
	return selfTarget(t.ThreadGroup().PID(), t.TID(), s.thread), nil
}

// selfTarget formats the target of /proc/self or /proc/thread-self.
func selfTarget(pid, tid int32, thread bool) string {
	if thread {
		return strconv.Itoa(int(pid)) + "/task/" + strconv.Itoa(int(tid))
	}
	return strconv.Itoa(int(pid))
}

// threadsOf returns tg's live threads sorted by TID.
func threadsOf(k *kernel.Kernel, tg *kernel.ThreadGroup) []*kernel.Task {
	var out []*kernel.Task
	for _, t := range k.Tasks() {
		if t.ThreadGroup() == tg {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *kernel.Task) int { return int(a.TID() - b.TID()) })
	return out
}
