package netstack

import (
	"fmt"
	"net/netip"
	"sync"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"pangolin/sentry/kernel"
	"pangolin/sentry/socket"
)

// Stack is one network namespace's netstack: the tcpip.Stack and what
// Linux knows about its interfaces that netstack does not keep.
type Stack struct {
	// S is the stack. Immutable; it has its own locking.
	S *stack.Stack

	mu sync.Mutex
	// ifaces holds per-interface attributes by NIC ID. Protected by mu.
	ifaces map[tcpip.NICID]*ifaceAttrs
	// routes are the routes as Linux reports them (RTM_GETROUTE,
	// /proc/net/route), in the order they were added; netstack's own
	// table is derived from them. Protected by mu.
	routes []Route
	// socks are the open sockets, for /proc/net. Protected by mu.
	socks map[*sock]struct{}
}

// register and unregister track open sockets.
func (st *Stack) register(s *sock) {
	st.mu.Lock()
	st.socks[s] = struct{}{}
	st.mu.Unlock()
}

func (st *Stack) unregister(s *sock) {
	st.mu.Lock()
	delete(st.socks, s)
	st.mu.Unlock()
}

// sockets returns the open sockets.
func (st *Stack) sockets() []*sock {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]*sock, 0, len(st.socks))
	for s := range st.socks {
		out = append(out, s)
	}
	return out
}

// ifaceAttrs are an interface's attributes beyond netstack's NICInfo.
type ifaceAttrs struct {
	// kind is the rtnetlink link kind ("veth", "" for loopback).
	kind string
	// up is IFF_UP as the app set it (SIOCSIFFLAGS, RTM_NEWLINK).
	up bool
	// addrs are the interface's addresses in the order they were
	// added (netstack keeps them unordered).
	addrs []netip.Prefix
}

// LoopbackID is the NIC ID of lo: interface index 1, as in Linux.
const LoopbackID = 1

// Interface is a network interface the sandbox gets from its host network
// namespace (--network=sandbox): an AF_PACKET socket bound to the host
// interface, and the interface's identity and addresses, which the host
// interface gives up.
type Interface struct {
	// Name, MAC and MTU are the host interface's.
	Name string `json:"name"`
	MAC  string `json:"mac"`
	MTU  uint32 `json:"mtu"`
	// Index is the interface index inside the sandbox (>= 2).
	Index int `json:"index"`
	// FD is the packet socket, a descriptor of the sentry.
	FD int `json:"fd"`
	// Addresses are the interface's addresses with prefix lengths.
	Addresses []netip.Prefix `json:"addresses"`
	// Kind is the link kind (veth, ...), for RTM_GETLINK.
	Kind string `json:"kind,omitempty"`
}

// Route is a route of the sandbox's routing table.
type Route struct {
	// Dst is the destination (0.0.0.0/0 or ::/0 for a default route).
	Dst netip.Prefix `json:"dst"`
	// Gateway is the next hop, the zero Addr for a directly attached
	// network.
	Gateway netip.Addr `json:"gateway,omitzero"`
	// Interface is the outgoing interface's index.
	Interface int `json:"interface"`
	// Src is the preferred source address (RTA_PREFSRC), or zero.
	Src netip.Addr `json:"src,omitzero"`
	// Scope is the route's scope (RT_SCOPE_*); Proto its origin
	// (RTPROT_*); Table its table (RT_TABLE_MAIN or RT_TABLE_LOCAL).
	Scope uint8 `json:"scope"`
	Proto uint8 `json:"proto"`
	Table uint8 `json:"table"`
	// Type is the route type (RTN_UNICAST, RTN_LOCAL, ...).
	Type uint8 `json:"type"`
	// Metric is the route's priority (RTA_PRIORITY).
	Metric uint32 `json:"metric,omitempty"`
}

// Config is how a sandbox's network namespace is set up at boot.
type Config struct {
	// Interfaces are the interfaces besides loopback.
	Interfaces []Interface `json:"interfaces,omitempty"`
	// Routes are the routes besides loopback's and the interfaces'
	// own networks (which are derived from their addresses).
	Routes []Route `json:"routes,omitempty"`
}

// Linux's TTL and hop limit default (net.ipv4.ip_default_ttl).
const defaultTTL = 64

// Routing table numbers and scopes (rtnetlink.h).
const (
	rtTableMain   = 254
	rtTableLocal  = 255
	rtScopeUniv   = 0
	rtScopeLink   = 253
	rtScopeHost   = 254
	rtProtKernel  = 2
	rtProtBoot    = 3
	rtProtStatic  = 4
	rtnUnicast    = 1
	rtnLocal      = 2
	rtnBroadcast  = 3
	rtnMulticast  = 5
	rtnUnreachabl = 7
)

