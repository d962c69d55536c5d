package ocitests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// daemons are the containerd and dockerd that tools/docker/daemons.sh
// started for these tests, with Pangolin as runtime "pangolin".
type daemons struct {
	dockerHost, containerd, image, pause string
	// criRoot is the runtime's --root under containerd's CRI.
	criRoot string
}

var (
	daemonsOnce sync.Once
	daemonsVal  *daemons
	daemonsErr  error
)

// startDaemons runs tools/docker/daemons.sh once per test binary.
func startDaemons(t *testing.T) *daemons {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("docker and containerd need root")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Fatalf("dockerd not installed: .ci/setup installs docker.io and containerd (%v)", err)
	}
	daemonsOnce.Do(func() {
		bin, err := filepath.Abs(*pangolinBin)
		if err != nil {
			daemonsErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("../tools/docker/daemons.sh", "start", bin)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			daemonsErr = fmt.Errorf("daemons.sh: %v: %s", err, stderr.String())
			return
		}
		d := &daemons{}
		for _, l := range strings.Split(string(out), "\n") {
			k, v, _ := strings.Cut(l, "=")
			switch k {
			case "DOCKER_HOST":
				d.dockerHost = v
			case "CONTAINERD_ADDRESS":
				d.containerd = v
			case "PANGOLIN_IMAGE":
				d.image = v
			case "PAUSE_IMAGE":
				d.pause = v
			case "PANGOLIN_CRI_ROOT":
				d.criRoot = v
			}
		}
		daemonsVal = d
	})
	if daemonsErr != nil {
		t.Fatal(daemonsErr)
	}
	return daemonsVal
}

// docker runs the docker CLI against our dockerd and returns stdout,
// stderr and the exit status.
func (d *daemons) docker(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.dockerHost)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("docker %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), stripWarnings(errb.String()), code
}

