package socket

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

// fakeMem is app memory: addresses [base, base+len(b)) are mapped.
type fakeMem struct {
	base uintptr
	b    []byte
}

func (m *fakeMem) in(addr uintptr, n int) ([]byte, bool) {
	if addr < m.base || addr+uintptr(n) > m.base+uintptr(len(m.b)) {
		return nil, false
	}
	return m.b[addr-m.base : addr-m.base+uintptr(n)], true
}

func (m *fakeMem) CopyInBytes(addr uintptr, dst []byte) error {
	s, ok := m.in(addr, len(dst))
	if !ok {
		return unix.EFAULT
	}
	copy(dst, s)
	return nil
}

func (m *fakeMem) CopyOutBytes(addr uintptr, src []byte) error {
	s, ok := m.in(addr, len(src))
	if !ok {
		return unix.EFAULT
	}
	copy(s, src)
	return nil
}

func TestIOSequence(t *testing.T) {
	mem := &fakeMem{base: 0x1000, b: make([]byte, 64)}
	seq := UserIO(mem, []Segment{{0x1000, 3}, {0x1010, 0}, {0x1020, 5}, {0x9000, 4}})
	if seq.Len() != 12 {
		t.Fatalf("Len = %d", seq.Len())
	}
	if n, err := seq.CopyOut(0, []byte("abcdefgh")); n != 8 || err != nil {
		t.Errorf("CopyOut = %d, %v", n, err)
	}
	if !bytes.Equal(mem.b[0:3], []byte("abc")) || !bytes.Equal(mem.b[0x20:0x25], []byte("defgh")) {
		t.Errorf("memory = %q", mem.b)
	}
	if n, err := seq.CopyOut(2, []byte("XYZ")); n != 3 || err != nil || mem.b[2] != 'X' || mem.b[0x20] != 'Y' || mem.b[0x21] != 'Z' {
		t.Errorf("CopyOut at 2 = %d, %v, %q", n, err, mem.b)
	}
	if n, err := seq.CopyOut(0, make([]byte, 12)); n != 8 || err != unix.EFAULT {
		t.Errorf("CopyOut into the unmapped segment = %d, %v; want 8, EFAULT", n, err)
	}
	dst := make([]byte, 6)
	want := string(mem.b[1:3]) + string(mem.b[0x20:0x24])
	if n, err := seq.CopyIn(1, dst); n != 6 || err != nil || string(dst) != want {
		t.Errorf("CopyIn = %d, %v, %q", n, err, dst)
	}
	b := BufferIO([]byte("hello"))
	if n, _ := b.CopyOut(3, []byte("LOWORLD")); n != 2 {
		t.Errorf("buffer CopyOut past the end = %d, want 2", n)
	}
}

func TestTimeouts(t *testing.T) {
	tv := func(sec, usec int64) []byte {
		b := make([]byte, 16)
		le.PutUint64(b, uint64(sec))
		le.PutUint64(b[8:], uint64(usec))
		return b
	}
	for _, tc := range []struct {
		sec, usec  int64
		want       Timeout
		err        error
		getS, getU int64
	}{
		{0, 0, MaxScheduleTimeout, nil, 0, 0},
		{0, 1, 1, nil, 0, 4000},
		{0, 50000, 13, nil, 0, 52000},
		{1, 500000, 375, nil, 1, 500000},
		{-1, 0, 0, nil, 0, 0},
		{0, 1000000, 0, unix.EDOM, 0, 0},
		{0, -1, 0, unix.EDOM, 0, 0},
	} {
		got, err := parseTimeval(tv(tc.sec, tc.usec))
		if got != tc.want || err != tc.err {
			t.Errorf("parseTimeval(%d, %d) = %d, %v; want %d, %v", tc.sec, tc.usec, got, err, tc.want, tc.err)
			continue
		}
		if err == nil {
			b := got.timeval()
			if s, u := int64(le.Uint64(b)), int64(le.Uint64(b[8:])); s != tc.getS || u != tc.getU {
				t.Errorf("timeval(%d) = %d.%06d, want %d.%06d", got, s, u, tc.getS, tc.getU)
			}
		}
	}
	if _, err := parseTimeval(make([]byte, 8)); err != unix.EINVAL {
		t.Errorf("short timeval = %v", err)
	}
}

