/*
 * fuzz_syscalls: 10,000 random syscalls with random arguments, to show that
 * the sandbox survives garbage (the results themselves are not checked and
 * naturally differ from Linux). Usage: fuzz_syscalls [SEED] [COUNT].
 *
 * DO NOT RUN NATIVELY AS ROOT. The harness runs it only in the sandbox. For
 * a native smoke test use a throwaway fence, as nobody:
 *   unshare --pid --mount --uts --ipc --net --fork \
 *     setpriv --reuid=65534 --regid=65534 --clear-groups ./fuzz_syscalls
 *
 * What keeps it alive and harmless:
 * - A denylist (below) of syscalls that end or stop the process, block,
 *   change identity or limits, touch the host (time, mounts, modules,
 *   reboot, keys, IPC objects that outlive the process), map or unmap
 *   arbitrary memory, or create descriptors that a later random read would
 *   block on (pipes, sockets, eventfd, timerfd, signalfd, inotify, FIFOs).
 * - Memory syscalls (mmap, munmap, mprotect, madvise, mremap) only ever
 *   target a dedicated scratch region, with safe flags.
 * - Pointer arguments point into a scratch buffer fenced by PROT_NONE guard
 *   pages, so huge lengths stop at the guard. The buffer never contains
 *   '/' or '.', and is re-sanitised after every call, so any string it holds
 *   is a plain name relative to the private working directory: no path can
 *   leave it.
 * - All inherited descriptors except 0-2 are closed at start.
 * - The real stdout is kept at fd 900 (never passed as an argument); fds
 *   0-2 become a regular file "sink" in the private directory, so random
 *   reads never block and random writes, chmods and truncates hit only it.
 * - fcntl is limited to non-blocking, signal-free commands.
 *
 * A second, concurrent phase then forks two children that run the same
 * random calls in four threads each while the parent bombards them with
 * signals (handled ones, SIGSTOP/SIGCONT pairs, ignored ones), and finally
 * SIGKILLs and reaps them: the sentry must stay consistent under threads,
 * signals, stops and kills arriving mid-syscall, and the kill must work.
 */
#include "t.h"
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define SAVED_FD 900
#define SCRATCH (16 * 4096)
#define REGION (16 * 4096)

static __thread unsigned long long rng;

