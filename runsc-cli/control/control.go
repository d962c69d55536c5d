// Package control is the protocol between the CLI and a running sandbox:
// the sandbox (pangolin boot) listens on a unix socket in the container's
// state directory, and the verbs that act on a running container (start,
// kill, exec, wait, ps) are requests on it.
//
// Wire format (version 1): a SOCK_SEQPACKET connection carries exactly one
// request packet and one response packet, each a JSON object of at most
// MaxMessage bytes. A request may carry file descriptors (SCM_RIGHTS) —
// exec sends the new process's stdio that way. Errors travel as errno
// values plus a message, so the CLI can tell ESRCH ("no such process")
// from a broken sandbox. One connection per request keeps the server
// free of session state: a wait that blocks for hours holds only its own
// connection.
//
// This is deliberately not gRPC: the sandbox links no RPC framework, and
// the whole protocol is this file.
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxMessage bounds one packet.
const MaxMessage = 1 << 20

// MaxFDs bounds the descriptors one request may carry.
const MaxFDs = 8

// Methods.
const (
	MethodStart   = "start"
	MethodSignal  = "signal"
	MethodExec    = "exec"
	MethodWait    = "wait"
	MethodPs      = "ps"
	MethodResize  = "resize"
	MethodVersion = "version"
)

// Request is one call.
type Request struct {
	Version int    `json:"version"`
	Method  string `json:"method"`

	// Signal: Signo to PID (0: init), or to every process if All.
	Signo int   `json:"signo,omitempty"`
	PID   int32 `json:"pid,omitempty"`
	All   bool  `json:"all,omitempty"`

	// Exec: the process to start; its stdio are the request's FDs
	// (0, 1, 2 in order; or one terminal FD if Exec.Terminal).
	Exec *ExecArgs `json:"exec,omitempty"`

	// Wait: KillOnHangup kills the process if the caller goes away
	// before it exits (the exec CLI was killed).
	KillOnHangup bool `json:"kill_on_hangup,omitempty"`

	// Resize: the terminal of PID (0: init) gets this window size.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
}

// ExecArgs describe a process exec starts in the sandbox.
type ExecArgs struct {
	Args           []string `json:"args"`
	Env            []string `json:"env"`
	Cwd            string   `json:"cwd"`
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	AdditionalGIDs []uint32 `json:"additional_gids,omitempty"`
	Terminal       bool     `json:"terminal,omitempty"`
	NoNewPrivs     bool     `json:"no_new_privileges,omitempty"`
	// Caps are the capability sets (bounding, effective, inheritable,
	// permitted, ambient) as bit masks; nil means the defaults for UID.
	Caps *Caps `json:"caps,omitempty"`
	// Rows and Cols are the terminal's initial size.
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
}

// Caps are capability sets as bit masks (bit N: capability N).
type Caps struct {
	Bounding, Effective, Inheritable, Permitted, Ambient uint64
}

// Response is a call's result.
type Response struct {
	Version int `json:"version"`
	// Errno is 0 on success; Error says what failed.
	Errno unix.Errno `json:"errno,omitempty"`
	Error string     `json:"error,omitempty"`

	// Exec: the new process's PID in the sandbox.
	PID int32 `json:"pid,omitempty"`
	// Wait: the process's exit status as a shell reports it (128+N for
	// signal N); Signal is N.
	ExitStatus int `json:"exit_status"`
	Signal     int `json:"signal,omitempty"`
	// Ps.
	Processes []Process `json:"processes,omitempty"`
}

// Process is one process of the sandbox, as ps shows it.
type Process struct {
	PID     int32     `json:"pid"`
	PPID    int32     `json:"ppid"`
	UID     uint32    `json:"uid"`
	Started time.Time `json:"started"`
	TTY     string    `json:"tty,omitempty"`
	Cmd     string    `json:"cmd"`
}

// Error is a failed call: an errno and a message from the sandbox.
type Error struct {
	Errno unix.Errno
	Msg   string
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Errno.Error()
}

// Unwrap lets errors.Is(err, unix.ESRCH) work on call errors.
func (e *Error) Unwrap() error { return e.Errno }

// Errorf makes an *Error for a handler to return.
func Errorf(errno unix.Errno, format string, args ...any) error {
	return &Error{Errno: errno, Msg: fmt.Sprintf(format, args...)}
}

// ErrUnreachable wraps failures to reach the sandbox at all (it died, or
// never started).
var ErrUnreachable = errors.New("sandbox unreachable")

// sockaddr returns an address for path usable with bind and connect even
// when path is longer than sun_path (108 bytes; containerd's state
// directories under /run/containerd/runc/k8s.io/<64 hex> are): the
// directory is opened and named as /proc/self/fd/N/NAME. The returned
// cleanup closes the directory.
func sockaddr(path string) (*unix.SockaddrUnix, func(), error) {
	if len(path) < 100 {
		return &unix.SockaddrUnix{Name: path}, func() {}, nil
	}
	dfd, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return &unix.SockaddrUnix{Name: fmt.Sprintf("/proc/self/fd/%d/%s", dfd, filepath.Base(path))},
		func() { unix.Close(dfd) }, nil
}

// Listen creates the listening socket at path (replacing a stale one) and
// returns it as a file to hand to the sandbox.
func Listen(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	sa, done, err := sockaddr(path)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	defer done()
	_ = os.Remove(path)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", path, err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Call sends req with fds to the sandbox listening at path and returns its
// response. A response with an errno comes back as an *Error.
func Call(path string, req *Request, fds ...int) (*Response, error) {
	if len(fds) > MaxFDs {
		return nil, fmt.Errorf("too many descriptors (%d)", len(fds))
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	sa, done, err := sockaddr(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	err = retryEINTR(func() error { return unix.Connect(fd, sa) })
	done()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	req.Version = Version
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("request too large (%d bytes)", len(b))
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := retryEINTR(func() error { return unix.Sendmsg(fd, b, oob, nil, 0) }); err != nil {
		return nil, fmt.Errorf("%w: send: %v", ErrUnreachable, err)
	}
	buf := make([]byte, MaxMessage+1)
	var n int
	err = retryEINTR(func() (err error) { n, _, _, _, err = unix.Recvmsg(fd, buf, nil, 0); return })
	if err != nil {
		return nil, fmt.Errorf("%w: receive: %v", ErrUnreachable, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: sandbox closed the connection", ErrUnreachable)
	}
	if n > MaxMessage {
		return nil, fmt.Errorf("response too large")
	}
	var resp Response
	if err := json.Unmarshal(buf[:n], &resp); err != nil {
		return nil, fmt.Errorf("malformed response: %w", err)
	}
	if resp.Errno != 0 {
		return &resp, &Error{Errno: resp.Errno, Msg: resp.Error}
	}
	return &resp, nil
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}
