package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"pangolin/seccomp"
)

func init() {
	register(&command{
		name:    "do",
		summary: "run a command in a fresh sandbox (no OCI bundle needed)",
		run:     runDo,
		synopsis: `pangolin do [--rootfs DIR] [--cwd DIR] [--env K=V]... [--network none|sandbox --netns PATH] -- CMD [ARGS...]

Runs CMD in a new sandbox: a sentry process that implements Linux for it and a
gofer process that serves its files. Without --rootfs the root is the host's
/, read-only, with writes kept in memory; with --rootfs DIR writes go to DIR, or to memory with --overlay.
The exit status is CMD's, or 128+N if signal N killed it.

Networking is the sandbox's own stack with loopback only (--network none, the
default). With --network sandbox --netns PATH (a network namespace such as
/run/netns/NAME) the sandbox takes over that namespace's interfaces: their
addresses and routes move into the sandbox, and the interfaces carry its
traffic.

Example:
  pangolin do --rootfs /srv/busybox -- /bin/sh -c 'echo hi; exit 7'`,
	})
}

// doFlags are the flags shared by do and the boot it starts.
type doFlags struct {
	rootfs   string
	cwd      string
	env      []string
	debugLog string
	strace   bool
	platform string
	hostname string
	memory   string
	pids     int
	overlay  bool
	network  string
	netns    string
}

func runDo(args []string) int {
	var f doFlags
	fs := flag.NewFlagSet("do", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: "+commands["do"].synopsis+"\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.rootfs, "rootfs", "", "root directory of the sandbox (default: the host's / with an in-memory overlay)")
	fs.BoolVar(&f.overlay, "overlay", false, "keep the --rootfs directory unmodified: writes go to an in-memory overlay (always so without --rootfs)")
	fs.StringVar(&f.cwd, "cwd", "/", "working directory of CMD inside the sandbox")
	fs.StringArrayVar(&f.env, "env", nil, "environment variable K=V for CMD (repeatable); default PATH only")
	fs.StringVar(&f.debugLog, "debug-log", "", "directory for one debug log per process (cli, sentry, gofer)")
	fs.BoolVar(&f.strace, "strace", false, "log every syscall of the app with arguments and result")
	fs.StringVar(&f.platform, "platform", defaultPlatform(), platformHelp())
	fs.StringVar(&f.hostname, "hostname", "pangolin", "hostname inside the sandbox")
	fs.StringVar(&f.memory, "memory", "", "memory CMD may use, e.g. 512M or 2G (default: half the host's RAM); the sandbox's host cgroup allows a little more for the sentry and gofer")
	fs.IntVar(&f.pids, "pids-limit", defaultDoTasks, "tasks (processes and threads) CMD may have at once")
	fs.StringVar(&f.network, "network", networkNone, "networking: none (loopback only) or sandbox (take over the interfaces of --netns)")
	fs.StringVar(&f.netns, "netns", "", "with --network sandbox: the network namespace whose interfaces the sandbox takes over")
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		// pflag prints nothing itself with ContinueOnError.
		return errorf(1, "do: %v (see pangolin do --help)", err)
	}
	cmd := fs.Args()
	if len(cmd) == 0 {
		return errorf(1, "do: no command given (usage: pangolin do [flags] -- CMD [ARGS...])")
	}
	if os.Geteuid() != 0 {
		return errorf(1, "do must run as root: the sandbox needs ptrace and namespaces (try: sudo pangolin do ...)")
	}
	if err := checkPlatform(f.platform); err != nil {
		return errorf(1, "%v", err)
	}
	for _, e := range f.env {
		if !strings.Contains(e, "=") {
			return errorf(1, "--env %q: expected K=V", e)
		}
	}
	if !strings.HasPrefix(f.cwd, "/") {
		return errorf(1, "--cwd %q: must be an absolute path inside the sandbox", f.cwd)
	}
	root := f.rootfs
	overlay := f.overlay
	if root == "" {
		root, overlay = "/", true
	} else {
		abs, err := filepath.Abs(root)
		if err != nil {
			return errorf(1, "rootfs %s: %v", root, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return errorf(1, "rootfs %s: no such directory", root)
		}
		if !st.IsDir() {
			return errorf(1, "rootfs %s: not a directory", root)
		}
		root = abs
	}
	if f.debugLog != "" {
		if err := os.MkdirAll(f.debugLog, 0o755); err != nil {
			return errorf(1, "debug log directory %s: %v", f.debugLog, err)
		}
	}
	if f.pids <= 0 {
		return errorf(1, "--pids-limit %d: must be positive", f.pids)
	}
	if err := checkNetworkMode(f.network); err != nil {
		return errorf(1, "%v", err)
	}
	switch {
	case f.network == networkSandbox && f.netns == "":
		return errorf(1, "--network sandbox needs --netns PATH: do runs in the caller's network namespace, whose interfaces are the host's")
	case f.network != networkSandbox && f.netns != "":
		return errorf(1, "--netns is for --network sandbox")
	}
	return startSandbox(f, root, overlay, cmd)
}

