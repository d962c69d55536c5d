package ptrace

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform/internal/stubproc"
)

// ErrClosed is returned once Platform.Close has run.
var ErrClosed = errors.New("ptrace: platform closed")

// master is the platform's master goroutine (stubproc.Master): the real
// parent and the tracer of the master stub and of the leader thread of every
// stub process. New stub threads for other tracer threads are created by
// injecting clone(2) into the leader, which needs its tracer.
type master struct {
	stubproc.Master

	// The fields below are only touched on the master goroutine.
	stub   *stubproc.Tracee // the master stub process
	spaces map[*addressSpace]struct{}
}

// startStub creates the master stub (stubproc.StartMaster) confined by
// stubRules, and learns the host's FP state size from it.
func (m *master) startStub(p *Platform) error {
	m.spaces = make(map[*addressSpace]struct{})
	t, err := p.stub.StartMaster(p.stub.Start+stubEntryOffset, p.filter)
	if err != nil {
		return err
	}
	if err := p.probeFP(t.TID); err != nil {
		t.KillProcess()
		return err
	}
	m.stub = t
	return nil
}

// newProcess clones a new, empty stub process from the master stub at the
// stub's clone site (stubproc.ProcessCloneFlags). Runs on the master thread.
func (m *master) newProcess(p *Platform) (*thread, error) {
	leader, err := m.stub.NewProcess(p.stub.Start + stubCloneOffset)
	if err != nil {
		return nil, err
	}
	t := p.newThread(leader.TGID, leader.TID)
	// The death signal is not inherited (copy_process() clears it); the
	// parent is now the master thread.
	if _, err := t.Syscall(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL)); err != nil {
		t.KillProcess()
		return nil, fmt.Errorf("ptrace: PR_SET_PDEATHSIG: %w", err)
	}
	return t, nil
}

// close kills every remaining stub process and the master stub. Runs on the
// master thread, from Platform.Close.
func (m *master) close() {
	for as := range m.spaces {
		as.kill()
	}
	m.stub.KillProcess()
}
