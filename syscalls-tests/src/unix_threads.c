/*
 * unix_threads: AF_UNIX sockets shared by threads of one process.
 * - a server thread accepts and echoes for several client threads at once
 * - two threads receiving on one datagram socket get every datagram
 *   exactly once between them
 * - a thread blocked in recv is woken by another thread's shutdown
 * - signals: a blocked recv interrupted by a handler without SA_RESTART
 *   fails with EINTR; with SA_RESTART it is restarted and gets the data;
 *   with SO_RCVTIMEO set it fails with EINTR even under SA_RESTART
 */
#include "t.h"
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#define NCLIENTS 4

static struct sockaddr_un addr;
static socklen_t addrlen;

static void *server(void *arg)
{
	int l = *(int *)arg;

	for (int i = 0; i < NCLIENTS; i++) {
		int s = accept(l, NULL, NULL);
		char buf[64];
		ssize_t n;

		if (s < 0)
			return (void *)1;
		while ((n = read(s, buf, sizeof buf)) > 0)
			if (write(s, buf, n) != n)
				return (void *)2;
		close(s);
	}
	return NULL;
}

static void *client(void *arg)
{
	long id = (long)arg;
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	char req[32], resp[32];
	int n;

	if (connect(c, (struct sockaddr *)&addr, addrlen) != 0)
		return (void *)1;
	for (int k = 0; k < 5; k++) {
		n = snprintf(req, sizeof req, "thread %ld request %d", id, k);
		if (write(c, req, n) != n)
			return (void *)2;
		if (recv(c, resp, n, MSG_WAITALL) != n || memcmp(req, resp, n) != 0)
			return (void *)3;
	}
	close(c);
	return NULL;
}

static int dgram_fd;
static int counts[2];

static void *receiver(void *arg)
{
	long id = (long)arg;
	char b[8];

	while (recv(dgram_fd, b, sizeof b, 0) == 1) {
		if (b[0] == 'q')
			break;
		counts[id]++;
	}
	return NULL;
}

struct sleeper {
	int fd;
	ssize_t ret;
	int err;
	pthread_t self;
};

static void *blocked_recv(void *arg)
{
	struct sleeper *s = arg;
	char b[8];

	s->ret = recv(s->fd, b, sizeof b, 0);
	s->err = errno;
	return NULL;
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/* interrupted runs a thread blocked in recv on a fresh pair, signals it
 * with SIGUSR1 (handler flags), optionally sends data afterwards, and
 * returns what the recv returned. */
static ssize_t interrupted(int flags, int timeout, int senddata, int *err)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};
	struct sleeper s;
	int sv[2];
	pthread_t th;

	sigaction(SIGUSR1, &sa, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -2;
	if (timeout) {
		struct timeval tv = {10, 0};

		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	s.fd = sv[0];
	handled = 0;
	pthread_create(&th, NULL, blocked_recv, &s);
	usleep(100000);
	pthread_kill(th, SIGUSR1);
	usleep(100000);
	if (senddata)
		write(sv[1], "d", 1);
	else
		shutdown(sv[1], SHUT_WR); /* ends a restarted recv */
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	*err = s.err;
	return s.ret;
}

int main(void)
{
	pthread_t srv, cl[NCLIENTS], rv[2];
	void *ret;
	int l, ok = 1, sv[2], err;
	unsigned int r = 0;

	getrandom(&r, sizeof r, 0);
	addr.sun_family = AF_UNIX;
	addrlen = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(addr.sun_path + 1, 100, "unix_threads-%08x", r);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST("bind", bind(l, (struct sockaddr *)&addr, addrlen));
	MUST("listen", listen(l, NCLIENTS));
	pthread_create(&srv, NULL, server, &l);
	for (long i = 0; i < NCLIENTS; i++)
		pthread_create(&cl[i], NULL, client, (void *)i);
	for (int i = 0; i < NCLIENTS; i++) {
		pthread_join(cl[i], &ret);
		if (ret)
			ok = 0;
	}
	CHECK("every client thread got its echoes", ok);
	pthread_join(srv, &ret);
	CHECK("server thread served them all", ret == NULL);
	close(l);

	SYSOK("dgram socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	dgram_fd = sv[1];
	pthread_create(&rv[0], NULL, receiver, (void *)0);
	pthread_create(&rv[1], NULL, receiver, (void *)1);
	for (int i = 0; i < 200; i++)
		if (send(sv[0], "x", 1, 0) != 1)
			ok = 0;
	send(sv[0], "q", 1, 0);
	send(sv[0], "q", 1, 0);
	pthread_join(rv[0], NULL);
	pthread_join(rv[1], NULL);
	EXPECT_EQ("each datagram received once", counts[0] + counts[1], 200);
	close(sv[0]);
	close(sv[1]);

	{
		struct sleeper s;
		pthread_t th;

		SYSOK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		s.fd = sv[0];
		pthread_create(&th, NULL, blocked_recv, &s);
		usleep(100000);
		SYSOK("shutdown SHUT_RD from another thread", shutdown(sv[0], SHUT_RD));
		pthread_join(th, NULL);
		EXPECT_EQ("the blocked recv returns EOF", s.ret, 0);
		close(sv[0]);
		close(sv[1]);
	}

	EXPECT_EQ("no SA_RESTART: EINTR", interrupted(0, 0, 1, &err), -1);
	EXPECT_EQ("errno", err, EINTR);
	EXPECT_EQ("handler ran", handled, 1);
	EXPECT_EQ("SA_RESTART: restarted, gets the data", interrupted(SA_RESTART, 0, 1, &err), 1);
	EXPECT_EQ("SA_RESTART with SO_RCVTIMEO: EINTR", interrupted(SA_RESTART, 1, 1, &err), -1);
	EXPECT_EQ("errno", err, EINTR);
	return t_done();
}
