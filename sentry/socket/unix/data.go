package unix

import (
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/syserr"
)

// Events a blocked reader and a blocked writer wait for.
const (
	readEvents  = waiter.ReadableEvents | waiter.EventHUp | waiter.EventRdHUp | waiter.EventErr
	writeEvents = waiter.WritableEvents | waiter.EventHUp | waiter.EventErr
)

// sent returns a send's result: bytes already sent win over an error.
func sent(n int, err error) (int, error) {
	if n > 0 {
		return n, nil
	}
	return 0, err
}

// dupRights takes new references to in-flight files.
func dupRights(fs []*vfs.FileDescription) []*vfs.FileDescription {
	if len(fs) == 0 {
		return nil
	}
	out := make([]*vfs.FileDescription, len(fs))
	for i, f := range fs {
		f.IncRef()
		out[i] = f
	}
	return out
}

// SendMsg implements socket.Socket.
func (e *endpoint) SendMsg(ctx socket.Context, src socket.IOSequence, to, control []byte, flags int) (int, error) {
	switch e.stype {
	case sys.SOCK_STREAM:
		ctl, err := socket.ParseControl(ctx, control, sys.AF_UNIX)
		if err != nil {
			return 0, err
		}
		defer ctl.Release()
		return e.sendStream(ctx, src, to, ctl, flags)
	case sys.SOCK_SEQPACKET:
		// unix_seqpacket_sendmsg(): connected only, the address is
		// ignored.
		e.mu.Lock()
		err := e.takeErrLocked()
		est := e.state == stateEstablished
		e.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if !est {
			return 0, sys.ENOTCONN
		}
		to = nil
	}
	ctl, err := socket.ParseControl(ctx, control, sys.AF_UNIX)
	if err != nil {
		return 0, err
	}
	defer ctl.Release()
	return e.sendDgram(ctx, src, to, ctl, flags)
}

// sendTimeout returns the send timeout for flags.
func (e *endpoint) sendTimeout(flags int) (socket.Timeout, time.Time, bool) {
	t := e.opts.SndTimeout()
	if flags&sys.MSG_DONTWAIT != 0 {
		t = 0
	}
	d, noWait := t.Deadline()
	return t, d, noWait
}

// allocSend waits until the socket may queue another message of cost
// bytes and charges it (sock_alloc_send_pskb()): a pending error or a
// shut-down sending side end the wait (EPIPE for the latter), otherwise
// the write allocation must be below the send buffer.
func (e *endpoint) allocSend(ctx socket.Context, cost int64, t socket.Timeout, deadline time.Time, noWait bool) error {
	_, err := vfs.BlockOn(ctx, e, writeEvents, noWait, deadline, func() (struct{}, error) {
		e.mu.Lock()
		err := e.takeErrLocked()
		shut := e.shutdown&sendShutdown != 0
		e.mu.Unlock()
		if err != nil {
			return struct{}{}, err
		}
		if shut {
			return struct{}{}, sys.EPIPE
		}
		if e.wmem.Load() < int64(e.opts.SndBuf()) {
			e.wmem.Add(cost)
			return struct{}{}, nil
		}
		return struct{}{}, sys.EAGAIN
	})
	return waitErr(err, t)
}

// maybeAddCreds attaches the sender's credentials to a message that has
// none if either end has SO_PASSCRED, or the receiver is an embryo that
// may turn out to want them (maybe_add_creds()).
//
// Preconditions: other.mu is held.
func (e *endpoint) maybeAddCreds(ctx socket.Context, m *message, other *endpoint) {
	if m.creds != nil {
		return
	}
	if e.opts.PassCred() || !other.hasFile || other.opts.PassCred() {
		m.creds = msgCredsOf(ctx)
	}
}

