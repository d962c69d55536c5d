/* /proc/PID/root and cwd magic links point into the sandbox, and PID 1 is
 * the sandbox's init: no way to the host's root through them. */
#include "e.h"

int main(void)
{
	char buf[4096], p[4096];
	ssize_t n = readlink("/proc/self/root", buf, sizeof buf - 1);
	if (n >= 0)
		buf[n] = 0;
	CHECK("/proc/self/root is /", n == 1 && strcmp(buf, "/") == 0);
	n = readlink("/proc/1/root", buf, sizeof buf - 1);
	if (n >= 0)
		buf[n] = 0;
	CHECK("/proc/1/root is /", n == 1 && strcmp(buf, "/") == 0);
	snprintf(p, sizeof p, "/proc/1/root%s", e_canary());
	NO_SECRET("/proc/1/root<canary>", p);
	snprintf(p, sizeof p, "/proc/self/root%s", e_canary());
	NO_SECRET("/proc/self/root<canary>", p);
	snprintf(p, sizeof p, "/proc/1/cwd/../../..%s", e_canary());
	NO_SECRET("/proc/1/cwd/..<canary>", p);
	/* PID 1 is this sandbox's first process, not the host's init. */
	CHECK("PID 1 is the sandbox init", getpid() == 1 || access("/proc/1", F_OK) == 0);
	n = readlink("/proc/1/exe", buf, sizeof buf - 1);
	if (n >= 0)
		buf[n] = 0;
	CHECK("/proc/1/exe is a sandbox program", n > 0 && strstr(buf, "/e/") != NULL);
	return t_done();
}
