package container

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestTransitions(t *testing.T) {
	all := []Status{Creating, Created, Running, Paused, Stopped}
	legal := map[Status][]Status{
		Creating: {Created, Stopped},
		Created:  {Running, Stopped},
		Running:  {Paused, Stopped},
		Paused:   {Running, Stopped},
		Stopped:  {},
	}
	for _, from := range all {
		st, err := stateOf(from)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range all {
			ok := false
			for _, l := range legal[from] {
				ok = ok || l == to
			}
			err := st.transition(to)
			if ok != (err == nil) {
				t.Errorf("%s -> %s: got %v, want legal=%v", from, to, err, ok)
			}
			var te *TransitionError
			if err != nil && (!errors.As(err, &te) || te.From != from || te.To != to) {
				t.Errorf("%s -> %s: error %v is not a TransitionError{%s,%s}", from, to, err, from, to)
			}
		}
	}
}

func TestTransitionErrorIs(t *testing.T) {
	for _, tc := range []struct {
		from, to Status
		target   error
		want     bool
	}{
		{Stopped, Running, ErrNotRunning, true},
		{Created, Paused, ErrNotRunning, true},
		{Running, Running, ErrNotPaused, true},
		{Running, Running, ErrNotRunning, false},
	} {
		err := error(&TransitionError{tc.from, tc.to})
		if got := errors.Is(err, tc.target); got != tc.want {
			t.Errorf("Is(%s->%s, %v) = %v", tc.from, tc.to, tc.target, got)
		}
	}
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{
		"abc": true, "a-b_c.d+e": true, "0123456789abcdef": true,
		"": false, ".": false, "..": false, "a/b": false, "../x": false, ".hidden": false, "a b": false,
	} {
		if err := ValidateID(id); (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	c, err := s.Create("c1", "/bundle")
	if err != nil {
		t.Fatal(err)
	}
	self, err := ProcessOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	c.Sandbox = self
	if err := c.Transition(Created); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c.Release()
	if _, err := s.Create("c1", "/bundle"); !errors.Is(err, ErrExist) {
		t.Fatalf("second Create: %v, want ErrExist", err)
	}
	c, err = s.Load("c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Bundle != "/bundle" || c.CurrentStatus() != Created {
		t.Fatalf("loaded %+v status %s", c.State, c.CurrentStatus())
	}
	if err := c.Transition(Paused); err == nil {
		t.Fatal("created -> paused allowed")
	}
	c.Release()
	ids, err := s.List()
	if err != nil || len(ids) != 1 || ids[0] != "c1" {
		t.Fatalf("List = %v, %v", ids, err)
	}
	if _, err := s.Load("nope"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Load(nope) = %v", err)
	}
}

// A container whose sandbox died is stopped whatever its saved status.
func TestDeadSandboxIsStopped(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := ProcessOf(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	c := &Container{State: State{Status: Running, Sandbox: p}}
	if s := c.CurrentStatus(); s != Stopped {
		t.Fatalf("status %s, want stopped", s)
	}
	if ok, _ := c.CanDestroy(); !ok {
		t.Fatal("stopped container not destroyable")
	}
	// Same PID, other start time: another process.
	self, _ := ProcessOf(os.Getpid())
	self.StartTime++
	if self.Alive() {
		t.Fatal("process with wrong start time reported alive")
	}
}

// A crashed create leaves a directory without state.json; it loads as
// stopped so delete can remove it.
func TestCrashedCreate(t *testing.T) {
	s := Store{Root: t.TempDir()}
	c, err := s.Create("x", "/b")
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	c, err = s.Load("x")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.CurrentStatus() != Stopped {
		t.Fatalf("status %s", c.CurrentStatus())
	}
}

// The lock excludes a second holder until the first releases it.
func TestLockExcludes(t *testing.T) {
	s := Store{Root: t.TempDir()}
	c, err := s.Create("x", "/b")
	if err != nil {
		t.Fatal(err)
	}
	c.Save()
	got := make(chan *Container)
	go func() {
		c2, err := s.Load("x")
		if err != nil {
			t.Error(err)
		}
		got <- c2
	}()
	select {
	case <-got:
		t.Fatal("second Load did not wait for the lock")
	case <-time.After(100 * time.Millisecond):
	}
	c.Release()
	c2 := <-got
	if c2 != nil {
		c2.Release()
	}
}

func TestStatFields(t *testing.T) {
	f, err := statFields("12 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20")
	if err != nil || f.state != "S" || f.start != 4242 {
		t.Fatalf("got %+v, %v", f, err)
	}
	if _, err := statFields("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
}
