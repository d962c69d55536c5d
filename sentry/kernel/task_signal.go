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
	// Value is si_value (sigqueue(3), timers).
	Value uint64
	// TimerID and Overrun are si_timerid and si_overrun for SI_TIMER.
	TimerID int32
	Overrun int32
	// Poll marks the SIGPOLL layout (signal-driven I/O with F_SETSIG):
	// Band is si_band, FD si_fd.
	Poll bool
	Band int64
	FD   int32
	// Errno is si_errno; for seccomp's SIGSYS, the filter's data.
	Errno int32
	// Syscall and Arch are si_syscall and si_arch of seccomp's SIGSYS
	// (Code SYS_SECCOMP), whose si_call_addr is Addr.
	Syscall int32
	Arch    uint32
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

// si_code values for sigqueue(3) and timers.
const (
	SIQueue = -1
	SITimer = -2
)

// bytes encodes info as the 128-byte siginfo_t, choosing the union member
// the way siginfo_layout() does.
func (i *SigInfo) bytes() []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(i.Signo))
	le.PutUint32(b[4:], uint32(i.Errno))
	le.PutUint32(b[8:], uint32(i.Code))
	switch {
	case i.Signo == int(unix.SIGSYS) && i.Code == sysSeccomp:
		le.PutUint64(b[16:], i.Addr)
		le.PutUint32(b[24:], uint32(i.Syscall))
		le.PutUint32(b[28:], i.Arch)
	case i.Poll:
		le.PutUint64(b[16:], uint64(i.Band))
		le.PutUint32(b[24:], uint32(i.FD))
	case i.Code == SITimer:
		le.PutUint32(b[16:], uint32(i.TimerID))
		le.PutUint32(b[20:], uint32(i.Overrun))
		le.PutUint64(b[24:], i.Value)
	case i.Code > 0 && isFaultSignal(i.Signo) || i.Addr != 0:
		le.PutUint64(b[16:], i.Addr)
	case i.Code > 0 && i.Signo == int(unix.SIGCHLD):
		le.PutUint32(b[16:], uint32(i.PID))
		le.PutUint32(b[20:], i.UID)
		le.PutUint32(b[24:], uint32(i.Status))
	default:
		// kill, tkill and rt layouts: pid, uid, then si_value (zero
		// unless queued with one).
		le.PutUint32(b[16:], uint32(i.PID))
		le.PutUint32(b[20:], i.UID)
		le.PutUint64(b[24:], i.Value)
	}
	return b
}

// Bytes returns the siginfo_t encoding of info (for signalfd, waitid and
// rt_sigtimedwait).
func (i *SigInfo) Bytes() []byte { return i.bytes() }

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

// SendSignal queues info for the process tg (send_signal() for a
// process-directed signal) and wakes its threads; one that does not block
// the signal takes it.
func (k *Kernel) SendSignal(tg *ThreadGroup, info SigInfo) {
	if info.Signo == 0 {
		return
	}
	k.mu.Lock()
	tg.mu.Lock()
	queued := k.sendSignalLocked(tg, nil, info)
	tg.mu.Unlock()
	k.mu.Unlock()
	if queued {
		tg.signalQueued()
		k.interruptGroup(tg)
	}
}

// SendThreadSignal queues a thread-directed signal (tgkill(2), a fault)
// for t.
func (t *Task) SendThreadSignal(info SigInfo) {
	if info.Signo == 0 {
		return
	}
	k, tg := t.k, t.tg
	k.mu.Lock()
	tg.mu.Lock()
	queued := k.sendSignalLocked(tg, t, info)
	tg.mu.Unlock()
	k.mu.Unlock()
	if queued {
		tg.signalQueued()
		if info.Signo == int(unix.SIGKILL) || info.Signo == int(unix.SIGCONT) {
			k.interruptGroup(tg)
		} else {
			t.Interrupt()
		}
	}
}

