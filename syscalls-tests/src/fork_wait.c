/*
 * fork_wait: fork(2), vfork(2), wait4(2), waitid(2) and process exit.
 * - the child gets a copy of memory (copy-on-write) and its own pid
 * - wait4 reaps exit codes and signals; WNOHANG; ECHILD with no children
 * - SIGCHLD is sent on exit with CLD_EXITED/CLD_KILLED and the child's pid
 * - SIG_IGN / SA_NOCLDWAIT for SIGCHLD reap children automatically
 * - an orphan is reparented to init (us: PID 1) and reaped by us
 * - a clone child with exit signal 0 is waited for only with __WCLONE/__WALL
 * - vfork: the parent resumes after the child's _exit; memory is shared
 */
#define _GNU_SOURCE
#include "t.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static volatile sig_atomic_t chld_code, chld_pid, chld_status;
static void on_chld(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	chld_code = si->si_code;
	chld_pid = si->si_pid;
	chld_status = si->si_status;
}

static int g = 1;

static int clone_fn(void *a)
{
	(void)a;
	return 9;
}

int main(void)
{
	char *big = malloc(4 << 20);
	memset(big, 'p', 4 << 20);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		g = 2;
		big[100] = 'c';
		_exit(big[0] == 'p' && getppid() == 1 ? 3 : 4);
	}
	int st;
	EXPECT_EQ("wait4 returns the child", wait4(c, &st, 0, NULL), c);
	CHECK("exit code 3", WIFEXITED(st) && WEXITSTATUS(st) == 3);
	CHECK("parent memory untouched", g == 1 && big[100] == 'p');
	for (int i = 0; i < 1000 && chld_pid != c; i++)
		usleep(1000);
	CHECK("SIGCHLD CLD_EXITED with pid and status", chld_code == CLD_EXITED && chld_pid == c && chld_status == 3);

	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	EXPECT_EQ("WNOHANG on a live child", waitpid(c, &st, WNOHANG), 0);
	kill(c, SIGTERM);
	EXPECT_EQ("wait killed child", waitpid(c, &st, 0), c);
	CHECK("WTERMSIG SIGTERM", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && !WCOREDUMP(st));
	for (int i = 0; i < 1000 && chld_code != CLD_KILLED; i++)
		usleep(1000);
	CHECK("SIGCHLD CLD_KILLED", chld_code == CLD_KILLED && chld_status == SIGTERM);
	EXPECT_ERRNO("no children -> ECHILD", waitpid(-1, &st, 0), ECHILD);
	EXPECT_ERRNO("wrong pid -> ECHILD", waitpid(12345, &st, 0), ECHILD);

	c = fork();
	if (c == 0) {
		struct rlimit nocore = {0, 0};
		setrlimit(RLIMIT_CORE, &nocore);
		abort();
	}
	waitpid(c, &st, 0);
	CHECK("abort: SIGABRT, no core dumped with RLIMIT_CORE 0", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && !WCOREDUMP(st));

	/* waitid P_ALL with WEXITED fills siginfo. */
	c = fork();
	if (c == 0)
		_exit(17);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	SYSOK("waitid P_ALL", waitid(P_ALL, 0, &si, WEXITED));
	CHECK("waitid siginfo", si.si_pid == c && si.si_code == CLD_EXITED && si.si_status == 17 && si.si_signo == SIGCHLD);
	EXPECT_ERRNO("waitid no flags -> EINVAL", waitid(P_ALL, 0, &si, 0), EINVAL);
	EXPECT_ERRNO("waitid bad idtype -> EINVAL", waitid(7, 0, &si, WEXITED), EINVAL);

	/* Orphan reparenting: the grandchild's parent exits first. */
	c = fork();
	if (c == 0) {
		if (fork() == 0) {
			while (getppid() != 1)
				usleep(1000);
			_exit(21);
		}
		_exit(0);
	}
	waitpid(c, &st, 0);
	pid_t g2 = waitpid(-1, &st, 0);
	CHECK("orphan reaped by init", g2 > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 21);

	/* SIG_IGN for SIGCHLD: children are reaped at once. */
	signal(SIGCHLD, SIG_IGN);
	c = fork();
	if (c == 0)
		_exit(1);
	EXPECT_ERRNO("SIG_IGN SIGCHLD: auto-reaped -> ECHILD", waitpid(c, &st, 0), ECHILD);
	sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	c = fork();
	if (c == 0)
		_exit(1);
	EXPECT_ERRNO("SA_NOCLDWAIT: auto-reaped -> ECHILD", waitpid(c, &st, 0), ECHILD);
	signal(SIGCHLD, SIG_DFL);

	/* A clone child with no exit signal. */
	char *stack = malloc(65536);
	c = clone(clone_fn, stack + 65536, 0, NULL);
	MUST("clone", c);
	EXPECT_ERRNO("plain wait ignores clone child", waitpid(c, &st, WNOHANG), ECHILD);
	EXPECT_EQ("__WCLONE waits for it", waitpid(c, &st, __WCLONE), c);
	CHECK("clone child status 9", WIFEXITED(st) && WEXITSTATUS(st) == 9);

	/* vfork shares memory and suspends the parent. */
	volatile int shared = 0;
	c = vfork();
	if (c == 0) {
		shared = 5;
		_exit(6);
	}
	CHECK("vfork child ran first, memory shared", shared == 5);
	waitpid(c, &st, 0);
	CHECK("vfork child status", WIFEXITED(st) && WEXITSTATUS(st) == 6);
	return t_done();
}
