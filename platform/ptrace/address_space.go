package ptrace

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
)

// ErrReleased is returned when an address space is used after Release.
var ErrReleased = errors.New("ptrace: address space released")

// addressSpace is one stub process.
type addressSpace struct {
	// Mapper implements MapFile and Unmap with injected mmap and munmap
	// (addressSpace.syscall) below the stub page.
	stubproc.Mapper

	p *Platform

	// leader is the stub process's first thread, traced by the master
	// thread. It serves clone requests for new stub threads and MapFile /
	// Unmap calls from sentry threads that own no stub thread here.
	// Immutable; only used on the master thread.
	leader *thread

	mu sync.Mutex
	// threads maps a sentry host TID to the stub thread it traces in
	// this address space. +checklocks:mu
	threads map[int]*thread
	// released is set by Release. +checklocks:mu
	released bool
}

var _ platform.AddressSpace = (*addressSpace)(nil)

// NewAddressSpace implements platform.Platform. It may be called from any
// goroutine; the process is created by, and traced by, the master thread.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	as := &addressSpace{p: p, threads: make(map[int]*thread)}
	as.Mapper = stubproc.Mapper{Name: "ptrace", Limit: p.stub.Start, Syscall: as.syscall}
	err := p.master.Do(func() error {
		t, err := p.master.newProcess(p)
		if err != nil {
			return err
		}
		as.leader = t
		p.master.spaces[as] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return as, nil
}

// lookup returns the stub thread traced by the OS thread tid, or nil.
func (as *addressSpace) lookup(tid int) (*thread, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return nil, ErrReleased
	}
	return as.threads[tid], nil
}

// threadFor returns the stub thread traced by the calling OS thread (tid),
// creating it if needed. The caller has locked its OS thread.
//
// Creation: the master injects clone(CLONE_VM|CLONE_THREAD|...) into the
// leader at the stub's clone site. The new thread is not traced (no
// CLONE_PTRACE, no PTRACE_O_TRACECLONE) and parks in the stub's pause()
// loop; this thread then PTRACE_SEIZEs it and PTRACE_INTERRUPTs it into a
// ptrace-stop. That is how a stub thread ends up traced by a thread other
// than the one that created the process, without the detach-in-group-stop
// dance that CLONE_PTRACE would require.
func (as *addressSpace) threadFor(tid int) (*thread, error) {
	if t, err := as.lookup(tid); t != nil || err != nil {
		return t, err
	}
	var ntid uintptr
	err := as.p.master.Do(func() error {
		as.mu.Lock()
		released := as.released
		as.mu.Unlock()
		if released {
			return ErrReleased
		}
		const flags = unix.CLONE_VM | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SIGHAND |
			unix.CLONE_THREAD | unix.CLONE_SYSVSEM
		var err error
		ntid, err = as.leader.Inject(as.p.stub.Start+stubCloneOffset, nil, unix.SYS_CLONE, flags, 0, 0, 0, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: clone stub thread: %w", err)
	}
	t := as.p.newThread(as.leader.TGID, int(ntid))
	if err := t.seize(); err != nil {
		// The untraced thread stays parked in pause(); it dies with the
		// process on Release.
		return nil, err
	}
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		// Release may have missed this thread; it is dead (SIGKILL
		// kills the group) and ours to reap.
		_ = stubproc.Reap(t.TID)
		return nil, ErrReleased
	}
	as.threads[tid] = t
	as.mu.Unlock()
	return t, nil
}

// seize attaches the calling OS thread to t and waits for it to stop.
func (t *thread) seize() error {
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(t.TID), 0, stubproc.Options, 0, 0); e != 0 {
		return fmt.Errorf("ptrace: PTRACE_SEIZE(%d): %w", t.TID, e)
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_INTERRUPT, uintptr(t.TID), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ptrace: PTRACE_INTERRUPT(%d): %w", t.TID, e)
	}
	for {
		ws, err := stubproc.Wait4(t.TID)
		if err != nil {
			return fmt.Errorf("ptrace: wait for new stub thread: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			return fmt.Errorf("%w: new thread: %s", ErrStubDied, stubproc.DescribeStatus(ws))
		}
		// PTRACE_INTERRUPT yields a PTRACE_EVENT_STOP trap; a signal
		// that raced with it shows up first as a signal-delivery-stop,
		// which we discard (the interrupt stays pending in jobctl).
		if ws.Stopped() && ws>>16 == unix.PTRACE_EVENT_STOP {
			return nil
		}
		if err := unix.PtraceCont(t.TID, 0); err != nil {
			return fmt.Errorf("ptrace: PTRACE_CONT(%d): %w", t.TID, err)
		}
	}
}

// syscall runs an injected syscall in this address space (for MapFile and
// Unmap): in the calling OS thread's own stub thread if it has one (no
// handoff), otherwise in the leader via the master thread. It deliberately
// does not create stub threads: a sentry thread that only manipulates
// mappings (a loader, a control goroutine) should not leave a thread behind
// in the stub.
func (as *addressSpace) syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t, err := as.lookup(unix.Gettid())
	if err != nil {
		return 0, err
	}
	if t != nil {
		return t.Syscall(nr, args...)
	}
	var ret uintptr
	err = as.p.master.Do(func() error {
		as.mu.Lock()
		released := as.released
		as.mu.Unlock()
		if released {
			return ErrReleased
		}
		var err error
		ret, err = as.leader.Syscall(nr, args...)
		return err
	})
	return ret, err
}

// Release implements platform.AddressSpace: SIGKILL the stub process and
// reap all of its threads. Idempotent. Contexts must not be switched into as
// concurrently.
func (as *addressSpace) Release() {
	_ = as.p.master.Do(func() error {
		as.kill()
		return nil
	})
}

// kill marks as released, kills and reaps it. Runs on the master thread.
func (as *addressSpace) kill() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	others := make([]int, 0, len(as.threads))
	for _, t := range as.threads {
		others = append(others, t.TID)
	}
	as.threads = nil
	as.mu.Unlock()
	as.leader.KillProcess(others...)
	delete(as.p.master.spaces, as)
}

// retire removes and exits the stub thread traced by tid, if any. It runs on
// that OS thread, before the thread goes away: the tracer's exit would
// otherwise SIGKILL the whole stub process through PTRACE_O_EXITKILL.
func (as *addressSpace) retire(tid int) {
	as.mu.Lock()
	t := as.threads[tid]
	if as.released || t == nil {
		as.mu.Unlock()
		return
	}
	delete(as.threads, tid)
	as.mu.Unlock()
	_ = t.Exit()
}
