/* /proc/sysrq-trigger and /sys are the sandbox's own: no sysrq, no
 * writable host sysfs. The write attempted is 'h' (help), harmless even
 * if it reached the host, and the harness checks the host's kernel log
 * for it. */
#include "e.h"

static void try_write(const char *path, const char *data)
{
	char what[256];
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		snprintf(what, sizeof what, "open %s for writing fails (%s)", path, t_errname(errno));
		t_ok(what);
		return;
	}
	ssize_t n = write(fd, data, strlen(data));
	snprintf(what, sizeof what, "write %s fails", path);
	CHECK(what, n < 0);
	close(fd);
}

int main(void)
{
	try_write("/proc/sysrq-trigger", "h");
	try_write("/proc/sys/kernel/sysrq", "1");
	try_write("/sys/power/state", "freeze");
	try_write("/sys/kernel/mm/transparent_hugepage/enabled", "never");
	try_write("/sys/fs/cgroup/cgroup.procs", "1");
	try_write("/sys/kernel/uevent_helper", "/tmp/x");
	try_write("/sys/class/net/lo/mtu", "1");
	try_write("/proc/sys/vm/drop_caches", "3");
	try_write("/proc/sys/kernel/core_pattern", "|/tmp/x");
	try_write("/proc/sys/kernel/modprobe", "/tmp/x");
	try_write("/proc/sys/fs/binfmt_misc/register", ":x:E::x::/tmp/x:");
	EXPECT_ERRNO2("no host cgroupfs", open("/sys/fs/cgroup/memory", O_RDONLY), ENOENT, ENOENT);
	return t_done();
}
