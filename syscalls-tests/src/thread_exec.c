/*
 * thread_exec: execve from a secondary thread (de_thread()).
 * - the other threads die, the process keeps its PID, the exec'ing
 *   thread becomes the leader (gettid() == getpid() in the new image)
 * - a failed execve in a thread leaves the other threads running
 * - robust mutexes: a thread dying with one held gives EOWNERDEAD
 */
#include "t.h"
#include <pthread.h>
#include <sys/wait.h>

static pid_t parent_pid;
static volatile int spin = 1;

static void *spinner(void *a)
{
	(void)a;
	while (spin)
		usleep(1000);
	return NULL;
}

static void *execer(void *a)
{
	(void)a;
	char pid[32];
	snprintf(pid, sizeof pid, "%d", parent_pid);
	execl("/proc/self/exe", "thread_exec", "child", pid, (char *)NULL);
	_exit(99);
}

static pthread_mutex_t rm;

static void *die_holding(void *a)
{
	(void)a;
	pthread_mutex_lock(&rm);
	return NULL; /* exits with the robust mutex held */
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "child") == 0) {
		int ok = atoi(argv[2]) == getpid() && gettid() == getpid();
		return ok ? 7 : 8;
	}
	EXPECT_ERRNO("failed execve in a thread", execl("/nonexistent", "x", (char *)NULL), ENOENT);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		parent_pid = getpid();
		pthread_t s1, s2, e;
		pthread_create(&s1, NULL, spinner, NULL);
		pthread_create(&s2, NULL, spinner, NULL);
		pthread_create(&e, NULL, execer, NULL);
		pthread_join(s1, NULL);
		_exit(98);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("exec from thread: same pid, leader tid", WIFEXITED(st) && WEXITSTATUS(st) == 7);

	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &at);
	pthread_t d;
	pthread_create(&d, NULL, die_holding, NULL);
	pthread_join(d, NULL);
	int r = pthread_mutex_lock(&rm);
	EXPECT_EQ("robust mutex owner died -> EOWNERDEAD", r, EOWNERDEAD);
	EXPECT_EQ("consistent after recovery", pthread_mutex_consistent(&rm), 0);
	pthread_mutex_unlock(&rm);
	EXPECT_EQ("lock again", pthread_mutex_lock(&rm), 0);
	pthread_mutex_unlock(&rm);
	return t_done();
}
