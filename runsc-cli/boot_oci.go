package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/runsc-cli/control"
	"pangolin/runsc-cli/specconv"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/limits"
	"pangolin/sentry/memfile"
	"pangolin/sentry/syscalls/linux"
)

// ociBootFlags are boot's descriptors in OCI mode (create): the sandbox
// configuration, the control socket, the ready pipe and the gofer
// connections (the root first, then each bind mount).
type ociBootFlags struct {
	configFD  int
	controlFD int
	readyFD   int
	goferFDs  []int
}

// readyMsg is what boot writes on the ready pipe: create returns once it
// arrives. Code is the exit code create should use for an error (127 for
// a command that is not found, as runc's errors make docker report).
type readyMsg struct {
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
}

// ociSandbox is a booted sandbox waiting for, or running, its container.
type ociSandbox struct {
	cfg *specconv.Config
	k   *kernel.Kernel
	sb  *sandboxFS

	// init is what start runs; immutable after boot.
	init kernel.InitArgs

	mu sync.Mutex
	// started is set by the first start. Protected by mu.
	started bool
	// procs are init and the processes exec started, by PID, kept after
	// they exit so wait can report their status. Protected by mu.
	procs map[int32]*kernel.ThreadGroup
	// ttys are the processes with a terminal, for resize. Protected by mu.
	ttys map[int32]*sandboxTTY

	// exit receives init's status (or a status for a container killed
	// before start).
	exit chan int
	// waits counts wait calls in flight, answered before the sandbox
	// exits.
	waits sync.WaitGroup
	// netFDs are the packet sockets of --network=sandbox (set at boot).
	netFDs []int
}

func bootOCI(c bootConfig, of ociBootFlags) int {
	ready := os.NewFile(uintptr(of.readyFD), "ready")
	fail := func(code int, format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		log.Printf("boot failed: %s", msg)
		b, _ := json.Marshal(readyMsg{Error: msg, Code: code})
		ready.Write(append(b, '\n'))
		ready.Close()
		return code
	}
	cfgFile := os.NewFile(uintptr(of.configFD), "config")
	b, err := io.ReadAll(io.LimitReader(cfgFile, 16<<20))
	cfgFile.Close()
	if err != nil {
		return fail(1, "reading sandbox config: %v", err)
	}
	var cfg specconv.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fail(1, "sandbox config: %v", err)
	}
	if len(of.goferFDs) == 0 {
		return fail(1, "no gofer connection")
	}
	s := &ociSandbox{cfg: &cfg, procs: map[int32]*kernel.ThreadGroup{}, ttys: map[int32]*sandboxTTY{}, exit: make(chan int, 1)}
	if code, err := s.boot(c, of.goferFDs); err != nil {
		return fail(code, "%v", err)
	}
	owner := os.Geteuid()
	if c.ownerUID >= 0 {
		owner = c.ownerUID
	}
	if err := installSentryFilter(c.platform, of.controlFD, s.netFDs); err != nil {
		return fail(1, "%v", err)
	}
	ln := os.NewFile(uintptr(of.controlFD), "control")
	go func() {
		if err := control.ServeFor(ln, control.HandlerFunc(s.handle), owner); err != nil {
			log.Printf("control socket: %v", err)
		}
	}()
	b, _ = json.Marshal(readyMsg{})
	ready.Write(append(b, '\n'))
	ready.Close()

	code := <-s.exit
	// The app's last output must reach the host terminal before we go.
	s.mu.Lock()
	ttys := make([]*sandboxTTY, 0, len(s.ttys))
	for _, t := range s.ttys {
		ttys = append(ttys, t)
	}
	s.mu.Unlock()
	for _, t := range ttys {
		t.drain(2 * time.Second)
	}
	// Let waits on exec'd processes (killed with init) report first, but
	// never hang the exit on a caller that stopped reading.
	done := make(chan struct{})
	go func() { s.waits.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	log.Printf("sandbox exiting with status %d", code)
	return code
}

