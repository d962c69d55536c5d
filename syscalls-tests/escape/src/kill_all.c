/* kill(-1, SIGKILL) from inside reaches the sandbox's processes only. The
 * harness checks that its host victim process survives; this program checks
 * that it (init) survives and that its own children died. */
#include "e.h"
#include <signal.h>

static void killer(void)
{
	kill(-1, SIGKILL);
	_exit(3);
}

int main(void)
{
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	int st = e_in_child(killer);
	/* The killer may die of its own kill(-1) (it is not excluded) or exit. */
	CHECK("killer finished", WIFEXITED(st) || WIFSIGNALED(st));
	int dead = 0;
	for (int i = 0; i < 4; i++) {
		int s;
		if (waitpid(kids[i], &s, 0) == kids[i] && WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL)
			dead++;
	}
	EXPECT_EQ("all sandbox children were killed", dead, 4);
	CHECK("init survived kill(-1)", 1);
	EXPECT_ERRNO("kill(-1, 0) finds no one else now", kill(-1, 0), ESRCH);
	return t_done();
}
