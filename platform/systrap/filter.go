package systrap

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"pangolin/platform/internal/stubproc"
	"pangolin/seccomp"
)

// The stub filters test seccomp_data.instruction_pointer, which libseccomp
// cannot express, so they are written as classic BPF here. Both trap
// (SECCOMP_RET_TRAP, so the handler sees a SIGSYS) every syscall made
// outside the stub page, let the three legacy vsyscall calls the host
// kernel emulates through (as the ptrace platform does), and allow a short
// list of syscalls from the stub page; anything else from the stub page
// kills the stub process.
//
// Filters stack: the process filter is installed once in the master stub
// and inherited by every stub process and thread; each app thread adds the
// app filter, so what app code can reach is the intersection.

// seccomp_data offsets (linux/seccomp.h).
const (
	sdNr     = 0
	sdArch   = 4
	sdIPLo   = 8
	sdIPHi   = 12
	sdArgsLo = 16 // + 8*i
)

const (
	auditArchX8664 = 0xc000003e

	retKillProcess = 0x80000000
	retTrap        = 0x00030000
	retAllow       = 0x7fff0000

	// vsyscallStart is the legacy vsyscall page (arch/x86/entry/vsyscall).
	vsyscallStart = 0xffffffffff600000
)

// argEq is the condition: the low 32 bits of syscall argument arg equal
// val (every argument checked here is a C int or flags that fit in 32 bits).
type argEq struct {
	arg  int
	val  uint32
	text string // for people ("flags == MAP_SHARED|MAP_FIXED")
}

// stubRule allows syscall nr from the stub page when any of alts (each a
// conjunction) holds; no alts allows any arguments.
type stubRule struct {
	name string
	nr   uint32
	why  string
	alts [][]argEq
}

// bpfInsn is struct sock_filter.
type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

const (
	bpfLdAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS
	bpfJeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	bpfJgeK   = 0x35 // BPF_JMP|BPF_JGE|BPF_K
	bpfRetK   = 0x06 // BPF_RET|BPF_K
)

// asm is a tiny BPF assembler with forward labels.
type asm struct {
	insns  []bpfInsn
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at     int
	jt, jf string // "" = fall through
}

func (a *asm) ld(off uint32) { a.insns = append(a.insns, bpfInsn{code: bpfLdAbsW, k: off}) }
func (a *asm) ret(v uint32)  { a.insns = append(a.insns, bpfInsn{code: bpfRetK, k: v}) }
func (a *asm) label(l string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[l] = len(a.insns)
}

// jmp appends a conditional jump to jt if the condition holds, else jf.
func (a *asm) jmp(code uint16, k uint32, jt, jf string) {
	a.fixups = append(a.fixups, fixup{at: len(a.insns), jt: jt, jf: jf})
	a.insns = append(a.insns, bpfInsn{code: code, k: k})
}

func (a *asm) assemble() ([]byte, error) {
	for _, f := range a.fixups {
		for _, p := range []struct {
			l   string
			dst *uint8
		}{{f.jt, &a.insns[f.at].jt}, {f.jf, &a.insns[f.at].jf}} {
			if p.l == "" {
				continue
			}
			to, ok := a.labels[p.l]
			if !ok {
				return nil, fmt.Errorf("systrap: bpf label %q undefined", p.l)
			}
			d := to - f.at - 1
			if d < 0 || d > 255 {
				return nil, fmt.Errorf("systrap: bpf jump to %q out of range (%d)", p.l, d)
			}
			*p.dst = uint8(d)
		}
	}
	b := make([]byte, 8*len(a.insns))
	for i, in := range a.insns {
		binary.LittleEndian.PutUint16(b[8*i:], in.code)
		b[8*i+2], b[8*i+3] = in.jt, in.jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.k)
	}
	return b, nil
}

