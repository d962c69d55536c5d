package unix

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/syserr"
)

// endpoint is one AF_UNIX socket (struct unix_sock).
type endpoint struct {
	// ns, stype and id are immutable. id orders locking of two
	// endpoints.
	ns    *namespace
	stype int
	id    uint64

	// opts are the generic socket options (own lock).
	opts *socket.Options

	// queue is the socket's wait queue (sk_sleep()): readers, writers
	// and pollers wait here.
	queue waiter.Queue
	// peerWait is where senders wait for room in this socket's receive
	// queue and connectors for room in its backlog (u->peer_wait).
	peerWait waiter.Queue

	// ioMu serializes receivers (u->iolock), so that a reader copying
	// out data without mu held sees it stay queued.
	ioMu sync.Mutex
	// bindMu serializes bind and autobind (u->bindlock).
	bindMu sync.Mutex

	// addr is the socket's name as getsockname reports it, nil while
	// unbound. It is set once (under bindMu, or when an embryo is made)
	// and never changes.
	addr atomic.Pointer[[]byte]

	// wmem is the truesize of messages this socket sent that are still
	// queued somewhere (sk_wmem_alloc).
	wmem atomic.Int64

	// file is the socket's file, set once when it is made (an embryo has
	// none until accepted).
	file atomic.Pointer[vfs.FileDescription]

	mu sync.Mutex
	// All fields below are protected by mu.
	//
	// state is stateClose, stateListen or stateEstablished.
	state int
	// peer is the connected peer (unix_peer()); it stays set when the
	// peer is released, as Linux keeps it, until the socket notices.
	peer *endpoint
	// shutdown holds rcvShutdown and sendShutdown.
	shutdown int
	// err is the pending socket error (sk_err), 0 if none.
	err sys.Errno
	// recvq is the receive queue: messages, or pending connections on a
	// listener.
	recvq msgQueue
	// backlog bounds recvq (sk_max_ack_backlog).
	backlog int
	// dead is set when the socket is released (SOCK_DEAD).
	dead bool
	// hasFile is false for an embryo nobody accepted yet
	// (sk->sk_socket == NULL): senders then always attach credentials.
	hasFile bool
	// peerCred is SO_PEERCRED: set by socketpair, listen, connect and
	// for embryos; nil if never connected.
	peerCred *socket.Credentials
	// path is where the socket is bound in the filesystem (zero if not),
	// in vfs.
	path vfs.VirtualDentry
	vfs  *vfs.VirtualFilesystem
	// relay is registered on relayOn.peerWait while this datagram socket
	// is connected, so that room appearing in the peer's queue wakes this
	// socket's writers (unix_dgram_peer_wake_relay()).
	relay   waiter.Entry
	relayOn *endpoint
}

var _ socket.Socket = (*endpoint)(nil)

// nextID hands out endpoint ids.
var nextID atomic.Uint64

// newEndpoint returns an unconnected socket; hasFile is false for an
// embryo.
func newEndpoint(ns *namespace, stype int, hasFile bool) *endpoint {
	e := &endpoint{
		ns:      ns,
		stype:   stype,
		id:      nextID.Add(1),
		opts:    socket.NewOptions(),
		backlog: maxDgramQlen,
		hasFile: hasFile,
	}
	e.relay = waiter.NewFunctionEntry(waiter.WritableEvents, func(waiter.EventMask) {
		e.queue.Notify(waiter.WritableEvents)
	})
	return e
}

// lockTwo locks a and b (which may be the same) in id order
// (unix_state_double_lock()).
func lockTwo(a, b *endpoint) {
	if a == b {
		a.mu.Lock()
		return
	}
	if a.id > b.id {
		a, b = b, a
	}
	a.mu.Lock()
	b.mu.Lock()
}

func unlockTwo(a, b *endpoint) {
	a.mu.Unlock()
	if a != b {
		b.mu.Unlock()
	}
}

