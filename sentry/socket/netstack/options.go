package netstack

import (
	"encoding/binary"
	"math"
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"pangolin/sentry/socket"
)

// Option numbers x/sys/unix lacks.
const (
	soBindToIfindex = 62
	soIncomingCPU   = 49
	tcpInfoLen      = 232 // sizeof(struct tcp_info) in Linux 6.1
)

// Linux's TCP defaults that getsockopt reports (include/net/tcp.h).
const (
	tcpKeepIdleDefault  = 7200 // TCP_KEEPALIVE_TIME, seconds
	tcpKeepIntvlDefault = 75   // TCP_KEEPALIVE_INTVL
	tcpKeepCntDefault   = 9    // TCP_KEEPALIVE_PROBES
	maxTCPKeepIdle      = 32767
	maxTCPKeepIntvl     = 32767
	maxTCPKeepCnt       = 127
	maxTCPSynCnt        = 127
	tcpSynCntDefault    = 6 // net.ipv4.tcp_syn_retries
	tcpLinger2Default   = 60
	tcpMSSDefault       = 536
	tcpMinMSS           = 88
	tcpMaxWindow        = 65535
)

// GetSockOpt implements socket.Socket.
func (s *sock) GetSockOpt(ctx socket.Context, level, name int, optLen func() (int, error)) ([]byte, error) {
	n, err := optLen()
	if err != nil {
		return nil, err
	}
	var v []byte
	switch level {
	case sys.SOL_SOCKET:
		v, err = s.getSocketOpt(name, n)
	case sys.SOL_TCP:
		if !s.isStream() {
			// udp_getsockopt(), raw: other levels go to IP.
			return s.getIPOptFallback(level, name)
		}
		v, err = s.getTCPOpt(name, n)
	case sys.SOL_IP:
		// IPv6 sockets take IPv4 options too, for their IPv4 traffic
		// (ipv6_getsockopt() passes SOL_IP down to ip_getsockopt()).
		v, err = s.getIPOpt(name, n)
	case sys.SOL_IPV6:
		if s.family != sys.AF_INET6 {
			return s.getIPOptFallback(level, name)
		}
		v, err = s.getIPv6Opt(name, n)
	case sys.SOL_UDP:
		if s.stype != sys.SOCK_DGRAM || s.protocol != sys.IPPROTO_UDP {
			return s.getIPOptFallback(level, name)
		}
		return nil, sys.ENOPROTOOPT
	default:
		return s.getIPOptFallback(level, name)
	}
	if err != nil {
		return nil, err
	}
	return socket.Truncate(v, n), nil
}

// getIPOptFallback is what getsockopt at a level the protocol does not
// handle reports: the protocol passes it to ip_getsockopt() (or
// ipv6_getsockopt()), which refuses other levels: EOPNOTSUPP for IPv4,
// ENOPROTOOPT for IPv6.
func (s *sock) getIPOptFallback(level, name int) ([]byte, error) {
	if s.family == sys.AF_INET6 {
		return nil, sys.ENOPROTOOPT
	}
	return nil, sys.EOPNOTSUPP
}

// SetSockOpt implements socket.Socket.
func (s *sock) SetSockOpt(ctx socket.Context, level, name int, opt socket.OptVal) error {
	switch level {
	case sys.SOL_SOCKET:
		return s.setSocketOpt(ctx, name, opt)
	case sys.SOL_TCP:
		if !s.isStream() {
			return sys.ENOPROTOOPT
		}
		return s.setTCPOpt(name, opt)
	case sys.SOL_IP:
		return s.setIPOpt(ctx, name, opt)
	case sys.SOL_IPV6:
		if s.family != sys.AF_INET6 {
			return sys.ENOPROTOOPT
		}
		return s.setIPv6Opt(name, opt)
	}
	return sys.ENOPROTOOPT
}

