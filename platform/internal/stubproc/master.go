package stubproc

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Master is a goroutine locked to one OS thread for the lifetime of a
// platform. That thread is the real parent and the tracer of the master stub
// (cloned from the sentry with rawClone) and of the leader thread of every
// stub process (cloned from the master stub with CLONE_PARENT|CLONE_PTRACE).
// Work that needs those tracees runs on it via Do.
//
// Why a dedicated thread: a stub process must outlive the sentry thread that
// happened to create its address space (a task goroutine exits with its OS
// thread, which would SIGKILL every tracee through PTRACE_O_EXITKILL and
// PR_SET_PDEATHSIG), and only the tracer thread may inject into a leader.
type Master struct {
	reqs      chan masterReq
	dead      chan struct{} // closed when the goroutine has stopped serving
	errClosed error

	// The fields below are only touched on the master goroutine.

	// TID is the host TID of the master thread.
	TID  int
	stop bool
}

type masterReq struct {
	fn   func() error
	done chan error
}

// Start starts the master goroutine and runs init on it; errClosed is what
// Do returns once the goroutine has stopped. If init fails, the goroutine
// has stopped when Start returns its error.
//
// The goroutine never unlocks its OS thread: when it stops (Close, or init
// failing) the runtime terminates the thread, and the kernel kills any
// tracee left over, which is the safe failure mode.
func (m *Master) Start(errClosed error, init func() error) error {
	m.reqs = make(chan masterReq)
	m.dead = make(chan struct{})
	m.errClosed = errClosed
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer close(m.dead)
		m.TID = unix.Gettid()
		if err := init(); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for !m.stop {
			r := <-m.reqs
			r.done <- r.fn()
		}
	}()
	if err := <-ready; err != nil {
		<-m.dead
		return err
	}
	return nil
}

// Do runs fn on the master thread and returns its result.
func (m *Master) Do(fn func() error) error {
	done := make(chan error, 1)
	select {
	case m.reqs <- masterReq{fn: fn, done: done}:
	case <-m.dead:
		return m.errClosed
	}
	return <-done
}

// Close runs final on the master thread (killing what is left), stops the
// goroutine and waits until it is gone.
func (m *Master) Close(final func()) {
	_ = m.Do(func() error {
		final()
		m.stop = true
		return nil
	})
	<-m.dead
}
