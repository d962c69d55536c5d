package host

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/waiter"

	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
	"pangolin/sentry/syserr"
)

// intrCtx is a task whose blocking operations a test can interrupt.
type intrCtx struct {
	ch          chan struct{}
	interrupted bool
}

func (c *intrCtx) Credentials() *auth.Credentials     { return auth.NewRootCredentials() }
func (c *intrCtx) InterruptChan() <-chan struct{}     { return c.ch }
func (c *intrCtx) Interrupted() bool                  { return c.interrupted }
func (c *intrCtx) CopyInBytes(uintptr, []byte) error  { return unix.EFAULT }
func (c *intrCtx) CopyOutBytes(uintptr, []byte) error { return unix.EFAULT }

var ctx = vfs.CredsContext(auth.NewRootCredentials())

// hostPipe wraps both ends of a new host pipe.
func hostPipe(t *testing.T) (r, w *vfs.FileDescription) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, err := NewFile(p[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err = NewFile(p[1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

func TestPollableKinds(t *testing.T) {
	r, w := hostPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	if !r.Pollable() || !w.Pollable() {
		t.Error("host pipe ends not pollable")
	}
	for _, path := range []string{"/dev/null", os.Args[0]} {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFile(fd, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Pollable() {
			t.Errorf("%s is pollable (epoll_ctl refuses it on Linux)", path)
		}
		if got := f.Readiness(waiter.ReadableEvents | waiter.WritableEvents); got != waiter.ReadableEvents|waiter.WritableEvents {
			t.Errorf("%s readiness %#x", path, got)
		}
		f.DecRef()
	}
}

func TestReadinessAndNotifications(t *testing.T) {
	r, w := hostPipe(t)
	defer r.DecRef()
	if got := r.Readiness(waiter.ReadableEvents); got != 0 {
		t.Errorf("empty pipe readiness %#x", got)
	}
	e, ch := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHUp)
	r.EventRegister(&e)
	defer r.EventUnregister(&e)
	if n, err := w.Write(ctx, []byte("x")); n != 1 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for data")
	}
	if got := r.Readiness(waiter.ReadableEvents); got&waiter.EventIn == 0 {
		t.Errorf("readiness with data %#x", got)
	}
	b := make([]byte, 4)
	if n, err := r.Read(ctx, b); n != 1 || err != nil {
		t.Fatalf("read: %d, %v", n, err)
	}
	w.DecRef()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for the writer closing")
	}
	if got := r.Readiness(waiter.ReadableEvents); got != waiter.EventHUp {
		t.Errorf("readiness after the writer closed %#x", got)
	}
	if n, err := r.Read(ctx, b); n != 0 || err != nil {
		t.Errorf("read at EOF: %d, %v", n, err)
	}
}

func TestBlockingReadWaitsInSentry(t *testing.T) {
	r, w := hostPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	c := &intrCtx{ch: make(chan struct{}, 1)}
	done := make(chan error)
	go func() {
		_, err := r.Read(c, make([]byte, 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.interrupted = true
	c.ch <- struct{}{}
	select {
	case err := <-done:
		if err != syserr.ERestartSys {
			t.Fatalf("interrupted read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read stayed blocked in the host")
	}
	// Woken by data.
	go func() {
		n, err := r.Read(ctx, make([]byte, 10))
		if n != 3 {
			done <- err
			return
		}
		done <- nil
	}()
	time.Sleep(20 * time.Millisecond)
	w.Write(ctx, []byte("abc"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNonblockingDescriptionLeavesHostFlags(t *testing.T) {
	r, w := hostPipe(t)
	defer r.DecRef()
	defer w.DecRef()
	r.SetStatusFlags(unix.O_NONBLOCK)
	if _, err := r.Read(ctx, make([]byte, 1)); err != unix.EAGAIN {
		t.Fatalf("non-blocking read of an empty host pipe: %v", err)
	}
	w.SetStatusFlags(unix.O_NONBLOCK)
	n, err := w.Write(ctx, make([]byte, 1<<20))
	if err != nil || n <= 0 || n >= 1<<20 {
		t.Fatalf("non-blocking big write: %d, %v", n, err)
	}
	if _, err := w.Write(ctx, []byte("x")); err != unix.EAGAIN {
		t.Fatalf("write to a full host pipe: %v", err)
	}
	for _, f := range []*vfs.FileDescription{r, w} {
		fl, err := unix.FcntlInt(uintptr(f.Impl().(*pollableFile).fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK != 0 {
			t.Errorf("host flags %#x, %v: O_NONBLOCK leaked to the host", fl, err)
		}
	}
	if size, err := w.Impl().(*pollableFile).PipeSize(); err != nil || size != int64(n) {
		t.Errorf("F_GETPIPE_SZ: %d, %v (filled %d)", size, err, n)
	}
}
