/* Symlinks to absolute host paths: one planted in the rootfs by the host
 * (/escape/abs -> the canary's host path) and one the app makes. The
 * sentry resolves every symlink itself, inside the sandbox's root; the
 * gofer never follows one. */
#include "e.h"

int main(void)
{
	char buf[4096];
	ssize_t n = readlink("/escape/abs", buf, sizeof buf - 1);
	CHECK("planted absolute symlink is visible", n > 0);
	NO_SECRET("open planted /escape/abs", "/escape/abs");
	EXPECT_ERRNO("planted absolute symlink dangles (ENOENT)", open("/escape/abs", O_RDONLY), ENOENT);

	MUST("symlink", symlink(e_canary(), "/tmp/mine"));
	NO_SECRET("open app-made symlink to the canary", "/tmp/mine");
	NO_SECRET("open planted symlink with O_PATH-like stat", "/escape/abs/.");

	/* Through a directory symlink to the canary's host directory. */
	NO_SECRET("planted dir symlink /escape/absdir/secret", "/escape/absdir/secret");
	return t_done();
}
