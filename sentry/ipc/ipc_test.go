package ipc

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
	"pangolin/sentry/memfile"
	"pangolin/sentry/memmap"
)

type ctx struct {
	c    *auth.Credentials
	intr chan struct{}
}

func (c ctx) Credentials() *auth.Credentials { return c.c }
func (c ctx) InterruptChan() <-chan struct{} { return c.intr }
func (c ctx) Interrupted() bool              { return true }

func root() ctx { return ctx{c: auth.NewRootCredentials(), intr: make(chan struct{}, 1)} }
func user(uid uint32) ctx {
	return ctx{c: auth.NewUserCredentials(uid, uid, nil), intr: make(chan struct{}, 1)}
}

func newNS(t *testing.T) *Namespace {
	mf, err := memfile.New("ipc-test", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return NewNamespace(mf)
}

func TestIdentifiersAreCyclic(t *testing.T) {
	ns := newNS(t)
	var ids []int32
	for i := 0; i < 3; i++ {
		id, err := ns.MsgGet(root(), IPCPrivate, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != 0 || ids[1] != 1 || ids[2] != 2 {
		t.Fatalf("first ids %v, want 0 1 2", ids)
	}
	if _, _, err := ns.MsgCtl(root(), ids[1], IPCRmid, nil); err != nil {
		t.Fatal(err)
	}
	id, _ := ns.MsgGet(root(), IPCPrivate, 0o600)
	if id != 3 {
		t.Errorf("next id %d, want 3 (indexes are not reused at once)", id)
	}
	if _, _, err := ns.MsgCtl(root(), ids[1], IPCStat, nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("stale id: %v", err)
	}
	// Once the indexes wrap, the sequence number makes ids differ.
	ns.msgs.lastIdx = ns.msgs.max - 1
	id, _ = ns.MsgGet(root(), IPCPrivate, 0o600)
	if id != ipcMNI+1 {
		t.Errorf("id after wrapping %d, want %d", id, ipcMNI+1)
	}
}

func TestPermissions(t *testing.T) {
	ns := newNS(t)
	id, err := ns.ShmGet(root(), 1, 42, 4096, IPCCreat|0o640)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		fn   func() error
	}{
		{"other may look it up without asking for access", nil, func() error { _, err := ns.ShmGet(user(1000), 2, 42, 0, 0); return err }},
		{"other asking for read", unix.EACCES, func() error { _, err := ns.ShmGet(user(1000), 2, 42, 0, 0o400); return err }},
		{"other attaching", unix.EACCES, func() error { _, err := ns.ShmAttach(user(1000), id, true, false); return err }},
		{"other removing", unix.EPERM, func() error { _, _, err := ns.ShmCtl(user(1000), id, IPCRmid, nil); return err }},
		{"other stat", unix.EACCES, func() error { _, _, err := ns.ShmCtl(user(1000), id, IPCStat, nil); return err }},
		{"other SHM_STAT_ANY", nil, func() error { _, _, err := ns.ShmCtl(user(1000), 0, ShmStatAny, nil); return err }},
	} {
		if err := tc.fn(); !errors.Is(err, tc.err) && !(err == nil && tc.err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	// Group members get the group bits.
	g := auth.NewUserCredentials(1000, 1000, []uint32{0})
	if a, err := ns.ShmAttach(ctx{c: g}, id, true, false); err != nil {
		t.Errorf("group read attach: %v", err)
	} else {
		a.Done()
	}
	if _, err := ns.ShmAttach(ctx{c: g}, id, false, false); !errors.Is(err, unix.EACCES) {
		t.Errorf("group write attach: %v", err)
	}
}

type space struct{ pid int32 }

func (s *space) Invalidate(memmap.Mappable, uint64, uint64, bool) {}
func (s *space) OwnerPID() int32                                  { return s.pid }

func TestShmDestroyedWithLastDetach(t *testing.T) {
	ns := newNS(t)
	id, _ := ns.ShmGet(root(), 1, IPCPrivate, 5000, 0o600)
	a, err := ns.ShmAttach(root(), id, false, false)
	if err != nil {
		t.Fatal(err)
	}
	seg := a.File.Mappable()
	sp := &space{pid: 7}
	seg.(memmap.Tracker).AddMapping(sp, true)
	a.Done()
	if _, err := seg.Translate(4096, 4096, true); err != nil {
		t.Fatal(err)
	}
	if _, err := seg.Translate(8192, 4096, true); !memmap.IsBusError(err) {
		t.Errorf("past the segment: %v", err)
	}
	if _, _, err := ns.ShmCtl(root(), id, IPCRmid, nil); err != nil {
		t.Fatal(err)
	}
	_, ds, err := ns.ShmCtl(root(), id, IPCStat, nil)
	if err != nil || ds.Perm.Mode&shmDest == 0 || ds.Nattch != 1 || ds.LPID != 7 {
		t.Errorf("after RMID: %+v %v", ds, err)
	}
	if ns.mf.Usage() != 4096 {
		t.Errorf("usage %d", ns.mf.Usage())
	}
	seg.(memmap.Tracker).RemoveMapping(sp, true)
	if _, _, err := ns.ShmCtl(root(), id, IPCStat, nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("destroyed segment: %v", err)
	}
	if ns.mf.Usage() != 0 || ns.shmTot != 0 {
		t.Errorf("usage %d, shm_tot %d after destroy", ns.mf.Usage(), ns.shmTot)
	}
}

func TestSemWaitersServedInOrder(t *testing.T) {
	ns := newNS(t)
	id, _ := ns.SemGet(root(), IPCPrivate, 1, 0o600)
	done := make(chan int, 2)
	for i := 1; i <= 2; i++ {
		go func(pid int32) {
			if err := ns.SemOp(root(), pid, id, []Sembuf{{Op: -1}}, nil); err == nil {
				done <- int(pid)
			}
		}(int32(i))
		for n := 0; n < 1000; n++ {
			ns.mu.Lock()
			c := len(ns.sems.byIdx[0].pending)
			ns.mu.Unlock()
			if c == i {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := ns.SemOp(root(), 9, id, []Sembuf{{Op: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	if first := <-done; first != 1 {
		t.Errorf("first served %d, want the oldest waiter", first)
	}
	if n, _, _, _ := ns.SemCtl(root(), 9, id, 0, GetNcnt, SemCtlArgs{}); n != 1 {
		t.Errorf("GETNCNT %d, want 1", n)
	}
	if _, _, _, err := ns.SemCtl(root(), 9, id, 0, IPCRmid, SemCtlArgs{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Errorf("second waiter succeeded after removal")
	case <-time.After(20 * time.Millisecond):
	}
}

func TestSemUndo(t *testing.T) {
	ns := newNS(t)
	id, _ := ns.SemGet(root(), IPCPrivate, 2, 0o600)
	ns.SemCtl(root(), 1, id, 0, SetVal, SemCtlArgs{Val: 2})
	if err := ns.SemOp(root(), 5, id, []Sembuf{{Num: 0, Op: -2, Flg: SemUndo}, {Num: 1, Op: 3, Flg: SemUndo}}, nil); err != nil {
		t.Fatal(err)
	}
	// Someone else takes semaphore 1 down, so undoing -3 clamps at 0.
	ns.SemOp(root(), 6, id, []Sembuf{{Num: 1, Op: -2}}, nil)
	ns.ExitProcess(5)
	_, vals, _, _ := ns.SemCtl(root(), 1, id, 0, GetAll, SemCtlArgs{})
	if vals[0] != 2 || vals[1] != 0 {
		t.Errorf("after undo %v, want [2 0]", vals)
	}
	if pid, _, _, _ := ns.SemCtl(root(), 1, id, 1, GetPID, SemCtlArgs{}); pid != 5 {
		t.Errorf("GETPID after undo %d, want 5", pid)
	}
	// The adjustment range is checked (ERANGE), and nothing applies.
	ns.SemCtl(root(), 1, id, 1, SetVal, SemCtlArgs{Val: semVMX})
	err := ns.SemOp(root(), 5, id, []Sembuf{{Num: 0, Op: 1, Flg: SemUndo}, {Num: 1, Op: 1}}, nil)
	if !errors.Is(err, unix.ERANGE) {
		t.Errorf("value past SEMVMX: %v", err)
	}
	if v, _, _, _ := ns.SemCtl(root(), 1, id, 0, GetVal, SemCtlArgs{}); v != 2 {
		t.Errorf("partial apply: %d", v)
	}
}

func TestMsgPipelinedToReceivers(t *testing.T) {
	ns := newNS(t)
	id, _ := ns.MsgGet(root(), IPCPrivate, 0o600)
	small := make(chan error, 1)
	big := make(chan *Message, 1)
	go func() { _, err := ns.MsgRcv(root(), 2, id, 2, 0, 0); small <- err }()
	waitReceivers(t, ns, 1)
	go func() { m, _ := ns.MsgRcv(root(), 3, id, 100, 0, 0); big <- m }()
	waitReceivers(t, ns, 2)
	if err := ns.MsgSnd(root(), 1, id, &Message{Type: 1, Text: []byte("hello")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := <-small; !errors.Is(err, unix.E2BIG) {
		t.Errorf("small receiver: %v, want E2BIG", err)
	}
	if m := <-big; m == nil || string(m.Text) != "hello" {
		t.Errorf("big receiver got %+v", m)
	}
	_, ds, _ := ns.MsgCtl(root(), id, IPCStat, nil)
	if ds.Qnum != 0 || ds.LRPID != 3 || ds.LSPID != 1 {
		t.Errorf("after handoff %+v", ds)
	}
}

func waitReceivers(t *testing.T, ns *Namespace, n int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		ns.mu.Lock()
		c := len(ns.msgs.byIdx[0].receivers)
		ns.mu.Unlock()
		if c == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("receivers never reached %d", n)
}
