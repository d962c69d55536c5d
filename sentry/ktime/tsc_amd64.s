#include "textflag.h"

// func rdtsc() uint64
//
// SAFETY: LFENCE and RDTSC only serialize and read the time stamp counter;
// they touch no memory. CR4.TSD is clear on Linux (PR_SET_TSC is never used
// by the sentry), so RDTSC does not fault.
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	LFENCE
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET
