/*
 * ttybg.c - terminal access from a background process group (the job
 * control of credentials(7) and termios(3); the kernel's
 * __tty_check_change() and n_tty_read()'s job_control()):
 * - a read gets SIGTTIN (the process stops), EIO if SIGTTIN is ignored or
 *   blocked, EINTR after a handler without SA_RESTART
 * - a stopped read, continued once its group is in the foreground, is
 *   restarted and returns the input
 * - a write goes ahead unless TOSTOP is set; then SIGTTOU stops the
 *   writer unless it ignores or blocks SIGTTOU
 * - tcsetattr, tcflush and tcsetpgrp always get SIGTTOU; tcgetattr and
 *   TIOCGWINSZ never do
 * - an orphaned process group gets EIO instead of a stop signal
 *   (ENOTTY for tcsetpgrp)
 */
#include "t.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>

enum op { OP_READ, OP_WRITE, OP_TCSETATTR, OP_TCFLUSH, OP_TCSETPGRP, OP_TCGETATTR, OP_GETWINSZ };
enum disp { D_DFL, D_IGN, D_BLOCK, D_HANDLER };

static int tty = -1;
static volatile sig_atomic_t handled;
static void on_sig(int s)
{
	(void)s;
	handled = 1;
}

/* do_op performs op on the terminal and returns 0 or an errno. */
static int do_op(enum op op)
{
	char c;
	struct termios tio;
	struct winsize ws;
	int r = 0;
	switch (op) {
	case OP_READ:
		r = read(tty, &c, 1) < 0 ? -1 : 0;
		break;
	case OP_WRITE:
		r = write(tty, "w", 1) < 0 ? -1 : 0;
		break;
	case OP_TCSETATTR:
		tcgetattr(tty, &tio);
		r = tcsetattr(tty, TCSANOW, &tio);
		break;
	case OP_TCFLUSH:
		r = tcflush(tty, TCIFLUSH);
		break;
	case OP_TCSETPGRP:
		r = tcsetpgrp(tty, getpgrp());
		break;
	case OP_TCGETATTR:
		r = tcgetattr(tty, &tio);
		break;
	case OP_GETWINSZ:
		r = ioctl(tty, TIOCGWINSZ, &ws);
		break;
	}
	return r < 0 ? errno : 0;
}

static void set_disp(int sig, enum disp d)
{
	struct sigaction sa = {0};
	sa.sa_handler = d == D_IGN ? SIG_IGN : d == D_HANDLER ? on_sig : SIG_DFL;
	sigaction(sig, &sa, NULL); /* no SA_RESTART */
	if (d == D_BLOCK) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_BLOCK, &s, NULL);
	}
}

/* background runs op in a new background process group with disposition
 * d for sig. It returns "stopped by N" as 1000+N, else the op's errno
 * (plus 500 if the handler ran). */
static int background(enum op op, int sig, enum disp d)
{
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		set_disp(sig, d);
		int e = do_op(op);
		_exit((e & 0xff) + (handled ? 100 : 0));
	}
	setpgid(c, c);
	int st = 0;
	waitpid(c, &st, WUNTRACED);
	if (WIFSTOPPED(st)) {
		int s = WSTOPSIG(st);
		kill(c, SIGKILL);
		waitpid(c, &st, 0);
		return 1000 + s;
	}
	if (!WIFEXITED(st))
		return -1;
	int v = WEXITSTATUS(st);
	return v >= 100 ? v - 100 + 500 : v;
}

static void expect(const char *what, int got, int want)
{
	if (got == want)
		t_ok(what);
	else
		t_fail("%s: got %d, want %d", what, got, want);
}

/* leader leads a session whose controlling terminal is name and runs
 * the checks from there; its exit status is 0 if they all passed. */
