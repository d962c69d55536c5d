// Package cgroup puts a sandbox in host cgroups and applies the spec's
// linux.resources to it, with cgroup v1 (one hierarchy per controller, as
// on this project's CI machines) or v2 (the unified hierarchy). The whole
// sandbox — sentry, its stub processes and the gofer — is one unit: the
// host enforces the memory and CPU limits on all of it, and the freezer
// pauses it. The pids limit is enforced by the sentry on the app's tasks
// instead (the host's count would include the sentry's own threads).
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Cgroup is one sandbox's cgroup: a directory per v1 controller, or one
// v2 directory.
type Cgroup struct {
	// Dirs maps a v1 controller to its directory; for v2 the key is "".
	Dirs map[string]string
}

// v1Controllers are the controllers the sandbox joins under v1.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "blkio", "devices"}

// Path turns an OCI cgroupsPath into a path below the hierarchy roots.
// "slice:prefix:name" is the systemd driver's form (what --systemd-cgroup
// callers pass); without systemd we create the same scope directory it
// would. An empty path becomes /pangolin/ID.
func Path(cgroupsPath, id string, systemd bool) string {
	if cgroupsPath == "" {
		return filepath.Join("/pangolin", id)
	}
	if parts := strings.Split(cgroupsPath, ":"); systemd || len(parts) == 3 && !strings.HasPrefix(cgroupsPath, "/") {
		if len(parts) == 3 {
			slice := parts[0]
			if slice == "" {
				slice = "system.slice"
			}
			return filepath.Join("/", slice, parts[1]+"-"+parts[2]+".scope")
		}
	}
	return filepath.Join("/", cgroupsPath)
}

// mountpoints returns the v1 controller mount points, and the v2 mount
// point if /sys/fs/cgroup itself is cgroup2.
func mountpoints() (v1 map[string]string, v2 string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	v1 = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || len(fields) < 5 {
			continue
		}
		mp, fstype, super := fields[4], fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup2":
			if mp == "/sys/fs/cgroup" {
				v2 = mp
			}
		case "cgroup":
			for _, o := range strings.Split(super, ",") {
				for _, c := range v1Controllers {
					if o == c {
						v1[c] = mp
					}
				}
			}
		}
	}
	return v1, v2, sc.Err()
}

// New creates the cgroup directories for path and applies r. warn gets
// what could not be applied.
func New(path string, r *specs.LinuxResources, warn func(string)) (*Cgroup, error) {
	v1, v2, err := mountpoints()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	cg := &Cgroup{Dirs: map[string]string{}}
	if v2 != "" && len(v1) == 0 {
		d := filepath.Join(v2, path)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
		cg.Dirs[""] = d
		return cg, cg.applyV2(r, warn)
	}
	for _, c := range v1Controllers {
		mp, ok := v1[c]
		if !ok {
			continue
		}
		d := filepath.Join(mp, path)
		if err := os.MkdirAll(d, 0o755); err != nil {
			cg.Destroy()
			return nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
		if c == "cpuset" {
			// A new v1 cpuset is empty and admits no task: inherit the
			// parent's CPUs and memory nodes down the new path.
			if err := fillCpuset(mp, d); err != nil {
				cg.Destroy()
				return nil, err
			}
		}
		cg.Dirs[c] = d
	}
	if err := cg.applyV1(r, warn); err != nil {
		cg.Destroy()
		return nil, err
	}
	return cg, nil
}

func fillCpuset(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	cur := root
	for _, part := range strings.Split(rel, "/") {
		parent := cur
		cur = filepath.Join(cur, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			b, err := os.ReadFile(filepath.Join(cur, f))
			if err == nil && strings.TrimSpace(string(b)) != "" {
				continue
			}
			pb, err := os.ReadFile(filepath.Join(parent, f))
			if err != nil {
				return fmt.Errorf("cgroup %s: %w", parent, err)
			}
			if err := write(cur, f, strings.TrimSpace(string(pb))); err != nil {
				return err
			}
		}
	}
	return nil
}

func write(dir, file, val string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0); err != nil {
		return fmt.Errorf("cgroup %s=%s: %w", filepath.Join(dir, file), val, err)
	}
	return nil
}