// boot builds the kernel and filesystem and prepares init. It returns an
// exit code to use with its error.
func (s *ociSandbox) boot(c bootConfig, goferFDs []int) (int, error) {
	mf, err := memfile.New("pangolin-memory", memFileSize)
	if err != nil {
		return 1, err
	}
	plat, err := newPlatform(c.platform)
	if err != nil {
		return 1, fmt.Errorf("platform %s: %w", c.platform, err)
	}
	sb, err := newOCIFilesystem(s.cfg, goferFDs)
	if err != nil {
		return 1, err
	}
	s.sb = sb
	k, err := kernel.New(kernel.Config{
		Platform: plat,
		MemFile:  mf,
		VFS:      sb.vfs,
		Syscalls: linux.Table(),
		Debug:    c.debugLog != "",
		Strace:   c.strace,
		Hostname: s.cfg.Hostname,
	})
	if err != nil {
		return 1, err
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		k.HostMemory = si.Totalram * uint64(si.Unit)
	}
	if s.netFDs, err = configureNetwork(k, c.netConfig); err != nil {
		return 1, err
	}
	if s.cfg.MemoryLimit != 0 {
		// The host cgroup has the container's limit; the application
		// gets what the sandbox's own processes leave of it.
		applyLimits(k, mf, appMemoryLimit(s.cfg.MemoryLimit), 0)
	}
	k.Opener = sb.openExec
	if s.cfg.PidsLimit > 0 {
		k.SetTaskLimit(int(s.cfg.PidsLimit))
	}
	s.k = k
	if err := sb.mountOCI(s.cfg, k); err != nil {
		return 1, err
	}
	p := &s.cfg.Process
	args, err := s.processArgs(p)
	if err != nil {
		return exitNotFound, err
	}
	if p.Terminal {
		tty, err := newSandboxTTY(sb, k, p.UID, p.ConsoleRows, p.ConsoleCols)
		if err != nil {
			return 1, fmt.Errorf("terminal: %w", err)
		}
		args.FDTable, err = tty.fdTable()
		if err != nil {
			return 1, fmt.Errorf("terminal: %w", err)
		}
		s.ttys[0] = tty
	} else {
		args.FDTable, err = sb.stdioTable()
		if err != nil {
			return 1, fmt.Errorf("stdio: %w", err)
		}
	}
	s.init = args
	return 0, nil
}

// processArgs resolves a process's credentials, limits, working directory
// and executable. Errors are worded as runc's (docker maps "executable
// file not found" to exit status 127).
func (s *ociSandbox) processArgs(p *specconv.Process) (kernel.InitArgs, error) {
	creds := credentials(p.UID, p.GID, p.AdditionalGIDs, p.Caps)
	ls := limits.NewDefault()
	for _, r := range p.Rlimits {
		if _, err := ls.Set(r.Resource, limits.Limit{Cur: r.Soft, Max: r.Hard}, true); err != nil {
			return kernel.InitArgs{}, fmt.Errorf("rlimit %d: %w", r.Resource, err)
		}
	}
	fsc, err := s.sb.fsContext(creds, p.Cwd)
	if err != nil {
		return kernel.InitArgs{}, fmt.Errorf("chdir to cwd (%q) set in config.json failed: %s", p.Cwd, errnoText(err))
	}
	if p.Umask != nil {
		fsc.SetUmask(*p.Umask & 0o777)
	}
	filename, err := s.sb.lookPath(creds, fsc, p.Args[0], p.Env)
	if err == nil && strings.Contains(filename, "/") {
		// Checked now, as runc's init checks before it waits for start:
		// a command that cannot be executed fails create (docker's 126),
		// not start, which would leave a created container behind.
		var f interface{ DecRef() }
		if f, err = s.sb.vfs.OpenExec(vfs.CredsContext(creds), fsc, nil, filename, false); err == nil {
			f.DecRef()
		}
	}
	if err != nil {
		if strings.Contains(p.Args[0], "/") {
			return kernel.InitArgs{}, fmt.Errorf("exec: %q: %s", p.Args[0], errnoText(err))
		}
		return kernel.InitArgs{}, fmt.Errorf("exec: %q: executable file not found in $PATH", p.Args[0])
	}
	return kernel.InitArgs{Filename: filename, Argv: p.Args, Envv: p.Env, Creds: creds, FS: fsc, Limits: ls}, nil
}