// getSocketOpt is sk_getsockopt() for what is not generic.
func (s *sock) getSocketOpt(name, n int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.SO_TYPE:
		return socket.Int(int32(s.stype)), nil
	case sys.SO_PROTOCOL:
		return socket.Int(int32(s.protocol)), nil
	case sys.SO_DOMAIN:
		return socket.Int(int32(s.family)), nil
	case sys.SO_ERROR:
		return socket.Int(int32(errnoOf(s.takeError()))), nil
	case sys.SO_ACCEPTCONN:
		return socket.Bool(so.GetAcceptConn()), nil
	case sys.SO_REUSEADDR:
		return socket.Bool(so.GetReuseAddress()), nil
	case sys.SO_REUSEPORT:
		return socket.Bool(so.GetReusePort()), nil
	case sys.SO_KEEPALIVE:
		return socket.Bool(so.GetKeepAlive()), nil
	case sys.SO_BROADCAST:
		return socket.Bool(so.GetBroadcast()), nil
	case sys.SO_NO_CHECK:
		return socket.Bool(so.GetNoChecksum()), nil
	case sys.SO_SNDBUF:
		return socket.Int(clampInt32(so.GetSendBufferSize())), nil
	case sys.SO_RCVBUF:
		return socket.Int(clampInt32(so.GetReceiveBufferSize())), nil
	case sys.SO_LINGER:
		l := so.GetLinger()
		b := make([]byte, 8)
		if l.Enabled {
			binary.LittleEndian.PutUint32(b, 1)
		}
		binary.LittleEndian.PutUint32(b[4:], uint32(int32(l.Timeout/time.Second)))
		return b, nil
	case sys.SO_PEERNAME:
		a, err := s.PeerName()
		if err != nil {
			return nil, err
		}
		if len(a) > n {
			return nil, sys.EINVAL
		}
		return a, nil
	case sys.SO_BINDTODEVICE:
		s.mu.Lock()
		dev := s.boundDev
		s.mu.Unlock()
		if dev == "" {
			return nil, nil
		}
		if n < len(dev)+1 {
			return nil, sys.EINVAL
		}
		return append([]byte(dev), 0), nil
	case soBindToIfindex:
		return socket.Int(so.GetBindToDevice()), nil
	case soTimestamp, soTimestampNS:
		s.mu.Lock()
		on := s.timestamp == name
		s.mu.Unlock()
		return socket.Bool(on), nil
	case sys.SO_PEERCRED:
		// Only AF_UNIX and a few others have peer credentials: an
		// inet socket reports "nobody" (sk_peer_cred unset).
		b := make([]byte, 12)
		binary.LittleEndian.PutUint32(b[4:], math.MaxUint32)
		binary.LittleEndian.PutUint32(b[8:], math.MaxUint32)
		return b, nil
	case soIncomingCPU:
		return socket.Int(-1), nil
	}
	return s.opts.Get(name)
}

// errnoOf translates a netstack error for SO_ERROR (0 for none).
func errnoOf(err tcpip.Error) sys.Errno {
	if err == nil {
		return 0
	}
	if _, ok := err.(*tcpip.ErrClosedForReceive); ok {
		return 0
	}
	if e, ok := translateError(err).(sys.Errno); ok {
		return e
	}
	return sys.EINVAL
}

func clampInt32(v int64) int32 {
	return int32(min(max(v, math.MinInt32), math.MaxInt32))
}

// setSocketOpt is sk_setsockopt(): options the endpoint implements go to
// it (and to the generic store, which validates them as Linux does);
// the rest are generic.
func (s *sock) setSocketOpt(ctx socket.Context, name int, opt socket.OptVal) error {
	so := s.ep.SocketOptions()
	switch name {
	case sys.SO_REUSEPORT:
		v, err := opt.Int()
		if err != nil {
			return err
		}
		so.SetReusePort(v != 0)
		return nil
	case sys.SO_BINDTODEVICE:
		return s.bindToDevice(ctx, opt)
	case soBindToIfindex:
		v, err := opt.Int()
		if err != nil {
			return err
		}
		return s.bindToIndex(ctx, int(v))
	case soTimestamp, soTimestampNS:
		v, err := opt.Int()
		if err != nil {
			return err
		}
		s.mu.Lock()
		switch {
		case v != 0:
			s.timestamp = name
		case s.timestamp == name:
			s.timestamp = 0
		}
		s.mu.Unlock()
		return nil
	case sys.SO_TYPE, sys.SO_PROTOCOL, sys.SO_DOMAIN, sys.SO_ERROR, sys.SO_ACCEPTCONN, sys.SO_PEERCRED, sys.SO_PEERNAME:
		return sys.ENOPROTOOPT
	}
	if err := s.opts.Set(ctx.Credentials(), name, opt); err != nil {
		return err
	}
	// Mirror what the endpoint enforces.
	v, _ := opt.Int()
	on := v != 0
	switch name {
	case sys.SO_REUSEADDR:
		so.SetReuseAddress(on)
	case sys.SO_KEEPALIVE:
		so.SetKeepAlive(on)
	case sys.SO_BROADCAST:
		so.SetBroadcast(on)
	case sys.SO_NO_CHECK:
		so.SetNoChecksum(on)
	case sys.SO_SNDBUF, sys.SO_SNDBUFFORCE:
		// The generic store applied Linux's clamping and doubling.
		b, _ := s.opts.Get(sys.SO_SNDBUF)
		so.SetSendBufferSize(int64(int32(binary.LittleEndian.Uint32(b))), true)
	case sys.SO_RCVBUF, sys.SO_RCVBUFFORCE:
		b, _ := s.opts.Get(sys.SO_RCVBUF)
		so.SetReceiveBufferSize(int64(int32(binary.LittleEndian.Uint32(b))), true)
	case sys.SO_LINGER:
		b, _ := s.opts.Get(sys.SO_LINGER)
		on := binary.LittleEndian.Uint32(b) != 0
		secs := int32(binary.LittleEndian.Uint32(b[4:]))
		so.SetLinger(tcpip.LingerOption{Enabled: on, Timeout: time.Duration(secs) * time.Second})
	}
	return nil
}

