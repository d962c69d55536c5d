package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/cgroup"
)

// defaultDoTasks bounds a `pangolin do` sandbox's tasks by default. Each
// task is one sentry OS thread and one stub thread on the host, and the Go
// runtime aborts a process at 10000 threads: the sandbox must refuse
// clone(2) (EAGAIN) well before that.
const defaultDoTasks = 4096

// sandboxLimits are a `do` sandbox's resource bounds.
type sandboxLimits struct {
	appMemory  uint64 // what the application may allocate
	hostMemory uint64 // the sandbox's host cgroup: application plus reserve
	tasks      int    // the application's tasks
	hostPids   int64  // the host pids cgroup: a backstop above tasks
}

// doLimits computes the limits of a `do` sandbox from its flags.
func doLimits(f doFlags) (sandboxLimits, error) {
	var l sandboxLimits
	if f.memory != "" {
		n, err := parseBytes(f.memory)
		if err != nil || n < 16<<20 {
			return l, fmt.Errorf("--memory %q: want a size of at least 16M (e.g. 512M, 2G)", f.memory)
		}
		l.appMemory = n
	} else {
		var si unix.Sysinfo_t
		if err := unix.Sysinfo(&si); err != nil {
			return l, err
		}
		l.appMemory = si.Totalram * uint64(si.Unit) / 2
	}
	l.hostMemory = l.appMemory + memoryReserve(l.appMemory)
	l.tasks = f.pids
	// A task is a sentry thread and a stub thread, an address space a
	// stub process; plus the runtimes' own threads and the gofer.
	l.hostPids = 3*int64(l.tasks) + 512
	return l, nil
}

// parseBytes parses a size with an optional K, M, G or T suffix (powers of
// 1024), as docker --memory does.
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	s = strings.TrimSuffix(s, "B")
	mult := uint64(1)
	for i, suf := range []string{"K", "M", "G", "T"} {
		if strings.HasSuffix(s, suf) {
			mult = 1 << (10 * (i + 1))
			s = strings.TrimSuffix(s, suf)
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > ^uint64(0)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// doCgroup is a `do` sandbox's host cgroup, or nothing if cgroups cannot be
// used here (then the sentry's own limits are all there is, and a warning
// says so).
type doCgroup struct {
	cg *cgroup.Cgroup
}

// newDoCgroup creates pangolin/do-<pid> below the CLI's own cgroup, with
// the memory limit and a pids backstop. Below, not beside: whatever limits
// the caller runs under (a test's fence, a systemd unit) keep applying to
// the sandbox.
func newDoCgroup(l sandboxLimits) *doCgroup {
	mem := int64(l.hostMemory)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}}
	parent := filepath.Join(ownCgroup(), "pangolin")
	reapDoCgroups(parent)
	path := filepath.Join(parent, fmt.Sprintf("do-%d", os.Getpid()))
	cg, err := cgroup.New(path, r, func(s string) { warnf("%s", s) })
	if err != nil {
		warnOnce("no host cgroup for the sandbox (%v): only the sentry's own memory and task limits apply", err)
		return &doCgroup{}
	}
	d := &doCgroup{cg: cg}
	// The cgroup package leaves pids to the sentry (an OCI pids limit
	// counts the app's tasks); here the host limit is only a fence.
	for ctl, dir := range cg.Dirs {
		if ctl == "pids" || ctl == "" {
			if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.FormatInt(l.hostPids, 10)), 0); err != nil {
				warnOnce("host pids limit not set: %v", err)
			}
		}
	}
	return d
}

func (d *doCgroup) join(pid int) error {
	if d.cg == nil {
		return nil
	}
	return d.cg.Join(pid)
}

func (d *doCgroup) destroy() {
	if d.cg != nil {
		d.cg.Destroy()
	}
}

// ownCgroup returns the CLI's cgroup path below the hierarchy root: the
// memory controller's under cgroup v1, the unified one under v2, "/" if
// unknown.
func ownCgroup() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "/"
	}
	unified := "/"
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				return parts[2]
			}
		}
		if parts[0] == "0" && parts[1] == "" {
			unified = parts[2]
		}
	}
	return unified
}

// reapDoCgroups removes the empty cgroups of `do` CLIs that died without
// cleaning up (killed with SIGKILL: their sandbox went with them, through
// PR_SET_PDEATHSIG, but not its cgroup). A cgroup whose CLI is alive is
// left alone, even if empty: it may be setting up.
func reapDoCgroups(parent string) {
	v1, v2 := cgroupRoots()
	for _, root := range append(v1, v2...) {
		dirs, _ := filepath.Glob(filepath.Join(root, parent, "do-*"))
		for _, d := range dirs {
			pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "do-"))
			if err != nil || pid == os.Getpid() || unix.Kill(pid, 0) != unix.ESRCH {
				continue
			}
			_ = unix.Rmdir(d) // fails, harmlessly, if something is still in it
		}
	}
}

// cgroupRoots returns the v1 hierarchies' mount points and the v2 mount
// point, from /proc/self/mountinfo.
func cgroupRoots() (v1, v2 []string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, pf := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(pf) < 3 {
			continue
		}
		switch pf[0] {
		case "cgroup2":
			v2 = append(v2, f[4])
		case "cgroup":
			v1 = append(v1, f[4])
		}
	}
	return v1, v2
}
