// Command runner is the benchmark driver behind syscalls-tests/bench/run.sh
// (make bench). It builds the static C micro-benchmarks in
// syscalls-tests/bench, runs each natively and in the sandbox (median of
// -runs), times busybox true natively and in a fresh sandbox (median of
// -true-runs), samples the peak RSS of the sandbox process tree, and prints
// a table: metric | native | sandbox | ratio.
//
// Peak RSS of the sandbox is the sum of VmHWM over every process under
// `pangolin do` (CLI, sentry, gofer, app stub), sampled from /proc every
// millisecond; the native figure is ru_maxrss of the plain program.
//
// Run from the repository root: go run ./syscalls-tests/bench/runner
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	pangolin = flag.String("pangolin", "bin/pangolin", "pangolin binary")
	runs     = flag.Int("runs", 3, "runs per micro-benchmark (median is reported)")
	trueRuns = flag.Int("true-runs", 10, "runs of /bin/true (median is reported)")
	busybox  = flag.String("busybox", "/bin/busybox", "static busybox")
)

var benches = []string{"getpid", "read_zero", "open_close", "tmpfs_write", "tmpfs_read", "epoll_eventfd", "pipe_rw", "pipe_pingpong"}

// nativeEnv is the environment of native runs; the sandbox app gets the
// same via --env, while the pangolin CLI keeps ours.
var nativeEnv = []string{"PATH=/bin"}

// row is one line of the output table; a negative value means n/a.
type row struct {
	metric          string
	native, sandbox float64
}

func main() {
	flag.Parse()
	// Stray inherited descriptors (os/exec does not close them) must not
	// leak into the measured programs.
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	}
	srcDir := "syscalls-tests/bench"
	outDir := "syscalls-tests/out/bench"
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fatalf("%v", err)
	}
	for _, b := range benches {
		out, err := exec.Command("gcc", "-static", "-O2", "-Wall", "-Werror", "-o",
			filepath.Join(outDir, b), filepath.Join(srcDir, b+".c")).CombinedOutput()
		if err != nil {
			fatalf("building %s: %v\n%s", b, err, out)
		}
	}

	pbin, err := filepath.Abs(*pangolin)
	if err != nil {
		fatalf("%v", err)
	}
	sandboxOK := true
	if _, err := os.Stat(pbin); err != nil {
		fmt.Fprintf(os.Stderr, "runner: %s not found (run `make build`); reporting native numbers only\n", pbin)
		sandboxOK = false
	}
	var root string
	if sandboxOK {
		root, err = makeRootfs(outDir)
		if err != nil {
			fatalf("preparing rootfs: %v", err)
		}
		defer os.RemoveAll(root)
	}
	sandboxArgv := func(cmd ...string) []string {
		return append([]string{pbin, "do", "--rootfs", root, "--env", "PATH=/bin", "--"}, cmd...)
	}

	var rows []row
	failed := !sandboxOK
	for _, b := range benches {
		r := row{metric: b + " (ns/op)", native: -1, sandbox: -1}
		abs, _ := filepath.Abs(filepath.Join(outDir, b))
		if v, err := medianNs([]string{abs}, nativeEnv, *runs); err == nil {
			r.native = v
		} else {
			fmt.Fprintf(os.Stderr, "runner: native %s: %v\n", b, err)
		}
		if sandboxOK {
			if v, err := medianNs(sandboxArgv("/t/"+b), os.Environ(), *runs); err == nil {
				r.sandbox = v
			} else {
				fmt.Fprintf(os.Stderr, "runner: sandbox %s: %v\n", b, err)
				failed = true
			}
		}
		rows = append(rows, r)
	}

	tr := row{metric: "run /bin/true (ms, median)", native: -1, sandbox: -1}
	rss := row{metric: "peak RSS, /bin/true (KiB)", native: -1, sandbox: -1}
	if v, m, err := medianWall([]string{*busybox, "true"}, nativeEnv, *trueRuns, false); err == nil {
		tr.native, rss.native = v, m
	} else {
		fmt.Fprintf(os.Stderr, "runner: native true: %v\n", err)
	}
	if sandboxOK {
		if v, m, err := medianWall(sandboxArgv("/bin/true"), os.Environ(), *trueRuns, true); err == nil {
			tr.sandbox, rss.sandbox = v, m
		} else {
			fmt.Fprintf(os.Stderr, "runner: sandbox true: %v\n", err)
			failed = true
		}
	}
	rows = append(rows, tr, rss)
	if sandboxOK {
		r := row{metric: "peak RSS, read_zero (KiB)", native: -1, sandbox: -1}
		abs, _ := filepath.Abs(filepath.Join(outDir, "read_zero"))
		if _, m, err := medianWall([]string{abs}, nativeEnv, 1, false); err == nil {
			r.native = m
		}
		if _, m, err := medianWall(sandboxArgv("/t/read_zero"), os.Environ(), 1, true); err == nil {
			r.sandbox = m
		}
		rows = append(rows, r)
	}

	printTable(rows)
	if failed {
		os.Exit(1)
	}
}

