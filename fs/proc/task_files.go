package proc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/limits"
	"pangolin/sentry/mm"
)

// Generators of the files under /proc/PID. They read the task's state
// through its accessors; a task that has exited (a zombie) shows what
// Linux shows for one: no address space, no descriptors.

// maxArgBytes bounds what cmdline and environ read from the task (the
// argument area is at most a quarter of the stack limit; this keeps a
// hostile layout from making the sentry allocate without bound).
const maxArgBytes = 4 << 20

// memOf returns t's address space, or nil if it has exited.
func (d *taskDir) memOf(t *kernel.Task) *mm.MemoryManager {
	if d.dead() {
		return nil
	}
	return t.MemoryManager()
}

// readMem copies [start, end) of m, stopping at the first unreadable
// byte (access_remote_vm()).
func readMem(m *mm.MemoryManager, start, end uintptr) []byte {
	if m == nil || end <= start {
		return nil
	}
	n := min(end-start, maxArgBytes)
	buf := make([]byte, n)
	got, _ := m.CopyIn(start, buf)
	return buf[:got]
}

// genCmdline renders /proc/PID/cmdline (get_mm_cmdline() in
// fs/proc/base.c): the argument area, NUL-separated. If the program
// overwrote the final NUL (setproctitle(3)), the arguments run on into
// the environment area up to the first NUL (get_mm_proctitle()).
func (d *taskDir) genCmdline(vfs.Context) ([]byte, error) {
	t := d.task()
	m := d.memOf(t)
	if m == nil {
		return nil, nil
	}
	args := readMem(m, m.ArgStart, m.ArgEnd)
	if len(args) == 0 || args[len(args)-1] == 0 {
		return args, nil
	}
	page := readMem(m, m.ArgStart, m.ArgStart+pageSize)
	if i := bytes.IndexByte(page, 0); i >= 0 {
		return page[:i+1], nil
	}
	return page, nil
}

// genEnviron renders /proc/PID/environ (environ_read()).
func (d *taskDir) genEnviron(vfs.Context) ([]byte, error) {
	t := d.task()
	m := d.memOf(t)
	if m == nil {
		return nil, nil
	}
	return readMem(m, m.EnvStart, m.EnvEnd), nil
}

// genAuxv renders /proc/PID/auxv (proc_pid_auxv()): the saved auxiliary
// vector as native 64-bit words, through the AT_NULL pair.
func (d *taskDir) genAuxv(vfs.Context) ([]byte, error) {
	t := d.task()
	m := d.memOf(t)
	if m == nil {
		return nil, nil
	}
	av := m.Auxv
	var out []byte
	for i := 0; i+1 < len(av); i += 2 {
		out = binary.LittleEndian.AppendUint64(out, av[i])
		out = binary.LittleEndian.AppendUint64(out, av[i+1])
		if av[i] == 0 { // AT_NULL
			return out, nil
		}
	}
	return append(out, make([]byte, 16)...), nil
}

// genComm renders /proc/PID/comm (comm_show()).
func (d *taskDir) genComm(vfs.Context) ([]byte, error) {
	return []byte(d.task().Name() + "\n"), nil
}

// writeComm implements writes to /proc/PID/comm (comm_write()): the
// first 15 bytes up to a NUL become the name, only for a task of the
// writer's own thread group (EINVAL otherwise).
func (d *taskDir) writeComm(ctx vfs.Context, src []byte) error {
	caller := callerTask(ctx)
	t := d.task()
	if caller == nil || caller.ThreadGroup() != t.ThreadGroup() {
		return unix.EINVAL
	}
	name := src[:min(len(src), 15)]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	t.SetName(string(name))
	return nil
}

// state returns the task's state as get_task_state() names it. We do
// not track run states: the reader itself is running, an exited task is
// a zombie, every other task is shown sleeping.
func (d *taskDir) state(ctx vfs.Context) string {
	t := d.task()
	switch {
	case d.dead():
		return "Z (zombie)"
	case callerTask(ctx) == t:
		return "R (running)"
	}
	return "S (sleeping)"
}

