/*
 * proc_pid: the formats of /proc/self/{stat,statm,status,cmdline,environ,
 * comm,cwd,root,exe,fd,fdinfo,maps,smaps,limits,mountinfo,task} as ps, top
 * and python parse them (fs/proc/array.c, base.c, task_mmu.c, fd.c). Only
 * stable facts are printed: field counts, values the program controls
 * (its name, signal masks, a mapping it made, a descriptor's flags and
 * position) and consistency between files, never pids or addresses (the
 * native run reads the host's /proc, whose pids differ from getpid()).
 */
#include "t.h"
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <dirent.h>

extern char **environ;

static char buf[1 << 16];

/* slurp reads a whole file into buf with read(2) (no stdio allocation
 * between reads, so sizes stay comparable); returns its length or -1. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* field returns the value after "Name:\t" in buf (status format). */
static const char *field(const char *name)
{
	static char val[256];
	char key[64];
	snprintf(key, sizeof key, "\n%s:\t", name);
	const char *p = strstr(buf, key);
	if (!p && strncmp(buf, key + 1, strlen(key + 1)) == 0)
		p = buf - 1;
	if (!p)
		return "(missing)";
	p += strlen(key);
	size_t i = 0;
	while (p[i] && p[i] != '\n' && i < sizeof val - 1) {
		val[i] = p[i];
		i++;
	}
	val[i] = 0;
	return val;
}

static void on_hup(int sig) { (void)sig; }

