/* A FIFO and a listening unix socket planted in the rootfs by the host.
 * The gofer never opens either: the sandbox's FIFO is a pipe of the
 * sentry's (nothing written reaches the host's reader, which the harness
 * checks), and the sandbox's AF_UNIX sockets are the sentry's own: they
 * never connect to the host's (ECONNREFUSED; the harness checks its
 * listener saw nothing). */
#include "e.h"
#include <sys/socket.h>
#include <sys/un.h>

int main(void)
{
	struct stat st;
	CHECK("planted FIFO visible", stat("/escape/fifo", &st) == 0 && S_ISFIFO(st.st_mode));
	int r = open("/escape/fifo", O_RDONLY | O_NONBLOCK);
	CHECK("open the FIFO for reading (sentry pipe)", r >= 0);
	char b[64];
	/* No writer anywhere: end of file, as Linux reads an empty FIFO
	 * without writers. A host writer (there is none) would have to be on
	 * the host FIFO, which the sandbox's is not. */
	EXPECT_EQ("nothing from the host arrives (EOF)", read(r, b, sizeof b), 0);
	int w = open("/escape/fifo", O_WRONLY | O_NONBLOCK);
	CHECK("a sandbox writer finds the sandbox reader", w >= 0 && write(w, "in", 2) == 2);
	CHECK("and the reader gets it", read(r, b, sizeof b) == 2);

	CHECK("planted socket visible", stat("/escape/sock", &st) == 0 && S_ISSOCK(st.st_mode));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("socket(AF_UNIX) (the sentry's own)", s >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, "/escape/sock");
	EXPECT_ERRNO("connect to the host's socket", connect(s, (struct sockaddr *)&sa, sizeof sa), ECONNREFUSED);
	EXPECT_ERRNO("open the socket file", open("/escape/sock", O_RDWR), ENXIO);
	/* Binding over it does not take the host's address either. */
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_ERRNO("bind to the host socket's path", bind(s2, (struct sockaddr *)&sa, sizeof sa), EADDRINUSE);
	return t_done();
}
