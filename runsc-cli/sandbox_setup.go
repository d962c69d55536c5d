package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	flag "github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// Confinement, stage 1 (the child side of sandbox_confine.go).
//
// The CLI starts `pangolin boot ...` or `pangolin gofer ...` in new
// namespaces with confineEnv set to a confineSpec. Before anything else,
// main calls confineStage1, which in that process
//
//  1. closes every descriptor it was not explicitly given;
//  2. makes its mounts private (MS_SLAVE, recursively) and builds its root:
//     for the sentry an empty read-only tmpfs; for the gofer a bind mount of
//     the container's root filesystem (nosuid, nodev, noexec, read-only if
//     served read-only), with a procfs of its own PID namespace kept open
//     for /proc/self/fd reopens; then pivot_root(2) into it and detaches the
//     old root, so no other host path is reachable any more;
//  3. sets its resource limits;
//  4. waits at the gate until the CLI has put it into the sandbox's
//     cgroups;
//  5. on one locked thread, restricts its capabilities to the kind's
//     minimum (restrictCapabilities), sets no_new_privs, and re-executes
//     the binary from an inherited descriptor (execveat, the binary has no
//     path any more) with the command's own arguments, plus the
//     descriptors stage 1 opened for it.
//
// Stage 2 is the ordinary boot or gofer command, started with exactly the
// credentials of that one thread: capabilities are per thread, and a Go
// process has many, so they can only be dropped reliably across an exec
// (DESIGN.md, pitfall 7). It installs its seccomp filter once it is set up.

// confineEnv carries the JSON confineSpec from the CLI to stage 1. Stage 2
// never sees it.
const confineEnv = "PANGOLIN_CONFINE"

// Kinds of confined process.
const (
	kindSentry = "sentry"
	kindGofer  = "gofer"
)

// confineSpec is what stage 1 needs to know beyond the command line.
type confineSpec struct {
	Kind string `json:"kind"`
	// Keep is the number of descriptors the command itself was given
	// (stdio and ExtraFiles): 0..Keep-1 survive into stage 2.
	Keep int `json:"keep"`
	// ExeFD is the pangolin binary, open for execveat. GateFD is a
	// SOCK_SEQPACKET socket: the CLI sends a byte once it has placed the
	// process in its cgroups (EOF: it gave up), and stage 1 answers with
	// an error message if it fails. Both are closed at the exec, which the
	// CLI sees as EOF.
	ExeFD  int `json:"exe_fd"`
	GateFD int `json:"gate_fd"`
	// Caps are the capabilities stage 2 keeps.
	Caps []int `json:"caps"`
	// NoFile is RLIMIT_NOFILE (soft and hard) for stage 2.
	NoFile uint64 `json:"nofile"`

	// Gofer only: bind the root recursively (an explicit rootfs, whose
	// submounts are part of what was given) or not (the host's /, whose
	// /proc, /sys, /dev and /run must not be served); and read-only.
	RootRecursive bool `json:"root_recursive,omitempty"`
	RootReadOnly  bool `json:"root_read_only,omitempty"`
}

// confineStage1 confines this process as spec (JSON) says and execs the
// command in os.Args. It does not return.
func confineStage1(specJSON string) {
	runtime.LockOSThread()
	spec := confineSpec{GateFD: -1}
	err := json.Unmarshal([]byte(specJSON), &spec)
	if err == nil {
		err = spec.run(os.Args)
	}
	msg := fmt.Sprintf("confining the %s: %v", spec.Kind, err)
	// The CLI reads the gate after releasing it: EOF means the exec
	// happened, a message is why not (the gofer's stderr is /dev/null).
	if spec.GateFD < 0 || unix.Send(spec.GateFD, []byte(msg), 0) != nil {
		fmt.Fprintf(os.Stderr, "pangolin: %s\n", msg)
	}
	os.Exit(1)
}

func (s *confineSpec) run(args []string) error {
	if len(args) < 2 {
		return errors.New("no command")
	}
	if s.ExeFD != s.Keep || s.GateFD != s.Keep+1 {
		return fmt.Errorf("descriptor layout: keep %d, exe %d, gate %d", s.Keep, s.ExeFD, s.GateFD)
	}
	// Nothing but what the CLI passed on purpose (the CLI marks its
	// inherited descriptors close-on-exec too; this is the second line).
	if err := unix.CloseRange(uint(s.GateFD+1), ^uint(0), 0); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	last := lastCap()
	var err error
	switch s.Kind {
	case kindSentry:
		args, err = s.sentryRoot(args)
	case kindGofer:
		args, err = s.goferRoot(args)
	default:
		err = fmt.Errorf("unknown kind %q", s.Kind)
	}
	if err != nil {
		return err
	}
	if err := s.setRlimits(); err != nil {
		return err
	}
	var b [1]byte
	for {
		n, err := unix.Read(s.GateFD, b[:])
		if err == unix.EINTR {
			continue
		}
		if n != 1 {
			// The CLI went away, or gave up, before releasing us.
			os.Exit(1)
		}
		break
	}
	for _, fd := range []int{s.ExeFD, s.GateFD} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return err
		}
	}
	if err := restrictCapabilities(s.Caps, last); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	var env []string
	for _, e := range os.Environ() {
		// The Go runtime's debugging knobs; nothing else of the CLI's
		// environment reaches the sandbox processes.
		if strings.HasPrefix(e, "GOTRACEBACK=") {
			env = append(env, e)
		}
	}
	return fmt.Errorf("exec: %w", execFD(s.ExeFD, args, env))
}