// sigIgnCatch returns the ignored and caught signal sets
// (collect_sigign_sigcatch()).
func sigIgnCatch(tg *kernel.ThreadGroup) (ign, catch uint64) {
	for sig := 1; sig <= kernel.NumSignals; sig++ {
		switch h := tg.SigAction(sig).Handler; h {
		case kernel.SigDfl:
		case kernel.SigIgn:
			ign |= 1 << (sig - 1)
		default:
			catch |= 1 << (sig - 1)
		}
	}
	return ign, catch
}

// fdSize returns FDSize: the size of the descriptor array, which Linux
// grows in powers of two from NR_OPEN_DEFAULT (64).
func fdSize(tbl *vfs.FDTable) int {
	if tbl == nil {
		return 0
	}
	highest := int32(-1)
	tbl.ForEach(func(n int32, _ *vfs.FileDescription, _ vfs.FDFlags) { highest = max(highest, n) })
	size := 64
	for size <= int(highest) {
		size *= 2
	}
	return size
}

// ticks converts a duration to clock ticks.
func ticks(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d / (time.Second / clockTicks))
}

// genStatus renders /proc/PID/status.
func (d *taskDir) genStatus(ctx vfs.Context) ([]byte, error) {
	k := d.fs.k
	t := d.task()
	tg := t.ThreadGroup()
	dead := d.dead()
	s := taskStatus{
		Name:   t.Name(),
		Umask:  -1,
		State:  d.state(ctx),
		Tgid:   tg.PID(),
		Pid:    t.TID(),
		PPid:   t.PPID(),
		NSpgid: k.PGID(tg),
		NSsid:  k.SID(tg),
		NumCPU: runtime.NumCPU(),
	}
	if c := t.Credentials(); c != nil {
		s.Uid = [4]uint32{c.RealUID, c.EffectiveUID, c.SavedUID, c.FSUID}
		s.Gid = [4]uint32{c.RealGID, c.EffectiveGID, c.SavedGID, c.FSGID}
		s.Groups = c.ExtraGIDs
		s.CapInh, s.CapPrm, s.CapEff = c.InheritableCaps, c.PermittedCaps, c.EffectiveCaps
		s.CapBnd, s.CapAmb = c.BoundingCaps, c.AmbientCaps
	}
	if !dead {
		if fsc := t.FSContext(); fsc != nil {
			s.Umask = int(fsc.Umask())
		}
		s.FDSize = fdSize(t.FDTable())
		if m := t.MemoryManager(); m != nil {
			s.HasMM = true
			s.VmSize = m.VirtualSize()
			s.VmPeak = s.VmSize
			s.VmRSS = m.ResidentSize()
			s.VmHWM = s.VmRSS
			c := m.Counters()
			s.RssAnon, s.RssFile, s.RssShmem = c.AnonRSS, c.FileRSS, c.ShmemRSS
			s.VmData, s.VmStk = c.Data, c.Stack
			s.VmExe = textSize(m)
			if c.Exec > s.VmExe {
				s.VmLib = c.Exec - s.VmExe
			}
		}
		s.SigPnd, s.ShdPnd, s.SigBlk = t.SignalState()
		s.Threads = len(threadsOf(k, tg))
	}
	s.SigIgn, s.SigCgt = sigIgnCatch(tg)
	s.SigQLimit = tg.Limits().Get(unix.RLIMIT_SIGPENDING).Cur
	s.NoNewPrivs = t.NoNewPrivs()
	s.Seccomp, s.SeccompFilters = t.SeccompMode(), t.SeccompFilters()
	return formatStatus(&s), nil
}

