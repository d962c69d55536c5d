/*
 * posix_shm: POSIX shared memory and named semaphores from glibc, which
 * keeps them as files in /dev/shm (a tmpfs).
 * - shm_open creates a tmpfs file (fstatfs: TMPFS_MAGIC) with the mode
 *   asked; O_EXCL -> EEXIST; shm_unlink, then ENOENT for open and unlink
 * - a mapping of it is shared with a forked child, and with a second
 *   shm_open of the same name in the child
 * - sem_open: a named semaphore shared with a child that opens it by name;
 *   sem_wait blocks until the child's sem_post; sem_trywait -> EAGAIN,
 *   sem_timedwait -> ETIMEDOUT; O_CREAT|O_EXCL on an existing one ->
 *   EEXIST; sem_unlink then sem_open without O_CREAT -> ENOENT
 * - an unnamed process-shared semaphore inside shm_open memory
 */
#include "t.h"
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

int main(void)
{
	char shm[64], sem[64];
	struct stat st;
	struct statfs sfs;

	umask(022);
	/* Random names, never printed: native runs share the host's
	 * /dev/shm, and each is PID 1 of its own namespace, so a pid would
	 * not tell concurrent runs apart. */
	unsigned long long r = 0;
	MUST("getrandom", getrandom(&r, sizeof r, 0) == sizeof r ? 0 : -1);
	snprintf(shm, sizeof shm, "/pangolin_shm_%llx", r);
	snprintf(sem, sizeof sem, "/pangolin_sem_%llx", r);
	shm_unlink(shm);
	sem_unlink(sem);

	int fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0640);
	CHECK("shm_open O_CREAT|O_EXCL", fd >= 0);
	MUST("fstat", fstat(fd, &st));
	CHECK("regular file, mode 0640, empty", S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640 && st.st_size == 0);
	CHECK("on a tmpfs", fstatfs(fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	EXPECT_EQ("FD_CLOEXEC set by shm_open", fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_ERRNO("O_EXCL again -> EEXIST", shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
	SYSOK("ftruncate", ftruncate(fd, 8192));
	int *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("mmap", p != MAP_FAILED);
	p[0] = 1;

	pid_t c = fork();
	if (c == 0) {
		int f2 = shm_open(shm, O_RDWR, 0);
		int *q = f2 < 0 ? MAP_FAILED : mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
		if (q == MAP_FAILED || q[0] != 1)
			_exit(1);
		q[1] = 2;   /* through the child's own mapping */
		p[2] = 3;   /* through the inherited one */
		_exit(0);
	}
	EXPECT_EQ("child opened and mapped it by name", child_status(c), 0);
	CHECK("child stores visible", p[1] == 2 && p[2] == 3);
	int v;
	CHECK("visible to read(2) too", pread(fd, &v, sizeof v, sizeof(int)) == sizeof v && v == 2);

	/* An unnamed process-shared semaphore in the shared object. */
	sem_t *us = (sem_t *)((char *)p + 4096);
	MUST("sem_init", sem_init(us, 1, 0));
	c = fork();
	if (c == 0) {
		usleep(50000);
		sem_post(us);
		_exit(0);
	}
	SYSOK("sem_wait on pshared semaphore in shm", sem_wait(us));
	child_status(c);

	SYSOK("shm_unlink", shm_unlink(shm));
	EXPECT_ERRNO("shm_open after unlink -> ENOENT", shm_open(shm, O_RDWR, 0), ENOENT);
	EXPECT_ERRNO("shm_unlink again -> ENOENT", shm_unlink(shm), ENOENT);
	CHECK("mapping survives the unlink", p[1] == 2);
	munmap(p, 8192);
	close(fd);

	/* Named semaphores. */
	sem_t *s = sem_open(sem, O_CREAT | O_EXCL, 0600, 0);
	CHECK("sem_open O_CREAT|O_EXCL", s != SEM_FAILED);
	CHECK("sem_open O_CREAT|O_EXCL again -> EEXIST",
	      sem_open(sem, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST);
	EXPECT_ERRNO("sem_trywait at 0 -> EAGAIN", sem_trywait(s), EAGAIN);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	EXPECT_ERRNO("sem_timedwait -> ETIMEDOUT", sem_timedwait(s, &ts), ETIMEDOUT);
	c = fork();
	if (c == 0) {
		sem_t *cs = sem_open(sem, 0);
		if (cs == SEM_FAILED)
			_exit(1);
		usleep(100000);
		sem_post(cs);
		sem_post(cs);
		_exit(0);
	}
	SYSOK("sem_wait woken by the child's sem_post", sem_wait(s));
	EXPECT_EQ("child opened it by name", child_status(c), 0);
	int val = -1;
	sem_getvalue(s, &val);
	EXPECT_EQ("second post counted", val, 1);
	SYSOK("sem_trywait", sem_trywait(s));
	SYSOK("sem_close", sem_close(s));
	SYSOK("sem_unlink", sem_unlink(sem));
	CHECK("sem_open after unlink -> ENOENT", sem_open(sem, 0) == SEM_FAILED && errno == ENOENT);
	return t_done();
}
