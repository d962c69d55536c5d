package syscallstests

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	nativeOnly = flag.Bool("native-only", os.Getenv("PANGOLIN_NATIVE_ONLY") == "1",
		"run only the native half (validates the C programs; env PANGOLIN_NATIVE_ONLY=1)")
	pangolinBin = flag.String("pangolin", "../bin/pangolin", "path of the pangolin binary")
)

const (
	srcDir          = "src"
	outDir          = "out" // git-ignored build cache
	knownFailures   = "known-failures.txt"
	nativeTimeout   = 20 * time.Second
	sandboxTimeout  = 60 * time.Second
	fuzzTimeout     = 180 * time.Second
	fuzzProgram     = "fuzz_syscalls"
	trivialProgram  = "hello"
	sandboxProgDir  = "/t"
	sandboxEnvPATH  = "PATH=/bin"
	defaultBusybox  = "/bin/busybox"
	fuzzDoneMessage = "done 10000 calls"
	fuzzConcurrent  = "concurrent phase done, 2 children reaped"
)

func init() {
	closeOnExecInherited()
}

// closeOnExecInherited marks every descriptor above 2 that this process
// inherited (e.g. a shell's stray fd 10) close-on-exec. os/exec does not
// close them, so they would leak into the programs: the native and sandbox
// runs would see different descriptor tables, and the fuzzer could act on a
// host file through them.
func closeOnExecInherited() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// result is what one run of a program produced.
type result struct {
	status   int // exit status, or 128+N for death by signal N
	stdout   []byte
	stderr   []byte
	timedOut bool
}

// program is one C test program.
type program struct {
	name       string
	bin        string // native path of the built binary
	wantStatus int    // from an "expect-exit: N" line in the source, default 0
}

// run starts argv with environment env, stdin from /dev/null, in its own
// process group, and kills the whole group after timeout. With newPIDNS the
// program runs as PID 1 of a new PID namespace, as the sandboxed run does
// (Linux gives PID 1 special signal rules, so native and sandbox must
// agree on who is init), in a new IPC namespace, as each sandbox has
// its own (SysV objects start from none, and concurrent runs cannot meet
// through fixed keys), and in a new network namespace with only loopback,
// up, as a sandbox's (see startInFreshNetns).
func run(argv []string, env []string, dir string, timeout time.Duration, newPIDNS bool) (result, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if newPIDNS {
		// PID 1 of a new namespace leading its own session, as a
		// container's init is (runc's init calls setsid()).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC}
	}
	// Output pipes held open by a stray grandchild must not hang us.
	cmd.WaitDelay = 5 * time.Second
	start := cmd.Start
	if newPIDNS {
		start = func() error { return startInFreshNetns(cmd) }
	}
	if err := start(); err != nil {
		return result{}, err
	}
	var timedOut bool
	var mu sync.Mutex
	timer := time.AfterFunc(timeout, func() {
		mu.Lock()
		timedOut = true
		mu.Unlock()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	err := cmd.Wait()
	timer.Stop()
	mu.Lock()
	res := result{stdout: stdout.Bytes(), stderr: stderr.Bytes(), timedOut: timedOut}
	mu.Unlock()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return res, fmt.Errorf("no wait status: %v", err)
	case ws.Signaled():
		res.status = 128 + int(ws.Signal())
	default:
		res.status = ws.ExitStatus()
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, err
		}
	}
	return res, nil
}

// startInFreshNetns starts cmd in a new network namespace set up as a
// sandbox's is: lo up (a new namespace's is down), and ICMP datagram
// sockets open to every group (net.ipv4.ping_group_range, as Docker sets
// it and the sandbox reports it). The namespace is made on a locked
// thread that forks the child and then dies with its goroutine, so it
// never leaks into the test process.
func startInFreshNetns(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread exits with the goroutine.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq("lo")
		if err == nil {
			err = unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr)
		}
		if err == nil {
			ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
			err = unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
		}
		if err != nil {
			errc <- fmt.Errorf("bringing up lo: %w", err)
			return
		}
		// /proc/sys/net is the calling thread's namespace's.
		if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 2147483647"), 0); err != nil {
			errc <- fmt.Errorf("ping_group_range: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

var expectExitRE = regexp.MustCompile(`(?m)^\s*\*?\s*expect-exit:\s*(\d+)`)

// buildPrograms compiles every src/*.c into out/ (when the binary is missing
// or older than its source or t.h) and returns them sorted by name.
func buildPrograms(t *testing.T) map[string]program {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc not found: the C test programs need gcc and a static libc (apt-get install gcc libc6-dev)")
	}
	srcs, err := filepath.Glob(filepath.Join(srcDir, "*.c"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no C sources in %s: %v", srcDir, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	hdr, err := os.Stat(filepath.Join(srcDir, "t.h"))
	if err != nil {
		t.Fatal(err)
	}
	progs := make(map[string]program)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		text, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := program{name: name, bin: filepath.Join(outDir, name)}
		if m := expectExitRE.FindSubmatch(text); m != nil {
			p.wantStatus, _ = strconv.Atoi(string(m[1]))
		}
		if abs, err := filepath.Abs(p.bin); err == nil {
			p.bin = abs
		}
		progs[name] = p
		sst, _ := os.Stat(src)
		if bst, err := os.Stat(p.bin); err == nil && bst.ModTime().After(sst.ModTime()) && bst.ModTime().After(hdr.ModTime()) {
			continue
		}
		wg.Add(1)
		go func(src string, p program) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tmp := fmt.Sprintf("%s.tmp%d", p.bin, os.Getpid())
			out, err := exec.Command(gcc, "-static", "-O1", "-Wall", "-Werror", "-o", tmp, src).CombinedOutput()
			if err == nil {
				err = os.Rename(tmp, p.bin)
			}
			if err != nil {
				os.Remove(tmp)
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s: %v\n%s", src, err, out))
				mu.Unlock()
			}
		}(src, p)
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		t.Fatalf("building C test programs failed:\n%s", strings.Join(errs, "\n"))
	}
	return progs
}

