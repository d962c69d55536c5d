package netstack

import (
	"bytes"
	"net/netip"
	"testing"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

func TestResolveProtocol(t *testing.T) {
	for _, c := range []struct {
		family, stype, protocol int
		want                    int
		err                     error
	}{
		{sys.AF_INET, sys.SOCK_STREAM, 0, sys.IPPROTO_TCP, nil},
		{sys.AF_INET, sys.SOCK_STREAM, sys.IPPROTO_TCP, sys.IPPROTO_TCP, nil},
		{sys.AF_INET, sys.SOCK_STREAM, sys.IPPROTO_UDP, 0, sys.EPROTONOSUPPORT},
		{sys.AF_INET, sys.SOCK_DGRAM, 0, sys.IPPROTO_UDP, nil},
		{sys.AF_INET, sys.SOCK_DGRAM, sys.IPPROTO_ICMP, sys.IPPROTO_ICMP, nil},
		{sys.AF_INET, sys.SOCK_DGRAM, sys.IPPROTO_ICMPV6, 0, sys.EPROTONOSUPPORT},
		{sys.AF_INET6, sys.SOCK_DGRAM, sys.IPPROTO_ICMPV6, sys.IPPROTO_ICMPV6, nil},
		{sys.AF_INET6, sys.SOCK_DGRAM, sys.IPPROTO_ICMP, 0, sys.EPROTONOSUPPORT},
		{sys.AF_INET, sys.SOCK_RAW, 0, 0, sys.EPROTONOSUPPORT},
		{sys.AF_INET, sys.SOCK_RAW, sys.IPPROTO_RAW, sys.IPPROTO_RAW, nil},
		{sys.AF_INET, sys.SOCK_SEQPACKET, 0, 0, sys.ESOCKTNOSUPPORT},
	} {
		got, err := resolveProtocol(c.family, c.stype, c.protocol)
		if got != c.want || err != c.err {
			t.Errorf("resolveProtocol(%d, %d, %d) = %d, %v; want %d, %v", c.family, c.stype, c.protocol, got, err, c.want, c.err)
		}
	}
}

func TestAddressRoundTrip(t *testing.T) {
	v4 := tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 8080}
	b := encodeAddr(sys.AF_INET, v4)
	if len(b) != sockaddrInLen || !bytes.Equal(b[:8], []byte{2, 0, 0x1f, 0x90, 127, 0, 0, 1}) {
		t.Fatalf("sockaddr_in = %x", b)
	}
	a, err := parseAddr(b)
	if err != nil || a.family != sys.AF_INET || a.addr != v4 {
		t.Fatalf("parseAddr(%x) = %+v, %v", b, a, err)
	}
	// An IPv4 address of a dual-stack socket shows up mapped.
	b6 := encodeAddr(sys.AF_INET6, v4)
	if len(b6) != sockaddrIn6Len || !bytes.Equal(b6[8:24], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}) {
		t.Fatalf("sockaddr_in6 = %x", b6)
	}
	a6, err := parseAddr(b6)
	if err != nil || !isV4Mapped(a6.addr.Addr) || a6.addr.Port != 8080 {
		t.Fatalf("parseAddr(%x) = %+v, %v", b6, a6, err)
	}
	for _, c := range []struct {
		b   []byte
		err error
	}{
		{nil, sys.EINVAL},
		{[]byte{2, 0, 0}, sys.EINVAL},
		{b6[:20], sys.EINVAL},
		{[]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, sys.EAFNOSUPPORT},
	} {
		if _, err := parseAddr(c.b); err != c.err {
			t.Errorf("parseAddr(%x) error %v, want %v", c.b, err, c.err)
		}
	}
}

func TestTranslateError(t *testing.T) {
	for _, c := range []struct {
		in   tcpip.Error
		want error
	}{
		{nil, nil},
		{&tcpip.ErrConnectionRefused{}, sys.ECONNREFUSED},
		{&tcpip.ErrPortInUse{}, sys.EADDRINUSE},
		{&tcpip.ErrWouldBlock{}, sys.EAGAIN},
		{&tcpip.ErrClosedForSend{}, sys.EPIPE},
		{&tcpip.ErrClosedForReceive{}, nil},
		{&tcpip.ErrBadLocalAddress{}, sys.EADDRNOTAVAIL},
		{&tcpip.ErrUnknownProtocolOption{}, sys.ENOPROTOOPT},
		{&tcpip.ErrMessageTooLong{}, sys.EMSGSIZE},
	} {
		if got := translateError(c.in); got != c.want {
			t.Errorf("translateError(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestLoopbackStack(t *testing.T) {
	st := newStack()
	defer st.S.Destroy()
	ifs := st.Interfaces()
	if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Index != 1 || ifs[0].Flags != iffUp|iffLoopback|iffRunning|iffLowerUp || ifs[0].MTU != 65536 {
		t.Fatalf("interfaces = %+v", ifs)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}
	if len(ifs[0].Addrs) != 2 || ifs[0].Addrs[0] != want[0] || ifs[0].Addrs[1] != want[1] {
		t.Fatalf("lo addresses = %v", ifs[0].Addrs)
	}
	// As Linux: 127.0.0.1 and 127.0.0.0/8 local, ::1 local and main.
	var local, main int
	for _, r := range st.Routes() {
		switch r.Table {
		case rtTableLocal:
			local++
		case rtTableMain:
			main++
			if r.Dst != netip.MustParsePrefix("::1/128") || r.Metric != 256 {
				t.Errorf("main route %+v", r)
			}
		}
	}
	if local != 3 || main != 1 {
		t.Errorf("routes: %d local, %d main: %+v", local, main, st.Routes())
	}
	if err := st.AddAddress(1, netip.MustParsePrefix("192.0.2.9/24")); err != nil {
		t.Fatal(err)
	}
	if err := st.AddAddress(1, netip.MustParsePrefix("192.0.2.9/24")); err != sys.EEXIST {
		t.Errorf("adding twice: %v", err)
	}
	if err := st.AddAddress(7, netip.MustParsePrefix("192.0.2.9/24")); err != sys.ENODEV {
		t.Errorf("unknown interface: %v", err)
	}
	if err := st.DelAddress(1, netip.MustParseAddr("192.0.2.9")); err != nil {
		t.Fatal(err)
	}
	if err := st.DelAddress(1, netip.MustParseAddr("192.0.2.9")); err != sys.EADDRNOTAVAIL {
		t.Errorf("deleting twice: %v", err)
	}
	for _, r := range st.Routes() {
		if r.Dst.Contains(netip.MustParseAddr("192.0.2.9")) {
			t.Errorf("route left behind: %+v", r)
		}
	}
	if st.IndexOf("lo") != 1 || st.NameOf(1) != "lo" || st.IndexOf("eth0") != 0 {
		t.Errorf("IndexOf/NameOf")
	}
}

func TestHexAddr(t *testing.T) {
	if got := hexAddr(tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), false); got != "0100007F" {
		t.Errorf("hexAddr v4 = %s", got)
	}
	if got := hexAddr(tcpip.AddrFrom16([16]byte{15: 1}), true); got != "00000000000000000000000001000000" {
		t.Errorf("hexAddr v6 = %s", got)
	}
}

func TestParseMAC(t *testing.T) {
	if m, err := parseMAC("02:42:ac:11:00:02"); err != nil || string(m) != "\x02\x42\xac\x11\x00\x02" {
		t.Errorf("parseMAC = %x, %v", m, err)
	}
	if _, err := parseMAC("nonsense"); err == nil {
		t.Errorf("parseMAC accepted nonsense")
	}
}
