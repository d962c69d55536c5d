package netstack

import (
	"encoding/binary"
	"net/netip"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"

	"pangolin/sentry/socket"
)

// Socket and interface ioctls (include/uapi/linux/sockios.h).
const (
	siocInq        = 0x541B // SIOCINQ, FIONREAD
	siocOutq       = 0x5411 // SIOCOUTQ, TIOCOUTQ
	siocOutqNSD    = 0x894B
	siocGIfName    = 0x8910
	siocGIfConf    = 0x8912
	siocGIfFlags   = 0x8913
	siocSIfFlags   = 0x8914
	siocGIfAddr    = 0x8915
	siocGIfDstAddr = 0x8917
	siocGIfBrdAddr = 0x8919
	siocGIfNetmask = 0x891b
	siocGIfMetric  = 0x891d
	siocGIfMTU     = 0x8921
	siocGIfHwAddr  = 0x8927
	siocGIfIndex   = 0x8933
	siocGIfTxQLen  = 0x8942
	siocEthtool    = 0x8946
	siocGIfMap     = 0x8970
)

// ifreqLen is sizeof(struct ifreq): a name and a 24-byte union.
const ifreqLen = 40

// txQueueLen is every interface's tx_queue_len (DEFAULT_TX_QUEUE_LEN).
const txQueueLen = 1000

// Ioctl implements socket.Socket (inet_ioctl(), sock_do_ioctl(),
// dev_ioctl()).
func (s *sock) Ioctl(ctx socket.Context, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case siocInq:
		if s.ep.SocketOptions().GetAcceptConn() {
			return 0, sys.EINVAL
		}
		v, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		if err != nil {
			return 0, translateError(err)
		}
		return 0, ctx.CopyOutBytes(arg, socket.Int(int32(v)))
	case siocOutq, siocOutqNSD:
		if s.ep.SocketOptions().GetAcceptConn() {
			return 0, sys.EINVAL
		}
		if s.isStream() {
			// netstack does not expose how much of a TCP send queue
			// is unacknowledged.
			return 0, sys.ENOTTY
		}
		// A datagram leaves the socket within the send: netstack
		// holds no queue of sent datagrams (sk_wmem_alloc is 0).
		return 0, ctx.CopyOutBytes(arg, socket.Int(0))
	case siocGIfAddr, siocGIfDstAddr, siocGIfBrdAddr, siocGIfNetmask:
		if s.family != sys.AF_INET {
			return 0, sys.ENOTTY
		}
		return 0, ifreqIoctl(ctx, s.st, cmd, arg)
	}
	// The device ioctls are the socket layer's (DeviceIoctl).
	return 0, sys.ENOTTY
}

// DeviceIoctl implements the network device ioctls that work on a socket
// of any family (dev_ioctl(), dev_ifconf()) for the caller's namespace.
func DeviceIoctl(ctx socket.Context, cmd uint32, arg uintptr) (uintptr, error) {
	st := Of(ctx.Stack())
	switch cmd {
	case siocGIfConf:
		return 0, ifconf(ctx, st, arg)
	case siocGIfName, siocGIfFlags, siocSIfFlags, siocGIfMetric, siocGIfMTU, siocGIfHwAddr, siocGIfIndex, siocGIfTxQLen, siocGIfMap, siocEthtool:
		return 0, ifreqIoctl(ctx, st, cmd, arg)
	}
	return 0, sys.ENOTTY
}

// ifconf is SIOCGIFCONF (dev_ifconf(), inet_gifconf()): one struct ifreq
// per IPv4 address, with the interface's name and the address; a NULL
// buffer asks for the length needed.
func ifconf(ctx socket.Context, st *Stack, arg uintptr) error {
	hdr := make([]byte, 16)
	if err := ctx.CopyInBytes(arg, hdr); err != nil {
		return err
	}
	n := int(int32(binary.LittleEndian.Uint32(hdr)))
	buf := uintptr(binary.LittleEndian.Uint64(hdr[8:]))
	done := 0
	for _, ii := range st.Interfaces() {
		for _, p := range ii.Addrs {
			if !p.Addr().Is4() {
				continue
			}
			if buf == 0 {
				done += ifreqLen
				continue
			}
			if n-done < ifreqLen {
				break
			}
			r := make([]byte, ifreqLen)
			copy(r[:sys.IFNAMSIZ-1], ii.Name)
			putSockaddrIn(r[16:], p.Addr())
			if err := ctx.CopyOutBytes(buf+uintptr(done), r); err != nil {
				return err
			}
			done += ifreqLen
		}
	}
	return ctx.CopyOutBytes(arg, socket.Int(int32(done)))
}