// newStack builds a stack with Linux's defaults and the loopback
// interface (lo, index 1, 127.0.0.1/8 and ::1/128), which a sandbox
// always has and which is always up (as in a container).
func newStack() *Stack {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
		// Raw sockets for those with CAP_NET_RAW (checked at socket()).
		RawFactory: raw.EndpointFactory{},
	})
	// Linux's TCP defaults: SACK, receive buffer auto-tuning, and
	// net.ipv4.tcp_{r,w}mem (min, default, max).
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &mod)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: tcpRmemMin, Default: tcpRmemDefault, Max: tcpRmemMax}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: tcpWmemMin, Default: tcpWmemDefault, Max: tcpWmemMax}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)
	cc := tcpip.CongestionControlOption("cubic")
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &cc)
	ttl := tcpip.DefaultTTLOption(defaultTTL)
	s.SetNetworkProtocolOption(ipv4.ProtocolNumber, &ttl)
	s.SetNetworkProtocolOption(ipv6.ProtocolNumber, &ttl)
	// Linux's ephemeral ports (net.ipv4.ip_local_port_range).
	s.SetPortRange(portRangeLo, portRangeHi)

	st := &Stack{S: s, ifaces: make(map[tcpip.NICID]*ifaceAttrs), socks: make(map[*sock]struct{})}
	if err := s.CreateNICWithOptions(LoopbackID, loopback.New(), stack.NICOptions{Name: "lo"}); err != nil {
		panic(fmt.Sprintf("netstack: creating lo: %v", err))
	}
	st.ifaces[LoopbackID] = &ifaceAttrs{up: true}
	for _, p := range []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")} {
		if err := st.addAddress(LoopbackID, p); err != nil {
			panic(fmt.Sprintf("netstack: lo address %v: %v", p, err))
		}
	}
	return st
}

// Ephemeral port range (net.ipv4.ip_local_port_range) and the TCP
// buffer sysctls (net.ipv4.tcp_rmem, tcp_wmem) at Linux's defaults.
const (
	portRangeLo    = 32768
	portRangeHi    = 60999
	tcpRmemMin     = 4096
	tcpRmemDefault = 131072
	tcpRmemMax     = 6291456
	tcpWmemMin     = 4096
	tcpWmemDefault = 16384
	tcpWmemMax     = 4194304
)

