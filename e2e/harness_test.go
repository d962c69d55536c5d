// Package e2e holds the end-to-end acceptance tests: real programs (busybox,
// then Debian's bash, coreutils, procps and python3) run in `pangolin do`
// and, as the oracle, natively in a chroot of the same root filesystem
// inside fresh namespaces; outputs and exit statuses must match. See
// README.md.
package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var pangolinBin = flag.String("pangolin", "../bin/pangolin", "path of the pangolin binary")

const (
	knownFailuresFile = "known-failures.txt"
	rootfsScript      = "../tools/rootfs/build.sh"
	// appPATH is the PATH both sides give the program.
	appPATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// pidsMax bounds the host processes of one run (native or sandbox:
	// CLI, sentry, gofer and one stub per address space), so that a
	// runaway fork cannot hurt the machine.
	pidsMax = 1024
)

// appEnv is the whole environment of the program under test on both sides.
var appEnv = []string{appPATH, "HOME=/root", "LC_ALL=C", "TERM=dumb"}

func init() {
	// Descriptors inherited from whoever started `go test` must not leak
	// into the programs (os/exec does not close them).
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	}
}

// result is what one run produced.
type result struct {
	status   int // exit status, or 128+N for death by signal N
	stdout   string
	stderr   string
	timedOut bool
}

func (r result) String() string {
	s := fmt.Sprintf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
	if r.timedOut {
		s = "TIMED OUT\n" + s
	}
	return s
}

// requireRoot fails (or, for a missing capability, skips) the test when
// the machine cannot run it.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the end-to-end tests need root (namespaces, chroot, ptrace): machine capability missing")
	}
	for _, tool := range []string{"unshare", "chroot", "mount", "env"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (util-linux, coreutils): %v", tool, err)
		}
	}
}

// pangolin returns the absolute path of bin/pangolin or fails.
func pangolin(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("%s not found: run `make build` first", bin)
	}
	return bin
}

var (
	rootfsMu    sync.Mutex
	rootfsCache = map[string]string{}
)

// cachedRootfs returns the cached tree of kind ("busybox" or "debian"),
// building it with tools/rootfs/build.sh if needed (fast when cached).
func cachedRootfs(t *testing.T, kind string) string {
	t.Helper()
	rootfsMu.Lock()
	defer rootfsMu.Unlock()
	if d, ok := rootfsCache[kind]; ok {
		return d
	}
	cmd := exec.Command("bash", rootfsScript, kind)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", rootfsScript, kind, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	d := lines[len(lines)-1]
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Fatalf("%s %s printed %q, not a directory", rootfsScript, kind, d)
	}
	rootfsCache[kind] = d
	return d
}

// copyRootfs copies a cached tree to a fresh directory the test owns
// (the cache stays pristine whatever the program does).
func copyRootfs(t *testing.T, src string) string {
	t.Helper()
	dst, err := os.MkdirTemp("", "pangolin-e2e-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("copying rootfs: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(dst, ".pangolin-rootfs-complete"))
	return dst
}

