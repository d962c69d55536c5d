package systrap

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"pangolin/platform/internal/stubproc"
	"pangolin/sentry/arch"
)

// thread is one app thread of a stub process, owned by one context. It is
// never traced: the sentry and its signal handler hand it back and forth
// through the state word of its region.
type thread struct {
	as  *addressSpace
	idx int // region index
	tid int

	// ctl is the thread's region in the sentry's mapping; stubBase is its
	// address in the stub. Everything in ctl is writable by app code and
	// is read once and validated.
	ctl      []byte
	stubBase uintptr
	state    *atomic.Uint32

	// ev is the event the thread is stopped in (its frame is where the
	// next Switch writes the registers). Owned by the context.
	ev event

	// spin and probes are the sentry's adaptive spin budget for this
	// thread's events and its count of waits at the floor. Owned by the
	// context.
	spin, probes int
}

// Layout of the kernel's signal frame pieces (x86-64, struct ucontext and
// struct sigcontext in arch/x86/include/uapi/asm/sigcontext.h).
const (
	ucFlags    = 0
	ucMcontext = 40 // gregs[23], then fpstate pointer
	ucFpstate  = ucMcontext + 23*8
	ucSigmask  = 296
	ucSize     = 304

	ucFPXstate = 0x1 // UC_FP_XSTATE

	fpXstateMagic1 = 0x46505853 // FP_XSTATE_MAGIC1
	fxsaveSize     = 512
	xsaveHeader    = 512
	swReserved     = 464 // struct _fpx_sw_bytes in the FXSAVE area

	x86TrapPF = 14
	pfWrite   = 1 << 1
	pfInstr   = 1 << 4
)

// sigcontext general register indices (REG_* in <sys/ucontext.h>).
const (
	gR8 = iota
	gR9
	gR10
	gR11
	gR12
	gR13
	gR14
	gR15
	gRDI
	gRSI
	gRBP
	gRBX
	gRDX
	gRAX
	gRCX
	gRSP
	gRIP
	gEFL
	gCSGSFS
	gERR
	gTRAPNO
)

// event is a decoded, validated copy of what the handler published.
type event struct {
	signo  int
	si     stubproc.Siginfo
	uc     int // offset of the ucontext in the region
	fp     int // offset of the FP state in the region
	fpSize int // bytes of FP state (512 without XSAVE)
	rip    uintptr
}

// inRegion reports whether [addr, addr+n) of the stub lies within the
// thread's alternate signal stack, and returns its offset in the region.
func (t *thread) inRegion(addr uint64, n int) (int, bool) {
	lo := uint64(t.stubBase) + altStack
	hi := uint64(t.stubBase) + regionSize
	if addr < lo || addr > hi || hi-addr < uint64(n) {
		return 0, false
	}
	return int(addr - uint64(t.stubBase)), true
}

// readEvent decodes the current event. Every pointer comes from memory the
// app can write and is checked to stay inside the thread's region.
func (t *thread) readEvent() (event, error) {
	le := binary.LittleEndian
	var ev event
	ev.signo = int(int32(le.Uint64(t.ctl[ctlSigno:])))
	uc, ok := t.inRegion(le.Uint64(t.ctl[ctlUC:]), ucSize)
	if !ok {
		return ev, fmt.Errorf("systrap: thread %d: ucontext outside its region", t.tid)
	}
	si, ok := t.inRegion(le.Uint64(t.ctl[ctlSI:]), stubproc.SiginfoSize)
	if !ok {
		return ev, fmt.Errorf("systrap: thread %d: siginfo outside its region", t.tid)
	}
	ev.uc = uc
	copy(ev.si[:], t.ctl[si:si+stubproc.SiginfoSize])
	fpAddr := le.Uint64(t.ctl[uc+ucFpstate:])
	fp, ok := t.inRegion(fpAddr, fxsaveSize)
	if !ok || fpAddr%16 != 0 {
		return ev, fmt.Errorf("systrap: thread %d: FP state outside its region", t.tid)
	}
	ev.fp, ev.fpSize = fp, fxsaveSize
	if le.Uint64(t.ctl[uc+ucFlags:])&ucFPXstate != 0 && le.Uint32(t.ctl[fp+swReserved:]) == fpXstateMagic1 {
		n := int(le.Uint32(t.ctl[fp+swReserved+16:])) // xstate_size
		if _, ok := t.inRegion(fpAddr, n+4); !ok || n < xsaveHeader+64 || n > arch.XSAVEAreaSize {
			return ev, fmt.Errorf("systrap: thread %d: bad XSAVE size %d", t.tid, n)
		}
		ev.fpSize = n
	}
	ev.rip = uintptr(le.Uint64(t.ctl[uc+ucMcontext+8*gRIP:]))
	return ev, nil
}

