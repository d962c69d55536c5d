package systrap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/platform"
	"pangolin/platform/internal/stubproc"
)

// ErrReleased is returned when an address space is used after Release.
var ErrReleased = errors.New("systrap: address space released")

// Spin budgets of the sentry side, in iterations of one PAUSE and a load.
// Waiting for app code adapts like the handler's (stub_amd64.s): doubled
// when a spin caught the event, halved when the sentry had to sleep, with
// a full-length probe every 32nd wait at the floor (see stub_amd64.s for
// why the probe must be full length). A request to the syscall
// thread is one short host syscall, so the sentry spins a fixed budget
// for its reply (measured: MapFile ~50 us instead of ~60-120 us per
// request on the loaded 2-CPU host).
const (
	sentrySpinMin   = 16
	sentrySpinMax   = 2048
	sentrySpinProbe = sentrySpinMax
	requestSpin     = 500
	// livenessPeriod is how long the sentry sleeps on a state word
	// before checking that the stub thread it waits for still exists
	// (the kernel's CLONE_CHILD_CLEARTID wake covers the usual death; a
	// whole process SIGKILLed may not clear the last thread's word).
	livenessPeriod = 100 * time.Millisecond
)

// handledSignals are the signals the stub's handler takes: the synchronous
// ones app code raises, and the interrupt signal.
var handledSignals = []unix.Signal{unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, stubproc.InterruptSignal}

// addressSpace is one stub process.
type addressSpace struct {
	// Mapper implements MapFile and Unmap with mmap and munmap requests to
	// the syscall thread (addressSpace.do) below the shared region.
	stubproc.Mapper

	p *Platform

	// slot and mem are the address space's slot of the shared memfd and
	// its mapping in the sentry. Immutable; mem is unmapped by Release
	// with reqMu held and released set.
	slot int
	mem  []byte

	// leader is the stub process's first thread, stopped under ptrace by
	// the master thread for the life of the process. Only the master
	// goroutine injects into it; kill (SIGKILL and reap) may run anywhere.
	// Immutable.
	leader *stubproc.Tracee
	// sysTid is the syscall thread. Immutable.
	sysTid int

	// reqMu serializes requests to the syscall thread, and guards mem
	// against Release for the non-Switch users (MapFile, Unmap, thread
	// creation and retirement).
	reqMu sync.Mutex
	// seq is the last request's sequence number. +checklocks:reqMu
	seq uint32
	// freed is set once Release unmapped mem. +checklocks:reqMu
	freed bool

	mu sync.Mutex
	// released is set by Release (or Platform.Close). +checklocks:mu
	released bool
	// used marks the thread regions in use. +checklocks:mu
	used [maxThreads]bool
}

var _ platform.AddressSpace = (*addressSpace)(nil)

// regionOff is the offset of thread region i in the slot.
func regionOff(i int) int { return regionSize * (1 + i) }

// NewAddressSpace implements platform.Platform.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	slot, mem, err := p.shared.alloc()
	if err != nil {
		return nil, err
	}
	as := &addressSpace{p: p, slot: slot, mem: mem}
	as.Mapper = stubproc.Mapper{Name: "systrap", Limit: p.stubShared, Syscall: as.do}
	as.initRequestPage()
	err = p.master.Do(func() error {
		t, err := p.master.newProcess()
		if err != nil {
			return err
		}
		if err := as.setup(t); err != nil {
			t.KillProcess()
			return err
		}
		as.leader = t
		p.master.mu.Lock()
		p.master.spaces[as] = struct{}{}
		p.master.mu.Unlock()
		return nil
	})
	if err != nil {
		p.shared.release(slot, mem)
		return nil, err
	}
	return as, nil
}