// genStat renders /proc/PID/stat (proc_tgid_stat()) or
// /proc/PID/task/TID/stat (proc_tid_stat()).
func (d *taskDir) genStat(ctx vfs.Context) ([]byte, error) {
	k := d.fs.k
	t := d.task()
	tg := t.ThreadGroup()
	s := taskStat{
		PID:        t.TID(),
		Comm:       t.Name(),
		State:      d.state(ctx)[0],
		PPID:       t.PPID(),
		PGID:       k.PGID(tg),
		SID:        k.SID(tg),
		TTYPgrp:    -1,
		Priority:   20, // task_prio(): MAX_PRIO - MAX_RT_PRIO for nice 0
		NumThreads: int64(len(threadsOf(k, tg))),
		StartTime:  ticks(t.StartTime().Sub(k.Boot)),
		RSSLim:     tg.Limits().Get(unix.RLIMIT_RSS).Cur,
		ExitSignal: int32(unix.SIGCHLD),
	}
	if d.t == nil {
		// The process view is named by the PID, whichever thread
		// represents it.
		s.PID = tg.PID()
	}
	if t != tg.Leader() {
		s.ExitSignal = -1 // threads have no exit signal
	}
	if !d.dead() {
		s.UTime = ticks(t.CPUTime())
		if m := t.MemoryManager(); m != nil {
			s.VSize = m.VirtualSize()
			s.RSS = m.ResidentSize() / pageSize
			s.ArgStart, s.ArgEnd = uint64(m.ArgStart), uint64(m.ArgEnd)
			s.StartBrk = uint64(m.Counters().StartBrk)
			if mayReadLayout(callerTask(ctx), t) {
				// do_task_stat() shows the code and stack
				// addresses only to a reader that may ptrace
				// the task.
				s.StartCode, s.EndCode = uint64(m.StartCode), uint64(m.EndCode)
				s.StartStack = uint64(m.StartStack)
			}
			s.StartData, s.EndData = uint64(m.StartData), uint64(m.EndData)
			s.EnvStart, s.EnvEnd = uint64(m.EnvStart), uint64(m.EnvEnd)
		}
		var shared uint64
		s.Pending, shared, s.Blocked = t.SignalState()
		if !d.thread {
			s.Pending |= shared
		}
	} else {
		s.NumThreads = 0
	}
	s.SigIgn, s.SigCatch = sigIgnCatch(tg)
	return formatStat(&s), nil
}

// genStatm renders /proc/PID/statm.
func (d *taskDir) genStatm(vfs.Context) ([]byte, error) {
	m := d.memOf(d.task())
	if m == nil {
		return formatStatm(0, 0, 0, 0, 0), nil
	}
	// shared: file and shmem pages; text: the executable's code;
	// data: data_vm + stack_vm (proc_pid_statm(), task_statm()).
	c := m.Counters()
	return formatStatm(m.VirtualSize()/pageSize, m.ResidentSize()/pageSize,
		(c.FileRSS+c.ShmemRSS)/pageSize, textSize(m)/pageSize, (c.Data+c.Stack)/pageSize), nil
}

// textSize is the page-aligned size of the executable's code
// (PAGE_ALIGN(end_code) - (start_code & PAGE_MASK), task_statm()).
func textSize(m *mm.MemoryManager) uint64 {
	start, end := uint64(m.StartCode)&^(pageSize-1), (uint64(m.EndCode)+pageSize-1)&^(pageSize-1)
	if end <= start {
		return 0
	}
	return end - start
}

// mayReadLayout reports whether reader may see t's code and stack
// addresses in /proc/PID/stat: ptrace_may_access(PTRACE_MODE_READ_FSCREDS)
// without the dumpable and LSM parts: the same thread group, or
// CAP_SYS_PTRACE, or a reader whose fsuid and fsgid match all of t's
// user and group IDs. A caller that is not a task (boot code) may.
func mayReadLayout(reader, t *kernel.Task) bool {
	if reader == nil || reader.ThreadGroup() == t.ThreadGroup() {
		return true
	}
	rc, tc := reader.Credentials(), t.Credentials()
	if rc == nil || tc == nil {
		return false
	}
	if rc.HasCapability(auth.CapSysPtrace) {
		return true
	}
	return rc.FSUID == tc.RealUID && rc.FSUID == tc.EffectiveUID && rc.FSUID == tc.SavedUID &&
		rc.FSGID == tc.RealGID && rc.FSGID == tc.EffectiveGID && rc.FSGID == tc.SavedGID
}

