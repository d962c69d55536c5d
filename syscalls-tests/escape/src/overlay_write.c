/* With the host's / as the (read-only) lower layer of the sandbox's root,
 * every change lands in the sandbox's in-memory upper layer: the harness
 * checks the host's files (the canary among them) afterwards. */
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
	/* The host's /tmp, where the canary lives, shows through the lower
	 * layer: overwriting and unlinking it change only the upper layer. */
	SYSOK("truncate the canary", open(e_canary(), O_WRONLY | O_TRUNC));
	SYSOK("unlink the canary", unlink(e_canary()));
	CHECK("the canary is gone in the sandbox", access(e_canary(), F_OK) != 0);
	return t_done();
}