// protoOf returns the network protocol of an address.
func protoOf(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// tcpipAddr converts an address.
func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

// netipAddr converts an address (the zero Addr for an empty one).
func netipAddr(a tcpip.Address) netip.Addr {
	switch a.Len() {
	case 4:
		return netip.AddrFrom4(a.As4())
	case 16:
		return netip.AddrFrom16(a.As16())
	}
	return netip.Addr{}
}

// subnetOf returns the network of a prefix as a tcpip.Subnet.
func subnetOf(p netip.Prefix) tcpip.Subnet {
	p = p.Masked()
	bits := p.Addr().BitLen()
	mask := make([]byte, bits/8)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	sn, err := tcpip.NewSubnet(tcpipAddr(p.Addr()), tcpip.MaskFromBytes(mask))
	if err != nil {
		panic(fmt.Sprintf("netstack: subnet %v: %v", p, err))
	}
	return sn
}

// addAddress adds an address to a NIC with the routes Linux derives from
// it: the local route (table local) and, unless it is a host route, the
// prefix route to its network (table main, scope link). The caller
// rebuilds netstack's table.
func (st *Stack) addAddress(nic tcpip.NICID, p netip.Prefix) tcpip.Error {
	pa := tcpip.ProtocolAddress{
		Protocol:          protoOf(p.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()},
	}
	if err := st.S.AddProtocolAddress(nic, pa, stack.AddressProperties{}); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if a := st.ifaces[nic]; a != nil {
		a.addrs = append(a.addrs, p)
	}
	st.addDerivedRoutesLocked(int(nic), p)
	return nil
}

// addDerivedRoutesLocked adds the routes Linux derives from a new
// address: the address itself in the local table (fib_add_ifaddr(),
// addrconf's local route), and its network: for IPv4 a scope-link route
// in the main table with the address as source, or a local route for an
// address on lo (127.0.0.0/8 is all local); for IPv6 a prefix route of
// metric 256 (addrconf_prefix_route()).
//
// Preconditions: st.mu is held.
func (st *Stack) addDerivedRoutesLocked(nic int, p netip.Prefix) {
	a := p.Addr()
	local := Route{Dst: netip.PrefixFrom(a, a.BitLen()), Interface: nic, Type: rtnLocal, Scope: rtScopeHost, Proto: rtProtKernel, Table: rtTableLocal}
	if a.Is4() {
		local.Src = a
	}
	st.routes = append(st.routes, local)
	switch {
	case a.Is4() && p.Bits() < 32 && nic == LoopbackID:
		st.routes = append(st.routes, Route{Dst: p.Masked(), Interface: nic, Src: a, Type: rtnLocal, Scope: rtScopeHost, Proto: rtProtKernel, Table: rtTableLocal})
	case a.Is4() && p.Bits() < 32:
		st.routes = append(st.routes, Route{Dst: p.Masked(), Interface: nic, Src: a, Type: rtnUnicast, Scope: rtScopeLink, Proto: rtProtKernel, Table: rtTableMain})
	case a.Is6():
		st.routes = append(st.routes, Route{Dst: p.Masked(), Interface: nic, Type: rtnUnicast, Scope: rtScopeUniv, Proto: rtProtKernel, Table: rtTableMain, Metric: 256})
	}
	st.syncRoutesLocked()
}

// syncRoutesLocked rebuilds netstack's routing table from st.routes:
// longest prefixes first (netstack takes the first match), lower metrics
// first among equal prefixes, routes of interfaces that are down left
// out.
//
// Preconditions: st.mu is held.
func (st *Stack) syncRoutesLocked() {
	var tbl []tcpip.Route
	for _, r := range st.routes {
		if a := st.ifaces[tcpip.NICID(r.Interface)]; a != nil && !a.up {
			continue
		}
		tr := tcpip.Route{Destination: subnetOf(r.Dst), NIC: tcpip.NICID(r.Interface)}
		if r.Gateway.IsValid() {
			tr.Gateway = tcpipAddr(r.Gateway)
		}
		tbl = append(tbl, tr)
	}
	// Stable insertion sort: few routes.
	for i := 1; i < len(tbl); i++ {
		for j := i; j > 0 && tbl[j].Destination.Prefix() > tbl[j-1].Destination.Prefix(); j-- {
			tbl[j], tbl[j-1] = tbl[j-1], tbl[j]
		}
	}
	st.S.SetRouteTable(tbl)
}

// Routes returns a copy of the routing table as Linux reports it.
func (st *Stack) Routes() []Route {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]Route(nil), st.routes...)
}