// connectionBased reports whether the socket type has connections.
func (e *endpoint) connectionBased() bool { return e.stype != sys.SOCK_DGRAM }

// Info implements socket.Socket. SO_PROTOCOL is 0 for AF_UNIX whatever
// socket(2) was given.
func (e *endpoint) Info() (int, int, int) { return sys.AF_UNIX, e.stype, 0 }

// name returns the socket's address, nil if unbound.
func (e *endpoint) name() []byte {
	if p := e.addr.Load(); p != nil {
		return *p
	}
	return nil
}

// Name implements socket.Socket (unix_getname()).
func (e *endpoint) Name() []byte {
	if a := e.name(); a != nil {
		return append([]byte(nil), a...)
	}
	return unnamed()
}

// PeerName implements socket.Socket.
func (e *endpoint) PeerName() ([]byte, error) {
	e.mu.Lock()
	p := e.peer
	e.mu.Unlock()
	if p == nil {
		return nil, sys.ENOTCONN
	}
	return p.Name(), nil
}

// takeErrLocked returns and clears the pending error (sock_error()).
//
// Preconditions: e.mu is held.
func (e *endpoint) takeErrLocked() error {
	if e.err == 0 {
		return nil
	}
	err := e.err
	e.err = 0
	return err
}

// recvqFullLocked is unix_recvq_full().
//
// Preconditions: e.mu is held.
func (e *endpoint) recvqFullLocked() bool { return e.recvq.len() > e.backlog }

// writable is unix_writable(): not listening and at most a quarter of the
// send buffer in flight (counting the allocation's own bias of one).
func (e *endpoint) writable(state int) bool {
	return state != stateListen && (e.wmem.Load()+1)*4 <= int64(e.opts.SndBuf())
}

// writeSpace wakes writers if the socket became writable
// (unix_write_space()).
func (e *endpoint) writeSpace() {
	e.mu.Lock()
	st := e.state
	e.mu.Unlock()
	if e.writable(st) {
		e.queue.Notify(waiter.WritableEvents)
	}
}

// relayTo registers e's relay on p's peer wait queue, replacing any
// previous one.
//
// Preconditions: e.mu is not held; only the goroutine changing e's peer
// calls it.
func (e *endpoint) relayTo(p *endpoint) {
	e.mu.Lock()
	old := e.relayOn
	e.relayOn = p
	e.mu.Unlock()
	if old != nil {
		old.peerWait.EventUnregister(&e.relay)
	}
	if p != nil {
		p.peerWait.EventRegister(&e.relay)
	}
}

// Readiness implements waiter.Waitable (unix_poll(), unix_dgram_poll()).
func (e *endpoint) Readiness(mask waiter.EventMask) waiter.EventMask {
	e.mu.Lock()
	var r waiter.EventMask
	if e.err != 0 {
		r |= waiter.EventErr
	}
	if e.shutdown == shutdownMask {
		r |= waiter.EventHUp
	}
	if e.shutdown&rcvShutdown != 0 {
		r |= waiter.EventRdHUp | waiter.ReadableEvents
	}
	if e.recvq.len() > 0 {
		r |= waiter.ReadableEvents
	}
	if e.connectionBased() && e.state == stateClose {
		r |= waiter.EventHUp
	}
	state, peer := e.state, e.peer
	e.mu.Unlock()
	writable := e.writable(state)
	if writable && e.stype != sys.SOCK_STREAM && peer != nil && mask&waiter.WritableEvents != 0 {
		// A datagram socket connected to a socket that is not connected
		// back and whose queue is full cannot send
		// (unix_dgram_peer_wake_me()).
		peer.mu.Lock()
		if peer.peer != e && peer.recvqFullLocked() && !peer.dead {
			writable = false
		}
		peer.mu.Unlock()
	}
	if writable {
		r |= waiter.WritableEvents
	}
	return r & (mask | waiter.EventErr | waiter.EventHUp)
}