// putSockaddrIn writes a sockaddr_in of a (port 0) into b.
func putSockaddrIn(b []byte, a netip.Addr) {
	binary.LittleEndian.PutUint16(b, sys.AF_INET)
	if a.Is4() {
		v := a.As4()
		copy(b[4:8], v[:])
	}
}

// ifreqIoctl handles the ioctls on a struct ifreq naming an interface.
func ifreqIoctl(ctx socket.Context, st *Stack, cmd uint32, arg uintptr) error {
	r := make([]byte, ifreqLen)
	if err := ctx.CopyInBytes(arg, r); err != nil {
		return err
	}
	if cmd == siocGIfName {
		// By index (dev_ifname()).
		ii, ok := st.Interface(int(int32(binary.LittleEndian.Uint32(r[16:]))))
		if !ok {
			return sys.ENODEV
		}
		clear(r[:sys.IFNAMSIZ])
		copy(r[:sys.IFNAMSIZ-1], ii.Name)
		return ctx.CopyOutBytes(arg, r)
	}
	r[sys.IFNAMSIZ-1] = 0
	name := string(r[:sys.IFNAMSIZ])
	for i := range name {
		if name[i] == 0 {
			name = name[:i]
			break
		}
	}
	idx := st.IndexOf(name)
	if idx == 0 {
		return sys.ENODEV
	}
	ii, ok := st.Interface(idx)
	if !ok {
		return sys.ENODEV
	}
	u := r[16:]
	clearU := func() { clear(u) }
	switch cmd {
	case siocGIfFlags:
		clearU()
		binary.LittleEndian.PutUint16(u, uint16(ii.Flags))
	case siocSIfFlags:
		if !ctx.Credentials().HasCapability(socket.CapNetAdmin) {
			return sys.EPERM
		}
		flags := binary.LittleEndian.Uint16(u)
		return st.SetUp(idx, flags&iffUp != 0)
	case siocGIfIndex:
		clearU()
		binary.LittleEndian.PutUint32(u, uint32(idx))
	case siocGIfMTU:
		clearU()
		binary.LittleEndian.PutUint32(u, ii.MTU)
	case siocGIfMetric:
		clearU()
	case siocGIfTxQLen:
		clearU()
		binary.LittleEndian.PutUint32(u, txQueueLen)
	case siocGIfMap:
		clearU()
	case siocGIfHwAddr:
		clearU()
		binary.LittleEndian.PutUint16(u, ii.Type)
		copy(u[2:8], ii.MAC)
	case siocGIfAddr, siocGIfDstAddr, siocGIfBrdAddr, siocGIfNetmask:
		// devinet_ioctl(): the interface's first IPv4 address.
		var p netip.Prefix
		for _, q := range ii.Addrs {
			if q.Addr().Is4() {
				p = q
				break
			}
		}
		if !p.IsValid() {
			return sys.EADDRNOTAVAIL
		}
		clearU()
		switch cmd {
		case siocGIfAddr, siocGIfDstAddr:
			putSockaddrIn(u, p.Addr())
		case siocGIfNetmask:
			putSockaddrIn(u, prefixMask(p.Bits()))
		case siocGIfBrdAddr:
			var b netip.Addr = netip.IPv4Unspecified()
			if !ii.Loopback() {
				b = broadcastOf(p)
			}
			putSockaddrIn(u, b)
		}
	case siocEthtool:
		return sys.EOPNOTSUPP
	}
	return ctx.CopyOutBytes(arg, r)
}

// prefixMask returns the IPv4 netmask of a prefix length.
func prefixMask(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], m)
	return netip.AddrFrom4(b)
}

// broadcastOf returns the broadcast address of an IPv4 prefix (the one
// ip(8) sets with "brd +").
func broadcastOf(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:])
	if p.Bits() < 32 {
		v |= ^uint32(0) >> p.Bits()
	}
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}
