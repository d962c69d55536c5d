/* Rename races during walks: one thread keeps swapping a directory of the
 * rootfs with a symlink climbing far up, another keeps opening a path that
 * walks through it and then ".." many times towards the canary. The
 * sentry walks its own dentries and the gofer one O_NOFOLLOW component at
 * a time, so no interleaving reaches the host. */
#include "e.h"
#include <pthread.h>
#include <stdatomic.h>

static atomic_int stop;

static void *swapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		rename("/escape/race/d", "/escape/race/t");
		rename("/escape/race/l", "/escape/race/d");
		rename("/escape/race/d", "/escape/race/l");
		rename("/escape/race/t", "/escape/race/d");
	}
	return NULL;
}

int main(void)
{
	char up[4096], p[8192];
	MUST("mkdir", mkdir("/escape/race", 0755) == 0 || errno == EEXIST ? 0 : -1);
	MUST("mkdir", mkdir("/escape/race/d", 0755) == 0 || errno == EEXIST ? 0 : -1);
	MUST("mkdir", mkdir("/escape/race/d/e", 0755) == 0 || errno == EEXIST ? 0 : -1);
	snprintf(up, sizeof up, "../../../../../../../../../../../..");
	unlink("/escape/race/l");
	MUST("symlink", symlink(up, "/escape/race/l"));
	snprintf(p, sizeof p, "/escape/race/d/e/../../../../../../../../../../../../../..%s", e_canary());
	pthread_t th;
	MUST("pthread_create", pthread_create(&th, NULL, swapper, NULL) == 0 ? 0 : -1);
	int leaked = 0;
	for (int i = 0; i < 3000; i++) {
		if (e_reads_secret(p))
			leaked++;
		char q[8192];
		snprintf(q, sizeof q, "/escape/race/d%s", e_canary());
		if (e_reads_secret(q))
			leaked++;
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	EXPECT_EQ("no walk reached the host canary", leaked, 0);
	return t_done();
}