// EventRegister implements waiter.Waitable.
func (e *endpoint) EventRegister(w *waiter.Entry) error {
	e.queue.EventRegister(w)
	return nil
}

// EventUnregister implements waiter.Waitable.
func (e *endpoint) EventUnregister(w *waiter.Entry) { e.queue.EventUnregister(w) }

// peerWaitable is an endpoint's peer wait queue as a waiter.Waitable for
// vfs.BlockOn.
type peerWaitable struct{ e *endpoint }

func (p peerWaitable) Readiness(waiter.EventMask) waiter.EventMask { return 0 }
func (p peerWaitable) EventRegister(w *waiter.Entry) error {
	p.e.peerWait.EventRegister(w)
	return nil
}
func (p peerWaitable) EventUnregister(w *waiter.Entry) { p.e.peerWait.EventUnregister(w) }

// waitErr turns a blocking wait's end into the socket errno: a timeout
// is EAGAIN, and an interrupted wait with a timeout set is EINTR rather
// than restarted (sock_intr_errno()).
func waitErr(err error, t socket.Timeout) error {
	switch err {
	case sys.ETIMEDOUT:
		return sys.EAGAIN
	case syserr.ERestartSys:
		if t.Bounded() {
			return sys.EINTR
		}
	}
	return err
}

// waitUntil blocks until ready() holds, waiting for mask events on w,
// until the deadline (EAGAIN) or a signal.
func waitUntil(ctx socket.Context, w waiter.Waitable, mask waiter.EventMask, t socket.Timeout, deadline time.Time, ready func() bool) error {
	_, err := vfs.BlockOn(ctx, w, mask, false, deadline, func() (struct{}, error) {
		if ready() {
			return struct{}{}, nil
		}
		return struct{}{}, sys.EAGAIN
	})
	return waitErr(err, t)
}

// AttachFile implements socket.FileAttacher.
func (e *endpoint) AttachFile(fd *vfs.FileDescription) { e.file.Store(fd) }

// Release implements socket.Socket (unix_release_sock()): after the
// socket is gone, sockets kept alive only by each other's queues are
// collected.
func (e *endpoint) Release() {
	e.release(false)
	maybeCollect()
}

// release tears the socket down; embryo is set for a connection released
// by its listener before anyone accepted it.
func (e *endpoint) release(embryo bool) {
	e.mu.Lock()
	e.dead = true
	e.shutdown = shutdownMask
	path, v := e.path, e.vfs
	e.path = vfs.VirtualDentry{}
	e.state = stateClose
	peer := e.peer
	e.peer = nil
	msgs := e.recvq.drain()
	e.mu.Unlock()

	if a := e.name(); a != nil && isAbstract(a) {
		e.ns.mu.Lock()
		k := abstractKey{e.stype, string(a)}
		if e.ns.abstract[k] == e {
			delete(e.ns.abstract, k)
		}
		e.ns.mu.Unlock()
	}
	if path.Ok() {
		v.UnbindSocket(path, e)
	}
	e.relayTo(nil)
	e.peerWait.Notify(waiter.AllEvents)
	e.queue.Notify(waiter.AllEvents)

	if peer != nil && e.connectionBased() {
		peer.mu.Lock()
		peer.shutdown = shutdownMask
		if len(msgs) > 0 || embryo {
			peer.err = sys.ECONNRESET
		}
		peer.mu.Unlock()
		peer.queue.Notify(waiter.AllEvents)
	}
	for _, m := range msgs {
		m.free()
	}
}

// Bind implements socket.Socket (unix_bind()).
func (e *endpoint) Bind(ctx socket.Context, addr []byte) error {
	if len(addr) == sunPathOff && family(addr) == sys.AF_UNIX {
		return e.autobind()
	}
	if err := validateAddr(addr); err != nil {
		return err
	}
	if isAbstract(addr) {
		return e.bindAbstract(addr)
	}
	return e.bindPath(ctx, addr)
}

