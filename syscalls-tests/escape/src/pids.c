/* Host processes are invisible: /proc lists only the sandbox's, and the
 * host PID the harness watches does not exist here (or, should the number
 * be taken, it is a sandbox process, not the victim). */
#include "e.h"
#include <dirent.h>

int main(void)
{
	int victim = atoi(e_env("ESCAPE_VICTIM"));
	DIR *d = opendir("/proc");
	CHECK("opendir /proc", d != NULL);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	CHECK("/proc lists only the sandbox's few processes", n >= 1 && n < 8);
	if (victim > 8)
		EXPECT_ERRNO("kill(victim, 0) is ESRCH", kill(victim, 0), ESRCH);
	else
		t_ok("victim PID is small; skipped");
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/cmdline", victim);
	CHECK("victim's /proc entry absent", victim <= 8 || access(p, F_OK) != 0);
	EXPECT_ERRNO("getpgid(victim) is ESRCH", getpgid(victim > 8 ? victim : 999999), ESRCH);
	return t_done();
}
