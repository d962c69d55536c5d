package netlink

import (
	"net/netip"

	sys "golang.org/x/sys/unix"

	"pangolin/sentry/socket"
	"pangolin/sentry/socket/netstack"
)

// Netlink message layout (linux/netlink.h, linux/rtnetlink.h).
const (
	nlmsgHdrLen = 16
	nlmsgNoop   = 1
	nlmsgError  = 2
	nlmsgDone   = 3
	nlmsgMin    = 0x10

	nlmFRequest = 0x1
	nlmFMulti   = 0x2
	nlmFAck     = 0x4
	nlmFDump    = 0x300
	nlmFReplace = 0x100
	nlmFExcl    = 0x200
	nlmFCreate  = 0x400
	nlmFCapped  = 0x100

	rtmNewLink  = 16
	rtmDelLink  = 17
	rtmGetLink  = 18
	rtmSetLink  = 19
	rtmNewAddr  = 20
	rtmDelAddr  = 21
	rtmGetAddr  = 22
	rtmNewRoute = 24
	rtmDelRoute = 25
	rtmGetRoute = 26
	rtmMax      = 127
)

// Multicast groups (RTNLGRP_*).
const (
	rtnlgrpLink       = 1
	rtnlgrpIPv4IfAddr = 5
	rtnlgrpIPv4Route  = 7
	rtnlgrpIPv6IfAddr = 9
	rtnlgrpIPv6Route  = 11
)

// Attribute types.
const (
	iflaAddress      = 1
	iflaBroadcast    = 2
	iflaIfname       = 3
	iflaMTU          = 4
	iflaQdisc        = 6
	iflaStats        = 7
	iflaTxqlen       = 13
	iflaOperstate    = 16
	iflaLinkmode     = 17
	iflaLinkinfo     = 18
	iflaStats64      = 23
	iflaGroup        = 27
	iflaPromiscuity  = 30
	iflaNumTxQueues  = 31
	iflaNumRxQueues  = 32
	iflaCarrier      = 33
	iflaInfoKind     = 1
	ifaAddress       = 1
	ifaLocal         = 2
	ifaLabel         = 3
	ifaBroadcast     = 4
	ifaCacheinfo     = 6
	ifaFlags         = 8
	rtaDst           = 1
	rtaOif           = 4
	rtaGateway       = 5
	rtaPriority      = 6
	rtaPrefsrc       = 7
	rtaTable         = 15
	rtaPref          = 20
	ifaFPermanent    = 0x80
	ifOperUnknown    = 0
	ifOperDown       = 2
	ifOperUp         = 6
	rtScopeUniverse  = 0
	rtScopeHost      = 254
	rtScopeLink      = 253
	rtTableMain      = 254
	rtTableUnspec    = 0
	rtnUnicast       = 1
	rtProtBoot       = 3
	rtmFCloned       = 0x200
	infinityLifeTime = 0xffffffff
)

// msgBuilder builds one netlink message.
type msgBuilder struct{ b []byte }

func newMsg(typ, flags uint16, seq, port uint32, fixed []byte) *msgBuilder {
	m := &msgBuilder{b: make([]byte, nlmsgHdrLen, 256)}
	le.PutUint16(m.b[4:], typ)
	le.PutUint16(m.b[6:], flags)
	le.PutUint32(m.b[8:], seq)
	le.PutUint32(m.b[12:], port)
	m.b = append(m.b, fixed...)
	m.pad()
	return m
}

