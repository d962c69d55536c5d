// Package server implements the gofer file server: it owns the host file
// tree under one root directory and serves the protocol of pangolin/gofer/proto
// to one sentry per connection.
//
// Safety model. Every host file is reached from the root FD by openat(2) of
// one validated component at a time with O_PATH|O_NOFOLLOW (plus openat2(2)
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS where the kernel
// has it), and every later operation is relative to such an FD. The server
// therefore never follows a symlink and never resolves a multi-component
// path, so symlinks, hard links and concurrent renames inside the tree cannot
// lead it outside the root. Only regular files and directories are ever
// opened for I/O: FIFOs, sockets and device nodes are never opened.
//
// Concurrency. Each connection reads requests on one goroutine and runs up
// to Options.MaxInflight handlers concurrently; replies go out in completion
// order (the client matches them by ID). Lock order: nodeTable.mu is a leaf
// lock; no other locks are held across host syscalls. A node's FD stays open
// while any handler holds a reference, so a concurrent Close never lets a
// handler act on a recycled FD number.
package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pangolin/gofer/proto"
)

// Options configure a Server.
type Options struct {
	// ReadOnly refuses every mutation, and Open for writing or truncation,
	// with EROFS.
	ReadOnly bool

	// MaxNodes bounds the nodes (host FDs) of one connection; beyond it
	// Walk and the create operations fail with ENFILE. Default 65536.
	MaxNodes int

	// MaxInflight bounds the requests of one connection handled at once.
	// Default 32.
	MaxInflight int

	// DisableProcReopen makes the server reopen files through
	// openat(parent, name) instead of /proc/self/fd (see Server.reopen); it
	// is also the behaviour when /proc is not mounted. For tests and for
	// gofers confined without /proc.
	DisableProcReopen bool

	// DisableOpenat2 skips the openat2(2) guard (tests of the fallback).
	DisableOpenat2 bool

	// ProcSelfFD, if > 0, is an O_PATH descriptor of the gofer's
	// /proc/self/fd to reopen through instead of opening "/proc/self/fd"
	// by path: a confined gofer has no /proc in its root, and mounted a
	// procfs of its own PID namespace before leaving the host's tree. New
	// duplicates it (the caller keeps its descriptor) and checks it is on
	// procfs.
	ProcSelfFD int

	// BeforeServe, if set, runs once the connection is set up and before
	// the first request is read; an error stops Serve. The gofer installs
	// its seccomp filter here, after the last host syscall that only setup
	// needs.
	BeforeServe func() error
}

// Server serves one host directory tree. It may serve several connections.
type Server struct {
	rootFD int     // O_PATH directory FD. Owned; immutable.
	procFD int     // O_PATH FD of /proc/self/fd, or -1. Owned; immutable.
	opts   Options // immutable

	// useOpenat2 is cleared once openat2(2) returns ENOSYS.
	useOpenat2 atomic.Bool
}

// New returns a server for the directory rootFD, which it takes ownership of
// (Close closes it). rootFD should be opened O_PATH|O_DIRECTORY.
func New(rootFD int, opts Options) *Server {
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = 1 << 16
	}
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = 32
	}
	s := &Server{rootFD: rootFD, procFD: -1, opts: opts}
	switch {
	case opts.DisableProcReopen:
	case opts.ProcSelfFD > 0:
		s.procFD = dupProcFD(opts.ProcSelfFD)
	default:
		s.procFD = openProcFD()
	}
	s.useOpenat2.Store(!opts.DisableOpenat2)
	return s
}

// Close releases the root FD. Connections being served keep their own FDs.
func (s *Server) Close() error {
	if s.procFD >= 0 {
		unix.Close(s.procFD)
	}
	return unix.Close(s.rootFD)
}

// ServePath serves the directory root on the connected SOCK_SEQPACKET socket
// sockFD until the client hangs up. It is the whole body of the gofer
// process: `pangolin gofer --root DIR --sock-fd N [--ro]`.
func ServePath(root string, sockFD int, opts Options) error {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(sockFD)
		return fmt.Errorf("gofer: open root %q: %w", root, err)
	}
	s := New(fd, opts)
	defer s.Close()
	return s.Serve(sockFD)
}

// Serve serves one connection on the connected SOCK_SEQPACKET socket sockFD,
// which it takes ownership of. It returns nil when the client closes its end,
// after finishing in-flight requests and releasing every node.
func (s *Server) Serve(sockFD int) error {
	// Packet boundaries are the framing, so insist on SOCK_SEQPACKET.
	if typ, err := unix.GetsockoptInt(sockFD, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_SEQPACKET {
		unix.Close(sockFD)
		return fmt.Errorf("gofer: fd %d is not a SOCK_SEQPACKET socket: %w", sockFD, unix.EINVAL)
	}
	f := os.NewFile(uintptr(sockFD), "gofer-socket")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("gofer: socket: %w", err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return fmt.Errorf("gofer: fd %d is not a unix socket: %w", sockFD, unix.EINVAL)
	}
	c := &conn{s: s, uc: uc, nodes: newNodeTable(s.opts.MaxNodes)}
	defer uc.Close()
	if s.opts.BeforeServe != nil {
		if err := s.opts.BeforeServe(); err != nil {
			return fmt.Errorf("gofer: %w", err)
		}
	}
	defer c.nodes.clear()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, s.opts.MaxInflight)
	// One spare byte detects oversized packets even if MSG_TRUNC were lost;
	// the OOB space admits a few FDs so we can close what a bad client sends.
	oob := make([]byte, unix.CmsgSpace(4*8))
	for {
		bp := bufPool.Get().(*[]byte)
		n, oobn, flags, _, err := uc.ReadMsgUnix(*bp, oob)
		if err != nil {
			bufPool.Put(bp)
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, unix.ECONNRESET) {
				return nil
			}
			return fmt.Errorf("gofer: receive: %w", err)
		}
		// Requests never carry FDs: close any, and refuse the request.
		bad := closeRights(oob[:oobn]) || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || n > proto.MaxMessageSize
		if n == 0 && oobn == 0 {
			// A zero-length read is the peer's hangup; the protocol never
			// sends empty packets.
			bufPool.Put(bp)
			return nil
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() {
				bufPool.Put(bp)
				<-sem
				wg.Done()
			}()
			c.handle((*bp)[:n], bad)
		}()
	}
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, proto.MaxMessageSize+1)
	return &b
}}