// initRequestPage writes what the stub reads from the request page during
// setup: the handler's sigaction and signals, the syscall thread's signal
// mask, the mapping of the slot's read-write part, and the app-thread
// filter.
func (as *addressSpace) initRequestPage() {
	p := as.p
	le := binary.LittleEndian
	const (
		saSiginfo  = 0x4
		saOnstack  = 0x08000000
		saRestorer = 0x04000000
	)
	sa := as.mem[reqSigaction:]
	le.PutUint64(sa[0:], uint64(p.stub.handler))
	le.PutUint64(sa[8:], saSiginfo|saOnstack|saRestorer)
	le.PutUint64(sa[16:], uint64(p.stub.restorer))
	le.PutUint64(sa[24:], ^uint64(0)) // every signal blocked in the handler
	// The syscall thread, and app threads until their first sigreturn,
	// block everything but the synchronous signals (a blocked forced
	// signal would kill the process: force_sig_info_to_task()).
	mask := ^uint64(0)
	for _, s := range []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGTRAP, unix.SIGFPE, unix.SIGSYS} {
		mask &^= 1 << (uint(s) - 1)
	}
	le.PutUint64(as.mem[reqSigmask:], mask)
	le.PutUint64(as.mem[reqMapLen:], slotSize-pageSize)
	le.PutUint64(as.mem[reqMapFD:], uint64(p.shared.fd))
	le.PutUint64(as.mem[reqMapOff:], uint64(as.slot)*slotSize+pageSize)
	for i, s := range handledSignals {
		as.mem[reqSignals+i] = byte(s)
	}
	le.PutUint16(as.mem[reqFprog:], uint16(len(p.appProg)/8))
	le.PutUint64(as.mem[reqFprog+8:], uint64(p.stubShared+reqProg))
	copy(as.mem[reqProg:], p.appProg)
}

// setup maps the request page into the new stub process and clones the
// syscall thread, which maps the rest of the slot and installs the handler
// itself (stubSyscallThreadInit). Runs on the master thread; t is the
// stopped leader.
func (as *addressSpace) setup(t *stubproc.Tracee) error {
	p := as.p
	off := uintptr(as.slot) * slotSize
	if _, err := t.Syscall(unix.SYS_MMAP, p.stubShared, pageSize, unix.PROT_READ,
		unix.MAP_SHARED|unix.MAP_FIXED, uintptr(p.shared.fd), off); err != nil {
		return fmt.Errorf("systrap: map request page: %w", err)
	}
	tid, err := t.Inject(p.stub.cloneSyscallThread, func(r *unix.PtraceRegs) {
		r.R12 = uint64(p.stubShared)
		r.R13 = uint64(p.stubShared + repPage)
		r.R15 = 0
	}, unix.SYS_CLONE, syscallThreadCloneFlags, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("systrap: clone syscall thread: %w", err)
	}
	as.sysTid = int(tid)
	return nil
}

func (as *addressSpace) isReleased() bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.released
}

// alive reports whether stub thread tid of as still exists (signal 0).
func (as *addressSpace) alive(tid int) bool {
	return unix.Tgkill(as.leader.TGID, tid, 0) != unix.ESRCH
}

// request runs a syscall in the syscall thread. r14 is handed to a clone
// child (its thread region). Preconditions: as.reqMu is held and as is not
// released.
func (as *addressSpace) request(r14 uintptr, nr uintptr, args ...uintptr) (uintptr, error) {
	le := binary.LittleEndian
	le.PutUint64(as.mem[reqNr:], uint64(nr))
	for i := 0; i < 6; i++ {
		var v uintptr
		if i < len(args) {
			v = args[i]
		}
		le.PutUint64(as.mem[reqArgs+8*i:], uint64(v))
	}
	le.PutUint64(as.mem[reqR14:], uint64(r14))
	as.seq++
	seq := as.seq
	req := word(as.mem, reqSeq)
	req.Store(seq)
	futexWakeOne(req)
	done := word(as.mem, repPage+repDone)
	for i := 0; i < requestSpin && done.Load() != seq; i++ {
		spinPause()
	}
	for {
		cur := done.Load()
		if cur == seq {
			break
		}
		futexSleep(done, cur, livenessPeriod)
		if done.Load() != seq && !as.alive(as.sysTid) {
			return 0, fmt.Errorf("%w: syscall thread %d", ErrStubDied, as.sysTid)
		}
	}
	ret := int64(le.Uint64(as.mem[repPage+repRet:]))
	if ret < 0 && ret > -4096 {
		return 0, unix.Errno(-ret)
	}
	return uintptr(ret), nil
}

// do runs one request under reqMu (for MapFile and Unmap).
func (as *addressSpace) do(nr uintptr, args ...uintptr) (uintptr, error) {
	as.reqMu.Lock()
	defer as.reqMu.Unlock()
	if as.isReleased() {
		return 0, ErrReleased
	}
	return as.request(0, nr, args...)
}

