// Package systrap implements platform.Platform without ptrace on the hot
// path: application code runs in stub processes as with platform/ptrace,
// but each app thread traps its own syscalls and faults into a signal
// handler of the stub (seccomp SECCOMP_RET_TRAP for syscalls), which hands
// the thread to the sentry through shared memory and a futex, and returns
// to app code with whatever registers the sentry left in the signal frame.
//
// See README.md for the design. In short:
//
//   - New installs the stub page (stub_amd64.s) in the sentry, creates the
//     shared memfd and starts the master goroutine, whose locked OS thread
//     clones the sentry once into the master stub (as platform/ptrace does),
//     erases its address space and installs the process filter.
//   - NewAddressSpace clones a stub process from the master stub and, by
//     ptrace injection into its stopped leader, maps the address space's
//     slot of the shared memfd, installs the signal handler and clones the
//     syscall thread, which serves mmap/munmap/clone requests from the
//     sentry through the slot's request page. The leader stays stopped.
//   - A context's first Switch into an address space asks the syscall
//     thread to clone an app thread for it; the new thread installs its
//     alternate signal stack and the app filter and traps once (int3).
//   - Switch writes the registers into the thread's current signal frame,
//     sets the state word to "resume" and waits for the next event; the
//     handler runs rt_sigreturn, and the next trap writes a new frame.
//
// Locking: Platform and sharedMem fields are immutable or guarded by their
// own mu; addressSpace.reqMu (the request page) is taken before
// addressSpace.mu; context.mu is a leaf. Master-thread-only state needs no
// lock because only the master goroutine touches it.
package systrap

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/platform"
)

// maxTaskSize is TASK_SIZE_MAX for 4-level paging on x86-64.
const maxTaskSize = 0x7ffffffff000

// ErrClosed is returned once Platform.Close has run.
var ErrClosed = errors.New("systrap: platform closed")

// stubAddrs are the stub's entry points in the stub page (identical in the
// sentry and every stub process). Immutable after New.
type stubAddrs struct {
	start, syscall, cloneSyscallThread, handler, restorer uintptr
	threadInitTrap                                        uintptr // RIP after the int3 of stubThreadInit
}

// Platform is the systrap platform. It is safe for concurrent use.
type Platform struct {
	stub stubAddrs // immutable
	// stubShared is where each stub process maps its slot of the shared
	// memfd, right below the stub page. Immutable.
	stubShared uintptr
	// initRegs is the register template for injected syscalls. Set by
	// the master goroutine before New returns; immutable afterwards.
	initRegs unix.PtraceRegs
	// fsgsbase says the CPU and kernel let user space use
	// RD/WR{FS,GS}BASE (AT_HWCAP2 HWCAP2_FSGSBASE). Immutable.
	fsgsbase bool
	// pid is the sentry's pid (the sender of interrupt signals). Immutable.
	pid int

	procFilter *heapFilter // the master stub's filter; immutable
	appProg    []byte      // the app-thread filter, copied into each slot; immutable

	shared *sharedMem
	master *master
}

var _ platform.Platform = (*Platform)(nil)

// hwcap2FSGSBase is HWCAP2_FSGSBASE (arch/x86/include/uapi/asm/hwcap2.h).
const hwcap2FSGSBase = 1 << 1

// New installs the stub and starts the master stub process.
func New() (*Platform, error) {
	begin, sys, clone, handler, restorer, end := stubLayout()
	if !(begin < sys && sys < clone && clone < handler && handler < restorer && restorer < end && end-begin <= pageSize) {
		return nil, fmt.Errorf("systrap: stub not laid out as one page: %#x %#x %#x %#x %#x %#x", begin, sys, clone, handler, restorer, end)
	}
	code := stubCode(begin, end)
	addr, err := installStub(code)
	if err != nil {
		return nil, fmt.Errorf("systrap: install stub page: %w", err)
	}
	p := &Platform{
		stub: stubAddrs{
			start:              addr,
			syscall:            addr + (sys - begin),
			cloneSyscallThread: addr + (clone - begin),
			handler:            addr + (handler - begin),
			restorer:           addr + (restorer - begin),
		},
		stubShared: addr - slotSize,
		pid:        unix.Getpid(),
		fsgsbase:   hwcap2()&hwcap2FSGSBase != 0,
	}
	p.stub.threadInitTrap = p.findThreadInitTrap(code)
	if p.stub.threadInitTrap == 0 {
		return nil, errors.New("systrap: stubThreadInit's int3 not found")
	}
	prog, err := processFilter(addr)
	if err != nil {
		return nil, err
	}
	p.procFilter = newHeapFilter(prog)
	if p.appProg, err = appFilter(addr); err != nil {
		return nil, err
	}
	if len(p.appProg) > reqProgMax {
		return nil, fmt.Errorf("systrap: app filter is %d bytes", len(p.appProg))
	}
	if p.shared, err = newSharedMem(); err != nil {
		return nil, err
	}
	p.master = &master{reqs: make(chan masterReq), dead: make(chan struct{})}
	ready := make(chan error, 1)
	go p.master.run(p, ready)
	if err := <-ready; err != nil {
		<-p.master.dead
		p.shared.close()
		return nil, err
	}
	return p, nil
}

// findThreadInitTrap returns the address just after stubThreadInit's int3
// (the RIP of a new thread's first event): the first 0xcc after the
// seccomp syscall in that function, found by scanning for the LEAQ
// 256(R12), DX that precedes it.
func (p *Platform) findThreadInitTrap(code []byte) uintptr {
	lea := []byte{0x49, 0x8d, 0x94, 0x24, 0x00, 0x01, 0x00, 0x00} // leaq 0x100(%r12),%rdx
	for i := 0; i+len(lea) < len(code); i++ {
		if string(code[i:i+len(lea)]) != string(lea) {
			continue
		}
		for j := i + len(lea); j < len(code); j++ {
			if code[j] == 0xcc {
				return p.stub.start + uintptr(j) + 1
			}
		}
	}
	return 0
}

