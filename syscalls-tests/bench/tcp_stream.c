/*
 * tcp_stream: ns per MiB streamed from one process to another over a TCP
 * connection on 127.0.0.1, in 64 KiB writes (512 MiB after a warm-up),
 * timed until the reader has everything. Prints "na REASON" if the
 * loopback network is unavailable.
 */
#define BENCH_TCP
#include "bench.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define CHUNK 65536
#define MIB (1 << 20)

int main(void)
{
	const long mibs = 512, warm = 32;
	static char buf[CHUNK];
	struct sockaddr_in a;
	int s = bench_tcp_listener(&a);
	if (s < 0)
		return 0;
	pid_t pid = fork();
	if (pid < 0) {
		printf("na fork: %s\n", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a) < 0)
			_exit(1);
		for (long left = (mibs + warm) * MIB; left > 0;) {
			int k = write(c, buf, CHUNK);
			if (k <= 0)
				_exit(1);
			left -= k;
		}
		close(c);
		_exit(0);
	}
	int c = accept(s, NULL, NULL);
	long got = 0, n;
	double t = 0;
	while ((n = read(c, buf, sizeof buf)) > 0) {
		got += n;
		if (t == 0 && got >= warm * MIB)
			t = bench_now();
	}
	if (got != (mibs + warm) * MIB) {
		printf("na short transfer\n");
		return 0;
	}
	bench_report(t, mibs);
	waitpid(pid, NULL, 0);
	return 0;
}
