/*
 * sysv_shm: System V shared memory (shmget, shmat, shmdt, shmctl), run in
 * a fresh IPC namespace.
 * - shmget: IPC_PRIVATE always creates; a key finds its segment, EEXIST
 *   with IPC_CREAT|IPC_EXCL, ENOENT without IPC_CREAT, EINVAL for a
 *   larger size or a size of 0
 * - IPC_STAT: size, mode, creator/last pids, attach count, key
 * - shmat: zeroed memory, shared between attaches, with a forked child
 *   (which inherits the attaches) and across exec (which drops them);
 *   SHM_RDONLY faults on write and cannot be mprotect'ed writable;
 *   addresses: aligned, SHM_RND, EINVAL unaligned or overlapping,
 *   SHM_REMAP replaces; the tail of the last page is usable
 * - shmdt: by start address, EINVAL otherwise; counts follow detaches,
 *   exit and exec
 * - IPC_RMID while attached: the key is gone, the segment lives on
 *   (SHM_DEST) until the last detach
 * - IPC_SET, SHM_LOCK/SHM_UNLOCK, IPC_INFO, SHM_INFO, SHM_STAT;
 *   /proc/self/maps names the mapping /SYSV<key> (deleted)
 */
#include "t.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

static sigjmp_buf jb;
static volatile int got;

static void on_segv(int sig)
{
	got = sig;
	siglongjmp(jb, 1);
}

