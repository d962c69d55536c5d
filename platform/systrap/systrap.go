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
//     clones the sentry once into the master stub, erases its address
//     space and installs the process filter (platform/internal/stubproc,
//     shared with platform/ptrace).
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
	"sync"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
)

// ErrClosed is returned once Platform.Close has run.
var ErrClosed = errors.New("systrap: platform closed")

// ErrStubDied is wrapped by errors reporting that a stub process or thread
// exited or was killed underneath the platform.
var ErrStubDied = errors.New("systrap: stub died")

// stubAddrs are the stub's entry points in the stub page (identical in the
// sentry and every stub process). Immutable after New.
type stubAddrs struct {
	start, syscall, cloneSyscallThread, handler, restorer uintptr
	threadInitTrap                                        uintptr // RIP after the int3 of stubThreadInit
}

// Platform is the systrap platform. It is safe for concurrent use.
type Platform struct {
	stub stubAddrs // immutable
	// inject is the stub page as ptrace injection into the master stub
	// and the leaders sees it. Its register template is set by the master
	// goroutine before New returns; immutable afterwards.
	inject stubproc.Stub
	// stubShared is where each stub process maps its slot of the shared
	// memfd, right below the stub page. Immutable.
	stubShared uintptr
	// fsgsbase says the CPU and kernel let user space use
	// RD/WR{FS,GS}BASE (AT_HWCAP2 HWCAP2_FSGSBASE). Immutable.
	fsgsbase bool
	// pid is the sentry's pid (the sender of interrupt signals). Immutable.
	pid int

	procFilter *stubproc.Filter // the master stub's filter; immutable
	appProg    []byte           // the app-thread filter, copied into each slot; immutable

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
	addr, err := stubproc.InstallStub(code)
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
		inject:     stubproc.Stub{Name: "systrap", ErrDied: ErrStubDied, Start: addr, SyscallSite: addr + (sys - begin)},
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
	p.procFilter = stubproc.NewFilter(prog)
	if p.appProg, err = appFilter(addr); err != nil {
		return nil, err
	}
	if len(p.appProg) > reqProgMax {
		return nil, fmt.Errorf("systrap: app filter is %d bytes", len(p.appProg))
	}
	if p.shared, err = newSharedMem(); err != nil {
		return nil, err
	}
	p.master = &master{}
	if err := p.master.Start(ErrClosed, func() error { return p.master.startStub(p) }); err != nil {
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
	p.master.Close(p.master.close)
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

// master is the platform's master goroutine (stubproc.Master): the parent
// and tracer of the master stub and of every stub process's leader.
type master struct {
	stubproc.Master

	// Only touched on the master goroutine.
	stub *stubproc.Tracee

	mu sync.Mutex
	// spaces are the live address spaces, killed by Close.
	// +checklocks:mu
	spaces map[*addressSpace]struct{}
}

// startStub creates the master stub (stubproc.StartMaster), confined by
// the process filter.
func (m *master) startStub(p *Platform) error {
	m.mu.Lock()
	m.spaces = make(map[*addressSpace]struct{})
	m.mu.Unlock()
	t, err := p.inject.StartMaster(p.stub.start, p.procFilter)
	if err != nil {
		return err
	}
	m.stub = t
	return nil
}

// newProcess clones a new, empty stub process from the master stub. Runs
// on the master thread. Its parent-death signal is set by its syscall
// thread (the kernel sends it to every thread of an orphaned child that
// has one); until then PTRACE_O_EXITKILL covers the master thread's death.
func (m *master) newProcess() (*stubproc.Tracee, error) {
	return m.stub.NewProcess(m.stub.Stub.SyscallSite)
}

// close kills every remaining stub process and the master stub. Runs on
// the master thread, from Platform.Close.
func (m *master) close() {
	m.mu.Lock()
	spaces := m.spaces
	m.spaces = nil
	m.mu.Unlock()
	for as := range spaces {
		as.kill()
	}
	m.stub.KillProcess()
}
