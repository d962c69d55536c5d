package netstack

import (
	"encoding/binary"
	"io"
	"time"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/socket"
	"pangolin/sentry/syserr"
)

// seqWriter is an io.Writer into an IOSequence from an offset: what
// netstack's Read copies received data into. When the sequence is full
// it reports a short write, which ends netstack's copy.
type seqWriter struct {
	seq socket.IOSequence
	off int
}

func (w *seqWriter) Write(p []byte) (int, error) {
	n, err := w.seq.CopyOut(w.off, p)
	w.off += n
	if err != nil {
		return n, err
	}
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// seqReader is a tcpip.Payloader over an IOSequence from an offset: what
// netstack's Write copies data to send from. Successive writes of one
// send continue where the previous one stopped.
type seqReader struct {
	seq socket.IOSequence
	off int
}

func (r *seqReader) Read(p []byte) (int, error) {
	if r.off >= r.seq.Len() {
		return 0, io.EOF
	}
	n, err := r.seq.CopyIn(r.off, p)
	r.off += n
	return n, err
}

// Len implements tcpip.Payloader.
func (r *seqReader) Len() int { return r.seq.Len() - r.off }

// Send flags Linux's inet protocols accept; others are ignored as they
// are by tcp_sendmsg() and udp_sendmsg().
const msgFastopen = 0x20000000

// SendMsg implements socket.Socket (tcp_sendmsg(), udp_sendmsg(),
// ping_v4_sendmsg(), raw_sendmsg()).
func (s *sock) SendMsg(ctx socket.Context, src socket.IOSequence, to, control []byte, flags int) (int, error) {
	if flags&sys.MSG_OOB != 0 && (s.isStream() || s.stype == sys.SOCK_DGRAM) {
		// Urgent data: netstack has none. UDP has no MSG_OOB either
		// (udp_sendmsg(): EOPNOTSUPP).
		return 0, sys.EOPNOTSUPP
	}
	if flags&msgFastopen != 0 && s.isStream() {
		return 0, sys.EOPNOTSUPP
	}
	cm, err := s.parseControl(ctx, control)
	if err != nil {
		return 0, err
	}
	opts := tcpip.WriteOptions{
		More:            flags&sys.MSG_MORE != 0,
		EndOfRecord:     flags&sys.MSG_EOR != 0,
		ControlMessages: cm,
	}
	if len(to) > 0 && !s.isStream() {
		if familyOf(to) == sys.AF_UNSPEC && s.family == sys.AF_INET && len(to) >= sockaddrInLen {
			// udp_sendmsg() takes AF_UNSPEC as AF_INET.
			to = append([]byte(nil), to...)
			binary.LittleEndian.PutUint16(to, sys.AF_INET)
		}
		a, err := s.inetAddr(to)
		switch {
		case err == errV4OnV6Only:
			return 0, sys.ENETUNREACH
		case err != nil:
			return 0, err
		}
		addr := a.addr
		if s.family == sys.AF_INET6 && !isLinkLocal(addr.Addr) {
			addr.NIC = 0
		}
		if s.stype == sys.SOCK_RAW {
			addr.Port = 0
		}
		opts.To = &addr
	}
	timeo := s.opts.SndTimeout()
	if flags&sys.MSG_DONTWAIT != 0 {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	r := &seqReader{seq: src}
	total := 0
	_, err = vfs.BlockOn(ctx, s, waiter.WritableEvents|waiter.EventErr|waiter.EventHUp, noWait, deadline, func() (struct{}, error) {
		n, terr := s.ep.Write(r, opts)
		total += int(n)
		switch terr.(type) {
		case nil:
			if s.isStream() && r.Len() > 0 {
				// A stream send blocks until everything is
				// queued (tcp_sendmsg()'s wait for memory).
				return struct{}{}, sys.EAGAIN
			}
			return struct{}{}, nil
		case *tcpip.ErrWouldBlock:
			return struct{}{}, sys.EAGAIN
		}
		return struct{}{}, s.sendErr(terr)
	})
	if err != nil && total > 0 && s.isStream() {
		// Some data went: report it (an interrupted or timed-out
		// send, or an error after the first bytes).
		return total, nil
	}
	if err != nil && s.isStream() {
		s.consumeError()
	}
	if err == sys.EPIPE && s.isStream() && flags&sys.MSG_NOSIGNAL == 0 {
		ctx.SendSIGPIPE()
	}
	if err != nil {
		return total, waitErr(err, timeo)
	}
	return total, nil
}

// sendErr translates a Write failure: writing on a TCP socket that is
// not connected is EPIPE (sk_stream_wait_connect()); a datagram socket
// without a destination is EDESTADDRREQ; no route is ENETUNREACH.
func (s *sock) sendErr(terr tcpip.Error) error {
	switch terr.(type) {
	case *tcpip.ErrNotConnected, *tcpip.ErrClosedForSend:
		if s.isStream() {
			return sys.EPIPE
		}
		if _, ok := terr.(*tcpip.ErrNotConnected); ok {
			return sys.EDESTADDRREQ
		}
		return sys.EPIPE
	case *tcpip.ErrHostUnreachable, *tcpip.ErrNoNet:
		return sys.ENETUNREACH
	case *tcpip.ErrInvalidEndpointState:
		if s.isStream() {
			return sys.EPIPE
		}
	}
	return translateError(terr)
}

// Control message types of SOL_IP and SOL_IPV6.
const (
	ipTTL          = 2
	ipTOS          = 1
	ipPktinfo      = 8
	ipv6Pktinfo    = 50
	ipv6HopLimit   = 52
	ipv6TClass     = 67
	soTimestamp    = 29
	soTimestampNS  = 35
	scmTimestamp   = soTimestamp
	scmTimestampNS = soTimestampNS
)

// parseControl validates sendmsg's control data for an inet socket
// (ip_cmsg_send(), ip6_datagram_send_ctl(); TCP only checks the
// SOL_SOCKET ones, sock_cmsg_send()): malformed headers are EINVAL;
// SOL_SOCKET messages other than the few Linux knows are EINVAL (there are
// no SCM_RIGHTS on inet sockets); IP_TTL and IPV6_HOPLIMIT set the send's
// TTL.
func (s *sock) parseControl(ctx socket.Context, buf []byte) (tcpip.SendableControlMessages, error) {
	var cm tcpip.SendableControlMessages
	for off := 0; len(buf)-off >= socket.CmsgHdrLen; {
		clen := binary.LittleEndian.Uint64(buf[off:])
		level := int32(binary.LittleEndian.Uint32(buf[off+8:]))
		typ := int32(binary.LittleEndian.Uint32(buf[off+12:]))
		if clen < socket.CmsgHdrLen || clen > uint64(len(buf)-off) {
			return cm, sys.EINVAL
		}
		data := buf[off+socket.CmsgHdrLen : off+int(clen)]
		switch {
		case level == sys.SOL_SOCKET:
			// __sock_cmsg_send(): SO_MARK (CAP_NET_ADMIN),
			// timestamping and SCM_TXTIME need features netstack
			// has not; everything else is EINVAL.
			return cm, sys.EINVAL
		case s.isStream():
		case level == sys.SOL_IP && s.family == sys.AF_INET:
			switch typ {
			case ipTTL:
				if len(data) != 4 {
					return cm, sys.EINVAL
				}
				v := int32(binary.LittleEndian.Uint32(data))
				if v < 1 || v > 255 {
					return cm, sys.EINVAL
				}
				cm.HasTTL, cm.TTL = true, uint8(v)
			case ipTOS:
				// Accepted and not applied per packet: netstack
				// sends with the socket's TOS.
				if len(data) != 1 && len(data) != 4 {
					return cm, sys.EINVAL
				}
			case ipPktinfo:
				if len(data) != 12 {
					return cm, sys.EINVAL
				}
			default:
				return cm, sys.EINVAL
			}
		case level == sys.SOL_IPV6 && s.family == sys.AF_INET6:
			switch typ {
			case ipv6HopLimit:
				if len(data) != 4 {
					return cm, sys.EINVAL
				}
				v := int32(binary.LittleEndian.Uint32(data))
				if v < -1 || v > 255 {
					return cm, sys.EINVAL
				}
				if v >= 0 {
					cm.HasHopLimit, cm.HopLimit = true, uint8(v)
				}
			case ipv6Pktinfo:
				if len(data) != 20 {
					return cm, sys.EINVAL
				}
				cm.HasIPv6PacketInfo = true
				cm.IPv6PacketInfo = tcpip.IPv6PacketInfo{
					Addr: tcpip.AddrFrom16Slice(data[:16]),
					NIC:  tcpip.NICID(binary.LittleEndian.Uint32(data[16:])),
				}
				if isUnspecified(cm.IPv6PacketInfo.Addr) {
					cm.IPv6PacketInfo.Addr = tcpip.Address{}
				}
			case ipv6TClass:
				if len(data) != 4 {
					return cm, sys.EINVAL
				}
			default:
				return cm, sys.EINVAL
			}
		}
		off += socket.CmsgAlign(int(clen))
		if off+socket.CmsgHdrLen > len(buf) {
			break
		}
	}
	return cm, nil
}

// RecvMsg implements socket.Socket (tcp_recvmsg(), udp_recvmsg(),
// raw_recvmsg(), ping_recvmsg()).
func (s *sock) RecvMsg(ctx socket.Context, dst socket.IOSequence, flags int) (socket.RecvResult, error) {
	if flags&sys.MSG_ERRQUEUE != 0 {
		// Nothing is ever queued on the error queue.
		return socket.RecvResult{}, sys.EAGAIN
	}
	if flags&sys.MSG_OOB != 0 {
		if s.isStream() {
			// No urgent data is ever pending (tcp_recv_urg()).
			return socket.RecvResult{}, sys.EINVAL
		}
		return socket.RecvResult{}, sys.EOPNOTSUPP
	}
	timeo := s.opts.RcvTimeout()
	if flags&sys.MSG_DONTWAIT != 0 {
		timeo = 0
	}
	deadline, noWait := timeo.Deadline()
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.isStream() {
		return s.recvStream(ctx, dst, flags, timeo, deadline, noWait)
	}
	return s.recvDgram(ctx, dst, flags, timeo, deadline, noWait)
}

// recvStream reads from a TCP socket: it returns once at least the
// low-water mark (or with MSG_WAITALL everything asked for) was read, at
// end of file, or on an error after which nothing more will come. A
// signal or timeout after some data returns that data. MSG_TRUNC
// discards the data instead of copying it; with MSG_PEEK it reports how
// much could be read.
//
// Preconditions: s.readMu is held.
func (s *sock) recvStream(ctx socket.Context, dst socket.IOSequence, flags int, timeo socket.Timeout, deadline time.Time, noWait bool) (socket.RecvResult, error) {
	peek := flags&sys.MSG_PEEK != 0
	trunc := flags&sys.MSG_TRUNC != 0
	target := min(max(s.opts.RcvLowat(), 1), dst.Len())
	if flags&sys.MSG_WAITALL != 0 && !peek {
		target = dst.Len()
	}
	if dst.Len() == 0 {
		// tcp_recvmsg_locked() with nothing to copy: done at once,
		// except on a listener.
		if s.ep.SocketOptions().GetAcceptConn() {
			return socket.RecvResult{}, sys.ENOTCONN
		}
		return socket.RecvResult{}, nil
	}
	copied := 0
	_, err := vfs.BlockOn(ctx, s, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, noWait, deadline, func() (struct{}, error) {
		for {
			var w io.Writer = &seqWriter{seq: dst, off: copied}
			if trunc {
				w = &tcpip.LimitedWriter{W: io.Discard, N: int64(dst.Len() - copied)}
			}
			if peek && trunc {
				q, terr := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
				if terr == nil && q > 0 {
					copied = min(q, dst.Len())
					return struct{}{}, nil
				}
			}
			res, terr := s.ep.Read(w, tcpip.ReadOptions{Peek: peek})
			switch terr.(type) {
			case nil:
				if !peek && res.Count > 0 {
					s.ep.ModerateRecvBuf(res.Count)
				}
				copied += res.Count
				if peek || copied >= target || res.Count == 0 {
					return struct{}{}, nil
				}
				continue
			case *tcpip.ErrWouldBlock:
				if copied >= target {
					return struct{}{}, nil
				}
				return struct{}{}, sys.EAGAIN
			case *tcpip.ErrClosedForReceive:
				// End of file.
				return struct{}{}, nil
			case *tcpip.ErrBadBuffer:
				if dst.Len()-copied == 0 {
					return struct{}{}, nil
				}
				if copied > 0 {
					return struct{}{}, nil
				}
				return struct{}{}, sys.EFAULT
			case *tcpip.ErrNotConnected, *tcpip.ErrInvalidEndpointState:
				if copied > 0 {
					return struct{}{}, nil
				}
				return struct{}{}, sys.ENOTCONN
			default:
				if copied > 0 {
					return struct{}{}, nil
				}
				s.consumeError()
				return struct{}{}, translateError(terr)
			}
		}
	})
	if err != nil {
		if copied > 0 && (err == sys.ETIMEDOUT || err == syserr.ERestartSys || err == sys.EAGAIN) {
			return socket.RecvResult{N: copied}, nil
		}
		return socket.RecvResult{}, waitErr(err, timeo)
	}
	return socket.RecvResult{N: copied}, nil
}

// recvDgram receives one datagram: with MSG_TRUNC the result is its full
// length; a datagram longer than the buffer is cut and flagged MSG_TRUNC.
//
// Preconditions: s.readMu is held.
func (s *sock) recvDgram(ctx socket.Context, dst socket.IOSequence, flags int, timeo socket.Timeout, deadline time.Time, noWait bool) (socket.RecvResult, error) {
	peek := flags&sys.MSG_PEEK != 0
	var res tcpip.ReadResult
	r, err := vfs.BlockOn(ctx, s, waiter.ReadableEvents|waiter.EventErr, noWait, deadline, func() (tcpip.ReadResult, error) {
		res, terr := s.ep.Read(&seqWriter{seq: dst}, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: true})
		switch terr.(type) {
		case nil:
			return res, nil
		case *tcpip.ErrBadBuffer:
			if dst.Len() == 0 {
				return res, nil
			}
			return res, sys.EFAULT
		case *tcpip.ErrWouldBlock:
			return res, sys.EAGAIN
		case *tcpip.ErrClosedForReceive:
			// Shut down for reading: an empty read
			// (__skb_recv_datagram() with sk_shutdown).
			return tcpip.ReadResult{}, errEOF
		}
		return res, translateError(terr)
	})
	res = r
	if err == errEOF {
		return socket.RecvResult{}, nil
	}
	if err != nil {
		return socket.RecvResult{}, waitErr(err, timeo)
	}
	out := socket.RecvResult{N: res.Count, From: encodeAddr(s.family, res.RemoteAddr)}
	if res.Total > res.Count {
		out.Flags |= sys.MSG_TRUNC
	}
	if flags&sys.MSG_TRUNC != 0 {
		out.N = res.Total
	}
	out.Cmsgs = s.recvCmsgs(res.ControlMessages)
	return out, nil
}

// errEOF marks a datagram receive on a socket shut down for reading.
var errEOF = sys.Errno(0xfffe)

// recvCmsgs builds the control messages a received datagram carries:
// the timestamp (sock_recv_timestamp()), then the IP level ones in
// ip_cmsg_recv_offset()'s order (IP_PKTINFO, IP_TTL, IP_TOS) or IPv6's
// (IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS).
func (s *sock) recvCmsgs(cm tcpip.ReceivableControlMessages) []socket.Cmsg {
	var out []socket.Cmsg
	s.mu.Lock()
	ts := s.timestamp
	s.mu.Unlock()
	if ts != 0 && cm.HasTimestamp {
		t := cm.Timestamp
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, uint64(t.Unix()))
		if ts == soTimestamp {
			binary.LittleEndian.PutUint64(b[8:], uint64(t.Nanosecond()/1000))
		} else {
			binary.LittleEndian.PutUint64(b[8:], uint64(t.Nanosecond()))
		}
		out = append(out, socket.Cmsg{Level: sys.SOL_SOCKET, Type: int32(ts), Data: b})
	}
	if cm.HasIPPacketInfo {
		b := make([]byte, 12)
		binary.LittleEndian.PutUint32(b, uint32(cm.PacketInfo.NIC))
		copy(b[4:8], cm.PacketInfo.LocalAddr.AsSlice())
		copy(b[8:12], cm.PacketInfo.DestinationAddr.AsSlice())
		out = append(out, socket.Cmsg{Level: sys.SOL_IP, Type: ipPktinfo, Data: b})
	}
	if cm.HasTTL {
		out = append(out, socket.Cmsg{Level: sys.SOL_IP, Type: ipTTL, Data: socket.Int(int32(cm.TTL))})
	}
	if cm.HasTOS {
		out = append(out, socket.Cmsg{Level: sys.SOL_IP, Type: ipTOS, Data: []byte{cm.TOS}})
	}
	if cm.HasIPv6PacketInfo {
		b := make([]byte, 20)
		copy(b, cm.IPv6PacketInfo.Addr.AsSlice())
		binary.LittleEndian.PutUint32(b[16:], uint32(cm.IPv6PacketInfo.NIC))
		out = append(out, socket.Cmsg{Level: sys.SOL_IPV6, Type: ipv6Pktinfo, Data: b})
	}
	if cm.HasHopLimit {
		out = append(out, socket.Cmsg{Level: sys.SOL_IPV6, Type: ipv6HopLimit, Data: socket.Int(int32(cm.HopLimit))})
	}
	if cm.HasTClass {
		out = append(out, socket.Cmsg{Level: sys.SOL_IPV6, Type: ipv6TClass, Data: socket.Int(int32(cm.TClass))})
	}
	return out
}
