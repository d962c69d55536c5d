// Package client is the sentry side of the gofer protocol
// (pangolin/gofer/proto): it sends requests over the gofer's unix socket and
// receives replies and donated host FDs.
//
// A Client is safe for concurrent use: any number of goroutines may have
// requests outstanding; a single reader goroutine routes replies by ID.
// Errors from the server are unix.Errno values wrapped with the operation
// ("gofer walk \"a\": no such file or directory"), so errors.Is(err,
// unix.ENOENT) works. When the server dies or sends something malformed,
// every outstanding and later call fails with an error wrapping both
// ErrDisconnected (or ErrMalformed) and unix.EIO; nothing hangs or panics.
//
// Lock order: Client.mu is a leaf lock, never held across I/O.
package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// Errors wrapped (together with a unix.Errno) by transport failures.
var (
	// ErrDisconnected: the server closed the connection or died (with EIO).
	ErrDisconnected = errors.New("gofer connection lost")
	// ErrMalformed: the server sent a reply that violates the protocol
	// (with EIO).
	ErrMalformed = errors.New("malformed gofer reply")
	// ErrClosed: the client was closed (with EBADF).
	ErrClosed = errors.New("gofer client closed")
)

// Node is a server node handle: its ID and the attributes the server
// reported when the node was made. The server keeps a host FD per node
// until CloseNodes.
type Node struct {
	ID   uint64
	Stat proto.Stat
}

// IsDir reports whether the node is a directory.
func (n Node) IsDir() bool { return n.Stat.IsDir() }

// IsRegular reports whether the node is a regular file.
func (n Node) IsRegular() bool { return n.Stat.IsRegular() }

// IsSymlink reports whether the node is a symbolic link.
func (n Node) IsSymlink() bool { return n.Stat.IsSymlink() }

func nodeOf(ni proto.NodeInfo) Node { return Node{ID: ni.ID, Stat: ni.Stat} }

// Client is a connection to one gofer server.
type Client struct {
	conn     *net.UnixConn // immutable
	root     Node          // immutable after New
	readOnly bool          // immutable after New
	version  uint32        // immutable after New

	nextID atomic.Uint64

	mu sync.Mutex
	// pending maps request IDs to their waiters. Protected by mu.
	pending map[uint64]*call
	// err is set once the connection is unusable; later calls fail with
	// it. Protected by mu.
	err error

	readerDone chan struct{} // closed when the reader goroutine exits
}

// call is one outstanding request.
type call struct {
	typ  proto.MsgType // immutable
	done chan result   // buffered(1); receives exactly one result
}

type result struct {
	hdr     proto.Header
	payload []byte
	fds     []int
	err     error
}

// New takes ownership of fd, a connected SOCK_SEQPACKET unix socket to a
// gofer server, and performs the Mount handshake.
func New(fd int) (*Client, error) {
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_SEQPACKET {
		unix.Close(fd)
		return nil, fmt.Errorf("gofer client: fd %d is not a SOCK_SEQPACKET socket: %w", fd, unix.EINVAL)
	}
	f := os.NewFile(uintptr(fd), "gofer-client")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("gofer client: %w", err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("gofer client: not a unix socket: %w", unix.EINVAL)
	}
	c := &Client{conn: uc, pending: make(map[uint64]*call), readerDone: make(chan struct{})}
	go c.readLoop()
	var resp proto.MountResp
	if _, err := c.rpc(proto.MsgMount, &proto.MountReq{Version: proto.Version}, &resp); err != nil {
		c.Close()
		return nil, fmt.Errorf("gofer mount: %w", err)
	}
	// The root is a directory, or a regular file when the gofer serves a
	// bind-mounted file.
	if resp.Version < proto.MinVersion || resp.Version > proto.Version || !resp.Root.Stat.IsDir() && !resp.Root.Stat.IsRegular() {
		c.Close()
		return nil, fmt.Errorf("gofer mount: version %d, root mode %#o: %w: %w", resp.Version, resp.Root.Stat.Mode, ErrMalformed, unix.EIO)
	}
	c.root = nodeOf(resp.Root)
	c.readOnly = resp.Flags&proto.MountReadOnly != 0
	c.version = resp.Version
	return c, nil
}

// Root returns the root node of the mount.
func (c *Client) Root() Node { return c.root }

// ReadOnly reports whether the server refuses mutations (EROFS).
func (c *Client) ReadOnly() bool { return c.readOnly }

// Version returns the negotiated protocol version.
func (c *Client) Version() uint32 { return c.version }