static int faults(volatile char *p, int write)
{
	got = 0;
	if (sigsetjmp(jb, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	return got;
}

static long nattch(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) != 0)
		return -errno;
	return (long)ds.shm_nattch;
}

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static int maps_has(const char *s)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, s))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct shmid_ds ds;

	if (argc == 3 && strcmp(argv[1], "exec-check") == 0) {
		/* Run by exec: the exec'ing child's attaches are gone. */
		return (int)nattch(atoi(argv[2]));
	}
	signal(SIGSEGV, on_segv);

	int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
	CHECK("shmget IPC_PRIVATE", id >= 0);
	SYSOK("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	CHECK("segsz, mode, key", ds.shm_segsz == 10000 && (ds.shm_perm.mode & 0777) == 0600 && ds.shm_perm.__key == 0);
	CHECK("owner and creator are us", ds.shm_perm.uid == getuid() && ds.shm_perm.cuid == getuid() &&
	      ds.shm_perm.gid == getgid() && ds.shm_perm.cgid == getgid());
	CHECK("cpid us, lpid 0, not attached", ds.shm_cpid == getpid() && ds.shm_lpid == 0 && ds.shm_nattch == 0);
	CHECK("no attach or detach time yet", ds.shm_atime == 0 && ds.shm_dtime == 0 && ds.shm_ctime != 0);

	char *a = shmat(id, NULL, 0);
	CHECK("shmat", a != (void *)-1 && ((unsigned long)a & (pg - 1)) == 0);
	CHECK("zeroed", a[0] == 0 && a[9999] == 0);
	shmctl(id, IPC_STAT, &ds);
	CHECK("attached once, lpid us, atime set", ds.shm_nattch == 1 && ds.shm_lpid == getpid() && ds.shm_atime != 0);
	strcpy(a, "segment");
	char *b = shmat(id, NULL, 0);
	CHECK("second attach elsewhere", b != (void *)-1 && b != a);
	CHECK("same memory", strcmp(b, "segment") == 0);
	EXPECT_EQ("nattch 2", nattch(id), 2);
	EXPECT_EQ("tail of the last page usable", faults(a + 12287, 1), 0);

	/* Fork: the child inherits both attaches. */
	pid_t c = fork();
	if (c == 0) {
		int ok = nattch(id) == 4 && strcmp(a, "segment") == 0;
		strcpy(b + 100, "from child");
		shmdt(a);
		ok = ok && nattch(id) == 3;
		_exit(ok ? 0 : 1);
	}
	EXPECT_EQ("child sees 4 attaches, detaches one", child_status(c), 0);
	CHECK("child store visible", strcmp(a + 100, "from child") == 0);
	EXPECT_EQ("child's exit detached the rest", nattch(id), 2);
	shmctl(id, IPC_STAT, &ds);
	CHECK("detach recorded", ds.shm_dtime != 0);

	/* exec drops the attaches of the exec'ing process. */
	c = fork();
	if (c == 0) {
		char idbuf[16];
		shmat(id, NULL, 0);
		snprintf(idbuf, sizeof idbuf, "%d", id);
		execl(argv[0], argv[0], "exec-check", idbuf, (char *)NULL);
		_exit(100);
	}
	EXPECT_EQ("after exec only the parent's 2 remain", child_status(c), 2);

	/* shmdt. */
	EXPECT_ERRNO("shmdt unaligned -> EINVAL", shmdt(a + 1), EINVAL);
	EXPECT_ERRNO("shmdt of a non-segment -> EINVAL", shmdt(&ds), EINVAL);
	SYSOK("shmdt", shmdt(b));
	EXPECT_EQ("nattch 1", nattch(id), 1);
	EXPECT_ERRNO("shmdt twice -> EINVAL", shmdt(b), EINVAL);
	EXPECT_EQ("detached memory faults", faults(b, 0), SIGSEGV);

	/* MADV_REMOVE on an attach frees the segment's pages. */
	strcpy(a + pg, "second page");
	SYSOK("MADV_REMOVE", madvise(a + pg, pg, MADV_REMOVE));
	CHECK("zeros after MADV_REMOVE", a[pg] == 0 && strcmp(a, "segment") == 0);

	/* Read-only attach. */
	char *r = shmat(id, NULL, SHM_RDONLY);
	CHECK("SHM_RDONLY attach reads", r != (void *)-1 && strcmp(r, "segment") == 0);
	EXPECT_EQ("write to SHM_RDONLY faults", faults(r, 1), SIGSEGV);
	EXPECT_ERRNO("mprotect writable -> EACCES", mprotect(r, pg, PROT_READ | PROT_WRITE), EACCES);
	shmdt(r);

	/* Addresses. */
	char *hole = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 8 * pg);
	char *f = shmat(id, hole, 0);
	CHECK("attach at a free aligned address", f == hole);
	shmdt(f);
	f = shmat(id, hole + 5, SHM_RND);
	CHECK("SHM_RND rounds down", f == hole);
	shmdt(f);
	EXPECT_ERRNO("unaligned without SHM_RND -> EINVAL", (long)shmat(id, hole + 5, 0), EINVAL);
	char *m = mmap(hole, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT_ERRNO("overlapping a mapping -> EINVAL", (long)shmat(id, m, 0), EINVAL);
	f = shmat(id, m, SHM_REMAP);
	CHECK("SHM_REMAP replaces it", f == m && strcmp(f, "segment") == 0);
	shmdt(f);
	EXPECT_ERRNO("SHM_REMAP without address -> EINVAL", (long)shmat(id, NULL, SHM_REMAP), EINVAL);
	EXPECT_ERRNO("bad id -> EINVAL", (long)shmat(id + 1, NULL, 0), EINVAL);
	EXPECT_ERRNO("negative id -> EINVAL", (long)shmat(-1, NULL, 0), EINVAL);

	/* Keys. */
	key_t key = 0x5a5a0001;
	int k = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640);
	CHECK("shmget key IPC_CREAT|IPC_EXCL", k >= 0 && k != id);
	EXPECT_EQ("lookup by key", shmget(key, 0, 0), k);
	EXPECT_EQ("IPC_CREAT finds it", shmget(key, 100, IPC_CREAT | 0600), k);
	EXPECT_ERRNO("IPC_CREAT|IPC_EXCL again -> EEXIST", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERRNO("larger than the segment -> EINVAL", shmget(key, 8192, 0), EINVAL);
	EXPECT_ERRNO("unknown key -> ENOENT", shmget(0x5a5a0002, 4096, 0), ENOENT);
	EXPECT_ERRNO("size 0 -> EINVAL", shmget(0x5a5a0002, 0, IPC_CREAT | 0600), EINVAL);
	char *ka = shmat(k, NULL, 0);
	char name[64];
	snprintf(name, sizeof name, "/SYSV%08x (deleted)", key);
	CHECK("maps names it /SYSV<key> (deleted)", maps_has(name));

	/* IPC_RMID while attached. */
	SYSOK("IPC_RMID while attached", shmctl(k, IPC_RMID, NULL));
	EXPECT_ERRNO("key gone", shmget(key, 0, 0), ENOENT);
	shmctl(k, IPC_STAT, &ds);
	CHECK("marked SHM_DEST, key private", (ds.shm_perm.mode & SHM_DEST) && ds.shm_perm.__key == 0 && ds.shm_nattch == 1);
	strcpy(ka, "still here");
	char *ka2 = shmat(k, NULL, 0);
	CHECK("a removed segment can still be attached", ka2 != (void *)-1 && strcmp(ka2, "still here") == 0);
	shmdt(ka2);
	int k2 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	CHECK("the key makes a new segment", k2 >= 0 && k2 != k);
	shmdt(ka);
	EXPECT_ERRNO("destroyed with the last detach", shmctl(k, IPC_STAT, &ds), EINVAL);

	/* IPC_SET, SHM_LOCK. */
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0604;
	SYSOK("IPC_SET", shmctl(id, IPC_SET, &ds));
	shmctl(id, IPC_STAT, &ds);
	EXPECT_EQ("mode changed", ds.shm_perm.mode & 0777, 0604);
	SYSOK("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
	shmctl(id, IPC_STAT, &ds);
	CHECK("SHM_LOCKED set", ds.shm_perm.mode & SHM_LOCKED);
	SYSOK("SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
	shmctl(id, IPC_STAT, &ds);
	CHECK("SHM_LOCKED clear", !(ds.shm_perm.mode & SHM_LOCKED));
	EXPECT_ERRNO("bad cmd -> EINVAL", shmctl(id, 99, &ds), EINVAL);
	EXPECT_ERRNO("IPC_STAT bad buffer -> EFAULT", shmctl(id, IPC_STAT, (void *)8), EFAULT);
	EXPECT_ERRNO("IPC_STAT negative id -> EINVAL", shmctl(-1, IPC_STAT, &ds), EINVAL);

	/* Namespace-wide info. */
	struct shminfo si;
	int mx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
	CHECK("IPC_INFO limits", mx >= 0 && si.shmmin == 1 && si.shmmni == 4096 && si.shmseg == 4096 &&
	      si.shmmax == 0xfffffffffeffffffUL && si.shmall == 0xfffffffffeffffffUL);
	struct shm_info sinfo;
	int mx2 = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
	EXPECT_EQ("SHM_INFO and IPC_INFO agree on the max index", mx2, mx);
	EXPECT_EQ("SHM_INFO used_ids", sinfo.used_ids, 2);
	EXPECT_EQ("SHM_INFO shm_tot pages", sinfo.shm_tot, 3 + 1);
	EXPECT_EQ("SHM_INFO resident pages", sinfo.shm_rss, 3);
	int sid = shmctl(mx, SHM_STAT, &ds);
	CHECK("SHM_STAT by index returns an id", sid == id || sid == k2);

	shmctl(k2, IPC_RMID, NULL);
	SYSOK("IPC_RMID", shmctl(id, IPC_RMID, NULL));
	EXPECT_EQ("attached segment stays until detach", nattch(id), 1);
	shmdt(a);
	EXPECT_ERRNO("gone after the last detach", shmctl(id, IPC_STAT, &ds), EINVAL);
	shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
	EXPECT_EQ("SHM_INFO empty", sinfo.used_ids, 0);
	return t_done();
}