// stripWarnings drops dockerd's warning about IPv4 forwarding, which the
// test daemon leaves off on purpose (it must not touch host networking).
func stripWarnings(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "WARNING: IPv4 forwarding is disabled") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func (d *daemons) mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := d.docker(t, "", args...)
	if code != 0 {
		t.Fatalf("docker %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// run is `docker run --runtime=pangolin --rm --network none ARGS`.
func (d *daemons) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return d.docker(t, "", append([]string{"run", "--runtime=pangolin", "--rm", "--network", "none"}, args...)...)
}

func TestDocker(t *testing.T) {
	d := startDaemons(t)
	img := d.image
	start := time.Now()
	defer func() { t.Logf("docker checks took %v", time.Since(start).Round(time.Millisecond)) }()

	t.Run("echo", func(t *testing.T) {
		out, errs, code := d.run(t, img, "echo", "hi")
		if out != "hi\n" || code != 0 {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
	})
	t.Run("exit-codes", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
		}{
			{[]string{"sh", "-c", "exit 3"}, 3},
			{[]string{"sh", "-c", "sh -c 'kill -9 $$'"}, 137},
			{[]string{"sh", "-c", "kill -9 $$"}, 0}, // PID 1 survives its own SIGKILL, as under runc
			{[]string{"nonexistent-command"}, 127},
			{[]string{"/etc/hostname"}, 126},
		} {
			if _, errs, code := d.run(t, append([]string{img}, tc.args...)...); code != tc.code {
				t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, errs)
			}
		}
	})
	t.Run("env-workdir-user", func(t *testing.T) {
		out, errs, code := d.run(t, "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1000", img, "sh", "-c", "echo $FOO; pwd; id")
		if out != "bar\n/tmp\nuid=1000 gid=1000 groups=1000\n" || code != 0 {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
	})
	t.Run("read-only-tmpfs", func(t *testing.T) {
		out, errs, code := d.run(t, "--read-only", "--tmpfs", "/scratch", img, "sh", "-c", "echo a > /scratch/f && cat /scratch/f && touch /nope")
		if out != "a\n" || code != 1 || !strings.Contains(errs, "Read-only file system") {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
	})
	t.Run("volume", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644)
		out, errs, code := d.run(t, "-v", dir+":/data", img, "sh", "-c", "cat /data/in; echo written > /data/out")
		if out != "from host\n" || code != 0 {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "written\n" {
			t.Fatalf("file written in the container: %q on the host", b)
		}
	})
	t.Run("tty", func(t *testing.T) {
		out, errs, code := d.run(t, "-t", img, "tty")
		if !strings.HasPrefix(out, "/dev/pts/") || code != 0 {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
	})
	t.Run("interactive-bash", func(t *testing.T) {
		p := startPty(t, d, "run", "-it", "--rm", "--runtime=pangolin", "--network", "none", img, "bash")
		p.expect(t, "# ")
		p.send("echo hello $((6*7)) | tr a-z A-Z\r")
		p.expect(t, "HELLO 42")
		p.expect(t, "# ")
		p.send("sleep 60\r")
		time.Sleep(500 * time.Millisecond)
		p.send("\x03")
		p.expect(t, "# ")
		p.send("echo after-$((1+1))\r")
		p.expect(t, "after-2")
		p.send("exit 5\r")
		if code := p.wait(t); code != 5 {
			t.Fatalf("exit %d, want 5; output %q", code, p.out())
		}
	})
	t.Run("exec", func(t *testing.T) {
		name := "pangolin-e2e-exec"
		d.docker(t, "", "rm", "-f", name)
		d.mustDocker(t, "run", "-d", "--name", name, "--runtime=pangolin", "--network", "none", img, "sleep", "infinity")
		defer d.docker(t, "", "rm", "-f", name)
		out, errs, code := d.docker(t, "", "exec", "-e", "X=1", name, "sh", "-c", "echo in exec $X; exit 4")
		if out != "in exec 1\n" || code != 4 {
			t.Fatalf("exec: %q %q exit %d", out, errs, code)
		}
		p := startPty(t, d, "exec", "-it", name, "bash")
		p.expect(t, "# ")
		p.send("tty; echo $((2*21))\r")
		p.expect(t, "42")
		p.send("exit 6\r")
		if code := p.wait(t); code != 6 {
			t.Fatalf("exec -it: exit %d, output %q", code, p.out())
		}
	})
	t.Run("stop-kill-logs-top", func(t *testing.T) {
		name := "pangolin-e2e-stop"
		d.docker(t, "", "rm", "-f", name)
		d.mustDocker(t, "run", "-d", "--name", name, "--runtime=pangolin", "--network", "none", img,
			"bash", "-c", "trap 'echo got USR1' USR1; echo started; while true; do sleep 0.1; done")
		defer d.docker(t, "", "rm", "-f", name)
		waitLogs(t, d, name, "started")
		d.mustDocker(t, "kill", "-s", "USR1", name)
		waitLogs(t, d, name, "got USR1")
		top := d.mustDocker(t, "top", name)
		if !strings.Contains(top, "PID") || strings.Count(top, "\n") < 2 {
			t.Errorf("top: %q", top)
		}
		// bash as PID 1 has no TERM trap: SIGTERM is ignored, as under
		// runc, and docker stop falls back to SIGKILL after -t seconds.
		d.mustDocker(t, "stop", "-t", "2", name)
		// 137: it took the SIGKILL.
		if code := strings.TrimSpace(d.mustDocker(t, "inspect", "-f", "{{.State.ExitCode}}", name)); code != "137" {
			t.Errorf("exit code after stop: %s, want 137", code)
		}
		// With a TERM trap, stop is quick and the trap runs.
		name2 := name + "2"
		d.docker(t, "", "rm", "-f", name2)
		d.mustDocker(t, "run", "-d", "--name", name2, "--runtime=pangolin", "--network", "none", img,
			"bash", "-c", "trap 'echo term; exit 0' TERM; echo started; while true; do sleep 0.1; done")
		defer d.docker(t, "", "rm", "-f", name2)
		waitLogs(t, d, name2, "started")
		d.mustDocker(t, "stop", "-t", "20", name2)
		if logs := d.mustDocker(t, "logs", name2); !strings.Contains(logs, "term") {
			t.Errorf("logs after stop with trap: %q", logs)
		}
	})
	t.Run("cp", func(t *testing.T) {
		name := "pangolin-e2e-cp"
		d.docker(t, "", "rm", "-f", name)
		d.mustDocker(t, "run", "-d", "--name", name, "--runtime=pangolin", "--network", "none", img, "sleep", "infinity")
		defer d.docker(t, "", "rm", "-f", name)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "in"), []byte("copied in\n"), 0o644)
		d.mustDocker(t, "cp", filepath.Join(dir, "in"), name+":/tmp/in")
		if out := d.mustDocker(t, "exec", name, "cat", "/tmp/in"); out != "copied in\n" {
			t.Errorf("cp in: %q", out)
		}
		d.mustDocker(t, "exec", name, "sh", "-c", "echo copied out > /root/out")
		d.mustDocker(t, "cp", name+":/root/out", filepath.Join(dir, "out"))
		if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "copied out\n" {
			t.Errorf("cp out: %q", b)
		}
	})
	t.Run("pause", func(t *testing.T) {
		name := "pangolin-e2e-pause"
		d.docker(t, "", "rm", "-f", name)
		d.mustDocker(t, "run", "-d", "--name", name, "--runtime=pangolin", "--network", "none", img,
			"bash", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done")
		defer d.docker(t, "", "rm", "-f", name)
		time.Sleep(300 * time.Millisecond)
		d.mustDocker(t, "pause", name)
		if st := strings.TrimSpace(d.mustDocker(t, "inspect", "-f", "{{.State.Status}}", name)); st != "paused" {
			t.Fatalf("status %s", st)
		}
		d.mustDocker(t, "unpause", name)
		a := d.mustDocker(t, "exec", name, "cat", "/tmp/n")
		time.Sleep(300 * time.Millisecond)
		if b := d.mustDocker(t, "exec", name, "cat", "/tmp/n"); a == b {
			t.Errorf("counter did not move after unpause: %q", a)
		}
	})
	t.Run("memory-limit", func(t *testing.T) {
		out, errs, code := d.run(t, "--memory", "128m", img, "python3", "-c",
			"x = []\nfor i in range(1024): x.append(bytearray(1 << 20))\nprint('survived')")
		if code != 137 || strings.Contains(out, "survived") {
			t.Fatalf("memory hog under --memory 128m: exit %d, %q %q", code, out, errs)
		}
	})
	t.Run("pids-limit", func(t *testing.T) {
		out, errs, code := d.run(t, "--pids-limit", "20", img, "python3", "-c", `
import os, time
n = 0
try:
    for i in range(100):
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        n += 1
except OSError as e:
    print("fork failed:", e.strerror)
print("forked", "under" if n < 20 else "over", "the limit")
`)
		if code != 0 || !strings.Contains(out, "fork failed: Resource temporarily unavailable") || !strings.Contains(out, "under the limit") {
			t.Fatalf("got %q %q exit %d", out, errs, code)
		}
	})
}

func waitLogs(t *testing.T, d *daemons, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, errs, _ := d.docker(t, "", "logs", name)
		if strings.Contains(out+errs, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs of %s never showed %q: %q", name, want, out+errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ptyProc is a docker CLI on a pseudo-terminal of ours, as a person at a
// terminal runs it.
type ptyProc struct {
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	buf    bytes.Buffer
	// seen is how much of buf expect has consumed.
	seen int
}

func startPty(t *testing.T, d *daemons, args ...string) *ptyProc {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.dockerHost, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := &ptyProc{cmd: cmd, master: m}
	go func() {
		r := bufio.NewReader(m)
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		m.Close()
	})
	return p
}

func (p *ptyProc) send(s string) { p.master.Write([]byte(s)) }

func (p *ptyProc) out() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// expect waits for want in the output after what earlier expects matched.
func (p *ptyProc) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.mu.Lock()
		s := p.buf.String()
		if i := strings.Index(s[p.seen:], want); i >= 0 {
			p.seen += i + len(want)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("never saw %q; output: %q", want, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *ptyProc) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return exitStatus(err)
	case <-time.After(30 * time.Second):
		t.Fatalf("docker did not exit; output %q", p.out())
		return -1
	}
}