// Close kills every stub process of the platform and the master stub. The
// platform must not be used afterwards.
func (p *Platform) Close() {
	_ = p.master.do(p.master.close)
	<-p.master.dead
	p.shared.close()
}

// Name implements platform.Platform.
func (p *Platform) Name() string { return "systrap" }

// MaxUserAddress implements platform.Platform: everything below the shared
// region is the app's.
func (p *Platform) MaxUserAddress() uintptr { return p.stubShared }

// NewContext implements platform.Platform.
func (p *Platform) NewContext() (platform.Context, error) {
	return &context{p: p, threads: make(map[*addressSpace]*thread)}, nil
}

// master is a goroutine locked to one OS thread for the lifetime of the
// platform: the parent and tracer of the master stub and of every stub
// process's leader (see platform/ptrace's master for why).
type master struct {
	reqs chan masterReq
	dead chan struct{}

	// Only touched on the master goroutine.
	tid  int
	stub *tracee
	stop bool

	mu sync.Mutex
	// spaces are the live address spaces, killed by Close.
	// +checklocks:mu
	spaces map[*addressSpace]struct{}
}

type masterReq struct {
	fn   func() error
	done chan error
}

func (m *master) do(fn func() error) error {
	done := make(chan error, 1)
	select {
	case m.reqs <- masterReq{fn: fn, done: done}:
	case <-m.dead:
		return ErrClosed
	}
	return <-done
}

func (m *master) run(p *Platform, ready chan<- error) {
	runtime.LockOSThread()
	defer close(m.dead)
	m.tid = unix.Gettid()
	m.mu.Lock()
	m.spaces = make(map[*addressSpace]struct{})
	m.mu.Unlock()
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

// startStub creates the master stub, confines it with the process filter
// and erases everything but the stub page from it.
func (m *master) startStub(p *Platform) error {
	pid, errno := rawClone(uintptr(unix.SIGCHLD|unix.CLONE_FILES), p.stub.start, uintptr(unix.Getpid()))
	if errno != 0 {
		return fmt.Errorf("systrap: clone master stub: %w", unix.Errno(errno))
	}
	t := &tracee{p: p, tid: int(pid)}
	fail := func(err error) error {
		t.kill()
		return err
	}
	ws, err := wait4(t.tid)
	if err != nil {
		return fail(fmt.Errorf("systrap: wait for master stub: %w", err))
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGSTOP {
		return fail(fmt.Errorf("%w: master stub: %s", ErrStubDied, describeStatus(ws)))
	}
	if err := unix.PtraceSetOptions(t.tid, ptraceOptions); err != nil {
		return fail(fmt.Errorf("systrap: PTRACE_SETOPTIONS: %w", err))
	}
	var regs unix.PtraceRegs
	if err := ptraceGetRegs(t.tid, &regs); err != nil {
		return fail(fmt.Errorf("systrap: PTRACE_GETREGS: %w", err))
	}
	p.initRegs = unix.PtraceRegs{
		Cs: regs.Cs, Ss: regs.Ss, Ds: regs.Ds, Es: regs.Es, Fs: regs.Fs, Gs: regs.Gs,
		Eflags: 0x202,
	}
	if err := t.unregisterRseq(); err != nil {
		return fail(err)
	}
	if _, err := t.inject(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("systrap: stub no_new_privs: %w", err))
	}
	if _, err := t.inject(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, p.procFilter.addr()); err != nil {
		return fail(fmt.Errorf("systrap: stub seccomp filter: %w", err))
	}
	if _, err := t.inject(unix.SYS_MUNMAP, 0, p.stub.start); err != nil {
		return fail(fmt.Errorf("systrap: munmap below stub: %w", err))
	}
	if _, err := t.inject(unix.SYS_MUNMAP, p.stub.start+pageSize, maxTaskSize-(p.stub.start+pageSize)); err != nil {
		return fail(fmt.Errorf("systrap: munmap above stub: %w", err))
	}
	m.stub = t
	return nil
}

// newProcess clones a new, empty stub process from the master stub (see
// platform/ptrace's newProcess for the flags). Runs on the master thread.
// Its parent-death signal is set by its syscall thread (the kernel sends
// it to every thread of an orphaned child that has one); until then
// PTRACE_O_EXITKILL covers the master thread's death.
func (m *master) newProcess(p *Platform) (*tracee, error) {
	pid, err := m.stub.inject(unix.SYS_CLONE, uintptr(processCloneFlags), 0, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("systrap: clone stub process: %w", err)
	}
	t := &tracee{p: p, tid: int(pid)}
	fail := func(err error) (*tracee, error) {
		t.kill()
		return nil, err
	}
	ws, err := wait4(t.tid)
	if err != nil {
		return fail(fmt.Errorf("systrap: wait for new stub: %w", err))
	}
	if !ws.Stopped() {
		return fail(fmt.Errorf("%w: new stub: %s", ErrStubDied, describeStatus(ws)))
	}
	if err := unix.PtraceSetOptions(t.tid, ptraceOptions); err != nil {
		return fail(fmt.Errorf("systrap: PTRACE_SETOPTIONS: %w", err))
	}
	return t, nil
}

func (m *master) close() error {
	m.mu.Lock()
	spaces := m.spaces
	m.spaces = nil
	m.mu.Unlock()
	for as := range spaces {
		as.kill()
	}
	m.stub.kill()
	m.stop = true
	return nil
}
