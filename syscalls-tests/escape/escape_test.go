// Package escape is Pangolin's escape suite: adversarial C programs (src/)
// that run inside `pangolin do` and try to reach the host, and a harness
// that checks, after each, that the host is unchanged.
//
// Every program runs fenced: in PID, UTS, mount, IPC and network namespaces
// that the test creates (`unshare --pid --uts --mount --ipc --net --fork
// --mount-proc`), inside a host cgroup of its own with pids and memory
// limits. An attack that got past the sandbox could then only hurt that
// fence: kill(-1) would reach the fence's processes, a reboot its PID
// namespace, sethostname its UTS namespace, a fork bomb its pids limit.
// Nothing here changes the host clock: the clock attacks set the time
// they just read.
//
// See README.md for the programs and what each checks.
package escape

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
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

var pangolinBin = flag.String("pangolin", "../../bin/pangolin", "path of the pangolin binary")

const (
	srcDir     = "src"
	outDir     = "out" // git-ignored build cache
	timeout    = 90 * time.Second
	minSuite   = 30
	sandboxDir = "/e"
	busybox    = "/bin/busybox"
)

// program is one escape program and how the harness runs it, from its
// "// escape:" header line.
type program struct {
	name    string
	bin     string
	overlay bool     // run on the host's / (in-memory overlay) instead of the test rootfs
	pty     bool     // stdin is a host pseudo-terminal
	doFlags []string // extra `pangolin do` flags
}

var headerRE = regexp.MustCompile(`(?m)^// escape:(.*)$`)

func buildPrograms(t *testing.T) []program {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc not found (apt-get install gcc libc6-dev)")
	}
	srcs, err := filepath.Glob(filepath.Join(srcDir, "*.c"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no programs in %s", srcDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	hdrs := []string{filepath.Join(srcDir, "e.h"), filepath.Join("..", "src", "t.h")}
	var progs []program
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
		p := program{name: name}
		p.bin, _ = filepath.Abs(filepath.Join(outDir, name))
		if m := headerRE.FindSubmatch(text); m != nil {
			for _, w := range strings.Fields(string(m[1])) {
				k, v, _ := strings.Cut(w, "=")
				switch k {
				case "overlay":
					p.overlay = true
				case "pty":
					p.pty = true
				case "memory":
					p.doFlags = append(p.doFlags, "--memory", v)
				case "pids-limit":
					p.doFlags = append(p.doFlags, "--pids-limit", v)
				default:
					t.Fatalf("%s: unknown escape header word %q", src, w)
				}
			}
		}
		progs = append(progs, p)
		if fresh(p.bin, append(hdrs, src)) {
			continue
		}
		wg.Add(1)
		go func(src string, p program) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tmp := fmt.Sprintf("%s.tmp%d", p.bin, os.Getpid())
			out, err := exec.Command(gcc, "-static", "-O1", "-Wall", "-Werror", "-pthread", "-o", tmp, src).CombinedOutput()
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
		t.Fatalf("building escape programs failed:\n%s", strings.Join(errs, "\n"))
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].name < progs[j].name })
	return progs
}

// fresh reports whether bin is newer than every source.
func fresh(bin string, srcs []string) bool {
	b, err := os.Stat(bin)
	if err != nil {
		return false
	}
	for _, s := range srcs {
		if st, err := os.Stat(s); err != nil || !b.ModTime().After(st.ModTime()) {
			return false
		}
	}
	return true
}

// world is the host side of the suite: the canary outside the rootfs, the
// rootfs with its traps, the victim process, and the pieces of host state
// the attacks aim at.
type world struct {
	dir     string // everything lives below it
	rootfs  string
	canary  string // host path of the secret file, outside rootfs
	secret  string
	victim  *exec.Cmd
	fifoR   *os.File // host reader of the planted FIFO
	sockLn  *net.UnixListener
	accepts chan struct{} // a connection reached the planted socket
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the escape suite needs root (namespaces, cgroups, device nodes)")
	}
	for _, tool := range []string{"unshare", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (util-linux)", tool)
		}
	}
}