// Release implements platform.AddressSpace: SIGKILL the stub process, reap
// it and free its slot. Idempotent. Contexts must not be switched into as
// concurrently.
func (as *addressSpace) Release() {
	as.reqMu.Lock()
	defer as.reqMu.Unlock()
	if as.freed {
		return
	}
	as.kill()
	as.freed = true
	as.p.shared.release(as.slot, as.mem)
}

// kill marks as released, kills and reaps its process; the slot stays
// mapped (Release frees it). Any sentry thread may do it: the leader is a
// tracee of the master thread, and wait4 reaps tracees of every thread of
// the group (do_wait() without __WNOTHREAD).
func (as *addressSpace) kill() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	as.mu.Unlock()
	as.leader.KillProcess()
	m := as.p.master
	m.mu.Lock()
	delete(m.spaces, as)
	m.mu.Unlock()
}

// newThread creates an app thread in as and waits for its first event.
func (as *addressSpace) newThread() (*thread, error) {
	as.reqMu.Lock()
	defer as.reqMu.Unlock()
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return nil, ErrReleased
	}
	idx := -1
	for i := range as.used {
		if !as.used[i] {
			idx = i
			break
		}
	}
	if idx < 0 {
		as.mu.Unlock()
		return nil, fmt.Errorf("systrap: %d threads in one address space: %w", maxThreads, unix.EAGAIN)
	}
	as.used[idx] = true
	as.mu.Unlock()

	off := regionOff(idx)
	t := &thread{as: as, idx: idx, ctl: as.mem[off : off+regionSize], stubBase: as.p.stubShared + uintptr(off), spin: sentrySpinProbe}
	clear(t.ctl[:ctlSize])
	le := binary.LittleEndian
	le.PutUint32(t.ctl[ctlSpin:], sentrySpinProbe) // both sides start in the middle
	t.state = word(t.ctl, ctlState)
	t.state.Store(stateResume)
	if as.p.fsgsbase {
		t.ctl[ctlFSGSBase] = 1
	}
	le.PutUint64(t.ctl[ctlStack:], uint64(t.stubBase+altStack)) // ss_sp
	le.PutUint32(t.ctl[ctlStack+8:], 0)                         // ss_flags
	le.PutUint64(t.ctl[ctlStack+16:], regionSize-altStack)      // ss_size
	tid, err := as.request(t.stubBase, unix.SYS_CLONE, appCloneFlags, t.stubBase+regionSize, 0, t.stubBase+ctlState, 0)
	if err != nil {
		as.freeRegion(idx)
		return nil, fmt.Errorf("systrap: clone app thread: %w", err)
	}
	t.tid = int(tid)
	if err := t.waitEvent(nil); err != nil {
		return nil, err
	}
	ev, err := t.readEvent()
	if err != nil {
		return nil, err
	}
	if ev.signo != int(unix.SIGTRAP) || ev.rip != as.p.stub.threadInitTrap {
		return nil, fmt.Errorf("systrap: new thread's first event is signal %d at %#x", ev.signo, ev.rip)
	}
	t.ev = ev
	return t, nil
}

func (as *addressSpace) freeRegion(idx int) {
	as.mu.Lock()
	as.used[idx] = false
	as.mu.Unlock()
}

// retire makes t exit and frees its region once the kernel has cleared its
// state word (which it does after the thread dropped the address space).
// t is idle in its handler (between Switches) or dead.
func (as *addressSpace) retire(t *thread) {
	as.reqMu.Lock()
	defer as.reqMu.Unlock()
	if as.isReleased() {
		return
	}
	if t.state.Load() != stateDead {
		binary.LittleEndian.PutUint32(t.ctl[ctlCmd:], cmdExit)
		t.resume()
		deadline := time.Now().Add(time.Second)
		for {
			s := t.state.Load()
			if s == stateDead {
				break
			}
			if time.Now().After(deadline) {
				// Leave the region marked used rather than risk
				// two threads sharing it.
				return
			}
			futexSleep(t.state, s, 10*time.Millisecond)
		}
	}
	as.freeRegion(t.idx)
}
