package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"pangolin/sentry/arch"
	"pangolin/sentry/syserr"
)

// SigInfo is the sentry's form of siginfo_t.
type SigInfo struct {
	Signo int
	Code  int32
	// PID and UID identify the sender of SI_USER/SI_TKILL signals and
	// the child of SIGCHLD.
	PID int32
	UID uint32
	// Addr is si_addr for fault signals.
	Addr uint64
	// Status is si_status for SIGCHLD.
	Status int32
	// FromHost marks signals sent by the runtime from outside the
	// sandbox, which PID 1's protection does not cover.
	FromHost bool
}

// si_code values (include/uapi/asm-generic/siginfo.h).
const (
	SIUser   = 0
	SIKernel = 0x80
	SITkill  = -6
)

// bytes encodes info as the 128-byte siginfo_t.
func (i *SigInfo) bytes() []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(i.Signo))
	le.PutUint32(b[8:], uint32(i.Code))
	switch {
	case i.Addr != 0 || isFaultSignal(i.Signo) && i.Code > 0:
		le.PutUint64(b[16:], i.Addr)
	default:
		le.PutUint32(b[16:], uint32(i.PID))
		le.PutUint32(b[20:], i.UID)
		if i.Signo == int(unix.SIGCHLD) {
			le.PutUint32(b[24:], uint32(i.Status))
		}
	}
	return b
}

func isFaultSignal(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP:
		return true
	}
	return false
}

func sigBit(sig int) uint64 { return 1 << uint(sig-1) }

// Default dispositions (signal(7)).
func defaultIgnored(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGCONT:
		return true
	}
	return false
}

func defaultStops(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return false
}

// SendSignal queues info for tg (send_signal() for a process-directed
// signal) and wakes a thread to handle it. Signals whose disposition is to
// ignore them are dropped at once, as sig_ignored() does.
func (k *Kernel) SendSignal(tg *ThreadGroup, info SigInfo) {
	sig := info.Signo
	if sig == 0 {
		return
	}
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	if sig == int(unix.SIGKILL) {
		tg.exiting = true
		tg.exitStatus = WaitStatus{Signal: sig}
		tg.mu.Unlock()
		k.interruptGroup(tg)
		return
	}
	a := tg.sigactions[sig-1]
	ignored := a.Handler == SigIgn || (a.Handler == SigDfl && (defaultIgnored(sig) || defaultStops(sig)))
	if ignored && tg.leader.sigMask&sigBit(sig) == 0 {
		tg.mu.Unlock()
		return
	}
	if tg.pending&sigBit(sig) == 0 {
		tg.pending |= sigBit(sig)
		tg.pendingInfo[sig-1] = info
	}
	tg.mu.Unlock()
	tg.signalQueued()
	k.interruptGroup(tg)
}

// interruptGroup wakes every thread of tg.
func (k *Kernel) interruptGroup(tg *ThreadGroup) {
	k.mu.Lock()
	var ts []*Task
	for _, t := range k.tasks {
		if t.tg == tg {
			ts = append(ts, t)
		}
	}
	k.mu.Unlock()
	for _, t := range ts {
		t.Interrupt()
	}
}

// ThreadGroupByPID returns the live or zombie process with the given PID.
func (k *Kernel) ThreadGroupByPID(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tgs[pid]
}

// ThreadGroups returns every live process.
func (k *Kernel) ThreadGroups() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*ThreadGroup
	for _, tg := range k.tgs {
		if !tg.zombie {
			out = append(out, tg)
		}
	}
	return out
}

// IsInit reports whether tg is the sandbox's PID 1.
func (k *Kernel) IsInit(tg *ThreadGroup) bool { return tg == k.initTG }

// SignalInit delivers sig to PID 1 on behalf of the runtime (docker kill,
// a signal to `pangolin do`).
func (k *Kernel) SignalInit(sig int) {
	if tg := k.initTG; tg != nil {
		k.SendSignal(tg, SigInfo{Signo: sig, Code: SIUser, FromHost: true})
	}
}

// PendingSignals returns the signals pending for the task or its process.
func (t *Task) PendingSignals() uint64 {
	t.tg.mu.Lock()
	defer t.tg.mu.Unlock()
	return t.tg.pending | t.pending
}

// dequeueSignal removes the lowest unblocked pending signal, preferring
// synchronous (thread-directed) ones.
func (t *Task) dequeueSignal() (SigInfo, bool) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, set := range []*uint64{&t.pending, &tg.pending} {
		ready := *set &^ t.sigMask
		if ready == 0 {
			continue
		}
		for sig := 1; sig <= NumSignals; sig++ {
			if ready&sigBit(sig) != 0 {
				*set &^= sigBit(sig)
				if set == &t.pending {
					return t.pendingInfo[sig-1], true
				}
				return tg.pendingInfo[sig-1], true
			}
		}
	}
	return SigInfo{}, false
}

