package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	flag "github.com/spf13/pflag"
)

// globalFlags are the flags before the command: runc's (which dockerd and
// containerd's shim pass) and Pangolin's own.
type globalFlags struct {
	root          string
	log           string
	logFormat     string
	debug         bool
	systemdCgroup bool
	platform      string
	network       string
	debugLog      string
	strace        bool
	overlay       bool
}

var global = globalFlags{root: "/run/pangolin", logFormat: "text", network: "sandbox"}

// parseGlobalFlags parses the leading global flags and returns the command
// and its arguments.
func parseGlobalFlags(args []string) ([]string, error) {
	fs := flag.NewFlagSet("pangolin", flag.ContinueOnError)
	fs.SetInterspersed(false)
	fs.Usage = func() {}
	fs.StringVar(&global.root, "root", global.root, "directory for container state")
	fs.StringVar(&global.log, "log", "", "log file (errors and warnings; containerd's shim reads it)")
	fs.StringVar(&global.logFormat, "log-format", global.logFormat, "log format: text or json")
	fs.BoolVar(&global.debug, "debug", false, "log debug messages")
	fs.BoolVar(&global.systemdCgroup, "systemd-cgroup", false, "cgroupsPath is slice:prefix:name (systemd's form)")
	fs.StringVar(&global.platform, "platform", defaultPlatform(), platformHelp())
	fs.StringVar(&global.network, "network", global.network, "networking: none, sandbox (the container's network namespace) or host")
	fs.StringVar(&global.debugLog, "debug-log", "", "directory for one debug log per process (cli, sentry, gofer)")
	fs.BoolVar(&global.strace, "strace", false, "log every syscall of the app")
	fs.BoolVar(&global.overlay, "overlay", false, "keep root filesystem writes in sandbox memory (the rootfs is not modified)")
	showVersion := fs.BoolP("version", "v", false, "print the version")
	// Accepted for runc compatibility; they change nothing here.
	fs.Bool("rootless", false, "accepted for compatibility; Pangolin runs as root")
	fs.String("criu", "", "accepted for compatibility; checkpoint is not supported")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return []string{"--help"}, nil
		}
		return nil, err
	}
	if *showVersion {
		return []string{"--version"}, nil
	}
	switch global.logFormat {
	case "text", "json":
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", global.logFormat)
	}
	if global.debugLog != "" {
		if err := os.MkdirAll(global.debugLog, 0o755); err != nil {
			return nil, fmt.Errorf("debug log directory %s: %w", global.debugLog, err)
		}
	}
	if err := checkPlatform(global.platform); err != nil {
		return nil, err
	}
	if err := checkNetworkMode(global.network); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

var logMu sync.Mutex

// logLine appends one line to the --log file: {"level","msg","time"} in
// json format (what runc writes), "time level msg" in text.
func logLine(level, msg string) {
	if global.log == "" {
		return
	}
	if level == "debug" && !global.debug {
		return
	}
	logMu.Lock()
	defer logMu.Unlock()
	f, err := os.OpenFile(global.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if global.logFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		f.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(f, "%s %s %s\n", now, level, strings.TrimSpace(msg))
}

// warnf reports something honoured only in part: to the log, or to stderr
// if there is no log.
func warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if global.log != "" {
		logLine("warning", msg)
		return
	}
	fmt.Fprintf(os.Stderr, "pangolin: warning: %s\n", msg)
}

// debugf logs a debug message with --debug.
func debugf(format string, args ...any) { logLine("debug", fmt.Sprintf(format, args...)) }