// makeRootfs builds a throwaway rootfs with the benchmarks in /t and
// busybox (plus a true link) in /bin.
func makeRootfs(outDir string) (string, error) {
	root, err := os.MkdirTemp("", "pangolin-bench-rootfs-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	for _, d := range []string{"t", "bin", "dev", "proc", "etc", "tmp"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		return "", err
	}
	for _, b := range benches {
		if err := copyFile(filepath.Join(outDir, b), filepath.Join(root, "t", b)); err != nil {
			return "", err
		}
	}
	bb, err := filepath.EvalSymlinks(*busybox)
	if err != nil {
		return "", err
	}
	if err := copyFile(bb, filepath.Join(root, "bin", "busybox")); err != nil {
		return "", err
	}
	for _, l := range []string{"true", "sh"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", l)); err != nil {
			return "", err
		}
	}
	return root, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// medianNs runs argv (environment env) n times and returns the median "ns_per_op" it printed.
func medianNs(argv, env []string, n int) (float64, error) {
	var vals []float64
	for i := 0; i < n; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := runWithTimeout(cmd, 120*time.Second)
		if err != nil {
			return 0, fmt.Errorf("%v: %s", err, stderr.String())
		}
		f := strings.Fields(string(out))
		if len(f) != 2 || f[0] != "ns_per_op" {
			return 0, fmt.Errorf("unexpected output %q", out)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, err
		}
		vals = append(vals, v)
	}
	return median(vals), nil
}

// medianWall runs argv n times and returns the median wall time in ms and
// the largest peak RSS in KiB: the sum of VmHWM over the process tree when
// tree is set, else ru_maxrss of the child.
func medianWall(argv, env []string, n int, tree bool) (float64, float64, error) {
	var walls []float64
	var peak float64
	for i := 0; i < n; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, 0, err
		}
		done := make(chan struct{})
		hwm := make(chan float64, 1)
		go func() {
			if !tree {
				hwm <- 0
				return
			}
			hwm <- sampleTree(cmd.Process.Pid, done)
		}()
		err := cmd.Wait()
		wall := time.Since(start)
		close(done)
		h := <-hwm
		if err != nil {
			return 0, 0, fmt.Errorf("%v: %s", err, stderr.String())
		}
		walls = append(walls, float64(wall.Microseconds())/1000)
		if !tree {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				h = float64(ru.Maxrss)
			}
		}
		if h > peak {
			peak = h
		}
	}
	return median(walls), peak, nil
}

// sampleTree polls /proc until done, tracking the largest VmHWM seen for
// every process descended from root, and returns their sum in KiB.
func sampleTree(root int, done <-chan struct{}) float64 {
	hwm := make(map[int]float64)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		for _, pid := range descendants(root) {
			if v := vmHWM(pid); v > hwm[pid] {
				hwm[pid] = v
			}
		}
		select {
		case <-done:
			var sum float64
			for _, v := range hwm {
				sum += v
			}
			return sum
		case <-tick.C:
		}
	}
}

// descendants returns root and every process below it, from /proc/*/stat.
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := make(map[int]int)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// comm may contain spaces: fields after the last ')' are fixed.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
	}
	var out []int
	for pid := range parent {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

func vmHWM(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				v, _ := strconv.ParseFloat(fs[0], 64)
				return v
			}
		}
	}
	return 0
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	defer t.Stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func printTable(rows []row) {
	fmtv := func(v float64) string {
		if v < 0 {
			return "n/a"
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	fmt.Printf("%-28s | %12s | %12s | %8s\n", "metric", "native", "sandbox", "ratio")
	fmt.Printf("%s\n", strings.Repeat("-", 28+3+12+3+12+3+8))
	for _, r := range rows {
		ratio := "n/a"
		if r.native > 0 && r.sandbox >= 0 {
			ratio = strconv.FormatFloat(r.sandbox/r.native, 'f', 1, 64) + "x"
		}
		fmt.Printf("%-28s | %12s | %12s | %8s\n", r.metric, fmtv(r.native), fmtv(r.sandbox), ratio)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "runner: "+format+"\n", args...)
	os.Exit(1)
}
