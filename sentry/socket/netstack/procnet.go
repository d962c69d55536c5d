package netstack

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Values of the network sysctls the stack is set up with, as
// /proc/sys/net shows them.
const (
	PortRangeLo = portRangeLo
	PortRangeHi = portRangeHi
	DefaultTTL  = defaultTTL
)

// TCPRmem and TCPWmem are net.ipv4.tcp_rmem and tcp_wmem.
var (
	TCPRmem = [3]int{tcpRmemMin, tcpRmemDefault, tcpRmemMax}
	TCPWmem = [3]int{tcpWmemMin, tcpWmemDefault, tcpWmemMax}
)

// hexAddr renders an address as /proc/net/tcp does: the 32-bit words of
// the network-order address printed as host-order (little-endian) hex.
func hexAddr(a tcpip.Address, v6 bool) string {
	b := a.AsSlice()
	if !v6 {
		var w [4]byte
		if len(b) == 4 {
			copy(w[:], b)
		} else if len(b) == 16 && isV4Mapped(a) {
			copy(w[:], b[12:])
		}
		return fmt.Sprintf("%08X", binary.LittleEndian.Uint32(w[:]))
	}
	var w [16]byte
	switch len(b) {
	case 16:
		copy(w[:], b)
	case 4:
		w[10], w[11] = 0xff, 0xff
		copy(w[12:], b)
	}
	var s string
	for i := 0; i < 16; i += 4 {
		s += fmt.Sprintf("%08X", binary.LittleEndian.Uint32(w[i:]))
	}
	return s
}

// sockRow is one socket of a /proc/net table.
type sockRow struct {
	local, remote tcpip.FullAddress
	state         uint8
	rxq           int
	uid           uint32
	ino           uint64
}

// rows returns the sockets of a protocol and family, listeners first
// (Linux walks its listening hash before the established one).
func (st *Stack) rows(stype, protocol, family int) []sockRow {
	var out []sockRow
	for _, s := range st.sockets() {
		if s.stype != stype || s.family != family || (protocol != 0 && s.protocol != protocol) {
			continue
		}
		var r sockRow
		r.local, _ = s.ep.GetLocalAddress()
		r.remote, _ = s.ep.GetRemoteAddress()
		if s.stype == sys.SOCK_STREAM {
			r.state = tcpStateLinux(tcp.EndpointState(s.ep.State()))
		} else if r.remote.Port != 0 {
			r.state = 1 // TCP_ESTABLISHED: a connected datagram socket
		} else {
			r.state = 7 // TCP_CLOSE
		}
		if v, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); err == nil {
			r.rxq = v
		}
		s.mu.Lock()
		r.uid, r.ino = s.uid, s.ino
		s.mu.Unlock()
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		li, lj := out[i].state == 10, out[j].state == 10
		if li != lj {
			return li
		}
		return out[i].ino < out[j].ino
	})
	return out
}

// ProcNetTCP renders /proc/net/tcp or tcp6 (tcp4_seq_show(),
// tcp6_seq_show()).
func (st *Stack) ProcNetTCP(v6 bool) []byte {
	var b bytes.Buffer
	family := sys.AF_INET
	if v6 {
		family = sys.AF_INET6
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	} else {
		b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n")
	}
	for i, r := range st.rows(sys.SOCK_STREAM, 0, family) {
		fmt.Fprintf(&b, "%4d: %s:%04X %s:%04X %02X %08X:%08X 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n",
			i, hexAddr(r.local.Addr, v6), r.local.Port, hexAddr(r.remote.Addr, v6), r.remote.Port, r.state, 0, r.rxq, r.uid, r.ino)
	}
	return b.Bytes()
}

// ProcNetUDP renders /proc/net/udp or udp6 (udp4_format_sock()).
func (st *Stack) ProcNetUDP(v6 bool) []byte {
	var b bytes.Buffer
	family := sys.AF_INET
	if v6 {
		family = sys.AF_INET6
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n")
	} else {
		b.WriteString("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops             \n")
	}
	for i, r := range st.rows(sys.SOCK_DGRAM, sys.IPPROTO_UDP, family) {
		fmt.Fprintf(&b, "%5d: %s:%04X %s:%04X %02X %08X:%08X 00:00000000 00000000 %5d        0 %d 2 0000000000000000 0\n",
			i, hexAddr(r.local.Addr, v6), r.local.Port, hexAddr(r.remote.Addr, v6), r.remote.Port, r.state, 0, r.rxq, r.uid, r.ino)
	}
	return b.Bytes()
}

// ProcNetDev renders /proc/net/dev (dev_seq_show()).
func (st *Stack) ProcNetDev() []byte {
	var b bytes.Buffer
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, i := range st.Interfaces() {
		s := i.Stats
		fmt.Fprintf(&b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n", i.Name,
			s.Rx.Bytes.Value(), s.Rx.Packets.Value(), 0, s.DisabledRx.Packets.Value(), 0, 0, 0, 0,
			s.Tx.Bytes.Value(), s.Tx.Packets.Value(), 0, s.TxPacketsDroppedNoBufferSpace.Value(), 0, 0, 0, 0)
	}
	return b.Bytes()
}

// Route flags of /proc/net/route (linux/route.h).
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
	rtfHost    = 0x4
)

// ProcNetRoute renders /proc/net/route: the main table's IPv4 routes
// (rt_seq_show() / fib_route_seq_show()).
func (st *Stack) ProcNetRoute() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT")
	for _, r := range st.Routes() {
		if r.Table != rtTableMain || !r.Dst.Addr().Is4() {
			continue
		}
		flags := rtfUp
		var gw [4]byte
		if r.Gateway.IsValid() {
			flags |= rtfGateway
			gw = r.Gateway.As4()
		}
		if r.Dst.Bits() == 32 {
			flags |= rtfHost
		}
		dst := r.Dst.Addr().As4()
		mask := prefixMask(r.Dst.Bits()).As4()
		line := fmt.Sprintf("%s\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d",
			st.NameOf(r.Interface), binary.LittleEndian.Uint32(dst[:]), binary.LittleEndian.Uint32(gw[:]), flags, 0, 0, r.Metric,
			binary.LittleEndian.Uint32(mask[:]), 0, 0, 0)
		fmt.Fprintf(&b, "%-127s\n", line)
	}
	return b.Bytes()
}

// IPv6 address scopes (IFA_* in if_inet6 and RT_SCOPE_* in netlink).
func ipv6Scope(a netip.Addr) (procScope uint8, rtScope uint8) {
	switch {
	case a.IsLoopback():
		return 0x10, rtScopeHost
	case a.IsLinkLocalUnicast():
		return 0x20, rtScopeLink
	}
	return 0, rtScopeUniv
}

// ProcNetIfInet6 renders /proc/net/if_inet6 (if6_seq_show()).
func (st *Stack) ProcNetIfInet6() []byte {
	var b bytes.Buffer
	for _, i := range st.Interfaces() {
		for _, p := range i.Addrs {
			if !p.Addr().Is6() {
				continue
			}
			a := p.Addr().As16()
			sc, _ := ipv6Scope(p.Addr())
			// IFA_F_PERMANENT (0x80).
			fmt.Fprintf(&b, "%x %02x %02x %02x %02x %8s\n", a[:], i.Index, p.Bits(), sc, 0x80, i.Name)
		}
	}
	return b.Bytes()
}
