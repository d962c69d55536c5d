/*
 * threads: clone(CLONE_VM|CLONE_THREAD|...) as pthread_create uses it.
 * - 8 threads share memory, a mutex and a condition variable
 * - every thread has its own TID, the same PID, its own TLS
 * - pthread_join returns the value passed to pthread_exit (CLEARTID wake)
 * - per-thread signal masks; pthread_kill delivers to the chosen thread
 * - a process-directed signal is taken by a thread that does not block it
 * - exit_group from a secondary thread ends the whole process (in a child)
 * - the main thread can pthread_exit while others finish (in a child)
 */
#include "t.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int counter, ready;
static __thread int tls = 7;
static pid_t tids[8];
static int pids_ok = 1;

static void *worker(void *arg)
{
	long i = (long)arg;
	tids[i] = gettid();
	if (getpid() != getpid() || tls != 7)
		pids_ok = 0;
	tls = (int)i;
	for (int k = 0; k < 10000; k++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return (void *)(i * 10 + tls);
}

static volatile sig_atomic_t got_usr1_tid;
static void on_usr1(int s)
{
	(void)s;
	got_usr1_tid = gettid();
}

static pid_t target_tid;
static volatile int stop_spin;
static void *sigwaiter(void *arg)
{
	(void)arg;
	target_tid = gettid();
	sigset_t m;
	sigemptyset(&m);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	while (!stop_spin)
		usleep(1000);
	return NULL;
}

static void *exiter(void *arg)
{
	(void)arg;
	usleep(20000);
	exit(42);
}

static void *late(void *arg)
{
	(void)arg;
	usleep(50000);
	printf("late thread ran after main exited\n");
	fflush(stdout);
	return NULL;
}

int main(void)
{
	pthread_t th[8];
	for (long i = 0; i < 8; i++)
		MUST("pthread_create", pthread_create(&th[i], NULL, worker, (void *)i) == 0 ? 0 : -1);
	pthread_mutex_lock(&mu);
	while (ready < 8)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	int joined_ok = 1;
	for (long i = 0; i < 8; i++) {
		void *ret;
		if (pthread_join(th[i], &ret) != 0 || (long)ret != i * 10 + i)
			joined_ok = 0;
	}
	CHECK("join returns thread values", joined_ok);
	EXPECT_EQ("mutex-protected counter", counter, 80000);
	CHECK("same pid, private tls", pids_ok && tls == 7);
	int distinct = 1;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < i; j++)
			if (tids[i] == tids[j] || tids[i] == getpid())
				distinct = 0;
	CHECK("distinct tids", distinct);

	/* Block SIGUSR1 in main; a thread that unblocks it takes it. */
	signal(SIGUSR1, on_usr1);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	pthread_t w;
	pthread_create(&w, NULL, sigwaiter, NULL);
	while (!target_tid)
		usleep(1000);
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 2000 && !got_usr1_tid; i++)
		usleep(1000);
	CHECK("process signal taken by unblocking thread", got_usr1_tid == target_tid);
	got_usr1_tid = 0;
	pthread_kill(w, SIGUSR1);
	for (int i = 0; i < 2000 && !got_usr1_tid; i++)
		usleep(1000);
	CHECK("pthread_kill reaches that thread", got_usr1_tid == target_tid);
	stop_spin = 1;
	pthread_join(w, NULL);
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);

	/* exit() from a secondary thread ends the process. */
	pid_t c = fork();
	if (c == 0) {
		pthread_t e;
		pthread_create(&e, NULL, exiter, NULL);
		for (;;)
			pause();
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("exit from thread ends process", WIFEXITED(st) && WEXITSTATUS(st) == 42);

	/* pthread_exit in main: the process lives until the last thread. */
	fflush(stdout);
	c = fork();
	if (c == 0) {
		pthread_t l;
		pthread_create(&l, NULL, late, NULL);
		pthread_exit(NULL);
	}
	waitpid(c, &st, 0);
	CHECK("main pthread_exit: status 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return t_done();
}