// ForceSignal raises a synchronous signal in t (force_sig_info()): if it
// is blocked or ignored, it is unblocked and its action reset to default,
// so a fault the app cannot handle kills it.
func (t *Task) ForceSignal(info SigInfo) {
	sig := info.Signo
	tg := t.tg
	tg.mu.Lock()
	a := &tg.sigactions[sig-1]
	if t.sigMask&sigBit(sig) != 0 || a.Handler == SigIgn {
		t.sigMask &^= sigBit(sig)
		if a.Handler == SigIgn {
			*a = SigAction{}
		}
	}
	t.pending |= sigBit(sig)
	t.pendingInfo[sig-1] = info
	tg.mu.Unlock()
}

// Restart errnos: a syscall interrupted by a signal returns one of these;
// the signal code then either restarts the syscall or turns it into EINTR
// (arch/x86/kernel/signal.c: handle_signal(), arch_do_signal_or_restart()).
// They live in package syserr so that filesystems can return them too.
const (
	ERestartSys    = syserr.ERestartSys
	ERestartNoIntr = syserr.ERestartNoIntr
	ERestartNoHand = syserr.ERestartNoHand
)

// SigAction flags.
const (
	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000
)

// handleSignals runs before returning to the app: it applies pending
// signals' actions (get_signal()), sets up at most one handler frame, and
// resolves syscall restarts.
func (t *Task) handleSignals(afterSyscall bool) {
	restart := func(handler bool, a SigAction) {
		if !afterSyscall {
			return
		}
		switch unix.Errno(-int64(t.regs.Regs.Rax)) {
		case ERestartSys:
			if handler && a.Flags&saRestart == 0 {
				t.regs.Regs.Rax = eintrRet
				return
			}
		case ERestartNoHand:
			if handler {
				t.regs.Regs.Rax = eintrRet
				return
			}
		case ERestartNoIntr:
		default:
			return
		}
		// Re-execute the syscall instruction with its number restored.
		t.regs.Regs.Rax = t.regs.Regs.Orig_rax
		t.regs.Regs.Rip -= 2
	}
	for {
		info, ok := t.dequeueSignal()
		if !ok {
			restart(false, SigAction{})
			if t.haveSavedMask {
				t.SetSigMask(t.savedMask)
				t.haveSavedMask = false
			}
			return
		}
		sig := info.Signo
		a := t.tg.SigAction(sig)
		switch a.Handler {
		case SigIgn:
			continue
		case SigDfl:
			if defaultIgnored(sig) || defaultStops(sig) {
				// Job-control stops come with process groups.
				continue
			}
			// PID 1 ignores signals with default action sent from
			// inside its namespace (sig_task_ignored(),
			// SIGNAL_UNKILLABLE), except synchronous faults.
			if t.k.IsInit(t.tg) && !info.FromHost && !(isFaultSignal(sig) && info.Code > 0) {
				continue
			}
			t.exitGroup(WaitStatus{Signal: sig, CoreDumped: coreSignal(unix.Signal(sig))})
			return
		}
		restart(true, a)
		if err := t.setupSignalFrame(info, a); err != nil {
			t.Debugf("signal %d: cannot build frame: %v", sig, err)
			t.exitGroup(WaitStatus{Signal: int(unix.SIGSEGV), CoreDumped: true})
		}
		return
	}
}

// Frame layout constants (arch/x86/include/asm/sigframe.h).
const (
	ucontextSize   = 304
	rtSigframeSize = 8 + ucontextSize + 128
	fpMagic1       = 0x46505853
	fpMagic2       = 0x46505845
	ucFPXstate     = 1
	ucSigcontextSS = 2
	ucStrictSS     = 4
	redZone        = 128
)

