/* Signals by number: a child sends SIGKILL to every PID from 2 to 32768.
 * Only sandbox processes can be named; the harness checks that its host
 * victim and the sandbox's own host processes are fine (this program, as
 * init, still reports). */
#include "e.h"
#include <signal.h>

static void spray(void)
{
	int self = getpid();
	for (int p = 2; p <= 32768; p++)
		if (p != self)
			kill(p, SIGKILL);
	_exit(5);
}

int main(void)
{
	int victim = atoi(e_env("ESCAPE_VICTIM"));
	int st = e_in_child(spray);
	CHECK("the sprayer finished", WIFEXITED(st) && WEXITSTATUS(st) == 5);
	EXPECT_ERRNO("no such process: the victim", kill(victim > 1 ? victim : 999999, 0), ESRCH);
	EXPECT_ERRNO("kill(0x7fffffff)", kill(0x7fffffff, SIGKILL), ESRCH);
	EXPECT_ERRNO("kill(-0x7fffffff)", kill(-0x7fffffff, SIGKILL), ESRCH);
	EXPECT_ERRNO("tgkill(victim)", syscall(SYS_tgkill, victim, victim, SIGKILL), ESRCH);
	return t_done();
}
