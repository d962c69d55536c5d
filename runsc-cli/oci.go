package main

import (
	"errors"
	"fmt"
	"os"

	flag "github.com/spf13/pflag"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

// store is the --root state directory.
func store() container.Store { return container.Store{Root: global.root} }

// newFlags makes a verb's flag set with a usage that shows its synopsis.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: "+commands[name].synopsis+"\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseVerb parses args; it returns a non-negative exit code if the verb
// should stop (help or a bad flag).
func parseVerb(fs *flag.FlagSet, args []string) int {
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return errorf(1, "%v", err)
	}
	return -1
}

// needID returns the verb's container ID argument.
func needID(fs *flag.FlagSet, verb string) (string, bool) {
	if fs.NArg() < 1 {
		errorf(1, "%s: container id is required (usage: %s)", verb, commands[verb].synopsis)
		return "", false
	}
	return fs.Arg(0), true
}

// loadOrFail loads a container, printing the error people read.
func loadOrFail(id string) (*container.Container, int) {
	c, err := store().Load(id)
	if err != nil {
		if errors.Is(err, container.ErrNotExist) {
			return nil, errorf(1, "container %s does not exist", id)
		}
		return nil, errorf(1, "%v", err)
	}
	return c, -1
}

// call makes a control request to c's sandbox.
func call(c *container.Container, req *control.Request, fds ...int) (*control.Response, error) {
	resp, err := control.Call(c.SocketPath(), req, fds...)
	if errors.Is(err, control.ErrUnreachable) {
		// A sentry its seccomp filter killed says why nowhere else.
		if msg, ok := seccompKillReport(kindSentry, c.Sandbox.PID, c.Sandbox.StartTime); ok {
			err = fmt.Errorf("%w (%s)", err, msg)
		}
	}
	return resp, err
}
