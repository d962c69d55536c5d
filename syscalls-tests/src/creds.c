/*
 * creds: user and group IDs and capabilities (credentials(7),
 * capabilities(7)).
 * - setresuid/setresgid/setgroups as root; afterwards setuid(0) is EPERM
 * - leaving uid 0 clears the permitted and effective capabilities, unless
 *   PR_SET_KEEPCAPS (then only effective is cleared)
 * - seteuid away from 0 clears effective, back to 0 restores it from
 *   permitted (saved uid 0)
 * - setfsuid returns the previous fsuid
 * - capset may drop and re-raise effective within permitted, never beyond
 * - PR_CAPBSET_DROP removes a capability from the bounding set
 * - unprivileged setgroups is EPERM; bad sizes EINVAL; wild pointers EFAULT
 * - capget with a bad version writes the preferred one and fails EINVAL
 */
#include "t.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int capget_(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capget, &h, d);
}
static int capset_(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capset, &h, d);
}
static int has(unsigned set, int cap) { return (set >> cap) & 1; }

static int run(int (*fn)(void))
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int r = fn();
		fflush(stdout);
		_exit(r);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int drop_all(void)
{
	gid_t g[] = {1000, 1001};
	SYSOK("setgroups", setgroups(2, g));
	SYSOK("setresgid 1000", setresgid(1000, 1000, 1000));
	SYSOK("setresuid 1000", setresuid(1000, 1000, 1000));
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	CHECK("getresuid all 1000", r == 1000 && e == 1000 && s == 1000);
	gid_t gl[4];
	EXPECT_EQ("getgroups", getgroups(4, gl), 2);
	struct __user_cap_data_struct d[2];
	SYSOK("capget", capget_(d));
	CHECK("no capabilities left", d[0].effective == 0 && d[0].permitted == 0);
	EXPECT_ERRNO("setuid(0) -> EPERM", setuid(0), EPERM);
	EXPECT_ERRNO("setgroups unprivileged -> EPERM", setgroups(1, g), EPERM);
	EXPECT_ERRNO("kill init -> EPERM", kill(1, SIGTERM), EPERM);
	CHECK("setfsuid returns previous", setfsuid(1000) == 1000);
	return t_failures;
}

static int keepcaps(void)
{
	SYSOK("PR_SET_KEEPCAPS", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	EXPECT_EQ("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
	SYSOK("setresuid 1000 keeping caps", setresuid(1000, 1000, 1000));
	struct __user_cap_data_struct d[2];
	capget_(d);
	CHECK("keepcaps: permitted kept, effective cleared", has(d[0].permitted, CAP_SETUID) && d[0].effective == 0);
	return t_failures;
}

static int seteuid_dance(void)
{
	SYSOK("seteuid 1000", seteuid(1000));
	struct __user_cap_data_struct d[2];
	capget_(d);
	CHECK("effective cleared, permitted kept", d[0].effective == 0 && has(d[0].permitted, CAP_KILL));
	SYSOK("seteuid 0 (saved uid)", seteuid(0));
	capget_(d);
	CHECK("effective restored", has(d[0].effective, CAP_KILL));
	return t_failures;
}

static int capset_dance(void)
{
	struct __user_cap_data_struct d[2];
	capget_(d);
	d[0].effective &= ~(1u << CAP_CHOWN);
	SYSOK("capset drop CAP_CHOWN from effective", capset_(d));
	d[0].effective |= 1u << CAP_CHOWN;
	SYSOK("capset raise it back from permitted", capset_(d));
	d[0].permitted &= ~(1u << CAP_CHOWN);
	d[0].effective &= ~(1u << CAP_CHOWN);
	SYSOK("capset drop CAP_CHOWN from permitted", capset_(d));
	d[0].effective |= 1u << CAP_CHOWN;
	EXPECT_ERRNO("raise beyond permitted -> EPERM", capset_(d), EPERM);
	SYSOK("PR_CAPBSET_DROP CAP_SYS_BOOT", prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0));
	EXPECT_EQ("PR_CAPBSET_READ", prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0), 0);
	EXPECT_ERRNO("PR_CAPBSET_READ bad cap", prctl(PR_CAPBSET_READ, 1000, 0, 0, 0), EINVAL);
	return t_failures;
}

int main(void)
{
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	CHECK("starts as root", r == 0 && e == 0 && s == 0);
	struct __user_cap_data_struct d[2];
	SYSOK("capget v3", capget_(d));
	CHECK("root has CAP_SETUID, CAP_KILL", has(d[0].effective, CAP_SETUID) && has(d[0].permitted, CAP_KILL));
	struct __user_cap_header_struct h = {0x1234, 0};
	EXPECT_ERRNO("bad version -> EINVAL", syscall(SYS_capget, &h, d), EINVAL);
	EXPECT_EQ("preferred version written back", h.version, _LINUX_CAPABILITY_VERSION_3);
	EXPECT_ERRNO("capget wild header -> EFAULT", syscall(SYS_capget, (void *)8, d), EFAULT);
	EXPECT_ERRNO("setgroups negative -> EINVAL", setgroups(-1, NULL), EINVAL);
	EXPECT_ERRNO("setgroups wild -> EFAULT", syscall(SYS_setgroups, 2, (void *)8), EFAULT);
	EXPECT_ERRNO("setuid(-1) -> EINVAL", syscall(SYS_setuid, -1), EINVAL);
	EXPECT_EQ("drop to 1000", run(drop_all), 0);
	EXPECT_EQ("keepcaps", run(keepcaps), 0);
	EXPECT_EQ("seteuid round trip", run(seteuid_dance), 0);
	EXPECT_EQ("capset rules", run(capset_dance), 0);
	return t_done();
}