// sendStream is unix_stream_sendmsg(): the data goes out in messages of
// at most half the send buffer, each waiting for room; files travel with
// the first. Writing to a connection that is shut down or closed is EPIPE
// with SIGPIPE unless MSG_NOSIGNAL.
func (e *endpoint) sendStream(ctx socket.Context, src socket.IOSequence, to []byte, ctl *socket.ControlMessages, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 {
		return 0, sys.EOPNOTSUPP
	}
	e.mu.Lock()
	state, other, shut := e.state, e.peer, e.shutdown
	e.mu.Unlock()
	if len(to) != 0 {
		if state == stateEstablished {
			return 0, sys.EISCONN
		}
		return 0, sys.EOPNOTSUPP
	}
	if other == nil {
		return 0, sys.ENOTCONN
	}
	nosig := flags&sys.MSG_NOSIGNAL != 0
	if shut&sendShutdown != 0 {
		if !nosig {
			ctx.SendSIGPIPE()
		}
		return 0, sys.EPIPE
	}
	t, deadline, noWait := e.sendTimeout(flags)
	var creds *socket.Credentials
	var rights []*vfs.FileDescription
	if ctl != nil {
		creds, rights = ctl.Creds, ctl.Rights
	}
	n := src.Len()
	done := 0
	for done < n {
		size, cost := streamChunk(n-done, e.opts.SndBuf())
		if err := e.allocSend(ctx, cost, t, deadline, noWait); err != nil {
			return sent(done, err)
		}
		m := &message{data: make([]byte, size), from: e, truesize: cost, creds: creds}
		if _, err := src.CopyIn(done, m.data); err != nil {
			m.uncharge()
			return sent(done, sys.EFAULT)
		}
		if done == 0 {
			m.rights = dupRights(rights)
			attachRights(m.rights)
		}
		other.mu.Lock()
		if other.dead || other.shutdown&rcvShutdown != 0 {
			other.mu.Unlock()
			m.free()
			if done == 0 && !nosig {
				ctx.SendSIGPIPE()
			}
			return sent(done, sys.EPIPE)
		}
		e.maybeAddCreds(ctx, m, other)
		other.recvq.push(m)
		other.mu.Unlock()
		other.queue.Notify(waiter.ReadableEvents)
		done += size
	}
	return done, nil
}

// sendDgram is unix_dgram_sendmsg() for datagram and seqpacket sockets:
// one message, at most the send buffer less 32 bytes (EMSGSIZE), to the
// connected peer or to addr. A receiver not connected back to the sender
// takes at most max_dgram_qlen+1 queued messages; the sender waits for
// room unless non-blocking (EAGAIN).
func (e *endpoint) sendDgram(ctx socket.Context, src socket.IOSequence, to []byte, ctl *socket.ControlMessages, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 {
		return 0, sys.EOPNOTSUPP
	}
	var other *endpoint
	if len(to) != 0 {
		if err := validateAddr(to); err != nil {
			return 0, err
		}
	} else {
		e.mu.Lock()
		other = e.peer
		e.mu.Unlock()
		if other == nil {
			return 0, sys.ENOTCONN
		}
	}
	if err := e.autobindForCreds(); err != nil {
		return 0, err
	}
	n := src.Len()
	if n > e.opts.SndBuf()-dgramOverhead {
		return 0, sys.EMSGSIZE
	}
	t, deadline, noWait := e.sendTimeout(flags)
	cost := dgramCost(n)
	if err := e.allocSend(ctx, cost, t, deadline, noWait); err != nil {
		return 0, err
	}
	m := &message{data: make([]byte, n), from: e, truesize: cost}
	if ctl != nil {
		m.creds = ctl.Creds
		m.rights = dupRights(ctl.Rights)
		attachRights(m.rights)
	}
	if _, err := src.CopyIn(0, m.data); err != nil {
		m.free()
		return 0, sys.EFAULT
	}
	for {
		if other == nil {
			if len(to) == 0 {
				m.free()
				return 0, sys.ECONNRESET
			}
			o, err := e.find(ctx, to)
			if err != nil {
				m.free()
				return 0, err
			}
			other = o
		}
		other.mu.Lock()
		if other.peer != nil && other.peer != e {
			other.mu.Unlock()
			m.free()
			return 0, sys.EPERM
		}
		if other.dead {
			other.mu.Unlock()
			if e.stype == sys.SOCK_SEQPACKET {
				m.free()
				return 0, sys.EPIPE
			}
			e.mu.Lock()
			if e.peer == other {
				// Our peer died: disconnect (ECONNREFUSED).
				e.peer = nil
				e.state = stateClose
				e.mu.Unlock()
				e.relayTo(nil)
				e.queue.Notify(waiter.WritableEvents)
				e.dgramDisconnected(other)
				m.free()
				return 0, sys.ECONNREFUSED
			}
			e.mu.Unlock()
			other = nil
			continue
		}
		if other.shutdown&rcvShutdown != 0 {
			other.mu.Unlock()
			m.free()
			return 0, sys.EPIPE
		}
		if other != e && other.peer != e && other.recvqFullLocked() {
			other.mu.Unlock()
			if noWait {
				m.free()
				return 0, sys.EAGAIN
			}
			o := other
			err := waitUntil(ctx, peerWaitable{o}, waiter.AllEvents, t, deadline, func() bool {
				o.mu.Lock()
				defer o.mu.Unlock()
				return o.dead || o.shutdown&rcvShutdown != 0 || !o.recvqFullLocked()
			})
			if err != nil {
				m.free()
				return 0, err
			}
			continue
		}
		e.maybeAddCreds(ctx, m, other)
		other.recvq.push(m)
		other.mu.Unlock()
		other.queue.Notify(waiter.ReadableEvents)
		return n, nil
	}
}

