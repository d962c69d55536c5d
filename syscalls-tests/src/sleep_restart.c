/*
 * sleep_restart: restart of interrupted sleeps (restart_syscall(2)).
 * - a nanosleep interrupted by a stop and continue (no handler runs)
 *   completes the full sleep and returns 0
 * - interrupted by a handler it returns EINTR with the time left in rem
 * - an absolute clock_nanosleep interrupted by a handler returns EINTR
 */
#include "t.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static void h(int s) { (void)s; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		double t0 = now();
		struct timespec ts = {0, 300000000};
		int r = nanosleep(&ts, NULL);
		_exit(r == 0 && now() - t0 >= 0.29 ? 0 : 1);
	}
	usleep(100000);
	kill(c, SIGSTOP);
	int st;
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGCONT);
	waitpid(c, &st, 0);
	CHECK("stop+continue: nanosleep completes, returns 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	signal(SIGALRM, h);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec ts = {2, 0}, rem = {0, 0};
	EXPECT_ERRNO("handler: nanosleep -> EINTR", nanosleep(&ts, &rem), EINTR);
	CHECK("rem holds the time left", rem.tv_sec == 1 && rem.tv_nsec > 0);

	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_sec += 2;
	EXPECT_EQ("handler: absolute clock_nanosleep -> EINTR", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), EINTR);
	return t_done();
}