// errnoText is err as strerror words, lower case ("no such file or
// directory").
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// credentials builds the app's credentials: root has every capability
// unless the spec lists them; others have none unless listed.
func credentials(uid, gid uint32, extra []uint32, caps *specconv.Caps) *auth.Credentials {
	c := auth.NewUserCredentials(uid, gid, extra)
	if caps != nil {
		c.BoundingCaps = caps.Bounding
		c.EffectiveCaps = caps.Effective
		c.PermittedCaps = caps.Permitted
		c.InheritableCaps = caps.Inheritable
		c.AmbientCaps = caps.Ambient
	}
	return c
}

// handle serves one control request.
func (s *ociSandbox) handle(req *control.Request, fds []*os.File, hup <-chan struct{}) (*control.Response, error) {
	switch req.Method {
	case control.MethodStart:
		closeFiles(fds)
		return &control.Response{}, s.start()
	case control.MethodSignal:
		closeFiles(fds)
		return &control.Response{}, s.signal(req)
	case control.MethodExec:
		return s.execProcess(req.Exec, fds)
	case control.MethodWait:
		closeFiles(fds)
		return s.wait(req.PID, req.All, hup)
	case control.MethodPs:
		closeFiles(fds)
		return &control.Response{Processes: s.ps()}, nil
	case control.MethodResize:
		closeFiles(fds)
		s.mu.Lock()
		tty := s.ttys[req.PID]
		s.mu.Unlock()
		if tty == nil {
			return nil, control.Errorf(unix.ENOTTY, "process %d has no terminal", req.PID)
		}
		tty.resize(req.Rows, req.Cols)
		return &control.Response{}, nil
	}
	closeFiles(fds)
	return nil, control.Errorf(unix.ENOSYS, "unknown method %q", req.Method)
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// start runs init.
func (s *ociSandbox) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return control.Errorf(unix.EALREADY, "container already started")
	}
	s.started = true
	if err := s.k.StartInit(s.init); err != nil {
		// The container's process could not start: the sandbox ends
		// with the status a shell gives, as runc's init would.
		code := exitNotExecutable
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			code = exitNotFound
		}
		s.exit <- code
		return control.Errorf(unix.ENOEXEC, "starting container process: %s", errnoText(err))
	}
	tg := s.k.ThreadGroupByPID(1)
	if tg == nil {
		// Init exited already; its status arrives through WaitInit.
		go func() { s.exit <- s.k.WaitInit().ShellStatus() }()
		return nil
	}
	s.procs[tg.PID()] = tg
	if tty := s.ttys[0]; tty != nil {
		tty.setSession(tg)
		s.ttys[tg.PID()] = tty
	}
	go func() {
		ws := s.k.WaitInit()
		log.Printf("init exited: %+v", ws)
		s.exit <- ws.ShellStatus()
	}()
	return nil
}

// signal delivers req.Signo like kill(2) from outside the sandbox's PID
// namespace: PID 1 is protected (a signal whose action is the default is
// ignored unless it is SIGKILL), other processes are not.
func (s *ociSandbox) signal(req *control.Request) error {
	sig := req.Signo
	if sig < 0 || sig > kernel.NumSignals {
		return control.Errorf(unix.EINVAL, "invalid signal %d", sig)
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		// The container's process has not been started: there is nothing
		// to deliver to, and a terminating signal ends the container
		// (runc's init, waiting on its exec FIFO, dies of it).
		if sig == 0 {
			return nil
		}
		if terminates(sig) {
			s.mu.Lock()
			s.started = true // start after kill fails
			s.mu.Unlock()
			s.exit <- 128 + sig
		}
		return nil
	}
	// Sent from outside the sandbox's PID namespace (FromHost).
	info := kernel.SigInfo{Signo: sig, Code: kernel.SIUser, FromHost: true}
	if req.All {
		for _, tg := range s.k.ThreadGroups() {
			s.k.SendSignal(tg, info)
		}
		return nil
	}
	pid := req.PID
	if pid == 0 {
		pid = 1
	}
	tg := s.k.ThreadGroupByPID(pid)
	if tg == nil {
		return control.Errorf(unix.ESRCH, "no process %d in the sandbox", pid)
	}
	s.k.SendSignal(tg, info)
	return nil
}

// terminates reports whether sig's default action ends a process.
func terminates(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGURG, unix.SIGWINCH:
		return false
	}
	return true
}

