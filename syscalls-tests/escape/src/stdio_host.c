/* The app's stdio are host descriptors (the harness's pty and pipes). The
 * sentry passes reads, writes and terminal attributes through, but not
 * operations that would change the host file: fchmod, fchown, truncate
 * and friends are refused, and the harness checks the host pty's mode and
 * owner afterwards. */
// escape: pty
#include "e.h"
#include <sys/stat.h>

int main(void)
{
	struct stat st;
	CHECK("fstat(stdin)", fstat(0, &st) == 0 && S_ISCHR(st.st_mode));
	CHECK("fchmod(stdin, 0666) fails", fchmod(0, 0666) < 0);
	CHECK("fchown(stdin, 1, 1) fails", fchown(0, 1, 1) < 0);
	CHECK("chmod /dev/stdin fails", chmod("/dev/stdin", 0666) < 0);
	CHECK("ftruncate(stdout) fails", ftruncate(1, 0) < 0);
	CHECK("fallocate(stdout) fails", fallocate(1, 0, 0, 4096) < 0);
	struct timespec ts[2] = {{0, 0}, {0, 0}};
	CHECK("futimens(stdin) fails", futimens(0, ts) < 0);
	char p[64];
	ssize_t n = readlink("/proc/self/fd/0", p, sizeof p - 1);
	CHECK("/proc/self/fd/0 is readable", n > 0);
	return t_done();
}
