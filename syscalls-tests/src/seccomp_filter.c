/* seccomp_filter: seccomp(2) and prctl(PR_SET_SECCOMP) as applications use
 * them to sandbox themselves: strict mode, BPF filters and their actions,
 * stacking, argument checks, inheritance, TSYNC, validation errors and the
 * /proc/self/status lines. Everything that installs a filter does so in a
 * forked child. */
#include "t.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

#define NR_OFF offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#define ARG0_HI (offsetof(struct seccomp_data, args[0]) + 4)

static long install(struct sock_filter *f, unsigned short n, unsigned flags)
{
	struct sock_fprog p = { .len = n, .filter = f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* deny installs a filter returning ret for syscall nr, allowing the rest. */
static long deny(int nr, unsigned ret, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	return install(f, sizeof f / sizeof f[0], flags);
}

static long allow_all(void)
{
	struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };

	return install(f, 1, 0);
}

/* child runs fn in a forked child with no_new_privs set and returns its
 * wait status; the child's failures are added to ours. */
static int child(void (*fn)(void), int nnp)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		t_failures = 0;
		/* A killed child must not leave a core file behind. */
		prctl(PR_SET_DUMPABLE, 0);
		if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
			t_fail("setup no_new_privs: errno=%s", t_errname(errno));
			_exit(1);
		}
		fn();
		fflush(stdout);
		_exit(t_failures);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		t_fail("setup fork/wait: errno=%s", t_errname(errno));
		return -1;
	}
	if (WIFEXITED(st))
		t_failures += WEXITSTATUS(st);
	return st;
}

static long getpid_arg(unsigned long a)
{
	return syscall(SYS_getpid, a);
}

/* status_has reports whether /proc/self/status contains line. */
static int status_has(const char *line)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, line) != NULL;
}

static void c_eacces(void)
{
	MUST("setuid nobody", setuid(65534));
	EXPECT_ERRNO("filter without no_new_privs or CAP_SYS_ADMIN", allow_all(), EACCES);
	EXPECT_ERRNO("prctl filter without no_new_privs", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL), EFAULT);
	MUST("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	EXPECT_EQ("filter with no_new_privs as nobody", allow_all(), 0);
}

static void c_errno(void)
{
	EXPECT_EQ("install ERRNO(EPERM) for getpid", deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0), 0);
	EXPECT_ERRNO("getpid fails with EPERM", syscall(SYS_getpid), EPERM);
	SYSOK("getppid still works", syscall(SYS_getppid));
	EXPECT_EQ("PR_GET_SECCOMP is 2", prctl(PR_GET_SECCOMP), 2);
	CHECK("status Seccomp 2", status_has("Seccomp:\t2\n"));
	CHECK("status Seccomp_filters 1", status_has("Seccomp_filters:\t1\n"));
	EXPECT_ERRNO("strict mode after filter", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT), EINVAL);
}

static void c_errno_data(void)
{
	deny(SYS_getppid, SECCOMP_RET_ERRNO | 0, 0);
	EXPECT_EQ("ERRNO(0) returns 0 without running", syscall(SYS_getppid), 0);
	deny(SYS_getuid, SECCOMP_RET_ERRNO | 0xffff, 0);
	EXPECT_ERRNO("ERRNO data capped at MAX_ERRNO", syscall(SYS_getuid), 4095);
	deny(SYS_getgid, SECCOMP_RET_TRACE, 0);
	EXPECT_ERRNO("TRACE without tracer", syscall(SYS_getgid), ENOSYS);
	deny(SYS_getegid, SECCOMP_RET_USER_NOTIF, 0);
	EXPECT_ERRNO("USER_NOTIF without listener", syscall(SYS_getegid), ENOSYS);
	deny(SYS_geteuid, SECCOMP_RET_LOG, 0);
	SYSOK("LOG allows", syscall(SYS_geteuid));
}

static volatile int trap_ok;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	trap_ok = sig == SIGSYS && si->si_code == SYS_SECCOMP && si->si_syscall == SYS_getpid &&
		  si->si_arch == AUDIT_ARCH_X86_64 && si->si_errno == 42 &&
		  (unsigned long)si->si_call_addr == (unsigned long)ctx->uc_mcontext.gregs[REG_RIP];
}

static void c_trap(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	MUST("sigaction", sigaction(SIGSYS, &sa, NULL));
	deny(SYS_getpid, SECCOMP_RET_TRAP | 42, 0);
	long r = syscall(SYS_getpid);
	CHECK("TRAP delivers SIGSYS with seccomp siginfo", trap_ok);
	EXPECT_EQ("trapped syscall leaves its number in rax", r, SYS_getpid);
}

static void c_kill_process(void)
{
	deny(SYS_getpid, SECCOMP_RET_KILL_PROCESS, 0);
	syscall(SYS_getpid);
	t_fail("survived KILL_PROCESS");
}

static void c_kill_thread(void)
{
	deny(SYS_getpid, SECCOMP_RET_KILL_THREAD, 0);
	syscall(SYS_getpid);
	t_fail("survived KILL_THREAD");
}

