/*
 * tmpfs_mmap_shared: mappings of a tmpfs file (in /dev/shm, a tmpfs both
 * natively and in the sandbox) share the file's pages with read(2) and
 * write(2), shmem-style.
 * - MAP_SHARED stores are seen by read(2) and by a second shared mapping;
 *   write(2) is seen by both
 * - MAP_PRIVATE shows write(2) on pages it has not written; its own writes
 *   stay private, and after one the page no longer follows the file
 * - a shared mapping is shared with a forked child, both ways
 * - touching a page wholly past EOF raises SIGBUS (BUS_ADRERR); the page
 *   holding EOF is accessible and reads zeros past it
 * - ftruncate shrinking a mapped file makes the cut pages SIGBUS (shared
 *   and private mappings) and zeroes the tail of the last page; growing it
 *   again makes them readable zeros
 * - FALLOC_FL_PUNCH_HOLE and MADV_REMOVE free pages: zeros through read(2)
 *   and every shared mapping, private copies kept; MADV_REMOVE on private
 *   mappings -> EACCES (file) or EINVAL (anonymous)
 * - a mapping keeps an unlinked, closed file's data
 * - st_blocks counts pages faulted in through a mapping
 * - msync MS_SYNC/MS_ASYNC/MS_INVALIDATE succeed; bad flags, unaligned
 *   address -> EINVAL; unmapped range -> ENOMEM
 */
#include "t.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	siglongjmp(jb, 1);
}

/* touch reads (or writes) *p and returns the signal it raised, or 0. */
static int touch(volatile char *p, int write)
{
	got_sig = 0;
	got_code = 0;
	if (sigsetjmp(jb, 1) == 0) {
		if (write)
			*p = 'x';
		else
			(void)*p;
	}
	return got_sig;
}

static char dir[64];