// buildFilter compiles the filter for a stub page at stubStart.
func buildFilter(stubStart uintptr, rules []stubRule) ([]byte, error) {
	var a asm
	a.ld(sdArch)
	a.jmp(bpfJeqK, auditArchX8664, "", "trap")
	a.ld(sdIPHi)
	a.jmp(bpfJeqK, uint32(vsyscallStart>>32), "", "notvsys")
	a.ld(sdIPLo)
	a.jmp(bpfJgeK, uint32((vsyscallStart+pageSize)&0xffffffff), "trap", "")
	a.jmp(bpfJgeK, uint32(vsyscallStart&0xffffffff), "", "trap")
	a.ld(sdNr)
	a.jmp(bpfJeqK, unix.SYS_GETTIMEOFDAY, "allow", "")
	a.jmp(bpfJeqK, unix.SYS_TIME, "allow", "")
	a.jmp(bpfJeqK, unix.SYS_GETCPU, "allow", "trap")

	a.label("notvsys")
	a.ld(sdIPHi)
	a.jmp(bpfJeqK, uint32(uint64(stubStart)>>32), "", "trap")
	a.ld(sdIPLo)
	// seccomp_data.instruction_pointer is the address after the syscall
	// instruction; the stub's code ends well before the end of its page.
	a.jmp(bpfJgeK, uint32(stubStart+pageSize), "trap", "")
	a.jmp(bpfJgeK, uint32(stubStart), "", "trap")
	a.ld(sdNr)
	for i, r := range rules {
		a.jmp(bpfJeqK, r.nr, fmt.Sprintf("rule%d", i), "")
	}
	a.ret(retKillProcess)
	for i, r := range rules {
		a.label(fmt.Sprintf("rule%d", i))
		if len(r.alts) == 0 {
			a.ret(retAllow)
			continue
		}
		for j, alt := range r.alts {
			next := fmt.Sprintf("rule%d.%d", i, j+1)
			if j == len(r.alts)-1 {
				next = "kill"
			}
			for _, c := range alt {
				a.ld(sdArgsLo + 8*uint32(c.arg))
				a.jmp(bpfJeqK, c.val, "", next)
			}
			a.ret(retAllow)
			if j < len(r.alts)-1 {
				a.label(next)
			}
		}
	}
	a.label("kill")
	a.ret(retKillProcess)
	a.label("trap")
	a.ret(retTrap)
	a.label("allow")
	a.ret(retAllow)
	return a.assemble()
}

const (
	appCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_CHILD_CLEARTID
	syscallThreadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM

	// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004

	opFutexWait = 0
	opFutexWake = 1
)

// processRules are the syscalls the platform itself makes in stub processes
// (injected by ptrace in the master stub and leaders, or run by the syscall
// thread and the handler), the base filter of every stub thread.
func processRules() []stubRule {
	return []stubRule{
		{"clone", unix.SYS_CLONE, "new stub processes (master stub), the syscall thread (leader) and app threads (syscall thread)", [][]argEq{
			{{0, stubproc.ProcessCloneFlags, "flags == new stub process"}}, {{0, syscallThreadCloneFlags, "flags == syscall thread"}}, {{0, appCloneFlags, "flags == app thread"}},
		}},
		{"mmap", unix.SYS_MMAP, "MapFile and the shared region: shared mappings of sentry-held FDs at fixed addresses", [][]argEq{
			{{3, unix.MAP_SHARED | unix.MAP_FIXED, "flags == MAP_SHARED|MAP_FIXED"}},
		}},
		{"munmap", unix.SYS_MUNMAP, "Unmap, and erasing the sentry's image from the master stub", nil},
		{"prctl", unix.SYS_PRCTL, "PR_SET_PDEATHSIG in a new stub process", [][]argEq{{{0, unix.PR_SET_PDEATHSIG, "option == PR_SET_PDEATHSIG"}}}},
		{"rt_sigaction", unix.SYS_RT_SIGACTION, "installing the stub's signal handler in a new stub process", nil},
		{"rt_sigprocmask", unix.SYS_RT_SIGPROCMASK, "blocking asynchronous signals in the syscall thread", nil},
		{"sigaltstack", unix.SYS_SIGALTSTACK, "each app thread's signal stack in the shared region", nil},
		{"seccomp", unix.SYS_SECCOMP, "each app thread adds the app filter", [][]argEq{{{0, unix.SECCOMP_SET_MODE_FILTER, "op == SECCOMP_SET_MODE_FILTER"}}}},
		{"exit", unix.SYS_EXIT, "a stub thread is retired", nil},
	}
	// The handler's syscalls are appended by appRules.
}