static void c_stack(void)
{
	allow_all();
	deny(SYS_getpid, SECCOMP_RET_ERRNO | EACCES, 0);
	allow_all();
	EXPECT_ERRNO("ERRNO beats ALLOW of other filters", syscall(SYS_getpid), EACCES);
	deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0);
	EXPECT_ERRNO("newest filter wins among ERRNOs", syscall(SYS_getpid), EPERM);
	deny(SYS_getpid, SECCOMP_RET_LOG, 0);
	EXPECT_ERRNO("ERRNO beats LOG", syscall(SYS_getpid), EPERM);
	CHECK("status Seccomp_filters 5", status_has("Seccomp_filters:\t5\n"));
}

static void c_args(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	int fd = open("/dev/null", O_WRONLY);
	MUST("open /dev/null", fd);
	EXPECT_EQ("install write-to-fd-2 filter", install(f, sizeof f / sizeof f[0], 0), 0);
	EXPECT_ERRNO("write to fd 2 denied", write(2, "x", 1), EPERM);
	EXPECT_EQ("write to another fd allowed", write(fd, "x", 1), 1);

	/* The high word of a 64-bit argument sits 4 bytes above its low word. */
	struct sock_filter g[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x9abcdef0, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x12345678, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	EXPECT_EQ("install 64-bit argument filter", install(g, sizeof g / sizeof g[0], 0), 0);
	EXPECT_ERRNO("matching 64-bit argument denied", getpid_arg(0x123456789abcdef0UL), ENOTTY);
	SYSOK("low word alone allowed", getpid_arg(0x9abcdef0UL));
	SYSOK("high word alone allowed", getpid_arg(0x1234567800000000UL));

	/* LEN, NEG, scratch memory and X: -(nr) stored, reloaded, compared. */
	struct sock_filter h[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sizeof(struct seccomp_data), 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_STMT(BPF_ALU | BPF_NEG, 0),
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)-SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EROFS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	EXPECT_EQ("install LEN/NEG/scratch filter", install(h, sizeof h / sizeof h[0], 0), 0);
	EXPECT_ERRNO("NEG and scratch compare", syscall(SYS_getppid), EROFS);
	close(fd);
}

static void c_fork_grandchild(void)
{
	EXPECT_ERRNO("grandchild inherits the filter", syscall(SYS_getpid), EPERM);
	CHECK("grandchild status Seccomp_filters 1", status_has("Seccomp_filters:\t1\n"));
}

static void c_fork(void)
{
	deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0);
	int st = child(c_fork_grandchild, 0);
	CHECK("grandchild exited", WIFEXITED(st));
}

static void c_exec(void)
{
	deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, 0);
	fflush(stdout);
	execl("/proc/self/exe", "seccomp_filter", "exec-child", (char *)NULL);
	t_fail("execve: errno=%s", t_errname(errno));
}

static int exec_child(void)
{
	EXPECT_ERRNO("filter kept across execve", syscall(SYS_getpid), EPERM);
	CHECK("exec'd status Seccomp 2", status_has("Seccomp:\t2\n"));
	CHECK("exec'd NoNewPrivs kept", status_has("NoNewPrivs:\t1\n"));
	fflush(stdout);
	return t_failures;
}

static void expect_einval(const char *what, struct sock_filter *f, unsigned short n)
{
	EXPECT_ERRNO(what, install(f, n, 0), EINVAL);
}

