/*
 * dev_full_random: full(4) and random(4).
 * - /dev/full: writes fail with ENOSPC; reads return zeros
 * - /dev/urandom and /dev/random: reads return the full count; 4 KiB of
 *   output is not all zeros and two reads differ
 */
#include "t.h"

int main(void)
{
	static char a[4096], b[4096];
	struct stat st;

	int f = open("/dev/full", O_RDWR);
	CHECK("open /dev/full", f >= 0);
	CHECK("/dev/full is char dev", fstat(f, &st) == 0 && S_ISCHR(st.st_mode));
	EXPECT_ERRNO("write /dev/full -> ENOSPC", write(f, "x", 1), ENOSPC);
	memset(a, 'x', 16);
	EXPECT_EQ("read /dev/full", read(f, a, 16), 16);
	CHECK("reads zeros", memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	close(f);

	int u = open("/dev/urandom", O_RDONLY);
	CHECK("open /dev/urandom", u >= 0);
	EXPECT_EQ("read 4096 urandom", read(u, a, sizeof a), (long)sizeof a);
	EXPECT_EQ("read 4096 urandom again", read(u, b, sizeof b), (long)sizeof b);
	int nz = 0;
	for (size_t i = 0; i < sizeof a; i++)
		nz += a[i] != 0;
	CHECK("not all zeros", nz > 3000);
	CHECK("two reads differ", memcmp(a, b, sizeof a) != 0);
	EXPECT_ERRNO("write to O_RDONLY urandom -> EBADF", write(u, a, 1), EBADF);
	close(u);
	int r = open("/dev/random", O_RDONLY);
	CHECK("open /dev/random", r >= 0);
	EXPECT_EQ("read 64 /dev/random", read(r, a, 64), 64);
	close(r);
	return t_done();
}
