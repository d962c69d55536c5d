package kernel

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/appseccomp"
	"pangolin/sentry/arch"
)

// Seccomp modes, as PR_GET_SECCOMP and /proc/PID/status report them.
const (
	SeccompModeDisabled = 0
	SeccompModeStrict   = 1
	SeccompModeFilter   = 2
)

// sysSeccomp is SYS_SECCOMP in siginfo's si_code for SIGSYS.
const sysSeccomp = 1

// seccompFilter is one installed program, linked to the filters installed
// before it (struct seccomp_filter's prev). Immutable and shared by every
// task that inherited it.
type seccompFilter struct {
	prog   *appseccomp.Filter
	parent *seccompFilter
}

// seccompState is a task's seccomp configuration (struct seccomp).
// Immutable: changes publish a new state.
type seccompState struct {
	mode int
	// filters is the newest filter; all of the chain run.
	filters *seccompFilter
	// count and insns are the chain's length and its instruction total
	// with the per-filter penalty (MAX_INSNS_PER_PATH accounting).
	count int
	insns int
}

// SeccompMode returns PR_GET_SECCOMP's value.
func (t *Task) SeccompMode() int {
	if s := t.seccomp.Load(); s != nil {
		return s.mode
	}
	return SeccompModeDisabled
}

// SeccompFilters returns the number of filters applied to t.
func (t *Task) SeccompFilters() int {
	if s := t.seccomp.Load(); s != nil {
		return s.count
	}
	return 0
}

// SetSeccompStrict enters strict mode (seccomp_set_mode_strict()). A task
// already filtering cannot switch modes (seccomp_may_assign_mode()).
func (t *Task) SetSeccompStrict() error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := t.seccomp.Load(); s != nil {
		if s.mode != SeccompModeStrict {
			return unix.EINVAL
		}
		return nil
	}
	t.seccomp.Store(&seccompState{mode: SeccompModeStrict})
	return nil
}

// AddSeccompFilter stacks prog on t's filters (seccomp_attach_filter()).
// With tsync every thread of the process gets t's resulting filters
// (seccomp_sync_threads()), provided each one's filters are an ancestor of
// t's; otherwise nothing changes and the conflicting thread's TID is
// returned (or ESRCH with tsyncESRCH).
func (t *Task) AddSeccompFilter(prog *appseccomp.Filter, tsync, tsyncESRCH bool) (uintptr, error) {
	k := t.k
	// Kernel.mu serializes seccomp changes against each other and
	// against clone, which copies the state while holding it.
	k.mu.Lock()
	defer k.mu.Unlock()
	cur := t.seccomp.Load()
	if cur != nil && cur.mode != SeccompModeFilter {
		return 0, unix.EINVAL
	}
	next := &seccompState{mode: SeccompModeFilter, count: 1, insns: prog.Len() + appseccomp.InsnPenalty}
	f := &seccompFilter{prog: prog}
	if cur != nil {
		f.parent = cur.filters
		next.count += cur.count
		next.insns += cur.insns
	}
	next.filters = f
	if next.insns > appseccomp.MaxInsnsPerPath {
		return 0, unix.ENOMEM
	}
	if !tsync {
		t.seccomp.Store(next)
		return 0, nil
	}
	var others []*Task
	for _, o := range k.tasks {
		if o.tg != t.tg || o == t {
			continue
		}
		if s := o.seccomp.Load(); s != nil && (s.mode != SeccompModeFilter || !isAncestor(s.filters, f)) {
			if tsyncESRCH {
				return 0, unix.ESRCH
			}
			return uintptr(o.tid), nil
		}
		others = append(others, o)
	}
	t.seccomp.Store(next)
	nnp := t.noNewPrivs.Load()
	for _, o := range others {
		o.seccomp.Store(next)
		if nnp {
			o.noNewPrivs.Store(true)
		}
	}
	return 0, nil
}

// isAncestor reports whether anc is f or one of the filters under it
// (is_ancestor()).
func isAncestor(anc, f *seccompFilter) bool {
	if anc == nil {
		return true
	}
	for ; f != nil; f = f.parent {
		if f == anc {
			return true
		}
	}
	return false
}

