/* With the host's / as the (read-only) lower layer of the sandbox's root,
 * every change lands in the sandbox's in-memory upper layer: the harness
 * checks the host's files afterwards. */
// escape: overlay
#include "e.h"

int main(void)
{
	t_writefile("/etc/pangolin-escape", "escaped\n");
	CHECK("created /etc/pangolin-escape in the sandbox", access("/etc/pangolin-escape", F_OK) == 0);
	SYSOK("overwrite /etc/hostname", open("/etc/hostname", O_WRONLY | O_TRUNC));
	SYSOK("unlink /etc/passwd", unlink("/etc/passwd"));
	CHECK("it is gone in the sandbox", access("/etc/passwd", F_OK) != 0);
	SYSOK("chmod /bin/true 04777", chmod("/usr/bin/true", 04777));
	/* The host's submounts are not served: /proc and /sys are the
	 * sandbox's, /run is an empty directory. */
	CHECK("host /run/... not visible", access("/run/systemd/private", F_OK) != 0);
	NO_SECRET("canary through the overlay", e_canary());
	return t_done();
}
