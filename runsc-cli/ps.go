package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"pangolin/runsc-cli/container"
	"pangolin/runsc-cli/control"
)

func init() {
	register(&command{
		name:    "ps",
		summary: "list a container's processes",
		run:     runPs,
		synopsis: `pangolin ps [--format table|json] ID

Lists the processes of container ID. The table shows them as the sandbox
sees them (PIDs inside the sandbox). --format json prints the host PIDs
of the container, as runc does for 'docker top' and containerd: with
Pangolin that is the sandbox process, which runs every one of them.

Example:
  pangolin ps c1`,
	})
}

func runPs(args []string) int {
	fs := newFlags("ps")
	format := fs.StringP("format", "f", "table", "table or json")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "ps")
	if !ok {
		return 1
	}
	c, code := loadOrFail(id)
	if c == nil {
		return code
	}
	defer c.Release()
	switch *format {
	case "json":
		pids := []int{}
		if c.CurrentStatus() != container.Stopped {
			pids = append(pids, c.Sandbox.PID)
		}
		b, _ := json.Marshal(pids)
		fmt.Println(string(b))
		return 0
	case "table":
	default:
		return errorf(1, "--format %q: want table or json", *format)
	}
	if c.CurrentStatus() == container.Stopped {
		return errorf(1, "container %s is not running", id)
	}
	resp, err := call(c, &control.Request{Method: control.MethodPs})
	if err != nil {
		return errorf(1, "%v", err)
	}
	ps := resp.Processes
	sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', 0)
	fmt.Fprintln(w, "UID\tPID\tPPID\tSTIME\tCMD")
	for _, p := range ps {
		fmt.Fprintf(w, "%d\t%d\t%d\t%s\t%s\n", p.UID, p.PID, p.PPID, p.Started.Local().Format(time.TimeOnly), p.Cmd)
	}
	w.Flush()
	return 0
}
