package main

import (
	"encoding/json"
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

func init() {
	register(&command{
		name:    "start",
		summary: "start the process of a created container",
		run:     runStart,
		synopsis: `pangolin start ID

Runs the process of the created container ID (OCI "start").

Example:
  pangolin create --bundle /srv/bundle c1 && pangolin start c1`,
	})
}

func runStart(args []string) int {
	fs := newFlags("start")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "start")
	if !ok {
		return 1
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	defer c.Release()
	if err := startContainer(c); err != nil {
		return errorf(1, "%v", err)
	}
	return 0
}

// startContainer runs c's process and its start hooks.
func startContainer(c *container.Container) error {
	switch st := c.CurrentStatus(); st {
	case container.Running, container.Paused:
		return errors.New("cannot start an already running container")
	case container.Stopped:
		return errors.New("cannot start a container that has stopped")
	}
	if err := c.Transition(container.Running); err != nil {
		return err
	}
	var hooks specs.Hooks
	if len(c.Hooks) > 0 {
		if err := json.Unmarshal(c.Hooks, &hooks); err != nil {
			return err
		}
	}
	if err := runHooks("startContainer", hooks.StartContainer, stateOf(c)); err != nil {
		return err
	}
	if _, err := call(c, &control.Request{Method: control.MethodStart}); err != nil {
		return err
	}
	if err := c.Save(); err != nil {
		return err
	}
	// poststart failures are logged, not fatal (runtime-spec).
	if err := runHooks("poststart", hooks.Poststart, stateOf(c)); err != nil {
		warnf("%v", err)
	}
	return nil
}
