// Command hostsyscalls measures which host syscalls Pangolin's sandbox
// processes really make once they are confined: it runs a workload under
// perf(1), recording the raw_syscalls:sys_enter tracepoint for every
// process named pangolin*, and reports, for the sentries and the gofers
// separately, each distinct syscall made after the process installed its
// seccomp filter (the TSYNC seccomp(2) call), with how often.
//
// Run as root from the repository root after `make build`, e.g. over the
// whole differential suite:
//
//	go run ./syscalls-tests/cmd/hostsyscalls -- go test -count=1 ./syscalls-tests/
//
// The README's security section quotes its output. It is a separate main,
// not a test, because it needs perf and a built binary.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"pangolin/seccomp"
)

const (
	sysSeccomp            = 317
	seccompSetModeFilter  = 1
	seccompFlagTsync      = 1
	sentryComm, goferComm = "pangolin-sentry", "pangolin-gofer"
)

// proc is what we learned about one host process (thread group).
type proc struct {
	leaderComm string
	confined   bool           // the TSYNC seccomp(2) call was seen
	calls      map[int]uint64 // syscall number -> count, after confinement
}

// line matches `perf script -F comm,pid,tid,event,trace` output:
//
//	pangolin-sentry  2989/2993  raw_syscalls:sys_enter: NR 158 (1002, 7f9348, ...)
var line = regexp.MustCompile(`^\s*(.*?)\s+(\d+)/(\d+)\s+raw_syscalls:sys_enter:\s+NR (-?\d+) \(([0-9a-f]*), ([0-9a-f]*), ([0-9a-f]*)`)

func main() {
	asJSON := flag.Bool("json", false, "print JSON")
	keep := flag.String("keep", "", "keep perf.data in this file")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: hostsyscalls [-json] [-keep FILE] -- CMD [ARGS...]")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "hostsyscalls-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "perf.data")
	if *keep != "" {
		data = *keep
	}
	// The comm filter keeps the trace to our processes; a large buffer
	// keeps perf from losing events on a busy workload.
	rec := exec.Command("perf", append([]string{"record", "-q", "-m", "64M", "-o", data,
		"-e", "raw_syscalls:sys_enter", "--filter", `comm ~ "pangolin*"`, "--"}, flag.Args()...)...)
	rec.Stdout, rec.Stderr = os.Stderr, os.Stderr
	werr := rec.Run()
	script := exec.Command("perf", "script", "-i", data, "-F", "comm,pid,tid,event,trace")
	script.Stderr = os.Stderr
	out, err := script.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	if err := script.Start(); err != nil {
		fatal(err)
	}
	procs := map[int]*proc{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[2])
		tid, _ := strconv.Atoi(m[3])
		nr, _ := strconv.Atoi(m[4])
		p := procs[pid]
		if p == nil {
			p = &proc{calls: map[int]uint64{}}
			procs[pid] = p
		}
		if tid == pid {
			p.leaderComm = m[1]
		}
		if p.confined {
			p.calls[nr]++
			continue
		}
		a0, _ := strconv.ParseUint(m[5], 16, 64)
		a1, _ := strconv.ParseUint(m[6], 16, 64)
		a2, _ := strconv.ParseUint(m[7], 16, 64)
		// libseccomp probes the kernel with NULL programs first.
		if nr == sysSeccomp && a0 == seccompSetModeFilter && a1&seccompFlagTsync != 0 && a2 != 0 {
			p.confined = true
		}
	}
	if err := script.Wait(); err != nil {
		fatal(fmt.Errorf("perf script: %w", err))
	}
	type kind struct {
		Kind      string            `json:"kind"`
		Processes int               `json:"processes"`
		Syscalls  map[string]uint64 `json:"syscalls"`
	}
	var kinds []kind
	for _, k := range []string{sentryComm, goferComm} {
		r := kind{Kind: k, Syscalls: map[string]uint64{}}
		for _, p := range procs {
			if p.leaderComm != k || !p.confined {
				continue
			}
			r.Processes++
			for nr, n := range p.calls {
				r.Syscalls[seccomp.SyscallName(nr)] += n
			}
		}
		kinds = append(kinds, r)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(kinds)
	} else {
		for _, r := range kinds {
			names := make([]string, 0, len(r.Syscalls))
			for n := range r.Syscalls {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Printf("%s: %d distinct host syscalls after confinement, over %d processes\n", r.Kind, len(names), r.Processes)
			for _, n := range names {
				fmt.Printf("  %-20s %d\n", n, r.Syscalls[n])
			}
		}
	}
	if werr != nil {
		fmt.Fprintf(os.Stderr, "hostsyscalls: workload: %v\n", werr)
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "hostsyscalls:", strings.TrimSpace(err.Error()))
	os.Exit(1)
}
