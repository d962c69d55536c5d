/*
 * fifo: named pipes (fifo(7), fs/pipe.c: fifo_open()), on the tmpfs /tmp
 * and in a directory of the root filesystem (the test binary's own).
 * - mkfifo and mknod(S_IFIFO) make FIFOs; stat and fstat agree
 * - O_RDONLY|O_NONBLOCK opens with no writer, reads EOF, and polls with
 *   no POLLHUP until a writer has come and gone
 * - O_WRONLY|O_NONBLOCK with no reader -> ENXIO; with one it opens
 * - O_RDWR never blocks; O_PATH never opens the pipe
 * - blocking O_RDONLY waits for a writer, O_WRONLY for a reader; a
 *   signal interrupts the wait (EINTR, or restart with SA_RESTART)
 * - every open of one inode (other names too) shares one pipe, whose
 *   data is dropped when the last file closes
 * - lseek -> ESPIPE; F_GETPIPE_SZ works; /proc/self/fd shows the path
 */
#include "t.h"
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static short revents(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* opener forks a child that sleeps ms, opens path with flags, writes s
 * (if any), sleeps 200 ms and exits. */
static pid_t opener(const char *path, int flags, int ms, const char *s)
{
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(ms * 1000);
		int fd = open(path, flags);
		if (fd < 0)
			_exit(1);
		if (s && write(fd, s, strlen(s)) != (ssize_t)strlen(s))
			_exit(2);
		usleep(200000);
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

static void check_fifo(const char *where, const char *dir)
{
	char path[300], link2[300];
	char buf[64];
	struct stat st, fst;
	struct sigaction sa;

	printf("-- %s\n", where);
	snprintf(path, sizeof path, "%s/fifo", dir);
	snprintf(link2, sizeof link2, "%s/fifo2", dir);
	unlink(path);
	unlink(link2);
	SYSOK("mkfifo", mkfifo(path, 0666));
	CHECK("stat S_IFIFO, umask applied", stat(path, &st) == 0 && st.st_mode == (S_IFIFO | 0644));
	EXPECT_ERRNO("mkfifo again -> EEXIST", mkfifo(path, 0666), EEXIST);

	/* Non-blocking reader without a writer. */
	int r = open(path, O_RDONLY | O_NONBLOCK);
	CHECK("O_RDONLY|O_NONBLOCK opens without a writer", r >= 0);
	CHECK("fstat is the FIFO's inode", fstat(r, &fst) == 0 && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev && S_ISFIFO(fst.st_mode));
	EXPECT_EQ("read without a writer -> EOF", read(r, buf, sizeof buf), 0);
	EXPECT_EQ("no POLLHUP before any writer", revents(r), 0);
	EXPECT_ERRNO("lseek -> ESPIPE", lseek(r, 0, SEEK_SET), ESPIPE);
	EXPECT_EQ("F_GETPIPE_SZ", fcntl(r, F_GETPIPE_SZ), 65536);
	{
		char fdp[64], target[300];
		snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", r);
		ssize_t n = readlink(fdp, target, sizeof target - 1);
		target[n > 0 ? n : 0] = 0;
		CHECK("/proc/self/fd shows the path", n > 0 && strcmp(target, path) == 0);
	}

	/* Writers. */
	int w = open(path, O_WRONLY | O_NONBLOCK);
	CHECK("O_WRONLY|O_NONBLOCK with a reader opens", w >= 0);
	EXPECT_EQ("reader polls empty", revents(r), 0);
	EXPECT_EQ("writer polls writable", revents(w), POLLOUT);
	EXPECT_EQ("write", write(w, "abc", 3), 3);
	EXPECT_EQ("reader polls readable", revents(r), POLLIN);
	EXPECT_EQ("read", read(r, buf, sizeof buf), 3);
	CHECK("data", memcmp(buf, "abc", 3) == 0);
	SYSOK("link the FIFO", link(path, link2));
	int w2 = open(link2, O_WRONLY | O_NONBLOCK);
	CHECK("another name, same pipe", w2 >= 0 && write(w2, "xy", 2) == 2 && read(r, buf, sizeof buf) == 2 && memcmp(buf, "xy", 2) == 0);
	close(w2);
	close(w);
	EXPECT_EQ("POLLHUP after the writers left", revents(r), POLLHUP);
	EXPECT_EQ("EOF after the writers left", read(r, buf, sizeof buf), 0);
	w = open(path, O_WRONLY | O_NONBLOCK);
	EXPECT_EQ("a new writer clears POLLHUP", revents(r), 0);
	close(w);
	close(r);
	EXPECT_ERRNO("O_WRONLY|O_NONBLOCK without a reader -> ENXIO", open(path, O_WRONLY | O_NONBLOCK), ENXIO);

	/* O_RDWR and O_PATH. */
	int rw = open(path, O_RDWR);
	CHECK("O_RDWR opens at once", rw >= 0);
	EXPECT_EQ("O_RDWR polls writable", revents(rw), POLLOUT);
	EXPECT_EQ("O_RDWR write", write(rw, "self", 4), 4);
	EXPECT_EQ("O_RDWR polls both", revents(rw), POLLIN | POLLOUT);
	w = open(path, O_WRONLY | O_NONBLOCK);
	CHECK("O_RDWR counts as a reader", w >= 0);
	close(w);
	EXPECT_EQ("O_RDWR read", read(rw, buf, sizeof buf), 4);
	EXPECT_EQ("O_RDWR write again", write(rw, "gone", 4), 4);
	close(rw);
	rw = open(path, O_RDWR | O_NONBLOCK);
	EXPECT_ERRNO("data dropped with the last close", read(rw, buf, sizeof buf), EAGAIN);
	close(rw);
	int op = open(path, O_PATH);
	CHECK("O_PATH opens without a partner", op >= 0);
	EXPECT_ERRNO("O_PATH read -> EBADF", read(op, buf, 1), EBADF);
	close(op);
	EXPECT_ERRNO("O_PATH did not count as a reader", open(path, O_WRONLY | O_NONBLOCK), ENXIO);

	/* Blocking opens wait for the other side. */
	pid_t pid = opener(path, O_WRONLY, 100, "from writer");
	r = open(path, O_RDONLY);
	CHECK("blocking O_RDONLY returns once a writer opens", r >= 0);
	EXPECT_EQ("read the writer's data", read(r, buf, sizeof buf), 11);
	EXPECT_EQ("then EOF", read(r, buf, sizeof buf), 0);
	EXPECT_EQ("writer child", reap(pid), 0);
	close(r);
	pid = opener(path, O_RDONLY, 100, NULL);
	w = open(path, O_WRONLY);
	CHECK("blocking O_WRONLY returns once a reader opens", w >= 0);
	EXPECT_EQ("reader child", reap(pid), 0);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_ERRNO("reader gone -> EPIPE", write(w, "x", 1), EPIPE);
	close(w);

	/* Signals during a blocking open. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	alarms = 0;
	alarm(1);
	EXPECT_ERRNO("blocking open interrupted -> EINTR", open(path, O_RDONLY), EINTR);
	EXPECT_EQ("handler ran", alarms, 1);
	EXPECT_ERRNO("the interrupted open left no reader", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
	sa.sa_flags = SA_RESTART;
	MUST("sigaction", sigaction(SIGALRM, &sa, NULL));
	pid = opener(path, O_RDONLY, 1500, NULL);
	alarm(1);
	w = open(path, O_WRONLY);
	CHECK("blocking open restarted with SA_RESTART", w >= 0);
	EXPECT_EQ("handler ran again", alarms, 2);
	close(w);
	EXPECT_EQ("reader child", reap(pid), 0);
	signal(SIGALRM, SIG_DFL);

	/* mknod(S_IFIFO), and a FIFO stays usable once unlinked. */
	SYSOK("unlink", unlink(path));
	SYSOK("unlink link", unlink(link2));
	SYSOK("mknod S_IFIFO", mknod(path, S_IFIFO | 0600, 0));
	rw = open(path, O_RDWR);
	SYSOK("unlink while open", unlink(path));
	CHECK("unlinked FIFO still works", write(rw, "z", 1) == 1 && read(rw, buf, 1) == 1 && buf[0] == 'z');
	close(rw);
}

int main(void)
{
	char exe[256], rootdir[300];

	t_tmpdir("fifo");
	check_fifo("tmp", t_dir);

	/* The directory holding this program is on the root filesystem. */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	MUST("readlink exe", n);
	exe[n] = 0;
	snprintf(rootdir, sizeof rootdir, "%s/fifo.XXXXXX", dirname(exe));
	if (!mkdtemp(rootdir)) {
		t_fail("setup mkdtemp in the program's directory: errno=%s", t_errname(errno));
		return t_done();
	}
	check_fifo("rootfs", rootdir);
	rmdir(rootdir);
	return t_done();
}
