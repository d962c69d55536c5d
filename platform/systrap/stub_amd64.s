// The systrap stub: the only code ever mapped in a stub process besides the
// app's own mappings. Everything from ·stubBegin to ·stubEnd is copied to
// the stub page (one page, read+exec, at the same address in the sentry and
// in every stub process) and runs there, never at its link address, so:
//
// SAFETY:
//   - Every function is NOSPLIT|NOFRAME with a zero frame: the assembler adds
//     no prologue, stack check or frame pointer, and the bytes are exactly
//     the instructions written here.
//   - The code is position independent: it uses only relative jumps between
//     the functions of this file (which the linker lays out in file order;
//     stubLayout() and TestStubLayout check that every entry point lies
//     inside [·stubBegin, ·stubEnd) and that this fits one page) and no
//     absolute addresses. Data is reached through registers the platform
//     sets up (R12, R13, R14) or through the stack pointer, which in a
//     signal handler lies on the thread's alternate signal stack inside its
//     16 KiB-aligned region of the shared memory.
//   - Nothing here trusts memory the application can write (the thread
//     regions and the reply page are read-write in the stub process): a
//     corrupted value can only make the stub mis-handle its own thread
//     (the sentry validates everything it reads back and treats a dead or
//     confused stub as a platform failure of that address space). Requests
//     for the syscall thread come from the request page, which is mapped
//     read-only in the stub; the loop keeps its state in registers and uses
//     no stack at all.
//   - The app's threads run under a seccomp filter that only lets the
//     syscalls of the signal handler (rt_sigreturn, futex WAIT/WAKE,
//     arch_prctl FS/GS, exit) through, and only from this page; jumping into
//     the syscall loop or thread-init code from app code therefore dies on
//     the first syscall (SECCOMP_RET_KILL_PROCESS).
//
// Layout constants shared with Go are in stub_amd64.go (ctl*, req*, rep*,
// state*); TestStubConstants checks the two agree.

#include "textflag.h"

#define SYS_mmap 9
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigreturn 15
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_exit 60
#define SYS_kill 62
#define SYS_ptrace 101
#define SYS_getppid 110
#define SYS_setsid 112
#define SYS_sigaltstack 131
#define SYS_prctl 157
#define SYS_arch_prctl 158
#define SYS_futex 202
#define SYS_exit_group 231
#define SYS_seccomp 317

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

// Thread region: 16 KiB, aligned; the control block is at its start and the
// alternate signal stack is the rest.
#define REGION_MASK $~0x3fff
#define CTL_STATE 0
#define CTL_CMD 4
#define CTL_UC 8
#define CTL_SI 16
#define CTL_SIGNO 24
#define CTL_FS 32
#define CTL_GS 40
#define CTL_FSGSBASE 48
#define CTL_SPIN 52
#define CTL_PROBE 56
#define CTL_STACK 64

// Request page (read-only in the stub), R12 in the syscall thread.
#define REQ_SEQ 0
#define REQ_NR 8
#define REQ_ARGS 16
#define REQ_R14 64
#define REQ_SIGACTION 128
#define REQ_SIGMASK 160
#define REQ_MAPLEN 168
#define REQ_MAPFD 176
#define REQ_MAPOFF 184
#define REQ_SIGNALS 192
#define REQ_FPROG 256
// Reply page (read-write in the stub), R13 in the syscall thread.
#define REP_DONE 0
#define REP_RET 8

#define STATE_RESUME 1
#define STATE_SLEEPING 2
#define STATE_EVENT 3
#define STATE_HSLEEP 4
#define CMD_EXIT 1

