/* Hard links cannot name what the sandbox cannot see: linking the host
 * canary by its host path, through /proc, or through a planted symlink
 * fails, and a planted hard link inside the rootfs is just a file of the
 * rootfs. */
#include "e.h"

int main(void)
{
	char p[4096];
	EXPECT_ERRNO("link <canary host path>", link(e_canary(), "/tmp/l1"), ENOENT);
	snprintf(p, sizeof p, "/proc/1/root%s", e_canary());
	EXPECT_ERRNO("link /proc/1/root<canary>", link(p, "/tmp/l2"), ENOENT);
	EXPECT_ERRNO("linkat through planted absolute symlink (follow)",
		     linkat(AT_FDCWD, "/escape/abs", AT_FDCWD, "/tmp/l3", AT_SYMLINK_FOLLOW), ENOENT);
	NO_SECRET("/tmp/l3 holds no secret", "/tmp/l3");
	/* The harness planted /escape/hard as a hard link of a rootfs file. */
	CHECK("planted hard link reads rootfs data", !e_reads_secret("/escape/hard"));
	return t_done();
}
