/*
 * mprotect: mprotect(2) on anonymous memory (no faults are taken; access
 * is checked by the kernel through write(2) to a pipe and read(2) -> EFAULT).
 * - PROT_READ pages still read; write(2) *from* them works, read(2) *into*
 *   them -> EFAULT (the kernel cannot write a read-only page)
 * - restoring PROT_READ|PROT_WRITE makes them writable again, contents kept
 * - PROT_NONE: write(2) from them -> EFAULT
 * - unaligned address -> EINVAL; unmapped range -> ENOMEM; unknown prot bit
 *   -> EINVAL
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int zero = open("/dev/zero", O_RDONLY), pfd[2];
	MUST("pipe", pipe(pfd));
	int nul = pfd[1]; /* a pipe copies the data, unlike /dev/null */
	char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	MUST("mmap", p == MAP_FAILED ? -1 : 0);
	memset(p, 'a', 3 * pg);
	SYSOK("mprotect PROT_READ", mprotect(p + pg, pg, PROT_READ));
	CHECK("read-only page readable", p[pg] == 'a');
	EXPECT_EQ("write(2) from read-only page", write(nul, p + pg, 16), 16);
	EXPECT_ERRNO("read(2) into read-only page -> EFAULT", read(zero, p + pg, 16), EFAULT);
	EXPECT_EQ("neighbour page still writable", read(zero, p, 16), 16);
	SYSOK("mprotect back to RW", mprotect(p + pg, pg, PROT_READ | PROT_WRITE));
	p[pg] = 'b';
	CHECK("writable again, contents kept", p[pg] == 'b' && p[pg + 1] == 'a');
	SYSOK("mprotect PROT_NONE", mprotect(p + 2 * pg, pg, PROT_NONE));
	EXPECT_ERRNO("write(2) from PROT_NONE -> EFAULT", write(nul, p + 2 * pg, 16), EFAULT);
	SYSOK("mprotect PROT_READ on PROT_NONE", mprotect(p + 2 * pg, pg, PROT_READ));
	CHECK("contents survived PROT_NONE", p[2 * pg] == 'a');
	EXPECT_ERRNO("unaligned -> EINVAL", mprotect(p + 1, pg, PROT_READ), EINVAL);
	EXPECT_ERRNO("unknown prot bit -> EINVAL", mprotect(p, pg, 0x1000), EINVAL);
	SYSOK("munmap", munmap(p, 3 * pg));
	EXPECT_ERRNO("unmapped -> ENOMEM", mprotect(p, pg, PROT_READ), ENOMEM);
	SYSOK("length 0 is a no-op", mprotect(p, 0, PROT_READ));
	return t_done();
}
