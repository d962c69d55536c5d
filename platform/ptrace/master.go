package ptrace

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned once Platform.Close has run.
var ErrClosed = errors.New("ptrace: platform closed")

// master is a goroutine locked to one OS thread for the lifetime of the
// platform. That thread is the real parent and the tracer of the master stub
// (cloned from the sentry with rawClone) and of the leader thread of every
// stub process (cloned from the master stub with CLONE_PARENT|CLONE_PTRACE).
// Work that needs those tracees runs on it via do().
//
// Why a dedicated thread: a stub process must outlive the sentry thread that
// happened to create its address space (a task goroutine exits with its OS
// thread, which would SIGKILL every tracee through PTRACE_O_EXITKILL and
// PR_SET_PDEATHSIG), and new stub threads for other tracer threads are
// created by injecting clone(2) into the leader, which needs its tracer.
type master struct {
	reqs chan masterReq
	dead chan struct{} // closed when the goroutine has stopped serving

	// The fields below are only touched on the master goroutine.
	tid    int     // host TID of the master thread
	stub   *thread // the master stub process
	spaces map[*addressSpace]struct{}
	stop   bool
}

type masterReq struct {
	fn   func() error
	done chan error
}

// do runs fn on the master thread and returns its result.
func (m *master) do(fn func() error) error {
	done := make(chan error, 1)
	select {
	case m.reqs <- masterReq{fn: fn, done: done}:
	case <-m.dead:
		return ErrClosed
	}
	return <-done
}

// run is the master goroutine. It never unlocks its OS thread: when it
// returns (Close) the runtime terminates the thread, and the kernel kills any
// tracee left over, which is the safe failure mode.
func (m *master) run(p *Platform, ready chan<- error) {
	runtime.LockOSThread()
	defer close(m.dead)
	m.tid = unix.Gettid()
	m.spaces = make(map[*addressSpace]struct{})
	if err := m.startStub(p); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for !m.stop {
		r := <-m.reqs
		r.done <- r.fn()
	}
}

// startStub creates the master stub: a clone of the sentry that runs only
// the stub page, then erases every other mapping so that it is an empty
// address space holding the stub and nothing else.
func (m *master) startStub(p *Platform) error {
	pid, errno := rawClone(uintptr(unix.SIGCHLD|unix.CLONE_FILES), p.stubStart+stubEntryOffset, uintptr(unix.Getpid()))
	if errno != 0 {
		return fmt.Errorf("ptrace: clone master stub: %w", unix.Errno(errno))
	}
	t := &thread{p: p, tgid: int(pid), tid: int(pid), tracer: m.tid}
	fail := func(err error) error {
		_ = unix.Kill(t.tgid, unix.SIGKILL)
		_ = reap(t.tid)
		return err
	}
	// The stub ends its setup with kill(getpid(), SIGSTOP) after
	// PTRACE_TRACEME, so its first event is that signal-delivery-stop.
	ws, err := wait4(t.tid)
	if err != nil {
		return fail(fmt.Errorf("ptrace: wait for master stub: %w", err))
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGSTOP {
		return fail(fmt.Errorf("%w: master stub: %s", ErrStubDied, describeStatus(ws)))
	}
	if err := unix.PtraceSetOptions(t.tid, ptraceOptions); err != nil {
		return fail(fmt.Errorf("ptrace: PTRACE_SETOPTIONS: %w", err))
	}
	// The injection template: the stub's own segment selectors, nothing
	// else from the Go thread it was cloned from.
	var regs unix.PtraceRegs
	if err := ptraceGetRegs(t.tid, &regs); err != nil {
		return fail(fmt.Errorf("ptrace: PTRACE_GETREGS: %w", err))
	}
	p.initRegs = unix.PtraceRegs{
		Cs: regs.Cs, Ss: regs.Ss, Ds: regs.Ds, Es: regs.Es, Fs: regs.Fs, Gs: regs.Gs,
		Eflags: 0x202, // IF | reserved bit 1
	}
	if err := t.unregisterRseq(); err != nil {
		return fail(err)
	}
	// Confine the master stub, and with it every stub process it will
	// clone, to the syscalls the platform injects (stubRules). The
	// program is still mapped here: it is part of the copy of the
	// sentry, erased just below. no_new_privs first, as seccomp(2)
	// requires without CAP_SYS_ADMIN.
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("ptrace: stub no_new_privs: %w", err))
	}
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, p.filter.addr()); err != nil {
		return fail(fmt.Errorf("ptrace: stub seccomp filter: %w", err))
	}
	// Erase the copy of the sentry. munmap(2) of unmapped ranges is not an
	// error; this also removes the vDSO and the sentry's stack.
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_MUNMAP, 0, p.stubStart); err != nil {
		return fail(fmt.Errorf("ptrace: munmap below stub: %w", err))
	}
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_MUNMAP, p.stubStart+stubSize, maxTaskSize-(p.stubStart+stubSize)); err != nil {
		return fail(fmt.Errorf("ptrace: munmap above stub: %w", err))
	}
	if err := p.probeFP(t.tid); err != nil {
		return fail(err)
	}
	m.stub = t
	return nil
}

