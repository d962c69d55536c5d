package pipe_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/pipe"
	"pangolin/fs/tmpfs"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/syserr"
)

// intrCtx is a task whose blocking operations a test can interrupt.
type intrCtx struct {
	ch          chan struct{}
	interrupted bool
}

func newIntrCtx() *intrCtx { return &intrCtx{ch: make(chan struct{}, 1)} }

func (c *intrCtx) Credentials() *auth.Credentials     { return auth.NewRootCredentials() }
func (c *intrCtx) InterruptChan() <-chan struct{}     { return c.ch }
func (c *intrCtx) Interrupted() bool                  { return c.interrupted }
func (c *intrCtx) CopyInBytes(uintptr, []byte) error  { return unix.EFAULT }
func (c *intrCtx) CopyOutBytes(uintptr, []byte) error { return unix.EFAULT }
func (c *intrCtx) interrupt()                         { c.interrupted = true; c.ch <- struct{}{} }
func newPipe(t *testing.T, flags uint32) (r, w *vfs.FileDescription) {
	t.Helper()
	r, w = pipe.For(vfs.New()).NewPipe(auth.NewRootCredentials(), flags)
	t.Cleanup(func() { r.DecRef(); w.DecRef() })
	return r, w
}

var ctx = vfs.CredsContext(auth.NewRootCredentials())

func mustWrite(t *testing.T, w *vfs.FileDescription, n int) {
	t.Helper()
	if got, err := w.Write(ctx, make([]byte, n)); got != n || err != nil {
		t.Fatalf("write %d: %d, %v", n, got, err)
	}
}

// TestNonblockingWrites checks capacity, merging and PIPE_BUF atomicity
// (pipe_write()) as sequences of non-blocking writes.
func TestNonblockingWrites(t *testing.T) {
	tests := []struct {
		name   string
		writes []int
		want   []int // bytes written, -1 for EAGAIN
	}{
		{"fill to capacity", []int{100000, 1}, []int{65536, -1}},
		{"small writes share pages", []int{100, 100, 3896, 1}, []int{100, 100, 3896, 1}},
		{"PIPE_BUF is atomic", []int{15 * 4096, 1, 4096, 4095, 1}, []int{15 * 4096, 1, -1, 4095, -1}},
		{"tail fragment merges, rest page-aligned", []int{15 * 4096, 100, 4096 + 3996, 1}, []int{15 * 4096, 100, 3996, -1}},
		{"large write partial", []int{16*4096 - 1, 5000}, []int{16*4096 - 1, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, w := newPipe(t, unix.O_NONBLOCK)
			for i, n := range tc.writes {
				got, err := w.Write(ctx, make([]byte, n))
				if tc.want[i] == -1 {
					if err != unix.EAGAIN {
						t.Errorf("write %d of %d: %d, %v; want EAGAIN", i, n, got, err)
					}
					continue
				}
				if got != tc.want[i] || err != nil {
					t.Errorf("write %d of %d: %d, %v; want %d", i, n, got, err, tc.want[i])
				}
			}
		})
	}
}

func TestReadOrderEOFAndEPIPE(t *testing.T) {
	fs := pipe.For(vfs.New())
	r, w := fs.NewPipe(auth.NewRootCredentials(), unix.O_NONBLOCK)
	if _, err := r.Read(ctx, make([]byte, 1)); err != unix.EAGAIN {
		t.Fatalf("empty read: %v, want EAGAIN", err)
	}
	w.Write(ctx, []byte("hello "))
	w.Write(ctx, []byte("world"))
	buf := make([]byte, 4)
	if n, _ := r.Read(ctx, buf); string(buf[:n]) != "hell" {
		t.Fatalf("read %q", buf[:n])
	}
	w.DecRef()
	if got := r.Readiness(waiter.ReadableEvents); got != waiter.ReadableEvents|waiter.EventHUp {
		t.Errorf("readiness with data and no writer: %#x", got)
	}
	rest := make([]byte, 100)
	if n, err := r.Read(ctx, rest); string(rest[:n]) != "o world" || err != nil {
		t.Fatalf("read %q, %v", rest[:n], err)
	}
	if n, err := r.Read(ctx, rest); n != 0 || err != nil {
		t.Errorf("read at EOF: %d, %v", n, err)
	}
	r.DecRef()

	r, w = fs.NewPipe(auth.NewRootCredentials(), 0)
	r.DecRef()
	if _, err := w.Write(ctx, []byte("x")); err != unix.EPIPE {
		t.Errorf("write without reader: %v", err)
	}
	if got := w.Readiness(waiter.WritableEvents); got != waiter.WritableEvents|waiter.EventErr {
		t.Errorf("readiness without reader: %#x", got)
	}
	w.DecRef()
}

