package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
	"pangolin/runsc-cli/specconv"
)

func init() {
	register(&command{
		name:    "exec",
		summary: "run a new process in a running container",
		run:     runExec,
		synopsis: `pangolin exec [flags] ID [CMD [ARGS...]]

Runs CMD (or the process described by --process FILE, in config.json's
"process" format) as a new process in the running container ID, in the same
sandbox kernel. Without --detach it waits and exits with the process's status.
Defaults (environment, user, working directory) come from the container's
config.json, as with runc.

Example:
  pangolin exec -t c1 /bin/bash
  pangolin exec --detach --pid-file /run/e1.pid --process /tmp/p.json c1`,
	})
}

type execOpts struct {
	process       string
	tty           bool
	consoleSocket string
	detach        bool
	pidFile       string
	env           []string
	cwd           string
	user          string
	addGIDs       []string
	caps          []string
	noNewPrivs    bool
	readyFD       int
}

func runExec(args []string) int {
	var o execOpts
	fs := newFlags("exec")
	fs.StringVarP(&o.process, "process", "p", "", "JSON file with the process (config.json's process object)")
	fs.BoolVarP(&o.tty, "tty", "t", false, "give the process a terminal")
	fs.StringVar(&o.consoleSocket, "console-socket", "", "AF_UNIX socket to send the terminal's master to")
	fs.BoolVarP(&o.detach, "detach", "d", false, "return once the process started")
	fs.StringVar(&o.pidFile, "pid-file", "", "file to write the PID of the process tracking the exec to")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable K=V (repeatable)")
	fs.StringVar(&o.cwd, "cwd", "", "working directory in the container")
	fs.StringVarP(&o.user, "user", "u", "", "UID[:GID] to run as")
	fs.StringArrayVarP(&o.addGIDs, "additional-gids", "g", nil, "additional group ID (repeatable)")
	fs.StringArrayVarP(&o.caps, "cap", "c", nil, "add a capability (repeatable)")
	fs.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.String("process-label", "", "accepted for compatibility (no SELinux in the sandbox)")
	fs.String("apparmor", "", "accepted for compatibility (no AppArmor in the sandbox)")
	fs.Int("preserve-fds", 0, "accepted for compatibility; must be 0")
	fs.IntVar(&o.readyFD, "internal-ready-fd", -1, "internal: report start on this FD (detached exec)")
	fs.MarkHidden("internal-ready-fd")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "exec")
	if !ok {
		return 1
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	switch st := c.CurrentStatus(); st {
	case container.Running:
	case container.Paused:
		c.Release()
		return errorf(1, "cannot exec in a paused container")
	default:
		c.Release()
		return errorf(1, "cannot exec in a %s container", st)
	}
	ea, err := execArgs(c, o, fs.Args()[1:])
	c.Release() // the exec may run for hours; other verbs need the lock
	if err != nil {
		return errorf(1, "%v", err)
	}
	if o.detach {
		return execDetached(o, ea.Terminal)
	}
	return execAndWait(c, o, ea)
}

// execArgs builds the process from the container's spec, --process and
// the flags, in runc's order of precedence.
func execArgs(c *container.Container, o execOpts, cmd []string) (*control.ExecArgs, error) {
	var p *specs.Process
	if o.process != "" {
		b, err := os.ReadFile(o.process)
		if err != nil {
			return nil, fmt.Errorf("process file: %w", err)
		}
		p = new(specs.Process)
		if err := json.Unmarshal(b, p); err != nil {
			return nil, fmt.Errorf("process file %s: %w", o.process, err)
		}
	} else {
		spec, err := specconv.LoadSpec(c.Bundle)
		if err != nil {
			return nil, err
		}
		p = spec.Process
		p.Args = cmd
		p.Terminal = o.tty
		if len(cmd) == 0 {
			return nil, fmt.Errorf("exec: no command given (usage: pangolin exec ID CMD [ARGS...])")
		}
	}
	p.Env = append(p.Env, o.env...)
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	if o.user != "" {
		u, g, hasG := strings.Cut(o.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want UID[:GID] (numbers; there are no names outside the sandbox)", o.user)
		}
		p.User.UID = uint32(uid)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: bad GID", o.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range o.addGIDs {
		gid, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--additional-gids %q: not a number", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	if len(o.caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		pc := p.Capabilities
		pc.Bounding = append(pc.Bounding, o.caps...)
		pc.Effective = append(pc.Effective, o.caps...)
		pc.Permitted = append(pc.Permitted, o.caps...)
	}
	if o.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if p.Terminal && o.consoleSocket == "" && o.detach {
		return nil, fmt.Errorf("cannot allocate a terminal for a detached exec without --console-socket")
	}
	sp, err := specconv.ConvertProcess(p, func(w string) { warnf("%s", w) })
	if err != nil {
		return nil, err
	}
	ea := &control.ExecArgs{Args: sp.Args, Env: sp.Env, Cwd: sp.Cwd, UID: sp.UID, GID: sp.GID,
		AdditionalGIDs: sp.AdditionalGIDs, Terminal: sp.Terminal, NoNewPrivs: sp.NoNewPrivs,
		Rows: sp.ConsoleRows, Cols: sp.ConsoleCols}
	if sp.Caps != nil {
		ea.Caps = &control.Caps{Bounding: sp.Caps.Bounding, Effective: sp.Caps.Effective,
			Inheritable: sp.Caps.Inheritable, Permitted: sp.Caps.Permitted, Ambient: sp.Caps.Ambient}
	}
	return ea, nil
}

