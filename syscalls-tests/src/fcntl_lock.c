/*
 * fcntl_lock: POSIX record locks (F_SETLK, F_SETLKW, F_GETLK), owned by the
 * process (its descriptor table), checked from a forked child.
 * - conflicts: write excludes everything, reads share; own locks never
 *   conflict; F_GETLK reports the first conflict (type, SEEK_SET start,
 *   length with 0 = to EOF, pid) or F_UNLCK leaving the rest untouched
 * - ranges: SEEK_SET/SEEK_CUR/SEEK_END, negative l_len, l_len 0 to EOF;
 *   unlocking the middle splits, adjacent same-type locks merge,
 *   relocking a middle part with another type splits in three
 * - upgrade over another reader -> EAGAIN, leaving the read lock
 * - closing ANY descriptor of the file releases the process's locks;
 *   exit releases them; fork does not inherit them
 * - F_SETLKW waits for the holder, fails with EDEADLK when the holder is
 *   waiting for us, and is interrupted by a signal (EINTR)
 * - errors: bad type -> EINVAL, F_GETLK of F_UNLCK -> EINVAL, bad whence
 *   -> EINVAL, negative start -> EINVAL, overflow -> EOVERFLOW, type vs
 *   open mode -> EBADF, bad pointer -> EFAULT, O_PATH -> EBADF
 */
#include "t.h"
#include <signal.h>
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

static int setlk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* probe runs F_GETLK for a write lock on [start, start+len) in a child and
 * returns a code: 0 for unlocked, else type*1000000 + start*1000 + len,
 * with -1 if the pid is not the parent's. */
static long probe(const char *path, off_t start, off_t len)
{
	pid_t c = fork();
	if (c == 0) {
		int fd = open(path, O_RDWR);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
		if (fcntl(fd, F_GETLK, &fl) != 0)
			_exit(254);
		long code = 0;
		if (fl.l_type != F_UNLCK) {
			code = fl.l_type * 1000000L + fl.l_start * 1000 + fl.l_len;
			if (fl.l_pid != getppid() || fl.l_whence != SEEK_SET)
				code = -1;
		}
		sh[10] = (int)code;
		_exit(0);
	}
	if (child_status(c) != 0)
		return -2;
	return sh[10];
}

