/* A fork bomb stops at the sandbox's task limit (EAGAIN, as the pids
 * controller makes fork fail), which the harness sets with --pids-limit,
 * under a host pids cgroup of its own. The program then cleans up and
 * forks again. */
// escape: pids-limit=64
#include "e.h"
#include <signal.h>

static void exit7(void) { _exit(7); }

int main(void)
{
	static pid_t kids[4096];
	int n = 0, err = 0;
	for (; n < 4096; n++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[n] = p;
	}
	EXPECT_EQ("fork eventually fails with EAGAIN", err, EAGAIN);
	CHECK("the limit is near the configured 64 tasks", n >= 32 && n <= 64);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	int st = e_in_child(exit7);
	CHECK("forking works again", WIFEXITED(st) && WEXITSTATUS(st) == 7);
	return t_done();
}