// execDetached re-executes this command without --detach in the
// background: that process starts the exec, reports on a pipe, and then
// stays to wait for it, exiting with its status. Its PID goes in the pid
// file: containerd's shim reaps it for the exec's exit status and signals
// it to signal the exec (it forwards every signal).
func execDetached(o execOpts, terminal bool) int {
	self, err := os.Executable()
	if err != nil {
		return errorf(1, "%v", err)
	}
	var child []string
	for _, a := range origArgs[1:] {
		if a == "-d" || a == "--detach" || a == "--detach=true" {
			continue
		}
		child = append(child, a)
	}
	// Global flags come before the verb; the ready FD goes after it.
	for i, a := range child {
		if a == "exec" {
			child = append(child[:i+1], append([]string{"--internal-ready-fd", "3"}, child[i+1:]...)...)
			break
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return errorf(1, "%v", err)
	}
	cmd := exec.Command(self, child...)
	// Without a terminal our stdio are the process's (the shim's FIFOs)
	// and the waiter passes them on. With one, the process talks to the
	// console, and our stdio are the caller's pipes: the waiter must not
	// keep them, or a caller reading them to EOF (containerd's shim
	// reads runc's output that way) would wait for the process.
	if !terminal {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return errorf(1, "starting exec: %v", err)
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if line != "ok\n" {
		cmd.Wait()
		msg := strings.TrimSpace(line)
		if msg == "" {
			msg = "exec failed"
		}
		return errorf(1, "%s", msg)
	}
	if o.pidFile != "" {
		if err := writePidFile(o.pidFile, cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			return errorf(1, "%v", err)
		}
	}
	cmd.Process.Release()
	return 0
}

// execAndWait starts the process and waits for it.
func execAndWait(c *container.Container, o execOpts, ea *control.ExecArgs) int {
	ready := func(msg string) {
		if o.readyFD >= 0 {
			f := os.NewFile(uintptr(o.readyFD), "ready")
			f.WriteString(msg + "\n")
			f.Close()
			o.readyFD = -1
		}
	}
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		ready(msg)
		return errorf(1, "%s", msg)
	}
	var fds []int
	var master *os.File
	if ea.Terminal {
		m, replica, err := newHostPty()
		if err != nil {
			return fail("%v", err)
		}
		defer replica.Close()
		setConsoleSize(replica, ea.Rows, ea.Cols)
		if o.consoleSocket != "" {
			err = sendConsole(o.consoleSocket, m)
			m.Close()
			if err != nil {
				return fail("%v", err)
			}
		} else {
			master = m
			defer master.Close()
			resizeFrom(os.Stdin, replica)
		}
		fds = []int{int(replica.Fd())}
	} else {
		fds = []int{0, 1, 2}
	}
	resp, err := call(c, &control.Request{Method: control.MethodExec, Exec: ea}, fds...)
	if err != nil {
		return fail("exec failed: %v", err)
	}
	pid := resp.PID
	// Catch signals before telling anyone we are here: the pid file
	// names this process, and a signal sent to it as soon as the file
	// appears must be forwarded, not kill the waiter and leave the
	// exec'd process running.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	ready("ok")
	if master != nil {
		if restore, err := makeRaw(int(os.Stdin.Fd())); err == nil {
			defer restore()
		}
		go io.Copy(master, os.Stdin)
		go io.Copy(os.Stdout, master)
	}
	done := make(chan *control.Response, 1)
	errc := make(chan error, 1)
	go func() {
		r, err := call(c, &control.Request{Method: control.MethodWait, PID: pid, KillOnHangup: true})
		if err != nil {
			errc <- err
			return
		}
		done <- r
	}()
	for {
		select {
		case r := <-done:
			return r.ExitStatus
		case err := <-errc:
			return errorf(1, "waiting for process %d: %v", pid, err)
		case s := <-sigs:
			sig := s.(syscall.Signal)
			switch sig {
			case unix.SIGCHLD, unix.SIGPIPE, unix.SIGURG:
				continue
			case unix.SIGWINCH:
				if master != nil {
					resizeFrom(os.Stdin, master)
				}
				continue
			}
			_, _ = call(c, &control.Request{Method: control.MethodSignal, PID: pid, Signo: int(sig)})
		}
	}
}
