// Package netstack implements AF_INET and AF_INET6 sockets (TCP, UDP,
// ICMP "ping" datagrams and raw IP) on gVisor's user-space network stack
// (gvisor.dev/gvisor/pkg/tcpip), and the per-namespace stack itself: the
// loopback interface every sandbox has, and the interfaces --network=sandbox
// attaches through packet sockets the CLI opened in the container's network
// namespace (Configure).
//
// A socket is a sock wrapping a tcpip.Endpoint. The endpoint speaks
// pkg/waiter natively: the sock's readiness is the endpoint's, its wait
// queue the one the endpoint notifies, so poll, epoll and vfs.BlockOn
// work on it directly. What Linux does above the protocol (sockaddr
// layouts, the errno for each failure, option encodings, MSG_* flags,
// SIGPIPE) is done here, after net/ipv4/af_inet.c, net/ipv6/af_inet6.c
// and the protocols' sendmsg/recvmsg/setsockopt functions.
//
// Lock order: sock.readMu (receivers), then the endpoint's own locks;
// Stack.mu is a leaf taken without endpoint locks held; socket.Options.mu
// is a leaf.
package netstack

import (
	"sync"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/syserr"
)

// Capabilities checked here.
const (
	capNetBindService = 10
	capNetRaw         = 13
)

// ipprotoMax is IPPROTO_MAX: protocols are 0 <= protocol < ipprotoMax.
const ipprotoMax = 263

// unprivilegedPortStart is net.ipv4.ip_unprivileged_port_start: binding
// a lower port needs CAP_NET_BIND_SERVICE.
const unprivilegedPortStart = 1024

// PingGroupRange is net.ipv4.ping_group_range: the groups that may open
// ICMP datagram sockets. It is what Docker sets in containers (everyone),
// so ping works unprivileged; the test harness sets the same natively.
var PingGroupRange = [2]uint32{0, 2147483647}

// Provider is the socket.Provider of AF_INET or AF_INET6.
type Provider struct {
	// Family is AF_INET or AF_INET6.
	Family int
}

