package ptrace

import (
	"errors"

	"pangolin/platform/internal/stubproc"
)

// ErrStubDied is wrapped by errors reporting that a stub process or thread
// exited or was killed underneath the platform.
var ErrStubDied = errors.New("ptrace: stub died")

// thread is one host thread of a stub process, traced by exactly one host
// thread of the sentry (its tracer, the OS thread that seized it; the
// address space keys its threads by that thread's TID). Every ptrace
// request and wait for it must be issued from that OS thread
// (ptrace_check_attach() compares the caller with child->parent, a task,
// not a thread group).
type thread struct {
	stubproc.Tracee
	p *Platform

	// xbuf is scratch space for XSAVE images larger than
	// arch.XSAVEAreaSize (AMX hosts); nil otherwise. Only the tracer uses
	// it.
	xbuf []byte
}

// newThread returns the stub thread tid of process tgid.
func (p *Platform) newThread(tgid, tid int) *thread {
	return &thread{Tracee: stubproc.Tracee{Stub: &p.stub, TGID: tgid, TID: tid}, p: p}
}