func TestPacketMode(t *testing.T) {
	r, w := newPipe(t, unix.O_NONBLOCK|unix.O_DIRECT)
	if w.StatusFlags()&unix.O_DIRECT == 0 || r.StatusFlags()&unix.O_DIRECT != 0 {
		t.Fatalf("flags r %#x w %#x", r.StatusFlags(), w.StatusFlags())
	}
	for _, s := range []string{"one", "second", "3"} {
		w.Write(ctx, []byte(s))
	}
	for _, tc := range []struct {
		size int
		want string
	}{{10, "one"}, {2, "se"}, {10, "3"}} {
		b := make([]byte, tc.size)
		n, _ := r.Read(ctx, b)
		if string(b[:n]) != tc.want {
			t.Errorf("read %d: %q, want %q", tc.size, b[:n], tc.want)
		}
	}
}

func TestSetSize(t *testing.T) {
	tests := []struct {
		name    string
		fill    int // pages written first
		size    uint32
		capRes  bool
		want    int64
		wantErr error
	}{
		{"zero is one page", 0, 0, false, 4096, nil},
		{"rounded to a power of two", 0, 5000, false, 8192, nil},
		{"pipe-max-size unprivileged", 0, 1 << 20, false, 1 << 20, nil},
		{"beyond pipe-max-size unprivileged", 0, 1<<20 + 1, false, 0, unix.EPERM},
		{"beyond pipe-max-size with CAP_SYS_RESOURCE", 0, 1<<20 + 1, true, 2 << 20, nil},
		{"above 2 GiB", 0, 1<<31 + 1, true, 0, unix.EINVAL},
		{"below the slots in use", 3, 8192, false, 0, unix.EBUSY},
		{"down to the slots in use", 3, 3 * 4096, false, 16384, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, w := newPipe(t, unix.O_NONBLOCK)
			for i := 0; i < tc.fill; i++ {
				mustWrite(t, w, 4096)
			}
			ps := w.Impl().(interface {
				SetPipeSize(uint32, bool) (int64, error)
				PipeSize() (int64, error)
			})
			got, err := ps.SetPipeSize(tc.size, tc.capRes)
			if got != tc.want || err != tc.wantErr {
				t.Errorf("SetPipeSize(%d) = %d, %v; want %d, %v", tc.size, got, err, tc.want, tc.wantErr)
			}
			if size, _ := ps.PipeSize(); err == nil && size != tc.want {
				t.Errorf("PipeSize = %d", size)
			}
		})
	}
}

// waitEvents registers for mask on f and returns a channel fired on
// notification.
func waitEvents(t *testing.T, f *vfs.FileDescription, mask waiter.EventMask) <-chan struct{} {
	e, ch := waiter.NewChannelEntry(mask)
	if err := f.EventRegister(&e); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.EventUnregister(&e) })
	return ch
}

