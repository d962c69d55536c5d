/*
 * pipe_fork: pipes between processes.
 * - a child's data reaches the parent; EOF comes only once every write
 *   end (the parent's, the child's, dups) is closed, exit closing the
 *   child's
 * - a blocking read is woken by a write and by the last writer closing
 * - a blocking write into a full pipe is woken by a reader draining it
 * - a blocking read interrupted by a handler without SA_RESTART fails
 *   with EINTR; with SA_RESTART it resumes and gets the data
 * - descriptors survive execve unless close-on-exec
 */
#include "t.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* child_write forks a child that sleeps ms, writes s (if any) to fd,
 * closes every descriptor of the pipe and exits. */
static pid_t child_write(int p[2], int ms, const char *s)
{
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		close(p[0]);
		usleep(ms * 1000);
		if (s && write(p[1], s, strlen(s)) != (ssize_t)strlen(s))
			_exit(1);
		_exit(0);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	int p[2];
	char buf[64];
	struct sigaction sa;

	/* Data from a child, EOF after every writer. */
	MUST("pipe", pipe(p));
	pid_t pid = child_write(p, 0, "hello");
	EXPECT_EQ("child exited", reap(pid), 0);
	EXPECT_EQ("read child's data", read(p[0], buf, sizeof buf), 5);
	CHECK("child's data", memcmp(buf, "hello", 5) == 0);
	MUST("nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK));
	EXPECT_ERRNO("parent still a writer: EAGAIN, not EOF", read(p[0], buf, sizeof buf), EAGAIN);
	int d = dup(p[1]);
	close(p[1]);
	EXPECT_ERRNO("a dup is still a writer", read(p[0], buf, sizeof buf), EAGAIN);
	close(d);
	EXPECT_EQ("EOF once every writer closed", read(p[0], buf, sizeof buf), 0);
	close(p[0]);

	/* A blocking read woken by a write, then by EOF. */
	MUST("pipe", pipe(p));
	pid = child_write(p, 100, "late");
	close(p[1]);
	EXPECT_EQ("blocking read woken by a write", read(p[0], buf, sizeof buf), 4);
	EXPECT_EQ("blocking read woken by the last close", read(p[0], buf, sizeof buf), 0);
	EXPECT_EQ("writer child", reap(pid), 0);
	close(p[0]);

	/* A blocking write woken by a reader. */
	MUST("pipe", pipe(p));
	pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		close(p[1]);
		usleep(100000);
		size_t got = 0;
		ssize_t n;
		static char in[200000];
		while ((n = read(p[0], in, sizeof in)) > 0)
			got += n;
		_exit(got == 150000 ? 0 : 1);
	}
	close(p[0]);
	{
		static char out[150000];
		EXPECT_EQ("blocking write of more than the pipe holds", write(p[1], out, sizeof out), sizeof out);
	}
	close(p[1]);
	EXPECT_EQ("reader got it all", reap(pid), 0);

	/* Signals during a blocking read. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	MUST("pipe", pipe(p));
	alarm(1);
	EXPECT_ERRNO("read interrupted without SA_RESTART -> EINTR", read(p[0], buf, sizeof buf), EINTR);
	EXPECT_EQ("handler ran", alarms, 1);
	sa.sa_flags = SA_RESTART;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	pid = child_write(p, 1500, "restarted");
	alarm(1);
	EXPECT_EQ("read restarted with SA_RESTART", read(p[0], buf, sizeof buf), 9);
	EXPECT_EQ("handler ran again", alarms, 2);
	EXPECT_EQ("writer child", reap(pid), 0);
	close(p[0]);
	close(p[1]);

	/* execve keeps the descriptor, close-on-exec drops it. */
	for (int cloexec = 0; cloexec < 2; cloexec++) {
		MUST("pipe", pipe2(p, cloexec ? O_CLOEXEC : 0));
		pid = fork();
		MUST("fork", pid);
		if (pid == 0) {
			char cmd[64];
			close(p[0]);
			snprintf(cmd, sizeof cmd, "exec 2>/dev/null; echo exec >&%d", p[1]);
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		close(p[1]);
		ssize_t n = read(p[0], buf, sizeof buf);
		int rc = reap(pid);
		if (cloexec) {
			EXPECT_EQ("close-on-exec: EOF", n, 0);
			CHECK("close-on-exec: the shell's echo failed", rc != 0 && rc != 127);
		} else {
			CHECK("inherited across execve", n == 5 && memcmp(buf, "exec\n", 5) == 0);
			EXPECT_EQ("shell exit", rc, 0);
		}
		close(p[0]);
	}
	return t_done();
}