// genLimits renders /proc/PID/limits.
func (d *taskDir) genLimits(vfs.Context) ([]byte, error) {
	ls := d.task().ThreadGroup().Limits()
	var all [limits.NumLimits]limits.Limit
	for i := range all {
		all[i] = ls.Get(i)
	}
	return formatLimits(all), nil
}

// genMaps renders /proc/PID/maps (show_map_vma() via mm.MapEntry).
func (d *taskDir) genMaps(vfs.Context) ([]byte, error) {
	m := d.memOf(d.task())
	if m == nil {
		return nil, nil
	}
	var b bytes.Buffer
	for _, e := range m.Maps() {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// genCgroup renders /proc/PID/cgroup (proc_cgroup_show()): the sandbox
// has a single cgroup v2 hierarchy and every task is at its root, as a
// container with a cgroup namespace sees itself.
func (d *taskDir) genCgroup(vfs.Context) ([]byte, error) {
	return []byte("0::/\n"), nil
}

// fsRoots returns the task's root and working directory.
func (d *taskDir) fsRoots() (root, cwd vfs.VirtualDentry, err error) {
	t := d.task()
	if d.dead() {
		return root, cwd, unix.ENOENT
	}
	fsc := t.FSContext()
	if fsc == nil {
		return root, cwd, unix.ENOENT
	}
	root, cwd = fsc.RootAndCwd()
	return root, cwd, nil
}

// vdPath returns vd's path from the global root, with " (deleted)" for
// an unlinked directory (d_path()). Readlink has no caller, so the path
// is not relative to the reader's root as Linux makes it.
func vdPath(vd vfs.VirtualDentry) (string, error) {
	if !vd.Ok() {
		return "", unix.ENOENT
	}
	p, _ := vd.Mount.Filesystem().VFS().PathName(vfs.VirtualDentry{}, vd)
	if vd.Dentry.IsDead() {
		p += " (deleted)"
	}
	return p, nil
}

// cwdTarget is the target of /proc/PID/cwd (proc_cwd_link()).
func (d *taskDir) cwdTarget() (string, error) {
	_, cwd, err := d.fsRoots()
	if err != nil {
		return "", err
	}
	return vdPath(cwd)
}

// rootTarget is the target of /proc/PID/root (proc_root_link()).
func (d *taskDir) rootTarget() (string, error) {
	root, _, err := d.fsRoots()
	if err != nil {
		return "", err
	}
	return vdPath(root)
}

// exeTarget is the target of /proc/PID/exe (proc_exe_link()): ENOENT
// for a task without an executable (exited, or before its first exec).
func (d *taskDir) exeTarget() (string, error) {
	t := d.task()
	if d.dead() || t.Exe() == "" {
		return "", unix.ENOENT
	}
	return t.Exe(), nil
}

// mountRow is one mount as /proc/PID/mounts and mountinfo show it.
type mountRow struct {
	ID, ParentID uint64
	Dev          uint64
	Root         string // the mount's root within its filesystem
	Point        string // the mount point, relative to the task's root
	FSType       string
	Source       string
	Flags        vfs.MountFlags
}

// mountOpts renders a mount's per-mount options (show_mnt_opts() in
// fs/proc_namespace.c, after "rw"/"ro"). Every mount is relatime, the
// default.
func mountOpts(f vfs.MountFlags) string {
	var b strings.Builder
	if f.ReadOnly {
		b.WriteString("ro")
	} else {
		b.WriteString("rw")
	}
	if f.NoSuid {
		b.WriteString(",nosuid")
	}
	if f.NoDev {
		b.WriteString(",nodev")
	}
	if f.NoExec {
		b.WriteString(",noexec")
	}
	b.WriteString(",relatime")
	return b.String()
}

// formatMounts renders /proc/PID/mounts (show_vfsmnt()).
func formatMounts(rows []mountRow) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", escapeMount(r.Source), escapeMount(r.Point), r.FSType, mountOpts(r.Flags))
	}
	return b.Bytes()
}

