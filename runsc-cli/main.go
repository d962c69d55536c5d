// Command pangolin is Pangolin's runtime CLI. One static binary serves every
// role: the user-facing verbs (do, syscalls, later the OCI verbs) and the
// hidden boot (sandbox/sentry) and gofer subcommands, which the CLI starts
// by re-executing itself.

// The Go runtime's container-aware GOMAXPROCS (Go 1.25+) opens the host's
// cgroup CPU files at start-up and keeps them open to re-read them: the
// sentry would then hold host descriptors for paths it opened itself (and
// need openat in its seccomp allowlist). The sandbox's CPU budget is its
// cgroup's business, enforced by the host either way.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
)

// command is one subcommand.
type command struct {
	name     string
	summary  string
	hidden   bool
	run      func(args []string) int
	synopsis string
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// origArgs is the command line before the global flags were taken off
// (for re-executing the same command).
var origArgs []string

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func usage() {
	fmt.Fprintf(os.Stderr, "usage: pangolin COMMAND [ARGS...]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'pangolin COMMAND --help' for a command's flags.\n")
}

func main() {
	if spec := os.Getenv(confineEnv); spec != "" {
		// Stage 1 of a confined sandbox process: it must see the
		// descriptors it was given before anything marks them
		// close-on-exec. Does not return.
		confineStage1(spec)
	}
	markInheritedFDsCloexec()
	// Global flags (runc's and ours) come before the command, as
	// containerd's shim and dockerd pass them.
	origArgs = append([]string(nil), os.Args...)
	args, err := parseGlobalFlags(os.Args[1:])
	if err != nil {
		fatalf("%v", err)
	}
	if len(args) < 1 {
		usage()
		os.Exit(1)
	}
	os.Args = append([]string{os.Args[0]}, args...)
	switch os.Args[1] {
	case "--version", "-v", "version":
		fmt.Printf("pangolin version %s\n", version)
		return
	case "--help", "-h", "help":
		usage()
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fatalf("unknown command %q (run 'pangolin --help' for the list)", os.Args[1])
	}
	switch c.name {
	case "boot":
		setProcName(sentryComm)
	case "gofer":
		setProcName(goferComm)
	}
	runtime.UnlockOSThread()
	os.Exit(c.run(os.Args[2:]))
}

// fatalf prints a one-line error for people and exits 1 (runc's code for a
// failed command).
func fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logLine("error", msg)
	fmt.Fprintf(os.Stderr, "pangolin: %s\n", msg)
	os.Exit(1)
}

// errorf prints a one-line error and returns code, for run functions. The
// error also goes to the --log file, where containerd's shim looks for it.
func errorf(code int, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	logLine("error", msg)
	fmt.Fprintf(os.Stderr, "pangolin: %s\n", msg)
	return code
}
