// Package socket is the sentry's sockets layer (net/socket.c and the
// generic parts of net/core/sock.c and net/core/scm.c): the registry of
// address families, the file every socket lives in, and what all families
// share — socket options, control messages, app buffers, timeouts.
//
// An address family is a Provider registered with Register (from the
// syscall package's init, so wiring stays explicit). AF_UNIX is ours
// (sentry/socket/unix); AF_INET and AF_INET6 will be gVisor's netstack
// behind the same interfaces; AF_NETLINK (NETLINK_ROUTE) is ours too
// once written. A family nobody registered fails with EAFNOSUPPORT, as a
// kernel without the module does.
//
// A socket is a Socket (struct proto_ops + struct sock) inside an
// anonymous vfs.FileDescription made by NewFile: fstat shows S_IFSOCK,
// /proc/PID/fd shows socket:[N], read(2) and write(2) are recvmsg and
// sendmsg without addresses or control data, and readiness comes from the
// Socket's waiter.Waitable.
//
// Lock order: the file's mu is a leaf; each family documents its own.
// Options.mu is a leaf that families may take under their own locks.
package socket

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
)

// AFMax is AF_MAX: families are 0 <= family < AFMax (NPROTO).
const AFMax = 46

// SockMax is SOCK_MAX: socket types are 0 <= type < SockMax.
const SockMax = unix.SOCK_PACKET + 1

// SockTypeMask selects the type from socket(2)'s type argument; the other
// bits are SOCK_NONBLOCK and SOCK_CLOEXEC.
const SockTypeMask = 0xf

// Provider implements one address family (struct net_proto_family).
type Provider interface {
	// Socket creates a socket of type stype (SOCK_STREAM, ... with the
	// flags removed) and protocol, with the family's errors for ones it
	// does not support (EPROTONOSUPPORT, ESOCKTNOSUPPORT...).
	Socket(ctx Context, stype, protocol int) (Socket, error)
	// Pair creates two connected sockets (socketpair(2)), validating
	// stype and protocol as Socket does; families without pairs return
	// EOPNOTSUPP (sock_no_socketpair()).
	Pair(ctx Context, stype, protocol int) (Socket, Socket, error)
}

// Socket is one socket of any family (struct proto_ops + struct sock).
// Methods may block through vfs.BlockOn; flags are MSG_* values with
// MSG_DONTWAIT already added for O_NONBLOCK files.
type Socket interface {
	// Readiness and event registration for poll, select and epoll.
	waiter.Waitable

	// Release is called once, when the socket's file is released
	// (sock_close()).
	Release()

	// Info returns the family, type and protocol (SO_DOMAIN, SO_TYPE,
	// SO_PROTOCOL).
	Info() (family, stype, protocol int)

	// Bind implements bind(2); addr is the sockaddr as the app passed
	// it (at most sizeof(struct sockaddr_storage) bytes).
	Bind(ctx Context, addr []byte) error
	// Listen implements listen(2); backlog is already clamped to
	// somaxconn.
	Listen(ctx Context, backlog int) error
	// Accept implements accept4(2): it dequeues a connection, blocking
	// unless nonblock. The caller makes the new socket's file.
	Accept(ctx Context, nonblock bool) (Socket, error)
	// Connect implements connect(2).
	Connect(ctx Context, addr []byte, nonblock bool) error
	// Name returns the socket's address as getsockname(2) reports it
	// (its length is the address length Linux reports).
	Name() []byte
	// PeerName returns the peer's address (getpeername(2)) or ENOTCONN.
	PeerName() ([]byte, error)

	// SendMsg sends src to the peer, or to the address to if it is not
	// empty, with control, sendmsg's raw ancillary data (parsed with
	// ParseControl when the family's Linux code would). It returns the
	// bytes sent.
	SendMsg(ctx Context, src IOSequence, to, control []byte, flags int) (int, error)
	// RecvMsg receives into dst.
	RecvMsg(ctx Context, dst IOSequence, flags int) (RecvResult, error)
	// Shutdown implements shutdown(2); how is SHUT_RD, SHUT_WR or
	// SHUT_RDWR (others: EINVAL).
	Shutdown(how int) error

	// GetSockOpt returns the value of an option, at most optLen() bytes;
	// its length is the optlen getsockopt(2) reports. optLen reads the
	// app's optlen (EFAULT, EINVAL if negative) and is called where Linux
	// reads it, so unsupported levels fail before it is looked at.
	GetSockOpt(ctx Context, level, name int, optLen func() (int, error)) ([]byte, error)
	// SetSockOpt sets an option from the app's optval.
	SetSockOpt(ctx Context, level, name int, optval OptVal) error

	// Ioctl implements the family's ioctl(2) commands (SIOCINQ, ...);
	// unknown ones return ENOTTY.
	Ioctl(ctx Context, cmd uint32, arg uintptr) (uintptr, error)
}

