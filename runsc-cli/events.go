package main

import (
	"encoding/json"
	"fmt"
	"time"

	"pangolin/runsc-cli/cgroup"
	"pangolin/runsc-cli/container"
)

func init() {
	register(&command{
		name:    "events",
		summary: "print a container's resource statistics (JSON)",
		run:     runEvents,
		synopsis: `pangolin events [--stats] [--interval DURATION] ID

Prints {"type":"stats","id":ID,"data":{...}} lines with the sandbox's memory,
CPU and process counters, every --interval until the container stops, or once
with --stats.

Example:
  pangolin events --stats c1`,
	})
}

// statsEvent is runc's event format (the fields containerd reads).
type statsEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Data statsData `json:"data"`
}

type statsData struct {
	CPU struct {
		Usage struct {
			Total uint64 `json:"total"`
		} `json:"usage"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Usage uint64 `json:"usage"`
			Max   uint64 `json:"max"`
			Limit uint64 `json:"limit"`
		} `json:"usage"`
	} `json:"memory"`
	Pids struct {
		Current uint64 `json:"current"`
	} `json:"pids"`
}

func runEvents(args []string) int {
	fs := newFlags("events")
	once := fs.Bool("stats", false, "print the statistics once and exit")
	interval := fs.Duration("interval", 5*time.Second, "time between statistics")
	if code := parseVerb(fs, args); code >= 0 {
		return code
	}
	id, ok := needID(fs, "events")
	if !ok {
		return 1
	}
	if *interval <= 0 {
		return errorf(1, "--interval must be positive")
	}
	for {
		c, code := loadOrFail(id)
		if c == nil {
			return code
		}
		stopped := c.CurrentStatus() == container.Stopped
		s := cgroup.FromDirs(c.Cgroups).Stats()
		c.Release()
		if stopped {
			if *once {
				return errorf(1, "container %s is not running", id)
			}
			return 0
		}
		ev := statsEvent{Type: "stats", ID: id}
		ev.Data.CPU.Usage.Total = s.CPUUsageNanos
		ev.Data.Memory.Usage.Usage = s.MemoryUsage
		ev.Data.Memory.Usage.Max = s.MemoryMaxUsage
		ev.Data.Memory.Usage.Limit = s.MemoryLimit
		ev.Data.Pids.Current = s.Pids
		b, _ := json.Marshal(ev)
		fmt.Println(string(b))
		if *once {
			return 0
		}
		time.Sleep(*interval)
	}
}