static unsigned long long next(void)
{
	/* splitmix64 */
	unsigned long long z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned char *scratch;
static unsigned char *region;

static void sanitize(void)
{
	for (size_t i = 0; i < SCRATCH; i++)
		if (scratch[i] == '/' || scratch[i] == '.')
			scratch[i] = 'a' + (scratch[i] & 7);
}

static const unsigned long wild[] = {
	1, 0x1000, 0xdeadbeef, 0x7fffffff0000UL, 0x800000000000UL,
	0xffff800000000000UL, 0xfffffffffffff000UL,
};
static const unsigned long huge[] = {
	1UL << 30, 1UL << 62, ~0UL, 0x7fffffff, 0x80000000UL, 1UL << 20,
};

static unsigned long rand_arg(void)
{
	unsigned r = next() % 100;
	if (r < 30)
		return next() % 16;
	if (r < 35)
		return (unsigned long)-1;
	if (r < 60)
		return (unsigned long)(scratch + next() % SCRATCH);
	if (r < 70)
		return wild[next() % (sizeof wild / sizeof wild[0])];
	if (r < 80)
		return huge[next() % (sizeof huge / sizeof huge[0])];
	if (r < 90)
		return (unsigned int)next();
	return 1UL << (next() % 32);
}

/* Syscalls never issued with random arguments (x86_64 numbers). */
static const int deny[] = {
	7, 23, 34, 35, 38, 57, 58, 59, 60, 61, 62, 101, 128, 129, 130, 131,
	/* poll select pause nanosleep setitimer fork vfork execve exit wait4
	   kill ptrace rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack */
	12, 15, 13, 37,                 /* brk rt_sigreturn rt_sigaction alarm */
	22, 293, 41, 53, 42, 43, 288, 45, 47, 299, 48, /* pipes, sockets */
	40, 275, 276, 278, 326, 285,    /* sendfile splice tee vmsplice copy_file_range fallocate */
	29, 30, 31, 64, 65, 66, 67, 68, 69, 70, 71, 220, /* SysV IPC */
	240, 241, 242, 243, 244, 245,   /* POSIX mqueues */
	73, 133, 259,                   /* flock mknod mknodat */
	105, 106, 113, 114, 116, 117, 119, 122, 123, 126, /* identity, capset */
	109, 112,                       /* setpgid setsid */
	135, 141, 142, 144, 203, 251, 314, /* personality priority sched_set* ioprio_set */
	151, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166,
	167, 168, 169, 170, 171, 172, 173, 175, 176, 179, 103,
	/* mlockall vhangup modify_ldt pivot_root prctl arch_prctl adjtimex
	   setrlimit chroot sync acct settimeofday mount umount2 swapon swapoff
	   reboot sethostname setdomainname iopl ioperm init_module
	   delete_module quotactl syslog */
	200, 202, 205, 208, 209, 216, 218, 219, 222, 223, 224, 225, 226, 227,
	/* tkill futex set_thread_area io_getevents io_submit remap_file_pages
	   set_tid_address restart_syscall timer_* clock_settime */
	230, 231, 232, 234, 238, 246, 247, 248, 249, 250, 253, 256, 270, 271,
	/* clock_nanosleep exit_group epoll_wait tgkill set_mempolicy kexec_load
	   waitid add_key request_key keyctl inotify_init migrate_pages
	   pselect6 ppoll */
	272, 273, 279, 281, 282, 283, 284, 286, 287, 289, 290, 294, 297, 298,
	/* unshare set_robust_list move_pages epoll_pwait signalfd timerfd_*
	   eventfd signalfd4 eventfd2 inotify_init1 rt_tgsigqueueinfo
	   perf_event_open */
	300, 301, 302, 304, 305, 308, 311, 313, 317, 320, 321, 322, 323, 329,
	/* fanotify prlimit64 open_by_handle_at clock_adjtime setns
	   process_vm_writev finit_module seccomp kexec_file_load bpf execveat
	   userfaultfd pkey_mprotect */
	333, 334, 335, 336, 424, 425, 426, 427, 428, 429, 430, 431, 432, 433, 435, 436,
	/* io_pgetevents rseq uretprobe uprobe (SIGILL outside a probe
	   trampoline) pidfd_send_signal io_uring_* open_tree move_mount
	   fsopen fsconfig fsmount fspick clone3 close_range */
	438, 440, 441, 442, 443, 444, 445, 446, 447, 449, 453, 454, 455, 456,
	/* pidfd_getfd process_madvise epoll_pwait2 mount_setattr quotactl_fd
	   landlock_* memfd_secret futex_waitv map_shadow_stack futex_wake
	   futex_wait futex_requeue */
	460, 56, 214, 215, 237, 450,    /* lsm_set_self_attr clone epoll_*_old
					   mbind set_mempolicy_home_node */
};

static int denied(int nr)
{
	for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
		if (deny[i] == nr)
			return 1;
	return 0;
}

/* Memory syscalls, confined to the scratch region. */
static void mem_call(int nr)
{
	unsigned long off = (next() % 16) * 4096;
	unsigned long len = (next() % (16 - off / 4096) + 1) * 4096;
	unsigned char *a = region + off;
	static const int advice[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
				      MADV_WILLNEED, MADV_DONTNEED, MADV_FREE,
				      MADV_COLD, MADV_PAGEOUT, 12345 };
	switch (nr) {
	case SYS_mmap:
		syscall(SYS_mmap, a, len, next() % 8,
			MAP_FIXED | MAP_ANONYMOUS | ((next() & 1) ? MAP_SHARED : MAP_PRIVATE), -1, 0);
		break;
	case SYS_munmap:
		syscall(SYS_munmap, a, len);
		break;
	case SYS_mprotect:
		syscall(SYS_mprotect, a, len, next() % 8);
		break;
	case SYS_madvise:
		syscall(SYS_madvise, a, len, advice[next() % (sizeof advice / sizeof advice[0])]);
		break;
	case SYS_mremap:
		/* shrink in place only: never moves, never grows past REGION */
		syscall(SYS_mremap, a, len, (next() % (len / 4096) + 1) * 4096, 0);
		break;
	}
}

static int open_up(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(p, 0700);
	return 0;
}

static int is_mem(int nr)
{
	return nr == SYS_mmap || nr == SYS_munmap || nr == SYS_mprotect ||
	       nr == SYS_madvise || nr == SYS_mremap;
}

/* fuzz_loop issues count random calls and returns how many it made. */
static long fuzz_loop(long count)
{
	long done = 0;
	while (done < count) {
		int nr = next() % 461;
		if (denied(nr))
			continue;
		if (is_mem(nr)) {
			mem_call(nr);
			done++;
			continue;
		}
		unsigned long a[6];
		for (int i = 0; i < 6; i++) {
			a[i] = rand_arg();
			if (a[i] == SAVED_FD)
				a[i] = 3;
		}
		if ((nr == SYS_close || nr == SYS_dup2 || nr == SYS_dup3) &&
		    (a[nr == SYS_close ? 0 : 1] <= 2))
			continue; /* keep 0-2 as the sink (belt and braces) */
		if (nr == SYS_fcntl) {
			static const int safe[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL,
						    F_DUPFD, F_DUPFD_CLOEXEC, F_GETLK,
						    F_GETPIPE_SZ, F_GETLEASE, F_GETSIG };
			a[1] = safe[next() % (sizeof safe / sizeof safe[0])];
			if (a[1] == F_SETFL)
				a[2] &= O_APPEND | O_NONBLOCK | O_NOATIME;
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		sanitize();
		done++;
	}

	return done;
}

static volatile sig_atomic_t handled;
static void on_signal(int s)
{
	(void)s;
	handled++;
}

static void *fuzz_thread(void *arg)
{
	rng = (unsigned long long)(unsigned long)arg;
	fuzz_loop(1500);
	return NULL;
}

/* concurrent_phase is the second phase described at the top. */
static void concurrent_phase(unsigned long long seed)
{
	pid_t kids[2];
	for (int c = 0; c < 2; c++) {
		kids[c] = fork();
		if (kids[c] == 0) {
			struct sigaction sa = {0};
			sa.sa_handler = on_signal;
			sigaction(SIGUSR1, &sa, NULL);
			sa.sa_flags = SA_RESTART;
			sigaction(SIGUSR2, &sa, NULL);
			sigaction(SIGRTMIN + 1, &sa, NULL);
			pthread_t th[3];
			for (int i = 0; i < 3; i++)
				pthread_create(&th[i], NULL, fuzz_thread, (void *)(unsigned long)(seed + 100 * c + i + 1));
			rng = seed + 100 * c;
			fuzz_loop(1500);
			for (int i = 0; i < 3; i++)
				pthread_join(th[i], NULL);
			_exit(0);
		}
	}
	static const int sigs[] = { SIGUSR1, SIGUSR2, 0, SIGWINCH, SIGSTOP, SIGCHLD, 0 };
	struct timespec tick = {0, 2000000};
	for (int i = 0; i < 400; i++) {
		pid_t k = kids[next() % 2];
		int sig = sigs[next() % (sizeof sigs / sizeof sigs[0])];
		if (sig == 0)
			sig = SIGRTMIN + 1;
		kill(k, sig);
		if (sig == SIGSTOP) {
			nanosleep(&tick, NULL);
			kill(k, SIGCONT);
		}
		nanosleep(&tick, NULL);
	}
	int reaped = 0;
	for (int c = 0; c < 2; c++) {
		kill(kids[c], SIGKILL);
		if (waitpid(kids[c], NULL, 0) == kids[c])
			reaped++;
	}
	char msg[64];
	int n = snprintf(msg, sizeof msg, "concurrent phase done, %d children reaped\n", reaped);
	if (write(SAVED_FD, msg, n) != n)
		_exit(3);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/fuzz_syscalls.XXXXXX";
	long count = 10000, done = 0;
	char msg[64];

	/*
	 * Close every inherited descriptor but 0-2 first: a stray fd (a shell
	 * or tool leaking e.g. the host's /dev/null as fd 10) would otherwise
	 * be hit by random fchmod/fchown/ioctl calls.
	 */
	if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);

	rng = argc > 1 ? strtoull(argv[1], NULL, 0) : 20260807;
	if (argc > 2)
		count = strtol(argv[2], NULL, 0);
	if (!mkdtemp(dir) || chdir(dir) != 0) {
		perror("fuzz_syscalls: private dir");
		return 2;
	}
	if (dup2(1, SAVED_FD) != SAVED_FD) {
		perror("fuzz_syscalls: dup2");
		return 2;
	}
	int sink = open("sink", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (sink < 0 || dup2(sink, 0) < 0 || dup2(sink, 1) < 0 || dup2(sink, 2) < 0) {
		perror("fuzz_syscalls: sink");
		return 2;
	}
	if (sink > 2)
		close(sink);

	unsigned char *m = mmap(NULL, SCRATCH + 2 * 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	region = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || region == MAP_FAILED)
		return 2;
	mprotect(m, 4096, PROT_NONE);
	mprotect(m + 4096 + SCRATCH, 4096, PROT_NONE);
	scratch = m + 4096;
	for (size_t i = 0; i < SCRATCH; i++)
		scratch[i] = (unsigned char)next();
	sanitize();

	done = fuzz_loop(count);

	concurrent_phase(rng);

	/* random chmods may have locked us out of our own files */
	if (chdir("/") == 0) {
		chmod(dir, 0700);
		nftw(dir, open_up, 16, FTW_PHYS);
		t_rmtree(dir);
	}
	int n = snprintf(msg, sizeof msg, "done %ld calls\n", done);
	if (write(SAVED_FD, msg, n) != n)
		return 3;
	return 0;
}
