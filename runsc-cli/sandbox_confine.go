package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Confinement, CLI side. Every verb that starts a sandbox builds its
// `pangolin boot` and `pangolin gofer` commands as before, then hands each to
// confine before Start: confine adds the namespaces, the descriptors and the
// instructions that stage 1 (sandbox_setup.go) needs to lock the process
// down before it runs any sandbox code.
//
//	sentry: new user (mapped to nobody, where user namespaces are
//	        available), mount, PID, IPC, UTS and cgroup namespaces, and a new
//	        empty network namespace for `do` (OCI sandboxes get the spec's,
//	        from startInNetns); an empty read-only root; no capabilities
//	        (see sentryCapabilities); no_new_privs; the descriptors it was
//	        given and nothing else; rlimits; then its seccomp filter.
//	gofer:  new mount, PID, IPC, UTS, cgroup and network namespaces; root
//	        at the container's root filesystem (nosuid, nodev, noexec);
//	        capabilities: the file ones the server needs
//	        (goferCapabilities); no_new_privs; rlimits; its own, narrower
//	        seccomp filter.

// sentryCapabilities are what the sentry keeps: nothing. It traces only its
// own stub processes, which share its credentials, and ptrace(2) needs no
// capability for that (same UID, dumpable, same user namespace with no
// capabilities on either side: __ptrace_may_access() and
// cap_ptrace_access_check()). Yama's ptrace_scope 2 is the exception: it
// wants CAP_SYS_PTRACE for any attach, which the sentry then keeps, in its
// own user namespace where it reaches only its own processes.
func sentryCapabilities() []int {
	if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 2 {
			return []int{unix.CAP_SYS_PTRACE}
		}
	}
	return nil
}

// goferCapabilities are what the file server needs as the owner of every
// file in the tree: create files with the requested owner (CHOWN), open
// and search regardless of mode bits (DAC_OVERRIDE, DAC_READ_SEARCH, which
// linkat(AT_EMPTY_PATH) also needs), chmod/utimes files it does not own
// (FOWNER), keep set-group-ID bits the sentry asked for (FSETID).
var goferCapabilities = []int{unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER, unix.CAP_FSETID}

// Descriptor limits of the confined processes. The sentry holds a host
// descriptor per open donated file besides a few of its own; the gofer one
// per node (server.Options.MaxNodes, 65536 per connection) and per reply in
// flight. An application that opens more gets an error, the host nothing.
const (
	sentryNoFile = 1 << 16
	goferNoFile  = 1 << 18
)

// nobodyID is the host UID and GID a sentry's user namespace maps its root
// to: overflowuid, the conventional nobody. It is also what the host's root
// appears as inside that namespace (it has no mapping there), which is
// whom the control socket must accept (--control-owner-uid).
const nobodyID = 65534

// confineOptions say how confine treats one process.
type confineOptions struct {
	// NewNetwork gives a sentry a new, empty network namespace.
	NewNetwork bool
	// RootRecursive and RootReadOnly describe how the gofer binds its
	// root (see confineSpec).
	RootRecursive, RootReadOnly bool
}

// confinedProc is a process confine set up, until released.
type confinedProc struct {
	kind    string
	userns  bool
	childFs []*os.File // the child's descriptors, closed here after Start
	gate    *os.File   // write end of the gate
	logPath string     // debug log, renamed to <kind>.<pid>.log after Start
}

// confine prepares cmd, a `pangolin boot` (kind "sentry") or `pangolin
// gofer` (kind "gofer") command with its stdio, ExtraFiles and SysProcAttr
// already set, to start confined. After cmd.Start call started; once the
// process is in its cgroups call release, which lets it run the sandbox
// (or abandon, which makes it exit).
func confine(cmd *exec.Cmd, kind string, o confineOptions) (*confinedProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own binary: %w", err)
	}
	exe, err := os.Open(self)
	if err != nil {
		return nil, fmt.Errorf("opening own binary: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		exe.Close()
		return nil, err
	}
	gateW, gateR := os.NewFile(uintptr(fds[0]), "gate"), os.NewFile(uintptr(fds[1]), "gate")
	c := &confinedProc{kind: kind, gate: gateW, childFs: []*os.File{exe, gateR}}
	fail := func(err error) (*confinedProc, error) {
		c.abandon()
		c.closeChildFiles()
		return nil, err
	}
	if err := c.openLog(cmd); err != nil {
		return fail(err)
	}
	spec := confineSpec{Kind: kind}
	attr := cmd.SysProcAttr
	if attr == nil {
		attr = &syscall.SysProcAttr{}
		cmd.SysProcAttr = attr
	}
	attr.Cloneflags |= unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP
	switch kind {
	case kindSentry:
		spec.Caps, spec.NoFile = sentryCapabilities(), sentryNoFile
		if o.NewNetwork {
			attr.Cloneflags |= unix.CLONE_NEWNET
		}
		if why := userNamespaceUnusable(self); why == "" {
			c.userns = true
			attr.Cloneflags |= unix.CLONE_NEWUSER
			attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: nobodyID, Size: 1}}
			attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: nobodyID, Size: 1}}
			attr.GidMappingsEnableSetgroups = false
			// Become the namespace's root (host nobody) before the
			// exec: the host root UID has no mapping in it, and an
			// unmapped UID execs without capabilities, where stage 1
			// needs them to mount and pivot.
			attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
			cmd.Args = insertArgs(cmd.Args, "--control-owner-uid", strconv.Itoa(nobodyID))
		} else {
			warnOnce("the sentry runs without a user namespace (%s): as host root, with no capabilities", why)
		}
	case kindGofer:
		spec.Caps, spec.NoFile = goferCapabilities, goferNoFile
		spec.RootRecursive, spec.RootReadOnly = o.RootRecursive, o.RootReadOnly
		attr.Cloneflags |= unix.CLONE_NEWNET
	default:
		return fail(fmt.Errorf("confine: unknown kind %q", kind))
	}
	spec.Keep = 3 + len(cmd.ExtraFiles)
	spec.ExeFD, spec.GateFD = spec.Keep, spec.Keep+1
	cmd.ExtraFiles = append(cmd.ExtraFiles, exe, gateR)
	b, err := json.Marshal(spec)
	if err != nil {
		return fail(err)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, confineEnv+"="+string(b))
	return c, nil
}