static void c_invalid(void)
{
	struct sock_filter ret[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_filter jmp[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter ja[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter off64[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter unaligned[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter byteload[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter noret[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0) };
	struct sock_filter mod[] = {
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter div0[] = {
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter uninit[] = {
		BPF_STMT(BPF_LD | BPF_MEM, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter badmem[] = {
		BPF_STMT(BPF_ST, 16),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static struct sock_filter big[BPF_MAXINSNS + 1];
	for (int i = 0; i <= BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

	expect_einval("empty program", ret, 0);
	expect_einval("conditional jump out of range", jmp, 2);
	expect_einval("JA out of range", ja, 2);
	expect_einval("load at offset 64", off64, 2);
	expect_einval("unaligned load", unaligned, 2);
	expect_einval("byte load", byteload, 2);
	expect_einval("no final RET", noret, 1);
	expect_einval("MOD not allowed", mod, 2);
	expect_einval("division by constant 0", div0, 2);
	expect_einval("scratch load before store", uninit, 2);
	expect_einval("scratch slot 16", badmem, 2);
	expect_einval("BPF_MAXINSNS+1 instructions", big, BPF_MAXINSNS + 1);
	EXPECT_EQ("BPF_MAXINSNS instructions accepted", install(big, BPF_MAXINSNS, 0), 0);
	EXPECT_ERRNO("bad sock_fprog pointer", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (void *)8), EFAULT);
	struct sock_fprog p = { .len = 1, .filter = (struct sock_filter *)8 };
	EXPECT_ERRNO("bad filter pointer", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p), EFAULT);
	EXPECT_ERRNO("unknown filter flag", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 1U << 7, &p), EINVAL);
	EXPECT_ERRNO("strict mode with flags", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
	EXPECT_ERRNO("unknown operation", syscall(SYS_seccomp, 99, 0, NULL), EINVAL);
	EXPECT_ERRNO("prctl unknown mode", prctl(PR_SET_SECCOMP, 3, 0), EINVAL);
	EXPECT_EQ("flags LOG and SPEC_ALLOW accepted",
		  install(ret, 1, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW), 0);
	CHECK("status Seccomp_filters 2", status_has("Seccomp_filters:\t2\n"));
}

static void c_strict_getpid(void)
{
	MUST("strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	static const char msg[] = "ok write in strict mode\n";
	if (write(1, msg, sizeof msg - 1) != sizeof msg - 1)
		syscall(SYS_exit, 1);
	syscall(SYS_getpid);
	syscall(SYS_exit, 3);
}

static void c_strict_prctl(void)
{
	MUST("strict", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL));
	prctl(PR_GET_SECCOMP);
	syscall(SYS_exit, 3);
}

static void c_strict_exit(void)
{
	MUST("strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	syscall(SYS_exit, 0);
}

static pthread_barrier_t bar;
static long thread_res;

static void *tsync_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	thread_res = syscall(SYS_getpid) == -1 ? errno : 0;
	return NULL;
}

static void c_tsync(void)
{
	pthread_t th;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, tsync_thread, NULL);
	pthread_barrier_wait(&bar);
	EXPECT_EQ("TSYNC install", deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, SECCOMP_FILTER_FLAG_TSYNC), 0);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	EXPECT_EQ("other thread got the filter", thread_res, EPERM);
}

static void *own_filter_thread(void *arg)
{
	(void)arg;
	allow_all();
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void c_tsync_conflict(void)
{
	pthread_t th;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, own_filter_thread, NULL);
	pthread_barrier_wait(&bar);
	CHECK("TSYNC with a diverged thread returns its TID",
	      deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM, SECCOMP_FILTER_FLAG_TSYNC) > 0);
	EXPECT_ERRNO("TSYNC_ESRCH reports ESRCH",
		     deny(SYS_getpid, SECCOMP_RET_ERRNO | EPERM,
			  SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH), ESRCH);
	CHECK("failed TSYNC installed nothing", syscall(SYS_getpid) > 0);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
}

static void c_notif_sizes(void)
{
	struct seccomp_notif_sizes s;
	SYSOK("GET_NOTIF_SIZES", syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s));
	CHECK("notif sizes", s.seccomp_notif == sizeof(struct seccomp_notif) &&
			     s.seccomp_notif_resp == sizeof(struct seccomp_notif_resp) &&
			     s.seccomp_data == sizeof(struct seccomp_data));
}

static void action_avail(const char *what, unsigned action, int err)
{
	if (err)
		EXPECT_ERRNO(what, syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action), err);
	else
		EXPECT_EQ(what, syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return exec_child();

	CHECK("PR_GET_SECCOMP is 0", prctl(PR_GET_SECCOMP) == 0);
	CHECK("status Seccomp 0", status_has("Seccomp:\t0\n"));
	CHECK("status Seccomp_filters 0", status_has("Seccomp_filters:\t0\n"));

	action_avail("avail KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, 0);
	action_avail("avail KILL_THREAD", SECCOMP_RET_KILL_THREAD, 0);
	action_avail("avail TRAP", SECCOMP_RET_TRAP, 0);
	action_avail("avail ERRNO", SECCOMP_RET_ERRNO, 0);
	action_avail("avail USER_NOTIF", SECCOMP_RET_USER_NOTIF, 0);
	action_avail("avail TRACE", SECCOMP_RET_TRACE, 0);
	action_avail("avail LOG", SECCOMP_RET_LOG, 0);
	action_avail("avail ALLOW", SECCOMP_RET_ALLOW, 0);
	action_avail("unknown action", 0x00010000, EOPNOTSUPP);
	EXPECT_ERRNO("GET_ACTION_AVAIL with flags", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 1, NULL), EINVAL);
	EXPECT_ERRNO("GET_ACTION_AVAIL bad pointer", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (void *)8), EFAULT);
	c_notif_sizes();

	child(c_eacces, 0);
	child(c_errno, 1);
	child(c_errno_data, 1);
	child(c_trap, 1);
	int st = child(c_kill_process, 1);
	CHECK("KILL_PROCESS: child dies of SIGSYS", WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = child(c_kill_thread, 1);
	CHECK("KILL_THREAD of the only thread: SIGSYS", WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	child(c_stack, 1);
	child(c_args, 1);
	child(c_fork, 1);
	st = child(c_exec, 1);
	CHECK("exec'd child passed", WIFEXITED(st));
	child(c_invalid, 1);
	st = child(c_strict_getpid, 0);
	CHECK("strict mode: getpid kills with SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = child(c_strict_prctl, 0);
	CHECK("strict mode: PR_GET_SECCOMP kills", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = child(c_strict_exit, 0);
	CHECK("strict mode: exit allowed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	child(c_tsync, 1);
	child(c_tsync_conflict, 1);
	return t_done();
}