// RecvMsg implements socket.Socket.
func (e *endpoint) RecvMsg(ctx socket.Context, dst socket.IOSequence, flags int) (socket.RecvResult, error) {
	if flags&sys.MSG_OOB != 0 {
		return socket.RecvResult{}, sys.EOPNOTSUPP
	}
	switch e.stype {
	case sys.SOCK_STREAM:
		return e.recvStream(ctx, dst, flags)
	case sys.SOCK_SEQPACKET:
		e.mu.Lock()
		est := e.state == stateEstablished
		e.mu.Unlock()
		if !est {
			return socket.RecvResult{}, sys.ENOTCONN
		}
	}
	return e.recvDgram(ctx, dst, flags)
}

// recvTimeout returns the receive timeout for flags.
func (e *endpoint) recvTimeout(flags int) (socket.Timeout, time.Time, bool) {
	t := e.opts.RcvTimeout()
	if flags&sys.MSG_DONTWAIT != 0 {
		t = 0
	}
	d, noWait := t.Deadline()
	return t, d, noWait
}

// sameCreds reports whether two messages' credentials are the same
// writer's (unix_skb_scm_eq()).
func sameCreds(a, b *socket.Credentials) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// recvStream is unix_stream_read_generic(): it returns what is queued, up
// to the buffer, waiting for at least the low-water mark (all of it with
// MSG_WAITALL). With SO_PASSCRED, data from different writers is not
// glued together; a message carrying files ends the read.
func (e *endpoint) recvStream(ctx socket.Context, dst socket.IOSequence, flags int) (socket.RecvResult, error) {
	var res socket.RecvResult
	e.mu.Lock()
	est := e.state == stateEstablished
	e.mu.Unlock()
	if !est {
		return res, sys.EINVAL
	}
	size := dst.Len()
	target := min(e.opts.RcvLowat(), size)
	if flags&sys.MSG_WAITALL != 0 {
		target = size
	}
	target = max(target, 1)
	t, deadline, noWait := e.recvTimeout(flags)
	peek := flags&sys.MSG_PEEK != 0
	passcred := e.opts.PassCred()

	copied := 0
	// taken are the files received from the queue (not peeked copies):
	// they leave the in-flight accounting.
	var taken []*vfs.FileDescription
	checkCreds := false
	var scm *socket.Credentials
	gotAddr := false
	var freed []*message
	// done ends an attempt with the data read so far.
	var done = struct{}{}
	attempt := func() (struct{}, error) {
		e.ioMu.Lock()
		defer e.ioMu.Unlock()
		e.mu.Lock()
		defer func() {
			e.mu.Unlock()
			for _, m := range freed {
				m.uncharge()
			}
			freed = nil
		}()
		i := 0
		for {
			var m *message
			if i < e.recvq.len() {
				m = e.recvq.at(i)
			}
			if m == nil {
				if copied >= target {
					return done, nil
				}
				if err := e.takeErrLocked(); err != nil {
					return done, err
				}
				if e.shutdown&rcvShutdown != 0 {
					return done, nil
				}
				return done, sys.EAGAIN
			}
			if checkCreds {
				if !sameCreds(m.creds, scm) {
					return done, nil
				}
			} else if passcred {
				scm = m.creds
				checkCreds = true
			}
			if !gotAddr && m.from != nil {
				res.From = m.from.name()
				gotAddr = true
			}
			chunk := min(m.unread(), size-copied)
			data := m.data[m.consumed : m.consumed+chunk]
			e.mu.Unlock()
			_, err := dst.CopyOut(copied, data)
			e.mu.Lock()
			if err != nil {
				if copied == 0 {
					return done, sys.EFAULT
				}
				return done, nil
			}
			copied += chunk
			if !peek {
				m.consumed += chunk
				got := len(m.rights) > 0
				if got {
					res.Rights = append(res.Rights, m.rights...)
					taken = append(taken, m.rights...)
					m.rights = nil
				}
				if m.unread() > 0 {
					return done, nil
				}
				e.recvq.pop()
				freed = append(freed, m)
				if got {
					return done, nil
				}
			} else {
				if len(m.rights) > 0 {
					res.Rights = append(res.Rights, dupRights(m.rights)...)
					return done, nil
				}
				i++
				if i >= e.recvq.len() {
					return done, nil
				}
			}
			if copied >= size {
				return done, nil
			}
		}
	}
	_, err := vfs.BlockOn(ctx, e, readEvents, noWait, deadline, attempt)
	detachRights(taken)
	if err != nil {
		err = waitErr(err, t)
		if copied == 0 || err == syserr.ERestartSys || err == sys.EINTR {
			// Interrupted after some data: the data counts, the
			// control data is dropped (scm_destroy()).
			res.ReleaseRights()
			if copied == 0 {
				return socket.RecvResult{}, err
			}
			return socket.RecvResult{N: copied, From: res.From}, nil
		}
	}
	res.N = copied
	if passcred {
		switch {
		case !checkCreds:
			res.Creds = &socket.Credentials{}
		case scm == nil:
			c := unknownCreds
			res.Creds = &c
		default:
			c := *scm
			res.Creds = &c
		}
	}
	return res, nil
}