// netProto returns the family's network protocol.
func netProto(family int) tcpip.NetworkProtocolNumber {
	if family == sys.AF_INET {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// resolveProtocol is the inetsw lookup of inet_create() and
// inet6_create(): the protocol that a (type, protocol) pair names, with
// protocol 0 meaning the type's default. Unknown types are
// ESOCKTNOSUPPORT, protocols the type does not have EPROTONOSUPPORT.
func resolveProtocol(family, stype, protocol int) (int, error) {
	icmpProto := sys.IPPROTO_ICMP
	if family == sys.AF_INET6 {
		icmpProto = sys.IPPROTO_ICMPV6
	}
	switch stype {
	case sys.SOCK_STREAM:
		if protocol == 0 || protocol == sys.IPPROTO_TCP {
			return sys.IPPROTO_TCP, nil
		}
	case sys.SOCK_DGRAM:
		switch protocol {
		case 0, sys.IPPROTO_UDP:
			return sys.IPPROTO_UDP, nil
		case icmpProto:
			return protocol, nil
		}
	case sys.SOCK_RAW:
		// Any protocol but 0 (IPPROTO_IP, the wildcard entry).
		if protocol != 0 {
			return protocol, nil
		}
	default:
		return 0, sys.ESOCKTNOSUPPORT
	}
	return 0, sys.EPROTONOSUPPORT
}

// inPingGroup reports whether the caller may open an ICMP datagram socket
// (ping_init_sock(): its effective group or a supplementary one is in
// ping_group_range).
func inPingGroup(ctx socket.Context) bool {
	c := ctx.Credentials()
	in := func(g uint32) bool { return g >= PingGroupRange[0] && g <= PingGroupRange[1] }
	if in(c.EffectiveGID) {
		return true
	}
	for _, g := range c.ExtraGIDs {
		if in(g) {
			return true
		}
	}
	return false
}

// Socket implements socket.Provider (inet_create(), inet6_create()).
func (p Provider) Socket(ctx socket.Context, stype, protocol int) (socket.Socket, error) {
	if protocol < 0 || protocol >= ipprotoMax {
		return nil, sys.EINVAL
	}
	proto, err := resolveProtocol(p.Family, stype, protocol)
	if err != nil {
		return nil, err
	}
	if stype == sys.SOCK_RAW && !ctx.Credentials().HasCapability(capNetRaw) {
		return nil, sys.EPERM
	}
	if stype == sys.SOCK_DGRAM && proto != sys.IPPROTO_UDP && !inPingGroup(ctx) {
		return nil, sys.EACCES
	}
	st := Of(ctx.Stack())
	wq := &waiter.Queue{}
	np := netProto(p.Family)
	var ep tcpip.Endpoint
	var terr tcpip.Error
	switch {
	case stype == sys.SOCK_RAW:
		// An IPPROTO_RAW socket only sends, with the IP header
		// included (raw_sk_init(): hdrincl); others receive the
		// protocol's packets.
		ep, terr = st.S.NewRawEndpoint(tcpip.TransportProtocolNumber(proto), np, wq, proto != sys.IPPROTO_RAW)
	case proto == sys.IPPROTO_TCP:
		ep, terr = st.S.NewEndpoint(tcp.ProtocolNumber, np, wq)
	case proto == sys.IPPROTO_UDP:
		ep, terr = st.S.NewEndpoint(udp.ProtocolNumber, np, wq)
	case p.Family == sys.AF_INET:
		ep, terr = st.S.NewEndpoint(icmp.ProtocolNumber4, np, wq)
	default:
		ep, terr = st.S.NewEndpoint(icmp.ProtocolNumber6, np, wq)
	}
	if terr != nil {
		return nil, translateError(terr)
	}
	initEndpoint(ep, stype, proto)
	return newSock(st, p.Family, stype, proto, ep, wq), nil
}

// Pair implements socket.Provider: inet sockets have no pairs
// (sock_no_socketpair()).
func (p Provider) Pair(ctx socket.Context, stype, protocol int) (socket.Socket, socket.Socket, error) {
	if protocol < 0 || protocol >= ipprotoMax {
		return nil, nil, sys.EINVAL
	}
	if _, err := resolveProtocol(p.Family, stype, protocol); err != nil {
		return nil, nil, err
	}
	return nil, nil, sys.EOPNOTSUPP
}

// sock is one AF_INET or AF_INET6 socket.
type sock struct {
	// st, family, stype, protocol, ep and wq are immutable. wq is the
	// queue ep notifies.
	st       *Stack
	family   int
	stype    int
	protocol int
	ep       tcpip.Endpoint
	wq       *waiter.Queue

	// opts are the generic socket options the endpoint does not keep
	// (timeouts, SO_PRIORITY, SO_RCVLOWAT...), with their own lock.
	opts *socket.Options

	// readMu serializes receives, so that a peek and the read after it
	// see the same data and MSG_WAITALL reads are not interleaved.
	readMu sync.Mutex

	mu sync.Mutex
	// Protected by mu:
	//
	// recvTOS...: which IP-level control messages a receive returns
	// is kept by the endpoint; timestamp is SO_TIMESTAMP(NS): 0, or
	// the option that asked for them.
	timestamp int
	// boundDev is SO_BINDTODEVICE's interface name, "" if none.
	boundDev string
	// reported is the endpoint's last hard error once a call reported
	// it: netstack keeps a connection's fatal error, Linux clears sk_err
	// once read (sock_error()).
	reported tcpip.Error
	// ino and uid are the socket file's inode number and owner, for
	// /proc/net.
	ino uint64
	uid uint32
	// connecting is set while a connect(2) that returned before the
	// handshake ended (EINPROGRESS, a signal, a timeout) has not been
	// followed by one that saw the result: that one reports success
	// rather than EISCONN (SS_CONNECTING in __inet_stream_connect()).
	connecting bool
}

var (
	_ socket.Socket         = (*sock)(nil)
	_ socket.ErrorSetter    = (*sock)(nil)
	_ socket.FileInfoSetter = (*sock)(nil)
)

func newSock(st *Stack, family, stype, protocol int, ep tcpip.Endpoint, wq *waiter.Queue) *sock {
	s := &sock{st: st, family: family, stype: stype, protocol: protocol, ep: ep, wq: wq, opts: socket.NewOptions()}
	st.register(s)
	return s
}

// SetFileInfo implements socket.FileInfoSetter.
func (s *sock) SetFileInfo(ino uint64, uid uint32) {
	s.mu.Lock()
	s.ino, s.uid = ino, uid
	s.mu.Unlock()
}

// initEndpoint gives a new endpoint Linux's defaults where netstack's
// differ: Nagle's algorithm on for TCP (TCP_NODELAY off), datagram
// sockets' buffers at net.core.[wr]mem_default, IPPROTO_RAW's header
// inclusion.
func initEndpoint(ep tcpip.Endpoint, stype, protocol int) {
	so := ep.SocketOptions()
	switch {
	case stype == sys.SOCK_STREAM:
		so.SetDelayOption(true)
	default:
		so.SetSendBufferSize(socket.DefaultBufSize, true)
		so.SetReceiveBufferSize(socket.DefaultBufSize, true)
	}
	if stype == sys.SOCK_RAW && protocol == sys.IPPROTO_RAW {
		so.SetHeaderIncluded(true)
	}
}

// isStream reports whether the socket is TCP.
func (s *sock) isStream() bool { return s.stype == sys.SOCK_STREAM }

// Readiness implements waiter.Waitable.
func (s *sock) Readiness(mask waiter.EventMask) waiter.EventMask { return s.ep.Readiness(mask) }

// EventRegister implements waiter.Waitable.
func (s *sock) EventRegister(e *waiter.Entry) error {
	s.wq.EventRegister(e)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (s *sock) EventUnregister(e *waiter.Entry) { s.wq.EventUnregister(e) }

// Release implements socket.Socket (inet_release()). A lingering close
// (SO_LINGER with a timeout) does not block the closer: the connection
// is shut down in the background, and SO_LINGER with a zero timeout
// resets it, which netstack's Close does.
func (s *sock) Release() {
	s.st.unregister(s)
	s.ep.Close()
}

// Info implements socket.Socket.
func (s *sock) Info() (int, int, int) { return s.family, s.stype, s.protocol }

// inetAddr parses an address given to bind, connect or sendto for this
// socket. For AF_INET the length is checked first, then the family;
// AF_UNSPEC is read as AF_INET where the caller allows it. For AF_INET6,
// IPv4-mapped addresses are left to the dual-stack endpoint.
func (s *sock) inetAddr(b []byte) (parsedAddr, error) {
	minLen := sockaddrInLen
	if s.family == sys.AF_INET6 {
		minLen = sockaddrIn6LenRFC2
	}
	if len(b) < minLen {
		return parsedAddr{}, sys.EINVAL
	}
	switch f := familyOf(b); {
	case s.family == sys.AF_INET6 && f != sys.AF_INET6:
		return parsedAddr{}, sys.EAFNOSUPPORT
	case s.family == sys.AF_INET && f != sys.AF_INET && f != sys.AF_UNSPEC:
		return parsedAddr{}, sys.EAFNOSUPPORT
	}
	a, err := parseAddr(b)
	if err != nil {
		return parsedAddr{}, err
	}
	if s.family == sys.AF_INET6 && isV4Mapped(a.addr.Addr) && s.ep.SocketOptions().GetV6Only() {
		// A v6-only socket cannot use IPv4 (inet6_bind(): EINVAL,
		// udpv6_sendmsg: ENETUNREACH; connect: ENETUNREACH).
		return a, errV4OnV6Only
	}
	return a, nil
}

// errV4OnV6Only marks an IPv4-mapped address on an IPV6_V6ONLY socket;
// each caller turns it into its own errno.
var errV4OnV6Only = sys.Errno(0xffff)

// netstackAddr returns the address netstack expects: IPv4-mapped
// addresses on a dual-stack socket are passed as they are (the endpoint
// unmaps them), the unspecified address as empty.
func netstackAddr(a tcpip.FullAddress) tcpip.FullAddress {
	if isUnspecified(a.Addr) {
		a.Addr = tcpip.Address{}
	}
	return a
}

// Bind implements socket.Socket (inet_bind(), inet6_bind()).
func (s *sock) Bind(ctx socket.Context, b []byte) error {
	a, err := s.inetAddr(b)
	switch {
	case err == errV4OnV6Only:
		return sys.EINVAL
	case err != nil:
		return err
	}
	if s.family == sys.AF_INET && a.family == sys.AF_UNSPEC && !isUnspecified(a.addr.Addr) {
		// AF_UNSPEC is accepted for INADDR_ANY only (compatibility).
		return sys.EAFNOSUPPORT
	}
	if s.stype != sys.SOCK_RAW && a.addr.Port != 0 && a.addr.Port < unprivilegedPortStart && !ctx.Credentials().HasCapability(capNetBindService) {
		return sys.EACCES
	}
	addr := netstackAddr(a.addr)
	if s.stype == sys.SOCK_RAW {
		// Raw sockets bind an address only.
		addr.Port = 0
	}
	if s.family == sys.AF_INET6 && a.addr.NIC != 0 && !isLinkLocal(a.addr.Addr) {
		// The scope ID matters for link-local addresses only.
		addr.NIC = 0
	}
	switch terr := s.ep.Bind(addr).(type) {
	case nil:
		return nil
	case *tcpip.ErrNoPortAvailable:
		return sys.EADDRINUSE
	case *tcpip.ErrUnknownNICID:
		return sys.ENODEV
	default:
		return translateError(terr)
	}
}

// isLinkLocal reports whether a is an IPv6 link-local unicast address.
func isLinkLocal(a tcpip.Address) bool {
	b := a.AsSlice()
	return len(b) == 16 && b[0] == 0xfe && b[1]&0xc0 == 0x80
}

// Listen implements socket.Socket (inet_listen()).
func (s *sock) Listen(ctx socket.Context, backlog int) error {
	if !s.isStream() {
		return sys.EOPNOTSUPP
	}
	return translateError(s.ep.Listen(backlog))
}

// Accept implements socket.Socket (inet_accept()).
func (s *sock) Accept(ctx socket.Context, nonblock bool) (socket.Socket, error) {
	if !s.isStream() {
		return nil, sys.EOPNOTSUPP
	}
	timeo := s.opts.RcvTimeout()
	if nonblock {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	type accepted struct {
		ep tcpip.Endpoint
		wq *waiter.Queue
	}
	r, err := vfs.BlockOn(ctx, s, waiter.ReadableEvents, noWait, deadline, func() (accepted, error) {
		ep, wq, terr := s.ep.Accept(nil)
		if terr != nil {
			return accepted{}, translateError(terr)
		}
		return accepted{ep, wq}, nil
	})
	if err != nil {
		return nil, waitErr(err, timeo)
	}
	ns := newSock(s.st, s.family, s.stype, s.protocol, r.ep, r.wq)
	ns.inherit(s)
	return ns, nil
}

// inherit gives an accepted connection the listener's options that
// netstack does not copy itself: a Linux connection is a clone of its
// listener (sk_clone_lock(), tcp_create_openreq_child()).
func (s *sock) inherit(l *sock) {
	s.opts = l.opts.Clone()
	var idle tcpip.KeepaliveIdleOption
	if l.ep.GetSockOpt(&idle) == nil {
		s.ep.SetSockOpt(&idle)
	}
	var intvl tcpip.KeepaliveIntervalOption
	if l.ep.GetSockOpt(&intvl) == nil {
		s.ep.SetSockOpt(&intvl)
	}
	var uto tcpip.TCPUserTimeoutOption
	if l.ep.GetSockOpt(&uto) == nil {
		s.ep.SetSockOpt(&uto)
	}
	for _, o := range []tcpip.SockOptInt{tcpip.KeepaliveCountOption, tcpip.IPv4TOSOption, tcpip.IPv4TTLOption, tcpip.IPv6HopLimitOption, tcpip.IPv6TrafficClassOption} {
		if v, err := l.ep.GetSockOptInt(o); err == nil {
			s.ep.SetSockOptInt(o, v)
		}
	}
	lso, so := l.ep.SocketOptions(), s.ep.SocketOptions()
	so.SetKeepAlive(lso.GetKeepAlive())
	so.SetLinger(lso.GetLinger())
	so.SetDelayOption(lso.GetDelayOption())
	l.mu.Lock()
	s.timestamp, s.boundDev = l.timestamp, l.boundDev
	l.mu.Unlock()
}

// waitErr turns a blocking wait's end into the socket errno: a timeout
// is EAGAIN, and an interrupted wait with a timeout set is EINTR rather
// than restarted (sock_intr_errno()).
func waitErr(err error, t socket.Timeout) error {
	switch err {
	case sys.ETIMEDOUT:
		return sys.EAGAIN
	case syserr.ERestartSys:
		if t.Bounded() {
			return sys.EINTR
		}
	}
	return err
}

// Connect implements socket.Socket (inet_stream_connect(),
// inet_dgram_connect() and their IPv6 counterparts).
func (s *sock) Connect(ctx socket.Context, b []byte, nonblock bool) error {
	if len(b) < 2 {
		return sys.EINVAL
	}
	if familyOf(b) == sys.AF_UNSPEC {
		// Dissolve the association (datagrams) or abort (TCP, as
		// tcp_disconnect()).
		if s.isStream() {
			return translateError(s.ep.Disconnect())
		}
		if err := s.ep.Disconnect(); err != nil {
			if _, ok := err.(*tcpip.ErrNotSupported); !ok {
				return translateError(err)
			}
		}
		return nil
	}
	a, err := s.inetAddr(b)
	switch {
	case err == errV4OnV6Only:
		return sys.ENETUNREACH
	case err != nil:
		return err
	}
	addr := netstackAddr(a.addr)
	if !isLinkLocal(addr.Addr) {
		addr.NIC = 0
	}
	if addr.Addr.Len() == 0 {
		// Connecting to the unspecified address connects to this host
		// (inet_hash_connect()/ip_route_connect(): INADDR_ANY means
		// loopback).
		if s.family == sys.AF_INET {
			addr.Addr = tcpip.AddrFrom4([4]byte{127, 0, 0, 1})
		} else {
			addr.Addr = tcpip.AddrFrom16([16]byte{15: 1})
		}
	}
	if !s.isStream() {
		return s.connectErr(s.ep.Connect(addr))
	}
	timeo := s.opts.SndTimeout()
	if nonblock {
		timeo = 0
	}
	s.mu.Lock()
	wasConnecting := s.connecting
	s.connecting = false
	s.mu.Unlock()
	switch terr := s.ep.Connect(addr); terr.(type) {
	case *tcpip.ErrConnectStarted:
	case *tcpip.ErrAlreadyConnecting:
		if timeo == 0 {
			s.setConnecting()
			return sys.EALREADY
		}
	case *tcpip.ErrAlreadyConnected:
		if wasConnecting {
			return nil
		}
		return sys.EISCONN
	default:
		return s.connectErr(terr)
	}
	deadline, noWait := timeo.Deadline()
	if noWait {
		s.setConnecting()
		return sys.EINPROGRESS
	}
	// Wait until the handshake ends: the endpoint is ready for nothing
	// while it is in progress (tcp_poll()).
	const mask = waiter.WritableEvents | waiter.EventHUp | waiter.EventErr
	_, err = vfs.BlockOn(ctx, s, mask, false, deadline, func() (struct{}, error) {
		if s.ep.Readiness(mask) != 0 {
			return struct{}{}, nil
		}
		return struct{}{}, sys.EAGAIN
	})
	switch {
	case err == sys.ETIMEDOUT:
		// inet_stream_connect(): the timeout ends the wait, not the
		// attempt.
		s.setConnecting()
		return sys.EINPROGRESS
	case err != nil:
		s.setConnecting()
		return waitErr(err, timeo)
	}
	// The second Connect reports how the attempt ended.
	return s.connectErr(s.ep.Connect(addr))
}

func (s *sock) setConnecting() {
	s.mu.Lock()
	s.connecting = true
	s.mu.Unlock()
}

// takeError returns the pending socket error and clears it (sock_error()):
// a hard error already reported counts as none.
func (s *sock) takeError() tcpip.Error {
	err := s.ep.LastError()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && err == s.reported {
		return nil
	}
	if err != nil {
		s.reported = err
	}
	return err
}

// consumeError marks the pending error reported, after a call failed
// with it.
func (s *sock) consumeError() { s.takeError() }

// connectErr translates a Connect result: no free ephemeral port is
// EADDRNOTAVAIL for TCP (inet_hash_connect()), EAGAIN otherwise; an
// unroutable destination is ENETUNREACH (ip_route_connect()).
func (s *sock) connectErr(terr tcpip.Error) error {
	if terr != nil && s.isStream() {
		s.consumeError()
	}
	switch terr.(type) {
	case nil:
		return nil
	case *tcpip.ErrNoPortAvailable:
		if s.isStream() {
			return sys.EADDRNOTAVAIL
		}
		return sys.EAGAIN
	case *tcpip.ErrHostUnreachable, *tcpip.ErrNoNet:
		return sys.ENETUNREACH
	}
	return translateError(terr)
}

// Name implements socket.Socket (inet_getname()).
func (s *sock) Name() []byte {
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		a = tcpip.FullAddress{}
	}
	if s.stype == sys.SOCK_RAW {
		// A raw socket's "port" is its protocol (inet_num); IPv6
		// raw sockets report it too.
		a.Port = 0
	}
	return encodeAddr(s.family, a)
}

// PeerName implements socket.Socket.
func (s *sock) PeerName() ([]byte, error) {
	a, err := s.ep.GetRemoteAddress()
	if err != nil {
		return nil, sys.ENOTCONN
	}
	return encodeAddr(s.family, a), nil
}

// Shutdown implements socket.Socket (inet_shutdown()).
func (s *sock) Shutdown(how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case sys.SHUT_RD:
		f = tcpip.ShutdownRead
	case sys.SHUT_WR:
		f = tcpip.ShutdownWrite
	case sys.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return sys.EINVAL
	}
	err := s.ep.Shutdown(f)
	// Waiters see the new state (an unconnected datagram socket is
	// shut down too, though the call reports ENOTCONN).
	s.wq.Notify(waiter.EventHUp | waiter.ReadableEvents | waiter.WritableEvents)
	return translateError(err)
}

// SetSockError implements socket.ErrorSetter.
func (s *sock) SetSockError(errno sys.Errno) {
	s.ep.SocketOptions().SetLastError(tcpip.TranslateErrno(errno))
	s.wq.Notify(waiter.EventErr)
}
