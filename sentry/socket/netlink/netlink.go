// Package netlink implements AF_NETLINK sockets of protocol NETLINK_ROUTE
// (netlink(7), rtnetlink(7), net/netlink/af_netlink.c, net/core/rtnetlink.c):
// the sandbox's interfaces, addresses and routes, dumped from and changed
// in its netstack (sentry/socket/netstack). Other netlink protocols fail
// with EPROTONOSUPPORT, as a kernel without them does.
//
// A socket queues whole datagrams, each holding one or more netlink
// messages, as the kernel's replies are skbs: a request is answered in
// full when it is sent (dumps are cut into datagrams the size Linux
// uses), and received with datagram semantics (MSG_PEEK, MSG_TRUNC).
// Changes made through RTM_NEW*/RTM_DEL* are multicast to the sockets
// that joined the matching RTNLGRP_* group.
//
// Lock order: socket.mu, then namespace.mu (leaf); socket.Options.mu is
// a leaf.
package netlink

import (
	"encoding/binary"
	"sync"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/socket/netstack"
	"pangolin/sentry/syserr"
)

var le = binary.LittleEndian

// Provider is the AF_NETLINK socket.Provider.
type Provider struct{}

// maxLinks is MAX_LINKS: netlink protocols are 0 <= protocol < maxLinks.
const maxLinks = 32

// sockaddrNlLen is sizeof(struct sockaddr_nl).
const sockaddrNlLen = 12

// Socket implements socket.Provider (netlink_create()).
func (Provider) Socket(ctx socket.Context, stype, protocol int) (socket.Socket, error) {
	if stype != sys.SOCK_RAW && stype != sys.SOCK_DGRAM {
		return nil, sys.ESOCKTNOSUPPORT
	}
	if protocol < 0 || protocol >= maxLinks || protocol != sys.NETLINK_ROUTE {
		return nil, sys.EPROTONOSUPPORT
	}
	ns := namespaceOf(ctx)
	return &sock{ns: ns, st: netstack.Of(ctx.Stack()), stype: stype, opts: socket.NewOptions()}, nil
}

// Pair implements socket.Provider: netlink has no pairs.
func (p Provider) Pair(ctx socket.Context, stype, protocol int) (socket.Socket, socket.Socket, error) {
	if _, err := p.Socket(ctx, stype, protocol); err != nil {
		return nil, nil, err
	}
	return nil, nil, sys.EOPNOTSUPP
}

// namespace is one network namespace's NETLINK_ROUTE sockets.
type namespace struct {
	mu sync.Mutex
	// ports maps bound port IDs to sockets; nextNeg is the next
	// negative ID autobind tries when the thread group ID is taken.
	// Protected by mu.
	ports   map[int32]*sock
	nextNeg int32
}

func namespaceOf(ctx socket.Context) *namespace {
	return ctx.Stack().State(sys.AF_NETLINK, func() any {
		return &namespace{ports: make(map[int32]*sock), nextNeg: -4096}
	}).(*namespace)
}

// sock is one NETLINK_ROUTE socket.
type sock struct {
	// ns, st and stype are immutable.
	ns    *namespace
	st    *netstack.Stack
	stype int

	opts  *socket.Options
	queue waiter.Queue

	mu sync.Mutex
	// Protected by mu:
	//
	// portID is the bound port (0: not bound yet); groups the joined
	// multicast groups (bit n-1 is group n, as nl_groups for the first
	// 32; all 64 RTNLGRP_* fit).
	portID int32
	bound  bool
	groups uint64
	// dstPort and dstGroups are the connected destination (connect(2)).
	dstPort   int32
	dstGroups uint32
	// recvq are the queued datagrams; qbytes their total size.
	recvq  [][]byte
	qbytes int
	// maxRecv is the largest buffer a receive offered (max_recvmsg_len,
	// at most 32 KiB): dump datagrams are made that big.
	maxRecv int
	// flags are the NETLINK_* socket options set: extAck, capAck,
	// strict, pktinfo, noENOBUFS, broadcastErr, listenAll.
	extAck, capAck, strict, pktinfo, noENOBUFS, broadcastErr, listenAll bool
	// overrun is set when a datagram was dropped for lack of room: the
	// next receive fails with ENOBUFS (sk_err).
	overrun bool
	// closed is set by Release.
	closed bool
}

var _ socket.Socket = (*sock)(nil)

// Info implements socket.Socket.
func (s *sock) Info() (int, int, int) { return sys.AF_NETLINK, s.stype, sys.NETLINK_ROUTE }

// Readiness implements waiter.Waitable: readable with a datagram queued
// or an overrun to report; always writable (requests are answered at
// once).
func (s *sock) Readiness(mask waiter.EventMask) waiter.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	ready := waiter.WritableEvents
	if len(s.recvq) > 0 || s.overrun {
		ready |= waiter.ReadableEvents
	}
	if s.overrun {
		ready |= waiter.EventErr
	}
	return ready & mask
}

