package epoll

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/fs/eventfd"
	"pangolin/fs/vfs"
	"pangolin/sentry/auth"
)

var ctx = vfs.CredsContext(auth.NewRootCredentials())

func newEventfd(t *testing.T, v uint64) *vfs.FileDescription {
	t.Helper()
	return eventfd.New(v, false, unix.O_RDWR|unix.O_NONBLOCK)
}

func harvest(t *testing.T, ep *EventPoll, max int) []Event {
	t.Helper()
	var out []Event
	n, err := ep.Wait(ctx, max, 0, func(i int, ev Event) bool {
		out = append(out, ev)
		return true
	})
	if err != nil || n != len(out) {
		t.Fatalf("Wait = %d, %v (%d events)", n, err, len(out))
	}
	return out
}

func TestTriggerModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint32
		// want is the number of events reported by three consecutive
		// harvests of a readable eventfd.
		want [3]int
	}{
		{"level", 0, [3]int{1, 1, 1}},
		{"edge", EPOLLET, [3]int{1, 0, 0}},
		{"oneshot", EPOLLONESHOT, [3]int{1, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			epf := New(unix.O_RDWR)
			defer epf.DecRef()
			ep := epf.Impl().(*EventPoll)
			efd := newEventfd(t, 1)
			defer efd.DecRef()
			if err := ep.Ctl(CtlAdd, efd, 3, Event{Events: EPOLLIN | tc.flags, Data: 42}); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				evs := harvest(t, ep, 8)
				if len(evs) != w {
					t.Fatalf("harvest %d: %d events, want %d", i, len(evs), w)
				}
				if w == 1 && (evs[0].Events != EPOLLIN || evs[0].Data != 42) {
					t.Fatalf("harvest %d: %+v", i, evs[0])
				}
			}
		})
	}
}

func TestCtlErrors(t *testing.T) {
	epf := New(unix.O_RDWR)
	defer epf.DecRef()
	ep := epf.Impl().(*EventPoll)
	efd := newEventfd(t, 0)
	defer efd.DecRef()
	for _, tc := range []struct {
		name string
		op   int
		ev   uint32
		want error
	}{
		{"mod missing", CtlMod, EPOLLIN, unix.ENOENT},
		{"del missing", CtlDel, 0, unix.ENOENT},
		{"add", CtlAdd, EPOLLIN, nil},
		{"add twice", CtlAdd, EPOLLIN, unix.EEXIST},
		{"mod exclusive", CtlMod, EPOLLIN | EPOLLEXCLUSIVE, unix.EINVAL},
		{"bad op", 7, EPOLLIN, unix.EINVAL},
		{"del", CtlDel, 0, nil},
		{"exclusive with oneshot", CtlAdd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, unix.EINVAL},
	} {
		if err := ep.Ctl(tc.op, efd, 3, Event{Events: tc.ev}); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestRelease checks that an entry goes with its file's last reference
// and that a released instance leaves no registration behind.
func TestRelease(t *testing.T) {
	epf := New(unix.O_RDWR)
	ep := epf.Impl().(*EventPoll)
	efd := newEventfd(t, 1)
	if err := ep.Ctl(CtlAdd, efd, 3, Event{Events: EPOLLIN}); err != nil {
		t.Fatal(err)
	}
	efd.IncRef()
	efd.DecRef()
	if n := len(harvest(t, ep, 8)); n != 1 {
		t.Fatalf("%d events with the file open", n)
	}
	efd.DecRef()
	if n := len(harvest(t, ep, 8)); n != 0 {
		t.Fatalf("%d events after the file's release", n)
	}
	if len(ep.items) != 0 {
		t.Fatalf("%d entries left", len(ep.items))
	}
	epf.DecRef()
}

func TestLoops(t *testing.T) {
	var eps []*vfs.FileDescription
	for i := 0; i < 7; i++ {
		eps = append(eps, New(unix.O_RDWR))
		defer eps[i].DecRef()
	}
	at := func(i int) *EventPoll { return eps[i].Impl().(*EventPoll) }
	for i := 0; i < 6; i++ {
		err := at(i+1).Ctl(CtlAdd, eps[i], int32(i), Event{Events: EPOLLIN})
		if want := map[bool]error{true: nil, false: unix.ELOOP}[i < 4]; err != want {
			t.Fatalf("link %d: %v, want %v", i, err, want)
		}
		if err != nil {
			break
		}
	}
	if err := at(0).Ctl(CtlAdd, eps[3], 3, Event{Events: EPOLLIN}); err != unix.ELOOP {
		t.Fatalf("cycle: %v", err)
	}
}

func TestWaitTimeoutAndWakeup(t *testing.T) {
	epf := New(unix.O_RDWR)
	defer epf.DecRef()
	ep := epf.Impl().(*EventPoll)
	efd := newEventfd(t, 0)
	defer efd.DecRef()
	if err := ep.Ctl(CtlAdd, efd, 3, Event{Events: EPOLLIN, Data: 1}); err != nil {
		t.Fatal(err)
	}
	put := func(int, Event) bool { return true }
	start := time.Now()
	if n, err := ep.Wait(ctx, 1, 20*time.Millisecond, put); n != 0 || err != nil {
		t.Fatalf("timed wait: %d, %v", n, err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("returned before the timeout")
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		b := []byte{1, 0, 0, 0, 0, 0, 0, 0}
		if _, err := efd.Write(ctx, b); err != nil {
			t.Error(err)
		}
	}()
	if n, err := ep.Wait(ctx, 1, -1, put); n != 1 || err != nil {
		t.Fatalf("blocking wait: %d, %v", n, err)
	}
}
