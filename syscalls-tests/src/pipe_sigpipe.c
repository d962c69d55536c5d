/*
 * pipe_sigpipe: writing to a pipe with no reader (pipe_write()).
 * - SIGPIPE ignored: write and writev fail with EPIPE; a zero-length
 *   write still returns 0
 * - with a handler: EPIPE, and the handler runs once with si_code
 *   SI_USER and si_pid the writer's own pid
 * - SIGPIPE blocked: EPIPE, and SIGPIPE stays pending
 * - a blocked writer whose reader leaves gets the count it wrote, and
 *   SIGPIPE too (a default SIGPIPE kills it even so)
 * - a child with the default action dies of SIGPIPE (a shell shows 141)
 * - PID 1 (what the harness makes this program, natively and in the
 *   sandbox) ignores SIGPIPE with the default action, as every signal
 *   sent from inside its namespace: it survives with EPIPE
 */
#include "t.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

static volatile sig_atomic_t handled, code, from_self;

static void on_sigpipe(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	handled++;
	code = si->si_code;
	from_self = si->si_pid == getpid();
}

/* broken returns a pipe's write end whose read end is closed. */
static int broken(void)
{
	int p[2];
	MUST("pipe", pipe(p));
	close(p[0]);
	return p[1];
}

/* fill_then_close waits until the pipe holds 64 KiB, then closes its
 * read end: the child writing into it is blocked or about to be. */
static void fill_then_close(int rfd)
{
	for (int i = 0; i < 2000; i++) {
		int n = 0;
		if (ioctl(rfd, FIONREAD, &n) == 0 && n >= 65536)
			break;
		usleep(5000);
	}
	usleep(50000);
	close(rfd);
}

int main(void)
{
	char buf[8] = "abcdefg";
	struct sigaction sa;

	signal(SIGPIPE, SIG_IGN);
	int w = broken();
	EXPECT_ERRNO("ignored: write -> EPIPE", write(w, buf, 1), EPIPE);
	struct iovec iov = {buf, 4};
	EXPECT_ERRNO("ignored: writev -> EPIPE", writev(w, &iov, 1), EPIPE);
	EXPECT_EQ("zero-length write -> 0", write(w, buf, 0), 0);

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigpipe;
	sa.sa_flags = SA_SIGINFO;
	MUST("sigaction", sigaction(SIGPIPE, &sa, NULL));
	EXPECT_ERRNO("handler: write -> EPIPE", write(w, buf, 1), EPIPE);
	EXPECT_EQ("handler ran once", handled, 1);
	EXPECT_EQ("si_code SI_USER", code, SI_USER);
	CHECK("si_pid is the writer", from_self);

	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	MUST("block", sigprocmask(SIG_BLOCK, &set, NULL));
	EXPECT_ERRNO("blocked: write -> EPIPE", write(w, buf, 1), EPIPE);
	CHECK("blocked: SIGPIPE pending", sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE));
	EXPECT_EQ("blocked: no handler yet", handled, 1);
	MUST("unblock", sigprocmask(SIG_UNBLOCK, &set, NULL));
	EXPECT_EQ("unblocked: handler ran", handled, 2);
	close(w);

	/* A blocked writer whose reader leaves, SIGPIPE ignored. */
	{
		int p[2];
		MUST("pipe", pipe(p));
		pid_t pid = fork();
		MUST("fork", pid);
		if (pid == 0) {
			static char big[100000];
			close(p[0]);
			signal(SIGPIPE, SIG_IGN);
			ssize_t n = write(p[1], big, sizeof big);
			_exit(n == 65536 ? 0 : n == -1 ? 10 + (errno == EPIPE) : 20);
		}
		close(p[1]);
		fill_then_close(p[0]);
		int st;
		MUST("wait", waitpid(pid, &st, 0));
		CHECK("partial write count when the reader leaves", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* The same with the default action: killed although bytes went in. */
	{
		int p[2];
		MUST("pipe", pipe(p));
		pid_t pid = fork();
		MUST("fork", pid);
		if (pid == 0) {
			static char big[100000];
			close(p[0]);
			signal(SIGPIPE, SIG_DFL);
			(void)!write(p[1], big, sizeof big);
			_exit(0);
		}
		close(p[1]);
		fill_then_close(p[0]);
		int st;
		MUST("wait", waitpid(pid, &st, 0));
		CHECK("partial write still raises SIGPIPE", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
	}
	/* A child with the default action dies. */
	{
		pid_t pid = fork();
		MUST("fork", pid);
		if (pid == 0) {
			signal(SIGPIPE, SIG_DFL);
			int cw = broken();
			(void)!write(cw, buf, 1);
			_exit(0);
		}
		int st;
		MUST("wait", waitpid(pid, &st, 0));
		CHECK("default action kills the child", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
	}

	if (getpid() == 1) {
		signal(SIGPIPE, SIG_DFL);
		w = broken();
		EXPECT_ERRNO("PID 1 survives a default SIGPIPE", write(w, buf, 1), EPIPE);
		close(w);
	}
	return t_done();
}