// Credentials are the process identity a message carries
// (SCM_CREDENTIALS, struct ucred) or SO_PEERCRED reports.
type Credentials struct {
	PID      int32
	UID, GID uint32
}

// ControlMessages is the ancillary data of one send (struct scm_cookie),
// parsed and validated by ParseControl.
type ControlMessages struct {
	// Rights are the files of SCM_RIGHTS messages, each with a reference
	// owned by the ControlMessages.
	Rights []*vfs.FileDescription
	// Creds are the credentials of an SCM_CREDENTIALS message, already
	// checked against the sender's (nil: none was given).
	Creds *Credentials
}

// Release drops the references to Rights.
func (c *ControlMessages) Release() {
	if c == nil {
		return
	}
	for _, f := range c.Rights {
		f.DecRef()
	}
	c.Rights = nil
}

// RecvResult is what one receive produced.
type RecvResult struct {
	// N is recvmsg's return value: the bytes copied, or the full message
	// length with MSG_TRUNC on a datagram socket.
	N int
	// Flags are the msg_flags to report (MSG_TRUNC, MSG_EOR, ...); the
	// control-message code adds MSG_CTRUNC.
	Flags int
	// From is the sender's address, nil if it has none.
	From []byte
	// Creds is set when the receiving socket has SO_PASSCRED: the
	// sender's credentials, or the "unknown" ones if the message carried
	// none.
	Creds *Credentials
	// Rights are files received with SCM_RIGHTS, each with a reference
	// owned by the result: the caller installs or releases them.
	Rights []*vfs.FileDescription
	// Cmsgs are other control messages (timestamps, IP_TTL, IP_PKTINFO,
	// ...), in the order Linux puts them.
	Cmsgs []Cmsg
}

// Cmsg is one received control message's level, type and data.
type Cmsg struct {
	Level, Type int32
	Data        []byte
}

// ReleaseRights drops the references to received files that were not
// installed.
func (r *RecvResult) ReleaseRights() {
	for _, f := range r.Rights {
		f.DecRef()
	}
	r.Rights = nil
}

// providers are the registered families. Written only by Register during
// init; read-only afterwards.
var providers [AFMax]Provider

// Register makes p the provider of family. It is called from init
// functions only, and panics on a bad or duplicate registration so the
// mistake cannot ship.
func Register(family int, p Provider) {
	if family <= 0 || family >= AFMax || providers[family] != nil {
		panic("socket: bad or duplicate provider registration")
	}
	providers[family] = p
}

// checkCreate validates socket(2)'s family and type as __sock_create()
// does and returns the provider.
func checkCreate(family, stype int) (Provider, error) {
	if family < 0 || family >= AFMax {
		return nil, unix.EAFNOSUPPORT
	}
	if stype < 0 || stype >= SockMax {
		return nil, unix.EINVAL
	}
	p := providers[family]
	if p == nil {
		return nil, unix.EAFNOSUPPORT
	}
	return p, nil
}

// New creates a socket (socket(2) after the flags were split off stype)
// and its file with the given status flags (O_NONBLOCK or 0).
func New(ctx Context, family, stype, protocol int, flags uint32) (*vfs.FileDescription, error) {
	p, err := checkCreate(family, stype)
	if err != nil {
		return nil, err
	}
	s, err := p.Socket(ctx, stype, protocol)
	if err != nil {
		return nil, err
	}
	return NewFile(ctx, s, flags), nil
}

// NewPair creates a connected pair of sockets and their files
// (socketpair(2)).
func NewPair(ctx Context, family, stype, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	p, err := checkCreate(family, stype)
	if err != nil {
		return nil, nil, err
	}
	a, b, err := p.Pair(ctx, stype, protocol)
	if err != nil {
		return nil, nil, err
	}
	return NewFile(ctx, a, flags), NewFile(ctx, b, flags), nil
}

// ErrorSetter is implemented by sockets that can record a pending error
// (sk_err) for the next call to report: recvmmsg(2) does so with an error
// that came after some datagrams were received.
type ErrorSetter interface {
	SetSockError(errno unix.Errno)
}
