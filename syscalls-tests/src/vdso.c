/*
 * vdso: the vDSO the kernel (or sandbox) maps into every process.
 * - AT_SYSINFO_EHDR is set and points at an ELF header; /proc/self/maps
 *   lists [vdso] and [vvar]
 * - __vdso_clock_gettime, __vdso_gettimeofday, __vdso_time,
 *   __vdso_clock_getres and __vdso_getcpu are found at version LINUX_2.6 by
 *   walking the image's dynamic symbol table (no dlsym) and can be called
 * - CLOCK_MONOTONIC read through the vDSO and through the raw syscall,
 *   interleaved, never goes backwards; the same across two threads and
 *   across two processes handing a token back and forth
 * - the vDSO's realtime agrees with time(2) and gettimeofday(2) within a
 *   second; clock_getres agrees with the syscall
 * - clocks the vDSO cannot serve (CPU-time clocks) still work through it;
 *   an unknown clock gives -EINVAL (raw syscall convention)
 * - getcpu gives a CPU the process may run on
 * - a forked child and an exec'd image have a working vDSO
 */
#define _GNU_SOURCE
#include "t.h"
#include <elf.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef int (*clock_getres_fn)(clockid_t, struct timespec *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static clock_gettime_fn vgettime;

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* vdso_sym returns the address of name@LINUX_2.6 in the vDSO at base. */
static void *vdso_sym(uintptr_t base, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	uintptr_t bias = 0;
	const Elf64_Dyn *dyn = NULL;
	int have_load = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			bias = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = 1;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return NULL;
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf64_Word *hash = NULL, *gnuhash = NULL;
	const Elf64_Half *versym = NULL;
	const Elf64_Verdef *verdef = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = bias + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: sym = (const Elf64_Sym *)p; break;
		case DT_STRTAB: str = (const char *)p; break;
		case DT_HASH: hash = (const Elf64_Word *)p; break;
		case DT_GNU_HASH: gnuhash = (const Elf64_Word *)p; break;
		case DT_VERSYM: versym = (const Elf64_Half *)p; break;
		case DT_VERDEF: verdef = (const Elf64_Verdef *)p; break;
		}
	}
	if (!sym || !str || (!hash && !gnuhash))
		return NULL;
	/* The number of symbols: DT_HASH's nchain, or the end of the last
	 * GNU hash chain. */
	unsigned long nsym = 0;
	if (hash) {
		nsym = hash[1];
	} else {
		Elf64_Word nbuckets = gnuhash[0], symoff = gnuhash[1], bloom = gnuhash[2];
		const Elf64_Word *buckets = gnuhash + 4 + bloom * 2;
		const Elf64_Word *chain = buckets + nbuckets;
		for (Elf64_Word b = 0; b < nbuckets; b++)
			if (buckets[b] >= nsym)
				nsym = buckets[b];
		if (nsym >= symoff)
			while (!(chain[nsym - symoff] & 1))
				nsym++;
		nsym++;
	}
	for (unsigned long i = 1; i < nsym; i++) {
		if (strcmp(str + sym[i].st_name, name) != 0 || sym[i].st_shndx == SHN_UNDEF)
			continue;
		if (versym && verdef) {
			const Elf64_Verdef *d = verdef;
			int match = 0;
			for (;;) {
				const Elf64_Verdaux *a = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
				if ((d->vd_ndx & 0x7fff) == (versym[i] & 0x7fff) && strcmp(str + a->vda_name, "LINUX_2.6") == 0)
					match = 1;
				if (!d->vd_next)
					break;
				d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
			}
			if (!match)
				continue;
		}
		return (void *)(bias + sym[i].st_value);
	}
	return NULL;
}

static int maps_has(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *e = line + strlen(line);
		while (e > line && (e[-1] == '\n' || e[-1] == ' '))
			*--e = 0;
		size_t n = strlen(name);
		if ((size_t)(e - line) > n && strcmp(e - n, name) == 0 && e[-(long)n - 1] == ' ')
			found = 1;
	}
	fclose(f);
	return found;
}