// Spin budgets before a futex wait, in iterations of a PAUSE and a load
// (some tens of ns each). Whether spinning pays depends on the host: with
// the sentry thread on another idle CPU, a spin catches the answer in a
// few microseconds and saves two context switches; when the two share a
// CPU, a spinner only delays the thread it waits for. Measured on the
// shared 2-CPU development host, getpid took ~3.5 us with 2000-iteration
// spins when it was lightly loaded, and 5-15x longer than with no spin
// when it was heavily loaded. So the handler adapts its budget per thread
// (CTL_SPIN): doubled when a spin caught the sentry, halved when it had to
// sleep, between HANDLER_SPIN_MIN and HANDLER_SPIN_MAX; at the floor,
// every 32nd wait tries a full spin again (HANDLER_SPIN_PROBE, CTL_PROBE).
// The probe must be as long as the full budget: a PAUSE is only some ns on
// some CPUs, and a shorter probe never catches the answer of a sentry that
// needs a few microseconds, so the budget would never recover (measured:
// getpid 50 us with 256-iteration probes, 3.5 us with full ones). The sentry does the
// same on its side (thread.waitEvent).
#define HANDLER_SPIN_MIN $16
#define HANDLER_SPIN_MAX $2048
#define HANDLER_SPIN_PROBE $2048
// The syscall thread spins a fixed budget: MapFile requests come in bursts
// (a fault maps a run of chunks; exec maps every segment).
#define LOOP_SPIN $500

