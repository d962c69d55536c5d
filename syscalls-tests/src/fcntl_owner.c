/*
 * fcntl_owner.c - signal-driven I/O (fcntl(2) "Managing signals"):
 * - F_GETOWN/F_GETOWN_EX/F_GETSIG of a new file are 0 / {F_OWNER_TID, 0}
 * - F_SETOWN of a process, of a process group (negative), 0 to clear;
 *   ESRCH for a PID that does not exist, EINVAL for INT_MIN
 * - F_SETOWN_EX with each type; EINVAL for a bad type, EFAULT for a bad
 *   pointer; F_SETSIG range checks
 * - an owner that exited and was reaped reads back as 0
 * - O_ASYNC on a pipe's read end: a write raises SIGIO at the owner; with
 *   F_SETSIG the signal carries si_code POLL_IN, si_fd and si_band
 * - O_ASYNC on a full pipe's write end: a read raises POLL_OUT
 * - no owner, no signal
 * - FIOSETOWN / SIOCGPGRP on a socket are F_SETOWN / F_GETOWN
 */
#include "t.h"
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static volatile sig_atomic_t sigio_count;
static volatile sig_atomic_t rt_count, rt_code, rt_fd;
static volatile long rt_band;

static void on_sigio(int s) { (void)s; sigio_count++; }

static void on_rt(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	rt_count++;
	rt_code = si->si_code;
	rt_fd = si->si_fd;
	rt_band = si->si_band;
}

