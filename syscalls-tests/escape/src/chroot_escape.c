/* The classic chroot breakout (chroot into a subdirectory while keeping a
 * working directory outside it, then climb) only reaches the sandbox's own
 * root. */
#include "e.h"

int main(void)
{
	char p[4096];
	MUST("mkdir", mkdir("/tmp/jail", 0755));
	SYSOK("chroot /tmp/jail", chroot("/tmp/jail"));
	/* cwd is still /, outside the new root: climb from it. */
	for (int i = 0; i < 64; i++)
		chdir("..");
	SYSOK("chroot . after climbing", chroot("."));
	snprintf(p, sizeof p, ".%s", e_canary());
	NO_SECRET("canary after the breakout", p);
	NO_SECRET("canary by absolute path", e_canary());
	CHECK("the sandbox's /escape is visible again", access("/escape", F_OK) == 0);
	return t_done();
}
