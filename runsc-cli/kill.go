package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

func init() {
	register(&command{
		name:    "kill",
		summary: "send a signal to a container's process",
		run:     runKill,
		synopsis: `pangolin kill [--all] ID [SIGNAL]

Sends SIGNAL (a name such as TERM or SIGTERM, or a number; default TERM) to
the container's process, PID 1 of its sandbox, or to every process with --all.
As with runc, PID 1 ignores a signal it has no handler for, except SIGKILL.

Example:
  pangolin kill c1 KILL`,
	})
}

func runKill(args []string) int {
	fs := newFlags("kill")
	all := fs.BoolP("all", "a", false, "signal every process of the container")
	fs.Int("pid", 0, "accepted for compatibility (deprecated in runc)")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "kill")
	if !ok {
		return 1
	}
	sigArg := "TERM"
	if fs.NArg() > 1 {
		sigArg = fs.Arg(1)
	}
	sig, err := parseSignal(sigArg)
	if err != nil {
		return errorf(1, "%v", err)
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	defer c.Release()
	if err := killContainer(c, sig, *all); err != nil {
		return errorf(1, "%v", err)
	}
	return 0
}

// killContainer delivers sig to c's process (or all processes). A
// SIGKILL that cannot reach the sandbox kills the sandbox process itself.
func killContainer(c *container.Container, sig unix.Signal, all bool) error {
	if c.CurrentStatus() == container.Stopped {
		if all {
			// Nothing is left to signal; runc's kill --all of a stopped
			// container succeeds too (containerd's shim sends it after
			// the init of a container sharing a PID namespace exits).
			return nil
		}
		return container.ErrNotRunning
	}
	_, err := call(c, &control.Request{Method: control.MethodSignal, Signo: int(sig), All: all})
	if err != nil && errors.Is(err, control.ErrUnreachable) && sig == unix.SIGKILL {
		return c.Sandbox.Signal(unix.SIGKILL)
	}
	return err
}

// parseSignal accepts "TERM", "SIGTERM", "sigterm" and "15".
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if strings.HasPrefix(name, "SIGRTMIN") || strings.HasPrefix(name, "SIGRTMAX") {
		base, off := 34, name[8:]
		if strings.HasPrefix(name, "SIGRTMAX") {
			base = 64
		}
		d := 0
		if off != "" {
			var err error
			if d, err = strconv.Atoi(off); err != nil {
				return 0, fmt.Errorf("invalid signal %q", s)
			}
		}
		if n := base + d; n >= 34 && n <= 64 {
			return unix.Signal(n), nil
		}
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}