int main(void)
{
	int p[2];
	if (pipe(p) < 0) {
		t_fail("pipe: %s", t_errname(errno));
		return t_done();
	}
	struct f_owner_ex ex = {.type = 7, .pid = 7};
	EXPECT_EQ("F_GETOWN of a new file", fcntl(p[0], F_GETOWN), 0);
	CHECK("F_GETOWN_EX of a new file", fcntl(p[0], F_GETOWN_EX, &ex) == 0 && ex.type == F_OWNER_TID && ex.pid == 0);
	EXPECT_EQ("F_GETSIG of a new file", fcntl(p[0], F_GETSIG), 0);

	SYSOK("F_SETOWN self", fcntl(p[0], F_SETOWN, getpid()));
	EXPECT_EQ("F_GETOWN is self", fcntl(p[0], F_GETOWN), getpid());
	CHECK("F_GETOWN_EX is F_OWNER_PID self", fcntl(p[0], F_GETOWN_EX, &ex) == 0 && ex.type == F_OWNER_PID && ex.pid == getpid());
	setpgid(0, 0);
	SYSOK("F_SETOWN own process group", fcntl(p[0], F_SETOWN, -getpgrp()));
	EXPECT_EQ("F_GETOWN is -pgrp", fcntl(p[0], F_GETOWN), -getpgrp());
	CHECK("F_GETOWN_EX is F_OWNER_PGRP", fcntl(p[0], F_GETOWN_EX, &ex) == 0 && ex.type == F_OWNER_PGRP && ex.pid == getpgrp());
	EXPECT_ERRNO("F_SETOWN of no such process: ESRCH", fcntl(p[0], F_SETOWN, 999999), ESRCH);
	EXPECT_ERRNO("F_SETOWN INT_MIN: EINVAL", fcntl(p[0], F_SETOWN, INT_MIN), EINVAL);
	SYSOK("F_SETOWN 0 clears", fcntl(p[0], F_SETOWN, 0));
	EXPECT_EQ("F_GETOWN after clearing", fcntl(p[0], F_GETOWN), 0);

	ex.type = F_OWNER_TID;
	ex.pid = gettid();
	SYSOK("F_SETOWN_EX thread", fcntl(p[0], F_SETOWN_EX, &ex));
	EXPECT_EQ("F_GETOWN is the thread", fcntl(p[0], F_GETOWN), gettid());
	ex.type = 3;
	EXPECT_ERRNO("F_SETOWN_EX bad type: EINVAL", fcntl(p[0], F_SETOWN_EX, &ex), EINVAL);
	EXPECT_ERRNO("F_SETOWN_EX bad pointer: EFAULT", fcntl(p[0], F_SETOWN_EX, (void *)8), EFAULT);
	EXPECT_ERRNO("F_GETOWN_EX bad pointer: EFAULT", fcntl(p[0], F_GETOWN_EX, (void *)8), EFAULT);
	ex.type = F_OWNER_PID;
	ex.pid = 999999;
	EXPECT_ERRNO("F_SETOWN_EX of no such process: ESRCH", fcntl(p[0], F_SETOWN_EX, &ex), ESRCH);
	ex.pid = -5;
	EXPECT_ERRNO("F_SETOWN_EX of a negative PID: ESRCH", fcntl(p[0], F_SETOWN_EX, &ex), ESRCH);
	EXPECT_ERRNO("F_SETSIG 65: EINVAL", fcntl(p[0], F_SETSIG, 65), EINVAL);
	EXPECT_ERRNO("F_SETSIG -1: EINVAL", fcntl(p[0], F_SETSIG, -1), EINVAL);
	SYSOK("F_SETSIG SIGRTMIN", fcntl(p[0], F_SETSIG, SIGRTMIN));
	EXPECT_EQ("F_GETSIG", fcntl(p[0], F_GETSIG), SIGRTMIN);
	SYSOK("F_SETSIG 0", fcntl(p[0], F_SETSIG, 0));

	/* An owner that is gone reads back as 0. */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	SYSOK("F_SETOWN child", fcntl(p[0], F_SETOWN, c));
	waitpid(c, NULL, 0);
	EXPECT_EQ("F_GETOWN of a reaped owner", fcntl(p[0], F_GETOWN), 0);

	/* SIGIO on input. */
	struct sigaction sa = {0};
	sa.sa_handler = on_sigio;
	sigaction(SIGIO, &sa, NULL);
	fcntl(p[0], F_SETOWN, getpid());
	SYSOK("O_ASYNC on the read end", fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
	CHECK("F_GETFL shows O_ASYNC", (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
	write(p[1], "a", 1);
	for (int i = 0; i < 100 && sigio_count == 0; i++)
		usleep(1000);
	CHECK("a write raises SIGIO", sigio_count >= 1);
	char buf[65536];
	read(p[0], buf, sizeof buf);

	/* F_SETSIG: a real-time signal with the SIGPOLL siginfo. */
	struct sigaction rs = {0};
	rs.sa_sigaction = on_rt;
	rs.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &rs, NULL);
	fcntl(p[0], F_SETSIG, SIGRTMIN);
	write(p[1], "b", 1);
	for (int i = 0; i < 100 && rt_count == 0; i++)
		usleep(1000);
	CHECK("F_SETSIG signal arrives", rt_count >= 1);
	CHECK("si_code POLL_IN", rt_code == POLL_IN);
	CHECK("si_fd is the read end", rt_fd == p[0]);
	CHECK("si_band has POLLIN", (rt_band & POLLIN) != 0);
	read(p[0], buf, sizeof buf);

	/* No owner, no signal. */
	fcntl(p[0], F_SETOWN, 0);
	int before = rt_count + sigio_count;
	write(p[1], "c", 1);
	usleep(20000);
	CHECK("no owner: no signal", rt_count + sigio_count == before);
	read(p[0], buf, sizeof buf);
	fcntl(p[0], F_SETFL, 0);

	/* POLL_OUT on the write end once a full pipe is read. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (write(p[1], buf, sizeof buf) > 0)
		;
	while (write(p[1], buf, 1) > 0)
		;
	fcntl(p[1], F_SETOWN, getpid());
	fcntl(p[1], F_SETSIG, SIGRTMIN);
	fcntl(p[1], F_SETFL, O_NONBLOCK | O_ASYNC);
	rt_count = 0;
	rt_code = 0;
	read(p[0], buf, 4096);
	for (int i = 0; i < 100 && rt_count == 0; i++)
		usleep(1000);
	CHECK("a read of a full pipe signals the writer", rt_count >= 1);
	CHECK("si_code POLL_OUT", rt_code == POLL_OUT);
	CHECK("si_fd is the write end", rt_fd == p[1]);

	/* Socket ownership ioctls. */
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int who = getpid(), got = -1;
	SYSOK("FIOSETOWN on a socket", ioctl(sv[0], FIOSETOWN, &who));
	CHECK("SIOCGPGRP reads it back", ioctl(sv[0], SIOCGPGRP, &got) == 0 && got == getpid());
	EXPECT_EQ("F_GETOWN agrees", fcntl(sv[0], F_GETOWN), getpid());
	return t_done();
}
