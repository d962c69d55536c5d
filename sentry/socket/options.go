package socket

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

var le = binary.LittleEndian

// Buffer sizes (net/core/sock.c and the net.core sysctls at their
// defaults). setsockopt doubles the requested size to account for
// bookkeeping overhead, as Linux does, and getsockopt reports the doubled
// value.
const (
	// DefaultBufSize is net.core.wmem_default and rmem_default.
	DefaultBufSize = 212992
	// MaxBufSize is net.core.wmem_max and rmem_max.
	MaxBufSize = 212992
	// MinSndBuf and MinRcvBuf are SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF:
	// 2 and 1 times (2048 + the aligned size of struct sk_buff).
	MinSndBuf = 4608
	MinRcvBuf = 2304
)

// Somaxconn is net.core.somaxconn: listen(2) clamps the backlog to it.
const Somaxconn = 4096

// OptMemMax is net.core.optmem_max: sendmsg control data longer than this
// fails with ENOBUFS (sock_kmalloc()).
const OptMemMax = 131072

// HZ is the tick rate socket timeouts are counted in (SO_RCVTIMEO and
// SO_SNDTIMEO are rounded up to whole ticks, and getsockopt shows the
// rounded value, as on a CONFIG_HZ=250 kernel).
const HZ = 250

// MaxScheduleTimeout is MAX_SCHEDULE_TIMEOUT: "no timeout".
const MaxScheduleTimeout = math.MaxInt64

// CapNetAdmin is CAP_NET_ADMIN.
const CapNetAdmin = 12

// SOL_SOCKET option numbers not in x/sys/unix under these names.
const (
	soRcvtimeoNew = 66
	soSndtimeoNew = 67
)

// Timeout is a socket timeout in ticks (sk_rcvtimeo, sk_sndtimeo):
// MaxScheduleTimeout means none, 0 means do not block at all (what a
// negative timeval sets).
type Timeout int64

// Deadline returns when a blocking operation starting now gives up (zero:
// never) and whether it may not block at all.
func (t Timeout) Deadline() (deadline time.Time, nonblock bool) {
	switch t {
	case MaxScheduleTimeout:
		return time.Time{}, false
	case 0:
		return time.Time{}, true
	}
	return time.Now().Add(time.Duration(t) * (time.Second / HZ)), false
}

// Bounded reports whether the timeout is finite: an interrupted wait then
// fails with EINTR rather than being restarted (sock_intr_errno()).
func (t Timeout) Bounded() bool { return t != MaxScheduleTimeout }

// parseTimeval converts SO_RCVTIMEO/SO_SNDTIMEO's struct timeval
// (sock_set_timeout()): EINVAL if short, EDOM for bad microseconds; a
// negative time means 0 (never block), {0, 0} means no timeout.
func parseTimeval(b []byte) (Timeout, error) {
	if len(b) < 16 {
		return 0, unix.EINVAL
	}
	sec, usec := int64(le.Uint64(b)), int64(le.Uint64(b[8:]))
	if usec < 0 || usec >= 1000000 {
		return 0, unix.EDOM
	}
	if sec < 0 {
		return 0, nil
	}
	if (sec == 0 && usec == 0) || sec >= MaxScheduleTimeout/HZ-1 {
		return MaxScheduleTimeout, nil
	}
	return Timeout(sec*HZ + (usec+1000000/HZ-1)/(1000000/HZ)), nil
}

// timeval encodes a timeout for getsockopt (sock_get_timeout()).
func (t Timeout) timeval() []byte {
	b := make([]byte, 16)
	if t != MaxScheduleTimeout {
		le.PutUint64(b, uint64(int64(t)/HZ))
		le.PutUint64(b[8:], uint64(int64(t)%HZ*1000000/HZ))
	}
	return b
}

// Int encodes an int option value.
func Int(v int32) []byte {
	b := make([]byte, 4)
	le.PutUint32(b, uint32(v))
	return b
}

// Bool encodes a boolean option value.
func Bool(v bool) []byte {
	if v {
		return Int(1)
	}
	return Int(0)
}

// OptVal is setsockopt(2)'s value: optlen as the app passed it, and its
// memory, read only as far as an option needs (copy_from_sockptr()), so
// a value shorter than optlen at the end of a mapping still works.
type OptVal struct {
	// Len is optlen (>= 0).
	Len  int
	read func(n int) ([]byte, error)
}

// NewOptVal returns an OptVal of length n whose bytes come from read.
func NewOptVal(n int, read func(n int) ([]byte, error)) OptVal { return OptVal{Len: n, read: read} }

// BytesOptVal returns an OptVal holding b.
func BytesOptVal(b []byte) OptVal {
	return OptVal{Len: len(b), read: func(n int) ([]byte, error) { return b[:n], nil }}
}

