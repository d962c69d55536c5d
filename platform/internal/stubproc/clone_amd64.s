// SAFETY: rawClone is the only way Pangolin creates a process from the Go
// sentry (each platform's master stub). The child is a copy of the whole Go
// process (no CLONE_VM) but it never executes Go code: right after clone(2)
// returns 0 it jumps to the stub page (entry, in R13), which uses only
// registers and memory of its own until it stops for its tracer. All
// signals are blocked around the clone so that no Go signal handler can run
// in the child before the stub resets the handlers; the parent restores its
// mask before returning. The function is NOSPLIT and calls nothing, so the
// goroutine stack cannot move or grow while it runs.

#include "textflag.h"

#define SYS_rt_sigprocmask 14
#define SYS_clone 56
#define SIG_SETMASK 2

// func rawClone(flags, entry, ppid uintptr) (pid uintptr, errno uintptr)
TEXT ·rawClone(SB),NOSPLIT,$16-40
	// 0(SP): the full signal set; 8(SP): the caller's mask.
	MOVQ	$-1, 0(SP)
	MOVQ	$0, 8(SP)
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	LEAQ	0(SP), SI
	LEAQ	8(SP), DX
	MOVQ	$8, R10
	SYSCALL

	MOVQ	flags+0(FP), DI
	MOVQ	entry+8(FP), R13	// survives clone in the child
	MOVQ	ppid+16(FP), R12	// checked by the stub against getppid()
	XORQ	SI, SI			// newsp: keep (the child never uses the stack)
	XORQ	DX, DX			// parent_tid
	XORQ	R10, R10		// child_tid
	XORQ	R8, R8			// tls
	MOVQ	$SYS_clone, AX
	SYSCALL
	CMPQ	AX, $0
	JNE	parent
	// Child: no Go code from here on.
	JMP	R13

parent:
	MOVQ	AX, R12
	MOVQ	$SYS_rt_sigprocmask, AX
	MOVQ	$SIG_SETMASK, DI
	LEAQ	8(SP), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL

	// Errors are -4095..-1 (unsigned >= 0xfffffffffffff001).
	CMPQ	R12, $-4095
	JCS	ok
	NEGQ	R12
	MOVQ	$0, pid+24(FP)
	MOVQ	R12, errno+32(FP)
	RET
ok:
	MOVQ	R12, pid+24(FP)
	MOVQ	$0, errno+32(FP)
	RET