// autobind gives an unbound socket an abstract name of five hex digits
// (unix_autobind()); a bound socket keeps its name.
func (e *endpoint) autobind() error {
	e.bindMu.Lock()
	defer e.bindMu.Unlock()
	if e.name() != nil {
		return nil
	}
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	order := binary.LittleEndian.Uint32(rb[:])
	last := order & 0xfffff
	e.ns.mu.Lock()
	defer e.ns.mu.Unlock()
	for {
		order = (order + 1) & 0xfffff
		a := append(unnamed(), 0)
		a = fmt.Appendf(a, "%05x", order)
		k := abstractKey{e.stype, string(a)}
		if _, used := e.ns.abstract[k]; !used {
			e.ns.abstract[k] = e
			e.addr.Store(&a)
			return nil
		}
		if order == last {
			return sys.ENOSPC
		}
	}
}

// bindAbstract is unix_bind_abstract().
func (e *endpoint) bindAbstract(addr []byte) error {
	a := append([]byte(nil), addr...)
	e.bindMu.Lock()
	defer e.bindMu.Unlock()
	if e.name() != nil {
		return sys.EINVAL
	}
	e.ns.mu.Lock()
	defer e.ns.mu.Unlock()
	k := abstractKey{e.stype, string(a)}
	if _, used := e.ns.abstract[k]; used {
		return sys.EADDRINUSE
	}
	e.ns.abstract[k] = e
	e.addr.Store(&a)
	return nil
}

// bindPath is unix_bind_bsd(): the socket node is made first (an
// existing name is EADDRINUSE), then the socket takes the name, or the
// node is removed again if the socket was bound meanwhile (EINVAL). The
// node's mode is 0777 less the umask.
func (e *endpoint) bindPath(ctx socket.Context, addr []byte) error {
	path, rec := bsdPath(addr)
	v := ctx.VFS()
	err := v.BindSocketAt(ctx, ctx.FSContext(), path, 0o777, e, func(vd vfs.VirtualDentry) error {
		e.bindMu.Lock()
		defer e.bindMu.Unlock()
		if e.name() != nil {
			return sys.EINVAL
		}
		e.mu.Lock()
		e.path, e.vfs = vd, v
		e.mu.Unlock()
		e.addr.Store(&rec)
		return nil
	})
	if err == sys.EEXIST {
		return sys.EADDRINUSE
	}
	return err
}

// find returns the socket bound to addr (unix_find_other()): by path
// (following symlinks; write permission needed; a socket of another type
// is EPROTOTYPE) or by abstract name (only among sockets of the type).
//
// Preconditions: addr is valid.
func (e *endpoint) find(ctx socket.Context, addr []byte) (*endpoint, error) {
	if isAbstract(addr) {
		e.ns.mu.Lock()
		o := e.ns.abstract[abstractKey{e.stype, string(addr)}]
		e.ns.mu.Unlock()
		if o == nil {
			return nil, sys.ECONNREFUSED
		}
		return o, nil
	}
	path, _ := bsdPath(addr)
	s, err := ctx.VFS().BoundSocketAt(ctx, ctx.FSContext(), path)
	if err != nil {
		return nil, err
	}
	o, ok := s.(*endpoint)
	if !ok {
		return nil, sys.ECONNREFUSED
	}
	if o.stype != e.stype {
		return nil, sys.EPROTOTYPE
	}
	return o, nil
}

// autobindForCreds autobinds an unbound socket with SO_PASSCRED before it
// connects or sends, so that the receiver sees a name.
func (e *endpoint) autobindForCreds() error {
	if e.opts.PassCred() && e.name() == nil {
		return e.autobind()
	}
	return nil
}