// sendSignalLocked is __send_signal(): the side effects of sending sig to
// tg happen now (prepare_signal(): SIGCONT resumes a stopped group and
// flushes pending stop signals, a stop signal flushes pending SIGCONT,
// SIGKILL starts the group exit), then the signal is queued on t (if
// non-nil) or the process unless it would be ignored. It reports whether
// threads should be woken.
//
// Preconditions: k.mu and tg.mu are held.
func (k *Kernel) sendSignalLocked(tg *ThreadGroup, t *Task, info SigInfo) bool {
	sig := info.Signo
	if tg.exiting {
		return false
	}
	if sig == int(unix.SIGKILL) && k.signalIgnoredLocked(tg, info) {
		return false // init cannot be killed from inside the sandbox
	}
	switch {
	case sig == int(unix.SIGKILL):
		tg.exiting = true
		tg.exitStatus = WaitStatus{Signal: sig}
		k.resumeStoppedLocked(tg, false)
		return true
	case sig == int(unix.SIGCONT):
		k.flushLocked(tg, stopSignals)
		k.resumeStoppedLocked(tg, true)
	case stopSignals&sigBit(sig) != 0:
		k.flushLocked(tg, sigBit(int(unix.SIGCONT)))
	}
	blocked := tg.leader.sigMask
	if t != nil {
		blocked = t.sigMask
	}
	if k.signalIgnoredLocked(tg, info) && blocked&sigBit(sig) == 0 {
		return sig == int(unix.SIGCONT)
	}
	var set *pendingSignals
	if t != nil {
		set = &t.pending
	} else {
		set = &tg.pending
	}
	if isRT(sig) && set.count() >= int(tg.limits.Get(unix.RLIMIT_SIGPENDING).Cur) && info.Code < 0 {
		// Queued real-time signals from sigqueue(3) beyond
		// RLIMIT_SIGPENDING are dropped (__sigqueue_alloc()); the
		// caller of rt_sigqueueinfo learns it via QueueSignal.
		return false
	}
	set.enqueue(info)
	return true
}

// stopSignals are the job-control stop signals (SIG_KERNEL_STOP_MASK).
var stopSignals = sigBit(int(unix.SIGSTOP)) | sigBit(int(unix.SIGTSTP)) | sigBit(int(unix.SIGTTIN)) | sigBit(int(unix.SIGTTOU))

// signalIgnoredLocked is sig_ignored(): the action is SIG_IGN, or SIG_DFL
// with an ignoring default, or the target is init and the default would
// kill or stop it (init is SIGNAL_UNKILLABLE for signals from inside its
// namespace).
//
// Preconditions: tg.mu is held.
func (k *Kernel) signalIgnoredLocked(tg *ThreadGroup, info SigInfo) bool {
	sig := info.Signo
	a := tg.sigactions[sig-1]
	if a.Handler == SigIgn {
		return true
	}
	if a.Handler != SigDfl {
		return false
	}
	if defaultIgnored(sig) {
		return true
	}
	return tg == k.initTG && initProtected(info)
}

// initProtected reports whether PID 1 ignores info when its action is the
// default (SIGNAL_UNKILLABLE in sig_task_ignored()): everything from inside
// the sandbox, and from outside (the runtime, like a signal from an
// ancestor PID namespace) everything but SIGKILL and SIGSTOP. Faults the
// task raised itself are never ignored.
func initProtected(info SigInfo) bool {
	sig := info.Signo
	if isFaultSignal(sig) && info.Code > 0 {
		return false
	}
	return !(info.FromHost && (sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP)))
}

// flushLocked discards set from the process's and every thread's pending
// signals.
//
// Preconditions: k.mu and tg.mu are held.
func (k *Kernel) flushLocked(tg *ThreadGroup, set uint64) {
	tg.pending.discard(set)
	for _, t := range k.tasks {
		if t.tg == tg {
			t.pending.discard(set)
		}
	}
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
	return t.tg.pending.mask | t.pending.mask
}

// dequeueSignal removes the next unblocked pending signal, thread-directed
// ones first (dequeue_signal()).
func (t *Task) dequeueSignal() (SigInfo, bool) {
	return t.dequeueSignalMask(^t.sigMask)
}