// setRlimits bounds what stage 2 may hold. Core dumps are off: a sentry's
// memory holds the application's.
func (s *confineSpec) setRlimits() error {
	lims := []struct {
		res int
		val uint64
	}{
		{unix.RLIMIT_CORE, 0},
		{unix.RLIMIT_MEMLOCK, 0},
		{unix.RLIMIT_MSGQUEUE, 0},
		{unix.RLIMIT_RTPRIO, 0},
		{unix.RLIMIT_NICE, 0},
	}
	if s.NoFile != 0 {
		lims = append(lims, struct {
			res int
			val uint64
		}{unix.RLIMIT_NOFILE, s.NoFile})
	}
	for _, l := range lims {
		// Never above the current hard limit: raising it needs
		// CAP_SYS_RESOURCE, which root may lack.
		var old unix.Rlimit
		if err := unix.Getrlimit(l.res, &old); err != nil {
			return err
		}
		v := min(l.val, old.Max)
		r := unix.Rlimit{Cur: v, Max: v}
		if err := unix.Setrlimit(l.res, &r); err != nil {
			return fmt.Errorf("setrlimit(%d, %d): %w", l.res, l.val, err)
		}
	}
	return nil
}

// scratchMount mounts a small private tmpfs on an existing host directory
// (in this mount namespace only: propagation is off) to build the new root
// in.
func scratchMount(opts string) (string, error) {
	for _, dir := range []string{"/tmp", "/run", "/mnt", "/dev"} {
		if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
			continue
		}
		err := unix.Mount("pangolin", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts)
		if err != nil {
			return "", fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
		}
		return dir, nil
	}
	return "", errors.New("no directory to mount a tmpfs on")
}

// privateMounts stops mount events from propagating from this mount
// namespace to the host's (MS_SLAVE: the host's still reach us, as runc
// and runsc do).
func privateMounts() error {
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	return nil
}

// pivotInto makes dir, a mount point, the root of this mount namespace and
// detaches the old root: afterwards no path leads to the host's tree
// (pivot_root(".", ".") then unmounting the old root stacked on it, as runc
// does).
func pivotInto(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return unix.Chdir("/")
}

// sentryRoot gives the sentry an empty, read-only root. The sentry never
// names a host path (its seccomp filter has no open), so there is nothing
// to put in it; the one host file it reads at boot, /proc/cpuinfo, is
// opened now and passed as --cpuinfo-fd.
func (s *confineSpec) sentryRoot(args []string) ([]string, error) {
	cpu, err := unix.Open("/proc/cpuinfo", unix.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("/proc/cpuinfo: %w", err)
	}
	if err := privateMounts(); err != nil {
		return nil, err
	}
	dir, err := scratchMount("mode=0555,size=4k,nr_inodes=1")
	if err != nil {
		return nil, err
	}
	if err := pivotInto(dir); err != nil {
		return nil, err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return nil, fmt.Errorf("making the root read-only: %w", err)
	}
	return insertArgs(args, "--cpuinfo-fd", strconv.Itoa(cpu)), nil
}

// insertArgs puts flags right after the subcommand name.
func insertArgs(args []string, flags ...string) []string {
	out := append([]string{}, args[:2]...)
	out = append(out, flags...)
	return append(out, args[2:]...)
}

