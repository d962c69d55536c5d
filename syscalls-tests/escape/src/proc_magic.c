/* The /proc/self/fd magic links of the app's descriptors and
 * /proc/self/exe lead to sandbox files only, and the host descriptors the
 * sentry holds for the app are not among the app's. */
#include "e.h"

int main(void)
{
	char buf[4096], p[64];
	int fd = open("/escape", O_RDONLY | O_DIRECTORY);
	CHECK("open /escape", fd >= 0);
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	if (n >= 0)
		buf[n] = 0;
	CHECK("fd link names the sandbox path", n > 0 && strcmp(buf, "/escape") == 0);
	snprintf(p, sizeof p, "/proc/self/fd/%d/../..", fd);
	int up = open(p, O_RDONLY | O_DIRECTORY);
	CHECK("climbing from an fd link stays in the sandbox", up >= 0);
	if (up >= 0) {
		char q[4096];
		snprintf(q, sizeof q, ".%s", e_canary());
		int c = openat(up, q + 1, O_RDONLY);
		CHECK("canary unreachable from the climbed fd", c < 0);
	}
	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n >= 0)
		buf[n] = 0;
	CHECK("/proc/self/exe is a sandbox path", n > 0 && strncmp(buf, "/e/", 3) == 0);
	/* Descriptors the sentry holds for the app never show up here. */
	int count = 0;
	for (int i = 0; i < 1024; i++) {
		struct stat st;
		if (fstat(i, &st) == 0)
			count++;
	}
	CHECK("only the app's own descriptors are open", count <= 6);
	return t_done();
}
