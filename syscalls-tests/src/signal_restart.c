/*
 * signal_restart: what a signal does to a blocked syscall (signal(7)
 * "Interruption of system calls and library functions by signal handlers").
 * - read(2) on an empty pipe interrupted by a handler without SA_RESTART
 *   fails with EINTR
 * - with SA_RESTART it is restarted and returns the data written later
 * - wait4 with SA_RESTART restarts; without it, EINTR
 * - a signal that is ignored, or stops and continues the process, does not
 *   interrupt read(2) at all
 * - sigsuspend/pause always return EINTR, even with SA_RESTART
 */
#include "t.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

static void h(int s) { (void)s; }

static void arm(int usec)
{
	struct itimerval it = {{0, 0}, {0, usec}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
	int p[2];
	MUST("pipe", pipe(p));
	char c;
	struct sigaction sa = {0};
	sa.sa_handler = h;
	sigaction(SIGALRM, &sa, NULL);
	arm(30000);
	EXPECT_ERRNO("read without SA_RESTART -> EINTR", read(p[0], &c, 1), EINTR);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	fflush(stdout);
	pid_t w = fork();
	if (w == 0) {
		usleep(100000);
		write(p[1], "x", 1);
		_exit(0);
	}
	arm(30000);
	EXPECT_EQ("read with SA_RESTART restarts and gets the data", read(p[0], &c, 1), 1);
	waitpid(w, NULL, 0);

	fflush(stdout);
	pid_t k = fork();
	if (k == 0) {
		usleep(100000);
		_exit(3);
	}
	arm(30000);
	int st;
	EXPECT_EQ("wait4 with SA_RESTART restarts", waitpid(k, &st, 0), k);
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	fflush(stdout);
	k = fork();
	if (k == 0) {
		usleep(200000);
		_exit(3);
	}
	arm(30000);
	EXPECT_ERRNO("wait4 without SA_RESTART -> EINTR", waitpid(k, &st, 0), EINTR);
	waitpid(k, &st, 0);

	signal(SIGWINCH, SIG_IGN);
	fflush(stdout);
	pid_t r = fork();
	if (r == 0) {
		char b;
		/* SIGWINCH ignored, then a stop/continue: neither may end the
		 * read; the data comes at the end. */
		_exit(read(p[0], &b, 1) == 1 && b == 'z' ? 0 : 1);
	}
	usleep(50000);
	kill(r, SIGWINCH);
	kill(r, SIGSTOP);
	waitpid(r, &st, WUNTRACED);
	kill(r, SIGCONT);
	usleep(50000);
	write(p[1], "z", 1);
	waitpid(r, &st, 0);
	CHECK("ignored and stop/continue signals do not interrupt read", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	arm(30000);
	EXPECT_ERRNO("pause -> EINTR even with SA_RESTART", pause(), EINTR);
	return t_done();
}
