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
#endif