// newProcess clones a new, empty stub process from the master stub. Runs on
// the master thread.
//
// CLONE_PARENT makes the master thread (the master stub's parent) the real
// parent, so this thread can reap it and PR_SET_PDEATHSIG refers to it;
// CLONE_PTRACE makes it traced by the master thread from its first
// instruction, starting with SIGSTOP pending (ptrace_init_task()), and
// inheriting the ptrace options. CLONE_FILES keeps sharing the sentry's
// file descriptor table, so any host FD the sentry holds can be mmapped by
// number.
func (m *master) newProcess(p *Platform) (*thread, error) {
	const flags = unix.CLONE_PARENT | unix.CLONE_PTRACE | unix.CLONE_FILES | uintptr(unix.SIGCHLD)
	pid, err := m.stub.syscall(stubCloneOffset, unix.SYS_CLONE, flags, 0, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("ptrace: clone stub process: %w", err)
	}
	t := &thread{p: p, tgid: int(pid), tid: int(pid), tracer: m.tid}
	fail := func(err error) (*thread, error) {
		_ = unix.Kill(t.tgid, unix.SIGKILL)
		_ = reap(t.tid)
		return nil, err
	}
	ws, err := wait4(t.tid)
	if err != nil {
		return fail(fmt.Errorf("ptrace: wait for new stub: %w", err))
	}
	if !ws.Stopped() {
		return fail(fmt.Errorf("%w: new stub: %s", ErrStubDied, describeStatus(ws)))
	}
	if err := unix.PtraceSetOptions(t.tid, ptraceOptions); err != nil {
		return fail(fmt.Errorf("ptrace: PTRACE_SETOPTIONS: %w", err))
	}
	// The death signal is not inherited (copy_process() clears it); the
	// parent is now the master thread.
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL)); err != nil {
		return fail(fmt.Errorf("ptrace: PR_SET_PDEATHSIG: %w", err))
	}
	return t, nil
}

// killProcess SIGKILLs a stub process and reaps its threads, then its
// leader: a zombie leader is not reported while other threads remain
// (delay_group_leader()). Any thread of the sentry may reap a tracee of a
// sibling thread (do_wait() walks the whole thread group unless
// __WNOTHREAD), so the master can reap stub threads traced by task threads.
func killProcess(leader *thread, others []*thread) {
	_ = unix.Kill(leader.tgid, unix.SIGKILL)
	for _, t := range others {
		_ = reap(t.tid)
	}
	_ = reap(leader.tid)
}

// close kills every remaining stub process and the master stub, then stops
// the master goroutine. Runs on the master thread.
func (m *master) close() error {
	for as := range m.spaces {
		as.kill()
	}
	killProcess(m.stub, nil)
	m.stop = true
	return nil
}

// unregisterRseq drops the restartable-sequences registration the master
// stub inherited from the sentry thread that cloned it (glibc registers
// every thread it starts; the binary links glibc for libseccomp). The kernel
// touches that area on every return to user space once a thread was
// preempted (rseq_handle_notify_resume()), and it lies in the copy of the
// sentry the stub is about to erase: the next resume would fault with
// SIGSEGV. Stub processes cloned later inherit no registration, and threads
// (CLONE_VM) never inherit one (rseq_fork()).
func (t *thread) unregisterRseq() error {
	var c rseqConfig
	if err := ptraceGetRseqConfig(t.tid, &c); err != nil {
		if err == unix.EIO || err == unix.EINVAL {
			// Linux < 5.13 cannot tell us; glibc 2.35+ on such a kernel
			// needs GLIBC_TUNABLES=glibc.pthread.rseq=0.
			return nil
		}
		return fmt.Errorf("ptrace: PTRACE_GET_RSEQ_CONFIGURATION: %w", err)
	}
	if c.ptr == 0 {
		return nil
	}
	const rseqFlagUnregister = 1
	if _, err := t.syscall(stubSyscallOffset, unix.SYS_RSEQ, uintptr(c.ptr), uintptr(c.size), rseqFlagUnregister, uintptr(c.sig)); err != nil {
		return fmt.Errorf("ptrace: unregister the stub's rseq area: %w", err)
	}
	return nil
}