// pidsCgroup returns a fresh pids cgroup directory limited to pidsMax
// processes (cgroup v2, or the v1 pids hierarchy), or "" if the machine
// has no pids controller.
func pidsCgroup(t *testing.T) string {
	t.Helper()
	var base string
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && bytes.Contains(b, []byte("pids")) {
		base = "/sys/fs/cgroup"
	} else if st, err := os.Stat("/sys/fs/cgroup/pids"); err == nil && st.IsDir() {
		base = "/sys/fs/cgroup/pids"
	} else {
		return ""
	}
	dir, err := os.MkdirTemp(base, "pangolin-e2e-")
	if err != nil {
		return ""
	}
	t.Cleanup(func() {
		// The run's processes are gone (the group was killed); a
		// straggler still exiting may keep the directory busy briefly.
		for i := 0; i < 50; i++ {
			if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(pidsMax)), 0o644); err != nil {
		t.Fatalf("pids.max: %v", err)
	}
	return dir
}

// inCgroup prefixes argv so that the process joins cgroup before it
// execs (so nothing it forks escapes the limit).
func inCgroup(cg string, argv []string) []string {
	if cg == "" {
		return argv
	}
	return append([]string{"/bin/sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg}, argv...)
}

// nativeSetup runs in fresh mount, UTS, IPC and network namespaces,
// builds what the sandbox provides over the rootfs (a tmpfs /tmp, a
// read-only sysfs on /sys (the new network namespace allows it), a /dev
// with the same nodes and links as the sandbox's devfs, the hostname, lo
// up as a sandbox's always is) in
// its private mount namespace (unshare makes propagation private, so the
// host's mounts are untouched and everything goes when the run ends),
// then starts the command as PID 1 of a fresh PID namespace (with its
// own proc on /proc) chrooted into the rootfs, with the test environment,
// leading its own session as the sandbox's init does. The PID namespace
// is made last so that the setup's own processes do not use up PIDs: the
// command's children get the same PIDs as in the sandbox. (setsid(1) does
// not fork here: PID 1 is not a process group leader.)
const nativeSetup = `set -e
root=$1; shift
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
mk() { mknod -m 666 "$root/dev/$1" c "$2" "$3"; }
mk null 1 3; mk zero 1 5; mk full 1 7; mk random 1 8; mk urandom 1 9; mk tty 5 0
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
ln -s pts/ptmx "$root/dev/ptmx"
mkdir "$root/dev/pts" "$root/dev/shm"
chmod 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
hostname pangolin
ip link set lo up
exec unshare --pid --fork --kill-child --mount-proc="$root/proc" setsid chroot "$root" "$@"
`

// runOpts are the knobs of one run.
type runOpts struct {
	timeout time.Duration
	stdin   string
	env     []string // the program's environment; default appEnv
	// signal, if set, is sent to the whole run (native: the namespace's
	// PID 1 through unshare; sandbox: the CLI, which forwards it) after
	// signalAfter.
	signal      syscall.Signal
	signalAfter time.Duration
}

func (o runOpts) withDefaults() runOpts {
	if o.timeout == 0 {
		o.timeout = 60 * time.Second
	}
	if o.env == nil {
		o.env = appEnv
	}
	return o
}

// runNative runs argv as PID 1 chrooted into root inside new namespaces.
func runNative(t *testing.T, root string, argv []string, o runOpts) result {
	t.Helper()
	o = o.withDefaults()
	full := []string{"unshare", "--mount", "--uts", "--ipc", "--net",
		"--", "/bin/sh", "-c", nativeSetup, "native-setup", root, "env", "-i"}
	full = append(full, o.env...)
	full = append(full, argv...)
	return runCmd(t, inCgroup(pidsCgroup(t), full), os.Environ(), o)
}

// runSandbox runs argv in `pangolin do --rootfs root`.
func runSandbox(t *testing.T, root string, argv []string, o runOpts) result {
	t.Helper()
	o = o.withDefaults()
	full := []string{pangolin(t), "do", "--rootfs", root, "--cwd", "/"}
	for _, e := range o.env {
		full = append(full, "--env", e)
	}
	full = append(full, "--")
	full = append(full, argv...)
	return runCmd(t, inCgroup(pidsCgroup(t), full), os.Environ(), o)
}

// runCmd runs argv in its own process group and kills the group on
// timeout.
func runCmd(t *testing.T, argv, env []string, o runOpts) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(o.stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	var mu sync.Mutex
	timedOut := false
	timer := time.AfterFunc(o.timeout, func() {
		mu.Lock()
		timedOut = true
		mu.Unlock()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	defer timer.Stop()
	if o.signal != 0 {
		st := time.AfterFunc(o.signalAfter, func() { _ = signalRun(cmd.Process.Pid, o.signal) })
		defer st.Stop()
	}
	err := cmd.Wait()
	mu.Lock()
	res := result{stdout: stdout.String(), stderr: stderr.String(), timedOut: timedOut}
	mu.Unlock()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		t.Fatalf("%v: no wait status: %v", argv, err)
	case ws.Signaled():
		res.status = 128 + int(ws.Signal())
	default:
		res.status = ws.ExitStatus()
	}
	return res
}

// signalRun delivers sig to the program of a run started as pid: the
// sandbox CLI forwards signals to the app's init; natively, the program
// is PID 1 of the namespace, a grandchild of unshare (the cgroup shell
// execs unshare, whose child execs the program), so it is found through
// /proc.
func signalRun(pid int, sig syscall.Signal) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && strings.HasPrefix(string(b), "unshare\x00") {
		for _, k := range childrenOf(pid) {
			return syscall.Kill(k, sig)
		}
	}
	return syscall.Kill(pid, sig)
}

// knownFailures parses known-failures.txt: "TestName/case  # reason".
func knownFailures(t *testing.T) map[string]string {
	t.Helper()
	known := map[string]string{}
	f, err := os.Open(knownFailuresFile)
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
	return known
}

var (
	knownOnce sync.Once
	known     map[string]string
	knownUsed sync.Map
)

// verdict reports a difference (or its absence) for the running test,
// following the known-failures policy: a listed test that differs is
// logged; a listed test that matches fails so that its entry gets removed.
func verdict(t *testing.T, problem string) {
	t.Helper()
	knownOnce.Do(func() { known = knownFailures(t) })
	reason, isKnown := known[t.Name()]
	if isKnown {
		knownUsed.Store(t.Name(), true)
	}
	switch {
	case problem == "" && isKnown:
		t.Errorf("%s now passes: remove it from e2e/%s", t.Name(), knownFailuresFile)
	case problem == "":
	case isKnown:
		t.Logf("known failure (%s): %s\n%s", knownFailuresFile, reason, problem)
	default:
		t.Error(problem)
	}
}

// TestMain checks, after the tests, that every known-failures entry names
// a test that ran (a stale entry would hide nothing but confuse readers).
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeDebianRoot()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		k := map[string]string{}
		if b, err := os.ReadFile(knownFailuresFile); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				l, _, _ = strings.Cut(l, "#")
				if n := strings.TrimSpace(l); n != "" {
					k[n] = ""
				}
			}
		}
		var stale []string
		for n := range k {
			if _, ok := knownUsed.Load(n); !ok {
				stale = append(stale, n)
			}
		}
		sort.Strings(stale)
		if len(stale) > 0 && os.Geteuid() == 0 {
			fmt.Fprintf(os.Stderr, "e2e/%s lists tests that did not run: %s\n", knownFailuresFile, strings.Join(stale, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// compareRuns describes how the sandbox run differs from the native one
// after normalising both with norm (nil: none).
func compareRuns(native, sb result, norm func(string) string) string {
	if norm == nil {
		norm = func(s string) string { return s }
	}
	var b strings.Builder
	if sb.timedOut {
		b.WriteString("sandbox run timed out\n")
	}
	if native.timedOut {
		b.WriteString("native run timed out\n")
	}
	if native.status != sb.status {
		fmt.Fprintf(&b, "exit status: native %d, sandbox %d\n", native.status, sb.status)
	}
	if n, s := norm(native.stdout), norm(sb.stdout); n != s {
		fmt.Fprintf(&b, "stdout differs (- native, + sandbox):\n%s", lineDiff(n, s))
	}
	if n, s := norm(native.stderr), norm(sb.stderr); n != s {
		fmt.Fprintf(&b, "stderr differs (- native, + sandbox):\n%s", lineDiff(n, s))
	}
	return b.String()
}

// lineDiff is a small LCS line diff ("- " native only, "+ " sandbox only).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > 3000 || len(y) > 3000 {
		return fmt.Sprintf("  (too long to diff: %d vs %d lines)\n", len(x), len(y))
	}
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j, same := 0, 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			same++
			if same <= 2 {
				fmt.Fprintf(&out, "  %s\n", x[i])
			} else if same == 3 {
				out.WriteString("  ...\n")
			}
			i++
			j++
		case j < len(y) && (i == len(x) || l[i][j+1] >= l[i+1][j]):
			same = 0
			fmt.Fprintf(&out, "+ %s\n", y[j])
			j++
		default:
			same = 0
			fmt.Fprintf(&out, "- %s\n", x[i])
			i++
		}
	}
	return out.String()
}

// diffCase runs argv natively and in the sandbox on the same root and
// compares them.
func diffCase(t *testing.T, root string, argv []string, o runOpts, norm func(string) string) (native, sb result) {
	t.Helper()
	native = runNative(t, root, argv, o)
	sb = runSandbox(t, root, argv, o)
	verdict(t, compareRuns(native, sb, norm))
	return native, sb
}

// replaceAll returns a normaliser applying each regexp replacement.
func replaceAll(pairs ...string) func(string) string {
	var res []*regexp.Regexp
	for i := 0; i < len(pairs); i += 2 {
		res = append(res, regexp.MustCompile(pairs[i]))
	}
	return func(s string) string {
		for i, re := range res {
			s = re.ReplaceAllString(s, pairs[2*i+1])
		}
		return s
	}
}