// greg returns general register i of the event's frame.
func (t *thread) greg(i int) uint64 {
	return binary.LittleEndian.Uint64(t.ctl[t.ev.uc+ucMcontext+8*i:])
}

func (t *thread) setGreg(i int, v uint64) {
	binary.LittleEndian.PutUint64(t.ctl[t.ev.uc+ucMcontext+8*i:], v)
}

// getRegs copies the app's registers from the current frame into regs.
// Orig_rax is left to the caller.
func (t *thread) getRegs(regs *arch.Registers) {
	r := &regs.Regs
	r.R8, r.R9, r.R10, r.R11 = t.greg(gR8), t.greg(gR9), t.greg(gR10), t.greg(gR11)
	r.R12, r.R13, r.R14, r.R15 = t.greg(gR12), t.greg(gR13), t.greg(gR14), t.greg(gR15)
	r.Rdi, r.Rsi, r.Rbp, r.Rbx = t.greg(gRDI), t.greg(gRSI), t.greg(gRBP), t.greg(gRBX)
	r.Rdx, r.Rax, r.Rcx, r.Rsp = t.greg(gRDX), t.greg(gRAX), t.greg(gRCX), t.greg(gRSP)
	r.Rip, r.Eflags = t.greg(gRIP), t.greg(gEFL)
	csgsfs := t.greg(gCSGSFS)
	r.Cs = csgsfs & 0xffff
	r.Ss = csgsfs >> 48
	le := binary.LittleEndian
	r.Fs_base = le.Uint64(t.ctl[ctlFS:])
	r.Gs_base = le.Uint64(t.ctl[ctlGS:])
	n := t.ev.fpSize
	copy(regs.FP[:n], t.ctl[t.ev.fp:t.ev.fp+n])
	regs.FPValid = true
}

// setRegs writes regs into the current frame, for rt_sigreturn to load,
// and FS/GS base into the control block, for the handler to set.
func (t *thread) setRegs(regs *arch.Registers) {
	r := &regs.Regs
	t.setGreg(gR8, r.R8)
	t.setGreg(gR9, r.R9)
	t.setGreg(gR10, r.R10)
	t.setGreg(gR11, r.R11)
	t.setGreg(gR12, r.R12)
	t.setGreg(gR13, r.R13)
	t.setGreg(gR14, r.R14)
	t.setGreg(gR15, r.R15)
	t.setGreg(gRDI, r.Rdi)
	t.setGreg(gRSI, r.Rsi)
	t.setGreg(gRBP, r.Rbp)
	t.setGreg(gRBX, r.Rbx)
	t.setGreg(gRDX, r.Rdx)
	t.setGreg(gRAX, r.Rax)
	t.setGreg(gRCX, r.Rcx)
	t.setGreg(gRSP, r.Rsp)
	t.setGreg(gRIP, r.Rip)
	// rt_sigreturn keeps only the user-changeable EFLAGS bits
	// (FIX_EFLAGS) and forces CPL 3; 64-bit user segments always.
	t.setGreg(gEFL, r.Eflags)
	t.setGreg(gCSGSFS, uint64(arch.UserCS)|uint64(arch.UserDS)<<48)
	le := binary.LittleEndian
	// App code runs with no signal blocked, so the interrupt signal
	// reaches it.
	le.PutUint64(t.ctl[t.ev.uc+ucSigmask:], 0)
	le.PutUint64(t.ctl[ctlFS:], r.Fs_base)
	le.PutUint64(t.ctl[ctlGS:], r.Gs_base)
	if regs.FPValid {
		t.setFP(regs)
	}
}