// readKnownFailures parses known-failures.txt: one program name per line,
// with "# reason" comments (whole-line or trailing).
func readKnownFailures(t *testing.T) map[string]string {
	t.Helper()
	known := make(map[string]string)
	f, err := os.Open(knownFailures)
	if errors.Is(err, os.ErrNotExist) {
		return known
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, reason, _ := strings.Cut(sc.Text(), "#")
		if name := strings.TrimSpace(line); name != "" {
			known[name] = strings.TrimSpace(reason)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return known
}

// sandbox runs programs through `pangolin do` on a prepared rootfs.
type sandbox struct {
	bin    string // absolute path of bin/pangolin
	rootfs string
}

// newSandbox checks that bin/pangolin exists and prepares a rootfs holding
// the test binaries in /t, busybox in /bin (with sh and true links) and
// empty /tmp, /dev, /proc and /etc directories.
func newSandbox(t *testing.T, progs map[string]program) *sandbox {
	t.Helper()
	if os.Getenv("PANGOLIN_SKIP_SANDBOX") == "1" {
		t.Fatalf("PANGOLIN_SKIP_SANDBOX=1: the differential tests are not skippable; run `make build` so that bin/pangolin exists (use PANGOLIN_NATIVE_ONLY=1 or -native-only to check only the native half)")
	}
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("%s not found: run `make build` first (or PANGOLIN_NATIVE_ONLY=1 / -native-only to run only the native half)", bin)
	}
	root, err := os.MkdirTemp("", "pangolin-syscalls-rootfs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("preparing rootfs: %v", err)
		}
	}
	must(os.Chmod(root, 0o755))
	for _, d := range []string{"t", "bin", "dev", "proc", "etc", "tmp"} {
		must(os.Mkdir(filepath.Join(root, d), 0o755))
	}
	must(os.Chmod(filepath.Join(root, "tmp"), 0o1777))
	for _, p := range progs {
		must(copyFile(p.bin, filepath.Join(root, "t", p.name)))
	}
	busybox, err := filepath.EvalSymlinks(defaultBusybox)
	if err != nil {
		t.Fatalf("busybox not found at %s (apt-get install busybox-static): %v", defaultBusybox, err)
	}
	must(copyFile(busybox, filepath.Join(root, "bin", "busybox")))
	for _, l := range []string{"sh", "true", "false", "echo", "ls", "cat"} {
		must(os.Symlink("busybox", filepath.Join(root, "bin", l)))
	}
	return &sandbox{bin: bin, rootfs: root}
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

// run runs /t/NAME ARGS... in a fresh sandbox.
func (s *sandbox) run(name string, timeout time.Duration, args ...string) (result, error) {
	argv := []string{s.bin, "do", "--rootfs", s.rootfs, "--cwd", "/", "--env", sandboxEnvPATH, "--", sandboxProgDir + "/" + name}
	// The CLI itself keeps the harness's environment; the app gets only
	// PATH, like the native run.
	return run(append(argv, args...), os.Environ(), "/", timeout, false)
}

func runNative(p program) (result, error) {
	return run([]string{p.bin}, []string{sandboxEnvPATH}, "/", nativeTimeout, true)
}

// nativeProblems reports why a native run does not count as a passing
// program: wrong status, FAIL lines, stderr output, timeout.
func nativeProblems(p program, r result) []string {
	var probs []string
	if r.timedOut {
		probs = append(probs, fmt.Sprintf("timed out after %v", nativeTimeout))
	}
	if r.status != p.wantStatus {
		probs = append(probs, fmt.Sprintf("exit status %d, program expects %d", r.status, p.wantStatus))
	}
	for _, line := range strings.Split(string(r.stdout), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			probs = append(probs, "stdout: "+line)
		}
	}
	if len(r.stderr) > 0 {
		probs = append(probs, "unexpected stderr: "+string(r.stderr))
	}
	return probs
}

