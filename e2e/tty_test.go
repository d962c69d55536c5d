package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// `pangolin do` from a terminal gives the app a terminal of its own
// (/dev/pts/N in the sandbox) with job control, as `docker run -it` does.
// The test drives an interactive bash through a host pty the way a person
// would: it waits for each prompt or output before typing the next line.

// hostPty opens a host pty pair.
func hostPty(t *testing.T) (master, replica *os.File) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no host pty (/dev/ptmx): %v", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	r, err := unix.Open("/dev/pts/"+strconv.Itoa(int(n)), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(uintptr(r), "pts")
}

// expecter reads a pty master in the background and types into it.
type expecter struct {
	t    *testing.T
	f    *os.File
	buf  bytes.Buffer
	data chan []byte
}

func newExpecter(t *testing.T, f *os.File) *expecter {
	e := &expecter{t: t, f: f, data: make(chan []byte, 64)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			if n > 0 {
				e.data <- append([]byte(nil), b[:n]...)
			}
			if err != nil {
				close(e.data)
				return
			}
		}
	}()
	return e
}

// say types s on the terminal.
func (e *expecter) say(s string) {
	e.t.Helper()
	if _, err := e.f.WriteString(s); err != nil {
		e.t.Fatal(err)
	}
}

// expect waits until the output seen so far contains want (after the
// previous match), failing after a generous deadline.
func (e *expecter) expect(want string) {
	e.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if i := strings.Index(e.buf.String(), want); i >= 0 {
			rest := e.buf.String()[i+len(want):]
			e.buf.Reset()
			e.buf.WriteString(rest)
			return
		}
		select {
		case b, ok := <-e.data:
			if !ok {
				e.t.Fatalf("terminal closed waiting for %q; output: %q", want, e.buf.String())
			}
			e.buf.Write(b)
		case <-deadline:
			e.t.Fatalf("timed out waiting for %q; output: %q", want, e.buf.String())
		}
	}
}

func TestInteractiveTerminal(t *testing.T) {
	requireRoot(t)
	root := debianRoot(t)
	master, replica := hostPty(t)
	defer master.Close()
	cmd := exec.Command(pangolin(t), "do", "--overlay", "--rootfs", root,
		"--env", "PATH=/usr/bin:/bin", "--env", "TERM=dumb", "--env", "PS1=PROMPT$ ", "--",
		"/bin/bash", "--norc", "-i")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = replica, replica, replica
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	replica.Close()
	e := newExpecter(t, master)
	say := e.say
	e.expect("PROMPT$ ")
	say("tty; echo job-control=$(set -o | grep -c 'monitor.*on')\n")
	e.expect("/dev/pts/0")
	e.expect("job-control=1")
	e.expect("PROMPT$ ")
	say("sleep 100\n")
	time.Sleep(300 * time.Millisecond) // let sleep start: ^Z before it would stop bash's own read
	say("\x1a")                        // ^Z
	e.expect("Stopped")
	e.expect("PROMPT$ ")
	say("bg; jobs\n")
	e.expect("Running")
	e.expect("PROMPT$ ")
	say("fg\n")
	time.Sleep(300 * time.Millisecond)
	say("\x03") // ^C
	e.expect("PROMPT$ ")
	say("cat\n")
	time.Sleep(300 * time.Millisecond) // cat, not bash's line editor, reads the line
	say("typed line\n")
	e.expect("typed line\r\ntyped line")
	say("\x04") // ^D ends cat
	e.expect("PROMPT$ ")
	// A background job that reads the terminal is stopped by SIGTTIN
	// until fg brings it to the foreground.
	say("cat &\n")
	e.expect("PROMPT$ ")
	time.Sleep(300 * time.Millisecond)
	say("jobs\n")
	e.expect("Stopped                 cat")
	e.expect("PROMPT$ ")
	say("fg\n")
	time.Sleep(300 * time.Millisecond)
	say("fg line\n")
	e.expect("fg line\r\nfg line")
	say("\x04")
	e.expect("PROMPT$ ")
	say("exit 3\n")
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("exit status: %v, want 3", err)
	}
}