// setFP copies regs.FP into the frame's FP state, keeping what the kernel
// validates on rt_sigreturn consistent with this host: the software
// reserved bytes (xstate size and features), XSTATE_BV within the
// features the frame was made with, the standard (not compacted) format,
// and MXCSR within the CPU's mask (a bad image would make the kernel's
// restore fail and the thread die of SIGSEGV).
func (t *thread) setFP(regs *arch.Registers) {
	le := binary.LittleEndian
	n := t.ev.fpSize
	dst := t.ctl[t.ev.fp : t.ev.fp+n]
	mxcsrMask := le.Uint32(dst[28:])
	if mxcsrMask == 0 {
		mxcsrMask = 0xffbf // the architectural default (no DAZ)
	}
	var sw [fxsaveSize - swReserved]byte
	copy(sw[:], dst[swReserved:fxsaveSize])
	copy(dst, regs.FP[:n])
	le.PutUint32(dst[24:], le.Uint32(dst[24:])&mxcsrMask)
	le.PutUint32(dst[28:], mxcsrMask)
	if n > fxsaveSize {
		copy(dst[swReserved:fxsaveSize], sw[:])
		xfeatures := le.Uint64(sw[8:])
		le.PutUint64(dst[xsaveHeader:], le.Uint64(dst[xsaveHeader:])&xfeatures)
		clear(dst[xsaveHeader+8 : xsaveHeader+64]) // XCOMP_BV and reserved
	}
}

// resume hands the thread back to its handler. Only a handler that is
// still spinning (stateEvent) needs no wake; anything else (stateHSleep, or
// a value app code scribbled) gets one, so the handler re-reads the word.
func (t *thread) resume() {
	if t.state.Swap(stateResume) != stateEvent {
		futexWakeOne(t.state)
	}
}

// interruptGrace is how long an interrupted thread may take to come back
// before the platform gives up on its stub: app code always runs with the
// interrupt signal unblocked, so only a stub wedged by app code writing
// into its control block takes longer.
const interruptGrace = 10 * time.Second

// waitEvent waits until the handler published an event. pending, if not
// nil, returns when an interrupt was requested and not yet answered.
func (t *thread) waitEvent(pending func() (time.Time, bool)) error {
	budget := min(max(t.spin, sentrySpinMin), sentrySpinMax)
	if budget == sentrySpinMin {
		if t.probes++; t.probes%32 == 0 {
			budget = sentrySpinProbe
		}
	}
	t.spin = budget / 2
	for i := 0; i < budget; i++ {
		if s := t.state.Load(); s == stateEvent || s == stateHSleep || s == stateDead {
			t.spin = budget * 2
			break
		}
		spinPause()
	}
	for {
		switch s := t.state.Load(); s {
		case stateEvent, stateHSleep:
			return nil
		case stateDead:
			return fmt.Errorf("%w: thread %d exited", ErrStubDied, t.tid)
		case stateResume:
			t.state.CompareAndSwap(stateResume, stateSleeping)
		case stateSleeping:
			futexSleep(t.state, stateSleeping, livenessPeriod)
			if t.state.Load() != stateSleeping {
				continue
			}
			if !t.as.alive(t.tid) {
				return fmt.Errorf("%w: thread %d is gone", ErrStubDied, t.tid)
			}
			if pending == nil {
				continue
			}
			if at, ok := pending(); ok && time.Since(at) > interruptGrace {
				_ = unix.Kill(t.as.leader.TGID, unix.SIGKILL)
				return fmt.Errorf("%w: thread %d ignored an interrupt for %v; stub killed", ErrStubDied, t.tid, interruptGrace)
			}
		default:
			return fmt.Errorf("systrap: thread %d: bad state %d", t.tid, s)
		}
	}
}