// Close shuts the connection down. Outstanding and later calls fail with an
// error wrapping ErrClosed and EBADF. The server releases every node when it
// sees the hangup. Close is idempotent.
func (c *Client) Close() error {
	c.fail(fmt.Errorf("%w: %w", ErrClosed, unix.EBADF))
	<-c.readerDone
	return nil
}

// fail makes the connection unusable with err (the first error wins) and
// wakes every outstanding call.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = make(map[uint64]*call)
	c.mu.Unlock()
	for _, cl := range pending {
		cl.done <- result{err: err}
	}
	// Unblocks the reader (net.ErrClosed) and makes the server see EOF.
	c.conn.Close()
}

func disconnected(cause any) error {
	return fmt.Errorf("%w (%v): %w", ErrDisconnected, cause, unix.EIO)
}

func malformed(what string) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, unix.EIO)
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// readLoop routes replies to their calls until the connection fails.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	buf := make([]byte, proto.MaxMessageSize+1)
	// Room for a few FDs: a reply carries at most one, and extra ones must
	// be received (and closed) rather than silently dropped by the kernel.
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, flags, _, err := c.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			c.fail(disconnected(err))
			return
		}
		fds, ctrlOK := parseRights(oob[:oobn])
		if n == 0 && oobn == 0 {
			c.fail(disconnected("server hung up"))
			return
		}
		h, payload, err := proto.DecodeHeader(buf[:n])
		if err != nil {
			// No ID to route it to: the stream is broken.
			closeFDs(fds)
			c.fail(malformed("short packet"))
			return
		}
		c.mu.Lock()
		cl := c.pending[h.ID]
		delete(c.pending, h.ID)
		c.mu.Unlock()
		if cl == nil {
			closeFDs(fds) // a reply nobody waits for; drop it
			continue
		}
		r := result{hdr: h, payload: append([]byte(nil), payload...), fds: fds}
		switch {
		case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > proto.MaxMessageSize || !ctrlOK:
			r = result{err: malformed("truncated packet")}
		case h.Type != cl.typ|proto.ReplyBit || h.Flags != 0:
			r = result{err: malformed(fmt.Sprintf("reply type %#x for %s", uint16(h.Type), cl.typ))}
		case h.Errno != 0 && (len(payload) != 0 || len(fds) != 0 || h.Errno > proto.MaxErrno):
			r = result{err: malformed("error reply with payload")}
		}
		if r.err != nil {
			closeFDs(fds)
		}
		cl.done <- r
	}
}

// parseRights returns the FDs in control data b; ok is false if b holds
// anything but well-formed SCM_RIGHTS messages (FDs found are still
// returned so they can be closed).
func parseRights(b []byte) (fds []int, ok bool) {
	if len(b) == 0 {
		return nil, true
	}
	msgs, err := unix.ParseSocketControlMessage(b)
	if err != nil {
		return nil, false
	}
	ok = true
	for i := range msgs {
		f, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			ok = false
			continue
		}
		fds = append(fds, f...)
	}
	return fds, ok
}

// rpc sends request req of type t and decodes the reply into resp. It
// returns the donated FDs (exactly proto.ReplyFDs(t) of them), which the
// caller owns.
func (c *Client) rpc(t proto.MsgType, req, resp proto.Message) ([]int, error) {
	id := c.nextID.Add(1)
	pkt := proto.Marshal(proto.Header{ID: id, Type: t}, req)
	if len(pkt) > proto.MaxMessageSize {
		return nil, unix.EINVAL
	}
	cl := &call{typ: t, done: make(chan result, 1)}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = cl
	c.mu.Unlock()
	// SOCK_SEQPACKET sends are atomic, and net serialises writers anyway.
	if _, _, err := c.conn.WriteMsgUnix(pkt, nil, nil); err != nil {
		c.fail(disconnected(err))
	}
	r := <-cl.done
	if r.err != nil {
		return nil, r.err
	}
	if r.hdr.Errno != 0 {
		return nil, proto.ErrorOf(r.hdr.Errno)
	}
	if len(r.fds) != proto.ReplyFDs(t) {
		closeFDs(r.fds)
		return nil, malformed(fmt.Sprintf("%s reply with %d FDs", t, len(r.fds)))
	}
	if err := proto.Decode(r.payload, resp); err != nil {
		closeFDs(r.fds)
		return nil, malformed(fmt.Sprintf("%s reply payload", t))
	}
	return r.fds, nil
}
