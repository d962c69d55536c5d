package ocitests

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var pangolinBin = flag.String("pangolin", "../bin/pangolin", "path of the pangolin binary")

// env is one test's runtime root and bundle.
type env struct {
	t      *testing.T
	root   string
	bundle string
}

// specOpt edits a test bundle's spec (containerd's WithProcessArgs style).
type specOpt func(*specs.Spec)

func withArgs(args ...string) specOpt { return func(s *specs.Spec) { s.Process.Args = args } }
func withTerminal(on bool) specOpt    { return func(s *specs.Spec) { s.Process.Terminal = on } }
func withMount(m specs.Mount) specOpt {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// newEnv makes a bundle whose rootfs is busybox with its applets linked
// and a config.json from `pangolin spec`, edited by opts.
func newEnv(t *testing.T, opts ...specOpt) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the OCI verbs need root (ptrace, cgroups)")
	}
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (run make build first)", bin, err)
	}
	*pangolinBin = bin
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox not installed (.ci/setup installs busybox-static): %v", err)
	}
	dir := t.TempDir()
	e := &env{t: t, root: filepath.Join(dir, "state"), bundle: filepath.Join(dir, "bundle")}
	rootfs := filepath.Join(e.bundle, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "tmp", "etc", "data"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin/busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "echo", "cat", "sleep", "id", "pwd", "ls", "tty", "stty", "env", "true", "touch", "umask"} {
		os.Symlink("busybox", filepath.Join(rootfs, "bin", a))
	}
	if out, err := e.pangolin("spec", "--bundle", e.bundle); err != nil {
		t.Fatalf("spec: %v: %s", err, out)
	}
	var s specs.Spec
	cfg := filepath.Join(e.bundle, "config.json")
	b, err = os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Root.Readonly = false
	for _, o := range opts {
		o(&s)
	}
	b, _ = json.Marshal(&s)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ids, _ := os.ReadDir(e.root)
		for _, id := range ids {
			e.pangolin("delete", "--force", id.Name())
		}
	})
	return e
}

