/*
 * tcp_pingpong: ns per round trip of one byte between two processes over a
 * TCP connection on 127.0.0.1 (TCP_NODELAY on both ends: send, the other
 * side reads and sends back, read). Prints "na REASON" if the loopback
 * network is unavailable.
 */
#define BENCH_TCP
#include "bench.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

int main(void)
{
	const long n = 20000;
	struct sockaddr_in a;
	int one = 1;
	int s = bench_tcp_listener(&a);
	if (s < 0)
		return 0;
	pid_t pid = fork();
	if (pid < 0) {
		printf("na fork: %s\n", strerror(errno));
		return 0;
	}
	char c = 'x';
	if (pid == 0) {
		int c2 = accept(s, NULL, NULL);
		setsockopt(c2, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		for (;;) {
			if (read(c2, &c, 1) != 1)
				_exit(0);
			if (write(c2, &c, 1) != 1)
				_exit(1);
		}
	}
	close(s);
	int c1 = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c1, (struct sockaddr *)&a, sizeof a) < 0) {
		printf("na connect: %s\n", strerror(errno));
		return 0;
	}
	setsockopt(c1, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (int i = 0; i < 100; i++)
		if (write(c1, &c, 1) != 1 || read(c1, &c, 1) != 1)
			return 1;
	double t = bench_now();
	for (long i = 0; i < n; i++)
		if (write(c1, &c, 1) != 1 || read(c1, &c, 1) != 1)
			return 1;
	bench_report(t, n);
	close(c1);
	waitpid(pid, NULL, 0);
	return 0;
}