int main(int argc, char **argv)
{
	(void)argc;
	t_tmpdir("proc_pid");

	/* stat: "pid (comm) state" then 49 more fields. */
	MUST("read stat", slurp("/proc/self/stat"));
	char *rp = strrchr(buf, ')');
	CHECK("stat comm in parentheses", strstr(buf, " (proc_pid) R ") != NULL);
	int nf = 0;
	unsigned long long v[60] = {0};
	for (char *tok = strtok(rp + 2, " \n"); tok && nf < 60; tok = strtok(NULL, " \n"))
		v[nf++] = strtoull(tok, NULL, 10);
	/* v[0] is field 3 (state); field N is v[N-3]. */
	EXPECT_EQ("stat has 52 fields", nf + 2, 52);
	EXPECT_EQ("stat priority 20", v[18 - 3], 20);
	EXPECT_EQ("stat nice 0", v[19 - 3], 0);
	EXPECT_EQ("stat num_threads 1", v[20 - 3], 1);
	EXPECT_EQ("stat exit_signal SIGCHLD", v[38 - 3], SIGCHLD);
	EXPECT_EQ("stat policy SCHED_OTHER", v[41 - 3], 0);
	CHECK("stat vsize > 0", v[23 - 3] > 0);
	CHECK("stat rss > 0", v[24 - 3] > 0);
	CHECK("stat rsslim unlimited", v[25 - 3] == ULLONG_MAX);
	CHECK("stat start_code <= main < end_code", v[26 - 3] <= (uintptr_t)main && (uintptr_t)main < v[27 - 3]);
	CHECK("stat start_stack is where argc sits (argv follows it)", v[28 - 3] != 0 && (uintptr_t)argv == v[28 - 3] + 8);
	CHECK("stat end_code <= start_data <= end_data", v[27 - 3] <= v[45 - 3] && v[45 - 3] <= v[46 - 3]);
	CHECK("stat esp and eip hidden (0)", v[29 - 3] == 0 && v[30 - 3] == 0);
	unsigned long long code_pages = ((v[27 - 3] + 4095) / 4096) - (v[26 - 3] / 4096);
	CHECK("stat start_brk <= brk", v[47 - 3] != 0 && v[47 - 3] <= (unsigned long long)(uintptr_t)sbrk(0));
	CHECK("stat arg_start < arg_end", v[48 - 3] != 0 && v[48 - 3] < v[49 - 3]);
	CHECK("stat env_start < env_end", v[50 - 3] != 0 && v[50 - 3] < v[51 - 3]);
	CHECK("stat argv[0] in arg area", (uintptr_t)argv[0] >= v[48 - 3] && (uintptr_t)argv[0] < v[49 - 3]);
	EXPECT_EQ("stat exit_code 0", v[52 - 3], 0);

	/* statm: 7 fields, consistent with status. */
	MUST("read statm", slurp("/proc/self/statm"));
	unsigned long sm[7] = {0};
	int nsm = sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &sm[0], &sm[1], &sm[2], &sm[3], &sm[4], &sm[5], &sm[6]);
	EXPECT_EQ("statm has 7 fields", nsm, 7);
	CHECK("statm resident <= size", sm[1] > 0 && sm[1] <= sm[0]);
	CHECK("statm shared <= resident", sm[2] <= sm[1]);
	EXPECT_EQ("statm text is the code pages", sm[3], code_pages);
	EXPECT_EQ("statm lib 0", sm[4], 0);
	EXPECT_EQ("statm dt 0", sm[6], 0);
	unsigned long statm_size = sm[0];

	/* status. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGHUP, on_hup);
	MUST("read status", slurp("/proc/self/status"));
	CHECK("status Name", strcmp(field("Name"), "proc_pid") == 0);
	CHECK("status Umask 0022", strcmp(field("Umask"), "0022") == 0);
	CHECK("status State R (running)", strcmp(field("State"), "R (running)") == 0);
	{
		char tgid[32];
		snprintf(tgid, sizeof tgid, "%s", field("Tgid"));
		CHECK("status Tgid equals Pid", strcmp(tgid, field("Pid")) == 0);
		/* Natively the host's /proc shows the outer pid first. */
		CHECK("status NStgid starts with Tgid", strncmp(field("NStgid"), tgid, strlen(tgid)) == 0);
	}
	CHECK("status TracerPid 0", strcmp(field("TracerPid"), "0") == 0);
	CHECK("status Uid 0 0 0 0", strcmp(field("Uid"), "0\t0\t0\t0") == 0);
	CHECK("status Gid 0 0 0 0", strcmp(field("Gid"), "0\t0\t0\t0") == 0);
	{
		/* The table's size is inherited from the parent: a power of two
		 * of at least NR_OPEN_DEFAULT. */
		unsigned long fds = strtoul(field("FDSize"), NULL, 10);
		CHECK("status FDSize power of two >= 64", fds >= 64 && (fds & (fds - 1)) == 0);
	}
	CHECK("status Threads 1", strcmp(field("Threads"), "1") == 0);
	/* Ignored and blocked signals are inherited across exec: check the
	 * bits this program set, and the 16-digit format. */
	CHECK("status SigBlk has SIGUSR1", strlen(field("SigBlk")) == 16 && (strtoull(field("SigBlk"), NULL, 16) & 0x200));
	CHECK("status SigIgn has SIGUSR2", strlen(field("SigIgn")) == 16 && (strtoull(field("SigIgn"), NULL, 16) & 0x800));
	CHECK("status SigCgt has SIGHUP", strcmp(field("SigCgt"), "0000000000000001") == 0);
	CHECK("status SigPnd empty", strcmp(field("SigPnd"), "0000000000000000") == 0);
	CHECK("status NoNewPrivs 0", strcmp(field("NoNewPrivs"), "0") == 0);
	{
		unsigned long vmsize = strtoul(field("VmSize"), NULL, 10);
		/* statm was read before the mask changes: the sizes agree
		 * unless the address space changed in between. */
		CHECK("status VmSize matches statm size", vmsize == statm_size * 4);
		CHECK("status VmSize in kB", strstr(field("VmSize"), " kB") != NULL && vmsize > 0);
		CHECK("status VmRSS <= VmSize", strtoul(field("VmRSS"), NULL, 10) <= vmsize);
		unsigned long anon = strtoul(field("RssAnon"), NULL, 10), file = strtoul(field("RssFile"), NULL, 10),
			      shm = strtoul(field("RssShmem"), NULL, 10), rss = strtoul(field("VmRSS"), NULL, 10);
		CHECK("status RssAnon+RssFile+RssShmem = VmRSS", anon + file + shm == rss);
		CHECK("status VmData > 0", strtoul(field("VmData"), NULL, 10) > 0);
		CHECK("status VmExe is statm text", strtoul(field("VmExe"), NULL, 10) == sm[3] * 4);
		CHECK("status VmStk > 0", strtoul(field("VmStk"), NULL, 10) > 0);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* cmdline and environ: NUL-separated copies of argv and environ. */
	long n = slurp("/proc/self/cmdline");
	CHECK("cmdline is argv[0] NUL", n == (long)strlen(argv[0]) + 1 && strcmp(buf, argv[0]) == 0);
	n = slurp("/proc/self/environ");
	{
		long want = 0;
		int ok = 1;
		for (char **e = environ; *e; e++) {
			if (strcmp(buf + want, *e) != 0)
				ok = 0;
			want += strlen(*e) + 1;
		}
		CHECK("environ matches environ", ok && n == want);
	}

	/* comm: the name, writable by the process itself. */
	slurp("/proc/self/comm");
	CHECK("comm", strcmp(buf, "proc_pid\n") == 0);
	prctl(PR_SET_NAME, "renamed-by-prctl");
	slurp("/proc/self/comm");
	CHECK("comm after PR_SET_NAME (15 bytes)", strcmp(buf, "renamed-by-prct\n") == 0);
	int cfd = open("/proc/self/comm", O_WRONLY);
	CHECK("comm write", cfd >= 0 && write(cfd, "viawrite", 8) == 8);
	close(cfd);
	slurp("/proc/self/comm");
	CHECK("comm after write", strcmp(buf, "viawrite\n") == 0);
	prctl(PR_SET_NAME, "proc_pid");

	/* cwd, root, exe. */
	char link[PATH_MAX], cwd[PATH_MAX / 2], real[PATH_MAX];
	ssize_t ln = readlink("/proc/self/cwd", link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	CHECK("cwd link is getcwd()", getcwd(cwd, sizeof cwd) && strcmp(link, cwd) == 0);
	ln = readlink("/proc/self/root", link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	CHECK("root link is /", strcmp(link, "/") == 0);
	ln = readlink("/proc/self/exe", link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	CHECK("exe link is the program", realpath(argv[0], real) && strcmp(link, real) == 0);
	struct stat st1, st2;
	CHECK("exe opens the program", stat("/proc/self/exe", &st1) == 0 && stat(argv[0], &st2) == 0 && st1.st_ino == st2.st_ino);

	/* fd and fdinfo. */
	t_writefile("data", "0123456789");
	int fd = open("data", O_RDWR | O_APPEND | O_CLOEXEC);
	MUST("open data", fd);
	lseek(fd, 5, SEEK_SET);
	char p[300];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ln = readlink(p, link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	snprintf(real, sizeof real, "%s/data", cwd);
	CHECK("fd link is the file's path", strcmp(link, real) == 0);
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
	slurp(p);
	CHECK("fdinfo pos 5", strncmp(buf, "pos:\t5\n", 7) == 0);
	CHECK("fdinfo flags O_LARGEFILE|O_CLOEXEC|O_APPEND|O_RDWR", strstr(buf, "\nflags:\t02102002\n") != NULL);
	CHECK("fdinfo mnt_id and ino", strstr(buf, "\nmnt_id:\t") != NULL && strstr(buf, "\nino:\t") != NULL);
	{
		char want[64];
		struct stat fst;
		fstat(fd, &fst);
		snprintf(want, sizeof want, "\nino:\t%lu\n", (unsigned long)fst.st_ino);
		CHECK("fdinfo ino matches fstat", strstr(buf, want) != NULL);
	}
	DIR *d = opendir("/proc/self/fd");
	int count = 0, sawfd = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		count++;
		if (atoi(de->d_name) == fd)
			sawfd = 1;
		CHECK("fd entries are symlinks", de->d_type == DT_LNK || de->d_type == DT_UNKNOWN);
	}
	/* stdin, stdout, stderr, the file, the directory being read. */
	EXPECT_EQ("fd lists the open descriptors", count, 5);
	CHECK("fd lists the file", sawfd);
	if (d)
		closedir(d);
	close(fd);

	/* maps and smaps: an anonymous mapping we made and touched. */
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", m == MAP_FAILED ? -1 : 0);
	memset(m, 1, 3 * 4096);
	char addr[64];
	snprintf(addr, sizeof addr, "%lx-%lx ", (unsigned long)m, (unsigned long)(m + 3 * 4096));
	slurp("/proc/self/maps");
	char *line = strstr(buf, addr);
	CHECK("maps has the mapping", line != NULL && (line == buf || line[-1] == '\n'));
	CHECK("maps perms and anonymous", line && strncmp(line + strlen(addr), "rw-p 00000000 00:00 0 \n", 23) == 0);
	slurp("/proc/self/smaps");
	line = strstr(buf, addr);
	CHECK("smaps has the mapping", line != NULL);
	if (line) {
		char *end = strstr(line, "VmFlags:");
		char *eol = end ? strchr(end, '\n') : NULL;
		if (eol)
			eol[1] = 0;
		CHECK("smaps Size 12 kB", strstr(line, "\nSize:                 12 kB\n") != NULL);
		CHECK("smaps KernelPageSize", strstr(line, "\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\nRss:                  12 kB\n") != NULL);
		CHECK("smaps Pss 12 kB", strstr(line, "\nPss:                  12 kB\n") != NULL);
		CHECK("smaps Private_Dirty 12 kB", strstr(line, "\nPrivate_Dirty:        12 kB\n") != NULL);
		CHECK("smaps Anonymous 12 kB", strstr(line, "\nAnonymous:            12 kB\n") != NULL);
		CHECK("smaps Swap 0", strstr(line, "\nSwap:                  0 kB\n") != NULL);
		CHECK("smaps VmFlags", strstr(line, "\nVmFlags: rd wr mr mw me ac \n") != NULL);
	}
	mprotect(m, 4096, PROT_READ);
	slurp("/proc/self/maps");
	CHECK("maps splits after mprotect", strstr(buf, "r--p 00000000 00:00 0 \n") != NULL);
	munmap(m, 3 * 4096);

	/* limits. */
	slurp("/proc/self/limits");
	CHECK("limits header", strncmp(buf, "Limit                     Soft Limit           Hard Limit           Units     \n", 79) == 0);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	char row[256];
	snprintf(row, sizeof row, "\nMax open files            %-20lu %-20lu files     \n", (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	CHECK("limits open files row matches getrlimit", strstr(buf, row) != NULL);
	CHECK("limits stack row", strstr(buf, "\nMax stack size            ") != NULL);
	CHECK("limits nice row has no unit", strstr(buf, "\nMax nice priority         0                    0                    \n") != NULL);
	int lines = 0;
	for (char *c = buf; *c; c++)
		lines += *c == '\n';
	EXPECT_EQ("limits has 17 lines", lines, 17);

	/* mountinfo: the root mount. */
	slurp("/proc/self/mountinfo");
	CHECK("mountinfo has the root mount", strstr(buf, " / / ") != NULL);
	CHECK("mountinfo has the separator", strstr(buf, " - ") != NULL);
	CHECK("mountinfo has proc", strstr(buf, " /proc ") != NULL && strstr(buf, " - proc proc ") != NULL);

	/* task: one thread, whose directory has the per-thread files. */
	d = opendir("/proc/self/task");
	count = 0;
	char tid[256] = "";
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		count++;
		snprintf(tid, sizeof tid, "%s", de->d_name);
	}
	if (d)
		closedir(d);
	EXPECT_EQ("task has one thread", count, 1);
	snprintf(p, sizeof p, "/proc/self/task/%s/stat", tid);
	CHECK("task/TID/stat readable", slurp(p) > 0 && strstr(buf, " (proc_pid) R ") != NULL);
	slurp("/proc/self/stat");
	CHECK("task TID is the pid", strncmp(buf, tid, strlen(tid)) == 0 && buf[strlen(tid)] == ' ');
	return t_done();
}
