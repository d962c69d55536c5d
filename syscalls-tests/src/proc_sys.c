/*
 * proc_sys: the system-wide files ps, top, free and python read:
 * /proc/{loadavg,stat,uptime,meminfo,cpuinfo,filesystems,self,thread-self},
 * /proc/sys/kernel/{pid_max,hostname,ngroups_max,osrelease},
 * /proc/sys/vm/overcommit_memory and /sys/devices/system/cpu/online. Their
 * formats are checked by parsing (fs/proc/loadavg.c, stat.c, meminfo.c);
 * only facts that hold on any machine are printed.
 */
#include "t.h"
#include <limits.h>
#include <sched.h>
#include <sys/utsname.h>
#include <time.h>

static char buf[1 << 16];

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

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

int main(void)
{
	/* loadavg: "a b c running/total last_pid". */
	CHECK("read loadavg", slurp("/proc/loadavg") > 0);
	double a, b, c;
	int run, total, last;
	char nl;
	int n = sscanf(buf, "%lf %lf %lf %d/%d %d%c", &a, &b, &c, &run, &total, &last, &nl);
	EXPECT_EQ("loadavg has 6 fields", n, 7);
	CHECK("loadavg running <= total", run >= 1 && run <= total);
	CHECK("loadavg two decimals", buf[1] == '.' || buf[2] == '.' || buf[3] == '.');

	/* stat: the aggregate cpu line, one line per CPU, and the counters. */
	CHECK("read stat", slurp("/proc/stat") > 0);
	CHECK("stat starts with the cpu line", starts(buf, "cpu  "));
	unsigned long long f[10];
	n = sscanf(buf, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
	EXPECT_EQ("stat cpu line has 10 counters", n, 10);
	cpu_set_t cs;
	sched_getaffinity(0, sizeof cs, &cs);
	int ncpu = CPU_COUNT(&cs);
	int lines = 0;
	for (int i = 0; i < ncpu; i++) {
		char want[32];
		snprintf(want, sizeof want, "\ncpu%d ", i);
		lines += strstr(buf, want) != NULL;
	}
	EXPECT_EQ("stat has a line per CPU", lines, ncpu);
	CHECK("stat has btime", strstr(buf, "\nbtime ") != NULL);
	CHECK("stat has processes", strstr(buf, "\nprocesses ") != NULL);
	CHECK("stat has procs_running", strstr(buf, "\nprocs_running ") != NULL);
	CHECK("stat has procs_blocked", strstr(buf, "\nprocs_blocked ") != NULL);
	CHECK("stat has ctxt and intr", strstr(buf, "\nctxt ") != NULL && strstr(buf, "\nintr ") != NULL);

	/* uptime: "up idle" with two decimals. */
	slurp("/proc/uptime");
	double up, idle;
	EXPECT_EQ("uptime has 2 fields", sscanf(buf, "%lf %lf", &up, &idle), 2);
	CHECK("uptime positive", up > 0);
	struct timespec bt;
	clock_gettime(CLOCK_BOOTTIME, &bt);
	CHECK("uptime agrees with CLOCK_BOOTTIME", up <= bt.tv_sec + 1 && up >= bt.tv_sec - 1);

	/* meminfo: "Label:   N kB" rows, MemTotal first. */
	slurp("/proc/meminfo");
	unsigned long total_kb, free_kb, avail_kb;
	CHECK("meminfo MemTotal first", sscanf(buf, "MemTotal: %lu kB\nMemFree: %lu kB\nMemAvailable: %lu kB", &total_kb, &free_kb, &avail_kb) == 3);
	CHECK("meminfo free <= total", free_kb <= total_kb && avail_kb <= total_kb);
	CHECK("meminfo row width", starts(buf, "MemTotal:       ") && strstr(buf, " kB\nMemFree:        ") != NULL);
	CHECK("meminfo has SwapTotal and Shmem", strstr(buf, "\nSwapTotal:") != NULL && strstr(buf, "\nShmem:") != NULL);

	/* cpuinfo: a block per CPU. */
	slurp("/proc/cpuinfo");
	int procs = 0;
	for (char *p = buf; (p = strstr(p, "processor\t: ")); p++)
		procs++;
	EXPECT_EQ("cpuinfo has a block per CPU", procs, ncpu);
	CHECK("cpuinfo has flags", strstr(buf, "\nflags\t\t: ") != NULL);

	/* vmstat: "name value" rows, looked up by name (procps's vmstat). */
	CHECK("read vmstat", slurp("/proc/vmstat") > 0);
	CHECK("vmstat starts with nr_free_pages", starts(buf, "nr_free_pages "));
	CHECK("vmstat has the paging counters", strstr(buf, "\npgpgin ") && strstr(buf, "\npgpgout ") &&
		strstr(buf, "\npswpin ") && strstr(buf, "\npswpout ") && strstr(buf, "\npgfault ") && strstr(buf, "\npgmajfault "));
	{
		int ok = 1;
		for (char *line = buf; *line; ) {
			char *eol = strchr(line, '\n');
			if (!eol)
				break;
			char name[64];
			unsigned long long val;
			if (sscanf(line, "%63[a-z0-9_] %llu", name, &val) != 2)
				ok = 0;
			line = eol + 1;
		}
		CHECK("vmstat rows are 'name value'", ok);
	}

	/* filesystems: "nodev\tname" rows. */
	slurp("/proc/filesystems");
	CHECK("filesystems lists proc", strstr(buf, "nodev\tproc\n") != NULL);
	CHECK("filesystems lists tmpfs", strstr(buf, "nodev\ttmpfs\n") != NULL);
	CHECK("filesystems lists sysfs", strstr(buf, "nodev\tsysfs\n") != NULL);

	/* self and thread-self. */
	char self[64], tself[64], want[160];
	ssize_t l = readlink("/proc/self", self, sizeof self - 1);
	self[l > 0 ? l : 0] = 0;
	l = readlink("/proc/thread-self", tself, sizeof tself - 1);
	tself[l > 0 ? l : 0] = 0;
	snprintf(want, sizeof want, "%s/task/%s", self, self);
	CHECK("thread-self is self/task/self", strcmp(tself, want) == 0);
	struct stat st;
	CHECK("self is a directory", stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode));
	CHECK("thread-self/stat readable", slurp("/proc/thread-self/stat") > 0);

	/* /proc/sys. */
	struct utsname u;
	uname(&u);
	slurp("/proc/sys/kernel/hostname");
	snprintf(want, sizeof want, "%s\n", u.nodename);
	CHECK("hostname matches uname", strcmp(buf, want) == 0);
	slurp("/proc/sys/kernel/osrelease");
	snprintf(want, sizeof want, "%s\n", u.release);
	CHECK("osrelease matches uname", strcmp(buf, want) == 0);
	slurp("/proc/sys/kernel/ngroups_max");
	CHECK("ngroups_max 65536", strcmp(buf, "65536\n") == 0);
	slurp("/proc/sys/kernel/pid_max");
	CHECK("pid_max is a number >= 301", atol(buf) >= 301 && buf[strlen(buf) - 1] == '\n');
	slurp("/proc/sys/vm/overcommit_memory");
	CHECK("overcommit_memory is 0, 1 or 2", (buf[0] == '0' || buf[0] == '1' || buf[0] == '2') && buf[1] == '\n');

	/* sysfs: the CPUs glibc's get_nprocs() counts. */
	slurp("/sys/devices/system/cpu/online");
	if (ncpu == 1)
		snprintf(want, sizeof want, "0\n");
	else
		snprintf(want, sizeof want, "0-%d\n", ncpu - 1);
	CHECK("cpu/online lists the CPUs", strcmp(buf, want) == 0);
	EXPECT_EQ("sysconf online CPUs", sysconf(_SC_NPROCESSORS_ONLN), ncpu);
	return t_done();
}
