package netstack

import (
	"encoding/binary"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// Sizes of struct sockaddr_in and struct sockaddr_in6, and the shorter
// sockaddr_in6 of RFC 2133 (without sin6_scope_id) that Linux accepts.
const (
	sockaddrInLen      = 16
	sockaddrIn6Len     = 28
	sockaddrIn6LenRFC2 = 24
)

// parsedAddr is a socket address as the app passed it.
type parsedAddr struct {
	family int
	addr   tcpip.FullAddress
}

// familyOf returns the sa_family of a sockaddr, or -1 if it is shorter
// than the family field.
func familyOf(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return int(binary.LittleEndian.Uint16(b))
}

// parseAddr decodes a sockaddr_in or sockaddr_in6 (AF_UNSPEC is decoded
// as sockaddr_in, as Linux's IPv4 code reads it). It returns EINVAL for
// one too short for its family and EAFNOSUPPORT for another family.
func parseAddr(b []byte) (parsedAddr, error) {
	switch f := familyOf(b); f {
	case sys.AF_INET, sys.AF_UNSPEC:
		if len(b) < sockaddrInLen {
			return parsedAddr{}, sys.EINVAL
		}
		return parsedAddr{family: f, addr: tcpip.FullAddress{
			Port: binary.BigEndian.Uint16(b[2:]),
			Addr: tcpip.AddrFrom4Slice(b[4:8]),
		}}, nil
	case sys.AF_INET6:
		if len(b) < sockaddrIn6LenRFC2 {
			return parsedAddr{}, sys.EINVAL
		}
		a := parsedAddr{family: f, addr: tcpip.FullAddress{
			Port: binary.BigEndian.Uint16(b[2:]),
			Addr: tcpip.AddrFrom16Slice(b[8:24]),
		}}
		if len(b) >= sockaddrIn6Len {
			a.addr.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[24:]))
		}
		return a, nil
	case -1:
		return parsedAddr{}, sys.EINVAL
	}
	return parsedAddr{}, sys.EAFNOSUPPORT
}

// isV4Mapped reports whether a is an IPv4-mapped IPv6 address.
func isV4Mapped(a tcpip.Address) bool {
	if a.Len() != 16 {
		return false
	}
	b := a.As16()
	for _, c := range b[:10] {
		if c != 0 {
			return false
		}
	}
	return b[10] == 0xff && b[11] == 0xff
}

// isUnspecified reports whether a is 0.0.0.0, :: or empty.
func isUnspecified(a tcpip.Address) bool {
	for _, c := range a.AsSlice() {
		if c != 0 {
			return false
		}
	}
	return true
}

// encodeAddr encodes a netstack address for a socket of family: a
// sockaddr_in, or a sockaddr_in6 (IPv4 addresses of a dual-stack socket
// appear v4-mapped, as Linux shows them).
func encodeAddr(family int, a tcpip.FullAddress) []byte {
	if family == sys.AF_INET {
		b := make([]byte, sockaddrInLen)
		binary.LittleEndian.PutUint16(b, sys.AF_INET)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		if a.Addr.Len() == 4 {
			copy(b[4:], a.Addr.AsSlice())
		} else if isV4Mapped(a.Addr) {
			copy(b[4:], a.Addr.AsSlice()[12:])
		}
		return b
	}
	b := make([]byte, sockaddrIn6Len)
	binary.LittleEndian.PutUint16(b, sys.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 4:
		b[18], b[19] = 0xff, 0xff
		copy(b[20:], a.Addr.AsSlice())
	case 16:
		copy(b[8:], a.Addr.AsSlice())
		// The scope is reported for link-local addresses only.
		if s := a.Addr.AsSlice(); s[0] == 0xfe && s[1]&0xc0 == 0x80 {
			binary.LittleEndian.PutUint32(b[24:], uint32(a.NIC))
		}
	}
	return b
}
