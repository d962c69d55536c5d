/*
 * ofd_lock: open file description locks (F_OFD_SETLK, F_OFD_SETLKW,
 * F_OFD_GETLK).
 * - owned by the description: two open(2)s in one process conflict, a dup
 *   or an inherited descriptor is the same owner (a child may unlock it)
 * - F_OFD_GETLK reports l_pid -1; F_GETLK sees OFD locks too (-1)
 * - OFD and POSIX locks conflict with each other, even in one process
 * - closing a dup or an unrelated descriptor of the file keeps them; the
 *   description's last close releases them
 * - F_OFD_SETLKW waits for the holder
 * - l_pid must be 0 (EINVAL); other errors as for POSIX locks
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

static int child_status(pid_t c)
{
	int ws;
	if (waitpid(c, &ws, 0) != c || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* getlk returns the conflicting lock's type*1000 + l_pid sign (1 for -1)
 * for a write lock at [start, start+1) via fd, or 0. */
static int getlk(int fd, int cmd, off_t start)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };
	if (fcntl(fd, cmd, &fl) != 0)
		return -errno;
	if (fl.l_type == F_UNLCK)
		return 0;
	return fl.l_type * 1000 + (fl.l_pid == -1 ? 1 : 2);
}

int main(void)
{
	t_tmpdir("ofd_lock");
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", sh == MAP_FAILED ? -1 : 0);
	t_writefile("f", "0123456789");
	int a = open("f", O_RDWR), b = open("f", O_RDWR);
	MUST("open", a < 0 || b < 0 ? -1 : 0);

	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1, .l_pid = 1 };
	EXPECT_ERRNO("F_OFD_SETLK with l_pid -> EINVAL", fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	EXPECT_ERRNO("F_OFD_GETLK with l_pid -> EINVAL", fcntl(a, F_OFD_GETLK, &fl), EINVAL);
	EXPECT_ERRNO("F_OFD_SETLKW with l_pid -> EINVAL", fcntl(a, F_OFD_SETLKW, &fl), EINVAL);
	EXPECT_ERRNO("bad type -> EINVAL", lk(a, F_OFD_SETLK, 9, 0, 1), EINVAL);

	SYSOK("OFD write lock [0,10) via a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	EXPECT_ERRNO("second description conflicts -> EAGAIN", lk(b, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	EXPECT_EQ("F_OFD_GETLK via b: write lock, pid -1", getlk(b, F_OFD_GETLK, 0), F_WRLCK * 1000 + 1);
	EXPECT_EQ("F_OFD_GETLK via a: own lock", getlk(a, F_OFD_GETLK, 0), 0);
	EXPECT_EQ("F_GETLK sees the OFD lock too", getlk(a, F_GETLK, 0), F_WRLCK * 1000 + 1);
	EXPECT_ERRNO("POSIX lock in the same process conflicts", lk(a, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
	SYSOK("POSIX lock elsewhere", lk(a, F_SETLK, F_WRLCK, 20, 1));
	EXPECT_ERRNO("OFD lock over our POSIX lock conflicts", lk(b, F_OFD_SETLK, F_RDLCK, 20, 1), EAGAIN);
	EXPECT_EQ("F_OFD_GETLK reports the POSIX owner's pid", getlk(b, F_OFD_GETLK, 20), F_WRLCK * 1000 + 2);
	lk(a, F_SETLK, F_UNLCK, 20, 1);

	int a2 = dup(a);
	SYSOK("dup is the same owner", lk(a2, F_OFD_SETLK, F_WRLCK, 0, 20));
	close(a2);
	EXPECT_ERRNO("closing the dup keeps it", lk(b, F_OFD_SETLK, F_RDLCK, 15, 1), EAGAIN);
	int c3 = open("f", O_RDONLY);
	close(c3);
	EXPECT_ERRNO("closing an unrelated descriptor keeps it", lk(b, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);

	/* Inherited descriptor: same owner in the child. */
	pid_t c = fork();
	if (c == 0) {
		int ok = lk(a, F_OFD_SETLK, F_WRLCK, 0, 20) == 0;
		ok = ok && lk(b, F_OFD_SETLK, F_WRLCK, 0, 1) == -1 && errno == EAGAIN;
		ok = ok && lk(a, F_OFD_SETLK, F_UNLCK, 10, 10) == 0;
		_exit(ok ? 0 : 1);
	}
	EXPECT_EQ("child shares the owner", child_status(c), 0);
	SYSOK("child's unlock is the description's", lk(b, F_OFD_SETLK, F_WRLCK, 10, 10));
	lk(b, F_OFD_SETLK, F_UNLCK, 0, 0);

	/* F_OFD_SETLKW in a child waits for us. */
	c = fork();
	if (c == 0) {
		int f2 = open("f", O_RDWR);
		sh[0] = 1;
		int r = lk(f2, F_OFD_SETLKW, F_RDLCK, 5, 1);
		sh[1] = r == 0 ? 2 : errno;
		_exit(0);
	}
	wait_for(0, 1);
	usleep(100000);
	EXPECT_EQ("child waiting", sh[1], 0);
	lk(a, F_OFD_SETLK, F_UNLCK, 0, 10);
	EXPECT_EQ("granted after unlock", (child_status(c), sh[1]), 2);
	sh[0] = sh[1] = 0;

	/* Last close releases. */
	SYSOK("relock via a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	close(a);
	SYSOK("last close released it", lk(b, F_OFD_SETLK, F_WRLCK, 0, 10));
	close(b);
	return t_done();
}
