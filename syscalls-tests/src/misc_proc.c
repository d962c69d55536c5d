/*
 * misc_proc: times(2), personality(2), sethostname(2)/setdomainname(2)
 * in the caller's own UTS namespace, get_robust_list(2), ioprio_*(2).
 * The UTS part runs in a child that first unshares its UTS namespace
 * natively (so nothing outside changes); in the sandbox the sandbox is
 * that namespace.
 */
#include "t.h"
#include <sched.h>
#include <sys/personality.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/ioprio.h>

int main(void)
{
	struct tms tm;
	clock_t t0 = times(&tm);
	CHECK("times returns elapsed ticks", t0 != (clock_t)-1);
	CHECK("children times start at 0", tm.tms_cutime == 0 && tm.tms_cstime == 0);
	EXPECT_ERRNO("times wild -> EFAULT", syscall(SYS_times, (void *)8), EFAULT);

	int p = personality(0xffffffff);
	EXPECT_EQ("personality starts PER_LINUX", p & 0xff, PER_LINUX);
	EXPECT_EQ("set ADDR_NO_RANDOMIZE returns old", personality(PER_LINUX | ADDR_NO_RANDOMIZE), p);
	EXPECT_EQ("query shows it", personality(0xffffffff), PER_LINUX | ADDR_NO_RANDOMIZE);
	personality(PER_LINUX);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		/* Natively: a UTS namespace of our own; in the sandbox this
		 * fails (namespaces inside are not supported) and the
		 * sandbox's own namespace is the one changed, which is just as
		 * contained. */
		if (unshare(CLONE_NEWUTS) != 0 && errno != ENOSYS)
			_exit(2); /* never touch the host's hostname */
		int ok = sethostname("pangolin-test", 13) == 0;
		struct utsname u;
		uname(&u);
		ok = ok && strcmp(u.nodename, "pangolin-test") == 0;
		ok = ok && setdomainname("dom", 3) == 0 && uname(&u) == 0 && strcmp(u.domainname, "dom") == 0;
		char big[80];
		memset(big, 'x', sizeof big);
		ok = ok && sethostname(big, 65) == -1 && errno == EINVAL;
		ok = ok && syscall(SYS_sethostname, (char *)8, 5) == -1 && errno == EFAULT;
		setresuid(1000, 1000, 1000);
		ok = ok && sethostname("x", 1) == -1 && errno == EPERM;
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK("sethostname/setdomainname with CAP_SYS_ADMIN, errors", WIFEXITED(st) && WEXITSTATUS(st) == 0);

	struct robust_list_head *head;
	size_t len;
	SYSOK("get_robust_list", syscall(SYS_get_robust_list, 0, &head, &len));
	EXPECT_EQ("glibc registered a 24-byte head", len, 24);
	EXPECT_ERRNO("get_robust_list no such pid", syscall(SYS_get_robust_list, 99999, &head, &len), ESRCH);

	EXPECT_EQ("ioprio_get initially 0 (none)", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0), 0);
	SYSOK("ioprio_set BE 7", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)));
	EXPECT_EQ("ioprio_get BE 7", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0), IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
	EXPECT_ERRNO("ioprio_set bad class", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(6, 0)), EINVAL);
	EXPECT_ERRNO("ioprio_set class NONE with a level", syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, 3), EINVAL);
	EXPECT_ERRNO("ioprio bad which", syscall(SYS_ioprio_get, 9, 0), EINVAL);
	return t_done();
}
