package main

import (
	"pangolin/runsc-cli/cgroup"
	"pangolin/runsc-cli/container"
)

func init() {
	register(&command{
		name:    "pause",
		summary: "freeze every process of a container",
		run:     func(args []string) int { return runPauseResume("pause", args) },
		synopsis: `pangolin pause ID

Freezes container ID: its whole sandbox (sentry, app stubs, gofer) is frozen
with the host's cgroup freezer.

Example:
  pangolin pause c1`,
	})
	register(&command{
		name:    "resume",
		summary: "thaw a paused container",
		run:     func(args []string) int { return runPauseResume("resume", args) },
		synopsis: `pangolin resume ID

Thaws the paused container ID.

Example:
  pangolin resume c1`,
	})
}

func runPauseResume(verb string, args []string) int {
	fs := newFlags(verb)
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, verb)
	if !ok {
		return 1
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	defer c.Release()
	to, frozen := container.Paused, true
	if verb == "resume" {
		to, frozen = container.Running, false
	}
	if err := c.Transition(to); err != nil {
		return errorf(1, "%s: container %s is %s", verb, id, c.CurrentStatus())
	}
	if err := cgroup.FromDirs(c.Cgroups).Freeze(frozen); err != nil {
		return errorf(1, "%s: %v", verb, err)
	}
	if err := c.Save(); err != nil {
		return errorf(1, "%v", err)
	}
	return 0
}
