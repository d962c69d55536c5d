/*
 * segv: a write to an unmapped page raises SIGSEGV, whose default action
 * terminates the process (signal(7), munmap(2): "subsequent references to
 * addresses in the range generate invalid memory references"). No handler
 * is installed. The harness expects death by signal 11, reported as exit
 * status 128+11 = 139.
 *
 * expect-exit: 139
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap page", p != MAP_FAILED);
	p[0] = 1;
	CHECK("page writable before munmap", p[0] == 1);
	SYSOK("munmap page", munmap((void *)p, pg));
	printf("touching unmapped page, expecting SIGSEGV\n");
	fflush(stdout);
	p[0] = 2;
	printf("FAIL still alive after touching unmapped page\n");
	return 1;
}