func (m *msgBuilder) pad() {
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

// attr appends an attribute (struct rtattr and its payload, padded).
func (m *msgBuilder) attr(typ uint16, v []byte) {
	h := make([]byte, 4)
	le.PutUint16(h, uint16(4+len(v)))
	le.PutUint16(h[2:], typ)
	m.b = append(m.b, h...)
	m.b = append(m.b, v...)
	m.pad()
}

func (m *msgBuilder) u32(typ uint16, v uint32) {
	b := make([]byte, 4)
	le.PutUint32(b, v)
	m.attr(typ, b)
}

func (m *msgBuilder) u8(typ uint16, v uint8) { m.attr(typ, []byte{v}) }

func (m *msgBuilder) str(typ uint16, s string) { m.attr(typ, append([]byte(s), 0)) }

// done returns the message with its length set.
func (m *msgBuilder) done() []byte {
	le.PutUint32(m.b, uint32(len(m.b)))
	return m.b
}

// header is a request's nlmsghdr.
type header struct {
	len         uint32
	typ, flags  uint16
	seq, portID uint32
}

// request is one request being answered.
type request struct {
	ctx  socket.Context
	s    *sock
	h    header
	msg  []byte // the whole message
	port uint32 // the requester's port ID
}

// payload returns the message's payload.
func (r *request) payload() []byte { return r.msg[nlmsgHdrLen:] }

// attrs parses the attributes after a fixed header of n bytes.
func (r *request) attrs(n int) map[uint16][]byte {
	out := make(map[uint16][]byte)
	p := r.payload()
	if len(p) < n {
		return out
	}
	if align(n) > len(p) {
		return out
	}
	p = p[align(n):]
	for len(p) >= 4 {
		l := int(le.Uint16(p))
		t := le.Uint16(p[2:]) & 0x3fff // without NLA_F_NESTED/NET_BYTEORDER
		if l < 4 || l > len(p) {
			break
		}
		out[t] = p[4:l]
		p = p[min(align(l), len(p)):]
	}
	return out
}

func align(n int) int { return (n + 3) &^ 3 }

// handleRequests answers the netlink messages in buf (netlink_rcv_skb()):
// each request's replies, then an acknowledgement if it asked for one or
// failed. It stops at a malformed header.
func handleRequests(ctx socket.Context, s *sock, port int32, buf []byte) [][]byte {
	var out [][]byte
	for off := 0; len(buf)-off >= nlmsgHdrLen; {
		h := header{
			len:    le.Uint32(buf[off:]),
			typ:    le.Uint16(buf[off+4:]),
			flags:  le.Uint16(buf[off+6:]),
			seq:    le.Uint32(buf[off+8:]),
			portID: le.Uint32(buf[off+12:]),
		}
		if h.len < nlmsgHdrLen || int(h.len) > len(buf)-off {
			break
		}
		r := &request{ctx: ctx, s: s, h: h, msg: buf[off : off+int(h.len)], port: uint32(port)}
		var err error
		dump := false
		if h.flags&nlmFRequest != 0 && h.typ >= nlmsgMin {
			var replies [][]byte
			replies, dump, err = r.dispatch()
			out = append(out, replies...)
		}
		if !dump && (err != nil || h.flags&nlmFAck != 0) {
			out = append(out, r.ack(err))
		}
		off += align(int(h.len))
	}
	return out
}

// ack builds the NLMSG_ERROR reply (netlink_ack()): the errno, then the
// request's header, and its payload too for a failure unless
// NETLINK_CAP_ACK.
func (r *request) ack(err error) []byte {
	code := int32(0)
	if e, ok := err.(sys.Errno); ok {
		code = -int32(e)
	} else if err != nil {
		code = -int32(sys.EINVAL)
	}
	r.s.mu.Lock()
	capAck := r.s.capAck
	r.s.mu.Unlock()
	echo := r.msg[:nlmsgHdrLen]
	var flags uint16
	if code != 0 && !capAck {
		echo = r.msg
	} else {
		flags = nlmFCapped
	}
	p := make([]byte, 4, 4+len(echo))
	le.PutUint32(p, uint32(code))
	p = append(p, echo...)
	return newMsg(nlmsgError, flags, r.h.seq, r.port, p).done()
}

// dispatch is rtnetlink_rcv_msg(): GET with NLM_F_DUMP dumps, other
// kinds need CAP_NET_ADMIN; a message without even a family byte is
// accepted and ignored.
func (r *request) dispatch() ([][]byte, bool, error) {
	if r.h.typ > rtmMax {
		return nil, false, sys.EOPNOTSUPP
	}
	if len(r.payload()) < 1 {
		return nil, false, nil
	}
	kind := (r.h.typ - nlmsgMin) & 3
	isDump := kind == 2 && r.h.flags&nlmFDump == nlmFDump
	if kind != 2 && !r.ctx.Credentials().HasCapability(socket.CapNetAdmin) {
		return nil, false, sys.EPERM
	}
	st := r.s.st
	switch r.h.typ {
	case rtmGetLink:
		if isDump {
			return r.dumpDatagrams(r.linkMsgs(st)), true, nil
		}
		m, err := r.getLink(st)
		return m, false, err
	case rtmGetAddr:
		if isDump {
			return r.dumpDatagrams(r.addrMsgs(st, nlmFMulti)), true, nil
		}
		return nil, false, sys.EOPNOTSUPP
	case rtmGetRoute:
		if isDump {
			return r.dumpDatagrams(r.routeMsgs(st)), true, nil
		}
		m, err := r.getRoute(st)
		return m, false, err
	case rtmNewAddr, rtmDelAddr:
		return nil, false, r.changeAddr(st)
	case rtmNewRoute, rtmDelRoute:
		return nil, false, r.changeRoute(st)
	case rtmNewLink, rtmSetLink:
		return nil, false, r.setLink(st)
	}
	return nil, false, sys.EOPNOTSUPP
}

// dumpDatagrams packs a dump's messages into datagrams no bigger than
// the reader's largest buffer so far (at least NLMSG_GOODSIZE), and ends
// the dump with NLMSG_DONE (netlink_dump()).
func (r *request) dumpDatagrams(msgs [][]byte) [][]byte {
	r.s.mu.Lock()
	limit := max(r.s.maxRecv, nlmsgGoodSize)
	r.s.mu.Unlock()
	done := newMsg(nlmsgDone, nlmFMulti, r.h.seq, r.port, socket.Int(0)).done()
	msgs = append(msgs, done)
	var out [][]byte
	var cur []byte
	for _, m := range msgs {
		if len(cur) > 0 && len(cur)+len(m) > limit {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, m...)
	}
	return append(out, cur)
}

// family returns the address family a request's first byte names
// (rtgenmsg, ifaddrmsg and rtmsg all start with it).
func (r *request) family() int {
	if p := r.payload(); len(p) > 0 {
		return int(p[0])
	}
	return sys.AF_UNSPEC
}

// wantFamily reports whether a dump for family f includes addresses of
// family af: AF_UNSPEC (or any family without its own handler, as
// AF_PACKET from glibc) means all.
func wantFamily(f int, a netip.Addr) bool {
	switch f {
	case sys.AF_INET:
		return a.Is4()
	case sys.AF_INET6:
		return a.Is6()
	}
	return true
}

// linkMsg builds an RTM_NEWLINK message for an interface
// (rtnl_fill_ifinfo()).
func (r *request) linkMsg(st *netstack.Stack, i netstack.IfaceInfo, typ, flags uint16, seq, port uint32) []byte {
	fixed := make([]byte, 16)
	le.PutUint16(fixed[2:], i.Type)
	le.PutUint32(fixed[4:], uint32(i.Index))
	le.PutUint32(fixed[8:], i.Flags)
	m := newMsg(typ, flags, seq, port, fixed)
	m.str(iflaIfname, i.Name)
	m.u32(iflaTxqlen, 1000)
	oper := uint8(ifOperUp)
	switch {
	case i.Flags&0x1 == 0:
		oper = ifOperDown
	case i.Loopback():
		oper = ifOperUnknown
	}
	m.u8(iflaOperstate, oper)
	m.u8(iflaLinkmode, 0)
	m.u32(iflaMTU, i.MTU)
	m.u32(iflaGroup, 0)
	m.u32(iflaPromiscuity, 0)
	m.u32(iflaNumTxQueues, 1)
	m.u32(iflaNumRxQueues, 1)
	carrier := uint8(0)
	if i.Flags&0x1 != 0 {
		carrier = 1
	}
	m.u8(iflaCarrier, carrier)
	m.str(iflaQdisc, "noqueue")
	m.attr(iflaAddress, i.MAC)
	bcast := make([]byte, 6)
	if !i.Loopback() {
		for k := range bcast {
			bcast[k] = 0xff
		}
	}
	m.attr(iflaBroadcast, bcast)
	rx, tx := i.Stats.Rx, i.Stats.Tx
	st64 := make([]byte, 25*8)
	le.PutUint64(st64[0:], rx.Packets.Value())
	le.PutUint64(st64[8:], tx.Packets.Value())
	le.PutUint64(st64[16:], rx.Bytes.Value())
	le.PutUint64(st64[24:], tx.Bytes.Value())
	m.attr(iflaStats64, st64)
	st32 := make([]byte, 24*4)
	for k := 0; k < 4; k++ {
		le.PutUint32(st32[k*4:], uint32(le.Uint64(st64[k*8:])))
	}
	m.attr(iflaStats, st32)
	if i.Kind != "" {
		info := &msgBuilder{}
		info.str(iflaInfoKind, i.Kind)
		m.attr(iflaLinkinfo|0x8000, info.b)
	}
	return m.done()
}

// linkMsgs are an RTM_GETLINK dump's messages.
func (r *request) linkMsgs(st *netstack.Stack) [][]byte {
	var out [][]byte
	for _, i := range st.Interfaces() {
		out = append(out, r.linkMsg(st, i, rtmNewLink, nlmFMulti, r.h.seq, r.port))
	}
	return out
}

// findLink returns the interface a link request names: ifi_index, else
// IFLA_IFNAME (EINVAL with neither, ENODEV if there is no such one).
func (r *request) findLink(st *netstack.Stack) (netstack.IfaceInfo, error) {
	p := r.payload()
	if len(p) < 16 {
		return netstack.IfaceInfo{}, sys.EINVAL
	}
	idx := int(int32(le.Uint32(p[4:])))
	if idx == 0 {
		name, ok := r.attrs(16)[iflaIfname]
		if !ok {
			return netstack.IfaceInfo{}, sys.EINVAL
		}
		n := string(name)
		for k := range n {
			if n[k] == 0 {
				n = n[:k]
				break
			}
		}
		if idx = st.IndexOf(n); idx == 0 {
			return netstack.IfaceInfo{}, sys.ENODEV
		}
	}
	i, ok := st.Interface(idx)
	if !ok {
		return netstack.IfaceInfo{}, sys.ENODEV
	}
	return i, nil
}

// getLink answers an RTM_GETLINK for one interface (rtnl_getlink()).
func (r *request) getLink(st *netstack.Stack) ([][]byte, error) {
	i, err := r.findLink(st)
	if err != nil {
		return nil, err
	}
	return [][]byte{r.linkMsg(st, i, rtmNewLink, 0, r.h.seq, r.port)}, nil
}

// setLink is RTM_NEWLINK/RTM_SETLINK on an existing interface: IFF_UP
// (as ifi_change allows) and IFLA_MTU. Creating interfaces, and other
// attributes, are not supported (EOPNOTSUPP).
func (r *request) setLink(st *netstack.Stack) error {
	i, err := r.findLink(st)
	if err != nil {
		if err == sys.ENODEV && r.h.flags&nlmFCreate != 0 {
			return sys.EOPNOTSUPP
		}
		return err
	}
	p := r.payload()
	flags, change := le.Uint32(p[8:]), le.Uint32(p[12:])
	attrs := r.attrs(16)
	for t := range attrs {
		if t != iflaIfname && t != iflaMTU {
			return sys.EOPNOTSUPP
		}
	}
	if mtu, ok := attrs[iflaMTU]; ok {
		if len(mtu) < 4 {
			return sys.EINVAL
		}
		if err := st.SetMTU(i.Index, le.Uint32(mtu)); err != nil {
			return err
		}
	}
	if change == 0 {
		change = 0xffffffff
	}
	if change&0x1 != 0 {
		if err := st.SetUp(i.Index, flags&0x1 != 0); err != nil {
			return err
		}
	}
	if ni, ok := st.Interface(i.Index); ok {
		r.s.ns.multicast(rtnlgrpLink, r.linkMsg(st, ni, rtmNewLink, 0, 0, 0))
	}
	return nil
}

// addrMsg builds an RTM_NEWADDR message (inet_fill_ifaddr(),
// inet6_fill_ifaddr()).
func addrMsg(i netstack.IfaceInfo, p netip.Prefix, typ, flags uint16, seq, port uint32) []byte {
	a := p.Addr()
	fixed := make([]byte, 8)
	scope := uint8(rtScopeUniverse)
	switch {
	case a.IsLoopback():
		scope = rtScopeHost
	case a.IsLinkLocalUnicast():
		scope = rtScopeLink
	}
	fixed[0] = sys.AF_INET
	if a.Is6() {
		fixed[0] = sys.AF_INET6
	}
	fixed[1] = uint8(p.Bits())
	fixed[2] = ifaFPermanent
	fixed[3] = scope
	le.PutUint32(fixed[4:], uint32(i.Index))
	m := newMsg(typ, flags, seq, port, fixed)
	ci := make([]byte, 16)
	le.PutUint32(ci, infinityLifeTime)
	le.PutUint32(ci[4:], infinityLifeTime)
	if a.Is4() {
		b := a.As4()
		m.attr(ifaAddress, b[:])
		m.attr(ifaLocal, b[:])
		if !i.Loopback() && p.Bits() < 31 {
			bc := broadcast(p)
			m.attr(ifaBroadcast, bc[:])
		}
		m.str(ifaLabel, i.Name)
		m.u32(ifaFlags, ifaFPermanent)
		m.attr(ifaCacheinfo, ci)
	} else {
		b := a.As16()
		m.attr(ifaAddress, b[:])
		m.attr(ifaCacheinfo, ci)
		m.u32(ifaFlags, ifaFPermanent)
	}
	return m.done()
}

// broadcast returns an IPv4 prefix's broadcast address.
func broadcast(p netip.Prefix) [4]byte {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= ^uint32(0) >> p.Bits()
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// addrMsgs are an RTM_GETADDR dump's messages: IPv4 addresses of every
// interface, then IPv6 ones, as rtnl_dump_all() walks the families.
func (r *request) addrMsgs(st *netstack.Stack, flags uint16) [][]byte {
	f := r.family()
	var v4, v6 [][]byte
	for _, i := range st.Interfaces() {
		for _, p := range i.Addrs {
			if !wantFamily(f, p.Addr()) {
				continue
			}
			m := addrMsg(i, p, rtmNewAddr, flags, r.h.seq, r.port)
			if p.Addr().Is4() {
				v4 = append(v4, m)
			} else {
				v6 = append(v6, m)
			}
		}
	}
	return append(v4, v6...)
}

// addrOf reads an address attribute of the request's family.
func addrOf(family int, b []byte) (netip.Addr, bool) {
	switch {
	case family == sys.AF_INET && len(b) == 4:
		return netip.AddrFrom4([4]byte(b)), true
	case family == sys.AF_INET6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), true
	}
	return netip.Addr{}, false
}

// changeAddr is RTM_NEWADDR and RTM_DELADDR (inet_rtm_newaddr(),
// inet6_rtm_newaddr() and the DEL counterparts).
func (r *request) changeAddr(st *netstack.Stack) error {
	p := r.payload()
	if len(p) < 8 {
		return sys.EINVAL
	}
	family, plen, idx := int(p[0]), int(p[1]), int(le.Uint32(p[4:]))
	if family != sys.AF_INET && family != sys.AF_INET6 {
		return sys.EAFNOSUPPORT
	}
	attrs := r.attrs(8)
	raw, ok := attrs[ifaLocal]
	if !ok {
		raw, ok = attrs[ifaAddress]
	}
	if !ok {
		return sys.EINVAL
	}
	a, ok := addrOf(family, raw)
	if !ok {
		return sys.EINVAL
	}
	if plen > a.BitLen() {
		return sys.EINVAL
	}
	i, found := st.Interface(idx)
	if !found {
		return sys.ENODEV
	}
	pfx := netip.PrefixFrom(a, plen)
	group := rtnlgrpIPv4IfAddr
	if a.Is6() {
		group = rtnlgrpIPv6IfAddr
	}
	if r.h.typ == rtmDelAddr {
		if err := st.DelAddress(idx, a); err != nil {
			return err
		}
		r.s.ns.multicast(group, addrMsg(i, pfx, rtmDelAddr, 0, 0, 0))
		return nil
	}
	for _, q := range i.Addrs {
		if q.Addr() == a {
			if r.h.flags&nlmFExcl != 0 || r.h.flags&nlmFReplace == 0 {
				return sys.EEXIST
			}
			return nil
		}
	}
	if err := st.AddAddress(idx, pfx); err != nil {
		return err
	}
	r.s.ns.multicast(group, addrMsg(i, pfx, rtmNewAddr, 0, 0, 0))
	return nil
}

// routeMsg builds an RTM_NEWROUTE message (fib_dump_info(),
// rt6_fill_node()).
func routeMsg(st *netstack.Stack, rt netstack.Route, typ, flags uint16, seq, port uint32) []byte {
	fixed := make([]byte, 12)
	fixed[0] = sys.AF_INET
	if rt.Dst.Addr().Is6() {
		fixed[0] = sys.AF_INET6
	}
	fixed[1] = uint8(rt.Dst.Bits())
	fixed[4] = rt.Table
	fixed[5] = rt.Proto
	fixed[6] = rt.Scope
	fixed[7] = rt.Type
	m := newMsg(typ, flags, seq, port, fixed)
	m.u32(rtaTable, uint32(rt.Table))
	if rt.Dst.Bits() > 0 {
		m.attr(rtaDst, rt.Dst.Addr().AsSlice())
	}
	if rt.Metric != 0 || rt.Dst.Addr().Is6() {
		m.u32(rtaPriority, rt.Metric)
	}
	if rt.Dst.Addr().Is6() {
		m.u8(rtaPref, 0)
	}
	if rt.Src.IsValid() {
		m.attr(rtaPrefsrc, rt.Src.AsSlice())
	}
	if rt.Gateway.IsValid() {
		m.attr(rtaGateway, rt.Gateway.AsSlice())
	}
	m.u32(rtaOif, uint32(rt.Interface))
	return m.done()
}

// routeMsgs are an RTM_GETROUTE dump's messages: IPv4 routes, then IPv6,
// of every table (ip(8) filters the table it shows).
func (r *request) routeMsgs(st *netstack.Stack) [][]byte {
	f := r.family()
	var v4, v6 [][]byte
	for _, rt := range st.Routes() {
		if !wantFamily(f, rt.Dst.Addr()) {
			continue
		}
		m := routeMsg(st, rt, rtmNewRoute, nlmFMulti, r.h.seq, r.port)
		if rt.Dst.Addr().Is4() {
			v4 = append(v4, m)
		} else {
			v6 = append(v6, m)
		}
	}
	return append(v4, v6...)
}

// getRoute answers a route lookup (RTM_GETROUTE without NLM_F_DUMP,
// inet_rtm_getroute()): the route RTA_DST would take, cloned for that
// destination; ENETUNREACH if none.
func (r *request) getRoute(st *netstack.Stack) ([][]byte, error) {
	p := r.payload()
	if len(p) < 12 {
		return nil, sys.EINVAL
	}
	family := int(p[0])
	raw, ok := r.attrs(12)[rtaDst]
	if !ok {
		if family == sys.AF_INET6 {
			raw = make([]byte, 16)
		} else {
			raw = make([]byte, 4)
		}
	}
	dst, ok := addrOf(family, raw)
	if !ok {
		return nil, sys.EINVAL
	}
	best := -1
	routes := st.Routes()
	for k, rt := range routes {
		if !rt.Dst.Contains(dst) {
			continue
		}
		if best < 0 || rt.Dst.Bits() > routes[best].Dst.Bits() || (rt.Dst.Bits() == routes[best].Dst.Bits() && rt.Table == 255) {
			best = k
		}
	}
	if best < 0 {
		return nil, sys.ENETUNREACH
	}
	rt := routes[best]
	rt.Dst = netip.PrefixFrom(dst, dst.BitLen())
	if !rt.Src.IsValid() {
		if i, ok := st.Interface(rt.Interface); ok {
			for _, q := range i.Addrs {
				if q.Addr().Is4() == dst.Is4() {
					rt.Src = q.Addr()
					break
				}
			}
		}
	}
	fixed := routeMsg(st, rt, rtmNewRoute, 0, r.h.seq, r.port)
	// RTM_F_CLONED: a lookup result, not a table entry.
	le.PutUint32(fixed[nlmsgHdrLen+8:], rtmFCloned)
	return [][]byte{fixed}, nil
}

// changeRoute is RTM_NEWROUTE and RTM_DELROUTE (inet_rtm_newroute(),
// inet6_rtm_newroute() and the DEL counterparts).
func (r *request) changeRoute(st *netstack.Stack) error {
	p := r.payload()
	if len(p) < 12 {
		return sys.EINVAL
	}
	family := int(p[0])
	if family != sys.AF_INET && family != sys.AF_INET6 {
		return sys.EAFNOSUPPORT
	}
	attrs := r.attrs(12)
	dst := netip.IPv4Unspecified()
	if family == sys.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	if raw, ok := attrs[rtaDst]; ok {
		a, ok := addrOf(family, raw)
		if !ok {
			return sys.EINVAL
		}
		dst = a
	}
	if int(p[1]) > dst.BitLen() {
		return sys.EINVAL
	}
	rt := netstack.Route{Dst: netip.PrefixFrom(dst, int(p[1])).Masked(), Table: p[4], Proto: p[5], Scope: p[6], Type: p[7]}
	if t, ok := attrs[rtaTable]; ok && len(t) == 4 {
		rt.Table = uint8(le.Uint32(t))
	}
	if rt.Table == rtTableUnspec {
		rt.Table = rtTableMain
	}
	if raw, ok := attrs[rtaGateway]; ok {
		if rt.Gateway, ok = addrOf(family, raw); !ok {
			return sys.EINVAL
		}
	}
	if raw, ok := attrs[rtaPrefsrc]; ok {
		if rt.Src, ok = addrOf(family, raw); !ok {
			return sys.EINVAL
		}
	}
	if m, ok := attrs[rtaPriority]; ok && len(m) == 4 {
		rt.Metric = le.Uint32(m)
	} else if family == sys.AF_INET6 {
		rt.Metric = 1024 // IP6_RT_PRIO_USER
	}
	if o, ok := attrs[rtaOif]; ok && len(o) == 4 {
		rt.Interface = int(le.Uint32(o))
	}
	group := rtnlgrpIPv4Route
	if family == sys.AF_INET6 {
		group = rtnlgrpIPv6Route
	}
	if r.h.typ == rtmDelRoute {
		var gone netstack.Route
		err := st.DelRoute(func(o netstack.Route) bool {
			m := o.Dst == rt.Dst && o.Table == rt.Table &&
				(rt.Interface == 0 || o.Interface == rt.Interface) &&
				(!rt.Gateway.IsValid() || o.Gateway == rt.Gateway)
			if m {
				gone = o
			}
			return m
		})
		if err == nil {
			r.s.ns.multicast(group, routeMsg(st, gone, rtmDelRoute, 0, 0, 0))
		}
		return err
	}
	if rt.Interface == 0 {
		// The gateway's own network says which interface.
		if !rt.Gateway.IsValid() {
			return sys.ENODEV
		}
		for _, o := range st.Routes() {
			if o.Table == rtTableMain && !o.Gateway.IsValid() && o.Dst.Contains(rt.Gateway) {
				rt.Interface = o.Interface
				break
			}
		}
		if rt.Interface == 0 {
			return sys.ENETUNREACH
		}
	}
	if rt.Type == 0 {
		rt.Type = rtnUnicast
	}
	if err := st.AddRoute(rt); err != nil {
		return err
	}
	r.s.ns.multicast(group, routeMsg(st, rt, rtmNewRoute, 0, 0, 0))
	return nil
}
