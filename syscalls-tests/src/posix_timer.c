/*
 * posix_timer: timer_create(2) and friends.
 * - SIGEV_SIGNAL one-shot and periodic timers deliver si_code SI_TIMER with
 *   si_value and the timer ID
 * - a NULL sigevent means SIGALRM with si_value = timer ID
 * - timer_gettime reports remaining time (never more than set) and interval;
 *   disarm with zero; a one-shot fires no earlier than set by its clock
 * - overruns are counted while the signal stays blocked
 * - SIGEV_THREAD_ID targets one thread
 * - errors: bad clock EINVAL, bad timer id EINVAL, bad sigev_notify EINVAL,
 *   bad signal EINVAL, unnormalized time EINVAL, bad pointer EFAULT
 */
#include "t.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t hits, last_code, last_val, last_tid_ok, first_overrun;
static pid_t want_tid;
static void h(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	if (hits++ == 0)
		first_overrun = si->si_overrun;
	last_code = si->si_code;
	last_val = si->si_value.sival_int;
	last_tid_ok = gettid() == want_tid;
}

static void *waiter_thread(void *a)
{
	(void)a;
	want_tid = gettid();
	sigset_t m;
	sigemptyset(&m);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	for (int i = 0; i < 2000 && !hits; i++)
		usleep(1000);
	return NULL;
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, 0);
	sigaction(SIGALRM, &sa, 0);
	want_tid = gettid();

	timer_t tm;
	struct sigevent sev = {0};
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_value.sival_int = 77;
	SYSOK("timer_create SIGEV_SIGNAL", timer_create(CLOCK_MONOTONIC, &sev, &tm));
	struct itimerspec its = {{0, 0}, {0, 20000000}};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	SYSOK("timer_settime one-shot", timer_settime(tm, 0, &its, NULL));
	struct itimerspec cur;
	SYSOK("timer_gettime", timer_gettime(tm, &cur));
	CHECK("armed: remaining > 0, no interval", (cur.it_value.tv_sec || cur.it_value.tv_nsec) && !cur.it_interval.tv_nsec);
	CHECK("remaining <= value set", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20000000);
	while (!hits)
		pause();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK("fired no earlier than set",
	      (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec >= 20000000);
	CHECK("SI_TIMER with value", last_code == SI_TIMER && last_val == 77);
	SYSOK("timer_gettime after expiry", timer_gettime(tm, &cur));
	CHECK("disarmed after one-shot", !cur.it_value.tv_sec && !cur.it_value.tv_nsec);

	/* Periodic, with the signal blocked: overruns accumulate and are
	 * reported with the one signal that was queued. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, 0);
	hits = 0;
	struct itimerspec per = {{0, 5000000}, {0, 5000000}};
	timer_settime(tm, 0, &per, NULL);
	usleep(100000);
	sigprocmask(SIG_UNBLOCK, &m, 0);
	struct itimerspec zero = {0};
	timer_settime(tm, 0, &zero, NULL);
	CHECK("signal delivered after unblock", hits >= 1);
	CHECK("si_overrun counted the missed expirations", first_overrun > 3);
	SYSOK("timer_delete", timer_delete(tm));
	EXPECT_ERRNO("deleted id -> EINVAL", timer_delete(tm), EINVAL);

	/* NULL sigevent (raw syscall; libc fills one in): SIGALRM carrying
	 * the kernel timer ID. */
	int kid = -1;
	SYSOK("timer_create NULL sevp", syscall(SYS_timer_create, CLOCK_REALTIME, NULL, &kid));
	hits = 0;
	its.it_value.tv_nsec = 10000000;
	syscall(SYS_timer_settime, kid, 0, &its, NULL);
	while (!hits)
		pause();
	CHECK("SIGALRM with timer id value", last_code == SI_TIMER && last_val == kid);
	syscall(SYS_timer_delete, kid);

	/* SIGEV_THREAD_ID to one thread, with the signal blocked in main. */
	sigprocmask(SIG_BLOCK, &m, 0);
	hits = 0;
	want_tid = 0;
	pthread_t th;
	pthread_create(&th, NULL, waiter_thread, NULL);
	while (!want_tid)
		usleep(1000);
	struct sigevent tev = {0};
	tev.sigev_notify = SIGEV_THREAD_ID;
	tev.sigev_signo = SIGUSR1;
	tev._sigev_un._tid = want_tid;
	timer_t t3;
	SYSOK("timer_create SIGEV_THREAD_ID", timer_create(CLOCK_MONOTONIC, &tev, &t3));
	timer_settime(t3, 0, &its, NULL);
	pthread_join(th, NULL);
	CHECK("delivered to that thread", hits == 1 && last_tid_ok);
	timer_delete(t3);
	sigprocmask(SIG_UNBLOCK, &m, 0);

	timer_t bad;
	EXPECT_ERRNO("bad clock -> EINVAL", timer_create(99, NULL, &bad), EINVAL);
	sev.sigev_notify = 99;
	EXPECT_ERRNO("bad notify -> EINVAL", timer_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 100;
	EXPECT_ERRNO("bad signal -> EINVAL", timer_create(CLOCK_MONOTONIC, &sev, &bad), EINVAL);
	sev.sigev_signo = SIGUSR1;
	tev._sigev_un._tid = 99999;
	EXPECT_ERRNO("thread id not ours -> EINVAL", timer_create(CLOCK_MONOTONIC, &tev, &bad), EINVAL);
	EXPECT_ERRNO("bad sevp -> EFAULT", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &bad), EFAULT);
	EXPECT_ERRNO("bad id -> EINVAL", syscall(SYS_timer_settime, 1234, 0, &its, NULL), EINVAL);
	timer_t ok;
	timer_create(CLOCK_MONOTONIC, NULL, &ok);
	struct itimerspec badts = {{0, 0}, {0, 2000000000}};
	EXPECT_ERRNO("unnormalized -> EINVAL", timer_settime(ok, 0, &badts, NULL), EINVAL);
	EXPECT_ERRNO("bad value pointer -> EFAULT", timer_settime(ok, 0, (void *)8, NULL), EFAULT);
	return t_done();
}
