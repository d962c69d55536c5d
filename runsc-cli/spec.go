package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"pangolin/runsc-cli/specconv"
)

func init() {
	register(&command{
		name:    "spec",
		summary: "write a default config.json",
		run:     runSpec,
		synopsis: `pangolin spec [--bundle DIR]

Writes a default config.json (runc's: rootfs "rootfs", an interactive sh on a
terminal) in the bundle directory. Edit it, then 'pangolin run ID'.

Example:
  mkdir -p b/rootfs && tar -C b/rootfs -xf rootfs.tar && cd b && pangolin spec`,
	})
}

func runSpec(args []string) int {
	f := newFlags("spec")
	bundle := f.StringP("bundle", "b", ".", "directory to write config.json in")
	f.Bool("rootless", false, "accepted for compatibility (the default spec suits both)")
	if code := parseVerb(f, args); code >= 0 {
		return code
	}
	p := filepath.Join(*bundle, "config.json")
	if _, err := os.Stat(p); err == nil {
		return errorf(1, "%s exists already; remove it first", p)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return errorf(1, "%v", err)
	}
	b, err := json.MarshalIndent(specconv.DefaultSpec(), "", "\t")
	if err != nil {
		return errorf(1, "%v", err)
	}
	if err := os.WriteFile(p, append(b, '\n'), 0o666); err != nil {
		return errorf(1, "%v", err)
	}
	return 0
}