// ·stubBegin is the master stub's entry, reached from rawClone in a copy of
// the sentry with R12 = the sentry's pid. It makes itself a clean tracee:
// die with the sentry, leave its session, reset every signal handler (the
// Go runtime's handlers live in memory about to be unmapped), then
// PTRACE_TRACEME, unblock signals and stop. The tracer takes it from there.
// The copied Go stack is still mapped here, so the zeroed sigaction and
// sigset are built on it.
TEXT ·stubBegin(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	$SYS_prctl, AX
	MOVL	$1, DI			// PR_SET_PDEATHSIG
	MOVL	$9, SI			// SIGKILL
	SYSCALL
	MOVL	$SYS_getppid, AX
	SYSCALL
	CMPQ	AX, R12
	JNE	die			// the sentry is already gone
	MOVL	$SYS_setsid, AX
	SYSCALL
	SUBQ	$64, SP
	MOVQ	$0, 0(SP)
	MOVQ	$0, 8(SP)
	MOVQ	$0, 16(SP)
	MOVQ	$0, 24(SP)
	MOVL	$1, R13
resetsig:
	MOVL	$SYS_rt_sigaction, AX
	MOVL	R13, DI
	MOVQ	SP, SI			// {SIG_DFL, 0, 0, {}}
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	INCL	R13
	CMPL	R13, $65
	JNE	resetsig
	MOVL	$SYS_ptrace, AX
	XORL	DI, DI			// PTRACE_TRACEME
	XORL	SI, SI
	XORL	DX, DX
	XORL	R10, R10
	SYSCALL
	TESTQ	AX, AX
	JNE	die
	MOVL	$SYS_rt_sigprocmask, AX
	MOVL	$2, DI			// SIG_SETMASK
	MOVQ	SP, SI			// {}
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	MOVL	$SYS_getpid, AX
	SYSCALL
	MOVL	AX, DI
	MOVL	$SYS_kill, AX
	MOVL	$19, SI			// SIGSTOP
	SYSCALL
die:
	MOVL	$SYS_exit_group, AX
	MOVL	$1, DI
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubSyscall is the ptrace injection site: the tracer points RIP here
// with a syscall in the registers and waits for the int3.
TEXT ·stubSyscall(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubCloneSyscallThread is injected clone(2) in a new stub process's
// leader: the parent reports to its tracer with int3, the child (RAX = 0)
// becomes the untraced syscall thread.
TEXT ·stubCloneSyscallThread(SB),NOSPLIT|NOFRAME,$0-0
	SYSCALL
	TESTQ	AX, AX
	JNE	parent
	JMP	·stubSyscallThreadInit(SB)
parent:
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubSyscallThreadInit finishes setting up the stub process from the
// syscall thread, so that the sentry injects three syscalls instead of a
// dozen: set the parent-death signal, block the asynchronous signals (app threads inherit the mask until
// their first sigreturn), map the read-write part of the shared slot at
// R13, install the handler for each signal listed at REQ_SIGNALS (bytes,
// zero-terminated), then serve requests. If any step fails the thread
// exits, and the sentry's first request finds it gone.
TEXT ·stubSyscallThreadInit(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	$SYS_prctl, AX		// die with the sentry's master thread
	MOVL	$1, DI			// PR_SET_PDEATHSIG (checked for every
	MOVL	$9, SI			// thread of a child: forget_original_parent())
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	MOVL	$SYS_rt_sigprocmask, AX
	MOVL	$2, DI			// SIG_SETMASK
	LEAQ	REQ_SIGMASK(R12), SI
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	MOVL	$SYS_mmap, AX
	MOVQ	R13, DI
	MOVQ	REQ_MAPLEN(R12), SI
	MOVL	$3, DX			// PROT_READ|PROT_WRITE
	MOVL	$0x11, R10		// MAP_SHARED|MAP_FIXED
	MOVQ	REQ_MAPFD(R12), R8
	MOVQ	REQ_MAPOFF(R12), R9
	SYSCALL
	CMPQ	AX, R13
	JNE	fail
	XORL	BX, BX
sigloop:
	MOVBLZX	REQ_SIGNALS(R12)(BX*1), DI
	TESTL	DI, DI
	JEQ	done
	MOVL	$SYS_rt_sigaction, AX
	LEAQ	REQ_SIGACTION(R12), SI
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	INCL	BX
	JMP	sigloop
done:
	XORL	R15, R15
	JMP	·stubSyscallLoop(SB)
fail:
	MOVL	$SYS_exit, AX
	MOVL	$1, DI
	SYSCALL
	BYTE	$0xcc

// ·stubSyscallLoop serves the sentry's syscall requests for one address
// space: mmap/munmap for MapFile/Unmap and clone for new app threads.
// R12 = request page (read-only), R13 = reply page, R15 = last sequence
// number served. A request is a new REQ_SEQ; the reply is REP_RET, then
// REP_DONE = seq, then a FUTEX_WAKE of REP_DONE. Registers only, no stack.
TEXT ·stubSyscallLoop(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	LOOP_SPIN, R14
loop:
	MOVL	REQ_SEQ(R12), AX
	CMPL	AX, R15
	JNE	run
	PAUSE
	DECL	R14
	JNE	loop
	MOVL	$SYS_futex, AX		// futex(&req.seq, FUTEX_WAIT, last, NULL)
	MOVQ	R12, DI
	MOVL	$FUTEX_WAIT, SI
	MOVL	R15, DX
	XORL	R10, R10
	SYSCALL
	MOVL	LOOP_SPIN, R14
	JMP	loop
run:
	MOVL	AX, R15
	MOVQ	REQ_NR(R12), BX		// kept across the syscall (clone child test)
	MOVQ	BX, AX
	MOVQ	(REQ_ARGS+0)(R12), DI
	MOVQ	(REQ_ARGS+8)(R12), SI
	MOVQ	(REQ_ARGS+16)(R12), DX
	MOVQ	(REQ_ARGS+24)(R12), R10
	MOVQ	(REQ_ARGS+32)(R12), R8
	MOVQ	(REQ_ARGS+40)(R12), R9
	MOVQ	REQ_R14(R12), R14	// a clone child's thread region
	SYSCALL
	TESTQ	AX, AX
	JNE	reply
	CMPQ	BX, $SYS_clone
	JNE	reply
	JMP	·stubThreadInit(SB)	// the new app thread
reply:
	MOVQ	AX, REP_RET(R13)
	MOVL	R15, REP_DONE(R13)
	MOVL	$SYS_futex, AX		// futex(&rep.done, FUTEX_WAKE, 1)
	MOVQ	R13, DI
	MOVL	$FUTEX_WAKE, SI
	MOVL	$1, DX
	SYSCALL
	MOVL	LOOP_SPIN, R14
	JMP	loop

// ·stubThreadInit is where a new app thread starts (R14 = its region, R12
// = the request page): it installs its alternate signal stack (the stack_t
// the sentry put in its control block) and the app-thread seccomp filter
// (the sock_fprog at reqFprog in the request page), then traps with int3;
// the handler reports that first event and the sentry answers with the
// app's registers. Signals other than the synchronous ones stay blocked
// (inherited from the syscall thread) until that first sigreturn, which
// installs the mask of the frame (empty).
TEXT ·stubThreadInit(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	$SYS_sigaltstack, AX
	LEAQ	CTL_STACK(R14), DI
	XORL	SI, SI
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	MOVL	$SYS_seccomp, AX
	MOVL	$1, DI			// SECCOMP_SET_MODE_FILTER
	XORL	SI, SI
	LEAQ	REQ_FPROG(R12), DX
	SYSCALL
	TESTQ	AX, AX
	JNE	fail
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)
fail:
	MOVL	$SYS_exit, AX		// the sentry sees the thread die
	MOVL	$1, DI
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubHandler is the signal handler of every app thread (SIGSYS, SIGSEGV,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP and the interrupt signal), running on the
// thread's alternate stack with every signal blocked. DI = signo, SI =
// siginfo, DX = ucontext, all in the kernel's frame on that stack. It
// publishes the event in the control block (found by masking SP), wakes the
// sentry if it sleeps, waits for STATE_RESUME (spin, then FUTEX_WAIT), sets
// FS/GS base to what the sentry left in the control block, and returns
// through rt_sigreturn, which loads the (edited) frame.
TEXT ·stubHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	SP, R8
	ANDQ	REGION_MASK, R8
	MOVQ	DX, CTL_UC(R8)
	MOVQ	SI, CTL_SI(R8)
	MOVQ	DI, CTL_SIGNO(R8)
	CMPB	CTL_FSGSBASE(R8), $0
	JEQ	getprctl
	RDFSBASEQ	AX
	MOVQ	AX, CTL_FS(R8)
	RDGSBASEQ	AX
	MOVQ	AX, CTL_GS(R8)
	JMP	post
getprctl:
	MOVL	$SYS_arch_prctl, AX
	MOVL	$ARCH_GET_FS, DI
	LEAQ	CTL_FS(R8), SI
	SYSCALL
	MOVL	$SYS_arch_prctl, AX
	MOVL	$ARCH_GET_GS, DI
	LEAQ	CTL_GS(R8), SI
	SYSCALL
post:
	MOVL	$STATE_EVENT, AX
	XCHGL	AX, CTL_STATE(R8)
	CMPL	AX, $STATE_SLEEPING
	JNE	spin0
	MOVL	$SYS_futex, AX		// futex(&state, FUTEX_WAKE, 1)
	LEAQ	CTL_STATE(R8), DI
	MOVL	$FUTEX_WAKE, SI
	MOVL	$1, DX
	SYSCALL
spin0:
	MOVL	CTL_SPIN(R8), R12	// R12: this wait's budget (clamped)
	CMPL	R12, HANDLER_SPIN_MIN
	JHI	chkmax
	MOVL	HANDLER_SPIN_MIN, R12
	INCL	CTL_PROBE(R8)
	TESTL	$31, CTL_PROBE(R8)
	JNE	chkmax
	MOVL	HANDLER_SPIN_PROBE, R12	// probe
chkmax:
	CMPL	R12, HANDLER_SPIN_MAX
	JLS	spinstart
	MOVL	HANDLER_SPIN_MAX, R12
spinstart:
	MOVL	R12, R9
spin:
	MOVL	CTL_STATE(R8), AX
	CMPL	AX, $STATE_RESUME
	JEQ	caught
	CMPL	AX, $STATE_SLEEPING	// resumed, and the sentry already sleeps
	JEQ	caught
	PAUSE
	DECL	R9
	JNE	spin
	SHRL	$1, R12			// the spin did not pay: halve the budget
	MOVL	R12, CTL_SPIN(R8)
	JMP	sleep
caught:
	SHLL	$1, R12			// it did: double it
	MOVL	R12, CTL_SPIN(R8)
	JMP	resumed
sleep:
	MOVL	CTL_STATE(R8), AX
	CMPL	AX, $STATE_RESUME
	JEQ	resumed
	CMPL	AX, $STATE_SLEEPING
	JEQ	resumed
	CMPL	AX, $STATE_EVENT
	JNE	wait			// HSLEEP already (or garbage): wait on it
	MOVL	$STATE_HSLEEP, CX
	LOCK
	CMPXCHGL	CX, CTL_STATE(R8)
	JNE	sleep
	MOVL	$STATE_HSLEEP, AX
wait:
	MOVL	AX, DX			// futex(&state, FUTEX_WAIT, seen, NULL)
	MOVL	$SYS_futex, AX
	LEAQ	CTL_STATE(R8), DI
	MOVL	$FUTEX_WAIT, SI
	XORL	R10, R10
	SYSCALL
	JMP	sleep
resumed:
	CMPL	CTL_CMD(R8), $CMD_EXIT
	JEQ	exit
	CMPB	CTL_FSGSBASE(R8), $0
	JEQ	setprctl
	MOVQ	CTL_FS(R8), AX
	WRFSBASEQ	AX
	MOVQ	CTL_GS(R8), AX
	WRGSBASEQ	AX
	JMP	sigreturn
setprctl:
	MOVL	$SYS_arch_prctl, AX
	MOVL	$ARCH_SET_FS, DI
	MOVQ	CTL_FS(R8), SI
	SYSCALL
	MOVL	$SYS_arch_prctl, AX
	MOVL	$ARCH_SET_GS, DI
	MOVQ	CTL_GS(R8), SI
	SYSCALL
sigreturn:
	// Pop the frame's return address (never used, so its value does
	// not matter) as the restorer would, then rt_sigreturn.
	ADDQ	$8, SP
	MOVL	$SYS_rt_sigreturn, AX
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)
exit:
	MOVL	$SYS_exit, AX		// Context.Release retires the thread
	XORL	DI, DI
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubRestorer is the sigaction's sa_restorer, which x86-64 requires
// (SA_RESTORER); the handler never returns through it.
TEXT ·stubRestorer(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	$SYS_rt_sigreturn, AX
	SYSCALL
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// ·stubEnd marks the end of the stub; it is never executed.
TEXT ·stubEnd(SB),NOSPLIT|NOFRAME,$0-0
	BYTE	$0xcc			// int3 (INT $3 would assemble to cd 03)

// func stubLayout() (begin, syscall, cloneSyscallThread, handler, restorer, end uintptr)
// returns the link addresses of the stub's parts; only their differences
// matter.
TEXT ·stubLayout(SB),NOSPLIT,$0-48
	MOVQ	$·stubBegin(SB), AX
	MOVQ	AX, begin+0(FP)
	MOVQ	$·stubSyscall(SB), AX
	MOVQ	AX, syscall+8(FP)
	MOVQ	$·stubCloneSyscallThread(SB), AX
	MOVQ	AX, cloneSyscallThread+16(FP)
	MOVQ	$·stubHandler(SB), AX
	MOVQ	AX, handler+24(FP)
	MOVQ	$·stubRestorer(SB), AX
	MOVQ	AX, restorer+32(FP)
	MOVQ	$·stubEnd(SB), AX
	MOVQ	AX, end+40(FP)
	RET

// func spinPause() executes one PAUSE (a spin-wait hint) in the sentry.
TEXT ·spinPause(SB),NOSPLIT,$0-0
	PAUSE
	RET