static int leader(const char *name, int m, int rd, int wr)
{
	if (setsid() < 0)
		return 2;
	tty = open(name, O_RDWR);
	if (tty < 0)
		return 3;
	/* A shell ignores SIGTTOU so that it can take the terminal back. */
	signal(SIGTTOU, SIG_IGN);
	struct termios tio;

	expect("read: stopped by SIGTTIN", background(OP_READ, SIGTTIN, D_DFL), 1000 + SIGTTIN);
	expect("read, SIGTTIN ignored: EIO", background(OP_READ, SIGTTIN, D_IGN), EIO);
	expect("read, SIGTTIN blocked: EIO", background(OP_READ, SIGTTIN, D_BLOCK), EIO);
	expect("read, SIGTTIN handled: EINTR", background(OP_READ, SIGTTIN, D_HANDLER), 500 + EINTR);
	expect("write without TOSTOP goes ahead", background(OP_WRITE, SIGTTOU, D_DFL), 0);
	tcgetattr(tty, &tio);
	tio.c_lflag |= TOSTOP;
	tcsetattr(tty, TCSANOW, &tio);
	expect("write with TOSTOP: stopped by SIGTTOU", background(OP_WRITE, SIGTTOU, D_DFL), 1000 + SIGTTOU);
	expect("write with TOSTOP, SIGTTOU ignored", background(OP_WRITE, SIGTTOU, D_IGN), 0);
	expect("write with TOSTOP, SIGTTOU blocked", background(OP_WRITE, SIGTTOU, D_BLOCK), 0);
	expect("write with TOSTOP, SIGTTOU handled: EINTR", background(OP_WRITE, SIGTTOU, D_HANDLER), 500 + EINTR);
	tio.c_lflag &= ~TOSTOP;
	tcsetattr(tty, TCSANOW, &tio);
	expect("tcsetattr: stopped by SIGTTOU", background(OP_TCSETATTR, SIGTTOU, D_DFL), 1000 + SIGTTOU);
	expect("tcsetattr, SIGTTOU ignored", background(OP_TCSETATTR, SIGTTOU, D_IGN), 0);
	expect("tcflush: stopped by SIGTTOU", background(OP_TCFLUSH, SIGTTOU, D_DFL), 1000 + SIGTTOU);
	expect("tcsetpgrp: stopped by SIGTTOU", background(OP_TCSETPGRP, SIGTTOU, D_DFL), 1000 + SIGTTOU);
	expect("tcgetattr goes ahead", background(OP_TCGETATTR, SIGTTOU, D_DFL), 0);
	expect("TIOCGWINSZ goes ahead", background(OP_GETWINSZ, SIGTTOU, D_DFL), 0);

	/* A read stopped in the background, then continued in the
	 * foreground, restarts and gets the input. */
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_DFL);
		char buf[8] = {0};
		ssize_t n = read(tty, buf, sizeof buf);
		_exit(n == 3 && memcmp(buf, "hi\n", 3) == 0 ? 0 : 1);
	}
	setpgid(c, c);
	int st = 0;
	waitpid(c, &st, WUNTRACED);
	CHECK("restart: stopped first", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
	tcsetpgrp(tty, c);
	kill(c, SIGCONT);
	write(m, "hi\n", 3);
	waitpid(c, &st, 0);
	CHECK("restart: read returns the input once in the foreground", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	tcsetpgrp(tty, getpgrp()); /* SIGTTOU ignored */
	tcflush(tty, TCIFLUSH);

	/* An orphaned group: its member's parent leaves, and the reaper is
	 * outside the session. Results come back through the pipe. */
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			setpgid(0, 0);
			signal(SIGTTIN, SIG_DFL);
			signal(SIGTTOU, SIG_DFL);
			pid_t parent = getppid();
			for (int i = 0; i < 5000 && getppid() == parent; i++)
				usleep(1000);
			tcgetattr(tty, &tio);
			tio.c_lflag |= TOSTOP;
			unsigned char res[4];
			res[0] = do_op(OP_READ);
			res[1] = do_op(OP_TCSETATTR);
			res[2] = do_op(OP_TCSETPGRP);
			res[3] = do_op(OP_WRITE);
			write(wr, res, sizeof res);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(c, NULL, 0);
	unsigned char res[4] = {0};
	CHECK("orphan: reported", read(rd, res, sizeof res) == sizeof res);
	expect("orphan: read EIO", res[0], EIO);
	expect("orphan: tcsetattr EIO", res[1], EIO);
	expect("orphan: tcsetpgrp ENOTTY", res[2], ENOTTY);
	expect("orphan: write without TOSTOP goes ahead", res[3], 0);
	return t_failures ? 1 : 0;
}

int main(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Orphans of the test come back here, outside the test session. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
		t_fail("posix_openpt: %s", t_errname(errno));
		return t_done();
	}
	char name[64];
	ptsname_r(m, name, sizeof name);
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0)
		_exit(leader(name, m, p[0], p[1]));
	int st = 0;
	waitpid(c, &st, 0);
	CHECK("session leader's checks passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The orphan, reparented here. */
	while (wait(NULL) > 0)
		;
	return t_done();
}
