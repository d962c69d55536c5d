package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	flag "github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/kernel"
	"pangolin/sentry/limits"
	"pangolin/sentry/memfile"
	"pangolin/sentry/syscalls/linux"
)

func init() {
	register(&command{
		name:    "boot",
		summary: "run the sentry (internal: started by do/create)",
		hidden:  true,
		run:     runBoot,
	})
}

// bootConfig is what the sentry needs to start the sandbox.
type bootConfig struct {
	sockFD   int
	cwd      string
	env      []string
	hostname string
	platform string
	overlay  bool
	// hostRoot says the root is the host's / (do without --rootfs).
	hostRoot bool
	debugLog string
	strace   bool
	tty      bool
	argv     []string

	logFD       int
	cpuinfoFD   int
	memoryLimit uint64
	taskLimit   int
	ownerUID    int
	// netConfig is the network configuration (JSON netstack.Config,
	// --network=sandbox); netFDs are its packet sockets once set up.
	netConfig string
	netFDs    []int
}

// memFileSize is the address range of the memory file. It is sparse: only
// pages the app touches use host memory.
const memFileSize = 64 << 30

// Exit codes for a command that cannot be started, as a shell reports them.
const (
	exitNotFound      = 127
	exitNotExecutable = 126
)

func runBoot(args []string) int {
	var c bootConfig
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	fs.IntVar(&c.sockFD, "sock-fd", -1, "FD of the gofer connection")
	fs.StringVar(&c.cwd, "cwd", "/", "working directory of the app")
	fs.StringArrayVar(&c.env, "env", nil, "app environment")
	fs.StringVar(&c.hostname, "hostname", "pangolin", "hostname")
	fs.StringVar(&c.platform, "platform", "ptrace", "platform")
	fs.BoolVar(&c.overlay, "overlay", false, "root is the gofer's read-only tree under an in-memory overlay")
	fs.BoolVar(&c.hostRoot, "host-root", false, "the root is the host's / (its /tmp shows through the overlay instead of a tmpfs)")
	fs.StringVar(&c.debugLog, "debug-log", "", "debug log directory")
	fs.BoolVar(&c.strace, "strace", false, "log app syscalls")
	fs.BoolVar(&c.tty, "tty", false, "stdin is a host terminal: give the app a sandbox pty (/dev/pts/N) bridged to it")
	fs.IntVar(&c.logFD, "log-fd", -1, "debug log descriptor (instead of --debug-log)")
	fs.IntVar(&c.cpuinfoFD, "cpuinfo-fd", -1, "the host's /proc/cpuinfo, opened before confinement")
	fs.Uint64Var(&c.memoryLimit, "memory-limit", 0, "bytes of memory the application may use (0: no limit)")
	fs.IntVar(&c.taskLimit, "task-limit", 0, "tasks the application may have at once (0: no limit)")
	fs.StringVar(&c.netConfig, "net-config", "", "network interfaces and routes (JSON), with their packet sockets' descriptors")
	fs.IntVar(&c.ownerUID, "control-owner-uid", -1, "OCI mode: UID the sandbox's owner has as SO_PEERCRED reports it here (default: our own)")
	var of ociBootFlags
	fs.IntVar(&of.configFD, "config-fd", -1, "OCI mode: FD of the sandbox configuration (JSON)")
	fs.IntVar(&of.controlFD, "control-fd", -1, "OCI mode: FD of the listening control socket")
	fs.IntVar(&of.readyFD, "ready-fd", -1, "OCI mode: FD to report readiness on")
	fs.IntSliceVar(&of.goferFDs, "gofer-fds", nil, "OCI mode: FDs of the gofer connections (root first)")
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if err := bootPrepare(&c); err != nil {
		return errorf(1, "sentry: %v", err)
	}
	if of.configFD >= 0 {
		if of.controlFD < 0 || of.readyFD < 0 {
			return errorf(1, "boot: internal command; use 'pangolin create'")
		}
		setupLog(kindSentry, c.debugLog, c.logFD, c.strace)
		return bootOCI(c, of)
	}
	c.argv = fs.Args()
	if len(c.argv) == 0 || c.sockFD < 0 {
		return errorf(1, "boot: internal command; use 'pangolin do'")
	}
	setupLog(kindSentry, c.debugLog, c.logFD, c.strace)
	return boot(c)
}

