package control

import (
	"encoding/json"
	"errors"
	"log"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Handler is what the sandbox implements. fds are the request's
// descriptors; the handler owns them (closes those it does not keep). hup
// is closed if the caller hangs up before the response (a long wait whose
// CLI was killed).
type Handler interface {
	Handle(req *Request, fds []*os.File, hup <-chan struct{}) (*Response, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(req *Request, fds []*os.File, hup <-chan struct{}) (*Response, error)

// Handle implements Handler.
func (f HandlerFunc) Handle(req *Request, fds []*os.File, hup <-chan struct{}) (*Response, error) {
	return f(req, fds, hup)
}

// Serve accepts connections on the listening socket ln until it is closed
// and handles each on its own goroutine. Only processes with the
// sandbox's own UID may call (SO_PEERCRED): the socket's directory is
// already private to root, this is the second check.
func Serve(ln *os.File, h Handler) error {
	return ServeFor(ln, h, os.Geteuid())
}

// ServeFor is Serve for callers whose UID, as SO_PEERCRED reports it to
// this process, is owner: a sandbox computes it before its seccomp filter
// (which has no getuid) and, in a user namespace, it is how the host user
// that owns the sandbox appears there.
func ServeFor(ln *os.File, h Handler, owner int) error {
	// ln must stay reachable while its descriptor is used, or its
	// finalizer would close the socket under the accept loop.
	defer runtime.KeepAlive(ln)
	lfd := int(ln.Fd())
	for {
		var nfd int
		err := retryEINTR(func() (err error) {
			nfd, _, err = unix.Accept4(lfd, unix.SOCK_CLOEXEC)
			return
		})
		if err != nil {
			if errors.Is(err, unix.EBADF) || errors.Is(err, unix.EINVAL) {
				return nil // closed
			}
			if errors.Is(err, unix.ECONNABORTED) || errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				continue
			}
			return err
		}
		go serveConn(nfd, h, owner)
	}
}

func serveConn(fd int, h Handler, owner int) {
	defer unix.Close(fd)
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil || int(cred.Uid) != owner {
		log.Printf("control: refusing connection from uid %v: %v", cred, err)
		return
	}
	buf := make([]byte, MaxMessage+1)
	oob := make([]byte, unix.CmsgSpace(MaxFDs*4))
	var n, oobn, flags int
	err = retryEINTR(func() (err error) {
		n, oobn, flags, _, err = unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		return
	})
	if err != nil || n == 0 {
		return
	}
	var files []*os.File
	if oobn > 0 {
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if perr == nil {
			for _, m := range msgs {
				rights, rerr := unix.ParseUnixRights(&m)
				if rerr != nil {
					continue
				}
				for _, r := range rights {
					files = append(files, os.NewFile(uintptr(r), "control-fd"))
				}
			}
		}
	}
	resp, herr := func() (*Response, error) {
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > MaxMessage {
			closeAll(files)
			return nil, Errorf(unix.EMSGSIZE, "request too large")
		}
		var req Request
		if err := json.Unmarshal(buf[:n], &req); err != nil {
			closeAll(files)
			return nil, Errorf(unix.EINVAL, "malformed request: %v", err)
		}
		if req.Version != Version {
			closeAll(files)
			return nil, Errorf(unix.EPROTONOSUPPORT, "control protocol version %d not supported (sandbox speaks %d)", req.Version, Version)
		}
		hup, stop := watchHangup(fd)
		defer stop()
		return h.Handle(&req, files, hup)
	}()
	if resp == nil {
		resp = &Response{}
	}
	resp.Version = Version
	if herr != nil {
		var ce *Error
		var errno unix.Errno
		switch {
		case errors.As(herr, &ce):
			resp.Errno, resp.Error = ce.Errno, ce.Msg
		case errors.As(herr, &errno):
			resp.Errno, resp.Error = errno, herr.Error()
		default:
			resp.Errno, resp.Error = unix.EIO, herr.Error()
		}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return
	}
	_ = retryEINTR(func() error { return unix.Sendmsg(fd, b, nil, nil, 0) })
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// watchHangup returns a channel closed when the peer of the connected
// socket fd hangs up, and a function that stops watching. The watcher
// polls with a timeout so stop never waits on a blocked poll for long.
func watchHangup(fd int) (<-chan struct{}, func()) {
	hup := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			n, err := unix.Poll(pfd, 200)
			if err == unix.EINTR || n == 0 {
				continue
			}
			if err != nil || pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0 {
				close(hup)
				return
			}
			// Readable without hang-up: a misbehaving peer sent more;
			// keep watching without reading.
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return hup, func() { close(done) }
}
