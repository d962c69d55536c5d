// Command runner is the benchmark driver behind syscalls-tests/bench/run.sh
// (make bench). It builds the static C micro-benchmarks in
// syscalls-tests/bench, runs each natively and in the sandbox (median of
// -runs), times busybox true and python3 -c pass natively and in a fresh
// sandbox (median of -true-runs), samples the peak RSS of the sandbox
// process tree, and prints a table: metric | native | then, per platform
// (-platforms, default ptrace and systrap), the sandbox figure and its
// ratio to native.
//
// A benchmark whose prerequisite the sandbox lacks (pipes, threads) prints
// "na REASON" instead of a number; the table shows "n/a (REASON)", never
// a made-up figure. The python3 rows run in the Debian test rootfs
// (tools/rootfs/build.sh debian), natively chrooted into the same tree.
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
	runs     = flag.Int("runs", 5, "runs per micro-benchmark, alternating native and platforms (median is reported)")
	trueRuns = flag.Int("true-runs", 10, "runs of /bin/true (median is reported)")
	busybox  = flag.String("busybox", "/bin/busybox", "static busybox")
	plats    = flag.String("platforms", "ptrace,systrap", "comma-separated platforms to run the sandbox on (pangolin do --platform)")
)

// bench is one C micro-benchmark: a program printing "ns_per_op X" (or
// "na REASON").
type bench struct {
	src    string   // syscalls-tests/bench/SRC.c
	metric string   // row label
	scale  float64  // ns per display unit
	args   []string // arguments (paths as inside the rootfs)
	// native overrides args for the native run (host paths).
	native []string
	// debian runs it in the Debian rootfs (chrooted natively).
	debian bool
}

var benches = []bench{
	{src: "getpid", metric: "getpid (ns/op)", scale: 1},
	{src: "clock_gettime", metric: "clock_gettime MONOTONIC, glibc (ns/op)", scale: 1},
	{src: "read_zero", metric: "read_zero 4 KiB (ns/op)", scale: 1},
	{src: "open_close", metric: "open_close (ns/op)", scale: 1},
	{src: "tmpfs_write", metric: "tmpfs_write (ns/op)", scale: 1},
	{src: "tmpfs_read", metric: "tmpfs_read (ns/op)", scale: 1},
	{src: "epoll_eventfd", metric: "epoll_eventfd wakeup RTT (ns/op)", scale: 1},
	{src: "pipe_rw", metric: "pipe_rw 64 KiB (ns/op)", scale: 1},
	{src: "spawn", metric: "fork+exec+wait true (us/op)", scale: 1e3,
		args: []string{"200", "/bin/busybox", "true"}, native: []string{"200", "@BUSYBOX@", "true"}},
	{src: "pipe_pingpong", metric: "pipe ping-pong RTT (ns)", scale: 1},
	{src: "futex_pingpong", metric: "futex wake/wait RTT (ns)", scale: 1},
	{src: "tcp_pingpong", metric: "TCP loopback ping-pong RTT (ns)", scale: 1},
	{src: "tcp_stream", metric: "TCP loopback stream (us/MiB)", scale: 1e3},
	{src: "spawn", metric: "python3 -c pass, running (ms/op)", scale: 1e6,
		args: []string{"10", "/usr/bin/python3", "python3", "-c", "pass"}, debian: true},
}

// nativeEnv is the environment of native runs; the sandbox app gets the
// same via --env, while the pangolin CLI keeps ours.
var nativeEnv = []string{"PATH=/bin"}

// row is one line of the output table; a negative value means n/a, and
// note says why.
type row struct {
	metric  string
	native  float64
	sandbox []float64 // per platform, in -platforms order
	scale   float64   // values are divided by it for display (0: 1)
	note    string
}

// newRow returns a row with every value n/a.
func newRow(metric string, scale float64, nplat int) row {
	r := row{metric: metric, native: -1, scale: scale, sandbox: make([]float64, nplat)}
	for i := range r.sandbox {
		r.sandbox[i] = -1
	}
	return r
}

// naError is a benchmark's "na REASON": it could not measure.
type naError string

func (e naError) Error() string { return "n/a: " + string(e) }

