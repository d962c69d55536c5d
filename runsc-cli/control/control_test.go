package control

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func serve(t *testing.T, path string, h HandlerFunc) {
	t.Helper()
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	go Serve(ln, h)
	t.Cleanup(func() { ln.Close() })
}

func TestCall(t *testing.T) {
	// A path longer than sun_path exercises the /proc/self/fd form.
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 80))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sandbox.sock")
	serve(t, path, func(req *Request, fds []*os.File, _ <-chan struct{}) (*Response, error) {
		switch req.Method {
		case MethodSignal:
			if req.PID == 99 {
				return nil, Errorf(unix.ESRCH, "no process %d", req.PID)
			}
			return &Response{}, nil
		case MethodExec:
			if len(fds) != 1 {
				return nil, Errorf(unix.EINVAL, "want 1 fd, got %d", len(fds))
			}
			fds[0].Write([]byte(strings.Join(req.Exec.Args, " ")))
			fds[0].Close()
			return &Response{PID: 7}, nil
		}
		return nil, errors.New("boom")
	})

	for _, tc := range []struct {
		name  string
		req   Request
		errno unix.Errno
	}{
		{"ok", Request{Method: MethodSignal, Signo: 15}, 0},
		{"errno", Request{Method: MethodSignal, PID: 99}, unix.ESRCH},
		{"plain error", Request{Method: "nope"}, unix.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Call(path, &tc.req)
			if tc.errno == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.errno) {
				t.Fatalf("got %v, want errno %v", err, tc.errno)
			}
		})
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Call(path, &Request{Method: MethodExec, Exec: &ExecArgs{Args: []string{"echo", "hi"}}}, int(w.Fd()))
	w.Close()
	if err != nil || resp.PID != 7 {
		t.Fatalf("exec: %+v %v", resp, err)
	}
	b, _ := io.ReadAll(r)
	if string(b) != "echo hi" {
		t.Fatalf("fd passing: got %q", b)
	}
}

func TestUnreachable(t *testing.T) {
	_, err := Call(filepath.Join(t.TempDir(), "none.sock"), &Request{Method: MethodPs})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("got %v", err)
	}
}

// A request from a future protocol version is refused with an errno, not
// misread.
func TestVersionMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	serve(t, path, func(*Request, []*os.File, <-chan struct{}) (*Response, error) { return &Response{}, nil })
	fd, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte(`{"version":99,"method":"ps"}`))
	buf := make([]byte, 4096)
	n, _ := unix.Read(fd, buf)
	if !strings.Contains(string(buf[:n]), `"errno":93`) {
		t.Fatalf("got %s", buf[:n])
	}
}

// A caller that hangs up during a long call is noticed.
func TestHangup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	got := make(chan bool, 1)
	serve(t, path, func(_ *Request, _ []*os.File, hup <-chan struct{}) (*Response, error) {
		select {
		case <-hup:
			got <- true
		case <-time.After(5 * time.Second):
			got <- false
		}
		return &Response{}, nil
	})
	fd, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte(`{"version":1,"method":"wait"}`))
	time.Sleep(50 * time.Millisecond)
	unix.Close(fd)
	if !<-got {
		t.Fatal("hang-up not seen")
	}
}
