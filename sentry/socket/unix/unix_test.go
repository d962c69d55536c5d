package unix

import (
	"bytes"
	"encoding/binary"
	"testing"

	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/socket"
)

// testCtx is a socket.Context without a task: root credentials, a tmpfs
// root, no signals.
type testCtx struct {
	vfs.Context
	v        *vfs.VirtualFilesystem
	fsc      *vfs.FSContext
	st       *socket.Stack
	sigpipes int
	files    map[int32]*vfs.FileDescription
}

func newTestCtx(t *testing.T) *testCtx {
	t.Helper()
	v := vfs.New()
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o777})
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	return &testCtx{
		Context: vfs.CredsContext(auth.NewRootCredentials()),
		v:       v,
		fsc:     vfs.NewFSContext(root, root),
		st:      socket.NewStack(v),
		files:   make(map[int32]*vfs.FileDescription),
	}
}

func (c *testCtx) VFS() *vfs.VirtualFilesystem { return c.v }
func (c *testCtx) FSContext() *vfs.FSContext   { return c.fsc }
func (c *testCtx) Stack() *socket.Stack        { return c.st }
func (c *testCtx) PID() int32                  { return 7 }
func (c *testCtx) PIDExists(pid int32) bool    { return pid == 7 }
func (c *testCtx) SendSIGPIPE()                { c.sigpipes++ }
func (c *testCtx) GetFile(fd int32) (*vfs.FileDescription, error) {
	f, ok := c.files[fd]
	if !ok {
		return nil, sys.EBADF
	}
	f.IncRef()
	return f, nil
}

func pathAddr(p string) []byte {
	b := make([]byte, sunPathOff+len(p)+1)
	binary.LittleEndian.PutUint16(b, sys.AF_UNIX)
	copy(b[sunPathOff:], p)
	return b
}

func abstractAddr(name string) []byte {
	b := make([]byte, sunPathOff+1+len(name))
	binary.LittleEndian.PutUint16(b, sys.AF_UNIX)
	copy(b[sunPathOff+1:], name)
	return b
}

func newSock(t *testing.T, ctx *testCtx, stype int) *endpoint {
	t.Helper()
	s, err := Provider{}.Socket(ctx, stype, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*endpoint)
}

func send(t *testing.T, ctx *testCtx, s socket.Socket, data string, flags int) {
	t.Helper()
	if n, err := s.SendMsg(ctx, socket.BufferIO([]byte(data)), nil, nil, flags); err != nil || n != len(data) {
		t.Fatalf("send %q = %d, %v", data, n, err)
	}
}

func recv(t *testing.T, ctx *testCtx, s socket.Socket, n, flags int) (string, socket.RecvResult, error) {
	t.Helper()
	buf := make([]byte, n)
	r, err := s.RecvMsg(ctx, socket.BufferIO(buf), flags|sys.MSG_DONTWAIT)
	return string(buf[:min(r.N, n)]), r, err
}

func TestCheckType(t *testing.T) {
	for _, tc := range []struct {
		stype, proto, want int
		err                sys.Errno
	}{
		{sys.SOCK_STREAM, 0, sys.SOCK_STREAM, 0},
		{sys.SOCK_DGRAM, sys.AF_UNIX, sys.SOCK_DGRAM, 0},
		{sys.SOCK_RAW, 0, sys.SOCK_DGRAM, 0},
		{sys.SOCK_SEQPACKET, 0, sys.SOCK_SEQPACKET, 0},
		{0, 0, 0, sys.ESOCKTNOSUPPORT},
		{sys.SOCK_RDM, 0, 0, sys.ESOCKTNOSUPPORT},
		{sys.SOCK_RDM, 2, 0, sys.EPROTONOSUPPORT},
		{sys.SOCK_STREAM, 2, 0, sys.EPROTONOSUPPORT},
	} {
		got, err := checkType(tc.stype, tc.proto)
		if got != tc.want || (err == nil) != (tc.err == 0) || (err != nil && err != tc.err) {
			t.Errorf("checkType(%d, %d) = %d, %v; want %d, %v", tc.stype, tc.proto, got, err, tc.want, tc.err)
		}
	}
}