// EventRegister implements waiter.Waitable.
func (s *sock) EventRegister(e *waiter.Entry) error {
	s.queue.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (s *sock) EventUnregister(e *waiter.Entry) { s.queue.EventUnregister(e) }

// Release implements socket.Socket.
func (s *sock) Release() {
	s.mu.Lock()
	s.closed = true
	port, bound := s.portID, s.bound
	s.recvq = nil
	s.mu.Unlock()
	if bound {
		s.ns.mu.Lock()
		if s.ns.ports[port] == s {
			delete(s.ns.ports, port)
		}
		s.ns.mu.Unlock()
	}
}

// parseAddr decodes a sockaddr_nl (EINVAL if short or of another
// family).
func parseAddr(b []byte) (port int32, groups uint32, err error) {
	if len(b) < sockaddrNlLen || le.Uint16(b) != sys.AF_NETLINK {
		return 0, 0, sys.EINVAL
	}
	return int32(le.Uint32(b[4:])), le.Uint32(b[8:]), nil
}

// encodeAddr encodes a sockaddr_nl.
func encodeAddr(port int32, groups uint32) []byte {
	b := make([]byte, sockaddrNlLen)
	le.PutUint16(b, sys.AF_NETLINK)
	le.PutUint32(b[4:], uint32(port))
	le.PutUint32(b[8:], groups)
	return b
}

// Bind implements socket.Socket (netlink_bind()): a port ID of 0 is
// chosen (autobind); joining groups is allowed to everyone for
// NETLINK_ROUTE (NL_CFG_F_NONROOT_RECV).
func (s *sock) Bind(ctx socket.Context, addr []byte) error {
	port, groups, err := parseAddr(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound && port != 0 && port != s.portID {
		return sys.EINVAL
	}
	if !s.bound {
		if err := s.bindLocked(ctx, port); err != nil {
			return err
		}
	}
	s.groups = s.groups&^0xffffffff | uint64(groups)
	return nil
}

// bindLocked takes a port ID: port, or with 0 the caller's thread group
// ID if free, else a fresh negative one (netlink_autobind()).
//
// Preconditions: s.mu is held.
func (s *sock) bindLocked(ctx socket.Context, port int32) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if port == 0 {
		port = ctx.PID()
		if _, taken := s.ns.ports[port]; taken {
			for {
				port = s.ns.nextNeg
				s.ns.nextNeg--
				if s.ns.nextNeg > -4096 {
					s.ns.nextNeg = -4096
				}
				if _, taken := s.ns.ports[port]; !taken {
					break
				}
			}
		}
	} else if _, taken := s.ns.ports[port]; taken {
		return sys.EADDRINUSE
	}
	s.ns.ports[port] = s
	s.portID, s.bound = port, true
	return nil
}

// autobind binds an unbound socket before its first send or connect.
func (s *sock) autobind(ctx socket.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound {
		return nil
	}
	return s.bindLocked(ctx, 0)
}

// Listen implements socket.Socket.
func (s *sock) Listen(socket.Context, int) error { return sys.EOPNOTSUPP }

// Accept implements socket.Socket.
func (s *sock) Accept(socket.Context, bool) (socket.Socket, error) { return nil, sys.EOPNOTSUPP }

// Connect implements socket.Socket (netlink_connect()): sets the default
// destination; AF_UNSPEC clears it. Sending to a multicast group needs
// CAP_NET_ADMIN (EPERM).
func (s *sock) Connect(ctx socket.Context, addr []byte, _ bool) error {
	if len(addr) < 2 {
		return sys.EINVAL
	}
	if le.Uint16(addr) == sys.AF_UNSPEC {
		s.mu.Lock()
		s.dstPort, s.dstGroups = 0, 0
		s.mu.Unlock()
		return nil
	}
	port, groups, err := parseAddr(addr)
	if err != nil {
		return err
	}
	if groups != 0 && !ctx.Credentials().HasCapability(socket.CapNetAdmin) {
		return sys.EPERM
	}
	if err := s.autobind(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.dstPort, s.dstGroups = port, groups
	s.mu.Unlock()
	return nil
}

// Name implements socket.Socket.
func (s *sock) Name() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return encodeAddr(s.portID, uint32(s.groups))
}

// PeerName implements socket.Socket: the connected destination, or the
// kernel.
func (s *sock) PeerName() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return encodeAddr(s.dstPort, s.dstGroups), nil
}

// Shutdown implements socket.Socket.
func (s *sock) Shutdown(how int) error {
	if how < sys.SHUT_RD || how > sys.SHUT_RDWR {
		return sys.EINVAL
	}
	return sys.EOPNOTSUPP
}