// startSandbox starts the gofer and the sentry, connected by a socketpair,
// waits for the sentry and returns the app's exit status.
func startSandbox(f doFlags, root string, overlay bool, cmd []string) int {
	// The gofer and the sentry get Pdeathsig, which fires when the thread
	// that forked them exits, not the process. Keep this goroutine on its
	// thread for good, so that a thread another goroutine retires
	// (attachNetns leaves its namespace-switched thread locked, to die)
	// is never their parent.
	runtime.LockOSThread()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return errorf(1, "creating gofer socket: %v", err)
	}
	goferSock := os.NewFile(uintptr(fds[0]), "gofer-socket")
	sentrySock := os.NewFile(uintptr(fds[1]), "sentry-socket")

	self, err := os.Executable()
	if err != nil {
		return errorf(1, "finding own binary: %v", err)
	}

	// The gofer must not hold the caller's stdio: whoever waits for EOF
	// on our output (a shell pipeline, containerd's shim) would wait for
	// the gofer too.
	goferArgs := []string{"gofer", "--root", root, "--sock-fd", "3"}
	if overlay {
		goferArgs = append(goferArgs, "--ro")
	}
	if f.debugLog != "" {
		goferArgs = append(goferArgs, "--debug-log", f.debugLog)
	}
	limits, err := doLimits(f)
	if err != nil {
		return errorf(1, "%v", err)
	}
	cg := newDoCgroup(limits)
	defer cg.destroy()
	started := seccomp.Now()
	gofer := exec.Command(self, goferArgs...)
	gofer.ExtraFiles = []*os.File{goferSock}
	gofer.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setsid: true}
	// The host's / is served without its submounts (/proc, /sys, /dev,
	// /run: the sandbox has its own) and read-only; an explicit rootfs
	// with everything mounted under it, writable.
	gc, err := confine(gofer, kindGofer, confineOptions{RootRecursive: !overlay, RootReadOnly: overlay})
	if err != nil {
		return errorf(1, "gofer: %v", err)
	}
	if err := gofer.Start(); err != nil {
		gc.abandon()
		return errorf(1, "starting gofer: %v", err)
	}
	gc.started(gofer.Process.Pid)
	goferSock.Close()
	if err := cg.join(gofer.Process.Pid); err != nil {
		gc.abandon()
		gofer.Wait()
		return errorf(1, "gofer: %v", err)
	}
	if err := gc.release(); err != nil {
		gofer.Wait()
		return errorf(1, "gofer: %v", err)
	}

	bootArgs := []string{"boot", "--sock-fd", "3", "--cwd", f.cwd, "--hostname", f.hostname, "--platform", f.platform}
	if overlay {
		bootArgs = append(bootArgs, "--overlay")
	}
	if root == "/" {
		bootArgs = append(bootArgs, "--host-root")
	}
	if f.debugLog != "" {
		bootArgs = append(bootArgs, "--debug-log", f.debugLog)
	}
	if f.strace {
		bootArgs = append(bootArgs, "--strace")
	}
	env := f.env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	for _, e := range env {
		bootArgs = append(bootArgs, "--env", e)
	}
	bootArgs = append(bootArgs, "--memory-limit", strconv.FormatUint(limits.appMemory, 10),
		"--task-limit", strconv.Itoa(limits.tasks))
	var extra []*os.File
	if f.network == networkSandbox {
		net, err := attachNetns(f.netns)
		if err != nil {
			gofer.Process.Kill()
			gofer.Wait()
			return errorf(1, "%v", err)
		}
		defer net.close()
		// The packet sockets follow the gofer connection (fd 3).
		js, err := net.configJSON(4)
		if err != nil {
			gofer.Process.Kill()
			gofer.Wait()
			return errorf(1, "%v", err)
		}
		bootArgs = append(bootArgs, "--net-config", js)
		extra = net.files
	}
	bootArgs = append(bootArgs, "--")
	bootArgs = append(bootArgs, cmd...)
	// With a terminal on both stdin and stdout, the app gets a terminal
	// of its own (as docker run -it): the sentry bridges a host pty,
	// whose master this process proxies to ours in raw mode.
	var master *os.File
	boot := exec.Command(self, bootArgs...)
	boot.ExtraFiles = append([]*os.File{sentrySock}, extra...)
	boot.Stdin, boot.Stdout, boot.Stderr = os.Stdin, os.Stdout, os.Stderr
	if isTerminal(os.Stdin) && isTerminal(os.Stdout) {
		m, replica, err := newHostPty()
		if err != nil {
			gofer.Process.Kill()
			gofer.Wait()
			return errorf(1, "terminal: %v", err)
		}
		defer replica.Close()
		master = m
		defer master.Close()
		resizeFrom(os.Stdin, master)
		boot.Stdin, boot.Stdout, boot.Stderr = replica, replica, replica
		n := len(boot.Args) - len(cmd) - 1 // before the "--"
		boot.Args = append(append(append([]string{}, boot.Args[:n]...), "--tty"), boot.Args[n:]...)
	}
	boot.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	bc, err := confine(boot, kindSentry, confineOptions{NewNetwork: true})
	if err != nil {
		gofer.Process.Kill()
		gofer.Wait()
		return errorf(1, "sandbox: %v", err)
	}

	// Signals sent to the CLI are meant for the app: forward them to the
	// sentry, which delivers them to init.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	if err := boot.Start(); err != nil {
		bc.abandon()
		gofer.Process.Kill()
		gofer.Wait()
		return errorf(1, "starting sandbox: %v", err)
	}
	bc.started(boot.Process.Pid)
	sentrySock.Close()
	// In the cgroup before it runs anything of the sandbox: its stub
	// processes and memory are born there.
	if err := cg.join(boot.Process.Pid); err != nil {
		warnf("sandbox not in its cgroup: %v", err)
		bc.abandon()
	} else if err := bc.release(); err != nil {
		warnf("%v", err)
	}
	if master != nil {
		if restore, err := makeRaw(int(os.Stdin.Fd())); err == nil {
			defer restore()
		}
		go io.Copy(master, os.Stdin)
		go io.Copy(os.Stdout, master)
		signal.Notify(sigs, unix.SIGWINCH)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGWINCH {
					resizeFrom(os.Stdin, master)
					continue
				}
				_ = boot.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = boot.Wait()
	close(done)
	signal.Stop(sigs)
	// The gofer exits when the sentry's end of the socket closes; make
	// sure of it, but report first if its filter killed it (the sentry
	// then fails with I/O errors that would be hard to explain).
	goferDone := make(chan error, 1)
	go func() { goferDone <- gofer.Wait() }()
	select {
	case gerr := <-goferDone:
		var gee *exec.ExitError
		if errors.As(gerr, &gee) {
			if gws := gee.Sys().(syscall.WaitStatus); gws.Signaled() && gws.Signal() == unix.SIGSYS {
				fmt.Fprintf(os.Stderr, "pangolin: %s\n", seccompKillMessage("gofer", gofer.Process.Pid, started))
			}
		}
	case <-time.After(time.Second):
		_ = gofer.Process.Kill()
		<-goferDone
	}
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			if ws.Signal() == unix.SIGSYS {
				return errorf(128+int(ws.Signal()), "%s", seccompKillMessage("sentry", boot.Process.Pid, started))
			}
			return errorf(128+int(ws.Signal()), "sandbox killed by signal %d", ws.Signal())
		}
		return ws.ExitStatus()
	}
	return errorf(1, "waiting for sandbox: %v", err)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