// goferRoot roots the gofer at the container's root filesystem. The trees
// it serves (the root and each bind mount's source) are opened now and
// passed by descriptor; afterwards only the root is reachable by path, and
// the mount is nosuid, nodev and noexec, so not even a compromised gofer can
// open a device node as a device or run a program from it.
func (s *confineSpec) goferRoot(args []string) ([]string, error) {
	g, err := parseGoferFlags(args[2:])
	if err != nil {
		return nil, err
	}
	if g.root == "" {
		return nil, errors.New("gofer: no --root")
	}
	if err := privateMounts(); err != nil {
		return nil, err
	}
	// A procfs of the gofer's own PID namespace (it is PID 1 there, and
	// alone): the server reopens its O_PATH nodes through /proc/self/fd.
	// subset=pid (Linux 5.8) leaves out everything but the PID
	// directories.
	err = unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "subset=pid")
	if err == unix.EINVAL {
		err = unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	if err != nil {
		return nil, fmt.Errorf("mounting the gofer's procfs: %w", err)
	}
	procFD, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("/proc/self/fd: %w", err)
	}
	// The root is bound through a descriptor: the scratch tmpfs below
	// may cover its path (a rootfs under /tmp).
	rootSrc, err := unix.Open(g.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", g.root, err)
	}
	var mountArgs []string
	for _, m := range g.mounts {
		fd, err := unix.Open(m.path, unix.O_PATH, 0)
		if err != nil {
			return nil, fmt.Errorf("mount source %s: %w", m.path, err)
		}
		a := fmt.Sprintf("%d=%d", fd, m.sockFD)
		if m.ro {
			a += ":ro"
		}
		mountArgs = append(mountArgs, "--mount-fd", a)
	}
	dir, err := scratchMount("mode=0700,size=4k")
	if err != nil {
		return nil, err
	}
	newRoot := dir + "/root"
	if err := unix.Mkdir(newRoot, 0o755); err != nil {
		return nil, err
	}
	flags := uintptr(unix.MS_BIND)
	if s.RootRecursive {
		flags |= unix.MS_REC
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", rootSrc), newRoot, "", flags, ""); err != nil {
		return nil, fmt.Errorf("binding %s: %w", g.root, err)
	}
	unix.Close(rootSrc)
	flags = unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if s.RootReadOnly {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", newRoot, "", flags, ""); err != nil {
		return nil, fmt.Errorf("remounting %s nosuid,nodev,noexec: %w", g.root, err)
	}
	if err := pivotInto(newRoot); err != nil {
		return nil, err
	}
	rootFD, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	out := []string{args[0], args[1], "--root-fd", strconv.Itoa(rootFD), "--proc-fd", strconv.Itoa(procFD),
		"--sock-fd", strconv.Itoa(g.sockFD)}
	if g.ro {
		out = append(out, "--ro")
	}
	if g.logFD >= 0 {
		out = append(out, "--log-fd", strconv.Itoa(g.logFD))
	}
	return append(out, mountArgs...), nil
}

// goferFlags are `pangolin gofer`'s flags, shared by stage 1 (paths) and
// stage 2 (descriptors).
type goferFlags struct {
	root     string
	rootFD   int
	procFD   int
	sockFD   int
	ro       bool
	debugLog string
	logFD    int
	mounts   []goferMount
}

// goferMount is one extra tree: served from path (stage 1) or rootFD
// (stage 2) on the connection sockFD.
type goferMount struct {
	path   string
	rootFD int
	sockFD int
	ro     bool
}

func parseGoferFlags(args []string) (*goferFlags, error) {
	var g goferFlags
	fs := flag.NewFlagSet("gofer", flag.ContinueOnError)
	fs.StringVar(&g.root, "root", "", "directory to serve")
	fs.IntVar(&g.rootFD, "root-fd", -1, "confined: O_PATH descriptor of the directory to serve")
	fs.IntVar(&g.procFD, "proc-fd", -1, "confined: O_PATH descriptor of the gofer's /proc/self/fd")
	fs.IntVar(&g.sockFD, "sock-fd", -1, "FD of the sentry connection")
	fs.BoolVar(&g.ro, "ro", false, "refuse every modification with EROFS")
	fs.StringVar(&g.debugLog, "debug-log", "", "debug log directory")
	fs.IntVar(&g.logFD, "log-fd", -1, "debug log descriptor")
	mounts := fs.StringArray("mount", nil, "also serve PATH (a directory or file) on FD: PATH=FD[:ro]")
	mountFDs := fs.StringArray("mount-fd", nil, "confined: also serve the tree open on ROOTFD on FD: ROOTFD=FD[:ro]")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, m := range *mounts {
		path, fd, ro, err := parseGoferMount(m)
		if err != nil {
			return nil, fmt.Errorf("--mount %q: %v", m, err)
		}
		g.mounts = append(g.mounts, goferMount{path: path, rootFD: -1, sockFD: fd, ro: ro})
	}
	for _, m := range *mountFDs {
		root, fd, ro, err := parseGoferMount(m)
		if err != nil {
			return nil, fmt.Errorf("--mount-fd %q: %v", m, err)
		}
		rfd, err := strconv.Atoi(root)
		if err != nil || rfd < 3 {
			return nil, fmt.Errorf("--mount-fd %q: bad descriptor %q", m, root)
		}
		g.mounts = append(g.mounts, goferMount{rootFD: rfd, sockFD: fd, ro: ro})
	}
	return &g, nil
}