// bindToDevice is SO_BINDTODEVICE (sock_setbindtodevice()): an interface
// name (empty: unbind) of at most IFNAMSIZ-1 bytes; ENODEV if there is
// none of that name.
func (s *sock) bindToDevice(ctx socket.Context, opt socket.OptVal) error {
	n := min(opt.Len, sys.IFNAMSIZ-1)
	b, err := opt.Bytes(n)
	if err != nil {
		return err
	}
	name := string(b)
	for i, c := range b {
		if c == 0 {
			name = string(b[:i])
			break
		}
	}
	idx := 0
	if name != "" {
		if idx = s.st.IndexOf(name); idx == 0 {
			return sys.ENODEV
		}
	}
	return s.bindToIndex(ctx, idx)
}

// bindToIndex binds the socket to interface idx (0: none). Changing an
// existing binding needs CAP_NET_RAW (sock_bindtoindex_locked()).
func (s *sock) bindToIndex(ctx socket.Context, idx int) error {
	so := s.ep.SocketOptions()
	if so.GetBindToDevice() != 0 && !ctx.Credentials().HasCapability(capNetRaw) {
		return sys.EPERM
	}
	if idx < 0 {
		return sys.EINVAL
	}
	name := ""
	if idx != 0 {
		if name = s.st.NameOf(idx); name == "" {
			return sys.ENODEV
		}
	}
	if err := so.SetBindToDevice(int32(idx)); err != nil {
		return translateError(err)
	}
	s.mu.Lock()
	s.boundDev = name
	s.mu.Unlock()
	return nil
}

// tcpStateLinux maps netstack's TCP state to Linux's (tcp_states.h):
// netstack's own states are CLOSE, or SYN_SENT for a connect in progress.
func tcpStateLinux(st tcp.EndpointState) uint8 {
	switch st {
	case tcp.StateInitial, tcp.StateBound, tcp.StateError:
		return 7 // TCP_CLOSE
	case tcp.StateConnecting:
		return 2 // TCP_SYN_SENT
	}
	return uint8(st)
}

// getTCPOpt is do_tcp_getsockopt().
func (s *sock) getTCPOpt(name, n int) ([]byte, error) {
	switch name {
	case sys.TCP_NODELAY:
		return socket.Bool(!s.ep.SocketOptions().GetDelayOption()), nil
	case sys.TCP_CORK:
		return socket.Bool(s.ep.SocketOptions().GetCorkOption()), nil
	case sys.TCP_QUICKACK:
		return socket.Bool(s.ep.SocketOptions().GetQuickAck()), nil
	case sys.TCP_MAXSEG:
		v, err := s.ep.GetSockOptInt(tcpip.MaxSegOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case sys.TCP_KEEPIDLE:
		var v tcpip.KeepaliveIdleOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(time.Duration(v) / time.Second)), nil
	case sys.TCP_KEEPINTVL:
		var v tcpip.KeepaliveIntervalOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(time.Duration(v) / time.Second)), nil
	case sys.TCP_KEEPCNT:
		v, err := s.ep.GetSockOptInt(tcpip.KeepaliveCountOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case sys.TCP_USER_TIMEOUT:
		var v tcpip.TCPUserTimeoutOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(time.Duration(v) / time.Millisecond)), nil
	case sys.TCP_SYNCNT:
		v, err := s.ep.GetSockOptInt(tcpip.TCPSynCountOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case sys.TCP_LINGER2:
		var v tcpip.TCPLingerTimeoutOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		secs := int32(time.Duration(v) / time.Second)
		if v < 0 {
			secs = -1
		}
		return socket.Int(secs), nil
	case sys.TCP_DEFER_ACCEPT:
		var v tcpip.TCPDeferAcceptOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(time.Duration(v) / time.Second)), nil
	case sys.TCP_WINDOW_CLAMP:
		v, err := s.ep.GetSockOptInt(tcpip.TCPWindowClampOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case sys.TCP_CONGESTION:
		var v tcpip.CongestionControlOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		b := make([]byte, 16) // TCP_CA_NAME_MAX
		copy(b, v)
		return b, nil
	case sys.TCP_INFO:
		return s.tcpInfo(), nil
	}
	return nil, sys.ENOPROTOOPT
}

