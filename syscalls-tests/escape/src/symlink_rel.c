/* Relative symlinks that climb far above the rootfs, planted by the host
 * and made by the app: ".." resolution stops at the sandbox's root. */
#include "e.h"

int main(void)
{
	char t[4096];
	NO_SECRET("planted /escape/rel", "/escape/rel");
	EXPECT_ERRNO("planted /escape/rel dangles (ENOENT)", open("/escape/rel", O_RDONLY), ENOENT);

	snprintf(t, sizeof t, "../../../../../../../../../..%s", e_canary());
	MUST("symlink", symlink(t, "/tmp/climb"));
	NO_SECRET("app-made climbing symlink", "/tmp/climb");

	/* A chain: a -> b -> ../../.. -> ... */
	MUST("symlink", symlink("../../../../../../../../..", "/tmp/up"));
	snprintf(t, sizeof t, "/tmp/up%s", e_canary());
	NO_SECRET("through a symlink to ../../..", t);
	return t_done();
}
