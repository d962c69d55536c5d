package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pangolin/runsc-cli/container"
)

// ociState is the state of runtime-spec runtime.md, as `state` prints it
// and hooks read it on stdin.
type ociState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	PID         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs,omitempty"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// stateOf returns c's OCI state; pid is 0 once stopped (as runc).
func stateOf(c *container.Container) ociState {
	st := c.CurrentStatus()
	pid := c.Sandbox.PID
	if st == container.Stopped {
		pid = 0
	}
	return ociState{
		OCIVersion:  specs.Version,
		ID:          c.ID,
		Status:      string(st),
		PID:         pid,
		Bundle:      c.Bundle,
		Created:     c.Created,
		Owner:       c.Owner,
		Annotations: c.Annotations,
	}
}

// runHooks runs hooks in order, each with the state on stdin, as
// runtime-spec config.md "POSIX-platform Hooks" says. The first failure
// stops the sequence. All hooks run in the runtime's namespaces: the
// sandbox has no host namespaces of its own for them to enter.
func runHooks(kind string, hooks []specs.Hook, st ociState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		ctx := context.Background()
		cancel := func() {}
		if h.Timeout != nil && *h.Timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		}
		cmd := exec.CommandContext(ctx, h.Path)
		if len(h.Args) > 0 {
			cmd.Args = h.Args
		} else {
			cmd.Args = []string{h.Path}
		}
		cmd.Env = h.Env
		cmd.Stdin = bytes.NewReader(b)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("%s hook #%d (%s): %v: %s", kind, i, h.Path, err, bytes.TrimSpace(out.Bytes()))
		}
	}
	return nil
}