// tcpInfo builds struct tcp_info (tcp_get_info()) from what netstack
// tracks: state, congestion state, RTO, RTT, the congestion window and
// threshold, the MSS.
func (s *sock) tcpInfo() []byte {
	b := make([]byte, tcpInfoLen)
	var info tcpip.TCPInfoOption
	if err := s.ep.GetSockOpt(&info); err != nil {
		b[0] = tcpStateLinux(tcp.EndpointState(s.ep.State()))
		return b
	}
	b[0] = tcpStateLinux(tcp.EndpointState(info.State))
	b[1] = uint8(info.CcState)
	le := binary.LittleEndian
	le.PutUint32(b[8:], uint32(info.RTO/time.Microsecond))
	if mss, err := s.ep.GetSockOptInt(tcpip.MaxSegOption); err == nil {
		le.PutUint32(b[16:], uint32(mss))
		le.PutUint32(b[20:], uint32(mss))
		le.PutUint32(b[84:], uint32(mss))
	}
	le.PutUint32(b[68:], uint32(info.RTT/time.Microsecond))
	le.PutUint32(b[72:], uint32(info.RTTVar/time.Microsecond))
	le.PutUint32(b[76:], info.SndSsthresh)
	le.PutUint32(b[80:], info.SndCwnd)
	le.PutUint32(b[88:], 3) // tcpi_reordering: net.ipv4.tcp_reordering
	if info.ReorderSeen {
		le.PutUint32(b[220:], 1)
	}
	return b
}

// setTCPOpt is do_tcp_setsockopt(): every option takes at least an int
// (EINVAL), then its range.
func (s *sock) setTCPOpt(name int, opt socket.OptVal) error {
	if name == sys.TCP_CONGESTION {
		b, err := opt.Bytes(min(opt.Len, 15))
		if err != nil {
			return err
		}
		for i, c := range b {
			if c == 0 {
				b = b[:i]
				break
			}
		}
		v := tcpip.CongestionControlOption(b)
		if err := s.ep.SetSockOpt(&v); err != nil {
			return sys.ENOENT
		}
		return nil
	}
	v, err := opt.Int()
	if err != nil {
		return err
	}
	so := s.ep.SocketOptions()
	switch name {
	case sys.TCP_NODELAY:
		so.SetDelayOption(v == 0)
	case sys.TCP_CORK:
		so.SetCorkOption(v != 0)
	case sys.TCP_QUICKACK:
		so.SetQuickAck(v != 0)
	case sys.TCP_MAXSEG:
		// tcp_sock_set_maxseg(): 0 (reset) or TCP_MIN_MSS..MAX_TCP_WINDOW.
		if v != 0 && (v < tcpMinMSS || v > tcpMaxWindow) {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.MaxSegOption, int(v)))
	case sys.TCP_KEEPIDLE:
		if v < 1 || v > maxTCPKeepIdle {
			return sys.EINVAL
		}
		o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
		return translateError(s.ep.SetSockOpt(&o))
	case sys.TCP_KEEPINTVL:
		if v < 1 || v > maxTCPKeepIntvl {
			return sys.EINVAL
		}
		o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
		return translateError(s.ep.SetSockOpt(&o))
	case sys.TCP_KEEPCNT:
		if v < 1 || v > maxTCPKeepCnt {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(v)))
	case sys.TCP_USER_TIMEOUT:
		if v < 0 {
			return sys.EINVAL
		}
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		return translateError(s.ep.SetSockOpt(&o))
	case sys.TCP_SYNCNT:
		if v < 1 || v > maxTCPSynCnt {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.TCPSynCountOption, int(v)))
	case sys.TCP_LINGER2:
		// A negative value means "no FIN_WAIT2 timeout" (-1 is
		// reported); larger than the sysctl's maximum is clamped.
		d := time.Duration(v) * time.Second
		if v < 0 {
			d = -1
		}
		o := tcpip.TCPLingerTimeoutOption(d)
		return translateError(s.ep.SetSockOpt(&o))
	case sys.TCP_DEFER_ACCEPT:
		o := tcpip.TCPDeferAcceptOption(time.Duration(max(v, 0)) * time.Second)
		return translateError(s.ep.SetSockOpt(&o))
	case sys.TCP_WINDOW_CLAMP:
		return translateError(s.ep.SetSockOptInt(tcpip.TCPWindowClampOption, int(v)))
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