func TestAddresses(t *testing.T) {
	long := bytes.Repeat([]byte{'p'}, 108)
	full := append(pathAddr("")[:2], long...)
	for _, tc := range []struct {
		name     string
		addr     []byte
		valid    bool
		path     string
		recLen   int
		abstract bool
	}{
		{"path", pathAddr("a/b"), true, "a/b", 6, false},
		{"path without NUL", pathAddr("abc")[:5], true, "abc", 6, false},
		{"path with trailing bytes", append(pathAddr("x"), 'y', 'z'), true, "x", 4, false},
		{"108-byte path", full, true, string(long), 111, false},
		{"abstract", abstractAddr("n"), true, "", 0, true},
		{"family only", pathAddr("")[:2], false, "", 0, false},
		{"too long", make([]byte, 111), false, "", 0, false},
	} {
		err := validateAddr(tc.addr)
		if (err == nil) != tc.valid {
			t.Errorf("%s: validateAddr = %v", tc.name, err)
			continue
		}
		if !tc.valid {
			continue
		}
		if isAbstract(tc.addr) != tc.abstract {
			t.Errorf("%s: isAbstract = %v", tc.name, !tc.abstract)
		}
		if tc.abstract {
			continue
		}
		p, rec := bsdPath(tc.addr)
		if p != tc.path || len(rec) != tc.recLen || rec[len(rec)-1] != 0 {
			t.Errorf("%s: bsdPath = %q, %d bytes; want %q, %d", tc.name, p, len(rec), tc.path, tc.recLen)
		}
	}
	bad := pathAddr("x")
	bad[0] = sys.AF_INET
	if validateAddr(bad) != sys.EINVAL {
		t.Error("AF_INET address accepted")
	}
}

// TestTruesize checks the buffer accounting against numbers measured on
// Linux 6.18: a small skb costs 768 bytes, a stream pair with the default
// send buffer takes 236544 bytes in writes of 100000, 278 one-byte writes
// or datagrams.
func TestTruesize(t *testing.T) {
	if got := dgramCost(5); got != 768 {
		t.Errorf("dgramCost(5) = %d, want 768", got)
	}
	capacity := func(write int) (int, int) {
		var wmem int64
		total, writes := 0, 0
		for {
			n := 0
			for n < write {
				if wmem >= socket.DefaultBufSize {
					break
				}
				size, cost := streamChunk(write-n, socket.DefaultBufSize)
				wmem += cost
				n += size
			}
			total += n
			if n == 0 {
				return total, writes
			}
			writes++
			if n < write {
				return total, writes
			}
		}
	}
	if got, _ := capacity(100000); got != 236544 {
		t.Errorf("stream capacity with 100000-byte writes = %d, want 236544", got)
	}
	if got, _ := capacity(1); got != 278 {
		t.Errorf("stream capacity with 1-byte writes = %d, want 278", got)
	}
	if kmallocSize(20000) != 32768 || kmallocSize(320) != 512 || kmallocSize(8192) != 8192 {
		t.Error("kmallocSize")
	}
}