// setupSignalFrame pushes an rt_sigframe for info and points the registers
// at a's handler (x64_setup_rt_frame()).
func (t *Task) setupSignalFrame(info SigInfo, a SigAction) error {
	sig := info.Signo
	if a.Flags&saRestorer == 0 || a.Restorer == 0 {
		// x86-64 has no kernel-provided return trampoline.
		return unix.EFAULT
	}
	sp := uintptr(t.regs.Regs.Rsp)
	alt := t.altStack
	onAlt := alt.Size != 0 && alt.Flags&ssDisable == 0 && sp > uintptr(alt.SP) && sp <= uintptr(alt.SP+alt.Size)
	if a.Flags&saOnstack != 0 && alt.Size != 0 && alt.Flags&ssDisable == 0 && !onAlt {
		sp = uintptr(alt.SP + alt.Size)
	} else {
		sp -= redZone
	}
	xsize := arch.XSAVESize()
	sp -= uintptr(xsize + 4)
	sp &^= 63
	fpAddr := sp
	sp -= rtSigframeSize
	sp = (sp &^ 15) - 8
	frame := sp

	fp := make([]byte, xsize+4)
	copy(fp, t.regs.FP[:xsize])
	le := binary.LittleEndian
	le.PutUint32(fp[464:], fpMagic1)
	le.PutUint32(fp[468:], uint32(xsize+4))
	le.PutUint64(fp[472:], arch.XFeatures())
	le.PutUint32(fp[480:], uint32(xsize))
	le.PutUint32(fp[xsize:], fpMagic2)

	f := make([]byte, rtSigframeSize)
	le.PutUint64(f[0:], a.Restorer)
	uc := f[8:]
	le.PutUint64(uc[0:], ucFPXstate|ucSigcontextSS|ucStrictSS)
	// uc_stack
	ssFlags := uint32(0)
	if alt.Size == 0 || alt.Flags&ssDisable != 0 {
		ssFlags = ssDisable
	} else if onAlt || a.Flags&saOnstack != 0 {
		ssFlags = ssOnstack
	}
	le.PutUint64(uc[16:], alt.SP)
	le.PutUint32(uc[24:], ssFlags|uint32(alt.Flags)&ssAutodisarm)
	le.PutUint64(uc[32:], alt.Size)
	sc := uc[40:]
	r := &t.regs.Regs
	for i, v := range []uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rax, r.Rcx, r.Rsp, r.Rip, r.Eflags} {
		le.PutUint64(sc[8*i:], v)
	}
	le.PutUint16(sc[144:], uint16(r.Cs))
	le.PutUint16(sc[146:], uint16(r.Gs))
	le.PutUint16(sc[148:], uint16(r.Fs))
	le.PutUint16(sc[150:], uint16(r.Ss))
	if isFaultSignal(sig) && info.Code > 0 {
		le.PutUint64(sc[160:], 14) // trapno: page fault
		le.PutUint64(sc[176:], info.Addr)
	}
	frameMask := t.sigMask
	if t.haveSavedMask {
		frameMask = t.savedMask
		t.haveSavedMask = false
	}
	le.PutUint64(sc[168:], frameMask) // oldmask
	le.PutUint64(sc[184:], uint64(fpAddr))
	le.PutUint64(uc[296:], frameMask) // uc_sigmask
	copy(f[8+ucontextSize:], info.bytes())

	if err := t.CopyOutBytes(fpAddr, fp); err != nil {
		return err
	}
	if err := t.CopyOutBytes(frame, f); err != nil {
		return err
	}

	r.Rip = a.Handler
	r.Rsp = uint64(frame)
	r.Rdi = uint64(sig)
	r.Rsi = uint64(frame + 8 + ucontextSize)
	r.Rdx = uint64(frame + 8)
	r.Rax = 0
	r.Eflags &^= eflagsDF | eflagsRF | eflagsTF
	r.Cs, r.Ss = arch.UserCS, arch.UserDS
	// The handler starts with a clean FPU state (fpu__clear_user_states()).
	var clean arch.Registers
	clean.Reset(0, 0)
	t.regs.FP = clean.FP

	mask := t.sigMask | a.Mask
	if a.Flags&saNodefer == 0 {
		mask |= sigBit(sig)
	}
	t.SetSigMask(mask)
	if a.Flags&saResethand != 0 {
		na := a
		na.Handler = SigDfl
		na.Flags &^= saSiginfo
		t.tg.SetSigAction(sig, na)
	}
	if a.Flags&saOnstack != 0 && uint32(alt.Flags)&ssAutodisarm != 0 {
		t.altStack = AltStack{Flags: ssDisable}
	}
	return nil
}

// eintrRet is -EINTR as a register value.
var eintrRet = func() uint64 { e := -int64(unix.EINTR); return uint64(e) }()

// EFLAGS bits.
const (
	eflagsCF = 1 << 0
	eflagsPF = 1 << 2
	eflagsAF = 1 << 4
	eflagsZF = 1 << 6
	eflagsSF = 1 << 7
	eflagsTF = 1 << 8
	eflagsDF = 1 << 10
	eflagsOF = 1 << 11
	eflagsRF = 1 << 16
	eflagsAC = 1 << 18
	// fixEflags are the bits rt_sigreturn lets the app restore
	// (FIX_EFLAGS in arch/x86/kernel/signal.c).
	fixEflags = eflagsAC | eflagsOF | eflagsDF | eflagsTF | eflagsSF | eflagsZF | eflagsAF | eflagsPF | eflagsCF | eflagsRF

	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
)

