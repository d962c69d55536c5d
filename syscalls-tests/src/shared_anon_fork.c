/*
 * shared_anon_fork: MAP_SHARED|MAP_ANONYMOUS memory (and MAP_SHARED of
 * /dev/zero) is one object shared by every process that inherits it.
 * - stores by a child are seen by the parent and vice versa, including a
 *   grandchild; private anonymous memory stays copy-on-write beside it
 * - a child's munmap or exit leaves the parent's mapping intact
 * - MADV_DONTNEED on a shared mapping keeps the data; MADV_REMOVE in a
 *   child frees it for the parent too
 * - a process-shared semaphore (futex on shared memory) wakes a blocked
 *   child from the parent
 * - mremap growing a shared mapping past its object: SIGBUS there
 * - an exec'ing child does not affect the parent's shared mapping
 */
#include "t.h"
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static sigjmp_buf jb;
static volatile int got_sig;

static void on_sig(int sig)
{
	got_sig = sig;
	siglongjmp(jb, 1);
}

static int wait_ok(pid_t c)
{
	int ws;
	return waitpid(c, &ws, 0) == c && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

static void spin_until(volatile int *p, int v)
{
	for (int i = 0; i < 5000 && *p != v; i++)
		usleep(1000);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	signal(SIGBUS, on_sig);

	volatile int *sh = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	volatile int *pv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap shared and private", sh != MAP_FAILED && pv != MAP_FAILED);
	CHECK("shared memory starts zeroed", sh[0] == 0 && sh[pg / 4] == 0);
	sh[0] = 1;
	pv[0] = 1;

	pid_t c = fork();
	if (c == 0) {
		int ok = sh[0] == 1 && pv[0] == 1;
		sh[1] = 42;	 /* parent must see this */
		pv[0] = 99;	 /* parent must not */
		sh[pg / 4] = 7;	 /* a page nobody touched yet */
		pid_t g = fork();
		if (g == 0) {
			sh[2] = 43;
			_exit(0);
		}
		ok = ok && wait_ok(g) && sh[2] == 43;
		_exit(ok ? 0 : 1);
	}
	CHECK("child saw inherited values", wait_ok(c));
	CHECK("child store visible to parent", sh[1] == 42);
	CHECK("grandchild store visible to parent", sh[2] == 43);
	CHECK("child store to untouched page visible", sh[pg / 4] == 7);
	CHECK("private memory stayed private", pv[0] == 1);

	/* The child unmaps its copy and exits: ours must survive. */
	c = fork();
	if (c == 0) {
		munmap((void *)sh, 4 * pg);
		_exit(0);
	}
	CHECK("child munmap", wait_ok(c));
	sh[3] = 5;
	CHECK("parent mapping survives child's munmap", sh[1] == 42 && sh[3] == 5);

	/* Parent writes while a child watches. */
	c = fork();
	if (c == 0) {
		spin_until(&sh[4], 1);
		sh[5] = sh[4] == 1 ? 2 : -1;
		_exit(0);
	}
	sh[4] = 1;
	CHECK("child saw parent's later store", wait_ok(c) && sh[5] == 2);

	SYSOK("madvise MADV_DONTNEED on shared memory", madvise((void *)sh, 4 * pg, MADV_DONTNEED));
	CHECK("shared data kept after MADV_DONTNEED", sh[1] == 42 && sh[pg / 4] == 7);

	/* MADV_REMOVE frees the pages for everyone. */
	c = fork();
	if (c == 0) {
		if (madvise((void *)sh, 2 * pg, MADV_REMOVE) != 0)
			_exit(1);
		_exit(sh[1] == 0 ? 0 : 2);
	}
	CHECK("child's MADV_REMOVE", wait_ok(c));
	CHECK("parent reads zeros after it", sh[1] == 0 && sh[pg / 4] == 0);
	sh[1] = 42;

	/* A process-shared semaphore in shared memory. */
	sem_t *sem = (sem_t *)((char *)sh + 2 * pg);
	MUST("sem_init", sem_init(sem, 1, 0));
	c = fork();
	if (c == 0) {
		sh[6] = 1;
		int r = sem_wait(sem);
		sh[7] = r == 0 ? 3 : -1;
		_exit(0);
	}
	spin_until(&sh[6], 1);
	usleep(50000);
	CHECK("child blocked in sem_wait", sh[7] == 0);
	SYSOK("sem_post", sem_post(sem));
	CHECK("sem_post woke the child", wait_ok(c) && sh[7] == 3);

	/* exec in a child drops its copy; ours stays. */
	c = fork();
	if (c == 0) {
		sh[8] = 9;
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	CHECK("exec'ing child", wait_ok(c));
	CHECK("mapping intact after child exec", sh[8] == 9 && sh[1] == 42);

	/* /dev/zero, shared. */
	int z = open("/dev/zero", O_RDWR);
	volatile int *zs = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	close(z);
	CHECK("MAP_SHARED /dev/zero", zs != MAP_FAILED && zs[0] == 0);
	c = fork();
	if (c == 0) {
		zs[0] = 11;
		_exit(0);
	}
	CHECK("/dev/zero shared with child", wait_ok(c) && zs[0] == 11);

	/* Growing a shared mapping past its object. */
	volatile char *g = mremap((void *)zs, pg, 2 * pg, MREMAP_MAYMOVE);
	CHECK("mremap grow shared", g != MAP_FAILED);
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)g[pg];
	EXPECT_EQ("access past the object -> SIGBUS", got_sig, SIGBUS);
	CHECK("old part intact", ((volatile int *)g)[0] == 11);
	SYSOK("munmap", munmap((void *)sh, 4 * pg));
	return t_done();
}