// dequeueSignalMask removes the next pending signal in allowed.
func (t *Task) dequeueSignalMask(allowed uint64) (SigInfo, bool) {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	info, ok := t.pending.dequeue(allowed)
	if !ok {
		info, ok = tg.pending.dequeue(allowed)
	}
	if ok && info.Code == SITimer {
		tg.timerSignalDequeuedLocked(&info)
	}
	return info, ok
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
	t.pending.enqueue(info)
	tg.mu.Unlock()
}

// Restart errnos: a syscall interrupted by a signal returns one of these;
// the signal code then either restarts the syscall or turns it into EINTR
// (arch/x86/kernel/signal.c: handle_signal(), arch_do_signal_or_restart()).
// They live in package syserr so that filesystems can return them too.
const (
	ERestartSys          = syserr.ERestartSys
	ERestartNoIntr       = syserr.ERestartNoIntr
	ERestartNoHand       = syserr.ERestartNoHand
	ERestartRestartBlock = syserr.ERestartRestartBlock
)

// SigAction flags.
const (
	saNoCldStop = 0x1
	saSiginfo   = 0x4
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000
)

// handleSignals runs before returning to the app: it parks the task while
// its group is stopped, applies pending signals' actions (get_signal()),
// sets up handler frames for every deliverable signal, and resolves the
// interrupted syscall's restart against the first handler.
func (t *Task) handleSignals(afterSyscall bool) {
	restart := func(handler bool, a SigAction) {
		if !afterSyscall {
			return
		}
		afterSyscall = false
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
		case ERestartRestartBlock:
			if handler {
				t.regs.Regs.Rax = eintrRet
				return
			}
			// Re-enter through restart_syscall(2), which resumes the
			// interrupted call with its remaining time.
			t.regs.Regs.Rax = unix.SYS_RESTART_SYSCALL
			t.regs.Regs.Rip -= 2
			return
		case ERestartNoIntr:
		default:
			return
		}
		// Re-execute the syscall instruction with its number restored.
		t.regs.Regs.Rax = t.regs.Regs.Orig_rax
		t.regs.Regs.Rip -= 2
	}
	for {
		t.waitWhileStopped()
		if t.killed() {
			return
		}
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
			if defaultIgnored(sig) {
				continue
			}
			// PID 1 ignores signals with the default action
			// (sig_task_ignored(), SIGNAL_UNKILLABLE); see
			// initProtected. Such a signal only gets here if it
			// was blocked when sent.
			if t.k.IsInit(t.tg) && initProtected(info) {
				continue
			}
			if defaultStops(sig) {
				// SIGTSTP, SIGTTIN and SIGTTOU do not stop an
				// orphaned process group (do_signal_stop() via
				// is_current_pgrp_orphaned()).
				if sig != int(unix.SIGSTOP) && t.k.pgrpOrphaned(t.tg) {
					continue
				}
				t.k.stopGroup(t.tg, sig)
				continue
			}
			t.exitGroup(WaitStatus{Signal: sig, CoreDumped: t.dumpCore(sig)})
			return
		}
		restart(true, a)
		if err := t.setupSignalFrame(info, a); err != nil {
			t.Debugf("signal %d: cannot build frame: %v", sig, err)
			t.exitGroup(WaitStatus{Signal: int(unix.SIGSEGV), CoreDumped: t.dumpCore(int(unix.SIGSEGV))})
			return
		}
		// Like exit_to_user_mode_loop(), keep delivering while signals
		// the new mask allows are pending: each frame is pushed on the
		// previous one, so the last handler set up runs first.
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

// dumpCore reports whether dying of sig leaves a core dump, which is what
// the 0x80 bit of the wait status (WCOREDUMP) says. Linux sets it only when
// a dump was actually written (do_coredump()), which RLIMIT_CORE's default
// of 0 prevents. The sentry writes no core files, so the bit is never set;
// with a non-zero RLIMIT_CORE this is where the sandbox differs from
// Linux, which would write "core" and set it.
func (t *Task) dumpCore(sig int) bool {
	return false
}
