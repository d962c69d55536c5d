package unix

import (
	"bytes"
	"encoding/binary"

	sys "golang.org/x/sys/unix"
)

// sunPathOff is offsetof(struct sockaddr_un, sun_path); sockaddrUnLen is
// sizeof(struct sockaddr_un).
const (
	sunPathOff    = 2
	sockaddrUnLen = 110
)

// family returns an address's sa_family (0 if it is too short to have
// one).
func family(addr []byte) int {
	if len(addr) < sunPathOff {
		return 0
	}
	return int(binary.LittleEndian.Uint16(addr))
}

// validateAddr is unix_validate_addr(): a family and at least one byte of
// sun_path, at most sizeof(struct sockaddr_un), family AF_UNIX.
func validateAddr(addr []byte) error {
	if len(addr) <= sunPathOff || len(addr) > sockaddrUnLen {
		return sys.EINVAL
	}
	if family(addr) != sys.AF_UNIX {
		return sys.EINVAL
	}
	return nil
}

// isAbstract reports whether a validated address is in the abstract
// namespace (sun_path starts with a NUL).
func isAbstract(addr []byte) bool { return addr[sunPathOff] == 0 }

// bsdPath returns the filesystem path of a validated path address — the
// bytes up to the first NUL — and the address as Linux records it: the
// family, the path and a terminating NUL (unix_mkname_bsd()). A path
// filling all of sun_path gets its NUL one byte beyond, so the recorded
// length can be sizeof(struct sockaddr_un) + 1.
func bsdPath(addr []byte) (string, []byte) {
	p := addr[sunPathOff:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	rec := make([]byte, sunPathOff+len(p)+1)
	copy(rec, addr[:sunPathOff])
	copy(rec[sunPathOff:], p)
	return string(p), rec
}

// unnamed is the address of a socket without a name: only the family
// (getsockname() reports length 2).
func unnamed() []byte {
	b := make([]byte, sunPathOff)
	binary.LittleEndian.PutUint16(b, sys.AF_UNIX)
	return b
}