func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestNotifications checks that every readiness change notifies (what
// epoll and poll rely on).
func TestNotifications(t *testing.T) {
	r, w := pipe.For(vfs.New()).NewPipe(auth.NewRootCredentials(), unix.O_NONBLOCK)
	in := waitEvents(t, r, waiter.ReadableEvents)
	hup := waitEvents(t, r, waiter.EventHUp)
	out := waitEvents(t, w, waiter.WritableEvents)
	mustWrite(t, w, 1)
	if !fired(in) {
		t.Error("write did not notify EventIn")
	}
	mustWrite(t, w, 65535)
	b := make([]byte, 10)
	r.Read(ctx, b)
	if fired(out) {
		t.Error("read without freeing a slot of a full pipe notified EventOut")
	}
	r.Read(ctx, make([]byte, 4096))
	if !fired(out) {
		t.Error("read freeing a slot of a full pipe did not notify EventOut")
	}
	w.DecRef()
	if !fired(hup) {
		t.Error("last writer closing did not notify EventHUp")
	}
	r.DecRef()
}

func TestBlockingReadInterrupted(t *testing.T) {
	r, _ := newPipe(t, 0)
	c := newIntrCtx()
	done := make(chan error)
	go func() {
		_, err := r.Read(c, make([]byte, 1))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	c.interrupt()
	if err := <-done; err != syserr.ERestartSys {
		t.Fatalf("interrupted read: %v", err)
	}
}

func TestBlockingWriteWokenByReader(t *testing.T) {
	r, w := newPipe(t, 0)
	done := make(chan int)
	go func() {
		n, _ := w.Write(ctx, make([]byte, 100000))
		done <- n
	}()
	got := 0
	b := make([]byte, 8192)
	for got < 100000 {
		n, err := r.Read(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if n := <-done; n != 100000 {
		t.Fatalf("write returned %d", n)
	}
}

// fifoEnv is a VFS with pipes installed and a FIFO at /f on tmpfs.
func fifoEnv(t *testing.T) (*vfs.VirtualFilesystem, *vfs.FSContext) {
	t.Helper()
	v := vfs.New()
	pipe.Install(v)
	fs, err := tmpfs.New(v, tmpfs.Options{Mode: 0o777})
	if err != nil {
		t.Fatal(err)
	}
	root, err := v.MountRoot(fs, vfs.MountFlags{})
	if err != nil {
		t.Fatal(err)
	}
	fsc := vfs.NewFSContext(root, root)
	if err := v.MknodAt(ctx, fsc, nil, "/f", unix.S_IFIFO|0o666, 0); err != nil {
		t.Fatal(err)
	}
	return v, fsc
}

func TestFIFOOpenRules(t *testing.T) {
	v, fsc := fifoEnv(t)
	open := func(c vfs.Context, flags uint32) (*vfs.FileDescription, error) {
		return v.Open(c, fsc, nil, "/f", flags, 0)
	}
	if _, err := open(ctx, unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Fatalf("O_WRONLY|O_NONBLOCK without reader: %v", err)
	}
	r, err := open(ctx, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Readiness(waiter.ReadableEvents); got != 0 {
		t.Errorf("fresh reader readiness %#x (EventHUp before any writer?)", got)
	}
	w, err := open(ctx, unix.O_WRONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(ctx, []byte("abc"))
	b := make([]byte, 8)
	if n, _ := r.Read(ctx, b); string(b[:n]) != "abc" {
		t.Errorf("read %q", b[:n])
	}
	w.DecRef()
	if got := r.Readiness(waiter.ReadableEvents); got != waiter.EventHUp {
		t.Errorf("readiness after the writer left %#x", got)
	}
	r.DecRef()

	// A blocking reader waits for a writer.
	got := make(chan error)
	go func() {
		f, err := open(ctx, unix.O_RDONLY)
		if err == nil {
			f.DecRef()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("blocking open returned early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	rw, err := open(ctx, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("blocking open: %v", err)
	}
	rw.Write(ctx, []byte("kept while open"))
	rw.DecRef()
	// The last close dropped the data.
	rw, _ = open(ctx, unix.O_RDWR|unix.O_NONBLOCK)
	if _, err := rw.Read(ctx, b); err != unix.EAGAIN {
		t.Errorf("data survived the last close: %v", err)
	}
	rw.DecRef()

	// An interrupted blocking open leaves no reader behind.
	c := newIntrCtx()
	go func() {
		_, err := open(c, unix.O_RDONLY)
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	c.interrupt()
	if err := <-got; err != syserr.ERestartSys {
		t.Fatalf("interrupted open: %v", err)
	}
	if _, err := open(ctx, unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Errorf("after the interrupted open: %v, want ENXIO", err)
	}
}

func TestAnonStat(t *testing.T) {
	v := vfs.New()
	fs := pipe.For(v)
	r, w := fs.NewPipe(auth.NewRootCredentials(), 0)
	defer r.DecRef()
	defer w.DecRef()
	rs, _ := r.Stat()
	ws, _ := w.Stat()
	if rs.Mode != unix.S_IFIFO|0o600 || rs.Ino != ws.Ino || rs.Dev != fs.Dev() || rs.Nlink != 1 {
		t.Errorf("stat %+v", rs)
	}
	if name := r.PathName(vfs.VirtualDentry{}); !bytes.HasPrefix([]byte(name), []byte("pipe:[")) {
		t.Errorf("name %q", name)
	}
	if _, err := r.PRead(make([]byte, 1), 0); err != unix.ESPIPE {
		t.Errorf("pread: %v", err)
	}
}