// Bytes returns the first n bytes (n <= Len), or EFAULT.
func (o OptVal) Bytes(n int) ([]byte, error) {
	if n > o.Len {
		return nil, unix.EINVAL
	}
	return o.read(n)
}

// Int reads an int value: setsockopt needs at least an int (EINVAL
// otherwise).
func (o OptVal) Int() (int32, error) {
	if o.Len < 4 {
		return 0, unix.EINVAL
	}
	b, err := o.read(4)
	if err != nil {
		return 0, err
	}
	return int32(le.Uint32(b)), nil
}

// Truncate returns at most n bytes of an option value, as getsockopt
// copies min(optlen, size) bytes.
func Truncate(v []byte, n int) []byte {
	if n < len(v) {
		return v[:n]
	}
	return v
}

// Options are the SOL_SOCKET options every family stores the same way
// (struct sock's generic fields and flags, sk_setsockopt() and
// sk_getsockopt()). Families handle the options whose meaning is theirs
// (SO_TYPE, SO_ERROR, SO_PEERCRED, ...) and pass the rest here.
type Options struct {
	mu sync.Mutex
	// All fields are protected by mu.
	sndbuf, rcvbuf     int32
	rcvtimeo, sndtimeo Timeout
	lingerOn           bool
	linger             int64 // ticks
	reuseAddr          bool
	keepAlive          bool
	oobInline          bool
	broadcast          bool
	dontRoute          bool
	debug              bool
	noCheck            bool
	passCred           bool
	priority           int32
	rcvLowat           int32
	mark               uint32
}

// NewOptions returns the options of a new socket (sock_init_data()).
func NewOptions() *Options {
	return &Options{
		sndbuf:   DefaultBufSize,
		rcvbuf:   DefaultBufSize,
		rcvtimeo: MaxScheduleTimeout,
		sndtimeo: MaxScheduleTimeout,
		rcvLowat: 1,
	}
}

// Clone returns a copy of the options, as a connection accepted from a
// listener starts with the listener's (sk_clone_lock()).
func (o *Options) Clone() *Options {
	o.mu.Lock()
	defer o.mu.Unlock()
	return &Options{
		sndbuf: o.sndbuf, rcvbuf: o.rcvbuf, rcvtimeo: o.rcvtimeo, sndtimeo: o.sndtimeo,
		lingerOn: o.lingerOn, linger: o.linger, reuseAddr: o.reuseAddr, keepAlive: o.keepAlive,
		oobInline: o.oobInline, broadcast: o.broadcast, dontRoute: o.dontRoute, debug: o.debug,
		noCheck: o.noCheck, passCred: o.passCred, priority: o.priority, rcvLowat: o.rcvLowat, mark: o.mark,
	}
}

// SndBuf returns sk_sndbuf.
func (o *Options) SndBuf() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int(o.sndbuf)
}

// RcvTimeout returns sk_rcvtimeo.
func (o *Options) RcvTimeout() Timeout {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rcvtimeo
}

// SndTimeout returns sk_sndtimeo.
func (o *Options) SndTimeout() Timeout {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sndtimeo
}

// RcvLowat returns sk_rcvlowat (SO_RCVLOWAT).
func (o *Options) RcvLowat() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int(o.rcvLowat)
}

// PassCred reports SO_PASSCRED.
func (o *Options) PassCred() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.passCred
}

// SetPassCred sets SO_PASSCRED (accept(2) inherits it from the listener).
func (o *Options) SetPassCred(v bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.passCred = v
}

// setBuf applies SO_SNDBUF/SO_RCVBUF's rule: clamp to the maximum (as an
// unsigned value, so negative sizes are huge), keep val*2 in an int,
// double, and enforce the minimum.
func setBuf(val int32, max, min int64, force bool) int32 {
	v := int64(uint32(val))
	if force {
		if val < 0 {
			v = 0
		}
	} else if v > max {
		v = max
	}
	if v > math.MaxInt32/2 {
		v = math.MaxInt32 / 2
	}
	v *= 2
	if v < min {
		v = min
	}
	return int32(v)
}

