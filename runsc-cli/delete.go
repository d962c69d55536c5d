package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pangolin/runsc-cli/cgroup"
	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

func init() {
	register(&command{
		name:    "delete",
		summary: "delete a container and everything it left behind",
		run:     runDelete,
		synopsis: `pangolin delete [--force] ID

Deletes container ID: its sandbox and gofer processes, its cgroups and its
state. A running container needs --force (it is killed first).

Example:
  pangolin delete --force c1`,
	})
}

func runDelete(args []string) int {
	fs := newFlags("delete")
	force := fs.BoolP("force", "f", false, "kill the container first if it is running")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "delete")
	if !ok {
		return 1
	}
	c, err := store().Load(id)
	if err != nil {
		if errors.Is(err, container.ErrNotExist) && *force {
			return 0 // runc: delete --force of nothing succeeds
		}
		if errors.Is(err, container.ErrNotExist) {
			return errorf(1, "container %s does not exist", id)
		}
		return errorf(1, "%v", err)
	}
	defer c.Release()
	if err := deleteContainer(c, *force); err != nil {
		return errorf(1, "%v", err)
	}
	return 0
}

// deleteContainer destroys c: kills what runs, removes the cgroups, runs
// the poststop hooks and removes the state.
func deleteContainer(c *container.Container, force bool) error {
	ok, st := c.CanDestroy()
	if !ok && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.ID, st)
	}
	if st == container.Paused {
		// A frozen sandbox cannot act on SIGKILL until thawed.
		_ = cgroup.FromDirs(c.Cgroups).Freeze(false)
	}
	if c.Sandbox.Alive() {
		_, _ = call(c, &control.Request{Method: control.MethodSignal, Signo: int(unix.SIGKILL)})
		if !c.Sandbox.WaitGone(2 * time.Second) {
			_ = c.Sandbox.Signal(unix.SIGKILL)
			if !c.Sandbox.WaitGone(5 * time.Second) {
				return fmt.Errorf("sandbox process %d did not exit", c.Sandbox.PID)
			}
		}
	}
	// The gofer exits when the sentry's connections close; make sure.
	if c.Gofer.Alive() {
		if !c.Gofer.WaitGone(time.Second) {
			_ = c.Gofer.Signal(unix.SIGKILL)
			c.Gofer.WaitGone(5 * time.Second)
		}
	}
	if len(c.Cgroups) > 0 {
		if err := cgroup.FromDirs(c.Cgroups).Destroy(); err != nil {
			warnf("removing cgroups of %s: %v", c.ID, err)
		}
	}
	if len(c.Hooks) > 0 {
		var hooks specs.Hooks
		if err := json.Unmarshal(c.Hooks, &hooks); err == nil {
			st := stateOf(c)
			st.Status = string(container.Stopped)
			if err := runHooks("poststop", hooks.Poststop, st); err != nil {
				warnf("%v", err)
			}
		}
	}
	return c.Remove()
}
