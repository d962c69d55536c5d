/*
 * vvar.h: the data page ([vvar]) the sentry writes and the vDSO reads. Must
 * match the page type in sentry/ktime/page.go field for field; the offsets
 * below are asserted here and pinned by ktime's TestPageLayout.
 *
 * Every field after seq belongs to one snapshot that the sentry writes only
 * while seq is odd: read seq, wait while it is odd, read the fields and the
 * TSC, and start again if seq changed.
 */
#ifndef PANGOLIN_VVAR_H
#define PANGOLIN_VVAR_H

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define VVAR_CLOCKS 12

/* mode */
#define VVAR_MODE_SYSCALL 0 /* no usable TSC: make the syscall */
#define VVAR_MODE_TSC 1     /* clocks in clock_mask come from the TSC */

/* mult is ns per TSC cycle in 32.32 fixed point. */
#define VVAR_MULT_SHIFT 32

struct pangolin_vvar {
	u32 seq;
	u32 mode;
	u64 tsc_base;  /* CLOCK_MONOTONIC read mono_base at this TSC value */
	u64 mult;
	s64 mono_base;
	u32 clock_mask; /* bit c: clock c is described here */
	u32 ncpu;       /* CPUs the sandbox reports */
	s64 offset[VVAR_CLOCKS]; /* clock c = CLOCK_MONOTONIC + offset[c] */
	s64 res[VVAR_CLOCKS];    /* clock_getres(c) in ns */
};

_Static_assert(__builtin_offsetof(struct pangolin_vvar, seq) == 0, "seq");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, mode) == 4, "mode");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, tsc_base) == 8, "tsc_base");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, mult) == 16, "mult");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, mono_base) == 24, "mono_base");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, clock_mask) == 32, "clock_mask");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, ncpu) == 36, "ncpu");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, offset) == 40, "offset");
_Static_assert(__builtin_offsetof(struct pangolin_vvar, res) == 136, "res");
_Static_assert(sizeof(struct pangolin_vvar) == 232, "size");

#endif