// nlmsgGoodSize is NLMSG_GOODSIZE with 4 KiB pages: the size of a dump
// datagram until a receive offers a bigger buffer.
const nlmsgGoodSize = 3776

// maxRecvmsgLen bounds max_recvmsg_len (32 KiB).
const maxRecvmsgLen = 32768

// deliver queues datagrams on s, dropping what does not fit in the
// receive buffer (and then reporting ENOBUFS once, unless
// NETLINK_NO_ENOBUFS).
func (s *sock) deliver(dgrams [][]byte) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	limit := s.rcvbuf()
	for _, d := range dgrams {
		if s.qbytes > 0 && s.qbytes+len(d) > limit {
			if !s.noENOBUFS {
				s.overrun = true
			}
			continue
		}
		s.recvq = append(s.recvq, d)
		s.qbytes += len(d)
	}
	s.mu.Unlock()
	s.queue.Notify(waiter.ReadableEvents)
}

// rcvbuf returns SO_RCVBUF.
func (s *sock) rcvbuf() int {
	b, err := s.opts.Get(sys.SO_RCVBUF)
	if err != nil {
		return socket.DefaultBufSize
	}
	return int(int32(le.Uint32(b)))
}

// SendMsg implements socket.Socket (netlink_sendmsg()): every message
// addressed to the kernel is a request, answered on this socket. Sending
// to another port or group is not supported (only the kernel answers
// NETLINK_ROUTE here).
func (s *sock) SendMsg(ctx socket.Context, src socket.IOSequence, to, control []byte, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 {
		return 0, sys.EOPNOTSUPP
	}
	if _, err := socket.ParseControl(ctx, control, sys.AF_NETLINK); err != nil {
		return 0, err
	}
	s.mu.Lock()
	dstPort, dstGroups := s.dstPort, s.dstGroups
	s.mu.Unlock()
	if len(to) > 0 {
		var err error
		if dstPort, dstGroups, err = parseAddr(to); err != nil {
			return 0, err
		}
		if dstGroups != 0 && !ctx.Credentials().HasCapability(socket.CapNetAdmin) {
			return 0, sys.EPERM
		}
	}
	if err := s.autobind(ctx); err != nil {
		return 0, err
	}
	n := src.Len()
	if n > s.opts.SndBuf()-32 {
		return 0, sys.EMSGSIZE
	}
	buf := make([]byte, n)
	if c, err := src.CopyIn(0, buf); err != nil || c != n {
		return 0, sys.EFAULT
	}
	if dstPort != 0 || dstGroups != 0 {
		// Messages between user ports: the sandbox has no other
		// NETLINK_ROUTE users to receive them.
		if dstPort != 0 {
			return 0, sys.ECONNREFUSED
		}
		return n, nil
	}
	s.mu.Lock()
	port := s.portID
	s.mu.Unlock()
	replies := handleRequests(ctx, s, port, buf)
	s.deliver(replies)
	return n, nil
}