/* interleave reads CLOCK_MONOTONIC alternately through the vDSO and the
 * raw syscall n times and reports whether it ever went backwards. */
static int interleave(int n)
{
	struct timespec a, b;
	long long last = 0;
	int ok = 1;

	for (int i = 0; i < n; i++) {
		vgettime(CLOCK_MONOTONIC, &a);
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
		ok &= ns(a) >= last && ns(b) >= ns(a);
		last = ns(b);
	}
	return ok;
}

/*
 * Token passing: the side whose turn it is reads CLOCK_MONOTONIC (one side
 * through the vDSO, the other through the syscall), checks that it is not
 * before the other side's last reading, publishes its own and passes the
 * turn. Used between threads and between processes (shared memory).
 */
struct relay {
	_Atomic int turn;
	_Atomic long long last;
	_Atomic int bad;
};

static void relay_run(struct relay *r, int me, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		while (atomic_load(&r->turn) != me)
			sched_yield();
		struct timespec ts;
		if (me == 0)
			vgettime(CLOCK_MONOTONIC, &ts);
		else
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		if (ns(ts) < atomic_load(&r->last))
			atomic_store(&r->bad, 1);
		atomic_store(&r->last, ns(ts));
		atomic_store(&r->turn, 1 - me);
	}
}

static void *relay_thread(void *arg)
{
	relay_run(arg, 1, 300);
	return NULL;
}