func (cg *Cgroup) applyV1(r *specs.LinuxResources, warn func(string)) error {
	if r == nil {
		return nil
	}
	set := func(ctrl, file, val string) error {
		d, ok := cg.Dirs[ctrl]
		if !ok {
			warn(fmt.Sprintf("cgroup controller %s not mounted: %s=%s not applied", ctrl, file, val))
			return nil
		}
		return write(d, file, val)
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit > 0 {
			if err := set("memory", "memory.limit_in_bytes", strconv.FormatInt(*m.Limit, 10)); err != nil {
				return err
			}
		}
		if m.Swap != nil && *m.Swap > 0 {
			if d, ok := cg.Dirs["memory"]; ok {
				if _, err := os.Stat(filepath.Join(d, "memory.memsw.limit_in_bytes")); err == nil {
					if err := write(d, "memory.memsw.limit_in_bytes", strconv.FormatInt(*m.Swap, 10)); err != nil {
						return err
					}
				}
			}
		}
		if m.Reservation != nil && *m.Reservation > 0 {
			if err := set("memory", "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10)); err != nil {
				return err
			}
		}
		if m.Kernel != nil || m.KernelTCP != nil {
			warn("linux.resources.memory.kernel/kernelTCP are deprecated and not applied")
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares > 0 {
			if err := set("cpu", "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
				return err
			}
		}
		if c.Period != nil && *c.Period > 0 {
			if err := set("cpu", "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)); err != nil {
				return err
			}
		}
		if c.Quota != nil && *c.Quota != 0 {
			if err := set("cpu", "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10)); err != nil {
				return err
			}
		}
		if c.Cpus != "" {
			if err := set("cpuset", "cpuset.cpus", c.Cpus); err != nil {
				return err
			}
		}
		if c.Mems != "" {
			if err := set("cpuset", "cpuset.mems", c.Mems); err != nil {
				return err
			}
		}
		if c.RealtimePeriod != nil || c.RealtimeRuntime != nil {
			warn("linux.resources.cpu realtime settings are not applied")
		}
	}
	warnRest(r, warn)
	return nil
}

func (cg *Cgroup) applyV2(r *specs.LinuxResources, warn func(string)) error {
	if r == nil {
		return nil
	}
	d := cg.Dirs[""]
	if m := r.Memory; m != nil && m.Limit != nil && *m.Limit > 0 {
		if err := write(d, "memory.max", strconv.FormatInt(*m.Limit, 10)); err != nil {
			return err
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares > 0 {
			// The conversion runc and crun use: [2, 262144] -> [1, 10000].
			w := 1 + ((*c.Shares-2)*9999)/262142
			if err := write(d, "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
				return err
			}
		}
		if c.Quota != nil && *c.Quota > 0 {
			period := uint64(100000)
			if c.Period != nil && *c.Period > 0 {
				period = *c.Period
			}
			if err := write(d, "cpu.max", fmt.Sprintf("%d %d", *c.Quota, period)); err != nil {
				return err
			}
		}
		if c.Cpus != "" {
			if err := write(d, "cpuset.cpus", c.Cpus); err != nil {
				return err
			}
		}
		if c.Mems != "" {
			if err := write(d, "cpuset.mems", c.Mems); err != nil {
				return err
			}
		}
	}
	warnRest(r, warn)
	return nil
}

// warnRest reports the resources applied nowhere.
func warnRest(r *specs.LinuxResources, warn func(string)) {
	if r.BlockIO != nil && (r.BlockIO.Weight != nil || len(r.BlockIO.ThrottleReadBpsDevice)+len(r.BlockIO.ThrottleWriteBpsDevice)+len(r.BlockIO.WeightDevice) > 0) {
		warn("linux.resources.blockIO is not applied: the sandbox does no block I/O of its own")
	}
	if len(r.HugepageLimits) > 0 {
		warn("linux.resources.hugepageLimits are not applied")
	}
	if r.Network != nil {
		warn("linux.resources.network is not applied")
	}
	if len(r.Rdma) > 0 {
		warn("linux.resources.rdma is not applied")
	}
	if len(r.Unified) > 0 {
		warn("linux.resources.unified is not applied")
	}
}

// Join moves the process pid (all its threads) into the cgroup.
func (cg *Cgroup) Join(pid int) error {
	for c, d := range cg.Dirs {
		if err := write(d, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			if c == "devices" || c == "blkio" {
				continue // not needed for anything we enforce
			}
			return err
		}
	}
	return nil
}

// Freeze stops (true) or thaws (false) every process in the cgroup and
// waits until the kernel reports the new state.
func (cg *Cgroup) Freeze(frozen bool) error {
	if d, ok := cg.Dirs[""]; ok {
		v := "0"
		if frozen {
			v = "1"
		}
		return write(d, "cgroup.freeze", v)
	}
	d, ok := cg.Dirs["freezer"]
	if !ok {
		return errors.New("no freezer cgroup: pause needs the freezer controller")
	}
	want := "THAWED"
	if frozen {
		want = "FROZEN"
	}
	for i := 0; i < 1000; i++ {
		if err := write(d, "freezer.state", want); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(d, "freezer.state"))
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) == want {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("cgroup %s: did not become %s", d, want)
}

// Stats are the numbers events --stats reports.
type Stats struct {
	MemoryUsage, MemoryLimit, MemoryMaxUsage uint64
	CPUUsageNanos                            uint64
	Pids                                     uint64
}

// Stats reads the cgroup's counters (zero where a file is missing).
func (cg *Cgroup) Stats() Stats {
	var s Stats
	rd := func(ctrl, file string) uint64 {
		d, ok := cg.Dirs[ctrl]
		if !ok {
			return 0
		}
		b, err := os.ReadFile(filepath.Join(d, file))
		if err != nil {
			return 0
		}
		v, _ := strconv.ParseUint(strings.Fields(string(b) + " 0")[0], 10, 64)
		return v
	}
	if _, ok := cg.Dirs[""]; ok {
		s.MemoryUsage = rd("", "memory.current")
		s.Pids = rd("", "pids.current")
		return s
	}
	s.MemoryUsage = rd("memory", "memory.usage_in_bytes")
	s.MemoryLimit = rd("memory", "memory.limit_in_bytes")
	s.MemoryMaxUsage = rd("memory", "memory.max_usage_in_bytes")
	s.CPUUsageNanos = rd("cpuacct", "cpuacct.usage")
	s.Pids = rd("pids", "pids.current")
	return s
}

// Destroy removes the cgroup directories. Processes still in them belong
// to the dead sandbox (stub processes finishing their exit, a gofer not
// yet gone) and are killed first, as runc's destroy does; removal is
// retried while they leave, which the kernel does asynchronously.
func (cg *Cgroup) Destroy() error {
	var last error
	for _, d := range cg.Dirs {
		last = nil
		for i := 0; i < 500; i++ {
			err := os.Remove(d)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				last = nil
				break
			}
			last = err
			if b, rerr := os.ReadFile(filepath.Join(d, "cgroup.procs")); rerr == nil {
				for _, f := range strings.Fields(string(b)) {
					if pid, perr := strconv.Atoi(f); perr == nil && pid > 0 {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return last
}

// FromDirs rebuilds a Cgroup from saved directories.
func FromDirs(dirs []string) *Cgroup {
	cg := &Cgroup{Dirs: map[string]string{}}
	for _, d := range dirs {
		key := ""
		// /sys/fs/cgroup/<controller>/...: the controller is the
		// component after the hierarchy root, for v1.
		if rel, err := filepath.Rel("/sys/fs/cgroup", d); err == nil {
			first, _, _ := strings.Cut(rel, "/")
			for _, c := range v1Controllers {
				if first == c {
					key = c
				}
			}
		}
		cg.Dirs[key] = d
	}
	return cg
}

// List returns the directories, for saving.
func (cg *Cgroup) List() []string {
	var out []string
	for _, d := range cg.Dirs {
		out = append(out, d)
	}
	return out
}
