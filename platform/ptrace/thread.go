package ptrace

import (
	"errors"

	"pangolin/platform/internal/stubproc"
)

// ErrStubDied is wrapped by errors reporting that a stub process or thread
// exited or was killed underneath the platform.
var ErrStubDied = errors.New("ptrace: stub died")

// thread is one host thread of a stub process, traced by exactly one host
// thread of the sentry (tracer). Every ptrace request and wait for it must be
// issued from that OS thread (ptrace_check_attach() compares the caller with
// child->parent, a task, not a thread group).
type thread struct {
	stubproc.Tracee
	p      *Platform
	tracer int // host TID of the tracing sentry thread

	// xbuf is scratch space for XSAVE images larger than
	// arch.XSAVEAreaSize (AMX hosts); nil otherwise. Only the tracer uses
	// it.
	xbuf []byte
}

// newThread returns the stub thread tid of process tgid, traced by tracer.
func (p *Platform) newThread(tgid, tid, tracer int) *thread {
	return &thread{Tracee: stubproc.Tracee{Stub: &p.stub, TGID: tgid, TID: tid}, p: p, tracer: tracer}
}