// debianPATH is the PATH of the python3 benchmarks.
const debianPATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// debianRootfs copies the cached Debian test tree (building it if needed)
// and puts the built benchmarks in its /t.
func debianRootfs(outDir string, built map[string]bool) (string, error) {
	cmd := exec.Command("bash", "tools/rootfs/build.sh", "debian")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tools/rootfs/build.sh debian: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	src := lines[len(lines)-1]
	dst, err := os.MkdirTemp("", "pangolin-bench-debian-")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		return dst, fmt.Errorf("copying %s: %v: %s", src, err, out)
	}
	if err := os.MkdirAll(filepath.Join(dst, "t"), 0o755); err != nil {
		return dst, err
	}
	for b := range built {
		if err := copyFile(filepath.Join(outDir, b), filepath.Join(dst, "t", b)); err != nil {
			return dst, err
		}
	}
	return dst, nil
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
	built := map[string]bool{}
	for _, b := range benches {
		if built[b.src] {
			continue
		}
		built[b.src] = true
		out, err := exec.Command("gcc", "-static", "-O2", "-pthread", "-Wall", "-Werror", "-o",
			filepath.Join(outDir, b.src), filepath.Join(srcDir, b.src+".c")).CombinedOutput()
		if err != nil {
			fatalf("building %s: %v\n%s", b.src, err, out)
		}
	}
	bbPath, err := filepath.EvalSymlinks(*busybox)
	if err != nil {
		fatalf("busybox: %v", err)
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
	platforms := strings.Split(*plats, ",")
	np := len(platforms)
	sandboxArgv := func(plat string, cmd ...string) []string {
		return append([]string{pbin, "do", "--platform", plat, "--rootfs", root, "--env", "PATH=/bin", "--"}, cmd...)
	}
	// The Debian tree: a private copy with the benchmarks in /t.
	deb, debErr := debianRootfs(outDir, built)
	if deb != "" {
		defer os.RemoveAll(deb)
	}
	debSandboxArgv := func(plat string, cmd ...string) []string {
		return append([]string{pbin, "do", "--platform", plat, "--rootfs", deb, "--env", debianPATH, "--"}, cmd...)
	}
	debNativeArgv := func(cmd ...string) []string {
		return append([]string{"chroot", deb}, cmd...)
	}

	var rows []row
	failed := !sandboxOK
	for _, b := range benches {
		r := newRow(b.metric, b.scale, np)
		abs, _ := filepath.Abs(filepath.Join(outDir, b.src))
		nargs := b.args
		if b.native != nil {
			nargs = nil
			for _, a := range b.native {
				nargs = append(nargs, strings.ReplaceAll(a, "@BUSYBOX@", bbPath))
			}
		}
		if b.debian && debErr != nil {
			r.note = "debian rootfs: " + debErr.Error()
			rows = append(rows, r)
			continue
		}
		nativeArgv := append([]string{abs}, nargs...)
		env := nativeEnv
		if b.debian {
			nativeArgv = debNativeArgv(append([]string{"/t/" + b.src}, b.args...)...)
			env = []string{debianPATH}
		}
		// The runs alternate between native and the platforms, so that
		// a change in the host's load (it is shared) hits all of them
		// alike rather than one column.
		cands := []candidate{{argv: nativeArgv, env: env}}
		for _, plat := range platforms {
			if !sandboxOK {
				break
			}
			argv := sandboxArgv(plat, append([]string{"/t/" + b.src}, b.args...)...)
			if b.debian {
				argv = debSandboxArgv(plat, append([]string{"/t/" + b.src}, b.args...)...)
			}
			cands = append(cands, candidate{argv: argv, env: os.Environ()})
		}
		vals, errs := interleavedNs(cands, *runs)
		for i, err := range errs {
			var v float64 = -1
			if err == nil {
				v = vals[i]
			}
			if i == 0 {
				r.native = v
			} else {
				r.sandbox[i-1] = v
			}
			if err == nil {
				continue
			}
			if na, ok := err.(naError); ok {
				if i == 0 {
					r.note = "native: " + string(na)
				} else {
					r.note = string(na)
				}
				continue
			}
			if i == 0 {
				fmt.Fprintf(os.Stderr, "runner: native %s: %v\n", b.metric, err)
			} else {
				fmt.Fprintf(os.Stderr, "runner: sandbox (%s) %s: %v\n", platforms[i-1], b.metric, err)
				failed = true
			}
		}
		rows = append(rows, r)
	}

	tr := newRow("run /bin/true (ms, median)", 0, np)
	rss := newRow("peak RSS, /bin/true (KiB)", 0, np)
	if v, m, err := medianWall([]string{*busybox, "true"}, nativeEnv, *trueRuns, false); err == nil {
		tr.native, rss.native = v, m
	} else {
		fmt.Fprintf(os.Stderr, "runner: native true: %v\n", err)
	}
	for i, plat := range platforms {
		if !sandboxOK {
			break
		}
		if v, m, err := medianWall(sandboxArgv(plat, "/bin/true"), os.Environ(), *trueRuns, true); err == nil {
			tr.sandbox[i], rss.sandbox[i] = v, m
		} else {
			fmt.Fprintf(os.Stderr, "runner: sandbox (%s) true: %v\n", plat, err)
			failed = true
		}
	}
	rows = append(rows, tr)
	py := newRow("python3 -c pass, fresh (ms)", 0, np)
	if debErr != nil {
		py.note = "debian rootfs: " + debErr.Error()
	} else {
		if v, _, err := medianWall(debNativeArgv("/usr/bin/python3", "-c", "pass"), []string{debianPATH}, *trueRuns, false); err == nil {
			py.native = v
		} else {
			fmt.Fprintf(os.Stderr, "runner: native python3: %v\n", err)
		}
		for i, plat := range platforms {
			if !sandboxOK {
				break
			}
			if v, _, err := medianWall(debSandboxArgv(plat, "/usr/bin/python3", "-c", "pass"), os.Environ(), *trueRuns, true); err == nil {
				py.sandbox[i] = v
			} else {
				fmt.Fprintf(os.Stderr, "runner: sandbox (%s) python3: %v\n", plat, err)
				failed = true
			}
		}
	}
	rows = append(rows, py, rss)
	if sandboxOK {
		r := newRow("peak RSS, read_zero (KiB)", 0, np)
		abs, _ := filepath.Abs(filepath.Join(outDir, "read_zero"))
		if _, m, err := medianWall([]string{abs}, nativeEnv, 1, false); err == nil {
			r.native = m
		}
		for i, plat := range platforms {
			if _, m, err := medianWall(sandboxArgv(plat, "/t/read_zero"), os.Environ(), 1, true); err == nil {
				r.sandbox[i] = m
			}
		}
		rows = append(rows, r)
	}

	printTable(platforms, rows)
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
		if err := copyFile(filepath.Join(outDir, b.src), filepath.Join(root, "t", b.src)); err != nil {
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

// candidate is one command of a benchmark row: native or a platform.
type candidate struct {
	argv, env []string
}

// interleavedNs runs each candidate n times, round-robin, and returns for
// each the median "ns_per_op" it printed, or its error (the first one).
func interleavedNs(cands []candidate, n int) ([]float64, []error) {
	vals := make([][]float64, len(cands))
	errs := make([]error, len(cands))
	for i := 0; i < n; i++ {
		for j, c := range cands {
			if errs[j] != nil {
				continue
			}
			if i == 0 {
				fmt.Fprintf(os.Stderr, "runner: %s\n", strings.Join(c.argv, " "))
			}
			v, err := runNs(c.argv, c.env)
			if err != nil {
				errs[j] = err
				continue
			}
			vals[j] = append(vals[j], v)
		}
	}
	med := make([]float64, len(cands))
	for j := range cands {
		med[j] = median(vals[j])
	}
	return med, errs
}

// runNs runs argv (environment env) once and returns the "ns_per_op" it
// printed.
func runNs(argv, env []string) (float64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := runWithTimeout(cmd, 120*time.Second)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, stderr.String())
	}
	if reason, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "na "); ok {
		return 0, naError(reason)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || f[0] != "ns_per_op" {
		return 0, fmt.Errorf("unexpected output %q", out)
	}
	return strconv.ParseFloat(f[1], 64)
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

func printTable(platforms []string, rows []row) {
	fmtv := func(v, scale float64) string {
		if v < 0 {
			return "n/a"
		}
		if scale > 0 {
			v /= scale
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	const w = 34
	fmt.Printf("%-*s | %12s", w, "metric", "native")
	for _, p := range platforms {
		fmt.Printf(" | %12s | %7s", p, "ratio")
	}
	fmt.Println()
	fmt.Printf("%s\n", strings.Repeat("-", w+3+12+len(platforms)*(3+12+3+7)))
	for _, r := range rows {
		fmt.Printf("%-*s | %12s", w, r.metric, fmtv(r.native, r.scale))
		for _, v := range r.sandbox {
			ratio := "n/a"
			if r.native > 0 && v >= 0 {
				ratio = strconv.FormatFloat(v/r.native, 'f', 1, 64) + "x"
			}
			fmt.Printf(" | %12s | %7s", fmtv(v, r.scale), ratio)
		}
		if r.note != "" {
			fmt.Printf(" (%s)", r.note)
		}
		fmt.Println()
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "runner: "+format+"\n", args...)
	os.Exit(1)
}