int main(void)
{
	t_tmpdir("fcntl_lock");
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", sh == MAP_FAILED ? -1 : 0);
	t_writefile("f", "0123456789");
	int fd = open("f", O_RDWR);
	MUST("open", fd);

	/* Errors. */
	EXPECT_ERRNO("bad type -> EINVAL", setlk(fd, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERRNO("F_GETLK of F_UNLCK -> EINVAL", setlk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1), EINVAL);
	EXPECT_ERRNO("bad whence -> EINVAL", setlk(fd, F_SETLK, F_RDLCK, 5, 0, 1), EINVAL);
	EXPECT_ERRNO("negative start -> EINVAL", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, -1, 1), EINVAL);
	EXPECT_ERRNO("negative length past 0 -> EINVAL", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, -6), EINVAL);
	EXPECT_ERRNO("overflow -> EOVERFLOW", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0x7fffffffffffffffLL, 2), EOVERFLOW);
	EXPECT_ERRNO("bad pointer -> EFAULT", fcntl(fd, F_SETLK, (void *)8), EFAULT);
	int ro = open("f", O_RDONLY), wo = open("f", O_WRONLY);
	EXPECT_ERRNO("F_WRLCK on O_RDONLY -> EBADF", setlk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	EXPECT_ERRNO("F_RDLCK on O_WRONLY -> EBADF", setlk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
	SYSOK("F_GETLK of F_WRLCK on O_RDONLY ok", setlk(ro, F_GETLK, F_WRLCK, SEEK_SET, 0, 1));
	int op = open("f", O_PATH);
	EXPECT_ERRNO("O_PATH -> EBADF", setlk(op, F_GETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	close(op);

	/* F_GETLK without a conflict changes only l_type. */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 3, .l_len = 4, .l_pid = 12345 };
	SYSOK("F_GETLK unlocked", fcntl(fd, F_GETLK, &fl));
	CHECK("F_UNLCK, rest untouched", fl.l_type == F_UNLCK && fl.l_whence == SEEK_CUR &&
	      fl.l_start == 3 && fl.l_len == 4 && fl.l_pid == 12345);

	/* Split and merge, seen from a child. */
	SYSOK("write lock [0,100)", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
	CHECK("own lock does not conflict", setlk(fd, F_GETLK, F_WRLCK, SEEK_SET, 0, 0) == 0);
	EXPECT_EQ("child sees it", probe("f", 50, 1), F_WRLCK * 1000000L + 0 + 100);
	SYSOK("unlock [40,60)", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20));
	EXPECT_EQ("hole is free", probe("f", 45, 10), 0);
	EXPECT_EQ("left part", probe("f", 30, 1), F_WRLCK * 1000000L + 0 + 40);
	EXPECT_EQ("right part", probe("f", 70, 1), F_WRLCK * 1000000L + 60 * 1000 + 40);
	SYSOK("read lock [20,30) inside", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 20, 10));
	EXPECT_EQ("middle is a read lock", probe("f", 25, 1), F_RDLCK * 1000000L + 20 * 1000 + 10);
	EXPECT_EQ("left of it still write", probe("f", 10, 1), F_WRLCK * 1000000L + 0 + 20);
	SYSOK("unlock all", setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	EXPECT_EQ("all free", probe("f", 0, 0), 0);
	SYSOK("read [100,110)", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 100, 10));
	SYSOK("read [110,120)", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 110, 10));
	EXPECT_EQ("adjacent reads merged", probe("f", 105, 1), F_RDLCK * 1000000L + 100 * 1000 + 20);
	SYSOK("negative length: [140,150)", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 150, -10));
	EXPECT_EQ("negative length range", probe("f", 149, 1), F_WRLCK * 1000000L + 140 * 1000 + 10);
	lseek(fd, 200, SEEK_SET);
	SYSOK("SEEK_CUR start", setlk(fd, F_SETLK, F_WRLCK, SEEK_CUR, 5, 5));
	EXPECT_EQ("SEEK_CUR range", probe("f", 207, 1), F_WRLCK * 1000000L + 205 * 1000 + 5);
	SYSOK("SEEK_END to EOF", setlk(fd, F_SETLK, F_WRLCK, SEEK_END, 300, 0));
	EXPECT_EQ("to-EOF lock reports l_len 0", probe("f", 100000, 1), F_WRLCK * 1000000L + 310 * 1000 + 0);
	setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);

	/* Upgrade over another process's reader. */
	SYSOK("read [0,10)", setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	pid_t c = fork();
	if (c == 0) {
		int f2 = open("f", O_RDWR);
		int ok = setlk(f2, F_SETLK, F_RDLCK, SEEK_SET, 5, 10) == 0 &&
			 setlk(f2, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == -1 && errno == EAGAIN;
		sh[0] = 1;
		wait_for(1, 1);
		_exit(ok ? 0 : 1);
	}
	wait_for(0, 1);
	EXPECT_ERRNO("upgrade over another reader -> EAGAIN", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10), EAGAIN);
	SYSOK("upgrade where alone", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 5));
	sh[1] = 1;
	EXPECT_EQ("child: shared read, write refused", child_status(c), 0);
	sh[0] = sh[1] = 0;
	SYSOK("upgrade after the reader exited", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));

	/* Closing another descriptor of the file drops our locks. */
	EXPECT_EQ("locked before close", probe("f", 0, 1), F_WRLCK * 1000000L + 0 + 10);
	close(ro);
	EXPECT_EQ("closing another descriptor released it", probe("f", 0, 1), 0);
	setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10);
	int dup_fd = dup(fd);
	close(dup_fd);
	EXPECT_EQ("closing a dup released it", probe("f", 0, 1), 0);

	/* Locks are not inherited; the child conflicts with the parent. */
	setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10);
	c = fork();
	if (c == 0) {
		int r = setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1);
		_exit(r == -1 && errno == EAGAIN ? 0 : 1);
	}
	EXPECT_EQ("child conflicts on the inherited fd", child_status(c), 0);

	/* F_SETLKW waits for the holder. */
	c = fork();
	if (c == 0) {
		int f2 = open("f", O_RDWR);
		sh[0] = 1;
		int r = setlk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 5, 1);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	EXPECT_EQ("child waiting", sh[1], 0);
	setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 1);
	EXPECT_EQ("F_SETLKW granted after unlock", (child_status(c), sh[1]), 2);
	sh[0] = sh[1] = 0;

	/* Deadlock: the child holds byte 50 and waits for our byte 0. */
	setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
	c = fork();
	if (c == 0) {
		int f2 = open("f", O_RDWR);
		setlk(f2, F_SETLK, F_WRLCK, SEEK_SET, 50, 1);
		sh[0] = 1;
		int r = setlk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	EXPECT_ERRNO("F_SETLKW closing a cycle -> EDEADLK", setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 50, 1), EDEADLK);
	EXPECT_ERRNO("F_SETLK just fails -> EAGAIN", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 50, 1), EAGAIN);
	setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
	EXPECT_EQ("child got the lock after ours went", (child_status(c), sh[1]), 2);
	SYSOK("child's exit released its locks", setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
	sh[0] = sh[1] = 0;

	/* A signal interrupts F_SETLKW. */
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		int f2 = open("f", O_RDWR);
		sh[0] = 1;
		int r = setlk(f2, F_SETLKW, F_RDLCK, SEEK_SET, 0, 1);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	kill(c, SIGUSR1);
	EXPECT_EQ("signal interrupts F_SETLKW with EINTR", (child_status(c), sh[1]), EINTR);
	close(fd);
	close(wo);
	return t_done();
}