// recvDgram is __unix_dgram_recvmsg() for datagram and seqpacket sockets:
// one message per call, cut to the buffer (MSG_TRUNC in the flags; with
// MSG_TRUNC asked for, the full length is returned). A shut-down socket
// reads EOF; a non-blocking datagram socket then still says EAGAIN, a
// seqpacket one EOF.
func (e *endpoint) recvDgram(ctx socket.Context, dst socket.IOSequence, flags int) (socket.RecvResult, error) {
	var res socket.RecvResult
	t, deadline, noWait := e.recvTimeout(flags)
	peek := flags&sys.MSG_PEEK != 0
	passcred := e.opts.PassCred()

	type got struct {
		m      *message
		data   []byte
		creds  *socket.Credentials
		rights []*vfs.FileDescription
	}
	// Each attempt takes ioMu; one that got a message returns with it
	// held, so that the copy out is not overtaken by another receiver,
	// and waits happen without it.
	g, err := vfs.BlockOn(ctx, e, readEvents, noWait, deadline, func() (*got, error) {
		e.ioMu.Lock()
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := e.takeErrLocked(); err != nil {
			e.ioMu.Unlock()
			return nil, err
		}
		m := e.recvq.front()
		if m == nil {
			e.ioMu.Unlock()
			shut := e.shutdown&rcvShutdown != 0
			if noWait {
				if e.stype == sys.SOCK_SEQPACKET && shut {
					return nil, nil
				}
				return nil, sys.EAGAIN
			}
			if shut {
				return nil, nil
			}
			if e.stype == sys.SOCK_SEQPACKET && e.state != stateEstablished && e.state != stateListen {
				return nil, sys.ENOTCONN
			}
			return nil, sys.EAGAIN
		}
		r := &got{m: m, data: m.data, creds: m.creds}
		if peek {
			r.rights = dupRights(m.rights)
		} else {
			e.recvq.pop()
			r.rights, m.rights = m.rights, nil
		}
		return r, nil
	})
	if err != nil {
		return res, waitErr(err, t)
	}
	if g == nil {
		return res, nil // EOF
	}
	defer e.ioMu.Unlock()
	if !peek {
		detachRights(g.rights)
	}
	e.peerWait.Notify(waiter.WritableEvents)
	if !peek {
		defer g.m.uncharge()
	}
	res.Rights = g.rights
	if g.m.from != nil {
		res.From = g.m.from.name()
	}
	n := len(g.data)
	c := min(n, dst.Len())
	if c < n {
		res.Flags |= sys.MSG_TRUNC
	}
	if _, err := dst.CopyOut(0, g.data[:c]); err != nil {
		res.ReleaseRights()
		return socket.RecvResult{}, sys.EFAULT
	}
	res.N = c
	if flags&sys.MSG_TRUNC != 0 {
		res.N = n
	}
	if passcred {
		cr := unknownCreds
		if g.creds != nil {
			cr = *g.creds
		}
		res.Creds = &cr
	}
	return res, nil
}