func newWorld(t *testing.T, progs []program) *world {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "pangolin-escape-")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{dir: dir, rootfs: filepath.Join(dir, "rootfs"), accepts: make(chan struct{}, 16)}
	t.Cleanup(func() { w.close(); os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("preparing the escape world: %v", err)
		}
	}
	var b [16]byte
	rand.Read(b[:])
	w.secret = "PANGOLIN-HOST-SECRET-" + hex.EncodeToString(b[:])
	must(os.Mkdir(filepath.Join(dir, "canary"), 0o755))
	w.canary = filepath.Join(dir, "canary", "secret")
	must(os.WriteFile(w.canary, []byte(w.secret+"\n"), 0o644))

	r := w.rootfs
	for _, d := range []string{"", "bin", "e", "etc", "dev", "proc", "sys", "tmp", "escape", "usr/bin"} {
		must(os.MkdirAll(filepath.Join(r, d), 0o755))
	}
	must(os.Chmod(filepath.Join(r, "tmp"), 0o1777))
	bb, err := filepath.EvalSymlinks(busybox)
	if err != nil {
		t.Fatalf("busybox not found at %s (apt-get install busybox-static)", busybox)
	}
	must(copyFile(bb, filepath.Join(r, "bin", "busybox"), 0o755))
	for _, l := range []string{"sh", "true", "cat", "ls"} {
		must(os.Symlink("busybox", filepath.Join(r, "bin", l)))
	}
	must(os.Symlink("/bin/busybox", filepath.Join(r, "usr/bin/true")))
	must(os.WriteFile(filepath.Join(r, "etc", "passwd"), []byte("root:x:0:0:root:/:/bin/sh\n"), 0o644))
	for _, p := range progs {
		must(copyFile(p.bin, filepath.Join(r, "e", p.name), 0o755))
	}
	// The traps (see e.h and each program).
	e := filepath.Join(r, "escape")
	must(os.Symlink(w.canary, filepath.Join(e, "abs")))
	must(os.Symlink(filepath.Dir(w.canary), filepath.Join(e, "absdir")))
	must(os.Symlink(strings.Repeat("../", 24)+strings.TrimPrefix(w.canary, "/"), filepath.Join(e, "rel")))
	must(os.WriteFile(filepath.Join(e, "data"), []byte("rootfs data\n"), 0o644))
	must(os.Link(filepath.Join(e, "data"), filepath.Join(e, "hard")))
	must(unix.Mknod(filepath.Join(e, "mem"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 1))))
	must(unix.Mknod(filepath.Join(e, "disk"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 0))))
	must(unix.Mkfifo(filepath.Join(e, "fifo"), 0o666))
	w.fifoR, err = os.OpenFile(filepath.Join(e, "fifo"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	must(err)
	w.sockLn, err = net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(e, "sock"), Net: "unix"})
	must(err)
	go func() {
		for {
			c, err := w.sockLn.Accept()
			if err != nil {
				return
			}
			c.Close()
			w.accepts <- struct{}{}
		}
	}()
	// The victim: a host process the attacks must not reach.
	w.victim = exec.Command("sleep", "100000")
	must(w.victim.Start())
	return w
}

func (w *world) close() {
	if w.victim != nil && w.victim.Process != nil {
		w.victim.Process.Kill()
		w.victim.Wait()
	}
	if w.sockLn != nil {
		w.sockLn.Close()
	}
	if w.fifoR != nil {
		w.fifoR.Close()
	}
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// hostState is what the attacks aim at on the host, as the harness reads
// it before and after each program.
type hostState struct {
	canary      string // digest of the canary directory
	hostname    string
	clockOffset time.Duration // CLOCK_REALTIME - CLOCK_MONOTONIC
	modules     string
	procSys     string // core_pattern, modprobe, sysrq, hostname
	mounts      int    // host mounts whose source is "pangolin-escape"
	sysrq       int    // kernel log lines from sysrq
	overlay     string // the host files overlay_write attacks
	network     string // the host's interfaces and their addresses
}

func (w *world) snapshot(t *testing.T) hostState {
	t.Helper()
	var s hostState
	s.canary = digestTree(t, filepath.Dir(w.canary))
	s.hostname, _ = os.Hostname()
	var rt, mono unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &rt)
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	s.clockOffset = time.Duration(rt.Nano() - mono.Nano())
	s.modules = readOr("/proc/modules")
	for _, f := range []string{"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/kernel/sysrq", "/proc/sys/kernel/hostname"} {
		s.procSys += readOr(f)
	}
	s.mounts = strings.Count(readOr("/proc/self/mountinfo"), " pangolin-escape ")
	s.sysrq = countKmsg("sysrq: ")
	for _, f := range []string{"/etc/hostname", "/etc/passwd", "/etc/pangolin-escape"} {
		s.overlay += f + ":" + digestFile(f) + "\n"
	}
	if st, err := os.Stat("/usr/bin/true"); err == nil {
		s.overlay += "true mode " + st.Mode().String()
	}
	s.network = hostNetwork()
	return s
}