// SigReturn implements rt_sigreturn(2): it restores the registers, signal
// mask, FPU state and alternate stack saved by setupSignalFrame, validating
// what the app may have changed (restore_sigcontext()). A bad frame kills
// the task with SIGSEGV.
func (t *Task) SigReturn() error {
	uc := uintptr(t.regs.Regs.Rsp)
	b := make([]byte, ucontextSize)
	if err := t.CopyInBytes(uc, b); err != nil {
		t.ForceSignal(SigInfo{Signo: int(unix.SIGSEGV), Code: SIKernel})
		return ErrNoReturn
	}
	le := binary.LittleEndian
	sc := b[40:]
	g := func(i int) uint64 { return le.Uint64(sc[8*i:]) }
	r := &t.regs.Regs
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)
	r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rax, r.Rcx, r.Rsp, r.Rip = g(8), g(9), g(10), g(11), g(12), g(13), g(14), g(15), g(16)
	r.Eflags = (r.Eflags &^ fixEflags) | (g(17) & fixEflags)
	r.Cs, r.Ss = arch.UserCS, arch.UserDS
	// No syscall restart after sigreturn.
	r.Orig_rax = ^uint64(0)
	fpAddr := uintptr(le.Uint64(sc[184:]))
	if fpAddr != 0 {
		xsize := arch.XSAVESize()
		fp := make([]byte, xsize)
		if err := t.CopyInBytes(fpAddr, fp); err != nil || !validXSAVE(fp) {
			t.ForceSignal(SigInfo{Signo: int(unix.SIGSEGV), Code: SIKernel})
			return ErrNoReturn
		}
		copy(t.regs.FP[:], fp)
		// Bytes 464..511 are software-reserved; the hardware ignores them.
		t.regs.FPValid = true
	}
	t.SetSigMask(le.Uint64(b[296:]))
	// uc_stack: restore_altstack() ignores failures.
	ns := AltStack{SP: le.Uint64(b[16:]), Flags: int32(le.Uint32(b[24:])), Size: le.Uint64(b[32:])}
	mode := uint32(ns.Flags) &^ ssAutodisarm
	if mode == ssDisable {
		t.altStack = AltStack{Flags: ssDisable}
	} else if (mode == 0 || mode == ssOnstack) && ns.Size >= 2048 {
		ns.Flags &^= ssOnstack
		t.altStack = ns
	}
	return ErrNoReturn
}

// validXSAVE checks what the host kernel would reject when the state is
// restored: reserved MXCSR bits, unknown feature bits and a non-zero
// compaction or reserved header.
func validXSAVE(fp []byte) bool {
	le := binary.LittleEndian
	if le.Uint32(fp[24:])&^0xffff != 0 {
		return false
	}
	if len(fp) < 576 {
		return true
	}
	if le.Uint64(fp[512:])&^arch.XFeatures() != 0 {
		return false
	}
	for _, c := range fp[520:576] {
		if c != 0 {
			return false
		}
	}
	return true
}

// SendThreadSignal queues a thread-directed signal (tgkill) for t.
func (t *Task) SendThreadSignal(info SigInfo) {
	sig := info.Signo
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	if sig == int(unix.SIGKILL) {
		tg.exiting = true
		tg.exitStatus = WaitStatus{Signal: sig}
		tg.mu.Unlock()
		t.k.interruptGroup(tg)
		return
	}
	a := tg.sigactions[sig-1]
	ignored := a.Handler == SigIgn || (a.Handler == SigDfl && (defaultIgnored(sig) || defaultStops(sig)))
	if !(ignored && t.sigMask&sigBit(sig) == 0) && t.pending&sigBit(sig) == 0 {
		t.pending |= sigBit(sig)
		t.pendingInfo[sig-1] = info
	}
	tg.mu.Unlock()
	tg.signalQueued()
	t.Interrupt()
}

// SuspendWithMask blocks with the signal mask temporarily set to mask
// until a signal is pending (sigsuspend(2)). The original mask is restored
// when the signal's handler returns: it is saved in the frame set up next.
func (t *Task) SuspendWithMask(mask uint64) {
	old := t.sigMask
	t.SetSigMask(mask)
	for !t.Interrupted() {
		<-t.interruptCh
	}
	t.savedMask, t.haveSavedMask = old, true
}
