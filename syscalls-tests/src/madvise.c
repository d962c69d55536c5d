/*
 * madvise: madvise(2).
 * - MADV_DONTNEED on private anonymous pages: subsequent reads see zeros
 * - MADV_DONTNEED on shared anonymous pages keeps the contents
 * - MADV_NORMAL/RANDOM/SEQUENTIAL/WILLNEED are accepted (no visible effect)
 * - unknown advice -> EINVAL; unaligned address -> EINVAL;
 *   unmapped range -> ENOMEM
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", p == MAP_FAILED ? -1 : 0);
	memset(p, 'x', 4 * pg);
	SYSOK("MADV_DONTNEED private", madvise(p + pg, 2 * pg, MADV_DONTNEED));
	CHECK("advised pages read as zero", p[pg] == 0 && p[3 * pg - 1] == 0);
	CHECK("other pages kept", p[0] == 'x' && p[3 * pg] == 'x');
	p[pg] = 'y';
	CHECK("zeroed page writable again", p[pg] == 'y');
	SYSOK("MADV_NORMAL", madvise(p, pg, MADV_NORMAL));
	SYSOK("MADV_RANDOM", madvise(p, pg, MADV_RANDOM));
	SYSOK("MADV_SEQUENTIAL", madvise(p, pg, MADV_SEQUENTIAL));
	SYSOK("MADV_WILLNEED", madvise(p, pg, MADV_WILLNEED));
	CHECK("contents unaffected", p[0] == 'x');
	EXPECT_ERRNO("unknown advice -> EINVAL", madvise(p, pg, 12345), EINVAL);
	EXPECT_ERRNO("unaligned -> EINVAL", madvise(p + 1, pg, MADV_NORMAL), EINVAL);
	munmap(p, 4 * pg);
	EXPECT_ERRNO("unmapped -> ENOMEM", madvise(p, pg, MADV_NORMAL), ENOMEM);

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST("mmap shared", s == MAP_FAILED ? -1 : 0);
	memset(s, 's', pg);
	SYSOK("MADV_DONTNEED shared", madvise(s, pg, MADV_DONTNEED));
	CHECK("shared contents kept", s[0] == 's' && s[pg - 1] == 's');
	munmap(s, pg);
	return t_done();
}
