/*
 * ids: process and credential identity (getpid(2), gettid(2), getppid(2),
 * getuid(2) family, getresuid(2), getpgid(2), getsid(2), getgroups(2)).
 * - gettid() == getpid() in the main thread; pid > 0; ppid > 0
 * - real/effective/saved ids agree with getresuid/getresgid
 * - getpgid(0) == getpgrp(); getsid(0) == getpid() (PID 1 leads its session, as a container init does); getpgid(own pid) == getpgid(0)
 * - getgroups(0, NULL) returns a count >= 0; a too small buffer -> EINVAL
 * - getpgid of a pid that cannot exist -> ESRCH
 */
#include "t.h"

int main(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	pid_t pid = getpid();

	CHECK("pid > 0", pid > 0);
	CHECK("gettid == getpid (main thread)", syscall(SYS_gettid) == pid);
	/* The program is PID 1 of its PID namespace (natively and in the
	 * sandbox), whose parent is outside it: getppid() is 0. */
	CHECK("getppid == 0 for PID 1", getppid() == 0);
	CHECK("getppid != getpid", getppid() != pid);
	SYSOK("getresuid", getresuid(&r, &e, &s));
	CHECK("getuid == real uid", getuid() == r);
	CHECK("geteuid == effective uid", geteuid() == e);
	CHECK("saved uid == effective (no setuid)", s == e);
	SYSOK("getresgid", getresgid(&gr, &ge, &gs));
	CHECK("getgid == real gid", getgid() == gr);
	CHECK("getegid == effective gid", getegid() == ge);
	CHECK("saved gid == effective", gs == ge);
	CHECK("getpgid(0) == getpgrp()", getpgid(0) == getpgrp());
	CHECK("getpgid(pid) == getpgid(0)", getpgid(pid) == getpgid(0));
	CHECK("getpgrp > 0", getpgrp() > 0);
	CHECK("getsid(0) == pid (session leader)", getsid(0) == pid);
	CHECK("getsid(pid) == getsid(0)", getsid(pid) == getsid(0));
	int n = getgroups(0, NULL);
	CHECK("getgroups count >= 0", n >= 0);
	if (n > 0) {
		gid_t g[1];
		if (n > 1)
			EXPECT_ERRNO("getgroups small buffer -> EINVAL", getgroups(1, g), EINVAL);
		else
			SYSOK("getgroups(1)", getgroups(1, g));
	} else {
		t_ok("getgroups small buffer -> EINVAL");
	}
	EXPECT_ERRNO("getpgid(huge pid) -> ESRCH", getpgid(0x3fffffff), ESRCH);
	EXPECT_ERRNO("getsid(huge pid) -> ESRCH", getsid(0x3fffffff), ESRCH);
	EXPECT_ERRNO("getpgid(-1) -> ESRCH", getpgid(-1), ESRCH);
	return t_done();
}