// hostNetwork lists the host's interfaces with their flags and addresses
// (raw_sockets changes the sandbox's: none of it may show up here).
func hostNetwork() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, i := range ifs {
		fmt.Fprintf(&b, "%d %s %v %d", i.Index, i.Name, i.Flags, i.MTU)
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			b.WriteString(" " + a.String())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// diff describes how two snapshots differ in ways no sandbox may cause.
func (a hostState) diff(b hostState) []string {
	var d []string
	if a.canary != b.canary {
		d = append(d, "the canary directory changed")
	}
	if a.hostname != b.hostname {
		d = append(d, fmt.Sprintf("hostname %q became %q", a.hostname, b.hostname))
	}
	if off := a.clockOffset - b.clockOffset; off > 200*time.Millisecond || off < -200*time.Millisecond {
		d = append(d, fmt.Sprintf("the host clock moved by %v", -off))
	}
	if a.modules != b.modules {
		d = append(d, "/proc/modules changed")
	}
	if a.procSys != b.procSys {
		d = append(d, "kernel sysctls changed")
	}
	if a.mounts != b.mounts {
		d = append(d, fmt.Sprintf("%d host mounts named pangolin-escape appeared", b.mounts-a.mounts))
	}
	if b.sysrq > a.sysrq {
		d = append(d, "sysrq ran on the host")
	}
	if a.network != b.network {
		d = append(d, "the host's interfaces or addresses changed:\n"+a.network+"->\n"+b.network)
	}
	if a.overlay != b.overlay {
		d = append(d, "host files under / changed:\n"+a.overlay+"\n->\n"+b.overlay)
	}
	return d
}

func readOr(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func digestFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "absent"
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

func digestTree(t *testing.T, dir string) string {
	h := sha256.New()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s err %v\n", p, err)
			return nil
		}
		fmt.Fprintf(h, "%s %v %d %d\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// countKmsg counts kernel log records containing s.
func countKmsg(s string) int {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	n := 0
	for {
		k, err := unix.Read(fd, buf)
		if err == unix.EPIPE || err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			return n
		}
		if bytes.Contains(buf[:k], []byte(s)) {
			n++
		}
	}
}

// fence is a host cgroup (v1 pids+memory, or v2) holding one run.
type fence struct {
	dirs []string
}

const (
	fencePids   = 2048
	fenceMemory = 1 << 30
)

func newFence(t *testing.T, name string) *fence {
	t.Helper()
	rel := filepath.Join("pangolin-escape", fmt.Sprintf("%d-%s", os.Getpid(), name))
	f := &fence{}
	if st, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil && !st.IsDir() {
		d := filepath.Join("/sys/fs/cgroup", rel)
		parent := filepath.Dir(d)
		os.MkdirAll(parent, 0o755)
		os.WriteFile(filepath.Join(filepath.Dir(parent), "cgroup.subtree_control"), []byte("+pids +memory"), 0)
		os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+pids +memory"), 0)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("fence cgroup: %v", err)
		}
		f.dirs = []string{d}
		f.set(t, d, "pids.max", fencePids)
		f.set(t, d, "memory.max", fenceMemory)
		return f
	}
	for _, c := range []struct {
		ctl, file string
		v         int
	}{{"pids", "pids.max", fencePids}, {"memory", "memory.limit_in_bytes", fenceMemory}} {
		d := filepath.Join("/sys/fs/cgroup", c.ctl, rel)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("fence cgroup (%s): %v; the escape suite needs the pids and memory controllers", c.ctl, err)
		}
		f.dirs = append(f.dirs, d)
		f.set(t, d, c.file, c.v)
	}
	return f
}

func (f *fence) set(t *testing.T, dir, file string, v int) {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.Itoa(v)), 0); err != nil {
		t.Fatalf("fence %s/%s: %v", dir, file, err)
	}
}

// kill SIGKILLs every process in the fence (ours alone: the fence holds
// nothing else) and removes its cgroups, innermost first.
func (f *fence) destroy() {
	for _, d := range f.dirs {
		for i := 0; i < 50; i++ {
			pids := pidsIn(d)
			if len(pids) == 0 {
				break
			}
			for _, p := range pids {
				unix.Kill(p, unix.SIGKILL)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var sub []string
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				sub = append(sub, p)
			}
			return nil
		})
		for i := len(sub) - 1; i >= 0; i-- {
			unix.Rmdir(sub[i])
		}
		// The shared parent, once no run uses it.
		unix.Rmdir(filepath.Dir(d))
	}
}