// Set applies a generic SOL_SOCKET option. It returns ENOPROTOOPT for
// options it does not know (sk_setsockopt()'s default).
func (o *Options) Set(creds *auth.Credentials, name int, opt OptVal) error {
	val, err := opt.Int()
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	on := val != 0
	switch name {
	case unix.SO_DEBUG:
		if on && !creds.HasCapability(CapNetAdmin) {
			return unix.EACCES
		}
		o.debug = on
	case unix.SO_REUSEADDR:
		o.reuseAddr = on
	case unix.SO_REUSEPORT:
		// Only inet sockets can share ports (sk_is_inet()).
		if on {
			return unix.EOPNOTSUPP
		}
	case unix.SO_DONTROUTE:
		o.dontRoute = on
	case unix.SO_BROADCAST:
		o.broadcast = on
	case unix.SO_SNDBUF:
		o.sndbuf = setBuf(val, MaxBufSize, MinSndBuf, false)
	case unix.SO_RCVBUF:
		o.rcvbuf = setBuf(val, MaxBufSize, MinRcvBuf, false)
	case unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE:
		if !creds.HasCapability(CapNetAdmin) {
			return unix.EPERM
		}
		if name == unix.SO_SNDBUFFORCE {
			o.sndbuf = setBuf(val, 0, MinSndBuf, true)
		} else {
			o.rcvbuf = setBuf(val, 0, MinRcvBuf, true)
		}
	case unix.SO_KEEPALIVE:
		o.keepAlive = on
	case unix.SO_OOBINLINE:
		o.oobInline = on
	case unix.SO_NO_CHECK:
		o.noCheck = on
	case unix.SO_PRIORITY:
		// CAP_NET_RAW (13) or CAP_NET_ADMIN for priorities beyond 0..6.
		if (val < 0 || val > 6) && !creds.HasCapability(13) && !creds.HasCapability(CapNetAdmin) {
			return unix.EPERM
		}
		o.priority = val
	case unix.SO_LINGER:
		if opt.Len < 8 {
			return unix.EINVAL
		}
		b, err := opt.Bytes(8)
		if err != nil {
			return err
		}
		onoff, secs := int32(le.Uint32(b)), int32(le.Uint32(b[4:]))
		if onoff == 0 {
			o.lingerOn = false
			break
		}
		// l_linger is converted to unsigned long: negative is huge.
		t := uint64(int64(secs))
		if t >= MaxScheduleTimeout/HZ {
			o.linger = MaxScheduleTimeout
		} else {
			o.linger = int64(t) * HZ
		}
		o.lingerOn = true
	case unix.SO_BSDCOMPAT:
	case unix.SO_PASSCRED:
		o.passCred = on
	case unix.SO_RCVLOWAT:
		if val < 0 {
			val = math.MaxInt32
		}
		if val == 0 {
			val = 1
		}
		o.rcvLowat = val
	case unix.SO_RCVTIMEO, soRcvtimeoNew, unix.SO_SNDTIMEO, soSndtimeoNew:
		if opt.Len < 16 {
			return unix.EINVAL
		}
		b, err := opt.Bytes(16)
		if err != nil {
			return err
		}
		t, err := parseTimeval(b)
		if err != nil {
			return err
		}
		if name == unix.SO_RCVTIMEO || name == soRcvtimeoNew {
			o.rcvtimeo = t
		} else {
			o.sndtimeo = t
		}
	case unix.SO_MARK:
		if !creds.HasCapability(CapNetAdmin) {
			return unix.EPERM
		}
		o.mark = uint32(val)
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// Get returns a generic SOL_SOCKET option's value, or ENOPROTOOPT.
func (o *Options) Get(name int) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch name {
	case unix.SO_DEBUG:
		return Bool(o.debug), nil
	case unix.SO_DONTROUTE:
		return Bool(o.dontRoute), nil
	case unix.SO_BROADCAST:
		return Bool(o.broadcast), nil
	case unix.SO_SNDBUF:
		return Int(o.sndbuf), nil
	case unix.SO_RCVBUF:
		return Int(o.rcvbuf), nil
	case unix.SO_REUSEADDR:
		return Bool(o.reuseAddr), nil
	case unix.SO_REUSEPORT:
		return Bool(false), nil
	case unix.SO_KEEPALIVE:
		return Bool(o.keepAlive), nil
	case unix.SO_OOBINLINE:
		return Bool(o.oobInline), nil
	case unix.SO_NO_CHECK:
		return Bool(o.noCheck), nil
	case unix.SO_PRIORITY:
		return Int(o.priority), nil
	case unix.SO_LINGER:
		b := make([]byte, 8)
		if o.lingerOn {
			le.PutUint32(b, 1)
		}
		le.PutUint32(b[4:], uint32(int32(o.linger/HZ)))
		return b, nil
	case unix.SO_BSDCOMPAT:
		return Int(0), nil
	case unix.SO_RCVTIMEO, soRcvtimeoNew:
		return o.rcvtimeo.timeval(), nil
	case unix.SO_SNDTIMEO, soSndtimeoNew:
		return o.sndtimeo.timeval(), nil
	case unix.SO_RCVLOWAT:
		return Int(o.rcvLowat), nil
	case unix.SO_SNDLOWAT:
		return Int(1), nil
	case unix.SO_PASSCRED:
		return Bool(o.passCred), nil
	case unix.SO_MARK:
		return Int(int32(o.mark)), nil
	}
	return nil, unix.ENOPROTOOPT
}