func TestBufferSizes(t *testing.T) {
	o := NewOptions()
	root := auth.NewRootCredentials()
	for _, tc := range []struct {
		name     int
		val      int32
		wantName int
		want     int32
	}{
		{unix.SO_SNDBUF, 10000, unix.SO_SNDBUF, 20000},
		{unix.SO_SNDBUF, 1, unix.SO_SNDBUF, MinSndBuf},
		{unix.SO_SNDBUF, -1, unix.SO_SNDBUF, 2 * MaxBufSize},
		{unix.SO_RCVBUF, 0, unix.SO_RCVBUF, MinRcvBuf},
		{unix.SO_RCVBUF, 1 << 30, unix.SO_RCVBUF, 2 * MaxBufSize},
		{unix.SO_SNDBUFFORCE, 1 << 30, unix.SO_SNDBUF, 1<<31 - 2},
		{unix.SO_RCVBUFFORCE, -5, unix.SO_RCVBUF, MinRcvBuf},
	} {
		if err := o.Set(root, tc.name, BytesOptVal(Int(tc.val))); err != nil {
			t.Fatal(err)
		}
		v, _ := o.Get(tc.wantName)
		if got := int32(le.Uint32(v)); got != tc.want {
			t.Errorf("set %d to %d: got %d, want %d", tc.name, tc.val, got, tc.want)
		}
	}
	user := auth.NewUserCredentials(1000, 1000, nil)
	if err := o.Set(user, unix.SO_SNDBUFFORCE, BytesOptVal(Int(1))); err != unix.EPERM {
		t.Errorf("SO_SNDBUFFORCE unprivileged = %v", err)
	}
	if err := o.Set(root, unix.SO_TYPE, BytesOptVal(Int(1))); err != unix.ENOPROTOOPT {
		t.Errorf("SO_TYPE = %v", err)
	}
	if err := o.Set(root, unix.SO_REUSEADDR, BytesOptVal([]byte{1})); err != unix.EINVAL {
		t.Errorf("short value = %v", err)
	}
}

// ctlCtx is a Context for control message parsing.
type ctlCtx struct {
	Context
	creds *auth.Credentials
	files map[int32]*vfs.FileDescription
}

func (c ctlCtx) Credentials() *auth.Credentials { return c.creds }
func (c ctlCtx) PID() int32                     { return 10 }
func (c ctlCtx) PIDExists(pid int32) bool       { return pid == 10 || pid == 11 }
func (c ctlCtx) GetFile(fd int32) (*vfs.FileDescription, error) {
	if f, ok := c.files[fd]; ok {
		f.IncRef()
		return f, nil
	}
	return nil, unix.EBADF
}

type nopFile struct{ vfs.FileDefaults }

func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, CmsgSpace(len(data)))
	le.PutUint64(b, uint64(CmsgLen(len(data))))
	le.PutUint32(b[8:], uint32(level))
	le.PutUint32(b[12:], uint32(typ))
	copy(b[CmsgHdrLen:], data)
	return b
}

func ucred(pid int32, uid, gid uint32) []byte {
	b := make([]byte, 12)
	le.PutUint32(b, uint32(pid))
	le.PutUint32(b[4:], uid)
	le.PutUint32(b[8:], gid)
	return b
}

