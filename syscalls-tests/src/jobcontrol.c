/*
 * jobcontrol: stop and continue (signal(7), wait(2)).
 * - SIGSTOP stops a child; wait(WUNTRACED) reports WIFSTOPPED/WSTOPSIG once
 * - SIGCONT resumes it; wait(WCONTINUED) reports WIFCONTINUED once
 * - SIGCHLD siginfo carries CLD_STOPPED / CLD_CONTINUED / CLD_EXITED
 * - SA_NOCLDSTOP suppresses SIGCHLD for stop/continue but not for exit
 * - waitid(WSTOPPED|WNOWAIT) leaves the event for a second waitid
 * - a stopped child is killed by SIGKILL
 * - SIGTSTP to an orphaned process group does not stop it
 */
#include "t.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t codes[8];
static volatile sig_atomic_t ncodes;
static void on_chld(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	if (ncodes < 8)
		codes[ncodes++] = si->si_code;
}

static pid_t spawn_sleeper(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	return c;
}

static void wait_codes(int n)
{
	for (int i = 0; i < 3000 && ncodes < n; i++)
		usleep(1000);
}

int main(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	pid_t c = spawn_sleeper();
	int st = 0;
	kill(c, SIGSTOP);
	EXPECT_EQ("wait WUNTRACED returns child", waitpid(c, &st, WUNTRACED), c);
	CHECK("WIFSTOPPED SIGSTOP", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	EXPECT_EQ("stop reported once", waitpid(c, &st, WUNTRACED | WNOHANG), 0);
	wait_codes(1);
	CHECK("SIGCHLD CLD_STOPPED", ncodes >= 1 && codes[0] == CLD_STOPPED);
	kill(c, SIGCONT);
	EXPECT_EQ("wait WCONTINUED returns child", waitpid(c, &st, WCONTINUED), c);
	CHECK("WIFCONTINUED", WIFCONTINUED(st));
	EXPECT_EQ("continue reported once", waitpid(c, &st, WCONTINUED | WNOHANG), 0);
	wait_codes(2);
	CHECK("SIGCHLD CLD_CONTINUED", ncodes >= 2 && codes[1] == CLD_CONTINUED);

	kill(c, SIGSTOP);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	SYSOK("waitid WSTOPPED|WNOWAIT", waitid(P_PID, c, &si, WSTOPPED | WNOWAIT));
	CHECK("waitid CLD_STOPPED status", si.si_code == CLD_STOPPED && si.si_status == SIGSTOP && si.si_pid == c);
	memset(&si, 0, sizeof si);
	SYSOK("waitid WSTOPPED again", waitid(P_PID, c, &si, WSTOPPED));
	CHECK("still reported after WNOWAIT", si.si_code == CLD_STOPPED);
	kill(c, SIGKILL);
	EXPECT_EQ("stopped child killed", waitpid(c, &st, 0), c);
	CHECK("WTERMSIG SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	ncodes = 0;
	c = spawn_sleeper();
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGCONT);
	waitpid(c, &st, WCONTINUED);
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	wait_codes(1);
	usleep(20000);
	CHECK("SA_NOCLDSTOP: only the death is signalled", ncodes == 1 && codes[0] == CLD_KILLED);

	/* A child in its own new process group whose parent (us) is in
	 * another group of the same session: not orphaned, SIGTSTP stops. */
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(c, c);
	kill(c, SIGTSTP);
	EXPECT_EQ("SIGTSTP stops non-orphaned group", waitpid(c, &st, WUNTRACED), c);
	CHECK("stopped by SIGTSTP", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);

	/* Orphaned: a grandchild that starts its own session has no parent
	 * in its session, so its group is orphaned and ignores SIGTSTP. Its
	 * parent exits, so it is reparented to us (PID 1) and we reap it. */
	c = fork();
	if (c == 0) {
		if (fork() == 0) {
			setsid();
			while (getppid() != 1)
				usleep(1000);
			raise(SIGTSTP);
			_exit(5);
		}
		_exit(0);
	}
	waitpid(c, &st, 0);
	pid_t g = waitpid(-1, &st, WUNTRACED);
	CHECK("SIGTSTP ignored in orphaned group", g > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 5);
	return t_done();
}
