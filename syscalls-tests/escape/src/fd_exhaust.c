/* Descriptor exhaustion: the app's RLIMIT_NOFILE stops it (EMFILE), and
 * raising it to the hard limit only moves the wall; opening many host
 * files (each a donated host descriptor in the sentry) ends with an error,
 * not a dead sentry. */
#include "e.h"
#include <sys/resource.h>

int main(void)
{
	int n = 0, err = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			err = errno;
			break;
		}
		n++;
	}
	EXPECT_EQ("/dev/null opens end with EMFILE", err, EMFILE);
	CHECK("at the soft limit of 1024", n > 1000 && n <= 1024);
	for (int fd = 3; fd < 1100; fd++)
		close(fd);
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	r.rlim_cur = r.rlim_max;
	SYSOK("raise RLIMIT_NOFILE to the hard limit", setrlimit(RLIMIT_NOFILE, &r));
	r.rlim_max++;
	EXPECT_ERRNO("raising the hard limit", setrlimit(RLIMIT_NOFILE, &r), EPERM);
	/* Host files: every open holds a host descriptor in the sentry. */
	n = 0;
	err = 0;
	for (int i = 0; i < 40000; i++) {
		int fd = open("/escape/hard", O_RDONLY);
		if (fd < 0) {
			err = errno;
			break;
		}
		n++;
	}
	CHECK("host-file opens end with an error or stay bounded", err != 0 || n == 40000);
	for (int fd = 3; fd < 3 + n + 16; fd++)
		close(fd);
	int fd = open("/escape/hard", O_RDONLY);
	CHECK("opening works again", fd >= 0);
	return t_done();
}
