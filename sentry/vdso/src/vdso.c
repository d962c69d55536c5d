/*
 * vdso.c: the sandbox's vDSO. Apps find it through AT_SYSINFO_EHDR, and
 * glibc calls these functions instead of trapping into the sentry for
 * clock_gettime(2), gettimeofday(2), time(2), clock_getres(2) and
 * getcpu(2).
 *
 * Clocks come from the TSC and the parameters in the data page, which the
 * sentry maps one page below this image (vvar_page, placed by vdso.lds)
 * and keeps up to date; the sentry's own syscalls compute from the same
 * page (sentry/ktime), so both paths agree. A clock the page does not
 * describe (CPU-time clocks, alarm clocks, unknown IDs) or a page in
 * syscall mode makes the real syscall, and the sentry answers it.
 *
 * No libc, no relocations, no writable data: the image is shared read-only
 * by every process. Return values follow the raw syscalls' convention
 * (-errno on failure), as glibc expects of the vDSO.
 */
#include "vvar.h"

#define NSEC_PER_SEC 1000000000LL
#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NR_getcpu 309

struct kernel_timespec {
	s64 tv_sec;
	long tv_nsec;
};

struct kernel_timeval {
	s64 tv_sec;
	long tv_usec;
};

struct kernel_timezone {
	int tz_minuteswest;
	int tz_dsttime;
};

extern const volatile struct pangolin_vvar vvar_page __attribute__((visibility("hidden")));

static inline long syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* The TSC, ordered after earlier and before later instructions. */
static inline u64 rdtsc_fenced(void)
{
	u32 lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (u64)hi << 32 | lo;
}

/*
 * read_clock stores clock id's value in *ns and returns 1, or returns 0 if
 * the page does not serve it. The arithmetic is params.at() in
 * sentry/ktime/params.go.
 */
static int read_clock(int id, s64 *ns)
{
	const volatile struct pangolin_vvar *v = &vvar_page;
	u32 seq, mode;
	u64 tsc, base, mult;
	s64 mono, off;

	if ((unsigned)id >= VVAR_CLOCKS || !(v->clock_mask & (1u << id)))
		return 0;
	for (;;) {
		seq = v->seq;
		if (seq & 1) {
			__asm__ volatile("pause" ::: "memory");
			continue;
		}
		__asm__ volatile("" ::: "memory");
		mode = v->mode;
		base = v->tsc_base;
		mult = v->mult;
		mono = v->mono_base;
		off = v->offset[id];
		tsc = rdtsc_fenced();
		if (v->seq == seq)
			break;
	}
	if (mode != VVAR_MODE_TSC)
		return 0;
	if (tsc > base)
		mono += (s64)(((unsigned __int128)(tsc - base) * mult) >> VVAR_MULT_SHIFT);
	*ns = mono + off;
	return 1;
}

int __vdso_clock_gettime(int id, struct kernel_timespec *ts)
{
	s64 ns;

	if (!read_clock(id, &ns))
		return syscall2(NR_clock_gettime, id, (long)ts);
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
	return 0;
}

int __vdso_gettimeofday(struct kernel_timeval *tv, struct kernel_timezone *tz)
{
	s64 ns;

	if (!read_clock(0 /* CLOCK_REALTIME */, &ns))
		return syscall2(NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / NSEC_PER_SEC;
		tv->tv_usec = ns % NSEC_PER_SEC / 1000;
	}
	if (tz) {
		/* The sandbox runs in UTC, as the syscall reports. */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

long __vdso_time(long *t)
{
	s64 ns;
	long sec;

	if (!read_clock(0 /* CLOCK_REALTIME */, &ns))
		return syscall2(NR_time, (long)t, 0);
	sec = ns / NSEC_PER_SEC;
	if (t)
		*t = sec;
	return sec;
}

int __vdso_clock_getres(int id, struct kernel_timespec *res)
{
	const volatile struct pangolin_vvar *v = &vvar_page;
	s64 r;

	if ((unsigned)id >= VVAR_CLOCKS || !(v->clock_mask & (1u << id)) || v->mode != VVAR_MODE_TSC)
		return syscall2(NR_clock_getres, id, (long)res);
	r = v->res[id];
	if (res) {
		res->tv_sec = r / NSEC_PER_SEC;
		res->tv_nsec = r % NSEC_PER_SEC;
	}
	return 0;
}

/*
 * The CPU this thread runs on is in the limit of the host's per-CPU GDT
 * segment (Linux's vdso_read_cpunode(): CPU in the low 12 bits, node above).
 * It is the host's numbering, which the sandbox shares when its CPUs are the
 * host's first ones; otherwise (or if the segment is missing) the sentry
 * answers. The sandbox has one NUMA node.
 */
#define CPUNODE_SEG (15 * 8 + 3)

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	const volatile struct pangolin_vvar *v = &vvar_page;
	unsigned p = 0;
	unsigned char ok;

	__asm__("lsl %2, %0; setz %1" : "=r"(p), "=q"(ok) : "r"(CPUNODE_SEG) : "cc");
	if (!ok || (p & 0xfff) >= v->ncpu)
		return syscall3(NR_getcpu, (long)cpu, (long)node, (long)unused);
	if (cpu)
		*cpu = p & 0xfff;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct kernel_timeval *, struct kernel_timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct kernel_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