// Listen implements socket.Socket (unix_listen()).
func (e *endpoint) Listen(ctx socket.Context, backlog int) error {
	if e.stype == sys.SOCK_DGRAM {
		return sys.EOPNOTSUPP
	}
	if e.name() == nil {
		return sys.EINVAL
	}
	e.mu.Lock()
	if e.state != stateClose && e.state != stateListen {
		e.mu.Unlock()
		return sys.EINVAL
	}
	grew := backlog > e.backlog
	e.backlog = backlog
	e.state = stateListen
	c := credsOf(ctx)
	e.peerCred = &c
	e.mu.Unlock()
	if grew {
		e.peerWait.Notify(waiter.AllEvents)
	}
	e.queue.Notify(waiter.AllEvents)
	return nil
}

// Connect implements socket.Socket.
func (e *endpoint) Connect(ctx socket.Context, addr []byte, nonblock bool) error {
	if e.stype == sys.SOCK_DGRAM {
		return e.connectDgram(ctx, addr)
	}
	return e.connectStream(ctx, addr, nonblock)
}

// errFull means a listener's backlog is full.
var errFull = fmt.Errorf("backlog full")

// connectStream is unix_stream_connect(): it makes the embryo of the
// connection and queues it on the listener, waiting for room in the
// backlog unless non-blocking (EAGAIN).
func (e *endpoint) connectStream(ctx socket.Context, addr []byte, nonblock bool) error {
	if err := validateAddr(addr); err != nil {
		return err
	}
	if err := e.autobindForCreds(); err != nil {
		return err
	}
	timeo := e.opts.SndTimeout()
	if nonblock {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	for {
		other, err := e.find(ctx, addr)
		if err != nil {
			return err
		}
		err = e.tryConnect(ctx, other)
		if err != errFull {
			return err
		}
		if noWait {
			return sys.EAGAIN
		}
		err = waitUntil(ctx, peerWaitable{other}, waiter.AllEvents, timeo, deadline, func() bool {
			other.mu.Lock()
			defer other.mu.Unlock()
			return other.dead || other.shutdown&rcvShutdown != 0 || !other.recvqFullLocked()
		})
		if err != nil {
			return err
		}
	}
}

// tryConnect makes one attempt to connect to other; errFull if its
// backlog is full.
func (e *endpoint) tryConnect(ctx socket.Context, other *endpoint) error {
	other.mu.Lock()
	if other.dead {
		// Released since we found it: it is gone from its name too.
		other.mu.Unlock()
		return sys.ECONNREFUSED
	}
	if other.state != stateListen || other.shutdown&rcvShutdown != 0 {
		other.mu.Unlock()
		return sys.ECONNREFUSED
	}
	if other.recvqFullLocked() {
		other.mu.Unlock()
		return errFull
	}
	if other == e {
		// A listening socket cannot connect (other is listening).
		other.mu.Unlock()
		return sys.EINVAL
	}
	e.mu.Lock()
	if e.state != stateClose {
		err := sys.EINVAL
		if e.state == stateEstablished {
			err = sys.EISCONN
		}
		e.mu.Unlock()
		other.mu.Unlock()
		return err
	}
	n := newEndpoint(e.ns, e.stype, false)
	n.peer = e
	n.state = stateEstablished
	c := credsOf(ctx)
	n.peerCred = &c
	if a := other.addr.Load(); a != nil {
		n.addr.Store(a)
	}
	e.peerCred = other.peerCred
	e.state = stateEstablished
	e.peer = n
	e.mu.Unlock()
	other.recvq.push(&message{conn: n})
	other.mu.Unlock()
	other.queue.Notify(waiter.ReadableEvents)
	e.queue.Notify(waiter.AllEvents)
	return nil
}

// connectDgram is unix_dgram_connect(): it sets the default destination
// and the only source datagrams are accepted from; AF_UNSPEC
// disconnects. Changing peers drops what was queued from the old one.
func (e *endpoint) connectDgram(ctx socket.Context, addr []byte) error {
	if len(addr) < sunPathOff {
		return sys.EINVAL
	}
	var other *endpoint
	if family(addr) != sys.AF_UNSPEC {
		if err := validateAddr(addr); err != nil {
			return err
		}
		if err := e.autobindForCreds(); err != nil {
			return err
		}
		for {
			o, err := e.find(ctx, addr)
			if err != nil {
				return err
			}
			lockTwo(e, o)
			if o.dead {
				unlockTwo(e, o)
				continue
			}
			if o.peer != nil && o.peer != e {
				unlockTwo(e, o)
				return sys.EPERM
			}
			e.state = stateEstablished
			o.state = stateEstablished
			other = o
			break
		}
	} else {
		e.mu.Lock()
	}
	old := e.peer
	e.peer = other
	if other == nil {
		e.state = stateClose
	}
	if other != nil {
		unlockTwo(e, other)
	} else {
		e.mu.Unlock()
	}
	e.relayTo(other)
	e.queue.Notify(waiter.WritableEvents)
	if old != nil && old != other {
		e.dgramDisconnected(old)
		old.mu.Lock()
		if old.peer == nil {
			old.state = stateClose
		}
		old.mu.Unlock()
	}
	return nil
}

// dgramDisconnected is unix_dgram_disconnected(): after changing peers a
// datagram socket drops its queue, and if that lost messages from a peer
// connected back to it, that peer gets ECONNRESET.
func (e *endpoint) dgramDisconnected(old *endpoint) {
	e.mu.Lock()
	msgs := e.recvq.drain()
	e.mu.Unlock()
	if len(msgs) == 0 {
		return
	}
	e.peerWait.Notify(waiter.AllEvents)
	old.mu.Lock()
	report := !old.dead && old.peer == e
	if report {
		old.err = sys.ECONNRESET
	}
	old.mu.Unlock()
	if report {
		old.queue.Notify(waiter.EventErr)
	}
	for _, m := range msgs {
		m.free()
	}
}

// Accept implements socket.Socket (unix_accept()).
func (e *endpoint) Accept(ctx socket.Context, nonblock bool) (socket.Socket, error) {
	if e.stype == sys.SOCK_DGRAM {
		return nil, sys.EOPNOTSUPP
	}
	e.mu.Lock()
	listening := e.state == stateListen
	e.mu.Unlock()
	if !listening {
		return nil, sys.EINVAL
	}
	timeo := e.opts.RcvTimeout()
	if nonblock {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	n, err := vfs.BlockOn(ctx, e, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, noWait, deadline, func() (*endpoint, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := e.takeErrLocked(); err != nil {
			return nil, err
		}
		if m := e.recvq.pop(); m != nil {
			return m.conn, nil
		}
		if e.shutdown&rcvShutdown != 0 && !noWait {
			// A shut-down listener: skb_recv_datagram() ends
			// without error, which accept reports as EINVAL.
			return nil, sys.EINVAL
		}
		return nil, sys.EAGAIN
	})
	if err != nil {
		return nil, waitErr(err, timeo)
	}
	e.peerWait.Notify(waiter.AllEvents)
	n.opts.SetPassCred(e.opts.PassCred())
	n.mu.Lock()
	n.hasFile = true
	n.mu.Unlock()
	return n, nil
}

// Shutdown implements socket.Socket (unix_shutdown()): a connected
// stream or seqpacket peer sees the mirror image.
func (e *endpoint) Shutdown(how int) error {
	if how < sys.SHUT_RD || how > sys.SHUT_RDWR {
		return sys.EINVAL
	}
	mode := how + 1
	e.mu.Lock()
	e.shutdown |= mode
	peer := e.peer
	e.mu.Unlock()
	e.queue.Notify(waiter.AllEvents)
	if peer != nil && e.connectionBased() {
		pm := 0
		if mode&rcvShutdown != 0 {
			pm |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			pm |= rcvShutdown
		}
		peer.mu.Lock()
		peer.shutdown |= pm
		peer.mu.Unlock()
		peer.queue.Notify(waiter.AllEvents)
	}
	return nil
}

// GetSockOpt implements socket.Socket: SOL_SOCKET only (AF_UNIX has no
// protocol options: EOPNOTSUPP).
func (e *endpoint) GetSockOpt(ctx socket.Context, level, name int, getLen func() (int, error)) ([]byte, error) {
	if level != sys.SOL_SOCKET {
		return nil, sys.EOPNOTSUPP
	}
	optLen, err := getLen()
	if err != nil {
		return nil, err
	}
	var v []byte
	switch name {
	case sys.SO_TYPE:
		v = socket.Int(int32(e.stype))
	case sys.SO_PROTOCOL:
		v = socket.Int(0)
	case sys.SO_DOMAIN:
		v = socket.Int(sys.AF_UNIX)
	case sys.SO_ACCEPTCONN:
		e.mu.Lock()
		v = socket.Bool(e.state == stateListen)
		e.mu.Unlock()
	case sys.SO_ERROR:
		e.mu.Lock()
		err := e.err
		e.err = 0
		e.mu.Unlock()
		v = socket.Int(int32(err))
	case sys.SO_PEERCRED:
		e.mu.Lock()
		c := socket.Credentials{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}
		if e.peerCred != nil {
			c = *e.peerCred
		}
		e.mu.Unlock()
		v = make([]byte, 12)
		binary.LittleEndian.PutUint32(v, uint32(c.PID))
		binary.LittleEndian.PutUint32(v[4:], c.UID)
		binary.LittleEndian.PutUint32(v[8:], c.GID)
	case sys.SO_PEERNAME:
		a, err := e.PeerName()
		if err != nil {
			return nil, err
		}
		if len(a) < optLen {
			return nil, sys.EINVAL
		}
		return a[:optLen], nil
	default:
		var err error
		if v, err = e.opts.Get(name); err != nil {
			return nil, err
		}
	}
	return socket.Truncate(v, optLen), nil
}

// SetSockOpt implements socket.Socket.
func (e *endpoint) SetSockOpt(ctx socket.Context, level, name int, opt socket.OptVal) error {
	if level != sys.SOL_SOCKET {
		return sys.EOPNOTSUPP
	}
	if err := e.opts.Set(ctx.Credentials(), name, opt); err != nil {
		return err
	}
	if name == sys.SO_SNDBUF || name == sys.SO_SNDBUFFORCE {
		e.writeSpace()
	}
	return nil
}

// Socket ioctls (include/uapi/linux/sockios.h).
const (
	siocInq  = 0x541B // SIOCINQ, FIONREAD
	siocOutq = 0x5411 // SIOCOUTQ, TIOCOUTQ
)

// Ioctl implements socket.Socket (unix_ioctl()).
func (e *endpoint) Ioctl(ctx socket.Context, cmd uint32, arg uintptr) (uintptr, error) {
	var n int64
	switch cmd {
	case siocOutq:
		n = e.wmem.Load()
	case siocInq:
		e.mu.Lock()
		if e.state == stateListen {
			e.mu.Unlock()
			return 0, sys.EINVAL
		}
		if e.stype == sys.SOCK_DGRAM {
			if m := e.recvq.front(); m != nil {
				n = int64(len(m.data))
			}
		} else {
			for i := 0; i < e.recvq.len(); i++ {
				n += int64(e.recvq.at(i).unread())
			}
		}
		e.mu.Unlock()
	default:
		return 0, sys.ENOTTY
	}
	return 0, ctx.CopyOutBytes(arg, socket.Int(int32(n)))
}

// SetSockError implements socket.ErrorSetter.
func (e *endpoint) SetSockError(errno sys.Errno) {
	e.mu.Lock()
	e.err = errno
	e.mu.Unlock()
	e.queue.Notify(waiter.EventErr)
}
