/* The app's stdin is a host terminal (the harness gives it a pty). Input
 * injection (TIOCSTI), taking the terminal as controlling tty, job control
 * on host process groups, console redirection: refused (ENOTTY); the sentry
 * passes only attributes and window size through. The harness checks that
 * nothing was queued on the host terminal. */
// escape: pty
#include "e.h"
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
	struct termios t;
	CHECK("stdin is a terminal", tcgetattr(0, &t) == 0);
	const char *s = "id\n";
	for (const char *c = s; *c; c++)
		EXPECT_ERRNO("TIOCSTI", ioctl(0, TIOCSTI, c), ENOTTY);
	EXPECT_ERRNO("TIOCSCTTY", ioctl(0, TIOCSCTTY, 1), ENOTTY);
	pid_t pg = 1;
	EXPECT_ERRNO("TIOCSPGRP", ioctl(0, TIOCSPGRP, &pg), ENOTTY);
	EXPECT_ERRNO("TIOCCONS", ioctl(0, TIOCCONS), ENOTTY);
	char sub = 6; /* TIOCL_GETSHIFTSTATE */
	EXPECT_ERRNO("TIOCLINUX", ioctl(0, TIOCLINUX, &sub), ENOTTY);
	EXPECT_ERRNO("TIOCSETD (line discipline)", ioctl(0, TIOCSETD, &(int){0}), ENOTTY);
	EXPECT_ERRNO("TIOCNOTTY", ioctl(0, TIOCNOTTY), ENOTTY);
	return t_done();
}
