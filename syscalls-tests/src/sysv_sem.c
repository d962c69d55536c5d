/*
 * sysv_sem: System V semaphores (semget, semop, semtimedop, semctl), run in
 * a fresh IPC namespace.
 * - semget: nsems limits (EINVAL), keys (EEXIST, ENOENT, EINVAL for more
 *   semaphores than the set has)
 * - semctl: GETVAL/SETVAL (ERANGE, EINVAL for the index), GETALL/SETALL,
 *   GETPID, GETNCNT/GETZCNT of blocked callers, IPC_STAT/IPC_SET/IPC_RMID,
 *   IPC_INFO/SEM_INFO
 * - semop: all-or-nothing, IPC_NOWAIT (EAGAIN), ERANGE above SEMVMX,
 *   EFBIG, E2BIG, EINVAL; blocking until another process makes it
 *   possible; semtimedop timeout (EAGAIN) and bad timeout (EINVAL); EIDRM
 *   when the set is removed under a waiter; a signal interrupts with EINTR
 *   even with SA_RESTART
 * - SEM_UNDO: a process's adjustments are undone at exit (clamped at 0),
 *   waking waiters; SETVAL clears them
 */
#include "t.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static volatile int *sh;

static void on_usr1(int sig)
{
	(void)sig;
}

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static int op1(int id, unsigned short num, short op, short flg)
{
	struct sembuf sb = { num, op, flg };
	return semop(id, &sb, 1);
}

static void wait_for(int idx, int v)
{
	for (int i = 0; i < 5000 && sh[idx] != v; i++)
		usleep(1000);
}

/* wait_count waits until cmd (GETNCNT/GETZCNT) of semaphore num is n. */
static int wait_count(int id, int num, int cmd, int n)
{
	int v = -1;
	for (int i = 0; i < 5000; i++) {
		v = semctl(id, num, cmd);
		if (v == n)
			break;
		usleep(1000);
	}
	return v;
}

