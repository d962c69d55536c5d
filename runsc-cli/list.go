package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

func init() {
	register(&command{
		name:    "list",
		summary: "list the containers under --root",
		run:     runList,
		synopsis: `pangolin list [--format table|json] [--quiet]

Lists the containers whose state is under --root.

Example:
  pangolin list -q`,
	})
}

func runList(args []string) int {
	fs := newFlags("list")
	format := fs.StringP("format", "f", "table", "table or json")
	quiet := fs.BoolP("quiet", "q", false, "print only the IDs")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	ids, err := store().List()
	if err != nil {
		return errorf(1, "%v", err)
	}
	var states []ociState
	for _, id := range ids {
		c, err := store().Load(id)
		if err != nil {
			continue // deleted meanwhile, or unreadable: not listable
		}
		st := stateOf(c)
		st.Rootfs = c.Rootfs
		c.Release()
		states = append(states, st)
	}
	switch {
	case *quiet:
		for _, s := range states {
			fmt.Println(s.ID)
		}
	case *format == "json":
		if states == nil {
			states = []ociState{}
		}
		b, _ := json.Marshal(states)
		fmt.Println(string(b))
	case *format == "table":
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.PID, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		w.Flush()
	default:
		return errorf(1, "--format %q: want table or json", *format)
	}
	return 0
}