// RecvMsg implements socket.Socket (netlink_recvmsg()): one datagram,
// cut to the buffer with MSG_TRUNC; the sender is the kernel.
func (s *sock) RecvMsg(ctx socket.Context, dst socket.IOSequence, flags int) (socket.RecvResult, error) {
	if flags&sys.MSG_OOB != 0 {
		return socket.RecvResult{}, sys.EOPNOTSUPP
	}
	if flags&sys.MSG_ERRQUEUE != 0 {
		return socket.RecvResult{}, sys.EAGAIN
	}
	timeo := s.opts.RcvTimeout()
	if flags&sys.MSG_DONTWAIT != 0 {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	d, err := vfs.BlockOn(ctx, s, waiter.ReadableEvents, noWait, deadline, func() ([]byte, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.overrun {
			s.overrun = false
			return nil, sys.ENOBUFS
		}
		if len(s.recvq) == 0 {
			return nil, sys.EAGAIN
		}
		d := s.recvq[0]
		if flags&sys.MSG_PEEK == 0 {
			s.recvq = s.recvq[1:]
			s.qbytes -= len(d)
		}
		if l := min(dst.Len(), maxRecvmsgLen); l > s.maxRecv {
			s.maxRecv = l
		}
		return d, nil
	})
	if err != nil {
		switch err {
		case sys.ETIMEDOUT:
			err = sys.EAGAIN
		case syserr.ERestartSys:
			if timeo.Bounded() {
				err = sys.EINTR
			}
		}
		return socket.RecvResult{}, err
	}
	n, cerr := dst.CopyOut(0, d)
	if cerr != nil {
		return socket.RecvResult{}, cerr
	}
	r := socket.RecvResult{N: n, From: encodeAddr(0, 0)}
	if n < len(d) {
		r.Flags |= sys.MSG_TRUNC
	}
	if flags&sys.MSG_TRUNC != 0 {
		r.N = len(d)
	}
	if s.opts.PassCred() {
		r.Creds = &socket.Credentials{}
	}
	return r, nil
}

// Netlink socket options (SOL_NETLINK, linux/netlink.h).
const (
	solNetlink        = 270
	nlAddMembership   = 1
	nlDropMembership  = 2
	nlPktinfo         = 3
	nlBroadcastError  = 4
	nlNoENOBUFS       = 5
	nlListenAllNSID   = 8
	nlListMemberships = 9
	nlCapAck          = 10
	nlExtAck          = 11
	nlGetStrictChk    = 12
	maxRTNLGroup      = 64 // RTNLGRP_MAX is below this
)

// flagOpt returns a pointer to the boolean of a NETLINK_* flag option.
func (s *sock) flagOpt(name int) *bool {
	switch name {
	case nlPktinfo:
		return &s.pktinfo
	case nlBroadcastError:
		return &s.broadcastErr
	case nlNoENOBUFS:
		return &s.noENOBUFS
	case nlListenAllNSID:
		return &s.listenAll
	case nlCapAck:
		return &s.capAck
	case nlExtAck:
		return &s.extAck
	case nlGetStrictChk:
		return &s.strict
	}
	return nil
}

// GetSockOpt implements socket.Socket (netlink_getsockopt()).
func (s *sock) GetSockOpt(ctx socket.Context, level, name int, optLen func() (int, error)) ([]byte, error) {
	n, err := optLen()
	if err != nil {
		return nil, err
	}
	switch level {
	case sys.SOL_SOCKET:
		var v []byte
		switch name {
		case sys.SO_TYPE:
			v = socket.Int(int32(s.stype))
		case sys.SO_PROTOCOL:
			v = socket.Int(sys.NETLINK_ROUTE)
		case sys.SO_DOMAIN:
			v = socket.Int(sys.AF_NETLINK)
		case sys.SO_ERROR:
			s.mu.Lock()
			if s.overrun {
				s.overrun = false
				v = socket.Int(int32(sys.ENOBUFS))
			} else {
				v = socket.Int(0)
			}
			s.mu.Unlock()
		case sys.SO_ACCEPTCONN:
			v = socket.Int(0)
		default:
			if v, err = s.opts.Get(name); err != nil {
				return nil, err
			}
		}
		return socket.Truncate(v, n), nil
	case solNetlink:
		if name == nlListMemberships {
			s.mu.Lock()
			g := s.groups
			s.mu.Unlock()
			b := make([]byte, 8)
			le.PutUint64(b, g)
			return socket.Truncate(b, n), nil
		}
		if n < 4 {
			return nil, sys.EINVAL
		}
		s.mu.Lock()
		p := s.flagOpt(name)
		var v bool
		if p != nil {
			v = *p
		}
		s.mu.Unlock()
		if p == nil {
			return nil, sys.ENOPROTOOPT
		}
		return socket.Bool(v), nil
	}
	return nil, sys.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket (netlink_setsockopt()).
func (s *sock) SetSockOpt(ctx socket.Context, level, name int, opt socket.OptVal) error {
	switch level {
	case sys.SOL_SOCKET:
		return s.opts.Set(ctx.Credentials(), name, opt)
	case solNetlink:
		v, err := opt.Int()
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		switch name {
		case nlAddMembership, nlDropMembership:
			if v < 1 || v > maxRTNLGroup {
				return sys.EINVAL
			}
			if !s.bound {
				if err := s.bindLocked(ctx, 0); err != nil {
					return err
				}
			}
			if name == nlAddMembership {
				s.groups |= 1 << (v - 1)
			} else {
				s.groups &^= 1 << (v - 1)
			}
			return nil
		}
		p := s.flagOpt(name)
		if p == nil {
			return sys.ENOPROTOOPT
		}
		*p = v != 0
		return nil
	}
	return sys.ENOPROTOOPT
}

// Ioctl implements socket.Socket: netlink has no ioctls of its own.
func (s *sock) Ioctl(ctx socket.Context, cmd uint32, arg uintptr) (uintptr, error) {
	return 0, sys.ENOTTY
}

// multicast sends a notification to every socket of the namespace that
// joined group (RTNLGRP_*), from the kernel.
func (ns *namespace) multicast(group int, msg []byte) {
	ns.mu.Lock()
	var to []*sock
	for _, s := range ns.ports {
		to = append(to, s)
	}
	ns.mu.Unlock()
	for _, s := range to {
		s.mu.Lock()
		in := s.groups&(1<<(group-1)) != 0
		s.mu.Unlock()
		if in {
			s.deliver([][]byte{msg})
		}
	}
}
