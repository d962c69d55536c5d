/*
 * subreaper: PR_SET_CHILD_SUBREAPER and PR_SET_PDEATHSIG (prctl(2)).
 * - an orphaned grandchild is reparented to the nearest subreaper ancestor
 *   (here a child), not to init, and that subreaper can reap it
 * - PR_GET_CHILD_SUBREAPER reads the flag back
 * - PR_SET_PDEATHSIG delivers the signal to a child when its parent dies;
 *   PR_GET_PDEATHSIG reads it back; a bad signal is EINVAL
 */
#include "t.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

int main(void)
{
	int v = -1;
	SYSOK("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	EXPECT_EQ("not a subreaper", v, 0);
	fflush(stdout);
	pid_t s = fork();
	if (s == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		int on = 0;
		prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0);
		pid_t reaper = getpid();
		pid_t mid = fork();
		if (mid == 0) {
			pid_t me = getpid();
			if (fork() == 0) {
				while (getppid() == me)
					usleep(1000);
				_exit(getppid() == reaper ? 30 : 31);
			}
			_exit(0);
		}
		waitpid(mid, NULL, 0);
		int st;
		pid_t g = waitpid(-1, &st, 0);
		_exit(on == 1 && g > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 30 ? 0 : 1);
	}
	int st;
	waitpid(s, &st, 0);
	CHECK("orphan reparented to the subreaper, which reaps it", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		pid_t c = fork();
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
			int sig = 0;
			prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
			if (sig != SIGUSR1)
				_exit(7);
			for (;;)
				pause();
		}
		usleep(50000);
		_exit(0); /* the child gets SIGUSR1 and dies of it */
	}
	waitpid(p, NULL, 0);
	pid_t g = waitpid(-1, &st, 0);
	CHECK("PDEATHSIG killed the orphan", g > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
	EXPECT_ERRNO("PR_SET_PDEATHSIG 99 -> EINVAL", prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0), EINVAL);
	return t_done();
}