// pidsIn lists the processes of cgroup dir and its descendants.
func pidsIn(dir string) []int {
	var pids []int
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Name() != "cgroup.procs" {
			return nil
		}
		sc := bufio.NewScanner(strings.NewReader(readOr(p)))
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				pids = append(pids, n)
			}
		}
		return nil
	})
	return pids
}

type runResult struct {
	status         int
	stdout, stderr string
	timedOut       bool
}

// run runs p in the sandbox, inside the fence and fresh namespaces.
func (w *world) run(t *testing.T, bin string, p program, stdin *os.File) runResult {
	t.Helper()
	f := newFence(t, p.name)
	defer f.destroy()
	args := []string{bin, "do"}
	if !p.overlay {
		args = append(args, "--rootfs", w.rootfs)
	}
	args = append(args, "--cwd", "/", "--env", "PATH=/bin:/usr/bin",
		"--env", "ESCAPE_CANARY="+w.canary, "--env", "ESCAPE_SECRET="+w.secret,
		"--env", "ESCAPE_VICTIM="+strconv.Itoa(w.victim.Process.Pid), "--env", "ESCAPE_ROOT="+w.rootfs)
	args = append(args, p.doFlags...)
	exe := sandboxDir + "/" + p.name
	if p.overlay {
		// The host's / is the root, read-only under the sandbox's
		// overlay: run the built program by its host path.
		exe = p.bin
	}
	args = append(args, "--", exe)
	// Join the fence, then build the namespaces, then run the CLI.
	script := ""
	for _, d := range f.dirs {
		script += fmt.Sprintf("echo $$ > %s/cgroup.procs && ", d)
	}
	script += `exec unshare --pid --uts --mount --ipc --net --fork --mount-proc -- "$@"`
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.Dir = "/"
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: stdin == nil, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the fenced sandbox: %v", err)
	}
	var res runResult
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(timeout):
			res.timedOut = true
			f.destroy()
		}
	}()
	err := cmd.Wait()
	close(done)
	res.stdout, res.stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			res.status = 128 + int(ws.Signal())
		} else {
			res.status = ws.ExitStatus()
		}
	default:
		t.Fatalf("running the fenced sandbox: %v", err)
	}
	return res
}

// TestEscape runs every escape program and checks the host after each.
func TestEscape(t *testing.T) {
	requireRoot(t)
	bin, err := filepath.Abs(*pangolinBin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run `make build` first", bin)
	}
	progs := buildPrograms(t)
	if len(progs) < minSuite {
		t.Errorf("the escape suite has %d programs; issue #4 asks for at least %d", len(progs), minSuite)
	}
	w := newWorld(t, progs)
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			var stdin, pty *os.File
			if p.pty {
				m, s, err := openPty()
				if err != nil {
					t.Fatalf("pty: %v", err)
				}
				defer m.Close()
				defer s.Close()
				stdin, pty = s, s
			}
			var ptyBefore unix.Stat_t
			if pty != nil {
				unix.Fstat(int(pty.Fd()), &ptyBefore)
			}
			before := w.snapshot(t)
			r := w.run(t, bin, p, stdin)
			after := w.snapshot(t)
			if r.timedOut {
				t.Errorf("timed out after %v (the fence was killed)", timeout)
			}
			if testing.Verbose() {
				t.Logf("stdout:\n%s", r.stdout)
			}
			if r.status != 0 || !strings.HasSuffix(r.stdout, "PASSED\n") || strings.Contains(r.stdout, "FAIL") {
				t.Errorf("exit status %d, stdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
			}
			for _, d := range before.diff(after) {
				t.Errorf("host changed: %s", d)
			}
			if err := w.victim.Process.Signal(syscall.Signal(0)); err != nil {
				t.Fatalf("the host victim process is gone: %v", err)
			}
			select {
			case <-w.accepts:
				t.Errorf("a connection reached the host socket planted in the rootfs")
			default:
			}
			var b [64]byte
			if n, _ := w.fifoR.Read(b[:]); n > 0 {
				t.Errorf("data reached the host FIFO planted in the rootfs: %q", b[:n])
			}
			if pty != nil {
				var st unix.Stat_t
				unix.Fstat(int(pty.Fd()), &st)
				if st.Mode != ptyBefore.Mode || st.Uid != ptyBefore.Uid || st.Gid != ptyBefore.Gid {
					t.Errorf("the host terminal changed: mode %o uid %d -> mode %o uid %d", ptyBefore.Mode, ptyBefore.Uid, st.Mode, st.Uid)
				}
				if n, err := unix.IoctlGetInt(int(pty.Fd()), unix.TIOCINQ); err == nil && n != 0 {
					t.Errorf("%d bytes were injected into the host terminal's input", n)
				}
			}
		})
	}
}