// IP option numbers (linux/in.h) x/sys/unix spells differently.
const (
	ipRecvErr   = 11
	ipRecvTTL   = 12
	ipRecvTOS   = 13
	ipMTU       = 14
	ipMTUDisc   = 10
	ipMcastIf   = 32
	ipMcastTTL  = 33
	ipMcastLoop = 34
	ipAddMember = 35
	ipDropMembr = 36
	ipHdrIncl   = 3
)

// getIPOpt is do_ip_getsockopt().
func (s *sock) getIPOpt(name, n int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case sys.IP_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
		if err != nil {
			return nil, translateError(err)
		}
		if v == 0 {
			v = defaultTTL
		}
		return ipIntOpt(int32(v), n), nil
	case sys.IP_TOS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TOSOption)
		if err != nil {
			return nil, translateError(err)
		}
		return ipIntOpt(int32(v), n), nil
	case ipRecvTOS:
		return ipIntOpt(b2i(so.GetReceiveTOS()), n), nil
	case ipRecvTTL:
		return ipIntOpt(b2i(so.GetReceiveTTL()), n), nil
	case sys.IP_PKTINFO:
		return ipIntOpt(b2i(so.GetReceivePacketInfo()), n), nil
	case ipRecvErr:
		return ipIntOpt(b2i(so.GetIPv4RecvError()), n), nil
	case ipHdrIncl:
		if s.stype != sys.SOCK_RAW {
			return nil, sys.ENOPROTOOPT
		}
		return ipIntOpt(b2i(so.GetHeaderIncluded()), n), nil
	case ipMTUDisc:
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		if err != nil {
			return nil, translateError(err)
		}
		return ipIntOpt(int32(v), n), nil
	case ipMTU:
		return nil, sys.ENOTCONN
	case ipMcastTTL:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, translateError(err)
		}
		return ipIntOpt(int32(v), n), nil
	case ipMcastLoop:
		return ipIntOpt(b2i(so.GetMulticastLoop()), n), nil
	case ipMcastIf:
		var v tcpip.MulticastInterfaceOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, translateError(err)
		}
		b := make([]byte, 4)
		if v.InterfaceAddr.Len() == 4 {
			copy(b, v.InterfaceAddr.AsSlice())
		}
		return b, nil
	}
	return nil, sys.ENOPROTOOPT
}

