#include "textflag.h"

// func cpuid(eax, ecx uint32) (a, b, c, d uint32)
//
// SAFETY: CPUID only reads processor identification; it touches no memory.
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL eax+0(FP), AX
	MOVL ecx+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET
