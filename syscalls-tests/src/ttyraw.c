/*
 * ttyraw.c - non-canonical terminal reads with VMIN and VTIME (termios(3),
 * "Canonical and noncanonical mode"; the kernel's n_tty_read()):
 * - VMIN = 3, VTIME = 0: a read waits for three bytes; a buffer smaller
 *   than VMIN returns when full; poll says readable only at VMIN bytes
 * - VMIN = 0, VTIME > 0: wait up to VTIME for one byte, 0 on time-out
 * - VMIN = 2, VTIME > 0: the timer runs between bytes, from the first one
 * - VMIN = 0, VTIME = 0: a read returns at once, 0 with nothing there
 * - a signal ends a VMIN wait with EINTR (no SA_RESTART) when nothing was
 *   read
 */
#include "t.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <termios.h>

static int m = -1, s = -1;

static void set_mode(int vmin, int vtime)
{
	struct termios tio;
	tcgetattr(s, &tio);
	tio.c_lflag &= ~(ICANON | ECHO);
	tio.c_cc[VMIN] = vmin;
	tio.c_cc[VTIME] = vtime;
	tcsetattr(s, TCSANOW, &tio);
}

struct later {
	useconds_t delay;
	const char *data;
};

/* writer writes data into the master after delay. */
static void *writer(void *arg)
{
	struct later *l = arg;
	usleep(l->delay);
	write(m, l->data, strlen(l->data));
	return NULL;
}

static int readable(int timeout_ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
	char buf[16];
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
		t_fail("posix_openpt: %s", t_errname(errno));
		return t_done();
	}
	char name[64];
	ptsname_r(m, name, sizeof name);
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK("open replica", s >= 0);

	/* VMIN = 3: two bytes now, the third later. */
	set_mode(3, 0);
	write(m, "ab", 2);
	CHECK("VMIN 3: two bytes are not readable for poll", !readable(100));
	pthread_t th;
	struct later l1 = {200000, "c"};
	pthread_create(&th, NULL, writer, &l1);
	ssize_t n = read(s, buf, sizeof buf);
	pthread_join(th, NULL);
	CHECK("VMIN 3: read waits for the third byte", n == 3 && memcmp(buf, "abc", 3) == 0);
	write(m, "defgh", 5);
	CHECK("VMIN 3: five bytes are readable", readable(1000));
	n = read(s, buf, 2);
	CHECK("VMIN 3: a two-byte buffer returns full", n == 2 && memcmp(buf, "de", 2) == 0);
	n = read(s, buf, sizeof buf);
	CHECK("VMIN 3: the rest", n == 3 && memcmp(buf, "fgh", 3) == 0);

	/* VMIN = 0, VTIME = 2 (0.2 s). */
	set_mode(0, 2);
	n = read(s, buf, sizeof buf);
	CHECK("VMIN 0 VTIME 2: time-out reads 0", n == 0);
	struct later l2 = {50000, "x"};
	set_mode(0, 30);
	pthread_create(&th, NULL, writer, &l2);
	n = read(s, buf, sizeof buf);
	pthread_join(th, NULL);
	CHECK("VMIN 0 VTIME 30: a byte within the time", n == 1 && buf[0] == 'x');

	/* VMIN = 2, VTIME = 2: one byte, then the inter-byte timer. */
	set_mode(2, 2);
	struct later l3 = {100000, "y"};
	pthread_create(&th, NULL, writer, &l3);
	n = read(s, buf, sizeof buf);
	pthread_join(th, NULL);
	CHECK("VMIN 2 VTIME 2: the inter-byte timer returns one byte", n == 1 && buf[0] == 'y');

	/* VMIN = 0, VTIME = 0: polling. */
	set_mode(0, 0);
	n = read(s, buf, sizeof buf);
	CHECK("VMIN 0 VTIME 0: nothing there reads 0", n == 0);
	write(m, "zz", 2);
	usleep(50000);
	n = read(s, buf, sizeof buf);
	CHECK("VMIN 0 VTIME 0: what is there", n == 2);

	/* A signal interrupts a VMIN wait. */
	set_mode(4, 0);
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	n = read(s, buf, sizeof buf);
	int e = errno;
	CHECK("VMIN 4: SIGALRM ends the wait with EINTR", n == -1 && e == EINTR);

	/* O_NONBLOCK: what is there, or EAGAIN. */
	fcntl(s, F_SETFL, O_NONBLOCK);
	EXPECT_ERRNO("VMIN 4 O_NONBLOCK: EAGAIN when empty", read(s, buf, sizeof buf), EAGAIN);
	write(m, "q", 1);
	usleep(50000);
	n = read(s, buf, sizeof buf);
	CHECK("VMIN 4 O_NONBLOCK: one byte is returned", n == 1);
	return t_done();
}