// ipIntOpt encodes an IP-level int option: if the app's buffer is
// shorter than an int and the value fits in a byte, Linux returns one
// byte (do_ip_getsockopt()).
func ipIntOpt(v int32, n int) []byte {
	if n < 4 && n > 0 && v >= 0 && v <= 255 {
		return []byte{byte(v)}
	}
	return socket.Int(v)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// ipOptInt reads an IP-level option value: an int, or a single byte where
// Linux accepts one (do_ip_setsockopt(): optlen >= sizeof(int) reads an
// int, optlen >= 1 a byte); nothing is EINVAL.
func ipOptInt(opt socket.OptVal) (int32, error) {
	if opt.Len >= 4 {
		return opt.Int()
	}
	if opt.Len >= 1 {
		b, err := opt.Bytes(1)
		if err != nil {
			return 0, err
		}
		return int32(b[0]), nil
	}
	return 0, sys.EINVAL
}

// setIPOpt is do_ip_setsockopt().
func (s *sock) setIPOpt(ctx socket.Context, name int, opt socket.OptVal) error {
	so := s.ep.SocketOptions()
	switch name {
	case ipAddMember, ipDropMembr:
		return s.ipMembership(name, opt)
	case ipMcastIf:
		return s.ipMulticastIf(opt)
	}
	v, err := ipOptInt(opt)
	if err != nil {
		return err
	}
	on := v != 0
	switch name {
	case sys.IP_TTL:
		if opt.Len < 1 {
			return sys.EINVAL
		}
		if v != -1 && (v < 1 || v > 255) {
			return sys.EINVAL
		}
		if v == -1 {
			v = 0
		}
		return translateError(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, int(v)))
	case sys.IP_TOS:
		if s.isStream() {
			// The ECN bits belong to TCP.
			cur, _ := s.ep.GetSockOptInt(tcpip.IPv4TOSOption)
			v = v&^3 | int32(cur)&3
		}
		return translateError(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, int(v&0xff)))
	case ipRecvTOS:
		so.SetReceiveTOS(on)
	case ipRecvTTL:
		so.SetReceiveTTL(on)
	case sys.IP_PKTINFO:
		so.SetReceivePacketInfo(on)
	case ipRecvErr:
		so.SetIPv4RecvError(on)
	case ipHdrIncl:
		if s.stype != sys.SOCK_RAW {
			return sys.ENOPROTOOPT
		}
		so.SetHeaderIncluded(on)
	case ipMTUDisc:
		if v < 0 || v > 5 {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(v)))
	case ipMcastTTL:
		if s.isStream() {
			return sys.EINVAL
		}
		if v == -1 {
			v = 1
		}
		if v < 0 || v > 255 {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case ipMcastLoop:
		so.SetMulticastLoop(on)
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

// ipMembership is IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP with a
// struct ip_mreq or ip_mreqn (EINVAL if shorter).
func (s *sock) ipMembership(name int, opt socket.OptVal) error {
	if s.isStream() {
		return sys.EPROTO
	}
	if opt.Len < 8 {
		return sys.EINVAL
	}
	n := 8
	if opt.Len >= 12 {
		n = 12
	}
	b, err := opt.Bytes(n)
	if err != nil {
		return err
	}
	m := tcpip.MembershipOption{
		MulticastAddr: tcpip.AddrFrom4Slice(b[0:4]),
		InterfaceAddr: tcpip.AddrFrom4Slice(b[4:8]),
	}
	if n == 12 {
		m.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[8:]))
	}
	if a := m.MulticastAddr.As4(); a[0]&0xf0 != 0xe0 {
		return sys.EINVAL
	}
	if isUnspecified(m.InterfaceAddr) {
		m.InterfaceAddr = tcpip.Address{}
	}
	if name == ipAddMember {
		o := tcpip.AddMembershipOption(m)
		if err := s.ep.SetSockOpt(&o); err != nil {
			if _, ok := err.(*tcpip.ErrUnknownDevice); ok {
				return sys.ENODEV
			}
			return translateError(err)
		}
		return nil
	}
	o := tcpip.RemoveMembershipOption(m)
	if err := s.ep.SetSockOpt(&o); err != nil {
		return sys.EADDRNOTAVAIL
	}
	return nil
}

// ipMulticastIf is IP_MULTICAST_IF: a struct in_addr, ip_mreq or
// ip_mreqn.
func (s *sock) ipMulticastIf(opt socket.OptVal) error {
	if s.isStream() {
		return sys.EINVAL
	}
	var o tcpip.MulticastInterfaceOption
	switch {
	case opt.Len >= 12:
		b, err := opt.Bytes(12)
		if err != nil {
			return err
		}
		o.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[8:]))
		o.InterfaceAddr = tcpip.AddrFrom4Slice(b[4:8])
	case opt.Len >= 4:
		b, err := opt.Bytes(4)
		if err != nil {
			return err
		}
		o.InterfaceAddr = tcpip.AddrFrom4Slice(b)
	default:
		return sys.EINVAL
	}
	if isUnspecified(o.InterfaceAddr) {
		o.InterfaceAddr = tcpip.Address{}
	}
	return translateError(s.ep.SetSockOpt(&o))
}

