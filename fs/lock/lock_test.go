package lock

import (
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/sentry/syserr"
)

type ctx struct{ intr chan struct{} }

func (c ctx) InterruptChan() <-chan struct{} { return c.intr }
func (c ctx) Interrupted() bool              { return true }

func noCtx() ctx { return ctx{} }

type span struct {
	owner      string
	typ        Type
	start, end int64
}

func spans(l *FileLocks) []span {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []span
	for _, r := range l.records {
		out = append(out, span{r.Owner.(string), r.Type, r.Start, r.End})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].owner != out[j].owner {
			return out[i].owner < out[j].owner
		}
		return out[i].start < out[j].start
	})
	return out
}

func rec(owner string, t Type, s, e int64) Record {
	return Record{Type: t, Start: s, End: e, Owner: owner}
}

func TestRecordSplitMerge(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Record
		want []span
	}{
		{"merge overlapping", []Record{rec("a", ReadLock, 0, 9), rec("a", ReadLock, 5, 19)},
			[]span{{"a", ReadLock, 0, 19}}},
		{"merge adjacent", []Record{rec("a", WriteLock, 0, 9), rec("a", WriteLock, 10, 19)},
			[]span{{"a", WriteLock, 0, 19}}},
		{"no merge across types", []Record{rec("a", ReadLock, 0, 9), rec("a", WriteLock, 10, 19)},
			[]span{{"a", ReadLock, 0, 9}, {"a", WriteLock, 10, 19}}},
		{"split by unlock", []Record{rec("a", WriteLock, 0, 99), rec("a", Unlock, 10, 19)},
			[]span{{"a", WriteLock, 0, 9}, {"a", WriteLock, 20, 99}}},
		{"type change in the middle", []Record{rec("a", WriteLock, 0, 99), rec("a", ReadLock, 10, 19)},
			[]span{{"a", WriteLock, 0, 9}, {"a", ReadLock, 10, 19}, {"a", WriteLock, 20, 99}}},
		{"to EOF then unlock tail", []Record{rec("a", ReadLock, 100, MaxOffset), rec("a", Unlock, 200, MaxOffset)},
			[]span{{"a", ReadLock, 100, 199}}},
		{"others untouched", []Record{rec("a", ReadLock, 0, 9), rec("b", ReadLock, 5, 14), rec("a", Unlock, 0, MaxOffset)},
			[]span{{"b", ReadLock, 5, 14}}},
		{"bridge two pieces", []Record{rec("a", ReadLock, 0, 9), rec("a", ReadLock, 20, 29), rec("a", ReadLock, 10, 19)},
			[]span{{"a", ReadLock, 0, 29}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &FileLocks{}
			for _, op := range tc.ops {
				if err := l.SetRecord(noCtx(), op, false); err != nil {
					t.Fatalf("%+v: %v", op, err)
				}
			}
			if got := spans(l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRecordConflicts(t *testing.T) {
	l := &FileLocks{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.SetRecord(noCtx(), rec("a", ReadLock, 0, 9), false))
	must(l.SetRecord(noCtx(), rec("b", ReadLock, 5, 14), false))
	if err := l.SetRecord(noCtx(), rec("c", WriteLock, 9, 9), false); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("write over two readers: %v", err)
	}
	if err := l.SetRecord(noCtx(), rec("a", WriteLock, 0, 4), false); err != nil {
		t.Errorf("upgrade where nobody else reads: %v", err)
	}
	if err := l.SetRecord(noCtx(), rec("a", WriteLock, 0, 9), false); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("upgrade over another reader: %v", err)
	}
	if got := spans(l); !reflect.DeepEqual(got, []span{{"a", WriteLock, 0, 4}, {"a", ReadLock, 5, 9}, {"b", ReadLock, 5, 14}}) {
		t.Errorf("a failed upgrade changed the locks: %v", got)
	}
	if o, ok := l.Test(rec("c", ReadLock, 0, 0)); !ok || o.Owner != "a" || o.Type != WriteLock {
		t.Errorf("Test = %+v %v", o, ok)
	}
	if o, ok := l.Test(rec("a", WriteLock, 0, 100)); !ok || o.Owner != "b" {
		t.Errorf("own locks never conflict, b's must: %+v %v", o, ok)
	}
}

func TestRecordBlockingAndDeadlock(t *testing.T) {
	l := &FileLocks{}
	if err := l.SetRecord(noCtx(), rec("A", WriteLock, 0, 0), false); err != nil {
		t.Fatal(err)
	}
	if err := l.SetRecord(noCtx(), rec("B", WriteLock, 1, 1), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.SetRecord(noCtx(), rec("B", WriteLock, 0, 0), true) }()
	// Wait until B is recorded as waiting for A.
	for i := 0; ; i++ {
		deadlock.mu.Lock()
		w := deadlock.waitingFor["B"]
		deadlock.mu.Unlock()
		if w == "A" {
			break
		}
		if i > 1000 {
			t.Fatal("B never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	if err := l.SetRecord(noCtx(), rec("A", WriteLock, 1, 1), true); !errors.Is(err, unix.EDEADLK) {
		t.Errorf("closing the cycle: %v, want EDEADLK", err)
	}
	// OFD requests never report deadlocks.
	ofd := rec("A", WriteLock, 1, 1)
	ofd.OFD = true
	intr := make(chan struct{}, 1)
	intr <- struct{}{}
	if err := l.SetRecord(ctx{intr}, ofd, true); err != syserr.ERestartSys {
		t.Errorf("interrupted OFD wait: %v, want ERESTARTSYS", err)
	}
	l.ReleaseOwner("A", false)
	if err := <-done; err != nil {
		t.Errorf("B's wait: %v", err)
	}
	if got := spans(l); !reflect.DeepEqual(got, []span{{"B", WriteLock, 0, 1}}) {
		t.Errorf("after release %v", got)
	}
}

func TestFlock(t *testing.T) {
	l := &FileLocks{}
	if err := l.Flock(noCtx(), "a", ReadLock, false); err != nil {
		t.Fatal(err)
	}
	if err := l.Flock(noCtx(), "b", ReadLock, false); err != nil {
		t.Fatal(err)
	}
	if err := l.Flock(noCtx(), "c", WriteLock, false); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("exclusive over shared: %v", err)
	}
	// A failed conversion loses the old lock (flock_lock_inode()).
	if err := l.Flock(noCtx(), "a", WriteLock, false); !errors.Is(err, unix.EAGAIN) {
		t.Errorf("upgrade over another shared lock: %v", err)
	}
	if len(l.flocks) != 1 || l.flocks[0].owner != "b" {
		t.Errorf("flocks after a failed upgrade: %+v", l.flocks)
	}
	done := make(chan error, 1)
	go func() { done <- l.Flock(noCtx(), "c", WriteLock, true) }()
	time.Sleep(10 * time.Millisecond)
	l.ReleaseOwner("b", true)
	if err := <-done; err != nil {
		t.Errorf("blocked exclusive lock: %v", err)
	}
	if err := l.Flock(noCtx(), "c", Unlock, false); err != nil || len(l.flocks) != 0 {
		t.Errorf("unlock: %v %+v", err, l.flocks)
	}
}

func TestRegistryForgetsEmpty(t *testing.T) {
	key := new(int)
	before := posixLocks.Load()
	l := Acquire(key)
	if err := l.SetRecord(noCtx(), rec("a", ReadLock, 0, 0), false); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if Lookup(key) != l {
		t.Fatal("a FileLocks with locks was forgotten")
	}
	l.Release()
	l.ReleaseOwner("a", false)
	l2 := Acquire(key)
	l2.Release()
	registry.mu.Lock()
	_, ok := registry.m[key]
	registry.mu.Unlock()
	if ok {
		t.Errorf("empty, unreferenced FileLocks kept")
	}
	if posixLocks.Load() != before {
		t.Errorf("POSIX lock count %d, want %d", posixLocks.Load(), before)
	}
}
