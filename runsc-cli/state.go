package main

import (
	"encoding/json"
	"os"
)

func init() {
	register(&command{
		name:    "state",
		summary: "print a container's OCI state (JSON)",
		run:     runState,
		synopsis: `pangolin state ID

Prints the state of container ID as the OCI runtime specification defines it:
ociVersion, id, status (created, running, paused or stopped), pid, bundle.

Example:
  pangolin state c1`,
	})
}

func runState(args []string) int {
	fs := newFlags("state")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "state")
	if !ok {
		return 1
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	defer c.Release()
	st := stateOf(c)
	st.Rootfs = c.Rootfs
	b, _ := json.MarshalIndent(st, "", "  ")
	os.Stdout.Write(append(b, '\n'))
	return 0
}