static void cleanup(void)
{
	t_rmtree(dir);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char buf[32];
	struct stat st;

	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	strcpy(dir, "/dev/shm/tmpfs_mmap.XXXXXX");
	if (!mkdtemp(dir)) {
		t_fail("setup mkdtemp: errno=%s", t_errname(errno));
		return 2;
	}
	atexit(cleanup);
	MUST("chdir", chdir(dir));

	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0600);
	MUST("open", fd);
	MUST("ftruncate", ftruncate(fd, 2 * pg));

	char *s1 = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *s2 = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *pr = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("three mappings", s1 != MAP_FAILED && s2 != MAP_FAILED && pr != MAP_FAILED);

	memcpy(s1, "shared", 6);
	CHECK("store seen by read(2)", pread(fd, buf, 6, 0) == 6 && memcmp(buf, "shared", 6) == 0);
	CHECK("store seen by second mapping", memcmp(s2, "shared", 6) == 0);
	CHECK("store seen by untouched private mapping", memcmp(pr, "shared", 6) == 0);
	CHECK("pwrite", pwrite(fd, "WRITE", 5, pg) == 5);
	CHECK("write(2) seen by shared mappings", memcmp(s1 + pg, "WRITE", 5) == 0 && memcmp(s2 + pg, "WRITE", 5) == 0);
	CHECK("write(2) seen by private mapping", memcmp(pr + pg, "WRITE", 5) == 0);

	memcpy(pr, "PRIV", 4);
	CHECK("private store stays private",
	      pread(fd, buf, 6, 0) == 6 && memcmp(buf, "shared", 6) == 0 && memcmp(s1, "shared", 6) == 0);
	CHECK("pwrite page 0", pwrite(fd, "again", 5, 0) == 5);
	CHECK("copied private page no longer follows the file", memcmp(pr, "PRIVed", 6) == 0);
	CHECK("other private page still follows", pwrite(fd, "w2", 2, pg) == 2 && memcmp(pr + pg, "w2ITE", 5) == 0);

	/* Fork: the child writes, the parent sees; and back. */
	pid_t c = fork();
	if (c == 0) {
		memcpy(s1 + 100, "child", 5);
		for (int i = 0; i < 2000 && s1[200] != 'P'; i++)
			usleep(1000);
		_exit(s1[200] == 'P' ? 0 : 1);
	}
	for (int i = 0; i < 2000 && s1[100] != 'c'; i++)
		usleep(1000);
	CHECK("child store seen by parent", memcmp(s1 + 100, "child", 5) == 0);
	s1[200] = 'P';
	int ws;
	waitpid(c, &ws, 0);
	CHECK("parent store seen by child", WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* st_blocks: both pages were faulted or written. */
	fstat(fd, &st);
	EXPECT_EQ("st_blocks after faults", st.st_blocks, 2 * pg / 512);

	/* Past EOF. */
	char *big = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("map beyond EOF", big != MAP_FAILED);
	EXPECT_EQ("read past EOF page -> SIGBUS", touch(big + 2 * pg, 0), SIGBUS);
	EXPECT_EQ("si_code BUS_ADRERR", got_code, BUS_ADRERR);
	EXPECT_EQ("write past EOF page -> SIGBUS", touch(big + 3 * pg + 7, 1), SIGBUS);
	fstat(fd, &st);
	EXPECT_EQ("SIGBUS did not grow the file", st.st_size, 2 * pg);

	/* Shrink to 1.5 pages: page 1 keeps its head, loses its tail. */
	MUST("ftruncate shrink", ftruncate(fd, pg + pg / 2));
	EXPECT_EQ("page holding EOF readable", touch(s1 + pg, 0), 0);
	CHECK("tail past EOF zeroed", s1[pg + pg / 2] == 0 && s1[2 * pg - 1] == 0);
	CHECK("head kept", memcmp(s1 + pg, "w2ITE", 5) == 0);
	MUST("ftruncate to one page", ftruncate(fd, pg));
	EXPECT_EQ("cut page in shared mapping -> SIGBUS", touch(s1 + pg, 0), SIGBUS);
	EXPECT_EQ("cut page in other shared mapping -> SIGBUS", touch(s2 + pg + 1, 1), SIGBUS);
	EXPECT_EQ("cut page in private mapping -> SIGBUS", touch(pr + pg, 0), SIGBUS);
	EXPECT_EQ("page 0 still fine", touch(s1, 0), 0);
	CHECK("page 0 contents", memcmp(s1, "again", 5) == 0);
	MUST("ftruncate grow", ftruncate(fd, 2 * pg));
	EXPECT_EQ("regrown page readable", touch(s2 + pg, 0), 0);
	CHECK("regrown page is zeros", s2[pg] == 0 && s2[pg + 4] == 0 && s1[pg] == 0);
	fstat(fd, &st);
	EXPECT_EQ("st_blocks after shrink and regrow", st.st_blocks, 2 * pg / 512);

	/* Punching a hole: freed pages read zeros everywhere, private copies
	 * survive, partial pages are zeroed in the range only. */
	char *pc = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	MUST("pwrite page 1", pwrite(fd, "page one", 8, pg));
	MUST("pwrite page 0", pwrite(fd, "zero", 4, 0));
	pc[pg + 1] = 'P';	/* private copy of page 1 */
	CHECK("private mapping follows page 0", memcmp(pc, "zero", 4) == 0);
	SYSOK("fallocate PUNCH_HOLE page 1 and part of page 0",
	      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 2 * pg - 2));
	fstat(fd, &st);
	CHECK("size kept, one page left", st.st_size == 2 * pg && st.st_blocks == pg / 512);
	CHECK("hole reads zeros via read(2)", pread(fd, buf, 8, pg) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0);
	CHECK("and via the shared mappings", s1[pg] == 0 && s2[pg + 3] == 0);
	CHECK("partial page zeroed from the offset on", memcmp(s1, "ze\0\0", 4) == 0);
	CHECK("private copy kept", memcmp(pc + pg, "pPge one", 8) == 0);
	CHECK("private untouched page follows the file", memcmp(pc, "ze\0\0", 4) == 0);
	EXPECT_ERRNO("PUNCH_HOLE without KEEP_SIZE -> EOPNOTSUPP", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, pg), EOPNOTSUPP);
	MUST("pwrite page 1 again", pwrite(fd, "again 1", 7, pg));
	SYSOK("MADV_REMOVE on a shared mapping", madvise(s1 + pg, pg, MADV_REMOVE));
	fstat(fd, &st);
	EXPECT_EQ("MADV_REMOVE freed the page", st.st_blocks, pg / 512);
	CHECK("removed page reads zeros", s2[pg] == 0 && pread(fd, buf, 7, pg) == 7 && buf[0] == 0);
	EXPECT_ERRNO("MADV_REMOVE on a private file mapping -> EACCES", madvise(pc, pg, MADV_REMOVE), EACCES);
	char *anon = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERRNO("MADV_REMOVE on private anonymous memory -> EINVAL", madvise(anon, pg, MADV_REMOVE), EINVAL);
	munmap(anon, pg);
	munmap(pc, 2 * pg);

	/* msync. */
	SYSOK("msync MS_SYNC", msync(s1, 2 * pg, MS_SYNC));
	SYSOK("msync MS_ASYNC", msync(s1, pg, MS_ASYNC));
	SYSOK("msync MS_INVALIDATE", msync(s1, pg, MS_INVALIDATE));
	SYSOK("msync length 0", msync(s1, 0, MS_SYNC));
	EXPECT_ERRNO("msync MS_SYNC|MS_ASYNC -> EINVAL", msync(s1, pg, MS_SYNC | MS_ASYNC), EINVAL);
	EXPECT_ERRNO("msync bad flag -> EINVAL", msync(s1, pg, 0x100), EINVAL);
	EXPECT_ERRNO("msync unaligned -> EINVAL", msync(s1 + 1, pg, MS_SYNC), EINVAL);
	munmap(big, 4 * pg);
	EXPECT_ERRNO("msync unmapped -> ENOMEM", msync(big, pg, MS_SYNC), ENOMEM);

	/* Unlink and close: the mapping keeps the data. */
	munmap(s2, 2 * pg);
	munmap(pr, 2 * pg);
	MUST("unlink", unlink("f"));
	close(fd);
	memcpy(s1 + 10, "alive", 5);
	CHECK("unlinked file's mapping works", memcmp(s1 + 10, "alive", 5) == 0 && memcmp(s1, "ze", 2) == 0);
	SYSOK("munmap", munmap(s1, 2 * pg));

	/* MAP_SHARED of an O_RDONLY fd: PROT_WRITE refused, later too. */
	fd = open("g", O_RDWR | O_CREAT, 0600);
	MUST("open g", fd);
	MUST("write g", write(fd, "readonly", 8));
	int ro = open("g", O_RDONLY);
	char *r = mmap(NULL, pg, PROT_READ, MAP_SHARED, ro, 0);
	CHECK("shared read-only map", r != MAP_FAILED && memcmp(r, "readonly", 8) == 0);
	EXPECT_ERRNO("mprotect PROT_WRITE on O_RDONLY shared map -> EACCES", mprotect(r, pg, PROT_READ | PROT_WRITE), EACCES);
	CHECK("pwrite", pwrite(fd, "R", 1, 0) == 1);
	CHECK("read-only mapping follows writes", r[0] == 'R');
	munmap(r, pg);
	close(ro);
	close(fd);
	return t_done();
}