static int exec_child(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	clock_gettime_fn f = base ? (clock_gettime_fn)vdso_sym(base, "__vdso_clock_gettime") : NULL;
	struct timespec ts = {0, 0};

	CHECK("exec: vDSO found", f != NULL);
	CHECK("exec: vDSO clock_gettime", f && f(CLOCK_MONOTONIC, &ts) == 0 && ns(ts) > 0);
	return t_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return exec_child();

	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	CHECK("AT_SYSINFO_EHDR set", base != 0);
	if (!base)
		return t_done();
	CHECK("ELF header there", memcmp((void *)base, ELFMAG, SELFMAG) == 0 &&
				       ((Elf64_Ehdr *)base)->e_type == ET_DYN);
	CHECK("maps lists [vdso]", maps_has("[vdso]"));
	CHECK("maps lists [vvar]", maps_has("[vvar]"));

	vgettime = vdso_sym(base, "__vdso_clock_gettime");
	gettimeofday_fn vtod = vdso_sym(base, "__vdso_gettimeofday");
	time_fn vtime = vdso_sym(base, "__vdso_time");
	clock_getres_fn vres = vdso_sym(base, "__vdso_clock_getres");
	getcpu_fn vcpu = vdso_sym(base, "__vdso_getcpu");
	CHECK("__vdso_clock_gettime@LINUX_2.6", vgettime != NULL);
	CHECK("__vdso_gettimeofday@LINUX_2.6", vtod != NULL);
	CHECK("__vdso_time@LINUX_2.6", vtime != NULL);
	CHECK("__vdso_clock_getres@LINUX_2.6", vres != NULL);
	CHECK("__vdso_getcpu@LINUX_2.6", vcpu != NULL);
	CHECK("no such symbol", vdso_sym(base, "__vdso_nonexistent") == NULL);
	if (!vgettime || !vtod || !vtime || !vres || !vcpu)
		return t_done();

	struct timespec a, b;
	CHECK("vDSO monotonic", vgettime(CLOCK_MONOTONIC, &a) == 0 && ns(a) > 0 &&
					 a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
	CHECK("vDSO and syscall monotonic interleaved never go back", interleave(20000));

	/* glibc's clock_gettime (through the vDSO, in a static binary since
	 * glibc 2.31) agrees too. */
	int ok = 1;
	for (int i = 0; i < 2000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		vgettime(CLOCK_MONOTONIC, &b);
		ok &= ns(b) >= ns(a);
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
		ok &= ns(a) >= ns(b);
	}
	CHECK("glibc, vDSO and syscall monotonic agree", ok);

	struct timeval tv;
	struct timespec rt;
	CHECK("vDSO realtime", vgettime(CLOCK_REALTIME, &rt) == 0);
	CHECK("vDSO gettimeofday", vtod(&tv, NULL) == 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	time_t tt = 0;
	time_t vt = vtime(&tt);
	long st = syscall(SYS_time, NULL);
	struct timeval stv;
	syscall(SYS_gettimeofday, &stv, NULL);
	CHECK("vDSO time stores its value", vt == tt);
	CHECK("vDSO realtime ~ time(2)", st - rt.tv_sec >= 0 && st - rt.tv_sec <= 1);
	CHECK("vDSO time ~ time(2)", st - vt >= 0 && st - vt <= 1);
	CHECK("vDSO gettimeofday ~ gettimeofday(2)", stv.tv_sec - tv.tv_sec >= 0 && stv.tv_sec - tv.tv_sec <= 1);
	CHECK("vDSO realtime after 2020", rt.tv_sec > 1577836800);
	CHECK("vDSO time(NULL)", vtime(NULL) >= vt);

	static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
					   CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
					   CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
	ok = 1;
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct timespec r1 = {-1, -1}, r2 = {-2, -2};
		ok &= vres(clocks[i], &r1) == 0;
		ok &= syscall(SYS_clock_getres, clocks[i], &r2) == 0;
		ok &= r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec;
		ok &= vres(clocks[i], NULL) == 0;
	}
	CHECK("vDSO clock_getres agrees with the syscall", ok);
	CHECK("vDSO clock_getres bad clock -> -EINVAL", vres(12345, &a) == -EINVAL);

	ok = 1;
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++)
		ok &= vgettime(clocks[i], &a) == 0 && a.tv_nsec >= 0 && a.tv_nsec < 1000000000;
	CHECK("vDSO serves every clock", ok);
	CHECK("vDSO CPU-time clock (syscall fallback)",
	      vgettime(CLOCK_PROCESS_CPUTIME_ID, &a) == 0 && ns(a) > 0);
	CHECK("vDSO clock_gettime bad clock -> -EINVAL", vgettime(12345, &a) == -EINVAL);
	CHECK("vDSO clock_gettime negative clock -> -EINVAL", vgettime(-1000, &a) == -EINVAL);
	vgettime(CLOCK_MONOTONIC, &a);
	syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &rt);
	CHECK("monotonic <= boottime", ns(a) <= ns(rt));

	cpu_set_t set;
	unsigned cpu = ~0u, node = ~0u;
	CPU_ZERO(&set);
	MUST("sched_getaffinity", sched_getaffinity(0, sizeof set, &set));
	CHECK("vDSO getcpu", vcpu(&cpu, &node, NULL) == 0);
	CHECK("vDSO getcpu is a CPU we may run on", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
	CHECK("vDSO getcpu NULL args", vcpu(NULL, NULL, NULL) == 0);

	/* Across threads and across processes. */
	struct relay *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", r == MAP_FAILED ? -1 : 0);
	pthread_t th;
	MUST("pthread_create", pthread_create(&th, NULL, relay_thread, r) ? -1 : 0);
	relay_run(r, 0, 300);
	pthread_join(th, NULL);
	CHECK("threads: vDSO and syscall readings in order", !atomic_load(&r->bad));

	atomic_store(&r->turn, 0);
	atomic_store(&r->bad, 0);
	struct timespec before;
	vgettime(CLOCK_MONOTONIC, &before);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		struct timespec c;
		int good = vgettime(CLOCK_MONOTONIC, &c) == 0 && ns(c) >= ns(before) && interleave(2000);
		relay_run(r, 1, 300);
		_exit(good ? 0 : 1);
	}
	relay_run(r, 0, 300);
	int status;
	MUST("waitpid", waitpid(pid, &status, 0));
	CHECK("forked child's vDSO works", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK("processes: vDSO and syscall readings in order", !atomic_load(&r->bad));

	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
		_exit(127);
	}
	MUST("waitpid", waitpid(pid, &status, 0));
	CHECK("exec'd image's vDSO works", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return t_done();
}