// pangolin runs the CLI with this env's --root and returns its combined
// output.
func (e *env) pangolin(args ...string) (string, error) {
	cmd := exec.Command(*pangolinBin, append([]string{"--root", e.root}, args...)...)
	cmd.Dir = e.bundle
	// A file, not a pipe: a created container keeps its stdio open (as
	// under runc), so reading a pipe to EOF would wait for the container.
	f, err := os.CreateTemp(e.t.TempDir(), "out")
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

func (e *env) must(args ...string) string {
	e.t.Helper()
	out, err := e.pangolin(args...)
	if err != nil {
		e.t.Fatalf("pangolin %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *env) state(id string) map[string]any {
	e.t.Helper()
	var st map[string]any
	out := e.must("state", id)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("state: %v: %s", err, out)
	}
	return st
}

func (e *env) waitStatus(id, want string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.state(id)
		if st["status"] == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %v, want %s", id, st["status"], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"echo", "hi"}, 0, "hi\n"},
		{[]string{"sh", "-c", "exit 7"}, 7, ""},
		// PID 1 cannot SIGKILL itself from inside (it is the
		// namespace's init); a child killed by SIGKILL makes the shell
		// exit 137.
		{[]string{"sh", "-c", "kill -9 $$; echo alive"}, 0, "alive\n"},
		{[]string{"sh", "-c", "sh -c 'kill -9 $$'; exit $?"}, 137, "Killed\n"},
	} {
		e := newEnv(t, withArgs(tc.args...))
		out, err := e.pangolin("run", "c1")
		if got := exitStatus(err); got != tc.code || out != tc.out {
			t.Errorf("run %q: status %d output %q, want %d %q", tc.args, got, out, tc.code, tc.out)
		}
		if _, err := os.Stat(filepath.Join(e.root, "c1")); !os.IsNotExist(err) {
			t.Errorf("run left state behind: %v", err)
		}
	}
}

func TestRunErrors(t *testing.T) {
	e := newEnv(t, withArgs("nonexistent-cmd"))
	out, err := e.pangolin("run", "c1")
	if exitStatus(err) != 127 || !strings.Contains(out, `exec: "nonexistent-cmd": executable file not found in $PATH`) {
		t.Errorf("missing command: %v %q", err, out)
	}
	e = newEnv(t, func(s *specs.Spec) { s.Root.Path = "/nonexistent-rootfs" })
	out, err = e.pangolin("run", "c1")
	if exitStatus(err) != 1 || strings.TrimSpace(out) != "pangolin: rootfs /nonexistent-rootfs: no such directory" {
		t.Errorf("missing rootfs: %v %q", err, out)
	}
	e = newEnv(t, withMount(specs.Mount{Destination: "/x", Type: "ext4", Source: "/dev/sda"}))
	out, err = e.pangolin("run", "c1")
	if exitStatus(err) != 1 || !strings.Contains(out, `filesystem type "ext4" is not supported`) {
		t.Errorf("bad mount: %v %q", err, out)
	}
	if out, err := e.pangolin("start", "nope"); err == nil || !strings.Contains(out, "container nope does not exist") {
		t.Errorf("start nope: %v %q", err, out)
	}
	e = newEnv(t)
	if out, err := e.pangolin("create", "../evil"); err == nil || !strings.Contains(out, "invalid container id") {
		t.Errorf("create ../evil: %v %q", err, out)
	}
}

// The OCI lifecycle: create, state, start, kill, state, delete.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, withArgs("sh", "-c", "trap 'echo got USR1 >/usr1' USR1; echo ready >/ready; while true; do sleep 0.1; done"))
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.must("create", "--pid-file", pidFile, "c1")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	st := e.state("c1")
	if st["status"] != "created" || strconv.Itoa(int(st["pid"].(float64))) != string(b) || st["bundle"] != e.bundle {
		t.Fatalf("after create: %v (pid file %s)", st, b)
	}
	if out, err := e.pangolin("create", "c1"); err == nil || !strings.Contains(out, "exists") {
		t.Fatalf("second create: %v %q", err, out)
	}
	e.must("start", "c1")
	e.waitStatus("c1", "running")
	if out, err := e.pangolin("start", "c1"); err == nil || !strings.Contains(out, "already running") {
		t.Fatalf("second start: %v %q", err, out)
	}
	if out, err := e.pangolin("delete", "c1"); err == nil || !strings.Contains(out, "not stopped") {
		t.Fatalf("delete of running: %v %q", err, out)
	}
	// Wait for the trap to be installed, then signal by name.
	rootfs := filepath.Join(e.bundle, "rootfs")
	waitFile(t, filepath.Join(rootfs, "ready"))
	e.must("kill", "c1", "USR1")
	waitFile(t, filepath.Join(rootfs, "usr1"))
	// SIGTERM without a handler: PID 1 ignores it, as under runc.
	e.must("kill", "c1", "TERM")
	time.Sleep(300 * time.Millisecond)
	if st := e.state("c1"); st["status"] != "running" {
		t.Fatalf("PID 1 died of an unhandled SIGTERM: %v", st)
	}
	e.must("kill", "c1", "9")
	e.waitStatus("c1", "stopped")
	if st := e.state("c1"); st["pid"].(float64) != 0 {
		t.Fatalf("stopped container has pid %v", st["pid"])
	}
	if out, err := e.pangolin("kill", "c1"); err == nil || !strings.Contains(out, "not running") {
		t.Fatalf("kill of stopped: %v %q", err, out)
	}
	e.must("delete", "c1")
	if _, err := os.Stat(filepath.Join(e.root, "c1")); !os.IsNotExist(err) {
		t.Fatalf("delete left state: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	if alive(pid) {
		t.Fatalf("sandbox %d still alive after delete", pid)
	}
}

func waitFile(t *testing.T, p string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExecAndPs(t *testing.T) {
	e := newEnv(t, withArgs("sleep", "100"), func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "FROM_SPEC=1") })
	e.must("run", "--detach", "c1")
	out, err := e.pangolin("exec", "--env", "X=y", "--cwd", "/tmp", "-u", "1000:1000", "c1", "sh", "-c", "echo $X $FROM_SPEC; pwd; id; exit 4")
	if exitStatus(err) != 4 || out != "y 1\n/tmp\nuid=1000 gid=1000 groups=1000\n" && out != "y 1\n/tmp\nuid=1000 gid=1000\n" {
		t.Errorf("exec: %v %q", err, out)
	}
	// A detached exec: the pid file names a process that waits for it and
	// forwards signals (what containerd's shim relies on).
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	e.must("exec", "--detach", "--pid-file", pidFile, "c1", "sleep", "50")
	out = e.must("ps", "c1")
	if !strings.Contains(out, "sleep") || strings.Count(out, "\n") != 3 {
		t.Errorf("ps: %q", out)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	unix.Kill(pid, unix.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(e.must("ps", "c1"), "\n") != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("exec'd process survived SIGTERM to its waiter: %s", e.must("ps", "c1"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var pids []int
	if err := json.Unmarshal([]byte(e.must("ps", "--format", "json", "c1")), &pids); err != nil || len(pids) != 1 || pids[0] != int(e.state("c1")["pid"].(float64)) {
		t.Errorf("ps --format json: %v %v", pids, err)
	}
	out, err = e.pangolin("exec", "c1", "nonexistent")
	if err == nil || !strings.Contains(out, "executable file not found") {
		t.Errorf("exec nonexistent: %v %q", err, out)
	}
	e.must("delete", "--force", "c1")
}

func TestBindMountsAndTmpfs(t *testing.T) {
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644)
	file := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(file, []byte("127.0.0.1 bound\n"), 0o644)
	e := newEnv(t,
		withArgs("sh", "-c", "cat /data/in /etc/hosts; echo out > /data/out; echo x > /ro/x; touch /t/f && ls /t"),
		withMount(specs.Mount{Destination: "/data", Source: host, Options: []string{"rbind", "rw"}}),
		withMount(specs.Mount{Destination: "/ro", Source: t.TempDir(), Options: []string{"rbind", "ro"}}),
		withMount(specs.Mount{Destination: "/etc/hosts", Source: file, Type: "bind", Options: []string{"rbind", "ro"}}),
		withMount(specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"size=1m"}}),
	)
	out, err := e.pangolin("run", "c1")
	if err != nil || !strings.Contains(out, "from host\n127.0.0.1 bound\n") || !strings.Contains(out, "Read-only file system") || !strings.HasSuffix(out, "f\n") {
		t.Errorf("run: %v %q", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "out")); string(b) != "out\n" {
		t.Errorf("file written in the bind mount: %q on the host", b)
	}
}

func TestPauseResume(t *testing.T) {
	e := newEnv(t, withArgs("sleep", "100"))
	e.must("run", "-d", "c1")
	e.must("pause", "c1")
	if st := e.state("c1"); st["status"] != "paused" {
		t.Fatalf("after pause: %v", st)
	}
	if out, err := e.pangolin("exec", "c1", "true"); err == nil || !strings.Contains(out, "paused") {
		t.Errorf("exec in paused: %v %q", err, out)
	}
	e.must("resume", "c1")
	if st := e.state("c1"); st["status"] != "running" {
		t.Fatalf("after resume: %v", st)
	}
	if out, err := e.pangolin("resume", "c1"); err == nil {
		t.Errorf("resume of running: %q", out)
	}
	out := e.must("events", "--stats", "c1")
	if !strings.Contains(out, `"type":"stats"`) {
		t.Errorf("events: %q", out)
	}
	e.must("delete", "-f", "c1")
}

func TestListSpecFeatures(t *testing.T) {
	e := newEnv(t, withArgs("sleep", "100"))
	e.must("run", "-d", "c1")
	if out := e.must("list", "-q"); out != "c1\n" {
		t.Errorf("list -q: %q", out)
	}
	var l []map[string]any
	if err := json.Unmarshal([]byte(e.must("list", "--format", "json")), &l); err != nil || len(l) != 1 || l[0]["status"] != "running" {
		t.Errorf("list json: %v %v", l, err)
	}
	if out, err := e.pangolin("spec", "--bundle", e.bundle); err == nil || !strings.Contains(out, "exists") {
		t.Errorf("spec over existing: %v %q", err, out)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(e.must("features")), &f); err != nil || f["ociVersionMax"] == nil {
		t.Errorf("features: %v %v", f, err)
	}
	out, _ := exec.Command(*pangolinBin, "--version").CombinedOutput()
	if !strings.HasPrefix(string(out), "pangolin version ") {
		t.Errorf("--version: %q", out)
	}
}

// A terminal process needs a console socket; the master arrives there
// over SCM_RIGHTS and is a working terminal.
func TestConsoleSocket(t *testing.T) {
	e := newEnv(t, withTerminal(true), withArgs("sh", "-c", "echo on-tty; stty size"),
		func(s *specs.Spec) { s.Process.ConsoleSize = &specs.Box{Height: 33, Width: 99} })
	if out, err := e.pangolin("create", "c0"); err == nil || !strings.Contains(out, "--console-socket") {
		t.Fatalf("terminal without console socket: %v %q", err, out)
	}
	sock := filepath.Join(t.TempDir(), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan *os.File, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		fds, _ := unix.ParseUnixRights(&msgs[0])
		got <- os.NewFile(uintptr(fds[0]), "master")
	}()
	e.must("create", "--console-socket", sock, "c1")
	master := <-got
	if master == nil {
		t.Fatal("no master received")
	}
	defer master.Close()
	e.must("start", "c1")
	var buf bytes.Buffer
	b := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !strings.Contains(buf.String(), "33 99") {
		n, err := master.Read(b)
		if err != nil {
			break
		}
		buf.Write(b[:n])
	}
	if !strings.Contains(buf.String(), "on-tty\r\n33 99") {
		t.Errorf("terminal output %q", buf.String())
	}
	e.waitStatus("c1", "stopped")
}

// alive reports whether pid runs (exists and is not a zombie waiting for
// whoever inherited it).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}
