package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"pangolin/sentry/socket/netstack"
)

// Network modes (--network).
//
//	none:    the sandbox's netstack has loopback only; the sentry runs in an
//	         empty network namespace (do) or the container's, untouched.
//	sandbox: netstack takes over the interfaces of the container's network
//	         namespace: for each one the CLI opens an AF_PACKET socket bound
//	         to it in that namespace, copies its addresses and routes into the
//	         sandbox's configuration, and removes the addresses from the host
//	         interface, so that the host kernel neither answers for them nor
//	         resets the sandbox's connections (runsc/sandbox/network.go does
//	         the same). The sentry only reads and writes frames on the
//	         donated sockets.
//	host:    sockets passed through to the host kernel: not supported.
const (
	networkNone    = "none"
	networkSandbox = "sandbox"
	networkHost    = "host"
)

// checkNetworkMode validates a --network value.
func checkNetworkMode(mode string) error {
	switch mode {
	case networkNone, networkSandbox:
		return nil
	case networkHost:
		return errors.New("--network host is not supported: the sandbox's sockets always live in its own network stack (use --network sandbox with a network namespace)")
	}
	return fmt.Errorf("--network %q: want none, sandbox or host", mode)
}

// packetSocketBuf is the receive and send buffer of each packet socket
// (runsc uses 4 MiB too): room for bursts while netstack catches up.
const packetSocketBuf = 4 << 20

// sandboxNetwork is what the CLI hands the sentry for --network=sandbox.
type sandboxNetwork struct {
	// cfg is the network configuration, with FD set to each packet
	// socket's index in files (the caller renumbers them).
	cfg   netstack.Config
	files []*os.File
}

// close releases the packet sockets (after the sentry got them).
func (n *sandboxNetwork) close() {
	for _, f := range n.files {
		f.Close()
	}
}

// configJSON renders the configuration with the packet sockets at
// descriptors firstFD, firstFD+1, ... of the sentry.
func (n *sandboxNetwork) configJSON(firstFD int) (string, error) {
	cfg := n.cfg
	cfg.Interfaces = append([]netstack.Interface(nil), n.cfg.Interfaces...)
	for i := range cfg.Interfaces {
		cfg.Interfaces[i].FD = firstFD + i
	}
	b, err := json.Marshal(cfg)
	return string(b), err
}

// attachNetns takes over the interfaces of the network namespace at path
// for the sandbox (see networkSandbox). It refuses the CLI's own network
// namespace: its addresses are the host's.
func attachNetns(path string) (*sandboxNetwork, error) {
	host, err := isHostNetns(path)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", path, err)
	}
	if host {
		return nil, fmt.Errorf("network namespace %s is the host's own: --network sandbox would take its interfaces away from the host", path)
	}
	type result struct {
		n   *sandboxNetwork
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread enters the namespace and dies with this
		// goroutine (never unlocked), so the CLI's other threads
		// stay in the host's.
		runtime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{nil, fmt.Errorf("network namespace %s: %w", path, err)}
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			ch <- result{nil, fmt.Errorf("joining network namespace %s: %w", path, err)}
			return
		}
		n, err := takeInterfaces()
		ch <- result{n, err}
	}()
	r := <-ch
	return r.n, r.err
}

// isHostNetns reports whether the network namespace at path is the CLI's
// own.
func isHostNetns(path string) (bool, error) {
	self, err := netnsID("/proc/self/ns/net")
	if err != nil {
		return false, err
	}
	target, err := netnsID(path)
	if err != nil {
		return false, err
	}
	return self == target, nil
}

// netnsID identifies a network namespace by its nsfs inode.
func netnsID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Dev<<32 ^ st.Ino, nil
}

// hostLink is an interface as rtnetlink reports it.
type hostLink struct {
	index      int
	name, kind string
	mac        net.HardwareAddr
	mtu        uint32
	flags      uint32
}

// takeInterfaces runs in the target namespace: it reads links, addresses
// and routes, opens a packet socket per interface that is up (loopback
// aside: the sandbox has its own), and strips the addresses from the
// host side.
func takeInterfaces() (*sandboxNetwork, error) {
	links, err := dumpLinks()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	addrs, err := dumpAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	routes, err := dumpRoutes()
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	n := &sandboxNetwork{}
	taken := map[int]bool{}
	fail := func(err error) (*sandboxNetwork, error) {
		n.close()
		return nil, err
	}
	for _, l := range links {
		if l.flags&unix.IFF_LOOPBACK != 0 || l.flags&unix.IFF_UP == 0 {
			continue
		}
		if len(l.mac) != 6 {
			return fail(fmt.Errorf("interface %s: not an Ethernet interface", l.name))
		}
		f, err := packetSocket(l.index)
		if err != nil {
			return fail(fmt.Errorf("interface %s: %w", l.name, err))
		}
		n.files = append(n.files, f)
		ifc := netstack.Interface{Name: l.name, MAC: l.mac.String(), MTU: l.mtu, Index: l.index, Kind: l.kind}
		for _, a := range addrs {
			if a.index == l.index {
				ifc.Addresses = append(ifc.Addresses, a.prefix)
			}
		}
		n.cfg.Interfaces = append(n.cfg.Interfaces, ifc)
		taken[l.index] = true
	}
	for _, r := range routes {
		if taken[r.Interface] {
			n.cfg.Routes = append(n.cfg.Routes, r)
		}
	}
	// Only now, with everything opened, does the host side give up
	// the addresses (which also drops its routes through them).
	for _, a := range addrs {
		if taken[a.index] {
			if err := delAddr(a.index, a.prefix); err != nil {
				return fail(fmt.Errorf("removing %v from the host interface: %w", a.prefix, err))
			}
		}
	}
	return n, nil
}