func TestParseControl(t *testing.T) {
	f := vfs.NewAnonFile(nopFile{}, unix.O_RDWR, vfs.FileOptions{})
	user := auth.NewUserCredentials(1000, 1000, nil)
	ctx := ctlCtx{creds: user, files: map[int32]*vfs.FileDescription{3: f}}
	root := ctlCtx{creds: auth.NewRootCredentials(), files: ctx.files}
	fd3 := Int(3)
	for _, tc := range []struct {
		name   string
		ctx    Context
		buf    []byte
		family int
		err    error
		rights int
		pid    int32
	}{
		{"rights", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, append(fd3, fd3...)), unix.AF_UNIX, nil, 2, -1},
		{"rights twice", ctx, append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fd3), cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fd3)...), unix.AF_UNIX, nil, 2, -1},
		{"bad fd", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, Int(4)), unix.AF_UNIX, unix.EBADF, 0, -1},
		{"rights on inet", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fd3), unix.AF_INET, unix.EINVAL, 0, -1},
		{"other level", ctx, cmsg(unix.SOL_IP, 1, fd3), unix.AF_UNIX, nil, 0, -1},
		{"unknown type", ctx, cmsg(unix.SOL_SOCKET, 77, fd3), unix.AF_UNIX, unix.EINVAL, 0, -1},
		{"short header ignored", ctx, make([]byte, 15), unix.AF_UNIX, nil, 0, -1},
		{"own creds", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred(10, 1000, 1000)), unix.AF_UNIX, nil, 0, 10},
		{"other uid", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred(10, 0, 1000)), unix.AF_UNIX, unix.EPERM, 0, -1},
		{"other pid", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred(11, 1000, 1000)), unix.AF_UNIX, unix.EPERM, 0, -1},
		{"root other pid", root, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred(11, 5, 5)), unix.AF_UNIX, nil, 0, 11},
		{"root missing pid", root, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, ucred(12, 5, 5)), unix.AF_UNIX, unix.ESRCH, 0, -1},
		{"creds wrong size", ctx, cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, fd3), unix.AF_UNIX, unix.EINVAL, 0, -1},
	} {
		cm, err := ParseControl(tc.ctx, tc.buf, tc.family)
		if err != tc.err {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		rights, pid := 0, int32(-1)
		if cm != nil {
			rights = len(cm.Rights)
			if cm.Creds != nil {
				pid = cm.Creds.PID
			}
		}
		if rights != tc.rights || pid != tc.pid {
			t.Errorf("%s: %d rights, pid %d; want %d, %d", tc.name, rights, pid, tc.rights, tc.pid)
		}
		cm.Release()
	}
	bad := cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fd3)
	le.PutUint64(bad, 100)
	if _, err := ParseControl(ctx, bad, unix.AF_UNIX); err != unix.EINVAL {
		t.Errorf("cmsg_len beyond the buffer = %v", err)
	}
}

func TestRecvControl(t *testing.T) {
	newResult := func(n int, creds bool) *RecvResult {
		r := &RecvResult{}
		for i := 0; i < n; i++ {
			r.Rights = append(r.Rights, vfs.NewAnonFile(nopFile{}, unix.O_RDWR, vfs.FileOptions{}))
		}
		if creds {
			r.Creds = &Credentials{PID: 1, UID: 2, GID: 3}
		}
		return r
	}
	next := int32(5)
	install := func(f *vfs.FileDescription, _ bool) (int32, error) {
		next++
		return next, nil
	}
	for _, tc := range []struct {
		name      string
		files     int
		creds     bool
		hasBuf    bool
		room      int
		installed int
		len       int
		trunc     bool
	}{
		{"all fit", 2, false, true, 64, 2, CmsgSpace(8), false},
		{"one of two", 2, false, true, CmsgLen(4), 1, CmsgLen(4), true},
		{"no room", 1, false, true, 16, 0, 0, true},
		{"no buffer", 1, false, false, 64, 0, 0, true},
		{"creds then rights", 1, true, true, 64, 1, CmsgSpace(12) + CmsgSpace(4), false},
		{"creds cut", 0, true, true, 20, 0, 20, true},
		{"creds leave no room for rights", 1, true, true, 32, 0, 32, true},
		{"no buffer, creds", 0, true, false, 0, 0, 0, true},
	} {
		r := newResult(tc.files, tc.creds)
		out := RecvControl(r, tc.hasBuf, tc.room, false, install)
		if len(out.Installed) != tc.installed || out.Len != tc.len || out.Truncated != tc.trunc {
			t.Errorf("%s: installed %d, len %d, trunc %v; want %d, %d, %v", tc.name, len(out.Installed), out.Len, out.Truncated, tc.installed, tc.len, tc.trunc)
		}
		end := 0
		for _, w := range out.Writes {
			end = max(end, w.Off+len(w.Data))
		}
		if end > tc.room {
			t.Errorf("%s: writes end at %d beyond %d", tc.name, end, tc.room)
		}
		if len(r.Rights) != 0 {
			t.Errorf("%s: %d files left in the result", tc.name, len(r.Rights))
		}
	}
}