int main(void)
{
	union semun arg;
	struct semid_ds ds;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", sh == MAP_FAILED ? -1 : 0);

	EXPECT_ERRNO("nsems 0 -> EINVAL", semget(IPC_PRIVATE, 0, 0600), EINVAL);
	EXPECT_ERRNO("nsems > SEMMSL -> EINVAL", semget(IPC_PRIVATE, 32001, 0600), EINVAL);
	EXPECT_ERRNO("negative nsems -> EINVAL", semget(IPC_PRIVATE, -1, 0600), EINVAL);
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	CHECK("semget", id >= 0);
	arg.buf = &ds;
	SYSOK("IPC_STAT", semctl(id, 0, IPC_STAT, arg));
	CHECK("nsems 3, mode, no semop yet", ds.sem_nsems == 3 && (ds.sem_perm.mode & 0777) == 0600 &&
	      ds.sem_otime == 0 && ds.sem_ctime != 0 && ds.sem_perm.cuid == getuid());
	EXPECT_EQ("starts at 0", semctl(id, 0, GETVAL), 0);
	EXPECT_EQ("GETPID 0 before any operation", semctl(id, 1, GETPID), 0);

	arg.val = 5;
	SYSOK("SETVAL", semctl(id, 1, SETVAL, arg));
	EXPECT_EQ("GETVAL", semctl(id, 1, GETVAL), 5);
	EXPECT_EQ("GETPID after SETVAL", semctl(id, 1, GETPID), getpid());
	arg.val = 32768;
	EXPECT_ERRNO("SETVAL > SEMVMX -> ERANGE", semctl(id, 1, SETVAL, arg), ERANGE);
	arg.val = -1;
	EXPECT_ERRNO("SETVAL < 0 -> ERANGE", semctl(id, 1, SETVAL, arg), ERANGE);
	arg.val = 1;
	EXPECT_ERRNO("SETVAL bad index -> EINVAL", semctl(id, 3, SETVAL, arg), EINVAL);
	EXPECT_ERRNO("GETVAL bad index -> EINVAL", semctl(id, -1, GETVAL), EINVAL);
	unsigned short vals[3] = { 1, 2, 3 };
	arg.array = vals;
	SYSOK("SETALL", semctl(id, 0, SETALL, arg));
	unsigned short got[3] = { 0 };
	arg.array = got;
	SYSOK("GETALL", semctl(id, 0, GETALL, arg));
	CHECK("GETALL values", got[0] == 1 && got[1] == 2 && got[2] == 3);
	vals[2] = 40000;
	arg.array = vals;
	EXPECT_ERRNO("SETALL > SEMVMX -> ERANGE", semctl(id, 0, SETALL, arg), ERANGE);
	EXPECT_EQ("SETALL refused as a whole", semctl(id, 0, GETVAL), 1);
	arg.array = (unsigned short *)8;
	EXPECT_ERRNO("GETALL bad buffer -> EFAULT", semctl(id, 0, GETALL, arg), EFAULT);
	EXPECT_ERRNO("bad cmd -> EINVAL", semctl(id, 0, 99), EINVAL);

	/* semop basics: values 1 2 3. */
	SYSOK("decrement", op1(id, 0, -1, 0));
	EXPECT_EQ("value 0", semctl(id, 0, GETVAL), 0);
	EXPECT_EQ("GETPID after semop", semctl(id, 0, GETPID), getpid());
	arg.buf = &ds;
	semctl(id, 0, IPC_STAT, arg);
	CHECK("otime set", ds.sem_otime != 0);
	EXPECT_ERRNO("decrement below 0 IPC_NOWAIT -> EAGAIN", op1(id, 0, -1, IPC_NOWAIT), EAGAIN);
	SYSOK("wait-for-zero on 0", op1(id, 0, 0, 0));
	EXPECT_ERRNO("wait-for-zero on 2 IPC_NOWAIT -> EAGAIN", op1(id, 1, 0, IPC_NOWAIT), EAGAIN);
	struct sembuf two[2] = { { 1, -1, 0 }, { 0, -1, IPC_NOWAIT } };
	EXPECT_ERRNO("all or nothing -> EAGAIN", semop(id, two, 2), EAGAIN);
	EXPECT_EQ("first op not applied", semctl(id, 1, GETVAL), 2);
	struct sembuf same[2] = { { 2, -3, 0 }, { 2, 5, 0 } };
	SYSOK("two ops on one semaphore apply in order", semop(id, same, 2));
	EXPECT_EQ("3 - 3 + 5", semctl(id, 2, GETVAL), 5);
	arg.val = 32767;
	semctl(id, 2, SETVAL, arg);
	EXPECT_ERRNO("above SEMVMX -> ERANGE", op1(id, 2, 1, 0), ERANGE);
	EXPECT_ERRNO("sem_num out of range -> EFBIG", op1(id, 3, 1, 0), EFBIG);
	EXPECT_ERRNO("nsops 0 -> EINVAL", semop(id, two, 0), EINVAL);
	static struct sembuf many[501];
	EXPECT_ERRNO("nsops > SEMOPM -> E2BIG", semop(id, many, 501), E2BIG);
	EXPECT_ERRNO("bad sops pointer -> EFAULT", semop(id, (struct sembuf *)8, 1), EFAULT);
	EXPECT_ERRNO("bad id -> EINVAL", op1(id + 1, 0, 1, 0), EINVAL);
	struct timespec ts = { 0, 50000000 };
	SYSOK("semtimedop that can proceed", semtimedop(id, two, 1, &ts));
	struct sembuf dec0 = { 0, -1, 0 };
	EXPECT_ERRNO("semtimedop times out on sem 0 -> EAGAIN", semtimedop(id, &dec0, 1, &ts), EAGAIN);
	ts.tv_nsec = 1000000000;
	EXPECT_ERRNO("bad timeout -> EINVAL", semtimedop(id, &dec0, 1, &ts), EINVAL);

	/* A blocked decrement, woken by another process. Values: 0 1 32767. */
	pid_t c = fork();
	if (c == 0) {
		int r = op1(id, 0, -2, 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	EXPECT_EQ("GETNCNT sees the waiter", wait_count(id, 0, GETNCNT, 1), 1);
	EXPECT_EQ("GETZCNT does not", semctl(id, 0, GETZCNT), 0);
	SYSOK("post 1", op1(id, 0, 1, 0));
	usleep(50000);
	EXPECT_EQ("still waiting for 2", sh[0], 0);
	SYSOK("post 1 more", op1(id, 0, 1, 0));
	EXPECT_EQ("waiter completed", (child_status(c), sh[0]), 2);
	EXPECT_EQ("it took both", semctl(id, 0, GETVAL), 0);
	EXPECT_EQ("GETPID is the waiter's", semctl(id, 0, GETPID) == c, 1);
	sh[0] = 0;

	/* Wait for zero. */
	c = fork();
	if (c == 0) {
		int r = op1(id, 1, 0, 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	EXPECT_EQ("GETZCNT sees the waiter", wait_count(id, 1, GETZCNT, 1), 1);
	SYSOK("bring it to zero", op1(id, 1, -1, 0));
	EXPECT_EQ("zero waiter completed", (child_status(c), sh[0]), 2);
	sh[0] = 0;

	/* A signal interrupts semop with EINTR, SA_RESTART or not. */
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigaction(SIGUSR1, &sa, NULL);
		int r = op1(id, 0, -1, 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	kill(c, SIGUSR1);
	EXPECT_EQ("semop interrupted -> EINTR", (child_status(c), sh[0]), EINTR);
	EXPECT_EQ("no waiter left", semctl(id, 0, GETNCNT), 0);
	sh[0] = 0;

	/* SEM_UNDO. */
	arg.val = 3;
	semctl(id, 0, SETVAL, arg);
	c = fork();
	if (c == 0) {
		op1(id, 0, -2, SEM_UNDO);
		op1(id, 0, 4, SEM_UNDO);
		_exit(semctl(id, 0, GETVAL) == 5 ? 0 : 1);
	}
	EXPECT_EQ("child changed it to 5", child_status(c), 0);
	EXPECT_EQ("undone at exit", semctl(id, 0, GETVAL), 3);
	c = fork();
	if (c == 0) {
		op1(id, 0, 2, SEM_UNDO);
		arg.val = 0;
		semctl(id, 0, SETVAL, arg);
		_exit(0);
	}
	child_status(c);
	EXPECT_EQ("undo below 0 clamps to 0", semctl(id, 0, GETVAL), 0);
	c = fork();
	if (c == 0) {
		arg.val = 1;
		semctl(id, 0, SETVAL, arg);
		op1(id, 0, 5, SEM_UNDO);
		arg.val = 10;
		semctl(id, 0, SETVAL, arg);
		_exit(0);
	}
	child_status(c);
	EXPECT_EQ("SETVAL cleared the adjustment", semctl(id, 0, GETVAL), 10);

	/* An exiting holder's undo wakes a waiter. */
	arg.val = 1;
	semctl(id, 0, SETVAL, arg);
	c = fork();
	if (c == 0) {
		op1(id, 0, -1, SEM_UNDO);
		sh[1] = 1;
		wait_for(2, 1);
		_exit(0);
	}
	wait_for(1, 1);
	pid_t w = fork();
	if (w == 0) {
		int r = op1(id, 0, -1, 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	sh[2] = 1;
	child_status(c);
	EXPECT_EQ("holder's exit let the waiter through", (child_status(w), sh[0]), 2);
	sh[0] = sh[1] = sh[2] = 0;

	/* Keys. */
	key_t key = 0x5e5e0001;
	int k = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
	CHECK("semget key", k >= 0 && k != id);
	EXPECT_EQ("lookup by key", semget(key, 0, 0), k);
	EXPECT_EQ("fewer semaphores ok", semget(key, 1, 0), k);
	EXPECT_ERRNO("more semaphores -> EINVAL", semget(key, 3, 0), EINVAL);
	EXPECT_ERRNO("IPC_CREAT|IPC_EXCL -> EEXIST", semget(key, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERRNO("unknown key -> ENOENT", semget(0x5e5e0002, 1, 0), ENOENT);

	/* IPC_SET. */
	arg.buf = &ds;
	semctl(k, 0, IPC_STAT, arg);
	ds.sem_perm.mode = 0640;
	SYSOK("IPC_SET", semctl(k, 0, IPC_SET, arg));
	semctl(k, 0, IPC_STAT, arg);
	EXPECT_EQ("mode changed", ds.sem_perm.mode & 0777, 0640);

	/* Info. */
	struct seminfo si;
	arg.__buf = &si;
	int mx = semctl(0, 0, IPC_INFO, arg);
	CHECK("IPC_INFO limits", mx >= 0 && si.semmsl == 32000 && si.semopm == 500 && si.semmni == 32000 &&
	      si.semmns == 1024000000 && si.semvmx == 32767 && si.semaem == 32767 && si.semusz == 20);
	EXPECT_EQ("SEM_INFO max index agrees", semctl(0, 0, SEM_INFO, arg), mx);
	CHECK("SEM_INFO usage: 2 sets, 5 semaphores", si.semusz == 2 && si.semaem == 5);

	/* Removal under a waiter. */
	c = fork();
	if (c == 0) {
		int r = op1(k, 1, -1, 0);
		sh[0] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_count(k, 1, GETNCNT, 1);
	SYSOK("IPC_RMID", semctl(k, 0, IPC_RMID));
	EXPECT_EQ("waiter gets EIDRM", (child_status(c), sh[0]), EIDRM);
	EXPECT_ERRNO("removed -> EINVAL", semctl(k, 0, GETVAL), EINVAL);
	EXPECT_ERRNO("semop on removed -> EINVAL", op1(k, 0, 1, 0), EINVAL);
	SYSOK("IPC_RMID the other", semctl(id, 0, IPC_RMID));
	semctl(0, 0, SEM_INFO, arg);
	CHECK("SEM_INFO empty", si.semusz == 0 && si.semaem == 0);
	return t_done();
}
