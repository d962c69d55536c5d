/*
 * rlimit: getrlimit(2), setrlimit(2), prlimit64 on the caller.
 * - lowering the soft limit reads back exactly via both interfaces
 * - soft > hard -> EINVAL; unknown resource -> EINVAL
 * - prlimit64 returns the old value while setting a new one
 * - lowering RLIMIT_NOFILE to 10 makes dup to fd >= 10 fail with EBADF
 *   (F_DUPFD with arg >= limit -> EINVAL) and open beyond it -> EMFILE
 * Printed values are only the ones this program set.
 */
#include "t.h"
#include <sys/resource.h>

int main(void)
{
	struct rlimit rl, got, old;
	SYSOK("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl));
	CHECK("soft <= hard", rl.rlim_cur <= rl.rlim_max);
	struct rlimit lower = { 64, rl.rlim_max };
	SYSOK("setrlimit soft 64", setrlimit(RLIMIT_NOFILE, &lower));
	SYSOK("getrlimit again", getrlimit(RLIMIT_NOFILE, &got));
	EXPECT_EQ("soft reads back 64", got.rlim_cur, 64);
	CHECK("hard unchanged", got.rlim_max == rl.rlim_max);
	struct rlimit l2 = { 32, rl.rlim_max };
	SYSOK("prlimit64 set+get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l2, &old));
	EXPECT_EQ("prlimit64 old soft", old.rlim_cur, 64);
	SYSOK("prlimit64 get only", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &got));
	EXPECT_EQ("prlimit64 reads 32", got.rlim_cur, 32);
	SYSOK("prlimit64 on own pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &got));
	EXPECT_EQ("own pid reads 32", got.rlim_cur, 32);
	struct rlimit bad = { rl.rlim_max, 16 };
	if (rl.rlim_max > 16)
		EXPECT_ERRNO("soft > hard -> EINVAL", setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	else
		t_ok("soft > hard -> EINVAL");
	struct rlimit big = { 100, 50 };
	EXPECT_ERRNO("prlimit64 soft > hard -> EINVAL", syscall(SYS_prlimit64, 0, RLIMIT_STACK, &big, NULL), EINVAL);
	EXPECT_ERRNO("unknown resource -> EINVAL", syscall(SYS_prlimit64, 0, 1000, NULL, &got), EINVAL);
	EXPECT_ERRNO("getrlimit unknown resource -> EINVAL", getrlimit(1000, &got), EINVAL);

	struct rlimit ten = { 10, rl.rlim_max };
	SYSOK("set NOFILE 10", setrlimit(RLIMIT_NOFILE, &ten));
	EXPECT_ERRNO("dup2 to fd 10 -> EBADF", dup2(0, 10), EBADF);
	EXPECT_ERRNO("F_DUPFD 10 -> EINVAL", fcntl(0, F_DUPFD, 10), EINVAL);
	int last = -1, e = 0;
	for (int i = 0; i < 20; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			e = errno;
			break;
		}
		last = fd;
	}
	EXPECT_EQ("highest fd opened is 9", last, 9);
	CHECK("then EMFILE", e == EMFILE);
	struct rlimit as;
	SYSOK("getrlimit STACK", getrlimit(RLIMIT_STACK, &as));
	CHECK("stack soft > 0", as.rlim_cur > 0);
	return t_done();
}