// IPv6 option numbers (linux/in6.h).
const (
	ipv6UnicastHops  = 16
	ipv6McastIf      = 17
	ipv6McastHops    = 18
	ipv6McastLoop    = 19
	ipv6AddMember    = 20
	ipv6DropMember   = 21
	ipv6V6Only       = 26
	ipv6RecvPktinfo  = 49
	ipv6RecvHopLimit = 51
	ipv6RecvTClass   = 66
	ipv6RecvErr      = 25
)

// getIPv6Opt is do_ipv6_getsockopt().
func (s *sock) getIPv6Opt(name, n int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case ipv6V6Only:
		return socket.Bool(so.GetV6Only()), nil
	case ipv6UnicastHops:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if err != nil {
			return nil, translateError(err)
		}
		if v < 0 {
			v = defaultTTL
		}
		return socket.Int(int32(v)), nil
	case ipv6TClass:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6TrafficClassOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case ipv6RecvTClass:
		return socket.Bool(so.GetReceiveTClass()), nil
	case ipv6RecvPktinfo:
		return socket.Bool(so.GetIPv6ReceivePacketInfo()), nil
	case ipv6RecvHopLimit:
		return socket.Bool(so.GetReceiveHopLimit()), nil
	case ipv6RecvErr:
		return socket.Bool(so.GetIPv6RecvError()), nil
	case ipv6McastHops:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, translateError(err)
		}
		return socket.Int(int32(v)), nil
	case ipv6McastLoop:
		return socket.Bool(so.GetMulticastLoop()), nil
	}
	return nil, sys.ENOPROTOOPT
}

// setIPv6Opt is do_ipv6_setsockopt(): int options need a full int
// (EINVAL).
func (s *sock) setIPv6Opt(name int, opt socket.OptVal) error {
	so := s.ep.SocketOptions()
	switch name {
	case ipv6AddMember, ipv6DropMember:
		return s.ipv6Membership(name, opt)
	}
	v, err := opt.Int()
	if err != nil {
		return err
	}
	on := v != 0
	switch name {
	case ipv6V6Only:
		if s.isBound() {
			return sys.EINVAL
		}
		so.SetV6Only(on)
	case ipv6UnicastHops:
		if v < -1 || v > 255 {
			return sys.EINVAL
		}
		return translateError(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, int(v)))
	case ipv6TClass:
		if v < -1 || v > 255 {
			return sys.EINVAL
		}
		if v == -1 {
			v = 0
		}
		return translateError(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, int(v)))
	case ipv6RecvTClass:
		so.SetReceiveTClass(on)
	case ipv6RecvPktinfo:
		so.SetIPv6ReceivePacketInfo(on)
	case ipv6RecvHopLimit:
		so.SetReceiveHopLimit(on)
	case ipv6RecvErr:
		so.SetIPv6RecvError(on)
	case ipv6McastHops:
		if s.isStream() {
			return sys.ENOPROTOOPT
		}
		if v < -1 || v > 255 {
			return sys.EINVAL
		}
		if v == -1 {
			v = 1
		}
		return translateError(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case ipv6McastLoop:
		if v != 0 && v != 1 {
			return sys.EINVAL
		}
		so.SetMulticastLoop(on)
	default:
		return sys.ENOPROTOOPT
	}
	return nil
}

// isBound reports whether the socket has a local port (inet_num).
func (s *sock) isBound() bool {
	a, err := s.ep.GetLocalAddress()
	return err == nil && (a.Port != 0 || a.Addr.Len() != 0 && !isUnspecified(a.Addr))
}

// ipv6Membership is IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP with a
// struct ipv6_mreq.
func (s *sock) ipv6Membership(name int, opt socket.OptVal) error {
	if s.isStream() {
		return sys.EPROTO
	}
	if opt.Len < 20 {
		return sys.EINVAL
	}
	b, err := opt.Bytes(20)
	if err != nil {
		return err
	}
	m := tcpip.MembershipOption{
		MulticastAddr: tcpip.AddrFrom16Slice(b[:16]),
		NIC:           tcpip.NICID(binary.LittleEndian.Uint32(b[16:])),
	}
	if b[0] != 0xff {
		return sys.EINVAL
	}
	if name == ipv6AddMember {
		o := tcpip.AddMembershipOption(m)
		return translateError(s.ep.SetSockOpt(&o))
	}
	o := tcpip.RemoveMembershipOption(m)
	if err := s.ep.SetSockOpt(&o); err != nil {
		return sys.EADDRNOTAVAIL
	}
	return nil
}