func TestStreamPair(t *testing.T) {
	ctx := newTestCtx(t)
	a, b, err := Provider{}.Pair(ctx, sys.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	send(t, ctx, a, "hello", 0)
	send(t, ctx, a, " world", 0)
	if got, _, err := recv(t, ctx, b, 3, sys.MSG_PEEK); got != "hel" || err != nil {
		t.Errorf("peek = %q, %v", got, err)
	}
	if got, _, err := recv(t, ctx, b, 64, 0); got != "hello world" || err != nil {
		t.Errorf("recv = %q, %v", got, err)
	}
	if _, _, err := recv(t, ctx, b, 64, 0); err != sys.EAGAIN {
		t.Errorf("empty recv = %v, want EAGAIN", err)
	}
	if r := b.Readiness(waiter.AllEvents); r != waiter.WritableEvents {
		t.Errorf("readiness = %#x, want writable", r)
	}
	send(t, ctx, b, "x", 0)
	if r := a.Readiness(waiter.AllEvents); r != waiter.WritableEvents|waiter.ReadableEvents {
		t.Errorf("readiness with data = %#x", r)
	}
	if err := b.Shutdown(sys.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if r := a.Readiness(waiter.AllEvents); r&waiter.EventRdHUp == 0 {
		t.Errorf("readiness after peer SHUT_WR = %#x, want RDHUP", r)
	}
	if got, _, err := recv(t, ctx, a, 8, 0); got != "x" || err != nil {
		t.Errorf("recv = %q, %v", got, err)
	}
	if _, r, err := recv(t, ctx, a, 8, 0); r.N != 0 || err != nil {
		t.Errorf("EOF recv = %d, %v", r.N, err)
	}
	if _, err := b.SendMsg(ctx, socket.BufferIO([]byte("x")), nil, nil, 0); err != sys.EPIPE || ctx.sigpipes != 1 {
		t.Errorf("send after SHUT_WR = %v with %d SIGPIPEs; want EPIPE, 1", err, ctx.sigpipes)
	}
	if _, err := b.SendMsg(ctx, socket.BufferIO([]byte("x")), nil, nil, sys.MSG_NOSIGNAL); err != sys.EPIPE || ctx.sigpipes != 1 {
		t.Errorf("MSG_NOSIGNAL send = %v with %d SIGPIPEs", err, ctx.sigpipes)
	}
	a.Release()
	b.Release()
}

func TestDgramQueueLimit(t *testing.T) {
	ctx := newTestCtx(t)
	rcv := newSock(t, ctx, sys.SOCK_DGRAM)
	if err := rcv.Bind(ctx, abstractAddr("rcv")); err != nil {
		t.Fatal(err)
	}
	snd := newSock(t, ctx, sys.SOCK_DGRAM)
	to := abstractAddr("rcv")
	n := 0
	for ; n < 20; n++ {
		if _, err := snd.SendMsg(ctx, socket.BufferIO([]byte("x")), to, nil, sys.MSG_DONTWAIT); err != nil {
			if err != sys.EAGAIN {
				t.Fatalf("send: %v", err)
			}
			break
		}
	}
	if n != maxDgramQlen+1 {
		t.Errorf("queued %d datagrams, want %d", n, maxDgramQlen+1)
	}
	if err := snd.Connect(ctx, to, false); err != nil {
		t.Fatal(err)
	}
	if r := snd.Readiness(waiter.WritableEvents); r != 0 {
		t.Errorf("sender to a full queue is writable: %#x", r)
	}
	woken := false
	e := waiter.NewFunctionEntry(waiter.WritableEvents, func(waiter.EventMask) { woken = true })
	snd.EventRegister(&e)
	if _, r, err := recv(t, ctx, rcv, 4, 0); err != nil || r.N != 1 {
		t.Fatalf("recv = %d, %v", r.N, err)
	}
	snd.EventUnregister(&e)
	if !woken {
		t.Error("the sender was not woken when the receiver read")
	}
	if r := snd.Readiness(waiter.WritableEvents); r != waiter.WritableEvents {
		t.Errorf("sender readiness after a read = %#x", r)
	}
	snd.Release()
	rcv.Release()
}

func TestBindConnectPath(t *testing.T) {
	ctx := newTestCtx(t)
	l := newSock(t, ctx, sys.SOCK_STREAM)
	addr := pathAddr("/s")
	if err := l.Bind(ctx, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(ctx, pathAddr("/t")); err != sys.EINVAL {
		t.Errorf("second bind = %v, want EINVAL", err)
	}
	if err := l.Bind(ctx, addr); err != sys.EADDRINUSE {
		t.Errorf("bind on an existing node = %v, want EADDRINUSE", err)
	}
	c := newSock(t, ctx, sys.SOCK_STREAM)
	if err := c.Connect(ctx, addr, false); err != sys.ECONNREFUSED {
		t.Errorf("connect before listen = %v, want ECONNREFUSED", err)
	}
	if err := l.Listen(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx, addr, false); err != nil {
		t.Fatalf("connect: %v", err)
	}
	d := newSock(t, ctx, sys.SOCK_DGRAM)
	if err := d.Connect(ctx, addr, false); err != sys.EPROTOTYPE {
		t.Errorf("dgram connect to a stream socket = %v, want EPROTOTYPE", err)
	}
	s, err := l.Accept(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Name(); !bytes.Equal(got, addr) {
		t.Errorf("accepted socket's name = %q, want the listener's", got)
	}
	if got, err := c.PeerName(); err != nil || !bytes.Equal(got, addr) {
		t.Errorf("client's peer = %q, %v", got, err)
	}
	if got, err := s.PeerName(); err != nil || len(got) != sunPathOff {
		t.Errorf("accepted socket's peer = %q, %v; want unnamed", got, err)
	}
	l.Release()
	if err := newSock(t, ctx, sys.SOCK_STREAM).Connect(ctx, addr, false); err != sys.ECONNREFUSED {
		t.Errorf("connect after the listener closed = %v, want ECONNREFUSED", err)
	}
}

func TestAutobind(t *testing.T) {
	ctx := newTestCtx(t)
	s := newSock(t, ctx, sys.SOCK_DGRAM)
	if err := s.Bind(ctx, pathAddr("")[:2]); err != nil {
		t.Fatal(err)
	}
	a := s.Name()
	if len(a) != 8 || a[2] != 0 {
		t.Fatalf("autobind name %q", a)
	}
	for _, c := range a[3:] {
		if !bytes.ContainsRune([]byte("0123456789abcdef"), rune(c)) {
			t.Fatalf("autobind name %q is not hex", a)
		}
	}
	if err := s.Bind(ctx, pathAddr("")[:2]); err != nil || !bytes.Equal(s.Name(), a) {
		t.Errorf("second autobind changed the name or failed: %v", err)
	}
}

func TestCredsAndRights(t *testing.T) {
	ctx := newTestCtx(t)
	a, b, err := Provider{}.Pair(ctx, sys.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := Provider{}.Pair(ctx, sys.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	fx := socket.NewFile(ctx, x, 0)
	ctx.files[3] = fx
	ctl := make([]byte, socket.CmsgSpace(4))
	binary.LittleEndian.PutUint64(ctl, uint64(socket.CmsgLen(4)))
	binary.LittleEndian.PutUint32(ctl[8:], sys.SOL_SOCKET)
	binary.LittleEndian.PutUint32(ctl[12:], sys.SCM_RIGHTS)
	binary.LittleEndian.PutUint32(ctl[16:], 3)
	if _, err := a.SendMsg(ctx, socket.BufferIO([]byte("m")), nil, ctl, 0); err != nil {
		t.Fatal(err)
	}
	b.(*endpoint).opts.SetPassCred(true)
	_, r, err := recv(t, ctx, b, 4, 0)
	if err != nil || len(r.Rights) != 1 || r.Rights[0] != fx {
		t.Fatalf("recv = %v, %d rights", err, len(r.Rights))
	}
	if r.Creds == nil || *r.Creds != unknownCreds {
		t.Errorf("creds of a message sent without SO_PASSCRED = %+v, want %+v", r.Creds, unknownCreds)
	}
	r.ReleaseRights()
	send(t, ctx, a, "n", 0)
	if _, r, _ := recv(t, ctx, b, 4, 0); r.Creds == nil || r.Creds.PID != 7 {
		t.Errorf("creds = %+v, want pid 7", r.Creds)
	}
	// The in-flight file is the only other reference to x: closing it
	// makes y see EOF.
	delete(ctx.files, 3)
	if _, err := a.SendMsg(ctx, socket.BufferIO([]byte("m")), nil, ctl, 0); err != sys.EBADF {
		t.Errorf("send of a closed fd = %v, want EBADF", err)
	}
	ctx.files[3] = fx
	if _, err := a.SendMsg(ctx, socket.BufferIO([]byte("m")), nil, ctl, 0); err != nil {
		t.Fatal(err)
	}
	delete(ctx.files, 3)
	fx.DecRef()
	if y.Readiness(waiter.AllEvents)&waiter.EventHUp != 0 {
		t.Fatal("x released while in flight")
	}
	b.Release()
	if y.Readiness(waiter.AllEvents)&waiter.EventHUp == 0 {
		t.Error("x not released with the receiving socket")
	}
	a.Release()
	y.Release()
}

// TestGarbageCollection checks that sockets reachable only from each
// other's queues are released, and that a socket still open is not.
func TestGarbageCollection(t *testing.T) {
	ctx := newTestCtx(t)
	pair := func() (*endpoint, *endpoint, *vfs.FileDescription, *vfs.FileDescription) {
		a, b, err := Provider{}.Pair(ctx, sys.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		return a.(*endpoint), b.(*endpoint), socket.NewFile(ctx, a, 0), socket.NewFile(ctx, b, 0)
	}
	rights := func(fd int32) []byte {
		c := make([]byte, socket.CmsgSpace(4))
		binary.LittleEndian.PutUint64(c, uint64(socket.CmsgLen(4)))
		binary.LittleEndian.PutUint32(c[8:], sys.SOL_SOCKET)
		binary.LittleEndian.PutUint32(c[12:], sys.SCM_RIGHTS)
		binary.LittleEndian.PutUint32(c[16:], uint32(fd))
		return c
	}
	sendFile := func(via *endpoint, f *vfs.FileDescription) {
		ctx.files[9] = f
		if _, err := via.SendMsg(ctx, socket.BufferIO([]byte("f")), nil, rights(9), 0); err != nil {
			t.Fatal(err)
		}
		delete(ctx.files, 9)
	}
	dead := func(e *endpoint) bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.dead
	}

	// a and b each hold the other in their queue; x hangs off the cycle.
	a, b, fa, fb := pair()
	x, y, fx, fy := pair()
	sendFile(a, fa) // into b's queue
	sendFile(b, fb) // into a's queue
	sendFile(b, fx) // into a's queue
	fa.DecRef()
	fb.DecRef()
	fx.DecRef()
	if dead(a) || dead(b) || dead(x) {
		t.Fatal("released while in flight")
	}
	// A live socket in the cycle keeps it: p holds q's file open.
	p, q, fp, fq := pair()
	sendFile(p, fq) // q's file in q's own queue, but fq stays open
	collect()
	if !dead(a) || !dead(b) || !dead(x) {
		t.Errorf("unreachable cycle not collected: a %v b %v x %v", dead(a), dead(b), dead(x))
	}
	if dead(p) || dead(q) {
		t.Error("a socket with an open file was collected")
	}
	if y.Readiness(waiter.AllEvents)&waiter.EventHUp == 0 {
		t.Error("x's peer did not see it go")
	}
	gc.mu.Lock()
	if n := gc.inflight[q]; n != 1 {
		t.Errorf("q in flight %d times, want 1", n)
	}
	gc.mu.Unlock()
	fq.DecRef()
	fp.DecRef()
	fy.DecRef()
	if !dead(p) || !dead(q) {
		t.Error("q (in its own queue) not collected once closed")
	}
	gc.mu.Lock()
	if gc.total != 0 {
		t.Errorf("%d files still counted in flight", gc.total)
	}
	gc.mu.Unlock()
}

// TestConcurrent moves data through a stream pair and a datagram socket
// from several goroutines, blocking on full buffers (run with -race).
func TestConcurrent(t *testing.T) {
	ctx := newTestCtx(t)
	for _, stype := range []int{sys.SOCK_STREAM, sys.SOCK_DGRAM, sys.SOCK_SEQPACKET} {
		a, b, err := Provider{}.Pair(ctx, stype, 0)
		if err != nil {
			t.Fatal(err)
		}
		const writers, msgs, size = 4, 500, 1000
		done := make(chan error, writers+1)
		for w := 0; w < writers; w++ {
			go func() {
				buf := bytes.Repeat([]byte{'w'}, size)
				for i := 0; i < msgs; i++ {
					if _, err := a.SendMsg(ctx, socket.BufferIO(buf), nil, nil, 0); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
		go func() {
			total := 0
			buf := make([]byte, 4096)
			for total < writers*msgs*size {
				r, err := b.RecvMsg(ctx, socket.BufferIO(buf), 0)
				if err != nil {
					done <- err
					return
				}
				total += r.N
				_ = b.Readiness(waiter.AllEvents)
			}
			done <- nil
		}()
		for i := 0; i < writers+1; i++ {
			if err := <-done; err != nil {
				t.Fatalf("type %d: %v", stype, err)
			}
		}
		if n := a.(*endpoint).wmem.Load(); n != 0 {
			t.Errorf("type %d: %d bytes still charged to the sender", stype, n)
		}
		a.Release()
		b.Release()
	}
}