// setupLog sends the process's log to the descriptor logFD (which the CLI
// opened: a confined process cannot reach the log directory), or to
// DIR/<kind>.<pid>.log, or to stderr for --strace without a log directory,
// or nowhere.
func setupLog(kind, dir string, logFD int, toStderr bool) {
	log.SetFlags(log.Lmicroseconds)
	switch {
	case logFD >= 0:
		log.SetOutput(os.NewFile(uintptr(logFD), kind+".log"))
	case dir != "":
		p := filepath.Join(dir, fmt.Sprintf("%s.%d.log", kind, os.Getpid()))
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pangolin: debug log %s: %v\n", p, err)
			log.SetOutput(io.Discard)
			return
		}
		log.SetOutput(f)
	case toStderr:
		log.SetOutput(os.Stderr)
	default:
		log.SetOutput(io.Discard)
	}
}

func boot(c bootConfig) int {
	mf, err := memfile.New("pangolin-memory", memFileSize)
	if err != nil {
		return errorf(1, "sentry: %v", err)
	}
	plat, err := newPlatform(c.platform)
	if err != nil {
		return errorf(1, "sentry: platform %s: %v", c.platform, err)
	}
	sb, err := buildFilesystem(c, mf)
	if err != nil {
		return errorf(1, "sentry: %v", err)
	}
	k, err := kernel.New(kernel.Config{
		Platform: plat,
		MemFile:  mf,
		VFS:      sb.vfs,
		Syscalls: linux.Table(),
		Debug:    c.debugLog != "",
		Strace:   c.strace,
		Hostname: c.hostname,
	})
	if err != nil {
		return errorf(1, "sentry: %v", err)
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		k.HostMemory = si.Totalram * uint64(si.Unit)
	}
	k.Opener = sb.openExec
	applyLimits(k, mf, c.memoryLimit, c.taskLimit)
	if c.netFDs, err = configureNetwork(k, c.netConfig); err != nil {
		return errorf(1, "sentry: %v", err)
	}
	if err := sb.mountProc(k); err != nil {
		return errorf(1, "sentry: %v", err)
	}
	if err := sb.mountDevpts(k); err != nil {
		return errorf(1, "sentry: %v", err)
	}
	creds := auth.NewRootCredentials()
	var fdt *vfs.FDTable
	var tty *sandboxTTY
	if c.tty {
		// As docker run -t: the app's 0, 1 and 2 are /dev/pts/N, whose
		// line discipline (job control, ^C, ttyname) is the sentry's,
		// bridged to the host terminal the CLI gave us.
		if tty, err = newSandboxTTY(sb, k, 0, 0, 0); err == nil {
			fdt, err = tty.fdTable()
		}
		// init (PID 1, leading session 1) is not running yet; its
		// controlling terminal is set before it can ask, with its group
		// in the foreground.
		if err == nil {
			tty.term.SetControlling(1, 1)
		}
		if err != nil {
			return errorf(1, "sentry: terminal: %v", err)
		}
	} else if fdt, err = sb.stdioTable(); err != nil {
		return errorf(1, "sentry: stdio: %v", err)
	}
	fsc, err := sb.fsContext(creds, c.cwd)
	if err != nil {
		return errorf(1, "sentry: working directory %s: %v", c.cwd, err)
	}
	filename, err := sb.lookPath(creds, fsc, c.argv[0], c.env)
	if err == nil {
		if ferr := installSentryFilter(c.platform, -1, c.netFDs); ferr != nil {
			return errorf(1, "sentry: %v", ferr)
		}
		err = k.StartInit(kernel.InitArgs{
			Filename: filename,
			Argv:     c.argv,
			Envv:     c.env,
			Creds:    creds,
			FDTable:  fdt,
			FS:       fsc,
			Limits:   limits.NewDefault(),
		})
	}
	if err != nil {
		code := exitNotExecutable
		msg := err.Error()
		var errno unix.Errno
		if errors.As(err, &errno) {
			msg = strings.ToLower(errno.Error()[:1]) + errno.Error()[1:]
			if errno == unix.ENOENT || errno == unix.ENOTDIR {
				code = exitNotFound
			}
		}
		return errorf(code, "%s: %s", c.argv[0], msg)
	}
	// Signals the CLI forwards (or anyone sends the sentry) are meant for
	// the app: deliver them to init as if sent from outside its PID
	// namespace.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	go func() {
		for s := range sigs {
			k.SignalInit(int(s.(unix.Signal)))
		}
	}()
	ws := k.WaitInit()
	signal.Stop(sigs)
	if tty != nil {
		tty.close()
	}
	log.Printf("init exited: %+v", ws)
	return ws.ShellStatus()
}
