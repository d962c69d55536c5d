/*
 * alarm: ITIMER_REAL and alarm(2).
 * - a periodic setitimer delivers SIGALRM repeatedly to pause()
 * - alarm() returns the seconds left of the previous alarm
 * - a default SIGALRM kills a child (status 128+14); PID 1 (this
 *   program, natively and in the sandbox) would ignore it
 * - a busy loop (no syscalls) is interrupted by the handler
 * - getitimer never reports more than was set, and SIGALRM comes no
 *   earlier than the value by CLOCK_MONOTONIC
 */
#include "t.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile int n, flag;
static void h(int s)
{
	(void)s;
	n++;
}
static void f(int s)
{
	(void)s;
	flag = 1;
}

int main(void)
{
	signal(SIGALRM, h);
	struct itimerval it = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, 0);
	while (n < 3)
		pause();
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, 0);
	CHECK("three ticks", n >= 3);
	struct timespec t0, t1;
	struct itimerval once = {{0, 0}, {0, 30000}}, cur;
	n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &once, 0);
	getitimer(ITIMER_REAL, &cur);
	CHECK("getitimer <= value set", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 &&
					   cur.it_value.tv_usec <= 30000);
	while (!n)
		pause();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK("SIGALRM not before the value",
	      (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec >= 30000000);
	alarm(5);
	EXPECT_EQ("alarm returns remaining seconds", alarm(0), 5);
	signal(SIGALRM, f);
	alarm(1);
	while (!flag)
		;
	t_ok("busy loop interrupted by SIGALRM handler");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(1);
		pause();
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("default SIGALRM kills the child", WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM);
	return t_done();
}
