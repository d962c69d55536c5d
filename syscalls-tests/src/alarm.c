/*
 * alarm: ITIMER_REAL and alarm(2).
 * - a periodic setitimer delivers SIGALRM repeatedly to pause()
 * - alarm() returns the seconds left of the previous alarm
 * - a default SIGALRM kills a child (status 128+14); PID 1 (this
 *   program, natively and in the sandbox) would ignore it
 * - a busy loop (no syscalls) is interrupted by the handler
 */
#include "t.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

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
