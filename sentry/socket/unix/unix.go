// Package unix implements AF_UNIX sockets (net/unix/af_unix.c, unix(7)):
// SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET; socketpair; names bound in
// the filesystem (through the VFS's socket-node association), in the
// abstract namespace, or chosen by autobind; listen/connect/accept;
// message boundaries, truncation, peeking; SCM_RIGHTS and
// SCM_CREDENTIALS; shutdown; flow control modelled on Linux's accounting
// of socket buffers.
//
// Each socket is an endpoint. A connected stream or seqpacket socket's
// peer is the endpoint at the other end; a connection is first an
// "embryo" endpoint queued on the listener until accept(2) hands it out
// (as Linux's unix_stream_connect() creates newsk). Data a socket sends
// is queued as messages on the receiving endpoint and charged to the
// sender's write allocation (sk_wmem_alloc) until it is consumed.
//
// Sockets kept alive only by each other's queues (passed with SCM_RIGHTS,
// then closed) are found and released by a garbage collector (gc.go).
//
// Lock order:
//
//	gc.mu (the collector; never taken with an endpoint lock held)
//	endpoint.ioMu (receivers, u->iolock)
//	  endpoint.mu (unix_state_lock)
//	    a second endpoint.mu: only in connect, listener before connector
//	    for streams, lower id first for datagrams
//	      namespace.mu, socket.Options.mu (leaves)
//
// A bind to a path runs under the VFS's parent directory lock and takes
// endpoint.bindMu, then namespace.mu or endpoint.mu. Wait queues are
// notified, and in-flight files released, only with no endpoint lock held
// (a released file may be another socket whose release takes locks).
package unix

import (
	"sync"

	sys "golang.org/x/sys/unix"

	"pangolin/sentry/socket"
)

// Shutdown bits (sk_shutdown).
const (
	rcvShutdown  = 1
	sendShutdown = 2
	shutdownMask = rcvShutdown | sendShutdown
)

// Connection states (sk_state, named after the TCP states Linux reuses).
const (
	stateClose = iota
	stateListen
	stateEstablished
)

// maxDgramQlen is net.unix.max_dgram_qlen: a datagram socket's receive
// queue may hold one more than this many messages from senders it is not
// connected to, and a new socket's backlog starts at it.
const maxDgramQlen = 10

// namespace is one network namespace's AF_UNIX state: the abstract names.
type namespace struct {
	mu sync.Mutex
	// abstract maps (socket type, address) to the bound endpoint; as in
	// Linux, each socket type has its own abstract namespace. Protected
	// by mu.
	abstract map[abstractKey]*endpoint
}

type abstractKey struct {
	stype int
	addr  string
}

func newNamespace() any { return &namespace{abstract: make(map[abstractKey]*endpoint)} }

// namespaceOf returns ctx's AF_UNIX namespace.
func namespaceOf(ctx socket.Context) *namespace {
	return ctx.Stack().State(sys.AF_UNIX, newNamespace).(*namespace)
}

// Provider is the AF_UNIX socket.Provider.
type Provider struct{}

// checkType validates socket(2)'s type and protocol (unix_create()):
// protocol 0 or PF_UNIX (EPROTONOSUPPORT), SOCK_RAW means SOCK_DGRAM, and
// only the three types exist (ESOCKTNOSUPPORT).
func checkType(stype, protocol int) (int, error) {
	if protocol != 0 && protocol != sys.AF_UNIX {
		return 0, sys.EPROTONOSUPPORT
	}
	switch stype {
	case sys.SOCK_STREAM, sys.SOCK_DGRAM, sys.SOCK_SEQPACKET:
		return stype, nil
	case sys.SOCK_RAW:
		return sys.SOCK_DGRAM, nil
	}
	return 0, sys.ESOCKTNOSUPPORT
}

// Socket implements socket.Provider.
func (Provider) Socket(ctx socket.Context, stype, protocol int) (socket.Socket, error) {
	t, err := checkType(stype, protocol)
	if err != nil {
		return nil, err
	}
	return newEndpoint(namespaceOf(ctx), t, true), nil
}

// Pair implements socket.Provider (unix_socketpair()): both ends are
// connected and carry the creator's credentials for SO_PEERCRED.
func (Provider) Pair(ctx socket.Context, stype, protocol int) (socket.Socket, socket.Socket, error) {
	t, err := checkType(stype, protocol)
	if err != nil {
		return nil, nil, err
	}
	ns := namespaceOf(ctx)
	a, b := newEndpoint(ns, t, true), newEndpoint(ns, t, true)
	cred := credsOf(ctx)
	a.peer, b.peer = b, a
	a.state, b.state = stateEstablished, stateEstablished
	a.peerCred, b.peerCred = &cred, &cred
	if t == sys.SOCK_DGRAM {
		a.relayTo(b)
		b.relayTo(a)
	}
	return a, b, nil
}

// credsOf returns the caller's identity as SO_PEERCRED reports it
// (init_peercred(): the thread group ID and the effective IDs).
func credsOf(ctx socket.Context) socket.Credentials {
	c := ctx.Credentials()
	return socket.Credentials{PID: ctx.PID(), UID: c.EffectiveUID, GID: c.EffectiveGID}
}

// msgCredsOf returns the credentials a message carries when the socket
// layer attaches them (maybe_add_creds(): the real IDs).
func msgCredsOf(ctx socket.Context) *socket.Credentials {
	c := ctx.Credentials()
	return &socket.Credentials{PID: ctx.PID(), UID: c.RealUID, GID: c.RealGID}
}

// unknownCreds is what a receiver with SO_PASSCRED gets for a message
// sent without credentials: no PID and the overflow IDs.
var unknownCreds = socket.Credentials{PID: 0, UID: 65534, GID: 65534}
