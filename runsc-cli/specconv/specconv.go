// Package specconv reads an OCI bundle's config.json and converts it to
// the sandbox configuration the sentry boots from (Config), deciding for
// every field whether it is honoured, honoured differently in a sandbox
// (with a logged note), or refused. Nothing is dropped silently: a field
// we do not support is an error when ignoring it would change what the
// app can rely on, and a warning otherwise.
package specconv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Config is what `pangolin boot` needs to build the sandbox. It is JSON so
// the CLI can hand it over a pipe.
type Config struct {
	ID       string  `json:"id"`
	Hostname string  `json:"hostname"`
	Process  Process `json:"process"`
	// RootReadOnly makes the root mount read-only (root.readonly).
	RootReadOnly bool `json:"root_readonly"`
	// Mounts in spec order. Bind mounts name their gofer connection.
	Mounts        []Mount  `json:"mounts"`
	MaskedPaths   []string `json:"masked_paths,omitempty"`
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`
	// PidsLimit bounds the sandbox's tasks (linux.resources.pids), 0: none.
	PidsLimit int64 `json:"pids_limit,omitempty"`
	// MemoryLimit is what the sandbox reports as total memory (the host
	// cgroup enforces it), 0: the host's.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
}

// Process is the container's (or an exec's) process.
type Process struct {
	Args           []string `json:"args"`
	Env            []string `json:"env"`
	Cwd            string   `json:"cwd"`
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGIDs []uint32 `json:"additional_gids,omitempty"`
	Umask          *uint32  `json:"umask,omitempty"`
	Terminal       bool     `json:"terminal,omitempty"`
	NoNewPrivs     bool     `json:"no_new_privileges,omitempty"`
	Rlimits        []Rlimit `json:"rlimits,omitempty"`
	// Caps are capability bit masks; nil: root gets all, others none.
	Caps *Caps `json:"caps,omitempty"`
	// ConsoleRows/Cols is the initial terminal size (process.consoleSize).
	ConsoleRows uint16 `json:"console_rows,omitempty"`
	ConsoleCols uint16 `json:"console_cols,omitempty"`
}

// Caps are capability sets as bit masks (bit N: capability N).
type Caps struct {
	Bounding, Effective, Inheritable, Permitted, Ambient uint64
}

// Rlimit is one resource limit.
type Rlimit struct {
	Resource int    `json:"resource"`
	Soft     uint64 `json:"soft"`
	Hard     uint64 `json:"hard"`
}

// MountKind is how the sentry provides a mount.
type MountKind string

// The mount kinds the sentry implements.
const (
	KindBind   MountKind = "bind"   // a host path served by the gofer
	KindTmpfs  MountKind = "tmpfs"  // sentry memory
	KindProc   MountKind = "proc"   // the sentry's procfs
	KindDev    MountKind = "dev"    // the sentry's /dev (null, zero, tty, ...)
	KindDevpts MountKind = "devpts" // the sentry's terminals
	KindSysfs  MountKind = "sysfs"  // a read-only, empty directory (no sysfs yet)
)

// Mount is one mount of the sandbox.
type Mount struct {
	Destination string    `json:"destination"`
	Kind        MountKind `json:"kind"`
	// Source is the host path of a bind mount (for the gofer).
	Source   string `json:"source,omitempty"`
	ReadOnly bool   `json:"readonly,omitempty"`
	NoSuid   bool   `json:"nosuid,omitempty"`
	NoDev    bool   `json:"nodev,omitempty"`
	NoExec   bool   `json:"noexec,omitempty"`
	// Size (bytes, 0: default) and Mode (0: 01777) of a tmpfs.
	Size int64  `json:"size,omitempty"`
	Mode uint32 `json:"mode,omitempty"`
	// Gofer is the index of the gofer connection serving a bind mount
	// (the root is connection 0).
	Gofer int `json:"gofer,omitempty"`
	// File is set for a bind mount of a non-directory.
	File bool `json:"file,omitempty"`
}

// ErrSpec wraps every problem with config.json.
var ErrSpec = errors.New("config.json")

// LoadSpec reads BUNDLE/config.json.
func LoadSpec(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: no config.json (create one with 'pangolin spec')", bundle)
		}
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if s.Process == nil {
		return nil, fmt.Errorf("%w: process is required", ErrSpec)
	}
	if s.Root == nil || s.Root.Path == "" {
		return nil, fmt.Errorf("%w: root.path is required", ErrSpec)
	}
	return &s, nil
}

// RootPath returns the absolute path of the spec's root, relative paths
// being relative to the bundle, and checks that it is a directory.
func RootPath(s *specs.Spec, bundle string) (string, error) {
	p := s.Root.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(bundle, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("rootfs %s: no such directory", p)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("rootfs %s: not a directory", p)
	}
	return p, nil
}

// Convert turns a spec into the sandbox configuration. warn receives a
// sentence for every field that is honoured only in part.
func Convert(id string, s *specs.Spec, warn func(string)) (*Config, error) {
	c := &Config{ID: id, Hostname: s.Hostname}
	if c.Hostname == "" {
		// Without a hostname the container sees the host's, as a new UTS
		// namespace starts with a copy of its parent's (and a container
		// sharing the host's has it anyway).
		if h, err := os.Hostname(); err == nil {
			c.Hostname = h
		}
	}
	p, err := ConvertProcess(s.Process, warn)
	if err != nil {
		return nil, err
	}
	c.Process = *p
	c.RootReadOnly = s.Root.Readonly
	if s.Domainname != "" {
		warn("domainname is not supported; uname reports (none)")
	}
	gofer := 1
	for i, m := range s.Mounts {
		mm, err := convertMount(m, warn)
		if err != nil {
			return nil, fmt.Errorf("%w: mounts[%d] (%s): %v", ErrSpec, i, m.Destination, err)
		}
		if mm == nil {
			continue
		}
		if mm.Kind == KindBind {
			mm.Gofer = gofer
			gofer++
		}
		c.Mounts = append(c.Mounts, *mm)
	}
	if l := s.Linux; l != nil {
		c.MaskedPaths = l.MaskedPaths
		c.ReadonlyPaths = l.ReadonlyPaths
		if len(l.Sysctl) > 0 {
			keys := make([]string, 0, len(l.Sysctl))
			for k := range l.Sysctl {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			warn(fmt.Sprintf("linux.sysctl (%s) not applied: the sandbox's kernel has its own defaults", strings.Join(keys, ", ")))
		}
		if r := l.Resources; r != nil {
			if r.Pids != nil && r.Pids.Limit > 0 {
				c.PidsLimit = r.Pids.Limit
			}
			if r.Memory != nil && r.Memory.Limit != nil && *r.Memory.Limit > 0 {
				c.MemoryLimit = uint64(*r.Memory.Limit)
			}
		}
		if l.Seccomp != nil {
			warn("linux.seccomp: the app's syscalls never reach the host kernel; the profile is not interpreted yet")
		}
		for _, ns := range l.Namespaces {
			switch ns.Type {
			case specs.UserNamespace:
				if len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0 {
					return nil, fmt.Errorf("%w: user namespaces with ID mappings are not supported", ErrSpec)
				}
			case specs.CgroupNamespace, specs.TimeNamespace:
				warn(fmt.Sprintf("linux.namespaces: %s namespace: the sandbox is its own kernel; ignored", ns.Type))
			case specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace:
				if ns.Path != "" {
					warn(fmt.Sprintf("linux.namespaces: %s namespace %s not joined: each container is its own sandbox with its own", ns.Type, ns.Path))
				}
			}
		}
		if l.IntelRdt != nil {
			warn("linux.intelRdt is not supported; ignored")
		}
		if l.Personality != nil {
			return nil, fmt.Errorf("%w: linux.personality is not supported", ErrSpec)
		}
	}
	return c, nil
}

// ConvertProcess converts process (also exec's --process file).
func ConvertProcess(p *specs.Process, warn func(string)) (*Process, error) {
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("%w: process.args must not be empty", ErrSpec)
	}
	out := &Process{
		Args:           p.Args,
		Env:            p.Env,
		Cwd:            p.Cwd,
		UID:            p.User.UID,
		GID:            p.User.GID,
		AdditionalGIDs: p.User.AdditionalGids,
		Umask:          p.User.Umask,
		Terminal:       p.Terminal,
		NoNewPrivs:     p.NoNewPrivileges,
	}
	if out.Cwd == "" {
		out.Cwd = "/"
	}
	if !strings.HasPrefix(out.Cwd, "/") {
		return nil, fmt.Errorf("%w: process.cwd %q must be absolute", ErrSpec, p.Cwd)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return nil, fmt.Errorf("%w: process.env entry %q is not KEY=VALUE", ErrSpec, e)
		}
	}
	if p.User.Username != "" {
		return nil, fmt.Errorf("%w: process.user.username is for Windows; use uid and gid", ErrSpec)
	}
	if p.ConsoleSize != nil {
		out.ConsoleRows, out.ConsoleCols = uint16(p.ConsoleSize.Height), uint16(p.ConsoleSize.Width)
	}
	for _, r := range p.Rlimits {
		n, ok := rlimits[r.Type]
		if !ok {
			return nil, fmt.Errorf("%w: process.rlimits: unknown resource %q", ErrSpec, r.Type)
		}
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("%w: process.rlimits %s: soft limit %d above hard limit %d", ErrSpec, r.Type, r.Soft, r.Hard)
		}
		out.Rlimits = append(out.Rlimits, Rlimit{Resource: n, Soft: r.Soft, Hard: r.Hard})
	}
	if p.Capabilities != nil {
		var c Caps
		var err error
		for _, set := range []struct {
			names []string
			dst   *uint64
		}{
			{p.Capabilities.Bounding, &c.Bounding},
			{p.Capabilities.Effective, &c.Effective},
			{p.Capabilities.Inheritable, &c.Inheritable},
			{p.Capabilities.Permitted, &c.Permitted},
			{p.Capabilities.Ambient, &c.Ambient},
		} {
			if *set.dst, err = capMask(set.names, warn); err != nil {
				return nil, err
			}
		}
		out.Caps = &c
	}
	if p.ApparmorProfile != "" {
		warn(fmt.Sprintf("process.apparmorProfile %q not applied: the sandbox is the confinement", p.ApparmorProfile))
	}
	if p.SelinuxLabel != "" {
		warn(fmt.Sprintf("process.selinuxLabel %q not applied", p.SelinuxLabel))
	}
	if p.IOPriority != nil {
		warn("process.ioPriority is not supported; ignored")
	}
	if p.Scheduler != nil {
		warn("process.scheduler is not supported; ignored")
	}
	return out, nil
}

// capMask converts capability names to a bit mask. Names the sentry does
// not know (newer than CAP_LAST_CAP) are warned about, as runc does.
func capMask(names []string, warn func(string)) (uint64, error) {
	var m uint64
	for _, n := range names {
		bit, ok := capabilities[strings.ToUpper(n)]
		if !ok {
			if strings.HasPrefix(strings.ToUpper(n), "CAP_") {
				warn(fmt.Sprintf("capability %s unknown to the sandbox; ignored", n))
				continue
			}
			return 0, fmt.Errorf("%w: %q is not a capability", ErrSpec, n)
		}
		m |= 1 << bit
	}
	return m, nil
}

// convertMount maps one spec mount to a sandbox mount, or nil for mounts
// the sandbox provides otherwise (with a warning saying how).
func convertMount(m specs.Mount, warn func(string)) (*Mount, error) {
	if !filepath.IsAbs(m.Destination) {
		return nil, fmt.Errorf("destination must be absolute")
	}
	dst := filepath.Clean(m.Destination)
	out := &Mount{Destination: dst}
	bind := false
	for _, o := range m.Options {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "ro":
			out.ReadOnly = true
		case "rw":
			out.ReadOnly = false
		case "nosuid":
			out.NoSuid = true
		case "nodev":
			out.NoDev = true
		case "noexec":
			out.NoExec = true
		case "suid", "dev", "exec", "relatime", "norelatime", "strictatime", "noatime", "nodiratime", "atime", "diratime":
			// Defaults or timestamp policies: the sentry keeps relatime.
		case "bind", "rbind":
			bind = true
		case "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
			// Propagation: the sandbox's mount table is its own, nothing
			// propagates either way.
		case "size":
			n, err := parseSize(v)
			if err != nil {
				return nil, fmt.Errorf("size=%s: %v", v, err)
			}
			out.Size = n
		case "mode":
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil || n > 0o7777 {
				return nil, fmt.Errorf("mode=%s: not an octal mode", v)
			}
			out.Mode = uint32(n)
		case "newinstance", "ptmxmode", "gid", "uid", "nr_inodes", "nr_blocks":
			if m.Type != "devpts" && m.Type != "tmpfs" {
				warn(fmt.Sprintf("mount %s: option %s ignored", dst, o))
			}
		default:
			warn(fmt.Sprintf("mount %s: option %s not supported; ignored", dst, o))
		}
	}
	if bind || m.Type == "bind" {
		if m.Source == "" || !filepath.IsAbs(m.Source) {
			return nil, fmt.Errorf("bind source %q must be an absolute path", m.Source)
		}
		st, err := os.Stat(m.Source)
		if err != nil {
			return nil, fmt.Errorf("bind source %s: %v", m.Source, err)
		}
		out.Kind, out.Source, out.File = KindBind, m.Source, !st.IsDir()
		return out, nil
	}
	switch m.Type {
	case "proc":
		out.Kind = KindProc
	case "tmpfs":
		out.Kind = KindTmpfs
		if dst == "/dev" {
			// runc populates a tmpfs /dev with device nodes; the sandbox's
			// /dev already holds the devices a container gets.
			out.Kind = KindDev
		}
	case "devpts":
		out.Kind = KindDevpts
	case "sysfs":
		warn(fmt.Sprintf("mount %s: sysfs is not implemented; an empty read-only directory instead", dst))
		out.Kind, out.ReadOnly = KindSysfs, true
	case "mqueue":
		warn(fmt.Sprintf("mount %s: POSIX message queues are not implemented; an empty tmpfs instead", dst))
		out.Kind = KindTmpfs
	case "cgroup", "cgroup2":
		warn(fmt.Sprintf("mount %s: cgroupfs is not implemented inside the sandbox; not mounted", dst))
		return nil, nil
	default:
		return nil, fmt.Errorf("filesystem type %q is not supported (supported: bind, tmpfs, proc, sysfs, devpts, mqueue, cgroup)", m.Type)
	}
	return out, nil
}

// parseSize parses tmpfs's size= (bytes with an optional k, m or g
// suffix; percentages of memory are not supported).
func parseSize(v string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "%"):
		return 0, errors.New("percentages are not supported")
	case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "m"), strings.HasSuffix(v, "M"):
		mult, v = 1<<20, v[:len(v)-1]
	case strings.HasSuffix(v, "g"), strings.HasSuffix(v, "G"):
		mult, v = 1<<30, v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size")
	}
	return n * mult, nil
}

// rlimits maps OCI rlimit names to resource numbers (asm-generic/resource.h).
var rlimits = map[string]int{
	"RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
	"RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
	"RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}

// capabilities maps names to numbers (linux/capability.h), up to
// CAP_CHECKPOINT_RESTORE (40), the sentry's CapLastCap.
var capabilities = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
	"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
	"CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17,
	"CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21,
	"CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23, "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25,
	"CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29,
	"CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33,
	"CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37,
	"CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
}

// CapabilityNames returns every capability name the sandbox knows, in
// number order (for features).
func CapabilityNames() []string {
	names := make([]string, len(capabilities))
	for n, i := range capabilities {
		names[i] = n
	}
	return names
}
