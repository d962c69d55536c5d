/*
 * proc_threads: /proc as seen by a multithreaded process: task/ lists
 * every thread, Threads and num_threads count them, each thread's
 * task/TID/comm carries its own name (pthread_setname_np writes it), and
 * /proc/thread-self names the calling thread. TIDs are never printed (the
 * native run reads the host's /proc).
 */
#include "t.h"
#include <dirent.h>
#include <pthread.h>

#define NTHREADS 3

static pthread_barrier_t ready, done;
static char self_link[64];
static char thread_self[NTHREADS][128];

static void *worker(void *arg)
{
	long i = (long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%ld", i);
	pthread_setname_np(pthread_self(), name);
	ssize_t n = readlink("/proc/thread-self", thread_self[i], sizeof thread_self[i] - 1);
	thread_self[i][n > 0 ? n : 0] = 0;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&done);
	return NULL;
}

static int count_tasks(char names[][32], int max)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n < max) {
			char p[300];
			snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
			int fd = open(p, O_RDONLY);
			ssize_t r = fd >= 0 ? read(fd, names[n], 31) : -1;
			names[n][r > 0 ? r : 0] = 0;
			if (fd >= 0)
				close(fd);
		}
		n++;
	}
	closedir(d);
	return n;
}

static int cmpstr(const void *a, const void *b) { return strcmp(a, b); }

int main(void)
{
	ssize_t n = readlink("/proc/self", self_link, sizeof self_link - 1);
	self_link[n > 0 ? n : 0] = 0;
	pthread_barrier_init(&ready, NULL, NTHREADS + 1);
	pthread_barrier_init(&done, NULL, NTHREADS + 1);
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
			t_fail("pthread_create");
			return t_done();
		}
	pthread_barrier_wait(&ready);

	char names[8][32];
	int tasks = count_tasks(names, 8);
	EXPECT_EQ("task lists every thread", tasks, NTHREADS + 1);
	qsort(names, tasks < 8 ? tasks : 8, sizeof names[0], cmpstr);
	CHECK("task comms", tasks == 4 && strcmp(names[0], "proc_threads\n") == 0 &&
		strcmp(names[1], "worker-0\n") == 0 && strcmp(names[2], "worker-1\n") == 0 && strcmp(names[3], "worker-2\n") == 0);

	char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	CHECK("status Threads 4", strstr(buf, "\nThreads:\t4\n") != NULL);
	CHECK("status Name is the main thread's", strncmp(buf, "Name:\tproc_threads\n", 19) == 0);

	fd = open("/proc/self/stat", O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *p = strrchr(buf, ')');
	long nthreads = 0;
	if (p) {
		int field = 2;
		for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
			if (++field == 20) {
				nthreads = atol(tok);
				break;
			}
	}
	EXPECT_EQ("stat num_threads 4", nthreads, 4);

	int distinct = 1, under_self = 1;
	char prefix[80];
	snprintf(prefix, sizeof prefix, "%s/task/", self_link);
	for (int i = 0; i < NTHREADS; i++) {
		if (strncmp(thread_self[i], prefix, strlen(prefix)) != 0)
			under_self = 0;
		for (int j = 0; j < i; j++)
			if (strcmp(thread_self[i], thread_self[j]) == 0)
				distinct = 0;
	}
	CHECK("thread-self is under self/task", under_self);
	CHECK("thread-self differs per thread", distinct);

	pthread_barrier_wait(&done);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	tasks = count_tasks(names, 8);
	EXPECT_EQ("task after join: one thread", tasks, 1);
	return t_done();
}
