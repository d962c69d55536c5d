/* Deeply nested symlinks and loops end with ELOOP (40 levels, as Linux's
 * MAXSYMLINKS), never with unbounded work or a host lookup. */
#include "e.h"

int main(void)
{
	char a[64], b[64];
	t_tmpdir("symlink_deep");
	MUST("symlink", symlink("l0", "l1"));
	MUST("symlink", symlink("l1", "l0"));
	EXPECT_ERRNO("two-link loop is ELOOP", open("l0", O_RDONLY), ELOOP);
	MUST("create", open("target", O_CREAT | O_WRONLY, 0644));
	snprintf(a, sizeof a, "target");
	for (int i = 0; i < 60; i++) {
		snprintf(b, sizeof b, "d%d", i);
		MUST("symlink chain", symlink(a, b));
		snprintf(a, sizeof a, "%s", b);
	}
	SYSOK("chain of 40 resolves", open("d39", O_RDONLY));
	EXPECT_ERRNO("chain of 41 is ELOOP", open("d40", O_RDONLY), ELOOP);
	EXPECT_ERRNO("chain of 60 is ELOOP", open("d59", O_RDONLY), ELOOP);
	/* A self-referencing directory symlink walked many times. */
	MUST("symlink", symlink(".", "self"));
	char p[4096] = "self";
	for (int i = 0; i < 200; i++)
		strcat(p, "/self");
	EXPECT_ERRNO("200 self/ components is ELOOP", open(p, O_RDONLY), ELOOP);
	return t_done();
}