// execProcess starts a process in the running sandbox (a new task in the
// same kernel). Its stdio are fds: three descriptors, or one terminal.
func (s *ociSandbox) execProcess(ea *control.ExecArgs, fds []*os.File) (*control.Response, error) {
	defer func() { closeFiles(fds) }() // fds is cleared once a terminal owns them
	if ea == nil || len(ea.Args) == 0 {
		return nil, control.Errorf(unix.EINVAL, "exec: no command")
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil, control.Errorf(unix.ESRCH, "cannot exec in a container that has not been started")
	}
	p := &specconv.Process{Args: ea.Args, Env: ea.Env, Cwd: ea.Cwd, UID: ea.UID, GID: ea.GID,
		AdditionalGIDs: ea.AdditionalGIDs, NoNewPrivs: ea.NoNewPrivs, Terminal: ea.Terminal}
	if ea.Caps != nil {
		p.Caps = &specconv.Caps{Bounding: ea.Caps.Bounding, Effective: ea.Caps.Effective,
			Inheritable: ea.Caps.Inheritable, Permitted: ea.Caps.Permitted, Ambient: ea.Caps.Ambient}
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	args, err := s.processArgs(p)
	if err != nil {
		return nil, control.Errorf(unix.ENOENT, "%v", err)
	}
	var tty *sandboxTTY
	if ea.Terminal {
		if len(fds) != 1 {
			return nil, control.Errorf(unix.EINVAL, "exec with a terminal needs 1 descriptor, got %d", len(fds))
		}
		tty, err = newSandboxTTYFromFile(s.sb, s.k, fds[0], ea.UID, ea.Rows, ea.Cols)
		if err != nil {
			return nil, control.Errorf(unix.EIO, "terminal: %v", err)
		}
		fds = nil // owned by the terminal now
		args.FDTable, err = tty.fdTable()
	} else {
		if len(fds) != 3 {
			return nil, control.Errorf(unix.EINVAL, "exec needs 3 descriptors (stdin, stdout, stderr), got %d", len(fds))
		}
		args.FDTable, err = hostFDTable(fds)
	}
	if err != nil {
		return nil, control.Errorf(unix.EIO, "stdio: %v", err)
	}
	tg, err := s.k.StartProcess(args)
	if err != nil {
		args.FDTable.DecRef()
		return nil, control.Errorf(unix.ENOEXEC, "exec %s: %s", ea.Args[0], errnoText(err))
	}
	s.mu.Lock()
	s.procs[tg.PID()] = tg
	if tty != nil {
		s.ttys[tg.PID()] = tty
		tty.setSession(tg)
	}
	s.mu.Unlock()
	return &control.Response{PID: tg.PID()}, nil
}

// wait blocks until process pid exits and reports its status. With
// killOnHangup, a caller that goes away (the exec CLI killed) takes the
// process with it, as a killed `runc exec` does.
func (s *ociSandbox) wait(pid int32, killOnHangup bool, hup <-chan struct{}) (*control.Response, error) {
	s.waits.Add(1)
	defer s.waits.Done()
	s.mu.Lock()
	tg := s.procs[pid]
	s.mu.Unlock()
	if tg == nil {
		return nil, control.Errorf(unix.ESRCH, "no process %d started by the runtime", pid)
	}
	select {
	case <-tg.Exited():
	case <-hup:
		if killOnHangup {
			s.k.SendSignal(tg, kernel.SigInfo{Signo: int(unix.SIGKILL), Code: kernel.SIUser, FromHost: true})
		}
		return nil, control.Errorf(unix.ECONNRESET, "caller hung up")
	}
	ws := tg.ExitStatus()
	s.mu.Lock()
	if tty := s.ttys[pid]; tty != nil && pid != 1 {
		delete(s.ttys, pid)
		tty.close()
	}
	s.mu.Unlock()
	return &control.Response{ExitStatus: ws.ShellStatus(), Signal: ws.Signal}, nil
}

// ps lists the sandbox's processes.
func (s *ociSandbox) ps() []control.Process {
	var out []control.Process
	for _, tg := range s.k.ThreadGroups() {
		l := tg.Leader()
		if l == nil {
			continue
		}
		out = append(out, control.Process{
			PID:     tg.PID(),
			PPID:    s.k.Parent(tg),
			UID:     l.Credentials().RealUID,
			Started: l.StartTime(),
			Cmd:     l.Name(),
		})
	}
	return out
}
