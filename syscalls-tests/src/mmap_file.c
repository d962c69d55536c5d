/*
 * mmap_file: file mappings (mmap(2), msync(2)).
 * - MAP_PRIVATE|PROT_READ of a file shows its contents; bytes past EOF
 *   within the last page read as zero
 * - MAP_SHARED writes are visible through read(2) (after msync, and also
 *   before: the page cache is shared)
 * - writes through MAP_PRIVATE are not visible in the file
 * - write(2) to the file is visible through an existing shared mapping
 * - PROT_WRITE|MAP_SHARED of an O_RDONLY fd -> EACCES; mapping a
 *   write-only fd -> EACCES; mapping a directory -> ENODEV
 */
#include "t.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char buf[16] = { 0 };

	t_tmpdir("mmap_file");
	t_writefile("f", "hello mapped file");
	int fd = open("f", O_RDWR);
	char *p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("map private read", p != MAP_FAILED);
	CHECK("contents via mapping", memcmp(p, "hello mapped file", 17) == 0);
	CHECK("past EOF within page is zero", p[17] == 0 && p[pg - 1] == 0);
	munmap(p, pg);

	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK("map shared rw", s != MAP_FAILED);
	memcpy(s, "HELLO", 5);
	CHECK("shared write visible via pread before msync", pread(fd, buf, 5, 0) == 5 && memcmp(buf, "HELLO", 5) == 0);
	SYSOK("msync MS_SYNC", msync(s, pg, MS_SYNC));
	EXPECT_ERRNO("msync bad flags -> EINVAL", msync(s, pg, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK("pwrite", pwrite(fd, "W", 1, 6) == 1);
	CHECK("write(2) visible in shared mapping", s[6] == 'W');

	char *pr = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK("map private rw", pr != MAP_FAILED);
	pr[0] = 'z';
	CHECK("private write not in file", pread(fd, buf, 1, 0) == 1 && buf[0] == 'H');
	CHECK("private write not in shared map", s[0] == 'H');
	munmap(pr, pg);
	munmap(s, pg);

	char *off = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
	CHECK("map at offset past EOF succeeds", off != MAP_FAILED);
	munmap(off, pg);
	close(fd);

	int ro = open("f", O_RDONLY);
	CHECK("shared writable map of O_RDONLY fd -> EACCES",
	      mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES);
	char *cow = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	CHECK("private writable map of O_RDONLY fd ok", cow != MAP_FAILED);
	munmap(cow, pg);
	close(ro);
	int wo = open("f", O_WRONLY);
	CHECK("map of O_WRONLY fd -> EACCES",
	      mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED && errno == EACCES);
	close(wo);
	int d = open(".", O_RDONLY);
	CHECK("map directory -> ENODEV", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, d, 0) == MAP_FAILED && errno == ENODEV);
	close(d);
	return t_done();
}