// packetSocket opens an AF_PACKET socket for every protocol, bound to
// interface index.
func packetSocket(index int) (*os.File, error) {
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding the packet socket: %w", err)
	}
	for _, o := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o, packetSocketBuf); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("packet socket buffers: %w", err)
		}
	}
	return os.NewFile(uintptr(fd), "packet:"+strconv.Itoa(index)), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// dumpLinks lists the namespace's interfaces.
func dumpLinks() ([]hostLink, error) {
	msgs, err := ribMessages(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	var out []hostLink
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		l := hostLink{index: int(int32(binary.NativeEndian.Uint32(m.Data[4:]))), flags: binary.NativeEndian.Uint32(m.Data[8:])}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				l.name = cstring(a.Value)
			case unix.IFLA_ADDRESS:
				l.mac = net.HardwareAddr(append([]byte(nil), a.Value...))
			case unix.IFLA_MTU:
				if len(a.Value) >= 4 {
					l.mtu = binary.NativeEndian.Uint32(a.Value)
				}
			case unix.IFLA_LINKINFO:
				l.kind = linkKind(a.Value)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// linkKind reads IFLA_INFO_KIND from a nested IFLA_LINKINFO.
func linkKind(b []byte) string {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		t := binary.NativeEndian.Uint16(b[2:])
		if l < 4 || l > len(b) {
			break
		}
		if t == unix.IFLA_INFO_KIND {
			return cstring(b[4:l])
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return ""
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// hostAddr is an address of an interface.
type hostAddr struct {
	index  int
	prefix netip.Prefix
}

// dumpAddrs lists the namespace's addresses.
func dumpAddrs() ([]hostAddr, error) {
	msgs, err := ribMessages(unix.RTM_GETADDR, unix.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	var out []hostAddr
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		family, plen := m.Data[0], int(m.Data[1])
		index := int(binary.NativeEndian.Uint32(m.Data[4:]))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, err
		}
		var addr, local netip.Addr
		for _, a := range attrs {
			v, ok := netip.AddrFromSlice(a.Value)
			if !ok {
				continue
			}
			switch a.Attr.Type {
			case unix.IFA_ADDRESS:
				addr = v
			case unix.IFA_LOCAL:
				local = v
			}
		}
		if family == unix.AF_INET && local.IsValid() {
			addr = local
		}
		if addr.IsValid() {
			out = append(out, hostAddr{index, netip.PrefixFrom(addr, plen)})
		}
	}
	return out, nil
}

// dumpRoutes lists the main table's routes that addresses do not imply:
// gateways, and routes someone added (not proto kernel). Multicast and
// other special types stay behind.
func dumpRoutes() ([]netstack.Route, error) {
	var out []netstack.Route
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		msgs, err := ribMessages(unix.RTM_GETROUTE, family)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
				continue
			}
			d := m.Data
			r := netstack.Route{Table: d[4], Proto: d[5], Scope: d[6], Type: d[7]}
			if r.Type != unix.RTN_UNICAST || r.Proto == unix.RTPROT_KERNEL {
				continue
			}
			attrs, err := syscall.ParseNetlinkRouteAttr(&m)
			if err != nil {
				return nil, err
			}
			dst := netip.IPv4Unspecified()
			if family == unix.AF_INET6 {
				dst = netip.IPv6Unspecified()
			}
			for _, a := range attrs {
				switch a.Attr.Type {
				case unix.RTA_DST:
					if v, ok := netip.AddrFromSlice(a.Value); ok {
						dst = v
					}
				case unix.RTA_GATEWAY:
					r.Gateway, _ = netip.AddrFromSlice(a.Value)
				case unix.RTA_PREFSRC:
					r.Src, _ = netip.AddrFromSlice(a.Value)
				case unix.RTA_OIF:
					r.Interface = int(binary.NativeEndian.Uint32(a.Value))
				case unix.RTA_PRIORITY:
					r.Metric = binary.NativeEndian.Uint32(a.Value)
				case unix.RTA_TABLE:
					r.Table = uint8(binary.NativeEndian.Uint32(a.Value))
				}
			}
			if r.Table != unix.RT_TABLE_MAIN {
				continue
			}
			r.Dst = netip.PrefixFrom(dst, int(d[1]))
			out = append(out, r)
		}
	}
	return out, nil
}

// ribMessages dumps one rtnetlink table.
func ribMessages(typ, family int) ([]syscall.NetlinkMessage, error) {
	b, err := syscall.NetlinkRIB(typ, family)
	if err != nil {
		return nil, err
	}
	return syscall.ParseNetlinkMessage(b)
}

// delAddr removes an address from an interface (RTM_DELADDR).
func delAddr(index int, p netip.Prefix) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	a := p.Addr().AsSlice()
	family := byte(unix.AF_INET)
	if p.Addr().Is6() {
		family = unix.AF_INET6
	}
	body := []byte{family, byte(p.Bits()), 0, 0, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	for _, t := range []uint16{unix.IFA_LOCAL, unix.IFA_ADDRESS} {
		if t == unix.IFA_LOCAL && family != unix.AF_INET {
			continue
		}
		attr := make([]byte, 4, 4+len(a))
		binary.NativeEndian.PutUint16(attr, uint16(4+len(a)))
		binary.NativeEndian.PutUint16(attr[2:], t)
		body = append(body, append(attr, a...)...)
	}
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg, uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], unix.RTM_DELADDR)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Header.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
			if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
				return unix.Errno(-e)
			}
			return nil
		}
	}
	return errors.New("no acknowledgement")
}
