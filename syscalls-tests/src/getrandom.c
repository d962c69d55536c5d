/*
 * getrandom: getrandom(2).
 * - returns the requested count (<= 256 bytes never short)
 * - output is not all zeros and two calls differ
 * - GRND_NONBLOCK and GRND_RANDOM are accepted; count 0 returns 0
 * - unknown flags -> EINVAL; GRND_INSECURE|GRND_RANDOM -> EINVAL
 * - wild buffer -> EFAULT
 */
#include "t.h"
#include <sys/random.h>

int main(void)
{
	unsigned char a[256], b[256];
	EXPECT_EQ("getrandom 256", getrandom(a, sizeof a, 0), 256);
	EXPECT_EQ("getrandom 256 again", getrandom(b, sizeof b, 0), 256);
	int nz = 0;
	for (int i = 0; i < 256; i++)
		nz += a[i] != 0;
	CHECK("not all zeros", nz > 200);
	CHECK("two calls differ", memcmp(a, b, sizeof a) != 0);
	EXPECT_EQ("GRND_NONBLOCK", getrandom(a, 16, GRND_NONBLOCK), 16);
	EXPECT_EQ("GRND_RANDOM", getrandom(a, 16, GRND_RANDOM), 16);
	EXPECT_EQ("count 0", getrandom(a, 0, 0), 0);
	EXPECT_ERRNO("unknown flag -> EINVAL", syscall(SYS_getrandom, a, 16, 0x100), EINVAL);
	EXPECT_ERRNO("INSECURE|RANDOM -> EINVAL", syscall(SYS_getrandom, a, 16, 0x0004 | GRND_RANDOM), EINVAL);
	EXPECT_ERRNO("wild buffer -> EFAULT", syscall(SYS_getrandom, (void *)1, 16, 0), EFAULT);
	return t_done();
}