// strictAllowed are the only syscalls strict mode permits (mode1_syscalls).
func strictAllowed(nr uintptr) bool {
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
		return true
	}
	return false
}

// seccompEnter applies t's seccomp state to the syscall about to run
// (__secure_computing()). It reports whether the syscall may run; if not,
// ret and err are its result (ErrNoReturn when the task was signalled or
// killed instead).
func (t *Task) seccompEnter(s *seccompState, nr uintptr, args arch.SyscallArguments) (run bool, ret uintptr, err error) {
	if s.mode == SeccompModeStrict {
		if strictAllowed(nr) {
			return true, 0, nil
		}
		t.Debugf("seccomp strict mode: syscall %d kills the thread", nr)
		t.seccompKillThread(int(unix.SIGKILL))
		return false, 0, ErrNoReturn
	}
	d := appseccomp.Data{
		Nr:                 int32(nr),
		Arch:               appseccomp.AuditArchX86_64,
		InstructionPointer: uint64(t.regs.IP()),
	}
	for i := range d.Args {
		d.Args[i] = args[i].Uint64()
	}
	var in [appseccomp.DataSize]byte
	d.Encode(&in)
	// seccomp_run_filters(): every filter runs; the most restrictive
	// action wins, the newest filter among equals.
	result := uint32(appseccomp.RetAllow)
	for f := s.filters; f != nil; f = f.parent {
		if r := f.prog.Run(&in); appseccomp.MoreRestrictive(r, result) {
			result = r
		}
	}
	data := result & appseccomp.RetData
	switch result & appseccomp.RetActionFull {
	case appseccomp.RetAllow:
		return true, 0, nil
	case appseccomp.RetLog:
		t.Debugf("seccomp: logged syscall %d", nr)
		return true, 0, nil
	case appseccomp.RetErrno:
		if data > maxErrno {
			data = maxErrno
		}
		if data == 0 {
			return false, 0, nil
		}
		return false, 0, unix.Errno(data)
	case appseccomp.RetTrace, appseccomp.RetUserNotif:
		// No tracer asked for PTRACE_EVENT_SECCOMP and no listener
		// exists (NEW_LISTENER is refused): Linux fails the call.
		return false, 0, unix.ENOSYS
	case appseccomp.RetTrap:
		// The handler sees the syscall number in rax
		// (syscall_rollback()).
		t.regs.SetReturn(nr)
		t.ForceSignal(SigInfo{
			Signo:   int(unix.SIGSYS),
			Code:    sysSeccomp,
			Errno:   int32(data),
			Addr:    uint64(t.regs.IP()),
			Syscall: int32(nr),
			Arch:    appseccomp.AuditArchX86_64,
		})
		return false, 0, ErrNoReturn
	case appseccomp.RetKillThread:
		t.Debugf("seccomp: syscall %d kills the thread", nr)
		t.seccompKillThread(int(unix.SIGSYS))
		return false, 0, ErrNoReturn
	}
	// KILL_PROCESS and unknown actions end the process with SIGSYS.
	t.Debugf("seccomp: syscall %d kills the process", nr)
	t.exitGroup(WaitStatus{Signal: int(unix.SIGSYS), CoreDumped: t.dumpCore(int(unix.SIGSYS))})
	return false, 0, ErrNoReturn
}

// maxErrno is MAX_ERRNO, the cap on SECCOMP_RET_ERRNO's data.
const maxErrno = 4095

// seccompKillThread ends t with signal status sig. The last thread takes
// the process with it, as a fatal signal would (seccomp's do_exit(sig) or
// forced SIGSYS when no other thread is live).
func (t *Task) seccompKillThread(sig int) {
	tg := t.tg
	tg.mu.Lock()
	alone := tg.tasks == 1
	if !alone && tg.leader == t {
		tg.leaderStatus = WaitStatus{Signal: sig}
	}
	tg.mu.Unlock()
	if alone {
		t.exitGroup(WaitStatus{Signal: sig, CoreDumped: sig == int(unix.SIGSYS) && t.dumpCore(sig)})
		return
	}
	t.exitRequested = true
}