// openLog replaces --debug-log DIR in cmd's flags with --log-fd: the
// confined process cannot reach DIR (the sentry, as nobody, could not even
// create a file there), so the CLI opens the file for it.
func (c *confinedProc) openLog(cmd *exec.Cmd) error {
	for i := 2; i+1 < len(cmd.Args); i++ {
		if cmd.Args[i] == "--" {
			return nil
		}
		if cmd.Args[i] != "--debug-log" {
			continue
		}
		dir := cmd.Args[i+1]
		c.logPath = filepath.Join(dir, fmt.Sprintf("%s.starting-%d.log", c.kind, os.Getpid()))
		f, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("debug log: %w", err)
		}
		c.childFs = append(c.childFs, f)
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		args := append([]string{}, cmd.Args[:i]...)
		args = append(args, "--log-fd", strconv.Itoa(2+len(cmd.ExtraFiles)))
		cmd.Args = append(args, cmd.Args[i+2:]...)
		return nil
	}
	return nil
}

// started is called after cmd.Start succeeded.
func (c *confinedProc) started(pid int) {
	c.closeChildFiles()
	if c.logPath != "" {
		final := filepath.Join(filepath.Dir(c.logPath), fmt.Sprintf("%s.%d.log", c.kind, pid))
		if os.Rename(c.logPath, final) == nil {
			c.logPath = final
		}
	}
}

func (c *confinedProc) closeChildFiles() {
	for _, f := range c.childFs {
		f.Close()
	}
	c.childFs = nil
}

// release lets the process go on (it has been placed in its cgroups) and
// waits until it has finished confining itself and exec'd the command, or
// returns why it could not.
func (c *confinedProc) release() error {
	if c.gate == nil {
		return nil
	}
	defer func() {
		c.gate.Close()
		c.gate = nil
	}()
	_, werr := c.gate.Write([]byte{1})
	buf := make([]byte, 4096)
	n, err := c.gate.Read(buf)
	if errors.Is(err, unix.ECONNRESET) {
		// The process exited with our byte unread; its message, if
		// any, is still queued behind the reported reset.
		n, err = c.gate.Read(buf)
	}
	switch {
	case n > 0:
		return errors.New(string(buf[:n]))
	case err == io.EOF:
		if werr != nil {
			return fmt.Errorf("confining the %s: it exited", c.kind)
		}
		return nil
	case err != nil:
		return fmt.Errorf("confining the %s: %w", c.kind, err)
	}
	return nil
}

// abandon makes a process that was not released exit.
func (c *confinedProc) abandon() {
	if c.gate != nil {
		c.gate.Close()
		c.gate = nil
	}
}

// userNamespaceUnusable says why the sentry cannot run in a user namespace
// mapped to nobody here, or "" if it can.
func userNamespaceUnusable(self string) string {
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return "user.max_user_namespaces is 0"
	}
	st, err := os.Stat(self)
	if err != nil {
		return err.Error()
	}
	// nobody must be able to execute the binary (stage 1 execs it).
	if st.Mode().Perm()&0o001 == 0 {
		return fmt.Sprintf("%s is not executable by others", self)
	}
	return ""
}

var warnedOnce = map[string]bool{}

// warnOnce prints a warning once per process.
func warnOnce(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if warnedOnce[msg] {
		return
	}
	warnedOnce[msg] = true
	fmt.Fprintf(os.Stderr, "pangolin: warning: %s\n", msg)
}
