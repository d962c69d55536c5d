/*
 * bench.h - timing helper for the syscall micro-benchmarks. Each benchmark
 * prints one line "ns_per_op <float>" on stdout; run.sh collects them.
 */
#ifndef PANGOLIN_BENCH_H
#define PANGOLIN_BENCH_H
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static inline void bench_report(double start, long iters)
{
	printf("ns_per_op %.1f\n", (bench_now() - start) / iters);
}

#ifdef BENCH_TCP
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* bench_tcp_listener returns a socket listening on 127.0.0.1 at an
 * ephemeral port, written to *a, or -1 after printing "na REASON". */
static inline int bench_tcp_listener(struct sockaddr_in *a)
{
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof *a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof *a) < 0 || listen(s, 1) < 0 ||
	    getsockname(s, (struct sockaddr *)a, &l) < 0) {
		printf("na loopback TCP: %s\n", strerror(errno));
		return -1;
	}
	return s;
}
#endif
#endif
