package escape

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// liveSandbox is a `pangolin do` sandbox running `sleep`, with the host
// PIDs of its sentry and gofer.
type liveSandbox struct {
	cmd           *exec.Cmd
	sentry, gofer int
}

// startLive starts `pangolin do [args] -- /bin/sleep 30` and finds its
// sentry and gofer among the CLI's children.
func startLive(t *testing.T, bin string, args ...string) *liveSandbox {
	t.Helper()
	argv := append([]string{"do"}, args...)
	argv = append(argv, "--", "/bin/sleep", "30")
	cmd := exec.Command(bin, argv...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &liveSandbox{cmd: cmd}
	t.Cleanup(func() {
		// SIGTERM: the CLI forwards it to the app and cleans up (its
		// cgroup) as the sandbox ends; SIGKILL only if it does not.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, kid := range children(cmd.Process.Pid) {
			comm := strings.TrimSpace(readOr(fmt.Sprintf("/proc/%d/comm", kid)))
			status := readOr(fmt.Sprintf("/proc/%d/status", kid))
			// Confined once stage 2 runs: its seccomp filter is in.
			if !strings.Contains(status, "Seccomp:\t2") {
				continue
			}
			switch comm {
			case "pangolin-sentry":
				s.sentry = kid
			case "pangolin-gofer":
				s.gofer = kid
			}
		}
		if s.sentry != 0 && s.gofer != 0 {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sentry and gofer of `pangolin do` not found (sentry %d, gofer %d)", s.sentry, s.gofer)
	return nil
}

func children(pid int) []int {
	var kids []int
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		for _, w := range strings.Fields(readOr(f)) {
			if n, err := strconv.Atoi(w); err == nil {
				kids = append(kids, n)
			}
		}
	}
	return kids
}

// statusField returns the value of a /proc/PID/status line.
func statusField(t *testing.T, pid int, key string) string {
	t.Helper()
	for _, line := range strings.Split(readOr(fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return ""
}

func nsOf(pid int, ns string) string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	return l
}

// TestConfinement checks, from the host, how the sentry and the gofer of
// a running sandbox are confined (see runsc-cli/sandbox_confine.go).
func TestConfinement(t *testing.T) {
	requireRoot(t)
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	s := startLive(t, bin)
	self := os.Getpid()

	// Namespaces: all new, the sentry's user namespace too.
	for _, ns := range []string{"mnt", "pid", "ipc", "uts", "net", "cgroup"} {
		for name, pid := range map[string]int{"sentry": s.sentry, "gofer": s.gofer} {
			if nsOf(pid, ns) == nsOf(self, ns) {
				t.Errorf("the %s shares the host's %s namespace", name, ns)
			}
		}
	}
	if nsOf(s.sentry, "user") == nsOf(self, "user") {
		t.Logf("the sentry shares the host's user namespace (user namespaces unavailable?)")
	} else if uid := statusField(t, s.sentry, "Uid"); uid != "65534\t65534\t65534\t65534" {
		t.Errorf("sentry host UIDs %q, want nobody", uid)
	}
	if nsOf(s.sentry, "net") == nsOf(s.gofer, "net") {
		t.Errorf("sentry and gofer share a network namespace")
	}

	// Capabilities, exactly.
	var sentryCaps uint64
	if n, _ := strconv.Atoi(strings.TrimSpace(readOr("/proc/sys/kernel/yama/ptrace_scope"))); n >= 2 {
		sentryCaps = 1 << unix.CAP_SYS_PTRACE
	}
	wantCaps := map[int]uint64{
		s.sentry: sentryCaps,
		s.gofer: 1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH |
			1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID,
	}
	for pid, want := range wantCaps {
		for _, f := range []string{"CapEff", "CapPrm", "CapBnd", "CapAmb"} {
			got, err := strconv.ParseUint(statusField(t, pid, f), 16, 64)
			if err != nil || got != want {
				t.Errorf("pid %d %s = %#x, want %#x", pid, f, got, want)
			}
		}
		if v := statusField(t, pid, "NoNewPrivs"); v != "1" {
			t.Errorf("pid %d NoNewPrivs %s", pid, v)
		}
		if v := statusField(t, pid, "Seccomp"); v != "2" {
			t.Errorf("pid %d Seccomp %s", pid, v)
		}
		// No core dumps (the sentry holds the app's memory).
		if !strings.Contains(readOr(fmt.Sprintf("/proc/%d/limits", pid)), "Max core file size        0                    0") {
			t.Errorf("pid %d may dump core:\n%s", pid, readOr(fmt.Sprintf("/proc/%d/limits", pid)))
		}
	}

	// The sentry's root is empty and read-only.
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", s.sentry))
	if err != nil || len(ents) != 0 {
		t.Errorf("the sentry's root holds %v (%v), want nothing", ents, err)
	}
	if err := unix.Access(fmt.Sprintf("/proc/%d/root/.", s.sentry), unix.W_OK); err == nil {
		t.Errorf("the sentry's root is writable")
	}
	// A host process with the sentry's own host UID (nobody) cannot read
	// its memory or environment: it has no CAP_SYS_PTRACE in the
	// sentry's user namespace.
	for _, f := range []string{"environ", "mem"} {
		cat := exec.Command("cat", fmt.Sprintf("/proc/%d/%s", s.sentry, f))
		cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := cat.CombinedOutput(); err == nil {
			t.Errorf("nobody read /proc/%d/%s of the sentry (%d bytes)", s.sentry, f, len(out))
		}
	}

	// The gofer's root is the served tree (here the host's /, read-only,
	// without its submounts), nosuid, nodev, noexec.
	mi := readOr(fmt.Sprintf("/proc/%d/mountinfo", s.gofer))
	var rootLine string
	for _, line := range strings.Split(mi, "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			rootLine = line
		}
	}
	for _, opt := range []string{"ro", "nosuid", "nodev", "noexec"} {
		f := strings.Fields(rootLine)
		if len(f) < 6 || !strings.Contains(","+f[5]+",", ","+opt+",") {
			t.Errorf("the gofer's root is not %s: %q", opt, rootLine)
		}
	}
	if n := strings.Count(mi, "\n"); n != 1 {
		t.Errorf("the gofer sees %d mounts, want only its root:\n%s", n, mi)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/proc/self", s.gofer)); err == nil {
		t.Errorf("the gofer's root has a live /proc")
	}
}

// TestSentryMemoryBounded runs the memory hog (mem_exhaust, --memory
// 192M) and samples its sentry meanwhile: the application's memory lives
// in the memory file and its stubs, and the sentry's own (Go heap, page
// tables' worth of bookkeeping) stays small while the application is
// stopped at its limit.
func TestSentryMemoryBounded(t *testing.T) {
	requireRoot(t)
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	progs := buildPrograms(t)
	var hog program
	for _, p := range progs {
		if p.name == "mem_exhaust" {
			hog = p
		}
	}
	if hog.name == "" {
		t.Fatal("mem_exhaust not built")
	}
	w := newWorld(t, progs)
	var maxAnon, maxRSS uint64
	samples := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			for _, pid := range pidsIn("/sys/fs/cgroup/memory/pangolin-escape") {
				if strings.TrimSpace(readOr(fmt.Sprintf("/proc/%d/comm", pid))) != "pangolin-sentry" {
					continue
				}
				st := readOr(fmt.Sprintf("/proc/%d/status", pid))
				anon, rss := kbField(st, "RssAnon"), kbField(st, "VmRSS")
				if anon > 0 {
					samples++
				}
				maxAnon, maxRSS = max(maxAnon, anon), max(maxRSS, rss)
			}
		}
	}()
	r := w.run(t, bin, hog, nil)
	close(stop)
	<-done
	if r.status != 0 || !strings.HasSuffix(r.stdout, "PASSED\n") {
		t.Fatalf("mem_exhaust: status %d\n%s\n%s", r.status, r.stdout, r.stderr)
	}
	t.Logf("%d samples of the sentry: max RssAnon %d MiB, max VmRSS %d MiB", samples, maxAnon>>10, maxRSS>>10)
	if samples == 0 {
		t.Skip("no sample of the sentry (cgroup v2 host?)")
	}
	// The application used up to 192 MiB; the sentry's own memory must
	// not grow with it.
	if maxAnon > 96<<10 {
		t.Errorf("the sentry's anonymous memory reached %d MiB under a 192 MiB application", maxAnon>>10)
	}
}

// kbField parses a "Key:   N kB" line of /proc/PID/status.
func kbField(status, key string) uint64 {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
