/* Climb out of the root with "..": from /, from a deep working directory,
 * through /proc/self/cwd. Every climb stops at the sandbox's root, so the
 * host canary (outside the rootfs) is never reached. */
#include "e.h"

int main(void)
{
	char p[4096];
	const char *c = e_canary();

	snprintf(p, sizeof p, "/../../../../../../../..%s", c);
	NO_SECRET("/../..<canary>", p);
	EXPECT_ERRNO("open /../..<canary> is ENOENT", open(p, O_RDONLY), ENOENT);

	MUST("mkdir", mkdir("/tmp/a", 0755) == 0 || errno == EEXIST ? 0 : -1);
	MUST("mkdir", mkdir("/tmp/a/b", 0755) == 0 || errno == EEXIST ? 0 : -1);
	MUST("chdir", chdir("/tmp/a/b"));
	for (int i = 0; i < 64; i++)
		MUST("chdir ..", chdir(".."));
	CHECK("getcwd is / after climbing", getcwd(p, sizeof p) && strcmp(p, "/") == 0);
	snprintf(p, sizeof p, ".%s", c);
	NO_SECRET("relative canary after climbing", p);

	snprintf(p, sizeof p, "/proc/self/cwd/../../..%s", c);
	NO_SECRET("/proc/self/cwd/../..<canary>", p);
	snprintf(p, sizeof p, "/proc/self/root/..%s", c);
	NO_SECRET("/proc/self/root/..<canary>", p);

	/* The rootfs' own path on the host, climbed from inside it. */
	snprintf(p, sizeof p, "%s/../%s", e_env("ESCAPE_ROOT"), "canary/secret");
	NO_SECRET("<rootfs host path>/../canary", p);
	return t_done();
}
