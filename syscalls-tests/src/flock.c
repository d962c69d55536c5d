/*
 * flock: flock(2) locks belong to the open file description.
 * - LOCK_SH locks coexist; LOCK_EX excludes others; LOCK_NB -> EWOULDBLOCK
 * - dup'ed and inherited descriptors share the lock (a child's LOCK_UN
 *   releases the parent's); a second open(2) conflicts
 * - converting is not atomic: a failed upgrade loses the old lock
 * - closing one of two descriptors keeps the lock; the last close drops it
 * - a blocked LOCK_EX is granted when the holder unlocks, and is
 *   interrupted by a signal (EINTR without SA_RESTART)
 * - flock and fcntl locks are independent; directories can be locked
 * - errors: bad operation -> EINVAL (before EBADF), bad fd and O_PATH fd
 *   -> EBADF
 */
#include "t.h"
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

static volatile int *sh;

static void wait_for(int idx, int v)
{
	for (int i = 0; i < 5000 && sh[idx] != v; i++)
		usleep(1000);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

int main(void)
{
	t_tmpdir("flock");
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", sh == MAP_FAILED ? -1 : 0);
	t_writefile("f", "data");
	int a = open("f", O_RDWR), b = open("f", O_RDONLY);
	MUST("open", a < 0 || b < 0 ? -1 : 0);
	int a2 = dup(a);

	EXPECT_ERRNO("LOCK_SH|LOCK_EX -> EINVAL", flock(a, LOCK_SH | LOCK_EX), EINVAL);
	EXPECT_ERRNO("0 -> EINVAL", flock(a, 0), EINVAL);
	EXPECT_ERRNO("bad op before bad fd -> EINVAL", flock(999, 0), EINVAL);
	EXPECT_ERRNO("bad fd -> EBADF", flock(999, LOCK_SH), EBADF);
	int p = open("f", O_PATH);
	EXPECT_ERRNO("O_PATH fd -> EBADF", flock(p, LOCK_SH), EBADF);
	close(p);

	SYSOK("LOCK_SH", flock(a, LOCK_SH));
	SYSOK("second LOCK_SH", flock(b, LOCK_SH | LOCK_NB));
	EXPECT_ERRNO("upgrade over another LOCK_SH -> EWOULDBLOCK", flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	SYSOK("failed upgrade lost the old lock", flock(b, LOCK_EX | LOCK_NB));
	EXPECT_ERRNO("now a is excluded", flock(a2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	SYSOK("LOCK_UN", flock(b, LOCK_UN));
	SYSOK("LOCK_UN without a lock", flock(b, LOCK_UN));

	SYSOK("LOCK_EX", flock(a, LOCK_EX | LOCK_NB));
	SYSOK("relock via dup", flock(a2, LOCK_EX | LOCK_NB));
	SYSOK("downgrade via dup", flock(a2, LOCK_SH | LOCK_NB));
	SYSOK("other description may share now", flock(b, LOCK_SH | LOCK_NB));
	EXPECT_ERRNO("but not take LOCK_EX", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	flock(b, LOCK_UN);
	SYSOK("LOCK_EX again", flock(a, LOCK_EX | LOCK_NB));

	/* fcntl locks are a separate namespace. */
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	SYSOK("fcntl lock beside flock", fcntl(b, F_SETLK, &fl));
	fl.l_type = F_UNLCK;
	fcntl(b, F_SETLK, &fl);

	/* Closing one descriptor of two keeps it. */
	close(a);
	EXPECT_ERRNO("kept after closing one descriptor", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(a2);
	SYSOK("dropped with the last descriptor", flock(b, LOCK_EX | LOCK_NB));
	flock(b, LOCK_UN);

	/* A child's LOCK_UN on an inherited descriptor is the parent's. */
	a = open("f", O_RDWR);
	flock(a, LOCK_EX);
	pid_t c = fork();
	if (c == 0) {
		int r = flock(a, LOCK_EX | LOCK_NB); /* already ours */
		flock(a, LOCK_UN);
		_exit(r == 0 ? 0 : 1);
	}
	EXPECT_EQ("child relocks the inherited lock", child_status(c), 0);
	SYSOK("child's LOCK_UN released the parent's lock", flock(b, LOCK_EX | LOCK_NB));
	flock(b, LOCK_UN);

	/* A blocked LOCK_EX waits for the holder. */
	flock(a, LOCK_EX);
	c = fork();
	if (c == 0) {
		int fd = open("f", O_RDONLY);
		sh[0] = 1;
		int r = flock(fd, LOCK_EX);
		sh[1] = r == 0 ? 2 : -errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	EXPECT_EQ("child still blocked", sh[1], 0);
	flock(a, LOCK_UN);
	EXPECT_EQ("blocked LOCK_EX granted after unlock", (child_status(c), sh[1]), 2);

	/* A signal interrupts the wait (no SA_RESTART). */
	sh[0] = sh[1] = 0;
	flock(a, LOCK_EX);
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open("f", O_RDONLY);
		sh[0] = 1;
		int r = flock(fd, LOCK_SH);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	kill(c, SIGUSR1);
	EXPECT_EQ("signal interrupts flock with EINTR", (child_status(c), sh[1]), EINTR);

	/* With SA_RESTART the wait goes on until the lock is free. */
	sh[0] = sh[1] = 0;
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open("f", O_RDONLY);
		sh[0] = 1;
		int r = flock(fd, LOCK_SH);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	kill(c, SIGUSR1);
	usleep(100000);
	EXPECT_EQ("SA_RESTART: still waiting after the signal", sh[1], 0);
	flock(a, LOCK_UN);
	EXPECT_EQ("SA_RESTART: granted after unlock", (child_status(c), sh[1]), 2);

	/* Exit of the holder releases. */
	c = fork();
	if (c == 0) {
		int fd = open("f", O_RDONLY);
		flock(fd, LOCK_EX);
		_exit(0);
	}
	child_status(c);
	SYSOK("a dead process's lock is gone", flock(a, LOCK_EX | LOCK_NB));

	int d1 = open(".", O_RDONLY | O_DIRECTORY), d2 = open(".", O_RDONLY | O_DIRECTORY);
	SYSOK("lock a directory", flock(d1, LOCK_EX | LOCK_NB));
	EXPECT_ERRNO("directory lock excludes", flock(d2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(d1);
	close(d2);
	close(a);
	close(b);
	return t_done();
}
