package ptrace

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/platform"
)

// ErrReleased is returned when an address space is used after Release.
var ErrReleased = errors.New("ptrace: address space released")

// addressSpace is one stub process.
type addressSpace struct {
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
	err := p.master.do(func() error {
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
	err := as.p.master.do(func() error {
		as.mu.Lock()
		released := as.released
		as.mu.Unlock()
		if released {
			return ErrReleased
		}
		const flags = unix.CLONE_VM | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SIGHAND |
			unix.CLONE_THREAD | unix.CLONE_SYSVSEM
		var err error
		ntid, err = as.leader.syscall(stubCloneOffset, unix.SYS_CLONE, flags, 0, 0, 0, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: clone stub thread: %w", err)
	}
	t := &thread{p: as.p, tgid: as.leader.tgid, tid: int(ntid), tracer: tid}
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
		_ = reap(t.tid)
		return nil, ErrReleased
	}
	as.threads[tid] = t
	as.mu.Unlock()
	return t, nil
}

// seize attaches the calling OS thread to t and waits for it to stop.
func (t *thread) seize() error {
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_SEIZE, uintptr(t.tid), 0, ptraceOptions, 0, 0); e != 0 {
		return fmt.Errorf("ptrace: PTRACE_SEIZE(%d): %w", t.tid, e)
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_INTERRUPT, uintptr(t.tid), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ptrace: PTRACE_INTERRUPT(%d): %w", t.tid, e)
	}
	for {
		ws, err := wait4(t.tid)
		if err != nil {
			return fmt.Errorf("ptrace: wait for new stub thread: %w", err)
		}
		if ws.Exited() || ws.Signaled() {
			return fmt.Errorf("%w: new thread: %s", ErrStubDied, describeStatus(ws))
		}
		// PTRACE_INTERRUPT yields a PTRACE_EVENT_STOP trap; a signal
		// that raced with it shows up first as a signal-delivery-stop,
		// which we discard (the interrupt stays pending in jobctl).
		if ws.Stopped() && ws>>16 == unix.PTRACE_EVENT_STOP {
			return nil
		}
		if err := unix.PtraceCont(t.tid, 0); err != nil {
			return fmt.Errorf("ptrace: PTRACE_CONT(%d): %w", t.tid, err)
		}
	}
}

// syscall runs an injected syscall in this address space: in the calling OS
// thread's own stub thread if it has one (no handoff), otherwise in the
// leader via the master thread. MapFile and Unmap deliberately do not create
// stub threads: a sentry thread that only manipulates mappings (a loader, a
// control goroutine) should not leave a thread behind in the stub.
func (as *addressSpace) syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t, err := as.lookup(unix.Gettid())
	if err != nil {
		return 0, err
	}
	if t != nil {
		return t.syscall(stubSyscallOffset, nr, args...)
	}
	var ret uintptr
	err = as.p.master.do(func() error {
		as.mu.Lock()
		released := as.released
		as.mu.Unlock()
		if released {
			return ErrReleased
		}
		var err error
		ret, err = as.leader.syscall(stubSyscallOffset, nr, args...)
		return err
	})
	return ret, err
}

// checkRange rejects ranges that are unaligned, empty, wrap, or reach the
// stub page: a MAP_FIXED over the stub would destroy the injection sites.
func (as *addressSpace) checkRange(addr, length uintptr) error {
	const pageMask = 0xfff
	if addr&pageMask != 0 || length&pageMask != 0 || length == 0 ||
		addr+length < addr || addr+length > as.p.stubStart {
		return fmt.Errorf("ptrace: bad range [%#x, +%#x): %w", addr, length, unix.EINVAL)
	}
	return nil
}

// MapFile implements platform.AddressSpace with an injected
// mmap(addr, length, prot, MAP_SHARED|MAP_FIXED, fd, offset). The fd is
// valid in the stub because every stub shares the sentry's file descriptor
// table (CLONE_FILES).
func (as *addressSpace) MapFile(addr uintptr, fd int, offset uint64, length uintptr, at platform.AccessType) error {
	if err := as.checkRange(addr, length); err != nil {
		return err
	}
	if offset&0xfff != 0 {
		return fmt.Errorf("ptrace: unaligned offset %#x: %w", offset, unix.EINVAL)
	}
	got, err := as.syscall(unix.SYS_MMAP, addr, length, uintptr(at.Prot()),
		unix.MAP_SHARED|unix.MAP_FIXED, uintptr(fd), uintptr(offset))
	if err != nil {
		return fmt.Errorf("ptrace: mmap(%#x, %#x, fd %d, off %#x): %w", addr, length, fd, offset, err)
	}
	if got != addr {
		return fmt.Errorf("ptrace: mmap(%#x) returned %#x", addr, got)
	}
	return nil
}

// Unmap implements platform.AddressSpace with an injected munmap.
func (as *addressSpace) Unmap(addr uintptr, length uintptr) error {
	if err := as.checkRange(addr, length); err != nil {
		return err
	}
	if _, err := as.syscall(unix.SYS_MUNMAP, addr, length); err != nil {
		return fmt.Errorf("ptrace: munmap(%#x, %#x): %w", addr, length, err)
	}
	return nil
}

// Release implements platform.AddressSpace: SIGKILL the stub process and
// reap all of its threads. Idempotent. Contexts must not be switched into as
// concurrently.
func (as *addressSpace) Release() {
	_ = as.p.master.do(func() error {
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
	others := make([]*thread, 0, len(as.threads))
	for _, t := range as.threads {
		others = append(others, t)
	}
	as.threads = nil
	as.mu.Unlock()
	killProcess(as.leader, others)
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
	_ = t.exit()
}