// closeRights closes every FD in control message data b and reports whether
// there was any control data at all.
func closeRights(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	msgs, err := unix.ParseSocketControlMessage(b)
	if err != nil {
		return true
	}
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	return true
}

// conn is one client connection.
type conn struct {
	s  *Server       // immutable
	uc *net.UnixConn // immutable; net serialises writers, one packet each
	// nodes is immutable; the table has its own lock (nodeTable.mu).
	nodes *nodeTable

	// mounted is set by the first successful Mount; every other request
	// before it fails with EINVAL.
	mounted atomic.Bool
	// mountMu serialises Mount requests.
	mountMu sync.Mutex
}

// handle answers one request packet.
func (c *conn) handle(pkt []byte, bad bool) {
	out, fd, ok := c.respond(pkt, bad)
	if !ok {
		return
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	// A failed send means the client is gone; the read loop will see it.
	c.uc.WriteMsgUnix(out, oob, nil)
	if fd >= 0 {
		unix.Close(fd)
	}
}

// respond computes the reply to one request packet: the reply packet and
// the FD to donate with it (-1 if none; owned by the caller). It never
// panics on malformed input: the header must decode (else ok is false and
// the packet is dropped, since there is no ID to answer), and everything
// else wrong is answered with EINVAL. bad marks a packet the transport
// already found wrong (truncated, or carrying FDs).
func (c *conn) respond(pkt []byte, bad bool) (out []byte, fd int, ok bool) {
	h, payload, err := proto.DecodeHeader(pkt)
	if err != nil {
		return nil, -1, false
	}
	reply := proto.Header{ID: h.ID, Type: h.Type | proto.ReplyBit}
	var resp proto.Message
	fd = -1
	switch {
	case bad || h.Flags != 0 || h.Errno != 0 || h.Type&proto.ReplyBit != 0:
		err = unix.EINVAL
	case h.Type != proto.MsgMount && !c.mounted.Load():
		err = unix.EINVAL
	default:
		req := proto.NewRequest(h.Type)
		if req == nil {
			err = unix.EINVAL
			break
		}
		if err = proto.Decode(payload, req); err != nil {
			break
		}
		resp, fd, err = c.dispatch(h.Type, req)
	}
	if err == nil {
		out = proto.Marshal(reply, resp)
		if len(out) <= proto.MaxMessageSize {
			return out, fd, true
		}
		// Cannot happen with the limits in proto; fail safe.
		if fd >= 0 {
			unix.Close(fd)
			fd = -1
		}
		err = unix.EIO
	}
	reply.Errno = proto.ErrnoOf(err)
	return proto.Marshal(reply, nil), -1, true
}

// dispatch runs a decoded request. It returns the reply payload and, for
// Open and Create, the FD to donate (owned by the caller).
func (c *conn) dispatch(t proto.MsgType, req proto.Message) (proto.Message, int, error) {
	switch t {
	case proto.MsgMount:
		r, err := c.mount(req.(*proto.MountReq))
		return r, -1, err
	case proto.MsgWalk:
		r, err := c.walk(req.(*proto.WalkReq))
		return r, -1, err
	case proto.MsgStat:
		r, err := c.stat(req.(*proto.NodeReq))
		return r, -1, err
	case proto.MsgSetStat:
		r, err := c.setStat(req.(*proto.SetStatReq))
		return r, -1, err
	case proto.MsgOpen:
		fd, err := c.open(req.(*proto.OpenReq))
		return &proto.Empty{}, fd, err
	case proto.MsgCreate:
		return c.create(req.(*proto.CreateReq))
	case proto.MsgMkdir:
		r, err := c.mkdir(req.(*proto.MkdirReq))
		return r, -1, err
	case proto.MsgMknod:
		r, err := c.mknod(req.(*proto.MkdirReq))
		return r, -1, err
	case proto.MsgSymlink:
		r, err := c.symlink(req.(*proto.SymlinkReq))
		return r, -1, err
	case proto.MsgLink:
		r, err := c.link(req.(*proto.LinkReq))
		return r, -1, err
	case proto.MsgUnlink:
		return &proto.Empty{}, -1, c.unlink(req.(*proto.UnlinkReq))
	case proto.MsgRename:
		return &proto.Empty{}, -1, c.rename(req.(*proto.RenameReq))
	case proto.MsgReadlink:
		r, err := c.readlink(req.(*proto.NodeReq))
		return r, -1, err
	case proto.MsgGetdents:
		r, err := c.getdents(req.(*proto.GetdentsReq))
		return r, -1, err
	case proto.MsgStatFS:
		r, err := c.statFS(req.(*proto.NodeReq))
		return r, -1, err
	case proto.MsgClose:
		return &proto.Empty{}, -1, c.close(req.(*proto.CloseReq))
	}
	return nil, -1, unix.EINVAL
}