// AddRoute adds a route (RTM_NEWROUTE): EEXIST if the same destination,
// table and metric are already routed, ENODEV for an unknown interface.
func (st *Stack) AddRoute(r Route) error {
	if _, ok := st.S.NICInfo()[tcpip.NICID(r.Interface)]; !ok {
		return sys.ENODEV
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, o := range st.routes {
		if o.Dst == r.Dst && o.Table == r.Table && o.Metric == r.Metric {
			return sys.EEXIST
		}
	}
	st.routes = append(st.routes, r)
	st.syncRoutesLocked()
	return nil
}

// DelRoute removes the routes match accepts (RTM_DELROUTE): ESRCH if
// none did.
func (st *Stack) DelRoute(match func(Route) bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	out := st.routes[:0]
	for _, r := range st.routes {
		if match(r) {
			n++
			continue
		}
		out = append(out, r)
	}
	st.routes = out
	if n == 0 {
		return sys.ESRCH
	}
	st.syncRoutesLocked()
	return nil
}

// AddAddress adds an address to an interface (RTM_NEWADDR, SIOCSIFADDR):
// EEXIST if it has it, ENODEV for an unknown interface.
func (st *Stack) AddAddress(nic int, p netip.Prefix) error {
	if _, ok := st.S.NICInfo()[tcpip.NICID(nic)]; !ok {
		return sys.ENODEV
	}
	if err := st.addAddress(tcpip.NICID(nic), p); err != nil {
		if _, ok := err.(*tcpip.ErrDuplicateAddress); ok {
			return sys.EEXIST
		}
		return translateError(err)
	}
	return nil
}

// DelAddress removes an address and the routes derived from it
// (RTM_DELADDR): EADDRNOTAVAIL if the interface does not have it.
func (st *Stack) DelAddress(nic int, a netip.Addr) error {
	if err := st.S.RemoveAddress(tcpip.NICID(nic), tcpipAddr(a)); err != nil {
		if _, ok := err.(*tcpip.ErrUnknownNICID); ok {
			return sys.ENODEV
		}
		return sys.EADDRNOTAVAIL
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if at := st.ifaces[tcpip.NICID(nic)]; at != nil {
		for i, p := range at.addrs {
			if p.Addr() == a {
				at.addrs = append(at.addrs[:i:i], at.addrs[i+1:]...)
				break
			}
		}
	}
	out := st.routes[:0]
	for _, r := range st.routes {
		if r.Interface == nic && r.Proto == rtProtKernel && (r.Dst == netip.PrefixFrom(a, a.BitLen()) || (r.Dst.Contains(a) && !st.hasAddrInLocked(nic, r.Dst))) {
			continue
		}
		out = append(out, r)
	}
	st.routes = out
	st.syncRoutesLocked()
	return nil
}

// hasAddrInLocked reports whether the NIC still has an address in p.
//
// Preconditions: st.mu is held.
func (st *Stack) hasAddrInLocked(nic int, p netip.Prefix) bool {
	if a := st.ifaces[tcpip.NICID(nic)]; a != nil {
		for _, q := range a.addrs {
			if p.Contains(q.Addr()) {
				return true
			}
		}
	}
	return false
}

// IsUp reports IFF_UP of an interface.
func (st *Stack) IsUp(nic int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.ifaces[tcpip.NICID(nic)]
	return a != nil && a.up
}

// Kind returns an interface's link kind.
func (st *Stack) Kind(nic int) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if a := st.ifaces[tcpip.NICID(nic)]; a != nil {
		return a.kind
	}
	return ""
}

// SetUp brings an interface up or down (SIOCSIFFLAGS, RTM_NEWLINK):
// netstack stops using a down interface's routes and addresses.
func (st *Stack) SetUp(nic int, up bool) error {
	id := tcpip.NICID(nic)
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.ifaces[id]
	if a == nil {
		return sys.ENODEV
	}
	if a.up == up {
		return nil
	}
	var err tcpip.Error
	if up {
		err = st.S.EnableNIC(id)
	} else {
		err = st.S.DisableNIC(id)
	}
	if err != nil {
		return translateError(err)
	}
	a.up = up
	st.syncRoutesLocked()
	return nil
}

// SetMTU sets an interface's MTU (SIOCSIFMTU, IFLA_MTU): EINVAL below
// IPv4's minimum of 68 bytes or above the link's maximum.
func (st *Stack) SetMTU(nic int, mtu uint32) error {
	if mtu < 68 {
		return sys.EINVAL
	}
	if err := st.S.SetNICMTU(tcpip.NICID(nic), mtu); err != nil {
		return translateError(err)
	}
	return nil
}

// attach creates the NICs, addresses and routes of cfg.
func (st *Stack) attach(cfg Config) error {
	for _, ifc := range cfg.Interfaces {
		if ifc.Index <= LoopbackID {
			return fmt.Errorf("interface %s: index %d", ifc.Name, ifc.Index)
		}
		mac, err := parseMAC(ifc.MAC)
		if err != nil {
			return fmt.Errorf("interface %s: %w", ifc.Name, err)
		}
		ep, err := fdbased.New(&fdbased.Options{
			FDs:            []int{ifc.FD},
			MTU:            ifc.MTU,
			EthernetHeader: true,
			Address:        mac,
			// recvmmsg(2) batches received frames; the packet
			// socket needs no ring mapping (mmap), which keeps the
			// sentry's filter free of another mapping rule.
			PacketDispatchMode: fdbased.RecvMMsg,
			IsPacketSocket:     []bool{true},
			// Checksums of sent frames are computed here; those of
			// received frames are trusted, as runsc does: a veth
			// passes the peer's frames with checksums left to
			// offload (CHECKSUM_PARTIAL), which a packet socket
			// delivers uncomputed.
			TXChecksumOffload: false,
			RXChecksumOffload: true,
		})
		if err != nil {
			return fmt.Errorf("interface %s: %w", ifc.Name, err)
		}
		id := tcpip.NICID(ifc.Index)
		if terr := st.S.CreateNICWithOptions(id, ep, stack.NICOptions{Name: ifc.Name, Kind: ifc.Kind}); terr != nil {
			return fmt.Errorf("interface %s: %v", ifc.Name, terr)
		}
		st.mu.Lock()
		st.ifaces[id] = &ifaceAttrs{kind: ifc.Kind, up: true}
		st.mu.Unlock()
		for _, p := range ifc.Addresses {
			if terr := st.addAddress(id, p); terr != nil {
				return fmt.Errorf("interface %s: address %v: %v", ifc.Name, p, terr)
			}
		}
	}
	for _, r := range cfg.Routes {
		if err := st.AddRoute(r); err != nil {
			return fmt.Errorf("route %v via %v: %w", r.Dst, r.Gateway, err)
		}
	}
	return nil
}

// parseMAC parses a MAC address written as aa:bb:cc:dd:ee:ff.
func parseMAC(s string) (tcpip.LinkAddress, error) {
	var b [6]byte
	if n, err := fmt.Sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]); err != nil || n != 6 {
		return "", fmt.Errorf("bad MAC address %q", s)
	}
	return tcpip.LinkAddress(b[:]), nil
}

