/*
 * sched: nice values and scheduling policies as they are set and read
 * back (setpriority(2), sched_setscheduler(2), sched_setattr(2)).
 * - setpriority/getpriority on the caller, another process and a process
 *   group; nice values are clamped to [-20, 19]; children inherit them
 * - an unprivileged process may raise but not lower its nice value
 * - SCHED_FIFO/RR with priorities 1..99, SCHED_OTHER/BATCH/IDLE with 0;
 *   get_priority_max/min; sched_getattr reports policy and nice
 * - errors: bad which/policy/priority EINVAL, no such pid ESRCH
 */
#include "t.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* struct sched_attr (include/uapi/linux/sched/types.h, which clashes with
 * glibc's sched.h). */
struct sched_attr {
	unsigned size, sched_policy;
	unsigned long long sched_flags;
	int sched_nice;
	unsigned sched_priority;
	unsigned long long sched_runtime, sched_deadline, sched_period;
	unsigned sched_util_min, sched_util_max;
};

static int child_nice(void)
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(getpriority(PRIO_PROCESS, 0) + 20);
	int st;
	waitpid(c, &st, 0);
	return WEXITSTATUS(st) - 20;
}

int main(void)
{
	EXPECT_EQ("initial nice 0", getpriority(PRIO_PROCESS, 0), 0);
	SYSOK("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
	EXPECT_EQ("nice 5", getpriority(PRIO_PROCESS, 0), 5);
	EXPECT_EQ("child inherits nice", child_nice(), 5);
	SYSOK("setpriority 100 (clamped)", setpriority(PRIO_PROCESS, 0, 100));
	EXPECT_EQ("clamped to 19", getpriority(PRIO_PROCESS, 0), 19);
	SYSOK("root lowers to -5", setpriority(PRIO_PROCESS, 0, -5));
	EXPECT_EQ("nice -5", getpriority(PRIO_PROCESS, 0), -5);
	SYSOK("pgrp setpriority", setpriority(PRIO_PGRP, 0, 3));
	EXPECT_EQ("pgrp getpriority", getpriority(PRIO_PGRP, 0), 3);
	EXPECT_ERRNO("bad which -> EINVAL", getpriority(9, 0), EINVAL);
	EXPECT_ERRNO("no such pid -> ESRCH", getpriority(PRIO_PROCESS, 99999), ESRCH);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		int ok = setpriority(PRIO_PROCESS, 0, 10) == 0;
		ok = ok && setpriority(PRIO_PROCESS, 0, 5) == -1 && errno == EACCES;
		ok = ok && setpriority(PRIO_PROCESS, 1, 10) == -1 && errno == EPERM;
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("unprivileged: raise ok, lower EACCES, others EPERM", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	EXPECT_EQ("SCHED_OTHER initially", sched_getscheduler(0), SCHED_OTHER);
	struct sched_param p = {.sched_priority = 10};
	SYSOK("SCHED_FIFO 10", sched_setscheduler(0, SCHED_FIFO, &p));
	EXPECT_EQ("getscheduler FIFO", sched_getscheduler(0), SCHED_FIFO);
	struct sched_param q = {0};
	SYSOK("getparam", sched_getparam(0, &q));
	EXPECT_EQ("priority 10", q.sched_priority, 10);
	p.sched_priority = 0;
	SYSOK("back to SCHED_OTHER", sched_setscheduler(0, SCHED_OTHER, &p));
	p.sched_priority = 5;
	EXPECT_ERRNO("OTHER with priority -> EINVAL", sched_setscheduler(0, SCHED_OTHER, &p), EINVAL);
	p.sched_priority = 100;
	EXPECT_ERRNO("FIFO 100 -> EINVAL", sched_setscheduler(0, SCHED_FIFO, &p), EINVAL);
	EXPECT_ERRNO("bad policy -> EINVAL", sched_setscheduler(0, 42, &p), EINVAL);
	EXPECT_ERRNO("NULL param -> EINVAL", sched_setscheduler(0, SCHED_OTHER, NULL), EINVAL);
	EXPECT_ERRNO("no such pid -> ESRCH", sched_getscheduler(99999), ESRCH);
	EXPECT_ERRNO("negative pid -> EINVAL", sched_getscheduler(-1), EINVAL);
	EXPECT_EQ("max FIFO", sched_get_priority_max(SCHED_FIFO), 99);
	EXPECT_EQ("min RR", sched_get_priority_min(SCHED_RR), 1);
	EXPECT_EQ("max OTHER", sched_get_priority_max(SCHED_OTHER), 0);
	EXPECT_ERRNO("max bad policy", sched_get_priority_max(42), EINVAL);
	p.sched_priority = 0;
	SYSOK("SCHED_BATCH", sched_setscheduler(0, SCHED_BATCH, &p));
	struct sched_attr a = {0};
	SYSOK("sched_getattr", syscall(SYS_sched_getattr, 0, &a, sizeof a, 0));
	CHECK("attr: BATCH, nice 3", a.sched_policy == SCHED_BATCH && a.sched_nice == 3);
	struct timespec ts;
	SYSOK("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
	return t_done();
}