// formatMountinfo renders /proc/PID/mountinfo (show_mountinfo()). No
// mount has propagation (optional fields); superblock options are
// "rw".
func formatMountinfo(rows []mountRow) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s - %s %s rw\n",
			r.ID, r.ParentID, unix.Major(r.Dev), unix.Minor(r.Dev),
			escapeMount(r.Root), escapeMount(r.Point), mountOpts(r.Flags),
			r.FSType, escapeMount(r.Source))
	}
	return b.Bytes()
}

// dentryPath returns d's path within its filesystem.
func dentryPath(d *vfs.Dentry) string {
	var parts []string
	for d != nil {
		p := d.Parent()
		if p == nil {
			break
		}
		parts = append(parts, d.Name())
		d = p
	}
	if len(parts) == 0 {
		return "/"
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// mountRows lists the mounts visible from the task's root (mounts
// outside it are skipped, as seq_path_root() does).
func (d *taskDir) mountRows() ([]mountRow, error) {
	root, _, err := d.fsRoots()
	if err != nil {
		return nil, nil
	}
	var rows []mountRow
	for _, m := range d.fs.k.VFS.Mounts() {
		vfsys := m.Filesystem().VFS()
		point, reachable := vfsys.PathName(root, vfs.VirtualDentry{Mount: m, Dentry: m.Root()})
		if !reachable {
			continue
		}
		parent := m.ID()
		if mp := m.MountPoint(); mp.Ok() {
			parent = mp.Mount.ID()
		}
		name := m.Filesystem().Impl().Name()
		rows = append(rows, mountRow{
			ID:       m.ID(),
			ParentID: parent,
			Dev:      m.Filesystem().Dev(),
			Root:     dentryPath(m.Root()),
			Point:    point,
			FSType:   name,
			Source:   name,
			Flags:    m.Flags(),
		})
	}
	return rows, nil
}

// genMounts renders /proc/PID/mounts.
func (d *taskDir) genMounts(vfs.Context) ([]byte, error) {
	rows, err := d.mountRows()
	if err != nil {
		return nil, err
	}
	return formatMounts(rows), nil
}

// genMountinfo renders /proc/PID/mountinfo.
func (d *taskDir) genMountinfo(vfs.Context) ([]byte, error) {
	rows, err := d.mountRows()
	if err != nil {
		return nil, err
	}
	return formatMountinfo(rows), nil
}

// oLargefile is the kernel's O_LARGEFILE on x86-64 (0100000;
// golang.org/x/sys/unix defines the userspace value, 0).
const oLargefile = 0o100000

// formatFDInfo renders /proc/PID/fdinfo/N (seq_show() in fs/proc/fd.c).
func formatFDInfo(pos int64, flags uint32, mntID, ino uint64) []byte {
	return fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", pos, flags, mntID, ino)
}

// genFDInfo renders /proc/PID/fdinfo/n.
func (fd *fdDir) genFDInfo(n int32) ([]byte, error) {
	f, fdFlags, err := fd.get(n)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	flags := f.StatusFlags()
	if fdFlags.CloseOnExec {
		flags |= unix.O_CLOEXEC
	}
	if f.VirtualDentry().Ok() {
		// open(2) forces O_LARGEFILE on 64-bit (force_o_largefile()).
		flags |= oLargefile
	}
	var mntID, ino uint64
	if st, err := f.Stat(); err == nil {
		mntID, ino = st.MountID, st.Ino
	}
	return formatFDInfo(f.Position(), flags, mntID, ino), nil
}
