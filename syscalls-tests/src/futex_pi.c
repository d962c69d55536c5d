/*
 * futex_pi: priority-inheritance futexes (FUTEX_LOCK_PI, FUTEX_UNLOCK_PI,
 * FUTEX_TRYLOCK_PI) as glibc's PTHREAD_PRIO_INHERIT mutexes use them.
 * - 4 threads increment a counter under a PI mutex: no lost updates
 * - the kernel hands the lock to a waiter: the word then holds its TID
 * - LOCK_PI on a futex we own: EDEADLK; UNLOCK_PI by a non-owner: EPERM;
 *   TRYLOCK_PI on a held lock: EAGAIN; LOCK_PI with a past deadline while
 *   held: ETIMEDOUT
 * - a robust PI mutex whose owner thread died: EOWNERDEAD for the next
 *   locker (handed over by the kernel while it waited)
 */
#include "t.h"
#include <linux/futex.h>
#include <pthread.h>
#include <time.h>

static pthread_mutex_t m;
static long counter;

static void *inc(void *a)
{
	(void)a;
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static long futex(unsigned *u, int op, unsigned v, struct timespec *ts)
{
	return syscall(SYS_futex, u, op, v, ts, NULL, 0);
}

static unsigned word;
static volatile int waiter_got;
static void *pi_waiter(void *a)
{
	(void)a;
	if (futex(&word, FUTEX_LOCK_PI, 0, NULL) == 0 && (word & FUTEX_TID_MASK) == (unsigned)gettid())
		waiter_got = 1;
	futex(&word, FUTEX_UNLOCK_PI, 0, NULL);
	return NULL;
}

static volatile pid_t sleeper_tid;
static volatile int sleeper_stop;
static void *sleeper(void *a)
{
	(void)a;
	sleeper_tid = gettid();
	while (!sleeper_stop)
		usleep(1000);
	return NULL;
}

static pthread_mutex_t rm;
static volatile int holding;
static void *die_holding(void *a)
{
	(void)a;
	pthread_mutex_lock(&rm);
	holding = 1;
	usleep(50000);
	return NULL;
}

int main(void)
{
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&m, &at);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, inc, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ("PI mutex counter", counter, 80000);

	word = gettid();
	EXPECT_ERRNO("LOCK_PI on own lock -> EDEADLK", futex(&word, FUTEX_LOCK_PI, 0, NULL), EDEADLK);
	pthread_t w;
	pthread_create(&w, NULL, pi_waiter, NULL);
	while (!(word & FUTEX_WAITERS))
		usleep(1000);
	SYSOK("UNLOCK_PI hands off", futex(&word, FUTEX_UNLOCK_PI, 0, NULL));
	pthread_join(w, NULL);
	CHECK("waiter owned the lock", waiter_got && word == 0);

	pthread_t sl;
	pthread_create(&sl, NULL, sleeper, NULL);
	while (!sleeper_tid)
		usleep(1000);
	word = sleeper_tid; /* owned by another live thread */
	EXPECT_ERRNO("UNLOCK_PI by non-owner -> EPERM", futex(&word, FUTEX_UNLOCK_PI, 0, NULL), EPERM);
	EXPECT_ERRNO("TRYLOCK_PI held -> EAGAIN", futex(&word, FUTEX_TRYLOCK_PI, 0, NULL), EAGAIN);
	struct timespec past = {1, 0};
	EXPECT_ERRNO("LOCK_PI past deadline -> ETIMEDOUT", futex(&word, FUTEX_LOCK_PI, 0, &past), ETIMEDOUT);
	sleeper_stop = 1;
	pthread_join(sl, NULL);
	word = 0;
	SYSOK("TRYLOCK_PI free", futex(&word, FUTEX_TRYLOCK_PI, 0, NULL));
	CHECK("word holds our tid", word == (unsigned)gettid());
	EXPECT_ERRNO("LOCK_PI wild -> EFAULT", futex((unsigned *)8, FUTEX_LOCK_PI, 0, NULL), EFAULT);

	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &at);
	pthread_t d;
	pthread_create(&d, NULL, die_holding, NULL);
	while (!holding)
		usleep(1000);
	int r = pthread_mutex_lock(&rm); /* blocks until the owner dies */
	EXPECT_EQ("robust PI: EOWNERDEAD", r, EOWNERDEAD);
	pthread_join(d, NULL);
	pthread_mutex_consistent(&rm);
	pthread_mutex_unlock(&rm);
	return t_done();
}