// compare returns a readable description of how the sandbox run differs
// from the native one, or "" if they match byte for byte.
func compare(native, sb result) string {
	var b strings.Builder
	if sb.timedOut {
		fmt.Fprintf(&b, "sandbox run timed out (killed the process group)\n")
	}
	if native.status != sb.status {
		fmt.Fprintf(&b, "exit status: native %d, sandbox %d\n", native.status, sb.status)
	}
	if !bytes.Equal(native.stdout, sb.stdout) {
		fmt.Fprintf(&b, "stdout differs (- native, + sandbox):\n%s", diff(string(native.stdout), string(sb.stdout)))
	}
	if !bytes.Equal(native.stderr, sb.stderr) {
		fmt.Fprintf(&b, "stderr differs (- native, + sandbox):\n%s", diff(string(native.stderr), string(sb.stderr)))
	}
	return b.String()
}

// diff is a small line-based LCS diff, unified-ish: unchanged lines are
// prefixed with two spaces, removed with "- ", added with "+ ". Runs of
// more than 3 unchanged lines are elided.
func diff(a, b string) string {
	x := splitLines(a)
	y := splitLines(b)
	const max = 2000
	if len(x) > max || len(y) > max {
		return fmt.Sprintf("  (outputs too long to diff: %d vs %d lines)\n", len(x), len(y))
	}
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = maxInt(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, line{'+', y[j]})
			j++
		default:
			lines = append(lines, line{'-', x[i]})
			i++
		}
	}
	var out strings.Builder
	near := func(k int) bool {
		for d := -3; d <= 3; d++ {
			if k+d >= 0 && k+d < len(lines) && lines[k+d].op != ' ' {
				return true
			}
		}
		return false
	}
	elided := false
	for k, l := range lines {
		if l.op == ' ' && !near(k) {
			if !elided {
				out.WriteString("  ...\n")
				elided = true
			}
			continue
		}
		elided = false
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if strings.HasSuffix(l, "\n") {
			lines[i] = strings.TrimSuffix(l, "\n")
		} else {
			lines[i] = l + " (no newline at end)"
		}
	}
	return lines
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// TestSyscalls runs every C program natively and in the sandbox and
// compares the results. Programs listed in known-failures.txt must still
// differ; if one now matches, the test fails so the entry gets removed.
func TestSyscalls(t *testing.T) {
	progs := buildPrograms(t)
	known := readKnownFailures(t)
	for name := range known {
		if _, ok := progs[name]; !ok {
			t.Errorf("%s lists %q, which is not a program in %s", knownFailures, name, srcDir)
		}
	}
	var sb *sandbox
	if *nativeOnly {
		t.Logf("native-only mode: the sandbox half is not run")
	} else {
		sb = newSandbox(t, progs)
	}
	names := make([]string, 0, len(progs))
	for name := range progs {
		if name != fuzzProgram {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		p := progs[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			native, err := runNative(p)
			if err != nil {
				t.Fatalf("native run: %v", err)
			}
			if probs := nativeProblems(p, native); len(probs) > 0 {
				t.Fatalf("program fails natively (a bug in the test program):\n  %s\nstdout:\n%s",
					strings.Join(probs, "\n  "), native.stdout)
			}
			if sb == nil {
				return
			}
			sbr, err := sb.run(p.name, sandboxTimeout)
			if err != nil {
				t.Fatalf("sandbox run: %v", err)
			}
			d := compare(native, sbr)
			reason, isKnown := known[p.name]
			switch {
			case d == "" && isKnown:
				t.Errorf("%s now passes in the sandbox: remove it from %s", p.name, knownFailures)
			case d == "":
			case isKnown:
				t.Logf("known failure (%s): %s\n%s", knownFailures, reason, d)
			default:
				t.Errorf("sandbox differs from native:\n%s", d)
			}
		})
	}
}

// TestFuzzSyscalls runs the random-syscall program in the sandbox only (it
// must never run natively as root), then a trivial program to show the
// sandbox still works.
func TestFuzzSyscalls(t *testing.T) {
	if *nativeOnly {
		t.Skip("native-only mode: fuzz_syscalls runs only in the sandbox (it is unsafe natively)")
	}
	progs := buildPrograms(t)
	sb := newSandbox(t, progs)
	r, err := sb.run(fuzzProgram, fuzzTimeout)
	if err != nil {
		t.Fatalf("sandbox run: %v", err)
	}
	if r.timedOut {
		t.Errorf("fuzz_syscalls timed out after %v", fuzzTimeout)
	}
	if r.status != 0 || !bytes.Contains(r.stdout, []byte(fuzzDoneMessage)) || !bytes.Contains(r.stdout, []byte(fuzzConcurrent)) {
		t.Errorf("fuzz_syscalls: exit status %d (want 0), stdout %q (want %q and %q), stderr %q",
			r.status, r.stdout, fuzzDoneMessage, fuzzConcurrent, r.stderr)
	}
	h, err := sb.run(trivialProgram, sandboxTimeout)
	if err != nil {
		t.Fatalf("sandbox run of %s: %v", trivialProgram, err)
	}
	if h.status != 0 || !bytes.HasSuffix(h.stdout, []byte("PASSED\n")) {
		t.Errorf("%s after the fuzzer: exit status %d, stdout %q, stderr %q",
			trivialProgram, h.status, h.stdout, h.stderr)
	}
}