// stateKey is where a network namespace's netstack lives in its
// socket.Stack (AF_INET, AF_INET6 and AF_NETLINK share it).
const stateKey = sys.AF_INET

// Of returns the netstack of a network namespace, a loopback-only one if
// boot configured none.
func Of(ss *socket.Stack) *Stack {
	return ss.State(stateKey, func() any { return newStack() }).(*Stack)
}

// Configure sets up k's network namespace as cfg says. It must be called
// at boot, before any socket exists.
func Configure(k *kernel.Kernel, cfg Config) error {
	st := newStack()
	if err := st.attach(cfg); err != nil {
		st.S.Destroy()
		return err
	}
	if got := socket.StackOf(k).State(stateKey, func() any { return st }).(*Stack); got != st {
		st.S.Destroy()
		return fmt.Errorf("netstack configured twice")
	}
	return nil
}

// Interface flags (linux/if.h).
const (
	iffUp        = 0x1
	iffBroadcast = 0x2
	iffLoopback  = 0x8
	iffRunning   = 0x40
	iffMulticast = 0x1000
	iffLowerUp   = 0x10000
)

// ARP hardware types (linux/if_arp.h).
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// IfaceInfo is an interface as the app sees it (ip link, SIOCGIF*).
type IfaceInfo struct {
	Index int
	Name  string
	Kind  string
	// MAC is the hardware address (6 zero bytes for loopback).
	MAC []byte
	MTU uint32
	// Flags are the IFF_* flags, with IFF_LOWER_UP.
	Flags uint32
	// Type is the ARPHRD_* type.
	Type uint16
	// Addrs are the addresses with prefix lengths, in the order they
	// were added.
	Addrs []netip.Prefix
	// Stats are the interface's packet and byte counters.
	Stats tcpip.NICStats
}

// Loopback reports whether the interface is a loopback.
func (i *IfaceInfo) Loopback() bool { return i.Flags&iffLoopback != 0 }

// Interfaces returns the interfaces in index order.
func (st *Stack) Interfaces() []IfaceInfo {
	infos := st.S.NICInfo()
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []IfaceInfo
	for id, ni := range infos {
		a := st.ifaces[id]
		ii := IfaceInfo{Index: int(id), Name: ni.Name, MTU: ni.MTU, Stats: ni.Stats}
		if a != nil {
			ii.Kind = a.kind
		}
		if ni.Flags.Loopback {
			ii.Flags = iffLoopback
			ii.Type = arphrdLoopback
			ii.MAC = make([]byte, 6)
		} else {
			ii.Flags = iffBroadcast | iffMulticast
			ii.Type = arphrdEther
			ii.MAC = []byte(ni.LinkAddress)
			if len(ii.MAC) != 6 {
				ii.MAC = make([]byte, 6)
			}
		}
		if a != nil && a.up {
			ii.Flags |= iffUp | iffRunning | iffLowerUp
		}
		if a != nil {
			ii.Addrs = append([]netip.Prefix(nil), a.addrs...)
		}
		out = append(out, ii)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Index < out[j-1].Index; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Interface returns interface idx, or false.
func (st *Stack) Interface(idx int) (IfaceInfo, bool) {
	for _, i := range st.Interfaces() {
		if i.Index == idx {
			return i, true
		}
	}
	return IfaceInfo{}, false
}

// IndexOf returns the index of the interface named name, 0 if none.
func (st *Stack) IndexOf(name string) int {
	for id, ni := range st.S.NICInfo() {
		if ni.Name == name {
			return int(id)
		}
	}
	return 0
}

// NameOf returns the name of interface idx, "" if none.
func (st *Stack) NameOf(idx int) string {
	if ni, ok := st.S.NICInfo()[tcpip.NICID(idx)]; ok {
		return ni.Name
	}
	return ""
}
