/*
 * epoll_pipe: epoll(7) on pipe and FIFO ends, which is what event loops
 * (python asyncio, nginx, redis) do with their pipes.
 * - level-triggered: EPOLLIN while data is queued, EPOLLOUT while a slot
 *   is free, EPOLLHUP once the writers are gone, EPOLLERR once the
 *   readers are
 * - edge-triggered read end: every write is an edge, even if the data
 *   before it was not read (pipe_write() always wakes readers)
 * - edge-triggered write end: an edge only when a full pipe gets room
 *   again, or the readers go away
 * - a FIFO opened O_RDONLY|O_NONBLOCK reports no EPOLLHUP before a writer
 *   has come
 * - an epoll_wait blocked on a pipe wakes for data from another process
 */
#include "t.h"
#include <sys/epoll.h>
#include <sys/wait.h>

/* events returns the events epoll_wait reports for the one fd watched by
 * ep within ms, 0 if none. */
static unsigned events(int ep, int ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, ms);
	if (n < 0)
		return 0x80000000u;
	return n == 0 ? 0 : ev[0].events;
}

static int watch(int fd, unsigned ev)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = {.events = ev, .data.fd = fd};
	MUST("epoll_create1", ep);
	MUST("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e));
	return ep;
}

int main(void)
{
	int p[2];
	static char buf[70000];

	t_tmpdir("epoll_pipe");
	/* Level-triggered. */
	MUST("pipe", pipe2(p, O_NONBLOCK));
	int er = watch(p[0], EPOLLIN), ew = watch(p[1], EPOLLOUT);
	EXPECT_EQ("LT empty read end", events(er, 0), 0);
	EXPECT_EQ("LT write end writable", events(ew, 0), EPOLLOUT);
	MUST("write", write(p[1], "x", 1));
	EXPECT_EQ("LT data", events(er, 0), EPOLLIN);
	EXPECT_EQ("LT data again (level)", events(er, 0), EPOLLIN);
	while (write(p[1], buf, sizeof buf) > 0)
		;
	EXPECT_EQ("LT full: not writable", events(ew, 0), 0);
	MUST("read", read(p[0], buf, 4096));
	EXPECT_EQ("LT room again", events(ew, 0), EPOLLOUT);
	close(p[1]);
	EXPECT_EQ("LT data and no writer", events(er, 0), EPOLLIN | EPOLLHUP);
	while (read(p[0], buf, sizeof buf) > 0)
		;
	EXPECT_EQ("LT no writer: EPOLLHUP alone", events(er, 0), EPOLLHUP);
	close(p[0]);
	close(er);
	close(ew);
	MUST("pipe", pipe2(p, O_NONBLOCK));
	ew = watch(p[1], EPOLLOUT);
	close(p[0]);
	EXPECT_EQ("LT no reader: EPOLLOUT|EPOLLERR", events(ew, 0), EPOLLOUT | EPOLLERR);
	close(p[1]);
	close(ew);

	/* Edge-triggered read end. */
	MUST("pipe", pipe2(p, O_NONBLOCK));
	er = watch(p[0], EPOLLIN | EPOLLET);
	EXPECT_EQ("ET nothing yet", events(er, 0), 0);
	MUST("write", write(p[1], "a", 1));
	EXPECT_EQ("ET first write", events(er, 0), EPOLLIN);
	EXPECT_EQ("ET no new edge", events(er, 0), 0);
	MUST("write", write(p[1], "b", 1));
	EXPECT_EQ("ET every write is an edge", events(er, 0), EPOLLIN);
	MUST("read", read(p[0], buf, 1));
	EXPECT_EQ("ET reading is no edge", events(er, 0), 0);
	close(p[1]);
	EXPECT_EQ("ET last writer gone", events(er, 0), EPOLLIN | EPOLLHUP);
	close(p[0]);
	close(er);

	/* Edge-triggered write end. */
	MUST("pipe", pipe2(p, O_NONBLOCK));
	ew = watch(p[1], EPOLLOUT | EPOLLET);
	EXPECT_EQ("ET writable at first", events(ew, 0), EPOLLOUT);
	EXPECT_EQ("ET no new edge", events(ew, 0), 0);
	MUST("write", write(p[1], "a", 1));
	MUST("read", read(p[0], buf, 1));
	EXPECT_EQ("ET read of a non-full pipe is no edge", events(ew, 0), 0);
	while (write(p[1], buf, sizeof buf) > 0)
		;
	EXPECT_EQ("ET full", events(ew, 0), 0);
	MUST("read", read(p[0], buf, 10));
	EXPECT_EQ("ET partial read of a page frees no slot", events(ew, 0), 0);
	MUST("read", read(p[0], buf, 8192));
	EXPECT_EQ("ET room after full is an edge", events(ew, 0), EPOLLOUT);
	close(p[0]);
	EXPECT_EQ("ET last reader gone", events(ew, 0), EPOLLOUT | EPOLLERR);
	close(p[1]);
	close(ew);

	/* A FIFO's reader before any writer. */
	MUST("mkfifo", mkfifo("f", 0600));
	int r = open("f", O_RDONLY | O_NONBLOCK);
	MUST("open fifo", r);
	er = watch(r, EPOLLIN);
	EXPECT_EQ("FIFO: no EPOLLHUP before a writer", events(er, 0), 0);
	int w = open("f", O_WRONLY | O_NONBLOCK);
	MUST("open fifo writer", w);
	MUST("write", write(w, "z", 1));
	EXPECT_EQ("FIFO: data", events(er, 0), EPOLLIN);
	close(w);
	EXPECT_EQ("FIFO: writer gone", events(er, 0), EPOLLIN | EPOLLHUP);
	close(er);
	close(r);

	/* Blocked epoll_wait woken from another process. */
	MUST("pipe", pipe(p));
	er = watch(p[0], EPOLLIN);
	pid_t pid = fork();
	MUST("fork", pid);
	if (pid == 0) {
		usleep(100000);
		_exit(write(p[1], "y", 1) == 1 ? 0 : 1);
	}
	EXPECT_EQ("woken by another process's write", events(er, 5000), EPOLLIN);
	int st;
	MUST("wait", waitpid(pid, &st, 0));
	return t_done();
}