// appRules are the only syscalls app threads may make from the stub page:
// those of the signal handler.
func appRules() []stubRule {
	return []stubRule{
		{"rt_sigreturn", unix.SYS_RT_SIGRETURN, "the handler returns to app code with the registers the sentry left in the frame", nil},
		{"futex", unix.SYS_FUTEX, "handing the thread back and forth with the sentry (shared memory, so not FUTEX_PRIVATE)", [][]argEq{
			{{1, opFutexWait, "op == FUTEX_WAIT"}}, {{1, opFutexWake, "op == FUTEX_WAKE"}},
		}},
		{"arch_prctl", unix.SYS_ARCH_PRCTL, "FS/GS base on hosts without FSGSBASE", [][]argEq{
			{{0, archGetFS, "code == ARCH_GET_FS"}}, {{0, archSetFS, "code == ARCH_SET_FS"}}, {{0, archGetGS, "code == ARCH_GET_GS"}}, {{0, archSetGS, "code == ARCH_SET_GS"}},
		}},
		{"exit", unix.SYS_EXIT, "a stub thread is retired (Context.Release)", nil},
	}
}

// processFilter returns the base filter: the platform's own syscalls plus
// the handler's.
func processFilter(stubStart uintptr) ([]byte, error) {
	rules := processRules()
	for _, r := range appRules() {
		if r.nr != unix.SYS_EXIT {
			rules = append(rules, r)
		}
	}
	return buildFilter(stubStart, rules)
}

// appFilter returns the filter each app thread adds.
func appFilter(stubStart uintptr) ([]byte, error) { return buildFilter(stubStart, appRules()) }

// ptraceRequests are the requests the platform issues as a tracer once the
// sentry is filtered: creating a stub process (injected clone, mmap,
// sigaction, and the clone of its syscall thread) is the only use.
var ptraceRequests = []uint64{
	unix.PTRACE_GETREGS,
	unix.PTRACE_SETREGS,
	unix.PTRACE_CONT,
	unix.PTRACE_SETOPTIONS,
}

// HostSyscalls returns the host syscalls the systrap platform makes in the
// sentry process once it is running, merged into the sentry's filter
// (sentry/filter). New, which maps the stub page, creates the shared memfd
// and clones the master stub, runs before the filter is installed. mmap,
// munmap and madvise of the shared memory are covered by the sentry's own
// rules (no PROT_EXEC).
func HostSyscalls() []seccomp.Rule {
	return []seccomp.Rule{
		stubproc.PtraceRule("creating stub processes: injected clone/mmap/sigaction in a stopped leader (no ptrace per trap)", ptraceRequests...),
		{Name: "wait4", Why: "ptrace stops of a new stub process's leader; reaping it on Release (__WALL)"},
		stubproc.KillRule(),
		{Name: "tgkill", Why: "interrupt a stub thread running app code (SIGCHLD); signal 0 checks a stub thread is alive"},
		{Name: "futex", Why: "hand a stub thread back and forth through its state word in the shared memfd (FUTEX_WAIT/FUTEX_WAKE without FUTEX_PRIVATE, as the waker is another process)", Any: []seccomp.Match{
			{seccomp.Eq(1, opFutexWait, "op == FUTEX_WAIT")},
			{seccomp.Eq(1, opFutexWake, "op == FUTEX_WAKE")},
		}},
	}
}

// StubSyscalls returns the stub filters as tables for people (the README's
// generated lists): what the process filter lets the platform's own code
// make from the stub page, and the subset the app filter leaves to app
// threads. Everything from outside the stub page traps to the sentry.
func StubSyscalls() (process, app []seccomp.Rule) {
	conv := func(rs []stubRule) []seccomp.Rule {
		var out []seccomp.Rule
		for _, r := range rs {
			sr := seccomp.Rule{Name: r.name, Why: r.why}
			for _, alt := range r.alts {
				var m seccomp.Match
				for _, c := range alt {
					m = append(m, seccomp.MaskedEq(uint(c.arg), 0xffffffff, uint64(c.val), c.text))
				}
				sr.Any = append(sr.Any, m)
			}
			out = append(out, sr)
		}
		return out
	}
	p := processRules()
	for _, r := range appRules() {
		if r.nr != unix.SYS_EXIT {
			p = append(p, r)
		}
	}
	return conv(p), conv(appRules())
}
