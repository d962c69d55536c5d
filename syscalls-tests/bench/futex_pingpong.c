/*
 * futex_pingpong: ns per round trip between two threads handing a token
 * back and forth with FUTEX_WAKE / FUTEX_WAIT on one private word. Prints
 * "na REASON" if threads cannot be created.
 */
#include "bench.h"
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static _Atomic int word; /* 0: main's turn, 1: the thread's turn */
static const long n = 20000;

static void wait_for(int want)
{
	int v;
	while ((v = atomic_load(&word)) != want)
		syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void hand_over(int to)
{
	atomic_store(&word, to);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < n + 100; i++) {
		wait_for(1);
		hand_over(0);
	}
	return NULL;
}

int main(void)
{
	pthread_t th;
	int err = pthread_create(&th, NULL, peer, NULL);
	if (err != 0) {
		printf("na pthread_create: %s\n", strerror(err));
		return 0;
	}
	for (int i = 0; i < 100; i++) {
		hand_over(1);
		wait_for(0);
	}
	double t = bench_now();
	for (long i = 0; i < n; i++) {
		hand_over(1);
		wait_for(0);
	}
	bench_report(t, n);
	pthread_join(th, NULL);
	return 0;
}
